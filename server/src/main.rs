//! `openvle`: the one binary. Subcommands start the web server (with the
//! worker and scheduler once they exist), the demo, migrations, and admin
//! account management.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    server::cli::run().await
}
