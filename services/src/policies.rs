//! Terms of use.

use domain::access::ObjectType;
use domain::activity::ActivityTarget;
use domain::policy::PolicyView;
use domain::{Action, Actor, AppError, Target, validate};

use crate::ports::PolicyRecord;
use crate::{Services, authorize};

#[derive(Clone, Debug, Default)]
pub struct PolicyInput {
    pub name: String,
    pub description: String,
    pub content: String,
}

const CONTENT_MAX: usize = 50_000;

fn record(input: &PolicyInput) -> Result<PolicyRecord, AppError> {
    Ok(PolicyRecord {
        name: validate::line("name", &input.name, validate::NAME_MAX)?,
        description: validate::text("description", &input.description, validate::DESCRIPTION_MAX)?,
        content: validate::text("content", &input.content, CONTENT_MAX)?,
    })
}

impl Services {
    pub async fn list_policies(&self, actor: &Actor) -> Result<Vec<PolicyView>, AppError> {
        authorize(actor, Action::Read, Target::All(ObjectType::Policy))?;
        Ok(self.ports.policies.list().await?)
    }

    /// The policies this user still has to accept (any signed-in user, for themselves).
    pub async fn pending_policies(&self, actor: &Actor) -> Result<Vec<PolicyView>, AppError> {
        let ids = self.ports.policies.pending_for(actor.user_id).await?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(p) = self.ports.policies.by_id(id).await? {
                out.push(p);
            }
        }
        Ok(out)
    }

    pub async fn create_policy(&self, actor: &Actor, input: PolicyInput) -> Result<i64, AppError> {
        authorize(actor, Action::Create, Target::All(ObjectType::Policy))?;
        let record = record(&input)?;
        let activity = self.activity(actor, "policy.create", ActivityTarget::created("policies", &record.name));
        Ok(self.ports.policies.insert(&record, Some(&activity)).await?)
    }

    pub async fn update_policy(&self, actor: &Actor, id: i64, input: PolicyInput) -> Result<(), AppError> {
        authorize(actor, Action::Update, Target::One(ObjectType::Policy, id))?;
        let record = record(&input)?;
        self.ports.policies.by_id(id).await?.ok_or(AppError::NotFound)?;
        let activity = self.activity(actor, "policy.update", ActivityTarget::new("policies", id, &record.name));
        self.ports.policies.update(id, &record, Some(&activity)).await?;
        Ok(())
    }

    pub async fn set_policy_active(&self, actor: &Actor, id: i64, active: bool) -> Result<(), AppError> {
        authorize(actor, Action::Update, Target::One(ObjectType::Policy, id))?;
        let policy = self.ports.policies.by_id(id).await?.ok_or(AppError::NotFound)?;
        let action = if active { "policy.activate" } else { "policy.deactivate" };
        let activity = self.activity(actor, action, ActivityTarget::new("policies", id, &policy.name));
        self.ports.policies.set_active(id, active, Some(&activity)).await?;
        Ok(())
    }

    /// Records that the actor accepted an active policy.
    pub async fn accept_policy(&self, actor: &Actor, id: i64) -> Result<(), AppError> {
        let policy = self.ports.policies.by_id(id).await?.ok_or(AppError::NotFound)?;
        if !policy.active {
            return Err(AppError::conflict("policy_inactive"));
        }
        let activity = self.activity(actor, "policy.accept", ActivityTarget::new("policies", id, &policy.name));
        self.ports.policies.accept(id, actor.user_id, self.clock.now(), Some(&activity)).await?;
        Ok(())
    }
}
