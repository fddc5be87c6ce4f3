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
        "list_activities" => SIGNED_IN,
        "activity_health" => ADMIN,
        "connection_settings" | "save_connection" | "test_connection" | "cluster_nodes" => ADMIN,
        "cluster_templates" => USER_READERS,
        // Classroom (issue 5). Calls aimed at events that do not exist answer
        // "not found" to every signed-in caller: membership is checked on the event.
        "list_templates"
        | "get_template"
        | "list_environments"
        | "get_environment"
        | "create_environment"
        | "create_event"
        | "list_groups"
        | "group_members"
        | "create_group"
        | "delete_group"
        | "add_group_member"
        | "remove_group_member" => USER_READERS,
        "create_template"
        | "update_template"
        | "delete_template"
        | "import_cluster_template"
        | "update_environment"
        | "delete_environment" => ADMIN,
        "list_events" | "get_event" | "update_event" | "delete_event" | "list_participants" | "add_participants"
        | "create_participant" | "remove_participant" | "set_event_admin" | "add_group_to_event" | "preview_roster"
        | "import_roster" | "list_vms" | "get_vm" | "vm_nodes" | "my_vms" | "event_vms" => SIGNED_IN,
        // The built-in console (issue 9): the rule of the VM's power actions.
        "vm_console" => SIGNED_IN,
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
        // Deployment (issue 5): membership and VM ownership are checked on the object.
        "deploy_event" | "end_event" | "vm_action" => SIGNED_IN,
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
        // Classroom (issue 5).
        "get_template" | "delete_template" | "get_environment" | "delete_environment" | "get_event"
        | "delete_event" | "get_vm" | "vm_console" | "group_members" | "delete_group" => vec![("id", "999999".into())],
        "create_template" | "update_template" => vec![
            ("id", "999999".into()),
            ("name", format!("Template by {caller}")),
            ("proxmox_vmid", "9000".into()),
            ("node", "pve1".into()),
            ("cores", "2".into()),
            ("memory_mib", "2048".into()),
            ("protocol", "ssh".into()),
        ],
        "import_cluster_template" => vec![("vmid", "9000".into())],
        "create_environment" | "update_environment" => {
            vec![("id", "999999".into()), ("name", format!("Environment by {caller}"))]
        }
        "create_event" | "update_event" => vec![
            ("id", "999999".into()),
            ("name", "Event".into()),
            ("short_name", "acc1".into()),
            ("environment_id", "999999".into()),
            ("starts_at", "2030-01-01T09:00".into()),
        ],
        "list_participants" | "event_vms" => vec![("event_id", "999999".into())],
        "add_participants" => {
            vec![("event_id", "999999".into()), ("usernames", "student".into()), ("role", "student".into())]
        }
        "create_participant" => vec![
            ("event_id", "999999".into()),
            ("username", format!("p-by-{caller}")),
            ("name", "P".into()),
            ("email", format!("p-by-{caller}@example.org")),
            ("role", "student".into()),
        ],
        "remove_participant" | "set_event_admin" => {
            vec![("event_id", "999999".into()), ("user_id", student_id.to_string()), ("admin", "true".into())]
        }
        "add_group_to_event" => {
            vec![("event_id", "999999".into()), ("group_id", "999999".into()), ("role", "student".into())]
        }
        "preview_roster" | "import_roster" => {
            vec![("event_id", "999999".into()), ("csv", "zed,Zed,zed@example.org,student".into())]
        }
        "create_group" => vec![("name", format!("Group by {caller}"))],
        "add_group_member" => vec![("id", "999999".into()), ("username", "student".into())],
        "remove_group_member" => vec![("id", "999999".into()), ("user_id", student_id.to_string())],
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
        // Deployment (issue 5).
        "deploy_event" | "end_event" => vec![("id", "999999".into()), ("confirm", "on".into())],
        "vm_action" => vec![("id", "999999".into()), ("action", "reboot".into())],
        _ => vec![],
    };
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

