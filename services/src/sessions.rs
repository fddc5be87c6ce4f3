//! Signing in and out, and turning a session cookie back into a user.

use base64::Engine;
use domain::activity::{Activity, ActivityTarget, ActorKind, Origin, Outcome, typed_name};
use domain::settings::{LOCAL_LOGIN_FOR_NON_ADMINS, SESSION_LIFETIME_MINUTES};
use domain::user::SessionUser;
use domain::{Actor, AppError, AuthBackend, Language, SecretText, UserStatus, validate};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::directory::{Directory, DirectoryError};
use crate::ports::{NewUser, SessionRecord, StoreError, UserRecord, internal};
use crate::{Services, passwords};

/// Failed attempts allowed per account and per client address in one window.
pub const ACCOUNT_ATTEMPTS: u32 = 5;
pub const CLIENT_ATTEMPTS: u32 = 30;
pub const ATTEMPT_WINDOW_SECS: u64 = 15 * 60;

/// A new session: `token` goes into the cookie and is never stored.
#[derive(Debug)]
pub struct NewSession {
    pub token: String,
    pub user_id: i64,
    pub lifetime_secs: i64,
}

/// Key for hashing session tokens before they are stored (HMAC-SHA256 with
/// AUTH_SECRET): a copy of the sessions table is useless without the secret,
/// and rotating the secret ends every session, as in the original product.
pub struct SessionKey(Vec<u8>);

impl SessionKey {
    pub fn new(secret: &str) -> SessionKey {
        SessionKey(secret.as_bytes().to_vec())
    }

    fn hash(&self, token: &str) -> String {
        match Hmac::<Sha256>::new_from_slice(&self.0) {
            Ok(mut mac) => {
                mac.update(token.as_bytes());
                hex::encode(mac.finalize().into_bytes())
            }
            // HMAC accepts keys of any length; this arm cannot be reached.
            Err(_) => String::new(),
        }
    }
}

/// Why a sign-in was refused, as the `reason` of its `user.login_failed`
/// (a stable key; never a message that could carry a secret).
fn refusal_reason(error: &AppError) -> String {
    match error {
        AppError::AccountDisabled { .. } => "account_disabled".into(),
        AppError::DirectoryUnreachable => "directory_unreachable".into(),
        AppError::Conflict { reason } => reason.clone(),
        _ => "error".into(),
    }
}

fn account_key(username: &str) -> String {
    format!("login:user:{username}")
}

fn client_key(client_ip: &str) -> String {
    format!("login:ip:{client_ip}")
}

impl Services {
    /// The stored form of a session token.
    pub fn token_hash(&self, token: &str) -> String {
        self.session_key.hash(token)
    }

