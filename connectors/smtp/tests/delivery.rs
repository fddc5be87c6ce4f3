//! The lettre adapter against a real SMTP server (aiosmtpd): each way of
//! connecting, authentication, headers, both bodies, and the server's exact
//! answers sorted into temporary and permanent failures.

use std::time::Duration;

use services::mail::ports::{Mailer, OutgoingMail, SendError};
use smtp_connector::testing::{SmtpServer, free_port};
use smtp_connector::{Security, SmtpMailer};

fn mail(to: &str) -> OutgoingMail {
    OutgoingMail {
        message_id: "<mail-1.abc@openvle.test>".into(),
        to_name: "Ada Lovelace".into(),
        to_email: to.into(),
        reply_to: "teachers@school.test".into(),
        subject: "Grüße aus dem Labor".into(),
        html: "<p>Hello <b>Ada</b> &amp; welcome</p>".into(),
        text: "Hello Ada & welcome\nhttps://vle.test/set-password?token=abc".into(),
    }
}

#[tokio::test]
async fn implicit_tls_delivers_headers_and_both_bodies() {
    let server = SmtpServer::start();
    let mailer = SmtpMailer::new(&server.config()).unwrap();
    let answer = mailer.send(&mail("ada@school.test")).await.unwrap();
    assert!(answer.starts_with("250"), "{answer}");
    let got = server.messages();
    assert_eq!(got.len(), 1);
    let m = &got[0];
    assert_eq!(m.rcpt_tos, ["ada@school.test"]);
    assert_eq!(m.mail_from, "noreply@openvle.test");
    assert_eq!(m.to, "Ada Lovelace <ada@school.test>");
    assert_eq!(m.from, "OpenVLE <noreply@openvle.test>");
    assert_eq!(m.reply_to, "teachers@school.test");
    assert_eq!(m.subject, "Grüße aus dem Labor");
    assert_eq!(m.message_id, "<mail-1.abc@openvle.test>");
    assert_eq!(m.text.trim_end(), "Hello Ada & welcome\nhttps://vle.test/set-password?token=abc");
    assert_eq!(m.html.trim_end(), "<p>Hello <b>Ada</b> &amp; welcome</p>");
}

#[tokio::test]
async fn starttls_and_authentication() {
    let server = SmtpServer::start_with(Security::StartTls, Some(("mailer", "s3cret")));
    let mailer = SmtpMailer::new(&server.config()).unwrap();
    mailer.send(&mail("ada@school.test")).await.unwrap();
    assert!(server.messages()[0].auth);

    let mut wrong = server.config();
    wrong.password = "wrong".into();
    let error = SmtpMailer::new(&wrong).unwrap().send(&mail("ada@school.test")).await.unwrap_err();
    assert!(matches!(&error, SendError::Permanent(answer) if answer.starts_with("535")), "{error:?}");
}

#[tokio::test]
async fn plain_for_local_relays() {
    let server = SmtpServer::start_with(Security::Plain, None);
    let mailer = SmtpMailer::new(&server.config()).unwrap();
    mailer.send(&mail("ada@school.test")).await.unwrap();
    assert_eq!(server.messages().len(), 1);
}

#[tokio::test]
async fn the_servers_answers_are_classified_and_kept_exactly() {
    let server = SmtpServer::start();
    let mailer = SmtpMailer::new(&server.config()).unwrap();
    let permanent = mailer.send(&mail("nobody@reject.test")).await.unwrap_err();
    assert_eq!(
        permanent,
        SendError::Permanent("550 5.1.1 <nobody@reject.test>: Recipient address rejected: User unknown".into())
    );
    let temporary = mailer.send(&mail("busy@later.test")).await.unwrap_err();
    assert_eq!(
        temporary,
        SendError::Temporary("451 4.3.0 <busy@later.test>: Temporarily unavailable, try again later".into())
    );
    assert!(server.messages().is_empty());
}

#[tokio::test]
async fn an_unreachable_server_is_temporary_and_an_untrusted_certificate_permanent() {
    let server = SmtpServer::start();
    let mut closed = server.config();
    closed.port = free_port();
    closed.timeout = Duration::from_secs(2);
    let error = SmtpMailer::new(&closed).unwrap().send(&mail("ada@school.test")).await.unwrap_err();
    assert!(matches!(&error, SendError::Temporary(a) if a.contains("Connection refused")), "{error:?}");

    let mut untrusted = server.config();
    untrusted.ca_file = None;
    let error = SmtpMailer::new(&untrusted).unwrap().send(&mail("ada@school.test")).await.unwrap_err();
    assert!(matches!(&error, SendError::Permanent(a) if a.contains("UnknownIssuer")), "{error:?}");

    untrusted.skip_verify = true;
    SmtpMailer::new(&untrusted).unwrap().send(&mail("ada@school.test")).await.unwrap();
    assert_eq!(server.messages().len(), 1);
}
