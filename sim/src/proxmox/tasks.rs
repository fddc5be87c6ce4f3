//! Asynchronous tasks (UPIDs), per-node task slots and the file locks tasks wait for.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

use super::{Simulator, lock};

/// Finished tasks kept for status and log queries; older ones are forgotten.
const KEEP_FINISHED_TASKS: usize = 10_000;

#[derive(Debug, Clone)]
pub(crate) struct Task {
    pub upid: String,
    pub node: String,
    pub kind: String,
    pub id: String,
    pub user: String,
    pub pid: u32,
    pub pstart: u64,
    pub starttime: u64,
    /// `None` while running; then `OK` or the error.
    pub exitstatus: Option<String>,
    pub log: Vec<String>,
}

#[derive(Debug, Default)]
pub(crate) struct TaskRegistry {
    tasks: HashMap<String, Task>,
    finished: VecDeque<String>,
    next_pid: u32,
}

impl TaskRegistry {
    pub fn get(&self, upid: &str) -> Option<&Task> {
        self.tasks.get(upid)
    }

    fn create(&mut self, node: &str, kind: &str, id: &str, user: &str, pstart: u64) -> String {
        self.next_pid = self.next_pid.wrapping_add(1).max(1000);
        let pid = self.next_pid;
        let starttime = unix_now();
        // Proxmox's format: fixed-width upper-case hex for pid, pstart and start time.
        let upid = format!("UPID:{node}:{pid:08X}:{pstart:08X}:{starttime:08X}:{kind}:{id}:{user}:");
        self.tasks.insert(
            upid.clone(),
            Task {
                upid: upid.clone(),
                node: node.to_owned(),
                kind: kind.to_owned(),
                id: id.to_owned(),
                user: user.to_owned(),
                pid,
                pstart,
                starttime,
                exitstatus: None,
                log: Vec::new(),
            },
        );
        upid
    }

    fn finish(&mut self, upid: &str, result: Result<(), String>) {
        if let Some(task) = self.tasks.get_mut(upid) {
            match result {
                Ok(()) => {
                    task.log.push("TASK OK".into());
                    task.exitstatus = Some("OK".into());
                }
                Err(message) => {
                    task.log.push(format!("TASK ERROR: {message}"));
                    task.exitstatus = Some(message);
                }
            }
            self.finished.push_back(upid.to_owned());
        }
        while self.finished.len() > KEEP_FINISHED_TASKS {
            if let Some(old) = self.finished.pop_front() {
                self.tasks.remove(&old);
            }
        }
    }

    fn log(&mut self, upid: &str, line: String) {
        if let Some(task) = self.tasks.get_mut(upid) {
            task.log.push(line);
        }
    }
}

pub(crate) fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// What a running task's job can do besides changing the cluster.
pub(crate) struct TaskCtx {
    pub sim: Simulator,
    pub upid: String,
}

impl TaskCtx {
    pub fn log(&self, line: impl Into<String>) {
        lock(&self.sim.inner.tasks).log(&self.upid, line.into());
    }

    /// Sleeps `secs` cluster seconds.
    pub async fn work(&self, secs: f64) {
        tokio::time::sleep(self.sim.scaled(secs)).await;
    }

    /// Takes the file lock at `path` (per node unless `cluster_wide`), waiting at most
    /// the configured lock wait, then failing with Proxmox's message.
    pub async fn flock(&self, node: &str, path: &str, cluster_wide: bool) -> Result<OwnedMutexGuard<()>, String> {
        let key = if cluster_wide { path.to_owned() } else { format!("{node}:{path}") };
        let mutex =
            lock(&self.sim.inner.file_locks).entry(key).or_insert_with(|| Arc::new(AsyncMutex::new(()))).clone();
        let wait = self.sim.scaled(self.sim.inner.config.timings.lock_wait);
        match tokio::time::timeout(wait, mutex.lock_owned()).await {
            Ok(guard) => Ok(guard),
            Err(_) => Err(format!("can't lock file '{path}' - got timeout")),
        }
    }
}

pub(crate) fn vm_lock_path(vmid: u32) -> String {
    format!("/var/lock/qemu-server/lock-{vmid}.conf")
}

pub(crate) fn storage_lock_path(storage: &str) -> String {
    format!("/var/lock/qemu-server/lock-{storage}.conf")
}

impl Simulator {
    /// Registers a task and runs `job` in the background once the node has a free task
    /// slot; returns the UPID at once, as Proxmox does.
    pub(crate) fn spawn_task<F, Fut>(&self, node: &str, kind: &str, id: &str, user: &str, job: F) -> String
    where
        F: FnOnce(TaskCtx) -> Fut + Send + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        let pstart = self.inner.epoch.elapsed().as_millis() as u64 / 10 + 1_000_000;
        let upid = lock(&self.inner.tasks).create(node, kind, id, user, pstart);
        let slots = self.inner.node_slots.get(node).cloned();
        let ctx = TaskCtx { sim: self.clone(), upid: upid.clone() };
        tokio::spawn(async move {
            // A closed semaphore cannot happen (we never close it); run unthrottled if so.
            let _permit = match slots {
                Some(slots) => slots.acquire_owned().await.ok(),
                None => None,
            };
            let sim = ctx.sim.clone();
            let upid = ctx.upid.clone();
            let result = job(ctx).await;
            lock(&sim.inner.tasks).finish(&upid, result);
        });
        upid
    }

    pub(crate) fn scaled(&self, secs: f64) -> Duration {
        Duration::from_secs_f64((secs * self.inner.config.time_scale).clamp(0.0, 1e9))
    }

    /// Forgets a deleted VM's file lock.
    pub(crate) fn drop_vm_lock(&self, node: &str, vmid: u32) {
        lock(&self.inner.file_locks).remove(&format!("{node}:{}", vm_lock_path(vmid)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upid_has_proxmox_layout() {
        let mut reg = TaskRegistry::default();
        let upid = reg.create("pve1", "qmclone", "9000", "openvle@pve!demo", 0x12F0A1);
        let parts: Vec<&str> = upid.split(':').collect();
        assert_eq!(parts.len(), 9, "{upid}");
        assert_eq!(parts[0], "UPID");
        assert_eq!(parts[1], "pve1");
        assert_eq!(parts[2].len(), 8);
        assert_eq!(parts[3], "0012F0A1");
        assert_eq!(&parts[5..], ["qmclone", "9000", "openvle@pve!demo", ""]);
        assert!(reg.get(&upid).unwrap().exitstatus.is_none());
        reg.finish(&upid, Err("boom".into()));
        let task = reg.get(&upid).unwrap();
        assert_eq!(task.exitstatus.as_deref(), Some("boom"));
        assert_eq!(task.log.last().map(String::as_str), Some("TASK ERROR: boom"));
    }
}
