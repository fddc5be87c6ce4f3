//! Time zones: every person has an IANA zone (their profile, else the
//! site's `site.time_zone`, else UTC); times are stored as UTC milliseconds,
//! typed and shown in that zone, always with the zone's name. jiff with its
//! bundled zone data, so the server and the browser (wasm) give the same text.

use jiff::civil::DateTime;
use jiff::tz::TimeZone;

use crate::error::{AppError, Problem};
use crate::time::Timestamp;

pub const DEFAULT_ZONE: &str = "UTC";

/// What the profile shows: the person's choice and what applies.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TimeZoneChoice {
    /// Empty: none chosen.
    pub own: String,
    pub site: String,
    pub effective: String,
    /// Every zone one can choose.
    pub available: Vec<String>,
}

/// `raw` as a known IANA zone name (`Europe/Berlin`), or an error on `field`.
pub fn check(field: &str, raw: &str) -> Result<String, AppError> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(AppError::invalid(field, Problem::Required));
    }
    match TimeZone::get(name) {
        Ok(zone) => Ok(zone.iana_name().unwrap_or(name).to_string()),
        Err(_) => Err(AppError::invalid(field, Problem::Unknown)),
    }
}

/// Every zone name the bundled database knows, sorted (for the profile's choice).
pub fn names() -> Vec<String> {
    let mut names: Vec<String> = jiff::tz::db().available().map(|n| n.as_str().to_string()).collect();
    names.sort();
    names
}

fn zone(name: &str) -> TimeZone {
    TimeZone::get(name).unwrap_or(TimeZone::UTC)
}

/// `2026-03-02 10:00 Europe/Berlin`: the time in the zone, the zone named.
/// An unknown zone (a stale name) shows UTC, named as such.
pub fn format_in(at: Timestamp, name: &str) -> String {
    let known = TimeZone::get(name).is_ok();
    let shown = if known { name } else { DEFAULT_ZONE };
    match jiff::Timestamp::from_millisecond(at.millis()) {
        Ok(ts) => format!("{} {shown}", ts.to_zoned_datetime(zone(shown)).strftime("%Y-%m-%d %H:%M")),
        Err(_) => format!("@{}", at.millis()),
    }
}

/// The value of a `datetime-local` input showing `at` in the zone (`2026-03-02T10:00`).
pub fn input_value(at: Timestamp, name: &str) -> String {
    jiff::Timestamp::from_millisecond(at.millis())
        .map(|ts| ts.to_zoned_datetime(zone(name)).strftime("%Y-%m-%dT%H:%M").to_string())
        .unwrap_or_default()
}

/// Parses a `datetime-local` value typed in the zone. A time that happens
/// twice (clocks going back) means the first; one that does not exist
/// (clocks going forward) is moved forward by the gap, as calendars do.
pub fn parse_in(field: &str, raw: &str, name: &str) -> Result<Timestamp, AppError> {
    let bad = || AppError::invalid(field, Problem::Format { expected: "datetime".into() });
    let civil: DateTime = raw.trim().replace(' ', "T").parse().map_err(|_| bad())?;
    let zoned = civil.to_zoned_datetime(zone(name)).map_err(|_| bad())?;
    Ok(Timestamp(zoned.timestamp().as_millisecond()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zones_are_checked_by_name() {
        assert_eq!(check("time_zone", " Europe/Berlin ").unwrap(), "Europe/Berlin");
        assert!(check("time_zone", "Mars/Olympus").is_err());
        assert!(check("time_zone", "").is_err());
        assert!(names().iter().any(|n| n == "America/New_York"));
    }

    #[test]
    fn times_round_trip_through_the_zone_with_summer_time() {
        // 2026-07-01 08:00 in Berlin is 06:00 UTC (summer), 2026-01-15 08:00 is 07:00 UTC.
        let summer = parse_in("starts_at", "2026-07-01T08:00", "Europe/Berlin").unwrap();
        let winter = parse_in("starts_at", "2026-01-15T08:00", "Europe/Berlin").unwrap();
        assert_eq!(format_in(summer, "UTC"), "2026-07-01 06:00 UTC");
        assert_eq!(format_in(winter, "UTC"), "2026-01-15 07:00 UTC");
        assert_eq!(format_in(summer, "Europe/Berlin"), "2026-07-01 08:00 Europe/Berlin");
        assert_eq!(input_value(winter, "Europe/Berlin"), "2026-01-15T08:00");
        assert_eq!(format_in(summer, "Nowhere/Else"), "2026-07-01 06:00 UTC");
        assert!(parse_in("starts_at", "tomorrow", "UTC").is_err());
    }
}
