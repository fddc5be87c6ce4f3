//! What the classroom use cases need from storage (adapters in `store`).
//! Mutating methods take the change's activity last (see `crate::activities`).

use async_trait::async_trait;
use domain::activity::Activity;
use domain::classroom::{
    ConnectionBinding, ConnectionTemplateView, Console, EnvironmentView, EventFields, EventRole, EventStatus,
    EventView, GroupView, ParticipantView, Protocol, RdpSecurity, RosterRow, VmConnectionView, VmState, VmTemplateView,
    VmView,
};
use domain::page::{Page, PageRequest};
use domain::time::Timestamp;

use crate::StoreError;

/// A template as stored (how VMs are reached is in its connection templates).
#[derive(Clone, Debug, PartialEq)]
pub struct TemplateRecord {
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

#[async_trait]
pub trait TemplateRepo: Send + Sync {
    async fn list(&self) -> Result<Vec<VmTemplateView>, StoreError>;
    async fn by_id(&self, id: i64) -> Result<Option<VmTemplateView>, StoreError>;
    async fn insert(
        &self,
        template: &TemplateRecord,
        at: Timestamp,
        activity: Option<&Activity>,
    ) -> Result<i64, StoreError>;
    async fn update(
        &self,
        id: i64,
        template: &TemplateRecord,
        at: Timestamp,
        activity: Option<&Activity>,
    ) -> Result<(), StoreError>;
    async fn delete(&self, id: i64, activity: Option<&Activity>) -> Result<(), StoreError>;
    /// What the periodic sync saw on the cluster: `Some((node, cores, memory MiB,
    /// disk GiB))` when the template VM is in the pool, `None` when it is missing.
    async fn record_sync(
        &self,
        id: i64,
        seen: Option<(String, u32, u32, u32)>,
        at: Timestamp,
    ) -> Result<(), StoreError>;
    /// How many environments contain the template.
    async fn environments_using(&self, id: i64) -> Result<u64, StoreError>;
}

#[async_trait]
pub trait EnvironmentRepo: Send + Sync {
    async fn list(&self) -> Result<Vec<EnvironmentView>, StoreError>;
    async fn by_id(&self, id: i64) -> Result<Option<EnvironmentView>, StoreError>;
    /// `entries`: (template id, VMs per participant), written with the row in one transaction.
    async fn insert(
        &self,
        name: &str,
        description: &str,
        entries: &[(i64, u32)],
        at: Timestamp,
        activity: Option<&Activity>,
    ) -> Result<i64, StoreError>;
    async fn update(
        &self,
        id: i64,
        name: &str,
        description: &str,
        entries: &[(i64, u32)],
        activity: Option<&Activity>,
    ) -> Result<(), StoreError>;
    async fn delete(&self, id: i64, activity: Option<&Activity>) -> Result<(), StoreError>;
}

/// A template as an event keeps it from the moment its deployment began.
#[derive(Clone, Debug, PartialEq)]
pub struct SnapshotTemplate {
    pub template_id: i64,
    pub name: String,
    pub operating_system: String,
    pub proxmox_vmid: u32,
    pub node: String,
    pub cores: u32,
    pub memory_mib: u32,
    pub disk_gib: u32,
    pub linked_clone: bool,
    pub console: Console,
    /// VMs of this template per participant.
    pub count: u32,
}

#[derive(Clone, Debug, Default)]
pub struct EventQuery {
    /// Empty: any status.
    pub statuses: Vec<EventStatus>,
    /// Only events this user takes part in.
    pub member: Option<i64>,
}

/// What a roster import did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RosterOutcome {
    pub users_created: u32,
    pub participants_added: u32,
}

/// What [`EventRepo::return_to_planning`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Replanning {
    Done,
    /// The event is not failed (any more).
    NotFailed,
    /// Some of its VMs exist on the cluster: only ending the event removes them.
    HasVms,
}

