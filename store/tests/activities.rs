//! The activity outbox and the SQL activity log, on both dialects.

mod common;

use common::{TestClock, services};
use domain::activity::{Activity, ActivityFilter, ActivityTarget, ActorKind, Outcome};
use domain::time::Timestamp;
use domain::{AccessLevel, Actor, Grant, Language, ObjectType, UserStatus};
use services::StoreError;
use services::activities::new_activity_id;
use services::ports::NewUser;
use store::Database;

fn admin() -> Actor {
    Actor {
        user_id: 1,
        username: "admin".into(),
        role_keys: vec!["admin".into()],
        grants: vec![
            Grant::model(ObjectType::Setting, AccessLevel::Full),
            Grant::model(ObjectType::Activity, AccessLevel::Full),
        ],
        origin: domain::activity::Origin { request_id: Some("req-1".into()), client_ip: Some("10.1.2.3".into()) },
    }
}

fn student(id: i64) -> Actor {
    Actor {
        user_id: id,
        username: format!("student{id}"),
        role_keys: vec![],
        grants: vec![],
        origin: Default::default(),
    }
}

fn activity(at: i64, actor: i64, action: &str, target_name: &str, outcome: Outcome) -> Activity {
    Activity {
        id: new_activity_id(),
        at: Timestamp(at),
        actor_kind: ActorKind::User,
        actor_id: Some(actor),
        actor_name: format!("user{actor}"),
        action: action.into(),
        target: ActivityTarget::new("vms", at, target_name),
        event_id: None,
        outcome,
        reason: (outcome == Outcome::Failed).then(|| "timeout".into()),
        request_id: None,
        client_ip: None,
        details: serde_json::json!({ "n": at }),
    }
}

fn new_user(name: &str) -> NewUser {
    NewUser {
        username: name.into(),
        name: name.into(),
        email: format!("{name}@example.org"),
        language: Language::En,
        status: UserStatus::Active,
        auth_backend: domain::AuthBackend::Internal,
        password_hash: None,
        created_at: Timestamp(1),
    }
}

/// The activity commits with its change, and a change that fails leaves none.
async fn change_and_activity_commit_together(db: Database) {
    let services = services(db.ports(None), TestClock::new());
    let ports = services.ports().clone();
    services.update_setting(&admin(), "contact.mail", "help@example.org").await.unwrap();
    let waiting = ports.outbox.oldest(10).await.unwrap();
    assert_eq!(waiting.len(), 1);
    let recorded = &waiting[0].1;
    assert_eq!((recorded.action.as_str(), recorded.target.id.as_str()), ("settings.update", "contact.mail"));
    assert_eq!(recorded.actor_id, Some(1));
    assert_eq!(recorded.request_id.as_deref(), Some("req-1"));
    assert_eq!(recorded.client_ip.as_deref(), Some("10.1.2.3"));
    assert_eq!(recorded.details["to"], "help@example.org");

    // A creating write fills in the new row's id.
    let made = services.system_activity(ActorKind::System, "user.create", ActivityTarget::created("users", "kim"));
    let id = ports.users.insert(new_user("kim"), Some(&made)).await.unwrap();
    let waiting = ports.outbox.oldest(10).await.unwrap();
    assert_eq!(waiting[1].1.target.id, id.to_string());

    // The same username again: the insert fails, its activity is rolled back with it.
    let again = services.system_activity(ActorKind::System, "user.create", ActivityTarget::created("users", "kim"));
    assert!(matches!(ports.users.insert(new_user("kim"), Some(&again)).await, Err(StoreError::Duplicate(_))));
    assert_eq!(ports.outbox.backlog().await.unwrap().waiting, 2);
}
on_both_dialects!(change_and_activity_commit_together);

/// Forwarding moves everything in order, once, and a repeated store is ignored.
async fn forwarding_is_ordered_and_exactly_once(db: Database) {
    let services = services(db.ports(None), TestClock::new());
    let ports = services.ports().clone();
    let batch: Vec<Activity> =
        (0..1200).map(|i| activity(1_000 + i, 2, "vm.start", &format!("vm-{i}"), Outcome::Ok)).collect();
    for a in &batch {
        ports.outbox.append(a).await.unwrap();
    }
    assert_eq!(ports.outbox.backlog().await.unwrap().oldest, Some(Timestamp(1_000)));
    assert_eq!(services.forward_activities("test").await.unwrap(), 1200);
    assert_eq!(ports.outbox.backlog().await.unwrap().waiting, 0);
    assert_eq!(services.forward_activities("test").await.unwrap(), 0);
    // A forwarder that died after storing and before emptying the outbox stores again: ignored.
    ports.activity_log.store(&batch[..600]).await.unwrap();
    let everything = services.list_activities(&admin(), &ActivityFilter::default(), None, Some(1000)).await.unwrap();
    let mut seen = everything.items.len();
    let mut next = everything.next;
    while let Some(cursor) = next {
        let page =
            services.list_activities(&admin(), &ActivityFilter::default(), Some(&cursor), Some(1000)).await.unwrap();
        seen += page.items.len();
        next = page.next;
    }
    assert_eq!(seen, 1200);
}
on_both_dialects!(forwarding_is_ordered_and_exactly_once);

