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