    /// Checks a password and opens a session.
    ///
    /// Which account answers (see ARCHITECTURE.md, "Which account wins"): a local
    /// (`internal`) account with this username is checked against its own password and
    /// the directory is never asked; an `ldap` account, or a username nobody has yet, is
    /// checked against the directory when LDAP is enabled; an `oidc` account never signs
    /// in with a password. Local and directory accounts never merge.
    ///
    /// Unknown user and wrong password give the same answer (and take the same
    /// time); whether an account is locked is only revealed to someone who
    /// knows its password.
    pub async fn login(&self, username: &str, password: &str, origin: &Origin) -> Result<NewSession, AppError> {
        let client_ip = origin.client_ip.as_deref().unwrap_or("unknown");
        let now = self.clock.now();
        let attempts = &self.ports.attempts;
        let Ok(username) = validate::username(username) else {
            // No account can have this name; the attempt is still recorded, as typed.
            self.record(&self.login_activity(None, &typed_name(username), origin, Some("invalid_username"))).await?;
            return Err(AppError::InvalidCredentials);
        };
        for key in [client_key(client_ip), account_key(&username)] {
            let limit = if key.starts_with("login:ip:") { CLIENT_ATTEMPTS } else { ACCOUNT_ATTEMPTS };
            if attempts.count(&key, now).await? >= limit {
                self.record(&self.login_activity(None, &username, origin, Some("rate_limited"))).await?;
                let retry_after_secs = attempts.retry_after(&key, now).await?.max(1);
                return Err(AppError::RateLimited { retry_after_secs });
            }
        }
        let user = self.ports.users.by_username(&username).await?;
        let outcome = match (&user, &self.directory) {
            (Some(UserRecord { auth_backend: AuthBackend::Internal, password_hash: Some(hash), .. }), _) => {
                if passwords::verify(password, hash) {
                    Ok(user.clone())
                } else {
                    Err(AppError::InvalidCredentials)
                }
            }
            (Some(UserRecord { auth_backend: AuthBackend::Ldap, .. }) | None, Some(directory)) => {
                self.directory_login(directory.as_ref(), &username, password, user.clone()).await.map(Some)
            }
            _ => {
                passwords::verify_against_nothing(password);
                Err(AppError::InvalidCredentials)
            }
        };
        let user = match outcome {
            Ok(Some(user)) => user,
            Ok(None) | Err(AppError::InvalidCredentials) => {
                attempts.add(&client_key(client_ip), ATTEMPT_WINDOW_SECS, now).await?;
                attempts.add(&account_key(&username), ATTEMPT_WINDOW_SECS, now).await?;
                tracing::info!(%username, %client_ip, "failed sign-in");
                let failed =
                    self.login_activity(user.as_ref().map(|u| u.id), &username, origin, Some("invalid_credentials"));
                self.record(&failed).await?;
                return Err(AppError::InvalidCredentials);
            }
            // The directory refused or could not be asked.
            Err(other) => {
                let failed =
                    self.login_activity(user.as_ref().map(|u| u.id), &username, origin, Some(&refusal_reason(&other)));
                self.record(&failed).await?;
                return Err(other);
            }
        };
        if !user.status.can_sign_in() {
            self.record(&self.login_activity(Some(user.id), &username, origin, Some("account_disabled"))).await?;
            return Err(AppError::AccountDisabled { status: user.status });
        }
        if user.auth_backend == AuthBackend::Internal && !self.local_login_allowed(&user).await? {
            self.record(&self.login_activity(Some(user.id), &username, origin, Some("local_login_disabled"))).await?;
            return Err(AppError::conflict("local_login_disabled"));
        }
        attempts.reset(&account_key(&username)).await?;
        self.open_session(&user, origin, None).await
    }

    /// `user.login`, or `user.login_failed` with the reason, about `username`.
    fn login_activity(&self, id: Option<i64>, username: &str, origin: &Origin, failure: Option<&str>) -> Activity {
        let action = if failure.is_some() { "user.login_failed" } else { "user.login" };
        let target = ActivityTarget::new("users", id.map(|i| i.to_string()).unwrap_or_default(), username);
        let mut activity = self.system_activity(ActorKind::User, action, target);
        (activity.actor_id, activity.actor_name) = (id, username.to_string());
        (activity.request_id, activity.client_ip) = (origin.request_id.clone(), origin.client_ip.clone());
        if let Some(reason) = failure {
            (activity.outcome, activity.reason) = (Outcome::Failed, Some(reason.to_string()));
        }
        activity
    }

    /// A new session for a user whose identity was just proven (password, directory or
    /// identity provider): always a fresh token, never a reused one.
    /// `id_token`: the OpenID provider's, for a single sign-on session (see [`Services::logout`]).
    pub(crate) async fn open_session(
        &self,
        user: &UserRecord,
        origin: &Origin,
        id_token: Option<SecretText>,
    ) -> Result<NewSession, AppError> {
        let now = self.clock.now();
        let lifetime_secs = self.session_lifetime_secs().await?;
        let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
        self.ports
            .sessions
            .create(&SessionRecord {
                token_hash: self.token_hash(&token),
                user_id: user.id,
                created_at: now,
                expires_at: now.plus_secs(lifetime_secs),
                id_token,
            })
            .await?;
        let mut activity = self.login_activity(Some(user.id), &user.username, origin, None);
        activity.details = serde_json::json!({ "backend": user.auth_backend.key() });
        self.ports.users.set_last_login(user.id, now, Some(&activity)).await?;
        tracing::info!(username = %user.username, backend = user.auth_backend.key(), "signed in");
        Ok(NewSession { token, user_id: user.id, lifetime_secs })
    }

