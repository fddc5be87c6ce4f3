//! E-mail: templates bound to actions, rendering, the sent log and delivery
//! through the `mails` job queue.

pub mod defaults;
pub mod ports;
pub mod render;

use std::sync::Arc;

use base64::Engine as _;
use domain::access::ObjectType;
use domain::activity::{Activity, ActivityTarget, ActorKind, Outcome};
use domain::error::Problem;
use domain::mail::{MailAction, MailStatus, MailTemplateView, RenderedMail, SentMailView};
use domain::page::{Page, PageRequest};
use domain::task::Queue;
use domain::{Action, Actor, AppError, Language, Target, UserStatus, validate};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::jobs::worker::StepError;
use crate::jobs::{Job, Requester};
use crate::ports::UserRecord;
use crate::{Services, authorize, passwords};
use ports::{Mailer, NewSentMail, OutgoingMail, SendError, SentMailFilter, TemplateInput};

/// Password-reset mails one account gets per hour at most.
pub const RESET_MAILS_PER_HOUR: u32 = 3;

/// How much of a server's answer a `mail.failed` activity keeps.
const MAIL_ANSWER_MAX: usize = 500;

/// How long an invitation or password-reset link works.
pub const PASSWORD_LINK_HOURS: i64 = 72;

/// The mail server and what links in mails point to.
#[derive(Clone, Default)]
pub struct MailSetup {
    /// `None`: no server configured; mails are logged and their jobs fail
    /// with a message saying so (visible on the Jobs page).
    pub mailer: Option<Arc<dyn Mailer>>,
    /// `OPENVLE_PUBLIC_URL` without the trailing slash.
    pub site_url: String,
    /// Shown in the settings section (`host:port (security)`), never secrets.
    pub description: String,
}

/// A template as the edit form sends it.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct TemplateForm {
    pub name: String,
    /// Empty: bound to no action.
    pub slug: String,
    pub language: String,
    pub subject: String,
    pub html: String,
    pub text: String,
    pub reply_to: String,
}

fn template_input(form: &TemplateForm) -> Result<TemplateInput, AppError> {
    let name = validate::line("name", &form.name, validate::NAME_MAX)?;
    let slug = match form.slug.trim() {
        "" => None,
        slug => Some(MailAction::from_slug(slug).ok_or_else(|| AppError::invalid("slug", Problem::Unknown))?.slug()),
    };
    let language =
        Language::from_code(form.language.trim()).ok_or_else(|| AppError::invalid("language", Problem::Unknown))?;
    let subject = validate::line("subject", &form.subject, 500)?;
    let reply_to = match form.reply_to.trim() {
        "" => String::new(),
        value => validate::email(value)
            .map_err(|_| AppError::invalid("reply_to", Problem::Format { expected: "email".into() }))?,
    };
    render::check(&subject, &form.html, &form.text)
        .map_err(|e| AppError::invalid(e.part, Problem::Format { expected: e.message }))?;
    Ok(TemplateInput {
        name,
        slug: slug.map(str::to_string),
        language,
        subject,
        html: form.html.clone(),
        text: form.text.clone(),
        reply_to,
    })
}

/// Sample values for previews and test sends: every placeholder the action
/// offers, filled so that each is recognisable.
fn sample_context(slug: Option<&str>, user: &UserRecord, site_url: &str) -> Value {
    let mut context = json!({
        "user": {"name": user.name, "username": user.username, "email": user.email},
        "site": {"url": site_url},
        "event": {
            "name": "Sample event",
            "start": "2026-03-02 09:00 UTC",
            "end": "2026-03-06 17:00 UTC",
            "url": format!("{site_url}/events/1"),
        },
        "link": format!("{site_url}/set-password?token=sample"),
        "expires": "2026-03-05 09:00 UTC",
        "error": "Sample error: the node answered 500",
    });
    if slug.and_then(MailAction::from_slug).is_none()
        && let Some(object) = context.as_object_mut()
    {
        object.remove("error");
    }
    context
}

impl Services {
    pub fn with_mail(mut self, setup: MailSetup) -> Services {
        self.mail = setup;
        self
    }

