//! Events and who takes part in them: participants with a per-event role,
//! user groups, and roster (CSV) imports.

use domain::access::{ObjectType, PARTICIPANT_ROLE};
use domain::activity::ActivityTarget;
use domain::classroom::{
    EventInput, EventRole, EventStatus, EventTab, EventView, GroupView, ParticipantView, RosterError, RosterPreview,
    RosterPreviewRow, RosterRow, can_on_event, parse_roster, validate_event,
};
use domain::error::Problem;
use domain::page::{Page, PageRequest};
use domain::{Action, Actor, AppError, AuthBackend, Target, UserStatus, can, validate};

use super::ports::{EventQuery, RosterOutcome};
use crate::ports::UserQuery;
use crate::{Services, authorize};

impl Services {
    /// The event as the actor may see it, or `NotFound` (also when they may
    /// not read it: an event's existence is not revealed by guessing ids).
    pub(super) async fn event_for(&self, actor: &Actor, id: i64, action: Action) -> Result<EventView, AppError> {
        let event = self.ports.events.by_id(id, actor.user_id).await?.ok_or(AppError::NotFound)?;
        if !can_on_event(actor, Action::Read, id, event.my_role) {
            return Err(AppError::NotFound);
        }
        if !can_on_event(actor, action, id, event.my_role) {
            return Err(AppError::Forbidden);
        }
        Ok(event)
    }

    /// The event, when the actor may change its participants and it still takes them.
    async fn event_taking_participants(&self, actor: &Actor, id: i64) -> Result<EventView, AppError> {
        let event = self.event_for(actor, id, Action::Update).await?;
        if !event.status.takes_participants() {
            return Err(AppError::conflict("event_over"));
        }
        Ok(event)
    }

    /// Planned, active or completed events: all of them for those who may
    /// read every event, otherwise those the actor takes part in.
    pub async fn list_events(
        &self,
        actor: &Actor,
        tab: EventTab,
        page: PageRequest,
    ) -> Result<Page<EventView>, AppError> {
        let member = if can(actor, Action::Read, Target::All(ObjectType::Event)) { None } else { Some(actor.user_id) };
        let query = EventQuery { statuses: tab.statuses().to_vec(), member };
        Ok(self.ports.events.list(&query, actor.user_id, page).await?)
    }

    pub async fn get_event(&self, actor: &Actor, id: i64) -> Result<EventView, AppError> {
        self.event_for(actor, id, Action::Read).await
    }

    async fn check_environment(&self, actor: &Actor, environment_id: i64) -> Result<(), AppError> {
        let readable = can(actor, Action::Read, Target::One(ObjectType::Environment, environment_id));
        if !readable || self.ports.environments.by_id(environment_id).await?.is_none() {
            return Err(AppError::invalid("environment_id", Problem::Unknown));
        }
        Ok(())
    }

    /// Creates a planned event; its creator becomes its instructor and event admin.
    pub async fn create_event(&self, actor: &Actor, input: &EventInput) -> Result<i64, AppError> {
        authorize(actor, Action::Create, Target::All(ObjectType::Event))?;
        let fields = validate_event(input, &self.time_zone_of(actor.user_id).await?, self.clock.now())?;
        self.check_environment(actor, fields.environment_id).await?;
        let activity = self.activity(actor, "event.create", ActivityTarget::created("events", &fields.name));
        let id = self.ports.events.insert(&fields, actor.user_id, self.clock.now(), Some(&activity)).await?;
        // Part of the creation recorded above.
        self.ports.events.put_participants(id, &[(actor.user_id, EventRole::Instructor)], None).await?;
        self.ports.events.set_event_admin(id, actor.user_id, true, None).await?;
        Ok(id)
    }

    /// Only planned events change: a deployed one has named VMs and a snapshot.
    pub async fn update_event(&self, actor: &Actor, id: i64, input: &EventInput) -> Result<(), AppError> {
        let event = self.event_for(actor, id, Action::Update).await?;
        let fields = validate_event(input, &self.time_zone_of(actor.user_id).await?, self.clock.now())?;
        if !event.status.is_editable() {
            return Err(AppError::conflict("event_not_planned"));
        }
        if fields.environment_id != event.environment_id {
            self.check_environment(actor, fields.environment_id).await?;
        }
        let activity = self.event_activity(actor, "event.update", ActivityTarget::new("events", id, &fields.name), id);
        self.ports.events.update_planned(id, &fields, Some(&activity)).await.map_err(|e| match e {
            crate::StoreError::NotFound => AppError::conflict("event_not_planned"),
            other => other.into(),
        })
    }

