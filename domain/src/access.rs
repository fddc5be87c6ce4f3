//! Who may do what: the one authorization rule of OpenVLE.
//!
//! Permissions are data. A [`Grant`] gives an [`AccessLevel`] on either every
//! object of a type (model level, `object_id == None`) or on one object. Roles
//! carry model-level grants; object-level grants are given to users directly
//! (for example to the creator of an object). [`can`] is the only function
//! that answers "may this actor do this", and every service asks it.

use serde::{Deserialize, Serialize};

/// The kinds of objects permissions are about.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectType {
    User,
    Role,
    Policy,
    Setting,
    Activity,
    Task,
    Event,
    Environment,
    Template,
    Vm,
    Node,
    /// Vendors, operating systems and applications (granted as a whole).
    Catalogue,
}

impl ObjectType {
    pub const ALL: [ObjectType; 12] = [
        ObjectType::User,
        ObjectType::Role,
        ObjectType::Policy,
        ObjectType::Setting,
        ObjectType::Activity,
        ObjectType::Task,
        ObjectType::Event,
        ObjectType::Environment,
        ObjectType::Template,
        ObjectType::Vm,
        ObjectType::Node,
        ObjectType::Catalogue,
    ];

    /// Stable key used in storage and in permission keys (`events:full`).
    pub fn key(self) -> &'static str {
        match self {
            ObjectType::User => "users",
            ObjectType::Role => "roles",
            ObjectType::Policy => "policies",
            ObjectType::Setting => "settings",
            ObjectType::Activity => "activities",
            ObjectType::Task => "tasks",
            ObjectType::Event => "events",
            ObjectType::Environment => "environments",
            ObjectType::Template => "templates",
            ObjectType::Vm => "vms",
            ObjectType::Node => "nodes",
            ObjectType::Catalogue => "catalogue",
        }
    }

    pub fn from_key(key: &str) -> Option<ObjectType> {
        ObjectType::ALL.into_iter().find(|t| t.key() == key)
    }

    /// Whether single objects of this type can carry their own grants
    /// (settings, activities, tasks, nodes and the catalogue are only granted as a whole).
    pub fn has_object_grants(self) -> bool {
        !matches!(
            self,
            ObjectType::Setting | ObjectType::Activity | ObjectType::Task | ObjectType::Node | ObjectType::Catalogue
        )
    }
}

/// What a grant allows. Object-level grants use the first four (the product's
/// "Read", "Read & VM Control", "Read & Edit", "Full Access"); `Create` only
/// makes sense at model level.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccessLevel {
    Read,
    ReadVmControl,
    ReadEdit,
    Full,
    Create,
}

impl AccessLevel {
    pub const ALL: [AccessLevel; 5] =
        [AccessLevel::Read, AccessLevel::ReadVmControl, AccessLevel::ReadEdit, AccessLevel::Full, AccessLevel::Create];

    pub fn key(self) -> &'static str {
        match self {
            AccessLevel::Read => "read",
            AccessLevel::ReadVmControl => "read_vm_control",
            AccessLevel::ReadEdit => "read_edit",
            AccessLevel::Full => "full",
            AccessLevel::Create => "create",
        }
    }

    pub fn from_key(key: &str) -> Option<AccessLevel> {
        AccessLevel::ALL.into_iter().find(|l| l.key() == key)
    }

    pub fn allows(self, action: Action) -> bool {
        match self {
            AccessLevel::Read => action == Action::Read,
            AccessLevel::ReadVmControl => matches!(action, Action::Read | Action::Control),
            AccessLevel::ReadEdit => matches!(action, Action::Read | Action::Update),
            AccessLevel::Full => true,
            AccessLevel::Create => action == Action::Create,
        }
    }

    /// Levels that may be granted on objects of `object_type` at the given scope.
    pub fn valid_for(self, object_type: ObjectType, model_level: bool) -> bool {
        match self {
            AccessLevel::Create => model_level && object_type.has_object_grants(),
            AccessLevel::ReadVmControl => matches!(object_type, ObjectType::Vm | ObjectType::Event),
            _ => model_level || object_type.has_object_grants(),
        }
    }
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Read,
    Create,
    Update,
    Delete,
    /// Power actions on VMs (start, stop, reboot...).
    Control,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Grant {
    pub object_type: ObjectType,
    /// `None`: every object of the type.
    pub object_id: Option<i64>,
    pub level: AccessLevel,
}

impl Grant {
    pub fn model(object_type: ObjectType, level: AccessLevel) -> Grant {
        Grant { object_type, object_id: None, level }
    }

    pub fn object(object_type: ObjectType, object_id: i64, level: AccessLevel) -> Grant {
        Grant { object_type, object_id: Some(object_id), level }
    }

    /// Permission key in the form `events:full`, as shown on the Permissions page.
    pub fn key(&self) -> String {
        format!("{}:{}", self.object_type.key(), self.level.key())
    }

    pub fn parse_key(key: &str) -> Option<Grant> {
        let (object_type, level) = key.split_once(':')?;
        let grant = Grant::model(ObjectType::from_key(object_type)?, AccessLevel::from_key(level)?);
        grant.level.valid_for(grant.object_type, true).then_some(grant)
    }
}

/// What an action is aimed at.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// Every object of a type: listing all of them, or creating a new one.
    All(ObjectType),
    /// One object.
    One(ObjectType, i64),
}

/// The signed-in user as authorization sees them: every grant from their roles
/// and their own object-level grants, flattened.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Actor {
    pub user_id: i64,
    pub username: String,
    pub role_keys: Vec<String>,
    pub grants: Vec<Grant>,
    /// The request this actor acts through (copied into the activities it causes).
    #[serde(default)]
    pub origin: crate::activity::Origin,
}

