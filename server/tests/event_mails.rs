//! The mails of an event's life, delivered by the job worker to a real SMTP
//! server (aiosmtpd, implicit TLS) while the event is deployed and ended in
//! the Proxmox VE simulator: "deployed" to the event admins and "your machines
//! are ready" to the students, once (also when
//! the deployment runs again), "could not be deployed" with the reason to
//! the event admins only, "being archived" to everyone, "could not be
//! archived" with the reason to the event admins only; a mail the server
//! refuses for good shows in its recipient's activity; "starting" and
//! "ending soon" from the scheduler, once.

mod common;

use std::time::Duration;

use common::{
    Backend, PASSWORD, RunningWorker, TestApp, json, mail_settings, ok, pairs, planned_event, wait_for_status,
};
use sim::proxmox::{FaultRule, SimConfig, Simulator};
use smtp_connector::testing::{Received, SmtpServer};

const KEY: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

/// The recipients of the received mails whose subject is `subject`, sorted.
fn to_of(mails: &[Received], subject: &str) -> Vec<String> {
    let mut to: Vec<String> =
        mails.iter().filter(|m| m.subject == subject).flat_map(|m| m.rcpt_tos.iter().cloned()).collect();
    to.sort();
    to
}

/// Waits until `count` mails have arrived, then a little longer to see that no more come.
async fn settled(server: &SmtpServer, count: usize) -> Vec<Received> {
    server.wait_for(count, Duration::from_secs(30)).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    let mails = server.messages();
    assert_eq!(mails.len(), count, "{:#?}", mails.iter().map(|m| (&m.subject, &m.rcpt_tos)).collect::<Vec<_>>());
    mails
}

