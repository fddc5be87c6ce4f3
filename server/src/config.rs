//! All start-up configuration, read once from the environment into one typed
//! struct. Variable names follow the original product and its Docker seed
//! (`MARIADB_HOST`, `REDIS_HOST`, `AUTH_SECRET`, ...). Anything that can be
//! changed at run time lives in the database settings instead.

use std::net::SocketAddr;
use std::path::PathBuf;

use guacamole_connector::{GuacamoleConfig, JsonSecretKey, Secret};
use ldap_connector::{LdapConfig, LdapConfigError, RoleRules, vars as ldap};
use oidc_connector::{OidcConfig, OidcConfigError, vars as oidc};
use proxmox_connector::{PveConfig, PveConfigError, vars as pve};
use services::secrets::SecretKey;
use smtp_connector::{MailDropConfig, Security, SmtpConfig};

/// One documented environment variable (`openvle --help` prints them all).
pub struct EnvVar {
    pub name: &'static str,
    pub default: &'static str,
    pub help: &'static str,
}

/// Every variable [`Config::from_lookup`] reads; a test keeps the two in step.
pub const VARIABLES: &[EnvVar] = &[
    EnvVar {
        name: "OPENVLE_LISTEN",
        default: "127.0.0.1:8000",
        help: "Address the web server listens on (in a container: 0.0.0.0:8000).",
    },
    EnvVar {
        name: "OPENVLE_PUBLIC_URL",
        default: "http://<OPENVLE_LISTEN>",
        help: "URL people use to reach OpenVLE; https here marks session cookies Secure.",
    },
    EnvVar {
        name: "CORS_ORIGINS",
        default: "",
        help: "Further origins allowed to post forms, comma-separated or a JSON list (e.g. a separate static host).",
    },
    EnvVar {
        name: "OPENVLE_DATA_DIR",
        default: "./data",
        help: "Directory for the embedded SQLite database when no MariaDB is configured.",
    },
    EnvVar {
        name: "OPENVLE_SITE_ROOT",
        default: "target/site",
        help: "Directory with the built browser bundle, CSS and static files.",
    },
    EnvVar {
        name: "AUTH_SECRET",
        default: "(required; demo: generated)",
        help: "Secret of at least 32 characters keying session tokens; changing it signs everyone out.",
    },
    EnvVar {
        name: "OPENVLE_SECRET_KEY",
        default: "(demo: generated)",
        help: "64 hex characters (openssl rand -hex 32) encrypting secrets kept in the database, such as the Proxmox token saved in the UI; without it such secrets can be neither saved nor read.",
    },
    EnvVar { name: "MARIADB_HOST", default: "", help: "MariaDB host; unset means the embedded SQLite database." },
    EnvVar { name: "MARIADB_PORT", default: "3306", help: "MariaDB port." },
    EnvVar { name: "MARIADB_USER", default: "openvle", help: "MariaDB user." },
    EnvVar { name: "MARIADB_PASSWORD", default: "", help: "MariaDB password." },
    EnvVar { name: "MARIADB_DATABASE", default: "openvle", help: "MariaDB database name." },
    EnvVar { name: "DATABASE_MAX_CONNECTIONS", default: "10", help: "Size of the SQL connection pool." },
    EnvVar {
        name: "REDIS_HOST",
        default: "",
        help: "Redis host for sessions and (later) the job queue; unset means SQL sessions and an in-process queue.",
    },
    EnvVar { name: "REDIS_PORT", default: "6379", help: "Redis port." },
    EnvVar { name: "REDIS_PASSWORD", default: "", help: "Redis password." },
    EnvVar { name: "REDIS_DB", default: "0", help: "Redis database number." },
    EnvVar {
        name: "REDIS_KEY_PREFIX",
        default: "openvle",
        help: "Prefix of every Redis key, so installations can share one Redis.",
    },
    EnvVar {
        name: "MONGODB_HOST",
        default: "",
        help: "MongoDB host for activities and logs; /readyz checks it is reachable.",
    },
    EnvVar { name: "MONGODB_PORT", default: "27017", help: "MongoDB port." },
    // Activities (issue 6): without MONGODB_HOST they stay in the SQL database.
    EnvVar { name: "MONGODB_USER", default: "", help: "MongoDB user; empty means no authentication." },
    EnvVar { name: "MONGODB_PASSWORD", default: "", help: "MongoDB password." },
    EnvVar { name: "MONGODB_DATABASE", default: "openvle", help: "MongoDB database of the activity log." },
    EnvVar {
        name: pve::HOSTNAME,
        default: "",
        help: "Proxmox VE API address, host:port or https://host:8006; unset means no cluster (demo: the built-in simulator).",
    },
    EnvVar { name: pve::USER, default: "", help: "Proxmox user of the API token, e.g. OpenVLE@pve." },
    EnvVar { name: pve::TOKEN_NAME, default: "", help: "API token id, e.g. prod01." },
    EnvVar { name: pve::TOKEN_VALUE, default: "", help: "API token secret." },
    EnvVar {
        name: pve::VERIFY_SSL,
        default: "True",
        help: "Verify the Proxmox TLS certificate (False is insecure and logged as such).",
    },
    EnvVar {
        name: pve::TLS_FINGERPRINT,
        default: "",
        help: "Pinned SHA-256 fingerprint of a self-signed Proxmox certificate (AA:BB:...).",
    },
    EnvVar { name: pve::CA_FILE, default: "", help: "PEM file of the CA that signed the Proxmox certificate." },
    EnvVar {
        name: pve::VMS_POOL,
        default: "OpenVLE-VMs",
        help: "The Proxmox pool holding every VM and template OpenVLE manages.",
    },
    EnvVar { name: pve::VMS_FULL_CLONE_DEFAULT, default: "False", help: "Full instead of linked clones by default." },
    EnvVar { name: pve::CONNECT_TIMEOUT_SECS, default: "10", help: "Proxmox connect timeout in seconds." },
    EnvVar { name: pve::REQUEST_TIMEOUT_SECS, default: "60", help: "Proxmox request timeout in seconds." },
    EnvVar {
        name: "WORKER_MAX_RETRY",
        default: "5",
        help: "Retries after the first attempt on the VM, mail, Guacamole and Moodle queues.",
    },
    EnvVar { name: "WORKER_CONCURRENCY", default: "8", help: "Jobs one worker process runs at once." },
    EnvVar { name: "WORKER_NODE_CONCURRENCY", default: "2", help: "Jobs running at once against one Proxmox node." },
    EnvVar {
        name: "WORKER_VISIBILITY_TIMEOUT_SECS",
        default: "60",
        help: "A crashed worker's job is taken over after this many seconds.",
    },
    EnvVar {
        name: "WORKER_SHUTDOWN_GRACE_SECS",
        default: "30",
        help: "On SIGTERM, how long running jobs may finish before they are handed back.",
    },
    EnvVar { name: "SCHEDULER_TICK_SECS", default: "60", help: "How often the scheduler looks for due work." },
    EnvVar {
        name: ldap::ENABLED,
        default: "False",
        help: "Sign-in against the institution's LDAP directory (see LDAP_ROLE_RULES; a local account with the same username always wins).",
    },
    EnvVar {
        name: ldap::URL,
        default: "",
        help: "ldap://host:389 or ldaps://host:636 (required when LDAP is enabled).",
    },
    EnvVar { name: ldap::STARTTLS, default: "False", help: "Upgrade an ldap:// connection with StartTLS." },
    EnvVar { name: ldap::CA_FILE, default: "", help: "PEM file of the CA that signed the LDAP server certificate." },
    EnvVar {
        name: ldap::SKIP_VERIFY,
        default: "False",
        help: "Do not verify the LDAP server certificate (labs only; logged as insecure).",
    },
    EnvVar {
        name: ldap::BIND_DN,
        default: "",
        help: "Service account that searches for users; unset means anonymous search.",
    },
    EnvVar { name: ldap::BIND_PASSWORD, default: "", help: "Password of LDAP_BIND_DN." },
    EnvVar {
        name: ldap::DN_PEOPLE,
        default: "",
        help: "Base DN searched for users, e.g. ou=people,dc=example,dc=org (required unless LDAP_USER_DN_TEMPLATE).",
    },
    EnvVar { name: ldap::ATTR_USER, default: "uid", help: "Attribute holding the username (sAMAccountName in AD)." },
    EnvVar {
        name: ldap::USER_FILTER,
        default: "(&(objectClass=inetOrgPerson)({attr}={username}))",
        help: "Search filter; {attr} is LDAP_ATTR_USER, {username} the escaped username.",
    },
    EnvVar {
        name: ldap::USER_DN_TEMPLATE,
        default: "",
        help: "Bind directly as this DN instead of searching, e.g. uid={username},ou=people,dc=example,dc=org.",
    },
    EnvVar { name: ldap::ATTR_MAIL, default: "mail", help: "Attribute holding the e-mail address." },
    EnvVar { name: ldap::ATTR_GIVEN_NAME, default: "givenName", help: "Attribute holding the given name." },
    EnvVar { name: ldap::ATTR_SURNAME, default: "sn", help: "Attribute holding the surname." },
    EnvVar { name: ldap::ATTR_DISPLAY_NAME, default: "cn", help: "Attribute holding the display name." },
    EnvVar {
        name: ldap::ATTR_MEMBER_OF,
        default: "memberOf",
        help: "Attribute on the user's entry listing group DNs (used unless LDAP_GROUP_BASE).",
    },
    EnvVar { name: ldap::GROUP_BASE, default: "", help: "Search groups under this DN instead of reading memberOf." },
    EnvVar {
        name: ldap::GROUP_FILTER,
        default: "(member={dn})",
        help: "Group search filter; {dn} is the user's DN, {username} the username.",
    },
    EnvVar {
        name: ldap::ATTR_DISABLED,
        default: "",
        help: "Attribute marking a disabled account (e.g. pwdAccountLockedTime, userAccountControl).",
    },
    EnvVar {
        name: ldap::DISABLED_VALUE,
        default: "",
        help: "Value of LDAP_ATTR_DISABLED meaning disabled; unset: present means disabled; bits:2 for AD's ACCOUNTDISABLE.",
    },
    EnvVar { name: ldap::TIMEOUT_SECS, default: "10", help: "LDAP connect and operation timeout in seconds." },
    EnvVar {
        name: "LDAP_ROLE_RULES",
        default: "",
        help: "Group -> role rules applied at every LDAP sign-in: pattern=role;pattern=role, first matching rule wins. A pattern with = is a group DN (cn=admins,ou=groups,dc=example,dc=org=admin), otherwise a group name (teachers=instructor).",
    },
    EnvVar {
        name: "LDAP_DEFAULT_ROLE",
        default: "participant",
        help: "Role of directory users no LDAP_ROLE_RULES rule matches.",
    },
    EnvVar {
        name: oidc::ENABLED,
        default: "False",
        help: "Single sign-on through an OpenID Connect provider (a \"Sign in with ...\" button; a local or LDAP account with the same username is never taken over).",
    },
    EnvVar {
        name: oidc::ISSUER,
        default: "",
        help: "The provider's issuer exactly as its discovery document states it, e.g. https://sso.example.org/realms/uni (required when OIDC is enabled).",
    },
    EnvVar {
        name: oidc::CLIENT_ID,
        default: "",
        help: "Client id registered at the provider (required when OIDC is enabled).",
    },
    EnvVar { name: oidc::CLIENT_SECRET, default: "", help: "Client secret; unset means a public client (PKCE only)." },
    EnvVar {
        name: oidc::REDIRECT_URL,
        default: "",
        help: "Our callback as registered at the provider: <OPENVLE_PUBLIC_URL>/auth/oidc/callback (required when OIDC is enabled).",
    },
    EnvVar { name: oidc::SCOPES, default: "openid email profile", help: "Scopes requested, space-separated." },
    EnvVar {
        name: oidc::USERNAME_CLAIM,
        default: "preferred_username",
        help: "Claim holding the username (dotted paths walk into objects); sub when the provider does not send it.",
    },
    EnvVar {
        name: oidc::GROUPS_CLAIM,
        default: "groups",
        help: "Claim holding the user's groups, for OIDC_ROLE_RULES.",
    },
    EnvVar {
        name: oidc::DISPLAY_NAME,
        default: "Single sign-on",
        help: "Label of the sign-in button (Sign in with ...).",
    },
    EnvVar { name: oidc::LOGOUT, default: "False", help: "Sign out at the provider too (RP-initiated logout)." },
    EnvVar {
        name: oidc::CLOCK_SKEW_SECS,
        default: "60",
        help: "Tolerated clock difference when checking ID tokens, in seconds.",
    },
    EnvVar { name: oidc::TIMEOUT_SECS, default: "10", help: "Timeout of each request to the provider in seconds." },
    EnvVar { name: oidc::CA_FILE, default: "", help: "PEM file of the CA that signed the provider's certificate." },
    EnvVar {
        name: "OIDC_ROLE_RULES",
        default: "",
        help: "Group -> role rules applied at every single sign-on, in the format of LDAP_ROLE_RULES (teachers=instructor;admins=admin).",
    },
    EnvVar {
        name: "OIDC_DEFAULT_ROLE",
        default: "participant",
        help: "Role of single sign-on users no OIDC_ROLE_RULES rule matches.",
    },
    // --- E-mail (issue 8); the original's names are not published: SMTP_* ---
    EnvVar {
        name: "SMTP_HOST",
        default: "",
        help: "Mail server; unset: mails go to MAIL_DROP_DIR, or are logged and fail with \"no mail server configured\".",
    },
    EnvVar { name: "SMTP_PORT", default: "465", help: "Mail server port (465 implicit TLS, 587 STARTTLS, 25 plain)." },
    EnvVar {
        name: "SMTP_SECURITY",
        default: "tls",
        help: "tls (implicit TLS, as the original), starttls, or plain (local relays only).",
    },
    EnvVar { name: "SMTP_USER", default: "", help: "SMTP AUTH user; unset: no authentication." },
    EnvVar { name: "SMTP_PASSWORD", default: "", help: "Password of SMTP_USER." },
    EnvVar { name: "SMTP_FROM", default: "OpenVLE <noreply@localhost>", help: "Sender: an address or Name <address>." },
    EnvVar { name: "SMTP_REPLY_TO", default: "", help: "Reply-To when a template sets none." },
    EnvVar { name: "SMTP_CA_FILE", default: "", help: "PEM file of the CA that signed the mail server certificate." },
    EnvVar {
        name: "SMTP_SKIP_VERIFY",
        default: "False",
        help: "Do not check the mail server certificate (test setups only; warned).",
    },
    EnvVar { name: "SMTP_TIMEOUT_SECS", default: "30", help: "Connect and command timeout in seconds." },
    EnvVar {
        name: "MAIL_DROP_DIR",
        default: "",
        help: "Without SMTP_HOST: write each mail to this folder as an .eml file instead of sending it (trials; the demo's default is <data dir>/mail).",
    },
    // --- Apache Guacamole (issue 9): optional ---
    EnvVar {
        name: "GUACAMOLE_URL",
        default: "",
        help: "Guacamole's web application, e.g. https://guac.example.org/guacamole/; the GUACAMOLE_* values apply until a connection is saved at /admin/guacamole. Unset and nothing saved: no Guacamole (the built-in console only).",
    },
    EnvVar {
        name: "GUACAMOLE_USERNAME",
        default: "",
        help: "Guacamole administrator that manages users, connections and permissions (required with GUACAMOLE_URL).",
    },
    EnvVar { name: "GUACAMOLE_PASSWORD", default: "", help: "Password of GUACAMOLE_USERNAME." },
    EnvVar {
        name: "GUACAMOLE_DATA_SOURCE",
        default: "",
        help: "Guacamole data source to manage (mysql, postgresql, ...); unset: the one Guacamole names at sign-in.",
    },
    EnvVar {
        name: "GUACAMOLE_JSON_SECRET_KEY",
        default: "",
        help: "Guacamole's json-secret-key (32 hex digits, guacamole-auth-json) for signing participants in; unset: Connect opens Guacamole's own sign-in page.",
    },
    EnvVar {
        name: "TRUST_PROXY_HEADERS",
        default: "False",
        help: "Take the client address from X-Forwarded-For (only behind a reverse proxy you run).",
    },
    EnvVar { name: "LOG_FORMAT", default: "text", help: "text or json." },
    EnvVar { name: "RUST_LOG", default: "info", help: "Log filter, e.g. info,server=debug." },
];

