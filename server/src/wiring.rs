//! Builds the running system from the configuration: database (migrated),
//! Redis when configured, and the services on top.

use std::sync::Arc;

use guacamole_connector::GuacamoleClient;
use guacamole_connector::adapter::{GuacamoleConnector, GuacamoleRemoteAccess};
use ldap_connector::LdapDirectory;
use ldap_connector::adapter::LdapSignIn;
use oidc_connector::adapter::OidcSignIn;
use proxmox_connector::PveClient;
use proxmox_connector::adapter::{PveCluster, PveConnector, settings_from_config};
use services::Services;
use services::clock::SystemClock;
use services::cluster::{ClusterHandle, EnvironmentCluster};
use services::guacamole_connection::{EnvironmentGuacamole, GuacamoleHandle};
use services::mail::MailSetup;
use services::provisioning::ProvisioningConfig;
use services::role_rules::RoleRules;
use smtp_connector::{MailDrop, SmtpMailer};
use store::mongo::{MongoActivityLog, MongoSettings};
use store::{Database, RedisStore};

use crate::config::{Config, DatabaseConfig};
use crate::health::SystemProbe;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot create the data directory {path}: {source}")]
    DataDir { path: String, source: std::io::Error },
    #[error("{0}")]
    Database(#[from] store::DbError),
    #[error("cannot reach Redis at {url}: {message}")]
    Redis { url: String, message: String },
    #[error("cannot listen on {addr}: {source}")]
    Listen { addr: String, source: std::io::Error },
    #[error("the browser bundle is missing at {0} (build it with scripts/build)")]
    Site(String),
    #[error("{0}")]
    Input(String),
    #[error("server stopped: {0}")]
    Serve(std::io::Error),
    #[error("Proxmox VE client: {0}")]
    Proxmox(String),
    #[error("Proxmox VE simulator: {0}")]
    Simulator(String),
}

/// Everything a process needs, shared by its web handlers (and, later, its
/// worker and scheduler).
#[derive(Clone)]
pub struct System {
    pub db: Database,
    pub redis: Option<RedisStore>,
    pub services: Services,
    /// The activity log in MongoDB when `MONGODB_HOST` is set (/readyz pings it).
    pub mongodb: Option<Arc<MongoActivityLog>>,
}

impl System {
    pub async fn start(config: &Config) -> Result<System, StartError> {
        if let DatabaseConfig::Sqlite { path } = &config.database
            && let Some(dir) = path.parent()
        {
            std::fs::create_dir_all(dir)
                .map_err(|source| StartError::DataDir { path: dir.display().to_string(), source })?;
        }
        let db = Database::connect(&config.database.url(), config.database_max_connections).await?;
        db.migrate().await?;
        let redis = match &config.redis {
            Some(redis) => {
                let url = redis.url();
                let store = RedisStore::connect(&url, &redis.key_prefix).await.map_err(|e| StartError::Redis {
                    url: format!("{}:{}", redis.host, redis.port),
                    message: e.to_string(),
                })?;
                store.ping().await.map_err(|e| StartError::Redis {
                    url: format!("{}:{}", redis.host, redis.port),
                    message: e.to_string(),
                })?;
                Some(store)
            }
            None => None,
        };
        // The cluster: the connection saved in the UI wins; until one is
        // saved, the environment's (the demo's is the simulator).
        let environment = match &config.proxmox {
            Some(pve) => {
                let client = PveClient::new(pve.clone()).map_err(|e| StartError::Proxmox(e.to_string()))?;
                Some(EnvironmentCluster {
                    settings: settings_from_config(pve),
                    client: Arc::new(PveCluster::new(client)),
                })
            }
            None => None,
        };
        let cluster = ClusterHandle::new(Arc::new(PveConnector), environment, config.secret_key.clone());
        let mut ports = db.ports(redis.clone());
        let mongodb = match &config.mongodb {
            Some(mongo) => {
                let log = Arc::new(mongo_log(&db, mongo).await?);
                ports.activity_log = log.clone();
                Some(log)
            }
            None => None,
        };
        let clock = Arc::new(SystemClock);
        let mut services = Services::new(ports, clock.clone(), &config.auth_secret)
            .with_worker_max_retry(config.jobs.max_retry)
            .with_cluster(cluster)
            // Deployments record their VMs' progress in the classroom's VM records.
            .with_provisioning(db.vm_recorder(clock), ProvisioningConfig::default())
            .with_probe(Arc::new(SystemProbe { db: db.clone(), redis: redis.clone(), mongodb: mongodb.clone() }));
        if let Some(ldap) = &config.ldap {
            // Checks the TLS settings; does not connect (the directory may be down at start).
            let directory = LdapDirectory::new(ldap.config.clone()).map_err(|e| StartError::Input(e.to_string()))?;
            check_roles(&services, &ldap.rules, "LDAP_ROLE_RULES / LDAP_DEFAULT_ROLE").await?;
            services = services.with_directory(Arc::new(LdapSignIn::new(directory, ldap.rules.clone())));
        }
        if let Some(oidc) = &config.oidc {
            check_roles(&services, &oidc.rules, "OIDC_ROLE_RULES / OIDC_DEFAULT_ROLE").await?;
            let provider = Arc::new(OidcSignIn::new(oidc.config.clone(), oidc.rules.clone()));
            // A provider that is down must not stop the server (local accounts still sign
            // in): a failed discovery is logged and retried at the next sign-in.
            provider.warm_up().await;
            services = services.with_identity_provider(provider);
        }
        // Mail: to the mail server, or to files; with neither, mails are still
        // logged and their jobs fail saying so.
        let mut mail = MailSetup { mailer: None, site_url: config.public_url.clone(), description: String::new() };
        if let Some(smtp) = &config.smtp {
            let mailer = SmtpMailer::new(smtp).map_err(|e| StartError::Input(e.to_string()))?;
            mail.mailer = Some(Arc::new(mailer));
            mail.description = format!("{}:{} ({:?})", smtp.host, smtp.port, smtp.security);
        } else if let Some(drop) = &config.mail_drop {
            let mailer = MailDrop::new(drop).map_err(|e| StartError::Input(e.to_string()))?;
            mail.mailer = Some(Arc::new(mailer));
            mail.description = format!("no mail server: mails are written to {} (MAIL_DROP_DIR)", drop.dir.display());
        }
        services = services.with_mail(mail);
        // Guacamole: the connection saved in the UI wins; until one is saved,
        // the environment's. Nothing connects yet: Guacamole may be down at
        // start; its jobs retry.
        let environment = match &config.guacamole {
            Some(guacamole) => {
                let client = GuacamoleClient::new(guacamole.clone()).map_err(|e| StartError::Input(e.to_string()))?;
                Some(EnvironmentGuacamole {
                    settings: guacamole_connector::adapter::settings_from_config(guacamole),
                    gateway: Arc::new(GuacamoleRemoteAccess::new(client)),
                })
            }
            None => None,
        };
        services = services.with_guacamole(GuacamoleHandle::new(Arc::new(GuacamoleConnector), environment));
        if redis.is_none() {
            recover_in_process_queue(&services).await?;
        }
        tracing::info!(?config, "started");
        Ok(System { db, redis, services, mongodb })
    }
}

