//! `services::remote_access::RemoteAccess` on Guacamole, and the
//! `services::guacamole_connection::GatewayConnector` that builds it from the
//! settings in use.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use base64::Engine;
use domain::guacamole::SsoMethod;
use services::guacamole_connection::{GatewayConnector, GuacamoleSettings};
use services::remote_access::{
    Outcome, RdpSecurity, RemoteAccess, RemoteAccessError, RemoteAccount, RemoteConnection, RemoteConnectionRef,
    RemoteProtocol, SignInLink,
};

use crate::client::{Change, ConnectionParams, ConnectionSpec, GuacamoleClient, UserSpec};
use crate::config::{GuacamoleConfig, JsonSecretKey, Secret};
use crate::error::GuacError;
use crate::sso::{SignInAssertion, client_identifier, login_url, sign_in_url};

pub struct GuacamoleRemoteAccess {
    client: GuacamoleClient,
}

impl GuacamoleRemoteAccess {
    pub fn new(client: GuacamoleClient) -> GuacamoleRemoteAccess {
        GuacamoleRemoteAccess { client }
    }

    pub fn client(&self) -> &GuacamoleClient {
        &self.client
    }

    /// The web application's identifier of a connection, when one is given.
    async fn client_route(&self, connection_id: Option<&str>) -> Result<Option<String>, RemoteAccessError> {
        match connection_id {
            Some(id) => Ok(Some(client_identifier(id, &self.client.data_source().await.map_err(problem)?))),
            None => Ok(None),
        }
    }

    async fn group_id(&self, name: &str) -> Result<String, RemoteAccessError> {
        match self.client.find_group(name).await.map_err(problem)? {
            Some(group) => Ok(group.identifier),
            None => Err(RemoteAccessError::NotFound { what: format!("connection group {name:?}") }),
        }
    }
}

/// Guacamole parameters for a connection to a course VM.
pub fn connection_parameters(connection: &RemoteConnection) -> (&'static str, ConnectionParams) {
    let mut params = ConnectionParams::new();
    params.insert("hostname".into(), connection.hostname.clone());
    params.insert("port".into(), connection.port.to_string());
    params.insert("password".into(), connection.password.clone());
    let protocol = match connection.protocol {
        RemoteProtocol::Rdp => {
            params.insert("username".into(), connection.username.clone());
            let security = match connection.rdp_security {
                RdpSecurity::Any => "any",
                RdpSecurity::Nla => "nla",
                RdpSecurity::Tls => "tls",
                RdpSecurity::Rdp => "rdp",
            };
            params.insert("security".into(), security.into());
            if connection.ignore_cert {
                params.insert("ignore-cert".into(), "true".into());
            }
            // The remote desktop follows the browser window's size.
            params.insert("resize-method".into(), "display-update".into());
            "rdp"
        }
        RemoteProtocol::Ssh => {
            params.insert("username".into(), connection.username.clone());
            // Keeps idle sessions alive through NAT and firewalls between guacd and the VM.
            params.insert("server-alive-interval".into(), "30".into());
            "ssh"
        }
        // VNC authenticates with a password only.
        RemoteProtocol::Vnc => "vnc",
    };
    params.retain(|_, v| !v.is_empty());
    (protocol, params)
}

fn outcome(change: Change) -> Outcome {
    match change {
        Change::Created => Outcome::Created,
        Change::Updated => Outcome::Updated,
        Change::Unchanged => Outcome::Unchanged,
    }
}