#[derive(Debug, PartialEq, thiserror::Error)]
#[error("{var}: {problem}")]
pub struct ConfigError {
    pub var: &'static str,
    pub problem: String,
}

fn problem(var: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError { var, problem: problem.into() }
}

#[derive(Clone, Debug, PartialEq)]
pub enum DatabaseConfig {
    Sqlite { path: PathBuf },
    MariaDb { host: String, port: u16, user: String, password: String, database: String },
}

impl DatabaseConfig {
    pub fn url(&self) -> String {
        match self {
            DatabaseConfig::Sqlite { path } => format!("sqlite://{}?mode=rwc", path.display()),
            DatabaseConfig::MariaDb { host, port, user, password, database } => {
                let auth = if password.is_empty() {
                    app::url_encode(user)
                } else {
                    format!("{}:{}", app::url_encode(user), app::url_encode(password))
                };
                format!("mysql://{auth}@{host}:{port}/{database}")
            }
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct RedisConfig {
    pub host: String,
    pub port: u16,
    pub password: String,
    pub db: u32,
    pub key_prefix: String,
}

impl RedisConfig {
    pub fn url(&self) -> String {
        let auth =
            if self.password.is_empty() { String::new() } else { format!(":{}@", app::url_encode(&self.password)) };
        format!("redis://{auth}{}:{}/{}", self.host, self.port, self.db)
    }
}

/// The job system's knobs.
#[derive(Clone, Debug, PartialEq)]
pub struct JobsConfig {
    pub max_retry: u32,
    pub concurrency: usize,
    pub node_concurrency: usize,
    pub visibility: std::time::Duration,
    pub shutdown_grace: std::time::Duration,
    pub scheduler_tick: std::time::Duration,
}

/// The directory and how its groups map to roles.
#[derive(Clone, Debug)]
pub struct LdapSettings {
    pub config: LdapConfig,
    pub rules: RoleRules,
}

/// The OpenID provider and how its groups map to roles.
#[derive(Clone, Debug)]
pub struct OidcSettings {
    pub config: OidcConfig,
    pub rules: RoleRules,
}

/// Parses `<prefix>_ROLE_RULES` and `<prefix>_DEFAULT_ROLE` (default `participant`).
fn role_rules(
    lookup: &dyn Fn(&str) -> Option<String>,
    rules_var: &'static str,
    default_var: &'static str,
) -> Result<RoleRules, ConfigError> {
    let default_role = lookup(default_var).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    let default_role = default_role.unwrap_or_else(|| "participant".to_string());
    if !default_role.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        return Err(problem(default_var, format!("{default_role:?} is not a role key")));
    }
    RoleRules::parse(&lookup(rules_var).unwrap_or_default(), Some(default_role)).map_err(|e| problem(rules_var, e))
}

/// The activity log in MongoDB (`MONGODB_*`).
#[derive(Clone, PartialEq)]
pub struct MongoConfig {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: String,
    pub database: String,
}

impl MongoConfig {
    /// The address without credentials (those go to the driver separately).
    pub fn uri(&self) -> String {
        format!("mongodb://{}:{}", self.host, self.port)
    }
}

/// Without the password.
impl std::fmt::Debug for MongoConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}/{} (user {:?})", self.host, self.port, self.database, self.user)
    }
}

