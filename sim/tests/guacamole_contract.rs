//! The Guacamole simulator judged on its own, with a plain HTTP client, against the
//! REST API as Guacamole 1.5 documents and answers it.

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use sim::guacamole::{DEMO_ADMIN, DEMO_ADMIN_PASSWORD, GuacSimConfig, GuacamoleSim, RunningGuacamole};

async fn start() -> (RunningGuacamole, Client, String) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let running = GuacamoleSim::new(GuacSimConfig::demo()).start(listener).unwrap();
    let base = format!("{}api", running.base_url());
    (running, Client::new(), base)
}

async fn sign_in(http: &Client, base: &str, username: &str, password: &str) -> Value {
    let response = http
        .post(format!("{base}/tokens"))
        .form(&[("username", username), ("password", password)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

#[tokio::test]
async fn tokens_errors_and_permission_checks() {
    let (running, http, base) = start().await;

    let login = sign_in(&http, &base, DEMO_ADMIN, DEMO_ADMIN_PASSWORD).await;
    assert_eq!(login["username"], DEMO_ADMIN);
    assert_eq!(login["dataSource"], "mysql");
    assert_eq!(login["availableDataSources"], json!(["mysql"]));
    let token = login["authToken"].as_str().unwrap().to_owned();
    assert_eq!(token.len(), 64);

    // Wrong password: 403 with Guacamole's full error body.
    let refused = http
        .post(format!("{base}/tokens"))
        .form(&[("username", DEMO_ADMIN), ("password", "nope")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let body: Value = refused.json().await.unwrap();
    for field in ["message", "translatableMessage", "statusCode", "expected", "patches", "type"] {
        assert!(body.get(field).is_some(), "error body lacks {field}: {body}");
    }
    assert_eq!(
        (body["type"].as_str(), body["message"].as_str()),
        (Some("INVALID_CREDENTIALS"), Some("Invalid login."))
    );

    // No token, or an unknown one: 403 PERMISSION_DENIED. The old `?token=` works too.
    let users = format!("{base}/session/data/mysql/users");
    let denied = http.get(&users).header("Guacamole-Token", "0000").send().await.unwrap();
    assert_eq!(denied.status(), StatusCode::FORBIDDEN);
    assert_eq!(denied.json::<Value>().await.unwrap()["type"], "PERMISSION_DENIED");
    assert_eq!(http.get(format!("{users}?token={token}")).send().await.unwrap().status(), StatusCode::OK);

    // Creating a user twice: 400 BAD_REQUEST naming it.
    let carol = json!({ "username": "carol", "password": "pw-carol", "attributes": { "disabled": "" } });
    let created = http.post(&users).header("Guacamole-Token", &token).json(&carol).send().await.unwrap();
    assert_eq!(created.status(), StatusCode::OK);
    let again = http.post(&users).header("Guacamole-Token", &token).json(&carol).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
    assert_eq!(again.json::<Value>().await.unwrap()["message"], "User \"carol\" already exists.");

    // Unknown objects: 404 NOT_FOUND.
    let missing = http.get(format!("{users}/nobody")).header("Guacamole-Token", &token).send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_eq!(missing.json::<Value>().await.unwrap()["type"], "NOT_FOUND");

    // A JSON Patch with an unsupported path is refused whole.
    let patch = json!([
        { "op": "add", "path": "/connectionPermissions/1", "value": "READ" },
        { "op": "add", "path": "/nonsense/1", "value": "READ" }
    ]);
    let perms = format!("{users}/carol/permissions");
    let bad = http.patch(&perms).header("Guacamole-Token", &token).json(&patch).send().await.unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let now: Value = http.get(&perms).header("Guacamole-Token", &token).send().await.unwrap().json().await.unwrap();
    assert_eq!(now["connectionPermissions"], json!({}));

    // An ordinary user may read itself but not administer.
    let carol_login = sign_in(&http, &base, "carol", "pw-carol").await;
    let carol_token = carol_login["authToken"].as_str().unwrap();
    let own = http.get(format!("{users}/carol")).header("Guacamole-Token", carol_token).send().await.unwrap();
    assert_eq!(own.status(), StatusCode::OK);
    let group = json!({ "parentIdentifier": "ROOT", "name": "x", "type": "ORGANIZATIONAL", "attributes": {} });
    let forbidden = http
        .post(format!("{base}/session/data/mysql/connectionGroups"))
        .header("Guacamole-Token", carol_token)
        .json(&group)
        .send()
        .await
        .unwrap();
    assert_eq!(forbidden.status(), StatusCode::FORBIDDEN);

    // Signing out ends the token.
    let out = http.delete(format!("{base}/session")).header("Guacamole-Token", &token).send().await.unwrap();
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        http.get(&users).header("Guacamole-Token", &token).send().await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    running.stop().await.unwrap();
}

#[tokio::test]
async fn connections_live_in_groups_and_go_with_them() {
    let (running, http, base) = start().await;
    let token = sign_in(&http, &base, DEMO_ADMIN, DEMO_ADMIN_PASSWORD).await["authToken"].as_str().unwrap().to_owned();
    let data = format!("{base}/session/data/mysql");
    let group: Value = http
        .post(format!("{data}/connectionGroups"))
        .header("Guacamole-Token", &token)
        .json(&json!({ "parentIdentifier": "ROOT", "name": "Event A", "type": "ORGANIZATIONAL", "attributes": {} }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let group_id = group["identifier"].as_str().unwrap();
    let connection = json!({
        "parentIdentifier": group_id, "name": "vm1", "protocol": "ssh",
        "parameters": { "hostname": "10.0.0.5", "port": "22", "private-key": "" }, "attributes": {}
    });
    let created: Value = http
        .post(format!("{data}/connections"))
        .header("Guacamole-Token", &token)
        .json(&connection)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["identifier"].as_str().unwrap();
    assert_eq!(created["parentIdentifier"], group_id);
    let list: Value = http
        .get(format!("{data}/connections"))
        .header("Guacamole-Token", &token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(list[id].get("parameters").is_none(), "lists carry no parameters");
    let params: Value = http
        .get(format!("{data}/connections/{id}/parameters"))
        .header("Guacamole-Token", &token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(params, json!({ "hostname": "10.0.0.5", "port": "22" }), "empty parameters are not stored");
    let duplicate = http
        .post(format!("{data}/connections"))
        .header("Guacamole-Token", &token)
        .json(&connection)
        .send()
        .await
        .unwrap();
    assert_eq!(duplicate.status(), StatusCode::BAD_REQUEST);

    let deleted = http
        .delete(format!("{data}/connectionGroups/{group_id}"))
        .header("Guacamole-Token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert_eq!(running.sim().inventory().connections, 0);
    running.stop().await.unwrap();
}
