//! The Docker deployment keeps the topology of the original product: the
//! services `openvle`, `mariadb`, `mongodb` and `redis` on the network
//! `openvle-internal`, only the application's port published, the backing
//! services health-checked before openvle starts, service names as hosts, an
//! optional Nginx static host behind a profile, and a reverse-proxy variant
//! bound to 127.0.0.1. These tests read docker-compose.yml,
//! docker-compose.proxy.yml, the Dockerfile and .dockerignore as text; they
//! need no Docker.

use serde_norway::{Mapping, Value};

const BACKING: [&str; 3] = ["mariadb", "mongodb", "redis"];
const NETWORK: &str = "openvle-internal";
/// Read by the Proxmox connector (connectors/proxmox/src/config.rs), not by
/// `server::config`.
const PVE_VARIABLES: [&str; 11] = [
    "PVE_HOSTNAME",
    "PVE_USER",
    "PVE_TOKEN_NAME",
    "PVE_TOKEN_VALUE",
    "PVE_VERIFY_SSL",
    "PVE_VMS_POOL",
    "PVE_VMS_FULL_CLONE_DEFAULT",
    "PVE_TLS_FINGERPRINT",
    "PVE_CA_FILE",
    "PVE_CONNECT_TIMEOUT_SECS",
    "PVE_REQUEST_TIMEOUT_SECS",
];

fn repo_file(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

fn yaml(name: &str) -> Value {
    serde_norway::from_str(&repo_file(name)).unwrap_or_else(|e| panic!("{name} is not valid YAML: {e}"))
}

fn compose() -> Value {
    yaml("docker-compose.yml")
}

/// The value under a `!override` / `!reset` tag (or the value itself).
fn untag(value: &Value) -> &Value {
    match value {
        Value::Tagged(tagged) => untag(&tagged.value),
        other => other,
    }
}

fn tag_of(value: &Value) -> Option<String> {
    match value {
        Value::Tagged(tagged) => Some(tagged.tag.to_string().trim_start_matches('!').to_string()),
        _ => None,
    }
}

fn mapping<'a>(value: &'a Value, what: &str) -> &'a Mapping {
    untag(value).as_mapping().unwrap_or_else(|| panic!("{what} is not a mapping"))
}

fn services(doc: &Value) -> &Mapping {
    mapping(doc.get("services").expect("no top-level `services`"), "services")
}

fn service<'a>(doc: &'a Value, name: &str) -> &'a Value {
    services(doc).get(name).unwrap_or_else(|| panic!("service `{name}` is missing"))
}

fn service_names(doc: &Value) -> Vec<String> {
    services(doc).keys().map(|k| k.as_str().expect("service names are strings").to_string()).collect()
}

