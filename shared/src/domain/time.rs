//! Time as a value: every rule that depends on "now" takes it as an argument.

use std::fmt;

use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime, UtcOffset};

/// An instant in UTC, shown as RFC 3339 with millisecond precision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(OffsetDateTime);

impl Timestamp {
    /// The one place the wall clock is read; handlers call it once per request.
    pub fn now() -> Self {
        Self::from_datetime(OffsetDateTime::now_utc())
    }

    pub fn from_unix_millis(millis: i64) -> Option<Self> {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
            .ok()
            .map(Self)
    }

    fn from_datetime(at: OffsetDateTime) -> Self {
        let at = at.to_offset(UtcOffset::UTC);
        // Millisecond precision keeps stored and shown values equal.
        Self(
            at.replace_nanosecond(at.millisecond() as u32 * 1_000_000)
                .unwrap_or(at),
        )
    }

    pub fn parse(input: &str) -> Option<Self> {
        OffsetDateTime::parse(input, &Rfc3339)
            .ok()
            .map(Self::from_datetime)
    }

    pub fn unix_seconds(self) -> i64 {
        self.0.unix_timestamp()
    }

    pub fn unix_millis(self) -> i64 {
        (self.0.unix_timestamp_nanos() / 1_000_000) as i64
    }

    pub fn plus_seconds(self, seconds: i64) -> Self {
        Self(self.0 + Duration::seconds(seconds))
    }

    /// `2026-11-22T14:27:00.000Z`: fixed width, so the strings sort as the instants do.
    pub fn to_rfc3339(self) -> String {
        let d = self.0;
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            d.year(),
            u8::from(d.month()),
            d.day(),
            d.hour(),
            d.minute(),
            d.second(),
            d.millisecond()
        )
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_fixed_width_utc_and_parses_back() {
        let t = Timestamp::parse("2026-11-22T15:04:05.123+01:00").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-11-22T14:04:05.123Z");
        assert_eq!(Timestamp::parse(&t.to_rfc3339()), Some(t));
    }

    #[test]
    fn string_order_is_time_order() {
        let a = Timestamp::from_unix_millis(1_000).unwrap();
        let b = a.plus_seconds(9);
        assert!(a < b && a.to_rfc3339() < b.to_rfc3339());
        assert_eq!(b.unix_seconds() - a.unix_seconds(), 9);
    }
}
