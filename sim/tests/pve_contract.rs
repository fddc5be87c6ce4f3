//! Contract test: every answer of the Proxmox VE simulator validates against the
//! `returns` schema Proxmox publishes for that path and method.
//!
//! The simulator is driven over real HTTP by a plain client (not the OpenVLE connector),
//! so a misunderstanding shared by connector and simulator cannot pass here. The schema
//! lives outside the repository (`../shared/contracts/pve-api-schema.json`, or the file
//! named by `PVE_API_SCHEMA`); without it the test says SKIPPED, and fails under CI.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;
use sim::proxmox::{DEMO_POOL, DEMO_TOKEN_NAME, DEMO_TOKEN_SECRET, DEMO_USER, RunningSimulator, SimConfig, Simulator};

fn schema_path() -> PathBuf {
    std::env::var_os("PVE_API_SCHEMA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/contracts/pve-api-schema.json"))
}

/// The schema tree, or `None` (after saying so) when it is not available outside CI.
fn load_schema() -> Option<Value> {
    let path = schema_path();
    match std::fs::read(&path) {
        Ok(bytes) => Some(serde_json::from_slice(&bytes).expect("schema file is JSON")),
        Err(e) if std::env::var_os("CI").is_some() => {
            panic!("Proxmox API schema not found at {} under CI: {e}", path.display())
        }
        Err(e) => {
            eprintln!("SKIPPED: Proxmox API schema not found at {} ({e}); set PVE_API_SCHEMA", path.display());
            None
        }
    }
}

fn find_node<'a>(nodes: &'a Value, path: &str) -> Option<&'a Value> {
    nodes
        .as_array()?
        .iter()
        .find_map(|node| if node["path"] == path { Some(node) } else { find_node(&node["children"], path) })
}

fn returns<'a>(schema: &'a Value, method: &str, template: &str) -> &'a Value {
    let node = find_node(schema, template).unwrap_or_else(|| panic!("{template} not in schema"));
    let info = &node["info"][method];
    assert!(info.is_object(), "{method} {template} not in schema");
    &info["returns"]
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_u64() != Some(0),
        Value::Object(_) => true,
        _ => false,
    }
}

/// Finds the declared property for `key`, including Proxmox's indexed names: `net0`
/// matches `net[n]`.
fn property<'a>(props: &'a serde_json::Map<String, Value>, key: &str) -> Option<&'a Value> {
    props.get(key).or_else(|| {
        props.iter().find_map(|(name, schema)| {
            let prefix = name.strip_suffix("[n]")?;
            let index = key.strip_prefix(prefix)?;
            (!index.is_empty() && index.bytes().all(|b| b.is_ascii_digit())).then_some(schema)
        })
    })
}

