//! Test support (feature `testing`): a throwaway OpenLDAP server (Debian's `slapd`) per test: config, self-signed
//! certificate and seed data in a temporary directory, plain LDAP and LDAPS on free
//! loopback ports, killed when dropped (and when the test thread dies).
//!
//! Seed (suffix `dc=example,dc=org`, passwords `<uid>pw`):
//! * `alice` — groups admins, teachers; `bob` — students; `carol` — students,
//!   `employeeType: disabled`; `jo,hn` (DN `uid=jo\2chn,...`) — no groups, no mail;
//! * `cn=reader,dc=example,dc=org` / `readerpw` — the service account;
//! * groupOfNames under `ou=groups`, added over LDAP after start so that the memberof
//!   overlay maintains `memberOf` exactly as in production.

use std::fs;
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use std::collections::HashSet;

use ldap3::{Ldap, LdapConnAsync, Mod};

const SLAPD: &str = "/usr/sbin/slapd";
const SLAPADD: &str = "/usr/sbin/slapadd";
const SCHEMA_DIR: &str = "/etc/ldap/schema";
const INSTALL_HINT: &str = "the LDAP tests run a real OpenLDAP server: install it with \
    `DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends slapd ldap-utils openssl`";

pub const SUFFIX: &str = "dc=example,dc=org";
pub const PEOPLE: &str = "ou=people,dc=example,dc=org";
pub const GROUPS: &str = "ou=groups,dc=example,dc=org";
pub const READER_DN: &str = "cn=reader,dc=example,dc=org";
pub const READER_PW: &str = "readerpw";
const ADMIN_DN: &str = "cn=admin,dc=example,dc=org";
const ADMIN_PW: &str = "adminpw";

pub struct Slapd {
    child: Option<Child>,
    dir: tempfile::TempDir,
    pub ldap_port: u16,
    pub ldaps_port: u16,
}

impl Slapd {
    /// A server whose certificate names `localhost` and `127.0.0.1`.
    pub async fn start() -> Slapd {
        Slapd::start_with_cert_names("DNS:localhost,IP:127.0.0.1").await
    }

    /// A server whose certificate has these subjectAltNames (openssl syntax).
    pub async fn start_with_cert_names(san: &str) -> Slapd {
        Slapd::start_with(|d| make_certificates(d, san)).await
    }

    /// A server with a self-signed CA certificate as its own (as `openssl req -x509` makes);
    /// [`Slapd::ca_file`] is that certificate.
    pub async fn start_self_signed() -> Slapd {
        Slapd::start_with(|d| {
            run(Command::new("openssl")
                .args(["req", "-x509", "-days", "2", "-subj", "/CN=localhost", "-nodes"])
                .args(["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"])
                .args(["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
                .arg("-keyout")
                .arg(d.join("key.pem"))
                .arg("-out")
                .arg(d.join("cert.pem")));
            fs::copy(d.join("cert.pem"), d.join("ca.pem")).unwrap();
        })
        .await
    }

    /// `make_certs` writes `cert.pem`, `key.pem` (the server's) and `ca.pem` (what clients trust).
    async fn start_with(make_certs: impl FnOnce(&Path)) -> Slapd {
        for tool in [SLAPD, SLAPADD] {
            assert!(Path::new(tool).exists(), "{tool} not found; {INSTALL_HINT}");
        }
        assert!(Path::new(SCHEMA_DIR).join("inetorgperson.schema").exists(), "{SCHEMA_DIR} missing; {INSTALL_HINT}");
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        fs::create_dir(d.join("data")).unwrap();
        make_certs(d);
        fs::write(d.join("slapd.conf"), slapd_conf(d)).unwrap();
        fs::write(d.join("seed.ldif"), SEED).unwrap();
        run(Command::new(SLAPADD).arg("-q").arg("-f").arg(d.join("slapd.conf")).arg("-l").arg(d.join("seed.ldif")));

        let (ldap_port, ldaps_port) = (free_port(), free_port());
        let mut slapd = Slapd { child: None, dir, ldap_port, ldaps_port };
        slapd.spawn();
        slapd.add_groups().await;
        slapd
    }

    fn spawn(&mut self) {
        let d = self.dir.path();
        let log = fs::File::create(d.join("slapd.log")).unwrap();
        let mut command = Command::new(SLAPD);
        command
            .arg("-f")
            .arg(d.join("slapd.conf"))
            .arg("-h")
            .arg(format!("ldap://127.0.0.1:{}/ ldaps://127.0.0.1:{}/", self.ldap_port, self.ldaps_port))
            .args(["-d", "0"])
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        die_with_parent(&mut command);
        let mut child = command.spawn().unwrap_or_else(|e| panic!("cannot start {SLAPD}: {e}; {INSTALL_HINT}"));
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                panic!("slapd exited with {status}:\n{}", self.log());
            }
            let up = |port| std::net::TcpStream::connect(("127.0.0.1", port)).is_ok();
            if up(self.ldap_port) && up(self.ldaps_port) {
                break;
            }
            assert!(Instant::now() < deadline, "slapd not ready within 10 s:\n{}", self.log());
            std::thread::sleep(Duration::from_millis(50));
        }
        self.child = Some(child);
    }

    /// A connection bound as the directory's administrator.
    async fn admin(&self) -> Ldap {
        let (conn, mut ldap) = LdapConnAsync::new(&self.ldap_url()).await.unwrap();
        tokio::spawn(async move { conn.drive().await });
        ldap.simple_bind(ADMIN_DN, ADMIN_PW).await.unwrap().success().unwrap();
        ldap
    }