/// Keyset pages, every filter, and what a non-administrator may see.
async fn listing_filters_and_pages(db: Database) {
    let services = services(db.ports(None), TestClock::new());
    let ports = services.ports().clone();
    let mut all = Vec::new();
    for i in 0..120 {
        let action = if i % 3 == 0 { "user.login" } else { "vm.start" };
        let outcome = if i % 10 == 0 { Outcome::Failed } else { Outcome::Ok };
        // Several activities share a millisecond: the id breaks the tie.
        all.push(activity(5_000 + i / 4, 10 + i % 2, action, &format!("Lab VM {i}"), outcome));
    }
    ports.activity_log.store(&all).await.unwrap();

    let filter = ActivityFilter::default();
    let first = services.list_activities(&admin(), &filter, None, None).await.unwrap();
    assert_eq!(first.items.len(), 50);
    let second = services.list_activities(&admin(), &filter, first.next.as_deref(), None).await.unwrap();
    let third = services.list_activities(&admin(), &filter, second.next.as_deref(), None).await.unwrap();
    assert_eq!((second.items.len(), third.items.len(), third.next.clone()), (50, 20, None));
    let listed: Vec<(i64, String)> =
        first.items.iter().chain(&second.items).chain(&third.items).map(|a| (a.at.millis(), a.id.clone())).collect();
    let mut expected: Vec<(i64, String)> = all.iter().map(|a| (a.at.millis(), a.id.clone())).collect();
    expected.sort_by(|a, b| b.cmp(a));
    assert_eq!(listed, expected, "newest first, every activity once");

    let count = |filter: ActivityFilter| {
        let services = services.clone();
        async move { services.list_activities(&admin(), &filter, None, Some(1000)).await.unwrap().items.len() }
    };
    assert_eq!(count(ActivityFilter { action: Some("user".into()), ..Default::default() }).await, 40);
    assert_eq!(count(ActivityFilter { action: Some("vm.start".into()), ..Default::default() }).await, 80);
    assert_eq!(count(ActivityFilter { outcome: Some(Outcome::Failed), ..Default::default() }).await, 12);
    assert_eq!(count(ActivityFilter { actor_id: Some(10), ..Default::default() }).await, 60);
    assert_eq!(
        count(ActivityFilter { from: Some(Timestamp(5_010)), until: Some(Timestamp(5_020)), ..Default::default() })
            .await,
        40
    );
    // Words of the target's name, case-insensitive; `%` is matched literally.
    assert_eq!(count(ActivityFilter { text: Some("lab vm 11".into()), ..Default::default() }).await, 11);
    assert_eq!(count(ActivityFilter { text: Some("%".into()), ..Default::default() }).await, 0);

    // Someone without read permission on activities sees only their own.
    let own = services.list_activities(&student(11), &filter, None, Some(1000)).await.unwrap();
    assert_eq!(own.items.len(), 60);
    assert!(own.items.iter().all(|a| a.actor_id == Some(11)));
    assert!(services.list_activities(&student(99), &filter, None, None).await.unwrap().items.is_empty());
}
on_both_dialects!(listing_filters_and_pages);

/// Full-text search on target names (FTS5 / FULLTEXT): word starts, every
/// word, short words anywhere; purged activities leave the index too.
async fn target_names_are_searched_by_words(db: Database) {
    let services = services(db.ports(None), TestClock::new());
    let batch: Vec<Activity> = common::SEARCH_NAMES
        .iter()
        .enumerate()
        .map(|(i, name)| activity(1_000 + i as i64, 10, "vm.start", name, Outcome::Ok))
        .collect();
    services.ports().activity_log.store(&batch).await.unwrap();
    for (search, expected) in common::SEARCHES {
        let filter = ActivityFilter { text: Some(search.into()), ..Default::default() };
        let page = services.list_activities(&admin(), &filter, None, None).await.unwrap();
        let mut found: Vec<String> = page.items.into_iter().map(|a| a.target.name).collect();
        found.sort();
        let mut expected: Vec<String> = expected.iter().map(|n| n.to_string()).collect();
        expected.sort();
        assert_eq!(found, expected, "search {search:?}");
    }
    services.ports().activity_log.purge_before(Timestamp(1_001)).await.unwrap();
    let filter = ActivityFilter { text: Some("linux".into()), ..Default::default() };
    let left = services.list_activities(&admin(), &filter, None, None).await.unwrap().items;
    assert_eq!(left.iter().map(|a| a.target.name.as_str()).collect::<Vec<_>>(), ["linux-advanced"]);
}
on_both_dialects!(target_names_are_searched_by_words);

