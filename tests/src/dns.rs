//! A DNS server on loopback for the domains' TXT records: the tests (and `cargo local`) point
//! the verification's resolver at it. Each name answers as set: TXT values, NXDOMAIN (also
//! every name never set), or nothing at all, so that the resolver times out.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use hickory_server::Server;
use hickory_server::net::runtime::Time;
use hickory_server::proto::op::{Header, HeaderCounts, Metadata, ResponseCode};
use hickory_server::proto::rr::rdata::TXT;
use hickory_server::proto::rr::{Name, RData, Record, RecordType};
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo};
use hickory_server::zone_handler::MessageResponseBuilder;

/// How a name answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// These TXT records, one string each.
    Txt(Vec<String>),
    /// NXDOMAIN.
    NoSuchName,
    /// The name exists without a TXT record (NOERROR, no answer).
    NoRecords,
    /// No answer at all: the resolver waits until it times out.
    Silence,
}

type Zone = Arc<Mutex<HashMap<String, Answer>>>;

pub struct Handler {
    zone: Zone,
    /// Lines `name value`, read at each lookup of a name not set in `zone`.
    file: Option<PathBuf>,
}

impl Handler {
    fn answer(&self, name: &str) -> Answer {
        if let Some(set) = self.zone.lock().expect("zone").get(name) {
            return set.clone();
        }
        let text = self
            .file
            .as_ref()
            .and_then(|f| std::fs::read_to_string(f).ok())
            .unwrap_or_default();
        let values: Vec<String> = text
            .lines()
            .filter_map(|line| line.trim().split_once(char::is_whitespace))
            .filter(|(n, _)| plain(n) == name)
            .map(|(_, v)| v.trim().to_owned())
            .collect();
        if values.is_empty() {
            Answer::NoSuchName
        } else {
            Answer::Txt(values)
        }
    }
}

/// Names are kept lowercase, without the root's dot.
fn plain(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

#[async_trait::async_trait]
impl RequestHandler for Handler {
    async fn handle_request<R: ResponseHandler, T: Time>(
        &self,
        request: &Request,
        mut response: R,
    ) -> ResponseInfo {
        let silent = ResponseInfo::from(Header {
            metadata: Metadata::response_from_request(&request.metadata),
            counts: HeaderCounts::default(),
        });
        let Ok(info) = request.request_info() else {
            return silent;
        };
        let name = Name::from(info.query.name().clone());
        let asked_txt = info.query.query_type() == RecordType::TXT;
        let answer = self.answer(&plain(&name.to_string()));
        let builder = MessageResponseBuilder::from_message_request(request);
        let mut metadata = Metadata::response_from_request(&request.metadata);
        metadata.authoritative = true;
        let sent = match answer {
            Answer::Silence => return silent,
            Answer::NoSuchName => {
                let message = builder.error_msg(&request.metadata, ResponseCode::NXDomain);
                response.send_response(message).await
            }
            Answer::Txt(values) if asked_txt => {
                let records: Vec<Record> = values
                    .into_iter()
                    .map(|v| Record::from_rdata(name.clone(), 60, RData::TXT(TXT::new(vec![v]))))
                    .collect();
                let message = builder.build(
                    metadata,
                    records.iter(),
                    std::iter::empty(),
                    std::iter::empty(),
                    std::iter::empty(),
                );
                response.send_response(message).await
            }
            Answer::Txt(_) | Answer::NoRecords => {
                response
                    .send_response(builder.build_no_records(metadata))
                    .await
            }
        };
        sent.unwrap_or(silent)
    }
}

/// The server; it stops when dropped.
pub struct LoopbackDns {
    addr: SocketAddr,
    zone: Zone,
    _server: Server<Handler>,
}

impl LoopbackDns {
    /// Serves UDP on a free loopback port.
    pub async fn start() -> Self {
        Self::serve(None).await
    }

    /// Serves also the TXT records that `file` lists, a `name value` line each, read afresh at
    /// each lookup.
    pub async fn start_with_file(file: PathBuf) -> Self {
        Self::serve(Some(file)).await
    }

    async fn serve(file: Option<PathBuf>) -> Self {
        let socket = tokio::net::UdpSocket::bind("127.0.0.1:0")
            .await
            .expect("a loopback UDP port for DNS");
        let addr = socket.local_addr().expect("its address");
        let zone = Zone::default();
        let mut server = Server::new(Handler {
            zone: zone.clone(),
            file,
        });
        server.register_socket(socket);
        Self {
            addr,
            zone,
            _server: server,
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// From now on, `name` answers `answer`.
    pub fn set(&self, name: &str, answer: Answer) {
        self.zone.lock().expect("zone").insert(plain(name), answer);
    }

    /// Publishes `values` as the TXT records of `name`.
    pub fn publish(&self, name: &str, values: &[&str]) {
        self.set(
            name,
            Answer::Txt(values.iter().map(|v| v.to_string()).collect()),
        );
    }

    /// `name` no longer exists (NXDOMAIN).
    pub fn remove(&self, name: &str) {
        self.zone.lock().expect("zone").remove(&plain(name));
    }
}
