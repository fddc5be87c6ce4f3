//! Recording and reading activities (the audit log).
//!
//! **How an activity is recorded.** Every state change writes exactly one
//! activity, and it must never be lost. A change kept in SQL hands its
//! activity to the repository method that makes the change (the last
//! argument, `Option<&Activity>`): the SQL adapter appends it to the
//! `activity_outbox` table *in the same transaction* as the change, so both
//! commit or neither does. When one use case makes several writes, the
//! activity rides on one of them and the others pass `None` ("part of a change
//! recorded by another write"). Changes that are not SQL writes (sessions in
//! Redis, a refused sign-in) append their activity to the outbox on its own
//! ([`Services::record`]).
//!
//! **Where it ends up.** [`Services::forward_activities`] moves activities
//! from the outbox to the configured [`ActivityLog`] (MongoDB when `MONGODB_*`
//! is set, else the SQL `activities` table), oldest first, and deletes them
//! from the outbox only after the log stored them. The log ignores an id it
//! has already stored, so a forwarding interrupted between storing and
//! deleting is repeated without duplicates. While the log is unreachable the
//! activities wait in the outbox (the admin Health page shows how many) and
//! flow once it is back, still in order. One forwarder runs at a time
//! (a lease), which keeps the order per target.

use std::future::Future;
use std::time::Duration;

use async_trait::async_trait;
use domain::access::ObjectType;
use domain::activity::{
    ACTIVITY_PAGE_SIZE, Activity, ActivityCursor, ActivityFilter, ActivityPage, ActivityScope, ActivityTarget,
    ActorKind, Outcome,
};
use domain::time::Timestamp;
use domain::{Action, Actor, AppError, Target, can};

use crate::ports::StoreError;
use crate::{Services, authorize};

/// Activities waiting to be forwarded. Written by the SQL repositories in the
/// transaction of each change; read and emptied by the forwarder.
#[async_trait]
pub trait ActivityOutbox: Send + Sync {
    /// Appends one activity on its own, for changes that are not SQL writes.
    async fn append(&self, activity: &Activity) -> Result<(), StoreError>;
    /// The oldest waiting activities, in the order they were written, with
    /// their position in the outbox.
    async fn oldest(&self, limit: u32) -> Result<Vec<(i64, Activity)>, StoreError>;
    /// Removes forwarded activities (by position).
    async fn remove(&self, positions: &[i64]) -> Result<(), StoreError>;
    async fn backlog(&self) -> Result<Backlog, StoreError>;
}

/// Where activities are kept and searched: MongoDB or the SQL `activities` table.
#[async_trait]
pub trait ActivityLog: Send + Sync {
    /// Stores the activities; an id already stored is skipped (exactly once).
    async fn store(&self, batch: &[Activity]) -> Result<(), StoreError>;
    /// Newest first, strictly after `cursor`, at most `limit`.
    async fn query(
        &self,
        scope: &ActivityScope,
        filter: &ActivityFilter,
        cursor: Option<&ActivityCursor>,
        limit: u32,
    ) -> Result<Vec<Activity>, StoreError>;
    /// Deletes activities older than `before` (retention). MongoDB does this
    /// itself with a TTL index and answers 0.
    async fn purge_before(&self, before: Timestamp) -> Result<u64, StoreError>;
    /// `mongodb` or `sql`, for the Health page.
    fn kind(&self) -> &'static str;
}

pub use domain::activity::{ActivityHealth, Backlog};

pub const FORWARDER_LEASE: &str = "activity-forwarder";
const FORWARD_BATCH: u32 = 500;
const MAX_BATCHES_PER_ROUND: usize = 100;

tokio::task_local! {
    /// The request a job runs for (set by the worker around each task), so
    /// the activities the job records carry that request's id.
    static JOB_REQUEST: Option<String>;
}

/// Runs `work` (a job) on behalf of the request `request_id`.
pub async fn for_request<F: Future>(request_id: Option<String>, work: F) -> F::Output {
    JOB_REQUEST.scope(request_id, work).await
}

