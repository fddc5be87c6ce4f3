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
use domain::page::PageRequest;
use domain::{Action, Actor, AppError};

use super::ports::EventQuery;
use crate::Services;

/// Whether [start, end) ranges meet; `None` ends never.
fn intersect(a: (i64, Option<i64>), b: (i64, Option<i64>)) -> bool {
    a.1.is_none_or(|end| b.0 < end) && b.1.is_none_or(|end| a.0 < end)
}

impl Services {
    /// Unfinished events that overlap this one, each with the students both share.
    pub async fn event_overlaps(&self, actor: &Actor, event_id: i64) -> Result<Vec<EventOverlap>, AppError> {
        let event = self.event_for(actor, event_id, Action::Read).await?;
        let students = |participants: Vec<domain::classroom::ParticipantView>| -> HashSet<(i64, String)> {
            participants.into_iter().filter(|p| p.role == EventRole::Student).map(|p| (p.user_id, p.username)).collect()
        };
        let mine = students(self.ports.events.participants(event_id).await?);
        if mine.is_empty() || event.status == EventStatus::Finished {
            return Ok(Vec::new());
        }
        let statuses = EventStatus::ALL.into_iter().filter(|s| *s != EventStatus::Finished).collect();
        let page = PageRequest::new(Some(1), Some(domain::page::MAX_PER_PAGE));
        let others = self.ports.events.list(&EventQuery { statuses, member: None }, 0, page).await?.items;
        let span = |e: &domain::classroom::EventView| (e.starts_at.millis(), e.ends_at.map(|t| t.millis()));
        let mut overlaps = Vec::new();
        for other in others.into_iter().filter(|o| o.id != event_id && intersect(span(&event), span(o))) {
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

#[cfg(test)]
mod tests {
    use super::intersect;

    #[test]
    fn ranges_meet_only_when_they_share_time() {
        assert!(intersect((0, Some(10)), (5, Some(15))));
        assert!(!intersect((0, Some(10)), (10, Some(20))), "one ends as the other starts");
        assert!(intersect((0, None), (100, Some(200))), "no end runs on");
        assert!(!intersect((50, None), (0, Some(50))));
        assert!(intersect((0, None), (5, None)));
    }
}