    /// Checks the password against the directory, then creates or updates the `ldap`
    /// account with the directory's name, e-mail and mapped role.
    async fn directory_login(
        &self,
        directory: &dyn Directory,
        username: &str,
        password: &str,
        existing: Option<UserRecord>,
    ) -> Result<UserRecord, AppError> {
        let account = match directory.authenticate(username, password).await {
            Ok(account) => account,
            Err(DirectoryError::InvalidCredentials) => return Err(AppError::InvalidCredentials),
            Err(DirectoryError::AccountDisabled) => {
                tracing::info!(%username, "sign-in refused: the directory account is disabled");
                return Err(AppError::AccountDisabled { status: UserStatus::Inactive });
            }
            Err(DirectoryError::Unreachable(message)) => {
                tracing::warn!(%username, %message, "directory unreachable during sign-in");
                return Err(AppError::DirectoryUnreachable);
            }
            Err(DirectoryError::Failed(message)) => return Err(internal("directory sign-in failed", &message)),
        };
        self.upsert_external(
            username,
            AuthBackend::Ldap,
            account.name.as_deref(),
            account.email.as_deref(),
            &account.role_key,
            existing,
        )
        .await
    }

    /// Creates or updates an account whose identity lives elsewhere (directory or identity
    /// provider): name and e-mail from there, no password, exactly the one mapped role.
    pub(crate) async fn upsert_external(
        &self,
        username: &str,
        backend: AuthBackend,
        name: Option<&str>,
        email: Option<&str>,
        role_key: &str,
        existing: Option<UserRecord>,
    ) -> Result<UserRecord, AppError> {
        let role = self.ports.roles.by_key(role_key).await?.ok_or_else(|| {
            internal("sign-in role mapping", &format!("the role rules name the unknown role {role_key:?}"))
        })?;
        let name = name
            .and_then(|n| validate::line("name", n, validate::NAME_MAX).ok())
            .unwrap_or_else(|| username.to_string());
        let placeholder = format!("{username}@users.invalid");
        let email = email.and_then(|e| validate::email(e).ok()).unwrap_or_else(|| placeholder.clone());
        let id = match existing {
            Some(user) => {
                if user.auth_backend != backend {
                    return Err(AppError::conflict("account_of_other_backend"));
                }
                let language = user.language;
                // Part of the sign-in, which records `user.login`.
                match self.ports.users.update_profile(user.id, &name, &email, language, None).await {
                    Err(StoreError::Duplicate(field)) if field == "email" => {
                        tracing::warn!(%username, "e-mail address from the identity source belongs to another account");
                        self.ports.users.update_profile(user.id, &name, &placeholder, language, None).await?;
                    }
                    other => other?,
                }
                user.id
            }
            None => {
                let new_user = |email: String| NewUser {
                    username: username.to_string(),
                    name: name.clone(),
                    email,
                    language: Language::default(),
                    status: UserStatus::Active,
                    auth_backend: backend,
                    password_hash: None,
                    created_at: self.clock.now(),
                };
                let created = |kind| {
                    let mut activity = self.system_activity(
                        ActorKind::System,
                        "user.create",
                        ActivityTarget::created("users", username),
                    );
                    activity.details = serde_json::json!({ "backend": kind, "role": role_key });
                    activity
                };
                match self.ports.users.insert(new_user(email), Some(&created(backend.key()))).await {
                    Err(StoreError::Duplicate(field)) if field == "email" => {
                        tracing::warn!(%username, "e-mail address from the identity source belongs to another account");
                        self.ports.users.insert(new_user(placeholder), Some(&created(backend.key()))).await?
                    }
                    other => other?,
                }
            }
        };
        self.ports.users.set_roles(id, &[role.id], None).await?;
        self.ports.users.by_id(id).await?.ok_or(AppError::NotFound)
    }

