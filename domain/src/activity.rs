//! Activities: the audit log. One record per state change — who did what to
//! which object, when, from where, and whether it worked.
//!
//! Records are immutable and identified by a random id, so storing one twice
//! (a retried forwarding) is recognised and ignored.

use serde::{Deserialize, Serialize};

use crate::time::Timestamp;

/// Where a request came from; the server fills it in for every call and the
/// services copy it into the activities they record.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Origin {
    pub request_id: Option<String>,
    pub client_ip: Option<String>,
}

impl Origin {
    /// A request known only by its client address (command line, tests).
    pub fn client(ip: &str) -> Origin {
        Origin { request_id: None, client_ip: Some(ip.to_string()) }
    }
}

/// How much of a name someone typed (an unknown or malformed username at
/// sign-in, a password reset request) an activity keeps: enough to recognise
/// it, not enough to fill the log with whatever a client sends.
pub const TYPED_NAME_MAX: usize = 64;

/// A typed name as an activity keeps it: trimmed, without control
/// characters, at most [`TYPED_NAME_MAX`] characters (cut between characters,
/// never inside one).
pub fn typed_name(raw: &str) -> String {
    raw.trim().chars().filter(|c| !c.is_control()).take(TYPED_NAME_MAX).collect()
}

/// Who acted: a person, or the product itself.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ActorKind {
    User,
    /// The product reacting to something (a worker step, a command-line tool).
    System,
    /// Periodic work started by the scheduler.
    Scheduler,
}

impl ActorKind {
    pub fn key(self) -> &'static str {
        match self {
            ActorKind::User => "user",
            ActorKind::System => "system",
            ActorKind::Scheduler => "scheduler",
        }
    }

    pub fn from_key(key: &str) -> Option<ActorKind> {
        [ActorKind::User, ActorKind::System, ActorKind::Scheduler].into_iter().find(|k| k.key() == key)
    }
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    Ok,
    Failed,
}

impl Outcome {
    pub fn key(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Failed => "failed",
        }
    }

    pub fn from_key(key: &str) -> Option<Outcome> {
        [Outcome::Ok, Outcome::Failed].into_iter().find(|k| k.key() == key)
    }
}

/// The object an activity is about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityTarget {
    /// An object type key (`users`, `roles`, `settings`, `vms`, ...).
    pub kind: String,
    /// The object's id; empty in an activity handed to a write that creates the
    /// object, which fills in the new id.
    pub id: String,
    /// The object's name when the activity happened (for searching and for
    /// reading the log after the object is gone).
    pub name: String,
}

impl ActivityTarget {
    pub fn new(kind: &str, id: impl ToString, name: &str) -> ActivityTarget {
        ActivityTarget { kind: kind.to_string(), id: id.to_string(), name: name.to_string() }
    }

    /// An object that a write is about to create: the store fills in its id.
    pub fn created(kind: &str, name: &str) -> ActivityTarget {
        ActivityTarget { kind: kind.to_string(), id: String::new(), name: name.to_string() }
    }
}

/// One audit record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Activity {
    /// 32 lowercase hex digits, random; the idempotency key of forwarding.
    pub id: String,
    pub at: Timestamp,
    pub actor_kind: ActorKind,
    /// The user's id when `actor_kind` is `User`.
    pub actor_id: Option<i64>,
    /// The username, or `system` / `scheduler`.
    pub actor_name: String,
    /// `area.verb`: `user.login`, `user.login_failed`, `settings.update`, `vm.start`, ...
    pub action: String,
    pub target: ActivityTarget,
    /// The event the change belongs to, when there is one.
    pub event_id: Option<i64>,
    pub outcome: Outcome,
    /// Why it failed (a stable key, never a secret or a stack trace).
    pub reason: Option<String>,
    pub request_id: Option<String>,
    pub client_ip: Option<String>,
    /// Further facts as a JSON object (changed fields, old and new values that are not secret).
    pub details: serde_json::Value,
}

impl Activity {
    /// Whether `id` has the form activity ids have (ids arrive in cursors and URLs).
    pub fn valid_id(id: &str) -> bool {
        id.len() == 32 && id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    }

