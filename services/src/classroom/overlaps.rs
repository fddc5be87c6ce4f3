//! Overlapping events. Two unfinished events overlap when their times
//! intersect (an event without an end runs indefinitely) *and* a student
//! takes part in both: that person would get two sets of VMs at once, and
//! the cluster must hold both. Instructors are not counted (teaching two
//! groups side by side is normal), nor events that only share an
//! environment (parallel groups of one course). An overlap is a warning on
//! the event's page, not a refusal: a make-up session inside a running
//! course is legitimate; inverted dates are refused (`validate_event`).

use std::collections::HashSet;

use domain::classroom::{EventOverlap, EventRole, EventStatus};
use domain::{Action, Actor, AppError};

use crate::Services;

impl Services {
    /// Unfinished events that overlap this one, each with the students both share.
    pub async fn event_overlaps(&self, actor: &Actor, event_id: i64) -> Result<Vec<EventOverlap>, AppError> {
        // Names other events and their students: for those who plan this one.
        let event = self.event_for(actor, event_id, Action::Update).await?;
        let students = |participants: Vec<domain::classroom::ParticipantView>| -> HashSet<(i64, String)> {
            participants.into_iter().filter(|p| p.role == EventRole::Student).map(|p| (p.user_id, p.username)).collect()
        };
        if event.status == EventStatus::Finished {
            return Ok(Vec::new());
        }
        // The store finds them all (times and a shared student), not a page of candidates.
        let others = self.ports.events.overlapping(event_id).await?;
        if others.is_empty() {
            return Ok(Vec::new());
        }
        let mine = students(self.ports.events.participants(event_id).await?);
        let mut overlaps = Vec::with_capacity(others.len());
        for other in others {
            let theirs = students(self.ports.events.participants(other.id).await?);
            let mut shared: Vec<String> = mine.intersection(&theirs).map(|(_, name)| name.clone()).collect();
            if !shared.is_empty() {
                shared.sort();
                overlaps.push(EventOverlap {
                    event_id: other.id,
                    name: other.name,
                    starts_at: other.starts_at,
                    ends_at: other.ends_at,
                    shared,
                });
            }
        }
        Ok(overlaps)
    }
}
