//! What the front end chooses for one invitation: how many days it lasts, and which of its
//! accept pages the link opens (an allowlisted origin only), and how the link is made.

use url::Url;

use super::{FieldErrors, ValidationError};

/// The longest lifetime an invitation may ask for.
pub const MAX_EXPIRES_IN_DAYS: i64 = 30;
/// A redirect URL longer than this is refused: it travels in every email.
pub const MAX_REDIRECT_URL_LEN: usize = 2048;

const DAY_SECONDS: i64 = 86_400;

/// `expires_in_days`, when given: 1 to 30.
pub fn parse_expires_in_days(field: &str, days: i64) -> Result<i64, ValidationError> {
    if (1..=MAX_EXPIRES_IN_DAYS).contains(&days) {
        Ok(days)
    } else {
        Err(ValidationError::new(
            field,
            "out_of_range",
            "expires_in_days is a whole number of days from 1 to 30.",
        ))
    }
}

/// How long an invitation lasts from each sending: its own `expires_in_days`, else the
/// configured lifetime. A resend gives the same lifetime again.
pub fn lifetime_seconds(expires_in_days: Option<i64>, configured_seconds: i64) -> i64 {
    expires_in_days.map_or(configured_seconds, |days| days * DAY_SECONDS)
}

/// The origins (`scheme://host[:port]`) whose pages invitation links may open; from
/// configuration, so an invitation cannot send its invitee to just any site.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RedirectOrigins(Vec<String>);

/// An allowlist entry that is not an origin.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an origin such as https://app.example.com")]
pub struct NotAnOrigin(String);

impl RedirectOrigins {
    /// A comma-separated list of origins; empty allows none.
    pub fn parse(list: &str) -> Result<Self, NotAnOrigin> {
        let mut origins = Vec::new();
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let url = Url::parse(entry).map_err(|_| NotAnOrigin(entry.to_owned()))?;
            let origin = origin(&url).ok_or_else(|| NotAnOrigin(entry.to_owned()))?;
            // An origin, not a page: nothing after the host and port.
            if url.path() != "/" && !url.path().is_empty()
                || url.query().is_some()
                || url.fragment().is_some()
            {
                return Err(NotAnOrigin(entry.to_owned()));
            }
            origins.push(origin);
        }
        Ok(Self(origins))
    }

    pub fn allows(&self, url: &Url) -> bool {
        origin(url).is_some_and(|o| self.0.contains(&o))
    }
}

/// `scheme://host[:port]`, lowercase, the port left out when it is the scheme's default. Any
/// scheme with a host: a mobile app's deep link (`acme://invite`) has an origin too.
fn origin(url: &Url) -> Option<String> {
    let host = url.host_str().filter(|h| !h.is_empty())?;
    let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
    Some(format!("{}://{host}{port}", url.scheme()))
}

/// The query parameter of an accept link that carries the invitation's token.
pub const TOKEN_PARAMETER: &str = "token";

/// `redirect_url`: an absolute URL on an allowlisted origin, without a fragment or a `token`
/// query parameter of its own: the link adds `token=…` to its query, which a fragment would
/// swallow, and beside which a second `token` would leave the page to guess which is real (many
/// read the first).
pub fn parse_redirect_url(
    field: &str,
    raw: &str,
    allowed: &RedirectOrigins,
) -> Result<String, ValidationError> {
    let invalid = |message: &str| ValidationError::new(field, "invalid_url", message);
    if raw.len() > MAX_REDIRECT_URL_LEN {
        return Err(invalid("redirect_url is at most 2048 characters."));
    }
    let url = Url::parse(raw).map_err(|_| invalid("redirect_url is an absolute URL."))?;
    if url.fragment().is_some() || url.cannot_be_a_base() || !url.username().is_empty() {
        return Err(invalid(
            "redirect_url has a host, and no fragment or credentials: the link adds ?token=… to it.",
        ));
    }
    if url.query_pairs().any(|(name, _)| name == TOKEN_PARAMETER) {
        return Err(ValidationError::new(
            field,
            "reserved_parameter",
            "redirect_url has no token query parameter: the link adds its own token=… to it.",
        ));
    }
    if !allowed.allows(&url) {
        return Err(ValidationError::new(
            field,
            "origin_not_allowed",
            "redirect_url's origin is not one of the configured ORGS_INVITE_REDIRECT_ORIGINS.",
        ));
    }
    Ok(url.to_string())
}

