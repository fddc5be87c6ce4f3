//! The REST calls. Paths and shapes follow Guacamole 1.5's REST API
//! (`/api/tokens`, `/api/session/data/{dataSource}/...`); the admin token travels in
//! the `Guacamole-Token` header, never in a URL.

use std::collections::BTreeMap;

use reqwest::{Method, RequestBuilder, StatusCode};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tokio::sync::Mutex;
use url::Url;

use crate::config::{GuacamoleConfig, Secret};
use crate::error::{GuacError, from_response};

/// The root of every data source's connection-group tree.
pub const ROOT_GROUP: &str = "ROOT";

/// A user as `GET .../users/{username}` returns it (no password).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GuacamoleUser {
    pub username: String,
    #[serde(default)]
    pub attributes: BTreeMap<String, Option<String>>,
}

impl GuacamoleUser {
    fn attribute(&self, name: &str) -> &str {
        self.attributes.get(name).and_then(|v| v.as_deref()).unwrap_or("")
    }
}

/// What a user should look like.
#[derive(Clone, Debug)]
pub struct UserSpec {
    pub username: String,
    /// Set at creation and whenever the account is updated.
    pub password: Secret,
    pub full_name: String,
    pub email: String,
    pub disabled: bool,
}

impl UserSpec {
    fn attributes(&self) -> BTreeMap<&'static str, String> {
        BTreeMap::from([
            ("guac-full-name", self.full_name.clone()),
            ("guac-email-address", self.email.clone()),
            // Guacamole's boolean attributes are "true" or empty.
            ("disabled", if self.disabled { "true".into() } else { String::new() }),
        ])
    }

    fn matches(&self, user: &GuacamoleUser) -> bool {
        self.attributes().iter().all(|(name, value)| user.attribute(name) == value)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionGroup {
    pub identifier: String,
    pub name: String,
    pub parent_identifier: String,
    #[serde(rename = "type")]
    pub kind: String,
}

/// A connection as listed (the list carries no parameters).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GuacamoleConnection {
    pub identifier: String,
    pub name: String,
    pub parent_identifier: String,
    pub protocol: String,
}

/// Protocol parameters (`hostname`, `port`, `username`, `password`, `security`, ...).
pub type ConnectionParams = BTreeMap<String, String>;

#[derive(Clone)]
pub struct ConnectionSpec {
    /// The identifier of the group it belongs to.
    pub parent: String,
    pub name: String,
    pub protocol: String,
    pub parameters: ConnectionParams,
}

impl std::fmt::Debug for ConnectionSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown: BTreeMap<&str, &str> = self
            .parameters
            .iter()
            .map(|(k, v)| (k.as_str(), if k.contains("password") { "<redacted>" } else { v.as_str() }))
            .collect();
        f.debug_struct("ConnectionSpec")
            .field("parent", &self.parent)
            .field("name", &self.name)
            .field("protocol", &self.protocol)
            .field("parameters", &shown)
            .finish()
    }
}

impl ConnectionSpec {
    fn body(&self) -> Value {
        json!({
            "parentIdentifier": self.parent,
            "name": self.name,
            "protocol": self.protocol,
            "parameters": self.parameters,
            "attributes": {
                "max-connections": "", "max-connections-per-user": "", "weight": "", "failover-only": "",
                "guacd-hostname": "", "guacd-port": "", "guacd-encryption": ""
            },
        })
    }
}

/// `GET .../users/{username}/permissions`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Permissions {
    #[serde(default)]
    pub connection_permissions: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub connection_group_permissions: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub system_permissions: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TokenAnswer {
    auth_token: String,
    data_source: String,
    #[serde(default)]
    available_data_sources: Vec<String>,
}

#[derive(Clone)]
struct AdminSession {
    token: String,
    data_source: String,
}

/// Whether a created-or-updated object was created, changed or already right.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    Created,
    Updated,
    Unchanged,
}

pub struct GuacamoleClient {
    http: reqwest::Client,
    config: GuacamoleConfig,
    session: Mutex<Option<AdminSession>>,
}

