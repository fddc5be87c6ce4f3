//! Who may open the built-in console on which VM: the same rule as the VM's
//! power actions ([`can_on_vm`] with Control: the owner, the event's
//! instructors, administrators), read from the VM records. A VM the caller may
//! not even read answers "not found", so guessed ids reveal nothing.

use async_trait::async_trait;
use domain::activity::ActivityTarget;
use domain::classroom::{VmFacts, VmState, VmView, can_on_vm};
use domain::{Action, Actor, AppError};

use crate::Services;
use crate::console::{ConsoleAccess, ConsoleTarget};

impl Services {
    /// The VM `actor` may open a console on, whatever its state: `NotFound`
    /// when they may not see it, `Forbidden` when they may see but not control it.
    pub async fn console_vm(&self, actor: &Actor, vm_id: i64) -> Result<VmView, AppError> {
        let vm = self.get_vm(actor, vm_id).await?;
        let role = self.ports.events.role_of(vm.event_id, actor.user_id).await?;
        let facts = VmFacts { vm_id: vm.id, owner_id: vm.owner_id, event_id: vm.event_id };
        if !can_on_vm(actor, Action::Control, facts, role) {
            return Err(AppError::Forbidden);
        }
        Ok(vm)
    }
}

/// Where a VM's console is, once it runs on the cluster.
fn console_target(vm: &VmView) -> Result<ConsoleTarget, AppError> {
    if vm.state != VmState::Running {
        return Err(AppError::conflict("vm_not_running"));
    }
    match (&vm.node, vm.vmid) {
        (Some(node), Some(vmid)) => Ok(ConsoleTarget { node: node.clone(), vmid }),
        _ => Err(AppError::conflict("vm_not_on_cluster")),
    }
}

/// The WebSocket route's ids are path segments; anything but a number is an unknown VM.
fn vm_id(raw: &str) -> Result<i64, AppError> {
    raw.parse().map_err(|_| AppError::NotFound)
}

#[async_trait]
impl ConsoleAccess for Services {
    async fn console_target(&self, actor: &Actor, vm_id_text: &str) -> Result<ConsoleTarget, AppError> {
        console_target(&self.console_vm(actor, vm_id(vm_id_text)?).await?)
    }

    async fn opened(&self, actor: &Actor, vm_id_text: &str) -> Result<(), AppError> {
        let vm = self.get_vm(actor, vm_id(vm_id_text)?).await?;
        // Opening a console changes nothing of OpenVLE's: the activity is the only write.
        let mut activity = self.activity(actor, "vm.console_open", ActivityTarget::new("vms", vm.id, &vm.name));
        activity.event_id = Some(vm.event_id);
        self.record(&activity).await
    }
}
