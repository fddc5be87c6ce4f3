//! Command-line use: `openvle sim guacamole --listen 127.0.0.1:8080`.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Parser;

use super::{GuacSimConfig, GuacamoleSim};

#[derive(Debug, Clone, clap::Args)]
pub struct GuacamoleSimArgs {
    /// Address to serve plain HTTP on (the API is under /guacamole/api).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Admin account's username.
    #[arg(long, default_value = super::DEMO_ADMIN)]
    pub admin_username: String,
    /// Admin account's password.
    #[arg(long, default_value = super::DEMO_ADMIN_PASSWORD)]
    pub admin_password: String,
    /// Name of the database data source.
    #[arg(long, default_value = super::DEMO_DATA_SOURCE)]
    pub data_source: String,
    /// `json-secret-key` (32 hex digits) enabling encrypted JSON sign-in; `none` disables it.
    #[arg(long, default_value = super::DEMO_JSON_SECRET_KEY)]
    pub json_secret_key: String,
    /// Minutes an idle token stays valid (Guacamole's api-session-timeout).
    #[arg(long, default_value_t = 60)]
    pub session_timeout_minutes: u64,
}

#[derive(Debug, Parser)]
#[command(name = "guacamole", about = "Serve a simulated Apache Guacamole REST API")]
struct Cli {
    #[command(flatten)]
    args: GuacamoleSimArgs,
}

/// Parses arguments (without the program name).
pub fn parse_args<I, T>(args: I) -> Result<GuacamoleSimArgs, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let argv = std::iter::once(std::ffi::OsString::from("guacamole")).chain(args.into_iter().map(Into::into));
    Cli::try_parse_from(argv).map(|cli| cli.args)
}

impl GuacamoleSimArgs {
    pub fn to_config(&self) -> Result<GuacSimConfig, String> {
        let json_secret_key = match self.json_secret_key.as_str() {
            "none" => None,
            key if key.len() == 32 && key.chars().all(|c| c.is_ascii_hexdigit()) => Some(key.to_owned()),
            _ => return Err("--json-secret-key must be 32 hexadecimal digits or `none`".into()),
        };
        Ok(GuacSimConfig {
            admin_username: self.admin_username.clone(),
            admin_password: self.admin_password.clone(),
            data_source: self.data_source.clone(),
            json_secret_key,
            session_timeout: Duration::from_secs(self.session_timeout_minutes.max(1) * 60),
        })
    }
}

/// Serves until Ctrl-C, printing the settings OpenVLE needs.
pub async fn run(args: GuacamoleSimArgs) -> Result<(), String> {
    let config = args.to_config()?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| format!("cannot serve on {}: {e}", args.listen))?;
    let running = GuacamoleSim::new(config.clone()).start(listener).map_err(|e| e.to_string())?;
    println!("Apache Guacamole simulator listening on {}", running.base_url());
    println!(
        "  GUACAMOLE_URL={} GUACAMOLE_USERNAME={} GUACAMOLE_PASSWORD={} GUACAMOLE_DATA_SOURCE={}{}",
        running.base_url(),
        config.admin_username,
        config.admin_password,
        config.data_source,
        config.json_secret_key.as_deref().map(|k| format!(" GUACAMOLE_JSON_SECRET_KEY={k}")).unwrap_or_default(),
    );
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
    running.stop().await.map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_validates() {
        let args = parse_args(["--listen", "127.0.0.1:9080", "--json-secret-key", "none"]).unwrap();
        assert_eq!(args.listen.port(), 9080);
        assert_eq!(args.to_config().unwrap().json_secret_key, None);
        let args = parse_args(["--json-secret-key", "xyz"]).unwrap();
        assert!(args.to_config().is_err());
        let defaults = parse_args(Vec::<String>::new()).unwrap().to_config().unwrap();
        assert_eq!(defaults.data_source, "mysql");
        assert!(defaults.json_secret_key.is_some());
    }
}
