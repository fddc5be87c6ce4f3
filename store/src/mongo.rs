//! The activity log in MongoDB (used when `MONGODB_HOST` is set).
//!
//! One collection per kind of record (`activities`); the activity id is the
//! document's `_id`, so storing an activity twice fails with a duplicate key
//! and is ignored. Time is a BSON DateTime (`at`, which the TTL index expires)
//! and the same instant as Int64 milliseconds (`at_ms`), on which lists sort,
//! page and filter: exact on every server (nx-27017, the tests' server,
//! compares DateTimes with millisecond parts wrongly). Numbers are read
//! tolerantly: servers may return a small Int64 as Int32.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use domain::activity::{
    Activity, ActivityCursor, ActivityFilter, ActivityScope, ActivityTarget, ActorKind, Outcome, WORD_PREFIX_MIN,
    search_words,
};
use domain::time::Timestamp;
use futures_util::TryStreamExt;
use mongodb::bson::{Bson, DateTime, Document, doc};
use mongodb::error::{Error as MongoError, ErrorKind};
use mongodb::options::{ClientOptions, IndexOptions, InsertManyOptions};
use mongodb::{Client, Collection, IndexModel};
use services::StoreError;
use services::activities::ActivityLog;

/// Where the log lives and how long it keeps activities.
#[derive(Clone, Debug)]
pub struct MongoSettings {
    /// `mongodb://host:port` (credentials are passed separately, never logged).
    pub uri: String,
    pub username: Option<String>,
    pub password: Option<String>,
    pub database: String,
    /// Activities older than this are removed by MongoDB (TTL index).
    pub retention_days: i64,
}

pub struct MongoActivityLog {
    activities: Collection<Document>,
    retention_days: i64,
    /// Whether the indexes exist. They are made after a successful write,
    /// not at start-up (the server starts while MongoDB is down, and
    /// activities wait), and set only once MongoDB answered for every index.
    indexed: AtomicBool,
}

const DUPLICATE_KEY: i32 = 11000;

fn unavailable(error: &MongoError) -> StoreError {
    StoreError::Unavailable(format!("MongoDB: {error}"))
}

impl MongoActivityLog {
    /// Prepares the client; does not connect (the driver connects lazily and
    /// reconnects by itself).
    pub async fn new(settings: &MongoSettings) -> Result<MongoActivityLog, StoreError> {
        let mut options = ClientOptions::parse(&settings.uri).await.map_err(|e| unavailable(&e))?;
        options.server_selection_timeout = Some(Duration::from_secs(5));
        options.connect_timeout = Some(Duration::from_secs(5));
        options.app_name = Some("openvle".into());
        if let Some(username) = &settings.username {
            options.credential = Some(
                mongodb::options::Credential::builder()
                    .username(username.clone())
                    .password(settings.password.clone())
                    .build(),
            );
        }
        let client = Client::with_options(options).map_err(|e| unavailable(&e))?;
        let activities = client.database(&settings.database).collection::<Document>("activities");
        Ok(MongoActivityLog { activities, retention_days: settings.retention_days, indexed: AtomicBool::new(false) })
    }

    pub async fn ping(&self) -> Result<(), StoreError> {
        self.activities
            .client()
            .database("admin")
            .run_command(doc! { "ping": 1 })
            .await
            .map_err(|e| unavailable(&e))?;
        Ok(())
    }

    /// Indexes for the Activities page's filters (newest first) and the TTL
    /// index on the time, which applies the retention setting (no compound
    /// index with `_id`: nx-27017 cannot index it). Created one by one; one the
    /// server refuses is logged and the others still made (indexes speed up
    /// reading, storing does not need them). Done once MongoDB answered for
    /// every index; when it could not be reached, the next write tries again.
    async fn ensure_indexes(&self) {
        if self.indexed.load(Ordering::Relaxed) {
            return;
        }
        let ttl = Duration::from_secs(u64::try_from(self.retention_days.max(1)).unwrap_or(1) * 24 * 3600);
        let models = [
            IndexModel::builder()
                .keys(doc! { "at": 1 })
                .options(IndexOptions::builder().expire_after(ttl).build())
                .build(),
            IndexModel::builder().keys(doc! { "at_ms": -1 }).build(),
            IndexModel::builder().keys(doc! { "actor_id": 1, "at_ms": -1 }).build(),
            IndexModel::builder().keys(doc! { "event_id": 1, "at_ms": -1 }).build(),
            IndexModel::builder().keys(doc! { "action": 1, "at_ms": -1 }).build(),
            IndexModel::builder().keys(doc! { "target_type": 1, "target_id": 1, "at_ms": -1 }).build(),
        ];
        let mut answered = true;
        for model in models {
            let keys = model.keys.clone();
            match self.activities.create_index(model).await {
                Ok(_) => {}
                // The server refused it: asking again would not change its mind.
                Err(e) if matches!(e.kind.as_ref(), ErrorKind::Command(_)) => {
                    tracing::warn!(?keys, error = %e, "MongoDB refused an activity index");
                }
                Err(e) => {
                    tracing::warn!(?keys, error = %e, "activity index not made yet; tried again at the next write");
                    answered = false;
                }
            }
        }
        if answered {
            self.indexed.store(true, Ordering::Relaxed);
        }
    }

