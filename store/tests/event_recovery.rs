//! An event stuck in `deploying` after a crash (its job gone): the
//! scheduler's round queues the idempotent deployment once more; when that
//! job dies too, the event is failed with the reason. On SQLite and MariaDB.

mod common;

use common::TestClock;
use domain::classroom::{Console, EventFields, EventStatus};
use domain::page::PageRequest;
use domain::task::TaskStatus;
use domain::time::Timestamp;
use domain::{AuthBackend, Language, UserStatus};
use services::classroom::ports::TemplateRecord;
use services::clock::Clock;
use services::jobs::{TaskFilter, TaskRecord};
use services::ports::NewUser;
use store::Database;

fn template() -> TemplateRecord {
    TemplateRecord {
        name: "Debian".into(),
        description: String::new(),
        operating_system: "Debian".into(),
        proxmox_vmid: 9000,
        node: "pve1".into(),
        cores: 1,
        memory_mib: 1024,
        disk_gib: 8,
        linked_clone: true,
        console: Console::Builtin,
    }
}

async fn deploy_tasks(db: &Database, event: i64) -> Vec<TaskRecord> {
    let filter = TaskFilter { event_id: Some(event), ..TaskFilter::default() };
    let tasks = db.ports(None).tasks.list(&filter, PageRequest::new(Some(1), Some(50))).await.unwrap().items;
    tasks.into_iter().filter(|t| t.kind == "deploy_event").collect()
}

async fn a_stuck_deployment_is_queued_again_once_then_failed(db: Database) {
    let clock = TestClock::new();
    let services = common::services(db.ports(None), clock.clone());
    let ports = db.ports(None);
    let template = ports.templates.insert(&template(), Timestamp(1), None).await.unwrap();
    let environment = ports.environments.insert("Lab", "", &[(template, 1)], Timestamp(1), None).await.unwrap();
    let new_user = NewUser {
        username: "teacher".into(),
        name: "Teacher".into(),
        email: "teacher@example.org".into(),
        language: Language::En,
        status: UserStatus::Active,
        auth_backend: AuthBackend::Internal,
        password_hash: None,
        created_at: Timestamp(1),
    };
    let teacher = ports.users.insert(new_user, None).await.unwrap();
    let fields = EventFields {
        name: "Crashed".into(),
        short_name: "crash1".into(),
        description: String::new(),
        environment_id: environment,
        // Far ahead: the round does nothing else with it.
        starts_at: clock.now().plus_secs(86_400 * 365),
        ends_at: None,
    };
    let event = ports.events.insert(&fields, teacher, Timestamp(1), None).await.unwrap();
    // The process died right after moving the event: no job was queued.
    assert!(services.move_event(event, EventStatus::Planned, EventStatus::Deploying, None).await.unwrap());
    assert!(deploy_tasks(&db, event).await.is_empty());

    services.schedule_events().await.unwrap();
    let tasks = deploy_tasks(&db, event).await;
    assert_eq!(tasks.len(), 1, "the deployment is queued again");
    assert_eq!(tasks[0].status, TaskStatus::Queued);
    // While that job lives, nothing more happens.
    services.schedule_events().await.unwrap();
    assert_eq!(deploy_tasks(&db, event).await.len(), 1);

    // The recovery job dies too (its worker crashed for good).
    let task = tasks[0].id;
    let now = clock.now();
    assert!(ports.tasks.claim(task, "w1", now, clock.now().plus_secs(60)).await.unwrap());
    ports.tasks.finish(task, "w1", TaskStatus::Failed, Some("worker lost"), now).await.unwrap();
    clock.advance_secs(30);
    services.schedule_events().await.unwrap();
    let status = ports.events.by_id(event, 0).await.unwrap().unwrap();
    assert_eq!(status.status, EventStatus::Deploying, "not yet: the job ended only 30 s ago");
    clock.advance_secs(31);
    services.schedule_events().await.unwrap();
    let failed = ports.events.by_id(event, 0).await.unwrap().unwrap();
    assert_eq!(failed.status, EventStatus::Failed);
    let reason = failed.failure_reason.unwrap_or_default();
    assert!(reason.contains(&format!("task {task}")) && reason.contains("worker lost"), "{reason}");
    assert_eq!(deploy_tasks(&db, event).await.len(), 1, "no second recovery");

    // Both steps are in the activity log.
    let backlog = ports.outbox.oldest(100).await.unwrap();
    let actions: Vec<&str> = backlog.iter().map(|(_, a)| a.action.as_str()).collect();
    assert!(actions.contains(&"event.recover_deploy") && actions.contains(&"event.stuck"), "{actions:?}");
}
on_both_dialects!(a_stuck_deployment_is_queued_again_once_then_failed);
