//! Checking verified domains again on the schedule: which are due, and what a lookup means for
//! one. A domain stays verified while its TXT record is found; once the record has been missing
//! for longer than the grace period, the domain is unverified and freed for any organization.
//! Only a definite answer without the record counts as missing: a lookup that got no answer
//! (a timeout, SERVFAIL) says nothing about the record, and never unverifies.

use super::{Challenge, EmailDomain, Timestamp, TxtAnswer};

/// How often the record of a verified domain is looked up again, and how long it may be
/// missing before the domain is unverified (`ORGS_DOMAIN_RECHECK_HOURS`,
/// `ORGS_DOMAIN_GRACE_HOURS`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecheckPolicy {
    pub interval_seconds: i64,
    pub grace_seconds: i64,
}

impl Default for RecheckPolicy {
    /// Every day, with three days to put a lost record back: a DNS change by mistake, or a
    /// move between DNS providers, is noticed and mended before anyone loses their way in.
    fn default() -> Self {
        Self {
            interval_seconds: 24 * 3600,
            grace_seconds: 72 * 3600,
        }
    }
}

/// What a re-check's lookup found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// The record carries the domain's value.
    Found,
    /// DNS answered, without the value: no such name, no TXT record, or other values.
    Missing,
    /// No answer to judge (a timeout, a server failure).
    Unanswered,
}

impl Lookup {
    /// Judges a lookup of `domain`'s record as verification does (`Challenge::judge`); `None`
    /// is a lookup that got no answer.
    pub fn judge(challenge: &Challenge, domain: &EmailDomain, answer: Option<&TxtAnswer>) -> Self {
        match answer {
            None => Lookup::Unanswered,
            Some(answer) => match challenge.judge(domain, answer) {
                Ok(()) => Lookup::Found,
                Err(_) => Lookup::Missing,
            },
        }
    }
}

/// What becomes of a verified domain after a re-check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recheck {
    /// Found: the record was seen now.
    Seen,
    /// Missing, but within the grace period since it was last seen: checked, still verified.
    Missing,
    /// Missing for longer than the grace period: the domain is unverified.
    Unverify,
    /// Nothing learned: left as it is, and due again at the next run.
    Unknown,
}

impl RecheckPolicy {
    /// Domains last checked before this instant are due.
    pub fn due_before(&self, now: Timestamp) -> Timestamp {
        now.plus_seconds(-self.interval_seconds)
    }

    /// What the lookup at `now` means for a domain whose record was last found at `seen_at`.
    pub fn decide(&self, seen_at: Timestamp, now: Timestamp, lookup: Lookup) -> Recheck {
        match lookup {
            Lookup::Found => Recheck::Seen,
            Lookup::Unanswered => Recheck::Unknown,
            Lookup::Missing
                if now.unix_millis() - seen_at.unix_millis() > self.grace_seconds * 1000 =>
            {
                Recheck::Unverify
            }
            Lookup::Missing => Recheck::Missing,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3600;

    fn at(hours: i64) -> Timestamp {
        Timestamp::parse("2026-11-01T00:00:00.000Z")
            .unwrap()
            .plus_seconds(hours * HOUR)
    }

    #[test]
    fn a_domain_is_due_once_the_interval_has_passed_since_its_check() {
        let policy = RecheckPolicy::default();
        assert_eq!(policy.due_before(at(100)), at(76));
    }

    #[test]
    fn a_missing_record_unverifies_only_after_the_grace_period() {
        let policy = RecheckPolicy::default();
        let seen = at(0);
        assert_eq!(
            policy.decide(seen, at(24), Lookup::Missing),
            Recheck::Missing
        );
        assert_eq!(
            policy.decide(seen, at(72), Lookup::Missing),
            Recheck::Missing
        );
        assert_eq!(
            policy.decide(seen, at(72).plus_seconds(1), Lookup::Missing),
            Recheck::Unverify
        );
        assert_eq!(
            policy.decide(seen, at(96), Lookup::Missing),
            Recheck::Unverify
        );
    }

    #[test]
    fn a_found_record_is_seen_again_however_long_it_was_gone() {
        let policy = RecheckPolicy::default();
        assert_eq!(policy.decide(at(0), at(24), Lookup::Found), Recheck::Seen);
        assert_eq!(policy.decide(at(0), at(500), Lookup::Found), Recheck::Seen);
    }

    #[test]
    fn no_answer_never_unverifies() {
        let policy = RecheckPolicy::default();
        assert_eq!(
            policy.decide(at(0), at(500), Lookup::Unanswered),
            Recheck::Unknown
        );
    }

    #[test]
    fn only_a_definite_answer_without_the_value_is_missing() {
        let domain = EmailDomain::parse("d", "acme.example").unwrap();
        let challenge = Challenge::from_stored("orgs-verification=abc".into());
        let judge = |answer: Option<&TxtAnswer>| Lookup::judge(&challenge, &domain, answer);
        let values = |v: &[&str]| TxtAnswer::Values(v.iter().map(|s| s.to_string()).collect());
        assert_eq!(
            judge(Some(&values(&["v=spf1 -all", "orgs-verification=abc"]))),
            Lookup::Found
        );
        assert_eq!(
            judge(Some(&values(&["orgs-verification=xyz"]))),
            Lookup::Missing
        );
        assert_eq!(judge(Some(&TxtAnswer::NoSuchName)), Lookup::Missing);
        assert_eq!(judge(Some(&TxtAnswer::NoRecords)), Lookup::Missing);
        assert_eq!(judge(None), Lookup::Unanswered);
    }
}
