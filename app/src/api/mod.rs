//! Server functions, one module per area. Each one first establishes who is
//! calling ([`context::actor`]), then calls exactly one use case in
//! `services`, which checks permissions and validates input.

/// Where server functions answer: Leptos's default prefix, which `server::web`
/// routes and `error` tells apart from page renders.
pub const SERVER_FN_PREFIX: &str = "/api/";

pub mod activities;
pub mod auth;
pub mod catalogue;
pub mod classroom;
pub mod cluster;
pub mod console;
pub mod dashboard;
pub mod deployment;
pub mod guacamole;
pub mod health;
pub mod mail;
pub mod policies;
pub mod profile;
pub mod roles;
pub mod settings;
pub mod sign_in_settings;
pub mod tasks;
pub mod users;

#[cfg(feature = "ssr")]
pub mod context;

/// Page-query flash keys shown after a successful action (see `i18n::flash_text`).
pub mod flash {
    pub const SAVED: &str = "saved";
    pub const CREATED: &str = "created";
    pub const DELETED: &str = "deleted";
    pub const PASSWORD_CHANGED: &str = "password_changed";
    pub const SIGNED_OUT: &str = "signed_out";
    pub const ACCEPTED: &str = "accepted";
    pub const QUEUED: &str = "queued";
    pub const IMPORTED: &str = "imported";
    pub const TEST_MAIL_SENT: &str = "test_mail_sent";
    pub const RESET_SENT: &str = "reset_sent";
    pub const DONE: &str = "done";
}
