//! Apache Guacamole over HTTP, against the Proxmox VE and Guacamole
//! simulators with a real worker: the admin page and "Test connection";
//! deployment creating one group per event, one connection per VM at its
//! address with the connection template's credentials, an account and READ
//! per participant; a re-run creating nothing twice; an address change
//! reaching the connection; the sign-in hand-off (the right user, single use,
//! expiry, nobody else's VM); decommission removing everything; and Guacamole
//! down leaving the VMs deployed with the failure visible per VM.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{Backend, Client, TestApp};
use domain::classroom::VmState;
use guacamole_connector::{GuacamoleClient, GuacamoleConfig, JsonSecretKey, Secret, SignInAssertion};
use serde_json::Value;
use services::classroom::ports::VmUpdate;
use services::jobs::worker::{Worker, WorkerConfig};
use services::jobs::{Job, ProductSteps, Requester};
use sim::guacamole::{
    DEMO_ADMIN, DEMO_ADMIN_PASSWORD, DEMO_JSON_SECRET_KEY, GuacSimConfig, GuacamoleSim, RunningGuacamole,
};
use sim::proxmox::{DEMO_TOKEN_NAME, DEMO_TOKEN_SECRET, DEMO_USER, RunningSimulator, SimConfig, Simulator};
use tokio::sync::watch;

const KEY: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
const PASSWORD: &str = "Correct-Horse-42";
const VM_PASSWORD: &str = "Student-Pw-1";

async fn json(client: &Client, name: &str, form: &[(&str, &str)]) -> Value {
    let reply = client.call(name, form).await;
    assert_eq!(reply.status, 200, "{name}: {}", reply.body);
    serde_json::from_str(&reply.body).unwrap_or_else(|e| panic!("{name}: {e}: {}", reply.body))
}

async fn ok(client: &Client, name: &str, form: &[(&str, &str)]) {
    let reply = client.call(name, form).await;
    assert!(reply.error().is_none() && reply.status < 400, "{name}: {} {}", reply.status, reply.body);
}

async fn start_guacamole() -> RunningGuacamole {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    GuacamoleSim::new(GuacSimConfig::demo()).start(listener).unwrap()
}

async fn start_proxmox() -> RunningSimulator {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    Simulator::new(SimConfig { time_scale: 0.01, ..SimConfig::demo() }).unwrap().start(listener).unwrap()
}

fn guacamole_env(url: &str, password: &str) -> Vec<(String, String)> {
    vec![
        ("GUACAMOLE_URL".into(), url.into()),
        ("GUACAMOLE_USERNAME".into(), DEMO_ADMIN.into()),
        ("GUACAMOLE_PASSWORD".into(), password.into()),
        ("GUACAMOLE_JSON_SECRET_KEY".into(), DEMO_JSON_SECRET_KEY.into()),
    ]
}

async fn app_with(vars: Vec<(String, String)>) -> TestApp {
    let borrowed: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    TestApp::start_with(Backend::Sqlite, &borrowed).await
}

/// A worker for the app, stopped by the returned sender.
fn worker(app: &TestApp) -> (watch::Sender<bool>, tokio::task::JoinHandle<()>) {
    let services = app.system.services.clone();
    let mut config = WorkerConfig::new("guacamole-test".into());
    config.retry_scale = 0.01;
    let ports = services.ports();
    let worker = Worker::new(
        ports.tasks.clone(),
        ports.queue.clone(),
        Arc::new(ProductSteps::new(services.clone())),
        services.clock(),
        config,
    );
    let (stop, stopped) = watch::channel(false);
    (stop, tokio::spawn(worker.run(stopped)))
}

/// Polls `check` until it answers `Some`, for at most 60 s.
async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(tokio::time::Instant::now() < deadline, "gave up waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn wait_for_status(client: &Client, event: &str, status: &str) {
    eventually(&format!("event {event} {status}"), || async move {
        let found = json(client, "get_event", &[("id", event)]).await;
        (found["status"] == status).then_some(())
    })
    .await
}