#[derive(Copy, Clone, Debug, PartialEq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub public_url: String,
    pub extra_origins: Vec<String>,
    pub data_dir: PathBuf,
    pub site_root: PathBuf,
    pub auth_secret: String,
    /// `OPENVLE_SECRET_KEY`: encrypts secrets stored in the database.
    pub secret_key: Option<SecretKey>,
    pub database: DatabaseConfig,
    pub database_max_connections: u32,
    pub redis: Option<RedisConfig>,
    pub mongodb: Option<MongoConfig>,
    pub proxmox: Option<PveConfig>,
    /// LDAP sign-in, when `LDAP_ENABLED`.
    pub ldap: Option<LdapSettings>,
    /// Single sign-on, when `OIDC_ENABLED`.
    pub oidc: Option<OidcSettings>,
    /// The mail server, when `SMTP_HOST` is set.
    pub smtp: Option<SmtpConfig>,
    /// Where mails are written instead, when `MAIL_DROP_DIR` is set.
    pub mail_drop: Option<MailDropConfig>,
    /// Apache Guacamole, when `GUACAMOLE_URL` is set.
    pub guacamole: Option<GuacamoleConfig>,
    pub jobs: JobsConfig,
    pub trust_proxy_headers: bool,
    pub log_format: LogFormat,
}

