//! Memory benchmark of the Proxmox VE simulator: creates 5,000 VMs and prints the
//! process's resident memory and the cost per VM. Target: under 50 MB in total.
//! Run with `cargo run --release -p sim --bin sim-bench [COUNT]`.

use std::process::ExitCode;

use sim::proxmox::{DEMO_POOL, SimConfig, Simulator, VmSpec};

const TARGET_BYTES: u64 = 50 * 1024 * 1024;

/// Resident set size from `/proc/self/status` (Linux only).
fn rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

fn main() -> ExitCode {
    let count: u32 = match std::env::args().nth(1).map(|a| a.parse()) {
        None => 5_000,
        Some(Ok(n)) => n,
        Some(Err(_)) => {
            eprintln!("usage: sim-bench [VM_COUNT]");
            return ExitCode::FAILURE;
        }
    };
    let simulator = match Simulator::new(SimConfig::with_nodes(4)) {
        Ok(sim) => sim,
        Err(e) => {
            eprintln!("cannot build simulator: {e}");
            return ExitCode::FAILURE;
        }
    };
    let Some(before) = rss_bytes() else {
        eprintln!("cannot read /proc/self/status (Linux only)");
        return ExitCode::FAILURE;
    };
    for i in 0..count {
        let vmid = 100 + i;
        let spec = VmSpec {
            vmid,
            name: format!("course-{}-student-{}", i / 30, i % 30),
            node: format!("pve{}", i % 4 + 1),
            pool: Some(DEMO_POOL.into()),
            template: false,
            cores: 2,
            memory_mib: 2048,
            disk_gib: 8.0,
            storage: "vmdata".into(),
            description: format!("OpenVLE course {} seat {}; connect with SSH.", i / 30, i % 30),
            tags: "openvle;ssh".into(),
            agent: true,
            running: i % 2 == 0,
        };
        if let Err(e) = simulator.add_vm(spec) {
            eprintln!("cannot add VM {vmid}: {e}");
            return ExitCode::FAILURE;
        }
    }
    let after = rss_bytes().unwrap_or(before);
    let per_vm = after.saturating_sub(before) / u64::from(count.max(1));
    println!("VMs:         {}", simulator.vm_count());
    println!("RSS before:  {:.1} MiB", before as f64 / 1048576.0);
    println!("RSS after:   {:.1} MiB", after as f64 / 1048576.0);
    println!("per VM:      {per_vm} bytes");
    let verdict = if after < TARGET_BYTES { "within" } else { "OVER" };
    println!("target:      {verdict} 50 MiB");
    if after < TARGET_BYTES { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}
