//! Session expiry and rate-limit windows with a clock the test controls,
//! through the account use cases on the real SQL store.

mod common;

use common::{TestClock, TestDb, services};
use domain::activity::Origin;
use store::Database;

async fn seeded(db: &Database, clock: std::sync::Arc<TestClock>) -> services::Services {
    let services = services(db.ports(None), clock);
    services
        .bootstrap_user(services::accounts::UserInput {
            username: "kim".into(),
            name: "Kim".into(),
            email: "kim@example.org".into(),
            language: "de".into(),
            password: "Correct-Horse-42".into(),
            role_keys: vec!["participant".into()],
        })
        .await
        .unwrap();
    services
}

async fn sessions_expire_unless_used(db: Database) {
    let clock = TestClock::new();
    let services = seeded(&db, clock.clone()).await;
    let session = services.login("KIM", "Correct-Horse-42", &Origin::client("10.0.0.1")).await.unwrap();
    assert_eq!(session.lifetime_secs, 480 * 60, "default lifetime from the settings");
    let user = services.session_user(&session.token).await.unwrap().unwrap();
    assert_eq!((user.actor.username.as_str(), user.language), ("kim", domain::Language::De));

    // Used in the second half of its life, the session is extended...
    clock.advance_secs(300 * 60);
    assert!(services.session_user(&session.token).await.unwrap().is_some());
    clock.advance_secs(300 * 60);
    assert!(services.session_user(&session.token).await.unwrap().is_some(), "extended by the earlier use");
    // ...but left alone past its lifetime it ends.
    clock.advance_secs(481 * 60);
    assert!(services.session_user(&session.token).await.unwrap().is_none());
    assert!(services.session_user("forged-token").await.unwrap().is_none());
}
on_both_dialects!(sessions_expire_unless_used);

async fn lockout_window_ends(db: Database) {
    let clock = TestClock::new();
    let services = seeded(&db, clock.clone()).await;
    for _ in 0..services::sessions::ACCOUNT_ATTEMPTS {
        assert_eq!(
            services.login("kim", "wrong", &Origin::client("10.0.0.2")).await.unwrap_err(),
            domain::AppError::InvalidCredentials
        );
    }
    let limited = services.login("kim", "Correct-Horse-42", &Origin::client("10.0.0.2")).await.unwrap_err();
    assert!(matches!(limited, domain::AppError::RateLimited { retry_after_secs } if retry_after_secs > 800));
    clock.advance_secs(i64::try_from(services::sessions::ATTEMPT_WINDOW_SECS).unwrap() + 1);
    assert!(
        services.login("kim", "Correct-Horse-42", &Origin::client("10.0.0.2")).await.is_ok(),
        "the window has ended"
    );
}
on_both_dialects!(lockout_window_ends);

#[tokio::test]
async fn a_new_auth_secret_ends_every_session() {
    let t = TestDb::sqlite().await;
    let clock = TestClock::new();
    let services = seeded(&t.db, clock.clone()).await;
    let session = services.login("kim", "Correct-Horse-42", &Origin::client("10.0.0.3")).await.unwrap();
    let rotated = services::Services::new(t.db.ports(None), clock, "another-secret-0123456789abcdef0123");
    assert!(rotated.session_user(&session.token).await.unwrap().is_none());
    assert!(services.session_user(&session.token).await.unwrap().is_some());
}