    /// Adds a person `uid` (password `password`, mail `<uid>@example.org`) under `PEOPLE`.
    pub async fn add_person(&self, uid: &str, password: &str) {
        let mut ldap = self.admin().await;
        let mail = format!("{uid}@example.org");
        let attrs = vec![
            ("objectClass", HashSet::from(["inetOrgPerson"])),
            ("uid", HashSet::from([uid])),
            ("cn", HashSet::from([uid])),
            ("sn", HashSet::from([uid])),
            ("mail", HashSet::from([mail.as_str()])),
            ("userPassword", HashSet::from([password])),
        ];
        ldap.add(&format!("uid={uid},{PEOPLE}"), attrs).await.unwrap().success().unwrap();
        ldap.unbind().await.unwrap();
    }

    /// Adds (`true`) or removes (`false`) the person `uid` as a member of group `cn`; the
    /// memberof overlay updates the person's `memberOf`.
    pub async fn set_member(&self, cn: &str, uid: &str, member: bool) {
        let mut ldap = self.admin().await;
        let person = format!("uid={uid},{PEOPLE}");
        let values = HashSet::from([person.as_str()]);
        let change = if member { Mod::Add("member", values) } else { Mod::Delete("member", values) };
        ldap.modify(&format!("cn={cn},{GROUPS}"), vec![change]).await.unwrap().success().unwrap();
        ldap.unbind().await.unwrap();
    }

    async fn add_groups(&self) {
        let mut ldap = self.admin().await;
        let person = |uid: &str| format!("uid={uid},{PEOPLE}");
        for (cn, members) in [
            ("admins", vec![person("alice")]),
            ("teachers", vec![person("alice")]),
            ("students", vec![person("bob"), person("carol")]),
        ] {
            let dn = format!("cn={cn},{GROUPS}");
            let members = members.iter().map(String::as_str).collect();
            let attrs = vec![("objectClass", ["groupOfNames"].into()), ("cn", [cn].into()), ("member", members)];
            ldap.add(&dn, attrs).await.unwrap().success().unwrap();
        }
        ldap.unbind().await.unwrap();
    }

    pub fn ldap_url(&self) -> String {
        format!("ldap://127.0.0.1:{}", self.ldap_port)
    }

    pub fn ldaps_url(&self) -> String {
        format!("ldaps://127.0.0.1:{}", self.ldaps_port)
    }

    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// Kills the server and waits until it is gone (the ports then refuse connections).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same ports with the same data, as after a restart
    /// of the directory: connections opened before are gone.
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }

    fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("slapd.log")).unwrap_or_default()
    }
}

impl Drop for Slapd {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Makes the child get SIGKILL when the test thread that started it ends, so a failing
/// or aborted test leaves no server behind.
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

/// A test CA (`ca.pem`, what clients trust) and a server certificate it issued
/// (`cert.pem`/`key.pem`, CA:FALSE, with the given subjectAltNames), as real deployments
/// have: rustls refuses a CA certificate presented as the server's own.
fn make_certificates(d: &Path, san: &str) {
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    run(Command::new("openssl")
        .args(["req", "-x509", "-days", "2", "-subj", "/CN=OpenVLE test CA"])
        .args(ec)
        .arg("-keyout")
        .arg(d.join("ca-key.pem"))
        .arg("-out")
        .arg(d.join("ca.pem")));
    run(Command::new("openssl")
        .args(["req", "-subj", "/CN=test-ldap"])
        .args(ec)
        .arg("-keyout")
        .arg(d.join("key.pem"))
        .arg("-out")
        .arg(d.join("server.csr")));
    fs::write(d.join("server.ext"), format!("basicConstraints=critical,CA:FALSE\nsubjectAltName={san}\n")).unwrap();
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
    assert!(
        output.status.success(),
        "{command:?} failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn slapd_conf(d: &Path) -> String {
    let d = d.display();
    format!(
        "include {SCHEMA_DIR}/core.schema
include {SCHEMA_DIR}/cosine.schema
include {SCHEMA_DIR}/nis.schema
include {SCHEMA_DIR}/inetorgperson.schema
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload memberof
pidfile {d}/slapd.pid
argsfile {d}/slapd.args
TLSCertificateFile {d}/cert.pem
TLSCertificateKeyFile {d}/key.pem
database mdb
maxsize 104857600
suffix \"{SUFFIX}\"
rootdn \"{ADMIN_DN}\"
rootpw {ADMIN_PW}
directory {d}/data
index objectClass,uid,member eq
overlay memberof
access to attrs=userPassword by self write by anonymous auth by * none
access to * by * read
"
    )
}

const SEED: &str = "dn: dc=example,dc=org
objectClass: top
objectClass: dcObject
objectClass: organization
o: Example
dc: example

dn: ou=people,dc=example,dc=org
objectClass: organizationalUnit
ou: people

dn: ou=groups,dc=example,dc=org
objectClass: organizationalUnit
ou: groups

dn: cn=reader,dc=example,dc=org
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: reader
userPassword: readerpw

dn: uid=alice,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
uid: alice
cn: Alice Example
givenName: Alice
sn: Example
mail: alice@example.org
userPassword: alicepw

dn: uid=bob,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
uid: bob
cn: Bob Builder
givenName: Bob
sn: Builder
mail: bob@example.org
userPassword: bobpw

dn: uid=carol,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
uid: carol
cn: Carol Gone
sn: Gone
mail: carol@example.org
employeeType: disabled
userPassword: carolpw

dn: uid=jo\\2chn,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
uid: jo,hn
cn: John Comma
sn: Comma
userPassword: johnpw
";
