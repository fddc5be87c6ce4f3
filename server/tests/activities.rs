//! Activities through HTTP: recorded with the request's id and address,
//! listed on the Activities page (plain HTML, no JavaScript needed), exported
//! as CSV, each reader seeing what they may.

mod common;

use common::{Backend, TestApp};

async fn forward(app: &TestApp) {
    app.system.services.forward_activities("test").await.expect("forwarding into SQL");
}

#[tokio::test]
async fn activities_carry_the_request_and_are_listed_and_exported_by_permission() {
    let app = TestApp::start(Backend::Sqlite).await;
    let admin = app.signed_in("admin").await;
    let student = app.signed_in("student").await;

    // A change through a server function, as the hydrated app sends it.
    let res = admin
        .http
        .post(app.url(&common::server_fn_path("update_setting")))
        .header("Accept", "application/json")
        .form(&[("key", "contact.mail"), ("value", "desk@example.org")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let request_id = res.headers().get("x-request-id").unwrap().to_str().unwrap().to_string();
    let failed = app.client().call("login", &[("username", "student"), ("password", "wrong")]).await;
    assert_eq!(failed.error().as_deref(), Some("invalid_credentials"));
    forward(&app).await;

    // The page, rendered on the server: filters are query parameters.
    let page = admin.get("/activities?action=settings").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains(r#"data-action="settings.update""#), "{}", page.body);
    assert!(!page.body.contains(r#"data-action="user.login""#));
    assert!(page.body.contains(&request_id), "the request id is shown");
    assert!(page.body.contains("127.0.0.1"), "the client address is shown");
    let failures = admin.get("/activities?outcome=failed").await;
    assert!(failures.body.contains(r#"data-action="user.login_failed""#));
    assert!(failures.body.contains("invalid_credentials"));
    assert!(admin.get("/activities").await.body.contains("data-outbox=\"0\""), "admins see the outbox backlog");

    // Students see their own activities only (their sign-ins), not the admin's change.
    let own = student.get("/activities").await;
    assert!(own.body.contains(r#"data-action="user.login""#));
    assert!(!own.body.contains(r#"data-action="settings.update""#));
    assert!(!own.body.contains("data-outbox"));

    // CSV: the same filters and rules.
    let csv = admin.get("/activities/export.csv?action=settings.update").await;
    assert_eq!(csv.status, 200);
    let lines: Vec<&str> = csv.body.lines().collect();
    assert!(lines[0].starts_with("time_utc,actor,"));
    assert_eq!(lines.len(), 2, "{}", csv.body);
    assert!(lines[1].contains(",admin,") && lines[1].contains("desk@example.org") && lines[1].contains(&request_id));
    let theirs = student.get("/activities/export.csv").await;
    assert!(theirs.body.lines().skip(1).all(|l| l.contains(",student,")), "{}", theirs.body);
    assert_eq!(app.client().get("/activities/export.csv").await.status, 401);
}

#[tokio::test]
async fn pages_continue_where_the_last_one_ended() {
    let app = TestApp::start(Backend::Sqlite).await;
    let admin = app.signed_in("admin").await;
    for i in 0..60 {
        let value = format!("desk{i}@example.org");
        let reply = admin.call("update_setting", &[("key", "contact.mail"), ("value", &value)]).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
    }
    forward(&app).await;
    let first = admin.get("/activities?action=settings.update").await;
    assert_eq!(first.body.matches("data-activity=").count(), 50);
    let next = first.body.split("rel=\"next\" href=\"").nth(1).and_then(|r| r.split('"').next()).unwrap();
    let second = admin.get(&next.replace("&amp;", "&")).await;
    assert_eq!(second.body.matches("data-activity=").count(), 10);
    assert!(!second.body.contains("rel=\"next\""));
}
