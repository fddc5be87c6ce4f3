//! Command-line interface.

use std::io::BufRead;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::background::{self, Roles};
use crate::config::{Config, SecretSource, variables_help};
use crate::{demo, logging, web, wiring};

#[derive(Parser)]
#[command(name = "openvle", version, about = "OpenVLE: virtual machines for every course participant, in the browser.")]
#[command(after_long_help = variables_help(), after_help = "Configuration comes from environment variables; `openvle --help` lists them.")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web server with a worker and the scheduler (the default).
    Serve {
        /// Do not run a worker in this process.
        #[arg(long)]
        no_worker: bool,
        /// Do not run the scheduler in this process.
        #[arg(long)]
        no_scheduler: bool,
    },
    /// Run only a worker (more of them scale out the background work).
    Worker,
    /// Run only the scheduler (several may run; one leads at a time).
    Scheduler,
    /// Try OpenVLE on this machine: embedded database, demo accounts, no other services needed.
    Demo,
    /// Apply database migrations and seed default roles and settings, then exit.
    Migrate,
    /// Manage accounts from the command line.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Run a simulator of an external system on its own (for demos and tests).
    Sim {
        #[command(subcommand)]
        system: SimCommand,
    },
}

#[derive(Subcommand)]
enum SimCommand {
    /// A Proxmox VE cluster speaking the real HTTP API.
    Proxmox(sim::proxmox::cli::ProxmoxSimArgs),
    /// An Apache Guacamole REST API (users, connections, permissions, JSON sign-in).
    Guacamole(sim::guacamole::cli::GuacamoleSimArgs),
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create an account, or reset the password of an existing one.
    Create {
        #[arg(long)]
        username: String,
        /// Role key to give (repeatable), e.g. admin, instructor, participant.
        #[arg(long = "role")]
        roles: Vec<String>,
        #[arg(long, default_value = "")]
        name: String,
        #[arg(long, default_value = "")]
        email: String,
        #[arg(long, default_value = "en")]
        language: String,
        /// Read the password from standard input instead of generating one.
        #[arg(long)]
        password_stdin: bool,
    },
}

/// Prints one line naming what is wrong and returns the failure code.
fn fail(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("openvle: {message}");
    ExitCode::from(2)
}

pub async fn run() -> ExitCode {
    let cli = Cli::parse();
    crate::install_crypto_provider();
    // Simulators need none of the server's configuration.
    if let Some(Command::Sim { system: SimCommand::Proxmox(args) }) = cli.command {
        logging::init(crate::config::LogFormat::Text);
        return match sim::proxmox::cli::run(args).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(e),
        };
    }
    if let Some(Command::Sim { system: SimCommand::Guacamole(args) }) = cli.command {
        logging::init(crate::config::LogFormat::Text);
        return match sim::guacamole::cli::run(args).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(e),
        };
    }
    let secret = match cli.command {
        Some(Command::Demo) => SecretSource::GeneratedInDataDir,
        _ => SecretSource::Required,
    };
    let config = match Config::from_env(secret) {
        Ok(config) => config,
        Err(e) => return fail(e),
    };
    logging::init(config.log_format);
    let result = match cli.command.unwrap_or(Command::Serve { no_worker: false, no_scheduler: false }) {
        Command::Serve { no_worker, no_scheduler } => {
            serve(config, Roles { worker: !no_worker, scheduler: !no_scheduler }).await
        }
        Command::Worker => background_only(config, Roles { worker: true, scheduler: false }).await,
        Command::Scheduler => background_only(config, Roles { worker: false, scheduler: true }).await,
        Command::Demo => demo::run(config).await,
        Command::Migrate => migrate(config).await,
        Command::User { command } => user(config, command).await,
        Command::Sim { .. } => Ok(()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(e),
    }
}

async fn serve(config: Config, roles: Roles) -> Result<(), wiring::StartError> {
    let listener = web::bind(&config).await?;
    let system = wiring::System::start(&config).await?;
    let shutdown = background::shutdown_on_signal();
    let handles = background::start(&system, &config.jobs, roles, &shutdown);
    let served = web::serve(listener, &config, system, shutdown).await;
    background::join(handles).await;
    served
}

async fn background_only(config: Config, roles: Roles) -> Result<(), wiring::StartError> {
    if config.redis.is_none() {
        return Err(wiring::StartError::Input(
            "a separate worker or scheduler needs the shared queue: set REDIS_HOST (without Redis, `openvle serve` runs them in-process)".into(),
        ));
    }
    let system = wiring::System::start(&config).await?;
    let shutdown = background::shutdown_on_signal();
    background::join(background::start(&system, &config.jobs, roles, &shutdown)).await;
    Ok(())
}

async fn migrate(config: Config) -> Result<(), wiring::StartError> {
    wiring::System::start(&config).await?;
    println!("Database is up to date.");
    Ok(())
}

async fn user(config: Config, command: UserCommand) -> Result<(), wiring::StartError> {
    let system = wiring::System::start(&config).await?;
    match command {
        UserCommand::Create { username, roles, name, email, language, password_stdin } => {
            let (password, generated) = if password_stdin {
                let mut line = String::new();
                std::io::stdin().lock().read_line(&mut line).map_err(|e| wiring::StartError::Input(e.to_string()))?;
                (line.trim_end_matches(['\r', '\n']).to_string(), false)
            } else {
                (wiring::random_password(), true)
            };
            let name = if name.is_empty() { username.clone() } else { name };
            let email = if email.is_empty() { format!("{username}@localhost.localdomain") } else { email };
            let input = services::accounts::UserInput {
                username: username.clone(),
                name,
                email,
                language,
                password: password.clone(),
                role_keys: roles,
            };
            system
                .services
                .bootstrap_user(input)
                .await
                .map_err(|e| wiring::StartError::Input(app::i18n::error_text(&e, domain::Language::En)))?;
            // Usernames are stored lowercase; show the one to sign in with.
            let username = domain::validate::username(&username).unwrap_or(username);
            if generated {
                println!("User {username} is ready. Password: {password}");
            } else {
                println!("User {username} is ready.");
            }
            Ok(())
        }
    }
}