/// The authorization rule.
///
/// * a model-level grant that allows the action covers every object of the type;
/// * an object-level grant covers that one object;
/// * everyone may read and update their own account (name, language, password);
///   what they may change there is limited by the account service.
pub fn can(actor: &Actor, action: Action, target: Target) -> bool {
    let (object_type, object_id) = match target {
        Target::All(t) => (t, None),
        Target::One(t, id) => (t, Some(id)),
    };
    if object_type == ObjectType::User
        && object_id == Some(actor.user_id)
        && matches!(action, Action::Read | Action::Update)
    {
        return true;
    }
    actor.grants.iter().any(|grant| {
        grant.object_type == object_type
            && grant.level.allows(action)
            && (grant.object_id.is_none() || grant.object_id == object_id)
    })
}

/// The roles every installation starts with. Their permissions are data and can
/// be changed afterwards; these are only the seed.
pub struct DefaultRole {
    pub key: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub grants: &'static [(ObjectType, AccessLevel)],
}

pub const ADMIN_ROLE: &str = "admin";
pub const INSTRUCTOR_ROLE: &str = "instructor";
pub const PARTICIPANT_ROLE: &str = "participant";

pub const DEFAULT_ROLES: &[DefaultRole] = &[
    DefaultRole {
        key: ADMIN_ROLE,
        name: "Administrator",
        description: "Full access to everything, including users, roles and settings.",
        grants: &[
            (ObjectType::User, AccessLevel::Full),
            (ObjectType::Role, AccessLevel::Full),
            (ObjectType::Policy, AccessLevel::Full),
            (ObjectType::Setting, AccessLevel::Full),
            (ObjectType::Activity, AccessLevel::Full),
            (ObjectType::Task, AccessLevel::Full),
            (ObjectType::Event, AccessLevel::Full),
            (ObjectType::Environment, AccessLevel::Full),
            (ObjectType::Template, AccessLevel::Full),
            (ObjectType::Vm, AccessLevel::Full),
            (ObjectType::Node, AccessLevel::Full),
            (ObjectType::Catalogue, AccessLevel::Full),
        ],
    },
    DefaultRole {
        key: INSTRUCTOR_ROLE,
        name: "Instructor",
        description: "Prepares and runs events: creates environments and events, adds participants.",
        grants: &[
            (ObjectType::User, AccessLevel::Read),
            (ObjectType::User, AccessLevel::Create),
            (ObjectType::Event, AccessLevel::Create),
            (ObjectType::Environment, AccessLevel::Create),
            // Instructors build events from any environment, not only their own.
            (ObjectType::Environment, AccessLevel::Read),
            (ObjectType::Template, AccessLevel::Read),
            // They pick operating systems and applications; administrators keep the catalogue.
            (ObjectType::Catalogue, AccessLevel::Read),
        ],
    },
    DefaultRole {
        key: PARTICIPANT_ROLE,
        name: "Participant",
        description: "Takes part in events and uses the VMs assigned to them.",
        grants: &[],
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(grants: Vec<Grant>) -> Actor {
        Actor { user_id: 7, username: "u".into(), role_keys: vec![], grants, origin: Default::default() }
    }

    #[test]
    fn model_grant_covers_every_object() {
        let a = actor(vec![Grant::model(ObjectType::Event, AccessLevel::ReadEdit)]);
        assert!(can(&a, Action::Update, Target::One(ObjectType::Event, 3)));
        assert!(can(&a, Action::Read, Target::All(ObjectType::Event)));
        assert!(!can(&a, Action::Delete, Target::One(ObjectType::Event, 3)));
        assert!(!can(&a, Action::Read, Target::All(ObjectType::Vm)));
    }

    #[test]
    fn object_grant_covers_only_its_object() {
        let a = actor(vec![Grant::object(ObjectType::Vm, 5, AccessLevel::ReadVmControl)]);
        assert!(can(&a, Action::Control, Target::One(ObjectType::Vm, 5)));
        assert!(!can(&a, Action::Control, Target::One(ObjectType::Vm, 6)));
        assert!(!can(&a, Action::Read, Target::All(ObjectType::Vm)));
        assert!(!can(&a, Action::Update, Target::One(ObjectType::Vm, 5)));
    }

    #[test]
    fn create_is_only_create() {
        let a = actor(vec![Grant::model(ObjectType::Event, AccessLevel::Create)]);
        assert!(can(&a, Action::Create, Target::All(ObjectType::Event)));
        assert!(!can(&a, Action::Read, Target::One(ObjectType::Event, 1)));
    }

    #[test]
    fn own_account_is_readable_and_editable() {
        let a = actor(vec![]);
        assert!(can(&a, Action::Update, Target::One(ObjectType::User, 7)));
        assert!(!can(&a, Action::Delete, Target::One(ObjectType::User, 7)));
        assert!(!can(&a, Action::Read, Target::One(ObjectType::User, 8)));
    }

    #[test]
    fn permission_keys_round_trip_and_reject_nonsense() {
        for t in ObjectType::ALL {
            for l in AccessLevel::ALL {
                let g = Grant::model(t, l);
                let parsed = Grant::parse_key(&g.key());
                assert_eq!(parsed.is_some(), l.valid_for(t, true), "{}", g.key());
            }
        }
        assert_eq!(Grant::parse_key("events"), None);
        assert_eq!(Grant::parse_key("bogus:full"), None);
        assert_eq!(Grant::parse_key("settings:create"), None);
    }

    #[test]
    fn default_roles_only_use_valid_levels() {
        for role in DEFAULT_ROLES {
            for (t, l) in role.grants {
                assert!(l.valid_for(*t, true), "{} {:?} {:?}", role.key, t, l);
            }
        }
    }
}
