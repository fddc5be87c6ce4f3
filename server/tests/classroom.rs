//! The classroom over HTTP: templates and their connection templates
//! (password never shown back, recreated rather than edited), environments, events with bad input, roster import (preview, all or
//! nothing, idempotent), and who sees which VM — including a participant
//! guessing another participant's VM id.

mod common;

use common::{Backend, Client, TestApp, json, ok, refused};
use domain::classroom::{EventStatus, VmState};
use serde_json::Value;
use services::classroom::ports::{NewVm, VmUpdate};

const KEY: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

async fn call_event(client: &Client, v: Vec<(&'static str, String)>) -> common::Reply {
    let form: Vec<(&str, &str)> = v.iter().map(|(k, v)| (*k, v.as_str())).collect();
    client.call("create_event", &form).await
}

fn template_form(name: &str) -> Vec<(&str, &str)> {
    vec![
        ("name", name),
        ("description", "**Kali** for the lab"),
        ("operating_system", "Kali Linux"),
        ("proxmox_vmid", "9000"),
        ("node", "pve1"),
        ("cores", "2"),
        ("memory_mib", "2048"),
        ("disk_gib", "32"),
        ("linked_clone", "true"),
        ("console", "builtin"),
    ]
}

#[tokio::test]
async fn templates_environments_events_and_rosters() {
    let app = TestApp::start_with(Backend::Sqlite, &[("OPENVLE_SECRET_KEY", KEY)]).await;
    let admin = app.signed_in("admin").await;
    let instructor = app.signed_in("instructor").await;
    let student = app.signed_in("student").await;

    // Templates: admins manage them.
    ok(&admin, "create_template", &template_form("Kali")).await;
    let templates = json(&instructor, "list_templates", &[]).await;
    let kali = &templates[0];
    assert_eq!(kali["console"], "builtin");
    let kali_id = kali["id"].as_i64().unwrap().to_string();

    // Connection templates: the password is stored sealed and never returned;
    // there is no edit, only delete (confirmed) and create.
    let ssh = [
        ("template_id", kali_id.as_str()),
        ("protocol", "ssh"),
        ("port", ""),
        ("conn_username", "kali"),
        ("conn_password", "s3cret-Pass"),
    ];
    ok(&admin, "create_connection_template", &ssh).await;
    let listed = json(&instructor, "list_connection_templates", &[("template_id", &kali_id)]).await;
    assert_eq!((listed[0]["port"].as_u64(), listed[0]["password_set"].as_bool()), (Some(22), Some(true)));
    assert_eq!(listed[0]["binding"]["template"].as_i64(), kali["id"].as_i64());
    assert!(!listed.to_string().contains("s3cret"), "password leaked: {listed}");
    let duplicate = refused(&admin, "create_connection_template", &ssh).await;
    assert_eq!(duplicate, ("conflict".into(), "connection_template_duplicate".into()));
    let mut bad_port = ssh.to_vec();
    bad_port[2] = ("port", "70000");
    assert_eq!(refused(&admin, "create_connection_template", &bad_port).await, ("invalid".into(), "port".into()));
    let mut telnet = ssh.to_vec();
    telnet[1] = ("protocol", "telnet");
    assert_eq!(refused(&admin, "create_connection_template", &telnet).await, ("invalid".into(), "protocol".into()));
    assert_eq!(refused(&instructor, "create_connection_template", &ssh).await.0, "forbidden");
    let rdp = [("template_id", kali_id.as_str()), ("protocol", "rdp"), ("rdp_security", "nla"), ("ignore_cert", "on")];
    ok(&admin, "create_connection_template", &rdp).await;
    let listed = json(&admin, "list_connection_templates", &[("template_id", &kali_id)]).await;
    let rdp_id = listed[1]["id"].as_i64().unwrap().to_string();
    assert_eq!((listed[1]["port"].as_u64(), listed[1]["rdp_security"].as_str()), (Some(3389), Some("nla")));
    let unconfirmed = refused(&admin, "delete_connection_template", &[("id", &rdp_id)]).await;
    assert_eq!(unconfirmed, ("invalid".into(), "confirm".into()));
    assert_eq!(
        refused(&instructor, "delete_connection_template", &[("id", &rdp_id), ("confirm", "on")]).await.0,
        "forbidden"
    );
    ok(&admin, "delete_connection_template", &[("id", &rdp_id), ("confirm", "on")]).await;
    assert_eq!(
        json(&admin, "list_connection_templates", &[("template_id", &kali_id)]).await.as_array().unwrap().len(),
        1
    );

    assert_eq!(refused(&admin, "create_template", &template_form("Kali")).await, ("invalid".into(), "name".into()));
    let mut bad = template_form("Bad");
    bad[3] = ("proxmox_vmid", "12");
    assert_eq!(refused(&admin, "create_template", &bad).await, ("invalid".into(), "proxmox_vmid".into()));
    assert_eq!(refused(&instructor, "create_template", &template_form("Mine")).await.0, "forbidden");
    let mut edit = template_form("Kali");
    edit[9] = ("console", "guacamole");
    edit.push(("id", &kali_id));
    ok(&admin, "update_template", &edit).await;
    let kali = json(&admin, "get_template", &[("id", &kali_id)]).await;
    assert_eq!(kali["console"], "guacamole");
    edit[9] = ("console", "telnet");
    assert_eq!(refused(&admin, "update_template", &edit).await, ("invalid".into(), "console".into()));

    // Environments: instructors create them with counts per template.
    ok(&instructor, "create_environment", &[("name", "Linux lab"), ("template_ids[]", &kali_id), ("counts[]", "2")])
        .await;
    let envs = json(&instructor, "list_environments", &[]).await;
    assert_eq!(envs[0]["templates"][0]["count"].as_u64(), Some(2));
    let env_id = envs[0]["id"].as_i64().unwrap().to_string();
    assert_eq!(
        refused(&admin, "delete_template", &[("id", &kali_id)]).await,
        ("conflict".into(), "template_in_use".into())
    );
    assert_eq!(refused(&student, "list_environments", &[]).await.0, "forbidden");

    // Events: bad input gets specific answers.
    let event = |short: &'static str, env: &str, start: &'static str, end: &'static str| {
        vec![
            ("name", "Linux basics".to_string()),
            ("short_name", short.to_string()),
            ("environment_id", env.to_string()),
            ("starts_at", start.to_string()),
            ("ends_at", end.to_string()),
        ]
    };
    let borrow = |v: &Vec<(&'static str, String)>| v.iter().map(|(k, v)| (*k, v.clone())).collect::<Vec<_>>();
    let inverted = call_event(&instructor, event("lin1", &env_id, "2030-03-02T09:00", "2030-03-01T09:00")).await;
    assert!(inverted.body.contains("ends_at") && inverted.body.contains("after_start"), "{}", inverted.body);
    let no_env = call_event(&instructor, event("lin1", "", "2030-03-01T09:00", "")).await;
    assert!(no_env.body.contains("environment_id") && no_env.body.contains("required"), "{}", no_env.body);
    let unknown_env = call_event(&instructor, event("lin1", "424242", "2030-03-01T09:00", "")).await;
    assert!(
        unknown_env.body.contains("environment_id") && unknown_env.body.contains("unknown"),
        "{}",
        unknown_env.body
    );
    let bad_short = call_event(&instructor, event("Lin 1", &env_id, "2030-03-01T09:00", "")).await;
    assert!(bad_short.body.contains("short_name"), "{}", bad_short.body);
    let created = call_event(&instructor, event("lin1", &env_id, "2030-03-01T09:00", "2030-03-01T17:00")).await;
    assert!(created.error().is_none(), "{}", created.body);
    let duplicate = call_event(&admin, event("lin1", &env_id, "2030-04-01T09:00", "")).await;
    assert!(duplicate.body.contains("short_name") && duplicate.body.contains("taken"), "{}", duplicate.body);

    let planned = json(&instructor, "list_events", &[("tab", "planned")]).await;
    let ev = &planned["items"][0];
    assert_eq!((ev["short_name"].as_str(), ev["my_role"].as_str()), (Some("lin1"), Some("instructor")));
    assert_eq!(ev["starts_at"].as_i64(), Some(1_898_586_000_000), "2030-03-01 09:00 UTC");
    let event_id = ev["id"].as_i64().unwrap().to_string();
    // The student takes part in nothing yet: no list entry, and the event is "not found".
    assert_eq!(json(&student, "list_events", &[("tab", "planned")]).await["total"].as_u64(), Some(0));
    assert_eq!(refused(&student, "get_event", &[("id", &event_id)]).await.0, "not_found");

    // Roster: preview shows per-line errors, an import with errors changes nothing.
    let bad_roster = "username,name,email,role\nann,Ann,ann@example.org,student\nbo,Bo,not-mail,student\n";
    let preview = json(&instructor, "preview_roster", &[("event_id", &event_id), ("csv", bad_roster)]).await;
    assert_eq!(preview["rows"].as_array().unwrap().len(), 1);
    assert_eq!(preview["errors"][0]["line"].as_u64(), Some(3));
    assert_eq!(
        refused(&instructor, "import_roster", &[("event_id", &event_id), ("csv", bad_roster)]).await,
        ("conflict".into(), "roster_has_errors".into())
    );
    assert!(app.system.db.ports(None).users.by_username("ann").await.unwrap().is_none(), "nothing half-imported");
    // The wording: a repeated username names the line it is first on, an
    // unknown role says which are known.
    let mixed =
        "ann,Ann,ann@example.org,student\nann,Ann again,ann2@example.org,student\ncy,Cy,cy@example.org,teacher\n";
    let preview = json(&instructor, "preview_roster", &[("event_id", &event_id), ("csv", mixed)]).await;
    let problems: Vec<(u64, &str, &str)> = preview["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["line"].as_u64().unwrap(),
                e["error"]["field"].as_str().unwrap(),
                e["error"]["problem"]["kind"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(problems, vec![(2, "username", "repeated"), (3, "event_role", "format")], "{preview}");
    assert_eq!(preview["errors"][0]["error"]["problem"]["line"].as_u64(), Some(1));
    // Checked from a plain form (no JavaScript), the answer is the roster
    // page that shows the check; the hydrated page posts and gets JSON, so
    // the roster stays out of its address.
    let plain = instructor.form("preview_roster", &[("event_id", &event_id), ("csv", bad_roster)], "/").await;
    let location = plain.location.as_deref().unwrap_or_default();
    assert!(location.starts_with(&format!("/events/{event_id}/roster?csv=")), "{location}");
    let page = instructor.get(location).await;
    assert!(page.body.contains("data-testid=\"roster-errors\"") && page.body.contains("not-mail"), "{}", page.body);

    // Usernames without an account are all named in one answer, and nobody
    // on the list is added (not even the one that exists).
    let typos = [("event_id", event_id.as_str()), ("usernames", "nosuch, student\nghost"), ("role", "student")];
    let reply = instructor.call("add_participants", &typos).await;
    assert_eq!(reply.status, 422, "{}", reply.body);
    let answer: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(answer["field"], "usernames", "{answer}");
    assert_eq!(answer["problem"], serde_json::json!({ "kind": "no_such_accounts", "usernames": ["nosuch", "ghost"] }));
    let participants = json(&instructor, "list_participants", &[("event_id", &event_id)]).await;
    assert_eq!(participants.as_array().unwrap().len(), 1, "only the instructor: {participants}");

    let roster = "ann,Ann A,ann@example.org,student\nbo,Bo B,bo@example.org,student\nstudent,Existing,student@example.org,student\n";
    let preview = json(&instructor, "preview_roster", &[("event_id", &event_id), ("csv", roster)]).await;
    let existing: Vec<bool> =
        preview["rows"].as_array().unwrap().iter().map(|r| r["existing"].as_bool().unwrap()).collect();
    assert_eq!(existing, vec![false, false, true]);
    ok(&instructor, "import_roster", &[("event_id", &event_id), ("csv", roster)]).await;
    ok(&instructor, "import_roster", &[("event_id", &event_id), ("csv", roster)]).await;
    let participants = json(&instructor, "list_participants", &[("event_id", &event_id)]).await;
    let names: Vec<&str> = participants.as_array().unwrap().iter().map(|p| p["username"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["instructor", "ann", "bo", "student"], "re-import adds nobody twice");

    // A user group joins an event as the members it has at that moment.
    ok(&instructor, "create_group", &[("name", "Lab group")]).await;
    let groups = json(&instructor, "list_groups", &[]).await;
    let group = groups.as_array().unwrap().iter().find(|g| g["name"] == "Lab group").unwrap()["id"].to_string();
    for member in ["ann", "bo", "student"] {
        ok(&instructor, "add_group_member", &[("id", &group), ("username", member)]).await;
    }
    let members = json(&instructor, "group_members", &[("id", &group)]).await;
    let bo_id = members.as_array().unwrap().iter().find(|m| m[1] == "bo").unwrap()[0].to_string();
    ok(&instructor, "remove_group_member", &[("id", &group), ("user_id", &bo_id)]).await;
    ok(
        &instructor,
        "create_event",
        &borrow(&event("grp1", &env_id, "2030-05-01T09:00", ""))
            .iter()
            .map(|(k, v)| (*k, v.as_str()))
            .collect::<Vec<_>>(),
    )
    .await;
    let grp_event = json(&instructor, "list_events", &[("tab", "planned")]).await["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["short_name"] == "grp1")
        .unwrap()["id"]
        .to_string();
    ok(&instructor, "add_group_to_event", &[("event_id", &grp_event), ("group_id", &group), ("role", "student")]).await;
    // Joining the group later does not make one a participant.
    ok(&instructor, "add_group_member", &[("id", &group), ("username", "bo")]).await;
    let participants = json(&instructor, "list_participants", &[("event_id", &grp_event)]).await;
    let mut joined: Vec<(&str, &str)> = participants
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["username"].as_str().unwrap(), p["role"].as_str().unwrap()))
        .collect();
    joined.sort_unstable();
    assert_eq!(joined, vec![("ann", "student"), ("instructor", "instructor"), ("student", "student")]);
    let added = app.activities("event.group_add").await;
    assert_eq!(added.len(), 1, "{added:?}");

    // A student of the event reads it but cannot change it.
    assert_eq!(json(&student, "get_event", &[("id", &event_id)]).await["my_role"].as_str(), Some("student"));
    assert_eq!(
        refused(&student, "add_participants", &[("event_id", &event_id), ("usernames", "ann"), ("role", "instructor")])
            .await
            .0,
        "forbidden"
    );

    // Environment edits reach the planned event; after deployment begins, its snapshot stays.
    let services = &app.system.services;
    let id: i64 = event_id.parse().unwrap();
    assert!(services.move_event(id, EventStatus::Planned, EventStatus::Deploying, None).await.unwrap());
    ok(
        &instructor,
        "update_environment",
        &[("id", &env_id), ("name", "Linux lab"), ("template_ids[]", &kali_id), ("counts[]", "5")],
    )
    .await;
    let plan = services.deployment_plan(id).await.unwrap();
    assert_eq!(plan.templates[0].count, 2, "the snapshot keeps the count it was deployed with");
    assert_eq!(plan.vms.len(), 4 * 2);
    assert!(services.move_event(id, EventStatus::Deploying, EventStatus::Finished, None).await.is_err());
    assert_eq!(
        refused(&instructor, "delete_event", &[("id", &event_id)]).await,
        ("conflict".into(), "event_has_vms".into())
    );
    let mut edit: Vec<(&str, String)> = borrow(&event("lin1", &env_id, "2030-03-01T10:00", ""));
    edit.push(("id", event_id.clone()));
    let form: Vec<(&str, &str)> = edit.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(refused(&instructor, "update_event", &form).await, ("conflict".into(), "event_not_planned".into()));

    // The provisioning engine records the VMs; each participant sees only their own.
    let new: Vec<NewVm> = plan
        .vms
        .iter()
        .map(|p| NewVm {
            event_id: id,
            owner_id: p.owner_id,
            template_id: p.template_id,
            ordinal: p.ordinal,
            name: format!("lin1-{}-kali-{}", p.username, p.ordinal),
        })
        .collect();
    let recorded = services.record_planned_vms(id, &new).await.unwrap();
    assert_eq!(services.record_planned_vms(id, &new).await.unwrap().len(), 8, "planning twice records nothing twice");
    for (n, vm) in recorded.iter().enumerate() {
        let update = VmUpdate {
            vmid: Some(200 + u32::try_from(n).unwrap()),
            node: Some("pve1".into()),
            state: VmState::Running,
            ip: Some(format!("10.0.0.{}", n + 10)),
            last_error: None,
        };
        services.record_vm_state(vm.id, &update).await.unwrap();
    }
    let own = recorded.iter().find(|v| v.owner_username == "student").unwrap();
    let anns = recorded.iter().find(|v| v.owner_username == "ann").unwrap();
    let got = json(&student, "get_vm", &[("id", &own.id.to_string())]).await;
    assert!(got["ip"].as_str().is_some_and(|ip| ip.starts_with("10.0.0.")), "{got}");
    assert_eq!(got["state"].as_str(), Some("running"));
    assert_eq!((got["cores"].as_u64(), got["memory_mib"].as_u64()), (Some(2), Some(2048)), "from the snapshot");
    // Guessing a classmate's VM id reveals nothing.
    assert_eq!(refused(&student, "get_vm", &[("id", &anns.id.to_string())]).await.0, "not_found");
    let listed = json(&student, "list_vms", &[]).await;
    assert_eq!(listed["total"].as_u64(), Some(2));
    assert!(listed["items"].as_array().unwrap().iter().all(|v| v["owner_username"] == "student"));
    assert_eq!(json(&student, "event_vms", &[("event_id", &event_id)]).await.as_array().unwrap().len(), 2);
    assert_eq!(json(&instructor, "event_vms", &[("event_id", &event_id)]).await.as_array().unwrap().len(), 8);
    assert_eq!(json(&instructor, "get_vm", &[("id", &anns.id.to_string())]).await["owner_username"], "ann");
    assert_eq!(json(&admin, "list_vms", &[("user", "ann")]).await["total"].as_u64(), Some(2));
    assert_eq!(json(&admin, "list_vms", &[("state", "running"), ("node", "pve1")]).await["total"].as_u64(), Some(8));
    assert_eq!(json(&admin, "list_vms", &[("state", "failed")]).await["total"].as_u64(), Some(0));

    // The student's home groups their VMs by event.
    let mine = json(&student, "my_vms", &[]).await;
    let starts: Vec<&str> =
        mine.as_array().unwrap().iter().map(|e| e["event"]["short_name"].as_str().unwrap()).collect();
    assert_eq!(starts, ["lin1", "grp1"], "soonest first (the student joined grp1 with the group)");
    assert_eq!(mine[0]["vms"].as_array().unwrap().len(), 2);
    assert_eq!(mine[0]["note"].as_str(), Some("preparing"), "deploying: not ready yet");

    // Once the event has ended, the student is told the VMs are going.
    assert!(services.move_event(id, EventStatus::Deploying, EventStatus::Running, None).await.unwrap());
    assert_eq!(json(&student, "my_vms", &[]).await[0]["note"], Value::Null, "running: nothing to say");
    assert!(services.move_event(id, EventStatus::Running, EventStatus::Ending, None).await.unwrap());
    assert_eq!(json(&student, "my_vms", &[]).await[0]["note"].as_str(), Some("ended"));
    let home = student.get("/").await;
    assert!(home.body.contains("This event has ended; its VMs are being removed."), "the note on My VMs");

    // The engine deleted one of the student's VMs on the cluster.
    services.forget_vm(own.id).await.unwrap();
    assert_eq!(json(&student, "list_vms", &[]).await["total"].as_u64(), Some(1));
    assert_eq!(refused(&student, "get_vm", &[("id", &own.id.to_string())]).await.0, "not_found");
}

/// Import from the cluster, the demo's seed, and the periodic sync against the
/// Proxmox VE simulator: resources copied, a template whose VM is gone marked.
#[tokio::test]
async fn templates_are_imported_seeded_and_synchronised_from_the_cluster() {
    use sim::proxmox::{DEMO_TOKEN_NAME, DEMO_TOKEN_SECRET, DEMO_USER, SimConfig, Simulator};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sim = Simulator::new(SimConfig::demo()).unwrap().start(listener).unwrap();
    let app = TestApp::start_with(Backend::Sqlite, &[("OPENVLE_SECRET_KEY", KEY)]).await;
    let admin = app.signed_in("admin").await;
    let token_id = format!("{DEMO_USER}!{DEMO_TOKEN_NAME}");
    let url = sim.base_url();
    let form = [
        ("url", url.as_str()),
        ("token_id", token_id.as_str()),
        ("secret", DEMO_TOKEN_SECRET),
        ("fingerprint", ""),
        ("verify_tls", "true"),
        ("pool", ""),
    ];
    ok(&admin, "save_connection", &form).await;

    // Importing one template VM: one activity by the administrator, named after it.
    let cluster = json(&admin, "cluster_templates", &[]).await;
    let vmid = cluster[0]["vmid"].as_u64().unwrap().to_string();
    ok(&admin, "import_cluster_template", &[("vmid", &vmid)]).await;
    let imported = json(&admin, "list_templates", &[]).await;
    let imported_id = imported[0]["id"].as_i64().unwrap();
    // Proxmox's guest OS kind (the simulator's templates say `l26` or `win11`) starts the OS text.
    let os = imported[0]["operating_system"].as_str().unwrap();
    assert!(["Linux 2.6 - 6.X Kernel", "Microsoft Windows 11/2022/2025"].contains(&os), "{imported}");
    let recorded = app.activities("template.create").await;
    assert_eq!(recorded.len(), 1, "{recorded:?}");
    assert_eq!((recorded[0].actor_name.as_str(), recorded[0].outcome), ("admin", domain::activity::Outcome::Ok));
    assert_eq!(
        recorded[0].target,
        domain::activity::ActivityTarget::new("templates", imported_id, cluster[0]["name"].as_str().unwrap())
    );
    ok(&admin, "delete_template", &[("id", &imported_id.to_string())]).await;

    let services = &app.system.services;
    services.seed_demo_classroom().await.unwrap();
    let seeded = json(&admin, "list_templates", &[]).await;
    assert_eq!(seeded.as_array().unwrap().len(), cluster.as_array().unwrap().len());
    let envs = json(&admin, "list_environments", &[]).await;
    assert_eq!(envs[0]["name"], "Demo lab");
    assert_eq!(envs[0]["templates"].as_array().unwrap().len(), seeded.as_array().unwrap().len());
    services.seed_demo_classroom().await.unwrap();
    assert_eq!(json(&admin, "list_templates", &[]).await, seeded, "seeding twice adds nothing");

    // Importing a template VM that is already a template: its name is taken.
    assert_eq!(refused(&admin, "import_cluster_template", &[("vmid", &vmid)]).await, ("invalid".into(), "name".into()));
    assert_eq!(
        refused(&admin, "import_cluster_template", &[("vmid", "4242")]).await,
        ("invalid".into(), "vmid".into())
    );

    let mut gone = template_form("Gone");
    gone[3] = ("proxmox_vmid", "4242");
    ok(&admin, "create_template", &gone).await;
    assert_eq!(services.sync_templates().await.unwrap(), (cluster.as_array().unwrap().len() as u32, 1));
    let synced = json(&admin, "list_templates", &[]).await;
    for t in synced.as_array().unwrap() {
        let expected = t["name"] != "Gone";
        assert_eq!(t["on_cluster"].as_bool(), Some(expected), "{t}");
        assert!(t["synced_at"].is_i64());
    }
    let first = synced.as_array().unwrap().iter().find(|t| t["proxmox_vmid"] == cluster[0]["vmid"]).unwrap();
    assert_eq!(first["node"], cluster[0]["node"]);
    assert_eq!(first["cores"], cluster[0]["cores"]);
}
