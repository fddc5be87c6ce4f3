//! User administration and what every user may do to their own account.

use domain::access::{ADMIN_ROLE, ObjectType};
use domain::activity::{ActivityTarget, ActorKind};
use domain::page::{Page, PageRequest};
use domain::user::{AccountControls, RoleView, UserView};
use domain::{AccessLevel, Action, Actor, AppError, AuthBackend, Language, Target, UserStatus, can, validate};

use crate::ports::{NewUser, UserQuery, UserRecord};
use crate::{Services, authorize, passwords};

/// What an administrator (or an instructor adding a participant) fills in.
#[derive(Clone, Debug, Default)]
pub struct UserInput {
    pub username: String,
    pub name: String,
    pub email: String,
    pub language: String,
    /// Empty: the account has no password yet and waits for an invitation.
    pub password: String,
    pub role_keys: Vec<String>,
}

#[derive(Clone, Debug, Default)]
pub struct ProfileInput {
    pub name: String,
    pub email: String,
    pub language: String,
}

fn language(raw: &str) -> Result<Language, AppError> {
    Language::from_code(raw.trim()).ok_or_else(|| AppError::invalid("language", domain::error::Problem::Unknown))
}

fn view(user: UserRecord, roles: Vec<domain::user::RoleRef>) -> UserView {
    UserView {
        id: user.id,
        username: user.username,
        name: user.name,
        email: user.email,
        language: user.language,
        status: user.status,
        auth_backend: user.auth_backend,
        roles,
        created_at: user.created_at,
        last_login_at: user.last_login_at,
    }
}

/// Whether `actor` holds every permission `role` would give, so nobody can
/// hand out more than they have.
fn covers(actor: &Actor, role: &RoleView) -> bool {
    role.permissions.iter().all(|key| match domain::Grant::parse_key(key) {
        Some(grant) => actor.grants.iter().any(|own| {
            own.object_id.is_none()
                && own.object_type == grant.object_type
                && (own.level == AccessLevel::Full || own.level == grant.level)
        }),
        None => false,
    })
}

impl Services {
    pub async fn list_users(
        &self,
        actor: &Actor,
        query: UserQuery,
        page: PageRequest,
    ) -> Result<Page<UserView>, AppError> {
        authorize(actor, Action::Read, Target::All(ObjectType::User))?;
        let found = self.ports.users.search(&query, page).await?;
        let mut items = Vec::with_capacity(found.items.len());
        for user in found.items {
            let roles = self.ports.users.roles_of(user.id).await?;
            items.push(view(user, roles));
        }
        Ok(Page { items, total: found.total, page: found.page, per_page: found.per_page })
    }

    pub async fn get_user(&self, actor: &Actor, id: i64) -> Result<UserView, AppError> {
        authorize(actor, Action::Read, Target::One(ObjectType::User, id))?;
        let user = self.ports.users.by_id(id).await?.ok_or(AppError::NotFound)?;
        let roles = self.ports.users.roles_of(id).await?;
        Ok(view(user, roles))
    }

    /// What `actor` may change about account `id`: the same rules as the
    /// changes themselves below.
    pub async fn account_controls(&self, actor: &Actor, id: i64) -> Result<AccountControls, AppError> {
        authorize(actor, Action::Read, Target::One(ObjectType::User, id))?;
        let user = self.ports.users.by_id(id).await?.ok_or(AppError::NotFound)?;
        let own = id == actor.user_id;
        let outranks = self.outranks(actor, id).await?;
        let manage_all = can(actor, Action::Update, Target::All(ObjectType::User)) && outranks;
        Ok(AccountControls {
            profile: can(actor, Action::Update, Target::One(ObjectType::User, id)) && (own || outranks),
            roles: manage_all && can(actor, Action::Update, Target::All(ObjectType::Role)),
            status: manage_all && !own,
            password: manage_all && user.auth_backend == AuthBackend::Internal,
            delete: can(actor, Action::Delete, Target::One(ObjectType::User, id)) && outranks && !own,
        })
    }