// --- Activities (issue 6): every state change records one. ---
/// Server functions that only read. Every other server function changes state
/// and must record an activity when it succeeds (a new one is held to that
/// until it is listed here).
const READ_ONLY: &[&str] = &[
    "load_shell",
    "own_account",
    "pending_policies",
    "list_users",
    "get_user",
    "assignable_roles",
    "list_roles",
    "get_role",
    "list_permissions",
    "list_settings",
    "list_policies",
    "list_tasks",
    "get_task",
    "connection_settings",
    "test_connection",
    "cluster_nodes",
    "cluster_templates",
    "list_activities",
    "activity_health",
    "sign_in_methods",
    "test_directory",
    "test_identity_provider",
    "list_templates",
    "get_template",
    "list_environments",
    "get_environment",
    "list_events",
    "get_event",
    "list_participants",
    "preview_roster",
    "list_groups",
    "group_members",
    "list_vms",
    "get_vm",
    "vm_console",
    "vm_nodes",
    "my_vms",
    "event_vms",
    "list_mail_templates",
    "get_mail_template",
    "mail_server",
    "list_sent_mails",
    "get_sent_mail",
];
/// State-changing functions whose matrix arguments never succeed (they aim at
/// objects that do not exist, or are refused by validation); their activities
/// are checked by the service tests instead (store/tests/activities.rs).
const NOT_EXERCISED_HERE: &[&str] = &[
    "change_own_password",
    "set_user_password",
    "delete_user",
    "delete_role",
    "set_policy_active",
    "accept_policy",
    "retry_task",
    "cancel_task",
    "save_connection",
];

/// State-changing functions of the classroom and mail areas whose matrix
/// arguments never succeed (they aim at objects that do not exist) and whose
/// activities (`Services::record_after`) no test proves yet: issue 6 stays open
/// until each is covered. Do not add to this list.
const ACTIVITY_NOT_YET_PROVEN: &[&str] = &[
    "add_group_member",
    "add_group_to_event",
    "add_participants",
    "create_event",
    "create_participant",
    "create_template",
    "delete_environment",
    "delete_event",
    "delete_group",
    "delete_mail_template",
    "delete_template",
    "deploy_event",
    "end_event",
    "import_cluster_template",
    "import_roster",
    "remove_participant",
    "resend_mail",
    "send_template_test",
    "send_test_mail",
    "set_event_admin",
    "set_password_with_token",
    "update_environment",
    "update_event",
    "update_template",
    "vm_action",
];

/// Activities recorded so far (nothing forwards them in the test app: they wait in the outbox).
async fn activity_count(app: &TestApp) -> u64 {
    app.system.services.ports().outbox.backlog().await.expect("outbox backlog").waiting
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
    let mut exercised = std::collections::BTreeSet::new();
    // Successful state changes that recorded no activity (all reported at once).
    let mut silent = Vec::new();
    for (index, caller) in CALLERS.iter().enumerate() {
        let client = client_for(&app, caller).await;
        // Sign-out last: it ends the session the other calls use.
        let ordered = names.iter().filter(|n| *n != "logout").chain(names.iter().filter(|n| *n == "logout"));
        for name in ordered {
            let expected = allowed(name)[index];
            let form = args(name, caller, admin.id, student.id, participant.id);
            let borrowed: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let before = activity_count(&app).await;
            let reply = client.call(name, &borrowed).await;
            let succeeded = reply.status < 400 && reply.error().is_none();
            if !READ_ONLY.contains(&name.as_str()) && (succeeded || name == "login") {
                // A refused sign-in is a state change too (`user.login_failed`).
                if activity_count(&app).await <= before {
                    silent.push(format!("{caller} -> {name}"));
                }
                exercised.insert(name.clone());
            }
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
    assert!(silent.is_empty(), "changed state but recorded no activity: {silent:?}");
    let unproven: Vec<&String> = names
        .iter()
        .filter(|n| !READ_ONLY.contains(&n.as_str()) && !NOT_EXERCISED_HERE.contains(&n.as_str()))
        .filter(|n| !ACTIVITY_NOT_YET_PROVEN.contains(&n.as_str()))
        .filter(|n| !exercised.contains(*n))
        .collect();
    assert!(unproven.is_empty(), "state-changing server functions never succeeded here: {unproven:?}");
}