/// The id of the request the running job was queued by, if any.
pub fn job_request_id() -> Option<String> {
    JOB_REQUEST.try_with(Clone::clone).ok().flatten()
}

/// `work` with the current job's request id and log span, for work a job
/// spawns onto other tasks (which would otherwise lose both).
pub fn within_job<F: Future>(work: F) -> impl Future<Output = F::Output> {
    tracing::Instrument::instrument(for_request(job_request_id(), work), tracing::Span::current())
}

/// A fresh activity id: 128 random bits as hex.
pub fn new_activity_id() -> String {
    hex::encode(rand::random::<[u8; 16]>())
}

impl Services {
    /// An activity by `actor`, successful, with the request's origin.
    pub fn activity(&self, actor: &Actor, action: &str, target: ActivityTarget) -> Activity {
        Activity {
            id: new_activity_id(),
            at: self.clock.now(),
            actor_kind: ActorKind::User,
            actor_id: Some(actor.user_id),
            actor_name: actor.username.clone(),
            action: action.to_string(),
            target,
            event_id: None,
            outcome: Outcome::Ok,
            reason: None,
            request_id: actor.origin.request_id.clone(),
            client_ip: actor.origin.client_ip.clone(),
            details: serde_json::json!({}),
        }
    }

    /// An activity of the product itself (`System`) or of periodic work
    /// (`Scheduler`); inside a job, with the id of the request that queued it.
    pub fn system_activity(&self, kind: ActorKind, action: &str, target: ActivityTarget) -> Activity {
        Activity {
            id: new_activity_id(),
            at: self.clock.now(),
            actor_kind: kind,
            actor_id: None,
            actor_name: kind.key().to_string(),
            action: action.to_string(),
            target,
            event_id: None,
            outcome: Outcome::Ok,
            reason: None,
            request_id: job_request_id(),
            client_ip: None,
            details: serde_json::json!({}),
        }
    }

    /// Appends an activity on its own: for changes that are not SQL writes.
    pub async fn record(&self, activity: &Activity) -> Result<(), AppError> {
        Ok(self.ports.outbox.append(activity).await?)
    }

    /// An activity by `actor` in event `event_id` (shown to the event's instructors).
    pub(crate) fn event_activity(
        &self,
        actor: &Actor,
        action: &str,
        target: ActivityTarget,
        event_id: i64,
    ) -> Activity {
        Activity { event_id: Some(event_id), ..self.activity(actor, action, target) }
    }

    /// Who may see what: administrators everything; others their own
    /// activities and those of the events they instruct (as instructor of
    /// the event, whatever their global role).
    async fn activity_scope(&self, actor: &Actor) -> Result<ActivityScope, AppError> {
        if can(actor, Action::Read, Target::All(ObjectType::Activity)) {
            return Ok(ActivityScope::All);
        }
        let instructed_events = self.ports.events.instructed_by(actor.user_id).await?;
        Ok(ActivityScope::Own { user_id: actor.user_id, instructed_events })
    }