#[async_trait]
pub trait EventRepo: Send + Sync {
    async fn insert(
        &self,
        event: &EventFields,
        created_by: i64,
        at: Timestamp,
        activity: Option<&Activity>,
    ) -> Result<i64, StoreError>;
    /// Name, short name, description, environment and dates, only while `planned`
    /// (`StoreError::NotFound` otherwise).
    async fn update_planned(&self, id: i64, event: &EventFields, activity: Option<&Activity>)
    -> Result<(), StoreError>;
    /// `my_role` is the role of `viewer` in the event.
    async fn by_id(&self, id: i64, viewer: i64) -> Result<Option<EventView>, StoreError>;
    async fn list(&self, query: &EventQuery, viewer: i64, page: PageRequest) -> Result<Page<EventView>, StoreError>;
    /// The events the scheduler's round acts on, by id after `after_id` (keyset
    /// paging, at most `limit`): planned ones starting by `planned_until` and
    /// every running, ending, failed, deploying and decommissioning one.
    async fn needing_schedule(
        &self,
        planned_until: Timestamp,
        after_id: i64,
        limit: u32,
    ) -> Result<Vec<EventView>, StoreError>;
    /// The unfinished events other than `id` whose times intersect its times
    /// (no end: indefinitely) and that share at least one student with it.
    async fn overlapping(&self, id: i64) -> Result<Vec<EventView>, StoreError>;
    /// How many unfinished events have time in [`from`, `until`) (no end: indefinitely).
    async fn count_during(&self, from: Timestamp, until: Timestamp) -> Result<u64, StoreError>;
    async fn delete(&self, id: i64, activity: Option<&Activity>) -> Result<(), StoreError>;
    /// Moves the event from `from` to `to` if it is still in `from` (false otherwise),
    /// so two processes cannot both make the same move. Leaving `failed` clears the reason;
    /// `finished` frees the short name. The activity is recorded only when the move is made.
    async fn set_status(
        &self,
        id: i64,
        from: EventStatus,
        to: EventStatus,
        failure_reason: Option<&str>,
        activity: Option<&Activity>,
    ) -> Result<bool, StoreError>;
    /// `planned` → `deploying` together with copying the environment's templates
    /// and their connection templates into the event's snapshot, in one
    /// transaction (false: not planned any more).
    async fn begin_deployment(&self, id: i64, activity: Option<&Activity>) -> Result<bool, StoreError>;
    /// `failed` → `planned` when none of the event's VM records has a Proxmox
    /// VM: drops those records and the snapshot, in one transaction, so the
    /// event can be changed and deployed afresh.
    async fn return_to_planning(&self, id: i64, activity: Option<&Activity>) -> Result<Replanning, StoreError>;
    async fn snapshot(&self, id: i64) -> Result<Vec<SnapshotTemplate>, StoreError>;
    async fn participants(&self, id: i64) -> Result<Vec<ParticipantView>, StoreError>;
    async fn role_of(&self, id: i64, user_id: i64) -> Result<Option<EventRole>, StoreError>;
    /// Adds participants or changes their role (idempotent).
    async fn put_participants(
        &self,
        id: i64,
        members: &[(i64, EventRole)],
        activity: Option<&Activity>,
    ) -> Result<(), StoreError>;
    async fn remove_participant(&self, id: i64, user_id: i64, activity: Option<&Activity>) -> Result<(), StoreError>;
    async fn set_event_admin(
        &self,
        id: i64,
        user_id: i64,
        event_admin: bool,
        activity: Option<&Activity>,
    ) -> Result<(), StoreError>;
    /// In one transaction: creates the rows' unknown users (internal, `email_pending`,
    /// with role `role_id`) and makes every row a participant with its role. Either
    /// all rows are imported or none.
    async fn import_roster(
        &self,
        id: i64,
        rows: &[RosterRow],
        role_id: i64,
        at: Timestamp,
        activity: Option<&Activity>,
    ) -> Result<RosterOutcome, StoreError>;
    /// Ids of the events where `user_id` is an instructor (whose activities they may read).
    async fn instructed_by(&self, user_id: i64) -> Result<Vec<i64>, StoreError>;
}

#[async_trait]
pub trait GroupRepo: Send + Sync {
    async fn list(&self) -> Result<Vec<GroupView>, StoreError>;
    async fn by_id(&self, id: i64) -> Result<Option<GroupView>, StoreError>;
    async fn insert(&self, name: &str, description: &str, activity: Option<&Activity>) -> Result<i64, StoreError>;
    async fn delete(&self, id: i64, activity: Option<&Activity>) -> Result<(), StoreError>;
    /// (user id, username) of the members.
    async fn members(&self, id: i64) -> Result<Vec<(i64, String)>, StoreError>;
    async fn add_member(&self, id: i64, user_id: i64, activity: Option<&Activity>) -> Result<(), StoreError>;
    async fn remove_member(&self, id: i64, user_id: i64, activity: Option<&Activity>) -> Result<(), StoreError>;
}

