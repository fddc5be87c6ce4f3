//! Proxmox VE API client for OpenVLE.
//!
//! Build a [`PveConfig`] (usually [`PveConfig::from_lookup`] over the `PVE_*` variables),
//! then a [`PveClient`]. The client only lists and touches VMs of the configured pool, so
//! several installations can share one cluster. Asynchronous operations return a
//! [`Upid`]; [`PveClient::wait_task`] waits for it. Errors say whether a retry may help
//! ([`PveError::is_retryable`]).

pub mod adapter;
mod client;
mod config;
pub mod console;
pub mod endpoints;
mod error;
mod tls;
mod types;
pub mod websocket;

pub use client::{ClientBuildError, PveClient};
pub use config::{
    DEFAULT_CONNECT_TIMEOUT, DEFAULT_POOL, DEFAULT_PORT, DEFAULT_REQUEST_TIMEOUT, PveConfig, PveConfigError,
    TlsVerification, vars,
};
pub use error::PveError;
pub use tls::TlsSetupError;
pub use types::{
    CloneOptions, ClusterResource, CpuInfo, IpAddress, MemoryUsage, NetworkInterface, NodeStatus, NodeSummary,
    PoolContents, PoolMember, PoolSummary, QemuVm, ResourceType, Snapshot, StorageInfo, TaskLogLine, TaskStatus, Upid,
    VersionInfo, VmConfig, VmConfigUpdate, VmStatus, VncProxy, guest_ipv4_addresses,
};