    /// One page of the Activities list, newest first. Anyone signed in may
    /// call it: the scope, from the actor's permissions, limits what they see. `cursor` is the `next`
    /// of the previous page; a malformed one starts from the top.
    pub async fn list_activities(
        &self,
        actor: &Actor,
        filter: &ActivityFilter,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> Result<ActivityPage, AppError> {
        let scope = self.activity_scope(actor).await?;
        let mut filter = filter.clone();
        if let Some(username) = filter.username.take().map(|u| u.trim().to_lowercase()).filter(|u| !u.is_empty()) {
            // Someone unknown has done nothing: an id no account has.
            filter.actor_id = Some(self.ports.users.by_username(&username).await?.map_or(-1, |u| u.id));
        }
        let filter = &filter;
        // A search of punctuation only has no word to find.
        if filter.text.as_deref().is_some_and(|t| !t.trim().is_empty() && domain::activity::search_words(t).is_empty())
        {
            return Ok(ActivityPage { items: Vec::new(), next: None });
        }
        let cursor = cursor.and_then(ActivityCursor::decode);
        let limit = limit.unwrap_or(ACTIVITY_PAGE_SIZE).clamp(1, 1000);
        let mut items = self.ports.activity_log.query(&scope, filter, cursor.as_ref(), limit + 1).await?;
        let next = if items.len() > limit as usize {
            items.truncate(limit as usize);
            items.last().map(|last| ActivityCursor { at: last.at, id: last.id.clone() }.encode())
        } else {
            None
        };
        Ok(ActivityPage { items, next })
    }

    /// The activity store and the outbox backlog, for administrators (shown
    /// on the Activities page, and in `/readyz`).
    pub async fn activity_health(&self, actor: &Actor) -> Result<ActivityHealth, AppError> {
        authorize(actor, Action::Read, Target::All(ObjectType::Activity))?;
        let backlog = self.ports.outbox.backlog().await?;
        Ok(ActivityHealth { store: self.ports.activity_log.kind().to_string(), backlog })
    }

    /// Moves waiting activities from the outbox to the activity log, oldest
    /// first, until the outbox is empty (at most 50,000 per call). Returns how
    /// many were forwarded.
    /// Stops at the first failure: what is left waits for the next round.
    /// `holder` names this process for the forwarder lease.
    pub async fn forward_activities(&self, holder: &str) -> Result<u64, StoreError> {
        let leases = &self.ports.leases;
        if leases.acquire(FORWARDER_LEASE, holder, Duration::from_secs(60)).await?.is_none() {
            return Ok(0);
        }
        let result = self.forward_all().await;
        if let Err(e) = leases.release(FORWARDER_LEASE, holder).await {
            tracing::warn!(error = %e, "could not release the activity forwarder lease");
        }
        result
    }

    async fn forward_all(&self) -> Result<u64, StoreError> {
        let mut forwarded = 0u64;
        // Bounded, so one round ends well within the lease; the rest goes next round.
        for _ in 0..MAX_BATCHES_PER_ROUND {
            let batch = self.ports.outbox.oldest(FORWARD_BATCH).await?;
            if batch.is_empty() {
                return Ok(forwarded);
            }
            let (positions, activities): (Vec<i64>, Vec<Activity>) = batch.into_iter().unzip();
            self.ports.activity_log.store(&activities).await?;
            self.ports.outbox.remove(&positions).await?;
            forwarded += activities.len() as u64;
            if activities.len() < FORWARD_BATCH as usize {
                break;
            }
        }
        Ok(forwarded)
    }

    /// Forwards waiting activities every `interval` until `shutdown` turns
    /// true. Every background process runs one; the lease lets one work at a time.
    pub async fn run_activity_forwarder(
        self,
        holder: String,
        interval: Duration,
        mut shutdown: tokio::sync::watch::Receiver<bool>,
    ) {
        let mut failing = false;
        loop {
            match self.forward_activities(&holder).await {
                Ok(forwarded) => {
                    if failing {
                        tracing::info!(forwarded, "activity log reachable again; waiting activities forwarded");
                    }
                    failing = false;
                    self.forwarding.set(None);
                }
                Err(e) => {
                    // Said once per outage, not at every round.
                    if !failing {
                        tracing::warn!(error = %e, "activity log unavailable; activities wait in the outbox");
                    }
                    failing = true;
                    self.forwarding.set(Some(e.to_string()));
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(interval) => {}
                _ = shutdown.changed() => break,
            }
        }
    }

    /// Retention: deletes activities older than the `activities.retention_days` setting.
    pub async fn purge_old_activities(&self) -> Result<u64, AppError> {
        let days = self.activity_retention_days().await?;
        let before = self.clock.now().minus_millis(days * 24 * 3600 * 1000);
        Ok(self.ports.activity_log.purge_before(before).await?)
    }

    pub async fn activity_retention_days(&self) -> Result<i64, AppError> {
        Ok(self
            .ports
            .settings
            .get(domain::settings::ACTIVITY_RETENTION_DAYS)
            .await?
            .and_then(|s| s.value.parse::<i64>().ok())
            .filter(|d| *d > 0)
            .unwrap_or(365))
    }
}