    /// Stores one at a time, skipping ids already stored (after a partly
    /// failed batch).
    async fn store_each(&self, docs: Vec<Document>) -> Result<(), StoreError> {
        for document in docs {
            match self.activities.insert_one(document).await {
                Ok(_) => {}
                Err(e) if write_error_code(&e) == Some(DUPLICATE_KEY) => {}
                Err(e) => return Err(unavailable(&e)),
            }
        }
        Ok(())
    }
}

fn write_error_code(error: &MongoError) -> Option<i32> {
    match error.kind.as_ref() {
        ErrorKind::Write(mongodb::error::WriteFailure::WriteError(w)) => Some(w.code),
        _ => None,
    }
}

/// Whether a batch insert failed only because some ids were stored already.
fn only_duplicates(error: &MongoError) -> bool {
    match error.kind.as_ref() {
        ErrorKind::InsertMany(failure) => {
            failure.write_concern_error.is_none()
                && failure.write_errors.as_ref().is_some_and(|errors| errors.iter().all(|e| e.code == DUPLICATE_KEY))
        }
        _ => false,
    }
}

fn millis(at: Timestamp) -> DateTime {
    DateTime::from_millis(at.millis())
}

fn to_document(a: &Activity) -> Document {
    let details = mongodb::bson::to_bson(&a.details).unwrap_or_else(|_| Bson::Document(Document::new()));
    doc! {
        "_id": &a.id,
        "at": millis(a.at),
        "at_ms": a.at.millis(),
        "actor_kind": a.actor_kind.key(),
        "actor_id": a.actor_id,
        "actor_name": &a.actor_name,
        "action": &a.action,
        "target_type": &a.target.kind,
        "target_id": &a.target.id,
        "target_name": &a.target.name,
        // For case-insensitive search by a literal (indexable) expression.
        "target_name_lower": a.target.name.to_lowercase(),
        "event_id": a.event_id,
        "outcome": a.outcome.key(),
        "reason": a.reason.as_deref(),
        "request_id": a.request_id.as_deref(),
        "client_ip": a.client_ip.as_deref(),
        "details": details,
    }
}

/// An integer however the server encoded it (Int32, Int64 or a whole Double).
fn int(doc: &Document, key: &str) -> Option<i64> {
    match doc.get(key)? {
        Bson::Int32(v) => Some(i64::from(*v)),
        Bson::Int64(v) => Some(*v),
        Bson::Double(v) if v.fract() == 0.0 => Some(*v as i64),
        _ => None,
    }
}

fn text(doc: &Document, key: &str) -> Result<String, StoreError> {
    doc.get_str(key).map(str::to_string).map_err(|_| StoreError::Corrupt(format!("activity field {key}")))
}

fn optional_text(doc: &Document, key: &str) -> Option<String> {
    doc.get_str(key).ok().map(str::to_string)
}

fn from_document(doc: &Document) -> Result<Activity, StoreError> {
    let kind = text(doc, "actor_kind")?;
    let outcome = text(doc, "outcome")?;
    let at = match (int(doc, "at_ms"), doc.get("at")) {
        (Some(ms), _) => ms,
        (None, Some(Bson::DateTime(at))) => at.timestamp_millis(),
        _ => return Err(StoreError::Corrupt("activity time".into())),
    };
    let details = match doc.get("details") {
        Some(value) => value.clone().into_relaxed_extjson(),
        None => serde_json::json!({}),
    };
    Ok(Activity {
        id: text(doc, "_id")?,
        at: Timestamp(at),
        actor_kind: ActorKind::from_key(&kind).ok_or_else(|| StoreError::Corrupt(format!("actor kind {kind}")))?,
        actor_id: int(doc, "actor_id"),
        actor_name: text(doc, "actor_name")?,
        action: text(doc, "action")?,
        target: ActivityTarget {
            kind: text(doc, "target_type")?,
            id: text(doc, "target_id")?,
            name: text(doc, "target_name")?,
        },
        event_id: int(doc, "event_id"),
        outcome: Outcome::from_key(&outcome).ok_or_else(|| StoreError::Corrupt(format!("outcome {outcome}")))?,
        reason: optional_text(doc, "reason"),
        request_id: optional_text(doc, "request_id"),
        client_ip: optional_text(doc, "client_ip"),
        details,
    })
}

/// Escapes regex metacharacters so user input is matched literally.
fn literal(text: &str) -> String {
    text.chars().fold(String::new(), |mut out, c| {
        if "\\^$.|?*+()[]{}".contains(c) {
            out.push('\\');
        }
        out.push(c);
        out
    })
}