    /// Roles the actor may give to users they create or edit.
    pub async fn assignable_roles(&self, actor: &Actor) -> Result<Vec<RoleView>, AppError> {
        authorize(actor, Action::Create, Target::All(ObjectType::User))
            .or_else(|_| authorize(actor, Action::Update, Target::All(ObjectType::User)))?;
        let all = self.ports.roles.list().await?;
        Ok(all.into_iter().filter(|r| covers(actor, r)).collect())
    }

    async fn resolve_roles(&self, actor: &Actor, keys: &[String]) -> Result<Vec<i64>, AppError> {
        let mut ids = Vec::with_capacity(keys.len());
        for key in keys {
            let role = self
                .ports
                .roles
                .by_key(key)
                .await?
                .ok_or_else(|| AppError::invalid("roles", domain::error::Problem::Unknown))?;
            if !covers(actor, &role) {
                return Err(AppError::Forbidden);
            }
            ids.push(role.id);
        }
        ids.sort_unstable();
        ids.dedup();
        Ok(ids)
    }

    /// Creates a local account. Without a password the account is
    /// `email_pending` until the person sets one through an invitation.
    pub async fn create_user(&self, actor: &Actor, input: UserInput) -> Result<UserView, AppError> {
        self.create_user_recorded(actor, input, "user.create", None).await
    }

    /// [`Services::create_user`] recorded as `action` (in event `event_id`):
    /// for use cases whose change is the creation of an account.
    pub(crate) async fn create_user_recorded(
        &self,
        actor: &Actor,
        input: UserInput,
        action: &str,
        event_id: Option<i64>,
    ) -> Result<UserView, AppError> {
        authorize(actor, Action::Create, Target::All(ObjectType::User))?;
        let username = validate::username(&input.username)?;
        let name = validate::line("name", &input.name, validate::NAME_MAX)?;
        let email = validate::email(&input.email)?;
        let language = language(&input.language)?;
        let password_hash = if input.password.is_empty() {
            None
        } else {
            validate::new_password(&input.password, &username)?;
            Some(passwords::hash(&input.password)?)
        };
        let role_ids = self.resolve_roles(actor, &input.role_keys).await?;
        if self.ports.users.by_username(&username).await?.is_some() {
            return Err(AppError::invalid("username", domain::error::Problem::Taken));
        }
        let status = if password_hash.is_some() { UserStatus::Active } else { UserStatus::EmailPending };
        let mut activity = self.activity(actor, action, ActivityTarget::created("users", &username));
        activity.event_id = event_id;
        activity.details = serde_json::json!({ "roles": input.role_keys, "status": status.key() });
        let id = self
            .ports
            .users
            .insert(
                NewUser {
                    username,
                    name,
                    email,
                    language,
                    status,
                    auth_backend: AuthBackend::Internal,
                    password_hash,
                    created_at: self.clock.now(),
                },
                Some(&activity),
            )
            .await?;
        self.ports.users.set_roles(id, &role_ids, None).await?;
        // Creators get access to what they create (an instructor to the participants they add).
        let creator_grant = domain::Grant::object(ObjectType::User, id, AccessLevel::ReadEdit);
        self.ports.users.add_object_grant(actor.user_id, &creator_grant, None).await?;
        if status == UserStatus::EmailPending {
            // The account exists either way; a mail that cannot be queued is
            // logged and can be sent again with a new link (password reset).
            if let Err(e) = self.invite(id).await {
                tracing::warn!(user = id, error = %e, "invitation mail not queued");
            }
        }
        let user = self.ports.users.by_id(id).await?.ok_or(AppError::NotFound)?;
        let roles = self.ports.users.roles_of(id).await?;
        Ok(view(user, roles))
    }

    /// Name, e-mail and language; for one's own account as for others'.
    pub async fn update_profile(&self, actor: &Actor, id: i64, input: ProfileInput) -> Result<(), AppError> {
        authorize(actor, Action::Update, Target::One(ObjectType::User, id))?;
        if id != actor.user_id {
            self.ensure_outranks(actor, id).await?;
        }
        let name = validate::line("name", &input.name, validate::NAME_MAX)?;
        let email = validate::email(&input.email)?;
        let language = language(&input.language)?;
        let user = self.ports.users.by_id(id).await?.ok_or(AppError::NotFound)?;
        let mut activity = self.activity(actor, "user.update", ActivityTarget::new("users", id, &user.username));
        activity.details = serde_json::json!({ "name": name, "email": email, "language": language.code() });
        self.ports.users.update_profile(id, &name, &email, language, Some(&activity)).await?;
        Ok(())
    }

