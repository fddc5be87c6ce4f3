//! The classroom: VM templates, environments (sets of templates), events
//! (an environment given to participants for a time), their participants and
//! the VMs deployed for them. Plain types, validation, the event status
//! machine and the access rules that depend on event membership.

use serde::{Deserialize, Serialize};

use crate::access::{Action, Actor, ObjectType, Target, can};
use crate::error::{AppError, Problem};
use crate::time::Timestamp;
use crate::user::Language;
use crate::validate;

// ---------------------------------------------------------------- templates

/// How a participant reaches a VM through Guacamole (a connection template's protocol).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Protocol {
    Rdp,
    Ssh,
    Vnc,
}

impl Protocol {
    pub const ALL: [Protocol; 3] = [Protocol::Rdp, Protocol::Ssh, Protocol::Vnc];

    pub fn key(self) -> &'static str {
        match self {
            Protocol::Rdp => "rdp",
            Protocol::Ssh => "ssh",
            Protocol::Vnc => "vnc",
        }
    }

    pub fn from_key(key: &str) -> Option<Protocol> {
        Protocol::ALL.into_iter().find(|p| p.key() == key)
    }

    /// The port used when none is given (SPEC: 22 SSH, 3389 RDP; 5900 VNC).
    pub fn default_port(self) -> u16 {
        match self {
            Protocol::Rdp => 3389,
            Protocol::Ssh => 22,
            Protocol::Vnc => 5900,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Protocol::Rdp => "RDP",
            Protocol::Ssh => "SSH",
            Protocol::Vnc => "VNC",
        }
    }
}

/// A VM template as lists and forms show it. The connection password is
/// never part of it, only whether one is set.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VmTemplateView {
    pub id: i64,
    pub name: String,
    /// Markdown.
    pub description: String,
    pub operating_system: String,
    /// The Proxmox template VM cloned for participants, and its node.
    pub proxmox_vmid: u32,
    pub node: String,
    pub cores: u32,
    pub memory_mib: u32,
    pub disk_gib: u32,
    pub linked_clone: bool,
    /// What Connect opens for VMs of this template.
    pub console: Console,
    /// Whether the last sync found the template VM in the cluster's pool
    /// (`None`: not checked yet), and when.
    pub on_cluster: Option<bool>,
    pub synced_at: Option<Timestamp>,
}

/// A template's fields after validation.
#[derive(Clone, Debug, PartialEq)]
pub struct TemplateFields {
    pub name: String,
    pub description: String,
    pub operating_system: String,
    pub proxmox_vmid: u32,
    pub node: String,
    pub cores: u32,
    pub memory_mib: u32,
    pub disk_gib: u32,
    pub linked_clone: bool,
    pub console: Console,
}

/// The template form as typed (numbers still text).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TemplateInput {
    pub name: String,
    pub description: String,
    pub operating_system: String,
    pub proxmox_vmid: String,
    pub node: String,
    pub cores: String,
    pub memory_mib: String,
    pub disk_gib: String,
    pub linked_clone: bool,
    /// `builtin` or `guacamole`.
    pub console: String,
}

pub const MARKDOWN_MAX: usize = 20_000;
/// Proxmox accepts VMIDs from 100 up to 999 999 999.
pub const VMID_MIN: i64 = 100;
pub const VMID_MAX: i64 = 999_999_999;

fn number(field: &str, raw: &str, min: i64, max: i64) -> Result<i64, AppError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(AppError::invalid(field, Problem::Required));
    }
    let value: i64 =
        raw.parse().map_err(|_| AppError::invalid(field, Problem::Format { expected: "number".into() }))?;
    if !(min..=max).contains(&value) {
        return Err(AppError::invalid(field, Problem::OutOfRange { min, max }));
    }
    Ok(value)
}

/// Proxmox node names: letters, digits and `-` (a host name label).
pub fn node_name(raw: &str) -> Result<String, AppError> {
    let value = raw.trim().to_string();
    if value.is_empty() {
        return Err(AppError::invalid("node", Problem::Required));
    }
    if value.len() > 63 || !value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(AppError::invalid("node", Problem::Format { expected: "node".into() }));
    }
    Ok(value)
}

pub fn validate_template(input: &TemplateInput) -> Result<TemplateFields, AppError> {
    let console =
        Console::from_key(input.console.trim()).ok_or_else(|| AppError::invalid("console", Problem::Unknown))?;
    let in_range = |field, raw: &str, min, max| number(field, raw, min, max).map(|v| u32::try_from(v).unwrap_or(0));
    Ok(TemplateFields {
        name: validate::line("name", &input.name, validate::NAME_MAX)?,
        description: validate::text("description", &input.description, MARKDOWN_MAX)?,
        operating_system: validate::text("operating_system", &input.operating_system, validate::NAME_MAX)?,
        proxmox_vmid: in_range("proxmox_vmid", &input.proxmox_vmid, VMID_MIN, VMID_MAX)?,
        node: node_name(&input.node)?,
        cores: in_range("cores", &input.cores, 1, 512)?,
        memory_mib: in_range("memory_mib", &input.memory_mib, 16, 4_194_304)?,
        disk_gib: in_range("disk_gib", &input.disk_gib, 0, 65_536)?,
        linked_clone: input.linked_clone,
        console,
    })
}

