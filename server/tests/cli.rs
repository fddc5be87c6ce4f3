//! The `openvle` binary itself: configuration errors, migrations and the
//! admin account command.

use std::io::Write;
use std::process::{Command, Stdio};

fn openvle(data_dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_openvle"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("OPENVLE_DATA_DIR", data_dir)
        .env("AUTH_SECRET", "cli-test-secret-0123456789abcdef0123");
    cmd
}

fn temp_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("openvle_cli_{}_{:08x}", std::process::id(), rand::random::<u32>()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn a_bad_variable_stops_start_up_with_one_line_naming_it() {
    let dir = temp_dir();
    let out = openvle(&dir).arg("migrate").env("REDIS_HOST", "r").env("REDIS_PORT", "http").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("REDIS_PORT: expected a port number"), "{stderr}");
    let missing = openvle(&dir).env_remove("AUTH_SECRET").arg("serve").output().unwrap();
    assert!(String::from_utf8_lossy(&missing.stderr).contains("AUTH_SECRET: missing"));
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn help_documents_every_variable() {
    let out = Command::new(env!("CARGO_BIN_EXE_openvle")).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for var in server::config::VARIABLES {
        assert!(help.contains(var.name), "--help lacks {}", var.name);
    }
}

#[test]
fn migrate_then_create_an_administrator_from_the_command_line() {
    let dir = temp_dir();
    let migrated = openvle(&dir).arg("migrate").output().unwrap();
    assert!(migrated.status.success(), "{}", String::from_utf8_lossy(&migrated.stderr));
    assert!(dir.join("openvle.db").exists());

    let mut child = openvle(&dir)
        .args(["user", "create", "--username", "Root.Admin", "--role", "admin", "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"Str0ng-Enough!\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("User root.admin is ready."));

    let weak = openvle(&dir)
        .args(["user", "create", "--username", "other", "--role", "admin", "--password-stdin"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            c.stdin.take().unwrap().write_all(b"short\n")?;
            c.wait_with_output()
        })
        .unwrap();
    assert_eq!(weak.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&weak.stderr).contains("Password must have at least 10 characters."));

    let generated =
        openvle(&dir).args(["user", "create", "--username", "helper", "--role", "instructor"]).output().unwrap();
    let text = String::from_utf8_lossy(&generated.stdout);
    assert!(text.contains("User helper is ready. Password: "), "{text}");
    std::fs::remove_dir_all(dir).ok();
}

/// Runs `cmd` and waits at most 60 s for it to exit on its own.
fn exits_within_a_minute(cmd: &mut Command) -> std::process::Output {
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            child.kill().ok();
            panic!("still running after a minute: {:?}", child.wait_with_output().unwrap());
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    child.wait_with_output().unwrap()
}

/// A missing browser build or a taken port stops `serve` and `demo` with the
/// reason, before anything else starts (no worker left running behind no web
/// server, no "running at" line for a server that is not there).
#[test]
fn serve_and_demo_stop_when_the_site_or_the_port_is_unusable() {
    let dir = temp_dir();
    let empty_site = dir.join("no-site");
    std::fs::create_dir_all(&empty_site).unwrap();
    for command in ["serve", "demo"] {
        let out = exits_within_a_minute(openvle(&dir).arg(command).env("OPENVLE_SITE_ROOT", &empty_site));
        assert!(!out.status.success(), "{command}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("the browser bundle is missing"), "{command}: {stderr}");
        assert!(!String::from_utf8_lossy(&out.stdout).contains("running at"), "{command}");
    }

    let site = dir.join("site");
    std::fs::create_dir_all(site.join("pkg")).unwrap();
    std::fs::write(site.join("pkg").join("openvle.js"), "").unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    for command in ["serve", "demo"] {
        let out = exits_within_a_minute(
            openvle(&dir).arg(command).env("OPENVLE_SITE_ROOT", &site).env("OPENVLE_LISTEN", &address),
        );
        assert!(!out.status.success(), "{command}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(&format!("cannot listen on {address}")), "{command}: {stderr}");
    }
    std::fs::remove_dir_all(dir).ok();
}
