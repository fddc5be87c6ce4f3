//! The home page: each role's overview (administrators: cluster capacity,
//! running VMs, today's events, failed jobs; instructors: their events'
//! readiness; participants: their next event), system-wide notifications
//! shown as a banner while active, and the administrators' quick links.
//! Notifications and quick links are edited under the Setting permission
//! (administrators); everyone signed in reads the active ones.

use async_trait::async_trait;
use domain::access::ObjectType;
use domain::activity::{Activity, ActivityTarget};
use domain::classroom::{EventRole, EventStatus, VmState};
use domain::dashboard::{
    AdminOverview, DashboardView, EventReadiness, NotificationFields, NotificationView, QuickLinkView, link_url,
};
use domain::error::Problem;
use domain::page::PageRequest;
use domain::task::TaskStatus;
use domain::time::Timestamp;
use domain::{Action, Actor, AppError, Target, can, validate};
use serde::{Deserialize, Serialize};

use crate::classroom::ports::{EventQuery, VmQuery};
use crate::jobs::TaskFilter;
use crate::{Services, StoreError, authorize};

/// Events an instructor's overview lists at most.
const INSTRUCTING_MAX: u32 = 20;

#[async_trait]
pub trait DashboardRepo: Send + Sync {
    async fn notifications(&self) -> Result<Vec<NotificationView>, StoreError>;
    async fn notification(&self, id: i64) -> Result<Option<NotificationView>, StoreError>;
    async fn insert_notification(
        &self,
        fields: &NotificationFields,
        at: Timestamp,
        activity: Option<&Activity>,
    ) -> Result<i64, StoreError>;
    async fn update_notification(
        &self,
        id: i64,
        fields: &NotificationFields,
        at: Timestamp,
        activity: Option<&Activity>,
    ) -> Result<(), StoreError>;
    async fn delete_notification(&self, id: i64, activity: Option<&Activity>) -> Result<(), StoreError>;

    /// In their order (position, then id).
    async fn quick_links(&self) -> Result<Vec<QuickLinkView>, StoreError>;
    /// `position` `None`: after the last one.
    async fn insert_quick_link(
        &self,
        title: &str,
        url: &str,
        position: Option<i64>,
        activity: Option<&Activity>,
    ) -> Result<i64, StoreError>;
    async fn update_quick_link(
        &self,
        id: i64,
        title: &str,
        url: &str,
        position: i64,
        activity: Option<&Activity>,
    ) -> Result<(), StoreError>;
    async fn delete_quick_link(&self, id: i64, activity: Option<&Activity>) -> Result<(), StoreError>;
}

/// The notification form as typed; times are `datetime-local` values in the
/// editor's time zone, empty for "no limit".
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NotificationForm {
    pub message: String,
    pub severity: String,
    pub starts_at: String,
    pub ends_at: String,
}

fn optional_time(field: &str, raw: &str, zone: &str) -> Result<Option<Timestamp>, AppError> {
    if raw.trim().is_empty() { Ok(None) } else { domain::zone::parse_in(field, raw, zone).map(Some) }
}

fn notification_fields(form: &NotificationForm, zone: &str) -> Result<NotificationFields, AppError> {
    let starts_at = optional_time("starts_at", &form.starts_at, zone)?;
    let ends_at = optional_time("ends_at", &form.ends_at, zone)?;
    NotificationFields::new(&form.message, &form.severity, starts_at, ends_at)
}

/// A short name for a notification in the activity log.
fn excerpt(message: &str) -> String {
    let mut short: String = message.chars().take(80).collect();
    if short.len() < message.len() {
        short.push('…');
    }
    short
}

fn position(raw: Option<i64>) -> Result<Option<i64>, AppError> {
    match raw {
        Some(p) if !(0..=10_000).contains(&p) => {
            Err(AppError::invalid("position", Problem::OutOfRange { min: 0, max: 10_000 }))
        }
        other => Ok(other),
    }
}

