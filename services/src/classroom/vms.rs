//! VMs as participants, instructors and administrators see them.

use domain::access::ObjectType;
use domain::classroom::{EventNote, EventStatus, MyEvent, VmFacts, VmView, can_on_vm};
use domain::page::{Page, PageRequest};
use domain::{Action, Actor, AppError, Target, can};

use super::ports::{EventQuery, NewVm, VmQuery, VmUpdate};
use crate::Services;

impl Services {
    /// VMs with filters: every VM for those who may read all of them, else
    /// the actor's own and those of events they teach.
    pub async fn list_vms(
        &self,
        actor: &Actor,
        mut query: VmQuery,
        page: PageRequest,
    ) -> Result<Page<VmView>, AppError> {
        query.visible_to =
            if can(actor, Action::Read, Target::All(ObjectType::Vm)) { None } else { Some(actor.user_id) };
        let mut page = self.ports.vms.list(&query, page).await?;
        self.fill_uptimes(&mut page.items).await;
        Ok(page)
    }

    /// One VM for its page: as [`Services::get_vm`], with its uptime.
    pub async fn vm_details(&self, actor: &Actor, id: i64) -> Result<VmView, AppError> {
        let mut vm = [self.get_vm(actor, id).await?];
        self.fill_uptimes(&mut vm).await;
        let [vm] = vm;
        Ok(vm)
    }

    /// Uptimes from one bulk `/cluster/resources` read. Best effort: a
    /// cluster that cannot be asked leaves them empty (the page still shows
    /// the recorded state).
    async fn fill_uptimes(&self, vms: &mut [VmView]) {
        if vms.iter().all(|vm| vm.vmid.is_none()) {
            return;
        }
        let inventory = match self.current_cluster().await {
            Ok(cluster) => cluster.inventory().await,
            Err(e) => {
                tracing::debug!(error = %e, "no uptimes: no cluster");
                return;
            }
        };
        let Ok(inventory) = inventory else { return };
        for vm in vms.iter_mut() {
            let guest = inventory.guests.iter().find(|g| Some(g.vmid) == vm.vmid);
            vm.uptime_secs = guest.and_then(|g| g.uptime_secs);
        }
    }

    /// One VM; `NotFound` also when the actor may not see it, so guessing ids
    /// reveals nothing.
    pub async fn get_vm(&self, actor: &Actor, id: i64) -> Result<VmView, AppError> {
        let vm = self.ports.vms.by_id(id).await?.ok_or(AppError::NotFound)?;
        let role = self.ports.events.role_of(vm.event_id, actor.user_id).await?;
        let facts = VmFacts { vm_id: vm.id, owner_id: vm.owner_id, event_id: vm.event_id };
        if !can_on_vm(actor, Action::Read, facts, role) {
            return Err(AppError::NotFound);
        }
        Ok(vm)
    }

    /// For the provisioning engine (no actor: its job was authorized when
    /// queued): records the VMs of a plan that are not recorded yet, as
    /// `pending`, and returns every VM of the event. Idempotent.
    pub async fn record_planned_vms(&self, event_id: i64, vms: &[NewVm]) -> Result<Vec<VmView>, AppError> {
        Ok(self.ports.vms.plan(event_id, vms, self.clock.now()).await?)
    }

    /// For the provisioning engine and the status sync: what the cluster
    /// reported about one VM (vmid, node, state, IP, Proxmox's last error).
    /// Not an activity of its own: a job's VM progress is recorded by the
    /// store's `VmRecorder`, a person's power action by `vm_action`.
    pub async fn record_vm_state(&self, vm_id: i64, update: &VmUpdate) -> Result<(), AppError> {
        Ok(self.ports.vms.update(vm_id, update, self.clock.now(), None).await?)
    }

    /// For the provisioning engine: forgets a VM it deleted on the cluster.
    pub async fn forget_vm(&self, vm_id: i64) -> Result<(), AppError> {
        Ok(self.ports.vms.delete(vm_id).await?)
    }

    /// Nodes VMs run on, for the list's filter.
    pub async fn vm_nodes(&self, actor: &Actor) -> Result<Vec<String>, AppError> {
        if !can(actor, Action::Read, Target::All(ObjectType::Vm)) {
            return Ok(Vec::new());
        }
        Ok(self.ports.vms.nodes().await?)
    }

    /// The student's home: their events that are not finished (soonest first)
    /// with their own VMs in each.
    pub async fn my_vms(&self, actor: &Actor) -> Result<Vec<MyEvent>, AppError> {
        let statuses = EventStatus::ALL.into_iter().filter(|s| *s != EventStatus::Finished).collect();
        let query = EventQuery { statuses, member: Some(actor.user_id) };
        let events = self.ports.events.list(&query, actor.user_id, PageRequest::new(Some(1), Some(100))).await?;
        let mut out = Vec::new();
        for event in events.items {
            let vm_query = VmQuery { event_id: Some(event.id), owner_id: Some(actor.user_id), ..VmQuery::default() };
            let vms = self.ports.vms.list(&vm_query, PageRequest::new(Some(1), Some(200))).await?.items;
            let note = EventNote::for_event(&event, self.clock.now());
            out.push(MyEvent { event, vms, note });
        }
        Ok(out)
    }

    /// Every VM of an event (the event page's participants × VMs grid).
    pub async fn event_vms(&self, actor: &Actor, event_id: i64) -> Result<Vec<VmView>, AppError> {
        let event = self.get_event(actor, event_id).await?;
        let query = VmQuery { event_id: Some(event.id), ..VmQuery::default() };
        let mut all = Vec::new();
        for number in 1.. {
            let page =
                self.ports.vms.list(&query, PageRequest::new(Some(number), Some(domain::page::MAX_PER_PAGE))).await?;
            let last = number >= page.page_count();
            all.extend(page.items);
            if last {
                break;
            }
        }
        // Students see only their own VMs, even on the event page.
        Ok(all
            .into_iter()
            .filter(|vm| {
                let facts = VmFacts { vm_id: vm.id, owner_id: vm.owner_id, event_id: vm.event_id };
                can_on_vm(actor, Action::Read, facts, event.my_role)
            })
            .collect())
    }
}
