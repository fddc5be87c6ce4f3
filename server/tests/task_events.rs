//! Live task progress over server-sent events, and who may follow it.

mod common;

use std::time::Duration;

use common::{Backend, TestApp, json, ok, planned_event};
use domain::task::TaskStatus;
use services::jobs::{Job, Requester};

async fn next_event(res: &mut reqwest::Response, buffer: &mut String) -> Option<String> {
    loop {
        if let Some(end) = buffer.find("\n\n") {
            let event: String = buffer.drain(..end + 2).collect();
            if event.starts_with(':') {
                continue; // keep-alive comment
            }
            return Some(event);
        }
        let chunk = tokio::time::timeout(Duration::from_secs(10), res.chunk()).await.ok()?.ok()??;
        buffer.push_str(&String::from_utf8_lossy(&chunk));
    }
}

#[tokio::test]
async fn a_task_page_follows_the_task_until_it_ends() {
    let app = TestApp::start(Backend::Sqlite).await;
    let services = &app.system.services;
    let id = services.enqueue(&Job::Ping { sleep_ms: 0, node: None }, Requester::system(None)).await.unwrap().unwrap();
    let path = format!("/events/tasks/{id}");

    assert_eq!(app.client().get(&path).await.status, 401, "anonymous");
    assert_eq!(app.signed_in("student").await.get(&path).await.status, 403, "a participant may not read tasks");
    assert_eq!(app.signed_in("admin").await.get("/events/tasks/999999").await.status, 404);

    let admin = app.signed_in("admin").await;
    let mut res = admin.http.get(app.url(&path)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "text/event-stream");
    let mut buffer = String::new();
    let first = next_event(&mut res, &mut buffer).await.expect("first event");
    assert!(first.contains("event: change") && first.contains("data: queued"), "{first}");

    // A worker runs it: the page hears about each change, and the stream ends.
    let tasks = services.ports().tasks.clone();
    let now = services.clock().now();
    assert!(tasks.claim(id, "test-worker", now, now.plus_secs(60)).await.unwrap());
    let running = next_event(&mut res, &mut buffer).await.expect("running event");
    assert!(running.contains("data: running"), "{running}");
    tasks.finish(id, "test-worker", TaskStatus::Success, None, services.clock().now()).await.unwrap();
    let done = next_event(&mut res, &mut buffer).await.expect("final event");
    assert!(done.contains("data: success"), "{done}");
    assert!(next_event(&mut res, &mut buffer).await.is_none(), "the stream ends with the task");
}

/// The event page's stream says "changed" at once (the page loaded its data
/// before the stream began, and a deployment may have ended in between), then
/// on every change of the event's status or its VMs. Students follow their
/// own events only.
#[tokio::test]
async fn an_event_page_hears_at_once_and_on_every_change() {
    let app = TestApp::start(Backend::Sqlite).await;
    let admin = app.signed_in("admin").await;
    let instructor = app.signed_in("instructor").await;
    let template = [
        ("name", "Debian"),
        ("proxmox_vmid", "9000"),
        ("node", "pve1"),
        ("cores", "1"),
        ("memory_mib", "1024"),
        ("disk_gib", "8"),
    ];
    ok(&admin, "create_template", &template).await;
    let template = json(&admin, "list_templates", &[]).await[0]["id"].to_string();
    let (_, event) = planned_event(&admin, &instructor, &template, "Lab", "Live", "live1").await;
    let path = format!("/events/event-vms/{event}");

    assert_eq!(app.client().get(&path).await.status, 401, "anonymous");
    assert_eq!(app.signed_in("student").await.get(&path).await.status, 404, "not the student's event");

    let mut res = instructor.http.get(app.url(&path)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let mut buffer = String::new();
    let first = next_event(&mut res, &mut buffer).await.expect("an event at once");
    assert!(first.contains("event: change") && first.contains("data: planned"), "{first}");
    // No worker runs here: "Deploy now" moves the event, and the job waits.
    ok(&instructor, "deploy_event", &[("id", &event)]).await;
    let moved = next_event(&mut res, &mut buffer).await.expect("the move");
    assert!(moved.contains("data: deploying"), "{moved}");
}
