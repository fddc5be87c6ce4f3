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

/// Instructors see what happens in the events they instruct (whoever did
/// it) and their own activities; not another event's. Students see their own.
#[tokio::test]
async fn instructors_see_the_activities_of_their_events_only() {
    let app = TestApp::start(Backend::Sqlite).await;
    let admin = app.signed_in("admin").await;
    let instructor = app.signed_in("instructor").await;
    let student = app.signed_in("student").await;
    let ok = |reply: common::Reply| assert!(reply.status < 400 && reply.error().is_none(), "{}", reply.body);
    let template = [
        ("name", "Scope template"),
        ("proxmox_vmid", "9000"),
        ("node", "pve1"),
        ("cores", "1"),
        ("memory_mib", "1024"),
        ("disk_gib", "8"),
        ("protocol", "ssh"),
    ];
    ok(admin.call("create_template", &template).await);
    let ports = app.system.db.ports(None);
    let template_id = ports.templates.list().await.unwrap()[0].id.to_string();
    let lab = [("name", "Scope lab"), ("template_ids[]", template_id.as_str()), ("counts[]", "1")];
    ok(instructor.call("create_environment", &lab).await);
    let environment = ports.environments.list().await.unwrap()[0].id.to_string();
    let event = |name: &'static str, short: &'static str| {
        [("name", name), ("short_name", short), ("environment_id", ""), ("starts_at", "2030-01-01T09:00")]
    };
    let mut alpha = event("Alpha course", "alpha");
    alpha[2].1 = &environment;
    let mut beta = event("Beta course", "beta");
    beta[2].1 = &environment;
    ok(instructor.call("create_event", &alpha).await);
    ok(admin.call("create_event", &beta).await);
    let page = domain::page::PageRequest::new(Some(1), Some(10));
    let events = ports.events.list(&Default::default(), 0, page).await.unwrap().items;
    let id_of = |short: &str| events.iter().find(|e| e.short_name == short).unwrap().id.to_string();
    let (alpha_id, beta_id) = (id_of("alpha"), id_of("beta"));
    // The administrator acts in both events; the student joins Alpha.
    for (id, name) in [(&alpha_id, "Alpha course, renamed"), (&beta_id, "Beta course, renamed")] {
        let short = if id == &alpha_id { "alpha" } else { "beta" };
        let form = [
            ("id", id.as_str()),
            ("name", name),
            ("short_name", short),
            ("environment_id", environment.as_str()),
            ("starts_at", "2030-01-01T09:00"),
        ];
        ok(admin.call("update_event", &form).await);
    }
    ok(admin.call("add_participants", &[("event_id", &alpha_id), ("usernames", "student"), ("role", "student")]).await);
    forward(&app).await;

    let theirs = instructor.get("/activities?action=event").await.body;
    assert!(theirs.contains("Alpha course, renamed"), "the admin's change in their event: {theirs}");
    assert!(!theirs.contains("Beta course"), "another event's activities stay hidden");
    assert!(instructor.get("/activities?action=environment").await.body.contains("Scope lab"), "their own");
    let beta_timeline = instructor.get(&format!("/activities?event={beta_id}")).await.body;
    assert_eq!(beta_timeline.matches("data-activity=").count(), 0, "filtering for another event shows nothing");

    let own = student.get("/activities?action=event").await.body;
    assert_eq!(own.matches("data-activity=").count(), 0, "students see only their own: {own}");
    let all = admin.get("/activities?action=event").await.body;
    assert!(all.contains("Alpha course, renamed") && all.contains("Beta course, renamed"));
}

/// Log lines written while a test runs (JSON, one per line).
#[derive(Clone, Default)]
struct CapturedLogs(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for CapturedLogs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A request that queues a job hands its id to the job: the worker's log
/// lines for the task and the activities the job records carry it.
#[tokio::test]
async fn jobs_carry_the_id_of_the_request_that_queued_them() {
    use services::jobs::ProductSteps;
    use services::jobs::worker::{Worker, WorkerConfig};

    let logs = CapturedLogs::default();
    let writer = logs.clone();
    let subscriber =
        tracing_subscriber::fmt().json().with_env_filter("info").with_writer(move || writer.clone()).finish();
    // This test's runtime has one thread: everything below logs through it.
    let _logging = tracing::subscriber::set_default(subscriber);
    let app = TestApp::start(Backend::Sqlite).await;
    let admin = app.signed_in("admin").await;
    let template = [
        ("name", "Request mail"),
        ("slug", ""),
        ("language", "en"),
        ("subject", "Hi {user.name}"),
        ("html", "<p>Hi</p>"),
        ("text", "Hi"),
        ("reply_to", ""),
    ];
    let saved = admin.call("save_mail_template", &template).await;
    assert!(saved.status < 400 && saved.error().is_none(), "{}", saved.body);
    let ports = app.system.services.ports();
    let template_id = ports.mail.templates().await.unwrap().iter().find(|t| t.name == "Request mail").unwrap().id;

    // "Send a test": queues a mail job. No mail server here, so the job fails for good.
    let res = admin
        .http
        .post(app.url(&common::server_fn_path("send_template_test")))
        .header("Accept", "application/json")
        .header("x-request-id", "req-job-0001")
        .form(&[("id", template_id.to_string())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers().get("x-request-id").unwrap(), "req-job-0001");
    let queued = app.activities("mail.test_queue").await;
    assert_eq!(queued[0].request_id.as_deref(), Some("req-job-0001"));

    let services = app.system.services.clone();
    let worker = Worker::new(
        ports.tasks.clone(),
        ports.queue.clone(),
        std::sync::Arc::new(ProductSteps::new(services.clone())),
        services.clock(),
        WorkerConfig::new("request-id-test".into()),
    );
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let running = tokio::spawn(worker.run(stopped));
    let mut failed = Vec::new();
    for _ in 0..150 {
        failed = app.activities("mail.failed").await;
        if !failed.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    stop.send_replace(true);
    running.await.unwrap();

    assert_eq!(failed.len(), 1, "the job recorded its end");
    assert_eq!(failed[0].actor_kind, domain::activity::ActorKind::System);
    assert_eq!(failed[0].request_id.as_deref(), Some("req-job-0001"), "the job's activity carries the request id");
    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    let task_lines: Vec<&str> = text.lines().filter(|l| l.contains("\"task failed\"")).collect();
    assert_eq!(task_lines.len(), 1, "{text}");
    let line: serde_json::Value = serde_json::from_str(task_lines[0]).unwrap();
    assert_eq!(line["span"]["request_id"], "req-job-0001", "the worker's span carries the request id: {line}");
}
