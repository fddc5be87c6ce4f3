//! VM templates: what participants' VMs are cloned from and how they are reached.

use domain::access::ObjectType;
use domain::activity::{ActivityTarget, ActorKind};
use domain::classroom::{Console, TemplateInput, VmTemplateView, validate_template};
use domain::cluster::ClusterProblem;
use domain::error::Problem;
use domain::{Action, Actor, AppError, Target};

use super::ports::TemplateRecord;
use crate::{Services, authorize};

/// What connection passwords are sealed for (bound to the ciphertext). The
/// name predates connection templates: migration 0011 moved the templates'
/// sealed passwords into them unchanged.
pub const PASSWORD_PURPOSE: &str = "openvle/template-connection-password";

impl Services {
    pub async fn list_templates(&self, actor: &Actor) -> Result<Vec<VmTemplateView>, AppError> {
        authorize(actor, Action::Read, Target::All(ObjectType::Template))?;
        Ok(self.ports.templates.list().await?)
    }

    pub async fn get_template(&self, actor: &Actor, id: i64) -> Result<VmTemplateView, AppError> {
        authorize(actor, Action::Read, Target::One(ObjectType::Template, id))?;
        self.ports.templates.by_id(id).await?.ok_or(AppError::NotFound)
    }

    /// Validates; a form without a console choice gets [`Services::default_console`].
    async fn template_record(&self, input: &TemplateInput) -> Result<TemplateRecord, AppError> {
        let fields = if input.console.trim().is_empty() {
            validate_template(&TemplateInput { console: self.default_console().await?.key().into(), ..input.clone() })?
        } else {
            validate_template(input)?
        };
        Ok(TemplateRecord {
            name: fields.name,
            description: fields.description,
            operating_system: fields.operating_system,
            proxmox_vmid: fields.proxmox_vmid,
            node: fields.node,
            cores: fields.cores,
            memory_mib: fields.memory_mib,
            disk_gib: fields.disk_gib,
            linked_clone: fields.linked_clone,
            console: fields.console,
        })
    }

    pub async fn create_template(&self, actor: &Actor, input: &TemplateInput) -> Result<i64, AppError> {
        authorize(actor, Action::Create, Target::All(ObjectType::Template))?;
        let record = self.template_record(input).await?;
        let activity = self.activity(actor, "template.create", ActivityTarget::created("templates", &record.name));
        Ok(self.ports.templates.insert(&record, self.clock.now(), Some(&activity)).await?)
    }

    pub async fn update_template(&self, actor: &Actor, id: i64, input: &TemplateInput) -> Result<(), AppError> {
        authorize(actor, Action::Update, Target::One(ObjectType::Template, id))?;
        let record = self.template_record(input).await?;
        self.ports.templates.by_id(id).await?.ok_or(AppError::NotFound)?;
        let activity = self.activity(actor, "template.update", ActivityTarget::new("templates", id, &record.name));
        Ok(self.ports.templates.update(id, &record, self.clock.now(), Some(&activity)).await?)
    }

    /// Refused while an environment contains the template.
    pub async fn delete_template(&self, actor: &Actor, id: i64) -> Result<(), AppError> {
        authorize(actor, Action::Delete, Target::One(ObjectType::Template, id))?;
        let template = self.ports.templates.by_id(id).await?.ok_or(AppError::NotFound)?;
        if self.ports.templates.environments_using(id).await? > 0 {
            return Err(AppError::conflict("template_in_use"));
        }
        let activity = self.activity(actor, "template.delete", ActivityTarget::new("templates", id, &template.name));
        Ok(self.ports.templates.delete(id, Some(&activity)).await?)
    }

