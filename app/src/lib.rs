//! The OpenVLE user interface: rendered on the server, hydrated in the browser.
//!
//! Pages live in [`pages`], the server functions they call in [`api`], shared
//! pieces in [`components`], and every visible text in [`i18n`].

// Deeply nested views (tables of lists) exceed the default when the
// hydrate build computes their layouts.
#![recursion_limit = "256"]

pub mod api;
pub mod components;
pub mod error;
pub mod i18n;
pub mod pages;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::{SsrMode, path};

use crate::components::layout::SignedInLayout;

/// The HTML document around the app. Pages render completely on the server
/// (`SsrMode::Async`), so they are usable before, and without, the WASM bundle.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body class="bg-slate-50 text-slate-900 antialiased">
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/openvle.css"/>
        <Title text="OpenVLE"/>
        <Router>
            <Routes fallback=pages::not_found::NotFound>
                <Route path=path!("/login") view=pages::login::LoginPage ssr=SsrMode::Async/>
                <Route path=path!("/set-password") view=pages::mail::SetPasswordPage ssr=SsrMode::Async/>
                <Route path=path!("/forgot-password") view=pages::mail::ForgotPasswordPage ssr=SsrMode::Async/>
                <ParentRoute path=path!("") view=SignedInLayout ssr=SsrMode::Async>
                    <Route path=path!("") view=pages::dashboard::Dashboard ssr=SsrMode::Async/>
                    <Route path=path!("/profile") view=pages::profile::ProfilePage ssr=SsrMode::Async/>
                    <Route path=path!("/policies/accept") view=pages::policies::AcceptPoliciesPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/users") view=pages::users::UsersPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/users/new") view=pages::users::NewUserPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/users/:id") view=pages::users::EditUserPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/users/:id/delete") view=pages::users::DeleteUserPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/roles") view=pages::roles::RolesPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/roles/new") view=pages::roles::NewRolePage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/roles/:id") view=pages::roles::EditRolePage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/roles/:id/delete") view=pages::roles::DeleteRolePage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/permissions") view=pages::roles::PermissionsPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/policies") view=pages::policies::PoliciesPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/settings") view=pages::settings::SettingsPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/health") view=pages::health::HealthPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/dashboard") view=pages::dashboard::DashboardAdminPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/sign-in") view=pages::sign_in_settings::SignInSettingsPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/guacamole") view=pages::guacamole::GuacamoleSettingsPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/proxmox") view=pages::cluster::ConnectionPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/nodes") view=pages::cluster::NodesPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/tasks") view=pages::tasks::TasksPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/tasks/:id") view=pages::tasks::TaskPage ssr=SsrMode::Async/>
                    // Classroom (issue 5)
                    <Route path=path!("/templates") view=pages::classroom::TemplatesPage ssr=SsrMode::Async/>
                    <Route path=path!("/templates/new") view=pages::classroom::NewTemplatePage ssr=SsrMode::Async/>
                    <Route path=path!("/templates/:id") view=pages::classroom::EditTemplatePage ssr=SsrMode::Async/>
                    <Route path=path!("/templates/:id/delete") view=pages::classroom::DeleteTemplatePage ssr=SsrMode::Async/>
                    <Route path=path!("/environments") view=pages::classroom::EnvironmentsPage ssr=SsrMode::Async/>
                    <Route path=path!("/environments/:id") view=pages::classroom::EditEnvironmentPage ssr=SsrMode::Async/>
                    <Route path=path!("/environments/:id/delete") view=pages::classroom::DeleteEnvironmentPage ssr=SsrMode::Async/>
                    <Route path=path!("/events") view=pages::classroom::EventsPage ssr=SsrMode::Async/>
                    <Route path=path!("/events/new") view=pages::classroom::NewEventPage ssr=SsrMode::Async/>
                    <Route path=path!("/events/:id") view=pages::classroom::EventPage ssr=SsrMode::Async/>
                    <Route path=path!("/events/:id/delete") view=pages::classroom::DeleteEventPage ssr=SsrMode::Async/>
                    <Route path=path!("/events/:id/roster") view=pages::classroom::RosterPage ssr=SsrMode::Async/>
                    <Route path=path!("/groups") view=pages::classroom::GroupsPage ssr=SsrMode::Async/>
                    <Route path=path!("/vms") view=pages::classroom::VmsPage ssr=SsrMode::Async/>
                    <Route path=path!("/vms/:id") view=pages::classroom::VmPage ssr=SsrMode::Async/>
                    <Route path=path!("/vms/:id/console") view=pages::console::ConsolePage ssr=SsrMode::Async/>
                    <Route path=path!("/activities") view=pages::activities::ActivitiesPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/catalogue/:kind") view=pages::catalogue::CataloguePage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/catalogue/:kind/:id") view=pages::catalogue::CatalogueItemPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/catalogue/:kind/:id/delete") view=pages::catalogue::DeleteCatalogueItemPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/mail/templates") view=pages::mail::MailTemplatesPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/mail/templates/new") view=pages::mail::NewMailTemplatePage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/mail/templates/:id") view=pages::mail::MailTemplatePage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/mail/sent") view=pages::mail::SentMailsPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/mail/sent/:id") view=pages::mail::SentMailPage ssr=SsrMode::Async/>
                </ParentRoute>
            </Routes>
        </Router>
    }
}

/// Percent-encodes a query value.
pub fn url_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}
