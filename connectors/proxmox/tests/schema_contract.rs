//! Contract test: every call the connector makes exists in Proxmox's published API
//! schema, with every parameter declared there with a compatible type.
//!
//! It reads the connector's own endpoint table, which is what the client builds its
//! requests from (and, in debug builds, refuses to send undeclared parameters from), so
//! the test and the code cannot drift. The schema lives outside the repository
//! (`../shared/contracts/pve-api-schema.json`, or the file named by `PVE_API_SCHEMA`);
//! without it the test says SKIPPED, and fails under CI.

use std::path::PathBuf;

use proxmox_connector::endpoints::{ENDPOINTS, Endpoint, Method, ParamKind};
use serde_json::Value;

fn schema_path() -> PathBuf {
    std::env::var_os("PVE_API_SCHEMA").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/contracts/pve-api-schema.json")
    })
}

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

/// The schema's parameter for `name`; `net0` is declared as `net[n]`.
fn declared<'a>(props: &'a serde_json::Map<String, Value>, name: &str) -> Option<&'a Value> {
    props.get(name).or_else(|| {
        props.iter().find_map(|(pattern, schema)| {
            let prefix = pattern.strip_suffix("[n]")?;
            let index = name.strip_prefix(prefix)?;
            (!index.is_empty() && index.bytes().all(|b| b.is_ascii_digit())).then_some(schema)
        })
    })
}

/// Whether what we write for `kind` is acceptable where the schema says `schema_type`:
/// digits pass as integer or number, `0`/`1` as boolean.
fn compatible(kind: ParamKind, schema_type: &str) -> bool {
    match kind {
        ParamKind::String => schema_type == "string",
        ParamKind::Integer => matches!(schema_type, "integer" | "number"),
        ParamKind::Boolean => schema_type == "boolean",
    }
}

/// Everything wrong with one endpoint, as messages.
fn check(schema: &Value, endpoint: &Endpoint) -> Vec<String> {
    let Some(node) = find_node(schema, endpoint.path) else {
        return vec![format!("{endpoint}: path not in schema")];
    };
    let info = &node["info"][endpoint.method.as_str()];
    if !info.is_object() {
        return vec![format!("{endpoint}: method not in schema")];
    }
    let mut problems = Vec::new();
    if info["allowtoken"] != 1 {
        problems.push(format!("{endpoint}: API tokens are not allowed"));
    }
    let empty = serde_json::Map::new();
    let props = info["parameters"]["properties"].as_object().unwrap_or(&empty);
    for placeholder in endpoint.placeholders() {
        if !props.contains_key(placeholder) {
            problems.push(format!("{endpoint}: path parameter {placeholder} not declared"));
        }
    }
    for param in endpoint.params {
        match declared(props, param.name) {
            None => problems.push(format!("{endpoint}: parameter {} not declared", param.name)),
            Some(p) => {
                let schema_type = p["type"].as_str().unwrap_or("string");
                if !compatible(param.kind, schema_type) {
                    problems.push(format!(
                        "{endpoint}: parameter {} sent as {:?}, schema says {schema_type}",
                        param.name, param.kind
                    ));
                }
            }
        }
    }
    // Required parameters we never send would make Proxmox reject every call.
    for (name, p) in props {
        let required = p["optional"] != 1 && p.get("default").is_none();
        let sent = endpoint.params.iter().any(|q| q.name == name) || endpoint.placeholders().any(|q| q == name);
        if required && !sent {
            problems.push(format!("{endpoint}: required parameter {name} is never sent"));
        }
    }
    problems
}

#[test]
fn every_connector_call_is_in_the_schema() {
    let Some(schema) = load_schema() else { return };
    let problems: Vec<String> = ENDPOINTS.iter().flat_map(|e| check(&schema, e)).collect();
    assert!(problems.is_empty(), "connector calls disagree with the Proxmox API schema:\n{}", problems.join("\n"));
    assert!(ENDPOINTS.len() >= 30, "endpoint table unexpectedly small");
}

#[test]
fn the_check_catches_drift() {
    let Some(schema) = load_schema() else { return };
    use proxmox_connector::endpoints::Param;
    let wrong_path = Endpoint { method: Method::Get, path: "/nodes/{node}/qemu/{vmid}/frobnicate", params: &[] };
    assert_eq!(check(&schema, &wrong_path).len(), 1);
    let wrong_method = Endpoint { method: Method::Delete, path: "/version", params: &[] };
    assert_eq!(check(&schema, &wrong_method).len(), 1);
    let wrong_param = Endpoint {
        method: Method::Post,
        path: "/nodes/{node}/qemu/{vmid}/clone",
        params: &[Param { name: "newid", kind: ParamKind::String }, Param { name: "linked", kind: ParamKind::Boolean }],
    };
    let problems = check(&schema, &wrong_param);
    assert_eq!(problems.len(), 2, "{problems:?}");
    let missing_required = Endpoint { method: Method::Post, path: "/nodes/{node}/qemu/{vmid}/clone", params: &[] };
    assert!(check(&schema, &missing_required).iter().any(|p| p.contains("newid")));
}
