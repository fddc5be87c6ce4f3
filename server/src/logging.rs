//! Structured logs on stderr: readable text by default, JSON for log shippers.

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    // A second init (tests starting several servers) is harmless, so its error is ignored.
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

/// JSON logs (everything at info and above) into a file: the test suites
/// capture their logs so `scripts/test` can check no secret was logged.
pub fn init_json_file(file: std::fs::File) {
    let filter = EnvFilter::new("info,sqlx=warn");
    let writer = std::sync::Mutex::new(file);
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(writer).json().try_init();
}
