//! The saved Proxmox VE connection on SQLite and MariaDB: stored encrypted,
//! saved connection over the environment's, replicas rebuilding their client
//! when another one saved, and the secret's key handling.

mod common;

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use domain::access::DEFAULT_ROLES;
use domain::cluster::{ClusterProblem, ConnectionInput, ConnectionSource, NodeView, TemplateView};
use domain::{Actor, AppError, Grant};
use services::Services;
use services::cluster::{
    Cluster, ClusterConnector, ClusterHandle, ClusterSettings, ClusterVersion, EnvironmentCluster, SECRET_PURPOSE,
};
use services::secrets::SecretKey;
use store::Database;

const SECRET: &str = "5f0c7a2e-token-secret";

fn actor(role: &str) -> Actor {
    let grants = DEFAULT_ROLES
        .iter()
        .find(|r| r.key == role)
        .map(|r| r.grants.iter().map(|(t, l)| Grant::model(*t, *l)).collect())
        .unwrap_or_default();
    Actor {
        user_id: 1,
        username: format!("the-{role}"),
        role_keys: vec![role.into()],
        grants,
        origin: Default::default(),
    }
}

/// Answers its settings as the version, so tests see which client is in use.
struct FakeCluster(ClusterSettings);

#[async_trait]
impl Cluster for FakeCluster {
    async fn version(&self) -> Result<ClusterVersion, ClusterProblem> {
        Ok(ClusterVersion { version: format!("{} {}", self.0.url, self.0.secret), release: "8.2".into() })
    }
    async fn nodes(&self) -> Result<Vec<NodeView>, ClusterProblem> {
        Ok(vec![])
    }
    async fn templates(&self) -> Result<Vec<TemplateView>, ClusterProblem> {
        Ok(vec![])
    }
}

#[derive(Default)]
struct FakeConnector {
    built: Mutex<Vec<ClusterSettings>>,
}

impl ClusterConnector for FakeConnector {
    fn connect(&self, settings: &ClusterSettings) -> Result<Arc<dyn Cluster>, ClusterProblem> {
        self.built.lock().unwrap().push(settings.clone());
        Ok(Arc::new(FakeCluster(settings.clone())))
    }
}

fn services(db: &Database, key: Option<[u8; 32]>, env: Option<ClusterSettings>) -> Services {
    let environment =
        env.map(|settings| EnvironmentCluster { client: Arc::new(FakeCluster(settings.clone())), settings });
    let handle = ClusterHandle::new(Arc::new(FakeConnector::default()), environment, key.map(SecretKey::from_bytes));
    common::services(db.ports(None), common::TestClock::new()).with_cluster(handle)
}

fn input(url: &str, secret: &str) -> ConnectionInput {
    ConnectionInput {
        url: url.into(),
        token_id: "openvle@pve!demo".into(),
        secret: secret.into(),
        fingerprint: String::new(),
        verify_tls: true,
        pool: String::new(),
    }
}

async fn version_in_use(services: &Services) -> Result<String, AppError> {
    Ok(services.current_cluster().await?.version().await.map_err(|problem| AppError::Cluster { problem })?.version)
}

fn problem(result: Result<impl std::fmt::Debug, AppError>) -> ClusterProblem {
    match result {
        Err(AppError::Cluster { problem }) => problem,
        other => panic!("expected a cluster problem, got {other:?}"),
    }
}