/// Secrets stay out of debug output (and so out of logs).
impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("public_url", &self.public_url)
            .field("data_dir", &self.data_dir)
            .field(
                "database",
                &match &self.database {
                    DatabaseConfig::Sqlite { path } => format!("sqlite {}", path.display()),
                    DatabaseConfig::MariaDb { host, port, database, .. } => format!("mariadb {host}:{port}/{database}"),
                },
            )
            .field("redis", &self.redis.as_ref().map(|r| format!("{}:{}/{}", r.host, r.port, r.db)))
            .field("mongodb", &self.mongodb)
            .field("proxmox", &self.proxmox.as_ref().map(|p| p.base_url.to_string()))
            .field("ldap", &self.ldap.as_ref().map(|l| l.config.url.to_string()))
            .field("oidc", &self.oidc.as_ref().map(|o| o.config.issuer.clone()))
            .field("smtp", &self.smtp.as_ref().map(|m| format!("{}:{}", m.host, m.port)))
            .field("mail_drop", &self.mail_drop.as_ref().map(|m| m.dir.display().to_string()))
            .field("guacamole", &self.guacamole.as_ref().map(|g| g.base_url.to_string()))
            .finish_non_exhaustive()
    }
}

/// Where the auth secret comes from when the environment has none.
pub enum SecretSource {
    /// `serve`: it must be configured.
    Required,
    /// `demo`: one is generated and kept in the data directory.
    GeneratedInDataDir,
}

fn parse_bool(var: &'static str, raw: &str) -> Result<bool, ConfigError> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" | "" => Ok(false),
        _ => Err(problem(var, format!("expected True or False, got {raw:?}"))),
    }
}

fn parse_port(var: &'static str, raw: &str) -> Result<u16, ConfigError> {
    match raw.trim().parse::<u16>() {
        Ok(p) if p > 0 => Ok(p),
        _ => Err(problem(var, format!("expected a port number 1-65535, got {raw:?}"))),
    }
}

fn parse_number<T: std::str::FromStr>(var: &'static str, raw: &str, what: &str) -> Result<T, ConfigError> {
    raw.trim().parse().map_err(|_| problem(var, format!("expected {what}, got {raw:?}")))
}

/// `a,b` or `["a","b"]` (the original product documents the JSON form).
fn parse_list(raw: &str) -> Vec<String> {
    let trimmed = raw.trim();
    let items: Vec<String> = if trimmed.starts_with('[') {
        serde_json::from_str(trimmed).unwrap_or_default()
    } else {
        trimmed.split(',').map(str::to_string).collect()
    };
    items.into_iter().map(|s| s.trim().trim_end_matches('/').to_string()).filter(|s| !s.is_empty()).collect()
}

