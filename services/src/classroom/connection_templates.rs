//! Connection templates: how VMs are reached through Guacamole (protocol,
//! port, credentials, RDP options), bound to a VM template (every VM cloned
//! from it; an event keeps them in its snapshot) or to one deployed VM (used
//! instead of its template's). They are created and deleted, never edited, so
//! the password is entered once and never shown again.

use domain::access::ObjectType;
use domain::activity::ActivityTarget;
use domain::classroom::{
    ConnectionBinding, ConnectionTemplateInput, ConnectionTemplateView, Console, Protocol, RdpSecurity,
    validate_connection_template,
};
use domain::cluster::ClusterProblem;
use domain::time::Timestamp;
use domain::{Action, Actor, AppError, Target, can};

use super::ports::SealedConnection;
use super::templates::PASSWORD_PURPOSE;
use crate::{Services, authorize};

impl Services {
    /// What new templates use when nobody chooses: Guacamole when it is
    /// configured, else the built-in console (which needs nothing else).
    pub async fn default_console(&self) -> Result<Console, AppError> {
        Ok(if self.guacamole_configured().await? { Console::Guacamole } else { Console::Builtin })
    }

    /// Checks that the actor may read (`change` false) or change the
    /// connection templates bound to `binding`; names the bound object for
    /// activities and, for a VM, its event.
    async fn connection_binding_access(
        &self,
        actor: &Actor,
        binding: ConnectionBinding,
        change: bool,
    ) -> Result<(ActivityTarget, Option<i64>), AppError> {
        match binding {
            ConnectionBinding::Template(id) => {
                let action = if change { Action::Update } else { Action::Read };
                authorize(actor, action, Target::One(ObjectType::Template, id))?;
                let template = self.ports.templates.by_id(id).await?.ok_or(AppError::NotFound)?;
                Ok((ActivityTarget::new("templates", id, &template.name), None))
            }
            ConnectionBinding::Vm(id) => {
                // Reading follows the VM; changing needs the VM's or its event's Update
                // (instructors of the event, administrators), not only VM Control.
                let vm = self.get_vm(actor, id).await?;
                if change
                    && !can(actor, Action::Update, Target::One(ObjectType::Vm, id))
                    && self.event_for(actor, vm.event_id, Action::Update).await.is_err()
                {
                    return Err(AppError::Forbidden);
                }
                Ok((ActivityTarget::new("vms", id, &vm.name), Some(vm.event_id)))
            }
        }
    }

    pub async fn list_connection_templates(
        &self,
        actor: &Actor,
        binding: ConnectionBinding,
    ) -> Result<Vec<ConnectionTemplateView>, AppError> {
        self.connection_binding_access(actor, binding, false).await?;
        Ok(self.ports.connection_templates.list(binding).await?)
    }

    /// Validates, seals the password (an empty one stays `None`) and stores.
    /// The same protocol and port twice on one binding is refused: it would
    /// give one VM two connections of the same name.
    pub async fn create_connection_template(
        &self,
        actor: &Actor,
        binding: ConnectionBinding,
        input: &ConnectionTemplateInput,
    ) -> Result<i64, AppError> {
        let (target, event_id) = self.connection_binding_access(actor, binding, true).await?;
        let fields = validate_connection_template(input)?;
        let existing = self.ports.connection_templates.list(binding).await?;
        if existing.iter().any(|c| c.protocol == fields.protocol && c.port == fields.port) {
            return Err(AppError::conflict("connection_template_duplicate"));
        }
        let password_sealed = if fields.password.is_empty() {
            None
        } else {
            let key =
                self.cluster.secret_key().ok_or(AppError::Cluster { problem: ClusterProblem::SecretKeyMissing })?;
            Some(key.seal(PASSWORD_PURPOSE, &fields.password))
        };
        let connection = SealedConnection {
            protocol: fields.protocol,
            port: fields.port,
            username: fields.username,
            password_sealed,
            rdp_security: fields.rdp_security,
            ignore_cert: fields.ignore_cert,
        };
        let mut activity = self.activity(actor, "connection_template.create", target);
        activity.event_id = event_id;
        let id =
            self.ports.connection_templates.insert(binding, &connection, self.clock.now(), Some(&activity)).await?;
        if let Some(event_id) = event_id {
            // A VM's own connection template reaches Guacamole at once.
            self.queue_connection_sync(event_id).await?;
        }
        Ok(id)
    }

    /// Deleting is how a connection template is changed: delete, create anew.
    /// Deployed events keep their snapshot; a VM's own connection template
    /// takes effect at the next connection sync. Answers what it was bound to.
    pub async fn delete_connection_template(&self, actor: &Actor, id: i64) -> Result<ConnectionBinding, AppError> {
        let Some(found) = self.ports.connection_templates.by_id(id).await? else {
            // Same answer for "absent" as for "not yours to see".
            return Err(AppError::NotFound);
        };
        let (target, event_id) = self.connection_binding_access(actor, found.binding, true).await?;
        let mut activity = self.activity(actor, "connection_template.delete", target);
        activity.event_id = event_id;
        self.ports.connection_templates.delete(id, Some(&activity)).await?;
        if let Some(event_id) = event_id {
            self.queue_connection_sync(event_id).await?;
        }
        Ok(found.binding)
    }

    /// A first connection template for a template imported from the cluster
    /// (no actor: part of a change recorded by its caller): Windows templates
    /// are reached over RDP, the others over SSH, without credentials yet.
    pub(crate) async fn seed_connection_template(
        &self,
        template_id: i64,
        name: &str,
        at: Timestamp,
    ) -> Result<(), AppError> {
        let protocol = if name.to_lowercase().contains("win") { Protocol::Rdp } else { Protocol::Ssh };
        let connection = SealedConnection {
            protocol,
            port: protocol.default_port(),
            username: String::new(),
            password_sealed: None,
            rdp_security: RdpSecurity::Any,
            ignore_cert: true,
        };
        self.ports.connection_templates.insert(ConnectionBinding::Template(template_id), &connection, at, None).await?;
        Ok(())
    }
}
