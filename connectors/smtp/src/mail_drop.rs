//! The `Mailer` port without a mail server: each message is written to a
//! folder as an `.eml` file (RFC 5322, as it would have gone over SMTP), which
//! any mail program opens. For trials and the demo: invitations and password
//! links can be read, and the sent log says where each mail went instead of
//! filling with failures.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use services::mail::ports::{Mailer, OutgoingMail, SendError};

use crate::adapter::{Sender, SetupError};
use crate::config::MailDropConfig;

pub struct MailDrop {
    dir: PathBuf,
    sender: Sender,
}

impl MailDrop {
    pub fn new(config: &MailDropConfig) -> Result<MailDrop, SetupError> {
        Ok(MailDrop { dir: config.dir.clone(), sender: Sender::new(&config.from, &config.reply_to)? })
    }

    /// The message's file: named after its Message-ID, so a mail sent again
    /// (a retried job) replaces its first copy rather than adding a second.
    fn file_for(&self, mail: &OutgoingMail) -> PathBuf {
        let name: String = mail
            .message_id
            .trim_matches(['<', '>'])
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || c == '.' || c == '-' { c } else { '_' })
            .collect();
        self.dir.join(format!("{name}.eml"))
    }
}

/// Writes through a temporary file, so a reader never sees half a message.
async fn write_whole(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let partial = path.with_extension("eml.partial");
    tokio::fs::write(&partial, bytes).await?;
    tokio::fs::rename(&partial, path).await
}

#[async_trait]
impl Mailer for MailDrop {
    async fn send(&self, mail: &OutgoingMail) -> Result<String, SendError> {
        let message = self.sender.message(mail)?;
        let path = self.file_for(mail);
        let failed = |e: std::io::Error| SendError::Temporary(format!("cannot write {}: {e}", path.display()));
        tokio::fs::create_dir_all(&self.dir).await.map_err(failed)?;
        write_whole(&path, &message.formatted()).await.map_err(failed)?;
        Ok(format!("written to {} instead of sent (MAIL_DROP_DIR)", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mail(message_id: &str) -> OutgoingMail {
        OutgoingMail {
            message_id: message_id.into(),
            to_name: "Ada Lovelace".into(),
            to_email: "ada@example.org".into(),
            reply_to: String::new(),
            subject: "Your machines are ready".into(),
            html: "<p>Connect now</p>".into(),
            text: "Connect now".into(),
        }
    }

    #[tokio::test]
    async fn a_mail_becomes_one_eml_file_named_after_its_message_id() {
        let dir = tempfile::tempdir().unwrap();
        let config = MailDropConfig {
            dir: dir.path().join("mail"),
            from: "OpenVLE <noreply@example.org>".into(),
            reply_to: "help@example.org".into(),
        };
        let outbox = MailDrop::new(&config).unwrap();
        let answer = outbox.send(&mail("<mail-7.ab12@openvle>")).await.unwrap();
        let path = dir.path().join("mail").join("mail-7.ab12_openvle.eml");
        assert!(answer.contains(&path.display().to_string()), "{answer}");
        let written = std::fs::read_to_string(&path).unwrap();
        for header in [
            "From: OpenVLE <noreply@example.org>",
            "To: \"Ada Lovelace\" <ada@example.org>",
            "Reply-To: help@example.org",
            "Subject: Your machines are ready",
            "Message-ID: <mail-7.ab12@openvle>",
        ] {
            assert!(written.contains(header), "{header} in\n{written}");
        }
        assert!(written.contains("Connect now") && written.contains("<p>Connect now</p>"));

        // Sent again (a retried job): the same file, not a second one.
        outbox.send(&mail("<mail-7.ab12@openvle>")).await.unwrap();
        outbox.send(&mail("<mail-8.cd34@openvle>")).await.unwrap();
        let files = std::fs::read_dir(dir.path().join("mail")).unwrap().count();
        assert_eq!(files, 2);
    }

    #[tokio::test]
    async fn a_bad_recipient_is_refused_and_nothing_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let config =
            MailDropConfig { dir: dir.path().to_path_buf(), from: "noreply@example.org".into(), reply_to: "".into() };
        let outbox = MailDrop::new(&config).unwrap();
        let mut bad = mail("<mail-9.x@openvle>");
        bad.to_email = "not an address".into();
        assert!(matches!(outbox.send(&bad).await, Err(SendError::Permanent(_))));
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        let unusable = MailDropConfig { from: "nobody".into(), ..config };
        assert!(matches!(MailDrop::new(&unusable), Err(SetupError::From(_))));
    }
}