/// What one invitee's entry chose: its lifetime and its page, each optional.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LinkChoice {
    pub expires_in_days: Option<i64>,
    pub redirect_url: Option<String>,
}

impl LinkChoice {
    /// Checks both; `field` prefixes errors (`invitations[2].redirect_url`).
    pub fn parse(
        field: &str,
        expires_in_days: Option<i64>,
        redirect_url: Option<&str>,
        allowed: &RedirectOrigins,
    ) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let days_field = format!("{field}.expires_in_days");
        let url_field = format!("{field}.redirect_url");
        let expires_in_days =
            expires_in_days.and_then(|d| errors.take(parse_expires_in_days(&days_field, d)));
        let redirect_url =
            redirect_url.and_then(|u| errors.take(parse_redirect_url(&url_field, u, allowed)));
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Self {
            expires_in_days,
            redirect_url,
        })
    }
}

/// The accept link: `{page}?token={token}`, or `&token=` after the page's own query. A `token`
/// parameter the page has already is left out, so the link carries exactly one: redirect URLs
/// with one are refused, but the configured page, or one stored before that rule, may have one.
/// The token goes before any fragment, where the page's query is.
pub fn invite_link(page: &str, token: &str) -> String {
    let (page, fragment) = match page.split_once('#') {
        Some((page, fragment)) => (page, Some(fragment)),
        None => (page, None),
    };
    let (path, query) = page.split_once('?').unwrap_or((page, ""));
    let is_token = |pair: &&str| {
        url::form_urlencoded::parse(pair.as_bytes())
            .next()
            .is_some_and(|(name, _)| name == TOKEN_PARAMETER)
    };
    let mut link = path.to_owned();
    let mut separator = '?';
    for pair in query.split('&').filter(|p| !p.is_empty() && !is_token(p)) {
        link.push(separator);
        link.push_str(pair);
        separator = '&';
    }
    link.push(separator);
    link.push_str(TOKEN_PARAMETER);
    link.push('=');
    link.push_str(token);
    if let Some(fragment) = fragment {
        link.push('#');
        link.push_str(fragment);
    }
    link
}

