//! The latest drift a reconcile pass found for an event, for its page. The
//! pass records it as one `event.reconcile` activity (see the store's
//! `VmRecorder::drift`); this reads the newest one back from the activity log.

use domain::activity::{ActivityFilter, ActivityScope};
use domain::reconcile::{DriftReport, EventDrift, RECONCILE_ACTION};
use domain::{Action, Actor, AppError};

use crate::Services;

impl Services {
    /// The newest drift recorded for the event, for those who manage it
    /// (`None`: no reconcile has found any).
    pub async fn event_drift(&self, actor: &Actor, event_id: i64) -> Result<Option<EventDrift>, AppError> {
        self.event_for(actor, event_id, Action::Update).await?;
        let filter = ActivityFilter {
            event_id: Some(event_id),
            action: Some(RECONCILE_ACTION.to_string()),
            ..ActivityFilter::default()
        };
        // Managing the event is the permission here, so the log is read unscoped.
        let latest = self.ports.activity_log.query(&ActivityScope::All, &filter, None, 1).await?;
        let Some(activity) = latest.into_iter().next() else { return Ok(None) };
        match serde_json::from_value::<DriftReport>(activity.details) {
            Ok(report) => Ok(Some(EventDrift { at: activity.at, report })),
            Err(e) => {
                tracing::warn!(event_id, error = %e, "a reconcile activity without a readable drift report");
                Ok(None)
            }
        }
    }
}
