//! Server-sent events: a task's page follows its progress live. The stream
//! says only "changed"; the page then reads the task through its server
//! function, so the event carries nothing the reader could not read anyway.

use std::convert::Infallible;
use std::time::Duration;

use app::api::context::{SESSION_COOKIE, cookie_value};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use domain::classroom::{EventStatus, VmState};
use domain::task::TaskStatus;
use futures_util::stream::{self, Stream, StreamExt};

use crate::web::WebState;

const POLL: Duration = Duration::from_millis(500);

/// `GET /events/tasks/{id}`: a `change` event whenever the task changes,
/// until it reaches a final state. The caller must be allowed to read it.
pub async fn task_events(State(state): State<WebState>, Path(id): Path<i64>, headers: HeaderMap) -> Response {
    let services = state.system.services.clone();
    let user = match cookie_value(&headers, SESSION_COOKIE) {
        Some(token) => services.session_user(&token).await.ok().flatten(),
        None => None,
    };
    let Some(user) = user.filter(|u| u.pending_policies.is_empty()) else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    let actor = user.actor;
    match services.get_task(&actor, id).await {
        Ok(_) => {}
        Err(domain::AppError::NotFound) => return StatusCode::NOT_FOUND.into_response(),
        Err(_) => return StatusCode::FORBIDDEN.into_response(),
    }
    // Fused, as every streamed body here: a layer may poll once more after the end.
    Sse::new(changes(services, actor, id).fuse()).keep_alive(KeepAlive::default()).into_response()
}

fn changes(
    services: services::Services,
    actor: domain::Actor,
    id: i64,
) -> impl Stream<Item = Result<Event, Infallible>> {
    // State: the last seen (status, updated_at), and whether the stream is over.
    stream::unfold((None, false), move |(last, done)| {
        let services = services.clone();
        let actor = actor.clone();
        async move {
            if done {
                return None;
            }
            loop {
                let Ok(task) = services.get_task(&actor, id).await else {
                    return None;
                };
                let seen = Some((task.status, task.updated_at));
                if seen != last {
                    let finished =
                        matches!(task.status, TaskStatus::Success | TaskStatus::Failed | TaskStatus::Cancelled);
                    let event = Event::default().event("change").data(task.status.key());
                    return Some((Ok(event), (seen, finished)));
                }
                tokio::time::sleep(POLL).await;
            }
        }
    })
}

/// `GET /events/event-vms/{id}`: a `change` event whenever the event's
/// status or one of its VMs (as the caller may see them) changes, until the
/// event is finished. The event page then reloads both.
pub async fn event_vm_events(State(state): State<WebState>, Path(id): Path<i64>, headers: HeaderMap) -> Response {
    let services = state.system.services.clone();
    let user = match cookie_value(&headers, SESSION_COOKIE) {
        Some(token) => services.session_user(&token).await.ok().flatten(),
        None => None,
    };
    let Some(user) = user.filter(|u| u.pending_policies.is_empty()) else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    let actor = user.actor;
    match services.get_event(&actor, id).await {
        Ok(_) => {}
        Err(domain::AppError::NotFound) => return StatusCode::NOT_FOUND.into_response(),
        Err(_) => return StatusCode::FORBIDDEN.into_response(),
    }
    Sse::new(event_changes(services, actor, id).fuse()).keep_alive(KeepAlive::default()).into_response()
}

/// What the page shows of an event's VMs; a change in it is worth a reload.
type Seen = (EventStatus, Vec<(i64, VmState, Option<String>, i64)>);

fn event_changes(
    services: services::Services,
    actor: domain::Actor,
    id: i64,
) -> impl Stream<Item = Result<Event, Infallible>> {
    // The first poll is sent too: the page loaded its data before this stream
    // began (a second or more while it hydrates), and what changed in between
    // (a deployment that failed at once, say) must reach it.
    stream::unfold((None::<Seen>, false), move |(last, done)| {
        let services = services.clone();
        let actor = actor.clone();
        async move {
            if done {
                return None;
            }
            loop {
                let Ok(event) = services.get_event(&actor, id).await else {
                    return None;
                };
                let Ok(vms) = services.event_vms(&actor, id).await else {
                    return None;
                };
                let seen: Seen =
                    (event.status, vms.into_iter().map(|v| (v.id, v.state, v.ip, v.updated_at.millis())).collect());
                if last.as_ref() != Some(&seen) {
                    let finished = event.status == EventStatus::Finished;
                    let data = Event::default().event("change").data(event.status.key());
                    return Some((Ok(data), (Some(seen), finished)));
                }
                tokio::time::sleep(POLL * 2).await;
            }
        }
    })
}
