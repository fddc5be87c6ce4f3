//! Apache Guacamole for events: the job that mirrors an event's VMs as
//! Guacamole connections, and the hand-off behind Connect. Both use the
//! connection in use at that moment ([`crate::guacamole_connection`]).
//!
//! Per event one connection group (`<event name> [<short name>]`), per VM one
//! connection per connection template (`<event name> – <VM> (<PROTO> <port>)`,
//! hostname = the VM's address), per participant a Guacamole account of the
//! same name, and READ on their connections while the event is active.
//! Deactivation at the end revokes READ (the connections stay until the event
//! is decommissioned, so the instructor still finds them in Guacamole's
//! administration); decommissioning removes the group with its connections.
//! Every step is idempotent (the gateway port ensures by name), failures are
//! recorded per VM in `vm_connections` and retried by the job, and none of it
//! ever blocks the VMs' own deployment: it is a job of its own.

use std::collections::HashMap;

use domain::activity::ActivityTarget;
use domain::classroom::{Console, EventStatus, EventView, Protocol, RdpSecurity, VmConnectionView, VmView};
use domain::guacamole::SsoMethod;
use domain::{Actor, AppError};

use super::ports::SealedConnection;
use super::templates::PASSWORD_PURPOSE;
use crate::Services;
use crate::jobs::worker::StepError;
use crate::jobs::{Job, Requester};
use crate::remote_access::{self, RemoteAccess, RemoteAccessError, RemoteAccount, RemoteConnection, SignInLink};

/// The connection group of an event. The short name keeps two events of
/// the same name apart (it is unique among unfinished events).
pub fn group_name(event: &EventView) -> String {
    format!("{} [{}]", event.name, event.short_name)
}

/// A VM's connection name: contains the event's name (SPEC) and is unique in
/// the group (one connection template per protocol and port).
pub fn connection_name(event: &EventView, vm: &VmView, connection: &SealedConnection) -> String {
    format!("{} – {} ({} {})", event.name, vm.name, connection.protocol.label(), connection.port)
}

/// Whether participants may open the event's connections now: deployed (or
/// deploying) and between start and end. An event deployed early ("Deploy
/// now" before its start) is opened by the first sync after the start: the
/// scheduler's reconcile every five minutes queues one.
fn active(event: &EventView, now: domain::time::Timestamp) -> bool {
    matches!(event.status, EventStatus::Deploying | EventStatus::Running | EventStatus::Failed)
        && event.starts_at <= now
        && event.ends_at.is_none_or(|end| now < end)
}

fn protocol(p: Protocol) -> remote_access::RemoteProtocol {
    match p {
        Protocol::Rdp => remote_access::RemoteProtocol::Rdp,
        Protocol::Ssh => remote_access::RemoteProtocol::Ssh,
        Protocol::Vnc => remote_access::RemoteProtocol::Vnc,
    }
}

fn rdp_security(s: RdpSecurity) -> remote_access::RdpSecurity {
    match s {
        RdpSecurity::Any => remote_access::RdpSecurity::Any,
        RdpSecurity::Nla => remote_access::RdpSecurity::Nla,
        RdpSecurity::Tls => remote_access::RdpSecurity::Tls,
        RdpSecurity::Rdp => remote_access::RdpSecurity::Rdp,
    }
}

/// A failure of one VM's connections: Guacamole's answer, and whether to retry.
struct VmFailure {
    vm: String,
    message: String,
    retryable: bool,
}

impl From<RemoteAccessError> for VmFailure {
    fn from(e: RemoteAccessError) -> VmFailure {
        VmFailure { vm: String::new(), retryable: e.is_retryable(), message: e.to_string() }
    }
}

impl Services {
    /// Queues the connection sync of an event when Guacamole is configured.
    pub(crate) async fn queue_connection_sync(&self, event_id: i64) -> Result<(), AppError> {
        if self.guacamole_configured().await? {
            let requester = Requester { event_id: Some(event_id), ..Requester::system(None) };
            self.enqueue(&Job::SyncConnections { event_id }, requester).await?;
        }
        Ok(())
    }

    /// The Guacamole connections deployment made for a VM (the VM page).
    pub async fn vm_connections(&self, actor: &Actor, vm_id: i64) -> Result<Vec<VmConnectionView>, AppError> {
        self.get_vm(actor, vm_id).await?;
        Ok(self.ports.connection_templates.vm_connections(vm_id).await?)
    }

