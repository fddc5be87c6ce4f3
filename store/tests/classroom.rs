//! The classroom repositories (templates, environments, events, participants,
//! groups, VMs), run against SQLite and MariaDB alike.

mod common;

use domain::classroom::{
    ConnectionBinding, Console, EventFields, EventRole, EventStatus, Protocol, RdpSecurity, RosterRow,
    VmConnectionView, VmState,
};
use domain::page::PageRequest;
use domain::time::Timestamp;
use domain::{AuthBackend, Language, UserStatus};
use services::StoreError;
use services::classroom::ports::{EventQuery, NewVm, SealedConnection, TemplateRecord, VmQuery, VmUpdate};
use services::ports::NewUser;
use store::Database;

fn template(name: &str) -> TemplateRecord {
    TemplateRecord {
        name: name.into(),
        description: "# Kali\nFor *pentesting*.".into(),
        operating_system: "Debian".into(),
        proxmox_vmid: 9000,
        node: "pve1".into(),
        cores: 2,
        memory_mib: 2048,
        disk_gib: 32,
        linked_clone: true,
        console: Console::Guacamole,
    }
}

fn ssh(password_sealed: Option<&str>) -> SealedConnection {
    SealedConnection {
        protocol: Protocol::Ssh,
        port: 22,
        username: "student".into(),
        password_sealed: password_sealed.map(str::to_string),
        rdp_security: RdpSecurity::Any,
        ignore_cert: false,
    }
}

fn rdp() -> SealedConnection {
    SealedConnection {
        protocol: Protocol::Rdp,
        port: 3389,
        username: "Administrator".into(),
        password_sealed: Some("v1:rdp".into()),
        rdp_security: RdpSecurity::Nla,
        ignore_cert: true,
    }
}

fn event(short: &str, environment_id: i64) -> EventFields {
    EventFields {
        name: format!("Event {short}"),
        short_name: short.into(),
        description: String::new(),
        environment_id,
        starts_at: Timestamp(1_000_000),
        ends_at: Some(Timestamp(2_000_000)),
    }
}

async fn user(db: &Database, username: &str) -> i64 {
    db.ports(None)
        .users
        .insert(
            NewUser {
                username: username.into(),
                name: format!("Name of {username}"),
                email: format!("{username}@example.org"),
                language: Language::En,
                status: UserStatus::Active,
                auth_backend: AuthBackend::Internal,
                password_hash: None,
                created_at: Timestamp(1),
            },
            None,
        )
        .await
        .unwrap()
}

async fn templates_round_trip_and_refuse_duplicates(db: Database) {
    let ports = db.ports(None);
    let id = ports.templates.insert(&template("Kali"), Timestamp(5), None).await.unwrap();
    let t = ports.templates.by_id(id).await.unwrap().unwrap();
    assert_eq!((t.name.as_str(), t.proxmox_vmid, t.console), ("Kali", 9000, Console::Guacamole));
    let dup = ports.templates.insert(&template("Kali"), Timestamp(5), None).await;
    assert!(matches!(dup, Err(StoreError::Duplicate(ref f)) if f == "name"), "{dup:?}");

    let edited = TemplateRecord { cores: 4, console: Console::Builtin, ..template("Kali") };
    ports.templates.update(id, &edited, Timestamp(6), None).await.unwrap();
    let t = ports.templates.by_id(id).await.unwrap().unwrap();
    assert_eq!((t.cores, t.console), (4, Console::Builtin));

    let env = ports.environments.insert("Linux lab", "", &[(id, 2)], Timestamp(7), None).await.unwrap();
    assert_eq!(ports.templates.environments_using(id).await.unwrap(), 1);
    let e = ports.environments.by_id(env).await.unwrap().unwrap();
    assert_eq!(e.templates.len(), 1);
    assert_eq!((e.templates[0].template_name.as_str(), e.templates[0].count), ("Kali", 2));
    ports.environments.update(env, "Linux lab 2", "new", &[], None).await.unwrap();
    assert_eq!(ports.templates.environments_using(id).await.unwrap(), 0);
    ports.templates.delete(id, None).await.unwrap();
    assert!(ports.templates.by_id(id).await.unwrap().is_none());
    assert!(matches!(ports.templates.delete(id, None).await, Err(StoreError::NotFound)));
    assert_eq!(ports.environments.list().await.unwrap()[0].name, "Linux lab 2");
}
on_both_dialects!(templates_round_trip_and_refuse_duplicates);

