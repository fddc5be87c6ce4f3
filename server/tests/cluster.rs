//! The Proxmox VE connection over HTTP, against the simulator: save, test,
//! nodes and templates, precise errors, and a secret that never comes back.

mod common;

use common::{Backend, Client, Reply, TestApp};
use serde_json::Value;
use sim::proxmox::{DEMO_TOKEN_NAME, DEMO_TOKEN_SECRET, DEMO_USER, RunningSimulator, SimConfig, Simulator};

const KEY: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

async fn simulator() -> RunningSimulator {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    Simulator::new(SimConfig::demo()).unwrap().start(listener).unwrap()
}

/// Every answer the test saw, to check the secret is in none of them.
#[derive(Default)]
struct Seen(Vec<String>);

impl Seen {
    fn keep(&mut self, reply: Reply) -> Reply {
        self.0.push(format!("{} {:?}", reply.body, reply.location));
        reply
    }
}

fn json(reply: &Reply) -> Value {
    serde_json::from_str(&reply.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", reply.body))
}

fn problem_kind(reply: &Reply) -> String {
    assert_eq!(reply.error().as_deref(), Some("cluster"), "{} {}", reply.status, reply.body);
    json(reply)["problem"]["kind"].as_str().unwrap_or_default().to_string()
}

async fn save(client: &Client, seen: &mut Seen, url: &str, token_id: &str, secret: &str) -> Reply {
    let reply = client
        .call(
            "save_connection",
            &[
                ("url", url),
                ("token_id", token_id),
                ("secret", secret),
                ("fingerprint", ""),
                ("verify_tls", "true"),
                ("pool", ""),
            ],
        )
        .await;
    seen.keep(reply)
}

#[tokio::test]
async fn connection_is_saved_tested_and_its_secret_never_returned() {
    let sim = simulator().await;
    let app = TestApp::start_with(Backend::Sqlite, &[("OPENVLE_SECRET_KEY", KEY)]).await;
    let admin = app.signed_in("admin").await;
    let token_id = format!("{DEMO_USER}!{DEMO_TOKEN_NAME}");
    let mut seen = Seen::default();

    // Nothing configured yet: a clear error, not a failure.
    let reply = seen.keep(admin.call("test_connection", &[]).await);
    assert_eq!((reply.status, problem_kind(&reply).as_str()), (409, "not_configured"));
    let reply = seen.keep(admin.call("connection_settings", &[]).await);
    assert_eq!(json(&reply)["source"], Value::Null);

    // Bad input is refused field by field (422), never with a 500.
    for (url, token, field) in [
        ("ftp://pve", token_id.as_str(), "url"),
        ("https://pve/some/path", token_id.as_str(), "url"),
        ("https://pve:8006", "openvle@pve", "token_id"),
    ] {
        let reply = save(&admin, &mut seen, url, token, DEMO_TOKEN_SECRET).await;
        assert_eq!((reply.status, reply.error().as_deref()), (422, Some("invalid")), "{}", reply.body);
        assert_eq!(json(&reply)["field"], field);
    }
    let reply = seen.keep(
        admin
            .call(
                "save_connection",
                &[
                    ("url", &sim.base_url()),
                    ("token_id", &token_id),
                    ("secret", ""),
                    ("fingerprint", "AB:CD"),
                    ("pool", ""),
                ],
            )
            .await,
    );
    assert_eq!((reply.status, json(&reply)["field"].as_str()), (422, Some("fingerprint")), "{}", reply.body);

    // Saved; the settings say a secret is set, but not which.
    let reply = save(&admin, &mut seen, &sim.base_url(), &token_id, DEMO_TOKEN_SECRET).await;
    assert!(reply.status < 400 && reply.error().is_none(), "{} {}", reply.status, reply.body);
    let reply = seen.keep(admin.call("connection_settings", &[]).await);
    let view = json(&reply);
    assert_eq!((view["source"].as_str(), view["secret_set"].as_bool()), (Some("saved"), Some(true)));
    assert_eq!(view["token_id"], token_id);
    let stored = app.system.db.ports(None).connection.get().await.unwrap().unwrap();
    assert!(!stored.secret_sealed.contains(DEMO_TOKEN_SECRET));

    // Test connection: version and both nodes.
    let reply = seen.keep(admin.call("test_connection", &[]).await);
    assert_eq!(reply.status, 200, "{}", reply.body);
    let test = json(&reply);
    assert!(!test["version"].as_str().unwrap_or_default().is_empty(), "{test}");
    let names: Vec<&str> = test["nodes"].as_array().unwrap().iter().filter_map(|n| n["name"].as_str()).collect();
    assert_eq!(names, ["pve1", "pve2"]);

    // Nodes with usage and the pool's VM counts; the templates of the pool.
    let reply = seen.keep(admin.call("cluster_nodes", &[]).await);
    let nodes = json(&reply);
    let pve1 = &nodes.as_array().unwrap()[0];
    assert_eq!(
        (pve1["online"].as_bool(), pve1["templates"].as_u64(), pve1["vms"].as_u64()),
        (Some(true), Some(3), Some(0))
    );
    assert!(pve1["mem_total"].as_u64().unwrap() > 0 && pve1["disk_total"].as_u64().unwrap() > 0, "{pve1}");
    let reply = seen.keep(admin.call("cluster_templates", &[]).await);
    let templates = json(&reply);
    let vmids: Vec<u64> = templates.as_array().unwrap().iter().filter_map(|t| t["vmid"].as_u64()).collect();
    assert_eq!(vmids, [9000, 9001, 9002]);
    assert!(templates[0]["description"].as_str().unwrap().contains("Debian"), "{templates}");
    assert_eq!(templates[0]["cores"], 2);
    assert!(templates[0]["tags"].as_array().unwrap().contains(&Value::from("ssh")));

    // Instructors see the templates but neither nodes nor connection.
    let instructor = app.signed_in("instructor").await;
    assert_eq!(seen.keep(instructor.call("cluster_templates", &[]).await).status, 200);
    assert_eq!(seen.keep(instructor.call("cluster_nodes", &[]).await).status, 403);
    assert_eq!(seen.keep(instructor.call("connection_settings", &[]).await).status, 403);

    // The pages render it all on the server, usage bars accessible.
    let page = seen.keep(admin.get("/admin/nodes").await);
    assert_eq!(page.status, 200);
    assert!(page.body.contains("role=\"progressbar\"") && page.body.contains("aria-valuenow"), "{}", page.body);
    assert!(page.body.contains("debian-12-server") && page.body.contains("pve2"));
    let page = seen.keep(admin.get("/admin/proxmox?test=1").await);
    assert!(page.body.contains("Connected to Proxmox VE"), "{}", page.body);
    assert!(page.body.contains("(set)"), "the form says a secret is set");
    let page = seen.keep(instructor.get("/admin/nodes").await);
    assert!(page.body.contains("windows-11") && !page.body.contains("role=\"progressbar\""));
    let ready: Value = serde_json::from_str(&seen.keep(admin.get("/readyz").await).body).unwrap();
    assert!(ready["proxmox"].as_str().unwrap().starts_with("ok (Proxmox VE"), "{ready}");

    // Without JavaScript: a form post with an empty secret keeps the stored one.
    let reply = seen.keep(
        admin
            .form(
                "save_connection",
                &[
                    ("url", &sim.base_url()),
                    ("token_id", &token_id),
                    ("secret", ""),
                    ("fingerprint", ""),
                    ("verify_tls", "true"),
                    ("pool", "OpenVLE-VMs"),
                ],
                "/admin/proxmox",
            )
            .await,
    );
    assert!(matches!(reply.status, 302 | 303), "{} {}", reply.status, reply.body);
    assert!(reply.location.as_deref().unwrap_or_default().contains("ok=saved"), "{:?}", reply.location);
    assert_eq!(seen.keep(admin.call("test_connection", &[]).await).status, 200);

    // A wrong secret: the token is rejected.
    save(&admin, &mut seen, &sim.base_url(), &token_id, "wrong-secret").await;
    let reply = seen.keep(admin.call("test_connection", &[]).await);
    assert_eq!((reply.status, problem_kind(&reply).as_str()), (502, "bad_token"));
    let page = seen.keep(admin.get("/admin/proxmox?test=1").await);
    assert!(page.body.contains("rejected the API token"), "{}", page.body);

    // Nothing listens there: unreachable, with the reason.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    save(&admin, &mut seen, &format!("http://{closed}"), &token_id, DEMO_TOKEN_SECRET).await;
    let reply = seen.keep(admin.call("test_connection", &[]).await);
    assert_eq!(problem_kind(&reply), "unreachable", "{}", reply.body);
    let ready: Value = serde_json::from_str(&seen.keep(admin.get("/readyz").await).body).unwrap();
    assert!(ready["proxmox"].as_str().unwrap().starts_with("unreachable"), "{ready}");

    for body in &seen.0 {
        assert!(!body.contains(DEMO_TOKEN_SECRET), "the token secret came back: {body}");
    }
    sim.stop().await.unwrap();
}

#[tokio::test]
async fn without_a_secret_key_nothing_is_saved() {
    let app = TestApp::start(Backend::Sqlite).await;
    let admin = app.signed_in("admin").await;
    let mut seen = Seen::default();
    let view = json(&seen.keep(admin.call("connection_settings", &[]).await));
    assert_eq!(view["can_save"], false);
    let reply = save(&admin, &mut seen, "https://pve:8006", "openvle@pve!demo", "some-secret").await;
    assert_eq!((reply.status, problem_kind(&reply).as_str()), (409, "secret_key_missing"));
    assert!(app.system.db.ports(None).connection.get().await.unwrap().is_none());
    let page = admin.get("/admin/proxmox").await;
    assert!(page.body.contains("OPENVLE_SECRET_KEY is not set"), "{}", page.body);
}
