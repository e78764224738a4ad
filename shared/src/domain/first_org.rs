//! A person's first organization, made for them when they sign up if the deployer turns it on
//! (`CreateOrgOnSignUp`): whether an event asks for one, the handles it tries, and its name.

use super::{DisplayName, Handle, handle};

/// How many handles are tried before giving up: the stem, then the stem with a suffix.
pub const HANDLE_TRIES: usize = 4;
/// The suffix a taken stem gets: a hyphen and this many of `a-z0-9`.
const SUFFIX_LEN: usize = 4;
/// What a handle is made from when nothing the person gave has a usable character.
const FALLBACK_STEM: &str = "org";

/// Why a Cognito Post Confirmation event came: only a confirmed sign-up makes an organization;
/// a confirmed password reset is the same person again.
pub fn makes_first_org(trigger_source: &str) -> bool {
    trigger_source == "PostConfirmation_ConfirmSignUp"
}

/// The handle's stem: the preferred username, else the local part of the address, lowercased,
/// every run of other characters one hyphen, at most what leaves room for a suffix. Empty when
/// neither has a letter or digit of `a-z0-9`.
pub fn handle_stem(preferred_username: Option<&str>, email: Option<&str>) -> String {
    let local = email.map(|e| e.split('@').next().unwrap_or_default());
    let from = |source: &str| {
        let mut stem = String::new();
        for c in source.chars() {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_lowercase() || c.is_ascii_digit() {
                stem.push(c);
            } else if !stem.is_empty() && !stem.ends_with('-') {
                stem.push('-');
            }
        }
        stem.truncate(handle::MAX_LEN - 1 - SUFFIX_LEN);
        stem.trim_end_matches('-').to_owned()
    };
    [preferred_username, local]
        .into_iter()
        .flatten()
        .map(from)
        .find(|stem| !stem.is_empty())
        .unwrap_or_default()
}

/// The handles to try, in order: the stem itself when it is a valid handle (long enough, not
/// reserved), then the stem with a suffix made from each of `entropy` (random, drawn by the
/// caller), so that a taken handle costs one more try, not a search.
pub fn candidate_handles(stem: &str, entropy: &[u64]) -> Vec<Handle> {
    let stem = if stem.is_empty() { FALLBACK_STEM } else { stem };
    let mut handles: Vec<Handle> = Handle::parse(stem).into_iter().collect();
    for &draw in entropy {
        if let Ok(handle) = Handle::parse(&format!("{stem}-{}", suffix(draw)))
            && !handles.contains(&handle)
        {
            handles.push(handle);
        }
        if handles.len() >= HANDLE_TRIES {
            break;
        }
    }
    handles.truncate(HANDLE_TRIES);
    handles
}

/// Random numbers for `candidate_handles`, one a try.
pub fn draws() -> Vec<u64> {
    (0..HANDLE_TRIES).map(|_| fastrand::u64(..)).collect()
}

/// `SUFFIX_LEN` characters of `a-z0-9` from a random number.
fn suffix(mut draw: u64) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    (0..SUFFIX_LEN)
        .map(|_| {
            let c = ALPHABET[(draw % ALPHABET.len() as u64) as usize] as char;
            draw /= ALPHABET.len() as u64;
            c
        })
        .collect()
}

/// The organization's name: the person's name, else their preferred username, else the local
/// part of their address, else the handle; the first that is a valid display name.
pub fn first_org_name(
    name: Option<&str>,
    preferred_username: Option<&str>,
    email: Option<&str>,
    handle: &Handle,
) -> DisplayName {
    let local = email.map(|e| e.split('@').next().unwrap_or_default());
    [name, preferred_username, local]
        .into_iter()
        .flatten()
        .find_map(|candidate| DisplayName::parse("display_name", candidate).ok())
        .unwrap_or_else(|| {
            DisplayName::parse("display_name", handle.as_str())
                .expect("a handle is a valid display name")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_confirmed_sign_up_makes_an_organization() {
        assert!(makes_first_org("PostConfirmation_ConfirmSignUp"));
        assert!(!makes_first_org("PostConfirmation_ConfirmForgotPassword"));
        assert!(!makes_first_org(""));
    }

    #[test]
    fn the_stem_comes_from_the_preferred_username_else_the_local_part() {
        assert_eq!(
            handle_stem(Some("Bob.Smith"), Some("x@example.com")),
            "bob-smith"
        );
        assert_eq!(
            handle_stem(None, Some("Bob_Smith+tag@example.com")),
            "bob-smith-tag"
        );
        assert_eq!(handle_stem(Some("  "), Some("carol@example.com")), "carol");
        assert_eq!(handle_stem(Some("--Dan--"), None), "dan");
        assert_eq!(handle_stem(Some("Zoë"), None), "zo");
        assert_eq!(handle_stem(Some("日本"), Some("日本@example.jp")), "");
        assert_eq!(handle_stem(None, None), "");
    }

    #[test]
    fn a_long_stem_leaves_room_for_its_suffix() {
        let stem = handle_stem(None, Some(&format!("{}@example.com", "a".repeat(60))));
        assert_eq!(stem.len(), handle::MAX_LEN - 1 - SUFFIX_LEN);
        let handles = candidate_handles(&stem, &[1, 2, 3]);
        assert_eq!(handles.len(), HANDLE_TRIES);
        assert!(handles.iter().all(|h| h.as_str().len() <= handle::MAX_LEN));
        // Cut at a hyphen: never ends with one.
        let cut = handle_stem(Some(&format!("{}-b", "a".repeat(33))), None);
        assert_eq!(cut, "a".repeat(33));
    }

    #[test]
    fn the_stem_is_tried_first_then_with_a_short_suffix() {
        let handles = candidate_handles("bob", &[0, 1, 36 * 36 * 36 * 36 + 2]);
        let handles: Vec<_> = handles.iter().map(Handle::as_str).collect();
        assert_eq!(handles, ["bob", "bob-aaaa", "bob-baaa", "bob-caaa"]);
    }

    #[test]
    fn a_reserved_or_short_stem_goes_straight_to_suffixes() {
        let reserved: Vec<_> = candidate_handles("admin", &[5]).into_iter().collect();
        assert_eq!(reserved[0].as_str(), "admin-faaa");
        let short = candidate_handles("al", &[0]);
        assert_eq!(short[0].as_str(), "al-aaaa");
        let nothing = candidate_handles("", &[0]);
        assert_eq!(nothing[0].as_str(), "org-aaaa");
    }

    #[test]
    fn the_same_suffix_twice_is_tried_once() {
        let handles = candidate_handles("bob", &[7, 7, 8]);
        assert_eq!(handles.len(), 3);
    }

    #[test]
    fn the_name_is_the_persons_first_valid_one() {
        let handle = Handle::parse("bob-smith").unwrap();
        let name = |n, p, e| first_org_name(n, p, e, &handle).as_str().to_owned();
        assert_eq!(
            name(Some("Bob Smith"), Some("bobby"), Some("b@x.io")),
            "Bob Smith"
        );
        assert_eq!(name(Some(" "), Some("bobby"), Some("b@x.io")), "bobby");
        assert_eq!(name(None, None, Some("b.s@x.io")), "b.s");
        assert_eq!(name(Some("\u{202E}evil"), None, None), "bob-smith");
    }
}