async fn short_names_are_unique_among_unfinished_events(db: Database) {
    let ports = db.ports(None);
    let env = ports.environments.insert("Env", "", &[], Timestamp(1), None).await.unwrap();
    let creator = user(&db, "teacher").await;
    let first = ports.events.insert(&event("lab1", env), creator, Timestamp(1), None).await.unwrap();
    let again = ports.events.insert(&event("lab1", env), creator, Timestamp(1), None).await;
    assert!(matches!(again, Err(StoreError::Duplicate(ref f)) if f == "short_name"), "{again:?}");

    // Walk the first event to its end: the short name is free again.
    for (from, to) in [
        (EventStatus::Planned, EventStatus::Deploying),
        (EventStatus::Deploying, EventStatus::Running),
        (EventStatus::Running, EventStatus::Decommissioning),
        (EventStatus::Decommissioning, EventStatus::Finished),
    ] {
        assert!(ports.events.set_status(first, from, to, None, None).await.unwrap(), "{from:?} -> {to:?}");
    }
    // A move from a status the event has left does nothing (another process won).
    assert!(!ports.events.set_status(first, EventStatus::Running, EventStatus::Ending, None, None).await.unwrap());
    let second = ports.events.insert(&event("lab1", env), creator, Timestamp(1), None).await.unwrap();
    assert_ne!(first, second);

    // Editing is only possible while planned.
    let renamed = EventFields { name: "Renamed".into(), ..event("lab1", env) };
    ports.events.update_planned(second, &renamed, None).await.unwrap();
    assert!(matches!(ports.events.update_planned(first, &renamed, None).await, Err(StoreError::NotFound)));

    // Failure keeps a reason; leaving failed clears it.
    assert!(
        ports
            .events
            .set_status(second, EventStatus::Planned, EventStatus::Failed, Some("no capacity"), None)
            .await
            .unwrap()
    );
    let failed = ports.events.by_id(second, creator).await.unwrap().unwrap();
    assert_eq!((failed.status, failed.failure_reason.as_deref()), (EventStatus::Failed, Some("no capacity")));
    assert!(ports.events.set_status(second, EventStatus::Failed, EventStatus::Deploying, None, None).await.unwrap());
    assert_eq!(ports.events.by_id(second, creator).await.unwrap().unwrap().failure_reason, None);
}
on_both_dialects!(short_names_are_unique_among_unfinished_events);

async fn deployment_snapshots_the_environment(db: Database) {
    let ports = db.ports(None);
    let kali = ports.templates.insert(&template("Kali"), Timestamp(1), None).await.unwrap();
    let win = ports.templates.insert(&template("Windows"), Timestamp(1), None).await.unwrap();
    let env = ports.environments.insert("Env", "", &[(kali, 1), (win, 2)], Timestamp(1), None).await.unwrap();
    let creator = user(&db, "teacher").await;
    let planned = ports.events.insert(&event("snap", env), creator, Timestamp(1), None).await.unwrap();
    assert!(ports.events.snapshot(planned).await.unwrap().is_empty());

    assert!(ports.events.begin_deployment(planned, None).await.unwrap());
    assert!(!ports.events.begin_deployment(planned, None).await.unwrap(), "only once");
    let snapshot = ports.events.snapshot(planned).await.unwrap();
    let names: Vec<_> = snapshot.iter().map(|t| (t.name.as_str(), t.count, t.console)).collect();
    assert_eq!(names, vec![("Kali", 1, Console::Guacamole), ("Windows", 2, Console::Guacamole)]);

    // Later edits of the environment and its templates do not reach the deployed event.
    ports.environments.update(env, "Env", "", &[(kali, 5)], None).await.unwrap();
    ports.templates.update(kali, &TemplateRecord { cores: 16, ..template("Kali") }, Timestamp(2), None).await.unwrap();
    ports.templates.delete(win, None).await.unwrap();
    let again = ports.events.snapshot(planned).await.unwrap();
    assert_eq!(again, snapshot);
    assert_eq!(ports.events.by_id(planned, creator).await.unwrap().unwrap().status, EventStatus::Deploying);
    // The environment is in use: its events count.
    assert_eq!(ports.environments.by_id(env).await.unwrap().unwrap().event_count, 1);
}
on_both_dialects!(deployment_snapshots_the_environment);