    /// Sends the mail of `action` to user `recipient`, through the `mails`
    /// job queue, in the recipient's language (or the other one when only
    /// that is bound). `context` is a JSON object with the action's values
    /// (`{"event": {"name": .., "start": .., "url": ..}}`); `user` and
    /// `site` are added here. Returns the sent-log id, or `None` when no
    /// template is bound to the action (no mail) or the recipient has no
    /// address.
    ///
    /// For other use cases to call after they have checked their own actor
    /// (it checks nothing itself); `event_id` links the job to the event.
    /// `key`: calls with the same key make one mail, so a job step that calls
    /// `notify` and runs again after a crash sends nothing twice (e.g.
    /// `"events_post_deployment_success:event-7:user-42"`); the second call
    /// returns the first mail's id.
    pub async fn notify(
        &self,
        action: MailAction,
        recipient: i64,
        context: Value,
        event_id: Option<i64>,
        key: Option<&str>,
    ) -> Result<Option<i64>, AppError> {
        if let Some(key) = key
            && let Some(existing) = self.ports.mail.sent_by_key(key).await?
        {
            return Ok(Some(existing));
        }
        let user = self.ports.users.by_id(recipient).await?.ok_or(AppError::NotFound)?;
        if user.email.is_empty() {
            return Ok(None);
        }
        let other = if user.language == Language::En { Language::De } else { Language::En };
        let template = match self.ports.mail.template_for(action.slug(), user.language).await? {
            Some(t) => t,
            None => match self.ports.mail.template_for(action.slug(), other).await? {
                Some(t) => t,
                None => return Ok(None),
            },
        };
        let mut full = json!({
            "user": {"name": user.name, "username": user.username, "email": user.email},
            "site": {"url": self.mail.site_url},
        });
        if let (Some(target), Value::Object(extra)) = (full.as_object_mut(), context) {
            target.extend(extra);
        }
        let id = self.queue_mail(&user, &template, &full, None, event_id, key, None).await?;
        Ok(Some(id))
    }

    /// Renders, records as queued and hands to the job queue. `activity`:
    /// the change, when queueing the mail is it (recorded with the sent-log row).
    #[allow(clippy::too_many_arguments)]
    async fn queue_mail(
        &self,
        user: &UserRecord,
        template: &MailTemplateView,
        context: &Value,
        by: Option<&Actor>,
        event_id: Option<i64>,
        key: Option<&str>,
        activity: Option<&Activity>,
    ) -> Result<i64, AppError> {
        let rendered = render::render(&template.subject, &template.html, &template.text, context)
            .map_err(|e| AppError::invalid(e.part, Problem::Format { expected: e.message }))?;
        let token = hex::encode(rand::random::<[u8; 8]>());
        let mail = NewSentMail {
            recipient_user_id: Some(user.id),
            recipient_name: user.name.clone(),
            recipient_email: user.email.clone(),
            reply_to: template.reply_to.clone(),
            subject: rendered.subject,
            html: rendered.html,
            text: rendered.text,
            template_id: Some(template.id),
            template_name: template.name.clone(),
            // Sent as `<mail-ID.RANDOM@openvle>` once the id is known.
            message_id: token,
            idempotency_key: key.map(str::to_string),
            created_at: self.clock.now(),
        };
        // Part of the change that queued the mail (recorded with it), so the
        // task records no activity of its own.
        let delivery = |mail_id: i64| {
            let key = Some(format!("mail:{mail_id}"));
            let requester = Requester { actor: by, event_id, parent_id: None, idempotency_key: key };
            self.new_task(&Job::SendMail { mail_id }, requester)
        };
        let inserted = self.ports.mail.insert_queued(&mail, &delivery, activity).await;
        match (inserted, key) {
            (Ok((id, task)), _) => {
                self.hand_over(Queue::Mails, task).await;
                Ok(id)
            }
            // A concurrent call with the same key won: that one is the mail.
            (Err(crate::StoreError::Duplicate(_)), Some(key)) => {
                self.ports.mail.sent_by_key(key).await?.ok_or(AppError::NotFound)
            }
            (Err(e), _) => Err(e.into()),
        }
    }