/// The admin account's view of the simulator, as an operator would look.
fn inspector(guacamole: &RunningGuacamole) -> GuacamoleClient {
    let config = GuacamoleConfig::new(&guacamole.base_url(), DEMO_ADMIN, Secret::new(DEMO_ADMIN_PASSWORD)).unwrap();
    GuacamoleClient::new(config).unwrap()
}

/// Signs in at the simulator with a hand-off's `data` the way Guacamole's
/// web application does: (status, username signed in).
async fn redeem(guacamole: &RunningGuacamole, data: &str) -> (u16, Option<String>) {
    let reply = reqwest::Client::new()
        .post(format!("{}api/tokens", guacamole.base_url()))
        .form(&[("data", data)])
        .send()
        .await
        .unwrap();
    let status = reply.status().as_u16();
    let body: Value = reply.json().await.unwrap_or(Value::Null);
    (status, body["username"].as_str().map(str::to_string))
}

/// The `data` parameter of a hand-off's redirect (in the fragment).
fn data_of(location: &str) -> String {
    let (_, query) = location.split_once("?data=").unwrap_or_else(|| panic!("no data in {location}"));
    url::form_urlencoded::parse(format!("data={query}").as_bytes())
        .find(|(k, _)| k == "data")
        .map(|(_, v)| v.into_owned())
        .unwrap()
}

/// An imported template using Guacamole, its seeded connection template
/// recreated with credentials, in an environment; an event with three students.
/// Returns the event id.
async fn prepare_event(admin: &Client, instructor: &Client) -> String {
    ok(admin, "import_cluster_template", &[("vmid", "9000")]).await;
    let template = json(admin, "list_templates", &[]).await[0].clone();
    assert_eq!(template["console"], "guacamole", "Guacamole is the default once configured");
    let template = template["id"].as_i64().unwrap().to_string();
    let seeded = json(admin, "list_connection_templates", &[("template_id", &template)]).await;
    let seeded = seeded[0]["id"].as_i64().unwrap().to_string();
    ok(admin, "delete_connection_template", &[("id", &seeded), ("confirm", "on")]).await;
    let ssh = [
        ("template_id", template.as_str()),
        ("protocol", "ssh"),
        ("conn_username", "student"),
        ("conn_password", VM_PASSWORD),
    ];
    ok(admin, "create_connection_template", &ssh).await;
    ok(admin, "create_environment", &[("name", "Debian lab"), ("template_ids[]", &template), ("counts[]", "1")]).await;
    let environment = json(admin, "list_environments", &[]).await[0]["id"].as_i64().unwrap().to_string();
    let form = [
        ("name", "Networks 1"),
        ("short_name", "net1"),
        ("environment_id", environment.as_str()),
        ("starts_at", "2020-01-01T09:00"),
    ];
    ok(instructor, "create_event", &form).await;
    let event = json(instructor, "list_events", &[("tab", "planned")]).await["items"][0]["id"].as_i64().unwrap();
    let event = event.to_string();
    ok(instructor, "add_participants", &[("event_id", &event), ("usernames", "student"), ("role", "student")]).await;
    let email = "stu2@example.org";
    let form = [
        ("event_id", event.as_str()),
        ("username", "stu2"),
        ("name", "Stu Two"),
        ("email", email),
        ("password", PASSWORD),
        ("role", "student"),
    ];
    ok(instructor, "create_participant", &form).await;
    event
}