async fn connection_templates_are_snapshotted_and_vms_may_have_their_own(db: Database) {
    let ports = db.ports(None);
    let repo = &ports.connection_templates;
    let kali = ports.templates.insert(&template("Kali"), Timestamp(1), None).await.unwrap();
    let first = repo.insert(ConnectionBinding::Template(kali), &ssh(Some("v1:ssh")), Timestamp(2), None).await.unwrap();
    repo.insert(ConnectionBinding::Template(kali), &rdp(), Timestamp(3), None).await.unwrap();
    let listed = repo.list(ConnectionBinding::Template(kali)).await.unwrap();
    let summary: Vec<_> = listed.iter().map(|c| (c.protocol, c.port, c.password_set, c.rdp_security)).collect();
    assert_eq!(
        summary,
        vec![(Protocol::Ssh, 22, true, RdpSecurity::Any), (Protocol::Rdp, 3389, true, RdpSecurity::Nla)]
    );
    assert_eq!(repo.by_id(first).await.unwrap().unwrap().binding, ConnectionBinding::Template(kali));

    let env = ports.environments.insert("Env", "", &[(kali, 1)], Timestamp(1), None).await.unwrap();
    let owner = user(&db, "alice").await;
    let event = ports.events.insert(&event("conn", env), owner, Timestamp(1), None).await.unwrap();
    assert!(ports.events.begin_deployment(event, None).await.unwrap());
    let new = NewVm { event_id: event, owner_id: owner, template_id: kali, ordinal: 1, name: "conn-alice-kali".into() };
    let vm = ports.vms.plan(event, &[new], Timestamp(4)).await.unwrap()[0].id;
    assert_eq!(ports.vms.by_id(vm).await.unwrap().unwrap().console, Console::Guacamole);
    assert_eq!(repo.for_vm(vm).await.unwrap(), vec![ssh(Some("v1:ssh")), rdp()]);

    // Recreated on the template after the deployment: the event keeps its snapshot.
    repo.delete(first, None).await.unwrap();
    assert!(matches!(repo.delete(first, None).await, Err(StoreError::NotFound)));
    repo.insert(ConnectionBinding::Template(kali), &ssh(None), Timestamp(5), None).await.unwrap();
    assert_eq!(repo.for_vm(vm).await.unwrap(), vec![ssh(Some("v1:ssh")), rdp()]);

    // A VM's own connection template replaces its template's.
    let own = SealedConnection { port: 2222, ..ssh(None) };
    repo.insert(ConnectionBinding::Vm(vm), &own, Timestamp(6), None).await.unwrap();
    assert_eq!(repo.for_vm(vm).await.unwrap(), vec![own]);
    assert_eq!(repo.list(ConnectionBinding::Vm(vm)).await.unwrap().len(), 1);

    // What deployment made in Guacamole: replaced by name, removed by name.
    let made = VmConnectionView {
        name: "Event conn – conn-alice-kali (SSH 22)".into(),
        remote_id: Some("7".into()),
        hostname: Some("10.0.0.7".into()),
        granted: true,
        last_error: None,
        updated_at: Timestamp(7),
    };
    repo.put_vm_connection(vm, &made).await.unwrap();
    let failed = VmConnectionView { last_error: Some("down".into()), updated_at: Timestamp(8), ..made.clone() };
    repo.put_vm_connection(vm, &failed).await.unwrap();
    assert_eq!(repo.vm_connections(vm).await.unwrap(), vec![failed]);
    repo.delete_vm_connection(vm, &made.name).await.unwrap();
    assert!(repo.vm_connections(vm).await.unwrap().is_empty());
}
on_both_dialects!(connection_templates_are_snapshotted_and_vms_may_have_their_own);