async fn saved_connection_is_encrypted_and_followed_by_replicas(db: Database) {
    let admin = actor("admin");
    let a = services(&db, Some([1; 32]), None);
    let b = services(&db, Some([1; 32]), None);

    let view = a.connection_settings(&admin).await.unwrap();
    assert_eq!((view.source, view.secret_set, view.can_save), (None, false, true));
    assert_eq!(problem(a.current_cluster().await.map(|_| ())), ClusterProblem::NotConfigured);

    // No secret stored or in the environment: one is required.
    let err = a.save_connection(&admin, &input("https://pve:8006", "")).await.unwrap_err();
    assert_eq!(err.field(), Some("secret"));
    // Bad input names its field.
    for (bad, field) in [
        (ConnectionInput { url: "ftp://pve".into(), ..input("", SECRET) }, "url"),
        (ConnectionInput { token_id: "openvle@pve".into(), ..input("pve", SECRET) }, "token_id"),
        (ConnectionInput { fingerprint: "abcd".into(), ..input("pve", SECRET) }, "fingerprint"),
    ] {
        assert_eq!(a.save_connection(&admin, &bad).await.unwrap_err().field(), Some(field));
    }

    a.save_connection(&admin, &input("pve.example.org", SECRET)).await.unwrap();
    let stored = db.ports(None).connection.get().await.unwrap().unwrap();
    assert_eq!(stored.revision, 1);
    assert_eq!(stored.url, "https://pve.example.org");
    assert_eq!(stored.pool, "OpenVLE-VMs");
    assert_eq!(stored.updated_by.as_deref(), Some("the-admin"));
    assert!(!stored.secret_sealed.contains(SECRET), "the secret is stored encrypted");
    assert_eq!(SecretKey::from_bytes([1; 32]).open(SECRET_PURPOSE, &stored.secret_sealed).unwrap(), SECRET);

    let view = a.connection_settings(&admin).await.unwrap();
    assert_eq!((view.source, view.secret_set), (Some(ConnectionSource::Saved), true));
    assert!(!format!("{view:?}").contains(SECRET));
    assert_eq!(version_in_use(&a).await.unwrap(), format!("https://pve.example.org {SECRET}"));
    assert_eq!(version_in_use(&b).await.unwrap(), format!("https://pve.example.org {SECRET}"));

    // Saved on replica A with an empty secret: the secret is kept, and B
    // rebuilds its client from the new revision.
    a.save_connection(&admin, &input("https://pve2.example.org:8006", "")).await.unwrap();
    assert_eq!(db.ports(None).connection.get().await.unwrap().unwrap().revision, 2);
    assert_eq!(version_in_use(&b).await.unwrap(), format!("https://pve2.example.org:8006 {SECRET}"));

    // Without the key the saved connection cannot be read or replaced.
    let keyless = services(&db, None, None);
    assert_eq!(problem(keyless.current_cluster().await.map(|_| ())), ClusterProblem::SecretKeyMissing);
    assert_eq!(problem(keyless.save_connection(&admin, &input("pve", SECRET)).await), ClusterProblem::SecretKeyMissing);
    assert!(!keyless.connection_settings(&admin).await.unwrap().can_save);
    // With another key it does not decrypt: the page says so, and the secret must be entered again.
    let rekeyed = services(&db, Some([2; 32]), None);
    assert_eq!(problem(rekeyed.current_cluster().await.map(|_| ())), ClusterProblem::SecretUnreadable);
    assert_eq!(rekeyed.connection_settings(&admin).await.unwrap().problem, Some(ClusterProblem::SecretUnreadable));
    let err = rekeyed.save_connection(&admin, &input("pve", "")).await.unwrap_err();
    assert_eq!(err.field(), Some("secret"));
    rekeyed.save_connection(&admin, &input("pve", "new-secret")).await.unwrap();
    assert_eq!(version_in_use(&rekeyed).await.unwrap(), "https://pve new-secret");
}
on_both_dialects!(saved_connection_is_encrypted_and_followed_by_replicas);

async fn environment_is_the_default_until_a_connection_is_saved(db: Database) {
    let admin = actor("admin");
    let env = ClusterSettings {
        url: "https://env-pve:8006".into(),
        token_id: "openvle@pve!env".into(),
        secret: "env-secret".into(),
        fingerprint: None,
        verify_tls: false,
        pool: "EnvPool".into(),
    };
    let s = services(&db, Some([3; 32]), Some(env));
    let view = s.connection_settings(&admin).await.unwrap();
    assert_eq!(view.source, Some(ConnectionSource::Environment));
    assert_eq!((view.url.as_str(), view.pool.as_str(), view.verify_tls), ("https://env-pve:8006", "EnvPool", false));
    assert!(view.secret_set && view.environment_configured);
    assert_eq!(version_in_use(&s).await.unwrap(), "https://env-pve:8006 env-secret");

    // Saving with an empty secret keeps the environment's; the saved connection wins from now on.
    s.save_connection(&admin, &input("https://saved-pve:8006", "")).await.unwrap();
    assert_eq!(s.connection_settings(&admin).await.unwrap().source, Some(ConnectionSource::Saved));
    assert_eq!(version_in_use(&s).await.unwrap(), "https://saved-pve:8006 env-secret");
}
on_both_dialects!(environment_is_the_default_until_a_connection_is_saved);

async fn only_permitted_roles_reach_the_cluster(db: Database) {
    let s = services(&db, Some([4; 32]), None);
    s.save_connection(&actor("admin"), &input("pve", SECRET)).await.unwrap();
    let instructor = actor("instructor");
    assert_eq!(s.connection_settings(&instructor).await.unwrap_err(), AppError::Forbidden);
    assert_eq!(s.save_connection(&instructor, &input("pve", "x")).await.unwrap_err(), AppError::Forbidden);
    assert_eq!(s.test_connection(&instructor).await.unwrap_err(), AppError::Forbidden);
    assert_eq!(s.cluster_nodes(&instructor).await.unwrap_err(), AppError::Forbidden);
    assert!(s.cluster_templates(&instructor).await.is_ok());
    let participant = actor("participant");
    assert_eq!(s.cluster_templates(&participant).await.unwrap_err(), AppError::Forbidden);
    let test = s.test_connection(&actor("admin")).await.unwrap();
    assert_eq!(test.release, "8.2");
}
on_both_dialects!(only_permitted_roles_reach_the_cluster);
