//! The home page over HTTP: system-wide notifications (shown as a banner to
//! everyone signed in while active), quick links (http/https only, in their
//! order), each role's overview, and an activity for every change.

mod common;

use common::{Backend, Client, TestApp, json, ok, refused};
use domain::classroom::{EventStatus, VmState};
use domain::task::TaskStatus;
use services::classroom::ports::{NewVm, VmUpdate};
use services::jobs::{Job, Requester};
use sim::proxmox::{DEMO_TOKEN_NAME, DEMO_TOKEN_SECRET, DEMO_USER, SimConfig, Simulator};

/// (error kind, field or reason) of a call that must fail.
async fn actions(app: &TestApp, admin: &Client, area: &str) -> Vec<String> {
    app.system.services.forward_activities("test").await.unwrap();
    let page = json(admin, "list_activities", &[("action", area)]).await;
    page["items"].as_array().unwrap().iter().map(|a| a["action"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn notifications_on_sqlite() {
    notifications_show_while_active_and_every_change_is_recorded(Backend::Sqlite).await;
}

#[tokio::test]
async fn notifications_on_mariadb() {
    notifications_show_while_active_and_every_change_is_recorded(Backend::MariaDb).await;
}

async fn notifications_show_while_active_and_every_change_is_recorded(backend: Backend) {
    let app = TestApp::start(backend).await;
    let admin = app.signed_in("admin").await;
    let student = app.signed_in("student").await;

    // Bad input changes nothing.
    let empty = [("message", " "), ("severity", "info")];
    assert_eq!(refused(&admin, "save_notification", &empty).await, ("invalid".into(), "message".into()));
    let loud = [("message", "x"), ("severity", "loud")];
    assert_eq!(refused(&admin, "save_notification", &loud).await, ("invalid".into(), "severity".into()));
    let inverted =
        [("message", "x"), ("severity", "info"), ("starts_at", "2030-01-02T09:00"), ("ends_at", "2030-01-01T09:00")];
    assert_eq!(refused(&admin, "save_notification", &inverted).await, ("invalid".into(), "ends_at".into()));
    assert!(json(&admin, "list_notifications", &[]).await.as_array().unwrap().is_empty());

    let now = [("message", "Cluster maintenance tonight <b>22:00</b>"), ("severity", "warning")];
    ok(&admin, "save_notification", &now).await;
    let later = [("message", "Next term"), ("severity", "info"), ("starts_at", "2099-01-01T00:00")];
    ok(&admin, "save_notification", &later).await;
    let over = [("message", "Old news"), ("severity", "critical"), ("ends_at", "2020-01-01T00:00")];
    ok(&admin, "save_notification", &over).await;
    assert_eq!(json(&admin, "list_notifications", &[]).await.as_array().unwrap().len(), 3);
    let active = json(&student, "active_notifications", &[]).await;
    assert_eq!(active.as_array().unwrap().len(), 1, "{active}");
    assert_eq!(active[0]["severity"], "warning");
    // The banner on the student's pages, the message escaped.
    let home = student.get("/").await;
    assert!(home.body.contains("data-notification=\"warning\""), "banner shown");
    assert!(home.body.contains("Cluster maintenance tonight &lt;b&gt;22:00&lt;/b&gt;"), "escaped");
    assert!(!home.body.contains("Next term") && !home.body.contains("Old news"));
    assert!(!app.client().get("/login").await.body.contains("data-notification"), "not before sign-in");

    // Edit the active one into a future one: the banner goes.
    let id = active[0]["id"].as_i64().unwrap().to_string();
    let edit = [
        ("id", id.as_str()),
        ("message", "Maintenance moved"),
        ("severity", "critical"),
        ("starts_at", "2099-06-01T08:00"),
        ("ends_at", "2099-06-01T10:00"),
    ];
    ok(&admin, "save_notification", &edit).await;
    assert!(json(&student, "active_notifications", &[]).await.as_array().unwrap().is_empty());
    assert_eq!(refused(&student, "save_notification", &now).await.0, "forbidden");
    // Deleting needs the confirmation; an unknown one is "not found".
    assert_eq!(refused(&admin, "delete_notification", &[("id", &id)]).await, ("invalid".into(), "confirm".into()));
    assert_eq!(refused(&admin, "delete_notification", &[("id", "999999"), ("confirm", "on")]).await.0, "not_found");
    ok(&admin, "delete_notification", &[("id", &id), ("confirm", "on")]).await;
    assert_eq!(json(&admin, "list_notifications", &[]).await.as_array().unwrap().len(), 2);

    let mut recorded = actions(&app, &admin, "notification").await;
    recorded.sort();
    assert_eq!(
        recorded,
        [
            "notification.create",
            "notification.create",
            "notification.create",
            "notification.delete",
            "notification.update"
        ]
    );
}

#[tokio::test]
async fn quick_links_are_http_only_ordered_and_on_everyones_dashboard() {
    let app = TestApp::start(Backend::Sqlite).await;
    let admin = app.signed_in("admin").await;
    let student = app.signed_in("student").await;

    for bad in ["javascript:alert(1)", "/admin", "ftp://files.example.org", "https://", "data:text/html,hi"] {
        let form = [("title", "Bad"), ("url", bad)];
        assert_eq!(refused(&admin, "save_quick_link", &form).await, ("invalid".into(), "url".into()), "{bad}");
    }
    assert_eq!(refused(&admin, "save_quick_link", &[("title", ""), ("url", "https://x.org")]).await.1, "title");
    let form = [("title", "T"), ("url", "https://x.org"), ("position", "-3")];
    assert_eq!(refused(&admin, "save_quick_link", &form).await.1, "position");
    assert!(json(&admin, "list_quick_links", &[]).await.as_array().unwrap().is_empty());

    ok(&admin, "save_quick_link", &[("title", "Wiki"), ("url", "https://wiki.example.org/start")]).await;
    ok(&admin, "save_quick_link", &[("title", "Tickets"), ("url", "http://tickets.example.org"), ("position", "")])
        .await;
    let links = json(&student, "list_quick_links", &[]).await;
    let titles: Vec<&str> = links.as_array().unwrap().iter().map(|l| l["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["Wiki", "Tickets"], "new links go last");
    // Move "Tickets" first.
    let tickets = links[1]["id"].as_i64().unwrap().to_string();
    let form =
        [("id", tickets.as_str()), ("title", "Tickets"), ("url", "https://tickets.example.org"), ("position", "0")];
    ok(&admin, "save_quick_link", &form).await;
    let wiki = links[0]["id"].as_i64().unwrap().to_string();
    let form = [("id", wiki.as_str()), ("title", "Wiki"), ("url", "https://wiki.example.org/start"), ("position", "5")];
    ok(&admin, "save_quick_link", &form).await;
    let view = json(&student, "dashboard", &[]).await;
    let titles: Vec<&str> =
        view["quick_links"].as_array().unwrap().iter().map(|l| l["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["Tickets", "Wiki"]);
    let home = student.get("/").await;
    assert!(home.body.contains("href=\"https://tickets.example.org\""), "the links are on the home page");

    assert_eq!(refused(&student, "save_quick_link", &[("title", "X"), ("url", "https://x.org")]).await.0, "forbidden");
    assert_eq!(refused(&admin, "delete_quick_link", &[("id", &wiki)]).await.1, "confirm");
    ok(&admin, "delete_quick_link", &[("id", &wiki), ("confirm", "on")]).await;
    assert_eq!(json(&student, "list_quick_links", &[]).await.as_array().unwrap().len(), 1);
    let admin_page = admin.get("/admin/dashboard").await;
    assert_eq!(admin_page.status, 200);
    assert!(admin_page.body.contains("https://tickets.example.org"));

    let mut recorded = actions(&app, &admin, "quick_link").await;
    recorded.sort();
    assert_eq!(
        recorded,
        ["quick_link.create", "quick_link.create", "quick_link.delete", "quick_link.update", "quick_link.update"]
    );
}

#[tokio::test]
async fn each_role_sees_its_own_overview() {
    let app = TestApp::start(Backend::Sqlite).await;
    let admin = app.signed_in("admin").await;
    let instructor = app.signed_in("instructor").await;
    let student = app.signed_in("student").await;
    let form = [
        ("name", "Tpl"),
        ("proxmox_vmid", "9000"),
        ("node", "pve1"),
        ("cores", "1"),
        ("memory_mib", "1024"),
        ("disk_gib", "8"),
        ("protocol", "ssh"),
    ];
    ok(&admin, "create_template", &form).await;
    let template = json(&admin, "list_templates", &[]).await[0]["id"].as_i64().unwrap().to_string();
    ok(&admin, "create_environment", &[("name", "Lab"), ("template_ids[]", &template), ("counts[]", "1")]).await;
    let environment = json(&admin, "list_environments", &[]).await[0]["id"].as_i64().unwrap().to_string();
    for (name, short, start) in [("Later", "late1", "2031-01-01T09:00"), ("Sooner", "soon1", "2030-01-01T09:00")] {
        let form = [("name", name), ("short_name", short), ("environment_id", &environment), ("starts_at", start)];
        ok(&instructor, "create_event", &form).await;
        let id = json(&instructor, "list_events", &[("tab", "planned")]).await["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"] == name)
            .unwrap()["id"]
            .as_i64()
            .unwrap()
            .to_string();
        ok(&instructor, "add_participants", &[("event_id", &id), ("usernames", "student"), ("role", "student")]).await;
    }

    // The administrator: counts and the cluster (none configured here: said so).
    let view = json(&admin, "dashboard", &[]).await;
    let overview = &view["admin"];
    assert_eq!(overview["running_vms"], 0);
    assert_eq!(overview["failed_jobs"], 0);
    assert_eq!(overview["events_today"], 0);
    assert_eq!(overview["cluster_problem"]["error"], "cluster", "{overview}");
    assert!(view["instructing"].as_array().unwrap().is_empty());

    // The instructor: their events, soonest first, with readiness.
    let view = json(&instructor, "dashboard", &[]).await;
    assert!(view["admin"].is_null(), "no admin part for instructors");
    let names: Vec<&str> =
        view["instructing"].as_array().unwrap().iter().map(|r| r["event"]["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Sooner", "Later"]);
    assert_eq!(view["instructing"][0]["vms_total"], 0);
    let page = instructor.get("/").await;
    assert!(page.body.contains("data-dash=\"teaching\""), "the readiness list is on the page");

    // "Sooner" has no end, so it overlaps "Later": the student is in both.
    let sooner = view["instructing"][0]["event"]["id"].as_i64().unwrap().to_string();
    let overlaps = json(&instructor, "event_overlaps", &[("event_id", &sooner)]).await;
    assert_eq!(overlaps.as_array().unwrap().len(), 1, "{overlaps}");
    assert_eq!(overlaps[0]["name"], "Later");
    assert_eq!(overlaps[0]["shared"], serde_json::json!(["student"]));
    assert!(instructor.get(&format!("/events/{sooner}")).await.body.contains("data-testid=\"event-overlaps\""));

    // The student: the next event only.
    let view = json(&student, "dashboard", &[]).await;
    assert!(view["admin"].is_null() && view["instructing"].as_array().unwrap().is_empty());
    assert_eq!(view["next_event"]["name"], "Sooner");
    assert!(student.get("/").await.body.contains("Sooner"));
}

#[tokio::test]
async fn times_are_typed_and_shown_in_the_persons_zone() {
    let app = TestApp::start(Backend::Sqlite).await;
    let admin = app.signed_in("admin").await;
    let instructor = app.signed_in("instructor").await;
    let form = [
        ("name", "Tpl"),
        ("proxmox_vmid", "9000"),
        ("node", "pve1"),
        ("cores", "1"),
        ("memory_mib", "1024"),
        ("disk_gib", "8"),
        ("protocol", "ssh"),
    ];
    ok(&admin, "create_template", &form).await;
    let template = json(&admin, "list_templates", &[]).await[0]["id"].as_i64().unwrap().to_string();
    ok(&admin, "create_environment", &[("name", "Lab"), ("template_ids[]", &template), ("counts[]", "1")]).await;
    let environment = json(&admin, "list_environments", &[]).await[0]["id"].as_i64().unwrap().to_string();

    // No choice yet: the site's zone (UTC by default).
    assert_eq!(json(&instructor, "own_time_zone", &[]).await["effective"], "UTC");
    assert_eq!(refused(&instructor, "set_own_time_zone", &[("time_zone", "Mars/Olympus")]).await.1, "time_zone");
    ok(&instructor, "set_own_time_zone", &[("time_zone", "Europe/Berlin")]).await;
    let form = [
        ("name", "Summer school"),
        ("short_name", "summer1"),
        ("environment_id", environment.as_str()),
        ("starts_at", "2030-07-01T10:00"),
        ("ends_at", "2030-07-01T09:00"),
    ];
    assert_eq!(refused(&instructor, "create_event", &form).await.1, "ends_at", "the end must follow the start");
    let form = [
        ("name", "Summer school"),
        ("short_name", "summer1"),
        ("environment_id", environment.as_str()),
        ("starts_at", "2030-07-01T10:00"),
    ];
    ok(&instructor, "create_event", &form).await;
    let event = &json(&instructor, "list_events", &[("tab", "planned")]).await["items"][0];
    // 10:00 in Berlin in summer is 08:00 UTC.
    assert_eq!(event["starts_at"], 1_909_123_200_000_i64);
    let page = instructor.get(&format!("/events/{}", event["id"])).await;
    assert!(page.body.contains("2030-07-01 10:00 Europe/Berlin"), "shown in the person's zone, named");
    // The site's zone for everyone else; an admin changes it, checked.
    let page = admin.get(&format!("/events/{}", event["id"])).await;
    assert!(page.body.contains("2030-07-01 08:00 UTC"));
    let bad = [("key", "site.time_zone"), ("value", "Berlin")];
    assert_eq!(refused(&admin, "update_setting", &bad).await.1, "value");
    ok(&admin, "update_setting", &[("key", "site.time_zone"), ("value", "America/New_York")]).await;
    let page = admin.get(&format!("/events/{}", event["id"])).await;
    assert!(page.body.contains("2030-07-01 04:00 America/New_York"));
    // Going back to the site's zone.
    ok(&instructor, "set_own_time_zone", &[("time_zone", "")]).await;
    assert_eq!(json(&instructor, "own_time_zone", &[]).await["effective"], "America/New_York");
}

#[tokio::test]
async fn admin_overview_on_sqlite() {
    the_admin_overview_counts_the_cluster_vms_events_and_failed_jobs(Backend::Sqlite).await;
}

#[tokio::test]
async fn admin_overview_on_mariadb() {
    the_admin_overview_counts_the_cluster_vms_events_and_failed_jobs(Backend::MariaDb).await;
}

/// The administrator's part with something to count: the simulator's
/// nodes, VMs recorded running, an event today and one later, a failed job.
async fn the_admin_overview_counts_the_cluster_vms_events_and_failed_jobs(backend: Backend) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sim = Simulator::new(SimConfig::demo()).unwrap().start(listener).unwrap();
    let base = sim.base_url();
    let app = TestApp::start_with(
        backend,
        &[
            ("OPENVLE_SECRET_KEY", "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"),
            ("PVE_HOSTNAME", base.as_str()),
            ("PVE_USER", DEMO_USER),
            ("PVE_TOKEN_NAME", DEMO_TOKEN_NAME),
            ("PVE_TOKEN_VALUE", DEMO_TOKEN_SECRET),
        ],
    )
    .await;
    let services = app.system.services.clone();
    let admin = app.signed_in("admin").await;
    let instructor = app.signed_in("instructor").await;
    ok(&admin, "import_cluster_template", &[("vmid", "9000")]).await;
    let template = json(&admin, "list_templates", &[]).await[0]["id"].as_i64().unwrap().to_string();
    ok(&admin, "create_environment", &[("name", "Lab"), ("template_ids[]", &template), ("counts[]", "1")]).await;
    let environment = json(&admin, "list_environments", &[]).await[0]["id"].as_i64().unwrap().to_string();
    // Started long ago without an end: it has time today. The other starts in years.
    for (name, short, start) in [("Ongoing", "ongo1", "2020-01-01T09:00"), ("Later", "late1", "2099-01-01T09:00")] {
        let form = [("name", name), ("short_name", short), ("environment_id", &environment), ("starts_at", start)];
        ok(&instructor, "create_event", &form).await;
    }
    let planned = json(&instructor, "list_events", &[("tab", "planned")]).await;
    let ongoing = planned["items"].as_array().unwrap().iter().find(|e| e["name"] == "Ongoing").unwrap()["id"].clone();
    let ongoing = ongoing.as_i64().unwrap();
    ok(
        &instructor,
        "add_participants",
        &[("event_id", &ongoing.to_string()), ("usernames", "student"), ("role", "student")],
    )
    .await;

    // Its two VMs as the engine would record them: one running, one failed.
    assert!(services.move_event(ongoing, EventStatus::Planned, EventStatus::Deploying, None).await.unwrap());
    let plan = services.deployment_plan(ongoing).await.unwrap();
    let new: Vec<NewVm> = plan
        .vms
        .iter()
        .map(|p| NewVm {
            event_id: ongoing,
            owner_id: p.owner_id,
            template_id: p.template_id,
            ordinal: p.ordinal,
            name: format!("ongo1-{}", p.username),
        })
        .collect();
    let recorded = services.record_planned_vms(ongoing, &new).await.unwrap();
    assert_eq!(recorded.len(), 2);
    for (vm, state) in recorded.iter().zip([VmState::Running, VmState::Failed]) {
        let update = VmUpdate {
            vmid: Some(700 + u32::try_from(vm.id).unwrap()),
            node: Some("pve1".into()),
            state,
            ip: None,
            last_error: None,
        };
        services.record_vm_state(vm.id, &update).await.unwrap();
    }

    // A job that failed for good.
    let ports = services.ports();
    let task =
        services.enqueue(&Job::Ping { sleep_ms: 0, node: None }, Requester::system(None)).await.unwrap().unwrap();
    let now = services.clock().now();
    assert!(ports.tasks.claim(task, "dashboard-test", now, now.plus_secs(60)).await.unwrap());
    ports.tasks.finish(task, "dashboard-test", TaskStatus::Failed, Some("no answer"), now).await.unwrap();

    let view = json(&admin, "dashboard", &[]).await;
    let overview = &view["admin"];
    assert!(overview["cluster_problem"].is_null(), "{overview}");
    let nodes = overview["nodes"].as_array().unwrap();
    let names: Vec<&str> = nodes.iter().map(|n| n["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["pve1", "pve2"], "{overview}");
    for node in nodes {
        assert_eq!((node["online"].as_bool(), node["cpus"].as_u64()), (Some(true), Some(32)), "{node}");
        assert_eq!(node["mem_total"].as_u64(), Some(128 * 1024 * 1024 * 1024), "{node}");
    }
    assert_eq!(overview["running_vms"], 1, "{overview}");
    assert_eq!(overview["events_today"], 1, "{overview}");
    assert_eq!(overview["failed_jobs"], 1, "{overview}");
    let page = admin.get("/").await;
    assert!(page.body.contains("data-node=\"pve1\"") && page.body.contains("data-node=\"pve2\""), "nodes on the page");
    for (count, value) in [("running-vms", 1), ("events-today", 1), ("failed-jobs", 1)] {
        let at = page.body.find(&format!("data-count=\"{count}\"")).unwrap_or_else(|| panic!("no {count}"));
        let shown = &page.body[at..at + 200];
        assert!(shown.contains(&format!(">{value}<")), "{count}: {shown}");
    }
    sim.stop().await.unwrap();
}
