//! Every server function, called by every default role (and anonymously):
//! each one checks its caller before doing anything. A new server function
//! fails this test until it is added to the matrix below.

mod common;

use common::{Backend, Client, TestApp};

const CALLERS: [&str; 4] = ["anonymous", "student", "instructor", "admin"];

/// Which callers get past the authorization check (in CALLERS order).
fn allowed(name: &str) -> [bool; 4] {
    const SIGNED_IN: [bool; 4] = [false, true, true, true];
    const USER_READERS: [bool; 4] = [false, false, true, true];
    const ADMIN: [bool; 4] = [false, false, false, true];
    match name {
        "load_shell" | "login" => [true; 4],
        "logout"
        | "update_own_profile"
        | "change_own_password"
        | "own_account"
        | "pending_policies"
        | "accept_policy" => SIGNED_IN,
        "list_users" | "get_user" | "assignable_roles" | "create_user" => USER_READERS,
        "update_user" | "set_user_roles" | "set_user_status" | "set_user_password" | "delete_user" => ADMIN,
        "list_roles" | "get_role" | "list_permissions" | "create_role" | "update_role" | "copy_role"
        | "delete_role" => ADMIN,
        "list_settings" | "update_setting" => ADMIN,
        "sign_in_methods" | "test_directory" | "test_identity_provider" => ADMIN,
        "list_policies" | "create_policy" | "set_policy_active" => ADMIN,
        "list_tasks" | "get_task" | "retry_task" | "cancel_task" | "start_worker_check" => ADMIN,
        "connection_settings" | "save_connection" | "test_connection" | "cluster_nodes" => ADMIN,
        "cluster_templates" => USER_READERS,
        "list_mail_templates"
        | "get_mail_template"
        | "save_mail_template"
        | "delete_mail_template"
        | "send_template_test"
        | "mail_server"
        | "send_test_mail"
        | "list_sent_mails"
        | "get_sent_mail"
        | "resend_mail" => ADMIN,
        "request_password_reset" | "set_password_with_token" => [true; 4],
        other => panic!("server function {other} is not in the authorization matrix of tests/access.rs"),
    }
}

/// Plausible arguments: aimed at objects that exist (or harmlessly don't),
/// so an allowed call reaches the use case.
fn args(name: &str, caller: &str, admin_id: i64, student_id: i64, participant_role: i64) -> Vec<(String, String)> {
    let pairs: Vec<(&str, String)> = match name {
        "login" => vec![("username", "nobody".into()), ("password", "wrong".into())],
        "update_own_profile" => vec![
            ("name", format!("Name {caller}")),
            ("email", format!("{caller}@example.org")),
            ("language", "en".into()),
        ],
        "change_own_password" => {
            vec![("current_password", "wrong".into()), ("new_password", "x".into()), ("confirm_password", "x".into())]
        }
        "list_users" => vec![],
        "get_user" | "update_user" => vec![
            ("id", admin_id.to_string()),
            ("name", "Test admin".into()),
            ("email", "admin@example.org".into()),
            ("language", "en".into()),
        ],
        "create_user" => vec![
            ("username", format!("made-by-{caller}")),
            ("name", "Made".into()),
            ("email", format!("made-by-{caller}@example.org")),
            ("language", "en".into()),
            ("password", String::new()),
            ("roles[]", "participant".into()),
        ],
        "set_user_roles" => vec![("id", student_id.to_string()), ("roles[]", "participant".into())],
        "set_user_status" => vec![("id", student_id.to_string()), ("status", "active".into())],
        "set_user_password" => vec![("id", student_id.to_string()), ("password", "weak".into())],
        "delete_user" | "delete_role" | "set_policy_active" | "accept_policy" | "get_task" | "retry_task"
        | "cancel_task" => {
            vec![("id", "999999".into()), ("active", "false".into())]
        }
        "get_role" => vec![("id", participant_role.to_string())],
        "create_role" => {
            vec![("key", format!("role_by_{caller}")), ("name", "R".into()), ("description", String::new())]
        }
        "update_role" => vec![
            ("id", participant_role.to_string()),
            ("name", "Participant".into()),
            ("description", "Takes part.".into()),
        ],
        "copy_role" => {
            vec![("id", participant_role.to_string()), ("key", format!("copy_by_{caller}")), ("name", "Copy".into())]
        }
        "update_setting" => vec![("key", "contact.mail".into()), ("value", "help@example.org".into())],
        "test_directory" => vec![("username", "alice".into())],
        "save_connection" => vec![
            ("url", "http://127.0.0.1:9".into()),
            ("token_id", "openvle@pve!demo".into()),
            ("secret", "not-a-real-secret".into()),
            ("fingerprint", String::new()),
            ("pool", String::new()),
        ],
        "create_policy" => vec![
            ("name", format!("Policy by {caller}")),
            ("description", String::new()),
            ("content", "Be kind.".into()),
        ],
        "get_mail_template" | "delete_mail_template" | "send_template_test" | "get_sent_mail" | "resend_mail" => {
            vec![("id", "999999".into())]
        }
        "save_mail_template" => vec![
            ("name", format!("Template by {caller}")),
            ("slug", String::new()),
            ("language", "en".into()),
            ("subject", "Hi {user.name}".into()),
            ("html", "<p>Hi</p>".into()),
            ("text", "Hi".into()),
            ("reply_to", String::new()),
        ],
        "request_password_reset" => vec![("username", "nobody".into())],
        "set_password_with_token" => {
            vec![("token", "unknown".into()), ("password", "x".into()), ("confirm_password", "x".into())]
        }
        _ => vec![],
    };
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

async fn client_for(app: &TestApp, caller: &str) -> Client {
    if caller == "anonymous" { app.client() } else { app.signed_in(caller).await }
}

#[tokio::test]
async fn every_server_function_checks_its_caller() {
    let app = TestApp::start(Backend::Sqlite).await;
    let services = &app.system.services;
    let admin = app.system.db.ports(None).users.by_username("admin").await.unwrap().unwrap();
    let student = app.system.db.ports(None).users.by_username("student").await.unwrap().unwrap();
    let participant = app.system.db.ports(None).roles.by_key("participant").await.unwrap().unwrap();
    let _ = services;

    let names = common::all_server_fns();
    assert!(names.len() >= 25, "expected every server function to be registered, got {names:?}");
    for (index, caller) in CALLERS.iter().enumerate() {
        let client = client_for(&app, caller).await;
        // Sign-out last: it ends the session the other calls use.
        let ordered = names.iter().filter(|n| *n != "logout").chain(names.iter().filter(|n| *n == "logout"));
        for name in ordered {
            let expected = allowed(name)[index];
            let form = args(name, caller, admin.id, student.id, participant.id);
            let borrowed: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let reply = client.call(name, &borrowed).await;
            let error = reply.error();
            let denied = matches!(error.as_deref(), Some("not_signed_in" | "forbidden"));
            assert_ne!(reply.status, 500, "{caller} -> {name}: server error {}", reply.body);
            if expected {
                assert!(!denied, "{caller} should pass the check of {name}, got {} {}", reply.status, reply.body);
            } else {
                let want = if *caller == "anonymous" { "not_signed_in" } else { "forbidden" };
                assert_eq!(error.as_deref(), Some(want), "{caller} -> {name}: {} {}", reply.status, reply.body);
                assert!(reply.status == 401 || reply.status == 403, "{caller} -> {name}: status {}", reply.status);
            }
        }
    }
}
