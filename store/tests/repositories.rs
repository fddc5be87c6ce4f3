//! The storage contract, run against SQLite and MariaDB alike.

mod common;

use domain::page::PageRequest;
use domain::time::Timestamp;
use domain::{AccessLevel, AuthBackend, Grant, Language, ObjectType, SecretText, UserStatus};
use services::StoreError;
use services::ports::{
    AttemptCounter, NewUser, PendingLogins, PolicyRecord, RoleRecord, SessionRecord, SessionStore, UserQuery,
};
use store::Database;

fn new_user(username: &str) -> NewUser {
    NewUser {
        username: username.into(),
        name: format!("Name of {username}"),
        email: format!("{username}@example.org"),
        language: Language::En,
        status: UserStatus::Active,
        auth_backend: AuthBackend::Internal,
        password_hash: Some("$argon2id$placeholder".into()),
        created_at: Timestamp(1_000),
    }
}

async fn users_round_trip_and_refuse_duplicates(db: Database) {
    let ports = db.ports(None);
    let id = ports.users.insert(new_user("alice"), None).await.unwrap();
    let alice = ports.users.by_username("alice").await.unwrap().unwrap();
    assert_eq!((alice.id, alice.email.as_str(), alice.status), (id, "alice@example.org", UserStatus::Active));
    assert_eq!(alice.created_at, Timestamp(1_000));
    assert_eq!(alice.last_login_at, None);

    let mut same_name = new_user("alice");
    same_name.email = "other@example.org".into();
    let same_name = ports.users.insert(same_name, None).await;
    assert!(matches!(same_name, Err(StoreError::Duplicate(ref f)) if f == "username"), "{same_name:?}");
    let mut same_mail = new_user("alice2");
    same_mail.email = "alice@example.org".into();
    let same_mail = ports.users.insert(same_mail, None).await;
    assert!(matches!(same_mail, Err(StoreError::Duplicate(ref f)) if f == "email"), "{same_mail:?}");

    ports.users.update_profile(id, "Alice A.", "a@example.org", Language::De, None).await.unwrap();
    ports.users.set_last_login(id, Timestamp(5_000), None).await.unwrap();
    let alice = ports.users.by_id(id).await.unwrap().unwrap();
    assert_eq!((alice.name.as_str(), alice.language), ("Alice A.", Language::De));
    assert_eq!(alice.last_login_at, Some(Timestamp(5_000)));

    ports.users.delete(id, None).await.unwrap();
    assert!(ports.users.by_id(id).await.unwrap().is_none());
    assert!(matches!(ports.users.delete(id, None).await, Err(StoreError::NotFound)));
}
on_both_dialects!(users_round_trip_and_refuse_duplicates);

async fn user_search_filters_and_pages(db: Database) {
    let ports = db.ports(None);
    let instructor = ports.roles.by_key("instructor").await.unwrap().unwrap();
    for i in 0..12 {
        let id = ports.users.insert(new_user(&format!("student{i:02}")), None).await.unwrap();
        if i % 4 == 0 {
            ports.users.set_roles(id, &[instructor.id], None).await.unwrap();
        }
        if i == 11 {
            ports.users.set_status(id, UserStatus::Banned, None).await.unwrap();
        }
    }
    ports.users.insert(new_user("100%_sure"), None).await.unwrap();

    let page2 = ports.users.search(&UserQuery::default(), PageRequest::new(Some(2), Some(5))).await.unwrap();
    assert_eq!((page2.total, page2.items.len()), (13, 5));
    assert_eq!(page2.items[0].username, "student04");

    let text = UserQuery { text: Some("STUDENT1".into()), ..Default::default() };
    let found = ports.users.search(&text, PageRequest::new(None, None)).await.unwrap();
    assert_eq!(found.items.iter().map(|u| u.username.as_str()).collect::<Vec<_>>(), ["student10", "student11"]);

    // LIKE wildcards in the search text are matched literally.
    let literal = UserQuery { text: Some("0%_".into()), ..Default::default() };
    let found = ports.users.search(&literal, PageRequest::new(None, None)).await.unwrap();
    assert_eq!(found.items.iter().map(|u| u.username.as_str()).collect::<Vec<_>>(), ["100%_sure"]);

    let banned = UserQuery { status: Some(UserStatus::Banned), ..Default::default() };
    assert_eq!(ports.users.search(&banned, PageRequest::new(None, None)).await.unwrap().total, 1);

    let by_role = UserQuery { role_key: Some("instructor".into()), ..Default::default() };
    assert_eq!(ports.users.search(&by_role, PageRequest::new(None, None)).await.unwrap().total, 3);
    assert_eq!(ports.users.count_active_with_role("instructor").await.unwrap(), 3);
}
on_both_dialects!(user_search_filters_and_pages);