async fn participants_rosters_and_lists(db: Database) {
    let ports = db.ports(None);
    let env = ports.environments.insert("Env", "", &[], Timestamp(1), None).await.unwrap();
    let teacher = user(&db, "teacher").await;
    let existing = user(&db, "alice").await;
    let id = ports.events.insert(&event("roster", env), teacher, Timestamp(1), None).await.unwrap();
    let other = ports.events.insert(&event("other", env), teacher, Timestamp(1), None).await.unwrap();
    ports.events.put_participants(id, &[(teacher, EventRole::Instructor)], None).await.unwrap();
    ports.events.set_event_admin(id, teacher, true, None).await.unwrap();

    let participant = ports.roles.by_key("participant").await.unwrap().unwrap();
    let rows = vec![
        RosterRow {
            line: 1,
            username: "alice".into(),
            name: "Alice".into(),
            email: "alice@example.org".into(),
            role: EventRole::Student,
            language: Language::En,
        },
        RosterRow {
            line: 2,
            username: "bob".into(),
            name: "Bob".into(),
            email: "bob@example.org".into(),
            role: EventRole::Student,
            language: Language::En,
        },
        RosterRow {
            line: 3,
            username: "carol".into(),
            name: "Carol".into(),
            email: "carol@example.org".into(),
            role: EventRole::Instructor,
            language: Language::De,
        },
    ];
    let outcome = ports.events.import_roster(id, &rows, participant.id, Timestamp(9), None).await.unwrap();
    assert_eq!((outcome.users_created, outcome.participants_added), (2, 3));
    let again = ports.events.import_roster(id, &rows, participant.id, Timestamp(9), None).await.unwrap();
    assert_eq!((again.users_created, again.participants_added), (0, 0), "re-import is idempotent");
    let bob = ports.users.by_username("bob").await.unwrap().unwrap();
    assert_eq!(bob.status, UserStatus::EmailPending);
    let carol = ports.users.by_username("carol").await.unwrap().unwrap();
    assert_eq!((bob.language, carol.language), (Language::En, Language::De), "the roster's language");
    assert_eq!(ports.users.roles_of(bob.id).await.unwrap()[0].key, "participant");

    // All or nothing: a row whose e-mail is taken rolls back the whole import.
    let clash = vec![
        RosterRow {
            line: 1,
            username: "dave".into(),
            name: "Dave".into(),
            email: "dave@example.org".into(),
            role: EventRole::Student,
            language: Language::En,
        },
        RosterRow {
            line: 2,
            username: "erin".into(),
            name: "Erin".into(),
            email: "bob@example.org".into(),
            role: EventRole::Student,
            language: Language::En,
        },
    ];
    let failed = ports.events.import_roster(other, &clash, participant.id, Timestamp(9), None).await;
    assert!(matches!(failed, Err(StoreError::Duplicate(ref f)) if f == "email"), "{failed:?}");
    assert!(ports.users.by_username("dave").await.unwrap().is_none());
    assert!(ports.events.participants(other).await.unwrap().is_empty());

    let list = ports.events.participants(id).await.unwrap();
    let summary: Vec<_> = list.iter().map(|p| (p.username.as_str(), p.role, p.event_admin)).collect();
    assert_eq!(
        summary,
        vec![
            ("carol", EventRole::Instructor, false),
            ("teacher", EventRole::Instructor, true),
            ("alice", EventRole::Student, false),
            ("bob", EventRole::Student, false),
        ]
    );
    assert_eq!(ports.events.role_of(id, existing).await.unwrap(), Some(EventRole::Student));
    ports.events.put_participants(id, &[(existing, EventRole::Instructor)], None).await.unwrap();
    assert_eq!(ports.events.role_of(id, existing).await.unwrap(), Some(EventRole::Instructor));
    ports.events.remove_participant(id, existing, None).await.unwrap();
    assert_eq!(ports.events.role_of(id, existing).await.unwrap(), None);

    // Lists: by status and by membership, with the viewer's role.
    let page = PageRequest::new(Some(1), Some(10));
    let mine = ports.events.list(&EventQuery { statuses: vec![], member: Some(bob.id) }, bob.id, page).await.unwrap();
    assert_eq!(mine.items.iter().map(|e| (e.id, e.my_role)).collect::<Vec<_>>(), vec![(id, Some(EventRole::Student))]);
    assert_eq!(mine.items[0].participant_count, 3, "alice was removed");
    let planned = EventQuery { statuses: vec![EventStatus::Planned], member: None };
    assert_eq!(ports.events.list(&planned, teacher, page).await.unwrap().total, 2);
    let finished = EventQuery { statuses: vec![EventStatus::Finished], member: None };
    assert_eq!(ports.events.list(&finished, teacher, page).await.unwrap().total, 0);

    // Groups.
    let group = ports.groups.insert("Class 7b", "", None).await.unwrap();
    ports.groups.add_member(group, bob.id, None).await.unwrap();
    ports.groups.add_member(group, bob.id, None).await.unwrap();
    ports.groups.add_member(group, existing, None).await.unwrap();
    assert_eq!(ports.groups.by_id(group).await.unwrap().unwrap().member_count, 2);
    let members: Vec<_> = ports.groups.members(group).await.unwrap().into_iter().map(|(_, u)| u).collect();
    assert_eq!(members, vec!["alice", "bob"]);
    ports.groups.remove_member(group, bob.id, None).await.unwrap();
    ports.groups.delete(group, None).await.unwrap();
    assert!(ports.groups.list().await.unwrap().is_empty());
}
on_both_dialects!(participants_rosters_and_lists);

