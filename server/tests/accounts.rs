//! Signing in, sessions and user administration through the real HTTP
//! server, on SQLite, on MariaDB, and on MariaDB with Redis sessions.

mod common;

use common::{Backend, PASSWORD, TestApp};

macro_rules! on_every_backend {
    ($name:ident) => {
        mod $name {
            use super::*;

            #[tokio::test]
            async fn sqlite() {
                super::$name(TestApp::start(Backend::Sqlite).await).await;
            }

            #[tokio::test]
            async fn mariadb() {
                super::$name(TestApp::start(Backend::MariaDb).await).await;
            }

            #[tokio::test]
            async fn mariadb_with_redis_sessions() {
                super::$name(TestApp::start(Backend::MariaDbWithRedis).await).await;
            }
        }
    };
}

async fn user_count(app: &TestApp) -> u64 {
    let ports = app.system.db.ports(None);
    ports.users.search(&Default::default(), domain::page::PageRequest::new(None, None)).await.unwrap().total
}

async fn sign_in_and_out(app: TestApp) {
    let client = app.client();
    let wrong = client.call("login", &[("username", "admin"), ("password", "nope")]).await;
    assert_eq!((wrong.status, wrong.error().as_deref()), (401, Some("invalid_credentials")));
    let unknown = client.call("login", &[("username", "ghost"), ("password", "nope")]).await;
    assert_eq!(unknown.body, wrong.body, "unknown user and wrong password must look the same");

    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let ok = http
        .post(app.url(&common::server_fn_path("login")))
        .header("Origin", app.url(""))
        .form(&[("username", "admin"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let cookie = ok.headers().get("set-cookie").unwrap().to_str().unwrap().to_string();
    for attribute in ["openvle_session=", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain http must not mark the cookie Secure: {cookie}");

    let admin = app.signed_in("admin").await;
    let shell = admin.call("load_shell", &[]).await;
    assert!(shell.body.contains("\"username\":\"admin\""), "{}", shell.body);
    let out = admin.call("logout", &[]).await;
    assert_eq!(out.status, 200, "{}", out.body);
    let after = admin.call("list_users", &[]).await;
    assert_eq!(after.error().as_deref(), Some("not_signed_in"));
}
on_every_backend!(sign_in_and_out);

async fn failed_attempts_are_rate_limited(app: TestApp) {
    let client = app.client();
    for _ in 0..services::sessions::ACCOUNT_ATTEMPTS {
        let r = client.call("login", &[("username", "student"), ("password", "wrong")]).await;
        assert_eq!(r.error().as_deref(), Some("invalid_credentials"));
    }
    // Now even the right password is refused until the window ends.
    let limited = client.call("login", &[("username", "student"), ("password", PASSWORD)]).await;
    assert_eq!((limited.status, limited.error().as_deref()), (429, Some("rate_limited")), "{}", limited.body);
    // Other accounts from the same address are not locked out by one account's window.
    let other = client.call("login", &[("username", "instructor"), ("password", PASSWORD)]).await;
    assert_eq!(other.status, 200, "{}", other.body);
}
on_every_backend!(failed_attempts_are_rate_limited);

async fn locked_accounts_lose_their_sessions(app: TestApp) {
    let admin = app.signed_in("admin").await;
    let student = app.signed_in("student").await;
    let student_id = app.system.db.ports(None).users.by_username("student").await.unwrap().unwrap().id.to_string();
    let lock = admin.call("set_user_status", &[("id", &student_id), ("status", "inactive")]).await;
    assert_eq!(lock.status, 200, "{}", lock.body);
    let shell = student.call("load_shell", &[]).await;
    assert!(shell.body.contains("\"user\":null"), "the locked user's session must end: {}", shell.body);
    let again = app.client().call("login", &[("username", "student"), ("password", PASSWORD)]).await;
    assert_eq!((again.status, again.error().as_deref()), (403, Some("account_disabled")), "{}", again.body);

    // An administrator cannot lock themselves out, nor the last administrator.
    let admin_id = app.system.db.ports(None).users.by_username("admin").await.unwrap().unwrap().id.to_string();
    let own = admin.call("set_user_status", &[("id", &admin_id), ("status", "inactive")]).await;
    assert!(own.body.contains("own_account"), "{}", own.body);
    let delete_self = admin.call("delete_user", &[("id", &admin_id)]).await;
    assert!(delete_self.body.contains("own_account"), "{}", delete_self.body);
}
on_every_backend!(locked_accounts_lose_their_sessions);

/// Form fields replacing the valid defaults.
type Overrides = Vec<(&'static str, String)>;

async fn bad_input_is_refused_specifically_and_writes_nothing(app: TestApp) {
    let admin = app.signed_in("admin").await;
    let before = user_count(&app).await;
    let base =
        [("name", "New Person"), ("email", "new@example.org"), ("language", "en"), ("password", "Tr1cky-Horse!")];
    let create = |overrides: Vec<(&'static str, String)>| {
        let mut form: Vec<(String, String)> = base.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        form.push(("username".into(), "newperson".into()));
        for (k, v) in overrides {
            form.retain(|(key, _)| key != k);
            form.push((k.to_string(), v));
        }
        form
    };
    let cases: Vec<(Overrides, &str, u16)> = vec![
        (vec![("username", "admin".into())], "\"field\":\"username\",\"problem\":{\"kind\":\"taken\"}", 422),
        (vec![("email", "admin@example.org".into())], "\"field\":\"email\",\"problem\":{\"kind\":\"taken\"}", 422),
        (vec![("password", "short".into())], "\"kind\":\"too_short\"", 422),
        (vec![("password", "password123".into())], "\"reason\":\"common\"", 422),
        (vec![("name", "x".repeat(129))], "\"kind\":\"too_long\"", 422),
        (vec![("username", "bad name".into())], "\"expected\":\"username\"", 422),
        (vec![("email", "not-an-address".into())], "\"expected\":\"email\"", 422),
        (vec![("language", "xx".into())], "\"field\":\"language\"", 422),
    ];
    for (overrides, expected, status) in cases {
        let form = create(overrides.clone());
        let borrowed: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let reply = admin.call("create_user", &borrowed).await;
        assert_eq!(reply.status, status, "{overrides:?}: {}", reply.body);
        assert!(reply.body.contains(expected), "{overrides:?}: expected {expected} in {}", reply.body);
    }
    // A malformed post (fields missing) is a 400, not a 500.
    let malformed = admin.call("create_user", &[("username", "x")]).await;
    assert_eq!((malformed.status, malformed.error().as_deref()), (400, Some("bad_request")), "{}", malformed.body);
    let wrong_type = admin.call("get_user", &[("id", "not-a-number")]).await;
    assert_eq!(wrong_type.status, 400, "{}", wrong_type.body);
    assert_eq!(user_count(&app).await, before, "refused input must not create anything");

    let ok = admin
        .call("create_user", &create(vec![]).iter().map(|(k, v)| (k.as_str(), v.as_str())).collect::<Vec<_>>())
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(user_count(&app).await, before + 1);
}
on_every_backend!(bad_input_is_refused_specifically_and_writes_nothing);

#[tokio::test]
async fn cross_site_posts_are_refused() {
    let app = TestApp::start(Backend::Sqlite).await;
    let http = reqwest::Client::new();
    let path = app.url(&common::server_fn_path("login"));
    let form = [("username", "admin"), ("password", PASSWORD)];
    let no_origin = http.post(&path).form(&form).send().await.unwrap();
    assert_eq!(no_origin.status(), 403);
    let foreign = http.post(&path).header("Origin", "https://evil.example").form(&form).send().await.unwrap();
    assert_eq!(foreign.status(), 403);
    let ours = http.post(&path).header("Origin", app.url("")).form(&form).send().await.unwrap();
    assert_eq!(ours.status(), 200);
}

#[tokio::test]
async fn plain_form_posts_redirect_back_with_the_error() {
    let app = TestApp::start(Backend::Sqlite).await;
    let client = app.client();
    let reply = client.form("login", &[("username", "admin"), ("password", "wrong")], "/login").await;
    assert_eq!(reply.status, 302);
    let location = reply.location.expect("redirect back to the form");
    assert!(location.contains("/login?") && location.contains("__err="), "{location}");
    let page = client.get(location.trim_start_matches(&app.url(""))).await;
    assert!(page.body.contains("Wrong username or password."), "the error must be shown on the page");

    let ok = client
        .form("login", &[("username", "admin"), ("password", PASSWORD), ("next", "/admin/users")], "/login")
        .await;
    assert_eq!((ok.status, ok.location.as_deref()), (302, Some("/admin/users")));
    let users = client.get("/admin/users").await;
    assert!(users.body.contains("student@example.org"), "signed in without JavaScript");
}

#[tokio::test]
async fn https_public_url_marks_the_cookie_secure() {
    let app = TestApp::start_with(Backend::Sqlite, &[("OPENVLE_PUBLIC_URL", "https://vle.example.org")]).await;
    let res = reqwest::Client::new()
        .post(app.url(&common::server_fn_path("login")))
        .header("Origin", "https://vle.example.org")
        .form(&[("username", "admin"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    let cookie = res.headers().get("set-cookie").unwrap().to_str().unwrap().to_string();
    assert!(cookie.contains("; Secure"), "{cookie}");
}

#[tokio::test]
async fn users_change_their_own_password_and_other_sessions_end() {
    let app = TestApp::start(Backend::Sqlite).await;
    let first = app.signed_in("student").await;
    let second = app.signed_in("student").await;
    let wrong = first
        .call(
            "change_own_password",
            &[("current_password", "nope"), ("new_password", "N3w-Secret!x"), ("confirm_password", "N3w-Secret!x")],
        )
        .await;
    assert!(wrong.body.contains("current_password"), "{}", wrong.body);
    let differ = first
        .call(
            "change_own_password",
            &[("current_password", PASSWORD), ("new_password", "N3w-Secret!x"), ("confirm_password", "other")],
        )
        .await;
    assert!(differ.body.contains("passwords_differ"), "{}", differ.body);
    let ok = first
        .call(
            "change_own_password",
            &[("current_password", PASSWORD), ("new_password", "N3w-Secret!x"), ("confirm_password", "N3w-Secret!x")],
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert!(first.call("own_account", &[]).await.status == 200, "the current session stays");
    assert_eq!(second.call("own_account", &[]).await.error().as_deref(), Some("not_signed_in"));
    let relogin = app.client().call("login", &[("username", "student"), ("password", "N3w-Secret!x")]).await;
    assert_eq!(relogin.status, 200);
}

#[tokio::test]
async fn accepted_terms_of_use_are_required_before_use() {
    let app = TestApp::start(Backend::Sqlite).await;
    let admin = app.signed_in("admin").await;
    let created =
        admin.call("create_policy", &[("name", "Lab rules"), ("description", ""), ("content", "No mining.")]).await;
    assert_eq!(created.status, 200, "{}", created.body);
    let policy = app.system.db.ports(None).policies.list().await.unwrap().remove(0);
    let id = policy.id.to_string();
    let activated = admin.call("set_policy_active", &[("id", &id), ("active", "true")]).await;
    assert_eq!(activated.status, 200, "{}", activated.body);

    let instructor = app.signed_in("instructor").await;
    let blocked = instructor.call("list_users", &[]).await;
    assert_eq!(blocked.error().as_deref(), Some("policy_required"), "{}", blocked.body);
    let pending = instructor.call("pending_policies", &[]).await;
    assert!(pending.body.contains("Lab rules"), "{}", pending.body);
    let accepted = instructor.call("accept_policy", &[("id", &id)]).await;
    assert_eq!(accepted.status, 200, "{}", accepted.body);
    assert_eq!(instructor.call("list_users", &[]).await.status, 200);
}

/// The reasons of the `user.login_failed` activities recorded so far, with
/// the name each was recorded under.
async fn refusals(app: &TestApp) -> Vec<(String, String)> {
    let failed = app.activities("user.login_failed").await;
    failed.into_iter().map(|a| (a.actor_name, a.reason.unwrap_or_default())).collect()
}

/// Every refused sign-in is recorded, whatever refused it; a name that
/// cannot be a username is kept as typed, but never longer than a username.
#[tokio::test]
async fn every_refused_sign_in_is_recorded() {
    let app = TestApp::start(Backend::Sqlite).await;
    let client = app.client();
    let malformed = client.call("login", &[("username", "no such name!"), ("password", "x")]).await;
    assert_eq!(malformed.error().as_deref(), Some("invalid_credentials"));
    let long = "ä".repeat(500);
    let flood = client.call("login", &[("username", &long), ("password", "x")]).await;
    assert_eq!(flood.error().as_deref(), Some("invalid_credentials"));

    // Local passwords switched off for everyone but administrators.
    let admin = app.signed_in("admin").await;
    let off = admin.call("update_setting", &[("key", "auth.local_login_non_admins"), ("value", "false")]).await;
    assert_eq!(off.status, 200, "{}", off.body);
    let local = client.call("login", &[("username", "student"), ("password", PASSWORD)]).await;
    assert_eq!(local.error().as_deref(), Some("conflict"), "{}", local.body);
    assert!(local.body.contains("local_login_disabled"), "{}", local.body);

    let recorded = refusals(&app).await;
    let kept = domain::activity::typed_name(&long);
    assert_eq!(kept.chars().count(), domain::activity::TYPED_NAME_MAX);
    assert_eq!(
        recorded,
        [
            ("no such name!".to_string(), "invalid_username".to_string()),
            (kept, "invalid_username".to_string()),
            ("student".to_string(), "local_login_disabled".to_string()),
        ]
    );
    let student = app.system.db.ports(None).users.by_username("student").await.unwrap().unwrap().id;
    let failed = app.activities("user.login_failed").await;
    assert_eq!(failed[2].actor_id, Some(student));
    assert!(failed.iter().all(|a| a.client_ip.as_deref() == Some("127.0.0.1") && a.request_id.is_some()));
}

/// An instructor may edit the accounts they created, but not once such an
/// account holds a role they could not give (here: administrator); otherwise a
/// changed e-mail address and a password reset would hand them that account.
#[tokio::test]
async fn nobody_edits_an_account_that_may_do_more_than_they_may() {
    let app = TestApp::start(Backend::Sqlite).await;
    let (admin, instructor) = (app.signed_in("admin").await, app.signed_in("instructor").await);
    let account = [
        ("username", "risen"),
        ("name", "Risen"),
        ("email", "risen@example.org"),
        ("language", "en"),
        ("password", "Tr1cky-Horse!"),
        ("roles[]", "participant"),
    ];
    common::ok(&instructor, "create_user", &account).await;
    let users = app.system.db.ports(None).users;
    let id = users.by_username("risen").await.unwrap().expect("created").id.to_string();
    let profile = |email| [("id", id.as_str()), ("name", "Risen"), ("email", email), ("language", "en")];
    let edited = instructor.call("update_user", &profile("risen2@example.org")).await;
    assert_eq!(edited.status, 200, "their own participant: {}", edited.body);

    let promoted = admin.call("set_user_roles", &[("id", id.as_str()), ("roles[]", "admin")]).await;
    assert_eq!(promoted.status, 200, "{}", promoted.body);
    let refused = instructor.call("update_user", &profile("mine@example.org")).await;
    assert_eq!((refused.status, refused.error().as_deref()), (403, Some("forbidden")), "{}", refused.body);
    let user = users.by_username("risen").await.unwrap().unwrap();
    assert_eq!(user.email, "risen2@example.org", "the address stays");
    // The administrator still edits it.
    assert_eq!(admin.call("update_user", &profile("risen3@example.org")).await.status, 200);

    // The account's page offers each only what they may do.
    let all = |on: bool| serde_json::json!({ "profile": on, "roles": on, "status": on, "password": on, "delete": on });
    assert_eq!(common::json(&instructor, "controls_for_account", &[("id", id.as_str())]).await, all(false));
    assert_eq!(common::json(&admin, "controls_for_account", &[("id", id.as_str())]).await, all(true));
}