    pub fn details_text(&self) -> String {
        if self.details.as_object().is_some_and(|o| o.is_empty()) { String::new() } else { self.details.to_string() }
    }
}

/// Whose activities a reader may see, decided by the activity service from
/// the reader's permissions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ActivityScope {
    /// Administrators (read permission on activities): everything.
    All,
    /// Everyone else: what they did themselves, what was done to their
    /// account (target: their user), plus everything in the events they instruct.
    Own { user_id: i64, instructed_events: Vec<i64> },
}

/// A position in the list, newest first: the list continues with activities
/// strictly older than (`at`, `id`). Keyset pagination, so a page costs the
/// same at the millionth record as at the first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityCursor {
    pub at: Timestamp,
    pub id: String,
}

impl ActivityCursor {
    /// `<millis>-<id>`, safe in a URL.
    pub fn encode(&self) -> String {
        format!("{}-{}", self.at.millis(), self.id)
    }

    pub fn decode(raw: &str) -> Option<ActivityCursor> {
        let (at, id) = raw.split_once('-')?;
        let at = at.parse::<i64>().ok()?;
        Activity::valid_id(id).then(|| ActivityCursor { at: Timestamp(at), id: id.to_string() })
    }
}

/// What the Activities page asks for. Every field narrows the list.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ActivityFilter {
    pub actor_id: Option<i64>,
    /// Who acted, by username (the service turns it into `actor_id`).
    pub username: Option<String>,
    pub event_id: Option<i64>,
    /// An action (`vm.start`) or an area (`vm`): matches `vm` and every `vm.*`.
    pub action: Option<String>,
    pub outcome: Option<Outcome>,
    /// Inclusive lower and exclusive upper bound.
    pub from: Option<Timestamp>,
    pub until: Option<Timestamp>,
    /// Words of the target's name (case-insensitive; see [`search_words`]).
    pub text: Option<String>,
    pub target_kind: Option<String>,
    pub target_id: Option<String>,
}

/// How far the forwarder is behind: activities waiting in the outbox.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Backlog {
    pub waiting: u64,
    pub oldest: Option<Timestamp>,
}

/// What administrators see about the activity log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActivityHealth {
    /// `mongodb` or `sql`.
    pub store: String,
    pub backlog: Backlog,
}

pub const ACTIVITY_PAGE_SIZE: u32 = 50;

/// Search words of at least this many characters match the start of a word
/// of the target's name (full-text indexes: MariaDB's InnoDB indexes words of
/// three or more characters); shorter ones match anywhere in it.
pub const WORD_PREFIX_MIN: usize = 3;

/// The words of a search (lowercase): the text split at everything that is
/// not a letter or a digit, as the full-text indexes split names. Every
/// word must match; every store applies the same rule, so they find the same.
pub fn search_words(text: &str) -> Vec<String> {
    text.to_lowercase().split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_string).collect()
}

/// Whether a target's name matches every search word (from [`search_words`]):
/// a word of [`WORD_PREFIX_MIN`] or more characters starts a word of the
/// name, a shorter one appears anywhere in it. The rule the stores' indexes
/// implement, for a store that checks candidate rows itself.
pub fn name_matches(name: &str, words: &[String]) -> bool {
    let name = name.to_lowercase();
    let name_words: Vec<&str> = name.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).collect();
    words.iter().all(|word| {
        if word.chars().count() >= WORD_PREFIX_MIN {
            name_words.iter().any(|w| w.starts_with(word.as_str()))
        } else {
            name.contains(word.as_str())
        }
    })
}

/// `YYYY-MM-DD` as the start of that day in UTC (the time-range filter).
pub fn parse_day(raw: &str) -> Option<Timestamp> {
    let format = ::time::macros::format_description!("[year]-[month]-[day]");
    let date = ::time::Date::parse(raw.trim(), &format).ok()?;
    let seconds = date.midnight().assume_utc().unix_timestamp();
    Some(Timestamp(seconds.checked_mul(1000)?))
}

/// The CSV header and one line per activity (RFC 4180 quoting; cells that a
/// spreadsheet would run as a formula are prefixed with `'`).
pub const CSV_HEADER: &str = "time_utc,actor,actor_id,action,target_type,target_id,target_name,event_id,outcome,reason,request_id,client_ip,details\r\n";

