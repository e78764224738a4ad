//! CORS as an API Gateway HTTP API applies its `CorsConfiguration`: it answers every preflight
//! (`OPTIONS`) itself, whatever the path, and adds the CORS headers to the answers of requests
//! from an allowed origin only. The template's `HttpApi` declares the same values; a contract
//! test holds the two equal.

use hyper::header::{HeaderMap, HeaderValue};
use orgs_functions::routes::ROUTES;

/// The request headers the routes read.
pub const ALLOW_HEADERS: &[&str] = &["authorization", "content-type", "idempotency-key"];
/// The answer headers a front end must be able to read: where a created resource is, how long
/// to wait before repeating, API Gateway's request id (also in every problem's body), and
/// whether an answer is given again for an `Idempotency-Key`.
pub const EXPOSE_HEADERS: &[&str] = &[
    "location",
    "retry-after",
    "apigw-requestid",
    "idempotent-replayed",
];
/// How long a browser may reuse a preflight's answer.
pub const MAX_AGE_SECONDS: u32 = 3600;

/// Where `cargo local` serves the accept page, unless `ORGS_PAGE_PORT` says otherwise.
pub const LOCAL_PAGE_PORT: u16 = 3001;

/// The methods the routes use, in the order of the route table.
pub fn allow_methods() -> Vec<&'static str> {
    let mut methods: Vec<&'static str> = Vec::new();
    for route in ROUTES.iter() {
        if !methods.contains(&route.method) {
            methods.push(route.method);
        }
    }
    methods
}

/// The allowed origins; none means that no browser may call the API from another origin.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cors {
    pub allow_origins: Vec<String>,
}

impl Cors {
    /// The accept page that `cargo local` serves on `page_port`, by either loopback name.
    pub fn for_local_page(page_port: u16) -> Self {
        Self {
            allow_origins: vec![
                format!("http://127.0.0.1:{page_port}"),
                format!("http://localhost:{page_port}"),
            ],
        }
    }

    /// A comma-separated list, split as the template splits `CorsAllowedOrigins` (nothing is
    /// trimmed: an origin with a space matches no browser's); empty: none.
    pub fn parse(list: &str) -> Self {
        Self {
            allow_origins: list
                .split(',')
                .filter(|o| !o.is_empty())
                .map(str::to_owned)
                .collect(),
        }
    }

    pub fn enabled(&self) -> bool {
        !self.allow_origins.is_empty()
    }

    /// The `Access-Control-Allow-Origin` value for a request's `Origin`, if it is allowed.
    fn allowed(&self, headers: &HeaderMap) -> Option<HeaderValue> {
        let origin = headers.get("origin")?.to_str().ok()?;
        if self.allow_origins.iter().any(|o| o == "*") {
            return Some(HeaderValue::from_static("*"));
        }
        self.allow_origins
            .iter()
            .any(|o| o == origin)
            .then(|| HeaderValue::from_str(origin).ok())?
    }

    /// The headers of the answer to a preflight; empty when the origin is not allowed.
    pub fn preflight_headers(&self, request: &HeaderMap) -> HeaderMap {
        let mut headers = HeaderMap::new();
        let Some(origin) = self.allowed(request) else {
            return headers;
        };
        headers.insert("access-control-allow-origin", origin);
        headers.insert("access-control-allow-methods", joined(&allow_methods()));
        headers.insert("access-control-allow-headers", joined(ALLOW_HEADERS));
        headers.insert("access-control-max-age", MAX_AGE_SECONDS.into());
        headers.insert("vary", HeaderValue::from_static("origin"));
        headers
    }

    /// Adds the CORS headers to an answer, if the request's origin is allowed.
    pub fn decorate(&self, request: &HeaderMap, answer: &mut HeaderMap) {
        let Some(origin) = self.allowed(request) else {
            return;
        };
        answer.insert("access-control-allow-origin", origin);
        answer.insert("access-control-expose-headers", joined(EXPOSE_HEADERS));
        answer.append("vary", HeaderValue::from_static("origin"));
    }
}

fn joined(values: &[&str]) -> HeaderValue {
    HeaderValue::from_str(&values.join(",")).expect("static header names")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from(origin: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("origin", HeaderValue::from_str(origin).unwrap());
        headers
    }

    #[test]
    fn only_listed_origins_get_cors_headers() {
        let cors = Cors::parse("https://app.example,https://admin.example,");
        assert_eq!(cors.allow_origins.len(), 2);
        let mut answer = HeaderMap::new();
        cors.decorate(&from("https://app.example"), &mut answer);
        assert_eq!(answer["access-control-allow-origin"], "https://app.example");
        assert!(
            cors.preflight_headers(&from("https://evil.example"))
                .is_empty()
        );
        assert!(cors.preflight_headers(&HeaderMap::new()).is_empty());
        assert!(!Cors::parse("").enabled());
    }

    #[test]
    fn the_methods_are_those_of_the_routes() {
        let mut methods = allow_methods();
        methods.sort_unstable();
        assert_eq!(methods, ["DELETE", "GET", "PATCH", "POST", "PUT"]);
    }
}
