//! A throwaway OpenID provider (npm `oidc-provider`, `tests/fixtures/provider.mjs`) per
//! test on a free loopback port, killed when dropped (and when the test thread dies),
//! plus a browser stand-in that walks the provider's login and consent pages.
//!
//! For tests only (feature `testing`): this crate's own and the product's HTTP tests
//! (`server/tests/oidc_sign_in.rs`) use the same provider.

use std::fs;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::{OidcConfig, vars};
use reqwest::Url;

pub const CLIENT_ID: &str = "test-client";
pub const CLIENT_SECRET: &str = "test-secret";
pub const REDIRECT_URI: &str = "http://127.0.0.1:3000/auth/oidc/callback";
pub const POST_LOGOUT: &str = "http://127.0.0.1:3000/";

const NODE_HINT: &str = "the OIDC tests run a real OpenID provider on Node.js >= 20 (npm package oidc-provider): \
    install Node.js 20 or later with npm";

/// The test's own reqwest clients need a process-wide rustls provider, as in the server
/// (the connector itself does not).
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Installs the fixture's npm packages once per test run when they are missing.
fn ensure_node_modules() {
    static INSTALL: Mutex<()> = Mutex::new(());
    let _guard = INSTALL.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let version = Command::new("node").arg("--version").output();
    let version = match version {
        Ok(output) if output.status.success() => String::from_utf8_lossy(&output.stdout).trim().to_owned(),
        _ => panic!("`node` not found; {NODE_HINT}"),
    };
    let major: u32 = version.trim_start_matches('v').split('.').next().and_then(|m| m.parse().ok()).unwrap_or(0);
    assert!(major >= 20, "node {version} is too old; {NODE_HINT}");
    let dir = fixtures();
    if dir.join("node_modules/oidc-provider/package.json").exists() {
        return;
    }
    let command = if dir.join("package-lock.json").exists() { "ci" } else { "install" };
    let output = Command::new("npm")
        .args([command, "--no-audit", "--no-fund"])
        .current_dir(&dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run npm ({e}); {NODE_HINT}"));
    assert!(
        output.status.success(),
        "`npm {command}` in {} failed (run it there by hand to see why):\n{}",
        dir.display(),
        String::from_utf8_lossy(&output.stderr)
    );
}

pub struct Provider {
    child: Option<Child>,
    log_dir: tempfile::TempDir,
    pub port: u16,
    /// The relying party's callback registered for the test client.
    pub redirect_uri: String,
}

impl Provider {
    /// A provider whose client is registered with [`REDIRECT_URI`].
    pub async fn start() -> Provider {
        Provider::start_with_redirect(REDIRECT_URI).await
    }

    /// A provider whose client is registered with `redirect_uri` (a product under test
    /// passes its own `/auth/oidc/callback`).
    pub async fn start_with_redirect(redirect_uri: &str) -> Provider {
        install_crypto_provider();
        ensure_node_modules();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut provider = Provider {
            child: None,
            log_dir: tempfile::tempdir().unwrap(),
            port,
            redirect_uri: redirect_uri.to_owned(),
        };
        provider.spawn().await;
        provider
    }

    pub fn issuer(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Settings for this provider; `extra` overrides (an empty value unsets).
    pub fn config(&self, extra: &[(&str, &str)]) -> OidcConfig {
        let issuer = self.issuer();
        let mut pairs = vec![
            (vars::ENABLED, "True"),
            (vars::ISSUER, issuer.as_str()),
            (vars::CLIENT_ID, CLIENT_ID),
            (vars::CLIENT_SECRET, CLIENT_SECRET),
            (vars::REDIRECT_URL, self.redirect_uri.as_str()),
            (vars::LOGOUT, "True"),
            (vars::TIMEOUT_SECS, "5"),
        ];
        pairs.extend_from_slice(extra);
        OidcConfig::from_lookup(|var| pairs.iter().rev().find(|(k, _)| *k == var).map(|(_, v)| v.to_string()))
            .unwrap()
            .unwrap()
    }

    /// Stops the provider and starts a new one on the same port: same issuer, new signing key.
    pub async fn restart(&mut self) {
        self.stop();
        self.spawn().await;
    }

    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The login page on the relying party's origin, where OpenVLE asks the provider to
    /// send the browser after signing out (`OidcConfig::post_logout_redirect`).
    fn product_login_page(&self) -> String {
        Url::parse(&self.redirect_uri)
            .map(|u| format!("{}/login", u.origin().ascii_serialization()))
            .unwrap_or_else(|_| POST_LOGOUT.to_string())
    }

    async fn spawn(&mut self) {
        let log_path = self.log_dir.path().join("provider.log");
        let log = fs::File::create(&log_path).unwrap();
        let mut command = Command::new("node");
        command
            .arg("provider.mjs")
            .current_dir(fixtures())
            .env("OIDC_PORT", self.port.to_string())
            .env("OIDC_REDIRECT_URI", &self.redirect_uri)
            .env("OIDC_POST_LOGOUT", format!("{POST_LOGOUT},{}", self.product_login_page()))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
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
        let mut child = command.spawn().unwrap_or_else(|e| panic!("cannot start node: {e}; {NODE_HINT}"));
        let discovery = format!("{}/.well-known/openid-configuration", self.issuer());
        let http = reqwest::Client::builder().timeout(Duration::from_secs(2)).build().unwrap();
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                panic!("oidc-provider exited with {status}:\n{}", fs::read_to_string(&log_path).unwrap_or_default());
            }
            if http.get(&discovery).send().await.is_ok_and(|r| r.status().is_success()) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "oidc-provider not ready within 15 s:\n{}",
                fs::read_to_string(&log_path).unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.child = Some(child);
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        self.stop();
    }
}

/// What the browser brings back to our callback.
pub struct Callback {
    pub code: String,
    pub state: String,
}

/// Plays the browser: follows the redirects from `authorize_url`, signs in as `login` on
/// the provider's development login page (any password), grants consent, and stops at the
/// redirect to our callback.
pub async fn browser_login(authorize_url: &Url, login: &str) -> Callback {
    browser_login_to(authorize_url, login, REDIRECT_URI).await
}

/// [`browser_login`] for a client registered with another callback (`redirect_uri`).
pub async fn browser_login_to(authorize_url: &Url, login: &str, redirect_uri: &str) -> Callback {
    install_crypto_provider();
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let mut url = authorize_url.clone();
    let mut form: Option<Vec<(&str, &str)>> = None;
    for _ in 0..12 {
        let request = match form.take() {
            Some(fields) => browser.post(url.clone()).form(&fields),
            None => browser.get(url.clone()),
        };
        let response = request.send().await.unwrap();
        let status = response.status();
        if status.is_redirection() {
            let location = response.headers()[reqwest::header::LOCATION].to_str().unwrap();
            url = url.join(location).unwrap();
            if url.as_str().starts_with(redirect_uri) {
                let param = |name: &str| url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned());
                let code = param("code").unwrap_or_else(|| panic!("callback without a code: {url}"));
                return Callback { code, state: param("state").unwrap_or_default() };
            }
            continue;
        }
        let page = response.text().await.unwrap();
        assert!(status.is_success(), "{status} at {url}: {page}");
        form = Some(if page.contains(r#"name="login""#) {
            vec![("prompt", "login"), ("login", login), ("password", "any")]
        } else if page.contains(r#"value="consent""#) {
            vec![("prompt", "consent")]
        } else {
            panic!("unexpected page at {url}: {page}");
        });
    }
    panic!("no callback after 12 steps, last at {url}");
}
