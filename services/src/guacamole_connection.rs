//! The Apache Guacamole connection administrators edit: address, admin
//! account, data source and single sign-on method.
//!
//! As with the Proxmox VE connection ([`crate::cluster`]), the one in use is
//! the one saved in the database; until one is saved, the one configured in
//! the environment (`GUACAMOLE_*`). The admin password and the JSON secret
//! key are stored sealed under `OPENVLE_SECRET_KEY` and never leave the
//! server. [`GuacamoleHandle`] holds the gateway built from the current
//! connection; every replica (and worker) compares the stored revision on use
//! and rebuilds its gateway when another one saved a change, so the next
//! connection sync and the next hand-off use the new values.

use std::fmt;
use std::sync::{Arc, PoisonError, RwLock};

use async_trait::async_trait;
use domain::access::ObjectType;
use domain::activity::{Activity, ActivityTarget};
use domain::error::Problem;
use domain::guacamole::{GuacamoleInput, GuacamoleProblem, GuacamoleSource, GuacamoleView, SsoMethod};
use domain::time::Timestamp;
use domain::{Action, Actor, AppError, Target};

use crate::ports::StoreError;
use crate::remote_access::{RemoteAccess, RemoteAccessError};
use crate::secrets::SecretKey;
use crate::{Services, authorize};

/// What the admin password is sealed for (bound to the ciphertext).
pub const PASSWORD_PURPOSE: &str = "openvle/guacamole-admin-password";
/// What the JSON secret key is sealed for.
pub const JSON_KEY_PURPOSE: &str = "openvle/guacamole-json-secret-key";

/// Everything needed to reach Guacamole, secrets included. Debug output
/// never shows the secrets.
#[derive(Clone, PartialEq, Eq)]
pub struct GuacamoleSettings {
    /// Guacamole's web application, ending in `/`.
    pub url: String,
    pub admin_username: String,
    pub admin_password: String,
    /// `None`: the one Guacamole names at sign-in.
    pub data_source: Option<String>,
    pub sso_method: SsoMethod,
    /// 32 hex digits; kept while the method is `None` so that switching
    /// back needs no new key.
    pub json_secret_key: Option<String>,
}

impl fmt::Debug for GuacamoleSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GuacamoleSettings")
            .field("url", &self.url)
            .field("admin_username", &self.admin_username)
            .field("admin_password", &"<redacted>")
            .field("data_source", &self.data_source)
            .field("sso_method", &self.sso_method)
            .field("json_secret_key", &self.json_secret_key.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// Builds a gateway client from settings (no network traffic).
pub trait GatewayConnector: Send + Sync {
    fn connect(&self, settings: &GuacamoleSettings) -> Result<Arc<dyn RemoteAccess>, RemoteAccessError>;
}

/// The saved connection as stored: secrets only sealed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredGuacamole {
    pub url: String,
    pub admin_username: String,
    /// Sealed for [`PASSWORD_PURPOSE`].
    pub admin_password_sealed: String,
    pub data_source: Option<String>,
    pub sso_method: SsoMethod,
    /// Sealed for [`JSON_KEY_PURPOSE`].
    pub json_secret_sealed: Option<String>,
    /// Grows with every save; replicas rebuild their gateway when it changes.
    pub revision: i64,
    pub updated_at: Timestamp,
    pub updated_by: Option<String>,
}

#[async_trait]
pub trait GuacamoleSettingsRepo: Send + Sync {
    async fn get(&self) -> Result<Option<StoredGuacamole>, StoreError>;
    /// Replaces the saved connection and appends the activity in the same
    /// transaction; the stored revision becomes one more than before.
    async fn save(&self, settings: &StoredGuacamole, activity: &Activity) -> Result<(), StoreError>;
}

/// The connection from the environment with its gateway (built at start).
#[derive(Clone)]
pub struct EnvironmentGuacamole {
    pub settings: GuacamoleSettings,
    pub gateway: Arc<dyn RemoteAccess>,
}

/// The gateway in use and how it signs participants in.
#[derive(Clone)]
pub struct Gateway {
    pub remote: Arc<dyn RemoteAccess>,
    pub sso_method: SsoMethod,
}

/// `Ok(None)`: Guacamole is not configured.
type GatewayState = Result<Option<Gateway>, GuacamoleProblem>;

struct Cached {
    /// The stored revision the state was built from (`None`: nothing saved).
    revision: Option<i64>,
    state: GatewayState,
}

/// The one place that holds the current Guacamole gateway.
#[derive(Clone, Default)]
pub struct GuacamoleHandle {
    inner: Arc<HandleInner>,
}

#[derive(Default)]
struct HandleInner {
    connector: Option<Arc<dyn GatewayConnector>>,
    environment: Option<EnvironmentGuacamole>,
    cache: RwLock<Option<Cached>>,
}

impl GuacamoleHandle {
    pub fn new(connector: Arc<dyn GatewayConnector>, environment: Option<EnvironmentGuacamole>) -> GuacamoleHandle {
        GuacamoleHandle {
            inner: Arc::new(HandleInner { connector: Some(connector), environment, cache: RwLock::new(None) }),
        }
    }