async fn roles_are_seeded_and_carry_grants(db: Database) {
    let ports = db.ports(None);
    let keys: Vec<String> = ports.roles.list().await.unwrap().into_iter().map(|r| r.key).collect();
    for expected in ["admin", "instructor", "participant"] {
        assert!(keys.contains(&expected.to_string()), "{keys:?}");
    }
    // Seeding again (a second replica starting) changes nothing.
    db.migrate().await.unwrap();
    assert_eq!(ports.roles.list().await.unwrap().len(), keys.len());

    let record = RoleRecord {
        key: "lab_support".into(),
        name: "Lab support".into(),
        description: "Helps in the lab".into(),
        permissions: vec![
            Grant::model(ObjectType::Vm, AccessLevel::ReadVmControl),
            Grant::model(ObjectType::Event, AccessLevel::Read),
        ],
    };
    let id = ports.roles.insert(&record, None).await.unwrap();
    assert!(matches!(ports.roles.insert(&record, None).await, Err(StoreError::Duplicate(ref f)) if f == "key"));
    let role = ports.roles.by_id(id).await.unwrap().unwrap();
    assert_eq!(role.permissions, ["events:read", "vms:read_vm_control"]);

    let user = ports.users.insert(new_user("bob"), None).await.unwrap();
    ports.users.set_roles(user, &[id], None).await.unwrap();
    ports.users.add_object_grant(user, &Grant::object(ObjectType::Event, 42, AccessLevel::Full), None).await.unwrap();
    ports.users.add_object_grant(user, &Grant::object(ObjectType::Event, 42, AccessLevel::Full), None).await.unwrap();
    let grants = ports.users.grants_of(user).await.unwrap();
    assert_eq!(grants.len(), 3, "{grants:?}");
    assert!(grants.contains(&Grant::object(ObjectType::Event, 42, AccessLevel::Full)));
    assert_eq!(ports.roles.by_key("lab_support").await.unwrap().unwrap().member_count, 1);

    let updated = RoleRecord { permissions: vec![Grant::model(ObjectType::Vm, AccessLevel::Read)], ..record };
    ports.roles.update(id, &updated, None).await.unwrap();
    assert_eq!(ports.roles.by_id(id).await.unwrap().unwrap().permissions, ["vms:read"]);
    ports.roles.delete(id, None).await.unwrap();
    assert!(ports.users.roles_of(user).await.unwrap().is_empty());
}
on_both_dialects!(roles_are_seeded_and_carry_grants);

async fn settings_are_seeded_and_updated(db: Database) {
    let ports = db.ports(None);
    let all = ports.settings.list().await.unwrap();
    assert_eq!(all.len(), domain::settings::CATALOGUE.len());
    ports.settings.set_value("branding.title", "Lab Cloud", None).await.unwrap();
    db.migrate().await.unwrap();
    let title = ports.settings.get("branding.title").await.unwrap().unwrap();
    assert_eq!(title.value, "Lab Cloud", "re-seeding must keep an admin's value");
    assert!(ports.settings.get("no.such.key").await.unwrap().is_none());
}
on_both_dialects!(settings_are_seeded_and_updated);

async fn policies_track_acceptance(db: Database) {
    let ports = db.ports(None);
    let user = ports.users.insert(new_user("carol"), None).await.unwrap();
    let id = ports
        .policies
        .insert(&PolicyRecord { name: "Terms".into(), description: String::new(), content: "Be nice.".into() }, None)
        .await
        .unwrap();
    assert!(ports.policies.pending_for(user).await.unwrap().is_empty(), "inactive policies ask nothing");
    ports.policies.set_active(id, true, None).await.unwrap();
    assert_eq!(ports.policies.pending_for(user).await.unwrap(), [id]);
    ports.policies.accept(id, user, Timestamp(9), None).await.unwrap();
    ports.policies.accept(id, user, Timestamp(10), None).await.unwrap();
    assert!(ports.policies.pending_for(user).await.unwrap().is_empty());
    let policy = ports.policies.by_id(id).await.unwrap().unwrap();
    assert_eq!((policy.active, policy.accepted_count), (true, 1));
}
on_both_dialects!(policies_track_acceptance);