/// What the Connect button of a VM opens.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Console {
    /// The built-in noVNC console relayed through OpenVLE (needs no Guacamole).
    Builtin,
    /// The VM's connection in Apache Guacamole, signed in by OpenVLE.
    Guacamole,
}

impl Console {
    pub const ALL: [Console; 2] = [Console::Builtin, Console::Guacamole];

    pub fn key(self) -> &'static str {
        match self {
            Console::Builtin => "builtin",
            Console::Guacamole => "guacamole",
        }
    }

    pub fn from_key(key: &str) -> Option<Console> {
        Console::ALL.into_iter().find(|c| c.key() == key)
    }
}

// ----------------------------------------------------- connection templates

/// How Guacamole negotiates RDP security with the VM (Guacamole's `security`).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RdpSecurity {
    /// Server and client agree.
    #[default]
    Any,
    Nla,
    Tls,
    Rdp,
}

impl RdpSecurity {
    pub const ALL: [RdpSecurity; 4] = [RdpSecurity::Any, RdpSecurity::Nla, RdpSecurity::Tls, RdpSecurity::Rdp];

    pub fn key(self) -> &'static str {
        match self {
            RdpSecurity::Any => "any",
            RdpSecurity::Nla => "nla",
            RdpSecurity::Tls => "tls",
            RdpSecurity::Rdp => "rdp",
        }
    }

    pub fn from_key(key: &str) -> Option<RdpSecurity> {
        RdpSecurity::ALL.into_iter().find(|s| s.key() == key)
    }
}

/// What a connection template belongs to.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionBinding {
    /// Every VM cloned from this template (taken into an event's snapshot when it deploys).
    Template(i64),
    /// One deployed VM; used instead of its template's connection templates.
    Vm(i64),
}

/// A connection template as lists show it: the password is never part of it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConnectionTemplateView {
    pub id: i64,
    pub binding: ConnectionBinding,
    pub protocol: Protocol,
    pub port: u16,
    pub username: String,
    pub password_set: bool,
    pub rdp_security: RdpSecurity,
    pub ignore_cert: bool,
    pub created_at: Timestamp,
}

/// The connection template form as typed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ConnectionTemplateInput {
    pub protocol: String,
    /// Empty: the protocol's default port.
    pub port: String,
    pub username: String,
    pub password: String,
    /// Empty: `any`. Only used by RDP.
    pub rdp_security: String,
    pub ignore_cert: bool,
}

/// A connection template after validation (the password still in clear
/// text; the service seals it before storing).
#[derive(Clone, PartialEq)]
pub struct ConnectionTemplateFields {
    pub protocol: Protocol,
    pub port: u16,
    pub username: String,
    /// Empty: none (VNC servers and key-based SSH may need none).
    pub password: String,
    pub rdp_security: RdpSecurity,
    pub ignore_cert: bool,
}

impl std::fmt::Debug for ConnectionTemplateFields {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectionTemplateFields")
            .field("protocol", &self.protocol)
            .field("port", &self.port)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("rdp_security", &self.rdp_security)
            .field("ignore_cert", &self.ignore_cert)
            .finish()
    }
}

pub fn validate_connection_template(input: &ConnectionTemplateInput) -> Result<ConnectionTemplateFields, AppError> {
    let protocol =
        Protocol::from_key(input.protocol.trim()).ok_or_else(|| AppError::invalid("protocol", Problem::Unknown))?;
    let port = if input.port.trim().is_empty() {
        protocol.default_port()
    } else {
        u16::try_from(number("port", &input.port, 1, 65_535)?).unwrap_or(protocol.default_port())
    };
    let username = input.username.trim().to_string();
    if username.chars().count() > validate::USERNAME_MAX {
        return Err(AppError::invalid("conn_username", Problem::TooLong { max: validate::USERNAME_MAX }));
    }
    if username.chars().any(char::is_control) {
        return Err(AppError::invalid("conn_username", Problem::Format { expected: "single_line".into() }));
    }
    if input.password.chars().count() > validate::PASSWORD_MAX {
        return Err(AppError::invalid("conn_password", Problem::TooLong { max: validate::PASSWORD_MAX }));
    }
    let rdp_security = match input.rdp_security.trim() {
        "" => RdpSecurity::Any,
        key => RdpSecurity::from_key(key).ok_or_else(|| AppError::invalid("rdp_security", Problem::Unknown))?,
    };
    Ok(ConnectionTemplateFields {
        protocol,
        port,
        username,
        password: input.password.clone(),
        rdp_security,
        ignore_cert: input.ignore_cert,
    })
}

/// One Guacamole connection deployment made for a VM, as the VM page shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VmConnectionView {
    /// The connection's name in Guacamole (contains the event's name).
    pub name: String,
    /// Guacamole's identifier once created.
    pub remote_id: Option<String>,
    /// The VM address the connection points at.
    pub hostname: Option<String>,
    /// Whether the VM's owner may open it (the event is active).
    pub granted: bool,
    /// Guacamole's answer to the last failed attempt (retried by the job).
    pub last_error: Option<String>,
    pub updated_at: Timestamp,
}