    /// The periodic sync (a job, no actor): copies node, CPU, memory and disk of
    /// every template from its template VM in the cluster's pool and marks the
    /// templates whose VM is missing there. Returns (found, missing).
    pub async fn sync_templates(&self) -> Result<(u32, u32), AppError> {
        let stored = self.ports.templates.list().await?;
        if stored.is_empty() {
            return Ok((0, 0));
        }
        let cluster = match self.current_cluster().await {
            Ok(cluster) => cluster,
            // No cluster configured: nothing to compare with (not a failure to retry).
            Err(AppError::Cluster { problem: ClusterProblem::NotConfigured }) => return Ok((0, 0)),
            Err(e) => return Err(e),
        };
        let on_cluster = cluster.templates().await.map_err(|problem| AppError::Cluster { problem })?;
        let now = self.clock.now();
        let (mut found, mut missing) = (0, 0);
        for template in stored {
            let seen = on_cluster.iter().find(|c| c.vmid == template.proxmox_vmid).map(|c| {
                let fields = cluster_template_input(c, Console::Builtin);
                let number = |raw: &str, fallback: u32| raw.parse().unwrap_or(fallback);
                (
                    c.node.clone(),
                    number(&fields.cores, template.cores),
                    number(&fields.memory_mib, template.memory_mib),
                    number(&fields.disk_gib, template.disk_gib),
                )
            });
            if seen.is_some() {
                found += 1;
            } else {
                missing += 1;
                tracing::warn!(template = %template.name, vmid = template.proxmox_vmid, "template VM missing on the cluster");
            }
            self.ports.templates.record_sync(template.id, seen, now).await?;
        }
        Ok((found, missing))
    }

    /// For the demo (no actor: it runs at start-up): when no template exists
    /// yet, imports every template VM of the cluster and puts them into one
    /// environment, "Demo lab", with one VM of each per participant.
    pub async fn seed_demo_classroom(&self) -> Result<(), AppError> {
        if !self.ports.templates.list().await?.is_empty() {
            return Ok(());
        }
        let cluster = self.current_cluster().await?;
        let found = cluster.templates().await.map_err(|problem| AppError::Cluster { problem })?;
        let now = self.clock.now();
        let console = self.default_console().await?;
        let mut entries = Vec::new();
        for t in found {
            let input = cluster_template_input(&t, console);
            let fields = validate_template(&input)?;
            let record = TemplateRecord {
                name: fields.name,
                description: fields.description,
                operating_system: fields.operating_system,
                proxmox_vmid: fields.proxmox_vmid,
                node: fields.node,
                cores: fields.cores,
                memory_mib: fields.memory_mib,
                disk_gib: fields.disk_gib,
                linked_clone: fields.linked_clone,
                console: fields.console,
            };
            let activity = self.system_activity(
                ActorKind::System,
                "template.create",
                ActivityTarget::created("templates", &record.name),
            );
            let id = self.ports.templates.insert(&record, now, Some(&activity)).await?;
            self.seed_connection_template(id, &t.name, now).await?;
            entries.push((id, 1));
        }
        let (name, description) = ("Demo lab", "One VM of each template of the demo cluster.");
        let activity = self.system_activity(
            ActorKind::System,
            "environment.create",
            ActivityTarget::created("environments", name),
        );
        self.ports.environments.insert(name, description, &entries, now, Some(&activity)).await?;
        Ok(())
    }

    /// Creates a template from one of the cluster's template VMs (name, node,
    /// CPU, memory, disk as Proxmox reports them); the rest is edited afterwards.
    pub async fn import_cluster_template(&self, actor: &Actor, vmid: u32) -> Result<i64, AppError> {
        authorize(actor, Action::Create, Target::All(ObjectType::Template))?;
        let found = self
            .cluster_templates(actor)
            .await?
            .into_iter()
            .find(|t| t.vmid == vmid)
            .ok_or_else(|| AppError::invalid("vmid", Problem::Unknown))?;
        let input = cluster_template_input(&found, self.default_console().await?);
        let id = self.create_template(actor, &input).await?;
        // Part of the import recorded by create_template.
        self.seed_connection_template(id, &found.name, self.clock.now()).await?;
        Ok(id)
    }
}

/// A template form filled from what Proxmox reports about a template VM.
fn cluster_template_input(found: &domain::cluster::TemplateView, console: Console) -> TemplateInput {
    const GIB: u64 = 1024 * 1024 * 1024;
    TemplateInput {
        name: found.name.clone(),
        description: found.description.clone(),
        // A start: the form says the catalogue's operating system is better.
        operating_system: found
            .os_type
            .as_deref()
            .and_then(domain::cluster::os_type_text)
            .unwrap_or_default()
            .to_string(),
        proxmox_vmid: found.vmid.to_string(),
        node: found.node.clone(),
        cores: found.cores.unwrap_or(1).to_string(),
        memory_mib: found.memory_mib.unwrap_or(1024).to_string(),
        disk_gib: found.disk_bytes.map(|b| b.div_ceil(GIB)).unwrap_or(0).to_string(),
        linked_clone: true,
        console: console.key().to_string(),
    }
}
