//! Single sign-on against a real OpenID provider (`oidc_connector::testing::Provider`,
//! npm `oidc-provider`) through the product's HTTP server: the whole redirect flow,
//! accounts created with the mapped role, a forged state, a replayed callback, the rule
//! that a local account is never taken over, and a provider that cannot be used.

mod common;

use common::{Backend, PASSWORD, TestApp};
use domain::AuthBackend;
use oidc_connector::testing::{CLIENT_ID, CLIENT_SECRET, Callback, Provider, browser_login_to};

struct Sso {
    app: TestApp,
    provider: Provider,
    callback: String,
}

async fn app_with_provider(backend: Backend, issuer_suffix: &str) -> Sso {
    start(backend, issuer_suffix, false).await
}

/// The provider is stopped while the app starts (its discovery fails), then started again.
async fn app_with_provider_down_at_start() -> Sso {
    start(Backend::Sqlite, "", true).await
}

async fn start(backend: Backend, issuer_suffix: &str, down_at_start: bool) -> Sso {
    // The provider must know our callback and we its issuer: bind our port first.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let callback = format!("http://{}/auth/oidc/callback", listener.local_addr().unwrap());
    let mut provider = Provider::start_with_redirect(&callback).await;
    if down_at_start {
        provider.stop();
    }
    let issuer = format!("{}{issuer_suffix}", provider.issuer());
    let app = TestApp::start_on(
        listener,
        backend,
        &[
            ("OIDC_ENABLED", "True"),
            ("OIDC_ISSUER", &issuer),
            ("OIDC_CLIENT_ID", CLIENT_ID),
            ("OIDC_CLIENT_SECRET", CLIENT_SECRET),
            ("OIDC_REDIRECT_URL", &callback),
            ("OIDC_DISPLAY_NAME", "Example SSO"),
            ("OIDC_LOGOUT", "True"),
            ("OIDC_TIMEOUT_SECS", "5"),
            ("OIDC_ROLE_RULES", "admins=admin;teachers=instructor"),
        ],
    )
    .await;
    if down_at_start {
        provider.restart().await;
    }
    Sso { app, provider, callback }
}

fn http() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

fn location(res: &reqwest::Response) -> String {
    res.headers().get("location").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default()
}

/// The value a response sets for cookie `name` (`Some("")` when it clears it).
fn set_cookie(res: &reqwest::Response, name: &str) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next()?.split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.to_string())
}

impl Sso {
    async fn get(&self, path: &str, cookie: Option<&str>) -> reqwest::Response {
        let mut request = http().get(self.app.url(path));
        if let Some(cookie) = cookie {
            request = request.header("Cookie", cookie);
        }
        request.send().await.unwrap()
    }

    /// `/auth/oidc/start`, then the provider's pages as `login`: the pending-attempt id from
    /// our cookie and what the provider sends back to the callback.
    async fn sign_in_at_provider(&self, login: &str, next: &str) -> (String, Callback) {
        let start = self.get(&format!("/auth/oidc/start?next={}", app::url_encode(next)), None).await;
        assert_eq!(start.status(), 303);
        let set = start.headers().get("set-cookie").unwrap().to_str().unwrap().to_string();
        assert!(set.contains("HttpOnly") && set.contains("SameSite=Lax") && set.contains("Max-Age=600"), "{set}");
        let pending = set_cookie(&start, "openvle_oidc").unwrap();
        let authorize = reqwest::Url::parse(&location(&start)).unwrap();
        assert!(authorize.as_str().starts_with(&self.provider.issuer()), "{authorize}");
        (pending, browser_login_to(&authorize, login, &self.callback).await)
    }

    async fn callback(&self, pending: &str, code: &str, state: &str) -> reqwest::Response {
        let path = format!("/auth/oidc/callback?code={}&state={}", app::url_encode(code), app::url_encode(state));
        self.get(&path, Some(&format!("openvle_oidc={pending}"))).await
    }

    /// The username `load_shell` reports for a session cookie.
    async fn shell_user(&self, session: &str) -> Option<String> {
        let res = http()
            .post(self.app.url(&common::server_fn_path("load_shell")))
            .header("Origin", self.app.url(""))
            .header("Cookie", format!("openvle_session={session}"))
            .header("Accept", "application/json")
            .send()
            .await
            .unwrap();
        let body: serde_json::Value = res.json().await.unwrap();
        body["user"]["actor"]["username"].as_str().map(str::to_string)
    }

