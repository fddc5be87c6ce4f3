//! The home page's vocabulary: system-wide notifications, quick links, and
//! what each role's overview shows.

use serde::{Deserialize, Serialize};

use crate::classroom::EventView;
use crate::cluster::NodeView;
use crate::error::{AppError, Problem};
use crate::time::Timestamp;
use crate::validate;

pub const MESSAGE_MAX: usize = 2000;
pub const URL_MAX: usize = 2000;

#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 3] = [Severity::Info, Severity::Warning, Severity::Critical];

    pub fn key(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }

    pub fn from_key(key: &str) -> Option<Severity> {
        Severity::ALL.into_iter().find(|s| s.key() == key)
    }
}

/// A message administrators show to everyone signed in, from `starts_at`
/// (none: at once) until `ends_at` (none: until deleted).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NotificationView {
    pub id: i64,
    pub message: String,
    pub severity: Severity,
    pub starts_at: Option<Timestamp>,
    pub ends_at: Option<Timestamp>,
    pub updated_at: Timestamp,
}

impl NotificationView {
    pub fn active_at(&self, now: Timestamp) -> bool {
        self.starts_at.is_none_or(|start| start <= now) && self.ends_at.is_none_or(|end| now < end)
    }
}

/// A notification as stored, validated.
#[derive(Clone, Debug, PartialEq)]
pub struct NotificationFields {
    pub message: String,
    pub severity: Severity,
    pub starts_at: Option<Timestamp>,
    pub ends_at: Option<Timestamp>,
}

impl NotificationFields {
    /// Checks a notification: a message, a known severity, an end after the start.
    pub fn new(
        message: &str,
        severity: &str,
        starts_at: Option<Timestamp>,
        ends_at: Option<Timestamp>,
    ) -> Result<NotificationFields, AppError> {
        let message = validate::text("message", message, MESSAGE_MAX)?;
        if message.is_empty() {
            return Err(AppError::invalid("message", Problem::Required));
        }
        let severity =
            Severity::from_key(severity.trim()).ok_or_else(|| AppError::invalid("severity", Problem::Unknown))?;
        if let (Some(start), Some(end)) = (starts_at, ends_at)
            && end <= start
        {
            return Err(AppError::invalid("ends_at", Problem::Format { expected: "after_start".into() }));
        }
        Ok(NotificationFields { message, severity, starts_at, ends_at })
    }
}

/// A link to an external tool (wiki, ticket system) on everyone's dashboard.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QuickLinkView {
    pub id: i64,
    pub title: String,
    pub url: String,
    /// Ascending: the order on the dashboard.
    pub position: i64,
}

/// An absolute `http` or `https` URL with a host, and nothing else: a quick
/// link is shown to everyone, so `javascript:`, `data:` or a relative link
/// must never get in.
pub fn link_url(raw: &str) -> Result<String, AppError> {
    let value = raw.trim();
    let bad = || AppError::invalid("url", Problem::Format { expected: "http_url".into() });
    if value.is_empty() {
        return Err(AppError::invalid("url", Problem::Required));
    }
    if value.chars().count() > URL_MAX {
        return Err(AppError::invalid("url", Problem::TooLong { max: URL_MAX }));
    }
    let lower = value.to_ascii_lowercase();
    let rest = lower.strip_prefix("https://").or_else(|| lower.strip_prefix("http://")).ok_or_else(bad)?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = host.rsplit('@').next().unwrap_or_default();
    if host.is_empty() || host.starts_with(':') || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad());
    }
    Ok(value.to_string())
}

/// An administrator's overview.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AdminOverview {
    /// The cluster's nodes with their load; empty when the cluster could not be asked.
    pub nodes: Vec<NodeView>,
    /// Why the cluster could not be asked, if so (`AppError::Cluster`).
    pub cluster_problem: Option<AppError>,
    pub running_vms: u64,
    /// Events whose time overlaps today (UTC day).
    pub events_today: u64,
    /// Failed tasks (top level), for the link to the Jobs page.
    pub failed_jobs: u64,
}

/// An event an instructor teaches, with how far its VMs are.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EventReadiness {
    pub event: EventView,
    pub vms_total: u64,
    pub vms_running: u64,
    pub vms_failed: u64,
}

/// Everything the home page shows besides "My VMs" and the banner.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DashboardView {
    pub quick_links: Vec<QuickLinkView>,
    pub admin: Option<AdminOverview>,
    /// Unfinished events the viewer instructs, soonest first.
    pub instructing: Vec<EventReadiness>,
    /// The viewer's next (or current) event as a participant.
    pub next_event: Option<EventView>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_and_https_links_with_a_host() {
        assert_eq!(link_url(" https://wiki.example.org/a?b#c ").unwrap(), "https://wiki.example.org/a?b#c");
        assert!(link_url("HTTP://tickets.example.org").is_ok());
        for bad in [
            "javascript:alert(1)",
            "data:text/html,x",
            "/relative",
            "ftp://x.org",
            "https://",
            "http:///x",
            "https://a b.org",
        ] {
            assert!(link_url(bad).is_err(), "{bad} must be refused");
        }
        assert!(matches!(link_url(""), Err(AppError::Invalid { .. })));
    }

    #[test]
    fn notifications_need_a_message_a_severity_and_an_end_after_the_start() {
        let (a, b) = (Some(Timestamp(1_000)), Some(Timestamp(2_000)));
        assert!(NotificationFields::new("Maintenance", "warning", a, b).is_ok());
        assert!(NotificationFields::new(" ", "warning", None, None).is_err());
        assert!(NotificationFields::new("x", "loud", None, None).is_err());
        assert!(NotificationFields::new("x", "info", b, a).is_err());
        let n = NotificationView {
            id: 1,
            message: "x".into(),
            severity: Severity::Info,
            starts_at: a,
            ends_at: b,
            updated_at: Timestamp(0),
        };
        assert!(!n.active_at(Timestamp(999)) && n.active_at(Timestamp(1_000)) && !n.active_at(Timestamp(2_000)));
    }
}