    async fn local_login_allowed(&self, user: &UserRecord) -> Result<bool, AppError> {
        let allowed = self.ports.settings.get(LOCAL_LOGIN_FOR_NON_ADMINS).await?.is_none_or(|s| s.value == "true");
        if allowed {
            return Ok(true);
        }
        let roles = self.ports.users.roles_of(user.id).await?;
        Ok(roles.iter().any(|r| r.key == domain::access::ADMIN_ROLE))
    }

    async fn session_lifetime_secs(&self) -> Result<i64, AppError> {
        let minutes = self
            .ports
            .settings
            .get(SESSION_LIFETIME_MINUTES)
            .await?
            .and_then(|s| s.value.parse::<i64>().ok())
            .unwrap_or(480);
        Ok(minutes * 60)
    }

    /// Ends the session. For a single sign-on session, returns where to send the browser
    /// to sign out at the OpenID provider too (RP-initiated logout), when that is on.
    pub async fn logout(&self, actor: &Actor, token: &str) -> Result<Option<String>, AppError> {
        let hash = self.token_hash(token);
        let session = self.ports.sessions.get(&hash).await?;
        self.ports.sessions.delete(&hash).await?;
        let target = ActivityTarget::new("users", actor.user_id, &actor.username);
        self.record(&self.activity(actor, "user.logout", target)).await?;
        let (Some(id_token), Some(provider)) = (session.and_then(|s| s.id_token), self.identity_provider.as_ref())
        else {
            return Ok(None);
        };
        Ok(provider.logout_url(&id_token).await)
    }

    /// The user behind a session cookie, or `None` when the session is unknown,
    /// expired, or its account can no longer sign in. Sliding expiry: a
    /// session used in the second half of its life is extended.
    pub async fn session_user(&self, token: &str) -> Result<Option<SessionUser>, AppError> {
        let now = self.clock.now();
        let hash = self.token_hash(token);
        let Some(session) = self.ports.sessions.get(&hash).await? else {
            return Ok(None);
        };
        if session.expires_at <= now {
            self.ports.sessions.delete(&hash).await?;
            return Ok(None);
        }
        let Some(user) = self.ports.users.by_id(session.user_id).await? else {
            self.ports.sessions.delete(&hash).await?;
            return Ok(None);
        };
        if !user.status.can_sign_in() {
            self.ports.sessions.delete(&hash).await?;
            return Ok(None);
        }
        let lifetime_secs = self.session_lifetime_secs().await?;
        if session.expires_at < now.plus_secs(lifetime_secs / 2) {
            self.ports.sessions.extend(&hash, now.plus_secs(lifetime_secs)).await?;
        }
        let (actor, role_names) = self.actor_and_role_names(&user).await?;
        let pending_policies = self.ports.policies.pending_for(user.id).await?;
        Ok(Some(SessionUser { actor, name: user.name, role_names, language: user.language, pending_policies }))
    }

    /// The user as an actor, and the names of their roles for people to read.
    async fn actor_and_role_names(&self, user: &UserRecord) -> Result<(Actor, Vec<String>), AppError> {
        let roles = self.ports.users.roles_of(user.id).await?;
        let grants = self.ports.users.grants_of(user.id).await?;
        let (role_keys, role_names) = roles.into_iter().map(|r| (r.key, r.name)).unzip();
        let actor =
            Actor { user_id: user.id, username: user.username.clone(), role_keys, grants, origin: Origin::default() };
        Ok((actor, role_names))
    }

    /// Housekeeping for the scheduler.
    pub async fn purge_expired_sessions(&self) -> Result<u64, AppError> {
        Ok(self.ports.sessions.purge_expired(self.clock.now()).await?)
    }
}
