//! Apache Guacamole over HTTP, against the Proxmox VE and Guacamole
//! simulators with a real worker: the settings (environment by default, a
//! saved connection winning over it on every replica, secrets write-only,
//! invalid forms changing nothing) and "Test connection"; deployment creating
//! one group per event, one connection per VM at its address with the
//! connection template's credentials, an account and READ per participant; a
//! re-run creating nothing twice; a reconcile's address change reaching the
//! connection; READ only between the event's start and end; the sign-in
//! hand-off (the right user, single use, expiry, nobody else's VM; Guacamole's
//! own sign-in page with the method `none`); decommission removing
//! everything; and Guacamole down leaving the VMs deployed with the failure
//! visible per VM.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{Backend, Client, RunningWorker, TestApp, json, now_ms, ok, wait_for_status};
use domain::classroom::{EventStatus, VmState};
use guacamole_connector::adapter::GuacamoleConnector;
use guacamole_connector::{GuacamoleClient, GuacamoleConfig, JsonSecretKey, Secret, SignInAssertion};
use proxmox_connector::adapter::PveConnector;
use serde_json::Value;
use services::Services;
use services::classroom::ports::VmUpdate;
use services::clock::SystemClock;
use services::cluster::ClusterHandle;
use services::guacamole_connection::GuacamoleHandle;
use services::jobs::{Job, Requester};
use services::secrets::SecretKey;
use sim::guacamole::{
    DEMO_ADMIN, DEMO_ADMIN_PASSWORD, DEMO_JSON_SECRET_KEY, GuacSimConfig, GuacamoleSim, RunningGuacamole,
};
use sim::proxmox::{DEMO_TOKEN_NAME, DEMO_TOKEN_SECRET, DEMO_USER, RunningSimulator, SimConfig, Simulator};

const KEY: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
const PASSWORD: &str = "Correct-Horse-42";
const VM_PASSWORD: &str = "Student-Pw-1";

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

/// The key, and the Proxmox simulator as the environment's cluster.
fn proxmox_env(proxmox: &RunningSimulator) -> Vec<(String, String)> {
    vec![
        ("OPENVLE_SECRET_KEY".into(), KEY.into()),
        ("PVE_HOSTNAME".into(), proxmox.base_url()),
        ("PVE_USER".into(), DEMO_USER.into()),
        ("PVE_TOKEN_NAME".into(), DEMO_TOKEN_NAME.into()),
        ("PVE_TOKEN_VALUE".into(), DEMO_TOKEN_SECRET.into()),
    ]
}

async fn app_with(vars: Vec<(String, String)>) -> TestApp {
    app_on(Backend::Sqlite, vars).await
}

async fn app_on(backend: Backend, vars: Vec<(String, String)>) -> TestApp {
    let borrowed: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    TestApp::start_with(backend, &borrowed).await
}

/// An address nobody listens on.
async fn closed_address() -> std::net::SocketAddr {
    tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap()
}

/// Another replica on the same database, started before anything is saved,
/// with no Guacamole in its environment; signed in as the administrator.
async fn replica(app: &TestApp) -> (Services, domain::Actor) {
    let key = SecretKey::from_hex(KEY).unwrap();
    let services = Services::new(app.system.db.ports(None), Arc::new(SystemClock), "replica-auth-secret")
        .with_cluster(ClusterHandle::new(Arc::new(PveConnector), None, Some(key)))
        .with_guacamole(GuacamoleHandle::new(Arc::new(GuacamoleConnector), None));
    let origin = domain::activity::Origin::client("127.0.0.1");
    let token = services.login("admin", PASSWORD, &origin).await.unwrap().token;
    let actor = services.session_user(&token).await.unwrap().unwrap().actor;
    (services, actor)
}

/// The Guacamole settings form.
fn settings_form<'a>(url: &'a str, password: &'a str, method: &'a str, key: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("guacamole_url", url),
        ("admin_username", DEMO_ADMIN),
        ("admin_password", password),
        ("data_source", ""),
        ("sso_method", method),
        ("json_secret_key", key),
    ]
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
async fn without_guacamole_the_settings_say_so_and_the_test_refuses() {
    let plain = TestApp::start(Backend::Sqlite).await;
    let admin = &plain.signed_in("admin").await;
    let view = json(admin, "guacamole_settings", &[]).await;
    assert!(view["source"].is_null(), "{view}");
    assert_eq!(view["can_save"], false, "no OPENVLE_SECRET_KEY: {view}");
    let refused = admin.call("test_guacamole", &[]).await;
    assert!(refused.body.contains("guacamole_not_configured"), "{}", refused.body);
    // Without the key nothing with secrets can be saved, and nothing is.
    let form = settings_form("http://127.0.0.1:9/guacamole/", "pw", "none", "");
    let reply = admin.call("save_guacamole", &form).await;
    assert!(reply.body.contains("secret_key_missing"), "{}", reply.body);
    assert!(json(admin, "guacamole_settings", &[]).await["source"].is_null());
    let student = &plain.signed_in("student").await;
    assert_eq!(student.call("test_guacamole", &[]).await.error().as_deref(), Some("forbidden"));
}

