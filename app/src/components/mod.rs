//! Building blocks shared by the pages.

pub mod forms;
pub mod layout;
pub mod pager;
pub mod tags;

use domain::Language;
use leptos::prelude::*;

use crate::api::auth::ShellInfo;
use crate::error::ApiError;
use crate::i18n::{Msg, error_text};

/// The language of the current visitor (English until the shell is known).
pub fn use_lang() -> Language {
    use_context::<ShellInfo>().map(|s| s.language).unwrap_or_default()
}

/// Shorthand for a message in the visitor's language.
pub fn t(msg: Msg) -> &'static str {
    msg.text(use_lang())
}

/// The visitor's time zone (IANA name; UTC until the shell is known).
pub fn use_zone() -> String {
    use_context::<ShellInfo>()
        .map(|s| s.time_zone)
        .filter(|z| !z.is_empty())
        .unwrap_or_else(|| domain::zone::DEFAULT_ZONE.to_string())
}

/// A time in the visitor's zone, the zone named (`2026-03-02 10:00 Europe/Berlin`).
pub fn local_time(at: domain::time::Timestamp) -> String {
    domain::zone::format_in(at, &use_zone())
}

/// The signed-in actor; pages under the signed-in layout always have one.
pub fn use_actor() -> Option<domain::Actor> {
    use_context::<ShellInfo>().and_then(|s| s.user.map(|u| u.actor))
}

/// A failed call's error as a sentence in the visitor's language, announced to screen readers.
pub fn error_view(e: &ApiError) -> AnyView {
    view! { <p role="alert" class="rounded border border-red-300 bg-red-50 px-4 py-3 text-sm text-red-800">{error_text(&e.0, use_lang())}</p> }
        .into_any()
}

/// The error of the object a page is about (`/events/42` when there is no
/// event 42): shown as [`error_view`], and answered with 404 or 403 when the
/// page is rendered on the server, so a stale bookmark or a guessed id is not
/// a "200 OK". Errors of a page's sections keep using `error_view`: a part
/// of the page failing does not make the page missing.
pub fn page_error_view(e: &ApiError) -> AnyView {
    #[cfg(feature = "ssr")]
    match e.0 {
        domain::AppError::NotFound => answer_status(http::StatusCode::NOT_FOUND),
        domain::AppError::Forbidden => answer_status(http::StatusCode::FORBIDDEN),
        _ => {}
    }
    error_view(e)
}

/// The HTTP status of the page being rendered on the server.
#[cfg(feature = "ssr")]
pub fn answer_status(status: http::StatusCode) {
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(status);
    }
}

/// A friendly block for lists with nothing in them.
#[component]
pub fn EmptyState(message: &'static str) -> impl IntoView {
    view! { <p class="rounded border border-dashed border-slate-300 p-8 text-center text-slate-500">{message}</p> }
}

/// The page heading with optional actions on the right.
#[component]
pub fn PageHeader(title: String, #[prop(optional)] children: Option<Children>) -> impl IntoView {
    view! {
        <div class="mb-6 flex flex-wrap items-center justify-between gap-3">
            <h1 class="text-2xl font-semibold text-slate-900">{title}</h1>
            <div class="flex flex-wrap gap-2">{children.map(|c| c())}</div>
        </div>
    }
}
