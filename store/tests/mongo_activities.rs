//! The MongoDB activity log against a real MongoDB wire-protocol server
//! (nx-27017), and the outbox forwarding into it: MongoDB down and back,
//! forwarding repeated, two forwarders at once.

mod common;

use std::sync::Arc;

use common::{PrivateMongo, TestClock, TestDb, services};
use domain::activity::{Activity, ActivityFilter, ActivityTarget, ActorKind, Origin, Outcome};
use domain::time::Timestamp;
use domain::{AccessLevel, Actor, Grant, ObjectType};
use futures_util::TryStreamExt;
use mongodb::bson::{Document, doc};
use services::Services;
use services::activities::{ActivityLog, new_activity_id};
use store::mongo::{MongoActivityLog, MongoSettings};

fn admin() -> Actor {
    Actor {
        user_id: 1,
        username: "admin".into(),
        role_keys: vec!["admin".into()],
        grants: vec![
            Grant::model(ObjectType::Setting, AccessLevel::Full),
            Grant::model(ObjectType::Activity, AccessLevel::Full),
        ],
        origin: Origin { request_id: Some("req-7".into()), client_ip: Some("10.0.0.7".into()) },
    }
}

fn activity(at: i64, actor: i64, action: &str, target: &str, outcome: Outcome) -> Activity {
    Activity {
        id: new_activity_id(),
        at: Timestamp(at),
        actor_kind: ActorKind::User,
        actor_id: Some(actor),
        actor_name: format!("user{actor}"),
        action: action.into(),
        target: ActivityTarget::new("vms", 7, target),
        event_id: Some(3),
        outcome,
        reason: (outcome == Outcome::Failed).then(|| "timeout".into()),
        request_id: Some("r".into()),
        client_ip: Some("10.0.0.1".into()),
        details: serde_json::json!({ "memory_mb": 2048, "tags": ["a", "b"] }),
    }
}

/// Times near now: the TTL index (retention 30 days) removes older activities at once.
fn recent(offset: i64) -> i64 {
    use services::clock::Clock;
    services::clock::SystemClock.now().millis() / 1_000_000 * 1_000_000 + offset
}

fn database_name() -> String {
    format!("openvle_test_{:08x}", rand::random::<u32>())
}

async fn mongo_log(uri: &str, database: &str) -> MongoActivityLog {
    let settings = MongoSettings {
        uri: uri.into(),
        username: None,
        password: None,
        database: database.into(),
        retention_days: 30,
    };
    MongoActivityLog::new(&settings).await.expect("mongo client")
}

/// Services on SQLite whose activity log is MongoDB.
async fn services_with(db: &TestDb, log: Arc<MongoActivityLog>) -> Services {
    let mut ports = db.db.ports(None);
    ports.activity_log = log;
    services(ports, TestClock::new())
}

/// The raw documents, in the order the server stored them.
async fn stored(uri: &str, database: &str) -> Vec<Document> {
    let client = mongodb::Client::with_uri_str(uri).await.unwrap();
    client
        .database(database)
        .collection::<Document>("activities")
        .find(doc! {})
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap()
}

