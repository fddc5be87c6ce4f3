//! The connector against the Guacamole simulator over HTTP.

use std::time::Duration;

use guacamole_connector::adapter::GuacamoleRemoteAccess;
use guacamole_connector::{GuacError, GuacamoleClient, GuacamoleConfig, JsonSecretKey, Secret};
use serde_json::Value;
use services::remote_access::{
    Outcome, RdpSecurity, RemoteAccess, RemoteAccessError, RemoteAccount, RemoteConnection, RemoteProtocol,
};
use sim::guacamole::{
    DEMO_ADMIN, DEMO_ADMIN_PASSWORD, DEMO_JSON_SECRET_KEY, GuacSimConfig, GuacamoleSim, RunningGuacamole,
};

async fn start() -> RunningGuacamole {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    GuacamoleSim::new(GuacSimConfig::demo()).start(listener).unwrap()
}

fn config(running: &RunningGuacamole, password: &str) -> GuacamoleConfig {
    let mut config = GuacamoleConfig::new(&running.base_url(), DEMO_ADMIN, Secret::new(password)).unwrap();
    config.json_secret_key = Some(JsonSecretKey::from_hex(DEMO_JSON_SECRET_KEY).unwrap());
    config.request_timeout = Duration::from_secs(5);
    config
}

fn access(running: &RunningGuacamole) -> GuacamoleRemoteAccess {
    GuacamoleRemoteAccess::new(GuacamoleClient::new(config(running, DEMO_ADMIN_PASSWORD)).unwrap())
}

fn alice() -> RemoteAccount {
    RemoteAccount {
        username: "alice".into(),
        full_name: "Alice Example".into(),
        email: "alice@example.org".into(),
        disabled: false,
    }
}

fn web01(ip: &str) -> RemoteConnection {
    RemoteConnection {
        group: "Linux 101".into(),
        name: "Linux 101 – web01 (alice)".into(),
        protocol: RemoteProtocol::Rdp,
        hostname: ip.into(),
        port: 3389,
        username: "student".into(),
        password: "Student-Pw-1".into(),
        rdp_security: RdpSecurity::Nla,
        ignore_cert: true,
    }
}

/// Deploys alice's connection the way deployment will: account, group, connection, READ.
async fn deploy(access: &GuacamoleRemoteAccess, ip: &str) -> (Outcome, String, Outcome) {
    let account = access.ensure_account(&alice()).await.unwrap();
    access.ensure_group("Linux 101").await.unwrap();
    let connection = access.ensure_connection(&web01(ip)).await.unwrap();
    access.grant("alice", &connection.id).await.unwrap();
    (account, connection.id, connection.outcome)
}

