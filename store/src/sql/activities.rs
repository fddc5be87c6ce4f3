//! The activity outbox and the SQL activity log. Both tables have the same
//! columns, so one row mapper and one insert serve both.

use async_trait::async_trait;
use domain::activity::{
    Activity, ActivityCursor, ActivityFilter, ActivityScope, ActivityTarget, ActorKind, Outcome, WORD_PREFIX_MIN,
    name_matches, search_words,
};
use domain::time::Timestamp;
use services::StoreError;
use services::activities::{ActivityLog, ActivityOutbox, Backlog};
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use super::{SqlStore, Tx, corrupt, like_pattern, store_error};
use crate::Dialect;

const COLUMNS: &str = "id, at, actor_kind, actor_id, actor_name, action, target_type, target_id, target_name, \
                       event_id, outcome, reason, request_id, client_ip, details";

#[derive(Copy, Clone)]
enum Table {
    Outbox,
    Log,
}

impl Table {
    fn name(self) -> &'static str {
        match self {
            Table::Outbox => "activity_outbox",
            Table::Log => "activities",
        }
    }
}

async fn insert(conn: &mut sqlx::AnyConnection, table: Table, a: &Activity) -> Result<(), StoreError> {
    let sql = format!("INSERT INTO {} ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", table.name());
    sqlx::query(AssertSqlSafe(sql))
        .bind(a.id.clone())
        .bind(a.at.millis())
        .bind(a.actor_kind.key())
        .bind(a.actor_id)
        .bind(a.actor_name.clone())
        .bind(a.action.clone())
        .bind(a.target.kind.clone())
        .bind(a.target.id.clone())
        .bind(a.target.name.clone())
        .bind(a.event_id)
        .bind(a.outcome.key())
        .bind(a.reason.clone())
        .bind(a.request_id.clone())
        .bind(a.client_ip.clone())
        .bind(a.details.to_string())
        .execute(conn)
        .await
        .map_err(store_error)?;
    Ok(())
}

/// Appends `activity` to the outbox inside the caller's transaction, so it
/// commits with the change it describes. `created`: the id of the row the
/// transaction just created, for an activity whose target id is still empty.
pub(crate) async fn append(
    tx: &mut sqlx::AnyConnection,
    activity: Option<&Activity>,
    created: Option<i64>,
) -> Result<(), StoreError> {
    let Some(activity) = activity else {
        return Ok(());
    };
    match created {
        Some(id) if activity.target.id.is_empty() => {
            let target = ActivityTarget { id: id.to_string(), ..activity.target.clone() };
            // A new event's first activity belongs to its own timeline.
            let event_id = activity.event_id.or((target.kind == "events").then_some(id));
            insert(tx, Table::Outbox, &Activity { target, event_id, ..activity.clone() }).await
        }
        _ => insert(tx, Table::Outbox, activity).await,
    }
}

fn from_row(row: &AnyRow) -> Result<Activity, StoreError> {
    let text = |c: &str| row.try_get::<String, _>(c).map_err(store_error);
    let maybe = |c: &str| row.try_get::<Option<String>, _>(c).map_err(store_error);
    let kind = text("actor_kind")?;
    let outcome = text("outcome")?;
    let details = text("details")?;
    Ok(Activity {
        id: text("id")?,
        at: Timestamp(row.try_get("at").map_err(store_error)?),
        actor_kind: ActorKind::from_key(&kind).ok_or_else(|| corrupt("actor kind", &kind))?,
        actor_id: row.try_get("actor_id").map_err(store_error)?,
        actor_name: text("actor_name")?,
        action: text("action")?,
        target: ActivityTarget { kind: text("target_type")?, id: text("target_id")?, name: text("target_name")? },
        event_id: row.try_get("event_id").map_err(store_error)?,
        outcome: Outcome::from_key(&outcome).ok_or_else(|| corrupt("outcome", &outcome))?,
        reason: maybe("reason")?,
        request_id: maybe("request_id")?,
        client_ip: maybe("client_ip")?,
        details: serde_json::from_str(&details).map_err(|_| corrupt("details", &details))?,
    })
}

/// A value bound to a query built from fixed fragments.
#[derive(Clone)]
enum Bind {
    Int(i64),
    Text(String),
}

