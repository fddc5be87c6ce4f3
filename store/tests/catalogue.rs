//! Tags and the catalogue through their use cases, on SQLite and MariaDB:
//! names unique regardless of case, entries in use refused with their users
//! named and nothing changed, links, tag filters, tags going with their
//! object, deployment copying template tags to new VMs, and one activity per
//! change written with it.

mod common;

use common::{TestClock, services};
use domain::catalogue::{CatalogueKind, TagFilter, Taggable, Usage};
use domain::classroom::{Console, EventFields, EventRole};
use domain::error::Problem;
use domain::page::PageRequest;
use domain::time::Timestamp;
use domain::{AccessLevel, Actor, AppError, Grant, Language, ObjectType, UserStatus};
use services::Services;
use services::catalogue::CatalogueInput;
use services::classroom::ports::{NewVm, TemplateRecord, VmQuery};
use services::ports::NewUser;
use store::Database;

fn admin() -> Actor {
    let grants = [ObjectType::Catalogue, ObjectType::Template, ObjectType::Environment, ObjectType::Vm]
        .into_iter()
        .map(|t| Grant::model(t, AccessLevel::Full))
        .collect();
    Actor { user_id: 1, username: "admin".into(), role_keys: vec![], grants, origin: Default::default() }
}

/// The default instructor's grants: reads the catalogue and templates.
fn instructor() -> Actor {
    let grants = vec![
        Grant::model(ObjectType::Catalogue, AccessLevel::Read),
        Grant::model(ObjectType::Template, AccessLevel::Read),
        Grant::object(ObjectType::Environment, 1, AccessLevel::Full),
    ];
    Actor { user_id: 2, username: "teacher".into(), role_keys: vec![], grants, origin: Default::default() }
}

fn template(name: &str) -> TemplateRecord {
    TemplateRecord {
        name: name.into(),
        description: String::new(),
        operating_system: String::new(),
        proxmox_vmid: 9000,
        node: "pve1".into(),
        cores: 2,
        memory_mib: 2048,
        disk_gib: 32,
        linked_clone: true,
        console: Console::Builtin,
    }
}

fn input(name: &str, vendor_id: Option<i64>) -> CatalogueInput {
    CatalogueInput { name: name.into(), description: "x86_64".into(), vendor_id }
}

async fn waiting(services: &Services) -> u64 {
    services.ports().outbox.backlog().await.unwrap().waiting
}

async fn actions(services: &Services) -> Vec<String> {
    services.ports().outbox.oldest(1000).await.unwrap().into_iter().map(|(_, a)| a.action).collect()
}

