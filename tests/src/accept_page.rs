//! Serves `tests/web/invite.html`, the accept-invitation page, at the invitation link's path on an
//! origin of its own, as a team's front end would be: every call it makes to the API is
//! cross-origin. `/config.js` tells the page where the API is.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// The page, built into the binary: no build step, no files to find at run time.
pub const PAGE: &str = include_str!("../web/invite.html");
/// The path of the invitation links (`{InviteUrlBase}?token=...`).
pub const PATH: &str = "/invite";

fn answer(status: StatusCode, content_type: &str, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        "content-type",
        content_type.parse().expect("static content type"),
    );
    headers.insert("cache-control", "no-store".parse().expect("static"));
    response
}

/// Serves the page until the listener's task is dropped; the page calls the API at `api_base`.
pub async fn serve(listener: TcpListener, api_base: String) -> std::io::Result<()> {
    let config = Arc::new(format!(
        "window.ORGS_API = {};\n",
        serde_json::Value::String(api_base)
    ));
    loop {
        let (stream, _) = listener.accept().await?;
        let config = config.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req: Request<hyper::body::Incoming>| {
                let config = config.clone();
                async move {
                    let response = match (req.method().as_str(), req.uri().path()) {
                        ("GET", PATH) => {
                            answer(StatusCode::OK, "text/html; charset=utf-8", PAGE.into())
                        }
                        ("GET", "/config.js") => {
                            answer(StatusCode::OK, "text/javascript", config.to_string())
                        }
                        _ => answer(StatusCode::NOT_FOUND, "text/plain", "Not Found".into()),
                    };
                    Ok::<_, Infallible>(response)
                }
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