    /// (auth backend, role keys, name, e-mail) of a stored user.
    async fn stored(&self, username: &str) -> Option<(AuthBackend, Vec<String>, String, String)> {
        let users = &self.app.system.services.ports().users;
        let user = users.by_username(username).await.unwrap()?;
        let roles = users.roles_of(user.id).await.unwrap().into_iter().map(|r| r.key).collect();
        Some((user.auth_backend, roles, user.name, user.email))
    }
}

async fn full_login_creates_an_oidc_user(backend: Backend) {
    let sso = app_with_provider(backend, "").await;
    let page = sso.get("/login?next=%2Fadmin%2Fusers", None).await.text().await.unwrap();
    assert!(page.contains("Sign in with Example SSO"), "{page}");
    assert!(page.contains("/auth/oidc/start?next=%2Fadmin%2Fusers"), "{page}");
    assert!(sso.stored("alice").await.is_none());

    let (pending, callback) = sso.sign_in_at_provider("alice", "/admin/users").await;
    let res = sso.callback(&pending, &callback.code, &callback.state).await;
    assert_eq!((res.status().as_u16(), location(&res).as_str()), (303, "/admin/users"));
    assert_eq!(set_cookie(&res, "openvle_oidc").as_deref(), Some(""), "the attempt cookie is cleared");
    let session = set_cookie(&res, "openvle_session").unwrap();
    assert_eq!(sso.shell_user(&session).await.as_deref(), Some("alice"));
    let (backend_of, roles, name, email) = sso.stored("alice").await.unwrap();
    assert_eq!((backend_of, roles), (AuthBackend::Oidc, vec!["admin".to_string()]));
    assert_eq!((name.as_str(), email.as_str()), ("Alice Example", "alice@example.org"));

    // No matching group: the default role. A second sign-in updates, never duplicates.
    for _ in 0..2 {
        let (pending, callback) = sso.sign_in_at_provider("bob", "https://evil.example/").await;
        let res = sso.callback(&pending, &callback.code, &callback.state).await;
        assert_eq!((res.status().as_u16(), location(&res).as_str()), (303, "/"), "next stays on this site");
        assert_eq!(sso.stored("bob").await.unwrap().1, ["participant"]);
    }

    // An oidc account never signs in with a password.
    let client = sso.app.client();
    let reply = client.call("login", &[("username", "alice"), ("password", "anything")]).await;
    assert_eq!(reply.status, 401, "{}", reply.body);
}

#[tokio::test]
async fn full_login_on_sqlite() {
    full_login_creates_an_oidc_user(Backend::Sqlite).await;
}

#[tokio::test]
async fn full_login_on_mariadb_with_redis() {
    full_login_creates_an_oidc_user(Backend::MariaDbWithRedis).await;
}

#[tokio::test]
async fn full_login_on_mariadb() {
    full_login_creates_an_oidc_user(Backend::MariaDb).await;
}

#[tokio::test]
async fn tampered_state_is_refused_and_opens_no_session() {
    let sso = app_with_provider(Backend::Sqlite, "").await;
    let (pending, callback) = sso.sign_in_at_provider("alice", "/").await;
    let res = sso.callback(&pending, &callback.code, "forged-state").await;
    assert_eq!((res.status().as_u16(), location(&res).as_str()), (303, "/login?oidc_error=oidc_state"));
    assert!(set_cookie(&res, "openvle_session").is_none());
    assert!(sso.stored("alice").await.is_none());
    // The attempt is spent: the genuine callback afterwards is refused too.
    let res = sso.callback(&pending, &callback.code, &callback.state).await;
    assert_eq!(location(&res), "/login?oidc_error=oidc_expired");
    // No cookie at all, or one naming no attempt.
    let res = sso.get(&format!("/auth/oidc/callback?code=x&state={}", callback.state), None).await;
    assert_eq!(location(&res), "/login?oidc_error=oidc_expired");
    let res = sso.callback("made-up", &callback.code, &callback.state).await;
    assert_eq!(location(&res), "/login?oidc_error=oidc_expired");
    assert!(sso.stored("alice").await.is_none());

    let page = sso.get("/login?oidc_error=oidc_state", None).await.text().await.unwrap();
    assert!(page.contains("did not belong to this sign-in attempt"), "{page}");
}