/// The rows a reader who may not see everything sees, as alternatives: what
/// they did, what was done to their account (a mail to them failed, ...), and
/// each event they teach. Each alternative walks its own index newest first;
/// an OR of them made SQLite list and sort every row they match, or walk the
/// action index instead (55 ms for an instructor's `vm` area at 1M rows).
fn scope_branches(scope: &ActivityScope) -> Option<Vec<(String, Vec<Bind>)>> {
    let ActivityScope::Own { user_id, instructed_events } = scope else {
        return None;
    };
    let mut branches = vec![
        ("actor_id = ?".to_string(), vec![Bind::Int(*user_id)]),
        ("target_type = 'users' AND target_id = ?".to_string(), vec![Bind::Text(user_id.to_string())]),
    ];
    if instructed_events.len() <= EVENT_BRANCHES_MAX {
        branches.extend(instructed_events.iter().map(|e| ("event_id = ?".to_string(), vec![Bind::Int(*e)])));
    } else {
        let marks = vec!["?"; instructed_events.len()].join(", ");
        branches.push((format!("event_id IN ({marks})"), instructed_events.iter().map(|e| Bind::Int(*e)).collect()));
    }
    Some(branches)
}

/// More events than this share one alternative (SQLite allows 500 SELECTs in a UNION).
const EVENT_BRANCHES_MAX: usize = 64;

/// The conditions of a listing besides the reader's scope: only fixed
/// fragments, every value bound.
fn conditions(
    filter: &ActivityFilter,
    text: &TextCondition,
    cursor: Option<&ActivityCursor>,
) -> (Vec<String>, Vec<Bind>) {
    let mut parts: Vec<String> = Vec::new();
    let mut binds = Vec::new();
    if let Some(actor_id) = filter.actor_id {
        parts.push("actor_id = ?".into());
        binds.push(Bind::Int(actor_id));
    }
    if let Some(event_id) = filter.event_id {
        parts.push("event_id = ?".into());
        binds.push(Bind::Int(event_id));
    }
    if let Some(action) = filter.action.as_deref().map(str::trim).filter(|a| !a.is_empty()) {
        if action.contains('.') {
            parts.push("action = ?".into());
            binds.push(Bind::Text(action.to_string()));
        } else {
            // An area: `vm` matches every `vm.*` (a range, so the index serves it).
            parts.push("action >= ? AND action < ?".into());
            binds.push(Bind::Text(format!("{action}.")));
            binds.push(Bind::Text(format!("{action}/")));
        }
    }
    if let Some(outcome) = filter.outcome {
        parts.push("outcome = ?".into());
        binds.push(Bind::Text(outcome.key().into()));
    }
    if let Some(from) = filter.from {
        parts.push("at >= ?".into());
        binds.push(Bind::Int(from.millis()));
    }
    if let Some(until) = filter.until {
        parts.push("at < ?".into());
        binds.push(Bind::Int(until.millis()));
    }
    if let Some(kind) = &filter.target_kind {
        parts.push("target_type = ?".into());
        binds.push(Bind::Text(kind.clone()));
    }
    if let Some(id) = &filter.target_id {
        parts.push("target_id = ?".into());
        binds.push(Bind::Text(id.clone()));
    }
    match text {
        TextCondition::None => {}
        TextCondition::FullText(words) => {
            let (prefixes, short): (Vec<&String>, Vec<&String>) =
                words.iter().partition(|w| w.chars().count() >= WORD_PREFIX_MIN);
            if !prefixes.is_empty() {
                // Words are letters and digits only: nothing in them is query syntax.
                parts.push("MATCH(target_name) AGAINST (? IN BOOLEAN MODE)".into());
                let query: Vec<String> = prefixes.iter().map(|w| format!("+{w}*")).collect();
                binds.push(Bind::Text(query.join(" ")));
            }
            for word in short {
                parts.push("LOWER(target_name) LIKE ? ESCAPE '!'".into());
                binds.push(Bind::Text(like_pattern(word)));
            }
        }
        TextCondition::Candidates { prefix, words } => {
            if let Some(prefix) = prefix {
                parts.push("rowid IN (SELECT rowid FROM activities_fts WHERE activities_fts MATCH ?)".into());
                binds.push(Bind::Text(fts_prefix_query(prefix)));
            }
            // LIKE folds ASCII letters only: a superset of the rule for ASCII
            // words, so only those narrow the rows here.
            for word in words.iter().filter(|w| w.is_ascii()) {
                parts.push("target_name LIKE ? ESCAPE '!'".into());
                binds.push(Bind::Text(like_pattern(word)));
            }
        }
    }
    if let Some(cursor) = cursor {
        parts.push("(at < ? OR (at = ? AND id < ?))".into());
        binds.extend([Bind::Int(cursor.at.millis()), Bind::Int(cursor.at.millis()), Bind::Text(cursor.id.clone())]);
    }
    (parts, binds)
}