// ------------------------------------------------------------- environments

/// One template of an environment and how many VMs of it each participant gets.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EnvironmentEntry {
    pub template_id: i64,
    pub template_name: String,
    pub count: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EnvironmentView {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub templates: Vec<EnvironmentEntry>,
    /// Events (of any status) that use the environment.
    pub event_count: u64,
}

/// At most this many VMs of one template per participant.
pub const COUNT_MAX: u32 = 20;

/// Parses "template id → count" pairs from a form; a count of 0 (or empty)
/// leaves the template out, a missing count means 1.
pub fn environment_entries(pairs: &[(i64, String)]) -> Result<Vec<(i64, u32)>, AppError> {
    let mut out: Vec<(i64, u32)> = Vec::new();
    for (template_id, raw) in pairs {
        let count = if raw.trim().is_empty() {
            1
        } else {
            u32::try_from(number("count", raw, 0, i64::from(COUNT_MAX))?).unwrap_or(1)
        };
        if count == 0 {
            continue;
        }
        match out.iter_mut().find(|(id, _)| id == template_id) {
            Some(entry) => entry.1 = count,
            None => out.push((*template_id, count)),
        }
    }
    Ok(out)
}

// ------------------------------------------------------------------- events

/// Where an event is in its life.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventStatus {
    /// Created, not deployed: edits to its environment still apply.
    Planned,
    /// VMs are being cloned and started (the environment was snapshotted).
    Deploying,
    /// Every VM is deployed; participants work.
    Running,
    /// The end has passed: the transition period before the VMs are deleted.
    Ending,
    /// VMs, connections and related resources are being deleted.
    Decommissioning,
    /// Nothing of the event is left on the cluster.
    Finished,
    /// Deployment or decommissioning failed; `failure_reason` says why.
    Failed,
}

/// The three event lists.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventTab {
    Planned,
    Active,
    Completed,
}

impl EventTab {
    pub const ALL: [EventTab; 3] = [EventTab::Planned, EventTab::Active, EventTab::Completed];

    pub fn key(self) -> &'static str {
        match self {
            EventTab::Planned => "planned",
            EventTab::Active => "active",
            EventTab::Completed => "completed",
        }
    }

    pub fn from_key(key: &str) -> Option<EventTab> {
        EventTab::ALL.into_iter().find(|t| t.key() == key)
    }

    pub fn statuses(self) -> &'static [EventStatus] {
        match self {
            EventTab::Planned => &[EventStatus::Planned],
            EventTab::Active => &[
                EventStatus::Deploying,
                EventStatus::Running,
                EventStatus::Ending,
                EventStatus::Decommissioning,
                EventStatus::Failed,
            ],
            EventTab::Completed => &[EventStatus::Finished],
        }
    }
}

impl EventStatus {
    pub const ALL: [EventStatus; 7] = [
        EventStatus::Planned,
        EventStatus::Deploying,
        EventStatus::Running,
        EventStatus::Ending,
        EventStatus::Decommissioning,
        EventStatus::Finished,
        EventStatus::Failed,
    ];

    pub fn key(self) -> &'static str {
        match self {
            EventStatus::Planned => "planned",
            EventStatus::Deploying => "deploying",
            EventStatus::Running => "running",
            EventStatus::Ending => "ending",
            EventStatus::Decommissioning => "decommissioning",
            EventStatus::Finished => "finished",
            EventStatus::Failed => "failed",
        }
    }

    pub fn from_key(key: &str) -> Option<EventStatus> {
        EventStatus::ALL.into_iter().find(|s| s.key() == key)
    }

    pub fn tab(self) -> EventTab {
        match self {
            EventStatus::Planned => EventTab::Planned,
            EventStatus::Finished => EventTab::Completed,
            _ => EventTab::Active,
        }
    }

    /// The allowed moves. Deploying again from `running` adds VMs for
    /// participants added later; from `failed` it retries; `running` may go
    /// straight to decommissioning ("End now"); a failed decommission is
    /// retried. Nothing leaves `finished`.
    pub fn can_move_to(self, next: EventStatus) -> bool {
        use EventStatus::*;
        matches!(
            (self, next),
            (Planned, Deploying)
                | (Deploying, Running)
                | (Deploying, Failed)
                | (Running, Deploying)
                | (Running, Ending)
                | (Running, Decommissioning)
                | (Running, Failed)
                | (Ending, Decommissioning)
                | (Ending, Running)
                | (Decommissioning, Finished)
                | (Decommissioning, Failed)
                | (Failed, Deploying)
                | (Failed, Decommissioning)
                // Back to planning: only when nothing reached the cluster.
                | (Failed, Planned)
        )
    }

    /// Whether the event's short name is still reserved (finished events free it).
    pub fn holds_short_name(self) -> bool {
        self != EventStatus::Finished
    }

    /// Whether name, dates and environment may still change: after deployment
    /// the VMs are named and the snapshot is taken.
    pub fn is_editable(self) -> bool {
        self == EventStatus::Planned
    }

    /// Whether people may still join: once the end has passed, the VMs are
    /// going or gone, and a participant added then would get nothing.
    pub fn takes_participants(self) -> bool {
        !matches!(self, EventStatus::Ending | EventStatus::Decommissioning | EventStatus::Finished)
    }

    /// Whether the environment snapshot has been taken.
    pub fn has_snapshot(self) -> bool {
        self != EventStatus::Planned
    }
}