    /// Planned and finished events can be deleted; others still have VMs.
    pub async fn delete_event(&self, actor: &Actor, id: i64) -> Result<(), AppError> {
        let event = self.event_for(actor, id, Action::Delete).await?;
        if !matches!(event.status, EventStatus::Planned | EventStatus::Finished) {
            return Err(AppError::conflict("event_has_vms"));
        }
        let activity = self.event_activity(actor, "event.delete", ActivityTarget::new("events", id, &event.name), id);
        Ok(self.ports.events.delete(id, Some(&activity)).await?)
    }

    // ------------------------------------------------------------ participants

    /// The roster for those who manage the event; a participant gets their own row only
    /// (classmates' usernames are not theirs to see).
    pub async fn list_participants(&self, actor: &Actor, event_id: i64) -> Result<Vec<ParticipantView>, AppError> {
        let event = self.event_for(actor, event_id, Action::Read).await?;
        let mut participants = self.ports.events.participants(event_id).await?;
        if !can_on_event(actor, Action::Update, event_id, event.my_role) {
            participants.retain(|p| p.user_id == actor.user_id);
        }
        Ok(participants)
    }

    /// Adds existing accounts by username (or changes their role).
    pub async fn add_participants(
        &self,
        actor: &Actor,
        event_id: i64,
        usernames: &[String],
        role: EventRole,
    ) -> Result<(), AppError> {
        let event = self.event_taking_participants(actor, event_id).await?;
        let mut members = Vec::new();
        let mut unknown = Vec::new();
        for raw in usernames.iter().flat_map(|u| u.split([',', ' ', '\n'])).filter(|u| !u.trim().is_empty()) {
            let username = validate::username(raw)?;
            match self.ports.users.by_username(&username).await? {
                Some(user) => members.push((user.id, role)),
                None => unknown.push(username),
            }
        }
        // Nobody is added until every name is right: a half-applied list is
        // harder to correct than a refused one.
        if !unknown.is_empty() {
            return Err(AppError::invalid("usernames", Problem::NoSuchAccounts { usernames: unknown }));
        }
        if members.is_empty() {
            return Err(AppError::invalid("usernames", Problem::Required));
        }
        let mut activity = self.event_activity(
            actor,
            "event.participants_add",
            ActivityTarget::new("events", event_id, &event.name),
            event_id,
        );
        activity.details = serde_json::json!({ "usernames": usernames, "role": role.key() });
        Ok(self.ports.events.put_participants(event_id, &members, Some(&activity)).await?)
    }

    /// Creates an account (as the user administration does, role participant,
    /// invited by e-mail when no password is given) and adds it to the event.
    pub async fn create_participant(
        &self,
        actor: &Actor,
        event_id: i64,
        input: crate::accounts::UserInput,
        role: EventRole,
    ) -> Result<(), AppError> {
        self.event_taking_participants(actor, event_id).await?;
        let input = crate::accounts::UserInput { role_keys: vec![PARTICIPANT_ROLE.to_string()], ..input };
        // The account's creation is the activity, linked to the event.
        let user = self.create_user_recorded(actor, input, "event.participant_create", Some(event_id)).await?;
        // Part of the change recorded with the account.
        Ok(self.ports.events.put_participants(event_id, &[(user.id, role)], None).await?)
    }

    pub async fn remove_participant(&self, actor: &Actor, event_id: i64, user_id: i64) -> Result<(), AppError> {
        self.event_for(actor, event_id, Action::Update).await?;
        let target = self.user_target(user_id).await?;
        let activity = self.event_activity(actor, "event.participant_remove", target, event_id);
        Ok(self.ports.events.remove_participant(event_id, user_id, Some(&activity)).await?)
    }

    /// A user as an activity's target, by their username at the time.
    async fn user_target(&self, user_id: i64) -> Result<ActivityTarget, AppError> {
        let name = self.ports.users.by_id(user_id).await?.map(|u| u.username).unwrap_or_default();
        Ok(ActivityTarget::new("users", user_id, &name))
    }