/// One VM the provisioning engine wants to exist.
#[derive(Clone, Debug, PartialEq)]
pub struct NewVm {
    pub event_id: i64,
    pub owner_id: i64,
    pub template_id: i64,
    /// 1..=count of the template.
    pub ordinal: u32,
    pub name: String,
}

/// What the provisioning engine and the status sync learned about one VM.
#[derive(Clone, Debug, PartialEq)]
pub struct VmUpdate {
    pub vmid: Option<u32>,
    pub node: Option<String>,
    pub state: VmState,
    pub ip: Option<String>,
    pub last_error: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct VmQuery {
    pub event_id: Option<i64>,
    pub owner_id: Option<i64>,
    pub owner_username: Option<String>,
    pub node: Option<String>,
    pub state: Option<VmState>,
    /// Only VMs of events where this user is an instructor, or their own.
    pub visible_to: Option<i64>,
    /// Only VMs with a matching tag.
    pub tag: Option<domain::catalogue::TagFilter>,
}

#[async_trait]
pub trait VmRepo: Send + Sync {
    /// Inserts the VMs that are not recorded yet (one per event, owner, template and
    /// ordinal; existing rows are left alone) as `pending`, and returns every VM of
    /// the event. Running it twice records nothing twice.
    async fn plan(&self, event_id: i64, vms: &[NewVm], at: Timestamp) -> Result<Vec<VmView>, StoreError>;
    async fn by_id(&self, id: i64) -> Result<Option<VmView>, StoreError>;
    async fn list(&self, query: &VmQuery, page: PageRequest) -> Result<Page<VmView>, StoreError>;
    async fn update(
        &self,
        id: i64,
        update: &VmUpdate,
        at: Timestamp,
        activity: Option<&Activity>,
    ) -> Result<(), StoreError>;
    /// Forgets a VM (after the engine deleted it on the cluster).
    async fn delete(&self, id: i64) -> Result<(), StoreError>;
    /// Distinct nodes VMs are on (for the list's filter).
    async fn nodes(&self) -> Result<Vec<String>, StoreError>;
}

/// How to reach a VM through Guacamole, as stored: the password sealed with
/// [`crate::secrets::SecretKey`] under
/// [`super::templates::PASSWORD_PURPOSE`].
#[derive(Clone, PartialEq)]
pub struct SealedConnection {
    pub protocol: Protocol,
    pub port: u16,
    pub username: String,
    pub password_sealed: Option<String>,
    pub rdp_security: RdpSecurity,
    pub ignore_cert: bool,
}

impl std::fmt::Debug for SealedConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealedConnection")
            .field("protocol", &self.protocol)
            .field("port", &self.port)
            .field("username", &self.username)
            .field("password_set", &self.password_sealed.is_some())
            .field("rdp_security", &self.rdp_security)
            .field("ignore_cert", &self.ignore_cert)
            .finish()
    }
}

/// Connection templates (bound to a VM template or one VM; created and
/// deleted, never edited) and what deployment made of them in Guacamole.
#[async_trait]
pub trait ConnectionTemplateRepo: Send + Sync {
    async fn list(&self, binding: ConnectionBinding) -> Result<Vec<ConnectionTemplateView>, StoreError>;
    async fn by_id(&self, id: i64) -> Result<Option<ConnectionTemplateView>, StoreError>;
    async fn insert(
        &self,
        binding: ConnectionBinding,
        connection: &SealedConnection,
        at: Timestamp,
        activity: Option<&Activity>,
    ) -> Result<i64, StoreError>;
    async fn delete(&self, id: i64, activity: Option<&Activity>) -> Result<(), StoreError>;
    /// What a deployed VM is reached with: its own connection templates when
    /// it has any, else those its event's snapshot keeps for its template.
    async fn for_vm(&self, vm_id: i64) -> Result<Vec<SealedConnection>, StoreError>;
    /// The Guacamole connections recorded for a VM, by name.
    async fn vm_connections(&self, vm_id: i64) -> Result<Vec<VmConnectionView>, StoreError>;
    /// Inserts or replaces the record of one of a VM's Guacamole connections.
    async fn put_vm_connection(&self, vm_id: i64, connection: &VmConnectionView) -> Result<(), StoreError>;
    async fn delete_vm_connection(&self, vm_id: i64, name: &str) -> Result<(), StoreError>;
}
