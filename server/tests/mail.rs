//! E-mail through the product's HTTP server, delivered by the job worker
//! to a real SMTP server (aiosmtpd, implicit TLS, its own CA): an admin
//! creates an account without a password and the person gets an invitation
//! in their language whose single-use link sets the password; so do people
//! a roster import or an instructor creates, once however often the roster
//! is imported; "forgot
//! password"; "send test mail to me" with the server's exact answer; the
//! admin pages render.

mod common;

use std::time::Duration;

use common::{Backend, PASSWORD, RunningWorker, TestApp, json, mail_settings, pairs};
use smtp_connector::testing::{Received, SmtpServer};

async fn app_with_mail(server: &SmtpServer) -> TestApp {
    TestApp::start_with(Backend::Sqlite, &pairs(&mail_settings(server))).await
}

/// The token of the one set-password link in the plain-text body.
fn token_of(mail: &Received) -> String {
    let start = mail.text.find("https://vle.example.org/set-password?token=").expect("a set-password link");
    let link = mail.text[start..].split_whitespace().next().unwrap_or_default();
    let token = link.rsplit("token=").next().unwrap_or_default().to_string();
    assert!(
        mail.html.replace("&#x2f;", "/").replace("&#x3d;", "=").contains(link),
        "the HTML body has the same link: {}",
        mail.html
    );
    token
}

#[tokio::test]
async fn an_invitation_in_the_persons_language_sets_the_password_once() {
    let server = SmtpServer::start();
    let app = app_with_mail(&server).await;
    let _worker = RunningWorker::start(&app, "mail-http-test");
    let admin = app.signed_in("admin").await;

    let created = admin
        .call(
            "create_user",
            &[
                ("username", "berta"),
                ("name", "Berta Beispiel"),
                ("email", "berta@schule.test"),
                ("language", "de"),
                ("password", ""),
                ("roles[]", "participant"),
            ],
        )
        .await;
    assert_eq!(created.status, 200, "{}", created.body);
    let mails = server.wait_for(1, Duration::from_secs(15)).await;
    assert_eq!(mails.len(), 1);
    let invitation = &mails[0];
    assert_eq!(invitation.rcpt_tos, ["berta@schule.test"]);
    assert_eq!(invitation.subject, "Ihr OpenVLE-Konto");
    assert!(invitation.text.starts_with("Hallo Berta Beispiel,"), "{}", invitation.text);
    assert!(invitation.text.contains("Benutzernamen berta"));
    let token = token_of(invitation);

    // The page the link opens, then the form posted without JavaScript.
    let anonymous = app.client();
    let page = anonymous.get(&format!("/set-password?token={token}")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains(&format!("value=\"{token}\"")), "the form carries the token");
    let new_password = "Another-Horse-77";
    let set = anonymous
        .form(
            "set_password_with_token",
            &[("token", &token), ("password", new_password), ("confirm_password", new_password)],
            "/set-password",
        )
        .await;
    assert_eq!(set.status, 302, "{}", set.body);
    assert_eq!(set.location.as_deref(), Some("/login?ok=password_changed"));
    let login = app.client().call("login", &[("username", "berta"), ("password", new_password)]).await;
    assert_eq!(login.status, 200, "the invited account is active: {}", login.body);
    let recorded = app.activities("user.password_set_by_link").await;
    assert_eq!(recorded.len(), 1, "{recorded:?}");
    assert_eq!((recorded[0].actor_name.as_str(), recorded[0].target.name.as_str()), ("berta", "berta"));
    // The mail was delivered: the worker recorded it (just after the server took it), as the product.
    let mut delivered = app.activities("mail.sent").await;
    for _ in 0..50 {
        if !delivered.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        delivered = app.activities("mail.sent").await;
    }
    assert_eq!(delivered.len(), 1, "{delivered:?}");
    assert_eq!(delivered[0].actor_kind, domain::activity::ActorKind::System);

    let again = anonymous
        .call("set_password_with_token", &[("token", &token), ("password", PASSWORD), ("confirm_password", PASSWORD)])
        .await;
    assert_eq!(again.error().as_deref(), Some("invalid"), "a link works once: {}", again.body);
}

/// A server function's JSON answer (status 200 asserted).
/// Sets the password through the link's token as the form would, then signs in with it.
async fn set_password_and_sign_in(app: &TestApp, username: &str, token: &str) {
    let password = "Roster-Horse-58";
    let set = app
        .client()
        .call("set_password_with_token", &[("token", token), ("password", password), ("confirm_password", password)])
        .await;
    assert_eq!(set.status, 200, "{username}: {}", set.body);
    let login = app.client().call("login", &[("username", username), ("password", password)]).await;
    assert_eq!(login.status, 200, "{username} signs in: {}", login.body);
}