impl Services {
    /// Every notification, active or not (administrators' list).
    pub async fn list_notifications(&self, actor: &Actor) -> Result<Vec<NotificationView>, AppError> {
        authorize(actor, Action::Read, Target::All(ObjectType::Setting))?;
        Ok(self.ports.dashboard.notifications().await?)
    }

    /// The notifications active now: the banner everyone signed in sees.
    pub async fn active_notifications(&self, _actor: &Actor) -> Result<Vec<NotificationView>, AppError> {
        let now = self.clock.now();
        Ok(self.ports.dashboard.notifications().await?.into_iter().filter(|n| n.active_at(now)).collect())
    }

    /// Creates (`id` = `None`) or changes a notification; returns its id.
    pub async fn save_notification(
        &self,
        actor: &Actor,
        id: Option<i64>,
        form: &NotificationForm,
    ) -> Result<i64, AppError> {
        authorize(actor, Action::Update, Target::All(ObjectType::Setting))?;
        let fields = notification_fields(form, &self.time_zone_of(actor.user_id).await?)?;
        let now = self.clock.now();
        let name = excerpt(&fields.message);
        match id {
            None => {
                let activity =
                    self.activity(actor, "notification.create", ActivityTarget::created("notifications", &name));
                Ok(self.ports.dashboard.insert_notification(&fields, now, Some(&activity)).await?)
            }
            Some(id) => {
                self.ports.dashboard.notification(id).await?.ok_or(AppError::NotFound)?;
                let activity =
                    self.activity(actor, "notification.update", ActivityTarget::new("notifications", id, &name));
                self.ports.dashboard.update_notification(id, &fields, now, Some(&activity)).await?;
                Ok(id)
            }
        }
    }

    pub async fn delete_notification(&self, actor: &Actor, id: i64) -> Result<(), AppError> {
        authorize(actor, Action::Update, Target::All(ObjectType::Setting))?;
        let found = self.ports.dashboard.notification(id).await?.ok_or(AppError::NotFound)?;
        let target = ActivityTarget::new("notifications", id, &excerpt(&found.message));
        let activity = self.activity(actor, "notification.delete", target);
        Ok(self.ports.dashboard.delete_notification(id, Some(&activity)).await?)
    }

    /// The quick links, in order (everyone signed in).
    pub async fn list_quick_links(&self, _actor: &Actor) -> Result<Vec<QuickLinkView>, AppError> {
        Ok(self.ports.dashboard.quick_links().await?)
    }

    /// Creates (`id` = `None`, `position` `None`: at the end) or changes a
    /// quick link; only `http`/`https` URLs. Returns its id.
    pub async fn save_quick_link(
        &self,
        actor: &Actor,
        id: Option<i64>,
        title: &str,
        url: &str,
        position_wanted: Option<i64>,
    ) -> Result<i64, AppError> {
        authorize(actor, Action::Update, Target::All(ObjectType::Setting))?;
        let title = validate::line("title", title, validate::NAME_MAX)?;
        let url = link_url(url)?;
        let position_wanted = position(position_wanted)?;
        match id {
            None => {
                let activity =
                    self.activity(actor, "quick_link.create", ActivityTarget::created("quick_links", &title));
                Ok(self.ports.dashboard.insert_quick_link(&title, &url, position_wanted, Some(&activity)).await?)
            }
            Some(id) => {
                let links = self.ports.dashboard.quick_links().await?;
                let current = links.iter().find(|l| l.id == id).ok_or(AppError::NotFound)?;
                let place = position_wanted.unwrap_or(current.position);
                let activity =
                    self.activity(actor, "quick_link.update", ActivityTarget::new("quick_links", id, &title));
                self.ports.dashboard.update_quick_link(id, &title, &url, place, Some(&activity)).await?;
                Ok(id)
            }
        }
    }