#[tokio::test]
async fn deployment_and_decommission_mail_the_right_people_once() {
    let smtp = SmtpServer::start();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sim = Simulator::new(SimConfig { time_scale: 0.01, ..SimConfig::demo() }).unwrap().start(listener).unwrap();
    let base = sim.base_url();
    let mut settings = mail_settings(&smtp);
    settings.push(("OPENVLE_SECRET_KEY", KEY.into()));
    let app = TestApp::start_with_cluster(Backend::Sqlite, &base, &pairs(&settings)).await;
    let worker = RunningWorker::start(&app, "event-mails-test");
    let services = app.system.services.clone();

    let admin = app.signed_in("admin").await;
    let instructor = app.signed_in("instructor").await;
    ok(&admin, "import_cluster_template", &[("vmid", "9000")]).await;
    let template = json(&admin, "list_templates", &[]).await[0]["id"].as_i64().unwrap().to_string();
    let (_, event) = planned_event(&admin, &instructor, &template, "Debian lab", "Networks 1", "net1").await;
    ok(&instructor, "add_participants", &[("event_id", &event), ("usernames", "student"), ("role", "student")]).await;
    // A student flagged as event admin, and one whose address the server refuses.
    for (name, email) in [("helper", "helper@example.org"), ("gone", "gone@reject.test")] {
        let form = [
            ("event_id", event.as_str()),
            ("username", name),
            ("name", name),
            ("email", email),
            ("password", PASSWORD),
            ("role", "student"),
        ];
        ok(&instructor, "create_participant", &form).await;
    }
    let participants = json(&instructor, "list_participants", &[("event_id", &event)]).await;
    let helper = participants.as_array().unwrap().iter().find(|p| p["username"] == "helper").unwrap()["user_id"]
        .as_i64()
        .unwrap()
        .to_string();
    ok(&instructor, "set_event_admin", &[("event_id", &event), ("user_id", &helper), ("admin", "true")]).await;

    // Deployed: the event's admins hear the event is ready, the students
    // that their machines are, each once, with a link to the event.
    ok(&instructor, "deploy_event", &[("id", &event)]).await;
    wait_for_status(&instructor, &event, "running").await;
    let mails = settled(&smtp, 4).await;
    assert_eq!(to_of(&mails, "Networks 1 is ready"), ["helper@example.org", "instructor@example.org"]);
    assert_eq!(to_of(&mails, "Your machines for Networks 1 are ready"), ["helper@example.org", "student@example.org"]);
    let deployed = mails.iter().find(|m| m.rcpt_tos == ["student@example.org"]).unwrap();
    assert!(deployed.text.starts_with("Hello Test student,"), "{}", deployed.text);
    assert!(deployed.text.contains(&format!("https://vle.example.org/events/{event}")), "{}", deployed.text);
    // Running VMs show their uptime (from /cluster/resources), and the event
    // page's grid offers each VM's power actions, with the confirmation.
    let vms = json(&instructor, "event_vms", &[("event_id", &event)]).await;
    let first = vms[0]["id"].as_i64().unwrap().to_string();
    let detail = json(&instructor, "get_vm", &[("id", &first)]).await;
    assert!(detail["uptime_secs"].as_u64().is_some(), "{detail}");
    let listed = json(&instructor, "list_vms", &[("event", &event)]).await;
    assert!(listed["items"].as_array().unwrap().iter().all(|v| v["uptime_secs"].as_u64().is_some()), "{listed}");
    let page = instructor.get(&format!("/events/{event}")).await;
    let vm_name = detail["name"].as_str().unwrap();
    assert!(page.body.contains(&format!("data-testid=\"vm-actions-{vm_name}\"")), "grid actions");
    assert!(page.body.contains("data-testid=\"confirm-stop\""), "stop needs the confirmation");

    // Deploying again (nothing missing) mails nobody a second time.
    ok(&instructor, "deploy_event", &[("id", &event)]).await;
    wait_for_status(&instructor, &event, "running").await;
    settled(&smtp, 4).await;

    // The refused address: the failure is in that person's own activity, with the server's answer.
    tokio::time::sleep(Duration::from_millis(500)).await;
    services.forward_activities("test").await.unwrap();
    let gone = app.signed_in("gone").await;
    let activities = json(&gone, "list_activities", &[]).await;
    let failed = activities["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["action"] == "mail.failed")
        .unwrap_or_else(|| panic!("no mail.failed activity: {activities}"));
    assert_eq!(failed["outcome"], "Failed");
    assert_eq!(failed["target"]["name"], "gone@reject.test");
    assert!(
        failed["reason"].as_str().unwrap().contains("550 5.1.1 <gone@reject.test>: Recipient address rejected"),
        "{failed}"
    );
    // Someone else does not see it.
    let student = app.signed_in("student").await;
    let theirs = json(&student, "list_activities", &[("action", "mail.failed")]).await;
    assert!(theirs["items"].as_array().unwrap().is_empty(), "{theirs}");

    // Ending: everyone hears that the event is being archived, once.
    ok(&instructor, "end_event", &[("id", &event), ("confirm", "on")]).await;
    wait_for_status(&instructor, &event, "finished").await;
    let mails = settled(&smtp, 7).await;
    assert_eq!(
        to_of(&mails, "Networks 1 is being archived"),
        ["helper@example.org", "instructor@example.org", "student@example.org"]
    );

    // A deployment that fails for good (not enough memory anywhere) goes to
    // the event admins only, with the reason; each failed run mails again.
    let huge = [
        ("name", "Huge"),
        ("proxmox_vmid", "9000"),
        ("node", "pve1"),
        ("cores", "1"),
        ("memory_mib", "1024000"),
        ("disk_gib", "8"),
        ("protocol", "ssh"),
    ];
    ok(&admin, "create_template", &huge).await;
    let templates = json(&admin, "list_templates", &[]).await;
    let huge = templates.as_array().unwrap().iter().find(|t| t["name"] == "Huge").unwrap()["id"].to_string();
    ok(&admin, "create_environment", &[("name", "Huge lab"), ("template_ids[]", &huge), ("counts[]", "1")]).await;
    let environments = json(&admin, "list_environments", &[]).await;
    let huge_env = environments.as_array().unwrap().iter().find(|e| e["name"] == "Huge lab").unwrap()["id"].to_string();
    let form =
        [("name", "Big"), ("short_name", "big1"), ("environment_id", &huge_env), ("starts_at", "2030-01-01T09:00")];
    ok(&instructor, "create_event", &form).await;
    let big = json(&instructor, "list_events", &[("tab", "planned")]).await["items"][0]["id"].as_i64().unwrap();
    let big = big.to_string();
    ok(&instructor, "add_participants", &[("event_id", &big), ("usernames", "student helper"), ("role", "student")])
        .await;
    ok(&instructor, "set_event_admin", &[("event_id", &big), ("user_id", &helper), ("admin", "true")]).await;
    ok(&instructor, "deploy_event", &[("id", &big)]).await;
    wait_for_status(&instructor, &big, "failed").await;
    let mails = settled(&smtp, 9).await;
    assert_eq!(to_of(&mails, "Big could not be deployed"), ["helper@example.org", "instructor@example.org"]);
    let failure = mails.iter().find(|m| m.subject == "Big could not be deployed").unwrap();
    assert!(failure.text.contains("not enough memory for"), "the reason is in the mail: {}", failure.text);
    ok(&instructor, "deploy_event", &[("id", &big)]).await;
    wait_for_status(&instructor, &big, "failed").await;
    settled(&smtp, 11).await;

    worker.stop().await;
    sim.stop().await.unwrap();
}

#[tokio::test]
async fn a_decommission_that_fails_for_good_mails_the_event_admins_the_reason() {
    let smtp = SmtpServer::start();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sim = Simulator::new(SimConfig { time_scale: 0.01, ..SimConfig::demo() }).unwrap().start(listener).unwrap();
    let base = sim.base_url();
    let mut settings = mail_settings(&smtp);
    settings.push(("OPENVLE_SECRET_KEY", KEY.into()));
    // One retry: the decommission fails for good on its second attempt.
    settings.push(("WORKER_MAX_RETRY", "1".into()));
    let app = TestApp::start_with_cluster(Backend::Sqlite, &base, &pairs(&settings)).await;
    let worker = RunningWorker::start(&app, "decommission-mails-test");

    let admin = app.signed_in("admin").await;
    let instructor = app.signed_in("instructor").await;
    ok(&admin, "import_cluster_template", &[("vmid", "9000")]).await;
    let template = json(&admin, "list_templates", &[]).await[0]["id"].as_i64().unwrap().to_string();
    let (_, event) = planned_event(&admin, &instructor, &template, "Debian lab", "Archive me", "arch1").await;
    ok(&instructor, "add_participants", &[("event_id", &event), ("usernames", "student"), ("role", "student")]).await;
    ok(&instructor, "deploy_event", &[("id", &event)]).await;
    wait_for_status(&instructor, &event, "running").await;
    settled(&smtp, 2).await;

    // Proxmox refuses to delete any VM: the decommission leaves the VM behind.
    let refusal = "storage 'local-lvm' refused to remove the disk";
    sim.simulator().set_fault_rules(vec![FaultRule {
        method: Some("DELETE".into()),
        path: "/nodes/*/qemu/*".into(),
        error_rate: 1.0,
        status: 500,
        message: refusal.into(),
        ..FaultRule::default()
    }]);
    ok(&instructor, "end_event", &[("id", &event), ("confirm", "on")]).await;
    let failed = wait_for_status(&instructor, &event, "failed").await;
    // "Being archived" to both, then "could not be archived" to the event admin
    // only (the instructor), once, with the reason.
    let mails = settled(&smtp, 5).await;
    assert_eq!(to_of(&mails, "Archive me is being archived"), ["instructor@example.org", "student@example.org"]);
    assert_eq!(to_of(&mails, "Archive me could not be archived"), ["instructor@example.org"]);
    let failure = mails.iter().find(|m| m.subject == "Archive me could not be archived").unwrap();
    assert!(failure.text.contains(refusal), "the reason is in the mail: {}", failure.text);
    assert!(failure.text.contains(&format!("https://vle.example.org/events/{event}")), "{}", failure.text);
    let reason = failed["failure_reason"].as_str().unwrap_or_default();
    assert!(reason.contains(refusal), "the event shows the same reason: {failed}");

    worker.stop().await;
    sim.stop().await.unwrap();
}

#[tokio::test]
async fn the_scheduler_mails_starting_and_ending_soon_once() {
    let smtp = SmtpServer::start();
    let app = TestApp::start_with(Backend::Sqlite, &pairs(&mail_settings(&smtp))).await;
    let worker = RunningWorker::start(&app, "event-notices-test");
    let services = app.system.services.clone();

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

    // Starts in 30 minutes (times are typed in UTC here).
    let now = services.clock().now();
    let form_time = |secs: i64| now.plus_secs(secs).format_utc().trim_end_matches(" UTC").replace(' ', "T");
    let soon = form_time(30 * 60);
    let later = form_time(3 * 86_400);
    let form = [
        ("name", "Soon"),
        ("short_name", "soon1"),
        ("environment_id", environment.as_str()),
        ("starts_at", soon.as_str()),
        ("ends_at", later.as_str()),
    ];
    ok(&instructor, "create_event", &form).await;
    let event = json(&instructor, "list_events", &[("tab", "planned")]).await["items"][0]["id"].as_i64().unwrap();
    ok(
        &instructor,
        "add_participants",
        &[("event_id", &event.to_string()), ("usernames", "student"), ("role", "student")],
    )
    .await;
    services.schedule_events().await.unwrap();
    services.schedule_events().await.unwrap();
    let mails = settled(&smtp, 2).await;
    assert!(mails.iter().all(|m| m.subject.starts_with("Soon starts at ")), "{:?}", mails[0].subject);
    assert_eq!(to_of(&mails, &mails[0].subject), ["instructor@example.org", "student@example.org"]);
    assert_eq!(json(&instructor, "get_event", &[("id", &event.to_string())]).await["status"], "planned");

    // A running event whose end is near: "ending soon", once.
    let form = [
        ("name", "Closing"),
        ("short_name", "close1"),
        ("environment_id", environment.as_str()),
        ("starts_at", "2020-01-01T09:00"),
        ("ends_at", soon.as_str()),
    ];
    ok(&instructor, "create_event", &form).await;
    let closing = json(&instructor, "list_events", &[("tab", "planned")]).await["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "Closing")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    // Bring it to `running` as a deployment would (no cluster here).
    use domain::classroom::EventStatus;
    assert!(services.move_event(closing, EventStatus::Planned, EventStatus::Deploying, None).await.unwrap());
    assert!(services.move_event(closing, EventStatus::Deploying, EventStatus::Running, None).await.unwrap());
    services.schedule_events().await.unwrap();
    services.schedule_events().await.unwrap();
    let mails = settled(&smtp, 3).await;
    let ending = mails.iter().find(|m| m.subject.starts_with("Closing ends at ")).expect("an ending-soon mail");
    assert_eq!(ending.rcpt_tos, ["instructor@example.org"]);

    worker.stop().await;
}