#[tokio::test]
async fn replayed_callback_is_refused() {
    let sso = app_with_provider(Backend::Sqlite, "").await;
    let (pending, callback) = sso.sign_in_at_provider("alice", "/").await;
    let res = sso.callback(&pending, &callback.code, &callback.state).await;
    assert_eq!(location(&res), "/");
    // The same callback again (same cookie, same code): the attempt was used.
    let res = sso.callback(&pending, &callback.code, &callback.state).await;
    assert_eq!((res.status().as_u16(), location(&res).as_str()), (303, "/login?oidc_error=oidc_expired"));
    assert!(set_cookie(&res, "openvle_session").is_none());
    // The old code smuggled into a new attempt: the provider refuses it.
    let start = sso.get("/auth/oidc/start", None).await;
    let fresh = set_cookie(&start, "openvle_oidc").unwrap();
    let authorize = reqwest::Url::parse(&location(&start)).unwrap();
    let fresh_state = authorize.query_pairs().find(|(k, _)| k == "state").unwrap().1.into_owned();
    let res = sso.callback(&fresh, &callback.code, &fresh_state).await;
    assert_eq!((res.status().as_u16(), location(&res).as_str()), (303, "/login?oidc_error=oidc_rejected"));
    assert!(set_cookie(&res, "openvle_session").is_none());
}

#[tokio::test]
async fn a_local_account_is_never_taken_over() {
    let sso = app_with_provider(Backend::Sqlite, "").await;
    let (pending, callback) = sso.sign_in_at_provider("student", "/").await;
    let res = sso.callback(&pending, &callback.code, &callback.state).await;
    assert_eq!((res.status().as_u16(), location(&res).as_str()), (303, "/login?oidc_error=account_belongs_elsewhere"));
    assert!(set_cookie(&res, "openvle_session").is_none());
    let (backend_of, roles, name, _) = sso.stored("student").await.unwrap();
    assert_eq!((backend_of, roles, name.as_str()), (AuthBackend::Internal, vec!["participant".into()], "Test student"));
    let page = sso.get("/login?oidc_error=account_belongs_elsewhere", None).await.text().await.unwrap();
    assert!(page.contains("belongs to an account that signs in another way"), "{page}");
    // The local account still signs in with its own password.
    let client = sso.app.client();
    let reply = client.call("login", &[("username", "student"), ("password", PASSWORD)]).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
}

#[tokio::test]
async fn a_provider_that_cannot_be_used_leaves_local_sign_in_working() {
    // The provider calls itself without the trailing slash: discovery fails (wrong issuer).
    let sso = app_with_provider(Backend::Sqlite, "/").await;
    let page = sso.get("/login", None).await.text().await.unwrap();
    assert!(page.contains("Sign in with Example SSO"), "{page}");
    sso.app.signed_in("admin").await;

    let res = sso.get("/auth/oidc/start?next=%2F", None).await;
    assert_eq!((res.status().as_u16(), location(&res).as_str()), (303, "/login?oidc_error=oidc_unavailable"));
    let page = sso.get("/login?oidc_error=oidc_unavailable", None).await.text().await.unwrap();
    assert!(page.contains("Single sign-on is not available right now"), "{page}");
    let german = http()
        .get(sso.app.url("/login?oidc_error=oidc_unavailable"))
        .header("Accept-Language", "de")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(german.contains("Die zentrale Anmeldung ist gerade nicht verfügbar"), "{german}");
}

#[tokio::test]
async fn a_provider_down_at_start_is_discovered_on_first_use() {
    let sso = app_with_provider_down_at_start().await;
    let (pending, callback) = sso.sign_in_at_provider("bob", "/").await;
    let res = sso.callback(&pending, &callback.code, &callback.state).await;
    assert_eq!(location(&res), "/");
    assert_eq!(sso.stored("bob").await.unwrap().0, AuthBackend::Oidc);
}

#[tokio::test]
async fn a_rule_naming_an_unknown_role_stops_start_up() {
    server::install_crypto_provider();
    let dir = common::TempDir(std::env::temp_dir().join(format!("openvle_oidc_roles_{}", rand::random::<u32>())));
    let data_dir = dir.0.display().to_string();
    let vars = [
        ("AUTH_SECRET", "test-secret-0123456789abcdef0123456789"),
        ("OPENVLE_DATA_DIR", data_dir.as_str()),
        ("OIDC_ENABLED", "True"),
        ("OIDC_ISSUER", "http://127.0.0.1:9"),
        ("OIDC_CLIENT_ID", CLIENT_ID),
        ("OIDC_REDIRECT_URL", "http://127.0.0.1:8000/auth/oidc/callback"),
        ("OIDC_ROLE_RULES", "teachers=headmaster"),
    ];
    let lookup = |name: &str| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string());
    let config = server::config::Config::from_lookup(&lookup, server::config::SecretSource::Required).unwrap();
    let Err(error) = server::wiring::System::start(&config).await else {
        panic!("start-up must refuse a rule naming an unknown role");
    };
    let message = error.to_string();
    assert!(message.contains("OIDC_ROLE_RULES") && message.contains("headmaster"), "{message}");
}

