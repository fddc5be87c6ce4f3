//! Deploying and ending events over HTTP against the Proxmox VE simulator,
//! with a real worker: VMs running with recorded addresses, a re-run that
//! creates nothing, power actions only on one's own VMs, "End now" leaving no
//! VM of the event on the cluster, and the scheduler starting and ending an
//! event on time.

mod common;

use std::time::Duration;

use common::{Backend, Client, RunningWorker, TestApp, json, now_ms, ok, planned_event, refused, wait_for_status};
use domain::activity::{ActorKind, Outcome};
use domain::classroom::EventStatus;
use domain::reconcile::{DriftKind, DriftReport, RECONCILE_ACTION};
use serde_json::Value;
use services::jobs::{Job, Requester};
use sim::proxmox::{DEMO_POOL, DEMO_TOKEN_NAME, DEMO_TOKEN_SECRET, DEMO_USER, SimConfig, Simulator, VmSpec};

const KEY: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
const PASSWORD: &str = "Correct-Horse-42";

fn vm_ids(vms: &Value) -> Vec<i64> {
    let mut ids: Vec<i64> = vms.as_array().unwrap().iter().map(|v| v["id"].as_i64().unwrap()).collect();
    ids.sort_unstable();
    ids
}

#[tokio::test]
async fn events_deploy_run_power_actions_and_end_without_leftovers() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sim = Simulator::new(SimConfig { time_scale: 0.01, ..SimConfig::demo() }).unwrap().start(listener).unwrap();
    let base = sim.base_url();
    let app = TestApp::start_with_cluster(Backend::Sqlite, &base, &[("OPENVLE_SECRET_KEY", KEY)]).await;
    let worker = RunningWorker::start(&app, "deployment-test");
    let services = app.system.services.clone();
    let templates_only = sim.simulator().vm_count();

    let admin = app.signed_in("admin").await;
    let instructor = app.signed_in("instructor").await;
    ok(&admin, "import_cluster_template", &[("vmid", "9000")]).await;
    let template = json(&admin, "list_templates", &[]).await[0]["id"].as_i64().unwrap().to_string();
    // Deployment copies the template's tags to its VMs, in OpenVLE and on the cluster.
    ok(&admin, "add_tag", &[("object", "templates"), ("id", &template), ("name", "course"), ("value", "net-101")])
        .await;
    let (environment, event) = planned_event(&admin, &instructor, &template, "Debian lab", "Networks 1", "net1").await;
    ok(&instructor, "add_participants", &[("event_id", &event), ("usernames", "student"), ("role", "student")]).await;
    for name in ["stu2", "stu3"] {
        let email = format!("{name}@example.org");
        let form = [
            ("event_id", event.as_str()),
            ("username", name),
            ("name", name),
            ("email", email.as_str()),
            ("password", PASSWORD),
            ("role", "student"),
        ];
        ok(&instructor, "create_participant", &form).await;
    }
    let student = app.signed_in("student").await;
    let stu2 = app.signed_in("stu2").await;
    // A student sees themselves in the roster, not their classmates, and not
    // the planning notices that name other events' students.
    let seen = json(&student, "list_participants", &[("event_id", &event)]).await;
    let names: Vec<&str> = seen.as_array().unwrap().iter().map(|p| p["username"].as_str().unwrap()).collect();
    assert_eq!(names, ["student"]);
    assert_eq!(json(&instructor, "list_participants", &[("event_id", &event)]).await.as_array().unwrap().len(), 4);
    assert_eq!(refused(&student, "event_overlaps", &[("event_id", &event)]).await.0, "forbidden");

    // Students may not deploy or end; "Deploy now" by the instructor.
    assert_eq!(refused(&student, "deploy_event", &[("id", &event)]).await.0, "forbidden");
    // An environment without VMs is not deployed: nobody would get one, and the
    // event keeps its plan (and its environment) for when templates are added.
    let empty =
        [("id", environment.as_str()), ("name", "Debian lab"), ("template_ids[]", &template), ("counts[]", "0")];
    ok(&admin, "update_environment", &empty).await;
    let refusal = refused(&instructor, "deploy_event", &[("id", &event)]).await;
    assert_eq!(refusal, ("conflict".into(), "environment_empty".into()));
    assert_eq!(json(&instructor, "get_event", &[("id", &event)]).await["status"], "planned");
    // The events list opens on the first tab with events: planned ones now, the running one later.
    let current = |tab: &str| format!("href=\"/events?tab={tab}\" aria-current=\"page\"");
    let list = instructor.get("/events").await;
    assert!(list.body.contains(&current("planned")) && list.body.contains("Networks 1"), "{}", list.body);
    let lab = [("id", environment.as_str()), ("name", "Debian lab"), ("template_ids[]", &template), ("counts[]", "1")];
    ok(&admin, "update_environment", &lab).await;
    ok(&instructor, "deploy_event", &[("id", &event)]).await;
    assert_eq!(refused(&instructor, "deploy_event", &[("id", &event)]).await.1, "event_deploying");
    wait_for_status(&instructor, &event, "running").await;
    let list = instructor.get("/events").await;
    assert!(list.body.contains(&current("active")) && list.body.contains("Networks 1"), "{}", list.body);
    // A tab asked for is the one shown.
    let asked = instructor.get("/events?tab=completed").await;
    assert!(asked.body.contains(&current("completed")) && !asked.body.contains("Networks 1"), "{}", asked.body);
    let vms = json(&instructor, "event_vms", &[("event_id", &event)]).await;
    // Three students and the instructor, one Debian VM each.
    assert_eq!(vms.as_array().unwrap().len(), 4, "{vms}");
    for vm in vms.as_array().unwrap() {
        assert_eq!(vm["state"], "running", "{vm}");
        assert!(vm["ip"].as_str().is_some_and(|ip| !ip.is_empty()), "no IP recorded: {vm}");
        assert!(vm["vmid"].as_u64().is_some() && vm["node"].as_str().is_some(), "{vm}");
        assert!(vm["name"].as_str().unwrap().starts_with("net1-"), "{vm}");
    }
    assert_eq!(sim.simulator().vm_count(), templates_only + 4);
    for vm in vm_ids(&vms) {
        let tags = json(&instructor, "list_tags", &[("object", "vms"), ("id", &vm.to_string())]).await;
        assert_eq!(tags.as_array().map(Vec::len), Some(1), "{tags}");
        assert_eq!((tags[0]["name"].as_str(), tags[0]["value"].as_str()), (Some("course"), Some("net-101")));
    }
    let tagged = json(&instructor, "list_vms", &[("event", &event), ("tag", "course=net-101")]).await;
    assert_eq!(tagged["total"], 4);
    let auth = format!("PVEAPIToken={DEMO_USER}!{DEMO_TOKEN_NAME}={DEMO_TOKEN_SECRET}");
    let resources: Value = reqwest::Client::new()
        .get(format!("{base}/api2/json/cluster/resources?type=vm"))
        .header("Authorization", auth)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let on_cluster: Vec<&str> = resources["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["name"].as_str().is_some_and(|n| n.starts_with("net1-")))
        .filter_map(|r| r["tags"].as_str())
        .collect();
    assert_eq!(on_cluster.len(), 4, "{resources}");
    assert!(on_cluster.iter().all(|tags| tags.split(';').any(|t| t == "course-net-101")), "{on_cluster:?}");

    // Recorded: the instructor's request, then the job's work by `system`,
    // carrying the id of the request that queued it.
    let event_id: i64 = event.parse().unwrap();
    let deploy = app.activities("event.deploy").await;
    assert_eq!(deploy.len(), 1, "{deploy:?}");
    assert_eq!((deploy[0].actor_name.as_str(), deploy[0].event_id), ("instructor", Some(event_id)));
    let request = deploy[0].request_id.clone();
    assert!(request.is_some(), "the request id is recorded");
    let deployed = app.activities("vm.deployed").await;
    assert_eq!(deployed.len(), 4, "one per VM, not one per progress report: {deployed:?}");
    for vm in &deployed {
        assert_eq!((vm.actor_kind, vm.event_id, &vm.request_id), (ActorKind::System, Some(event_id), &request));
    }
    let moved = app.activities("event.status").await;
    assert_eq!(moved.len(), 1, "{moved:?}");
    assert_eq!((moved[0].actor_kind, &moved[0].request_id), (ActorKind::System, &request));
    assert_eq!(moved[0].details["to"], "running");

    // Deploying again creates nothing twice (and records no VM twice).
    ok(&instructor, "deploy_event", &[("id", &event)]).await;
    wait_for_status(&instructor, &event, "running").await;
    let again = json(&instructor, "event_vms", &[("event_id", &event)]).await;
    assert_eq!(vm_ids(&again), vm_ids(&vms));
    assert_eq!(sim.simulator().vm_count(), templates_only + 4);
    assert_eq!(app.activities("vm.deployed").await.len(), 4);

    // A student acts on their own VM only; another's answers "not found".
    let mine = json(&student, "my_vms", &[]).await[0]["vms"].clone();
    assert_eq!(mine.as_array().unwrap().len(), 1, "{mine}");
    let my_vm = mine[0]["id"].as_i64().unwrap().to_string();
    let theirs = json(&stu2, "my_vms", &[]).await[0]["vms"][0]["id"].as_i64().unwrap().to_string();
    assert_eq!(refused(&student, "vm_action", &[("id", &theirs), ("action", "reboot")]).await.0, "not_found");
    ok(&student, "vm_action", &[("id", &my_vm), ("action", "reboot")]).await;
    ok(&student, "vm_action", &[("id", &my_vm), ("action", "pause")]).await;
    assert_eq!(json(&student, "get_vm", &[("id", &my_vm)]).await["state"], "paused");
    ok(&student, "vm_action", &[("id", &my_vm), ("action", "resume")]).await;
    assert_eq!(json(&student, "get_vm", &[("id", &my_vm)]).await["state"], "running");
    // Powering off loses work: it needs the confirmation.
    let unconfirmed = refused(&student, "vm_action", &[("id", &my_vm), ("action", "stop")]).await;
    assert_eq!(unconfirmed, ("invalid".into(), "confirm".into()));
    ok(&student, "vm_action", &[("id", &my_vm), ("action", "stop"), ("confirm", "on")]).await;
    assert_eq!(json(&student, "get_vm", &[("id", &my_vm)]).await["state"], "stopped");
    // The instructor controls every VM of the event.
    ok(&instructor, "vm_action", &[("id", &my_vm), ("action", "start")]).await;
    assert_eq!(json(&student, "get_vm", &[("id", &my_vm)]).await["state"], "running");

    // "End now" needs the confirmation, then leaves nothing of the event behind.
    assert_eq!(refused(&instructor, "end_event", &[("id", &event)]).await, ("invalid".into(), "confirm".into()));
    assert_eq!(refused(&student, "end_event", &[("id", &event), ("confirm", "on")]).await.0, "forbidden");
    ok(&instructor, "end_event", &[("id", &event), ("confirm", "on")]).await;
    wait_for_status(&instructor, &event, "finished").await;
    assert_eq!(sim.simulator().vm_count(), templates_only, "only the templates are left");
    assert!(json(&instructor, "event_vms", &[("event_id", &event)]).await.as_array().unwrap().is_empty());
    assert_eq!(refused(&student, "vm_action", &[("id", &my_vm), ("action", "start")]).await.0, "not_found");
    // An event that is over takes nobody new, by any way in; its roster stays as it was.
    let roster = json(&instructor, "list_participants", &[("event_id", &event)]).await;
    let over = ("conflict".to_string(), "event_over".to_string());
    let add = [("event_id", event.as_str()), ("usernames", "admin"), ("role", "student")];
    assert_eq!(refused(&instructor, "add_participants", &add).await, over);
    let csv = [("event_id", event.as_str()), ("csv", "zed,Zed,zed@example.org,student")];
    assert_eq!(refused(&admin, "preview_roster", &csv).await, over);
    assert_eq!(refused(&admin, "import_roster", &csv).await, over);
    let new_account = [
        ("event_id", event.as_str()),
        ("username", "late"),
        ("name", "Late"),
        ("email", "late@example.org"),
        ("role", "student"),
    ];
    assert_eq!(refused(&admin, "create_participant", &new_account).await, over);
    assert_eq!(json(&instructor, "list_participants", &[("event_id", &event)]).await, roster);

    // Capacity: 100 GiB VMs for three participants do not fit on two 128 GiB
    // nodes. The deployment is refused with the per-node shortfall; "deploy
    // what fits" (confirmed) deploys the rest and marks what did not fit.
    let huge = [
        ("name", "Huge"),
        ("proxmox_vmid", "9000"),
        ("node", "pve1"),
        ("cores", "1"),
        ("memory_mib", "102400"),
        ("disk_gib", "8"),
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
    ok(&instructor, "add_participants", &[("event_id", &big), ("usernames", "student stu2"), ("role", "student")])
        .await;
    ok(&instructor, "deploy_event", &[("id", &big)]).await;
    let failed = wait_for_status(&instructor, &big, "failed").await;
    let reason = failed["failure_reason"].as_str().unwrap();
    assert!(reason.starts_with("not enough memory for"), "{reason}");
    assert!(reason.contains("pve1") && reason.contains("pve2"), "per node: {reason}");
    assert_eq!(sim.simulator().vm_count(), templates_only, "nothing was cloned");
    // The event page says why, node by node, and offers "deploy what fits".
    let page = instructor.get(&format!("/events/{big}")).await;
    assert!(page.body.contains("not enough memory for") && page.body.contains("pve2"), "the shortfall is shown");
    assert!(page.body.contains("data-testid=\"allow-partial\""), "deploy what fits is offered");
    assert!(page.body.contains("not created"), "its VMs will not come from this deployment");
    // Or back to planning: nothing was cloned, so the event may change first.
    assert!(page.body.contains("data-testid=\"back-to-planning\""), "back to planning is offered");
    assert_eq!(refused(&student, "return_to_planning", &[("id", &big)]).await.0, "forbidden");
    ok(&instructor, "return_to_planning", &[("id", &big)]).await;
    let replanned = json(&instructor, "get_event", &[("id", &big)]).await;
    assert_eq!(replanned["status"], "planned", "{replanned}");
    assert!(replanned["failure_reason"].is_null(), "{replanned}");
    assert!(json(&instructor, "event_vms", &[("event_id", &big)]).await.as_array().unwrap().is_empty());
    let not_failed = ("conflict".to_string(), "event_not_failed".to_string());
    assert_eq!(refused(&instructor, "return_to_planning", &[("id", &big)]).await, not_failed);
    let page = instructor.get(&format!("/events/{big}")).await;
    assert!(page.body.contains("Edit event"), "the event can change again");
    // Deployed again unchanged, it is refused the same way; then what fits is deployed.
    ok(&instructor, "deploy_event", &[("id", &big)]).await;
    wait_for_status(&instructor, &big, "failed").await;
    ok(&instructor, "deploy_event", &[("id", &big), ("allow_partial", "on")]).await;
    wait_for_status(&instructor, &big, "running").await;
    let vms = json(&instructor, "event_vms", &[("event_id", &big)]).await;
    let vms = vms.as_array().unwrap();
    let unplaced: Vec<_> = vms.iter().filter(|v| v["state"] == "failed").collect();
    assert!(!unplaced.is_empty() && unplaced.len() < vms.len(), "{vms:?}");
    assert!(unplaced.iter().all(|v| v["last_error"].as_str().unwrap().contains("enough free memory")), "{vms:?}");
    let big_id: i64 = big.parse().unwrap();
    let vm_failures: Vec<_> =
        app.activities("vm.failed").await.into_iter().filter(|a| a.event_id == Some(big_id)).collect();
    for vm in &unplaced {
        let id = vm["id"].as_i64().unwrap().to_string();
        assert!(vm_failures.iter().any(|a| a.target.id == id), "VM {id} failed without an activity: {vm_failures:?}");
    }
    assert!(vm_failures.iter().all(|a| a.outcome == Outcome::Failed && a.actor_kind == ActorKind::System));
    let event_failed: Vec<_> = app
        .activities("event.status")
        .await
        .into_iter()
        .filter(|a| a.event_id == Some(big_id) && a.details["to"] == "failed")
        .collect();
    assert_eq!(event_failed.len(), 2, "before and after going back to planning: {event_failed:?}");
    assert!(event_failed.iter().all(|a| (a.outcome, a.reason.as_deref()) == (Outcome::Failed, Some("event_failed"))));
    let replanned = app.activities("event.return_to_planning").await;
    assert_eq!(replanned.len(), 1, "{replanned:?}");
    assert_eq!((replanned[0].event_id, replanned[0].actor_kind), (Some(big_id), ActorKind::User));
    assert_eq!(sim.simulator().vm_count(), templates_only + vms.len() - unplaced.len());
    assert_eq!(refused(&instructor, "return_to_planning", &[("id", &big)]).await, not_failed);
    ok(&instructor, "end_event", &[("id", &big), ("confirm", "on")]).await;
    wait_for_status(&instructor, &big, "finished").await;
    assert_eq!(sim.simulator().vm_count(), templates_only);

    // The scheduler: an event whose start has come is deployed; after its end
    // plus the transition period (0 hours here) it is decommissioned.
    ok(&admin, "update_setting", &[("key", "events.transition_period_hours"), ("value", "0")]).await;
    // An event cannot be planned with its end passed, so it is planned ahead
    // and then its times move into the past.
    let form = [
        ("name", "Past lab"),
        ("short_name", "past1"),
        ("environment_id", environment.as_str()),
        ("starts_at", "2020-01-01T09:00"),
        ("ends_at", "2020-01-01T10:00"),
    ];
    assert_eq!(refused(&instructor, "create_event", &form).await, ("invalid".into(), "ends_at".into()));
    let ahead = [("starts_at", "2099-01-01T09:00"), ("ends_at", "2099-01-01T10:00")];
    ok(&instructor, "create_event", &[&form[..3], &ahead[..]].concat()).await;
    let past_id = json(&instructor, "list_events", &[("tab", "planned")]).await["items"][0]["id"].as_i64().unwrap();
    app.set_event_times(past_id, now_ms() - 2 * 3_600_000, Some(now_ms() - 3_600_000)).await;
    let past = past_id.to_string();
    services.schedule_events().await.unwrap();
    wait_for_status(&instructor, &past, "running").await;
    assert_eq!(sim.simulator().vm_count(), templates_only + 1, "the instructor's VM");
    services.schedule_events().await.unwrap();
    wait_for_status(&instructor, &past, "ending").await;
    services.schedule_events().await.unwrap();
    wait_for_status(&instructor, &past, "finished").await;
    assert_eq!(sim.simulator().vm_count(), templates_only);
    // The schedule's moves are the scheduler's; the jobs' ends are the system's.
    let moves: Vec<(ActorKind, String)> = app
        .activities("event.status")
        .await
        .into_iter()
        .filter(|a| a.event_id == Some(past_id))
        .map(|a| (a.actor_kind, a.details["to"].as_str().unwrap_or_default().to_string()))
        .collect();
    let expected = [
        (ActorKind::Scheduler, "deploying"),
        (ActorKind::System, "running"),
        (ActorKind::Scheduler, "ending"),
        (ActorKind::Scheduler, "decommissioning"),
        (ActorKind::System, "finished"),
    ];
    assert_eq!(moves, expected.map(|(k, to)| (k, to.to_string())), "one activity per move");

    worker.stop().await;
    sim.stop().await.unwrap();
}

/// A Proxmox API call with the simulator's token, behind OpenVLE's back.
async fn pve(base: &str, method: reqwest::Method, path: &str) -> Value {
    let auth = format!("PVEAPIToken={DEMO_USER}!{DEMO_TOKEN_NAME}={DEMO_TOKEN_SECRET}");
    let reply = reqwest::Client::new()
        .request(method, format!("{base}/api2/json{path}"))
        .header("Authorization", auth)
        .send()
        .await
        .unwrap();
    assert!(reply.status().is_success(), "{path}: {}", reply.status());
    reply.json().await.unwrap()
}

/// Waits until the cluster shows VM `vmid` in `status` (`None`: gone).
async fn wait_on_cluster(base: &str, vmid: u64, status: Option<&str>) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let resources = pve(base, reqwest::Method::GET, "/cluster/resources?type=vm").await;
        let found = resources["data"].as_array().unwrap().iter().find(|r| r["vmid"].as_u64() == Some(vmid)).cloned();
        if found.as_ref().and_then(|r| r["status"].as_str()) == status {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "VM {vmid} is not {status:?}: {found:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until `check` holds for the VM record `id` (read over HTTP), answering it.
async fn wait_for_vm(client: &Client, id: &str, what: &str, check: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let vm = json(client, "get_vm", &[("id", id)]).await;
        if check(&vm) {
            return vm;
        }
        assert!(tokio::time::Instant::now() < deadline, "VM {id} never {what}: {vm}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The cluster changes behind OpenVLE's back while an event's deployment
/// has failed: the scheduler's reconcile brings the records in line, records
/// one `event.reconcile` listing each difference (and a VM that carries the
/// event's tag without a record), the event page shows it, and a pass that
/// finds nothing records nothing. Then a reset to the template clones the VM
/// afresh and its record follows.
#[tokio::test]
async fn reconcile_reports_drift_and_reset_renews_the_record() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sim = Simulator::new(SimConfig { time_scale: 0.01, ..SimConfig::demo() }).unwrap().start(listener).unwrap();
    let base = sim.base_url();
    let app = TestApp::start_with_cluster(Backend::Sqlite, &base, &[("OPENVLE_SECRET_KEY", KEY)]).await;
    let worker = RunningWorker::start(&app, "reconcile-test");
    let services = app.system.services.clone();
    let ports = services.ports();

    let admin = app.signed_in("admin").await;
    let instructor = app.signed_in("instructor").await;
    let student = app.signed_in("student").await;
    ok(&admin, "import_cluster_template", &[("vmid", "9000")]).await;
    let template = json(&admin, "list_templates", &[]).await[0]["id"].as_i64().unwrap().to_string();
    let (_, event) = planned_event(&admin, &instructor, &template, "Lab", "Drift lab", "drift1").await;
    let event_id: i64 = event.parse().unwrap();
    ok(&instructor, "add_participants", &[("event_id", &event), ("usernames", "student"), ("role", "student")]).await;
    ok(&instructor, "deploy_event", &[("id", &event)]).await;
    wait_for_status(&instructor, &event, "running").await;
    let vms = json(&instructor, "event_vms", &[("event_id", &event)]).await;
    let by_owner = |owner: &str| {
        vms.as_array().unwrap().iter().find(|v| v["owner_username"] == owner).unwrap_or_else(|| panic!("{vms}")).clone()
    };
    let (mine, theirs) = (by_owner("student"), by_owner("instructor"));
    let (my_vmid, their_vmid) = (mine["vmid"].as_u64().unwrap(), theirs["vmid"].as_u64().unwrap());
    let (my_node, their_node) = (mine["node"].as_str().unwrap(), theirs["node"].as_str().unwrap());

    // Behind OpenVLE's back: the student's VM stopped, the instructor's
    // deleted, and a stray VM with the event's tag. A redeployment failed
    // meanwhile (the event is `failed`: its VMs are still reconciled).
    pve(&base, reqwest::Method::POST, &format!("/nodes/{my_node}/qemu/{my_vmid}/status/stop")).await;
    pve(&base, reqwest::Method::POST, &format!("/nodes/{their_node}/qemu/{their_vmid}/status/stop")).await;
    wait_on_cluster(&base, their_vmid, Some("stopped")).await;
    pve(&base, reqwest::Method::DELETE, &format!("/nodes/{their_node}/qemu/{their_vmid}")).await;
    let tag = services::provisioning::names::owner_tag(&services::classroom::deployment::event_owner(event_id));
    let stray = VmSpec {
        vmid: 4321,
        name: "stray-copy".into(),
        node: "pve2".into(),
        pool: Some(DEMO_POOL.into()),
        template: false,
        cores: 1,
        memory_mib: 512,
        disk_gib: 1.0,
        storage: "vmdata".into(),
        description: String::new(),
        tags: tag,
        agent: true,
        running: false,
    };
    sim.simulator().add_vm(stray).unwrap();
    wait_on_cluster(&base, my_vmid, Some("stopped")).await;
    wait_on_cluster(&base, their_vmid, None).await;
    let failed = ports.events.set_status(event_id, EventStatus::Running, EventStatus::Failed, Some("redeploy"), None);
    assert!(failed.await.unwrap());

    // The scheduler's round queues the reconcile; the worker runs it.
    services.schedule_events().await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let reports = loop {
        let reports = app.activities(RECONCILE_ACTION).await;
        if !reports.is_empty() {
            break reports;
        }
        assert!(tokio::time::Instant::now() < deadline, "no reconcile recorded drift");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    // The records match the cluster.
    let mine_now = json(&instructor, "get_vm", &[("id", &mine["id"].to_string())]).await;
    assert_eq!((mine_now["state"].as_str(), mine_now["vmid"].as_u64()), (Some("stopped"), Some(my_vmid)));
    let theirs_now = json(&instructor, "get_vm", &[("id", &theirs["id"].to_string())]).await;
    assert_eq!((theirs_now["state"].as_str(), theirs_now["vmid"].as_u64()), (Some("failed"), None), "{theirs_now}");
    assert!(theirs_now["last_error"].as_str().unwrap().contains("no longer on the cluster"), "{theirs_now}");
    // One activity by the scheduler lists each difference.
    assert_eq!(reports.len(), 1, "{reports:?}");
    let report = &reports[0];
    assert_eq!((report.actor_kind, report.event_id), (ActorKind::Scheduler, Some(event_id)));
    assert_eq!((report.target.kind.as_str(), report.target.id.as_str()), ("events", event.as_str()));
    let drift: DriftReport = serde_json::from_value(report.details.clone()).unwrap();
    let mut kinds: Vec<_> =
        drift.vms.iter().map(|v| (v.vm_id, v.kind, v.recorded.clone(), v.cluster.clone())).collect();
    kinds.sort_by_key(|k| k.0);
    let mut expected = vec![
        (mine["id"].as_i64().unwrap(), DriftKind::Status, Some("running".into()), Some("stopped".into())),
        (theirs["id"].as_i64().unwrap(), DriftKind::Missing, Some("running".into()), None),
    ];
    expected.sort_by_key(|k| k.0);
    assert_eq!(kinds, expected, "{drift:?}");
    assert_eq!(drift.untracked.len(), 1, "{drift:?}");
    assert_eq!((drift.untracked[0].vmid, drift.untracked[0].name.as_str()), (4321, "stray-copy"));

    // The event page shows it to those who manage the event.
    services.forward_activities("reconcile-test").await.unwrap();
    let shown = json(&instructor, "event_drift", &[("event_id", &event)]).await;
    assert_eq!(serde_json::from_value::<DriftReport>(shown["report"].clone()).unwrap(), drift);
    assert_eq!(refused(&student, "event_drift", &[("event_id", &event)]).await.0, "forbidden");
    let page = instructor.get(&format!("/events/{event}")).await;
    assert!(page.body.contains("data-testid=\"event-drift\""), "no drift notice on the event page");
    assert!(page.body.contains("stray-copy") && page.body.contains(theirs["name"].as_str().unwrap()));

    // Without the stray VM nothing differs any more: a pass records nothing.
    pve(&base, reqwest::Method::DELETE, "/nodes/pve2/qemu/4321").await;
    wait_on_cluster(&base, 4321, None).await;
    let job = Job::ReconcileVms { owner: services::classroom::deployment::event_owner(event_id) };
    let task = services.enqueue(&job, Requester::system(Some("reconcile-again".into()))).await.unwrap().unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let view = json(&admin, "get_task", &[("id", &task.to_string())]).await;
        if view["status"] == "success" {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "reconcile did not finish: {view}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(app.activities(RECONCILE_ACTION).await.is_empty(), "a pass without drift records nothing");

    // Reset to the template: the stopped VM is cloned afresh, its record follows.
    let my_id = mine["id"].to_string();
    let reset = [("id", my_id.as_str()), ("action", "reset_to_template"), ("confirm", "on")];
    ok(&student, "vm_action", &reset).await;
    let renewed = wait_for_vm(&student, &my_id, "renewed", |vm| vm["state"] == "running").await;
    let new_vmid = renewed["vmid"].as_u64().unwrap();
    wait_on_cluster(&base, new_vmid, Some("running")).await;
    let resources = pve(&base, reqwest::Method::GET, "/cluster/resources?type=vm").await;
    let named: Vec<&Value> =
        resources["data"].as_array().unwrap().iter().filter(|r| r["name"].as_str() == mine["name"].as_str()).collect();
    assert_eq!(named.len(), 1, "one clone of that name: {named:?}");
    assert_eq!((named[0]["vmid"].as_u64(), named[0]["node"].as_str()), (Some(new_vmid), renewed["node"].as_str()));
    assert!(renewed["ip"].as_str().is_some_and(|ip| !ip.is_empty()), "{renewed}");
    let resets: Vec<_> = app.activities("vm.deployed").await.into_iter().filter(|a| a.target.id == my_id).collect();
    assert_eq!(resets.len(), 1, "the fresh clone came up once: {resets:?}");

    // Power actions return only to pages of this site.
    for (back, expected) in [
        (format!("/events/{event}"), format!("/events/{event}?")),
        ("/\\evil.example".to_string(), format!("/vms/{my_id}?")),
        ("//evil.example".to_string(), format!("/vms/{my_id}?")),
        ("https://evil.example".to_string(), format!("/vms/{my_id}?")),
    ] {
        let form = [("id", my_id.as_str()), ("action", "reboot"), ("back", back.as_str())];
        let reply = student.form("vm_action", &form, "/my-vms").await;
        let location = reply.location.unwrap_or_default();
        assert!(location.starts_with(&expected), "back {back:?} led to {location:?}");
    }

    worker.stop().await;
    sim.stop().await.unwrap();
}
