//! DNS lookups of the TXT records that prove an organization's domains, through one configured
//! resolver (`ORGS_DNS_RESOLVER`), without caching: every verification asks afresh.

use std::net::SocketAddr;
use std::time::Duration;

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{
    ConnectionConfig, NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts,
};
use hickory_resolver::net::NetError;
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::RData;

use crate::domain::TxtAnswer;

/// The lookup got no answer it could judge: the caller may try again later.
#[derive(Debug, thiserror::Error)]
pub enum DnsError {
    #[error("the DNS lookup of {name} timed out")]
    Timeout { name: String },
    #[error("the DNS lookup of {name} failed")]
    Failed {
        name: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

#[derive(Clone)]
pub struct Dns {
    resolver: TokioResolver,
}

impl std::fmt::Debug for Dns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Dns")
    }
}

impl Dns {
    /// A resolver that asks `server` (UDP, then TCP for a truncated answer), waiting `timeout`
    /// for each of two attempts. Building it makes no request.
    pub fn new(server: SocketAddr, timeout: Duration) -> Result<Self, DnsError> {
        let on_port = |mut connection: ConnectionConfig| {
            connection.port = server.port();
            connection
        };
        let name_server = NameServerConfig::new(
            server.ip(),
            true,
            vec![
                on_port(ConnectionConfig::udp()),
                on_port(ConnectionConfig::tcp()),
            ],
        );
        let config = ResolverConfig::from_name_servers(vec![name_server]);
        let mut options = ResolverOpts::default();
        options.timeout = timeout;
        options.attempts = 2;
        options.cache_size = 0;
        options.use_hosts_file = ResolveHosts::Never;
        let resolver = TokioResolver::builder_with_config(config, TokioRuntimeProvider::default())
            .with_options(options)
            .build()
            .map_err(|e| DnsError::Failed {
                name: String::new(),
                source: Box::new(e),
            })?;
        Ok(Self { resolver })
    }

    /// The TXT records of `name` (a full name, looked up as is).
    pub async fn txt(&self, name: &str) -> Result<TxtAnswer, DnsError> {
        match self.resolver.txt_lookup(format!("{name}.")).await {
            Ok(lookup) => {
                let values: Vec<String> = lookup
                    .answers()
                    .iter()
                    .filter_map(|record| match &record.data {
                        RData::TXT(txt) => Some(
                            txt.txt_data
                                .iter()
                                .map(|part| String::from_utf8_lossy(part))
                                .collect::<String>(),
                        ),
                        _ => None,
                    })
                    .collect();
                Ok(if values.is_empty() {
                    TxtAnswer::NoRecords
                } else {
                    TxtAnswer::Values(values)
                })
            }
            Err(e) if e.is_nx_domain() => Ok(TxtAnswer::NoSuchName),
            Err(e) if e.is_no_records_found() => Ok(TxtAnswer::NoRecords),
            Err(NetError::Timeout) => Err(DnsError::Timeout {
                name: name.to_owned(),
            }),
            Err(e) => Err(DnsError::Failed {
                name: name.to_owned(),
                source: Box::new(e),
            }),
        }
    }
}
