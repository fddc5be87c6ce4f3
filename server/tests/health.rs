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

/// A page about an object that is not there answers 404 (and one the caller
/// may not see, 403), with the page and its message, not "200 OK".
#[tokio::test]
async fn pages_of_missing_objects_answer_404() {
    let app = TestApp::start(Backend::Sqlite).await;
    let admin = app.signed_in("admin").await;
    for path in [
        "/events/999999",
        "/events/999999/delete",
        "/templates/999999",
        "/environments/999999",
        "/vms/999999",
        "/admin/users/999999",
        "/admin/roles/999999",
        "/admin/tasks/999999",
        "/admin/mail/sent/999999",
        "/admin/catalogue/vendors/999999",
    ] {
        let page = admin.get(path).await;
        assert_eq!(page.status, 404, "{path}");
        assert!(
            page.body.contains("Not found: it does not exist (any more), or it is not yours to see."),
            "{path}: {}",
            page.body
        );
    }
    // The same pages of objects that exist answer 200.
    let admin_id = app.system.services.ports().users.by_username("admin").await.unwrap().unwrap().id;
    assert_eq!(admin.get(&format!("/admin/users/{admin_id}")).await.status, 200);
    // One's own account cannot be deleted: its page says so instead of offering "Yes, delete".
    let own = admin.get(&format!("/admin/users/{admin_id}/delete")).await;
    assert_eq!(own.status, 403);
    assert!(!own.body.contains("Yes, delete"), "{}", own.body);
    // A student may not read accounts: 403, not a page that looks found.
    let student = app.signed_in("student").await;
    assert_eq!(student.get(&format!("/admin/users/{admin_id}")).await.status, 403);
}

/// An administration page opened by someone who may not use it answers 403
/// with "not allowed" alone: not its heading, forms and buttons above it.
#[tokio::test]
async fn administration_pages_refuse_others_whole() {
    let app = TestApp::start(Backend::Sqlite).await;
    let admin = app.signed_in("admin").await;
    let student = app.signed_in("student").await;
    for (path, heading) in [
        ("/admin/users", "Users"),
        ("/admin/roles", "Roles"),
        ("/admin/policies", "Terms of use"),
        ("/admin/tasks", "Tasks"),
        ("/admin/settings", "Settings"),
        ("/admin/mail/templates", "Mail"),
        ("/admin/catalogue/vendors", "Vendors"),
        ("/admin/health", "Health"),
        ("/admin/guacamole", "Guacamole"),
        ("/admin/sign-in", "Sign-in"),
    ] {
        let page = student.get(path).await;
        assert_eq!(page.status, 403, "{path}");
        assert!(page.body.contains("You are not allowed to do this."), "{path}: {}", page.body);
        assert!(!page.body.contains("<h1"), "{path} shows no page heading: {}", page.body);
        let page = admin.get(path).await;
        assert_eq!(page.status, 200, "{path}");
        assert!(page.body.contains(heading), "{path}: {}", page.body);
    }
    // The classroom's "new …" forms and the template list, for those who
    // may create such things or read every template (`marker`: a field of the page's form).
    let instructor = app.signed_in("instructor").await;
    for (path, marker, allowed) in [
        ("/events/new", "name=\"short_name\"", &instructor),
        ("/templates/new", "name=\"proxmox_vmid\"", &admin),
        ("/templates", "name=\"tag\"", &admin),
    ] {
        let page = student.get(path).await;
        assert_eq!(page.status, 403, "{path}");
        assert!(page.body.contains("You are not allowed to do this."), "{path}: {}", page.body);
        assert!(!page.body.contains(marker), "{path} offers no form: {}", page.body);
        let page = allowed.get(path).await;
        assert_eq!(page.status, 200, "{path}");
        assert!(page.body.contains(marker), "{path}: {}", page.body);
    }
    // Environments: a student who may see none gets the refusal, and no filter form.
    let page = student.get("/environments").await;
    assert_eq!(page.status, 403);
    assert!(page.body.contains("You are not allowed to do this."), "{}", page.body);
    assert!(!page.body.contains("name=\"tag\""), "{}", page.body);
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