    pub async fn delete_quick_link(&self, actor: &Actor, id: i64) -> Result<(), AppError> {
        authorize(actor, Action::Update, Target::All(ObjectType::Setting))?;
        let links = self.ports.dashboard.quick_links().await?;
        let link = links.iter().find(|l| l.id == id).ok_or(AppError::NotFound)?;
        let activity = self.activity(actor, "quick_link.delete", ActivityTarget::new("quick_links", id, &link.title));
        Ok(self.ports.dashboard.delete_quick_link(id, Some(&activity)).await?)
    }

    /// The home page's overview for the actor: the admin part with read
    /// access to all VMs and tasks, the instructor part for the events they
    /// instruct, the next event for everyone taking part in one.
    pub async fn dashboard(&self, actor: &Actor) -> Result<DashboardView, AppError> {
        let now = self.clock.now();
        let admin = if can(actor, Action::Read, Target::All(ObjectType::Vm))
            && can(actor, Action::Read, Target::All(ObjectType::Task))
        {
            Some(self.admin_overview(actor, now).await?)
        } else {
            None
        };
        let statuses: Vec<EventStatus> = EventStatus::ALL.into_iter().filter(|s| *s != EventStatus::Finished).collect();
        let mine = self
            .ports
            .events
            .list(
                &EventQuery { statuses, member: Some(actor.user_id) },
                actor.user_id,
                PageRequest::new(Some(1), Some(200)),
            )
            .await?
            .items;
        let mut instructing = Vec::new();
        for event in mine.iter().filter(|e| e.my_role == Some(EventRole::Instructor)).take(INSTRUCTING_MAX as usize) {
            let count = |state: Option<VmState>| {
                let query = VmQuery { event_id: Some(event.id), state, ..VmQuery::default() };
                async move { self.ports.vms.list(&query, PageRequest::new(Some(1), Some(1))).await.map(|p| p.total) }
            };
            instructing.push(EventReadiness {
                event: event.clone(),
                vms_total: count(None).await?,
                vms_running: count(Some(VmState::Running)).await?,
                vms_failed: count(Some(VmState::Failed)).await?,
            });
        }
        instructing.sort_by_key(|r| r.event.starts_at);
        // The next event: the current one, else the soonest to come.
        let next_event = mine
            .iter()
            .filter(|e| e.my_role == Some(EventRole::Student) && e.ends_at.is_none_or(|end| end > now))
            // Failed or ending for good: nothing to come that a student could use.
            .filter(|e| {
                matches!(
                    e.status,
                    EventStatus::Planned | EventStatus::Deploying | EventStatus::Running | EventStatus::Ending
                )
            })
            .min_by_key(|e| e.starts_at)
            .cloned();
        let quick_links = self.ports.dashboard.quick_links().await?;
        Ok(DashboardView { quick_links, admin, instructing, next_event })
    }

    async fn admin_overview(&self, actor: &Actor, now: Timestamp) -> Result<AdminOverview, AppError> {
        // The cluster may be down or not configured: the rest is still worth showing.
        let (nodes, cluster_problem) = match self.cluster_nodes(actor).await {
            Ok(nodes) => (nodes, None),
            Err(problem @ AppError::Cluster { .. }) => (Vec::new(), Some(problem)),
            Err(other) => return Err(other),
        };
        let one = PageRequest::new(Some(1), Some(1));
        let running = VmQuery { state: Some(VmState::Running), ..VmQuery::default() };
        let running_vms = self.ports.vms.list(&running, one).await?.total;
        let failed = TaskFilter { status: Some(TaskStatus::Failed), top_level_only: true, ..TaskFilter::default() };
        let failed_jobs = self.ports.tasks.list(&failed, one).await?.total;
        let day_start = Timestamp(now.millis() - now.millis().rem_euclid(86_400_000));
        let day_end = day_start.plus_secs(86_400);
        // Counted in SQL: a page of events would stop counting at its size.
        let events_today = self.ports.events.count_during(day_start, day_end).await?;
        Ok(AdminOverview { nodes, cluster_problem, running_vms, events_today, failed_jobs })
    }
}
