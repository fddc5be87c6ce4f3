//! The built-in console in the running server (`web::router`, as `serve` and
//! `demo` mount it), over a deployed event's VM records: the Connect route, who
//! may open which console, the `vm.console_open` activity, the cluster connection
//! saved in Settings taking effect for the next console, and a stopped VM
//! ending the console and refusing a new one.

mod common;

use std::time::Duration;

use common::{Backend, PASSWORD, RunningWorker, TestApp, json, ok, planned_event};
use futures_util::StreamExt;
use sim::proxmox::{DEMO_TOKEN_NAME, DEMO_TOKEN_SECRET, DEMO_USER, SimConfig, Simulator, VmSpec};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

const KEY: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

async fn session(app: &TestApp, username: &str) -> String {
    let origin = domain::activity::Origin::client("127.0.0.1");
    app.system.services.login(username, PASSWORD, &origin).await.expect("login").token
}

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens `/console/{vm}/websocket` as a browser would (same Origin, session cookie).
async fn open(app: &TestApp, vm: &str, token: &str) -> Result<Socket, u16> {
    let mut request =
        app.url(&format!("/console/{vm}/websocket")).replace("http://", "ws://").into_client_request().unwrap();
    request.headers_mut().insert("Origin", app.url("").parse().unwrap());
    request.headers_mut().insert("Cookie", format!("openvle_session={token}").parse().unwrap());
    match tokio_tungstenite::connect_async(request).await {
        Ok((socket, _)) => Ok(socket),
        Err(WsError::Http(response)) => Err(response.status().as_u16()),
        Err(other) => panic!("neither a socket nor an HTTP refusal: {other}"),
    }
}

/// The first message must be the RFB greeting OpenVLE presents.
async fn greeting(socket: &mut Socket) {
    let first = tokio::time::timeout(Duration::from_secs(15), socket.next()).await.unwrap().unwrap().unwrap();
    assert_eq!(first.into_data().as_ref(), b"RFB 003.008\n");
}

/// The `vm.console_open` activities written so far (nothing forwards the outbox in tests).
async fn console_opens(app: &TestApp) -> Vec<domain::activity::Activity> {
    let waiting = app.system.services.ports().outbox.oldest(10_000).await.unwrap();
    waiting.into_iter().map(|(_, a)| a).filter(|a| a.action == "vm.console_open").collect()
}