    /// Event admins receive deployment and decommission failure notices.
    pub async fn set_event_admin(
        &self,
        actor: &Actor,
        event_id: i64,
        user_id: i64,
        admin: bool,
    ) -> Result<(), AppError> {
        self.event_for(actor, event_id, Action::Update).await?;
        if self.ports.events.role_of(event_id, user_id).await?.is_none() {
            return Err(AppError::NotFound);
        }
        let action = if admin { "event.admin_add" } else { "event.admin_remove" };
        let activity = self.event_activity(actor, action, self.user_target(user_id).await?, event_id);
        Ok(self.ports.events.set_event_admin(event_id, user_id, admin, Some(&activity)).await?)
    }

    /// Adds every member of a group to the event (later group changes do not
    /// follow: the roster is the event's own).
    pub async fn add_group_to_event(
        &self,
        actor: &Actor,
        event_id: i64,
        group_id: i64,
        role: EventRole,
    ) -> Result<(), AppError> {
        self.event_taking_participants(actor, event_id).await?;
        authorize(actor, Action::Read, Target::All(ObjectType::User))?;
        let group =
            self.ports.groups.by_id(group_id).await?.ok_or_else(|| AppError::invalid("group_id", Problem::Unknown))?;
        let members: Vec<_> =
            self.ports.groups.members(group_id).await?.into_iter().map(|(id, _)| (id, role)).collect();
        let mut activity = self.event_activity(
            actor,
            "event.group_add",
            ActivityTarget::new("groups", group_id, &group.name),
            event_id,
        );
        activity.details = serde_json::json!({ "members": members.len(), "role": role.key() });
        Ok(self.ports.events.put_participants(event_id, &members, Some(&activity)).await?)
    }

    /// Checks a roster without changing anything.
    pub async fn preview_roster(&self, actor: &Actor, event_id: i64, csv: &str) -> Result<RosterPreview, AppError> {
        self.event_taking_participants(actor, event_id).await?;
        authorize(actor, Action::Create, Target::All(ObjectType::User))?;
        if csv.len() > 1_000_000 {
            return Err(AppError::invalid("csv", Problem::TooLong { max: 1_000_000 }));
        }
        let (rows, mut errors) = parse_roster(csv);
        let participants = self.ports.events.participants(event_id).await?;
        let mut preview = Vec::new();
        for row in rows {
            let existing = self.ports.users.by_username(&row.username).await?;
            if existing.is_none() {
                let query = UserQuery { text: Some(row.email.clone()), ..UserQuery::default() };
                let same_mail = self.ports.users.search(&query, PageRequest::new(Some(1), Some(5))).await?;
                if same_mail.items.iter().any(|u| u.email == row.email) {
                    errors.push(RosterError { line: row.line, error: AppError::invalid("email", Problem::Taken) });
                    continue;
                }
            }
            let already_participant = existing.as_ref().is_some_and(|u| participants.iter().any(|p| p.user_id == u.id));
            preview.push(RosterPreviewRow { row, existing: existing.is_some(), already_participant });
        }
        errors.sort_by_key(|e| e.line);
        if preview.is_empty() && errors.is_empty() {
            return Err(AppError::invalid("csv", Problem::Required));
        }
        Ok(RosterPreview { rows: preview, errors })
    }

    /// Imports a roster: all lines or none. A roster with any bad line is
    /// refused whole; importing the same roster again changes nothing.
    ///
    /// Accounts it creates are invited by mail like those an administrator
    /// creates: after the import has committed (a mail that cannot be queued
    /// must not undo the roster), once per account (the invitation's key). A
    /// row whose account still waits for its invitation gets it on every
    /// import, so importing again after a failure here sends what is missing.
    pub async fn import_roster(&self, actor: &Actor, event_id: i64, csv: &str) -> Result<RosterOutcome, AppError> {
        let preview = self.preview_roster(actor, event_id, csv).await?;
        if !preview.errors.is_empty() {
            return Err(AppError::conflict("roster_has_errors"));
        }
        let role = self
            .ports
            .roles
            .by_key(PARTICIPANT_ROLE)
            .await?
            .ok_or_else(|| crate::ports::internal("roster import", &"participant role missing"))?;
        let rows: Vec<RosterRow> = preview.rows.into_iter().map(|r| r.row).collect();
        let event = self.ports.events.by_id(event_id, actor.user_id).await?.ok_or(AppError::NotFound)?;
        let mut activity = self.event_activity(
            actor,
            "event.roster_import",
            ActivityTarget::new("events", event_id, &event.name),
            event_id,
        );
        activity.details = serde_json::json!({ "lines": rows.len() });
        let outcome =
            self.ports.events.import_roster(event_id, &rows, role.id, self.clock.now(), Some(&activity)).await?;
        let mut not_queued = 0;
        for row in &rows {
            if let Err(e) = self.invite_if_waiting(&row.username).await {
                tracing::warn!(username = %row.username, error = %e, "roster invitation not queued");
                not_queued += 1;
            }
        }
        if not_queued > 0 {
            return Err(AppError::conflict("invitations_not_queued"));
        }
        Ok(outcome)
    }