fn is_integer_text(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// Validates `value` against the JSON-schema subset Proxmox uses. Numeric strings pass
/// for integers and numbers and 0/1 for booleans, as real servers print them. Objects
/// are strict unless the schema allows additional properties: an undeclared field in
/// the simulator is a field real Proxmox does not promise. An object schema without
/// `properties` (e.g. `ha` of a VM status) accepts any contents.
fn validate(schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
    if value.is_null() && truthy(&schema["optional"]) {
        return;
    }
    let kind = schema["type"].as_str().unwrap_or(if schema.get("properties").is_some() {
        "object"
    } else if schema.get("items").is_some() {
        "array"
    } else {
        "any"
    });
    let ok = match kind {
        "any" => true,
        "null" => value.is_null(),
        "string" => value.is_string(),
        "integer" => {
            value.as_i64().is_some() || value.as_u64().is_some() || value.as_str().is_some_and(is_integer_text)
        }
        "number" => value.is_number() || value.as_str().is_some_and(|s| s.parse::<f64>().is_ok()),
        "boolean" => {
            value.is_boolean() || matches!(value.as_u64(), Some(0 | 1)) || matches!(value.as_str(), Some("0" | "1"))
        }
        "array" => value.is_array(),
        "object" => value.is_object(),
        other => {
            errors.push(format!("{at}: schema type {other:?} not supported by this validator"));
            return;
        }
    };
    if !ok {
        errors.push(format!("{at}: expected {kind}, got {value}"));
        return;
    }
    if let (Some(allowed), Some(s)) = (schema["enum"].as_array(), value.as_str())
        && !allowed.iter().any(|a| a == s)
    {
        errors.push(format!("{at}: {s:?} is not one of {allowed:?}"));
    }
    match (kind, value) {
        ("array", Value::Array(items)) => {
            if let Some(item_schema) = schema.get("items") {
                for (i, item) in items.iter().enumerate() {
                    validate(item_schema, item, &format!("{at}[{i}]"), errors);
                }
            }
        }
        // An object schema without `properties` describes nothing about the contents.
        ("object", Value::Object(map)) if schema["properties"].is_object() => {
            let empty = serde_json::Map::new();
            let props = schema["properties"].as_object().unwrap_or(&empty);
            for (name, prop) in props {
                if !truthy(&prop["optional"]) && !map.contains_key(name) && !name.ends_with("[n]") {
                    errors.push(format!("{at}: required property {name:?} missing"));
                }
            }
            for (key, v) in map {
                match property(props, key) {
                    Some(prop) => validate(prop, v, &format!("{at}.{key}"), errors),
                    None if schema["additionalProperties"].is_object() => {
                        validate(&schema["additionalProperties"], v, &format!("{at}.{key}"), errors)
                    }
                    None if truthy(&schema["additionalProperties"]) => {}
                    None => errors.push(format!("{at}: property {key:?} is not declared")),
                }
            }
        }
        _ => {}
    }
}

struct Harness {
    schema: Value,
    http: reqwest::Client,
    running: RunningSimulator,
    checked: usize,
}

impl Harness {
    async fn start(schema: Value) -> Harness {
        // Needed only when reqwest is built with the connector's `rustls-no-provider`;
        // "already installed" is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let config = SimConfig { time_scale: 0.01, ..SimConfig::demo() };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let running = Simulator::new(config).unwrap().start(listener).unwrap();
        Harness { schema, http: reqwest::Client::new(), running, checked: 0 }
    }

    /// Calls `method template` with path arguments and parameters, checks success and
    /// validates `data` against the schema; returns `data`.
    async fn call(&mut self, method: &str, template: &str, args: &[(&str, &str)], params: &[(&str, &str)]) -> Value {
        let (status, body) = self.raw(method, template, args, params, true).await;
        assert!(status.is_success(), "{method} {template}: {status} {body}");
        let mut errors = Vec::new();
        validate(returns(&self.schema, method, template), &body["data"], "data", &mut errors);
        assert!(errors.is_empty(), "{method} {template} answer violates the schema:\n{}\n{body:#}", errors.join("\n"));
        self.checked += 1;
        body["data"].clone()
    }

    async fn raw(
        &self,
        method: &str,
        template: &str,
        args: &[(&str, &str)],
        params: &[(&str, &str)],
        authorized: bool,
    ) -> (reqwest::StatusCode, Value) {
        let mut path = template.to_owned();
        for (name, value) in args {
            path = path.replace(&format!("{{{name}}}"), value);
        }
        let url = format!("{}/api2/json{path}", self.running.base_url());
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self.http.request(method.clone(), url);
        let auth = format!("PVEAPIToken={DEMO_USER}!{DEMO_TOKEN_NAME}={DEMO_TOKEN_SECRET}");
        if authorized {
            request = request.header("Authorization", auth.as_str());
        }
        let encoded = form_urlencoded::Serializer::new(String::new()).extend_pairs(params).finish();
        let request = if method == reqwest::Method::GET || method == reqwest::Method::DELETE {
            let url = format!("{}/api2/json{path}?{encoded}", self.running.base_url());
            request = self.http.request(method, url);
            if authorized {
                request = request.header("Authorization", auth);
            }
            request
        } else {
            request.header("Content-Type", "application/x-www-form-urlencoded").body(encoded)
        };
        let response = request.send().await.unwrap();
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        (status, body)
    }

    async fn wait_task(&mut self, upid: &Value) -> Value {
        let upid = upid.as_str().expect("task answers are UPID strings").to_owned();
        let node = upid.split(':').nth(1).unwrap().to_owned();
        for _ in 0..500 {
            let status =
                self.call("GET", "/nodes/{node}/tasks/{upid}/status", &[("node", &node), ("upid", &upid)], &[]).await;
            if status["status"] == "stopped" {
                assert_eq!(status["exitstatus"], "OK", "task {upid} failed");
                return status;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("task {upid} did not finish");
    }
}

#[tokio::test]
async fn simulator_answers_match_the_published_schema() {
    let Some(schema) = load_schema() else { return };
    let mut h = Harness::start(schema).await;
    let pve1 = ("node", "pve1");

    h.call("GET", "/version", &[], &[]).await;
    h.call("GET", "/nodes", &[], &[]).await;
    h.call("GET", "/nodes/{node}/status", &[pve1], &[]).await;
    for kind in [None, Some("vm"), Some("node"), Some("storage")] {
        let params: Vec<(&str, &str)> = kind.map(|k| ("type", k)).into_iter().collect();
        let list = h.call("GET", "/cluster/resources", &[], &params).await;
        assert!(!list.as_array().unwrap().is_empty());
    }
    let nextid = h.call("GET", "/cluster/nextid", &[], &[]).await;
    assert_eq!(nextid, "100", "real Proxmox prints the next ID as a string");
    h.call("GET", "/nodes/{node}/storage", &[pve1], &[("content", "images")]).await;
    h.call("GET", "/pools", &[], &[]).await;
    let pool = h.call("GET", "/pools/{poolid}", &[("poolid", DEMO_POOL)], &[]).await;
    assert_eq!(pool["members"].as_array().unwrap().len(), 3);
    h.call("GET", "/nodes/{node}/qemu", &[pve1], &[]).await;
    h.call("GET", "/nodes/{node}/qemu/{vmid}/config", &[pve1, ("vmid", "9000")], &[]).await;

    // Linked clone, then everything one does with a course VM.
    let upid = h
        .call(
            "POST",
            "/nodes/{node}/qemu/{vmid}/clone",
            &[pve1, ("vmid", "9000")],
            &[("newid", "100"), ("name", "student-1"), ("full", "0"), ("pool", DEMO_POOL)],
        )
        .await;
    let task = h.wait_task(&upid).await;
    let upid_text = upid.as_str().unwrap();
    h.call("GET", "/nodes/{node}/tasks/{upid}/log", &[pve1, ("upid", upid_text)], &[("start", "0"), ("limit", "50")])
        .await;
    assert_eq!(task["type"], "qmclone");
    let vm = [pve1, ("vmid", "100")];
    h.call(
        "PUT",
        "/nodes/{node}/qemu/{vmid}/config",
        &vm,
        &[
            ("name", "student-one"),
            ("cores", "2"),
            ("memory", "4096"),
            ("description", "Course A"),
            ("tags", "openvle;ssh"),
            ("net0", "virtio,bridge=vmbr1"),
        ],
    )
    .await;
    let config = h.call("GET", "/nodes/{node}/qemu/{vmid}/config", &vm, &[]).await;
    assert_eq!(config["memory"], "4096");
    assert!(config["net0"].as_str().unwrap().contains("bridge=vmbr1"));

    let upid = h
        .call("POST", "/nodes/{node}/qemu/{vmid}/snapshot", &vm, &[("snapname", "clean"), ("description", "fresh")])
        .await;
    h.wait_task(&upid).await;
    let snaps = h.call("GET", "/nodes/{node}/qemu/{vmid}/snapshot", &vm, &[]).await;
    assert_eq!(snaps.as_array().unwrap().len(), 2, "snapshot plus 'current'");
    let upid = h
        .call(
            "POST",
            "/nodes/{node}/qemu/{vmid}/snapshot/{snapname}/rollback",
            &[pve1, ("vmid", "100"), ("snapname", "clean")],
            &[],
        )
        .await;
    h.wait_task(&upid).await;
    let upid = h
        .call(
            "DELETE",
            "/nodes/{node}/qemu/{vmid}/snapshot/{snapname}",
            &[pve1, ("vmid", "100"), ("snapname", "clean")],
            &[],
        )
        .await;
    h.wait_task(&upid).await;

    let upid = h.call("POST", "/nodes/{node}/qemu/{vmid}/status/start", &vm, &[]).await;
    h.wait_task(&upid).await;
    let status = h.call("GET", "/nodes/{node}/qemu/{vmid}/status/current", &vm, &[]).await;
    assert_eq!(status["status"], "running");
    let mut agent = None;
    for _ in 0..200 {
        let (code, body) = h.raw("GET", "/nodes/{node}/qemu/{vmid}/agent/network-get-interfaces", &vm, &[], true).await;
        if code.is_success() {
            agent = Some(body);
            break;
        }
        assert_eq!(code, 500, "{body}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(agent.is_some(), "guest agent never answered");
    let interfaces = h.call("GET", "/nodes/{node}/qemu/{vmid}/agent/network-get-interfaces", &vm, &[]).await;
    assert!(interfaces["result"].as_array().is_some_and(|r| r.len() == 2));
    let vnc = h.call("POST", "/nodes/{node}/qemu/{vmid}/vncproxy", &vm, &[("websocket", "1")]).await;
    assert!(vnc["ticket"].as_str().unwrap().starts_with("PVEVNC:"));
    for action in ["suspend", "resume", "reboot", "reset", "shutdown"] {
        let template = format!("/nodes/{{node}}/qemu/{{vmid}}/status/{action}");
        let upid = h.call("POST", &template, &vm, &[]).await;
        h.wait_task(&upid).await;
    }
    let upid = h.call("POST", "/nodes/{node}/qemu/{vmid}/status/stop", &vm, &[]).await;
    h.wait_task(&upid).await;

    // A full clone to another node, converted to a template, then both deleted.
    let upid = h
        .call(
            "POST",
            "/nodes/{node}/qemu/{vmid}/clone",
            &[pve1, ("vmid", "9000")],
            &[("newid", "101"), ("full", "1"), ("pool", DEMO_POOL), ("target", "pve2"), ("storage", "vmdata")],
        )
        .await;
    h.wait_task(&upid).await;
    let vm2 = [("node", "pve2"), ("vmid", "101")];
    let upid = h.call("POST", "/nodes/{node}/qemu/{vmid}/template", &vm2, &[]).await;
    h.wait_task(&upid).await;
    for target in [vm, vm2] {
        let upid = h
            .call(
                "DELETE",
                "/nodes/{node}/qemu/{vmid}",
                &target,
                &[("purge", "1"), ("destroy-unreferenced-disks", "1")],
            )
            .await;
        h.wait_task(&upid).await;
    }
    assert!(h.checked > 40, "only {} answers checked", h.checked);
    h.running.stop().await.unwrap();
}

#[tokio::test]
async fn error_answers_have_proxmox_shape() {
    let Some(schema) = load_schema() else { return };
    let h = Harness::start(schema).await;
    let (status, body) = h.raw("GET", "/version", &[], &[], false).await;
    assert_eq!(status, 401);
    assert_eq!(body, serde_json::json!({ "data": null }));

    let (status, body) =
        h.raw("GET", "/nodes/{node}/qemu/{vmid}/config", &[("node", "pve1"), ("vmid", "4242")], &[], true).await;
    assert_eq!(status, 403, "a VM outside the token's pools is a permission error: {body}");

    let (status, body) = h
        .raw(
            "POST",
            "/nodes/{node}/qemu/{vmid}/clone",
            &[("node", "pve1"), ("vmid", "9000")],
            &[("newid", "100"), ("bogus", "1")],
            true,
        )
        .await;
    assert_eq!(status, 400);
    assert!(body["errors"]["bogus"].is_string(), "{body}");

    let (status, body) =
        h.raw("POST", "/nodes/{node}/qemu/{vmid}/status/start", &[("node", "pve1"), ("vmid", "9000")], &[], true).await;
    assert_eq!(status, 500);
    assert!(body["message"].as_str().unwrap().contains("template"), "{body}");

    let (status, _) = h.raw("GET", "/nodes/{node}/frobnicate", &[("node", "pve1")], &[], true).await;
    assert_eq!(status, 501);
    h.running.stop().await.unwrap();
}

#[test]
fn validator_rejects_what_it_should() {
    let schema = serde_json::json!({
        "type": "object",
        "properties": {
            "vmid": { "type": "integer" },
            "template": { "type": "boolean", "optional": 1 },
            "status": { "type": "string", "enum": ["running", "stopped"] },
            "net[n]": { "type": "string", "optional": 1 }
        }
    });
    let check = |v: Value| {
        let mut errors = Vec::new();
        validate(&schema, &v, "data", &mut errors);
        errors
    };
    assert!(check(serde_json::json!({"vmid": "100", "template": 1, "status": "running", "net0": "virtio"})).is_empty());
    assert_eq!(check(serde_json::json!({"vmid": "x", "status": "running"})).len(), 1);
    assert_eq!(check(serde_json::json!({"vmid": 1, "status": "paused"})).len(), 1);
    assert_eq!(check(serde_json::json!({"status": "running"})).len(), 1, "missing required vmid");
    assert_eq!(check(serde_json::json!({"vmid": 1, "status": "running", "extra": 1})).len(), 1);
    assert_eq!(check(serde_json::json!({"vmid": 1, "status": "running", "template": 2})).len(), 1);
}