    /// The `SyncConnections` job: makes Guacamole hold what the event's VMs
    /// need now (see the module's description). Fails (retryably when
    /// Guacamole is unavailable) when any VM's connections could not be
    /// written; each such VM's record says why.
    pub(crate) async fn run_connection_sync(&self, event_id: i64, last_attempt: bool) -> Result<(), StepError> {
        let retry = |e: AppError| StepError::retryable(e.to_string());
        let Some(gateway) = self.current_gateway().await.map_err(retry)? else { return Ok(()) };
        let gateway = gateway.remote;
        let Some(event) = self.ports.events.by_id(event_id, 0).await.map_err(|e| retry(e.into()))? else {
            return Ok(());
        };
        if matches!(event.status, EventStatus::Planned | EventStatus::Decommissioning | EventStatus::Finished) {
            // Nothing deployed yet, or the decommission removes everything.
            return Ok(());
        }
        let vms: Vec<VmView> = self
            .record_planned_vms(event_id, &[])
            .await
            .map_err(retry)?
            .into_iter()
            .filter(|vm| vm.console == Console::Guacamole)
            .collect();
        if vms.is_empty() {
            return Ok(());
        }
        let group = group_name(&event);
        let active = active(&event, self.clock.now());
        let participants = self.ports.events.participants(event_id).await.map_err(|e| retry(e.into()))?;
        let people: HashMap<i64, _> = participants.iter().map(|p| (p.user_id, p)).collect();
        let mut failures = Vec::new();
        if let Err(e) = gateway.ensure_group(&group).await {
            // Without the group no connection can be written: every VM says so.
            for vm in &vms {
                self.note_vm_failure(&event, vm, &e.to_string()).await.map_err(retry)?;
            }
            failures.push(VmFailure { vm: group.clone(), ..VmFailure::from(e) });
        } else {
            for vm in &vms {
                let account = RemoteAccount {
                    username: vm.owner_username.clone(),
                    full_name: people.get(&vm.owner_id).map(|p| p.name.clone()).unwrap_or_default(),
                    email: people.get(&vm.owner_id).map(|p| p.email.clone()).unwrap_or_default(),
                    disabled: false,
                };
                if let Err(mut failure) = self.sync_vm(&*gateway, &event, &group, vm, &account, active).await {
                    self.note_vm_failure(&event, vm, &failure.message).await.map_err(retry)?;
                    failure.vm = vm.name.clone();
                    failures.push(failure);
                }
            }
        }
        let Some(first) = failures.first() else { return Ok(()) };
        let message =
            format!("Guacamole: {} of {} VMs failed; first {}: {}", failures.len(), vms.len(), first.vm, first.message);
        if failures.iter().any(|f| f.retryable) && !last_attempt {
            Err(StepError::retryable(message))
        } else {
            Err(StepError::permanent(message))
        }
    }

    /// One VM: removes connections no connection template asks for any more,
    /// ensures the owner's account and each connection at the VM's current
    /// address, and grants or revokes READ. A VM without an address keeps
    /// what it has (only losing READ when the event is over).
    async fn sync_vm(
        &self,
        gateway: &dyn RemoteAccess,
        event: &EventView,
        group: &str,
        vm: &VmView,
        account: &RemoteAccount,
        active: bool,
    ) -> Result<(), VmFailure> {
        let store = |e: crate::StoreError| VmFailure { vm: String::new(), message: e.to_string(), retryable: true };
        let recorded = self.ports.connection_templates.vm_connections(vm.id).await.map_err(store)?;
        let now = self.clock.now();
        let Some(ip) = vm.ip.clone().filter(|ip| !ip.is_empty()) else {
            for mut connection in recorded.into_iter().filter(|c| c.granted && !active) {
                if let Some(id) = &connection.remote_id {
                    gateway.revoke(&account.username, id).await?;
                }
                connection.granted = false;
                connection.updated_at = now;
                self.ports.connection_templates.put_vm_connection(vm.id, &connection).await.map_err(store)?;
            }
            return Ok(());
        };
        let wanted = self.ports.connection_templates.for_vm(vm.id).await.map_err(store)?;
        let names: Vec<String> = wanted.iter().map(|c| connection_name(event, vm, c)).collect();
        for stale in recorded.iter().filter(|c| !names.contains(&c.name)) {
            gateway.remove_connection(group, &stale.name).await?;
            self.ports.connection_templates.delete_vm_connection(vm.id, &stale.name).await.map_err(store)?;
        }
        if wanted.is_empty() {
            return Ok(());
        }
        gateway.ensure_account(account).await?;
        for (connection, name) in wanted.iter().zip(names) {
            let password = match &connection.password_sealed {
                None => String::new(),
                Some(sealed) => {
                    let key = self.cluster.secret_key().ok_or_else(|| VmFailure {
                        vm: String::new(),
                        message: "OPENVLE_SECRET_KEY is not set: the connection password cannot be read".into(),
                        retryable: false,
                    })?;
                    key.open(PASSWORD_PURPOSE, sealed).map_err(|_| VmFailure {
                        vm: String::new(),
                        message: "the connection password cannot be read with OPENVLE_SECRET_KEY (key changed?)".into(),
                        retryable: false,
                    })?
                }
            };
            let remote = RemoteConnection {
                group: group.to_owned(),
                name: name.clone(),
                protocol: protocol(connection.protocol),
                hostname: ip.clone(),
                port: connection.port,
                username: connection.username.clone(),
                password,
                rdp_security: rdp_security(connection.rdp_security),
                ignore_cert: connection.ignore_cert,
            };
            let created = gateway.ensure_connection(&remote).await?;
            if active {
                gateway.grant(&account.username, &created.id).await?;
            } else {
                gateway.revoke(&account.username, &created.id).await?;
            }
            let record = VmConnectionView {
                name,
                remote_id: Some(created.id),
                hostname: Some(ip.clone()),
                granted: active,
                last_error: None,
                updated_at: now,
            };
            self.ports.connection_templates.put_vm_connection(vm.id, &record).await.map_err(store)?;
        }
        Ok(())
    }

