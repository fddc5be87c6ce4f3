//! The audit log: the Activities page and the activity log's health.

use domain::activity::ActivityPage;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::ApiResult;

/// The Activities page's filters as they travel in its URL (and in the CSV
/// export's): every field optional, dates as `YYYY-MM-DD` (UTC).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ActivityQuery {
    pub user: Option<String>,
    pub event: Option<i64>,
    pub action: Option<String>,
    pub outcome: Option<String>,
    pub from: Option<String>,
    pub until: Option<String>,
    pub q: Option<String>,
}

impl ActivityQuery {
    /// The filter, or what is wrong with the query: an unknown outcome or a
    /// date that is not `YYYY-MM-DD` is refused, not silently ignored (the
    /// list would look filtered when it is not).
    pub fn filter(&self) -> Result<domain::activity::ActivityFilter, domain::AppError> {
        use domain::AppError;
        use domain::activity::{ActivityFilter, Outcome, parse_day};
        use domain::error::Problem;
        let text = |v: &Option<String>| v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_string);
        let day = |field: &str, value: &Option<String>| match text(value) {
            None => Ok(None),
            Some(raw) => parse_day(&raw)
                .map(Some)
                .ok_or_else(|| AppError::invalid(field, Problem::Format { expected: "YYYY-MM-DD".into() })),
        };
        let outcome = match text(&self.outcome) {
            None => None,
            Some(key) => Some(Outcome::from_key(&key).ok_or_else(|| AppError::invalid("outcome", Problem::Unknown))?),
        };
        let (from, until) = (day("from", &self.from)?, day("until", &self.until)?);
        // Swapped days would list nothing and look like an empty log.
        if let (Some(from), Some(until)) = (from, until)
            && until < from
        {
            return Err(AppError::invalid("until", Problem::Format { expected: "not_before_from".into() }));
        }
        Ok(ActivityFilter {
            username: text(&self.user),
            event_id: self.event,
            action: text(&self.action),
            outcome,
            from,
            // The whole `until` day is included.
            until: until.map(|day| day.plus_secs(24 * 3600)),
            text: text(&self.q),
            ..ActivityFilter::default()
        })
    }

    /// The query string (without `?`), for links that keep the filters.
    pub fn to_query_string(&self) -> String {
        let mut pairs = Vec::new();
        let mut push = |key: &str, value: Option<String>| {
            if let Some(v) = value.filter(|v| !v.is_empty()) {
                pairs.push(format!("{key}={}", crate::url_encode(&v)));
            }
        };
        push("user", self.user.clone());
        push("event", self.event.map(|e| e.to_string()));
        push("action", self.action.clone());
        push("outcome", self.outcome.clone());
        push("from", self.from.clone());
        push("until", self.until.clone());
        push("q", self.q.clone());
        pairs.join("&")
    }
}

/// Everyone signed in: administrators see every activity, others their own
/// and those of the events they instruct. `limit`: the page size (the
/// Activities page's by default; timelines on other pages ask for fewer).
#[server]
#[allow(clippy::too_many_arguments)] // one per filter, as in the page's URL
pub async fn list_activities(
    user: Option<String>,
    event: Option<i64>,
    action: Option<String>,
    outcome: Option<String>,
    from: Option<String>,
    until: Option<String>,
    q: Option<String>,
    cursor: Option<String>,
    #[server(default)] limit: Option<u32>,
) -> ApiResult<ActivityPage> {
    use super::context;
    let actor = context::actor().await?;
    let query = ActivityQuery { user, event, action, outcome, from, until, q };
    let state = context::state()?;
    Ok(state.services.list_activities(&actor, &query.filter()?, cursor.as_deref(), limit).await?)
}

/// Administrators: where activities are kept and how many wait in the outbox.
#[server]
pub async fn activity_health() -> ApiResult<domain::activity::ActivityHealth> {
    use super::context;
    let actor = context::actor().await?;
    Ok(context::state()?.services.activity_health(&actor).await?)
}