    /// The `send` step of [`Job::SendMail`]. A mail recorded as sent is not
    /// sent again, so a retried or re-delivered job never sends twice. The
    /// remaining window: the server accepted the message and this process
    /// died before the "sent" row was written; the retry then sends it again
    /// with the same Message-ID (see ARCHITECTURE.md, Mail).
    pub async fn deliver_mail(&self, mail_id: i64, last_attempt: bool) -> Result<(), StepError> {
        let store = |e: crate::StoreError| StepError::retryable(format!("storage: {e}"));
        let Some(mail) = self.ports.mail.sent(mail_id).await.map_err(store)? else {
            return Err(StepError::permanent(format!("mail {mail_id} is not in the sent log")));
        };
        if mail.status == MailStatus::Sent {
            return Ok(());
        }
        let now = self.clock.now();
        // The delivery's end (sent, or failed for good) is recorded with its status;
        // a temporary failure that will be retried is not an end.
        let finished = |status: MailStatus, answer: &str| {
            if status == MailStatus::Sent {
                let target = ActivityTarget::new("sent_mails", mail.id, &mail.subject);
                let mut activity = self.system_activity(ActorKind::System, "mail.sent", target);
                activity.details = json!({ "to": mail.recipient_email, "answer": answer });
                return activity;
            }
            // A mail that failed for good belongs to its recipient's timeline,
            // with the server's exact answer as the reason.
            let target = match mail.recipient_user_id {
                Some(user) => ActivityTarget::new("users", user, &mail.recipient_email),
                None => ActivityTarget::new("sent_mails", mail.id, &mail.recipient_email),
            };
            let mut activity = self.system_activity(ActorKind::System, "mail.failed", target);
            activity.outcome = Outcome::Failed;
            activity.reason = Some(answer.chars().take(MAIL_ANSWER_MAX).collect());
            activity.details = json!({
                "mail_id": mail.id, "subject": mail.subject, "template": mail.template_name, "to": mail.recipient_email,
            });
            activity
        };
        let Some(mailer) = self.mail.mailer.clone() else {
            let answer = "no mail server configured (neither SMTP_HOST nor MAIL_DROP_DIR is set)";
            let activity = finished(MailStatus::Failed, answer);
            self.ports
                .mail
                .set_sent_status(mail_id, MailStatus::Failed, answer, now, Some(&activity))
                .await
                .map_err(store)?;
            return Err(StepError::permanent(answer));
        };
        let outgoing = OutgoingMail {
            message_id: format!("<mail-{}.{}@openvle>", mail.id, mail.message_id),
            to_name: mail.recipient_name.clone(),
            to_email: mail.recipient_email.clone(),
            reply_to: mail.reply_to.clone(),
            subject: mail.subject.clone(),
            html: mail.html.clone(),
            text: mail.text.clone(),
        };
        match mailer.send(&outgoing).await {
            Ok(answer) => {
                // Recorded before the job is acknowledged; if this write fails the
                // step is retried and the check above sees no "sent": the one
                // case of a second copy, logged loudly.
                let activity = finished(MailStatus::Sent, &answer);
                if let Err(e) = self
                    .ports
                    .mail
                    .set_sent_status(mail_id, MailStatus::Sent, &answer, self.clock.now(), Some(&activity))
                    .await
                {
                    tracing::error!(mail = mail_id, error = %e, "mail sent but not recorded; a retry will send it again");
                    return Err(store(e));
                }
                Ok(())
            }
            Err(SendError::Temporary(answer)) => {
                let status = if last_attempt { MailStatus::Failed } else { MailStatus::Queued };
                let activity = last_attempt.then(|| finished(MailStatus::Failed, &answer));
                self.ports
                    .mail
                    .set_sent_status(mail_id, status, &answer, self.clock.now(), activity.as_ref())
                    .await
                    .map_err(store)?;
                Err(StepError::retryable(answer))
            }
            Err(SendError::Permanent(answer)) => {
                let activity = finished(MailStatus::Failed, &answer);
                self.ports
                    .mail
                    .set_sent_status(mail_id, MailStatus::Failed, &answer, self.clock.now(), Some(&activity))
                    .await
                    .map_err(store)?;
                Err(StepError::permanent(answer))
            }
        }
    }