/// A participant's role in one event.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventRole {
    Instructor,
    Student,
}

impl EventRole {
    pub const ALL: [EventRole; 2] = [EventRole::Instructor, EventRole::Student];

    pub fn key(self) -> &'static str {
        match self {
            EventRole::Instructor => "instructor",
            EventRole::Student => "student",
        }
    }

    pub fn from_key(key: &str) -> Option<EventRole> {
        EventRole::ALL.into_iter().find(|r| r.key() == key)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EventView {
    pub id: i64,
    pub name: String,
    pub short_name: String,
    pub description: String,
    pub environment_id: i64,
    pub environment_name: String,
    pub starts_at: Timestamp,
    /// `None`: runs until ended by hand.
    pub ends_at: Option<Timestamp>,
    pub status: EventStatus,
    pub failure_reason: Option<String>,
    pub participant_count: u64,
    /// The viewer's role in the event, if they take part.
    pub my_role: Option<EventRole>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ParticipantView {
    pub user_id: i64,
    pub username: String,
    pub name: String,
    pub email: String,
    pub role: EventRole,
    /// Receives deployment and decommission failure notices.
    pub event_admin: bool,
}

/// Another unfinished event at the same time with students in common
/// (shown as a warning; see `services::classroom::overlaps`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EventOverlap {
    pub event_id: i64,
    pub name: String,
    pub starts_at: Timestamp,
    pub ends_at: Option<Timestamp>,
    /// Usernames of the students in both.
    pub shared: Vec<String>,
}

/// The event form as typed. Dates are `YYYY-MM-DDTHH:MM` (an HTML
/// `datetime-local` value) in the person's time zone ([`crate::zone`]).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EventInput {
    pub name: String,
    pub short_name: String,
    pub description: String,
    pub environment_id: Option<i64>,
    pub starts_at: String,
    pub ends_at: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct EventFields {
    pub name: String,
    pub short_name: String,
    pub description: String,
    pub environment_id: i64,
    pub starts_at: Timestamp,
    pub ends_at: Option<Timestamp>,
}

/// 4–8 of `[a-z0-9_-]`; it becomes part of every VM name.
pub fn short_name(raw: &str) -> Result<String, AppError> {
    let value = raw.trim().to_string();
    if value.is_empty() {
        return Err(AppError::invalid("short_name", Problem::Required));
    }
    if value.chars().count() < 4 {
        return Err(AppError::invalid("short_name", Problem::TooShort { min: 4 }));
    }
    if value.chars().count() > 8 {
        return Err(AppError::invalid("short_name", Problem::TooLong { max: 8 }));
    }
    if !value.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-') {
        return Err(AppError::invalid("short_name", Problem::Format { expected: "short_name".into() }));
    }
    Ok(value)
}

/// Checks the form; its times are read in `time_zone` (an IANA name). An end
/// that has passed by `now` is refused: such an event would be deployed and
/// removed again at once. (A start in the past is fine: the event starts now.)
pub fn validate_event(input: &EventInput, time_zone: &str, now: Timestamp) -> Result<EventFields, AppError> {
    let name = validate::line("name", &input.name, validate::NAME_MAX)?;
    let short_name = short_name(&input.short_name)?;
    let description = validate::text("description", &input.description, MARKDOWN_MAX)?;
    let environment_id = input.environment_id.ok_or_else(|| AppError::invalid("environment_id", Problem::Required))?;
    if input.starts_at.trim().is_empty() {
        return Err(AppError::invalid("starts_at", Problem::Required));
    }
    let starts_at = crate::zone::parse_in("starts_at", &input.starts_at, time_zone)?;
    let ends_at = if input.ends_at.trim().is_empty() {
        None
    } else {
        Some(crate::zone::parse_in("ends_at", &input.ends_at, time_zone)?)
    };
    if ends_at.is_some_and(|end| end <= starts_at) {
        return Err(AppError::invalid("ends_at", Problem::Format { expected: "after_start".into() }));
    }
    if ends_at.is_some_and(|end| end <= now) {
        return Err(AppError::invalid("ends_at", Problem::Format { expected: "future".into() }));
    }
    Ok(EventFields { name, short_name, description, environment_id, starts_at, ends_at })
}

// ---------------------------------------------------------------------- VMs

/// A deployed VM's state as OpenVLE records it (the provisioning engine and
/// the status sync write it).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VmState {
    /// Planned, not yet cloned.
    Pending,
    Cloning,
    Starting,
    Running,
    Paused,
    Stopped,
    Deleting,
    /// The last operation failed; `last_error` has Proxmox's message.
    Failed,
}