fn where_clause(parts: &[String]) -> String {
    if parts.is_empty() { String::new() } else { format!(" WHERE {}", parts.join(" AND ")) }
}

impl SqlStore {
    /// Up to `limit` activities, newest first, that meet every condition.
    async fn activity_page(
        &self,
        scope: &ActivityScope,
        filter: &ActivityFilter,
        text: &TextCondition<'_>,
        cursor: Option<&ActivityCursor>,
        limit: u32,
    ) -> Result<Vec<Activity>, StoreError> {
        const NEWEST_FIRST: &str = "ORDER BY at DESC, id DESC LIMIT ?";
        let (parts, binds) = conditions(filter, text, cursor);
        let (sql, binds) = match scope_branches(scope) {
            None => (format!("SELECT {COLUMNS} FROM activities{} {NEWEST_FIRST}", where_clause(&parts)), binds),
            Some(branches) => {
                // Each alternative's newest `limit`, merged: a row in two of them is one row.
                let mut selects = Vec::with_capacity(branches.len());
                let mut all = Vec::new();
                for (i, (condition, branch_binds)) in branches.into_iter().enumerate() {
                    let branch_parts: Vec<String> = std::iter::once(condition).chain(parts.iter().cloned()).collect();
                    let clause = where_clause(&branch_parts);
                    selects.push(format!(
                        "SELECT * FROM (SELECT {COLUMNS} FROM activities{clause} {NEWEST_FIRST}) AS branch{i}"
                    ));
                    all.extend(branch_binds);
                    all.extend(binds.iter().cloned());
                    all.push(Bind::Int(i64::from(limit)));
                }
                (format!("{} {NEWEST_FIRST}", selects.join(" UNION ")), all)
            }
        };
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for bind in binds {
            query = match bind {
                Bind::Int(v) => query.bind(v),
                Bind::Text(v) => query.bind(v),
            };
        }
        let rows = query.bind(i64::from(limit)).fetch_all(&self.pool).await.map_err(store_error)?;
        rows.iter().map(from_row).collect()
    }

    /// A search on SQLite. FTS5 lists a rare word's rows at once, but for a
    /// word in most names it would list (and the query sort) most of the
    /// table; walking the newest rows and checking each finds a page sooner
    /// then. The rarest word's count, read up to [`CANDIDATES_MAX`] from its
    /// prefix index, decides. Rows are read in chunks and checked with
    /// [`name_matches`] until `limit` match.
    async fn search_sqlite(
        &self,
        scope: &ActivityScope,
        filter: &ActivityFilter,
        words: &[String],
        cursor: Option<&ActivityCursor>,
        limit: u32,
    ) -> Result<Vec<Activity>, StoreError> {
        let mut rarest: Option<(&str, i64)> = None;
        for word in words.iter().filter(|w| w.chars().count() >= WORD_PREFIX_MIN) {
            let prefix = indexed_prefix(word);
            let rows: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM (SELECT rowid FROM activities_fts WHERE activities_fts MATCH ? LIMIT ?)",
            )
            .bind(fts_prefix_query(prefix))
            .bind(CANDIDATES_MAX + 1)
            .fetch_one(&self.pool)
            .await
            .map_err(store_error)?;
            if rows <= CANDIDATES_MAX && rarest.is_none_or(|(_, fewest)| rows < fewest) {
                rarest = Some((prefix, rows));
            }
        }
        let text = TextCondition::Candidates { prefix: rarest.map(|(prefix, _)| prefix), words };
        let mut found = Vec::new();
        let mut after = cursor.cloned();
        loop {
            let chunk = self.activity_page(scope, filter, &text, after.as_ref(), SCAN_CHUNK).await?;
            let last_chunk = chunk.len() < SCAN_CHUNK as usize;
            if let Some(last) = chunk.last() {
                after = Some(ActivityCursor { at: last.at, id: last.id.clone() });
            }
            for activity in chunk {
                if name_matches(&activity.target.name, words) {
                    found.push(activity);
                    if found.len() >= limit as usize {
                        return Ok(found);
                    }
                }
            }
            if last_chunk {
                return Ok(found);
            }
        }
    }
}

