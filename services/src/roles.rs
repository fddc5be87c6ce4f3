//! Roles: named sets of model-level permissions.

use domain::access::{ADMIN_ROLE, DEFAULT_ROLES, ObjectType};
use domain::activity::ActivityTarget;
use domain::user::RoleView;
use domain::{AccessLevel, Action, Actor, AppError, Grant, Target, validate};

use crate::ports::RoleRecord;
use crate::{Services, authorize};

#[derive(Clone, Debug, Default)]
pub struct RoleInput {
    pub key: String,
    pub name: String,
    pub description: String,
    /// Permission keys such as `events:full`.
    pub permissions: Vec<String>,
}

/// One line of the permission catalogue (the Permissions page).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PermissionEntry {
    pub key: String,
    pub object_type: ObjectType,
    pub level: AccessLevel,
}

/// Every permission key a role can hold.
pub fn permission_catalogue() -> Vec<PermissionEntry> {
    ObjectType::ALL
        .into_iter()
        .flat_map(|t| {
            AccessLevel::ALL.into_iter().filter(move |l| l.valid_for(t, true)).map(move |l| PermissionEntry {
                key: Grant::model(t, l).key(),
                object_type: t,
                level: l,
            })
        })
        .collect()
}

fn parse_permissions(keys: &[String]) -> Result<Vec<Grant>, AppError> {
    let mut grants = Vec::with_capacity(keys.len());
    for key in keys {
        let grant =
            Grant::parse_key(key).ok_or_else(|| AppError::invalid("permissions", domain::error::Problem::Unknown))?;
        if !grants.contains(&grant) {
            grants.push(grant);
        }
    }
    Ok(grants)
}

/// Only permissions the actor holds (or holds fully) can be put into a role.
fn ensure_actor_holds(actor: &Actor, grants: &[Grant]) -> Result<(), AppError> {
    let held = |g: &Grant| {
        actor.grants.iter().any(|own| {
            own.object_id.is_none()
                && own.object_type == g.object_type
                && (own.level == AccessLevel::Full || own.level == g.level)
        })
    };
    if grants.iter().all(held) { Ok(()) } else { Err(AppError::Forbidden) }
}

impl Services {
    pub async fn list_roles(&self, actor: &Actor) -> Result<Vec<RoleView>, AppError> {
        authorize(actor, Action::Read, Target::All(ObjectType::Role))?;
        Ok(self.ports.roles.list().await?)
    }

    pub async fn get_role(&self, actor: &Actor, id: i64) -> Result<RoleView, AppError> {
        authorize(actor, Action::Read, Target::One(ObjectType::Role, id))?;
        self.ports.roles.by_id(id).await?.ok_or(AppError::NotFound)
    }

    pub fn permissions(&self, actor: &Actor) -> Result<Vec<PermissionEntry>, AppError> {
        authorize(actor, Action::Read, Target::All(ObjectType::Role))?;
        Ok(permission_catalogue())
    }

    pub async fn create_role(&self, actor: &Actor, input: RoleInput) -> Result<i64, AppError> {
        authorize(actor, Action::Create, Target::All(ObjectType::Role))?;
        let record = RoleRecord {
            key: validate::key("key", &input.key, 64)?,
            name: validate::line("name", &input.name, validate::NAME_MAX)?,
            description: validate::text("description", &input.description, validate::DESCRIPTION_MAX)?,
            permissions: parse_permissions(&input.permissions)?,
        };
        ensure_actor_holds(actor, &record.permissions)?;
        if self.ports.roles.by_key(&record.key).await?.is_some() {
            return Err(AppError::invalid("key", domain::error::Problem::Taken));
        }
        let mut activity = self.activity(actor, "role.create", ActivityTarget::created("roles", &record.key));
        activity.details =
            serde_json::json!({ "permissions": record.permissions.iter().map(Grant::key).collect::<Vec<_>>() });
        Ok(self.ports.roles.insert(&record, Some(&activity)).await?)
    }

    /// Name, description and permissions; the key is immutable. The
    /// administrator role always keeps full rights on users and roles, so an
    /// installation cannot lock itself out.
    pub async fn update_role(&self, actor: &Actor, id: i64, input: RoleInput) -> Result<(), AppError> {
        authorize(actor, Action::Update, Target::One(ObjectType::Role, id))?;
        let existing = self.ports.roles.by_id(id).await?.ok_or(AppError::NotFound)?;
        let record = RoleRecord {
            key: existing.key.clone(),
            name: validate::line("name", &input.name, validate::NAME_MAX)?,
            description: validate::text("description", &input.description, validate::DESCRIPTION_MAX)?,
            permissions: parse_permissions(&input.permissions)?,
        };
        let added: Vec<Grant> =
            record.permissions.iter().filter(|g| !existing.permissions.contains(&g.key())).cloned().collect();
        ensure_actor_holds(actor, &added)?;
        if existing.key == ADMIN_ROLE {
            for essential in [ObjectType::User, ObjectType::Role] {
                if !record.permissions.contains(&Grant::model(essential, AccessLevel::Full)) {
                    return Err(AppError::conflict("admin_role_essentials"));
                }
            }
        }
        let mut activity = self.activity(actor, "role.update", ActivityTarget::new("roles", id, &existing.key));
        activity.details = serde_json::json!({ "name": record.name, "permissions": record.permissions.iter().map(Grant::key).collect::<Vec<_>>() });
        self.ports.roles.update(id, &record, Some(&activity)).await?;
        Ok(())
    }

    /// A copy with a new key and name, same permissions.
    pub async fn copy_role(&self, actor: &Actor, id: i64, key: &str, name: &str) -> Result<i64, AppError> {
        let source = self.get_role(actor, id).await?;
        self.create_role(
            actor,
            RoleInput {
                key: key.to_string(),
                name: name.to_string(),
                description: source.description,
                permissions: source.permissions,
            },
        )
        .await
    }

    /// Only unused roles that are not among the defaults can be deleted.
    pub async fn delete_role(&self, actor: &Actor, id: i64) -> Result<(), AppError> {
        authorize(actor, Action::Delete, Target::One(ObjectType::Role, id))?;
        let role = self.ports.roles.by_id(id).await?.ok_or(AppError::NotFound)?;
        if DEFAULT_ROLES.iter().any(|d| d.key == role.key) {
            return Err(AppError::conflict("default_role"));
        }
        if role.member_count > 0 {
            return Err(AppError::conflict("role_in_use"));
        }
        let activity = self.activity(actor, "role.delete", ActivityTarget::new("roles", id, &role.key));
        self.ports.roles.delete(id, Some(&activity)).await?;
        Ok(())
    }
}