impl VmState {
    pub const ALL: [VmState; 8] = [
        VmState::Pending,
        VmState::Cloning,
        VmState::Starting,
        VmState::Running,
        VmState::Paused,
        VmState::Stopped,
        VmState::Deleting,
        VmState::Failed,
    ];

    pub fn key(self) -> &'static str {
        match self {
            VmState::Pending => "pending",
            VmState::Cloning => "cloning",
            VmState::Starting => "starting",
            VmState::Running => "running",
            VmState::Paused => "paused",
            VmState::Stopped => "stopped",
            VmState::Deleting => "deleting",
            VmState::Failed => "failed",
        }
    }

    pub fn from_key(key: &str) -> Option<VmState> {
        VmState::ALL.into_iter().find(|s| s.key() == key)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VmView {
    pub id: i64,
    pub event_id: i64,
    pub event_name: String,
    pub event_short_name: String,
    pub owner_id: i64,
    pub owner_username: String,
    /// The template (as snapshotted in the event) the VM was cloned from.
    pub template_id: i64,
    pub template_name: String,
    /// What Connect opens (the template's choice, as snapshotted).
    pub console: Console,
    /// `<shortname>-<username>-<template>`, sanitised by the engine.
    pub name: String,
    /// Which of the participant's copies of the template (1-based).
    pub ordinal: u32,
    /// CPU cores and memory of the template it was cloned from (the event's snapshot).
    pub cores: Option<u32>,
    pub memory_mib: Option<u32>,
    pub vmid: Option<u32>,
    pub node: Option<String>,
    pub state: VmState,
    pub ip: Option<String>,
    pub last_error: Option<String>,
    pub updated_at: Timestamp,
    /// Seconds since the guest started, as the cluster reports it now
    /// (`None`: stopped, or the cluster could not be asked).
    #[serde(default)]
    pub uptime_secs: Option<u64>,
}

/// `3 d 4 h`, `4 h 12 min`, `12 min`: an uptime at a glance.
pub fn format_uptime(secs: u64) -> String {
    let (days, hours, minutes) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60);
    match (days, hours) {
        (0, 0) => format!("{minutes} min"),
        (0, _) => format!("{hours} h {minutes} min"),
        _ => format!("{days} d {hours} h"),
    }
}

/// What decides access to one VM besides the actor's grants.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct VmFacts {
    pub vm_id: i64,
    pub owner_id: i64,
    pub event_id: i64,
}

// ------------------------------------------------------------------ access

/// May `actor` do `action` on event `event_id`, in which they hold
/// `role` (if any)? Grants first (administrators hold them at model level;
/// creators at object level), then membership: an event's instructors manage
/// it (read, edit, participants, deploy, end, delete), students read it.
pub fn can_on_event(actor: &Actor, action: Action, event_id: i64, role: Option<EventRole>) -> bool {
    can(actor, action, Target::One(ObjectType::Event, event_id))
        || match role {
            Some(EventRole::Instructor) => action != Action::Create,
            Some(EventRole::Student) => action == Action::Read,
            None => false,
        }
}

/// May `actor` do `action` on a VM? Its owner gets Read & VM Control, the
/// event's instructors too (and whoever holds Read & VM Control on the
/// event); anything more needs a grant on VMs (administrators).
pub fn can_on_vm(actor: &Actor, action: Action, vm: VmFacts, event_role: Option<EventRole>) -> bool {
    let read_or_control = matches!(action, Action::Read | Action::Control);
    can(actor, action, Target::One(ObjectType::Vm, vm.vm_id))
        || (read_or_control && vm.owner_id == actor.user_id)
        || (read_or_control && event_role == Some(EventRole::Instructor))
        || (read_or_control && can(actor, action, Target::One(ObjectType::Event, vm.event_id)))
}

/// One event of the student's home page with the student's own VMs in it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MyEvent {
    pub event: EventView,
    pub vms: Vec<VmView>,
    /// What to tell the student when the VMs cannot be used (yet, or any more).
    pub note: Option<EventNote>,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventNote {
    /// The start is still ahead.
    NotStarted,
    /// Started (or due) but the VMs are not ready yet.
    Preparing,
    /// The end has passed: the VMs are about to be removed.
    Ended,
}

impl EventNote {
    pub fn for_event(event: &EventView, now: Timestamp) -> Option<EventNote> {
        match event.status {
            EventStatus::Planned if event.starts_at > now => Some(EventNote::NotStarted),
            EventStatus::Planned | EventStatus::Deploying => Some(EventNote::Preparing),
            EventStatus::Ending | EventStatus::Decommissioning | EventStatus::Finished => Some(EventNote::Ended),
            _ if event.ends_at.is_some_and(|end| end <= now) => Some(EventNote::Ended),
            _ => None,
        }
    }
}

/// A named list of accounts, added to events as a whole.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupView {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub member_count: u64,
}

// ------------------------------------------------------------------ rosters