#[tokio::test]
async fn creates_once_updates_on_ip_change_and_deletes() {
    let running = start().await;
    let access = access(&running);
    assert_eq!(access.check().await.unwrap(), "mysql");

    let (account, id, outcome) = deploy(&access, "10.0.0.7").await;
    assert_eq!((account, outcome), (Outcome::Created, Outcome::Created));
    let after_first = running.sim().inventory();
    assert_eq!((after_first.users, after_first.connection_groups, after_first.connections), (2, 1, 1));
    let permissions = access.client().permissions("alice").await.unwrap();
    assert_eq!(permissions.connection_permissions[&id], ["READ"]);
    let params = access.client().connection_parameters(&id).await.unwrap();
    assert_eq!(params["hostname"], "10.0.0.7");
    assert_eq!(params["security"], "nla");
    assert_eq!(params["ignore-cert"], "true");

    // Re-running the deployment writes nothing but the (idempotent) permission patch.
    let (account, again, outcome) = deploy(&access, "10.0.0.7").await;
    assert_eq!((account, outcome, &again), (Outcome::Unchanged, Outcome::Unchanged, &id));
    let after_second = running.sim().inventory();
    assert_eq!((after_second.users, after_second.connection_groups, after_second.connections), (2, 1, 1));
    assert_eq!(after_second.writes, after_first.writes + 1, "only the permission PATCH is sent again");
    assert_eq!(access.client().permissions("alice").await.unwrap().connection_permissions[&id], ["READ"]);

    // The VM got a new address: the same connection is updated in place.
    let changed = access.ensure_connection(&web01("10.0.0.99")).await.unwrap();
    assert_eq!((changed.id.as_str(), changed.outcome), (id.as_str(), Outcome::Updated));
    assert_eq!(access.client().connection_parameters(&id).await.unwrap()["hostname"], "10.0.0.99");
    let renamed = RemoteAccount { full_name: "Alice E.".into(), ..alice() };
    assert_eq!(access.ensure_account(&renamed).await.unwrap(), Outcome::Updated);

    // Deactivation and removal; doing each twice is fine.
    access.revoke("alice", &id).await.unwrap();
    access.revoke("alice", &id).await.unwrap();
    assert!(access.client().permissions("alice").await.unwrap().connection_permissions.is_empty());
    access.remove_connection("Linux 101", "Linux 101 – web01 (alice)").await.unwrap();
    access.remove_connection("Linux 101", "Linux 101 – web01 (alice)").await.unwrap();
    assert_eq!(running.sim().inventory().connections, 0);
    access.ensure_connection(&web01("10.0.0.7")).await.unwrap();
    access.remove_group("Linux 101").await.unwrap();
    access.remove_group("Linux 101").await.unwrap();
    let emptied = running.sim().inventory();
    assert_eq!((emptied.connection_groups, emptied.connections), (0, 0), "the group takes its connections along");
    access.remove_account("alice").await.unwrap();
    access.remove_account("alice").await.unwrap();
    assert_eq!(running.sim().inventory().users, 1);
    running.stop().await.unwrap();
}

#[tokio::test]
async fn protocols_carry_their_own_parameters() {
    let running = start().await;
    let access = access(&running);
    access.ensure_group("Net 1").await.unwrap();
    let ssh = RemoteConnection {
        group: "Net 1".into(),
        name: "ssh".into(),
        protocol: RemoteProtocol::Ssh,
        port: 22,
        ..web01("10.0.0.8")
    };
    let vnc = RemoteConnection {
        group: "Net 1".into(),
        name: "vnc".into(),
        protocol: RemoteProtocol::Vnc,
        port: 5901,
        ..web01("10.0.0.9")
    };
    let ssh_id = access.ensure_connection(&ssh).await.unwrap().id;
    let vnc_id = access.ensure_connection(&vnc).await.unwrap().id;
    let ssh_params = access.client().connection_parameters(&ssh_id).await.unwrap();
    assert_eq!((ssh_params["username"].as_str(), ssh_params["port"].as_str()), ("student", "22"));
    assert!(!ssh_params.contains_key("security"));
    let vnc_params = access.client().connection_parameters(&vnc_id).await.unwrap();
    assert!(!vnc_params.contains_key("username"));
    assert_eq!(vnc_params["password"], "Student-Pw-1");
    let listed = access.client().connections().await.unwrap();
    assert_eq!(listed.iter().filter(|c| c.protocol == "vnc").count(), 1);
    // Switching protocol updates in place too.
    let as_rdp = RemoteConnection { protocol: RemoteProtocol::Rdp, ..vnc };
    assert_eq!(access.ensure_connection(&as_rdp).await.unwrap().outcome, Outcome::Updated);
    running.stop().await.unwrap();
}

#[tokio::test]
async fn expired_admin_token_is_renewed() {
    let running = start().await;
    let access = access(&running);
    access.ensure_group("Linux 101").await.unwrap();
    running.sim().expire_all_tokens();
    // The cached token is refused with 403 PERMISSION_DENIED; the client signs in again.
    assert!(access.client().find_group("Linux 101").await.unwrap().is_some());
    running.stop().await.unwrap();
}