async fn catalogue_names_are_unique_and_used_entries_stay(db: Database) {
    let services = services(db.ports(None), TestClock::new());
    let ports = services.ports().clone();
    let admin = admin();
    let vendor =
        services.create_catalogue_item(&admin, CatalogueKind::Vendor, &input("Microsoft", None)).await.unwrap();
    let taken = services.create_catalogue_item(&admin, CatalogueKind::Vendor, &input("  microsoft ", None)).await;
    assert_eq!(taken, Err(AppError::invalid("name", Problem::Taken)), "names are unique regardless of case");
    let unknown_vendor = services
        .create_catalogue_item(&admin, CatalogueKind::OperatingSystem, &input("Windows 11", Some(999_999)))
        .await;
    assert_eq!(unknown_vendor, Err(AppError::invalid("vendor_id", Problem::Unknown)));
    let win = services
        .create_catalogue_item(&admin, CatalogueKind::OperatingSystem, &input("Windows 11", Some(vendor)))
        .await
        .unwrap();
    let office = services
        .create_catalogue_item(&admin, CatalogueKind::Application, &input("Office", Some(vendor)))
        .await
        .unwrap();
    let other = services.create_catalogue_item(&admin, CatalogueKind::Vendor, &input("Canonical", None)).await.unwrap();
    let ubuntu = services
        .create_catalogue_item(&admin, CatalogueKind::OperatingSystem, &input("Ubuntu 24.04", Some(other)))
        .await
        .unwrap();
    assert_eq!(waiting(&services).await, 5, "one activity per created entry, none for refusals");

    // Lists: by name, filtered by vendor, in pages.
    let page = |n| PageRequest::new(Some(n), Some(1));
    let first = services.list_catalogue(&admin, CatalogueKind::OperatingSystem, None, page(1)).await.unwrap();
    assert_eq!((first.total, first.items[0].name.as_str()), (2, "Ubuntu 24.04"));
    let second = services.list_catalogue(&admin, CatalogueKind::OperatingSystem, None, page(2)).await.unwrap();
    assert_eq!(second.items[0].vendor, Some((vendor, "Microsoft".to_string())));
    let microsoft_only =
        services.list_catalogue(&admin, CatalogueKind::OperatingSystem, Some(vendor), page(1)).await.unwrap();
    assert_eq!((microsoft_only.total, microsoft_only.items[0].id), (1, win));
    // Instructors read, never change; students see nothing.
    assert!(services.list_catalogue(&instructor(), CatalogueKind::Vendor, None, page(1)).await.is_ok());
    let refused = services.create_catalogue_item(&instructor(), CatalogueKind::Vendor, &input("Evil", None)).await;
    assert_eq!(refused, Err(AppError::Forbidden));
    let student =
        Actor { user_id: 9, username: "s".into(), role_keys: vec![], grants: vec![], origin: Default::default() };
    assert_eq!(
        services.list_catalogue(&student, CatalogueKind::Vendor, None, page(1)).await.map(|p| p.total),
        Err(AppError::Forbidden)
    );

    // Renaming to another entry's name is refused too; a new case of its own name is fine.
    let rename = services.update_catalogue_item(&admin, CatalogueKind::Vendor, other, &input("MICROSOFT", None)).await;
    assert_eq!(rename, Err(AppError::invalid("name", Problem::Taken)));
    services.update_catalogue_item(&admin, CatalogueKind::Vendor, other, &input("canonical ltd", None)).await.unwrap();

    // Links: a template gets one OS and applications, an environment applications.
    let kali = ports.templates.insert(&template("Win lab"), Timestamp(1), None).await.unwrap();
    let env = ports.environments.insert("Office course", "", &[(kali, 1)], Timestamp(1), None).await.unwrap();
    services.set_catalogue_links(&admin, Taggable::Template, kali, Some(win), &[office, office]).await.unwrap();
    services.set_catalogue_links(&admin, Taggable::Environment, env, None, &[office]).await.unwrap();
    let links = services.object_catalogue(&admin, Taggable::Template, kali).await.unwrap();
    assert_eq!(links.operating_system.map(|o| o.name).as_deref(), Some("Windows 11"));
    assert_eq!(links.applications.iter().map(|a| a.id).collect::<Vec<_>>(), vec![office]);
    let env_with_os = services.set_catalogue_links(&admin, Taggable::Environment, env, Some(win), &[]).await;
    assert_eq!(env_with_os, Err(AppError::invalid("operating_system_id", Problem::Unknown)));
    let unknown_app = services.set_catalogue_links(&admin, Taggable::Template, kali, None, &[999_999]).await;
    assert_eq!(unknown_app, Err(AppError::invalid("application_ids", Problem::Unknown)));

    // In use: refused, every user named, nothing changed, nothing recorded.
    let before = waiting(&services).await;
    let vendor_in_use = services.delete_catalogue_item(&admin, CatalogueKind::Vendor, vendor).await;
    assert_eq!(
        vendor_in_use,
        Err(AppError::InUse {
            used_by: vec![
                Usage { kind: "operating_systems".into(), names: vec!["Windows 11".into()] },
                Usage { kind: "applications".into(), names: vec!["Office".into()] },
            ]
        })
    );
    let app_in_use = services.delete_catalogue_item(&admin, CatalogueKind::Application, office).await;
    assert_eq!(
        app_in_use,
        Err(AppError::InUse {
            used_by: vec![
                Usage { kind: "templates".into(), names: vec!["Win lab".into()] },
                Usage { kind: "environments".into(), names: vec!["Office course".into()] },
            ]
        })
    );
    assert!(services.get_catalogue_item(&admin, CatalogueKind::Vendor, vendor).await.is_ok());
    assert_eq!(waiting(&services).await, before);

    // Unused entries go, and their activity with them.
    services.delete_catalogue_item(&admin, CatalogueKind::OperatingSystem, ubuntu).await.unwrap();
    assert_eq!(
        services.get_catalogue_item(&admin, CatalogueKind::OperatingSystem, ubuntu).await,
        Err(AppError::NotFound)
    );
    // Unlinking frees the OS; deleting the template frees its links too.
    services.set_catalogue_links(&admin, Taggable::Template, kali, None, &[office]).await.unwrap();
    services.delete_catalogue_item(&admin, CatalogueKind::OperatingSystem, win).await.unwrap();
    ports.environments.delete(env, None).await.unwrap();
    ports.templates.delete(kali, None).await.unwrap();
    services.delete_catalogue_item(&admin, CatalogueKind::Application, office).await.unwrap();
    services.delete_catalogue_item(&admin, CatalogueKind::Vendor, vendor).await.unwrap();
    let recorded = actions(&services).await;
    for expected in [
        "vendor.create",
        "operating_system.create",
        "application.create",
        "vendor.update",
        "catalogue.link",
        "operating_system.delete",
        "application.delete",
        "vendor.delete",
    ] {
        assert!(recorded.iter().any(|a| a == expected), "{expected} missing in {recorded:?}");
    }
    let created = services.ports().outbox.oldest(1).await.unwrap();
    assert_eq!(created[0].1.target.id, vendor.to_string(), "the created row's id fills the activity's target");
}
on_both_dialects!(catalogue_names_are_unique_and_used_entries_stay);

