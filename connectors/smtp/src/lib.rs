//! SMTP delivery for OpenVLE (lettre over tokio with rustls/ring): implicit
//! TLS (port 465, the original product's setting), STARTTLS (587) or plain
//! (local relays), optional authentication, a custom CA or (warned) no
//! certificate verification, and timeouts. `adapter::SmtpMailer` implements
//! the `services::mail::ports::Mailer` port; `mail_drop::MailDrop` implements
//! it without a server, writing each mail to a folder.

pub mod adapter;
pub mod config;
pub mod mail_drop;
#[cfg(feature = "testing")]
pub mod testing;

pub use adapter::SmtpMailer;
pub use config::{MailDropConfig, Security, SmtpConfig};
pub use mail_drop::MailDrop;