/// A password nobody uses: participants sign in through the JSON assertion, so the
/// account's database password only has to be unguessable.
fn unusable_password() -> Secret {
    let bytes: [u8; 32] = rand::random();
    Secret::new(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

pub(crate) fn problem(e: GuacError) -> RemoteAccessError {
    let reason = e.to_string();
    match e {
        GuacError::Transport { .. } | GuacError::Server { .. } | GuacError::Decode { .. } => {
            RemoteAccessError::Unavailable { reason }
        }
        GuacError::InvalidCredentials { .. } | GuacError::PermissionDenied { .. } => {
            RemoteAccessError::Refused { reason }
        }
        GuacError::BadRequest { .. } => RemoteAccessError::Rejected { reason },
        GuacError::NotFound { what, .. } => RemoteAccessError::NotFound { what },
        GuacError::Config { .. } => RemoteAccessError::NotConfigured { reason },
    }
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO).as_millis() as u64
}

#[async_trait]
impl RemoteAccess for GuacamoleRemoteAccess {
    async fn check(&self) -> Result<String, RemoteAccessError> {
        let data_source = self.client.data_source().await.map_err(problem)?;
        // Listing groups proves the account may administer, not only sign in.
        self.client.connection_groups().await.map_err(problem)?;
        Ok(data_source)
    }

    async fn ensure_account(&self, account: &RemoteAccount) -> Result<Outcome, RemoteAccessError> {
        let spec = UserSpec {
            username: account.username.clone(),
            password: unusable_password(),
            full_name: account.full_name.clone(),
            email: account.email.clone(),
            disabled: account.disabled,
        };
        self.client.ensure_user(&spec).await.map(outcome).map_err(problem)
    }

    async fn remove_account(&self, username: &str) -> Result<(), RemoteAccessError> {
        self.client.delete_user(username).await.map_err(problem)
    }

    async fn ensure_group(&self, name: &str) -> Result<String, RemoteAccessError> {
        Ok(self.client.ensure_group(name).await.map_err(problem)?.0.identifier)
    }

    async fn remove_group(&self, name: &str) -> Result<(), RemoteAccessError> {
        match self.client.find_group(name).await.map_err(problem)? {
            Some(group) => self.client.delete_group(&group.identifier).await.map_err(problem),
            None => Ok(()),
        }
    }

    async fn ensure_connection(&self, connection: &RemoteConnection) -> Result<RemoteConnectionRef, RemoteAccessError> {
        let parent = self.group_id(&connection.group).await?;
        let (protocol, parameters) = connection_parameters(connection);
        let spec = ConnectionSpec { parent, name: connection.name.clone(), protocol: protocol.into(), parameters };
        let (id, change) = self.client.ensure_connection(&spec).await.map_err(problem)?;
        Ok(RemoteConnectionRef { id, outcome: outcome(change) })
    }

    async fn remove_connection(&self, group: &str, name: &str) -> Result<(), RemoteAccessError> {
        let Some(group) = self.client.find_group(group).await.map_err(problem)? else { return Ok(()) };
        match self.client.find_connection(&group.identifier, name).await.map_err(problem)? {
            Some(connection) => self.client.delete_connection(&connection.identifier).await.map_err(problem),
            None => Ok(()),
        }
    }

    async fn grant(&self, username: &str, connection_id: &str) -> Result<(), RemoteAccessError> {
        self.client.set_connection_read(username, connection_id, true).await.map_err(problem)
    }

    async fn revoke(&self, username: &str, connection_id: &str) -> Result<(), RemoteAccessError> {
        match self.client.set_connection_read(username, connection_id, false).await {
            // A user or connection already gone has no permission left to revoke.
            Ok(()) | Err(GuacError::NotFound { .. }) => Ok(()),
            Err(e) => Err(problem(e)),
        }
    }

    async fn sign_in_link(&self, username: &str, connection_id: Option<&str>) -> Result<SignInLink, RemoteAccessError> {
        let config = self.client.config();
        let Some(key) = &config.json_secret_key else {
            return Err(RemoteAccessError::NotConfigured {
                reason: "single sign-on needs GUACAMOLE_JSON_SECRET_KEY (Guacamole's json-secret-key)".into(),
            });
        };
        let expires_at_ms = now_ms() + config.sign_in_link_ttl.as_millis() as u64;
        let data = SignInAssertion { username: username.to_owned(), expires_ms: expires_at_ms }.seal(key);
        let client = self.client_route(connection_id).await?;
        Ok(SignInLink {
            url: sign_in_url(&config.base_url, &data, client.as_deref()),
            expires_at_ms: Some(expires_at_ms),
        })
    }

    async fn login_link(&self, connection_id: Option<&str>) -> Result<SignInLink, RemoteAccessError> {
        let client = self.client_route(connection_id).await?;
        Ok(SignInLink { url: login_url(&self.client.config().base_url, client.as_deref()), expires_at_ms: None })
    }
}

/// Builds a client from the settings in use (saved in the UI or from the
/// environment); connects to nothing yet.
pub struct GuacamoleConnector;

impl GatewayConnector for GuacamoleConnector {
    fn connect(&self, settings: &GuacamoleSettings) -> Result<Arc<dyn RemoteAccess>, RemoteAccessError> {
        let mut config =
            GuacamoleConfig::new(&settings.url, &settings.admin_username, Secret::new(&settings.admin_password))
                .map_err(problem)?;
        config.data_source = settings.data_source.clone();
        // Only the assertion method signs with the key; with `none` the
        // adapter is never asked for an assertion.
        config.json_secret_key = match (settings.sso_method, &settings.json_secret_key) {
            (SsoMethod::EncryptedJson, Some(key)) => Some(JsonSecretKey::from_hex(key).map_err(problem)?),
            _ => None,
        };
        let client = GuacamoleClient::new(config).map_err(problem)?;
        Ok(Arc::new(GuacamoleRemoteAccess::new(client)))
    }
}

/// The environment's configuration as the settings the UI shows and saves:
/// with a JSON secret key participants are signed in by assertion, without
/// one Connect opens Guacamole's sign-in page.
pub fn settings_from_config(config: &GuacamoleConfig) -> GuacamoleSettings {
    GuacamoleSettings {
        url: config.base_url.to_string(),
        admin_username: config.admin_username.clone(),
        admin_password: config.admin_password.expose().to_owned(),
        data_source: config.data_source.clone(),
        sso_method: if config.json_secret_key.is_some() { SsoMethod::EncryptedJson } else { SsoMethod::None },
        json_secret_key: config.json_secret_key.as_ref().map(JsonSecretKey::to_hex),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connection(protocol: RemoteProtocol) -> RemoteConnection {
        RemoteConnection {
            group: "Linux 101".into(),
            name: "Linux 101 – web01 (alice)".into(),
            protocol,
            hostname: "10.0.0.7".into(),
            port: protocol.default_port(),
            username: "student".into(),
            password: "s3cret".into(),
            rdp_security: RdpSecurity::Nla,
            ignore_cert: true,
        }
    }

    #[test]
    fn parameters_per_protocol() {
        let (protocol, rdp) = connection_parameters(&connection(RemoteProtocol::Rdp));
        assert_eq!(protocol, "rdp");
        assert_eq!(rdp["security"], "nla");
        assert_eq!(rdp["ignore-cert"], "true");
        assert_eq!(rdp["port"], "3389");
        let (_, ssh) = connection_parameters(&connection(RemoteProtocol::Ssh));
        assert_eq!(ssh["username"], "student");
        assert!(!ssh.contains_key("security"));
        let (_, vnc) = connection_parameters(&connection(RemoteProtocol::Vnc));
        assert!(!vnc.contains_key("username"));
        assert_eq!(vnc["port"], "5900");
        assert!(!format!("{:?}", connection(RemoteProtocol::Rdp)).contains("s3cret"));
    }
}
