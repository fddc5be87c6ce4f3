//! Environments: sets of VM templates with how many VMs of each a participant
//! gets. Edits apply to planned events; deployed events keep their snapshot.

use domain::access::{AccessLevel, Grant, ObjectType};
use domain::activity::ActivityTarget;
use domain::classroom::{EnvironmentView, environment_entries};
use domain::error::Problem;
use domain::{Action, Actor, AppError, Target, can, validate};

use crate::{Services, authorize};

/// The environment form: templates as (template id, typed count) pairs.
#[derive(Clone, Debug, Default)]
pub struct EnvironmentInput {
    pub name: String,
    pub description: String,
    pub templates: Vec<(i64, String)>,
}

impl Services {
    /// Every environment the actor may read.
    pub async fn list_environments(&self, actor: &Actor) -> Result<Vec<EnvironmentView>, AppError> {
        let all = self.ports.environments.list().await?;
        if can(actor, Action::Read, Target::All(ObjectType::Environment)) {
            return Ok(all);
        }
        let visible: Vec<_> =
            all.into_iter().filter(|e| can(actor, Action::Read, Target::One(ObjectType::Environment, e.id))).collect();
        if visible.is_empty() && !can(actor, Action::Create, Target::All(ObjectType::Environment)) {
            return Err(AppError::Forbidden);
        }
        Ok(visible)
    }

    pub async fn get_environment(&self, actor: &Actor, id: i64) -> Result<EnvironmentView, AppError> {
        authorize(actor, Action::Read, Target::One(ObjectType::Environment, id))?;
        self.ports.environments.by_id(id).await?.ok_or(AppError::NotFound)
    }

    async fn environment_fields(
        &self,
        input: &EnvironmentInput,
    ) -> Result<(String, String, Vec<(i64, u32)>), AppError> {
        let name = validate::line("name", &input.name, validate::NAME_MAX)?;
        let description = validate::text("description", &input.description, domain::classroom::MARKDOWN_MAX)?;
        let entries = environment_entries(&input.templates)?;
        for (template_id, _) in &entries {
            if self.ports.templates.by_id(*template_id).await?.is_none() {
                return Err(AppError::invalid("templates", Problem::Unknown));
            }
        }
        Ok((name, description, entries))
    }

    /// The creator gets full access to the new environment.
    pub async fn create_environment(&self, actor: &Actor, input: &EnvironmentInput) -> Result<i64, AppError> {
        authorize(actor, Action::Create, Target::All(ObjectType::Environment))?;
        let (name, description, entries) = self.environment_fields(input).await?;
        let activity = self.activity(actor, "environment.create", ActivityTarget::created("environments", &name));
        let id =
            self.ports.environments.insert(&name, &description, &entries, self.clock.now(), Some(&activity)).await?;
        let grant = Grant::object(ObjectType::Environment, id, AccessLevel::Full);
        // Part of the creation recorded above.
        self.ports.users.add_object_grant(actor.user_id, &grant, None).await?;
        Ok(id)
    }

    pub async fn update_environment(&self, actor: &Actor, id: i64, input: &EnvironmentInput) -> Result<(), AppError> {
        authorize(actor, Action::Update, Target::One(ObjectType::Environment, id))?;
        let (name, description, entries) = self.environment_fields(input).await?;
        self.ports.environments.by_id(id).await?.ok_or(AppError::NotFound)?;
        let activity = self.activity(actor, "environment.update", ActivityTarget::new("environments", id, &name));
        Ok(self.ports.environments.update(id, &name, &description, &entries, Some(&activity)).await?)
    }

    /// Refused while an event (of any status) uses the environment.
    pub async fn delete_environment(&self, actor: &Actor, id: i64) -> Result<(), AppError> {
        authorize(actor, Action::Delete, Target::One(ObjectType::Environment, id))?;
        let environment = self.ports.environments.by_id(id).await?.ok_or(AppError::NotFound)?;
        if environment.event_count > 0 {
            return Err(AppError::conflict("environment_in_use"));
        }
        let target = ActivityTarget::new("environments", id, &environment.name);
        let activity = self.activity(actor, "environment.delete", target);
        Ok(self.ports.environments.delete(id, Some(&activity)).await?)
    }
}