    /// Invites the account `username` when it is a local one that has never
    /// had a password (created without one, by a roster or an administrator).
    async fn invite_if_waiting(&self, username: &str) -> Result<(), AppError> {
        let Some(user) = self.ports.users.by_username(username).await? else { return Ok(()) };
        let waiting = user.status == UserStatus::EmailPending
            && user.auth_backend == AuthBackend::Internal
            && user.password_hash.is_none();
        if waiting {
            self.invite(user.id).await?;
        }
        Ok(())
    }

    // ------------------------------------------------------------------ groups

    pub async fn list_groups(&self, actor: &Actor) -> Result<Vec<GroupView>, AppError> {
        authorize(actor, Action::Read, Target::All(ObjectType::User))?;
        Ok(self.ports.groups.list().await?)
    }

    /// (id, username) of a group's members.
    pub async fn group_members(&self, actor: &Actor, group_id: i64) -> Result<Vec<(i64, String)>, AppError> {
        authorize(actor, Action::Read, Target::All(ObjectType::User))?;
        self.ports.groups.by_id(group_id).await?.ok_or(AppError::NotFound)?;
        Ok(self.ports.groups.members(group_id).await?)
    }

    /// Groups are lists of accounts: whoever may create accounts may keep them.
    pub async fn create_group(&self, actor: &Actor, name: &str, description: &str) -> Result<i64, AppError> {
        authorize(actor, Action::Create, Target::All(ObjectType::User))?;
        let name = validate::line("name", name, validate::NAME_MAX)?;
        let description = validate::text("description", description, validate::DESCRIPTION_MAX)?;
        let activity = self.activity(actor, "group.create", ActivityTarget::created("groups", &name));
        Ok(self.ports.groups.insert(&name, &description, Some(&activity)).await?)
    }

    pub async fn delete_group(&self, actor: &Actor, group_id: i64) -> Result<(), AppError> {
        authorize(actor, Action::Create, Target::All(ObjectType::User))?;
        let group = self.ports.groups.by_id(group_id).await?.ok_or(AppError::NotFound)?;
        let activity = self.activity(actor, "group.delete", ActivityTarget::new("groups", group_id, &group.name));
        Ok(self.ports.groups.delete(group_id, Some(&activity)).await?)
    }

    pub async fn add_group_member(&self, actor: &Actor, group_id: i64, username: &str) -> Result<(), AppError> {
        authorize(actor, Action::Create, Target::All(ObjectType::User))?;
        let group = self.ports.groups.by_id(group_id).await?.ok_or(AppError::NotFound)?;
        let username = validate::username(username)?;
        let user = self
            .ports
            .users
            .by_username(&username)
            .await?
            .ok_or_else(|| AppError::invalid("username", Problem::Unknown))?;
        let mut activity =
            self.activity(actor, "group.member_add", ActivityTarget::new("groups", group_id, &group.name));
        activity.details = serde_json::json!({ "user_id": user.id, "username": user.username });
        Ok(self.ports.groups.add_member(group_id, user.id, Some(&activity)).await?)
    }

    pub async fn remove_group_member(&self, actor: &Actor, group_id: i64, user_id: i64) -> Result<(), AppError> {
        authorize(actor, Action::Create, Target::All(ObjectType::User))?;
        let group = self.ports.groups.by_id(group_id).await?.ok_or(AppError::NotFound)?;
        let mut activity =
            self.activity(actor, "group.member_remove", ActivityTarget::new("groups", group_id, &group.name));
        activity.details = serde_json::json!({ "user_id": user_id });
        Ok(self.ports.groups.remove_member(group_id, user_id, Some(&activity)).await?)
    }
}