#[tokio::test]
async fn saved_settings_win_over_the_environment_on_sqlite() {
    saved_settings_win_over_the_environment(Backend::Sqlite).await;
}

#[tokio::test]
async fn saved_settings_win_over_the_environment_on_mariadb() {
    saved_settings_win_over_the_environment(Backend::MariaDb).await;
}

/// The environment's connection is the default until one is saved; a saved
/// one is used by "Test connection", the next sync and the next hand-off, on
/// this replica and on one started before the save; secrets never come back.
async fn saved_settings_win_over_the_environment(backend: Backend) {
    let proxmox = start_proxmox().await;
    // An admin password other than the demo's (which equals the username).
    const SIM_PASSWORD: &str = "sim-admin-password-3";
    let config = GuacSimConfig { admin_password: SIM_PASSWORD.into(), ..GuacSimConfig::demo() };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let guacamole = GuacamoleSim::new(config).start(listener).unwrap();
    // The environment names a Guacamole nobody runs.
    let env_url = format!("http://{}/guacamole/", closed_address().await);
    const ENV_PASSWORD: &str = "env-admin-password-7";
    let mut vars = guacamole_env(&env_url, ENV_PASSWORD);
    vars.extend(proxmox_env(&proxmox));
    let app = &app_on(backend, vars).await;
    let worker = RunningWorker::start(app, "guacamole-test");
    let admin = &app.signed_in("admin").await;
    let instructor = &app.signed_in("instructor").await;
    let student = &app.signed_in("student").await;
    let secrets = [ENV_PASSWORD, SIM_PASSWORD, DEMO_JSON_SECRET_KEY];
    let no_secret = |text: &str, what: &str| {
        for secret in secrets {
            assert!(!text.contains(secret), "{what} shows a secret: {text}");
        }
    };

    // The environment's values are shown (secrets only as set) and tested.
    let env_view = json(admin, "guacamole_settings", &[]).await;
    assert_eq!((env_view["source"].as_str(), env_view["url"].as_str()), (Some("environment"), Some(env_url.as_str())));
    assert_eq!((env_view["password_set"].as_bool(), env_view["json_secret_set"].as_bool()), (Some(true), Some(true)));
    assert_eq!(env_view["sso_method"], "encrypted_json");
    no_secret(&env_view.to_string(), "the settings");
    let page = admin.get("/admin/guacamole").await;
    assert!(page.body.contains("GUACAMOLE_* environment variables") && page.body.contains(&env_url), "{}", page.body);
    no_secret(&page.body, "the page");
    let failed = admin.call("test_guacamole", &[]).await;
    assert_eq!((failed.status, failed.error().as_deref()), (502, Some("check_failed")), "{}", failed.body);

    // Forms that fail validation name the field and change nothing.
    let saves = || async move { app.activities("guacamole.settings_save").await.len() };
    let sim_url = guacamole.base_url();
    for (field, form) in [
        ("guacamole_url", settings_form("guacamole.example.org", "pw", "none", "")),
        ("guacamole_url", settings_form("ftp://g.example/guacamole/", "pw", "none", "")),
        ("json_secret_key", settings_form(&sim_url, "pw", "guacamole-auth-json", "not-32-hex-digits")),
        ("json_secret_key", settings_form(&sim_url, "pw", "guacamole-auth-json", "4c0b569e4c96df157eee1b65dd0e4d")),
        ("sso_method", settings_form(&sim_url, "pw", "saml", "")),
    ] {
        let reply = admin.call("save_guacamole", &form).await;
        let body: Value = serde_json::from_str(&reply.body).unwrap();
        assert_eq!((reply.status, body["error"].as_str(), body["field"].as_str()), (422, Some("invalid"), Some(field)));
    }
    assert_eq!(json(admin, "guacamole_settings", &[]).await, env_view);
    assert_eq!(saves().await, 0);

    // Saved: the simulator, with the demo secrets; one activity without them.
    let (replica, replica_admin) = replica(app).await;
    let refused = replica.test_guacamole(&replica_admin).await.unwrap_err();
    assert_eq!(refused, domain::AppError::conflict("guacamole_not_configured"));
    let form = settings_form(&sim_url, SIM_PASSWORD, "guacamole-auth-json", DEMO_JSON_SECRET_KEY);
    let reply = admin.call("save_guacamole", &form).await;
    assert!(reply.status < 400 && reply.error().is_none(), "{} {}", reply.status, reply.body);
    no_secret(&reply.body, "the save's answer");
    let saved = app.activities("guacamole.settings_save").await;
    assert_eq!(saved.len(), 1);
    no_secret(&serde_json::to_string(&saved[0]).unwrap(), "the activity");
    let view = json(admin, "guacamole_settings", &[]).await;
    assert_eq!((view["source"].as_str(), view["url"].as_str()), (Some("saved"), Some(sim_url.as_str())));
    assert_eq!((view["updated_by"].as_str(), view["json_secret_set"].as_bool()), (Some("admin"), Some(true)));
    no_secret(&view.to_string(), "the saved settings");
    let page = admin.get("/admin/guacamole?test=1").await;
    assert!(page.body.contains("the connection saved here") && page.body.contains("mysql"), "{}", page.body);
    no_secret(&page.body, "the page");
    assert_eq!(json(admin, "test_guacamole", &[]).await, "mysql");
    // The other replica rebuilds its gateway from the stored revision.
    assert_eq!(replica.test_guacamole(&replica_admin).await.unwrap(), "mysql");
    // Empty secret fields keep the stored ones.
    ok(admin, "save_guacamole", &settings_form(&sim_url, "", "guacamole-auth-json", "")).await;
    assert_eq!(json(admin, "test_guacamole", &[]).await, "mysql");
    assert_eq!(saves().await, 2);

    // The next sync uses the saved connection: the VMs appear in the simulator.
    let event = prepare_event(admin, instructor).await;
    ok(instructor, "deploy_event", &[("id", &event)]).await;
    wait_for_status(instructor, &event, "running").await;
    let sim = guacamole.sim();
    eventually("one connection per VM", || async move { (sim.inventory().connections == 3).then_some(()) }).await;
    let my_vm = &json(student, "my_vms", &[]).await[0]["vms"][0]["id"].as_i64().unwrap().to_string();
    let id = eventually("the student's connection granted", || async move {
        let list = json(student, "vm_connections", &[("vm_id", my_vm)]).await;
        (list[0]["granted"] == true).then(|| list[0]["remote_id"].as_str().unwrap().to_string())
    })
    .await;
    let client = guacamole_connector::client_identifier(&id, "mysql");
    let hand_off = student.get(&format!("/vms/{my_vm}/guacamole")).await;
    let location = hand_off.location.unwrap_or_default();
    assert!(location.starts_with(&format!("{sim_url}#/client/{client}?data=")), "{location}");
    assert_eq!(redeem(&guacamole, &data_of(&location)).await, (200, Some("student".to_string())));

    // The method `none`: Connect opens Guacamole's own sign-in page, straight
    // on to the connection afterwards, with no assertion at all.
    ok(admin, "save_guacamole", &settings_form(&sim_url, "", "none", "")).await;
    let view = json(admin, "guacamole_settings", &[]).await;
    assert_eq!((view["sso_method"].as_str(), view["json_secret_set"].as_bool()), (Some("none"), Some(true)));
    let hand_off = student.get(&format!("/vms/{my_vm}/guacamole")).await;
    assert_eq!(hand_off.status, 303, "{}", hand_off.body);
    assert_eq!(hand_off.location.as_deref(), Some(format!("{sim_url}#/client/{client}").as_str()));
    let recorded = app.activities("vm.guacamole_sign_in").await;
    assert_eq!(recorded.last().map(|a| a.details["sso_method"].clone()), Some(Value::from("none")));

    worker.stop().await;
    guacamole.stop().await.unwrap();
    proxmox.stop().await.unwrap();
}