impl Config {
    /// Reads the configuration through `lookup` (the environment in
    /// production, a map in tests). The first problem found is returned.
    pub fn from_lookup(lookup: &dyn Fn(&str) -> Option<String>, secret: SecretSource) -> Result<Config, ConfigError> {
        let get = |name: &'static str| lookup(name).filter(|v| !v.trim().is_empty());
        let or = |name: &'static str, default: &str| get(name).unwrap_or_else(|| default.to_string());

        let listen_raw = or("OPENVLE_LISTEN", "127.0.0.1:8000");
        let listen: SocketAddr = listen_raw.trim().parse().map_err(|_| {
            problem("OPENVLE_LISTEN", format!("expected host:port such as 0.0.0.0:8000, got {listen_raw:?}"))
        })?;
        let public_url = get("OPENVLE_PUBLIC_URL")
            .map(|u| u.trim().trim_end_matches('/').to_string())
            .unwrap_or_else(|| format!("http://{listen}"));
        if !(public_url.starts_with("http://") || public_url.starts_with("https://")) {
            return Err(problem(
                "OPENVLE_PUBLIC_URL",
                format!("expected an http:// or https:// URL, got {public_url:?}"),
            ));
        }
        let data_dir = PathBuf::from(or("OPENVLE_DATA_DIR", "./data"));
        let site_root = PathBuf::from(or("OPENVLE_SITE_ROOT", "target/site"));

        let auth_secret = match (get("AUTH_SECRET"), secret) {
            (Some(s), _) if s.chars().count() < 32 => {
                return Err(problem(
                    "AUTH_SECRET",
                    "too short: use at least 32 random characters (e.g. `openssl rand -hex 32`)",
                ));
            }
            (Some(s), _) => s,
            (None, SecretSource::Required) => {
                return Err(problem(
                    "AUTH_SECRET",
                    "missing: set it to at least 32 random characters (e.g. `openssl rand -hex 32`)",
                ));
            }
            (None, SecretSource::GeneratedInDataDir) => String::new(),
        };

        let secret_key = get("OPENVLE_SECRET_KEY")
            .map(|raw| SecretKey::from_hex(&raw).map_err(|e| problem("OPENVLE_SECRET_KEY", e.to_string())))
            .transpose()?;

        let database = match get("MARIADB_HOST") {
            None => DatabaseConfig::Sqlite { path: data_dir.join("openvle.db") },
            Some(host) => DatabaseConfig::MariaDb {
                host: host.trim().to_string(),
                port: parse_port("MARIADB_PORT", &or("MARIADB_PORT", "3306"))?,
                user: or("MARIADB_USER", "openvle"),
                password: lookup("MARIADB_PASSWORD").unwrap_or_default(),
                database: or("MARIADB_DATABASE", "openvle"),
            },
        };
        let database_max_connections: u32 =
            parse_number("DATABASE_MAX_CONNECTIONS", &or("DATABASE_MAX_CONNECTIONS", "10"), "a number of connections")?;
        if database_max_connections == 0 {
            return Err(problem("DATABASE_MAX_CONNECTIONS", "must be at least 1"));
        }

        let redis = match get("REDIS_HOST") {
            None => None,
            Some(host) => Some(RedisConfig {
                host: host.trim().to_string(),
                port: parse_port("REDIS_PORT", &or("REDIS_PORT", "6379"))?,
                password: lookup("REDIS_PASSWORD").unwrap_or_default(),
                db: parse_number("REDIS_DB", &or("REDIS_DB", "0"), "a database number")?,
                key_prefix: or("REDIS_KEY_PREFIX", "openvle"),
            }),
        };
        let mongodb = match get("MONGODB_HOST") {
            None => None,
            Some(host) => Some(MongoConfig {
                host: host.trim().to_string(),
                port: parse_port("MONGODB_PORT", &or("MONGODB_PORT", "27017"))?,
                user: lookup("MONGODB_USER").unwrap_or_default(),
                password: lookup("MONGODB_PASSWORD").unwrap_or_default(),
                database: or("MONGODB_DATABASE", "openvle"),
            }),
        };

        let positive = |var: &'static str, default: &str| -> Result<u64, ConfigError> {
            match parse_number::<u64>(var, &or(var, default), "a whole number")? {
                0 => Err(problem(var, "must be at least 1")),
                n => Ok(n),
            }
        };
        let jobs = JobsConfig {
            max_retry: parse_number("WORKER_MAX_RETRY", &or("WORKER_MAX_RETRY", "5"), "a number of retries")?,
            concurrency: usize::try_from(positive("WORKER_CONCURRENCY", "8")?).unwrap_or(usize::MAX),
            node_concurrency: usize::try_from(positive("WORKER_NODE_CONCURRENCY", "2")?).unwrap_or(usize::MAX),
            visibility: std::time::Duration::from_secs(positive("WORKER_VISIBILITY_TIMEOUT_SECS", "60")?),
            shutdown_grace: std::time::Duration::from_secs(positive("WORKER_SHUTDOWN_GRACE_SECS", "30")?),
            scheduler_tick: std::time::Duration::from_secs(positive("SCHEDULER_TICK_SECS", "60")?),
        };

        // The connector validates its own variables; their errors name them.
        let proxmox = match get(pve::HOSTNAME) {
            None => None,
            Some(_) => Some(PveConfig::from_lookup(|name| lookup(name)).map_err(|e| match e {
                PveConfigError::Missing { var } => {
                    problem(var, format!("missing: required when {} is set", pve::HOSTNAME))
                }
                PveConfigError::Invalid { var, reason } => problem(var, reason),
            })?),
        };

        let ldap = LdapConfig::from_lookup(|name| lookup(name))
            .map_err(|e| match e {
                LdapConfigError::Missing { var } => {
                    problem(var, format!("missing: required when {} is True", ldap::ENABLED))
                }
                LdapConfigError::Invalid { var, reason } => problem(var, reason),
            })?
            .map(|config| {
                role_rules(lookup, "LDAP_ROLE_RULES", "LDAP_DEFAULT_ROLE").map(|rules| LdapSettings { config, rules })
            })
            .transpose()?;

        let oidc = OidcConfig::from_lookup(|name| lookup(name))
            .map_err(|e| match e {
                OidcConfigError::Missing { var } => {
                    problem(var, format!("missing: required when {} is True", oidc::ENABLED))
                }
                OidcConfigError::Invalid { var, reason } => problem(var, reason),
            })?
            .map(|config| {
                role_rules(lookup, "OIDC_ROLE_RULES", "OIDC_DEFAULT_ROLE").map(|rules| OidcSettings { config, rules })
            })
            .transpose()?;