#[tokio::test]
async fn signing_out_also_signs_out_at_the_provider() {
    let sso = app_with_provider(Backend::Sqlite, "").await;
    let (pending, callback) = sso.sign_in_at_provider("alice", "/").await;
    let res = sso.callback(&pending, &callback.code, &callback.state).await;
    let session = set_cookie(&res, "openvle_session").unwrap();

    let logout = http()
        .post(sso.app.url(&common::server_fn_path("logout")))
        .header("Origin", sso.app.url(""))
        .header("Cookie", format!("openvle_session={session}"))
        .send()
        .await
        .unwrap();
    let to = reqwest::Url::parse(&location(&logout)).unwrap();
    assert!(to.as_str().starts_with(&sso.provider.issuer()), "goes to the provider's end-session endpoint: {to}");
    let query: std::collections::HashMap<_, _> = to.query_pairs().into_owned().collect();
    assert!(query.get("id_token_hint").is_some_and(|t| t.split('.').count() == 3), "{to}");
    assert_eq!(query.get("client_id").map(String::as_str), Some(CLIENT_ID));
    assert_eq!(query.get("post_logout_redirect_uri"), Some(&sso.app.url("/login")));
    assert_eq!(sso.shell_user(&session).await, None, "our session ended before leaving");

    // The provider accepts the hint and the redirect: it asks to confirm, no error page.
    let page = http().get(to).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let body = page.text().await.unwrap();
    assert!(body.contains("name=\"xsrf\""), "{body}");

    // A local session signs out as before, straight to the login page.
    let admin = sso.app.signed_in("admin").await;
    let reply = admin.form("logout", &[], "/").await;
    assert!(reply.location.unwrap_or_default().contains("/login?ok=signed_out"));
}

#[tokio::test]
async fn administrators_see_the_configuration_and_test_the_provider() {
    let mut sso = app_with_provider(Backend::Sqlite, "").await;
    let admin = sso.app.signed_in("admin").await;
    let overview = admin.call("sign_in_methods", &[]).await;
    assert_eq!(overview.status, 200, "{}", overview.body);
    assert!(overview.body.contains(&sso.callback), "{}", overview.body);
    assert!(overview.body.contains("admins → admin"), "{}", overview.body);
    assert!(overview.body.contains(&sso.app.url("/login")), "post-logout URI to register: {}", overview.body);
    assert!(!overview.body.contains(CLIENT_SECRET), "{}", overview.body);
    assert!(overview.body.contains("\"directory\":null"), "{}", overview.body);

    let check = admin.call("test_identity_provider", &[]).await;
    assert_eq!(check.status, 200, "{}", check.body);
    let check: serde_json::Value = serde_json::from_str(&check.body).unwrap();
    assert_eq!(check["issuer"].as_str(), Some(sso.provider.issuer().as_str()));
    assert_eq!(check["signing_key_ids"].as_array().map(Vec::len), Some(1), "{check}");
    assert!(check["end_session_endpoint"].is_string(), "{check}");

    // The page shows the same; with the provider gone the test names the failure.
    let page = admin.get("/admin/sign-in?oidc_test=1").await;
    assert!(page.body.contains("The provider answered"), "{}", page.body);
    sso.provider.stop();
    let down = admin.call("test_identity_provider", &[]).await;
    assert_eq!((down.status, down.error().as_deref()), (502, Some("check_failed")), "{}", down.body);
    assert!(down.body.contains("unreachable"), "{}", down.body);
}

#[tokio::test]
async fn one_address_cannot_start_sign_ins_without_end() {
    let sso = app_with_provider(Backend::Sqlite, "").await;
    for _ in 0..services::oidc::STARTS_PER_CLIENT {
        let start = sso.get("/auth/oidc/start", None).await;
        assert!(location(&start).starts_with(&sso.provider.issuer()));
    }
    let refused = sso.get("/auth/oidc/start", None).await;
    assert_eq!((refused.status().as_u16(), location(&refused).as_str()), (303, "/login?oidc_error=rate_limited"));
    assert_eq!(set_cookie(&refused, "openvle_oidc").as_deref(), Some(""), "no attempt is stored");
    let page = sso.get("/login?oidc_error=rate_limited", None).await.text().await.unwrap();
    assert!(page.contains("Try again in 10 minute(s)"), "{page}");
}
