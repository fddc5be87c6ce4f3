//! Every server function, called by every default role (and anonymously):
//! each one checks its caller before doing anything. A new server function
//! fails this test until it is added to the matrix below.

mod common;

use common::{Backend, Client, Reply, TestApp};
use domain::activity::ActorKind;
use domain::classroom::{ConnectionBinding, EventStatus, VmState};
use domain::mail::MailStatus;
use domain::task::TaskStatus;
use services::classroom::ports::{EventQuery, NewVm, VmUpdate};
use services::mail::ports::SentMailFilter;

const SECRET_KEY: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

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
        | "accept_policy"
        | "own_time_zone"
        | "set_own_time_zone" => SIGNED_IN,
        "list_users" | "get_user" | "controls_for_account" | "assignable_roles" | "create_user" => USER_READERS,
        "update_user" | "set_user_roles" | "set_user_status" | "set_user_password" | "delete_user" => ADMIN,
        "list_roles" | "get_role" | "list_permissions" | "create_role" | "update_role" | "copy_role"
        | "delete_role" => ADMIN,
        "list_settings" | "update_setting" => ADMIN,
        "sign_in_methods" | "test_directory" | "test_identity_provider" => ADMIN,
        "list_policies" | "create_policy" | "set_policy_active" => ADMIN,
        "list_tasks" | "get_task" | "retry_task" | "cancel_task" | "start_worker_check" => ADMIN,
        "list_activities" => SIGNED_IN,
        "activity_health" | "health_report" => ADMIN,
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
        | "import_roster" | "list_vms" | "get_vm" | "vm_nodes" | "my_vms" | "event_vms" | "event_overlaps"
        | "event_drift" => SIGNED_IN,
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
        "deploy_event" | "end_event" | "return_to_planning" | "vm_action" => SIGNED_IN,
        // Tags and catalogue (issue 5): administrators manage the catalogue,
        // instructors read it; tags and links are checked on their object
        // (the matrix aims at a VM that does not exist: "not found" for everyone).
        "list_catalogue" | "get_catalogue_item" => USER_READERS,
        "create_catalogue_item" | "update_catalogue_item" | "delete_catalogue_item" => ADMIN,
        "object_catalogue" | "set_catalogue_links" | "list_tags" | "tags_of" | "add_tag" | "remove_tag" => SIGNED_IN,
        // Dashboard (issue 5): everyone reads; administrators edit notifications and links.
        "dashboard" | "active_notifications" | "list_quick_links" => SIGNED_IN,
        "list_notifications"
        | "save_notification"
        | "delete_notification"
        | "save_quick_link"
        | "delete_quick_link" => ADMIN,
        // Guacamole (issue 9): settings are the administrators'; connection
        // templates follow their template (Update) or VM (membership, checked on the VM).
        "guacamole_settings" | "save_guacamole" | "test_guacamole" => ADMIN,
        "list_connection_templates" => USER_READERS,
        "create_connection_template" => ADMIN,
        "delete_connection_template" | "vm_connections" => SIGNED_IN,
        other => panic!("server function {other} is not in the authorization matrix of tests/access.rs"),
    }
}

/// Real objects for the state-changing calls to aim at, so that an allowed
/// call succeeds and has to record its activity. Events are the
/// instructor's; the student takes part only in `running_event` (where they
/// own `vm`), so other event calls answer them "not found".
struct Fixtures {
    admin_id: i64,
    student_id: i64,
    instructor_id: i64,
    participant_role: i64,
    /// A participant of `event` whom the calls add, remove and group.
    pupil_id: i64,
    template: i64,
    spare_template: i64,
    /// The administrator's (instructors may not change it).
    environment: i64,
    spare_environment: i64,
    /// The instructor's, for their events.
    instructor_environment: i64,
    /// Planned; participants, roster, group and update calls.
    event: i64,
    spare_event: i64,
    deploy_event: i64,
    /// Failed: can be ended.
    end_event: i64,
    vm: i64,
    group: i64,
    spare_group: i64,
    mail_template: i64,
    spare_mail_template: i64,
    failed_mail: i64,
    /// A set-password link of `pupil`.
    token: String,
    /// A user and a role nobody needs, to delete.
    throwaway_user: i64,
    spare_role: i64,
    /// Active: every signed-in caller accepts it first; the administrator
    /// switches it off later.
    policy: i64,
    /// A failed task to retry and a queued one to cancel (no worker runs here).
    failed_task: i64,
    queued_task: i64,
    /// A connection template of `template`, for the administrator to delete.
    connection_template: i64,
}

