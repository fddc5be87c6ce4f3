//! API token authentication and privilege separation.
//!
//! A token is granted pools; it sees and may change only VMs in those pools, may create
//! VMs only into them, and sees only its own tasks. Nodes and storages are visible to
//! every valid token (as with `Sys.Audit`/`Datastore.Audit` on `/`).

use super::config::TokenSpec;
use super::error::ApiError;
use super::state::Vm;

/// The authenticated token of a request.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    /// `user@realm!token`, as printed in UPIDs.
    pub full_id: String,
    pub pools: Vec<String>,
}

impl Caller {
    pub fn can_use_pool(&self, pool: &str) -> bool {
        self.pools.iter().any(|p| p == pool)
    }

    pub fn can_see(&self, vm: &Vm) -> bool {
        vm.pool.as_deref().is_some_and(|p| self.can_use_pool(p))
    }

    /// Proxmox checks privileges on `/vms/<id>` before looking the VM up, so a VM the
    /// token may not see is a 403 whether it exists or not.
    pub fn check_vm(&self, vm: Option<&Vm>, vmid: u32, privilege: &str) -> Result<(), ApiError> {
        match vm {
            Some(vm) if self.can_see(vm) => Ok(()),
            _ => Err(ApiError::forbidden(&format!("/vms/{vmid}"), privilege)),
        }
    }
}

/// Checks `Authorization: PVEAPIToken=user@realm!token=secret` against the configured
/// tokens.
pub(crate) fn authenticate(header: Option<&str>, tokens: &[TokenSpec]) -> Result<Caller, ApiError> {
    let header = header.ok_or_else(|| ApiError::unauthorized("No ticket"))?;
    let value = header.trim().strip_prefix("PVEAPIToken=").ok_or_else(|| ApiError::unauthorized("No ticket"))?;
    let (token_id, secret) = value.split_once('=').ok_or_else(|| ApiError::unauthorized("authentication failure"))?;
    let (user, name) = token_id.split_once('!').ok_or_else(|| ApiError::unauthorized("authentication failure"))?;
    tokens
        .iter()
        .find(|t| t.user == user && t.name == name && t.secret == secret)
        .map(|t| Caller { full_id: t.full_id(), pools: t.pools.clone() })
        .ok_or_else(|| ApiError::unauthorized("authentication failure"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens() -> Vec<TokenSpec> {
        vec![TokenSpec { user: "a@pve".into(), name: "t".into(), secret: "s3cret".into(), pools: vec!["P".into()] }]
    }

    #[test]
    fn accepts_exact_token_only() {
        let caller = authenticate(Some("PVEAPIToken=a@pve!t=s3cret"), &tokens()).unwrap();
        assert_eq!(caller.full_id, "a@pve!t");
        assert!(caller.can_use_pool("P") && !caller.can_use_pool("Q"));
        for bad in [None, Some("Bearer x"), Some("PVEAPIToken=a@pve!t=wrong"), Some("PVEAPIToken=a@pve=s3cret")] {
            assert!(authenticate(bad, &tokens()).is_err(), "{bad:?}");
        }
    }
}
