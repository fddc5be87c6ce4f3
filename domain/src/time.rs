//! Points in time. Stored as UTC milliseconds since the epoch in both SQL
//! dialects (portable, sortable); shown in the user's zone by the UI.

use serde::{Deserialize, Serialize};

#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub fn millis(self) -> i64 {
        self.0
    }

    pub fn minus_millis(self, millis: i64) -> Timestamp {
        Timestamp(self.0.saturating_sub(millis))
    }

    pub fn plus_secs(self, secs: i64) -> Timestamp {
        Timestamp(self.0.saturating_add(secs.saturating_mul(1000)))
    }

    /// `2026-11-24 08:15 UTC`
    pub fn format_utc(self) -> String {
        let format = ::time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
        ::time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.0) * 1_000_000)
            .ok()
            .and_then(|t| t.format(&format).ok())
            .unwrap_or_else(|| format!("@{}", self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_in_utc() {
        assert_eq!(Timestamp(0).format_utc(), "1970-01-01 00:00 UTC");
        assert_eq!(Timestamp(1_795_000_000_000).plus_secs(60).0, 1_795_000_060_000);
    }
}