/// The columns of a roster CSV file, in this order; a header line naming them
/// is optional. `role` is `student` (default when empty) or `instructor`;
/// `language` (optional: `en`, the default, or `de`) is the language of the
/// account created for an unknown user, and so of its invitation mail.
pub const ROSTER_COLUMNS: [&str; 5] = ["username", "name", "email", "role", "language"];

/// One line of a roster: a person to add to an event (created when unknown).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RosterRow {
    /// 1-based line number in the file.
    pub line: usize,
    pub username: String,
    pub name: String,
    pub email: String,
    pub role: EventRole,
    /// Only used when the account is created; existing accounts keep theirs.
    pub language: Language,
}

/// A roster line that cannot be imported, and why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RosterError {
    pub line: usize,
    pub error: AppError,
}

/// A roster as it would be imported: every good row (and whether its user
/// exists already) and every bad line with its reason.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RosterPreview {
    pub rows: Vec<RosterPreviewRow>,
    pub errors: Vec<RosterError>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RosterPreviewRow {
    pub row: RosterRow,
    /// The account exists; it is added as it is (its name and e-mail are not changed).
    pub existing: bool,
    pub already_participant: bool,
}

/// A role in an event that is neither `student` nor `instructor`.
pub fn event_role_unknown() -> AppError {
    AppError::invalid("event_role", Problem::Format { expected: "event_role".into() })
}

/// Splits one CSV line into fields (RFC 4180 quoting: `"a, b"`, `""` for a quote).
fn csv_fields(line: &str) -> Option<Vec<String>> {
    let mut fields = Vec::new();
    let mut current = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                current.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => current.push(c),
            (false, '"') if current.trim().is_empty() => {
                current.clear();
                quoted = true;
            }
            (false, ',' | ';') => fields.push(std::mem::take(&mut current)),
            (false, c) => current.push(c),
        }
    }
    if quoted {
        return None;
    }
    fields.push(current);
    Some(fields)
}

