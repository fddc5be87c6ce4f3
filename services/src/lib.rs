//! Use cases. Every public method takes the acting user first, asks
//! [`domain::can`] before it reads or changes anything, validates input with
//! `domain::validate`, and talks to the outside only through the [`ports`].

pub mod accounts;
pub mod activities;
pub mod catalogue;
pub mod classroom;
pub mod clock;
pub mod cluster;
pub mod console;
pub mod dashboard;
pub mod directory;
pub mod guacamole_connection;
pub mod health;
pub mod identity_provider;
pub mod jobs;
pub mod mail;
pub mod oidc;
pub mod passwords;
pub mod policies;
pub mod ports;
pub mod provisioning;
pub mod remote_access;
pub mod role_rules;
pub mod roles;
pub mod secrets;
pub mod sessions;
pub mod settings;
pub mod sign_in_settings;
pub mod time_zones;

use std::sync::Arc;

use domain::{Action, Actor, AppError, Target, can};

pub use ports::StoreError;

/// Everything the use cases need from the outside world.
#[derive(Clone)]
pub struct Ports {
    pub users: Arc<dyn ports::UserRepo>,
    pub roles: Arc<dyn ports::RoleRepo>,
    pub settings: Arc<dyn ports::SettingsRepo>,
    pub policies: Arc<dyn ports::PolicyRepo>,
    pub sessions: Arc<dyn ports::SessionStore>,
    /// Single sign-on attempts between the redirect to the provider and its callback.
    pub pending_logins: Arc<dyn ports::PendingLogins>,
    pub attempts: Arc<dyn ports::AttemptCounter>,
    pub tasks: Arc<dyn jobs::TaskRepo>,
    pub queue: Arc<dyn jobs::JobQueue>,
    pub leases: Arc<dyn jobs::LeaseStore>,
    pub connection: Arc<dyn cluster::ConnectionRepo>,
    /// The Apache Guacamole connection saved in the UI (issue 9).
    pub guacamole: Arc<dyn guacamole_connection::GuacamoleSettingsRepo>,
    // Classroom (issue 5): templates, environments, events and their VMs.
    pub templates: Arc<dyn classroom::ports::TemplateRepo>,
    pub environments: Arc<dyn classroom::ports::EnvironmentRepo>,
    pub events: Arc<dyn classroom::ports::EventRepo>,
    pub groups: Arc<dyn classroom::ports::GroupRepo>,
    pub vms: Arc<dyn classroom::ports::VmRepo>,
    // Tags and the catalogue (issue 5): vendors, operating systems, applications.
    pub catalogue: Arc<dyn catalogue::ports::CatalogueRepo>,
    pub tags: Arc<dyn catalogue::ports::TagRepo>,
    /// Connection templates and the Guacamole connections made of them (issue 9).
    pub connection_templates: Arc<dyn classroom::ports::ConnectionTemplateRepo>,
    /// Activities waiting to be forwarded (always SQL: written with each change).
    pub outbox: Arc<dyn activities::ActivityOutbox>,
    /// Where activities are kept: MongoDB when configured, else SQL.
    pub activity_log: Arc<dyn activities::ActivityLog>,
    pub mail: Arc<dyn mail::ports::MailRepo>,
    /// Notifications and quick links (the dashboard).
    pub dashboard: Arc<dyn dashboard::DashboardRepo>,
    /// Each person's chosen time zone.
    pub time_zones: Arc<dyn time_zones::TimeZoneRepo>,
}

/// The application's use cases; cheap to clone.
#[derive(Clone)]
pub struct Services {
    ports: Ports,
    clock: Arc<dyn clock::Clock>,
    session_key: Arc<sessions::SessionKey>,
    /// Retries after the first attempt on most queues (`WORKER_MAX_RETRY`).
    worker_max_retry: u32,
    /// The Proxmox VE cluster in use (see [`cluster`]).
    cluster: cluster::ClusterHandle,
    /// The institution's directory when LDAP sign-in is enabled.
    directory: Option<Arc<dyn directory::Directory>>,
    /// The OpenID provider when OIDC sign-in is enabled.
    identity_provider: Option<Arc<dyn identity_provider::IdentityProvider>>,
    /// Where provisioning reports go, and its pacing (see [`provisioning`]).
    provisioning: Option<provisioning::ProvisioningSetup>,
    /// The mail server and the site address for links in mails.
    mail: mail::MailSetup,
    /// Checks the process's connections for the Health page (set by the server).
    probe: Option<Arc<dyn health::DependencyProbe>>,
    /// The activity forwarder's last error, for the Health page.
    forwarding: health::ForwardingStatus,
    /// The Apache Guacamole gateway in use (see [`guacamole_connection`]).
    guacamole: guacamole_connection::GuacamoleHandle,
}

impl Services {
    /// `auth_secret` keys the session-token hashes: changing it signs everyone out.
    pub fn new(ports: Ports, clock: Arc<dyn clock::Clock>, auth_secret: &str) -> Services {
        Services {
            ports,
            clock,
            session_key: Arc::new(sessions::SessionKey::new(auth_secret)),
            worker_max_retry: 5,
            cluster: cluster::ClusterHandle::default(),
            directory: None,
            identity_provider: None,
            provisioning: None,
            mail: mail::MailSetup::default(),
            probe: None,
            forwarding: health::ForwardingStatus::default(),
            guacamole: guacamole_connection::GuacamoleHandle::default(),
        }
    }

    pub fn with_worker_max_retry(mut self, retries: u32) -> Services {
        self.worker_max_retry = retries;
        self
    }

    /// The cluster connection: its connector, the environment's default and
    /// the key of stored secrets.
    pub fn with_cluster(mut self, cluster: cluster::ClusterHandle) -> Services {
        self.cluster = cluster;
        self
    }

    /// Enables sign-in against the institution's directory (LDAP).
    pub fn with_directory(mut self, directory: Arc<dyn directory::Directory>) -> Services {
        self.directory = Some(directory);
        self
    }

    /// Enables single sign-on through an OpenID provider.
    pub fn with_identity_provider(mut self, provider: Arc<dyn identity_provider::IdentityProvider>) -> Services {
        self.identity_provider = Some(provider);
        self
    }

    pub fn identity_provider(&self) -> Option<&Arc<dyn identity_provider::IdentityProvider>> {
        self.identity_provider.as_ref()
    }

    pub fn directory(&self) -> Option<&Arc<dyn directory::Directory>> {
        self.directory.as_ref()
    }

    pub fn ports(&self) -> &Ports {
        &self.ports
    }

    pub fn clock(&self) -> Arc<dyn clock::Clock> {
        self.clock.clone()
    }
}

/// Refuses unless `actor` may do `action` on `target`.
pub(crate) fn authorize(actor: &Actor, action: Action, target: Target) -> Result<(), AppError> {
    if can(actor, action, target) { Ok(()) } else { Err(AppError::Forbidden) }
}