        // The sender, whether mails are sent or written to files.
        let (mail_from, mail_reply_to) = (or("SMTP_FROM", "OpenVLE <noreply@localhost>"), or("SMTP_REPLY_TO", ""));
        let mail_drop = match (get("MAIL_DROP_DIR"), get("SMTP_HOST")) {
            (Some(_), Some(_)) => {
                return Err(problem(
                    "MAIL_DROP_DIR",
                    "set either SMTP_HOST (send mails) or MAIL_DROP_DIR (write them to files), not both",
                ));
            }
            (Some(dir), None) => Some(MailDropConfig {
                dir: PathBuf::from(dir.trim()),
                from: mail_from.clone(),
                reply_to: mail_reply_to.clone(),
            }),
            (None, _) => None,
        };
        let smtp = match get("SMTP_HOST") {
            None => None,
            Some(host) => {
                let security = Security::parse(&or("SMTP_SECURITY", "tls"))
                    .ok_or_else(|| problem("SMTP_SECURITY", "expected tls, starttls or plain"))?;
                Some(SmtpConfig {
                    host: host.trim().to_string(),
                    port: parse_number("SMTP_PORT", &or("SMTP_PORT", "465"), "a port number")?,
                    security,
                    username: or("SMTP_USER", ""),
                    password: or("SMTP_PASSWORD", ""),
                    from: mail_from,
                    reply_to: mail_reply_to,
                    ca_file: get("SMTP_CA_FILE").map(|f| PathBuf::from(f.trim())),
                    skip_verify: parse_bool("SMTP_SKIP_VERIFY", &or("SMTP_SKIP_VERIFY", "False"))?,
                    timeout: std::time::Duration::from_secs(positive("SMTP_TIMEOUT_SECS", "30")?),
                })
            }
        };

        let guacamole = match get("GUACAMOLE_URL") {
            None => None,
            Some(url) => {
                let required = |var: &'static str| {
                    get(var).ok_or_else(|| problem(var, "missing: required when GUACAMOLE_URL is set"))
                };
                let username = required("GUACAMOLE_USERNAME")?;
                let password = required("GUACAMOLE_PASSWORD")?;
                let mut config = GuacamoleConfig::new(url.trim(), username.trim(), Secret::new(password))
                    .map_err(|e| problem("GUACAMOLE_URL", e.to_string()))?;
                config.data_source = get("GUACAMOLE_DATA_SOURCE")
                    .map(|raw| {
                        let name = raw.trim().to_string();
                        let fine = name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
                        if fine {
                            Ok(name)
                        } else {
                            Err(problem("GUACAMOLE_DATA_SOURCE", format!("expected a name such as mysql, got {raw:?}")))
                        }
                    })
                    .transpose()?;
                config.json_secret_key = get("GUACAMOLE_JSON_SECRET_KEY")
                    .map(|raw| {
                        JsonSecretKey::from_hex(&raw).map_err(|e| problem("GUACAMOLE_JSON_SECRET_KEY", e.to_string()))
                    })
                    .transpose()?;
                Some(config)
            }
        };

        let log_format = match or("LOG_FORMAT", "text").trim().to_ascii_lowercase().as_str() {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            other => return Err(problem("LOG_FORMAT", format!("expected text or json, got {other:?}"))),
        };

        Ok(Config {
            listen,
            public_url,
            extra_origins: parse_list(&or("CORS_ORIGINS", "")),
            data_dir,
            site_root,
            auth_secret,
            secret_key,
            database,
            database_max_connections,
            redis,
            mongodb,
            proxmox,
            ldap,
            oidc,
            smtp,
            mail_drop,
            guacamole,
            jobs,
            trust_proxy_headers: parse_bool("TRUST_PROXY_HEADERS", &or("TRUST_PROXY_HEADERS", "False"))?,
            log_format,
        })
    }

    pub fn from_env(secret: SecretSource) -> Result<Config, ConfigError> {
        Config::from_lookup(&|name| std::env::var(name).ok(), secret)
    }

    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    /// Origins whose form posts are accepted.
    pub fn allowed_origins(&self) -> Vec<String> {
        let mut origins = vec![self.public_url.clone()];
        origins.extend(self.extra_origins.iter().cloned());
        origins
    }
}

