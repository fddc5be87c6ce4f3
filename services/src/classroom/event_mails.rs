//! The mails of an event's life: deployed, deployment failed, being
//! archived, archiving failed, starting soon, ending soon. Deployment,
//! decommission and the scheduler call these; each mail goes through
//! [`Services::notify`] with an idempotency key, so a step that runs again
//! after a crash or a retry sends nothing twice.
//!
//! Who gets what (the original's documented recipients, SPEC: E-mail):
//! - `events_post_deployment_success` ("the event is ready"): the event
//!   admins; `events_vms_ready` ("your machines are ready"): the students;
//!   each once per event and person, so a participant added later hears when
//!   the deployment that adds their VMs ends.
//! - `events_decommission_started`, `events_starting`, `events_ending_soon`:
//!   every participant (instructors and students), once per event and person.
//! - `events_post_deployment_failed`, `events_post_decommission_failed`:
//!   the event admins, i.e. the event's instructors and the participants
//!   flagged as event admins, once per failed task (a later deployment that
//!   fails again mails again), with the failure reason.

use domain::AppError;
use domain::classroom::{EventRole, EventView, ParticipantView};
use domain::mail::MailAction;
use domain::zone::format_in;
use serde_json::json;

use crate::Services;

/// Which participants a mail goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Recipients {
    Everyone,
    /// Instructors and flagged event admins.
    EventAdmins,
    /// Those who work on VMs of their own (role student).
    Students,
}

impl Recipients {
    fn includes(self, participant: &ParticipantView) -> bool {
        match self {
            Recipients::Everyone => true,
            Recipients::EventAdmins => participant.event_admin || participant.role == EventRole::Instructor,
            Recipients::Students => participant.role == EventRole::Student,
        }
    }
}

impl Services {
    /// Queues `action`'s mail for the event's `recipients`. `occasion` makes
    /// the idempotency key unique per occurrence (`event-7` for once per
    /// event, `task-42` for once per failed task); `error` fills `{error}`.
    ///
    /// Callers queue the mails *before* the state change they announce: a
    /// failure here fails the step, which runs again and finds the mails
    /// already queued (same keys) instead of losing them.
    pub(crate) async fn mail_event(
        &self,
        action: MailAction,
        event: &EventView,
        recipients: Recipients,
        occasion: &str,
        error: Option<&str>,
    ) -> Result<(), AppError> {
        let participants = self.ports.events.participants(event.id).await?;
        for participant in participants.iter().filter(|p| recipients.includes(p)) {
            // Times in the recipient's own zone, named.
            let zone = self.time_zone_of(participant.user_id).await?;
            let mut context = json!({
                "event": {
                    "name": event.name,
                    "short_name": event.short_name,
                    "start": format_in(event.starts_at, &zone),
                    "end": event.ends_at.map(|end| format_in(end, &zone)).unwrap_or_default(),
                    "url": format!("{}/events/{}", self.mail.site_url, event.id),
                },
            });
            if let (Some(error), Some(object)) = (error, context.as_object_mut()) {
                object.insert("error".into(), json!(error));
            }
            let key = format!("{}:{occasion}:user-{}", action.slug(), participant.user_id);
            match self.notify(action, participant.user_id, context, Some(event.id), Some(&key)).await {
                // Removed since the participants were read: nobody to tell.
                Ok(_) | Err(AppError::NotFound) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}
