//! Errors of the Proxmox VE client.
//!
//! Proxmox reports most failures as HTTP 500 with the message in the status line's reason
//! phrase, so the variant is chosen from the status code *and* the message text. The
//! retryable variants are the ones a class-sized provisioning run hits under load and
//! that succeed when tried again (possibly with a fresh VMID).

use std::time::Duration;

/// Everything that can go wrong talking to Proxmox VE.
#[derive(Debug, thiserror::Error)]
pub enum PveError {
    /// 401: the API token is unknown or its secret is wrong.
    #[error("Proxmox VE rejected the API token (401): {message}")]
    Unauthorized { message: String },
    /// 403: the token lacks a privilege on the object (privilege separation).
    #[error("Proxmox VE denied permission (403): {message}")]
    Forbidden { message: String },
    /// The object (VM, snapshot, pool, task, path) does not exist.
    #[error("not found on Proxmox VE: {message}")]
    NotFound { message: String },
    /// The VMID is not a member of the configured pool; this installation must not touch it.
    #[error("VM {vmid} is not in pool {pool}")]
    NotInPool { vmid: u32, pool: String },
    /// The VM or a storage is locked by another operation ("VM is locked", "can't lock
    /// file ... got timeout"); retry later.
    #[error("Proxmox VE resource is busy: {message}")]
    Locked { message: String },
    /// The VMID was taken between `/cluster/nextid` and the clone; retry with a new VMID.
    #[error("VMID already exists: {message}")]
    AlreadyExists { message: String },
    /// The node is offline or unreachable through the cluster proxy (HTTP 595/596).
    #[error("Proxmox VE node unreachable ({status}): {message}")]
    NodeUnreachable { status: u16, message: String },
    /// A task ended with an exit status other than `OK` that matched no variant above.
    #[error("Proxmox VE task {upid} failed: {exitstatus}")]
    TaskFailed { upid: String, exitstatus: String },
    /// No answer (HTTP request) or no task completion (`wait_task`) within the time limit.
    #[error("timed out after {after:?} waiting for {what}")]
    Timeout { what: String, after: Duration },
    /// Connection, TLS or protocol failure below the API.
    #[error("transport error talking to Proxmox VE: {0}")]
    Transport(#[source] reqwest::Error),
    /// The answer was not what the API schema promises.
    #[error("unexpected answer from Proxmox VE for {what}: {message}")]
    Decode { what: String, message: String },
    /// Any other API error.
    #[error("Proxmox VE API error {status}: {message}")]
    Api { status: u16, message: String },
}

impl PveError {
    /// Whether repeating the same operation later (for AlreadyExists: with a new VMID) may
    /// succeed. Timeouts and transport errors count, since both are typical of a cluster
    /// under load; an unreachable node does not, since the caller should pick another node.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            PveError::Locked { .. }
                | PveError::AlreadyExists { .. }
                | PveError::Timeout { .. }
                | PveError::Transport(_)
        )
    }

    /// Builds the error for an HTTP error answer from its status and message.
    pub(crate) fn from_status(status: u16, message: String) -> PveError {
        match status {
            401 => PveError::Unauthorized { message },
            403 => PveError::Forbidden { message },
            404 => PveError::NotFound { message },
            595 | 596 => PveError::NodeUnreachable { status, message },
            _ => classify_message(message).unwrap_or_else(|message| PveError::Api { status, message }),
        }
    }

    /// Builds the error for a task whose exit status is not `OK`.
    pub(crate) fn from_task(upid: &str, exitstatus: String) -> PveError {
        classify_message(exitstatus)
            .unwrap_or_else(|exitstatus| PveError::TaskFailed { upid: upid.to_owned(), exitstatus })
    }
}

/// Recognises the messages Proxmox uses for busy, duplicate and missing objects, which it
/// sends as plain 500 errors or task exit statuses; hands the message back otherwise.
fn classify_message(message: String) -> Result<PveError, String> {
    let lower = message.to_ascii_lowercase();
    if lower.contains("is locked")
        || lower.contains("can't lock file")
        || lower.contains("got timeout")
        || lower.contains("resource busy")
    {
        Ok(PveError::Locked { message })
    } else if lower.contains("already exists") {
        Ok(PveError::AlreadyExists { message })
    } else if lower.contains("does not exist") || lower.contains("no such") {
        Ok(PveError::NotFound { message })
    } else {
        Err(message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_messages_are_locked_and_retryable() {
        for msg in
            ["VM 105 is locked (clone)", "can't lock file '/var/lock/qemu-server/lock-local-lvm.conf' - got timeout"]
        {
            let err = PveError::from_status(500, msg.into());
            assert!(matches!(err, PveError::Locked { .. }), "{msg}: {err:?}");
            assert!(err.is_retryable());
        }
    }

    #[test]
    fn duplicate_vmid_is_already_exists() {
        let err = PveError::from_task("UPID:x", "VM 105 already exists on node 'pve1'".into());
        assert!(matches!(err, PveError::AlreadyExists { .. }));
        assert!(err.is_retryable());
    }

    #[test]
    fn missing_config_file_is_not_found() {
        let err =
            PveError::from_status(500, "Configuration file 'nodes/pve1/qemu-server/999.conf' does not exist".into());
        assert!(matches!(err, PveError::NotFound { .. }));
        assert!(!err.is_retryable());
    }

    #[test]
    fn auth_statuses_map_by_code() {
        assert!(matches!(PveError::from_status(401, "authentication failure".into()), PveError::Unauthorized { .. }));
        assert!(matches!(PveError::from_status(403, "Permission check failed".into()), PveError::Forbidden { .. }));
        let other = PveError::from_task("UPID:x", "disk full".into());
        assert!(matches!(other, PveError::TaskFailed { .. }));
        assert!(!other.is_retryable());
    }
}