#[tokio::test]
async fn errors_are_typed() {
    let running = start().await;

    let wrong = GuacamoleClient::new(config(&running, "not-the-password")).unwrap();
    let error = wrong.connection_groups().await.unwrap_err();
    assert!(matches!(error, GuacError::InvalidCredentials { ref message } if message == "Invalid login."), "{error:?}");
    assert!(matches!(GuacamoleRemoteAccess::new(wrong).check().await, Err(RemoteAccessError::Refused { .. })));

    let mut other_source = config(&running, DEMO_ADMIN_PASSWORD);
    other_source.data_source = Some("postgresql".into());
    let error = GuacamoleClient::new(other_source).unwrap().connections().await.unwrap_err();
    assert!(matches!(error, GuacError::Config { ref reason } if reason.contains("postgresql")), "{error:?}");

    let access = access(&running);
    // A user that does not exist: Guacamole's 404 NOT_FOUND.
    let error = access.client().set_connection_read("nobody", "1", true).await.unwrap_err();
    assert!(
        matches!(error, GuacError::NotFound { ref message, .. } if message == "Not found: \"nobody\""),
        "{error:?}"
    );
    // A connection for a group that was never created.
    assert!(matches!(access.ensure_connection(&web01("10.0.0.7")).await, Err(RemoteAccessError::NotFound { .. })));
    // Guacamole refuses blank names with 400 BAD_REQUEST.
    let error = access.client().ensure_group("").await.unwrap_err();
    assert!(matches!(error, GuacError::BadRequest { .. }), "{error:?}");

    let addr = running.addr();
    running.stop().await.unwrap();
    let gone = GuacamoleClient::new(
        GuacamoleConfig::new(&format!("http://{addr}/guacamole/"), DEMO_ADMIN, Secret::new(DEMO_ADMIN_PASSWORD))
            .unwrap(),
    )
    .unwrap();
    let error = gone.connections().await.unwrap_err();
    assert!(matches!(error, GuacError::Transport { .. }) && error.is_retryable(), "{error:?}");
}

/// The data parameter of a sign-in link, as the browser would send it to `/api/tokens`.
fn link_data(url: &str) -> String {
    let query = url.split_once("?data=").map(|(_, q)| q).unwrap();
    url::form_urlencoded::parse(format!("data={query}").as_bytes()).next().unwrap().1.into_owned()
}

#[tokio::test]
async fn sign_in_link_opens_only_the_participants_connections_once() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let running = start().await;
    let access = access(&running);
    let (_, id, _) = deploy(&access, "10.0.0.7").await;
    let bob = RemoteConnection { name: "Linux 101 – web01 (bob)".into(), ..web01("10.0.0.8") };
    access.ensure_connection(&bob).await.unwrap();

    let link = access.sign_in_link("alice", Some(&id)).await.unwrap();
    let base = running.base_url();
    assert!(link.url.starts_with(&format!("{base}#/client/")), "{}", link.url);
    assert!(!link.url.contains("Student-Pw-1") && !link.url.contains("token="));
    assert!(!format!("{link:?}").contains("data="), "the link is redacted in debug output");

    // What Guacamole's web application does with the link: POST the data to /api/tokens.
    let http = reqwest::Client::new();
    let tokens = format!("{base}api/tokens");
    let data = link_data(&link.url);
    let answer: Value = http.post(&tokens).form(&[("data", &data)]).send().await.unwrap().json().await.unwrap();
    assert_eq!(answer["username"], "alice");
    let token = answer["authToken"].as_str().unwrap();
    let visible: Value = http
        .get(format!("{base}api/session/data/mysql/connections"))
        .header("Guacamole-Token", token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = visible.as_object().unwrap().values().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Linux 101 – web01 (alice)"]);

    // The same link a second time (e.g. from browser history) is refused.
    let replay = http.post(&tokens).form(&[("data", &data)]).send().await.unwrap();
    assert_eq!(replay.status(), 403);
    let body: Value = replay.json().await.unwrap();
    assert_eq!(body["type"], "INVALID_CREDENTIALS");
    running.stop().await.unwrap();
}