    /// Changing someone else's roles needs update rights on users and on roles,
    /// and only roles the actor could hold themselves can be given.
    pub async fn set_user_roles(&self, actor: &Actor, id: i64, role_keys: &[String]) -> Result<(), AppError> {
        authorize(actor, Action::Update, Target::All(ObjectType::User))?;
        authorize(actor, Action::Update, Target::All(ObjectType::Role))?;
        let user = self.ports.users.by_id(id).await?.ok_or(AppError::NotFound)?;
        self.ensure_outranks(actor, id).await?;
        let role_ids = self.resolve_roles(actor, role_keys).await?;
        let was_admin = self.ports.users.roles_of(id).await?.iter().any(|r| r.key == ADMIN_ROLE);
        let stays_admin = role_keys.iter().any(|k| k == ADMIN_ROLE);
        if was_admin && !stays_admin {
            self.ensure_not_last_admin(id).await?;
        }
        let mut activity = self.activity(actor, "user.roles", ActivityTarget::new("users", id, &user.username));
        activity.details = serde_json::json!({ "roles": role_keys });
        self.ports.users.set_roles(id, &role_ids, Some(&activity)).await?;
        Ok(())
    }

    /// Nobody changes an account that may do more than they may: every role
    /// the user holds must be one the actor could give. (Otherwise an
    /// instructor who created an account that was later made administrator
    /// could change its e-mail address and take it over with a password reset.)
    async fn ensure_outranks(&self, actor: &Actor, id: i64) -> Result<(), AppError> {
        if self.outranks(actor, id).await? { Ok(()) } else { Err(AppError::Forbidden) }
    }

    async fn outranks(&self, actor: &Actor, id: i64) -> Result<bool, AppError> {
        let held = self.ports.users.roles_of(id).await?;
        let roles = self.ports.roles.list().await?;
        Ok(roles.iter().filter(|role| held.iter().any(|h| h.id == role.id)).all(|role| covers(actor, role)))
    }

    async fn ensure_not_last_admin(&self, id: i64) -> Result<(), AppError> {
        let user = self.ports.users.by_id(id).await?.ok_or(AppError::NotFound)?;
        let is_admin = self.ports.users.roles_of(id).await?.iter().any(|r| r.key == ADMIN_ROLE);
        if is_admin
            && user.status == UserStatus::Active
            && self.ports.users.count_active_with_role(ADMIN_ROLE).await? <= 1
        {
            return Err(AppError::conflict("last_admin"));
        }
        Ok(())
    }

    /// Lock (inactive, banned) or unlock (active) an account. Locking ends its sessions.
    pub async fn set_user_status(&self, actor: &Actor, id: i64, status: UserStatus) -> Result<(), AppError> {
        authorize(actor, Action::Update, Target::All(ObjectType::User))?;
        if id == actor.user_id {
            return Err(AppError::conflict("own_account"));
        }
        if status != UserStatus::Active {
            self.ensure_not_last_admin(id).await?;
        }
        let user = self.ports.users.by_id(id).await?.ok_or(AppError::NotFound)?;
        self.ensure_outranks(actor, id).await?;
        let mut activity = self.activity(actor, "user.status", ActivityTarget::new("users", id, &user.username));
        activity.details = serde_json::json!({ "from": user.status.key(), "to": status.key() });
        self.ports.users.set_status(id, status, Some(&activity)).await?;
        if !status.can_sign_in() {
            self.ports.sessions.delete_for_user(id, None).await?;
        }
        Ok(())
    }

    pub async fn delete_user(&self, actor: &Actor, id: i64) -> Result<(), AppError> {
        authorize(actor, Action::Delete, Target::One(ObjectType::User, id))?;
        if id == actor.user_id {
            return Err(AppError::conflict("own_account"));
        }
        self.ensure_not_last_admin(id).await?;
        let user = self.ports.users.by_id(id).await?.ok_or(AppError::NotFound)?;
        self.ensure_outranks(actor, id).await?;
        let activity = self.activity(actor, "user.delete", ActivityTarget::new("users", id, &user.username));
        self.ports.sessions.delete_for_user(id, None).await?;
        self.ports.users.delete(id, Some(&activity)).await?;
        Ok(())
    }