/// The MongoDB activity log, keeping activities for the retention setting.
/// Does not connect: MongoDB may be down at start, activities then wait in the outbox.
async fn mongo_log(db: &Database, mongo: &crate::config::MongoConfig) -> Result<MongoActivityLog, StartError> {
    let retention_days = db
        .ports(None)
        .settings
        .get(domain::settings::ACTIVITY_RETENTION_DAYS)
        .await
        .map_err(|e| StartError::Input(e.to_string()))?
        .and_then(|s| s.value.parse::<i64>().ok())
        .unwrap_or(365);
    let settings = MongoSettings {
        uri: mongo.uri(),
        username: Some(mongo.user.clone()).filter(|u| !u.is_empty()),
        password: Some(mongo.password.clone()).filter(|p| !p.is_empty()),
        database: mongo.database.clone(),
        retention_days,
    };
    MongoActivityLog::new(&settings).await.map_err(|e| StartError::Input(format!("MONGODB_*: {e}")))
}

/// Every role the rules name must exist.
async fn check_roles(services: &Services, rules: &RoleRules, vars: &str) -> Result<(), StartError> {
    for (_, role) in rules.entries().chain(rules.default_role().map(|r| ("", r))) {
        let known = services.ports().roles.by_key(role).await.map_err(|e| StartError::Input(e.to_string()))?;
        if known.is_none() {
            return Err(StartError::Input(format!("{vars}: there is no role with the key {role:?}")));
        }
    }
    Ok(())
}

/// A password for a generated account: 20 characters from a 57-symbol
/// alphabet (~116 bits) with all character kinds present.
pub fn random_password() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let body: String = (0..18).map(|_| ALPHABET[rand::random_range(0..ALPHABET.len())] as char).collect();
    format!("{body}-7")
}

/// The in-process queue starts empty: hand it every task SQL still has
/// queued, or running under a claim that expired (the process stopped).
async fn recover_in_process_queue(services: &Services) -> Result<(), StartError> {
    let ports = services.ports();
    let now = services.clock().now();
    loop {
        let batch = ports
            .tasks
            .overdue(now, now, 500)
            .await
            .map_err(|e| StartError::Input(format!("recovering queued tasks: {e}")))?;
        if batch.is_empty() {
            return Ok(());
        }
        for (id, queue) in batch {
            ports.queue.push(queue, id, None).await.map_err(|e| StartError::Input(e.to_string()))?;
        }
    }
}
