//! What the use cases need from storage. Adapters live in `store`; the same
//! contract is implemented for MariaDB, SQLite and (sessions, attempts) Redis.

use async_trait::async_trait;
use domain::activity::Activity;
use domain::page::{Page, PageRequest};
use domain::policy::PolicyView;
use domain::settings::SettingView;
use domain::time::Timestamp;
use domain::user::{RoleRef, RoleView};
use domain::{AppError, AuthBackend, Grant, Language, SecretText, UserStatus};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique constraint refused the write; names the column (`username`, `email`, `key`).
    #[error("duplicate {0}")]
    Duplicate(String),
    #[error("not found")]
    NotFound,
    /// The backing service could not be reached or answered with an error.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// Stored data did not have the expected shape.
    #[error("corrupt data: {0}")]
    Corrupt(String),
}

/// Logs an unexpected failure with a short reference and returns the
/// user-facing error that carries only that reference.
pub fn internal(context: &str, error: &dyn std::fmt::Display) -> AppError {
    let reference = hex::encode(rand::random::<[u8; 4]>());
    tracing::error!(%reference, error = %error, "{context}");
    AppError::Internal { reference }
}

impl From<StoreError> for AppError {
    fn from(error: StoreError) -> AppError {
        match error {
            StoreError::Duplicate(field) => AppError::invalid(&field, domain::error::Problem::Taken),
            StoreError::NotFound => AppError::NotFound,
            other => internal("storage failed", &other),
        }
    }
}

/// A user row including what never leaves the server.
#[derive(Clone, Debug)]
pub struct UserRecord {
    pub id: i64,
    pub username: String,
    pub name: String,
    pub email: String,
    pub language: Language,
    pub status: UserStatus,
    pub auth_backend: AuthBackend,
    pub password_hash: Option<String>,
    pub created_at: Timestamp,
    pub last_login_at: Option<Timestamp>,
}

#[derive(Clone, Debug)]
pub struct NewUser {
    pub username: String,
    pub name: String,
    pub email: String,
    pub language: Language,
    pub status: UserStatus,
    pub auth_backend: AuthBackend,
    pub password_hash: Option<String>,
    pub created_at: Timestamp,
}

#[derive(Clone, Debug, Default)]
pub struct UserQuery {
    /// Matches username, name or e-mail (substring, case-insensitive).
    pub text: Option<String>,
    pub status: Option<UserStatus>,
    pub role_key: Option<String>,
}

// Mutating repository methods take the activity that describes the change as
// their last argument and commit it to the outbox in the same transaction
// (see `activities`). `None`: the write is part of a change whose activity
// rides on another write of the same use case.

#[async_trait]
pub trait UserRepo: Send + Sync {
    async fn insert(&self, user: NewUser, activity: Option<&Activity>) -> Result<i64, StoreError>;
    async fn by_id(&self, id: i64) -> Result<Option<UserRecord>, StoreError>;
    async fn by_username(&self, username: &str) -> Result<Option<UserRecord>, StoreError>;
    async fn search(&self, query: &UserQuery, page: PageRequest) -> Result<Page<UserRecord>, StoreError>;
    async fn update_profile(
        &self,
        id: i64,
        name: &str,
        email: &str,
        language: Language,
        activity: Option<&Activity>,
    ) -> Result<(), StoreError>;
    async fn set_status(&self, id: i64, status: UserStatus, activity: Option<&Activity>) -> Result<(), StoreError>;
    async fn set_password_hash(&self, id: i64, hash: &str, activity: Option<&Activity>) -> Result<(), StoreError>;
    async fn set_last_login(&self, id: i64, at: Timestamp, activity: Option<&Activity>) -> Result<(), StoreError>;
    async fn delete(&self, id: i64, activity: Option<&Activity>) -> Result<(), StoreError>;
    async fn roles_of(&self, id: i64) -> Result<Vec<RoleRef>, StoreError>;
    /// Replaces the user's roles.
    async fn set_roles(&self, id: i64, role_ids: &[i64], activity: Option<&Activity>) -> Result<(), StoreError>;
    /// The user's grants from all their roles plus their own object grants.
    async fn grants_of(&self, id: i64) -> Result<Vec<Grant>, StoreError>;
    /// Gives one user a grant on one object (creators get access to what they create).
    async fn add_object_grant(&self, id: i64, grant: &Grant, activity: Option<&Activity>) -> Result<(), StoreError>;
    /// Active users holding the role with this key.
    async fn count_active_with_role(&self, role_key: &str) -> Result<u64, StoreError>;
}

#[derive(Clone, Debug)]
pub struct RoleRecord {
    pub key: String,
    pub name: String,
    pub description: String,
    pub permissions: Vec<Grant>,
}

