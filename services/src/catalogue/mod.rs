//! The infrastructure catalogue (vendors, operating systems, applications),
//! its links to templates and environments, and tags ([`tags`]).
//!
//! Administrators manage the catalogue, instructors read it (the
//! `catalogue` permission); links and tags are changed by whoever may edit
//! the object they are on. Every change writes its activity in the
//! repository's transaction.

pub mod ports;
pub mod tags;

use domain::access::ObjectType;
use domain::activity::ActivityTarget;
use domain::catalogue::{CatalogueItem, CatalogueKind, CatalogueLinks, Taggable, validate_item};
use domain::classroom::{VmFacts, can_on_vm};
use domain::error::Problem;
use domain::page::{Page, PageRequest};
use domain::{Action, Actor, AppError, Target};

use crate::{Services, authorize};

/// The catalogue entry form.
#[derive(Clone, Debug, Default)]
pub struct CatalogueInput {
    pub name: String,
    pub description: String,
    pub vendor_id: Option<i64>,
}

impl Services {
    pub async fn list_catalogue(
        &self,
        actor: &Actor,
        kind: CatalogueKind,
        vendor_id: Option<i64>,
        page: PageRequest,
    ) -> Result<Page<CatalogueItem>, AppError> {
        authorize(actor, Action::Read, Target::All(ObjectType::Catalogue))?;
        Ok(self.ports.catalogue.list(kind, vendor_id, page).await?)
    }

    pub async fn get_catalogue_item(
        &self,
        actor: &Actor,
        kind: CatalogueKind,
        id: i64,
    ) -> Result<CatalogueItem, AppError> {
        authorize(actor, Action::Read, Target::All(ObjectType::Catalogue))?;
        self.ports.catalogue.by_id(kind, id).await?.ok_or(AppError::NotFound)
    }

    async fn catalogue_fields(
        &self,
        kind: CatalogueKind,
        input: &CatalogueInput,
    ) -> Result<domain::catalogue::CatalogueFields, AppError> {
        let fields = validate_item(kind, &input.name, &input.description, input.vendor_id)?;
        if let Some(vendor_id) = fields.vendor_id
            && self.ports.catalogue.by_id(CatalogueKind::Vendor, vendor_id).await?.is_none()
        {
            return Err(AppError::invalid("vendor_id", Problem::Unknown));
        }
        Ok(fields)
    }

    /// Names are unique per list regardless of case ("name is taken").
    pub async fn create_catalogue_item(
        &self,
        actor: &Actor,
        kind: CatalogueKind,
        input: &CatalogueInput,
    ) -> Result<i64, AppError> {
        authorize(actor, Action::Create, Target::All(ObjectType::Catalogue))?;
        let fields = self.catalogue_fields(kind, input).await?;
        let action = format!("{}.create", kind.activity_area());
        let activity = self.activity(actor, &action, ActivityTarget::created(kind.key(), &fields.name));
        Ok(self.ports.catalogue.insert(kind, &fields, self.clock.now(), Some(&activity)).await?)
    }

    pub async fn update_catalogue_item(
        &self,
        actor: &Actor,
        kind: CatalogueKind,
        id: i64,
        input: &CatalogueInput,
    ) -> Result<(), AppError> {
        authorize(actor, Action::Update, Target::All(ObjectType::Catalogue))?;
        let fields = self.catalogue_fields(kind, input).await?;
        self.ports.catalogue.by_id(kind, id).await?.ok_or(AppError::NotFound)?;
        let action = format!("{}.update", kind.activity_area());
        let activity = self.activity(actor, &action, ActivityTarget::new(kind.key(), id, &fields.name));
        Ok(self.ports.catalogue.update(kind, id, &fields, self.clock.now(), Some(&activity)).await?)
    }