    pub async fn list_mail_templates(&self, actor: &Actor) -> Result<Vec<MailTemplateView>, AppError> {
        authorize(actor, Action::Read, Target::All(ObjectType::Setting))?;
        Ok(self.ports.mail.templates().await?)
    }

    pub async fn get_mail_template(&self, actor: &Actor, id: i64) -> Result<MailTemplateView, AppError> {
        authorize(actor, Action::Read, Target::All(ObjectType::Setting))?;
        self.ports.mail.template(id).await?.ok_or(AppError::NotFound)
    }

    /// Creates (`id` = `None`) or updates a template; edits apply to mails
    /// queued afterwards (queued mails keep what they were rendered with).
    pub async fn save_mail_template(
        &self,
        actor: &Actor,
        id: Option<i64>,
        form: TemplateForm,
    ) -> Result<i64, AppError> {
        authorize(actor, Action::Update, Target::All(ObjectType::Setting))?;
        let input = template_input(&form)?;
        let now = self.clock.now();
        match id {
            Some(id) => {
                let target = ActivityTarget::new("mail_templates", id, &input.name);
                let activity = self.activity(actor, "mail_template.update", target);
                self.ports.mail.update_template(id, &input, now, Some(&activity)).await?;
                Ok(id)
            }
            None => {
                let target = ActivityTarget::created("mail_templates", &input.name);
                let activity = self.activity(actor, "mail_template.create", target);
                Ok(self.ports.mail.insert_template(&input, now, Some(&activity)).await?)
            }
        }
    }

    pub async fn delete_mail_template(&self, actor: &Actor, id: i64) -> Result<(), AppError> {
        authorize(actor, Action::Update, Target::All(ObjectType::Setting))?;
        let template = self.ports.mail.template(id).await?.ok_or(AppError::NotFound)?;
        let target = ActivityTarget::new("mail_templates", id, &template.name);
        let activity = self.activity(actor, "mail_template.delete", target);
        Ok(self.ports.mail.delete_template(id, Some(&activity)).await?)
    }

    /// The form rendered with sample values (the actor as recipient).
    pub async fn preview_mail_template(&self, actor: &Actor, form: TemplateForm) -> Result<RenderedMail, AppError> {
        authorize(actor, Action::Read, Target::All(ObjectType::Setting))?;
        let input = template_input(&form)?;
        let me = self.ports.users.by_id(actor.user_id).await?.ok_or(AppError::NotFound)?;
        let context = sample_context(input.slug.as_deref(), &me, &self.mail.site_url);
        render::render(&input.subject, &input.html, &input.text, &context)
            .map_err(|e| AppError::invalid(e.part, Problem::Format { expected: e.message }))
    }

    /// Sends the stored template with sample values to the actor, through
    /// the queue like any mail; returns the sent-log id.
    pub async fn send_template_test(&self, actor: &Actor, id: i64) -> Result<i64, AppError> {
        authorize(actor, Action::Update, Target::All(ObjectType::Setting))?;
        let template = self.ports.mail.template(id).await?.ok_or(AppError::NotFound)?;
        let me = self.ports.users.by_id(actor.user_id).await?.ok_or(AppError::NotFound)?;
        if me.email.is_empty() {
            return Err(AppError::invalid("email", Problem::Required));
        }
        let context = sample_context(template.slug.as_deref(), &me, &self.mail.site_url);
        let activity = self.activity(actor, "mail.test_queue", ActivityTarget::created("sent_mails", &template.name));
        self.queue_mail(&me, &template, &context, Some(actor), None, None, Some(&activity)).await
    }

