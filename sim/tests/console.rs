//! The console behind `vncproxy` / `vncwebsocket`: a real Xvnc per running VM
//! (Debian tigervnc-standalone-server; `scripts/setup --test` installs it).

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use sim::proxmox::{DEMO_TOKEN_NAME, DEMO_TOKEN_SECRET, DEMO_USER, SimConfig, Simulator, VmSpec};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

fn auth() -> String {
    format!("PVEAPIToken={DEMO_USER}!{DEMO_TOKEN_NAME}={DEMO_TOKEN_SECRET}")
}

async fn start() -> (sim::proxmox::RunningSimulator, reqwest::Client) {
    start_with(SimConfig::demo(), true).await
}

/// A simulator with VM 4242 (`running` or not).
async fn start_with(mut config: SimConfig, running: bool) -> (sim::proxmox::RunningSimulator, reqwest::Client) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    config.time_scale = 0.01;
    let sim = Simulator::new(config).unwrap();
    let node = sim.config().nodes[0].name.clone();
    let storage = sim.config().storages[0].name.clone();
    sim.add_vm(VmSpec { running, ..VmSpec::small_running(4242, "console-vm", &node, &storage) }).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    (sim.start(listener).unwrap(), reqwest::Client::new())
}

/// Sends a request with the API token; its JSON answer.
async fn answer(request: reqwest::RequestBuilder) -> Value {
    request.header("Authorization", auth()).send().await.unwrap().json().await.unwrap()
}

async fn vnc_proxy(running: &sim::proxmox::RunningSimulator, http: &reqwest::Client, node: &str) -> (u64, String) {
    let proxy = answer(
        http.post(format!("{}/api2/json/nodes/{node}/qemu/4242/vncproxy", running.base_url()))
            .form(&[("websocket", "1")]),
    )
    .await;
    (proxy["data"]["port"].as_u64().unwrap(), proxy["data"]["ticket"].as_str().unwrap().to_owned())
}

fn websocket_request(
    running: &sim::proxmox::RunningSimulator,
    node: &str,
    port: u64,
    ticket: &str,
) -> tokio_tungstenite::tungstenite::handshake::client::Request {
    let ticket: String = url_encode(ticket);
    let url =
        format!("ws://{}/api2/json/nodes/{node}/qemu/4242/vncwebsocket?port={port}&vncticket={ticket}", running.addr());
    let mut request = url.into_client_request().unwrap();
    request.headers_mut().insert("Authorization", auth().parse().unwrap());
    // Proxmox repeats the subprotocol asked for (noVNC asks for `binary`).
    request.headers_mut().insert("Sec-WebSocket-Protocol", "binary".parse().unwrap());
    request
}

fn url_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

/// The next binary frame's bytes.
async fn frame<S>(socket: &mut S) -> Vec<u8>
where
    S: futures_util::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    loop {
        let message = tokio::time::timeout(Duration::from_secs(5), socket.next()).await.unwrap().unwrap().unwrap();
        if let Message::Binary(bytes) = message {
            return bytes.to_vec();
        }
    }
}

/// The client's answer to VNC authentication (DES, bit-reversed key bytes).
fn vnc_auth(password: &[u8], challenge: &[u8]) -> Vec<u8> {
    use des::cipher::{BlockEncrypt, KeyInit};
    let mut key = [0u8; 8];
    for (slot, byte) in key.iter_mut().zip(password) {
        *slot = byte.reverse_bits();
    }
    let des = des::Des::new(&key.into());
    let mut out = challenge.to_vec();
    for block in out.chunks_mut(8) {
        des.encrypt_block(des::cipher::generic_array::GenericArray::from_mut_slice(block));
    }
    out
}