/// Parses a roster: every line checked on its own, so the preview can show
/// each problem with its line number. Duplicate usernames within the file are
/// an error on the later line.
pub fn parse_roster(text: &str) -> (Vec<RosterRow>, Vec<RosterError>) {
    let mut rows: Vec<RosterRow> = Vec::new();
    let mut errors = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let raw = raw.trim_start_matches('\u{feff}');
        if raw.trim().is_empty() {
            continue;
        }
        let Some(fields) = csv_fields(raw) else {
            errors.push(RosterError {
                line,
                error: AppError::invalid("csv", Problem::Format { expected: "csv".into() }),
            });
            continue;
        };
        let cell = |i: usize| fields.get(i).map(|s| s.trim().to_string()).unwrap_or_default();
        if rows.is_empty() && errors.is_empty() && cell(0).eq_ignore_ascii_case("username") {
            continue;
        }
        let parsed = (|| {
            let username = validate::username(&cell(0))?;
            let name = validate::line("name", &cell(1), validate::NAME_MAX)?;
            let email = validate::email(&cell(2))?;
            let role = match cell(3).to_lowercase().as_str() {
                "" => EventRole::Student,
                other => EventRole::from_key(other).ok_or_else(event_role_unknown)?,
            };
            let language = match cell(4).to_lowercase().as_str() {
                "" => Language::default(),
                other => Language::from_code(other).ok_or_else(|| AppError::invalid("language", Problem::Unknown))?,
            };
            if fields.len() > ROSTER_COLUMNS.len() {
                return Err(AppError::invalid("csv", Problem::TooLong { max: ROSTER_COLUMNS.len() }));
            }
            Ok(RosterRow { line, username, name, email, role, language })
        })();
        match parsed {
            Ok(row) => match rows.iter().find(|r| r.username == row.username) {
                Some(first) => {
                    let repeated = Problem::Repeated { line: first.line };
                    errors.push(RosterError { line, error: AppError::invalid("username", repeated) })
                }
                None => rows.push(row),
            },
            Err(error) => errors.push(RosterError { line, error }),
        }
    }
    (rows, errors)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::{AccessLevel, Grant};

    fn template_input() -> TemplateInput {
        TemplateInput {
            name: "Kali".into(),
            proxmox_vmid: "9000".into(),
            node: "pve1".into(),
            cores: "2".into(),
            memory_mib: "2048".into(),
            disk_gib: "32".into(),
            console: "builtin".into(),
            ..TemplateInput::default()
        }
    }

    fn connection_input(protocol: &str) -> ConnectionTemplateInput {
        ConnectionTemplateInput { protocol: protocol.into(), username: "student".into(), ..Default::default() }
    }

    #[test]
    fn templates_refuse_nonsense() {
        let t = validate_template(&template_input()).unwrap();
        assert_eq!((t.console, t.proxmox_vmid), (Console::Builtin, 9000));
        let field = |input: TemplateInput| validate_template(&input).unwrap_err().field().map(str::to_string);
        assert_eq!(
            field(TemplateInput { proxmox_vmid: "99".into(), ..template_input() }).as_deref(),
            Some("proxmox_vmid")
        );
        assert_eq!(field(TemplateInput { cores: "zwei".into(), ..template_input() }).as_deref(), Some("cores"));
        assert_eq!(field(TemplateInput { node: "pve 1".into(), ..template_input() }).as_deref(), Some("node"));
        assert_eq!(field(TemplateInput { console: "rdp".into(), ..template_input() }).as_deref(), Some("console"));
        assert_eq!(field(TemplateInput { name: " ".into(), ..template_input() }).as_deref(), Some("name"));
    }

    #[test]
    fn connection_templates_get_the_protocols_default_port_and_refuse_nonsense() {
        let ssh = validate_connection_template(&connection_input("ssh")).unwrap();
        assert_eq!((ssh.protocol, ssh.port, ssh.username.as_str()), (Protocol::Ssh, 22, "student"));
        for (protocol, port) in [("rdp", 3389), ("vnc", 5900)] {
            assert_eq!(validate_connection_template(&connection_input(protocol)).unwrap().port, port);
        }
        let custom =
            ConnectionTemplateInput { port: "2222".into(), rdp_security: "nla".into(), ..connection_input("rdp") };
        let custom = validate_connection_template(&custom).unwrap();
        assert_eq!((custom.port, custom.rdp_security), (2222, RdpSecurity::Nla));
        let field = |input: ConnectionTemplateInput| {
            validate_connection_template(&input).unwrap_err().field().map(str::to_string)
        };
        assert_eq!(field(connection_input("telnet")).as_deref(), Some("protocol"));
        assert_eq!(
            field(ConnectionTemplateInput { port: "70000".into(), ..connection_input("ssh") }).as_deref(),
            Some("port")
        );
        let long = "x".repeat(65);
        assert_eq!(
            field(ConnectionTemplateInput { username: long, ..connection_input("ssh") }).as_deref(),
            Some("conn_username")
        );
        assert_eq!(
            field(ConnectionTemplateInput { rdp_security: "weak".into(), ..connection_input("rdp") }).as_deref(),
            Some("rdp_security")
        );
    }

    #[test]
    fn environment_counts_default_to_one_and_zero_leaves_out() {
        let pairs = vec![(1, String::new()), (2, "3".into()), (3, "0".into())];
        assert_eq!(environment_entries(&pairs).unwrap(), vec![(1, 1), (2, 3)]);
        assert!(environment_entries(&[(1, "21".into())]).is_err());
        assert!(environment_entries(&[(1, "x".into())]).is_err());
    }

    #[test]
    fn short_names_follow_the_rule() {
        assert_eq!(short_name(" lab-01 ").unwrap(), "lab-01");
        assert_eq!(short_name("a_b9").unwrap(), "a_b9");
        for bad in ["abc", "abcdefghi", "Lab1", "lab 1", "läb1", ""] {
            assert!(short_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn event_dates_are_converted_to_utc_and_must_be_ordered() {
        let input = EventInput {
            name: "Linux basics".into(),
            short_name: "linux1".into(),
            environment_id: Some(4),
            starts_at: "2026-12-01T09:00".into(),
            ends_at: "2026-12-01T17:00".into(),
            ..EventInput::default()
        };
        let before = Timestamp(0);
        let event = validate_event(&input, "Europe/Berlin", before).unwrap();
        assert_eq!(Timestamp(event.starts_at.0).format_utc(), "2026-12-01 08:00 UTC");
        assert_eq!(crate::zone::input_value(event.starts_at, "Europe/Berlin"), "2026-12-01T09:00");
        let inverted = EventInput { ends_at: "2026-12-01T08:59".into(), ..input.clone() };
        assert_eq!(validate_event(&inverted, "Europe/Berlin", before).unwrap_err().field(), Some("ends_at"));
        let equal = EventInput { ends_at: "2026-12-01T09:00".into(), ..input.clone() };
        assert_eq!(validate_event(&equal, "Europe/Berlin", before).unwrap_err().field(), Some("ends_at"));
        let open = EventInput { ends_at: String::new(), ..input.clone() };
        assert_eq!(validate_event(&open, "Europe/Berlin", before).unwrap().ends_at, None);
        let no_env = EventInput { environment_id: None, ..input.clone() };
        assert_eq!(validate_event(&no_env, "Europe/Berlin", before).unwrap_err().field(), Some("environment_id"));
        let garbage = EventInput { starts_at: "tomorrow".into(), ..input.clone() };
        assert_eq!(validate_event(&garbage, "Europe/Berlin", before).unwrap_err().field(), Some("starts_at"));
        // Once the end has passed the event cannot be planned; a start that has
        // passed, with an end still to come, can.
        let during = event.starts_at;
        assert_eq!(validate_event(&input, "Europe/Berlin", during).unwrap().starts_at, during);
        let over = validate_event(&input, "Europe/Berlin", event.ends_at.unwrap()).unwrap_err();
        assert_eq!(over, AppError::invalid("ends_at", Problem::Format { expected: "future".into() }));
        assert_eq!(validate_event(&open, "Europe/Berlin", Timestamp(i64::MAX)).unwrap().ends_at, None);
    }

    #[test]
    fn event_status_machine_allows_exactly_the_lifecycle() {
        use EventStatus::*;
        let allowed = [
            (Planned, Deploying),
            (Deploying, Running),
            (Deploying, Failed),
            (Running, Deploying),
            (Running, Ending),
            (Running, Decommissioning),
            (Running, Failed),
            (Ending, Decommissioning),
            (Ending, Running),
            (Decommissioning, Finished),
            (Decommissioning, Failed),
            (Failed, Deploying),
            (Failed, Decommissioning),
            (Failed, Planned),
        ];
        for from in EventStatus::ALL {
            for to in EventStatus::ALL {
                assert_eq!(from.can_move_to(to), allowed.contains(&(from, to)), "{from:?} -> {to:?}");
            }
        }
        assert!(EventStatus::ALL.iter().all(|s| !Finished.can_move_to(*s)));
        assert!(!Planned.can_move_to(Running), "no VMs without deployment");
        assert_eq!(Failed.tab(), EventTab::Active);
        assert!(!Finished.holds_short_name() && Failed.holds_short_name());
        for s in EventStatus::ALL {
            assert_eq!(EventStatus::from_key(s.key()), Some(s));
            assert!(s.tab().statuses().contains(&s));
        }
    }

    fn actor(id: i64, grants: Vec<Grant>) -> Actor {
        Actor { user_id: id, username: format!("u{id}"), role_keys: vec![], grants, origin: Default::default() }
    }

    #[test]
    fn vm_access_follows_ownership_membership_and_grants() {
        let vm = VmFacts { vm_id: 10, owner_id: 1, event_id: 5 };
        let owner = actor(1, vec![]);
        let other_student = actor(2, vec![]);
        let instructor = actor(3, vec![]);
        let admin = actor(4, vec![Grant::model(ObjectType::Vm, AccessLevel::Full)]);
        let event_controller = actor(6, vec![Grant::object(ObjectType::Event, 5, AccessLevel::ReadVmControl)]);
        assert!(can_on_vm(&owner, Action::Control, vm, Some(EventRole::Student)));
        assert!(!can_on_vm(&owner, Action::Delete, vm, Some(EventRole::Student)));
        assert!(!can_on_vm(&other_student, Action::Read, vm, Some(EventRole::Student)), "a classmate's VM");
        assert!(!can_on_vm(&other_student, Action::Control, vm, None));
        assert!(can_on_vm(&instructor, Action::Control, vm, Some(EventRole::Instructor)));
        assert!(!can_on_vm(&instructor, Action::Delete, vm, Some(EventRole::Instructor)));
        assert!(can_on_vm(&admin, Action::Delete, vm, None));
        assert!(can_on_vm(&event_controller, Action::Control, vm, None));
        assert!(!can_on_vm(&event_controller, Action::Update, vm, None));
    }

    #[test]
    fn event_access_by_membership() {
        let nobody = actor(1, vec![]);
        assert!(!can_on_event(&nobody, Action::Read, 5, None));
        assert!(can_on_event(&nobody, Action::Read, 5, Some(EventRole::Student)));
        assert!(!can_on_event(&nobody, Action::Update, 5, Some(EventRole::Student)));
        assert!(can_on_event(&nobody, Action::Update, 5, Some(EventRole::Instructor)));
        assert!(can_on_event(&nobody, Action::Delete, 5, Some(EventRole::Instructor)));
        let admin = actor(4, vec![Grant::model(ObjectType::Event, AccessLevel::Full)]);
        assert!(can_on_event(&admin, Action::Delete, 5, None));
    }

    #[test]
    fn rosters_report_each_bad_line() {
        let text = "username,name,email,role\n\
                    alice,Alice A,alice@example.org,student\n\
                    \"bob\",\"Bob, the Builder\",bob@example.org,\n\
                    carol,Carol,not-an-email,student\n\
                    dave,Dave,dave@example.org,teacher\n\
                    alice,Alice again,alice2@example.org,student\n\
                    erin,Erin,erin@example.org,instructor,de\n\
                    fred,Fred,fred@example.org,student,fr\n\
                    \n";
        let (rows, errors) = parse_roster(text);
        let names: Vec<_> = rows.iter().map(|r| (r.line, r.username.as_str(), r.role)).collect();
        assert_eq!(
            names,
            vec![(2, "alice", EventRole::Student), (3, "bob", EventRole::Student), (7, "erin", EventRole::Instructor)]
        );
        assert_eq!(rows[1].name, "Bob, the Builder");
        assert_eq!((rows[1].language, rows[2].language), (Language::En, Language::De));
        let bad: Vec<_> = errors.iter().map(|e| (e.line, e.error.field().unwrap_or("").to_string())).collect();
        assert_eq!(
            bad,
            vec![(4, "email".into()), (5, "event_role".into()), (6, "username".into()), (8, "language".into())]
        );
        assert_eq!(errors[2].error, AppError::invalid("username", Problem::Repeated { line: 2 }), "alice is on line 2");
        let (rows, errors) = parse_roster("x,\"open");
        assert!(rows.is_empty() && errors.len() == 1);
    }
}
