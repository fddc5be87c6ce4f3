//! `openvle`: the one binary. Subcommands start the web server (with the
//! worker and scheduler once they exist), the demo, migrations, and admin
//! account management.

mod cli;
mod config;
mod demo;
mod health;
mod logging;
mod web;
mod wiring;

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    cli::run().await
}
