//! Test support (feature `testing`): a real SMTP server (Debian's
//! `python3-aiosmtpd`) per test, on a free loopback port with a certificate
//! from a throwaway CA, writing each accepted message as JSON (envelope,
//! headers, both decoded bodies) into its own directory. Killed when dropped
//! and when the test thread dies. Recipients at `@reject.test` are refused
//! permanently (550), at `@later.test` temporarily (451).

use std::fs;
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::config::{Security, SmtpConfig};

const PYTHON: &str = "/usr/bin/python3";
const SCRIPT: &str = include_str!("testing/smtp_server.py");
const INSTALL_HINT: &str = "the mail tests run a real SMTP server: install it with \
    `DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3-aiosmtpd openssl`";

/// One message as the server received it.
#[derive(Clone, Debug, serde::Deserialize)]
pub struct Received {
    pub mail_from: String,
    pub rcpt_tos: Vec<String>,
    pub from: String,
    pub to: String,
    pub reply_to: String,
    pub subject: String,
    pub message_id: String,
    pub text: String,
    pub html: String,
    pub auth: bool,
}

pub struct SmtpServer {
    child: Option<Child>,
    dir: tempfile::TempDir,
    pub port: u16,
    pub security: Security,
    credentials: Option<(String, String)>,
}

impl SmtpServer {
    /// Implicit TLS, no authentication.
    pub fn start() -> SmtpServer {
        SmtpServer::start_with(Security::Tls, None)
    }

    /// `credentials`: require AUTH with this user and password.
    pub fn start_with(security: Security, credentials: Option<(&str, &str)>) -> SmtpServer {
        assert!(Path::new(PYTHON).exists(), "{PYTHON} not found; {INSTALL_HINT}");
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        fs::create_dir(d.join("mail")).unwrap();
        fs::write(d.join("smtp_server.py"), SCRIPT).unwrap();
        make_certificates(d);
        let mut server = SmtpServer {
            child: None,
            dir,
            port: free_port(),
            security,
            credentials: credentials.map(|(u, p)| (u.to_string(), p.to_string())),
        };
        server.spawn();
        server
    }

    fn spawn(&mut self) {
        let d = self.dir.path();
        let log = fs::File::options().create(true).append(true).open(d.join("server.log")).unwrap();
        let mode = match self.security {
            Security::Tls => "tls",
            Security::StartTls => "starttls",
            Security::Plain => "plain",
        };
        let (user, pass) = self.credentials.clone().unwrap_or_default();
        let mut command = Command::new(PYTHON);
        command
            .arg(d.join("smtp_server.py"))
            .env("SMTP_PORT", self.port.to_string())
            .env("SMTP_MODE", mode)
            .env("SMTP_MAILDIR", d.join("mail"))
            .env("SMTP_CERT", d.join("cert.pem"))
            .env("SMTP_KEY", d.join("key.pem"))
            .env("SMTP_USER", user)
            .env("SMTP_PASS", pass)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        die_with_parent(&mut command);
        let mut child = command.spawn().unwrap_or_else(|e| panic!("cannot start {PYTHON}: {e}; {INSTALL_HINT}"));
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                panic!("SMTP server exited with {status}:\n{}\n{INSTALL_HINT}", self.log());
            }
            if self.log().contains("listening on") && std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                break;
            }
            assert!(Instant::now() < deadline, "SMTP server not ready within 15 s:\n{}", self.log());
            std::thread::sleep(Duration::from_millis(50));
        }
        self.child = Some(child);
    }

    /// A client configuration that trusts this server's CA.
    pub fn config(&self) -> SmtpConfig {
        let (username, password) = self.credentials.clone().unwrap_or_default();
        SmtpConfig {
            host: "localhost".into(),
            port: self.port,
            security: self.security,
            username,
            password,
            from: "OpenVLE <noreply@openvle.test>".into(),
            reply_to: String::new(),
            ca_file: Some(self.ca_file()),
            skip_verify: false,
            timeout: Duration::from_secs(10),
        }
    }

    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// Messages received so far, oldest first.
    pub fn messages(&self) -> Vec<Received> {
        let mut names: Vec<PathBuf> = fs::read_dir(self.dir.path().join("mail"))
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        names.sort_by_key(|p| {
            let stem = p.file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_default();
            let (ns, n) = stem.split_once('-').unwrap_or((&stem, "0"));
            (ns.parse::<u128>().unwrap_or(0), n.parse::<u64>().unwrap_or(0))
        });
        names.iter().map(|p| serde_json::from_str(&fs::read_to_string(p).unwrap()).unwrap()).collect()
    }

    /// Waits until at least `count` messages arrived (at most `within`).
    pub async fn wait_for(&self, count: usize, within: Duration) -> Vec<Received> {
        let deadline = Instant::now() + within;
        loop {
            let messages = self.messages();
            if messages.len() >= count || Instant::now() > deadline {
                return messages;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Kills the server; its port then refuses connections.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port, keeping the messages received.
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }

    fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Makes the child get SIGKILL when the test thread that started it ends.
fn die_with_parent(command: &mut Command) {
    // SAFETY: prctl is async-signal-safe and touches only the new process.
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == 0 {
                Ok(())
            } else {
                Err(std::io::Error::last_os_error())
            }
        });
    }
}

/// A throwaway CA (`ca.pem`) and a server certificate it issued for
/// `localhost` and `127.0.0.1` (`cert.pem`, `key.pem`).
fn make_certificates(d: &Path) {
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    run(Command::new("openssl")
        .args(["req", "-x509", "-days", "2", "-subj", "/CN=OpenVLE test CA"])
        .args(ec)
        .arg("-keyout")
        .arg(d.join("ca-key.pem"))
        .arg("-out")
        .arg(d.join("ca.pem")));
    run(Command::new("openssl")
        .args(["req", "-subj", "/CN=localhost"])
        .args(ec)
        .arg("-keyout")
        .arg(d.join("key.pem"))
        .arg("-out")
        .arg(d.join("server.csr")));
    fs::write(d.join("server.ext"), "basicConstraints=critical,CA:FALSE\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n")
        .unwrap();
    run(Command::new("openssl")
        .args(["x509", "-req", "-days", "2", "-CAcreateserial"])
        .arg("-in")
        .arg(d.join("server.csr"))
        .arg("-CA")
        .arg(d.join("ca.pem"))
        .arg("-CAkey")
        .arg(d.join("ca-key.pem"))
        .arg("-extfile")
        .arg(d.join("server.ext"))
        .arg("-out")
        .arg(d.join("cert.pem")));
}

fn run(command: &mut Command) {
    let output = command.output().unwrap_or_else(|e| panic!("cannot run {command:?}: {e}; {INSTALL_HINT}"));
    assert!(output.status.success(), "{command:?} failed: {}", String::from_utf8_lossy(&output.stderr));
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}