#[tokio::test]
async fn settings_page_shows_the_configuration_and_tests_it() {
    // Not configured: the page says so, the test refuses with a reason.
    let plain = TestApp::start(Backend::Sqlite).await;
    let admin = &plain.signed_in("admin").await;
    assert!(json(admin, "guacamole_settings", &[]).await["settings"].is_null());
    let refused = admin.call("test_guacamole", &[]).await;
    assert!(refused.body.contains("guacamole_not_configured"), "{}", refused.body);
    drop(plain);

    let guacamole = start_guacamole().await;
    let app = app_with(guacamole_env(&guacamole.base_url(), DEMO_ADMIN_PASSWORD)).await;
    let admin = &app.signed_in("admin").await;
    let settings = json(admin, "guacamole_settings", &[]).await["settings"].clone();
    let value = |name: &str| {
        settings.as_array().unwrap().iter().find(|e| e["variable"] == name).unwrap()["value"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(value("GUACAMOLE_URL"), guacamole.base_url());
    assert_eq!((value("GUACAMOLE_PASSWORD"), value("GUACAMOLE_JSON_SECRET_KEY")), ("(set)".into(), "(set)".into()));
    assert!(!settings.to_string().contains(DEMO_JSON_SECRET_KEY));
    assert_eq!(json(admin, "test_guacamole", &[]).await, "mysql");
    // The page, without JavaScript: the values and the test's answer.
    let page = admin.get("/admin/guacamole?test=1").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("GUACAMOLE_URL") && page.body.contains("mysql"), "{}", page.body);
    let student = &app.signed_in("student").await;
    assert_eq!(student.call("test_guacamole", &[]).await.error().as_deref(), Some("forbidden"));
    drop(app);

    // Refused credentials: the test fails naming Guacamole's answer.
    let wrong = app_with(guacamole_env(&guacamole.base_url(), "wrong")).await;
    let admin = &wrong.signed_in("admin").await;
    let reply = admin.call("test_guacamole", &[]).await;
    let body: Value = serde_json::from_str(&reply.body).unwrap();
    assert_eq!((reply.status, body["error"].as_str()), (502, Some("check_failed")), "{body}");
    assert_eq!(body["system"], "Guacamole");
    assert!(body["message"].as_str().unwrap().to_lowercase().contains("refused"), "{body}");
    guacamole.stop().await.unwrap();
}

#[tokio::test]
async fn deployment_mirrors_vms_in_guacamole_and_hands_participants_over() {
    let proxmox = start_proxmox().await;
    let guacamole = start_guacamole().await;
    let mut vars = guacamole_env(&guacamole.base_url(), DEMO_ADMIN_PASSWORD);
    vars.extend([
        ("OPENVLE_SECRET_KEY".to_string(), KEY.to_string()),
        ("PVE_HOSTNAME".into(), proxmox.base_url()),
        ("PVE_USER".into(), DEMO_USER.into()),
        ("PVE_TOKEN_NAME".into(), DEMO_TOKEN_NAME.into()),
        ("PVE_TOKEN_VALUE".into(), DEMO_TOKEN_SECRET.into()),
    ]);
    let app = app_with(vars).await;
    let services = &app.system.services;
    let (stop, running) = worker(&app);
    let admin = &app.signed_in("admin").await;
    let instructor = &app.signed_in("instructor").await;
    let student = &app.signed_in("student").await;
    let activities = || async move { services.ports().outbox.backlog().await.unwrap().waiting };
    let before = activities().await;
    let event = prepare_event(admin, instructor).await;
    assert!(activities().await > before);

    ok(instructor, "deploy_event", &[("id", &event)]).await;
    wait_for_status(instructor, &event, "running").await;
    let vms = json(instructor, "event_vms", &[("event_id", &event)]).await;
    let vms = vms.as_array().unwrap().clone();
    // The instructor and two students, one VM each; every one gets its connection.
    assert_eq!(vms.len(), 3, "{vms:?}");
    let sim = guacamole.sim();
    eventually("one connection per VM", || async move { (sim.inventory().connections == 3).then_some(()) }).await;
    let inventory = sim.inventory();
    // guacadmin and the three participants; one group for the event.
    assert_eq!((inventory.users, inventory.connection_groups), (4, 1));
    let guac = &inspector(&guacamole);
    let group = guac.find_group("Networks 1 [net1]").await.unwrap().expect("the event's group");
    let stu2 = &app.signed_in("stu2").await;
    let mine = json(student, "my_vms", &[]).await[0]["vms"][0].clone();
    let my_vm = &mine["id"].as_i64().unwrap().to_string();
    let my_ip = mine["ip"].as_str().unwrap().to_string();
    let connections = eventually("the student's connection recorded", || async move {
        let list = json(student, "vm_connections", &[("vm_id", my_vm)]).await;
        (list[0]["granted"] == true).then_some(list)
    })
    .await;
    let name = connections[0]["name"].as_str().unwrap().to_string();
    assert!(name.starts_with("Networks 1 – net1-student-") && name.ends_with("(SSH 22)"), "{name}");
    let id = &connections[0]["remote_id"].as_str().unwrap().to_string();
    let found = guac.find_connection(&group.identifier, &name).await.unwrap().expect("connection in the group");
    assert_eq!(&found.identifier, id);
    let params = guac.connection_parameters(id).await.unwrap();
    assert_eq!((params["hostname"].as_str(), params["port"].as_str()), (my_ip.as_str(), "22"));
    assert_eq!((params["username"].as_str(), params["password"].as_str()), ("student", VM_PASSWORD));
    let permissions = guac.permissions("student").await.unwrap();
    assert_eq!(permissions.connection_permissions.get(id.as_str()).map(Vec::as_slice), Some(&["READ".to_string()][..]));
    assert_eq!(permissions.connection_permissions.len(), 1, "only their own: {permissions:?}");

    // Re-running the sync (and the deployment) creates nothing twice.
    let requester = || Requester { event_id: event.parse().ok(), ..Requester::system(None) };
    let event_id: i64 = event.parse().unwrap();
    services.enqueue(&Job::SyncConnections { event_id }, requester()).await.unwrap();
    ok(instructor, "deploy_event", &[("id", &event)]).await;
    wait_for_status(instructor, &event, "running").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let again = sim.inventory();
    assert_eq!((again.users, again.connection_groups, again.connections), (4, 1, 3));

    // The address changes (what a reconcile records): the connection follows.
    let vm_id: i64 = my_vm.parse().unwrap();
    let vm = services.ports().vms.by_id(vm_id).await.unwrap().unwrap();
    let update = VmUpdate {
        vmid: vm.vmid,
        node: vm.node.clone(),
        state: VmState::Running,
        ip: Some("10.99.0.5".into()),
        last_error: None,
    };
    services.record_vm_state(vm_id, &update).await.unwrap();
    services.enqueue(&Job::SyncConnections { event_id }, requester()).await.unwrap();
    eventually("the new address in Guacamole", || async move {
        let params = guac.connection_parameters(id).await.unwrap();
        (params["hostname"] == "10.99.0.5").then_some(())
    })
    .await;
    assert_eq!(sim.inventory().connections, 3);

    // Connect: straight into the connection, signed in as the student.
    let before = activities().await;
    let hand_off = student.get(&format!("/vms/{my_vm}/guacamole")).await;
    assert_eq!(hand_off.status, 303, "{}", hand_off.body);
    let location = hand_off.location.unwrap();
    let client = guacamole_connector::client_identifier(id, "mysql");
    assert!(location.starts_with(&format!("{}#/client/{client}?data=", guacamole.base_url())), "{location}");
    assert_eq!(activities().await, before + 1, "the hand-off is recorded");
    let data = data_of(&location);
    assert_eq!(redeem(&guacamole, &data).await, (200, Some("student".to_string())));
    // Single use: the same link signs nobody in again.
    assert_eq!(redeem(&guacamole, &data).await.0, 403);
    // Expired data is refused too.
    let key = JsonSecretKey::from_hex(DEMO_JSON_SECRET_KEY).unwrap();
    let stale = SignInAssertion { username: "student".into(), expires_ms: 1_000 }.seal(&key);
    assert_eq!(redeem(&guacamole, &stale).await.0, 403);
    // Nobody else's VM, and nothing for someone signed out or another site.
    assert_eq!(stu2.get(&format!("/vms/{my_vm}/guacamole")).await.status, 404);
    assert_eq!(instructor.get(&format!("/vms/{my_vm}/guacamole")).await.status, 403);
    let anonymous = app.client().get(&format!("/vms/{my_vm}/guacamole")).await;
    assert_eq!(
        (anonymous.status, anonymous.location.as_deref()),
        (303, Some(&*format!("/login?next=/vms/{my_vm}/guacamole")))
    );
    let cross = student
        .http
        .get(app.url(&format!("/vms/{my_vm}/guacamole")))
        .header("Sec-Fetch-Site", "cross-site")
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status().as_u16(), 403);

    // "End now": the group and every connection in it are gone.
    ok(instructor, "end_event", &[("id", &event), ("confirm", "on")]).await;
    wait_for_status(instructor, &event, "finished").await;
    eventually("the event's connections removed", || async move {
        let inventory = sim.inventory();
        (inventory.connection_groups == 0 && inventory.connections == 0).then_some(())
    })
    .await;
    assert!(guac.permissions("student").await.unwrap().connection_permissions.is_empty());

    stop.send_replace(true);
    running.await.unwrap();
    guacamole.stop().await.unwrap();
    proxmox.stop().await.unwrap();
}