impl GuacamoleClient {
    pub fn new(config: GuacamoleConfig) -> Result<GuacamoleClient, GuacError> {
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(crate::tls::client_config()?)
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            .user_agent(concat!("openvle-guacamole-connector/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| GuacError::Config { reason: format!("HTTP client: {e}") })?;
        Ok(GuacamoleClient { http, config, session: Mutex::new(None) })
    }

    pub fn config(&self) -> &GuacamoleConfig {
        &self.config
    }

    fn url(&self, segments: &[&str]) -> Result<Url, GuacError> {
        let mut url = self.config.base_url.clone();
        url.path_segments_mut()
            .map_err(|()| GuacError::Config { reason: "the Guacamole URL cannot have a path".into() })?
            .pop_if_empty()
            .extend(segments);
        Ok(url)
    }

    /// Signs in with the admin account (`POST /api/tokens`) and keeps the token.
    async fn sign_in(&self) -> Result<AdminSession, GuacError> {
        let what = "admin sign-in";
        let url = self.url(&["api", "tokens"])?;
        let form =
            [("username", self.config.admin_username.as_str()), ("password", self.config.admin_password.expose())];
        let response = self.http.post(url).form(&form).send().await.map_err(|e| transport(what, e))?;
        let answer: TokenAnswer = decode(what, response).await?;
        let data_source = match &self.config.data_source {
            Some(wanted) if !answer.available_data_sources.iter().any(|ds| ds == wanted) => {
                return Err(GuacError::Config {
                    reason: format!(
                        "data source {wanted:?} is not available; Guacamole offers {:?}",
                        answer.available_data_sources
                    ),
                });
            }
            Some(wanted) => wanted.clone(),
            None => answer.data_source,
        };
        Ok(AdminSession { token: answer.auth_token, data_source })
    }

    /// The current admin session, signing in when there is none (or `renew`).
    async fn session(&self, renew: bool) -> Result<AdminSession, GuacError> {
        let mut slot = self.session.lock().await;
        if let Some(session) = slot.as_ref().filter(|_| !renew) {
            return Ok(session.clone());
        }
        let session = self.sign_in().await?;
        *slot = Some(session.clone());
        Ok(session)
    }

    /// The data source this client manages (signing in if needed).
    pub async fn data_source(&self) -> Result<String, GuacError> {
        Ok(self.session(false).await?.data_source)
    }

    /// Sends a request under `api/session/data/{ds}/...`. A token that expired
    /// (Guacamole answers 403 "Permission Denied." or 401) is renewed once.
    async fn call(
        &self,
        what: &str,
        method: Method,
        segments: &[&str],
        body: Option<&Value>,
    ) -> Result<reqwest::Response, GuacError> {
        let mut renewed = false;
        loop {
            let session = self.session(renewed).await?;
            let mut path = vec!["api", "session", "data", session.data_source.as_str()];
            path.extend_from_slice(segments);
            let mut request: RequestBuilder =
                self.http.request(method.clone(), self.url(&path)?).header("Guacamole-Token", &session.token);
            if let Some(body) = body {
                request = request.json(body);
            }
            let response = request.send().await.map_err(|e| transport(what, e))?;
            let status = response.status();
            if status.is_success() {
                return Ok(response);
            }
            let bytes = response.bytes().await.map_err(|e| transport(what, e))?;
            let error = from_response(what, status.as_u16(), &bytes);
            if !renewed && matches!(error, GuacError::PermissionDenied { .. }) {
                tracing::debug!(target: "guacamole", what, "token refused, signing in again");
                renewed = true;
                continue;
            }
            return Err(error);
        }
    }

    async fn get<T: DeserializeOwned>(&self, what: &str, segments: &[&str]) -> Result<T, GuacError> {
        decode(what, self.call(what, Method::GET, segments, None).await?).await
    }

    /// A DELETE that also succeeds when the object is already gone.
    async fn delete(&self, what: &str, segments: &[&str]) -> Result<(), GuacError> {
        match self.call(what, Method::DELETE, segments, None).await {
            Ok(_) | Err(GuacError::NotFound { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    // ----- users ------------------------------------------------------------------

    pub async fn user(&self, username: &str) -> Result<Option<GuacamoleUser>, GuacError> {
        match self.get(&format!("user {username}"), &["users", username]).await {
            Ok(user) => Ok(Some(user)),
            Err(GuacError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Creates the user, or updates name, e-mail and disabled flag when they differ.
    pub async fn ensure_user(&self, spec: &UserSpec) -> Result<Change, GuacError> {
        let what = format!("user {}", spec.username);
        let body = json!({
            "username": spec.username,
            "password": spec.password.expose(),
            "attributes": spec.attributes(),
        });
        match self.user(&spec.username).await? {
            None => {
                self.call(&what, Method::POST, &["users"], Some(&body)).await?;
                Ok(Change::Created)
            }
            Some(user) if spec.matches(&user) => Ok(Change::Unchanged),
            Some(_) => {
                self.call(&what, Method::PUT, &["users", &spec.username], Some(&body)).await?;
                Ok(Change::Updated)
            }
        }
    }

    pub async fn delete_user(&self, username: &str) -> Result<(), GuacError> {
        self.delete(&format!("user {username}"), &["users", username]).await
    }

    // ----- connection groups ----------------------------------------------------------

    pub async fn connection_groups(&self) -> Result<Vec<ConnectionGroup>, GuacError> {
        let map: BTreeMap<String, ConnectionGroup> = self.get("connection groups", &["connectionGroups"]).await?;
        Ok(map.into_values().collect())
    }

    /// The top-level organizational group named `name`, created when missing.
    pub async fn ensure_group(&self, name: &str) -> Result<(ConnectionGroup, Change), GuacError> {
        let existing = self.connection_groups().await?;
        if let Some(group) = existing.into_iter().find(|g| g.parent_identifier == ROOT_GROUP && g.name == name) {
            return Ok((group, Change::Unchanged));
        }
        let what = format!("connection group {name}");
        let body = json!({
            "parentIdentifier": ROOT_GROUP,
            "name": name,
            "type": "ORGANIZATIONAL",
            "attributes": { "max-connections": "", "max-connections-per-user": "", "enable-session-affinity": "" },
        });
        let created = decode(&what, self.call(&what, Method::POST, &["connectionGroups"], Some(&body)).await?).await?;
        Ok((created, Change::Created))
    }

    pub async fn find_group(&self, name: &str) -> Result<Option<ConnectionGroup>, GuacError> {
        Ok(self.connection_groups().await?.into_iter().find(|g| g.parent_identifier == ROOT_GROUP && g.name == name))
    }

    /// Deletes a group; Guacamole deletes the connections in it with it.
    pub async fn delete_group(&self, identifier: &str) -> Result<(), GuacError> {
        self.delete(&format!("connection group {identifier}"), &["connectionGroups", identifier]).await
    }

    // ----- connections ------------------------------------------------------------------

    pub async fn connections(&self) -> Result<Vec<GuacamoleConnection>, GuacError> {
        let map: BTreeMap<String, GuacamoleConnection> = self.get("connections", &["connections"]).await?;
        Ok(map.into_values().collect())
    }

    pub async fn find_connection(&self, parent: &str, name: &str) -> Result<Option<GuacamoleConnection>, GuacError> {
        Ok(self.connections().await?.into_iter().find(|c| c.parent_identifier == parent && c.name == name))
    }

    pub async fn connection_parameters(&self, identifier: &str) -> Result<ConnectionParams, GuacError> {
        let raw: BTreeMap<String, Option<String>> =
            self.get(&format!("connection {identifier}"), &["connections", identifier, "parameters"]).await?;
        Ok(raw.into_iter().filter_map(|(k, v)| v.filter(|v| !v.is_empty()).map(|v| (k, v))).collect())
    }

    /// Creates the connection, or updates it when protocol or parameters differ
    /// (e.g. the VM got a new address). Returns its identifier.
    pub async fn ensure_connection(&self, spec: &ConnectionSpec) -> Result<(String, Change), GuacError> {
        let what = format!("connection {}", spec.name);
        match self.find_connection(&spec.parent, &spec.name).await? {
            None => {
                let created: GuacamoleConnection =
                    decode(&what, self.call(&what, Method::POST, &["connections"], Some(&spec.body())).await?).await?;
                Ok((created.identifier, Change::Created))
            }
            Some(existing) => {
                let current = self.connection_parameters(&existing.identifier).await?;
                let wanted: ConnectionParams = spec
                    .parameters
                    .iter()
                    .filter(|(_, v)| !v.is_empty())
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                if existing.protocol == spec.protocol && current == wanted {
                    return Ok((existing.identifier, Change::Unchanged));
                }
                self.call(&what, Method::PUT, &["connections", &existing.identifier], Some(&spec.body())).await?;
                Ok((existing.identifier, Change::Updated))
            }
        }
    }

    pub async fn delete_connection(&self, identifier: &str) -> Result<(), GuacError> {
        self.delete(&format!("connection {identifier}"), &["connections", identifier]).await
    }

    // ----- permissions ---------------------------------------------------------------------

    pub async fn permissions(&self, username: &str) -> Result<Permissions, GuacError> {
        self.get(&format!("permissions of {username}"), &["users", username, "permissions"]).await
    }

    /// Adds or removes READ on a connection, by JSON Patch. Both are idempotent in
    /// Guacamole (adding a held permission or removing a missing one changes nothing).
    pub async fn set_connection_read(&self, username: &str, connection: &str, allowed: bool) -> Result<(), GuacError> {
        let patch = json!([{
            "op": if allowed { "add" } else { "remove" },
            "path": format!("/connectionPermissions/{connection}"),
            "value": "READ",
        }]);
        let what = format!("permissions of {username}");
        self.call(&what, Method::PATCH, &["users", username, "permissions"], Some(&patch)).await?;
        Ok(())
    }
}

fn transport(what: &str, e: reqwest::Error) -> GuacError {
    let message = if e.is_timeout() { "timed out".to_owned() } else { e.to_string() };
    GuacError::Transport { what: what.to_owned(), message }
}

async fn decode<T: DeserializeOwned>(what: &str, response: reqwest::Response) -> Result<T, GuacError> {
    let status = response.status();
    let bytes = response.bytes().await.map_err(|e| transport(what, e))?;
    if status != StatusCode::OK {
        return Err(from_response(what, status.as_u16(), &bytes));
    }
    serde_json::from_slice(&bytes).map_err(|e| GuacError::Decode { what: what.to_owned(), message: e.to_string() })
}