#[tokio::test]
async fn deployment_mirrors_vms_in_guacamole_and_hands_participants_over() {
    let proxmox = start_proxmox().await;
    let guacamole = start_guacamole().await;
    let mut vars = guacamole_env(&guacamole.base_url(), DEMO_ADMIN_PASSWORD);
    vars.extend(proxmox_env(&proxmox));
    let app = app_with(vars).await;
    let services = &app.system.services;
    let worker = RunningWorker::start(&app, "guacamole-test");
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
    // The scheduler's next reconcile finds the address the guest agent reports
    // (not the recorded one) and queues the sync itself: nobody enqueues it.
    services.schedule_events().await.unwrap();
    let ip = my_ip.as_str();
    eventually("the reconciled address in Guacamole", || async move {
        let params = guac.connection_parameters(id).await.unwrap();
        (params["hostname"] == ip).then_some(())
    })
    .await;
    assert_eq!(json(student, "get_vm", &[("id", my_vm)]).await["ip"], ip);

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

    worker.stop().await;
    guacamole.stop().await.unwrap();
    proxmox.stop().await.unwrap();
}

#[tokio::test]
async fn guacamole_down_never_blocks_the_vms_and_the_failure_shows_per_vm() {
    let proxmox = start_proxmox().await;
    let mut vars = guacamole_env(&format!("http://{}/guacamole/", closed_address().await), DEMO_ADMIN_PASSWORD);
    vars.extend(proxmox_env(&proxmox));
    let app = app_with(vars).await;
    let worker = RunningWorker::start(&app, "guacamole-test");
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

    worker.stop().await;
    proxmox.stop().await.unwrap();
}

