//! library stage (knowledge): commit timestamps as git prints them (`%cI`, RFC 3339 with
//! the committer's offset). Kept compact (no string per value) because the removed-tags
//! index holds two per tag. Pure: never reads a clock.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A text that is not `YYYY-MM-DDTHH:MM:SS` followed by `Z` or `±HH:MM`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid timestamp {text:?} (expected RFC 3339 like 2020-04-21T08:28:29-07:00)")]
pub struct TimestampError {
    pub text: String,
}

/// An instant with the UTC offset it was written in; prints back exactly as parsed.
/// Ordered by instant (then offset, so equal instants in different zones stay distinct).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Timestamp {
    /// Seconds since 1970-01-01T00:00:00Z.
    unix: i64,
    /// Offset from UTC in minutes; `None` for a `Z` suffix.
    offset: Option<i16>,
}

/// A calendar day as written in a [`Timestamp`] (in its own offset).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Date {
    pub year: i32,
    pub month: u8,
    pub day: u8,
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl Timestamp {
    /// Parses `YYYY-MM-DDTHH:MM:SS` plus `Z` or `±HH:MM`.
    pub fn parse(text: &str) -> Result<Timestamp, TimestampError> {
        parse_parts(text.as_bytes()).ok_or_else(|| TimestampError {
            text: text.to_owned(),
        })
    }

    /// Seconds since the Unix epoch.
    pub fn unix_seconds(&self) -> i64 {
        self.unix
    }

    /// The calendar day in the timestamp's own offset (what a reader of the commit saw).
    pub fn date(&self) -> Date {
        let local = self.unix + i64::from(self.offset.unwrap_or(0)) * 60;
        civil_from_days(local.div_euclid(86_400))
    }
}

impl Ord for Timestamp {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.unix, self.offset).cmp(&(other.unix, other.offset))
    }
}

impl PartialOrd for Timestamp {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let minutes = i64::from(self.offset.unwrap_or(0));
        let local = self.unix + minutes * 60;
        let date = civil_from_days(local.div_euclid(86_400));
        let secs = local.rem_euclid(86_400);
        let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
        write!(f, "{date}T{h:02}:{m:02}:{s:02}")?;
        match self.offset {
            None => f.write_str("Z"),
            Some(_) => {
                let sign = if minutes < 0 { '-' } else { '+' };
                let abs = minutes.abs();
                write!(f, "{sign}{:02}:{:02}", abs / 60, abs % 60)
            }
        }
    }
}

impl FromStr for Timestamp {
    type Err = TimestampError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Timestamp::parse(s)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Timestamp;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an RFC 3339 timestamp")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Timestamp, E> {
                Timestamp::parse(v).map_err(E::custom)
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}

fn digits(bytes: &[u8]) -> Option<i64> {
    if bytes.is_empty() || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(bytes.iter().fold(0, |n, b| n * 10 + i64::from(b - b'0')))
}

fn parse_parts(b: &[u8]) -> Option<Timestamp> {
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (year, month, day) = (digits(&b[0..4])?, digits(&b[5..7])?, digits(&b[8..10])?);
    let (hour, minute, second) = (
        digits(&b[11..13])?,
        digits(&b[14..16])?,
        digits(&b[17..19])?,
    );
    let valid_day = (1..=days_in_month(year, month)).contains(&day);
    if !(1..=12).contains(&month) || !valid_day || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let offset = match &b[19..] {
        b"Z" | b"z" => None,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let minutes = digits(&[*h1, *h2])? * 60 + digits(&[*m1, *m2])?;
            let minutes = if *sign == b'-' { -minutes } else { minutes };
            Some(i16::try_from(minutes).ok()?)
        }
        _ => return None,
    };
    let local = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second;
    let unix = local - i64::from(offset.unwrap_or(0)) * 60;
    Some(Timestamp { unix, offset })
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(days: i64) -> Date {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    Date {
        year: i32::try_from(year).unwrap_or(i32::MAX),
        month: u8::try_from(month).unwrap_or(0),
        day: u8::try_from(day).unwrap_or(0),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_git_iso_dates() {
        for text in [
            "2020-04-21T08:28:29-07:00",
            "2013-09-17T19:48:10+02:00",
            "1999-12-31T23:59:59Z",
            "2024-02-29T00:00:00+05:30",
            "1969-07-20T20:17:40-00:00",
        ] {
            let t = Timestamp::parse(text).unwrap();
            let back = if text.ends_with("-00:00") {
                text.replace("-00:00", "+00:00")
            } else {
                text.to_owned()
            };
            assert_eq!(t.to_string(), back);
        }
    }

    #[test]
    fn date_is_the_local_day_written() {
        let t = Timestamp::parse("2021-03-30T23:54:57-07:00").unwrap();
        assert_eq!(t.date().to_string(), "2021-03-30");
        assert_eq!(t.unix_seconds(), 1_617_173_697);
    }

    #[test]
    fn orders_by_instant_across_offsets() {
        let a = Timestamp::parse("2020-01-01T10:00:00+02:00").unwrap();
        let b = Timestamp::parse("2020-01-01T09:00:00Z").unwrap();
        assert!(a < b);
    }

    #[test]
    fn rejects_malformed_text() {
        for text in [
            "",
            "2020-04-21",
            "2020-13-01T00:00:00Z",
            "2021-02-29T00:00:00Z",
            "2020-04-21T08:28:29+0700",
            "2020-04-21 08:28:29Z",
        ] {
            assert!(Timestamp::parse(text).is_err(), "{text}");
        }
    }
}
