//! Signing in against a real OpenLDAP server (`ldap_connector::testing::Slapd`) through the
//! product's HTTP server: accounts created from the directory, group → role rules applied
//! at every sign-in, disabled and unreachable directories, filter injection, and the rule
//! that a local account and a directory account never merge.

mod common;

use common::{Backend, PASSWORD, TestApp};
use domain::AuthBackend;
use ldap_connector::testing::{GROUPS, PEOPLE, READER_DN, READER_PW, Slapd};

async fn app_with_directory(backend: Backend, slapd: &Slapd) -> TestApp {
    let url = slapd.ldap_url();
    let admins = format!("cn=admins,{GROUPS}=admin;teachers=instructor");
    TestApp::start_with(
        backend,
        &[
            ("LDAP_ENABLED", "True"),
            ("LDAP_URL", &url),
            ("LDAP_DN_PEOPLE", PEOPLE),
            ("LDAP_BIND_DN", READER_DN),
            ("LDAP_BIND_PASSWORD", READER_PW),
            ("LDAP_ATTR_DISABLED", "employeeType"),
            ("LDAP_DISABLED_VALUE", "disabled"),
            ("LDAP_TIMEOUT_SECS", "3"),
            ("LDAP_ROLE_RULES", &admins),
        ],
    )
    .await
}

/// (auth backend, role keys, name, e-mail) of a stored user.
async fn stored(app: &TestApp, username: &str) -> Option<(AuthBackend, Vec<String>, String, String)> {
    let users = &app.system.services.ports().users;
    let user = users.by_username(username).await.unwrap()?;
    assert!(user.password_hash.is_none() || user.auth_backend == AuthBackend::Internal);
    let roles = users.roles_of(user.id).await.unwrap().into_iter().map(|r| r.key).collect();
    Some((user.auth_backend, roles, user.name, user.email))
}

async fn login(app: &TestApp, username: &str, password: &str) -> (common::Client, common::Reply) {
    let client = app.client();
    let reply = client.call("login", &[("username", username), ("password", password)]).await;
    (client, reply)
}

