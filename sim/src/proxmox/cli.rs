//! Command-line use: `openvle sim proxmox --nodes 2 --listen 127.0.0.1:8006 ...`.
//!
//! The server binary embeds [`ProxmoxSimArgs`] as a clap subcommand (it derives
//! `clap::Args`) and calls [`run`]; [`parse_args`] parses a plain argument list.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;

use super::config::{DEMO_POOL, DEMO_TOKEN_NAME, DEMO_TOKEN_SECRET, DEMO_USER, FaultRule, SimConfig};
use super::{SimError, Simulator};

#[derive(Debug, Clone, clap::Args)]
pub struct ProxmoxSimArgs {
    /// Number of nodes (pve1, pve2, ...) of the demo cluster.
    #[arg(long, default_value_t = 2)]
    pub nodes: usize,
    /// Address to serve plain HTTP on.
    #[arg(long, default_value = "127.0.0.1:8006")]
    pub listen: SocketAddr,
    /// JSON file keeping pools and VMs across restarts.
    #[arg(long)]
    pub state_file: Option<PathBuf>,
    /// Multiplies every cluster duration: 1 is real time, 0.1 is ten times faster.
    #[arg(long, default_value_t = 1.0)]
    pub time_scale: f64,
    /// A complete simulator configuration as JSON (replaces the demo cluster and --nodes).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Node to start offline (repeatable).
    #[arg(long = "offline-node")]
    pub offline_nodes: Vec<String>,
    /// Fail requests whose path matches with this probability: `PATTERN=RATE`, e.g.
    /// `/nodes/*/qemu/*/clone=0.2` (repeatable).
    #[arg(long = "error-rate", value_parser = parse_error_rate)]
    pub error_rates: Vec<FaultRule>,
    /// Delay requests whose path matches: `PATTERN=MILLISECONDS` (repeatable).
    #[arg(long = "latency", value_parser = parse_latency)]
    pub latencies: Vec<FaultRule>,
}

#[derive(Debug, Parser)]
#[command(name = "proxmox", about = "Serve a simulated Proxmox VE cluster")]
struct Cli {
    #[command(flatten)]
    args: ProxmoxSimArgs,
}

/// Parses arguments (without the program name).
pub fn parse_args<I, T>(args: I) -> Result<ProxmoxSimArgs, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let argv = std::iter::once(std::ffi::OsString::from("proxmox")).chain(args.into_iter().map(Into::into));
    Cli::try_parse_from(argv).map(|cli| cli.args)
}

fn split_rule(value: &str) -> Result<(String, &str), String> {
    let (pattern, number) = value.rsplit_once('=').ok_or_else(|| format!("expected PATTERN=VALUE, got {value:?}"))?;
    if !pattern.starts_with('/') && pattern != "*" {
        return Err(format!("path pattern must start with '/', got {pattern:?}"));
    }
    Ok((pattern.to_owned(), number))
}

fn parse_error_rate(value: &str) -> Result<FaultRule, String> {
    let (path, rate) = split_rule(value)?;
    let error_rate: f64 = rate.parse().map_err(|_| format!("rate must be a number, got {rate:?}"))?;
    if !(0.0..=1.0).contains(&error_rate) {
        return Err(format!("rate must be between 0 and 1, got {error_rate}"));
    }
    Ok(FaultRule { path, error_rate, ..FaultRule::default() })
}

fn parse_latency(value: &str) -> Result<FaultRule, String> {
    let (path, ms) = split_rule(value)?;
    let latency_ms = ms.parse().map_err(|_| format!("latency must be whole milliseconds, got {ms:?}"))?;
    Ok(FaultRule { path, latency_ms, ..FaultRule::default() })
}

impl ProxmoxSimArgs {
    /// The simulator configuration these arguments describe.
    pub fn to_config(&self) -> Result<SimConfig, SimError> {
        let mut config = match &self.config {
            Some(path) => {
                let bytes = std::fs::read(path).map_err(|source| SimError::Io { path: path.clone(), source })?;
                serde_json::from_slice(&bytes).map_err(|source| SimError::StateFormat { path: path.clone(), source })?
            }
            None => {
                if self.nodes == 0 {
                    return Err(SimError::Config("--nodes must be at least 1".into()));
                }
                SimConfig::with_nodes(self.nodes)
            }
        };
        config.time_scale = self.time_scale;
        if self.state_file.is_some() {
            config.state_file = self.state_file.clone();
        }
        config.faults.offline_nodes.extend(self.offline_nodes.iter().cloned());
        config.faults.rules.extend(self.error_rates.iter().cloned());
        config.faults.rules.extend(self.latencies.iter().cloned());
        Ok(config)
    }
}

/// Serves until Ctrl-C, printing where and with which token to connect.
pub async fn run(args: ProxmoxSimArgs) -> Result<(), SimError> {
    let config = args.to_config()?;
    let simulator = Simulator::new(config)?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|source| SimError::Listen { addr: args.listen, source })?;
    let running = simulator.start(listener).map_err(|source| SimError::Listen { addr: args.listen, source })?;
    println!("Proxmox VE simulator listening on {}", running.base_url());
    if running.simulator().config().tokens.iter().any(|t| t.secret == DEMO_TOKEN_SECRET) {
        println!(
            "  PVE_HOSTNAME={} PVE_USER={DEMO_USER} PVE_TOKEN_NAME={DEMO_TOKEN_NAME} PVE_TOKEN_VALUE={DEMO_TOKEN_SECRET} PVE_VMS_POOL={DEMO_POOL}",
            running.base_url()
        );
    }
    // If Ctrl-C cannot be watched, serving until killed is still the right behaviour.
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
    running.stop().await.map_err(|source| SimError::Listen { addr: args.listen, source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_example() {
        let args = parse_args([
            "--nodes",
            "3",
            "--listen",
            "127.0.0.1:9006",
            "--state-file",
            "x.json",
            "--time-scale",
            "0.5",
            "--offline-node",
            "pve3",
            "--error-rate",
            "/nodes/*/qemu/*/clone=0.25",
            "--latency",
            "/cluster/resources=200",
        ])
        .unwrap();
        assert_eq!(args.nodes, 3);
        assert_eq!(args.listen, "127.0.0.1:9006".parse().unwrap());
        let config = args.to_config().unwrap();
        assert_eq!(config.nodes.len(), 3);
        assert_eq!(config.time_scale, 0.5);
        assert_eq!(config.state_file, Some(PathBuf::from("x.json")));
        assert_eq!(config.faults.offline_nodes, ["pve3"]);
        assert_eq!(config.faults.rules.len(), 2);
        assert_eq!(config.faults.rules[0].error_rate, 0.25);
        assert_eq!(config.faults.rules[1].latency_ms, 200);
    }

    #[test]
    fn defaults_and_errors() {
        let args = parse_args(Vec::<String>::new()).unwrap();
        assert_eq!(args.nodes, 2);
        assert_eq!(args.listen.port(), 8006);
        assert!(parse_args(["--error-rate", "/x=2"]).is_err());
        assert!(parse_args(["--error-rate", "nopattern"]).is_err());
        assert!(parse_args(["--bogus"]).is_err());
    }
}