/// How a listing's search words reach SQL.
enum TextCondition<'a> {
    None,
    /// MariaDB: its FULLTEXT index (words of three or more characters) and
    /// LIKE (shorter ones, under its case-insensitive collation) decide.
    FullText(&'a [String]),
    /// SQLite: rows that may match, which the store then checks. `prefix`:
    /// the FTS5 rows of the rarest word's indexed prefix, if it is rare.
    Candidates {
        prefix: Option<&'a str>,
        words: &'a [String],
    },
}

/// A word with at most this many rows lists the candidates of a SQLite search.
const CANDIDATES_MAX: i64 = 5_000;
/// The longest prefix length with an FTS5 index of its own (migration 0017).
const PREFIX_INDEXED: usize = 6;
/// Rows read per round of a SQLite search.
const SCAN_CHUNK: u32 = 500;

/// Every word of the index that starts with `prefix` (letters and digits only:
/// nothing in it is query syntax).
fn fts_prefix_query(prefix: &str) -> String {
    format!("\"{prefix}\"*")
}

/// The part of `word` a prefix index answers directly.
fn indexed_prefix(word: &str) -> &str {
    word.char_indices().nth(PREFIX_INDEXED).map_or(word, |(end, _)| &word[..end])
}

#[async_trait]
impl ActivityOutbox for SqlStore {
    async fn append(&self, activity: &Activity) -> Result<(), StoreError> {
        let mut conn = self.pool.acquire().await.map_err(store_error)?;
        insert(&mut conn, Table::Outbox, activity).await
    }

    async fn oldest(&self, limit: u32) -> Result<Vec<(i64, Activity)>, StoreError> {
        let sql = format!("SELECT position, {COLUMNS} FROM activity_outbox ORDER BY position LIMIT ?");
        let rows =
            sqlx::query(AssertSqlSafe(sql)).bind(i64::from(limit)).fetch_all(&self.pool).await.map_err(store_error)?;
        rows.iter().map(|row| Ok((row.try_get("position").map_err(store_error)?, from_row(row)?))).collect()
    }

    async fn remove(&self, positions: &[i64]) -> Result<(), StoreError> {
        for chunk in positions.chunks(500) {
            let sql = format!("DELETE FROM activity_outbox WHERE position IN ({})", vec!["?"; chunk.len()].join(", "));
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for position in chunk {
                query = query.bind(*position);
            }
            query.execute(&self.pool).await.map_err(store_error)?;
        }
        Ok(())
    }

    async fn backlog(&self) -> Result<Backlog, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) AS waiting, MIN(at) AS oldest FROM activity_outbox")
            .fetch_one(&self.pool)
            .await
            .map_err(store_error)?;
        let waiting: i64 = row.try_get("waiting").map_err(store_error)?;
        let oldest: Option<i64> = row.try_get("oldest").map_err(store_error)?;
        Ok(Backlog { waiting: u64::try_from(waiting).unwrap_or(0), oldest: oldest.map(Timestamp) })
    }
}

#[async_trait]
impl ActivityLog for SqlStore {
    async fn store(&self, batch: &[Activity]) -> Result<(), StoreError> {
        let mut tx = Tx::begin(&self.pool).await?;
        for activity in batch {
            match insert(tx.conn()?, Table::Log, activity).await {
                // Forwarded before (the outbox was not emptied after storing): stored once.
                Ok(()) | Err(StoreError::Duplicate(_)) => {}
                Err(e) => return Err(e),
            }
        }
        tx.commit().await
    }

    async fn query(
        &self,
        scope: &ActivityScope,
        filter: &ActivityFilter,
        cursor: Option<&ActivityCursor>,
        limit: u32,
    ) -> Result<Vec<Activity>, StoreError> {
        let words = filter.text.as_deref().map(search_words).unwrap_or_default();
        if words.is_empty() {
            return self.activity_page(scope, filter, &TextCondition::None, cursor, limit).await;
        }
        match self.dialect {
            Dialect::MariaDb => {
                self.activity_page(scope, filter, &TextCondition::FullText(&words), cursor, limit).await
            }
            Dialect::Sqlite => self.search_sqlite(scope, filter, &words, cursor, limit).await,
        }
    }

    async fn purge_before(&self, before: Timestamp) -> Result<u64, StoreError> {
        let result = sqlx::query("DELETE FROM activities WHERE at < ?")
            .bind(before.millis())
            .execute(&self.pool)
            .await
            .map_err(store_error)?;
        Ok(result.rows_affected())
    }

    fn kind(&self) -> &'static str {
        "sql"
    }
}