/// Waits until MariaDB's FULLTEXT index finds `word` in `rows` rows. Right
/// after this test's 6,000-row commit a search under load once found only the
/// newest 1,000 (InnoDB moves a full FULLTEXT cache to disk in the background);
/// what the test checks is paging, so it starts once the index holds every row.
async fn wait_for_fulltext(db: &Database, word: &str, rows: i64) {
    if db.dialect() != store::Dialect::MariaDb {
        return;
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let found: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM activities WHERE MATCH(target_name) AGAINST (? IN BOOLEAN MODE)")
                .bind(format!("+{word}*"))
                .fetch_one(db.pool())
                .await
                .unwrap();
        if found == rows {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "the FULLTEXT index holds {found} of {rows} rows after 30 s");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// More rows than a SQLite search lists as candidates (5,000): a word in
/// every name and a rare word find the same rows as the rule says, page
/// after page, newest first, whichever way the store looks them up.
async fn common_and_rare_words_are_found_page_by_page(db: Database) {
    let services = services(db.ports(None), TestClock::new());
    let names: Vec<String> = (0..6_000)
        .map(|n| if n % 1_000 == 7 { format!("Lab VM {n} of course (exam)") } else { format!("Lab VM {n} of course") })
        .collect();
    let batch: Vec<Activity> =
        names.iter().enumerate().map(|(n, name)| activity(n as i64, 10, "vm.start", name, Outcome::Ok)).collect();
    services.ports().activity_log.store(&batch).await.unwrap();
    wait_for_fulltext(&db, "course", 6_000).await;
    // Every page of a search, followed by its cursors.
    let search = |text: &str| {
        let services = services.clone();
        let filter = ActivityFilter { text: Some(text.into()), ..Default::default() };
        async move {
            let (mut found, mut cursor) = (Vec::new(), None::<String>);
            loop {
                let page = services.list_activities(&admin(), &filter, cursor.as_deref(), Some(1_000)).await.unwrap();
                found.extend(page.items.into_iter().map(|a| a.at.millis()));
                match page.next {
                    Some(next) => cursor = Some(next),
                    None => return found,
                }
            }
        }
    };
    let newest_first = |keep: &dyn Fn(i64) -> bool| (0..6_000).rev().filter(|n| keep(*n)).collect::<Vec<i64>>();
    assert_eq!(search("course").await, newest_first(&|_| true));
    assert_eq!(search("cours lab").await, newest_first(&|_| true), "the start of a word");
    assert_eq!(search("exam").await, newest_first(&|n| n % 1_000 == 7));
    assert_eq!(search("EXAM cour").await, newest_first(&|n| n % 1_000 == 7));
    assert_eq!(search("vm 7 course").await, newest_first(&|n| n.to_string().contains('7')));
    assert_eq!(search("ourse").await, Vec::<i64>::new(), "not the middle of a word");
    assert_eq!(search("examination").await, Vec::<i64>::new(), "longer than the indexed prefix");
}
on_both_dialects!(common_and_rare_words_are_found_page_by_page);

/// What a reader without the activity permission sees: what they did, what
/// was done to their account and everything in the events they teach; each
/// once (their own action in their event too), newest first, page by page,
/// however many events they teach.
async fn a_readers_own_scope_lists_each_activity_once(db: Database) {
    use domain::activity::{ActivityCursor, ActivityScope};
    let log = db.ports(None).activity_log.clone();
    let mut at = 0;
    let mut next = |actor: i64, event: Option<i64>, target: ActivityTarget| {
        at += 1;
        Activity { event_id: event, target, ..activity(at, actor, "vm.start", "Lab VM", Outcome::Ok) }
    };
    let vm = || ActivityTarget::new("vms", 1, "Lab VM");
    let batch = vec![
        next(10, None, vm()),                                        // 1: their own
        next(10, Some(5), vm()),                                     // 2: their own, in their event
        next(11, Some(5), vm()),                                     // 3: in their event
        next(11, Some(7), vm()),                                     // 4: hidden
        next(11, None, ActivityTarget::new("users", 10, "teacher")), // 5: done to their account
        next(11, None, ActivityTarget::new("users", 11, "someone")), // 6: hidden
        next(12, Some(6), vm()),                                     // 7: in their other event
    ];
    log.store(&batch).await.unwrap();
    let visible = [7, 5, 3, 2, 1];
    for events in [vec![5, 6], (1..=70).filter(|e| *e != 7).collect::<Vec<i64>>()] {
        let scope = ActivityScope::Own { user_id: 10, instructed_events: events.clone() };
        let (mut listed, mut cursor) = (Vec::new(), None::<ActivityCursor>);
        loop {
            let page = log.query(&scope, &ActivityFilter::default(), cursor.as_ref(), 2).await.unwrap();
            listed.extend(page.iter().map(|a| a.at.millis()));
            match page.last() {
                Some(last) if page.len() == 2 => cursor = Some(ActivityCursor { at: last.at, id: last.id.clone() }),
                _ => break,
            }
        }
        assert_eq!(listed, visible, "teaching {} events", events.len());
        let only_vms = ActivityFilter { target_kind: Some("vms".into()), ..Default::default() };
        let vms: Vec<i64> =
            log.query(&scope, &only_vms, None, 10).await.unwrap().iter().map(|a| a.at.millis()).collect();
        assert_eq!(vms, [7, 3, 2, 1], "with a filter, teaching {} events", events.len());
    }
}
on_both_dialects!(a_readers_own_scope_lists_each_activity_once);
