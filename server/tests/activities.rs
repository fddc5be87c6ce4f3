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

    // As a browser asks for it: compressed. The whole file arrives (the
    // stream once broke off after its header line), and unpacks to the same rows.
    let compressed = admin
        .http
        .get(app.url("/activities/export.csv?action=settings.update"))
        .header("Accept-Encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(compressed.headers()["content-encoding"], "gzip");
    let bytes = compressed.bytes().await.expect("the whole download");
    let mut unpacked = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut unpacked).unwrap();
    assert_eq!(unpacked, csv.body);
}

/// A filter value that means nothing is refused with a sentence saying
/// which, on the page and for the export, instead of an unfiltered list.
#[tokio::test]
async fn bad_filter_values_are_refused_clearly() {
    let app = TestApp::start(Backend::Sqlite).await;
    let admin = app.signed_in("admin").await;
    forward(&app).await;
    for (query, sentence) in [
        ("outcome=maybe", "Outcome is not a known value."),
        ("from=yesterday", "From has the wrong format (expected YYYY-MM-DD)."),
        ("from=2026-03-02&until=2026-03-01", "Until must not be before From."),
        ("until=2030-13-45", "Until has the wrong format (expected YYYY-MM-DD)."),
    ] {
        let page = admin.get(&format!("/activities?{query}")).await;
        assert!(page.body.contains(sentence), "{query}: {}", page.body);
        assert_eq!(page.body.matches("data-activity=").count(), 0, "{query}: no unfiltered list");
        let csv = admin.get(&format!("/activities/export.csv?{query}")).await;
        assert_eq!((csv.status, csv.body.as_str()), (400, sentence), "{query}");
    }
    let fine = admin.get("/activities?outcome=ok&from=2020-01-01&until=2099-12-31").await;
    assert!(fine.body.contains(r#"data-action="user.login""#), "valid filters still list: {}", fine.body);
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

/// A request id the client (or its proxy) sends is kept when it looks like
/// one; anything else is replaced by a fresh one. The anonymous password
/// reset and the link's password change carry the request's id and address.
#[tokio::test]
async fn request_ids_are_kept_only_when_usable_and_resets_carry_them() {
    let app = TestApp::start(Backend::Sqlite).await;
    let client = app.client();
    let post = |function: &str, id: String, form: Vec<(&'static str, String)>| {
        client
            .http
            .post(app.url(&common::server_fn_path(function)))
            .header("Accept", "application/json")
            .header("x-request-id", id)
            .form(&form)
            .send()
    };
    let mut answered = Vec::new();
    for sent in ["proxy-req.0001".to_string(), "x".repeat(200), "<script>alert(1)</script>".to_string()] {
        let res = post("request_password_reset", sent.clone(), vec![("username", "student".into())]).await.unwrap();
        assert_eq!(res.status(), 200);
        let id = res.headers().get("x-request-id").unwrap().to_str().unwrap().to_string();
        answered.push((sent, id));
    }
    assert_eq!(answered[0].0, answered[0].1, "a usable id is kept");
    for (sent, id) in &answered[1..] {
        assert_ne!(sent, id, "an unusable id is replaced");
        assert!(app::api::context::usable_request_id(id), "by a fresh one: {id}");
    }
    let requests = app.activities("user.password_reset_request").await;
    let recorded: Vec<Option<String>> = requests.iter().map(|a| a.request_id.clone()).collect();
    let expected: Vec<Option<String>> = answered.iter().map(|(_, id)| Some(id.clone())).collect();
    assert_eq!(recorded, expected, "each request's activity carries its id");
    assert!(requests.iter().all(|a| a.client_ip.as_deref() == Some("127.0.0.1")));

    // The link from the mail, used with a request id of its own.
    let ports = app.system.services.ports();
    let page = domain::page::PageRequest::new(Some(1), Some(10));
    let sent = ports.mail.list_sent(&Default::default(), page).await.unwrap().items;
    let token = sent[0].text.split("token=").nth(1).and_then(|r| r.split_whitespace().next()).unwrap().to_string();
    let form = vec![
        ("token", token),
        ("password", "Another-Horse-77".into()),
        ("confirm_password", "Another-Horse-77".into()),
    ];
    let res = post("set_password_with_token", "link-req-0002".into(), form).await.unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let set = app.activities("user.password_set_by_link").await;
    assert_eq!(set.len(), 1);
    assert_eq!((set[0].request_id.as_deref(), set[0].client_ip.as_deref()), (Some("link-req-0002"), Some("127.0.0.1")));
}

/// The event page and the user page show that object's recent activities
/// (what the viewer may see of them) and link to all of them.
#[tokio::test]
async fn event_and_user_pages_show_their_timeline_to_those_who_may_see_it() {
    let app = TestApp::start(Backend::Sqlite).await;
    app.system
        .services
        .bootstrap_user(services::accounts::UserInput {
            username: "outsider".into(),
            name: "Outsider".into(),
            email: "outsider@example.org".into(),
            language: "en".into(),
            password: common::PASSWORD.into(),
            role_keys: vec!["participant".into()],
        })
        .await
        .unwrap();
    let admin = app.signed_in("admin").await;
    let instructor = app.signed_in("instructor").await;
    let student = app.signed_in("student").await;
    let outsider = app.signed_in("outsider").await;
    let ok = |reply: common::Reply| assert!(reply.status < 400 && reply.error().is_none(), "{}", reply.body);
    let template = [
        ("name", "Timeline template"),
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
    let lab = [("name", "Timeline lab"), ("template_ids[]", template_id.as_str()), ("counts[]", "1")];
    ok(instructor.call("create_environment", &lab).await);
    let environment = ports.environments.list().await.unwrap()[0].id.to_string();
    let event = [
        ("name", "Gamma course"),
        ("short_name", "gamma"),
        ("environment_id", environment.as_str()),
        ("starts_at", "2030-01-01T09:00"),
    ];
    ok(instructor.call("create_event", &event).await);
    let page = domain::page::PageRequest::new(Some(1), Some(10));
    let id = ports.events.list(&Default::default(), 0, page).await.unwrap().items[0].id.to_string();
    let renamed = [
        ("id", id.as_str()),
        ("name", "Gamma course, renamed"),
        ("short_name", "gamma"),
        ("environment_id", environment.as_str()),
        ("starts_at", "2030-01-01T09:00"),
    ];
    ok(admin.call("update_event", &renamed).await);
    ok(instructor.call("add_participants", &[("event_id", &id), ("usernames", "student"), ("role", "student")]).await);
    forward(&app).await;

    let path = format!("/events/{id}");
    let all = format!(r#"href="/activities?event={id}""#);
    let theirs = instructor.get(&path).await.body;
    assert!(theirs.contains(r#"data-testid="activity-timeline""#), "{theirs}");
    assert!(theirs.contains(r#"data-action="event.update""#), "the administrator's change in their event: {theirs}");
    assert!(theirs.contains(r#"data-action="event.participants_add""#), "their own change: {theirs}");
    assert!(theirs.contains(r#"data-action="event.create""#), "the event's creation is part of it: {theirs}");
    assert!(theirs.contains(&all), "a link to all of the event's activities");
    let taking_part = student.get(&path).await.body;
    assert!(taking_part.contains(r#"data-testid="activity-timeline""#), "{taking_part}");
    assert!(!taking_part.contains(r#"data-action="event.update""#), "participants see their own part only");
    let unrelated = outsider.get(&path).await.body;
    assert!(!unrelated.contains("data-activity="), "nothing of another event: {unrelated}");
    assert!(!unrelated.contains("Gamma course"), "{unrelated}");

    // The user page: what the person did (newest first), for whoever may open it.
    let student_id = ports.users.by_username("student").await.unwrap().unwrap().id;
    let user_page = admin.get(&format!("/admin/users/{student_id}")).await.body;
    assert!(user_page.contains(r#"data-testid="activity-timeline""#), "{user_page}");
    assert!(user_page.contains(r#"data-action="user.login""#), "{user_page}");
    assert!(!user_page.contains(r#"data-action="event.update""#), "only the person's own: {user_page}");
    assert!(user_page.contains(r#"href="/activities?user=student""#), "{user_page}");
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

    let worker = common::RunningWorker::start(&app, "request-id-test");
    let mut failed = Vec::new();
    for _ in 0..150 {
        failed = app.activities("mail.failed").await;
        if !failed.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    worker.stop().await;

    assert_eq!(failed.len(), 1, "the job recorded its end");
    assert_eq!(failed[0].actor_kind, domain::activity::ActorKind::System);
    assert_eq!(failed[0].request_id.as_deref(), Some("req-job-0001"), "the job's activity carries the request id");
    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    let task_lines: Vec<&str> = text.lines().filter(|l| l.contains("\"task failed\"")).collect();
    assert_eq!(task_lines.len(), 1, "{text}");
    let line: serde_json::Value = serde_json::from_str(task_lines[0]).unwrap();
    assert_eq!(line["span"]["request_id"], "req-job-0001", "the worker's span carries the request id: {line}");
}
