//! E-mail as the UI shows it: templates bound to the actions that send them
//! (by slug, as in the original product) and the sent log.

use serde::{Deserialize, Serialize};

use crate::time::Timestamp;
use crate::user::Language;

/// The actions that send mail. Each sends only when a template is bound to
/// its slug; the placeholders listed are what its templates may use.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MailAction {
    EventDeployed,
    EventDeploymentFailed,
    EventDecommissionStarted,
    EventDecommissionFailed,
    AccountInvitation,
    PasswordReset,
    EventStarting,
    VmsReady,
    EventEndingSoon,
}

impl MailAction {
    pub const ALL: [MailAction; 9] = [
        MailAction::EventDeployed,
        MailAction::EventDeploymentFailed,
        MailAction::EventDecommissionStarted,
        MailAction::EventDecommissionFailed,
        MailAction::AccountInvitation,
        MailAction::PasswordReset,
        MailAction::EventStarting,
        MailAction::VmsReady,
        MailAction::EventEndingSoon,
    ];

    /// The original product's slugs where it documented them.
    pub fn slug(self) -> &'static str {
        match self {
            MailAction::EventDeployed => "events_post_deployment_success",
            MailAction::EventDeploymentFailed => "events_post_deployment_failed",
            MailAction::EventDecommissionStarted => "events_decommission_started",
            MailAction::EventDecommissionFailed => "events_post_decommission_failed",
            MailAction::AccountInvitation => "users_account_created",
            MailAction::PasswordReset => "users_password_reset",
            MailAction::EventStarting => "events_starting",
            MailAction::VmsReady => "events_vms_ready",
            MailAction::EventEndingSoon => "events_ending_soon",
        }
    }

    pub fn from_slug(slug: &str) -> Option<MailAction> {
        MailAction::ALL.into_iter().find(|a| a.slug() == slug)
    }

    /// Placeholders this action fills in (`{user.name}` style).
    pub fn placeholders(self) -> &'static [&'static str] {
        match self {
            MailAction::AccountInvitation | MailAction::PasswordReset => {
                &["user.name", "user.username", "user.email", "site.url", "link", "expires"]
            }
            MailAction::EventDeploymentFailed | MailAction::EventDecommissionFailed => {
                &["user.name", "user.username", "user.email", "site.url", "event.name", "event.url", "error"]
            }
            MailAction::EventDeployed
            | MailAction::EventDecommissionStarted
            | MailAction::EventStarting
            | MailAction::VmsReady
            | MailAction::EventEndingSoon => &[
                "user.name",
                "user.username",
                "user.email",
                "site.url",
                "event.name",
                "event.start",
                "event.end",
                "event.url",
            ],
        }
    }
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MailStatus {
    Queued,
    Sent,
    Failed,
}

impl MailStatus {
    pub const ALL: [MailStatus; 3] = [MailStatus::Queued, MailStatus::Sent, MailStatus::Failed];

    pub fn key(self) -> &'static str {
        match self {
            MailStatus::Queued => "queued",
            MailStatus::Sent => "sent",
            MailStatus::Failed => "failed",
        }
    }

    pub fn from_key(key: &str) -> Option<MailStatus> {
        MailStatus::ALL.into_iter().find(|s| s.key() == key)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MailTemplateView {
    pub id: i64,
    pub name: String,
    /// The action (`MailAction::slug`) it is bound to; `None` = unused.
    pub slug: Option<String>,
    pub language: Language,
    pub subject: String,
    pub html: String,
    pub text: String,
    /// Empty: the server's default reply-to address.
    pub reply_to: String,
    pub updated_at: Timestamp,
}

/// One row of the sent log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SentMailView {
    pub id: i64,
    pub recipient_user_id: Option<i64>,
    pub recipient_name: String,
    pub recipient_email: String,
    pub reply_to: String,
    pub subject: String,
    pub html: String,
    pub text: String,
    pub template_id: Option<i64>,
    pub template_name: String,
    pub status: MailStatus,
    /// The mail server's answer to the last attempt (or the network error).
    pub answer: String,
    /// The job that delivers it.
    pub task_id: Option<i64>,
    pub message_id: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A template rendered with sample or real values.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RenderedMail {
    pub subject: String,
    pub html: String,
    pub text: String,
}