async fn user(db: &Database, username: &str) -> i64 {
    let new = NewUser {
        username: username.into(),
        name: username.into(),
        email: format!("{username}@example.org"),
        language: Language::En,
        status: UserStatus::Active,
        auth_backend: domain::AuthBackend::Internal,
        password_hash: None,
        created_at: Timestamp(1),
    };
    db.ports(None).users.insert(new, None).await.unwrap()
}

async fn tags_filter_lists_and_go_with_their_object(db: Database) {
    let services = services(db.ports(None), TestClock::new());
    let ports = services.ports().clone();
    let admin = admin();
    let kali = ports.templates.insert(&template("Kali"), Timestamp(1), None).await.unwrap();
    let win = ports.templates.insert(&template("Windows"), Timestamp(1), None).await.unwrap();
    services.add_tag(&admin, Taggable::Template, kali, "Course", "net-101").await.unwrap();
    services.add_tag(&admin, Taggable::Template, kali, "linux", "").await.unwrap();
    services.add_tag(&admin, Taggable::Template, win, "course", "office").await.unwrap();
    let twice = services.add_tag(&admin, Taggable::Template, kali, "course", "NET-101").await;
    assert_eq!(twice, Err(AppError::invalid("tag", Problem::Taken)));
    let reserved = services.add_tag(&admin, Taggable::Template, kali, "openvle-event-1", "").await;
    assert!(matches!(reserved, Err(AppError::Invalid { ref field, .. }) if field == "tag_name"), "{reserved:?}");
    let missing = services.add_tag(&admin, Taggable::Template, 999_999, "x", "").await;
    assert_eq!(missing, Err(AppError::NotFound));
    // Instructors may read templates but not edit them: no tagging either.
    let refused = services.add_tag(&instructor(), Taggable::Template, kali, "mine", "").await;
    assert_eq!(refused, Err(AppError::Forbidden));

    let names = |filter: &str| {
        let services = services.clone();
        let filter = TagFilter::parse(filter).unwrap();
        async move {
            services
                .list_templates_tagged(&self::admin(), filter.as_ref())
                .await
                .unwrap()
                .into_iter()
                .map(|t| t.name)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(names("course").await, ["Kali", "Windows"]);
    assert_eq!(names("course=net-101").await, ["Kali"]);
    assert_eq!(names("linux").await, ["Kali"]);
    assert!(names("course=none").await.is_empty());
    assert_eq!(names("").await.len(), 2);

    let tags = services.object_tags(&admin, Taggable::Template, kali).await.unwrap();
    assert_eq!(tags.iter().map(|t| t.label()).collect::<Vec<_>>(), ["course=net-101", "linux"]);
    let listed = services.tags_of(&admin, Taggable::Template, &[kali, win, 999_999]).await.unwrap();
    assert_eq!(listed.iter().map(|o| (o.id, o.tags.len())).collect::<Vec<_>>(), [(kali, 2), (win, 1)]);
    let linux = tags.iter().find(|t| t.name == "linux").unwrap().id;
    // A tag of another object is not this object's.
    assert_eq!(services.remove_tag(&admin, Taggable::Template, win, linux).await, Err(AppError::NotFound));
    services.remove_tag(&admin, Taggable::Template, kali, linux).await.unwrap();
    assert!(names("linux").await.is_empty());

    // Environments: the instructor tags the one they may edit.
    let env = ports.environments.insert("Lab", "", &[(kali, 1)], Timestamp(1), None).await.unwrap();
    assert_eq!(env, 1, "the instructor's object grant names environment 1");
    services.add_tag(&instructor(), Taggable::Environment, env, "term", "2026w").await.unwrap();
    let filter = TagFilter::parse("term=2026w").unwrap();
    let envs = services.list_environments_tagged(&admin, filter.as_ref()).await.unwrap();
    assert_eq!(envs.iter().map(|e| e.id).collect::<Vec<_>>(), [env]);

    // VMs: filtered in SQL, beside the other filters.
    let teacher = user(&db, "teacher").await;
    let alice = user(&db, "alice").await;
    let fields = EventFields {
        name: "Net".into(),
        short_name: "net1".into(),
        description: String::new(),
        environment_id: env,
        starts_at: Timestamp(1),
        ends_at: None,
    };
    let event = ports.events.insert(&fields, teacher, Timestamp(1), None).await.unwrap();
    ports.events.put_participants(event, &[(alice, EventRole::Student)], None).await.unwrap();
    ports.events.begin_deployment(event, None).await.unwrap();
    let plan: Vec<NewVm> = (1..=2)
        .map(|ordinal| NewVm {
            event_id: event,
            owner_id: alice,
            template_id: kali,
            ordinal,
            name: format!("vm{ordinal}"),
        })
        .collect();
    let vms = ports.vms.plan(event, &plan, Timestamp(2)).await.unwrap();
    // Deployment gives new VMs their template's tags, once.
    ports.tags.copy_template_tags(&[(vms[0].id, kali)], Timestamp(3)).await.unwrap();
    ports.tags.copy_template_tags(&[(vms[0].id, kali)], Timestamp(3)).await.unwrap();
    services.add_tag(&admin, Taggable::Vm, vms[1].id, "broken", "disk").await.unwrap();
    let count = |tag: &str| {
        let ports = ports.clone();
        let query = VmQuery { tag: TagFilter::parse(tag).unwrap(), ..VmQuery::default() };
        async move { ports.vms.list(&query, PageRequest::new(None, None)).await.unwrap().total }
    };
    assert_eq!(count("course").await, 1);
    assert_eq!(count("course=net-101").await, 1);
    assert_eq!(count("broken=disk").await, 1);
    assert_eq!(count("broken=cpu").await, 0);
    assert_eq!(count("").await, 2);
    let copied = services.object_tags(&admin, Taggable::Vm, vms[0].id).await.unwrap();
    assert_eq!(copied.iter().map(|t| t.label()).collect::<Vec<_>>(), ["course=net-101"]);
    // The owner reads their VM's tags but may not change them; others do not even see the VM.
    let owner = Actor {
        user_id: alice,
        username: "alice".into(),
        role_keys: vec![],
        grants: vec![],
        origin: Default::default(),
    };
    assert_eq!(services.object_tags(&owner, Taggable::Vm, vms[0].id).await.unwrap().len(), 1);
    assert_eq!(services.add_tag(&owner, Taggable::Vm, vms[0].id, "mine", "").await, Err(AppError::Forbidden));
    let stranger = Actor { user_id: 4242, ..owner.clone() };
    assert_eq!(services.object_tags(&stranger, Taggable::Vm, vms[0].id).await, Err(AppError::NotFound));
    // A VM shows its template's catalogue links.
    assert_eq!(services.object_catalogue(&owner, Taggable::Vm, vms[0].id).await.unwrap(), Default::default());

    // Tags go with their object.
    ports.vms.delete(vms[1].id).await.unwrap();
    assert_eq!(count("broken").await, 0);
    ports.templates.delete(win, None).await.unwrap();
    assert_eq!(names("course").await, ["Kali"]);
    let tag_actions: Vec<String> = actions(&services).await.into_iter().filter(|a| a.starts_with("tag.")).collect();
    assert_eq!(tag_actions, ["tag.add", "tag.add", "tag.add", "tag.remove", "tag.add", "tag.add"]);
}
on_both_dialects!(tags_filter_lists_and_go_with_their_object);
