//! The built-in console's WebSocket relay, end to end: browser ⇄ OpenVLE ⇄ the
//! Proxmox simulator's vncwebsocket ⇄ a real Xvnc (tigervnc-standalone-server).

mod common;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use common::{Backend, PASSWORD, TestApp};
use futures_util::StreamExt;
use proxmox_connector::console::ProxmoxConsole;
use proxmox_connector::{PveClient, PveConfig};
use server::console::{ConsoleState, router};
use services::console::{ConsoleAccess, ConsoleTarget};
use sim::proxmox::{DEMO_TOKEN_NAME, DEMO_TOKEN_SECRET, DEMO_USER, SimConfig, Simulator, VmSpec};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

/// Stands in for the VM records: the student may open "web01" (VMID 4242) only.
struct StudentOwnsWeb01 {
    node: String,
}

#[async_trait]
impl ConsoleAccess for StudentOwnsWeb01 {
    async fn console_target(&self, actor: &domain::Actor, vm_id: &str) -> Result<ConsoleTarget, domain::AppError> {
        let is_student = actor.username == "student";
        match vm_id {
            "web01" if is_student => Ok(ConsoleTarget { node: self.node.clone(), vmid: 4242 }),
            "web01" | "web02" => Err(domain::AppError::Forbidden),
            _ => Err(domain::AppError::NotFound),
        }
    }

    async fn opened(&self, _: &domain::Actor, _: &str) -> Result<(), domain::AppError> {
        Ok(())
    }
}

fn request(
    addr: std::net::SocketAddr,
    vm: &str,
    cookie: Option<&str>,
) -> tokio_tungstenite::tungstenite::handshake::client::Request {
    let mut request = format!("ws://{addr}/console/{vm}/websocket").into_client_request().unwrap();
    request.headers_mut().insert("Origin", format!("http://{addr}").parse().unwrap());
    if let Some(token) = cookie {
        request.headers_mut().insert("Cookie", format!("openvle_session={token}").parse().unwrap());
    }
    request
}

fn http_status(result: Result<impl Sized, WsError>) -> u16 {
    match result {
        Err(WsError::Http(response)) => response.status().as_u16(),
        Err(other) => panic!("expected an HTTP refusal, got {other}"),
        Ok(_) => panic!("expected an HTTP refusal, got an open socket"),
    }
}

#[tokio::test]
async fn relays_xvnc_to_the_owner_only_and_closes_when_the_vm_stops() {
    assert!(
        sim::proxmox::console::xvnc_binary().is_some(),
        "Xvnc is needed: apt-get install tigervnc-standalone-server (scripts/setup --test)"
    );
    let app = TestApp::start(Backend::Sqlite).await;
    let mut config = SimConfig::demo();
    config.time_scale = 0.01;
    let simulator = Simulator::new(config).unwrap();
    let node = simulator.config().nodes[0].name.clone();
    let storage = simulator.config().storages[0].name.clone();
    simulator.add_vm(VmSpec::small_running(4242, "web01", &node, &storage)).unwrap();
    simulator.add_vm(VmSpec::small_running(4243, "web02", &node, &storage)).unwrap();
    let pve = simulator.start(tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap()).unwrap();
    let client = Arc::new(
        PveClient::new(PveConfig::new(&pve.base_url(), DEMO_USER, DEMO_TOKEN_NAME, DEMO_TOKEN_SECRET).unwrap())
            .unwrap(),
    );

    let state = ConsoleState {
        services: app.system.services.clone(),
        access: Arc::new(StudentOwnsWeb01 { node: node.clone() }),
        backend: Arc::new(ProxmoxConsole::new(client.clone())),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router::<()>(state)).await });
    let student = app
        .system
        .services
        .login("student", PASSWORD, &domain::activity::Origin::client("127.0.0.1"))
        .await
        .unwrap()
        .token;
    let instructor = app
        .system
        .services
        .login("instructor", PASSWORD, &domain::activity::Origin::client("127.0.0.1"))
        .await
        .unwrap()
        .token;

    // Refusals happen before the upgrade: an HTTP status, no socket, no byte.
    assert_eq!(http_status(tokio_tungstenite::connect_async(request(addr, "web01", None)).await), 401);
    assert_eq!(http_status(tokio_tungstenite::connect_async(request(addr, "web02", Some(&student))).await), 403);
    assert_eq!(http_status(tokio_tungstenite::connect_async(request(addr, "web01", Some(&instructor))).await), 403);
    assert_eq!(http_status(tokio_tungstenite::connect_async(request(addr, "nope", Some(&student))).await), 403);
    let mut cross_site = request(addr, "web01", Some(&student));
    cross_site.headers_mut().insert("Origin", "https://evil.example".parse().unwrap());
    assert_eq!(http_status(tokio_tungstenite::connect_async(cross_site).await), 403);

    // The owner gets Xvnc's RFB greeting through OpenVLE and Proxmox's vncwebsocket.
    let (mut socket, response) =
        tokio_tungstenite::connect_async(request(addr, "web01", Some(&student))).await.unwrap();
    let headers = format!("{:?}", response.headers());
    assert!(!headers.contains("PVEVNC") && !headers.contains(DEMO_TOKEN_SECRET));
    let first = tokio::time::timeout(Duration::from_secs(15), socket.next()).await.unwrap().unwrap().unwrap();
    assert_eq!(first.into_data().as_ref(), b"RFB 003.008\n");
    futures_util::SinkExt::send(&mut socket, Message::binary(b"RFB 003.008\n".to_vec())).await.unwrap();
    // Proxmox's VNC authentication (the ticket) is done by OpenVLE: the browser sees None.
    let security = tokio::time::timeout(Duration::from_secs(5), socket.next()).await.unwrap().unwrap().unwrap();
    assert_eq!(security.into_data().as_ref(), [1, 1]);
    futures_util::SinkExt::send(&mut socket, Message::binary(vec![1])).await.unwrap();
    let result = tokio::time::timeout(Duration::from_secs(5), socket.next()).await.unwrap().unwrap().unwrap();
    assert_eq!(result.into_data().as_ref(), [0, 0, 0, 0]);
    futures_util::SinkExt::send(&mut socket, Message::binary(vec![1])).await.unwrap(); // ClientInit
    let mut server_init = Vec::new();
    while server_init.len() < 24 {
        let message = tokio::time::timeout(Duration::from_secs(5), socket.next()).await.unwrap().unwrap().unwrap();
        server_init.extend_from_slice(&message.into_data());
    }
    assert_eq!(server_init[..4], [4, 0, 3, 0], "Xvnc's ServerInit: 1024x768");

    // Stopping the VM ends the console.
    client.stop_vm(&node, 4242).await.unwrap();
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
    pve.stop().await.unwrap();
}