async fn vms_are_planned_once_and_filtered(db: Database) {
    let ports = db.ports(None);
    let kali = ports.templates.insert(&template("Kali"), Timestamp(1), None).await.unwrap();
    let env = ports.environments.insert("Env", "", &[(kali, 2)], Timestamp(1), None).await.unwrap();
    let teacher = user(&db, "teacher").await;
    let alice = user(&db, "alice").await;
    let bob = user(&db, "bob").await;
    let id = ports.events.insert(&event("vmev", env), teacher, Timestamp(1), None).await.unwrap();
    ports
        .events
        .put_participants(
            id,
            &[(teacher, EventRole::Instructor), (alice, EventRole::Student), (bob, EventRole::Student)],
            None,
        )
        .await
        .unwrap();
    ports.events.begin_deployment(id, None).await.unwrap();
    let plan: Vec<NewVm> = [alice, bob]
        .into_iter()
        .flat_map(|owner| {
            (1..=2).map(move |ordinal| NewVm {
                event_id: id,
                owner_id: owner,
                template_id: kali,
                ordinal,
                name: format!("vmev-{owner}-kali-{ordinal}"),
            })
        })
        .collect();
    let vms = ports.vms.plan(id, &plan, Timestamp(3)).await.unwrap();
    assert_eq!(vms.len(), 4);
    assert!(vms.iter().all(|v| v.state == VmState::Pending && v.template_name == "Kali"));
    let again = ports.vms.plan(id, &plan, Timestamp(4)).await.unwrap();
    assert_eq!(again.iter().map(|v| v.id).collect::<Vec<_>>(), vms.iter().map(|v| v.id).collect::<Vec<_>>());

    let first = vms[0].id;
    let update = VmUpdate {
        vmid: Some(4242),
        node: Some("pve2".into()),
        state: VmState::Running,
        ip: Some("10.0.0.7".into()),
        last_error: None,
    };
    ports.vms.update(first, &update, Timestamp(5), None).await.unwrap();
    let vm = ports.vms.by_id(first).await.unwrap().unwrap();
    assert_eq!(
        (vm.vmid, vm.node.as_deref(), vm.state, vm.ip.as_deref()),
        (Some(4242), Some("pve2"), VmState::Running, Some("10.0.0.7"))
    );
    assert_eq!((vm.event_short_name.as_str(), vm.updated_at), ("vmev", Timestamp(5)));
    assert_eq!((vm.cores, vm.memory_mib), (Some(2), Some(2048)));
    assert_eq!(ports.vms.nodes().await.unwrap(), vec!["pve2"]);

    let page = PageRequest::new(Some(1), Some(50));
    let count = |q: VmQuery| {
        let vms = ports.vms.clone();
        async move { vms.list(&q, page).await.unwrap().total }
    };
    assert_eq!(count(VmQuery { owner_id: Some(alice), ..VmQuery::default() }).await, 2);
    assert_eq!(count(VmQuery { state: Some(VmState::Running), ..VmQuery::default() }).await, 1);
    assert_eq!(count(VmQuery { node: Some("pve2".into()), event_id: Some(id), ..VmQuery::default() }).await, 1);
    // Visibility: own VMs, or all VMs of events one teaches.
    assert_eq!(count(VmQuery { visible_to: Some(bob), ..VmQuery::default() }).await, 2);
    assert_eq!(count(VmQuery { visible_to: Some(teacher), ..VmQuery::default() }).await, 4);
    let stranger = user(&db, "stranger").await;
    assert_eq!(count(VmQuery { visible_to: Some(stranger), ..VmQuery::default() }).await, 0);

    ports.vms.delete(first).await.unwrap();
    assert!(ports.vms.by_id(first).await.unwrap().is_none());
    // Deleting the event's records removes its VMs' rows too.
    ports.events.delete(id, None).await.unwrap();
    assert_eq!(count(VmQuery::default()).await, 0);
}
on_both_dialects!(vms_are_planned_once_and_filtered);