#[tokio::test]
async fn people_from_a_roster_or_added_inline_are_invited_once_in_their_language() {
    let server = SmtpServer::start();
    let app = app_with_mail(&server).await;
    let _worker = RunningWorker::start(&app, "mail-http-test");
    let admin = app.signed_in("admin").await;
    let instructor = app.signed_in("instructor").await;
    let template = [
        ("name", "Tpl"),
        ("proxmox_vmid", "9000"),
        ("node", "pve1"),
        ("cores", "1"),
        ("memory_mib", "1024"),
        ("disk_gib", "8"),
        ("protocol", "ssh"),
    ];
    assert_eq!(admin.call("create_template", &template).await.status, 200);
    let template = json(&admin, "list_templates", &[]).await[0]["id"].to_string();
    let environment = [("name", "Lab"), ("template_ids[]", template.as_str()), ("counts[]", "1")];
    assert_eq!(admin.call("create_environment", &environment).await.status, 200);
    let environment = json(&admin, "list_environments", &[]).await[0]["id"].to_string();
    let event = [
        ("name", "Networks"),
        ("short_name", "net1"),
        ("environment_id", &environment),
        ("starts_at", "2030-01-01T09:00"),
    ];
    assert_eq!(instructor.call("create_event", &event).await.status, 200);
    let event = json(&instructor, "list_events", &[("tab", "planned")]).await["items"][0]["id"].to_string();

    // Two new people (one German) and an existing account, which gets nothing.
    let roster = "username,name,email,role,language\n\
                  ann,Ann Example,ann@example.org,student,\n\
                  bo,Bo Beispiel,bo@schule.test,student,de\n\
                  student,Test student,student@example.org,student\n";
    let import = [("event_id", event.as_str()), ("csv", roster)];
    let imported = instructor.call("import_roster", &import).await;
    assert_eq!(imported.status, 200, "{}", imported.body);
    server.wait_for(2, Duration::from_secs(15)).await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let mails = server.messages();
    assert_eq!(mails.len(), 2, "{:?}", mails.iter().map(|m| &m.rcpt_tos).collect::<Vec<_>>());
    let to = |address: &str| {
        mails.iter().find(|m| m.rcpt_tos == [address]).unwrap_or_else(|| panic!("no mail to {address}"))
    };
    let (ann, bo) = (to("ann@example.org"), to("bo@schule.test"));
    assert_eq!((ann.subject.as_str(), bo.subject.as_str()), ("Your OpenVLE account", "Ihr OpenVLE-Konto"));
    assert!(ann.text.starts_with("Hello Ann Example,") && ann.text.contains("username ann"), "{}", ann.text);
    assert!(bo.text.starts_with("Hallo Bo Beispiel,") && bo.text.contains("Benutzernamen bo"), "{}", bo.text);
    set_password_and_sign_in(&app, "ann", &token_of(ann)).await;
    set_password_and_sign_in(&app, "bo", &token_of(bo)).await;

    // Importing again (also after ann and bo chose their passwords) mails nobody.
    let again = instructor.call("import_roster", &import).await;
    assert_eq!(again.status, 200, "{}", again.body);

    // Someone created on the event page without a password is invited too, once.
    let inline = [
        ("event_id", event.as_str()),
        ("username", "cem"),
        ("name", "Cem Example"),
        ("email", "cem@example.org"),
        ("password", ""),
        ("role", "student"),
    ];
    assert_eq!(instructor.call("create_participant", &inline).await.status, 200);
    server.wait_for(3, Duration::from_secs(15)).await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let mails = server.messages();
    let mut to: Vec<String> = mails.iter().flat_map(|m| m.rcpt_tos.clone()).collect();
    to.sort();
    assert_eq!(to, ["ann@example.org", "bo@schule.test", "cem@example.org"], "one invitation each, no more");
    let cem = mails.iter().find(|m| m.rcpt_tos == ["cem@example.org"]).unwrap();
    assert_eq!(cem.subject, "Your OpenVLE account");
    set_password_and_sign_in(&app, "cem", &token_of(cem)).await;
}