#[tokio::test]
async fn console_relays_xvnc_checks_tickets_and_closes_when_the_vm_stops() {
    let (running, http) = start().await;
    let node = running.simulator().config().nodes[0].name.clone();

    // Without a VNC server binary the API still answers, with a message that names it.
    running.simulator().set_vnc_server_binary(Some("/nonexistent/Xvnc".into()));
    let (port, ticket) = vnc_proxy(&running, &http, &node).await;
    let refused = tokio_tungstenite::connect_async(websocket_request(&running, &node, port, &ticket)).await;
    let tokio_tungstenite::tungstenite::Error::Http(response) = refused.unwrap_err() else {
        panic!("expected HTTP error")
    };
    assert_eq!(response.status(), 500);

    let xvnc = sim::proxmox::console::xvnc_binary();
    assert!(
        xvnc.is_some(),
        "Xvnc is needed for this test: apt-get install tigervnc-standalone-server (scripts/setup --test)"
    );
    running.simulator().set_vnc_server_binary(xvnc);
    // A made-up ticket is refused before any byte is relayed.
    let forged =
        tokio_tungstenite::connect_async(websocket_request(&running, &node, port, "PVEVNC:00000000::bad")).await;
    let tokio_tungstenite::tungstenite::Error::Http(response) = forged.unwrap_err() else {
        panic!("expected HTTP error")
    };
    assert_eq!(response.status(), 401);

    let (port, ticket) = vnc_proxy(&running, &http, &node).await;
    // As Proxmox: an upgrade it cannot do is refused with 501 and the reason.
    let old_version = http
        .get(format!(
            "{}/api2/json/nodes/{node}/qemu/4242/vncwebsocket?port={port}&vncticket={}",
            running.base_url(),
            url_encode(&ticket)
        ))
        .header("Authorization", auth())
        .header("Connection", "Upgrade")
        .header("Upgrade", "websocket")
        .header("Sec-WebSocket-Version", "8")
        .header("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
        .send()
        .await
        .unwrap();
    assert_eq!(old_version.status(), 501);
    // Without an upgrade it is an ordinary API call (and does not use the ticket up).
    let plain = answer(http.get(format!(
        "{}/api2/json/nodes/{node}/qemu/4242/vncwebsocket?port={port}&vncticket={}",
        running.base_url(),
        url_encode(&ticket)
    )))
    .await;
    assert_eq!(plain["data"]["port"], port.to_string());
    let (mut socket, response) =
        tokio_tungstenite::connect_async(websocket_request(&running, &node, port, &ticket)).await.unwrap();
    assert_eq!(response.headers()["Sec-WebSocket-Protocol"], "binary");
    let first = tokio::time::timeout(Duration::from_secs(15), socket.next()).await.unwrap().unwrap().unwrap();
    assert_eq!(first.into_data().as_ref(), b"RFB 003.008\n", "Xvnc's greeting through the relay");
    socket.send(Message::binary(b"RFB 003.008\n".to_vec())).await.unwrap();
    // As Proxmox: VNC authentication, the ticket being the password.
    assert_eq!(frame(&mut socket).await, [1, 2], "one security type: VNC authentication");
    socket.send(Message::binary(vec![2])).await.unwrap();
    let challenge = frame(&mut socket).await;
    assert_eq!(challenge.len(), 16);
    socket.send(Message::binary(vnc_auth(ticket.as_bytes(), &challenge))).await.unwrap();
    assert_eq!(frame(&mut socket).await, [0, 0, 0, 0], "authenticated");
    socket.send(Message::binary(vec![1])).await.unwrap(); // ClientInit, shared
    let mut server_init = Vec::new();
    while server_init.len() < 24 {
        server_init.extend(frame(&mut socket).await);
    }
    let name_len = u32::from_be_bytes([server_init[20], server_init[21], server_init[22], server_init[23]]) as usize;
    while server_init.len() < 24 + name_len {
        server_init.extend(frame(&mut socket).await);
    }
    let (width, height) =
        (u16::from_be_bytes([server_init[0], server_init[1]]), u16::from_be_bytes([server_init[2], server_init[3]]));
    assert_eq!((width, height), (1024, 768), "Xvnc's ServerInit");
    // A Ping is answered; a screen update request gets Xvnc's update back.
    socket.send(Message::Ping(b"are you there".to_vec().into())).await.unwrap();
    let pong = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let Message::Pong(payload) = socket.next().await.unwrap().unwrap() {
                return payload;
            }
        }
    })
    .await
    .unwrap();
    assert_eq!(pong.as_ref(), b"are you there");
    socket.send(Message::binary(vec![3, 0, 0, 0, 0, 0, 0, 16, 0, 16])).await.unwrap();
    assert_eq!(frame(&mut socket).await[0], 0, "a FramebufferUpdate");

    // A wrong password is refused with RFB's failure result.
    let (port2, ticket2) = vnc_proxy(&running, &http, &node).await;
    let (mut wrong, _) =
        tokio_tungstenite::connect_async(websocket_request(&running, &node, port2, &ticket2)).await.unwrap();
    frame(&mut wrong).await;
    wrong.send(Message::binary(b"RFB 003.008\n".to_vec())).await.unwrap();
    frame(&mut wrong).await;
    wrong.send(Message::binary(vec![2])).await.unwrap();
    let challenge = frame(&mut wrong).await;
    wrong.send(Message::binary(vnc_auth(b"not-the-ticket", &challenge))).await.unwrap();
    assert_eq!(frame(&mut wrong).await[..4], [0, 0, 0, 1]);

    // The ticket was used once; using it again is refused.
    let again = tokio_tungstenite::connect_async(websocket_request(&running, &node, port, &ticket)).await;
    assert!(again.is_err());

    // Stopping the VM stops its VNC server and closes the socket.
    let stop = answer(http.post(format!("{}/api2/json/nodes/{node}/qemu/4242/status/stop", running.base_url()))).await;
    assert!(stop["data"].as_str().unwrap().starts_with("UPID:"));
    let closed = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match socket.next().await {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => break,
                Some(Ok(_)) => {}
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the console socket stays open after the VM stopped");
    running.stop().await.unwrap();
}