    fn cached(&self, revision: Option<i64>) -> Option<GatewayState> {
        let cache = self.inner.cache.read().unwrap_or_else(PoisonError::into_inner);
        cache.as_ref().filter(|c| c.revision == revision).map(|c| c.state.clone())
    }

    fn remember(&self, revision: Option<i64>, state: GatewayState) {
        *self.inner.cache.write().unwrap_or_else(PoisonError::into_inner) = Some(Cached { revision, state });
    }

    fn forget(&self) {
        *self.inner.cache.write().unwrap_or_else(PoisonError::into_inner) = None;
    }

    fn connect(&self, settings: &GuacamoleSettings) -> Result<Arc<dyn RemoteAccess>, GuacamoleProblem> {
        let connector = self
            .inner
            .connector
            .as_ref()
            .ok_or_else(|| GuacamoleProblem::Setup { message: "this process has no Guacamole client".into() })?;
        connector.connect(settings).map_err(|e| GuacamoleProblem::Setup { message: e.to_string() })
    }

    fn build(&self, stored: Option<&StoredGuacamole>, key: Option<&SecretKey>) -> GatewayState {
        match stored {
            Some(stored) => {
                let settings = open(stored, key)?;
                Ok(Some(Gateway { remote: self.connect(&settings)?, sso_method: settings.sso_method }))
            }
            None => Ok(self
                .inner
                .environment
                .as_ref()
                .map(|env| Gateway { remote: env.gateway.clone(), sso_method: env.settings.sso_method })),
        }
    }
}

/// The stored settings with their secrets decrypted.
fn open(stored: &StoredGuacamole, key: Option<&SecretKey>) -> Result<GuacamoleSettings, GuacamoleProblem> {
    let key = key.ok_or(GuacamoleProblem::SecretKeyMissing)?;
    let unreadable = |_| GuacamoleProblem::SecretUnreadable;
    Ok(GuacamoleSettings {
        url: stored.url.clone(),
        admin_username: stored.admin_username.clone(),
        admin_password: key.open(PASSWORD_PURPOSE, &stored.admin_password_sealed).map_err(unreadable)?,
        data_source: stored.data_source.clone(),
        sso_method: stored.sso_method,
        json_secret_key: match &stored.json_secret_sealed {
            Some(sealed) => Some(key.open(JSON_KEY_PURPOSE, sealed).map_err(unreadable)?),
            None => None,
        },
    })
}

fn unusable(problem: GuacamoleProblem) -> AppError {
    AppError::CheckFailed { system: "Guacamole".into(), message: problem.to_string() }
}

impl Services {
    /// The Guacamole connection: its connector and the environment's default.
    pub fn with_guacamole(mut self, guacamole: GuacamoleHandle) -> Services {
        self.guacamole = guacamole;
        self
    }

    fn gateway_state(&self, stored: Option<&StoredGuacamole>) -> GatewayState {
        let revision = stored.map(|s| s.revision);
        if let Some(state) = self.guacamole.cached(revision) {
            return state;
        }
        let state = self.guacamole.build(stored, self.cluster.secret_key());
        if let Err(problem) = &state {
            tracing::warn!(%problem, "Guacamole connection unusable");
        }
        self.guacamole.remember(revision, state.clone());
        state
    }

    /// The gateway in use, rebuilt when the saved connection changed (on this
    /// or another replica); `None` when Guacamole is not configured. For
    /// internal callers (jobs, hand-off) that checked permissions already.
    pub(crate) async fn current_gateway(&self) -> Result<Option<Gateway>, AppError> {
        let stored = self.ports.guacamole.get().await?;
        self.gateway_state(stored.as_ref()).map_err(unusable)
    }

    /// Whether Guacamole is configured: saved here, or in the environment.
    pub async fn guacamole_configured(&self) -> Result<bool, AppError> {
        Ok(self.guacamole.inner.environment.is_some() || self.ports.guacamole.get().await?.is_some())
    }

    /// The connection for the settings page, without its secrets.
    pub async fn guacamole_settings(&self, actor: &Actor) -> Result<GuacamoleView, AppError> {
        authorize(actor, Action::Read, Target::All(ObjectType::Setting))?;
        let environment = self.guacamole.inner.environment.as_ref();
        let can_save = self.cluster.secret_key().is_some();
        let stored = self.ports.guacamole.get().await?;
        let view = match (&stored, environment) {
            (Some(saved), _) => GuacamoleView {
                source: Some(GuacamoleSource::Saved),
                url: saved.url.clone(),
                admin_username: saved.admin_username.clone(),
                password_set: true,
                data_source: saved.data_source.clone().unwrap_or_default(),
                sso_method: saved.sso_method,
                json_secret_set: saved.json_secret_sealed.is_some(),
                updated_at: Some(saved.updated_at),
                updated_by: saved.updated_by.clone(),
                environment_configured: environment.is_some(),
                can_save,
                problem: self.gateway_state(stored.as_ref()).err(),
            },
            (None, Some(env)) => GuacamoleView {
                source: Some(GuacamoleSource::Environment),
                url: env.settings.url.clone(),
                admin_username: env.settings.admin_username.clone(),
                password_set: !env.settings.admin_password.is_empty(),
                data_source: env.settings.data_source.clone().unwrap_or_default(),
                sso_method: env.settings.sso_method,
                json_secret_set: env.settings.json_secret_key.is_some(),
                updated_at: None,
                updated_by: None,
                environment_configured: true,
                can_save,
                problem: None,
            },
            (None, None) => GuacamoleView {
                source: None,
                url: String::new(),
                admin_username: String::new(),
                password_set: false,
                data_source: String::new(),
                sso_method: SsoMethod::default(),
                json_secret_set: false,
                updated_at: None,
                updated_by: None,
                environment_configured: false,
                can_save,
                problem: None,
            },
        };
        Ok(view)
    }

