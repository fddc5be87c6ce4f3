//! One module per page (or group of pages about one thing).

pub mod activities;
pub mod catalogue;
pub mod classroom;
pub mod cluster;
pub mod console;
pub mod dashboard;
pub mod deployment;
pub mod guacamole;
pub mod health;
pub mod login;
pub mod mail;
pub mod not_found;
pub mod policies;
pub mod profile;
pub mod roles;
pub mod settings;
pub mod sign_in_settings;
pub mod tasks;
pub mod users;

/// The numeric `:id` of the current route, if it is one.
pub fn route_id() -> leptos::prelude::Memo<Option<i64>> {
    use leptos::prelude::*;
    let params = leptos_router::hooks::use_params_map();
    Memo::new(move |_| params.with(|p| p.get("id").and_then(|id| id.parse().ok())))
}
