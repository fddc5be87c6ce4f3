//! Health endpoints and the not-found page.

mod common;

use common::{Backend, TestApp};

#[tokio::test]
async fn health_and_readiness_report_their_dependencies() {
    let app = TestApp::start(Backend::MariaDbWithRedis).await;
    let client = app.client();
    let health = client.get("/healthz").await;
    assert_eq!((health.status, health.body.as_str()), (200, "ok"));
    let ready = client.get("/readyz").await;
    assert_eq!(ready.status, 200, "{}", ready.body);
    let report: serde_json::Value = serde_json::from_str(&ready.body).unwrap();
    assert_eq!(report["ready"], true);
    assert_eq!(report["database"], "ok");
    assert_eq!(report["migrations"], "ok");
    assert_eq!(report["redis"], "ok");
    assert_eq!(report["proxmox"], "not configured");
    // The three accounts the test app creates (`user.create`) wait in the outbox: nothing forwards here.
    assert_eq!(report["activity_backlog"], "3");
}

#[tokio::test]
async fn readiness_names_an_unreachable_peer() {
    // Port 9 (discard) is closed on loopback: MongoDB is configured but not there.
    let app = TestApp::start_with(Backend::Sqlite, &[("MONGODB_HOST", "127.0.0.1"), ("MONGODB_PORT", "9")]).await;
    let ready = app.client().get("/readyz").await;
    let report: serde_json::Value = serde_json::from_str(&ready.body).unwrap();
    assert!(report["mongodb"].as_str().unwrap().starts_with("unreachable"), "{}", ready.body);
    assert_eq!(report["redis"], "not configured");
}

#[tokio::test]
async fn unknown_pages_answer_404_with_a_page() {
    let app = TestApp::start(Backend::Sqlite).await;
    let page = app.client().get("/no/such/page").await;
    assert_eq!(page.status, 404);
    assert!(page.body.contains("Page not found"), "{}", page.body);
}

/// The admin Health page: connections, the activity outbox and its target,
/// task counts and the scheduler's leader; administrators only.
#[tokio::test]
async fn the_health_page_shows_what_the_system_knows() {
    let app = TestApp::start(Backend::Sqlite).await;
    let admin = app.signed_in("admin").await;
    // A scheduler holds its lease.
    let leases = &app.system.services.ports().leases;
    leases
        .acquire(services::jobs::scheduler::LEASE_NAME, "host-a:42", std::time::Duration::from_secs(60))
        .await
        .unwrap();

    let page = admin.get("/admin/health").await;
    assert_eq!(page.status, 200);
    let body = page.body;
    assert!(body.contains(r#"data-dependency="database""#), "{body}");
    assert!(body.contains(r#"data-dependency="proxmox""#));
    assert!(body.contains(r#"data-store="sql""#));
    // The accounts the test app creates and the admin's sign-in wait in the outbox.
    let waiting = app.system.services.ports().outbox.backlog().await.unwrap().waiting;
    assert!(body.contains(&format!(r#"data-outbox="{waiting}""#)), "{body}");
    assert!(body.contains(r#"data-tasks-failed="0""#));
    assert!(body.contains("host-a:42"), "the scheduler's leader is named");
    assert!(admin.get("/admin/settings").await.body.contains(r#"href="/admin/health""#), "linked from Settings");

    let student = app.signed_in("student").await;
    let refused = student.call("health_report", &[]).await;
    assert_eq!(refused.error().as_deref(), Some("forbidden"));
    assert!(!student.get("/admin/health").await.body.contains("data-dependency"));
}