fn created(reply: Reply, what: &str) {
    assert!(reply.status < 400 && reply.error().is_none(), "fixture {what}: {} {}", reply.status, reply.body);
}

async fn fixtures(app: &TestApp) -> Fixtures {
    let ports = app.system.db.ports(None);
    let services = &app.system.services;
    let admin = app.signed_in("admin").await;
    let instructor = app.signed_in("instructor").await;

    for name in ["Fixture template", "Spare template"] {
        let form = [
            ("name", name),
            ("proxmox_vmid", "9000"),
            ("node", "pve1"),
            ("cores", "1"),
            ("memory_mib", "1024"),
            ("disk_gib", "8"),
            ("protocol", "ssh"),
        ];
        created(admin.call("create_template", &form).await, name);
    }
    let templates = ports.templates.list().await.unwrap();
    let template_id = |name: &str| templates.iter().find(|t| t.name == name).unwrap().id;
    let template = template_id("Fixture template");
    let entry = template.to_string();
    for (client, name) in
        [(&admin, "Fixture environment"), (&admin, "Spare environment"), (&instructor, "Instructor environment")]
    {
        let form = [("name", name), ("template_ids[]", entry.as_str()), ("counts[]", "1")];
        created(client.call("create_environment", &form).await, name);
    }
    let environments = ports.environments.list().await.unwrap();
    let environment_id = |name: &str| environments.iter().find(|e| e.name == name).unwrap().id;
    let instructor_environment = environment_id("Instructor environment");

    let environment = instructor_environment.to_string();
    for short in ["acc-main", "acc-del", "acc-dep", "acc-end", "acc-run"] {
        let form = [
            ("name", short),
            ("short_name", short),
            ("environment_id", environment.as_str()),
            ("starts_at", "2030-01-01T09:00"),
        ];
        created(instructor.call("create_event", &form).await, short);
    }
    let page = domain::page::PageRequest::new(Some(1), Some(100));
    let events = ports.events.list(&EventQuery::default(), 0, page).await.unwrap().items;
    let event_id = |short: &str| events.iter().find(|e| e.short_name == short).unwrap().id;

    app.system
        .services
        .bootstrap_user(services::accounts::UserInput {
            username: "pupil".into(),
            name: "Pupil".into(),
            email: "pupil@example.org".into(),
            language: "en".into(),
            password: common::PASSWORD.into(),
            role_keys: vec!["participant".into()],
        })
        .await
        .unwrap();
    let event = event_id("acc-main").to_string();
    let running = event_id("acc-run");
    let running_text = running.to_string();
    for (event, username) in [(&event, "pupil"), (&running_text, "student")] {
        let form = [("event_id", event.as_str()), ("usernames", username), ("role", "student")];
        created(instructor.call("add_participants", &form).await, username);
    }

    // A failed event (to end) and a running one with the student's VM on the cluster.
    let end_event = event_id("acc-end");
    assert!(services.move_event(end_event, EventStatus::Planned, EventStatus::Deploying, None).await.unwrap());
    assert!(
        services.move_event(end_event, EventStatus::Deploying, EventStatus::Failed, Some("fixture")).await.unwrap()
    );
    assert!(services.move_event(running, EventStatus::Planned, EventStatus::Deploying, None).await.unwrap());
    let plan = services.deployment_plan(running).await.unwrap();
    let vms: Vec<NewVm> = plan
        .vms
        .iter()
        .map(|p| NewVm {
            event_id: running,
            owner_id: p.owner_id,
            template_id: p.template_id,
            ordinal: p.ordinal,
            name: format!("acc-run-{}-{}", p.username, p.ordinal),
        })
        .collect();
    let recorded = services.record_planned_vms(running, &vms).await.unwrap();
    let vm = recorded.iter().find(|v| v.owner_username == "student").unwrap().id;
    let on_cluster =
        VmUpdate { vmid: Some(300), node: Some("pve1".into()), state: VmState::Running, ip: None, last_error: None };
    services.record_vm_state(vm, &on_cluster).await.unwrap();
    assert!(services.move_event(running, EventStatus::Deploying, EventStatus::Running, None).await.unwrap());

    for name in ["Fixture group", "Spare group"] {
        created(admin.call("create_group", &[("name", name)]).await, name);
    }
    let groups = ports.groups.list().await.unwrap();
    let group_id = |name: &str| groups.iter().find(|g| g.name == name).unwrap().id;
    let group = group_id("Fixture group");
    created(admin.call("add_group_member", &[("id", &group.to_string()), ("username", "pupil")]).await, "member");

    for name in ["Fixture mail", "Spare mail"] {
        let form = [
            ("name", name),
            ("slug", ""),
            ("language", "en"),
            ("subject", "Hi {user.name}"),
            ("html", "<p>Hi</p>"),
            ("text", "Hi"),
            ("reply_to", ""),
        ];
        created(admin.call("save_mail_template", &form).await, name);
    }
    let mail_templates = ports.mail.templates().await.unwrap();
    let mail_template_id = |name: &str| mail_templates.iter().find(|t| t.name == name).unwrap().id;
    let mail_template = mail_template_id("Fixture mail");
    created(admin.call("send_template_test", &[("id", &mail_template.to_string())]).await, "test mail");
    let sent = ports.mail.list_sent(&SentMailFilter::default(), page).await.unwrap().items;
    let failed_mail = sent[0].id;
    let now = domain::time::Timestamp(0);
    ports.mail.set_sent_status(failed_mail, MailStatus::Failed, "550 no such user", now, None).await.unwrap();

    // The reset mail is rendered when queued: its link is in the sent log.
    services.request_password_reset("pupil", &Default::default()).await.unwrap();
    let reset = SentMailFilter { recipient: Some("pupil@".into()), ..SentMailFilter::default() };
    let mail = ports.mail.list_sent(&reset, page).await.unwrap().items.remove(0);
    let token = mail.text.split("token=").nth(1).and_then(|rest| rest.split_whitespace().next()).unwrap().to_string();

    let throwaway_user = services
        .bootstrap_user(services::accounts::UserInput {
            username: "throwaway".into(),
            name: "Throwaway".into(),
            email: "throwaway@example.org".into(),
            language: "en".into(),
            password: common::PASSWORD.into(),
            role_keys: vec!["participant".into()],
        })
        .await
        .unwrap();
    let role = [("key", "spare_role"), ("name", "Spare role"), ("description", "")];
    created(admin.call("create_role", &role).await, "role");
    let spare_role = ports.roles.by_key("spare_role").await.unwrap().unwrap().id;

    let (failed_task, queued_task) = (task(app, "acc-failed").await, task(app, "acc-queued").await);
    let clock = services.clock();
    let now = clock.now();
    assert!(ports.tasks.claim(failed_task, "fixture", now, now.plus_secs(60)).await.unwrap());
    ports.tasks.finish(failed_task, "fixture", TaskStatus::Failed, Some("fixture"), now).await.unwrap();

    let connection = [("template_id", entry.as_str()), ("protocol", "vnc"), ("port", "5901")];
    created(admin.call("create_connection_template", &connection).await, "connection template");
    let bindings = ports.connection_templates.list(ConnectionBinding::Template(template)).await.unwrap();
    let connection_template = bindings.iter().find(|c| c.port == 5901).unwrap().id;

    // Last: from now on every signed-in user has to accept it before anything else.
    let policy = [("name", "Fixture policy"), ("description", ""), ("content", "Be kind.")];
    created(admin.call("create_policy", &policy).await, "policy");
    let policy = ports.policies.list().await.unwrap().iter().find(|p| p.name == "Fixture policy").unwrap().id;
    let activate = [("id", policy.to_string()), ("active", "true".into())];
    let activate: Vec<(&str, &str)> = activate.iter().map(|(k, v)| (*k, v.as_str())).collect();
    created(admin.call("set_policy_active", &activate).await, "active policy");

    Fixtures {
        throwaway_user,
        spare_role,
        policy,
        failed_task,
        queued_task,
        connection_template,
        admin_id: ports_user(app, "admin").await,
        student_id: ports_user(app, "student").await,
        instructor_id: ports_user(app, "instructor").await,
        participant_role: ports.roles.by_key("participant").await.unwrap().unwrap().id,
        pupil_id: ports_user(app, "pupil").await,
        template,
        spare_template: template_id("Spare template"),
        environment: environment_id("Fixture environment"),
        spare_environment: environment_id("Spare environment"),
        instructor_environment,
        event: event_id("acc-main"),
        spare_event: event_id("acc-del"),
        deploy_event: event_id("acc-dep"),
        end_event,
        vm,
        group,
        spare_group: group_id("Spare group"),
        mail_template,
        spare_mail_template: mail_template_id("Spare mail"),
        failed_mail,
        token,
    }
}