fn filter_document(scope: &ActivityScope, filter: &ActivityFilter, cursor: Option<&ActivityCursor>) -> Document {
    let mut all: Vec<Document> = Vec::new();
    if let ActivityScope::Own { user_id, instructed_events } = scope {
        // What they did, and what was done to their account (a mail to them failed, ...).
        let mut own =
            vec![doc! { "actor_id": user_id }, doc! { "target_type": "users", "target_id": user_id.to_string() }];
        if !instructed_events.is_empty() {
            own.push(doc! { "event_id": { "$in": instructed_events.clone() } });
        }
        all.push(doc! { "$or": own });
    }
    if let Some(actor_id) = filter.actor_id {
        all.push(doc! { "actor_id": actor_id });
    }
    if let Some(event_id) = filter.event_id {
        all.push(doc! { "event_id": event_id });
    }
    if let Some(action) = filter.action.as_deref().map(str::trim).filter(|a| !a.is_empty()) {
        if action.contains('.') {
            all.push(doc! { "action": action });
        } else {
            all.push(doc! { "action": { "$gte": format!("{action}."), "$lt": format!("{action}/") } });
        }
    }
    if let Some(outcome) = filter.outcome {
        all.push(doc! { "outcome": outcome.key() });
    }
    if let Some(from) = filter.from {
        all.push(doc! { "at_ms": { "$gte": from.millis() } });
    }
    if let Some(until) = filter.until {
        all.push(doc! { "at_ms": { "$lt": until.millis() } });
    }
    if let Some(kind) = &filter.target_kind {
        all.push(doc! { "target_type": kind });
    }
    if let Some(id) = &filter.target_id {
        all.push(doc! { "target_id": id });
    }
    if let Some(text) = filter.text.as_deref() {
        for word in search_words(text) {
            // A word-start match (at the start, or after a character that is
            // not a letter or digit), as the SQL full-text indexes find words;
            // short words anywhere. A regex, not a `$text` index: `$text` finds
            // whole (stemmed) words only, never prefixes, and nx-27017 runs it in Python.
            let pattern = if word.chars().count() >= WORD_PREFIX_MIN {
                format!("(^|[\\W_]){}", literal(&word))
            } else {
                literal(&word)
            };
            all.push(doc! { "target_name_lower": { "$regex": pattern } });
        }
    }
    if let Some(cursor) = cursor {
        let at = cursor.at.millis();
        all.push(doc! { "$or": [ { "at_ms": { "$lt": at } }, { "at_ms": at, "_id": { "$lt": &cursor.id } } ] });
    }
    if all.is_empty() {
        Document::new()
    } else {
        doc! { "$and": all }
    }
}

#[async_trait]
impl ActivityLog for MongoActivityLog {
    async fn store(&self, batch: &[Activity]) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        let docs: Vec<Document> = batch.iter().map(to_document).collect();
        let unordered = InsertManyOptions::builder().ordered(false).build();
        match self.activities.insert_many(docs.clone()).with_options(unordered).await {
            Ok(_) => {}
            Err(e) if only_duplicates(&e) => {}
            // Some servers report a partly duplicate batch differently: store one by one.
            Err(e) if matches!(e.kind.as_ref(), ErrorKind::InsertMany(_) | ErrorKind::Write(_)) => {
                self.store_each(docs).await?
            }
            Err(e) => return Err(unavailable(&e)),
        }
        // After the write, so an attempt while MongoDB is down waits for one
        // timeout, not for one per index as well.
        self.ensure_indexes().await;
        Ok(())
    }

    async fn query(
        &self,
        scope: &ActivityScope,
        filter: &ActivityFilter,
        cursor: Option<&ActivityCursor>,
        limit: u32,
    ) -> Result<Vec<Activity>, StoreError> {
        let found: Vec<Document> = self
            .activities
            .find(filter_document(scope, filter, cursor))
            .sort(doc! { "at_ms": -1, "_id": -1 })
            .limit(i64::from(limit))
            .await
            .map_err(|e| unavailable(&e))?
            .try_collect()
            .await
            .map_err(|e| unavailable(&e))?;
        found.iter().map(from_document).collect()
    }

    async fn purge_before(&self, before: Timestamp) -> Result<u64, StoreError> {
        // The TTL index does this too; deleting here applies a shortened
        // retention at once (the TTL index keeps the period it was created with).
        let result = self
            .activities
            .delete_many(doc! { "at_ms": { "$lt": before.millis() } })
            .await
            .map_err(|e| unavailable(&e))?;
        Ok(result.deleted_count)
    }

    fn kind(&self) -> &'static str {
        "mongodb"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_read_whatever_their_width() {
        let d = doc! { "a": 7_i32, "b": 7_i64, "c": 7.0, "d": "7" };
        assert_eq!((int(&d, "a"), int(&d, "b"), int(&d, "c"), int(&d, "d")), (Some(7), Some(7), Some(7), None));
    }

    #[test]
    fn search_text_is_matched_literally() {
        assert_eq!(literal("a.b*(c)"), "a\\.b\\*\\(c\\)");
    }
}