#[tokio::test]
async fn forgot_password_mails_a_link_without_revealing_accounts() {
    let server = SmtpServer::start();
    let app = app_with_mail(&server).await;
    let _worker = RunningWorker::start(&app, "mail-http-test");
    let anonymous = app.client();

    let unknown = anonymous.form("request_password_reset", &[("username", "nobody")], "/forgot-password").await;
    let known = anonymous.form("request_password_reset", &[("username", "student")], "/forgot-password").await;
    assert_eq!(unknown.location, known.location, "same answer either way");
    assert_eq!(known.location.as_deref(), Some("/login?ok=reset_sent"));

    let mails = server.wait_for(1, Duration::from_secs(15)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(server.messages().len(), 1, "only the existing account gets a mail");
    assert_eq!(mails[0].rcpt_tos, ["student@example.org"]);
    assert_eq!(mails[0].subject, "Reset your OpenVLE password");
    let token = token_of(&mails[0]);
    let weak = anonymous
        .call("set_password_with_token", &[("token", &token), ("password", "short"), ("confirm_password", "short")])
        .await;
    assert_eq!(weak.error().as_deref(), Some("invalid"));
    // A refused password does not use up the link.
    let ok = anonymous
        .call(
            "set_password_with_token",
            &[("token", &token), ("password", "Reset-Horse-91"), ("confirm_password", "Reset-Horse-91")],
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(
        app.client().call("login", &[("username", "student"), ("password", "Reset-Horse-91")]).await.status,
        200
    );

    // The anonymous form cannot flood a mailbox: three mails an hour at most.
    for _ in 0..5 {
        anonymous.form("request_password_reset", &[("username", "student")], "/forgot-password").await;
    }
    server.wait_for(4, Duration::from_secs(15)).await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(server.messages().len(), 3, "the first request and two more");
}

#[tokio::test]
async fn test_mail_to_me_shows_the_servers_answer_and_the_pages_render() {
    let server = SmtpServer::start();
    let app = app_with_mail(&server).await;
    let admin = app.signed_in("admin").await;

    let sent = admin.call("send_test_mail", &[]).await;
    assert_eq!(sent.status, 200, "{}", sent.body);
    assert!(sent.body.contains("250"), "{}", sent.body);
    assert_eq!(server.messages()[0].rcpt_tos, ["admin@example.org"]);
    let recorded = app.activities("mail.test_send").await;
    assert_eq!(recorded.len(), 1, "{recorded:?}");
    assert_eq!((recorded[0].actor_name.as_str(), recorded[0].target.kind.as_str()), ("admin", "users"));

    let updated = admin
        .call("update_own_profile", &[("name", "Test admin"), ("email", "admin@reject.test"), ("language", "en")])
        .await;
    assert_eq!(updated.status, 200, "{}", updated.body);
    let refused = admin.form("send_test_mail", &[], "/admin/mail/templates").await;
    assert_eq!(refused.status, 302);
    // Both are in the sent log with the server's answer, and recorded.
    let recorded = app.activities("mail.test_send").await;
    assert_eq!(recorded.len(), 2, "{recorded:?}");
    let failed = recorded.iter().find(|a| a.outcome == domain::activity::Outcome::Failed).expect("a failed test mail");
    assert!(failed.reason.as_deref().unwrap_or_default().starts_with("550 5.1.1"), "{failed:?}");
    let log = admin.get("/admin/mail/sent?subject=OpenVLE+test+mail").await;
    assert!(log.body.contains("admin@reject.test") && log.body.contains("admin@example.org"), "{}", log.body);
    let failed_log = admin.get("/admin/mail/sent?status=failed").await;
    assert!(failed_log.body.contains("admin@reject.test"), "the refused one is failed");
    let back = refused.location.unwrap_or_default();
    // Back to the form's page, the error in the URL (as without JavaScript).
    let page = admin.get(back.trim_start_matches(&app.url(""))).await;
    assert!(
        page.body.contains("550 5.1.1 &lt;admin@reject.test&gt;: Recipient address rejected: User unknown"),
        "the page shows the server's answer: {back}"
    );

    // The Settings page has the same button, with the same answer on failure.
    let settings = admin.get("/admin/settings").await;
    assert!(settings.body.contains("data-mail-section"), "the mail server section is on the Settings page");
    let refused = admin.form("send_test_mail", &[], "/admin/settings").await;
    let back = refused.location.unwrap_or_default();
    assert!(back.contains("/admin/settings"), "{back}");
    let page = admin.get(back.trim_start_matches(&app.url(""))).await;
    assert!(page.body.contains("550 5.1.1 &lt;admin@reject.test&gt;"), "the Settings page shows the server's answer");

    let templates = admin.get("/admin/mail/templates").await;
    assert_eq!(templates.status, 200);
    for slug in [
        "events_post_deployment_success",
        "events_post_deployment_failed",
        "events_decommission_started",
        "events_post_decommission_failed",
    ] {
        assert!(templates.body.contains(slug), "{slug} is listed");
    }
    assert!(templates.body.contains("localhost:"), "the mail server is shown");
    let sent_log = admin.get("/admin/mail/sent?status=sent").await;
    assert_eq!(sent_log.status, 200);
    let student = app.signed_in("student").await;
    assert!(!student.get("/admin/mail/sent").await.body.contains("data-mail="), "students see no mail");
}