/// A queued ping task with idempotency key `key`.
async fn task(app: &TestApp, key: &str) -> i64 {
    let job = services::jobs::Job::Ping { sleep_ms: 0, node: None };
    let by = services::jobs::Requester::system(Some(key.into()));
    app.system.services.enqueue(&job, by).await.unwrap().unwrap()
}

async fn ports_user(app: &TestApp, username: &str) -> i64 {
    app.system.db.ports(None).users.by_username(username).await.unwrap().unwrap().id
}

/// Plausible arguments: aimed at the fixtures (or at objects that harmlessly
/// don't exist), so an allowed call reaches the use case.
fn args(name: &str, caller: &str, f: &Fixtures) -> Vec<(String, String)> {
    let (admin_id, student_id, participant_role) = (f.admin_id, f.student_id, f.participant_role);
    let event = f.event.to_string();
    let pairs: Vec<(&str, String)> = match name {
        "login" => vec![("username", "nobody".into()), ("password", "wrong".into())],
        "update_own_profile" => vec![
            ("name", format!("Name {caller}")),
            ("email", format!("{caller}@example.org")),
            ("language", "en".into()),
        ],
        "change_own_password" => vec![
            ("current_password", common::PASSWORD.into()),
            ("new_password", "Another-Horse-77".into()),
            ("confirm_password", "Another-Horse-77".into()),
        ],
        "list_users" => vec![],
        "get_user" | "controls_for_account" | "update_user" => vec![
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
        "set_user_password" => vec![("id", f.pupil_id.to_string()), ("password", "Another-Horse-77".into())],
        "delete_user" => vec![("id", f.throwaway_user.to_string())],
        "delete_role" => vec![("id", f.spare_role.to_string())],
        "set_policy_active" => vec![("id", f.policy.to_string()), ("active", "false".into())],
        "accept_policy" => vec![("id", f.policy.to_string())],
        "get_task" => vec![("id", "999999".into())],
        "retry_task" => vec![("id", f.failed_task.to_string())],
        "cancel_task" => vec![("id", f.queued_task.to_string())],
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
        // Saving needs OPENVLE_SECRET_KEY (set for this test) and connects to nothing.
        "save_guacamole" => vec![
            ("guacamole_url", "http://127.0.0.1:9/guacamole/".into()),
            ("admin_username", "guacadmin".into()),
            ("admin_password", "not-a-real-password".into()),
            ("data_source", String::new()),
            ("sso_method", "none".into()),
            ("json_secret_key", String::new()),
        ],
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
        "get_template" | "get_environment" | "get_event" | "get_vm" | "vm_console" | "group_members" => {
            vec![("id", "999999".into())]
        }
        "delete_template" => vec![("id", f.spare_template.to_string())],
        "delete_environment" => vec![("id", f.spare_environment.to_string())],
        "delete_event" => vec![("id", f.spare_event.to_string())],
        "delete_group" => vec![("id", f.spare_group.to_string())],
        // Names are unique: the update names its template differently from the creation.
        "create_template" | "update_template" => vec![
            ("id", f.template.to_string()),
            ("name", format!("{name} by {caller}")),
            ("proxmox_vmid", "9000".into()),
            ("node", "pve1".into()),
            ("cores", "2".into()),
            ("memory_mib", "2048".into()),
            ("disk_gib", "8".into()),
        ],
        "import_cluster_template" => vec![("vmid", "9000".into())],
        "list_connection_templates" => vec![("template_id", "999999".into())],
        "create_connection_template" => {
            vec![
                ("template_id", f.template.to_string()),
                ("protocol", "rdp".into()),
                ("conn_username", "student".into()),
            ]
        }
        // Only the administrator may change the template's connections: the others aim at nothing.
        "delete_connection_template" => {
            let id = if caller == "admin" { f.connection_template.to_string() } else { "999999".into() };
            vec![("id", id), ("confirm", "on".into())]
        }
        "vm_connections" => vec![("vm_id", "999999".into())],
        "create_environment" | "update_environment" => vec![
            ("id", f.environment.to_string()),
            ("name", format!("{name} by {caller}")),
            ("template_ids[]", f.template.to_string()),
            ("counts[]", "1".into()),
        ],
        // A new short name per caller; the update keeps the event's own.
        "create_event" | "update_event" => vec![
            ("id", event.clone()),
            ("name", format!("{name} by {caller}")),
            ("short_name", if name == "create_event" { format!("new-{}", &caller[..3]) } else { "acc-main".into() }),
            ("environment_id", f.instructor_environment.to_string()),
            ("starts_at", "2030-01-01T09:00".into()),
        ],
        "list_participants" | "event_vms" | "event_overlaps" | "event_drift" => vec![("event_id", "999999".into())],
        "add_participants" => {
            vec![("event_id", event.clone()), ("usernames", "pupil".into()), ("role", "student".into())]
        }
        "create_participant" => vec![
            ("event_id", event.clone()),
            ("username", format!("p-by-{caller}")),
            ("name", "P".into()),
            ("email", format!("p-by-{caller}@example.org")),
            ("role", "student".into()),
        ],
        "remove_participant" => vec![("event_id", event.clone()), ("user_id", f.pupil_id.to_string())],
        "set_event_admin" => {
            vec![("event_id", event.clone()), ("user_id", f.instructor_id.to_string()), ("admin", "true".into())]
        }
        "add_group_to_event" => {
            vec![("event_id", event.clone()), ("group_id", f.group.to_string()), ("role", "student".into())]
        }
        "preview_roster" | "import_roster" => {
            vec![("event_id", event.clone()), ("csv", "zed,Zed,zed@example.org,student".into())]
        }
        "create_group" => vec![("name", format!("Group by {caller}"))],
        "add_group_member" => vec![("id", f.group.to_string()), ("username", "student".into())],
        "remove_group_member" => vec![("id", f.group.to_string()), ("user_id", student_id.to_string())],
        "get_mail_template" | "get_sent_mail" => vec![("id", "999999".into())],
        "delete_mail_template" => vec![("id", f.spare_mail_template.to_string())],
        "send_template_test" => vec![("id", f.mail_template.to_string())],
        "resend_mail" => vec![("id", f.failed_mail.to_string())],
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
        "set_password_with_token" => vec![
            ("token", f.token.clone()),
            ("password", "Another-Horse-77".into()),
            ("confirm_password", "Another-Horse-77".into()),
        ],
        // Deployment (issue 5). Resetting to the template is queued: no cluster needed.
        "deploy_event" => vec![("id", f.deploy_event.to_string()), ("confirm", "on".into())],
        "end_event" => vec![("id", f.end_event.to_string()), ("confirm", "on".into())],
        // Not failed here: the check runs, the move does not.
        "return_to_planning" => vec![("id", f.deploy_event.to_string())],
        "vm_action" => {
            vec![("id", f.vm.to_string()), ("action", "reset_to_template".into()), ("confirm", "on".into())]
        }
        // Tags and catalogue (issue 5).
        "list_catalogue" => vec![("kind", "vendors".into())],
        "get_catalogue_item" | "delete_catalogue_item" => vec![("kind", "vendors".into()), ("id", "999999".into())],
        "create_catalogue_item" | "update_catalogue_item" => {
            vec![("kind", "vendors".into()), ("id", "999999".into()), ("name", format!("Vendor by {caller}"))]
        }
        "object_catalogue" | "set_catalogue_links" | "list_tags" | "tags_of" => {
            vec![("object", "vms".into()), ("id", "999999".into()), ("ids[]", "999999".into())]
        }
        "add_tag" | "remove_tag" => vec![
            ("object", "vms".into()),
            ("id", "999999".into()),
            ("name", "course".into()),
            ("tag_id", "999999".into()),
        ],
        // Dashboard (issue 5).
        "save_notification" => vec![("message", format!("Maintenance by {caller}")), ("severity", "info".into())],
        "save_quick_link" => vec![("title", format!("Wiki of {caller}")), ("url", "https://wiki.example.org".into())],
        "delete_notification" | "delete_quick_link" => vec![("id", "999999".into()), ("confirm", "on".into())],
        "set_own_time_zone" => vec![("time_zone", "Europe/Berlin".into())],
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
    "controls_for_account",
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
    "health_report",
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
    "list_catalogue",
    "get_catalogue_item",
    "object_catalogue",
    "list_tags",
    "tags_of",
    "dashboard",
    "active_notifications",
    "list_notifications",
    "list_quick_links",
    "own_time_zone",
    "event_overlaps",
    "event_drift",
    "guacamole_settings",
    "test_guacamole",
    "list_connection_templates",
    "vm_connections",
];
/// State-changing functions whose matrix arguments cannot succeed here: the
/// test (`path from the workspace::function`) that proves their activity
/// instead, and the action that test asserts (checked below, so the list
/// cannot point at nothing).
const PROVEN_ELSEWHERE: &[(&str, &str, &str)] = &[
    // Needs a failed deployment, and the cluster to confirm nothing reached it.
    (
        "return_to_planning",
        "server/tests/deployment.rs::events_deploy_run_power_actions_and_end_without_leftovers",
        "event.return_to_planning",
    ),
    // Needs the Proxmox VE simulator.
    (
        "import_cluster_template",
        "server/tests/classroom.rs::templates_are_imported_seeded_and_synchronised_from_the_cluster",
        "template.create",
    ),
    // Needs a mail server.
    (
        "send_test_mail",
        "server/tests/mail.rs::test_mail_to_me_shows_the_servers_answer_and_the_pages_render",
        "mail.test_send",
    ),
    // Tags and catalogue (issue 5): their matrix arguments aim at objects that do not exist.
    (
        "update_catalogue_item",
        "store/tests/catalogue.rs::catalogue_names_are_unique_and_used_entries_stay",
        "vendor.update",
    ),
    (
        "delete_catalogue_item",
        "store/tests/catalogue.rs::catalogue_names_are_unique_and_used_entries_stay",
        "vendor.delete",
    ),
    (
        "set_catalogue_links",
        "store/tests/catalogue.rs::catalogue_names_are_unique_and_used_entries_stay",
        "catalogue.link",
    ),
    ("add_tag", "store/tests/catalogue.rs::tags_filter_lists_and_go_with_their_object", "tag.add"),
    ("remove_tag", "store/tests/catalogue.rs::tags_filter_lists_and_go_with_their_object", "tag.remove"),
    // Dashboard (issue 5): they aim at rows that do not exist here.
    (
        "delete_notification",
        "server/tests/dashboard.rs::notifications_show_while_active_and_every_change_is_recorded",
        "notification.delete",
    ),
    (
        "delete_quick_link",
        "server/tests/dashboard.rs::quick_links_are_http_only_ordered_and_on_everyones_dashboard",
        "quick_link.delete",
    ),
];

/// The body of test function `name` in `file` (from the workspace root), if it exists.
fn test_body(file: &str, name: &str) -> Option<String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(file);
    let text = std::fs::read_to_string(path).ok()?;
    let start = text.find(&format!("fn {name}("))?;
    let rest = &text[start..];
    // Test functions are top-level: their body ends at the first `}` that starts a line.
    let end = rest.find("\n}").map_or(rest.len(), |e| e + 2);
    Some(rest[..end].to_string())
}

#[test]
fn tests_named_as_proof_exist_and_assert_the_action() {
    for (function, proof, action) in PROVEN_ELSEWHERE {
        let (file, name) =
            proof.split_once("::").unwrap_or_else(|| panic!("{function}: {proof} is not file::function"));
        let body = test_body(file, name).unwrap_or_else(|| panic!("{function}: no fn {name} in {file}"));
        assert!(body.contains(&format!("\"{action}\"")), "{function}: {proof} does not assert {action:?}");
    }
}

/// Activities recorded so far (nothing forwards them in the test app: they wait in the outbox).
async fn activity_count(app: &TestApp) -> u64 {
    app.system.services.ports().outbox.backlog().await.expect("outbox backlog").waiting
}

/// What is wrong with the activity recorded after the first `before`, if
/// anything: it names an action (`area.verb`) and a target type, and its actor
/// is the caller. Sign-in and the password links act for the account they name.
async fn wrong_activity(app: &TestApp, before: u64, name: &str, caller_id: Option<i64>) -> Option<String> {
    let upto = u32::try_from(before + 1).expect("a test-sized outbox");
    let waiting = app.system.services.ports().outbox.oldest(upto).await.expect("outbox");
    let (_, activity) = waiting.last()?;
    let for_named_account = ["login", "request_password_reset", "set_password_with_token"].contains(&name);
    let actor_ok = activity.actor_kind == ActorKind::User
        && if for_named_account { !activity.actor_name.is_empty() } else { activity.actor_id == caller_id };
    let action_ok = activity.action.split_once('.').is_some_and(|(area, verb)| !area.is_empty() && !verb.is_empty());
    (!actor_ok || !action_ok || activity.target.kind.is_empty()).then(|| {
        format!(
            "activity {} by {:?} ({:?}) on {:?}",
            activity.action, activity.actor_name, activity.actor_id, activity.target.kind
        )
    })
}

async fn client_for(app: &TestApp, caller: &str) -> Client {
    if caller == "anonymous" { app.client() } else { app.signed_in(caller).await }
}

#[tokio::test]
async fn every_server_function_checks_its_caller() {
    // With a secret key, so settings with secrets (the cluster connection, Guacamole's) can be
    // saved here and their saves record their activity.
    let app = TestApp::start_with(Backend::Sqlite, &[("OPENVLE_SECRET_KEY", SECRET_KEY)]).await;
    let fixtures = fixtures(&app).await;

    let names = common::all_server_fns();
    assert!(names.len() >= 25, "expected every server function to be registered, got {names:?}");
    let mut exercised = std::collections::BTreeSet::new();
    // Calls that recorded the wrong number of activities, or a wrong one (all
    // reported at once): a successful change records one, a refused call none.
    let mut miscounted = Vec::new();
    for (index, caller) in CALLERS.iter().enumerate() {
        let client = client_for(&app, caller).await;
        let caller_id = match *caller {
            "admin" => Some(fixtures.admin_id),
            "instructor" => Some(fixtures.instructor_id),
            "student" => Some(fixtures.student_id),
            _ => None,
        };
        // Accepting the active policy first: until then nothing else is allowed.
        // Sign-out last: it ends the session the other calls use.
        let (first, last) = (["accept_policy"], ["logout"]);
        let ordered = names
            .iter()
            .filter(|n| first.contains(&n.as_str()))
            .chain(names.iter().filter(|n| !first.contains(&n.as_str()) && !last.contains(&n.as_str())))
            .chain(names.iter().filter(|n| last.contains(&n.as_str())));
        for name in ordered {
            let expected = allowed(name)[index];
            let form = args(name, caller, &fixtures);
            let borrowed: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let before = activity_count(&app).await;
            let reply = client.call(name, &borrowed).await;
            let succeeded = reply.status < 400 && reply.error().is_none();
            let recorded = activity_count(&app).await.saturating_sub(before);
            // A refused sign-in is a state change too (`user.login_failed`).
            let expected_activities = u64::from(!READ_ONLY.contains(&name.as_str()) && (succeeded || name == "login"));
            if recorded != expected_activities {
                miscounted.push(format!("{caller} -> {name}: {recorded} activities, {}", reply.body));
            } else if recorded == 1
                && let Some(problem) = wrong_activity(&app, before, name, caller_id).await
            {
                miscounted.push(format!("{caller} -> {name}: {problem}"));
            }
            if expected_activities == 1 {
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
    assert!(miscounted.is_empty(), "not exactly one activity per change and none per refusal: {miscounted:#?}");
    let unproven: Vec<&String> = names
        .iter()
        .filter(|n| !READ_ONLY.contains(&n.as_str()))
        .filter(|n| !PROVEN_ELSEWHERE.iter().any(|(name, _, _)| name == n))
        .filter(|n| !exercised.contains(*n))
        .collect();
    assert!(unproven.is_empty(), "state-changing server functions never succeeded here: {unproven:?}");
}
