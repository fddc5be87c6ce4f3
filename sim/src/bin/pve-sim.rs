//! Standalone Proxmox VE simulator, until the server binary offers
//! `openvle sim proxmox ...`: `pve-sim --nodes 2 --listen 127.0.0.1:8006`.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let args = match sim::proxmox::cli::parse_args(std::env::args_os().skip(1)) {
        Ok(args) => args,
        Err(e) => {
            // clap formats help and errors itself; --help is not a failure.
            let _ = e.print();
            return if e.use_stderr() { ExitCode::FAILURE } else { ExitCode::SUCCESS };
        }
    };
    match sim::proxmox::cli::run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pve-sim: {e}");
            ExitCode::FAILURE
        }
    }
}
