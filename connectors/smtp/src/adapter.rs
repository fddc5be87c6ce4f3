//! The `Mailer` port over lettre.

use std::error::Error as _;

use async_trait::async_trait;
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use services::mail::ports::{Mailer, OutgoingMail, SendError};

use crate::config::{Security, SmtpConfig};

/// A configuration the mailer cannot start with.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("SMTP_FROM {0:?} is not a mail address")]
    From(String),
    #[error("SMTP_REPLY_TO {0:?} is not a mail address")]
    ReplyTo(String),
    #[error("cannot read SMTP_CA_FILE {path}: {error}")]
    CaFile { path: String, error: String },
    #[error("TLS setup failed: {0}")]
    Tls(String),
}

pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    sender: Sender,
}

/// Who a message is from, and where answers go unless the mail says otherwise.
pub(crate) struct Sender {
    from: Mailbox,
    reply_to: Option<Mailbox>,
}

impl Sender {
    /// `SMTP_FROM` and `SMTP_REPLY_TO` (empty: none).
    pub(crate) fn new(from: &str, reply_to: &str) -> Result<Sender, SetupError> {
        let from: Mailbox = from.parse().map_err(|_| SetupError::From(from.to_string()))?;
        let reply_to = match reply_to.trim() {
            "" => None,
            value => Some(value.parse().map_err(|_| SetupError::ReplyTo(value.to_string()))?),
        };
        Ok(Sender { from, reply_to })
    }

    /// The MIME message: text and HTML alternatives.
    pub(crate) fn message(&self, mail: &OutgoingMail) -> Result<Message, SendError> {
        let to = Mailbox::new(
            Some(mail.to_name.clone()).filter(|n| !n.is_empty()),
            mail.to_email
                .parse()
                .map_err(|_| SendError::Permanent(format!("recipient {:?} is not a mail address", mail.to_email)))?,
        );
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.clone())
            .message_id(Some(mail.message_id.clone()));
        let reply_to = match mail.reply_to.trim() {
            "" => self.reply_to.clone(),
            value => Some(
                value.parse().map_err(|_| SendError::Permanent(format!("reply-to {value:?} is not a mail address")))?,
            ),
        };
        if let Some(reply_to) = reply_to {
            builder = builder.reply_to(reply_to);
        }
        builder
            .multipart(
                MultiPart::alternative()
                    .singlepart(SinglePart::builder().header(ContentType::TEXT_PLAIN).body(mail.text.clone()))
                    .singlepart(SinglePart::builder().header(ContentType::TEXT_HTML).body(mail.html.clone())),
            )
            .map_err(|e| SendError::Permanent(format!("cannot build the message: {e}")))
    }
}

impl SmtpMailer {
    pub fn new(config: &SmtpConfig) -> Result<SmtpMailer, SetupError> {
        let sender = Sender::new(&config.from, &config.reply_to)?;
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(config.host.clone())
            .port(config.port)
            .timeout(Some(config.timeout));
        if config.security != Security::Plain {
            let mut tls = TlsParameters::builder(config.host.clone());
            if let Some(path) = &config.ca_file {
                let pem = std::fs::read(path)
                    .map_err(|e| SetupError::CaFile { path: path.display().to_string(), error: e.to_string() })?;
                let cert = Certificate::from_pem(&pem)
                    .map_err(|e| SetupError::CaFile { path: path.display().to_string(), error: e.to_string() })?;
                tls = tls.add_root_certificate(cert);
            }
            if config.skip_verify {
                tracing::warn!(
                    host = %config.host,
                    "SMTP_SKIP_VERIFY is set: the mail server's certificate is not checked; anyone on the path can read the mail"
                );
                tls = tls.dangerous_accept_invalid_certs(true);
            }
            let parameters = tls.build_rustls().map_err(|e| SetupError::Tls(e.to_string()))?;
            builder = builder.tls(match config.security {
                Security::Tls => Tls::Wrapper(parameters),
                _ => Tls::Required(parameters),
            });
        }
        if !config.username.is_empty() {
            builder = builder.credentials(Credentials::new(config.username.clone(), config.password.clone()));
        }
        Ok(SmtpMailer { transport: builder.build(), sender })
    }
}

/// The server's answer (`550 5.1.1 <x@y>: Recipient address rejected`) or
/// the network error (`network error: Connection refused (os error 111)`).
fn describe(error: &lettre::transport::smtp::Error) -> String {
    match (error.status(), error.source()) {
        (Some(code), Some(text)) => format!("{code} {text}"),
        _ => error.to_string(),
    }
}

/// A TLS handshake refused by rustls (unknown issuer, wrong name, expired):
/// lettre reports it as a connection error, but retrying will not help.
fn is_certificate_problem(error: &lettre::transport::smtp::Error) -> bool {
    let mut source = error.source();
    while let Some(inner) = source {
        if inner.downcast_ref::<rustls::Error>().is_some()
            || inner
                .downcast_ref::<std::io::Error>()
                .and_then(|io| io.get_ref())
                .is_some_and(|e| e.downcast_ref::<rustls::Error>().is_some())
        {
            return true;
        }
        source = inner.source();
    }
    false
}

fn classify(error: &lettre::transport::smtp::Error) -> SendError {
    let answer = describe(error);
    // Temporary: 4xx answers, and anything on the way (refused, reset, timeout,
    // the server closing on us). Permanent: 5xx answers and TLS failures, which
    // a retry will not fix (a wrong certificate stays wrong).
    if error.is_permanent() || error.is_tls() || is_certificate_problem(error) {
        SendError::Permanent(answer)
    } else {
        SendError::Temporary(answer)
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, mail: &OutgoingMail) -> Result<String, SendError> {
        let message = self.sender.message(mail)?;
        match self.transport.send(message).await {
            Ok(response) => Ok(format!("{} {}", response.code(), response.message().collect::<Vec<_>>().join(" "))),
            Err(error) => Err(classify(&error)),
        }
    }
}