    /// Sets another user's password (an administrator helping someone).
    pub async fn set_user_password(&self, actor: &Actor, id: i64, password: &str) -> Result<(), AppError> {
        authorize(actor, Action::Update, Target::All(ObjectType::User))?;
        let user = self.ports.users.by_id(id).await?.ok_or(AppError::NotFound)?;
        self.ensure_outranks(actor, id).await?;
        if user.auth_backend != AuthBackend::Internal {
            return Err(AppError::conflict("external_account"));
        }
        validate::new_password(password, &user.username)?;
        let activity = self.activity(actor, "user.password_set", ActivityTarget::new("users", id, &user.username));
        self.ports.users.set_password_hash(id, &passwords::hash(password)?, Some(&activity)).await?;
        if user.status == UserStatus::EmailPending {
            self.ports.users.set_status(id, UserStatus::Active, None).await?;
        }
        self.ports.sessions.delete_for_user(id, None).await?;
        Ok(())
    }

    /// Changes one's own password; other sessions of the account end, the
    /// current one (`keep_token_hash`) stays.
    pub async fn change_own_password(
        &self,
        actor: &Actor,
        current: &str,
        new: &str,
        keep_token_hash: &str,
    ) -> Result<(), AppError> {
        let user = self.ports.users.by_id(actor.user_id).await?.ok_or(AppError::NotFound)?;
        let Some(hash) = user.password_hash.as_deref().filter(|_| user.auth_backend == AuthBackend::Internal) else {
            return Err(AppError::conflict("external_account"));
        };
        if !passwords::verify(current, hash) {
            return Err(AppError::invalid(
                "current_password",
                domain::error::Problem::Format { expected: "current_password".into() },
            ));
        }
        validate::new_password(new, &user.username)?;
        let activity =
            self.activity(actor, "user.password_change", ActivityTarget::new("users", user.id, &user.username));
        self.ports.users.set_password_hash(user.id, &passwords::hash(new)?, Some(&activity)).await?;
        self.ports.sessions.delete_for_user(user.id, Some(keep_token_hash)).await?;
        Ok(())
    }

    /// Creates or resets an administrator from the command line (`openvle user create`).
    /// There is no acting user: whoever can run the binary owns the installation.
    pub async fn bootstrap_user(&self, input: UserInput) -> Result<i64, AppError> {
        let username = validate::username(&input.username)?;
        validate::new_password(&input.password, &username)?;
        let hash = passwords::hash(&input.password)?;
        let mut role_ids = Vec::new();
        for key in &input.role_keys {
            let role = self
                .ports
                .roles
                .by_key(key)
                .await?
                .ok_or_else(|| AppError::invalid("roles", domain::error::Problem::Unknown))?;
            role_ids.push(role.id);
        }
        let id = match self.ports.users.by_username(&username).await? {
            Some(existing) => {
                let activity = self.system_activity(
                    ActorKind::System,
                    "user.password_set",
                    ActivityTarget::new("users", existing.id, &username),
                );
                self.ports.users.set_password_hash(existing.id, &hash, Some(&activity)).await?;
                self.ports.users.set_status(existing.id, UserStatus::Active, None).await?;
                existing.id
            }
            None => {
                let activity =
                    self.system_activity(ActorKind::System, "user.create", ActivityTarget::created("users", &username));
                self.ports
                    .users
                    .insert(
                        NewUser {
                            name: validate::line("name", &input.name, validate::NAME_MAX)?,
                            email: validate::email(&input.email)?,
                            language: language(&input.language)?,
                            username,
                            status: UserStatus::Active,
                            auth_backend: AuthBackend::Internal,
                            password_hash: Some(hash),
                            created_at: self.clock.now(),
                        },
                        Some(&activity),
                    )
                    .await?
            }
        };
        if !role_ids.is_empty() {
            self.ports.users.set_roles(id, &role_ids, None).await?;
        }
        Ok(id)
    }
}