    /// The secrets in use before this save: the saved ones, else the
    /// environment's. A saved secret that no longer decrypts counts as
    /// missing (it must be entered again).
    fn secrets_in_use(&self, stored: Option<&StoredGuacamole>, key: &SecretKey) -> (Option<String>, Option<String>) {
        match stored {
            Some(stored) => (
                key.open(PASSWORD_PURPOSE, &stored.admin_password_sealed).ok(),
                stored.json_secret_sealed.as_ref().and_then(|s| key.open(JSON_KEY_PURPOSE, s).ok()),
            ),
            None => match &self.guacamole.inner.environment {
                Some(env) => (
                    Some(env.settings.admin_password.clone()).filter(|p| !p.is_empty()),
                    env.settings.json_secret_key.clone(),
                ),
                None => (None, None),
            },
        }
    }

    /// Validates, seals the secrets and saves the connection with one
    /// activity; from now on it wins over the environment. Empty secret
    /// fields keep the ones in use. Invalid input changes nothing.
    pub async fn save_guacamole(&self, actor: &Actor, input: &GuacamoleInput) -> Result<(), AppError> {
        authorize(actor, Action::Update, Target::All(ObjectType::Setting))?;
        let valid = domain::guacamole::validate_guacamole(input)?;
        let new_password = domain::guacamole::admin_password(&input.admin_password)?;
        let new_json_key = domain::guacamole::json_secret_key(&input.json_secret_key)?;
        let key = self.cluster.secret_key().cloned().ok_or_else(|| AppError::conflict("secret_key_missing"))?;
        let stored = self.ports.guacamole.get().await?;
        let (password_in_use, json_key_in_use) = self.secrets_in_use(stored.as_ref(), &key);
        let admin_password = match new_password {
            "" => password_in_use.ok_or_else(|| AppError::invalid("admin_password", Problem::Required))?,
            entered => entered.to_string(),
        };
        let json_secret_key = if new_json_key.is_empty() { json_key_in_use } else { Some(new_json_key) };
        if valid.sso_method == SsoMethod::EncryptedJson && json_secret_key.is_none() {
            return Err(AppError::invalid("json_secret_key", Problem::Required));
        }
        let settings = GuacamoleSettings {
            url: valid.url,
            admin_username: valid.admin_username,
            admin_password,
            data_source: valid.data_source,
            sso_method: valid.sso_method,
            json_secret_key,
        };
        // Settings that cannot even make a client are refused before saving.
        self.guacamole.connect(&settings).map_err(unusable)?;
        let saved = StoredGuacamole {
            url: settings.url.clone(),
            admin_username: settings.admin_username.clone(),
            admin_password_sealed: key.seal(PASSWORD_PURPOSE, &settings.admin_password),
            data_source: settings.data_source.clone(),
            sso_method: settings.sso_method,
            json_secret_sealed: settings.json_secret_key.as_ref().map(|k| key.seal(JSON_KEY_PURPOSE, k)),
            revision: 0,
            updated_at: self.clock.now(),
            updated_by: Some(actor.username.clone()),
        };
        let mut activity = self.activity(
            actor,
            "guacamole.settings_save",
            ActivityTarget::new("settings", "guacamole", &settings.url),
        );
        // Never a secret: only whether a new one was entered.
        activity.details = serde_json::json!({
            "url": settings.url, "admin_username": settings.admin_username,
            "data_source": settings.data_source, "sso_method": settings.sso_method.key(),
            "password_changed": !input.admin_password.is_empty(),
            "json_secret_changed": !input.json_secret_key.trim().is_empty(),
        });
        self.ports.guacamole.save(&saved, &activity).await?;
        self.guacamole.forget();
        tracing::info!(url = %settings.url, by = %actor.username, "Guacamole connection saved");
        Ok(())
    }

    /// "Test connection": signs in with the admin account of the connection
    /// in use and lists the connection groups of the data source, which it
    /// returns. Changes nothing.
    pub async fn test_guacamole(&self, actor: &Actor) -> Result<String, AppError> {
        authorize(actor, Action::Update, Target::All(ObjectType::Setting))?;
        let gateway = self.current_gateway().await?.ok_or_else(|| AppError::conflict("guacamole_not_configured"))?;
        gateway
            .remote
            .check()
            .await
            .map_err(|e| AppError::CheckFailed { system: "Guacamole".into(), message: e.to_string() })
    }
}