/// The environment-variable section of `openvle --help`.
pub fn variables_help() -> String {
    let mut out = String::from("Environment variables:\n");
    for var in VARIABLES {
        let default = if var.default.is_empty() { String::new() } else { format!(" [default: {}]", var.default) };
        out.push_str(&format!("  {:<26} {}{}\n", var.name, var.help, default));
    }
    out
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::collections::HashMap;

    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(&|name| map.get(name).cloned(), SecretSource::Required)
    }

    const SECRET: (&str, &str) = ("AUTH_SECRET", "0123456789abcdef0123456789abcdef");
    const OIDC_ON: (&str, &str) = ("OIDC_ENABLED", "True");
    const OIDC_ISSUER: (&str, &str) = ("OIDC_ISSUER", "https://sso.example.org/realms/uni");
    const OIDC_CLIENT: (&str, &str) = ("OIDC_CLIENT_ID", "openvle");
    const OIDC_REDIRECT: (&str, &str) = ("OIDC_REDIRECT_URL", "https://vle.example.org/auth/oidc/callback");

    #[test]
    fn defaults_are_the_embedded_setup() {
        let c = config(&[SECRET]).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:8000");
        assert_eq!(c.public_url, "http://127.0.0.1:8000");
        assert_eq!(c.database, DatabaseConfig::Sqlite { path: PathBuf::from("./data/openvle.db") });
        assert_eq!(c.redis, None);
        assert!(!c.secure_cookies());
    }

    #[test]
    fn mariadb_and_redis_by_the_seed_names() {
        let c = config(&[
            SECRET,
            ("MARIADB_HOST", "db"),
            ("MARIADB_USER", "vle"),
            ("MARIADB_PASSWORD", "p@ss word"),
            ("REDIS_HOST", "redis"),
            ("REDIS_DB", "2"),
            ("OPENVLE_PUBLIC_URL", "https://vle.example.org/"),
            ("CORS_ORIGINS", "[\"https://static.example.org/\"]"),
        ])
        .unwrap();
        assert_eq!(c.database.url(), "mysql://vle:p%40ss%20word@db:3306/openvle");
        assert_eq!(c.redis.as_ref().unwrap().url(), "redis://redis:6379/2");
        assert!(c.secure_cookies());
        assert_eq!(c.allowed_origins(), ["https://vle.example.org", "https://static.example.org"]);
    }

    #[test]
    fn each_bad_value_is_named_in_one_line() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[], "AUTH_SECRET"),
            (&[("AUTH_SECRET", "short")], "AUTH_SECRET"),
            (&[SECRET, ("OPENVLE_LISTEN", "localhost")], "OPENVLE_LISTEN"),
            (&[SECRET, ("OPENVLE_PUBLIC_URL", "vle.example.org")], "OPENVLE_PUBLIC_URL"),
            (&[SECRET, ("MARIADB_HOST", "db"), ("MARIADB_PORT", "99999")], "MARIADB_PORT"),
            (&[SECRET, ("REDIS_HOST", "r"), ("REDIS_PORT", "abc")], "REDIS_PORT"),
            (&[SECRET, ("REDIS_HOST", "r"), ("REDIS_DB", "-1")], "REDIS_DB"),
            (&[SECRET, ("MONGODB_HOST", "m"), ("MONGODB_PORT", "0")], "MONGODB_PORT"),
            (&[SECRET, ("LDAP_ENABLED", "maybe")], "LDAP_ENABLED"),
            (&[SECRET, ("LDAP_ENABLED", "True")], "LDAP_URL"),
            (&[SECRET, ("LDAP_ENABLED", "True"), ("LDAP_URL", "http://x")], "LDAP_URL"),
            (&[SECRET, ("LDAP_ENABLED", "True"), ("LDAP_URL", "ldap://x")], "LDAP_DN_PEOPLE"),
            (
                &[
                    SECRET,
                    ("LDAP_ENABLED", "True"),
                    ("LDAP_URL", "ldap://x"),
                    ("LDAP_DN_PEOPLE", "dc=x"),
                    ("LDAP_ROLE_RULES", "admins"),
                ],
                "LDAP_ROLE_RULES",
            ),
            (
                &[
                    SECRET,
                    ("LDAP_ENABLED", "True"),
                    ("LDAP_URL", "ldap://x"),
                    ("LDAP_DN_PEOPLE", "dc=x"),
                    ("LDAP_DEFAULT_ROLE", "a b"),
                ],
                "LDAP_DEFAULT_ROLE",
            ),
            (&[SECRET, ("OIDC_ENABLED", "maybe")], "OIDC_ENABLED"),
            (&[SECRET, ("OIDC_ENABLED", "True")], "OIDC_ISSUER"),
            (&[SECRET, OIDC_ON, OIDC_ISSUER, OIDC_CLIENT], "OIDC_REDIRECT_URL"),
            (&[SECRET, OIDC_ON, OIDC_ISSUER, OIDC_CLIENT, OIDC_REDIRECT, ("OIDC_SCOPES", "email")], "OIDC_SCOPES"),
            (&[SECRET, OIDC_ON, OIDC_ISSUER, OIDC_CLIENT, OIDC_REDIRECT, ("OIDC_ROLE_RULES", "x")], "OIDC_ROLE_RULES"),
            (
                &[SECRET, OIDC_ON, OIDC_ISSUER, OIDC_CLIENT, OIDC_REDIRECT, ("OIDC_DEFAULT_ROLE", "?")],
                "OIDC_DEFAULT_ROLE",
            ),
            (&[SECRET, ("TRUST_PROXY_HEADERS", "sometimes")], "TRUST_PROXY_HEADERS"),
            (&[SECRET, ("LOG_FORMAT", "xml")], "LOG_FORMAT"),
            (&[SECRET, ("OPENVLE_SECRET_KEY", "not-hex")], "OPENVLE_SECRET_KEY"),
            (&[SECRET, ("DATABASE_MAX_CONNECTIONS", "0")], "DATABASE_MAX_CONNECTIONS"),
            (&[SECRET, ("WORKER_MAX_RETRY", "many")], "WORKER_MAX_RETRY"),
            (&[SECRET, ("WORKER_CONCURRENCY", "0")], "WORKER_CONCURRENCY"),
            (&[SECRET, ("SCHEDULER_TICK_SECS", "-5")], "SCHEDULER_TICK_SECS"),
            (&[SECRET, ("PVE_HOSTNAME", "pve.example.org")], "PVE_USER"),
            (
                &[
                    SECRET,
                    ("PVE_HOSTNAME", "pve"),
                    ("PVE_USER", "nobody"),
                    ("PVE_TOKEN_NAME", "t"),
                    ("PVE_TOKEN_VALUE", "s"),
                ],
                "PVE_USER",
            ),
        ];
        for (vars, var) in cases {
            let err = config(vars).unwrap_err();
            assert_eq!(err.var, *var);
            let line = err.to_string();
            assert!(line.starts_with(&format!("{var}: ")) && !line.contains('\n'), "{line}");
        }
    }

    #[test]
    fn smtp_defaults_to_implicit_tls_on_465_and_names_bad_values() {
        assert!(config(&[SECRET]).unwrap().smtp.is_none());
        let smtp = config(&[SECRET, ("SMTP_HOST", "mail.example.org")]).unwrap().smtp.unwrap();
        assert_eq!((smtp.port, smtp.security, smtp.skip_verify), (465, Security::Tls, false));
        assert_eq!(smtp.timeout, std::time::Duration::from_secs(30));
        let starttls = config(&[SECRET, ("SMTP_HOST", "m"), ("SMTP_PORT", "587"), ("SMTP_SECURITY", "STARTTLS")]);
        assert_eq!(starttls.unwrap().smtp.unwrap().security, Security::StartTls);
        for (var, value) in [("SMTP_SECURITY", "ssl3"), ("SMTP_PORT", "70000"), ("SMTP_SKIP_VERIFY", "maybe")] {
            let error = config(&[SECRET, ("SMTP_HOST", "m"), (var, value)]).err().unwrap();
            assert!(error.to_string().contains(var), "{error}");
        }
    }

    #[test]
    fn mail_drop_takes_the_sender_and_never_comes_with_smtp() {
        assert!(config(&[SECRET]).unwrap().mail_drop.is_none());
        let drop =
            config(&[SECRET, ("MAIL_DROP_DIR", "/var/lib/openvle/mail"), ("SMTP_FROM", "Lab <lab@example.org>")])
                .unwrap()
                .mail_drop
                .unwrap();
        assert_eq!(drop.dir, PathBuf::from("/var/lib/openvle/mail"));
        assert_eq!((drop.from.as_str(), drop.reply_to.as_str()), ("Lab <lab@example.org>", ""));
        let both = config(&[SECRET, ("MAIL_DROP_DIR", "/tmp/mail"), ("SMTP_HOST", "mail.example.org")]);
        let error = both.err().unwrap().to_string();
        assert!(error.contains("MAIL_DROP_DIR") && error.contains("SMTP_HOST"), "{error}");
    }

    #[test]
    fn ldap_settings_and_role_rules() {
        let c = config(&[
            SECRET,
            ("LDAP_ENABLED", "True"),
            ("LDAP_URL", "ldap://127.0.0.1:389"),
            ("LDAP_DN_PEOPLE", "ou=people,dc=example,dc=org"),
            ("LDAP_ROLE_RULES", "cn=admins,ou=groups,dc=example,dc=org=admin;teachers=instructor"),
        ])
        .unwrap();
        let ldap = c.ldap.unwrap();
        assert_eq!(ldap.rules.default_role(), Some("participant"));
        assert_eq!(ldap.rules.resolve([("cn=admins,ou=groups,dc=example,dc=org", "admins")]), Some("admin"));
        assert_eq!(ldap.rules.resolve([("cn=teachers,ou=x", "teachers")]), Some("instructor"));
        assert!(config(&[SECRET]).unwrap().ldap.is_none());
    }

    #[test]
    fn oidc_settings_and_role_rules() {
        let c = config(&[
            SECRET,
            OIDC_ON,
            OIDC_ISSUER,
            OIDC_CLIENT,
            OIDC_REDIRECT,
            ("OIDC_DISPLAY_NAME", "Uni SSO"),
            ("OIDC_ROLE_RULES", "admins=admin;teachers=instructor"),
        ])
        .unwrap();
        let oidc = c.oidc.unwrap();
        assert_eq!(oidc.config.display_name, "Uni SSO");
        assert_eq!(oidc.rules.resolve([("teachers", "teachers")]), Some("instructor"));
        assert_eq!(oidc.rules.resolve([("other", "other")]), Some("participant"));
        assert!(config(&[SECRET]).unwrap().oidc.is_none());
    }

    #[test]
    fn guacamole_settings_and_bad_values_named() {
        const URL: (&str, &str) = ("GUACAMOLE_URL", "https://guac.example.org/guacamole");
        const ADMIN: [(&str, &str); 2] = [("GUACAMOLE_USERNAME", "guacadmin"), ("GUACAMOLE_PASSWORD", "pw")];
        assert!(config(&[SECRET]).unwrap().guacamole.is_none());
        let full = [
            SECRET,
            URL,
            ADMIN[0],
            ADMIN[1],
            ("GUACAMOLE_DATA_SOURCE", "mysql"),
            ("GUACAMOLE_JSON_SECRET_KEY", "4c0b569e4c96df157eee1b65dd0e4d41"),
        ];
        let guacamole = config(&full).unwrap().guacamole.unwrap();
        assert_eq!(guacamole.base_url.as_str(), "https://guac.example.org/guacamole/");
        assert_eq!((guacamole.admin_username.as_str(), guacamole.data_source.as_deref()), ("guacadmin", Some("mysql")));
        assert!(guacamole.json_secret_key.is_some());
        assert!(!format!("{:?}", config(&full).unwrap()).contains("4c0b569e"));
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[SECRET, URL], "GUACAMOLE_USERNAME"),
            (&[SECRET, URL, ADMIN[0]], "GUACAMOLE_PASSWORD"),
            (&[SECRET, ("GUACAMOLE_URL", "ftp://guac"), ADMIN[0], ADMIN[1]], "GUACAMOLE_URL"),
            (&[SECRET, URL, ADMIN[0], ADMIN[1], ("GUACAMOLE_DATA_SOURCE", "my sql")], "GUACAMOLE_DATA_SOURCE"),
            (&[SECRET, URL, ADMIN[0], ADMIN[1], ("GUACAMOLE_JSON_SECRET_KEY", "abc")], "GUACAMOLE_JSON_SECRET_KEY"),
        ];
        for (vars, var) in cases {
            assert_eq!(config(vars).err().map(|e| e.var), Some(*var), "{vars:?}");
        }
    }

    #[test]
    fn every_variable_read_is_documented() {
        let read = RefCell::new(Vec::new());
        // Two passes turn on both alternatives of the optional sections (search vs. DN
        // template, memberOf vs. group search) so that all their variables are read.
        for alternative in [false, true] {
            let lookup = |name: &str| {
                read.borrow_mut().push(name.to_string());
                match name {
                    "MARIADB_HOST" | "REDIS_HOST" | "MONGODB_HOST" | "PVE_HOSTNAME" => Some("h".to_string()),
                    "PVE_USER" => Some("openvle@pve".to_string()),
                    "PVE_TOKEN_NAME" | "PVE_TOKEN_VALUE" => Some("t".to_string()),
                    "AUTH_SECRET" => Some("x".repeat(32)),
                    "LDAP_ENABLED" => Some("True".to_string()),
                    "LDAP_URL" => Some("ldap://h".to_string()),
                    "LDAP_DN_PEOPLE" => Some("dc=h".to_string()),
                    "OIDC_ENABLED" => Some("True".to_string()),
                    "OIDC_ISSUER" => Some("https://sso.example.org".to_string()),
                    "OIDC_CLIENT_ID" => Some("openvle".to_string()),
                    "OIDC_REDIRECT_URL" => Some("https://vle.example.org/auth/oidc/callback".to_string()),
                    "OIDC_CA_FILE" if alternative => Some("/etc/passwd".to_string()),
                    "LDAP_USER_DN_TEMPLATE" if alternative => Some("uid={username},dc=h".to_string()),
                    "LDAP_GROUP_BASE" if alternative => Some("dc=h".to_string()),
                    "SMTP_HOST" => Some("mail.example.org".to_string()),
                    "GUACAMOLE_URL" => Some("https://guac.example.org/guacamole/".to_string()),
                    "GUACAMOLE_USERNAME" | "GUACAMOLE_PASSWORD" => Some("guacadmin".to_string()),
                    _ => None,
                }
            };
            Config::from_lookup(&lookup, SecretSource::Required).unwrap();
        }
        let documented: Vec<&str> = VARIABLES.iter().map(|v| v.name).collect();
        for name in read.borrow().iter() {
            assert!(documented.contains(&name.as_str()), "{name} is read but not in VARIABLES");
        }
        let help = variables_help();
        for name in documented.iter().filter(|n| **n != "RUST_LOG") {
            assert!(read.borrow().iter().any(|r| r == name), "{name} is documented but never read");
            assert!(help.contains(name));
        }
    }
}