    /// Sends a short message to the actor right away (not through the
    /// queue) and returns the server's answer; on failure the error carries
    /// the server's exact answer. Either way the mail is in the sent log,
    /// `sent` or `failed` with that answer.
    pub async fn send_test_mail(&self, actor: &Actor) -> Result<String, AppError> {
        authorize(actor, Action::Update, Target::All(ObjectType::Setting))?;
        let me = self.ports.users.by_id(actor.user_id).await?.ok_or(AppError::NotFound)?;
        let Some(mailer) = self.mail.mailer.clone() else {
            return Err(AppError::CheckFailed {
                system: "SMTP".into(),
                message: "neither SMTP_HOST nor MAIL_DROP_DIR is set".into(),
            });
        };
        let token = hex::encode(rand::random::<[u8; 8]>());
        let mail = OutgoingMail {
            message_id: format!("<test-{token}@openvle>"),
            to_name: me.name.clone(),
            to_email: me.email.clone(),
            reply_to: String::new(),
            subject: "OpenVLE test mail".into(),
            html: format!("<p>This test mail from {} reached you.</p>", self.mail.site_url),
            text: format!("This test mail from {} reached you.", self.mail.site_url),
        };
        let result = mailer.send(&mail).await;
        let (status, answer) = match &result {
            Ok(answer) => (MailStatus::Sent, answer.clone()),
            Err(e) => (MailStatus::Failed, e.to_string()),
        };
        let mut activity = self.activity(actor, "mail.test_send", ActivityTarget::new("users", me.id, &me.username));
        activity.details = json!({ "to": me.email, "answer": answer });
        if status == MailStatus::Failed {
            activity.outcome = Outcome::Failed;
            activity.reason = Some(answer.chars().take(MAIL_ANSWER_MAX).collect());
        }
        let logged = NewSentMail {
            recipient_user_id: Some(me.id),
            recipient_name: mail.to_name,
            recipient_email: mail.to_email,
            reply_to: mail.reply_to,
            subject: mail.subject,
            html: mail.html,
            text: mail.text,
            template_id: None,
            template_name: String::new(),
            message_id: token,
            idempotency_key: None,
            created_at: self.clock.now(),
        };
        self.ports.mail.insert_delivered(&logged, status, &answer, Some(&activity)).await?;
        result.map_err(|e| AppError::CheckFailed { system: "SMTP".into(), message: e.to_string() })
    }

    /// Where mail goes (`host:port (security)`), for the settings page.
    pub fn mail_server(&self, actor: &Actor) -> Result<String, AppError> {
        authorize(actor, Action::Read, Target::All(ObjectType::Setting))?;
        Ok(self.mail.description.clone())
    }

    pub async fn list_sent_mails(
        &self,
        actor: &Actor,
        filter: SentMailFilter,
        page: PageRequest,
    ) -> Result<Page<SentMailView>, AppError> {
        authorize(actor, Action::Read, Target::All(ObjectType::Setting))?;
        Ok(self.ports.mail.list_sent(&filter, page).await?)
    }

    pub async fn get_sent_mail(&self, actor: &Actor, id: i64) -> Result<SentMailView, AppError> {
        authorize(actor, Action::Read, Target::All(ObjectType::Setting))?;
        self.ports.mail.sent(id).await?.ok_or(AppError::NotFound)
    }

    /// Queues a failed mail again, as it was rendered.
    pub async fn resend_mail(&self, actor: &Actor, id: i64) -> Result<(), AppError> {
        authorize(actor, Action::Update, Target::All(ObjectType::Setting))?;
        let mail = self.ports.mail.sent(id).await?.ok_or(AppError::NotFound)?;
        if mail.status != MailStatus::Failed {
            return Err(AppError::conflict("mail_not_failed"));
        }
        let now = self.clock.now();
        let activity = self.activity(actor, "mail.resend", ActivityTarget::new("sent_mails", id, &mail.subject));
        let key = Some(format!("mail:{id}:resend:{}", now.millis()));
        let requester = Requester { actor: Some(actor), event_id: None, parent_id: None, idempotency_key: key };
        let delivery = self.new_task(&Job::SendMail { mail_id: id }, requester)?;
        let task = self.ports.mail.requeue_failed(id, &delivery, now, Some(&activity)).await?;
        // Resent meanwhile by someone else.
        let task = task.ok_or_else(|| AppError::conflict("mail_not_failed"))?;
        self.hand_over(Queue::Mails, task).await;
        Ok(())
    }

    /// A single-use link to set the password of `user`, valid for
    /// [`PASSWORD_LINK_HOURS`]; returns the link and its expiry for the mail.
    async fn password_link(&self, user: i64) -> Result<(String, String), AppError> {
        let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
        let expires = self.clock.now().plus_secs(PASSWORD_LINK_HOURS * 3600);
        self.ports.mail.insert_password_token(&self.token_hash(&token), user, expires).await?;
        Ok((format!("{}/set-password?token={token}", self.mail.site_url), expires.format_utc()))
    }

