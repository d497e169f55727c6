//! Moments the KeyStone API reports, read once at the edge.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::{
    format_description::well_known::Rfc3339, macros::format_description, Date, OffsetDateTime,
    PrimitiveDateTime,
};

/// A moment as the API sent it.
///
/// Read as RFC 3339, or as an ISO 8601 date-time without an offset taken as UTC (what Python's
/// `isoformat()` writes for a naive datetime; the contract shows `Z` but the SDK does not insist).
/// A value in neither form is kept as sent and shown as it is: a list never fails on the form of
/// one timestamp.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub struct Timestamp {
    sent: String,
    moment: Option<OffsetDateTime>,
}

impl Timestamp {
    pub fn parse(text: &str) -> Self {
        Self::from(text.to_owned())
    }

    pub fn moment(&self) -> Option<OffsetDateTime> {
        self.moment
    }

    /// Seconds since 1970 (UTC).
    pub fn unix(&self) -> Option<i64> {
        self.moment.map(OffsetDateTime::unix_timestamp)
    }

    /// The UTC day, `2026-08-24`; the value as sent when it could not be read.
    pub fn day(&self) -> String {
        self.shown(format_description!("[year]-[month]-[day]"))
    }

    /// The UTC time to the second, `2026-08-24 10:05:00`.
    pub fn second(&self) -> String {
        self.shown(format_description!(
            "[year]-[month]-[day] [hour]:[minute]:[second]"
        ))
    }

    /// `2026-08-24 10:05:00 UTC`; the value as sent (no zone claimed) when it could not be read.
    pub fn second_utc(&self) -> String {
        match self.moment {
            Some(_) => format!("{} UTC", self.second()),
            None => self.sent.clone(),
        }
    }

    pub fn as_sent(&self) -> &str {
        &self.sent
    }

    fn shown(&self, format: &[time::format_description::FormatItem<'_>]) -> String {
        self.moment
            .and_then(|moment| moment.to_offset(time::UtcOffset::UTC).format(format).ok())
            .unwrap_or_else(|| self.sent.clone())
    }
}

impl From<String> for Timestamp {
    fn from(sent: String) -> Self {
        let trimmed = sent.trim();
        let moment = OffsetDateTime::parse(trimmed, &Rfc3339).ok().or_else(|| {
            let naive = format_description!(
                "[year]-[month]-[day]T[hour]:[minute]:[second][optional [.[subsecond]]]"
            );
            PrimitiveDateTime::parse(trimmed, naive)
                .ok()
                .map(PrimitiveDateTime::assume_utc)
        });
        Self { sent, moment }
    }
}

impl From<Timestamp> for String {
    fn from(value: Timestamp) -> Self {
        value.sent
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.sent)
    }
}

/// A calendar day typed as `YYYY-MM-DD` (a date filter); `None` for anything else, including
/// days no calendar has (`2026-02-29`).
pub fn parse_day(text: &str) -> Option<Date> {
    Date::parse(text.trim(), format_description!("[year]-[month]-[day]")).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_and_naive_utc_are_read_and_anything_else_is_kept() {
        let zulu = Timestamp::parse("2026-08-24T10:05:09Z");
        assert_eq!(
            (zulu.day().as_str(), zulu.unix()),
            ("2026-08-24", Some(1_787_565_909))
        );
        let offset = Timestamp::parse("2026-08-24T12:05:09+02:00");
        assert_eq!(offset.second(), "2026-08-24 10:05:09");
        let naive = Timestamp::parse("2026-08-24T10:05:09.123456");
        assert_eq!(naive.unix(), zulu.unix());
        let odd = Timestamp::parse("last Tuesday");
        assert_eq!((odd.day().as_str(), odd.unix()), ("last Tuesday", None));
        assert_eq!(zulu.second_utc(), "2026-08-24 10:05:09 UTC");
        assert_eq!(
            odd.second_utc(),
            "last Tuesday",
            "no zone is claimed for what was not read"
        );
    }

    #[test]
    fn only_calendar_days_are_days() {
        assert!(parse_day("2028-02-29").is_some());
        assert!(parse_day("2026-02-29").is_none());
        assert!(parse_day("2026-13-01").is_none());
        assert!(parse_day("1900-02-29").is_none());
        assert!(parse_day("16/03/2026").is_none());
    }

    #[test]
    fn a_timestamp_travels_as_the_text_that_was_sent() {
        let sent = serde_json::json!("2026-08-24T10:05:09Z");
        let read: Timestamp = serde_json::from_value(sent.clone()).unwrap();
        assert_eq!(serde_json::to_value(&read).unwrap(), sent);
    }
}