pub fn csv_line(a: &Activity) -> String {
    fn cell(value: &str) -> String {
        let guarded = if value.starts_with(['=', '+', '-', '@']) { format!("'{value}") } else { value.to_string() };
        if guarded.contains([',', '"', '\n', '\r']) { format!("\"{}\"", guarded.replace('"', "\"\"")) } else { guarded }
    }
    let number = |n: Option<i64>| n.map(|n| n.to_string()).unwrap_or_default();
    let time = ::time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(a.at.millis()) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&::time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_else(|| a.at.millis().to_string());
    let cells = [
        time,
        a.actor_name.clone(),
        number(a.actor_id),
        a.action.clone(),
        a.target.kind.clone(),
        a.target.id.clone(),
        a.target.name.clone(),
        number(a.event_id),
        a.outcome.key().to_string(),
        a.reason.clone().unwrap_or_default(),
        a.request_id.clone().unwrap_or_default(),
        a.client_ip.clone().unwrap_or_default(),
        a.details_text(),
    ];
    let mut line = cells.iter().map(|c| cell(c)).collect::<Vec<_>>().join(",");
    line.push_str("\r\n");
    line
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActivityPage {
    pub items: Vec<Activity>,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_word_starts_and_short_words_anywhere() {
        let matches = |name: &str, search: &str| name_matches(name, &search_words(search));
        assert!(matches("Windows Server 2022 lab", "SERV 20"));
        assert!(matches("net1-stu2-debian-1", "stu2 deb"));
        assert!(matches("Übung Netzwerke", "übung netz"));
        assert!(!matches("Linux basics", "inux"), "not the middle of a word");
        assert!(!matches("Linux basics", "linux windows"), "every word");
        assert!(matches("Lab VM 4242", "vm 24"), "short words anywhere");
    }

    #[test]
    fn typed_names_are_cut_between_characters() {
        assert_eq!(typed_name("  alice\n "), "alice");
        let long = "ä".repeat(100);
        let kept = typed_name(&long);
        assert_eq!(kept.chars().count(), TYPED_NAME_MAX);
        assert!(kept.chars().all(|c| c == 'ä'), "no character cut in half");
        assert_eq!(typed_name("a\u{7}b"), "ab");
    }

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let cursor = ActivityCursor { at: Timestamp(1_795_000_000_000), id: "0123456789abcdef0123456789abcdef".into() };
        assert_eq!(ActivityCursor::decode(&cursor.encode()), Some(cursor));
        assert_eq!(ActivityCursor::decode("12-xyz"), None);
        assert_eq!(ActivityCursor::decode("abc-0123456789abcdef0123456789abcdef"), None);
        assert_eq!(ActivityCursor::decode(""), None);
    }

    #[test]
    fn days_and_csv() {
        assert_eq!(parse_day("1970-01-02"), Some(Timestamp(86_400_000)));
        assert_eq!(parse_day("yesterday"), None);
        let a = Activity {
            id: "0123456789abcdef0123456789abcdef".into(),
            at: Timestamp(0),
            actor_kind: ActorKind::User,
            actor_id: Some(3),
            actor_name: "kim".into(),
            action: "vm.start".into(),
            target: ActivityTarget::new("vms", 9, "=HYPERLINK(\"x\")"),
            event_id: None,
            outcome: Outcome::Failed,
            reason: Some("a, b".into()),
            request_id: None,
            client_ip: None,
            details: serde_json::json!({}),
        };
        assert_eq!(
            csv_line(&a),
            "1970-01-01T00:00:00Z,kim,3,vm.start,vms,9,\"'=HYPERLINK(\"\"x\"\")\",,failed,\"a, b\",,,\r\n"
        );
    }

    #[test]
    fn keys_round_trip() {
        for kind in [ActorKind::User, ActorKind::System, ActorKind::Scheduler] {
            assert_eq!(ActorKind::from_key(kind.key()), Some(kind));
        }
        assert_eq!(Outcome::from_key("failed"), Some(Outcome::Failed));
        assert_eq!(Outcome::from_key("nope"), None);
    }
}