#[tokio::test]
async fn guacamole_down_never_blocks_the_vms_and_the_failure_shows_per_vm() {
    let proxmox = start_proxmox().await;
    // A port nobody listens on.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
    let mut vars = guacamole_env(&format!("http://{closed}/guacamole/"), DEMO_ADMIN_PASSWORD);
    vars.extend([
        ("OPENVLE_SECRET_KEY".to_string(), KEY.to_string()),
        ("PVE_HOSTNAME".into(), proxmox.base_url()),
        ("PVE_USER".into(), DEMO_USER.into()),
        ("PVE_TOKEN_NAME".into(), DEMO_TOKEN_NAME.into()),
        ("PVE_TOKEN_VALUE".into(), DEMO_TOKEN_SECRET.into()),
    ]);
    let app = app_with(vars).await;
    let (stop, running) = worker(&app);
    let admin = &app.signed_in("admin").await;
    let instructor = &app.signed_in("instructor").await;
    let student = &app.signed_in("student").await;
    let event = prepare_event(admin, instructor).await;

    ok(instructor, "deploy_event", &[("id", &event)]).await;
    wait_for_status(instructor, &event, "running").await;
    let vms = json(instructor, "event_vms", &[("event_id", &event)]).await;
    assert!(vms.as_array().unwrap().iter().all(|vm| vm["state"] == "running"), "{vms}");
    let my_vm = &json(student, "my_vms", &[]).await[0]["vms"][0]["id"].as_i64().unwrap().to_string();
    let failure = eventually("the failure recorded on the VM", || async move {
        let list = json(instructor, "vm_connections", &[("vm_id", my_vm)]).await;
        list[0]["last_error"].as_str().map(str::to_string)
    })
    .await;
    assert!(failure.contains("unavailable"), "{failure}");
    // The VM page shows it, and Connect says the connection is not ready.
    let page = instructor.get(&format!("/vms/{my_vm}")).await;
    assert!(page.body.contains("vm-connection-error"), "{}", page.body);
    assert_eq!(student.get(&format!("/vms/{my_vm}/guacamole")).await.status, 409);
    // The sync job is retried and then visible as failed on the Tasks page.
    let tasks = eventually("the failed sync task", || async move {
        let tasks = json(admin, "list_tasks", &[("status", "failed")]).await;
        let failed = tasks["items"].as_array()?.iter().find(|t| t["kind"] == "sync_connections")?.clone();
        Some(failed)
    })
    .await;
    assert!(tasks["last_error"].as_str().unwrap_or_default().contains("Guacamole"), "{tasks}");

    stop.send_replace(true);
    running.await.unwrap();
    proxmox.stop().await.unwrap();
}