#[async_trait]
pub trait RoleRepo: Send + Sync {
    async fn list(&self) -> Result<Vec<RoleView>, StoreError>;
    async fn by_id(&self, id: i64) -> Result<Option<RoleView>, StoreError>;
    async fn by_key(&self, key: &str) -> Result<Option<RoleView>, StoreError>;
    async fn insert(&self, role: &RoleRecord, activity: Option<&Activity>) -> Result<i64, StoreError>;
    /// Updates name, description and permissions; the key never changes.
    async fn update(&self, id: i64, role: &RoleRecord, activity: Option<&Activity>) -> Result<(), StoreError>;
    async fn delete(&self, id: i64, activity: Option<&Activity>) -> Result<(), StoreError>;
}

#[async_trait]
pub trait SettingsRepo: Send + Sync {
    async fn list(&self) -> Result<Vec<SettingView>, StoreError>;
    async fn get(&self, key: &str) -> Result<Option<SettingView>, StoreError>;
    async fn set_value(&self, key: &str, value: &str, activity: Option<&Activity>) -> Result<(), StoreError>;
}

#[derive(Clone, Debug)]
pub struct PolicyRecord {
    pub name: String,
    pub description: String,
    pub content: String,
}

#[async_trait]
pub trait PolicyRepo: Send + Sync {
    async fn list(&self) -> Result<Vec<PolicyView>, StoreError>;
    async fn by_id(&self, id: i64) -> Result<Option<PolicyView>, StoreError>;
    async fn insert(&self, policy: &PolicyRecord, activity: Option<&Activity>) -> Result<i64, StoreError>;
    async fn update(&self, id: i64, policy: &PolicyRecord, activity: Option<&Activity>) -> Result<(), StoreError>;
    async fn set_active(&self, id: i64, active: bool, activity: Option<&Activity>) -> Result<(), StoreError>;
    async fn accept(&self, id: i64, user_id: i64, at: Timestamp, activity: Option<&Activity>)
    -> Result<(), StoreError>;
    /// Active policies the user has not accepted.
    async fn pending_for(&self, user_id: i64) -> Result<Vec<i64>, StoreError>;
}

/// A server-side session. Only a hash of the cookie's token is stored, so a
/// leaked session table cannot be replayed.
#[derive(Clone, Debug, PartialEq)]
pub struct SessionRecord {
    pub token_hash: String,
    pub user_id: i64,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    /// The OpenID provider's ID token of a single sign-on session, sent back as
    /// `id_token_hint` when the user signs out (RP-initiated logout).
    pub id_token: Option<SecretText>,
}

#[async_trait]
pub trait SessionStore: Send + Sync {
    async fn create(&self, session: &SessionRecord) -> Result<(), StoreError>;
    async fn get(&self, token_hash: &str) -> Result<Option<SessionRecord>, StoreError>;
    async fn extend(&self, token_hash: &str, expires_at: Timestamp) -> Result<(), StoreError>;
    async fn delete(&self, token_hash: &str) -> Result<(), StoreError>;
    /// Ends every session of a user except `keep` (the caller's own, when changing a password).
    async fn delete_for_user(&self, user_id: i64, keep: Option<&str>) -> Result<(), StoreError>;
    async fn purge_expired(&self, now: Timestamp) -> Result<u64, StoreError>;
}

/// Single sign-on attempts waiting for the provider's callback: the secrets of the attempt
/// (state, nonce, PKCE verifier) stay on the server under a random id that only the
/// browser's cookie names. Shared by all replicas (Redis or SQL).
#[async_trait]
pub trait PendingLogins: Send + Sync {
    async fn put(&self, id: &str, value: &str, expires_at: Timestamp) -> Result<(), StoreError>;
    /// Removes and returns the value (single use); `None` when unknown or expired at `now`.
    async fn take(&self, id: &str, now: Timestamp) -> Result<Option<String>, StoreError>;
    async fn purge_expired(&self, now: Timestamp) -> Result<u64, StoreError>;
}

/// Counts failed attempts per key in fixed windows (login rate limiting). Shared
/// by all replicas, hence a port (Redis or SQL) and not process memory.
#[async_trait]
pub trait AttemptCounter: Send + Sync {
    /// Adds one failure and returns the count in the current window.
    async fn add(&self, key: &str, window_secs: u64, now: Timestamp) -> Result<u32, StoreError>;
    async fn count(&self, key: &str, now: Timestamp) -> Result<u32, StoreError>;
    /// Seconds until the current window of `key` ends (0 when none is open).
    async fn retry_after(&self, key: &str, now: Timestamp) -> Result<u64, StoreError>;
    async fn reset(&self, key: &str) -> Result<(), StoreError>;
}