async fn check_sessions(store: &dyn SessionStore, user_id: i64) {
    let session = |hash: &str, expires: i64| SessionRecord {
        token_hash: hash.into(),
        user_id,
        created_at: Timestamp(now_ms()),
        expires_at: Timestamp(now_ms() + expires),
        id_token: None,
    };
    store.create(&session("a".repeat(64).as_str(), 60_000)).await.unwrap();
    // A single sign-on session keeps the provider's ID token for signing out there too,
    // also across a sliding extension.
    let with_token =
        SessionRecord { id_token: Some(SecretText("eyJ.id.token".into())), ..session(&"d".repeat(64), 60_000) };
    store.create(&with_token).await.unwrap();
    store.extend(&"d".repeat(64), Timestamp(now_ms() + 120_000)).await.unwrap();
    assert_eq!(store.get(&"d".repeat(64)).await.unwrap().unwrap().id_token, with_token.id_token);
    store.create(&session("b".repeat(64).as_str(), 60_000)).await.unwrap();
    store.create(&session("c".repeat(64).as_str(), 60_000)).await.unwrap();
    let a = store.get(&"a".repeat(64)).await.unwrap().unwrap();
    assert_eq!(a.user_id, user_id);
    store.extend(&"a".repeat(64), Timestamp(now_ms() + 120_000)).await.unwrap();
    assert!(store.get(&"a".repeat(64)).await.unwrap().unwrap().expires_at > a.expires_at);
    store.delete(&"c".repeat(64)).await.unwrap();
    assert!(store.get(&"c".repeat(64)).await.unwrap().is_none());
    store.delete_for_user(user_id, Some(&"a".repeat(64))).await.unwrap();
    assert!(store.get(&"a".repeat(64)).await.unwrap().is_some(), "the kept session survives");
    assert!(store.get(&"b".repeat(64)).await.unwrap().is_none());
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

async fn check_attempts(counter: &dyn AttemptCounter) {
    let now = Timestamp(now_ms());
    assert_eq!(counter.count("login:user:x", now).await.unwrap(), 0);
    assert_eq!(counter.add("login:user:x", 60, now).await.unwrap(), 1);
    assert_eq!(counter.add("login:user:x", 60, now).await.unwrap(), 2);
    assert_eq!(counter.count("login:user:x", now).await.unwrap(), 2);
    let retry = counter.retry_after("login:user:x", now).await.unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    counter.reset("login:user:x").await.unwrap();
    assert_eq!(counter.count("login:user:x", now).await.unwrap(), 0);
}

async fn sql_sessions_and_attempts(db: Database) {
    let ports = db.ports(None);
    let user = ports.users.insert(new_user("dave"), None).await.unwrap();
    check_sessions(ports.sessions.as_ref(), user).await;
    check_attempts(ports.attempts.as_ref()).await;

    // SQL windows close by time: a window that ended no longer counts.
    let later = Timestamp(now_ms() + 3_600_000);
    ports.attempts.add("login:ip:1.2.3.4", 60, Timestamp(now_ms())).await.unwrap();
    assert_eq!(ports.attempts.count("login:ip:1.2.3.4", later).await.unwrap(), 0);
    assert_eq!(ports.attempts.add("login:ip:1.2.3.4", 60, later).await.unwrap(), 1);
    assert_eq!(ports.sessions.purge_expired(later).await.unwrap(), 1);
}
on_both_dialects!(sql_sessions_and_attempts);

#[tokio::test]
async fn redis_sessions_and_attempts() {
    let redis = common::redis().await;
    check_sessions(&redis, 77).await;
    check_attempts(&redis).await;
}

/// A pending sign-in attempt is taken once; an expired one is gone.
async fn check_pending_logins(store: &dyn PendingLogins) {
    let now = Timestamp(now_ms());
    let id = |c: &str| c.repeat(64);
    store.put(&id("a"), r#"{"state":"s"}"#, now.plus_secs(600)).await.unwrap();
    store.put(&id("b"), "short-lived", Timestamp(now_ms() + 50)).await.unwrap();
    assert_eq!(store.take(&id("a"), now).await.unwrap().as_deref(), Some(r#"{"state":"s"}"#));
    assert_eq!(store.take(&id("a"), now).await.unwrap(), None, "single use");
    assert_eq!(store.take(&id("z"), now).await.unwrap(), None);
    tokio::time::sleep(std::time::Duration::from_millis(120)).await;
    assert_eq!(store.take(&id("b"), Timestamp(now_ms())).await.unwrap(), None, "expired");
}

async fn sql_pending_logins(db: Database) {
    let ports = db.ports(None);
    check_pending_logins(ports.pending_logins.as_ref()).await;
    ports.pending_logins.put(&"c".repeat(64), "x", Timestamp(now_ms() + 1_000)).await.unwrap();
    assert_eq!(ports.pending_logins.purge_expired(Timestamp(now_ms() + 2_000)).await.unwrap(), 1);
}
on_both_dialects!(sql_pending_logins);

#[tokio::test]
async fn redis_pending_logins() {
    check_pending_logins(&common::redis().await).await;
}

#[tokio::test]
async fn readiness_reports_applied_migrations() {
    let t = common::TestDb::sqlite().await;
    assert!(t.db.migrations_applied().await.unwrap());
    t.db.ping().await.unwrap();
}