/// More events than a page holds (`MAX_PER_PAGE` is 200): the scheduler's
/// keyset pages and the overlap query still see every one of them.
async fn the_schedule_and_overlaps_see_every_event(db: Database) {
    let ports = db.ports(None);
    let env = ports.environments.insert("Env", "", &[], Timestamp(1), None).await.unwrap();
    let teacher = user(&db, "teacher").await;
    let pupil = user(&db, "pupil").await;
    let other = user(&db, "other").await;
    let add = |short: String, starts: i64, ends: Option<i64>, status: EventStatus, members: Vec<(i64, EventRole)>| {
        let ports = ports.clone();
        async move {
            let fields =
                EventFields { starts_at: Timestamp(starts), ends_at: ends.map(Timestamp), ..event(&short, env) };
            let id = ports.events.insert(&fields, teacher, Timestamp(1), None).await.unwrap();
            ports.events.put_participants(id, &members, None).await.unwrap();
            if status != EventStatus::Planned {
                assert!(ports.events.set_status(id, EventStatus::Planned, status, None, None).await.unwrap());
            }
            id
        }
    };
    let student = |id: i64| vec![(id, EventRole::Student)];
    let mut running = Vec::new();
    for i in 0..260 {
        running.push(add(format!("run{i}"), 1_000_000, Some(2_000_000), EventStatus::Running, student(pupil)).await);
    }
    // Due or active, but sharing no student with the first running event.
    let soon = add("soon".into(), 1_400_000, Some(1_600_000), EventStatus::Planned, student(other)).await;
    let taught =
        add("taught".into(), 1_000_000, Some(2_000_000), EventStatus::Running, vec![(pupil, EventRole::Instructor)])
            .await;
    // Open-ended and failed: due (its VMs are reconciled) and overlapping.
    let open = add("open".into(), 0, None, EventStatus::Failed, student(pupil)).await;
    // Neither due nor overlapping: later, touching the end, finished.
    add("later".into(), 5_000_000, None, EventStatus::Planned, student(pupil)).await;
    add("next".into(), 2_000_000, Some(3_000_000), EventStatus::Planned, student(pupil)).await;
    add("done".into(), 1_000_000, Some(2_000_000), EventStatus::Finished, student(pupil)).await;

    let mut seen = Vec::new();
    let mut after = 0;
    loop {
        let batch = ports.events.needing_schedule(Timestamp(1_500_000), after, 100).await.unwrap();
        let Some(last) = batch.last() else { break };
        assert!(last.id > after, "keyset pages move forward");
        after = last.id;
        seen.extend(batch.iter().map(|e| e.id));
    }
    let mut expected = running.clone();
    expected.extend([soon, taught, open]);
    expected.sort_unstable();
    assert_eq!(seen, expected, "every event that may need the scheduler, each once");

    let mut overlapping: Vec<i64> =
        ports.events.overlapping(running[0]).await.unwrap().into_iter().map(|e| e.id).collect();
    overlapping.sort_unstable();
    let mut expected: Vec<i64> = running[1..].to_vec();
    expected.push(open);
    expected.sort_unstable();
    assert_eq!(overlapping.len(), 260, "259 running events and the open-ended one");
    assert_eq!(overlapping, expected);
    assert!(ports.events.overlapping(soon).await.unwrap().is_empty(), "no student in common");
}
on_both_dialects!(the_schedule_and_overlaps_see_every_event);
