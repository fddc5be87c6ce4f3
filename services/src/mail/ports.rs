//! What the mail use cases need from outside: a mail server (`Mailer`) and
//! storage for templates, the sent log and set-password tokens (`MailRepo`).

use async_trait::async_trait;
use domain::Language;
use domain::activity::Activity;
use domain::mail::{MailStatus, MailTemplateView, SentMailView};
use domain::page::{Page, PageRequest};
use domain::time::Timestamp;

use crate::jobs::NewTask;
use crate::ports::StoreError;

/// Makes the delivery task of a mail from the mail's id (known only once its
/// row is written).
pub type DeliveryTask<'a> = &'a (dyn Fn(i64) -> Result<NewTask, StoreError> + Send + Sync);

/// A rendered message, ready for the wire.
#[derive(Clone, Debug, PartialEq)]
pub struct OutgoingMail {
    /// Stable per sent-log row: a message sent again after a crash carries the
    /// same Message-ID, so mail clients and servers can recognise the copy.
    pub message_id: String,
    pub to_name: String,
    pub to_email: String,
    /// Empty: the server's default (`SMTP_REPLY_TO`), if any.
    pub reply_to: String,
    pub subject: String,
    pub html: String,
    pub text: String,
}

/// Why the server did not take a message. Both carry the server's exact
/// answer (or the network error) for the sent log and the settings page.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum SendError {
    /// Worth trying again later: connection refused, timeout, 4xx answers.
    #[error("{0}")]
    Temporary(String),
    /// Will not work by retrying: 5xx answers, a bad address, TLS refused.
    #[error("{0}")]
    Permanent(String),
}

#[async_trait]
pub trait Mailer: Send + Sync {
    /// Sends one message; `Ok` carries the server's answer to the message data.
    async fn send(&self, mail: &OutgoingMail) -> Result<String, SendError>;
}

/// A template as stored, before it is shown or rendered.
#[derive(Clone, Debug, PartialEq)]
pub struct TemplateInput {
    pub name: String,
    /// The action it is bound to; `None` = not used by any action.
    pub slug: Option<String>,
    pub language: Language,
    pub subject: String,
    pub html: String,
    pub text: String,
    pub reply_to: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct NewSentMail {
    pub recipient_user_id: Option<i64>,
    pub recipient_name: String,
    pub recipient_email: String,
    pub reply_to: String,
    pub subject: String,
    pub html: String,
    pub text: String,
    pub template_id: Option<i64>,
    pub template_name: String,
    pub message_id: String,
    /// A second insert with the same key fails with `Duplicate("idempotency_key")`.
    pub idempotency_key: Option<String>,
    pub created_at: Timestamp,
}

#[derive(Clone, Debug, Default)]
pub struct SentMailFilter {
    pub status: Option<MailStatus>,
    /// Substring of the recipient's address.
    pub recipient: Option<String>,
    /// Substring of the subject.
    pub subject: Option<String>,
    pub template_id: Option<i64>,
}

#[async_trait]
pub trait MailRepo: Send + Sync {
    async fn templates(&self) -> Result<Vec<MailTemplateView>, StoreError>;
    async fn template(&self, id: i64) -> Result<Option<MailTemplateView>, StoreError>;
    /// The template bound to `slug` in `language`.
    async fn template_for(&self, slug: &str, language: Language) -> Result<Option<MailTemplateView>, StoreError>;
    /// `Duplicate("slug")` when another template is bound to the slug in that language.
    /// Mutating methods take the change's activity last (see `crate::activities`).
    async fn insert_template(
        &self,
        input: &TemplateInput,
        now: Timestamp,
        activity: Option<&Activity>,
    ) -> Result<i64, StoreError>;
    async fn update_template(
        &self,
        id: i64,
        input: &TemplateInput,
        now: Timestamp,
        activity: Option<&Activity>,
    ) -> Result<(), StoreError>;
    async fn delete_template(&self, id: i64, activity: Option<&Activity>) -> Result<(), StoreError>;

    /// Records a mail as queued together with the task that delivers it, in
    /// one transaction (a queued mail always has its job): `delivery` makes
    /// the task from the new mail's id. Returns (mail id, task id).
    async fn insert_queued(
        &self,
        mail: &NewSentMail,
        delivery: DeliveryTask<'_>,
        activity: Option<&Activity>,
    ) -> Result<(i64, i64), StoreError>;
    /// Records a mail sent straight away (not through the queue) with its
    /// outcome: `Sent` or `Failed` and the server's answer.
    async fn insert_delivered(
        &self,
        mail: &NewSentMail,
        status: MailStatus,
        answer: &str,
        activity: Option<&Activity>,
    ) -> Result<i64, StoreError>;
    /// The mail inserted with this idempotency key.
    async fn sent_by_key(&self, key: &str) -> Result<Option<i64>, StoreError>;
    async fn sent(&self, id: i64) -> Result<Option<SentMailView>, StoreError>;
    async fn list_sent(&self, filter: &SentMailFilter, page: PageRequest) -> Result<Page<SentMailView>, StoreError>;
    /// Queues a failed mail again with the task `delivery`, in one
    /// transaction; `None` (nothing written) when the mail is not `failed`.
    async fn requeue_failed(
        &self,
        id: i64,
        delivery: &NewTask,
        now: Timestamp,
        activity: Option<&Activity>,
    ) -> Result<Option<i64>, StoreError>;
    /// Sets status and the server's answer.
    async fn set_sent_status(
        &self,
        id: i64,
        status: MailStatus,
        answer: &str,
        now: Timestamp,
        activity: Option<&Activity>,
    ) -> Result<(), StoreError>;

    /// Stores a single-use token (only its hash) for setting a password.
    async fn insert_password_token(
        &self,
        token_hash: &str,
        user_id: i64,
        expires_at: Timestamp,
    ) -> Result<(), StoreError>;
    /// The token's user when it exists and has not expired at `now`.
    async fn password_token_user(&self, token_hash: &str, now: Timestamp) -> Result<Option<i64>, StoreError>;
    /// In one transaction: removes the token when it exists, belongs to
    /// `user_id` and has not expired at `now`, and then stores the user's new
    /// password hash (an `email_pending` account becomes active). Returns
    /// whether the token was used: of two requests racing with one token
    /// only one wins, and a failure after the token's removal keeps the token.
    async fn set_password_by_token(
        &self,
        token_hash: &str,
        user_id: i64,
        password_hash: &str,
        now: Timestamp,
        activity: Option<&Activity>,
    ) -> Result<bool, StoreError>;
}