async fn directory_login_creates_the_user_with_the_mapped_role(backend: Backend) {
    let slapd = Slapd::start().await;
    let app = app_with_directory(backend, &slapd).await;
    assert!(stored(&app, "alice").await.is_none());

    let (alice, reply) = login(&app, "alice", "alicepw").await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let (auth, roles, name, email) = stored(&app, "alice").await.unwrap();
    assert_eq!((auth, roles), (AuthBackend::Ldap, vec!["admin".to_string()]));
    assert_eq!((name.as_str(), email.as_str()), ("Alice Example", "alice@example.org"));
    let shell = alice.call("load_shell", &[]).await;
    assert!(shell.body.contains("\"username\":\"alice\""), "{}", shell.body);

    // Nobody in a mapped group: the default role. Typed case does not matter.
    let (_, reply) = login(&app, "BOB", "bobpw").await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(stored(&app, "bob").await.unwrap().1, ["participant"]);

    // Every sign-in opens a new session with a new token.
    let cookie = |r: &reqwest::Response| r.headers().get("set-cookie").unwrap().to_str().unwrap().to_string();
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let mut tokens = Vec::new();
    for _ in 0..2 {
        let res = http
            .post(app.url(&common::server_fn_path("login")))
            .header("Origin", app.url(""))
            .form(&[("username", "alice"), ("password", "alicepw")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        tokens.push(cookie(&res).split(';').next().unwrap().to_string());
    }
    assert_ne!(tokens[0], tokens[1], "a sign-in must never reuse a session token");
}

#[tokio::test]
async fn directory_login_on_sqlite() {
    directory_login_creates_the_user_with_the_mapped_role(Backend::Sqlite).await;
}

#[tokio::test]
async fn directory_login_on_mariadb_with_redis() {
    directory_login_creates_the_user_with_the_mapped_role(Backend::MariaDbWithRedis).await;
}

#[tokio::test]
async fn bad_password_unknown_user_and_filter_injection_look_the_same() {
    let slapd = Slapd::start().await;
    let app = app_with_directory(Backend::Sqlite, &slapd).await;
    let (_, wrong) = login(&app, "alice", "bobpw").await;
    assert_eq!((wrong.status, wrong.error().as_deref()), (401, Some("invalid_credentials")), "{}", wrong.body);
    let (_, unknown) = login(&app, "mallory", "alicepw").await;
    assert_eq!(unknown.body, wrong.body);
    for injection in ["*)(uid=*", "*", "alice)(|(uid=*"] {
        let (_, reply) = login(&app, injection, "alicepw").await;
        assert_eq!((reply.status, &reply.body), (401, &wrong.body), "{injection}");
    }
    assert!(stored(&app, "alice").await.is_none() && stored(&app, "mallory").await.is_none());
}

#[tokio::test]
async fn role_follows_the_directory_at_every_sign_in() {
    let slapd = Slapd::start().await;
    let app = app_with_directory(Backend::Sqlite, &slapd).await;
    assert_eq!(login(&app, "alice", "alicepw").await.1.status, 200);
    assert_eq!(stored(&app, "alice").await.unwrap().1, ["admin"]);

    // (A groupOfNames keeps at least one member: bob joins before alice leaves.)
    slapd.set_member("admins", "bob", true).await;
    slapd.set_member("admins", "alice", false).await;
    assert_eq!(login(&app, "alice", "alicepw").await.1.status, 200);
    assert_eq!(stored(&app, "alice").await.unwrap().1, ["instructor"], "teachers=instructor now applies");

    slapd.set_member("teachers", "bob", true).await;
    slapd.set_member("teachers", "alice", false).await;
    assert_eq!(login(&app, "alice", "alicepw").await.1.status, 200);
    assert_eq!(stored(&app, "alice").await.unwrap().1, ["participant"]);

    // Rule order decides: bob is in admins and teachers.
    assert_eq!(login(&app, "bob", "bobpw").await.1.status, 200);
    assert_eq!(stored(&app, "bob").await.unwrap().1, ["admin"]);
}

#[tokio::test]
async fn disabled_directory_account_cannot_sign_in() {
    let slapd = Slapd::start().await;
    let app = app_with_directory(Backend::Sqlite, &slapd).await;
    let (_, reply) = login(&app, "carol", "carolpw").await;
    assert_eq!((reply.status, reply.error().as_deref()), (403, Some("account_disabled")), "{}", reply.body);
    // Without the password nothing about the account is revealed.
    let (_, wrong) = login(&app, "carol", "nope").await;
    assert_eq!(wrong.error().as_deref(), Some("invalid_credentials"));
    assert!(stored(&app, "carol").await.is_none());
    assert_eq!(refusals(&app).await, ["account_disabled", "invalid_credentials"], "both refusals are recorded");
}

/// The reasons of the refused sign-ins recorded so far, oldest first.
async fn refusals(app: &TestApp) -> Vec<String> {
    app.activities("user.login_failed").await.into_iter().map(|a| a.reason.unwrap_or_default()).collect()
}

#[tokio::test]
async fn directory_down_refuses_directory_users_but_not_local_ones() {
    let mut slapd = Slapd::start().await;
    let app = app_with_directory(Backend::Sqlite, &slapd).await;
    assert_eq!(login(&app, "alice", "alicepw").await.1.status, 200);
    slapd.stop();

    let (_, reply) = login(&app, "alice", "alicepw").await;
    assert_eq!((reply.status, reply.error().as_deref()), (503, Some("directory_unreachable")), "{}", reply.body);
    // A plain form post shows the sentence on the login page.
    let client = app.client();
    let form = client.form("login", &[("username", "alice"), ("password", "alicepw")], "/login").await;
    let location = form.location.unwrap_or_default();
    assert!(location.contains("/login"), "{location}");
    let path = location.trim_start_matches(&app.url(""));
    let page = client.get(path).await;
    assert!(page.body.contains("The directory is unreachable"), "{}", page.body);
    assert_eq!(refusals(&app).await, ["directory_unreachable", "directory_unreachable"], "recorded as refusals");

    // Local accounts are not affected.
    let (_, admin) = login(&app, "admin", PASSWORD).await;
    assert_eq!(admin.status, 200, "{}", admin.body);
}

#[tokio::test]
async fn local_and_directory_accounts_never_merge() {
    let slapd = Slapd::start().await;
    // The directory has a `student` too, with another password.
    slapd.add_person("student", "Directory-Pass-7").await;
    let app = app_with_directory(Backend::Sqlite, &slapd).await;

    // A local account with this username exists: its password decides, the directory is
    // not asked, the account stays local.
    let (_, refused) = login(&app, "student", "Directory-Pass-7").await;
    assert_eq!(refused.error().as_deref(), Some("invalid_credentials"), "{}", refused.body);
    let (_, local) = login(&app, "student", PASSWORD).await;
    assert_eq!(local.status, 200, "{}", local.body);
    let (auth, roles, _, _) = stored(&app, "student").await.unwrap();
    assert_eq!((auth, roles), (AuthBackend::Internal, vec!["participant".to_string()]));

    // The other direction: a directory account cannot become local. An administrator can
    // neither create a local account with its name nor give it a password.
    assert_eq!(login(&app, "bob", "bobpw").await.1.status, 200);
    let admin = app.signed_in("admin").await;
    let create = admin
        .call(
            "create_user",
            &[
                ("username", "bob"),
                ("name", "Local Bob"),
                ("email", "local-bob@example.org"),
                ("language", "en"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert!(create.body.contains("\"field\":\"username\",\"problem\":{\"kind\":\"taken\"}"), "{}", create.body);
    let bob = app.system.services.ports().users.by_username("bob").await.unwrap().unwrap();
    let set = admin.call("set_user_password", &[("id", &bob.id.to_string()), ("password", PASSWORD)]).await;
    assert!(set.body.contains("external_account"), "{}", set.body);
    // And a directory account signs in only through the directory.
    let (_, local_try) = login(&app, "bob", PASSWORD).await;
    assert_eq!(local_try.error().as_deref(), Some("invalid_credentials"));
}

#[tokio::test]
async fn administrators_see_the_configuration_and_test_a_lookup() {
    let mut slapd = Slapd::start().await;
    let app = app_with_directory(Backend::Sqlite, &slapd).await;
    let admin = app.signed_in("admin").await;

    let overview = admin.call("sign_in_methods", &[]).await;
    assert_eq!(overview.status, 200, "{}", overview.body);
    assert!(overview.body.contains(&slapd.ldap_url()), "{}", overview.body);
    assert!(overview.body.contains("cn=admins,ou=groups,dc=example,dc=org → admin"), "{}", overview.body);
    assert!(!overview.body.contains(READER_PW), "the bind password is never shown: {}", overview.body);
    assert!(overview.body.contains("\"provider\":null"), "OIDC is not configured: {}", overview.body);

    // The lookup shows the mapped role and the disabled flag, and creates nobody.
    let alice = admin.call("test_directory", &[("username", "alice")]).await;
    assert_eq!(alice.status, 200, "{}", alice.body);
    assert!(alice.body.contains("\"role_key\":\"admin\""), "{}", alice.body);
    assert!(alice.body.contains("\"email\":\"alice@example.org\""), "{}", alice.body);
    let carol = admin.call("test_directory", &[("username", "carol")]).await;
    assert!(carol.body.contains("\"disabled\":true"), "{}", carol.body);
    let nobody = admin.call("test_directory", &[("username", "nobody")]).await;
    assert!(nobody.body.contains("\"found\":null"), "{}", nobody.body);
    assert!(stored(&app, "alice").await.is_none() && stored(&app, "carol").await.is_none());
    let injected = admin.call("test_directory", &[("username", "*)(uid=*")]).await;
    assert_eq!(injected.status, 422, "not a username: {}", injected.body);

    // The page renders the same, and a test without the directory names the failure.
    let page = admin.get("/admin/sign-in?ldap_user=alice").await;
    assert!(page.body.contains("data-testid=\"ldap-role\">admin<"), "{}", page.body);
    slapd.stop();
    let down = admin.call("test_directory", &[("username", "alice")]).await;
    assert_eq!((down.status, down.error().as_deref()), (502, Some("check_failed")), "{}", down.body);
    assert!(down.body.contains("unreachable"), "{}", down.body);
}