    /// Records a failure on every connection the VM should have (or on a
    /// placeholder row when none was written yet), keeping what was created.
    async fn note_vm_failure(&self, event: &EventView, vm: &VmView, message: &str) -> Result<(), AppError> {
        let repo = &self.ports.connection_templates;
        let recorded = repo.vm_connections(vm.id).await?;
        let mut names: Vec<String> = repo.for_vm(vm.id).await?.iter().map(|c| connection_name(event, vm, c)).collect();
        if names.is_empty() {
            names.push(format!("{} – {}", event.name, vm.name));
        }
        for name in names {
            let previous = recorded.iter().find(|c| c.name == name);
            let record = VmConnectionView {
                remote_id: previous.and_then(|c| c.remote_id.clone()),
                hostname: previous.and_then(|c| c.hostname.clone()),
                granted: previous.is_some_and(|c| c.granted),
                last_error: Some(message.to_owned()),
                updated_at: self.clock.now(),
                name,
            };
            repo.put_vm_connection(vm.id, &record).await?;
        }
        Ok(())
    }

    /// The decommission's last step: removes the event's connection group
    /// and with it every connection in it. Accounts stay (a participant may
    /// be in other events); without permissions they open nothing.
    pub(crate) async fn run_connection_removal(&self, event_id: i64) -> Result<(), StepError> {
        let gateway = self.current_gateway().await.map_err(|e| StepError::retryable(e.to_string()))?;
        let Some(gateway) = gateway.map(|g| g.remote) else { return Ok(()) };
        let Some(event) =
            self.ports.events.by_id(event_id, 0).await.map_err(|e| StepError::retryable(e.to_string()))?
        else {
            return Ok(());
        };
        gateway.remove_group(&group_name(&event)).await.map_err(|e| {
            let message = format!("Guacamole: {e}");
            if e.is_retryable() { StepError::retryable(message) } else { StepError::permanent(message) }
        })
    }

    /// Connect through Guacamole: a link that opens the VM's connection, or
    /// the connection list when the VM has several. With the single sign-on
    /// method `guacamole-auth-json` it signs the VM's owner in (a one-time
    /// assertion, valid 60 s; see ARCHITECTURE.md, "Guacamole single
    /// sign-on"); with `none` it carries no assertion and Guacamole shows its
    /// own sign-in page first. `None` when the VM's template uses the
    /// built-in console or Guacamole is not configured.
    ///
    /// Only the owner: Guacamole's permissions are the owner's, so an
    /// instructor would land in an empty list (they use the built-in console
    /// or Guacamole's administration).
    pub async fn guacamole_hand_off(&self, actor: &Actor, vm_id: i64) -> Result<Option<SignInLink>, AppError> {
        let vm = self.get_vm(actor, vm_id).await?;
        let Some(gateway) = self.current_gateway().await? else { return Ok(None) };
        if vm.console != Console::Guacamole {
            return Ok(None);
        }
        if vm.owner_id != actor.user_id {
            return Err(AppError::Forbidden);
        }
        let ready: Vec<String> = self
            .ports
            .connection_templates
            .vm_connections(vm_id)
            .await?
            .into_iter()
            .filter(|c| c.granted)
            .filter_map(|c| c.remote_id)
            .collect();
        if ready.is_empty() {
            return Err(AppError::conflict("guacamole_not_ready"));
        }
        let target = if ready.len() == 1 { ready.first().map(String::as_str) } else { None };
        let link = match gateway.sso_method {
            SsoMethod::EncryptedJson => gateway.remote.sign_in_link(&actor.username, target).await,
            SsoMethod::None => gateway.remote.login_link(target).await,
        };
        let link = link.map_err(|e| {
            tracing::warn!(vm_id, error = %e, "Guacamole sign-in link refused");
            AppError::CheckFailed { system: "Guacamole".into(), message: e.to_string() }
        })?;
        // Nothing of OpenVLE's changes here, so the activity is the only write.
        let mut activity = self.activity(actor, "vm.guacamole_sign_in", ActivityTarget::new("vms", vm.id, &vm.name));
        activity.event_id = Some(vm.event_id);
        activity.details = serde_json::json!({ "sso_method": gateway.sso_method.key() });
        self.record(&activity).await?;
        Ok(Some(link))
    }
}