/// The welcome email's sign-up link: `{sign_up_url}#invitation={accept link}`, the accept link
/// percent-encoded. In the fragment, which a browser sends to no server (not even in
/// `Referer`): the sign-up page reads it in the browser and returns to the accept link once the
/// person has an account. So the token goes nowhere the accept link does not already take it.
pub fn sign_up_link(sign_up_url: &str, accept_link: &str) -> String {
    let encoded: String = url::form_urlencoded::byte_serialize(accept_link.as_bytes()).collect();
    let page = sign_up_url.split('#').next().unwrap_or_default();
    format!("{page}#invitation={encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sign_up_link_carries_the_accept_link_in_its_fragment() {
        let accept = "https://app.example.com/invite?token=abc_DEF-1&x=1";
        let link = sign_up_link("https://app.example.com/signup?from=mail", accept);
        assert_eq!(
            link,
            "https://app.example.com/signup?from=mail#invitation=\
             https%3A%2F%2Fapp.example.com%2Finvite%3Ftoken%3Dabc_DEF-1%26x%3D1"
        );
        let url = Url::parse(&link).unwrap();
        let (name, value) = url::form_urlencoded::parse(url.fragment().unwrap().as_bytes())
            .next()
            .unwrap();
        assert_eq!((name.as_ref(), value.as_ref()), ("invitation", accept));
        // Nothing of the token in what is sent to the sign-up page's server.
        assert!(!url[..url::Position::AfterQuery].contains("abc_DEF"));
        // A fragment the configured page had is replaced, never doubled.
        assert!(
            sign_up_link("https://a.example/s#x", accept)
                .starts_with("https://a.example/s#invitation=")
        );
    }

    fn allowed() -> RedirectOrigins {
        RedirectOrigins::parse(
            "https://app.example.com, https://admin.example.com:8443,acme://invite",
        )
        .unwrap()
    }

    #[test]
    fn an_invitation_lasts_one_to_thirty_days() {
        assert_eq!(parse_expires_in_days("d", 1), Ok(1));
        assert_eq!(parse_expires_in_days("d", 30), Ok(30));
        for bad in [0, 31, -1] {
            assert_eq!(
                parse_expires_in_days("d", bad).unwrap_err().code,
                "out_of_range"
            );
        }
    }

    #[test]
    fn the_lifetime_is_the_invitations_own_else_the_configured_one() {
        assert_eq!(lifetime_seconds(Some(30), 604_800), 30 * 86_400);
        assert_eq!(lifetime_seconds(None, 604_800), 604_800);
    }

    #[test]
    fn a_redirect_url_must_be_on_an_allowed_origin() {
        let ok = |raw: &str| parse_redirect_url("r", raw, &allowed());
        assert_eq!(
            ok("https://APP.example.com/join"),
            Ok("https://app.example.com/join".into())
        );
        assert!(ok("https://admin.example.com:8443/invites?from=mail").is_ok());
        assert!(ok("acme://invite/accept").is_ok());
        for other in [
            "https://evil.example.com/join",
            "http://app.example.com/join",
            "https://app.example.com:444/join",
            "https://admin.example.com/invites",
            "https://app.example.com.evil.example/join",
        ] {
            assert_eq!(ok(other).unwrap_err().code, "origin_not_allowed", "{other}");
        }
        for malformed in [
            "/relative",
            "https://app.example.com/join#x",
            "mailto:a@b.example",
            "https://user@app.example.com/",
        ] {
            assert_eq!(
                ok(malformed).unwrap_err().code,
                "invalid_url",
                "{malformed}"
            );
        }
        for own_token in [
            "https://app.example.com/join?token=x",
            "https://app.example.com/join?from=mail&token=",
            "https://app.example.com/join?token",
            // Percent-encoded, it is still the parameter the page reads.
            "https://app.example.com/join?%74oken=x",
        ] {
            assert_eq!(
                ok(own_token).unwrap_err().code,
                "reserved_parameter",
                "{own_token}"
            );
        }
        // Only that name: a parameter that merely contains it is the page's own.
        assert!(ok("https://app.example.com/join?token_hint=x&mytoken=y&Token=z").is_ok());
        assert_eq!(
            parse_redirect_url("r", "https://app.example.com/", &RedirectOrigins::default())
                .unwrap_err()
                .code,
            "origin_not_allowed"
        );
    }

    #[test]
    fn the_allowlist_holds_origins_only() {
        assert_eq!(RedirectOrigins::parse(""), Ok(RedirectOrigins::default()));
        assert!(RedirectOrigins::parse("https://app.example.com/").is_ok());
        for bad in [
            "app.example.com",
            "https://app.example.com/page",
            "https://a.example?q",
        ] {
            assert!(RedirectOrigins::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_choice_names_each_field_that_is_wrong() {
        let errors = LinkChoice::parse(
            "invitations[1]",
            Some(31),
            Some("https://evil.example.com/"),
            &allowed(),
        )
        .unwrap_err()
        .into_vec();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "invitations[1].expires_in_days",
                "invitations[1].redirect_url"
            ]
        );
        assert_eq!(
            LinkChoice::parse("i", None, None, &allowed()).unwrap(),
            LinkChoice::default()
        );
    }

    #[test]
    fn the_token_follows_the_page_in_its_query() {
        assert_eq!(
            invite_link("https://app.example.com/join", "t0k"),
            "https://app.example.com/join?token=t0k"
        );
        assert_eq!(
            invite_link("https://app.example.com/join?from=mail", "t0k"),
            "https://app.example.com/join?from=mail&token=t0k"
        );
    }

    #[test]
    fn the_link_carries_exactly_one_token() {
        for (page, link) in [
            (
                "https://app.example.com/join?token=old",
                "https://app.example.com/join?token=t0k",
            ),
            (
                "https://app.example.com/join?a=1&token=old&b=2&token",
                "https://app.example.com/join?a=1&b=2&token=t0k",
            ),
            (
                "https://app.example.com/join?%74oken=old&mytoken=keep",
                "https://app.example.com/join?mytoken=keep&token=t0k",
            ),
            (
                "https://app.example.com/join?",
                "https://app.example.com/join?token=t0k",
            ),
            (
                "https://app.example.com/join?from=mail#top",
                "https://app.example.com/join?from=mail&token=t0k#top",
            ),
        ] {
            assert_eq!(invite_link(page, "t0k"), link, "{page}");
        }
    }
}