/// Posts a power action and waits for its task to end.
async fn power(running: &sim::proxmox::RunningSimulator, http: &reqwest::Client, node: &str, action: &str) {
    let started =
        answer(http.post(format!("{}/api2/json/nodes/{node}/qemu/4242/status/{action}", running.base_url()))).await;
    let upid = started["data"].as_str().unwrap_or_else(|| panic!("{action}: {started}")).to_owned();
    for _ in 0..200 {
        let status =
            answer(http.get(format!("{}/api2/json/nodes/{node}/tasks/{upid}/status", running.base_url()))).await;
        if status["data"]["status"] == "stopped" {
            assert_eq!(status["data"]["exitstatus"], "OK", "{action}: {status}");
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{action} did not finish");
}

/// Waits until `count` VNC servers run (they start and stop asynchronously).
async fn wait_for_servers(running: &sim::proxmox::RunningSimulator, count: usize) -> usize {
    for _ in 0..250 {
        let now = running.simulator().console_servers().await;
        if now == count {
            return now;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    running.simulator().console_servers().await
}

#[tokio::test]
async fn with_consoles_at_start_a_vm_start_starts_its_vnc_server_and_a_stop_stops_it() {
    let mut config = SimConfig::demo();
    config.consoles_at_start = true;
    let (running, http) = start_with(config, false).await;
    let xvnc = sim::proxmox::console::xvnc_binary();
    assert!(xvnc.is_some(), "Xvnc is needed: apt-get install tigervnc-standalone-server (scripts/setup --test)");
    running.simulator().set_vnc_server_binary(xvnc);
    let node = running.simulator().config().nodes[0].name.clone();
    assert_eq!(running.simulator().console_servers().await, 0, "a stopped VM has no VNC server");
    power(&running, &http, &node, "start").await;
    assert_eq!(wait_for_servers(&running, 1).await, 1, "the VM's start started its VNC server");
    power(&running, &http, &node, "stop").await;
    assert_eq!(wait_for_servers(&running, 0).await, 0, "the VM's stop stopped its VNC server");
    running.stop().await.unwrap();
}

#[tokio::test]
async fn without_consoles_at_start_the_vnc_server_waits_for_the_first_console() {
    let (running, http) = start_with(SimConfig::demo(), false).await;
    running.simulator().set_vnc_server_binary(sim::proxmox::console::xvnc_binary());
    let node = running.simulator().config().nodes[0].name.clone();
    power(&running, &http, &node, "start").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(running.simulator().console_servers().await, 0, "no console opened, no X server");
    running.stop().await.unwrap();
}