    /// Refused while anything uses the entry, naming what does
    /// ([`AppError::InUse`]); nothing changes then.
    pub async fn delete_catalogue_item(&self, actor: &Actor, kind: CatalogueKind, id: i64) -> Result<(), AppError> {
        authorize(actor, Action::Delete, Target::All(ObjectType::Catalogue))?;
        let item = self.ports.catalogue.by_id(kind, id).await?.ok_or(AppError::NotFound)?;
        let action = format!("{}.delete", kind.activity_area());
        let activity = self.activity(actor, &action, ActivityTarget::new(kind.key(), id, &item.name));
        let used_by = self.ports.catalogue.delete(kind, id, Some(&activity)).await?;
        if used_by.is_empty() { Ok(()) } else { Err(AppError::InUse { used_by }) }
    }

    /// What a template, environment or VM is linked to; a VM shows its
    /// template's. Whoever may read the object may read its links.
    pub async fn object_catalogue(&self, actor: &Actor, object: Taggable, id: i64) -> Result<CatalogueLinks, AppError> {
        self.object_name(actor, object, id, Action::Read).await?;
        let (object, id) = match object {
            Taggable::Vm => {
                let vm = self.ports.vms.by_id(id).await?.ok_or(AppError::NotFound)?;
                (Taggable::Template, vm.template_id)
            }
            other => (other, id),
        };
        Ok(self.ports.catalogue.links(object, id).await?)
    }

    /// Links a template to one operating system and applications, or an
    /// environment to applications. VMs inherit their template's.
    pub async fn set_catalogue_links(
        &self,
        actor: &Actor,
        object: Taggable,
        id: i64,
        operating_system_id: Option<i64>,
        application_ids: &[i64],
    ) -> Result<(), AppError> {
        let name = self.object_name(actor, object, id, Action::Update).await?;
        authorize(actor, Action::Read, Target::All(ObjectType::Catalogue))?;
        if object == Taggable::Vm {
            return Err(AppError::conflict("vm_catalogue_inherited"));
        }
        if let Some(os) = operating_system_id {
            // Environments have no operating system of their own (their templates do).
            let known = object == Taggable::Template
                && self.ports.catalogue.by_id(CatalogueKind::OperatingSystem, os).await?.is_some();
            if !known {
                return Err(AppError::invalid("operating_system_id", Problem::Unknown));
            }
        }
        let mut applications = application_ids.to_vec();
        applications.sort_unstable();
        applications.dedup();
        for application in &applications {
            if self.ports.catalogue.by_id(CatalogueKind::Application, *application).await?.is_none() {
                return Err(AppError::invalid("application_ids", Problem::Unknown));
            }
        }
        let activity = self.activity(actor, "catalogue.link", ActivityTarget::new(object.key(), id, &name));
        Ok(self.ports.catalogue.set_links(object, id, operating_system_id, &applications, Some(&activity)).await?)
    }

    /// The name of a template, environment or VM if `actor` may do `action`
    /// on it. VMs the actor may not read are "not found", as everywhere.
    pub(crate) async fn object_name(
        &self,
        actor: &Actor,
        object: Taggable,
        id: i64,
        action: Action,
    ) -> Result<String, AppError> {
        match object {
            Taggable::Template => {
                authorize(actor, action, Target::One(ObjectType::Template, id))?;
                Ok(self.ports.templates.by_id(id).await?.ok_or(AppError::NotFound)?.name)
            }
            Taggable::Environment => {
                authorize(actor, action, Target::One(ObjectType::Environment, id))?;
                Ok(self.ports.environments.by_id(id).await?.ok_or(AppError::NotFound)?.name)
            }
            Taggable::Vm => {
                let vm = self.ports.vms.by_id(id).await?.ok_or(AppError::NotFound)?;
                let role = self.ports.events.role_of(vm.event_id, actor.user_id).await?;
                let facts = VmFacts { vm_id: vm.id, owner_id: vm.owner_id, event_id: vm.event_id };
                if !can_on_vm(actor, Action::Read, facts, role) {
                    return Err(AppError::NotFound);
                }
                if !can_on_vm(actor, action, facts, role) {
                    return Err(AppError::Forbidden);
                }
                Ok(vm.name)
            }
        }
    }
}