/// Activation and deactivation: an event deployed before its start has its
/// connections but opens none; the first sync after the start (queued by the
/// scheduler's reconcile) grants READ; the move to `ending` once the end has
/// passed queues the sync that revokes it, and the connections stay.
#[tokio::test]
async fn read_is_granted_from_the_start_and_revoked_at_the_end() {
    let proxmox = start_proxmox().await;
    let guacamole = start_guacamole().await;
    let mut vars = guacamole_env(&guacamole.base_url(), DEMO_ADMIN_PASSWORD);
    vars.extend(proxmox_env(&proxmox));
    let app = &app_with(vars).await;
    let services = &app.system.services;
    let worker = RunningWorker::start(app, "guacamole-test");
    let admin = &app.signed_in("admin").await;
    let instructor = &app.signed_in("instructor").await;
    let student = &app.signed_in("student").await;
    let event = prepare_event(admin, instructor).await;
    let event_id: i64 = event.parse().unwrap();
    const DAY: i64 = 24 * 3600 * 1000;
    // Tomorrow's event, deployed now ("Deploy now" before the start).
    app.set_event_times(event_id, now_ms() + DAY, Some(now_ms() + 2 * DAY)).await;
    ok(instructor, "deploy_event", &[("id", &event)]).await;
    wait_for_status(instructor, &event, "running").await;
    let sim = guacamole.sim();
    eventually("one connection per VM", || async move { (sim.inventory().connections == 3).then_some(()) }).await;
    let my_vm = &json(student, "my_vms", &[]).await[0]["vms"][0]["id"].as_i64().unwrap().to_string();
    let connection = |vm: &str| {
        let vm = vm.to_string();
        async move { json(student, "vm_connections", &[("vm_id", &vm)]).await[0].clone() }
    };
    let recorded = eventually("the connection recorded", || async move {
        Some(connection(my_vm).await).filter(|c| c["remote_id"].is_string())
    })
    .await;
    assert_eq!(recorded["granted"], false, "{recorded}");
    let guac = &inspector(&guacamole);
    assert!(guac.permissions("student").await.unwrap().connection_permissions.is_empty());
    assert_eq!(student.get(&format!("/vms/{my_vm}/guacamole")).await.status, 409, "not open before the start");

    // The start passes: the scheduler's round reconciles the running event,
    // and the sync that queues grants READ.
    app.set_event_times(event_id, now_ms() - 60_000, Some(now_ms() + DAY)).await;
    services.schedule_events().await.unwrap();
    let granted =
        eventually("READ granted", || async move { Some(connection(my_vm).await).filter(|c| c["granted"] == true) })
            .await;
    let id = granted["remote_id"].as_str().unwrap().to_string();
    let permissions = guac.permissions("student").await.unwrap();
    assert_eq!(permissions.connection_permissions.get(id.as_str()).map(Vec::as_slice), Some(&["READ".to_string()][..]));
    assert_eq!(student.get(&format!("/vms/{my_vm}/guacamole")).await.status, 303);

    // The end passes: the round moves the event to `ending`, and that move
    // queues the sync that revokes READ. The connections stay until decommission.
    app.set_event_times(event_id, now_ms() - 120_000, Some(now_ms() - 60_000)).await;
    services.schedule_events().await.unwrap();
    assert_eq!(services.ports().events.by_id(event_id, 0).await.unwrap().unwrap().status, EventStatus::Ending);
    eventually("READ revoked", || async move { Some(connection(my_vm).await).filter(|c| c["granted"] == false) }).await;
    assert!(guac.permissions("student").await.unwrap().connection_permissions.is_empty());
    assert_eq!(sim.inventory().connections, 3);
    assert_eq!(student.get(&format!("/vms/{my_vm}/guacamole")).await.status, 409);

    worker.stop().await;
    guacamole.stop().await.unwrap();
    proxmox.stop().await.unwrap();
}