fn scalar(value: &Value) -> Option<String> {
    match untag(value) {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Names in a list (`[a, b]`) or the keys of a mapping (`{a: ..., b: ...}`):
/// the two syntaxes of `networks` and `depends_on`.
fn names(value: Option<&Value>) -> Vec<String> {
    match value.map(untag) {
        None | Some(Value::Null) => vec![],
        Some(Value::Sequence(items)) => items.iter().filter_map(scalar).collect(),
        Some(Value::Mapping(map)) => map.keys().filter_map(scalar).collect(),
        Some(other) => panic!("expected a list or mapping, got {other:?}"),
    }
}

/// `environment` as (name, value) pairs, from either syntax.
fn environment(svc: &Value) -> Vec<(String, Option<String>)> {
    match svc.get("environment").map(untag) {
        None | Some(Value::Null) => vec![],
        Some(Value::Mapping(map)) => map.iter().map(|(k, v)| (scalar(k).expect("variable name"), scalar(v))).collect(),
        Some(Value::Sequence(items)) => items
            .iter()
            .map(|item| {
                let item = scalar(item).expect("environment entry");
                match item.split_once('=') {
                    Some((k, v)) => (k.to_string(), Some(v.to_string())),
                    None => (item, None),
                }
            })
            .collect(),
        Some(other) => panic!("unexpected environment {other:?}"),
    }
}

fn env_value(svc: &Value, name: &str) -> Option<String> {
    environment(svc).into_iter().find(|(k, _)| k == name).and_then(|(_, v)| v)
}

/// A published port: host address (None = every address), host port, container port.
#[derive(Debug, PartialEq)]
struct Port {
    host_ip: Option<String>,
    published: Option<String>,
    target: String,
}

/// Parses the short syntax `[HOST_IP:][PUBLISHED:]TARGET[/PROTOCOL]`.
fn parse_short_port(spec: &str) -> Port {
    let spec = spec.split('/').next().unwrap_or(spec);
    let (host_ip, rest) = if let Some(after) = spec.strip_prefix('[') {
        let (ip, rest) = after.split_once("]:").unwrap_or_else(|| panic!("bad port {spec:?}"));
        (Some(ip.to_string()), rest)
    } else {
        let parts: Vec<&str> = spec.split(':').collect();
        match parts.len() {
            3 => (Some(parts[0].to_string()), &spec[parts[0].len() + 1..]),
            1 | 2 => (None, spec),
            _ => panic!("bad port {spec:?}"),
        }
    };
    let (published, target) = match rest.split_once(':') {
        Some((published, target)) => (Some(published.to_string()), target.to_string()),
        None => (None, rest.to_string()),
    };
    Port { host_ip: host_ip.filter(|ip| !ip.is_empty()), published, target }
}

fn parse_ports(value: Option<&Value>) -> Vec<Port> {
    let Some(value) = value else { return vec![] };
    match untag(value) {
        Value::Null => vec![],
        Value::Sequence(items) => items
            .iter()
            .map(|item| match untag(item) {
                Value::Mapping(_) => Port {
                    host_ip: item.get("host_ip").and_then(scalar),
                    published: item.get("published").and_then(scalar),
                    target: item.get("target").and_then(scalar).expect("long port syntax needs a target"),
                },
                other => parse_short_port(&scalar(other).expect("port")),
            })
            .collect(),
        other => panic!("ports must be a list, got {other:?}"),
    }
}

fn ports(svc: &Value) -> Vec<Port> {
    parse_ports(svc.get("ports"))
}

fn profiles(svc: &Value) -> Vec<String> {
    names(svc.get("profiles"))
}

#[test]
fn parse_short_port_reads_every_form() {
    let p = |ip: Option<&str>, published: Option<&str>, target: &str| Port {
        host_ip: ip.map(str::to_string),
        published: published.map(str::to_string),
        target: target.to_string(),
    };
    assert_eq!(parse_short_port("8000"), p(None, None, "8000"));
    assert_eq!(parse_short_port("8000:80"), p(None, Some("8000"), "80"));
    assert_eq!(parse_short_port("127.0.0.1:8000:8000/tcp"), p(Some("127.0.0.1"), Some("8000"), "8000"));
    assert_eq!(parse_short_port("[::1]:80:80"), p(Some("::1"), Some("80"), "80"));
}

#[test]
fn the_four_services_exist_on_the_internal_network() {
    let doc = compose();
    for name in ["openvle", "mariadb", "mongodb", "redis"] {
        service(&doc, name);
    }
    let declared = names(doc.get("networks"));
    assert!(declared.contains(&NETWORK.to_string()), "network {NETWORK} is not declared: {declared:?}");
    let network = doc.get("networks").and_then(|n| n.get(NETWORK));
    // `internal: true` would cut openvle off from Proxmox and from publishing its port.
    assert_ne!(
        network.and_then(|n| n.get("internal")).and_then(Value::as_bool),
        Some(true),
        "{NETWORK} must not be a Docker `internal` network"
    );
    for name in service_names(&doc) {
        let networks = names(service(&doc, &name).get("networks"));
        assert!(networks.contains(&NETWORK.to_string()), "service {name} is not on {NETWORK}: {networks:?}");
    }
}

#[test]
fn services_use_the_agreed_images() {
    let doc = compose();
    let image = |name: &str| service(&doc, name).get("image").and_then(scalar);
    assert_eq!(image("openvle").as_deref(), Some("openvle:latest"));
    assert_eq!(image("mariadb").as_deref(), Some("mariadb:11.4"));
    assert_eq!(image("mongodb").as_deref(), Some("mongo:7.0"));
    assert_eq!(image("redis").as_deref(), Some("redis:7.4"));
    let build = service(&doc, "openvle").get("build").expect("openvle is built from this repository");
    let context = scalar(build).or_else(|| build.get("context").and_then(scalar));
    assert_eq!(context.as_deref(), Some("."), "openvle builds from the repository root");
}

#[test]
fn only_openvle_publishes_a_port_and_it_is_8000() {
    let doc = compose();
    let openvle = ports(service(&doc, "openvle"));
    assert!(!openvle.is_empty(), "openvle publishes no port");
    assert!(
        openvle.iter().all(|p| p.target == "8000"),
        "openvle publishes other than container port 8000: {openvle:?}"
    );
    for name in BACKING {
        let published = ports(service(&doc, name));
        assert!(published.is_empty(), "{name} publishes {published:?}; only openvle may");
    }
    // Whatever else is added to the default stack (no profile) publishes nothing either.
    for name in service_names(&doc) {
        let svc = service(&doc, &name);
        if name != "openvle" && profiles(svc).is_empty() {
            assert!(ports(svc).is_empty(), "{name} is in the default stack and publishes a port");
        }
    }
}

#[test]
fn openvle_waits_for_healthy_backing_services() {
    let doc = compose();
    let depends_on = service(&doc, "openvle").get("depends_on").expect("openvle has no depends_on");
    for name in BACKING {
        let condition = depends_on.get(name).and_then(|d| d.get("condition")).and_then(scalar);
        assert_eq!(condition.as_deref(), Some("service_healthy"), "openvle does not wait for {name} to be healthy");

        let healthcheck = service(&doc, name).get("healthcheck").unwrap_or_else(|| panic!("{name} has no healthcheck"));
        assert_ne!(healthcheck.get("disable").and_then(Value::as_bool), Some(true), "{name}'s healthcheck is disabled");
        let test = match healthcheck.get("test").map(untag) {
            Some(Value::Sequence(items)) => items.iter().filter_map(scalar).collect::<Vec<_>>(),
            Some(other) => vec![scalar(other).unwrap_or_default()],
            None => vec![],
        };
        assert!(
            test.len() >= 2 && test[0] != "NONE" && !test[1].trim().is_empty(),
            "{name}'s healthcheck runs no command: {test:?}"
        );
    }
}

#[test]
fn openvle_reaches_the_backing_services_by_service_name() {
    let doc = compose();
    let openvle = service(&doc, "openvle");
    let env_files: Vec<String> = match openvle.get("env_file").map(untag) {
        Some(Value::Sequence(items)) => {
            items.iter().filter_map(|i| scalar(i).or_else(|| i.get("path").and_then(scalar))).collect()
        }
        Some(other) => scalar(other).into_iter().collect(),
        None => vec![],
    };
    assert!(env_files.iter().any(|f| f == ".env"), "openvle does not read .env: {env_files:?}");

    for (name, value) in [
        ("MARIADB_HOST", "mariadb"),
        ("MARIADB_PORT", "3306"),
        ("REDIS_HOST", "redis"),
        ("REDIS_PORT", "6379"),
        ("MONGODB_HOST", "mongodb"),
        ("MONGODB_PORT", "27017"),
        ("OPENVLE_LISTEN", "0.0.0.0:8000"),
    ] {
        assert_eq!(env_value(openvle, name).as_deref(), Some(value), "openvle's {name}");
    }
    // Secrets come from .env, never from this file, and are required.
    for name in ["AUTH_SECRET", "MARIADB_PASSWORD"] {
        let value = env_value(openvle, name).unwrap_or_default();
        assert!(
            value.starts_with(&format!("${{{name}:?")),
            "openvle's {name} must be `${{{name}:?...}}`, is {value:?}"
        );
    }
    // Every name is one the application reads: a misspelt variable is silently ignored.
    let known: Vec<&str> = server::config::VARIABLES.iter().map(|v| v.name).chain(PVE_VARIABLES).collect();
    for (name, _) in environment(openvle) {
        assert!(known.contains(&name.as_str()), "openvle's environment sets {name}, which OpenVLE does not read");
    }
    // The database and the application agree on the credentials.
    let mariadb = service(&doc, "mariadb");
    for name in ["MARIADB_USER", "MARIADB_PASSWORD", "MARIADB_DATABASE"] {
        let app = env_value(openvle, name);
        assert!(app.is_some(), "openvle does not set {name}");
        assert_eq!(env_value(mariadb, name), app, "{name} differs between openvle and mariadb");
    }
}

#[test]
fn databases_and_redis_keep_their_data() {
    let doc = compose();
    let declared = names(doc.get("volumes"));
    for (name, target) in [("mariadb", "/var/lib/mysql"), ("mongodb", "/data/db"), ("redis", "/data")] {
        let volumes = match service(&doc, name).get("volumes").map(untag) {
            Some(Value::Sequence(items)) => items.clone(),
            _ => vec![],
        };
        let source = volumes.iter().find_map(|v| match untag(v) {
            Value::Mapping(_) => (v.get("target").and_then(scalar).as_deref() == Some(target))
                .then(|| v.get("source").and_then(scalar).unwrap_or_default()),
            other => {
                let spec = scalar(other).unwrap_or_default();
                let mut parts = spec.split(':');
                let source = parts.next().unwrap_or_default().to_string();
                (parts.next() == Some(target)).then_some(source)
            }
        });
        let source = source.unwrap_or_else(|| panic!("{name} keeps {target} in no volume"));
        assert!(
            source.starts_with("./") || declared.contains(&source),
            "{name}'s volume {source:?} is neither a host directory nor a declared volume"
        );
    }
    let command = match service(&doc, "redis").get("command").map(untag) {
        Some(Value::Sequence(items)) => items.iter().filter_map(scalar).collect::<Vec<_>>().join(" "),
        Some(other) => scalar(other).unwrap_or_default(),
        None => String::new(),
    };
    assert!(command.contains("--appendonly yes"), "redis runs without its append-only file: {command:?}");
}

#[test]
fn the_static_host_frontend_is_behind_its_profile() {
    let doc = compose();
    let frontend = service(&doc, "frontend");
    assert_eq!(profiles(frontend), ["static-host"], "frontend must be started only with --profile static-host");
    let published = ports(frontend);
    assert!(!published.is_empty() && published.iter().all(|p| p.target == "80"), "frontend publishes {published:?}");
    let depends_on = names(frontend.get("depends_on"));
    assert!(depends_on.contains(&"openvle".to_string()), "frontend does not wait for openvle");
    let target = frontend.get("build").and_then(|b| b.get("target")).and_then(scalar);
    assert_eq!(target.as_deref(), Some("static-host"), "frontend is not built from the Dockerfile's static-host stage");

    // Its Nginx configuration is written inline; Compose interpolates it, so each `$` must be `$$`.
    let config_source = frontend
        .get("configs")
        .and_then(|c| untag(c).as_sequence())
        .and_then(|c| c.first())
        .and_then(|c| c.get("source").and_then(scalar).or_else(|| scalar(c)))
        .expect("frontend mounts no config");
    let content = doc
        .get("configs")
        .and_then(|c| c.get(config_source.as_str()))
        .and_then(|c| c.get("content"))
        .and_then(scalar)
        .unwrap_or_else(|| panic!("config {config_source} has no inline content"));
    assert!(!content.replace("$$", "").contains('$'), "a `$` in the Nginx config is not escaped as `$$`");
    let nginx = content.replace("$$", "$");
    for needle in [
        "root /usr/share/nginx/html;",
        "location /api/",
        "http://openvle:8000",
        "proxy_pass $openvle;",
        "proxy_set_header Host $http_host;",
    ] {
        assert!(nginx.contains(needle), "the Nginx config lacks `{needle}`");
    }
}

/// Ports after merging docker-compose.proxy.yml over docker-compose.yml:
/// Compose appends `ports` lists unless the override tags them `!override`/`!reset`.
fn merged_ports(base: &Value, overlay: &Value, name: &str) -> Vec<Port> {
    let base_ports = ports(service(base, name));
    let Some(value) = services(overlay).get(name).and_then(|s| s.get("ports")) else {
        return base_ports;
    };
    match tag_of(value).as_deref() {
        Some("override") | Some("reset") => parse_ports(Some(value)),
        Some(other) => panic!("unknown tag !{other} on {name}'s ports"),
        None => base_ports.into_iter().chain(parse_ports(Some(value))).collect(),
    }
}

#[test]
fn the_proxy_variant_publishes_on_loopback_only() {
    let base = compose();
    let overlay = yaml("docker-compose.proxy.yml");
    for name in services(&overlay).keys().filter_map(scalar) {
        service(&base, &name); // an override of a service that does not exist would create it
    }
    let mut checked = 0;
    for name in service_names(&base) {
        for port in merged_ports(&base, &overlay, &name) {
            assert_eq!(
                port.host_ip.as_deref(),
                Some("127.0.0.1"),
                "with the proxy override, {name} still publishes {port:?}"
            );
            checked += 1;
        }
    }
    let still = |name: &str, target: &str| merged_ports(&base, &overlay, name).iter().any(|p| p.target == target);
    assert!(still("openvle", "8000"), "the proxy override drops openvle's port");
    assert!(still("frontend", "80"), "the proxy override drops the frontend's port");
    assert!(checked >= 2);
}

/// One `FROM` stage of the Dockerfile.
struct Stage {
    base: String,
    name: Option<String>,
    instructions: Vec<(String, String)>,
}

impl Stage {
    fn all(&self, keyword: &str) -> Vec<&str> {
        self.instructions.iter().filter(|(k, _)| k == keyword).map(|(_, a)| a.as_str()).collect()
    }

    fn last(&self, keyword: &str) -> Option<&str> {
        self.all(keyword).last().copied()
    }
}

/// Instructions (continuation lines joined, comments dropped) grouped by stage.
fn dockerfile_stages(text: &str) -> Vec<Stage> {
    let mut instructions = vec![];
    let mut current = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('#') || (trimmed.is_empty() && current.is_empty()) {
            continue;
        }
        match trimmed.strip_suffix('\\') {
            Some(part) => {
                current.push_str(part);
                current.push(' ');
            }
            None => {
                current.push_str(trimmed);
                instructions.push(std::mem::take(&mut current));
            }
        }
    }
    let mut stages: Vec<Stage> = vec![];
    for instruction in instructions {
        let (keyword, args) = instruction.split_once(char::is_whitespace).unwrap_or((&instruction, ""));
        let (keyword, args) = (keyword.to_ascii_uppercase(), args.trim().to_string());
        if keyword == "FROM" {
            let words: Vec<&str> = args.split_whitespace().filter(|w| !w.starts_with("--")).collect();
            let name = match words.as_slice() {
                [_, as_, name] if as_.eq_ignore_ascii_case("as") => Some(name.to_string()),
                _ => None,
            };
            stages.push(Stage { base: words.first().unwrap_or(&"").to_string(), name, instructions: vec![] });
        } else if let Some(stage) = stages.last_mut() {
            stage.instructions.push((keyword, args));
        }
    }
    stages
}

#[test]
fn the_image_is_built_in_stages_and_runs_unprivileged() {
    let stages = dockerfile_stages(&repo_file("Dockerfile"));
    assert!(stages.len() >= 2, "the Dockerfile is not multi-stage");
    let stage_names: Vec<&str> = stages.iter().filter_map(|s| s.name.as_deref()).collect();
    for needed in ["builder", "static-host", "runtime"] {
        assert!(stage_names.contains(&needed), "no stage `{needed}`: {stage_names:?}");
    }

    // A plain `docker build .` gives the last stage: it must be the runtime that compose builds.
    let runtime = stages.last().unwrap();
    assert_eq!(runtime.name.as_deref(), Some("runtime"), "the last stage is not the runtime");
    let target = service(&compose(), "openvle").get("build").and_then(|b| b.get("target")).and_then(scalar);
    assert_eq!(target.as_deref(), Some("runtime"), "compose builds openvle from another stage");
    assert!(
        runtime.base.starts_with("debian:") && runtime.base.ends_with("-slim"),
        "runtime is based on {}",
        runtime.base
    );

    let user = runtime.last("USER").expect("the runtime stage runs as root (no USER)");
    let uid = user.split(':').next().unwrap_or_default();
    assert!(!["root", "0", ""].contains(&uid), "the runtime stage runs as {user}");

    let exposed: Vec<&str> = runtime.all("EXPOSE").iter().flat_map(|e| e.split_whitespace()).collect();
    assert!(
        exposed.iter().any(|p| p.split('/').next() == Some("8000")),
        "the runtime does not EXPOSE 8000: {exposed:?}"
    );

    let healthcheck = runtime.last("HEALTHCHECK").expect("the runtime has no HEALTHCHECK");
    assert!(
        !healthcheck.eq_ignore_ascii_case("NONE") && healthcheck.contains("/healthz"),
        "HEALTHCHECK {healthcheck:?}"
    );

    assert_eq!(runtime.last("ENTRYPOINT"), Some(r#"["/app/openvle"]"#));
    assert_eq!(runtime.last("CMD"), Some(r#"["serve"]"#));
    let env = runtime.all("ENV").join(" ");
    for setting in ["OPENVLE_SITE_ROOT=/app/site", "OPENVLE_LISTEN=0.0.0.0:8000", "OPENVLE_DATA_DIR=/data"] {
        assert!(env.split_whitespace().any(|w| w == setting), "the runtime does not set {setting}");
    }
    let copies = runtime.all("COPY").join("\n");
    assert!(
        copies.contains("/app/openvle") && copies.contains("/app/site"),
        "the runtime lacks the binary or the site"
    );

    let builder = stages.iter().find(|s| s.name.as_deref() == Some("builder")).unwrap();
    let runs = builder.all("RUN").join("\n");
    for needle in ["rustup target add wasm32-unknown-unknown", "wasm-bindgen-cli", "scripts/build --release"] {
        assert!(runs.contains(needle), "the builder does not run `{needle}`");
    }
}

#[test]
fn the_build_context_leaves_out_secrets_and_build_output() {
    let ignored: Vec<String> = repo_file(".dockerignore")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.trim_end_matches('/').to_string())
        .collect();
    for needed in [".env", "target", "**/node_modules", ".git"] {
        assert!(ignored.iter().any(|l| l == needed), ".dockerignore does not leave out {needed}");
    }
}
