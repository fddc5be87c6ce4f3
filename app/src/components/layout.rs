//! The frame around every signed-in page: header, navigation, flash message.

use domain::{Action, ObjectType, Target, can};
use leptos::prelude::*;
use leptos_router::components::{Outlet, Redirect};
use leptos_router::hooks::{use_location, use_query_map};

use crate::api::auth::{Logout, ShellInfo, load_shell};
use crate::components::forms::ActionError;
use crate::i18n::{Msg, error_text, flash_text};
use crate::url_encode;

/// Loads who is signed in on every navigation, sends visitors to the login
/// page and users with unaccepted terms to the acceptance page.
#[component]
pub fn SignedInLayout() -> impl IntoView {
    let location = use_location();
    let shell = Resource::new(move || location.pathname.get(), |_| load_shell());
    view! {
        <Suspense fallback=|| view! { <p class="p-8 text-slate-500">"…"</p> }>
            {move || Suspend::new(async move {
                let path = location.pathname.get_untracked();
                let search = location.search.get_untracked();
                match shell.await {
                    Ok(info) => {
                        let here = if search.is_empty() { path.clone() } else { format!("{path}?{search}") };
                        match &info.user {
                            None => view! { <Redirect path=format!("/login?next={}", url_encode(&here))/> }.into_any(),
                            Some(user) if !user.pending_policies.is_empty() && path != "/policies/accept" => {
                                view! { <Redirect path=format!("/policies/accept?next={}", url_encode(&here))/> }.into_any()
                            }
                            Some(_) => {
                                provide_context(info.clone());
                                view! { <Frame info=info/> }.into_any()
                            }
                        }
                    }
                    Err(e) => view! {
                        <p role="alert" class="p-8 text-red-700">{error_text(&e.0, domain::Language::default())}</p>
                    }
                    .into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Frame(info: ShellInfo) -> impl IntoView {
    let lang = info.language;
    let user = info.user.clone();
    let name = user.as_ref().map(|u| u.name.clone()).unwrap_or_default();
    let actor = user.map(|u| u.actor);
    let may_read = move |t: ObjectType| actor.as_ref().is_some_and(|a| can(a, Action::Read, Target::All(t)));
    let mut entries = vec![("/", Msg::Dashboard)];
    if may_read(ObjectType::User) {
        entries.push(("/admin/users", Msg::Users));
    }
    if may_read(ObjectType::Role) {
        entries.push(("/admin/roles", Msg::Roles));
    }
    if may_read(ObjectType::Policy) {
        entries.push(("/admin/policies", Msg::Policies));
    }
    if may_read(ObjectType::Setting) {
        entries.push(("/admin/settings", Msg::Settings));
    }
    let location = use_location();
    let logout = ServerAction::<Logout>::new();
    view! {
        <div class="min-h-screen bg-slate-50">
            <a href="#main" class="sr-only focus:not-sr-only focus:absolute focus:p-2">"Skip to content"</a>
            <header class="bg-slate-900 text-white">
                <div class="mx-auto flex max-w-6xl flex-wrap items-center justify-between gap-4 px-4 py-3">
                    <a href="/" class="text-lg font-semibold tracking-tight">{info.title.clone()}</a>
                    <nav aria-label=Msg::MainNavigation.text(lang) class="flex flex-wrap gap-1 text-sm">
                        {entries
                            .into_iter()
                            .map(|(href, msg)| {
                                let current = move || {
                                    let p = location.pathname.get();
                                    if (href == "/" && p == "/") || (href != "/" && p.starts_with(href)) { "page" } else { "false" }
                                };
                                view! {
                                    <a href=href aria-current=current
                                        class="rounded px-3 py-2 hover:bg-slate-700 aria-[current=page]:bg-slate-700">
                                        {msg.text(lang)}
                                    </a>
                                }
                            })
                            .collect_view()}
                    </nav>
                    <div class="flex items-center gap-3 text-sm">
                        <a href="/profile" class="hover:underline" data-testid="current-user">{name}</a>
                        <ActionForm action=logout>
                            <button type="submit" class="rounded border border-slate-500 px-3 py-1 hover:bg-slate-700">
                                {Msg::SignOut.text(lang)}
                            </button>
                        </ActionForm>
                    </div>
                </div>
            </header>
            <main id="main" class="mx-auto max-w-6xl px-4 py-8">
                <ActionError value=logout.value()/>
                <Flash/>
                <Outlet/>
            </main>
        </div>
    }
}

/// The "saved" / "deleted" line after a successful action (`?ok=` in the URL).
#[component]
pub fn Flash() -> impl IntoView {
    let query = use_query_map();
    let lang = crate::components::use_lang();
    move || {
        query.with(|q| q.get("ok")).and_then(|key| flash_text(&key, lang)).map(|text| {
            view! {
                <div role="status" class="mb-4 rounded border border-emerald-300 bg-emerald-50 px-4 py-3 text-sm text-emerald-800">
                    {text}
                </div>
            }
        })
    }
}