#[tokio::test]
async fn console_of_a_deployed_vm_for_its_owner_only() {
    assert!(
        sim::proxmox::console::xvnc_binary().is_some(),
        "Xvnc is needed: apt-get install tigervnc-standalone-server (scripts/setup --test)"
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sim = Simulator::new(SimConfig { time_scale: 0.01, ..SimConfig::demo() }).unwrap().start(listener).unwrap();
    let base = sim.base_url();
    let app = TestApp::start_with_cluster(Backend::Sqlite, &base, &[("OPENVLE_SECRET_KEY", KEY)]).await;
    let worker = RunningWorker::start(&app, "console-test");

    // An event with the student and a classmate, deployed.
    let admin = app.signed_in("admin").await;
    let instructor = app.signed_in("instructor").await;
    ok(&admin, "import_cluster_template", &[("vmid", "9000")]).await;
    let template = json(&admin, "list_templates", &[]).await[0]["id"].as_i64().unwrap().to_string();
    let (_, event) = planned_event(&admin, &instructor, &template, "Lab", "Consoles", "con1").await;
    ok(&instructor, "add_participants", &[("event_id", &event), ("usernames", "student"), ("role", "student")]).await;
    let form = [
        ("event_id", event.as_str()),
        ("username", "classmate"),
        ("name", "Classmate"),
        ("email", "classmate@example.org"),
        ("password", PASSWORD),
        ("role", "student"),
    ];
    ok(&instructor, "create_participant", &form).await;
    ok(&instructor, "deploy_event", &[("id", &event)]).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while json(&instructor, "get_event", &[("id", &event)]).await["status"] != "running" {
        assert!(tokio::time::Instant::now() < deadline, "the event was not deployed in time");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let student = app.signed_in("student").await;
    let classmate = app.signed_in("classmate").await;
    let mine = json(&student, "my_vms", &[]).await[0]["vms"][0].clone();
    let my_vm = mine["id"].as_i64().unwrap().to_string();
    let vmid = mine["vmid"].as_u64().unwrap() as u32;
    let node = mine["node"].as_str().unwrap().to_string();

    // Connect: the owner is sent to the console page; a classmate learns nothing.
    let connect = format!("/vms/{my_vm}/connect");
    let reply = student.get(&connect).await;
    assert_eq!((reply.status, reply.location.as_deref()), (303, Some(format!("/vms/{my_vm}/console").as_str())));
    assert_eq!(classmate.get(&connect).await.status, 404);
    assert_eq!(classmate.get("/vms/not-a-number/connect").await.status, 404);
    let anonymous = app.client().get(&connect).await;
    assert_eq!(anonymous.location.as_deref(), Some(format!("/login?next=%2Fvms%2F{my_vm}%2Fconnect").as_str()));
    // The page's server function: the same rule.
    assert_eq!(json(&student, "vm_console", &[("id", &my_vm)]).await["state"], "running");
    assert_eq!(classmate.call("vm_console", &[("id", &my_vm)]).await.error().as_deref(), Some("not_found"));

    // The WebSocket: a classmate guessing the id gets a refusal and not one byte.
    let student_token = session(&app, "student").await;
    let classmate_token = session(&app, "classmate").await;
    // One answer (403) whether the VM is someone else's or does not exist at all.
    assert_eq!(open(&app, &my_vm, &classmate_token).await.err(), Some(403));
    assert_eq!(open(&app, "999999", &student_token).await.err(), Some(403));
    assert_eq!(open(&app, "not-a-number", &student_token).await.err(), Some(403));
    assert!(console_opens(&app).await.is_empty(), "refusals open no console");
    // The owner gets the VM's console (Xvnc behind the simulator's vncwebsocket); recorded once.
    let mut socket = open(&app, &my_vm, &student_token).await.expect("the owner's console");
    greeting(&mut socket).await;
    let opens = console_opens(&app).await;
    assert_eq!(opens.len(), 1, "{opens:?}");
    assert_eq!((opens[0].actor_name.as_str(), opens[0].target.id.as_str()), ("student", my_vm.as_str()));
    assert_eq!(opens[0].event_id, Some(event.parse().unwrap()));
    // The instructor of the event may open it too.
    let instructor_token = session(&app, "instructor").await;
    greeting(&mut open(&app, &my_vm, &instructor_token).await.expect("the instructor's console")).await;

    // Stopping the VM ends its console; once the VM is recorded as stopped a new
    // console is refused (409), and Connect leads to the page that says so.
    ok(&student, "vm_action", &[("id", &my_vm), ("action", "stop"), ("confirm", "on")]).await;
    let closed = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match socket.next().await {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => break,
                Some(Ok(_)) => {}
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the console stayed open after the VM stopped");
    assert_eq!(open(&app, &my_vm, &student_token).await.err(), Some(409));
    assert_eq!(student.get(&connect).await.location.as_deref(), Some(format!("/vms/{my_vm}/console").as_str()));

    ok(&student, "vm_action", &[("id", &my_vm), ("action", "start")]).await;

    // A connection saved in Settings is the one the next console goes through:
    // a second cluster holding a VM with the same node and VMID.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let other = Simulator::new(SimConfig { time_scale: 0.01, ..SimConfig::demo() }).unwrap();
    let storage = other.config().storages[0].name.clone();
    other.add_vm(VmSpec::small_running(vmid, "elsewhere", &node, &storage)).unwrap();
    let other = other.start(listener).unwrap();
    let token_id = format!("{DEMO_USER}!{DEMO_TOKEN_NAME}");
    let form = [
        ("url", other.base_url()),
        ("token_id", token_id),
        ("secret", DEMO_TOKEN_SECRET.to_string()),
        ("fingerprint", String::new()),
        ("verify_tls", "true".to_string()),
        ("pool", String::new()),
    ];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    ok(&admin, "save_connection", &form).await;
    assert_eq!(other.simulator().vnc_server_port(vmid).await, None);
    greeting(&mut open(&app, &my_vm, &student_token).await.expect("the console on the saved cluster")).await;
    assert!(other.simulator().vnc_server_port(vmid).await.is_some(), "the console went to the saved cluster");

    worker.stop().await;
    other.stop().await.unwrap();
    sim.stop().await.unwrap();
}