    /// Mails an invitation with a set-password link to a local account that
    /// has no password yet, once per account (key `users_account_created:
    /// user-<id>`): calling it again, as a repeated roster import does, sends
    /// nothing and makes no new link. Called by `create_user` and `import_roster`.
    pub(crate) async fn invite(&self, user: i64) -> Result<Option<i64>, AppError> {
        let key = format!("{}:user-{user}", MailAction::AccountInvitation.slug());
        if let Some(existing) = self.ports.mail.sent_by_key(&key).await? {
            return Ok(Some(existing));
        }
        let (link, expires) = self.password_link(user).await?;
        let context = json!({"link": link, "expires": expires});
        self.notify(MailAction::AccountInvitation, user, context, None, Some(&key)).await
    }

    /// "Forgot password": mails a reset link when `username` names an active
    /// local account with an address. Answers the same either way, so the
    /// form does not tell which usernames exist.
    pub async fn request_password_reset(
        &self,
        username: &str,
        origin: &domain::activity::Origin,
    ) -> Result<(), AppError> {
        let username = domain::activity::typed_name(username).to_lowercase();
        // Every request is recorded, also for names that match no account: a
        // burst of them is worth seeing.
        let target = domain::activity::ActivityTarget::new("users", "", &username);
        let mut activity =
            self.system_activity(domain::activity::ActorKind::User, "user.password_reset_request", target);
        activity.actor_name = username.clone();
        (activity.request_id, activity.client_ip) = (origin.request_id.clone(), origin.client_ip.clone());
        self.record(&activity).await?;
        let Some(user) = self.ports.users.by_username(&username).await? else { return Ok(()) };
        if user.auth_backend != domain::AuthBackend::Internal
            || !matches!(user.status, UserStatus::Active | UserStatus::EmailPending)
            || user.email.is_empty()
        {
            return Ok(());
        }
        // At most a few mails per account and hour: the form is anonymous and
        // must not become a way to flood someone's mailbox.
        let sent = self.ports.attempts.add(&format!("password-reset:{}", user.id), 3600, self.clock.now()).await?;
        if sent > RESET_MAILS_PER_HOUR {
            tracing::warn!(user = user.id, "password reset requested too often; no mail sent");
            return Ok(());
        }
        let (link, expires) = self.password_link(user.id).await?;
        self.notify(MailAction::PasswordReset, user.id, json!({"link": link, "expires": expires}), None, None).await?;
        Ok(())
    }

    /// Sets the password through a link from an invitation or reset mail;
    /// the link then stops working. An invited account becomes active.
    pub async fn set_password_with_token(
        &self,
        token: &str,
        password: &str,
        origin: &domain::activity::Origin,
    ) -> Result<(), AppError> {
        let hash = self.token_hash(token.trim());
        let now = self.clock.now();
        let unknown = || AppError::invalid("token", Problem::Unknown);
        // Check the password before using up the link, so a refused password
        // can be corrected with the same link.
        let user_id = self.ports.mail.password_token_user(&hash, now).await?.ok_or_else(unknown)?;
        let user = self.ports.users.by_id(user_id).await?.ok_or(AppError::NotFound)?;
        validate::new_password(password, &user.username)?;
        let password_hash = passwords::hash(password)?;
        // The person acts on their own account, proven by the link.
        let target = domain::activity::ActivityTarget::new("users", user.id, &user.username);
        let mut activity = self.system_activity(domain::activity::ActorKind::User, "user.password_set_by_link", target);
        (activity.actor_id, activity.actor_name) = (Some(user.id), user.username.clone());
        (activity.request_id, activity.client_ip) = (origin.request_id.clone(), origin.client_ip.clone());
        // The link is used up together with the password's change, never
        // without it.
        if !self.ports.mail.set_password_by_token(&hash, user.id, &password_hash, now, Some(&activity)).await? {
            return Err(unknown());
        }
        self.ports.sessions.delete_for_user(user.id, None).await?;
        Ok(())
    }
}