#[tokio::test]
async fn adapter_stores_filters_pages_and_ignores_duplicates() {
    let mongo = PrivateMongo::start().await;
    let database = database_name();
    let log = Arc::new(mongo_log(&mongo.uri(), &database).await);
    let db = TestDb::sqlite().await;
    let services = services_with(&db, log.clone()).await;

    let all: Vec<Activity> = (0..120)
        .map(|i| {
            let action = if i % 3 == 0 { "user.login" } else { "vm.start" };
            let outcome = if i % 10 == 0 { Outcome::Failed } else { Outcome::Ok };
            activity(recent(i / 4), 10 + i % 2, action, &format!("Lab VM {i}"), outcome)
        })
        .collect();
    log.store(&all).await.unwrap();
    log.store(&all[..50]).await.unwrap();
    assert_eq!(stored(&mongo.uri(), &database).await.len(), 120, "a repeated store is ignored");
    let client = mongodb::Client::with_uri_str(mongo.uri()).await.unwrap();
    let indexes = client.database(&database).collection::<Document>("activities").list_index_names().await.unwrap();
    assert!(indexes.len() >= 6, "time, actor, event, action, target and TTL indexes: {indexes:?}");

    // Round trip: every field, numbers and times as written, details as JSON.
    let one = services.list_activities(&admin(), &ActivityFilter::default(), None, Some(1)).await.unwrap();
    let newest = all.iter().max_by_key(|a| (a.at, a.id.clone())).unwrap();
    assert_eq!(&one.items[0], newest);

    let mut listed = Vec::new();
    let mut cursor = None;
    loop {
        let page =
            services.list_activities(&admin(), &ActivityFilter::default(), cursor.as_deref(), Some(50)).await.unwrap();
        listed.extend(page.items.iter().map(|a| (a.at.millis(), a.id.clone())));
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let mut expected: Vec<(i64, String)> = all.iter().map(|a| (a.at.millis(), a.id.clone())).collect();
    expected.sort_by(|a, b| b.cmp(a));
    assert_eq!(listed, expected, "keyset pages: newest first, each once");

    let count = |filter: ActivityFilter| {
        let services = services.clone();
        async move { services.list_activities(&admin(), &filter, None, Some(1000)).await.unwrap().items.len() }
    };
    assert_eq!(count(ActivityFilter { action: Some("user".into()), ..Default::default() }).await, 40);
    assert_eq!(count(ActivityFilter { outcome: Some(Outcome::Failed), ..Default::default() }).await, 12);
    assert_eq!(count(ActivityFilter { actor_id: Some(10), ..Default::default() }).await, 60);
    assert_eq!(count(ActivityFilter { event_id: Some(3), ..Default::default() }).await, 120);
    let window =
        ActivityFilter { from: Some(Timestamp(recent(10))), until: Some(Timestamp(recent(20))), ..Default::default() };
    assert_eq!(count(window).await, 40);
    assert_eq!(count(ActivityFilter { text: Some("LAB vm 11".into()), ..Default::default() }).await, 11);
    assert_eq!(
        count(ActivityFilter { text: Some("vm.*".into()), ..Default::default() }).await,
        120,
        "words, not a regex"
    );
    assert_eq!(count(ActivityFilter { text: Some("(.*".into()), ..Default::default() }).await, 0);
    let student =
        Actor { user_id: 11, username: "s".into(), role_keys: vec![], grants: vec![], origin: Origin::default() };
    let own = services.list_activities(&student, &ActivityFilter::default(), None, Some(1000)).await.unwrap();
    assert!(own.items.len() == 60 && own.items.iter().all(|a| a.actor_id == Some(11)));

    assert_eq!(log.purge_before(Timestamp(recent(10))).await.unwrap(), 40);
}

/// The same searches find the same activities as in SQL (`store/tests/activities.rs`).
#[tokio::test]
async fn target_names_are_searched_by_words_as_in_sql() {
    let mongo = PrivateMongo::start().await;
    let database = database_name();
    let log = Arc::new(mongo_log(&mongo.uri(), &database).await);
    let db = TestDb::sqlite().await;
    let services = services_with(&db, log.clone()).await;
    let batch: Vec<Activity> = common::SEARCH_NAMES
        .iter()
        .enumerate()
        .map(|(i, name)| activity(recent(i as i64), 10, "vm.start", name, Outcome::Ok))
        .collect();
    log.store(&batch).await.unwrap();
    for (search, expected) in common::SEARCHES {
        let filter = ActivityFilter { text: Some(search.into()), ..Default::default() };
        let page = services.list_activities(&admin(), &filter, None, None).await.unwrap();
        let mut found: Vec<String> = page.items.into_iter().map(|a| a.target.name).collect();
        found.sort();
        let mut expected: Vec<String> = expected.iter().map(|n| n.to_string()).collect();
        expected.sort();
        assert_eq!(found, expected, "search {search:?}");
    }
}

async fn index_names(uri: &str, database: &str) -> Vec<String> {
    let client = mongodb::Client::with_uri_str(uri).await.unwrap();
    client.database(database).collection::<Document>("activities").list_index_names().await.unwrap_or_default()
}

#[tokio::test]
async fn outbox_waits_while_mongodb_is_down_and_flows_in_order_exactly_once() {
    let mut mongo = PrivateMongo::start().await;
    let database = database_name();
    let log = Arc::new(mongo_log(&mongo.uri(), &database).await);
    let db = TestDb::sqlite().await;
    let services = services_with(&db, log.clone()).await;
    let ports = services.ports().clone();

    // MongoDB is down at the very first write: the indexes are made once it is back.
    mongo.stop();
    services.update_setting(&admin(), "contact.mail", "a@example.org").await.unwrap();
    assert!(services.forward_activities("first").await.is_err(), "MongoDB is down");
    let mut mongo = mongo.restart().await;

    // Changes made through the services: their activities wait in the outbox.
    for value in ["b@example.org", "c@example.org"] {
        services.update_setting(&admin(), "contact.mail", value).await.unwrap();
    }
    assert_eq!(services.forward_activities("first").await.unwrap(), 3);
    let indexes = index_names(&mongo.uri(), &database).await;
    assert!(indexes.len() >= 6, "indexes made after the outage at the first write: {indexes:?}");

    mongo.stop();
    for value in ["d@example.org", "e@example.org"] {
        services.update_setting(&admin(), "contact.mail", value).await.unwrap();
    }
    for i in 0..20 {
        ports.outbox.append(&activity(recent(i), 5, "vm.stop", "vm-x", Outcome::Ok)).await.unwrap();
    }
    assert!(services.forward_activities("first").await.is_err(), "MongoDB is down");
    assert_eq!(ports.outbox.backlog().await.unwrap().waiting, 22, "nothing lost, nothing forwarded");

    let mongo = mongo.restart().await;
    let waiting: Vec<String> = ports.outbox.oldest(100).await.unwrap().into_iter().map(|(_, a)| a.id).collect();
    // A forwarder that stored part of a batch and died before emptying the outbox.
    log.store(&ports.outbox.oldest(5).await.unwrap().into_iter().map(|(_, a)| a).collect::<Vec<_>>()).await.unwrap();
    // Two forwarders at once (two processes): the lease lets one work.
    let other = services.clone();
    let (a, b) = tokio::join!(services.forward_activities("first"), other.forward_activities("second"));
    let forwarded = a.unwrap() + b.unwrap();
    if forwarded < 22 {
        services.forward_activities("first").await.unwrap();
    }
    assert_eq!(ports.outbox.backlog().await.unwrap().waiting, 0);

    let documents = stored(&mongo.uri(), &database).await;
    let ids: Vec<String> = documents.iter().map(|d| d.get_str("_id").unwrap().to_string()).collect();
    assert_eq!(ids.len(), 25, "every activity exactly once");
    assert_eq!(ids[3..], waiting[..], "stored in the order they were written");
    let settings: Vec<String> = documents
        .iter()
        .filter(|d| d.get_str("action") == Ok("settings.update"))
        .map(|d| d.get_document("details").unwrap().get_str("to").unwrap().to_string())
        .collect();
    assert_eq!(settings, ["a@example.org", "b@example.org", "c@example.org", "d@example.org", "e@example.org"]);
    let first = &documents[0];
    assert!(first.get_datetime("at").is_ok(), "time is a BSON DateTime");
    assert_eq!((first.get_str("request_id"), first.get_str("client_ip")), (Ok("req-7"), Ok("10.0.0.7")));
}
