//! The frame around every signed-in page: header, navigation, flash message.

use domain::{Action, ObjectType, Target, can};
use leptos::prelude::*;
use leptos_router::components::{Outlet, Redirect};
use leptos_router::hooks::{use_location, use_query_map};

use crate::api::auth::{Logout, ShellInfo, load_shell};
use crate::components::forms::ActionError;
use crate::i18n::{Msg, error_text, flash_text};
use crate::url_encode;

/// The shell of the signed-in area, as a resource every page can await.
#[derive(Copy, Clone)]
pub struct ShellResource(pub Resource<Result<ShellInfo, crate::error::ApiError>>);

/// Loads who is signed in (again after every navigation, so a saved name or
/// language shows at once), sends visitors to the login page and users with
/// unaccepted terms to the acceptance page.
///
/// The page itself (`Outlet`) stays outside the suspense: a page created
/// inside it could be created twice while the shell loads, and its data
/// fetched twice.
#[component]
pub fn SignedInLayout() -> impl IntoView {
    let location = use_location();
    let shell = Resource::new(move || (location.pathname.get(), location.search.get()), |_| load_shell());
    provide_context(ShellResource(shell));
    view! {
        <div class="min-h-screen bg-slate-50">
            <Suspense fallback=|| view! { <header class="h-14 bg-slate-900"></header> }>
                {move || Suspend::new(async move {
                    let path = location.pathname.get_untracked();
                    let search = location.search.get_untracked();
                    let here = if search.is_empty() { path.clone() } else { format!("{path}?{search}") };
                    match shell.await {
                        Ok(info) => match &info.user {
                            None => view! { <Redirect path=format!("/login?next={}", url_encode(&here))/> }.into_any(),
                            Some(user) if !user.pending_policies.is_empty() && path != "/policies/accept" => {
                                view! { <Redirect path=format!("/policies/accept?next={}", url_encode(&here))/> }.into_any()
                            }
                            Some(_) => view! { <Header info=info.clone()/> }.into_any(),
                        },
                        Err(e) => view! {
                            <p role="alert" class="p-8 text-red-700">{error_text(&e.0, domain::Language::default())}</p>
                        }
                        .into_any(),
                    }
                })}
            </Suspense>
            <main id="main" class="mx-auto max-w-6xl px-4 py-8">
                <Outlet/>
            </main>
        </div>
    }
}

/// Renders its children once the shell is known, with the shell in context
/// (language, signed-in user) and the flash message on top. Pages create
/// their resources and actions before it, and their views inside it.
#[component]
pub fn WithShell(children: ChildrenFn) -> impl IntoView {
    let ShellResource(shell) = expect_context::<ShellResource>();
    let children = StoredValue::new(children);
    view! {
        <Suspense fallback=|| view! { <p class="text-slate-500">"…"</p> }>
            {move || Suspend::new(async move {
                shell.await.ok().filter(|info| info.user.is_some()).map(|info| {
                    provide_context(info);
                    view! {
                        <crate::pages::dashboard::NotificationBanner/>
                        <Flash/>
                        {children.with_value(|c| c())}
                    }
                })
            })}
        </Suspense>
    }
}

#[component]
fn Header(info: ShellInfo) -> impl IntoView {
    let lang = info.language;
    let user = info.user.clone();
    let name = user.as_ref().map(|u| u.name.clone()).unwrap_or_default();
    let actor = user.map(|u| u.actor);
    let reader = actor.clone();
    let may_read = move |t: ObjectType| reader.as_ref().is_some_and(|a| can(a, Action::Read, Target::All(t)));
    let mut entries = vec![("/", Msg::Dashboard)];
    // Classroom (issue 5): everyone sees their events and VMs.
    let creator = actor.clone();
    let may_create = move |t: ObjectType| creator.as_ref().is_some_and(|a| can(a, Action::Create, Target::All(t)));
    entries.push(("/events", Msg::Events));
    entries.push(("/vms", Msg::Vms));
    if may_read(ObjectType::Environment) || may_create(ObjectType::Environment) {
        entries.push(("/environments", Msg::Environments));
    }
    if may_read(ObjectType::Template) {
        entries.push(("/templates", Msg::Templates));
    }
    if may_read(ObjectType::Catalogue) {
        entries.push(("/admin/catalogue/vendors", Msg::Catalogue));
    }
    if may_create(ObjectType::User) {
        entries.push(("/groups", Msg::Groups));
    }
    if may_read(ObjectType::User) {
        entries.push(("/admin/users", Msg::Users));
    }
    if may_read(ObjectType::Role) {
        entries.push(("/admin/roles", Msg::Roles));
    }
    if may_read(ObjectType::Policy) {
        entries.push(("/admin/policies", Msg::Policies));
    }
    if may_read(ObjectType::Task) {
        entries.push(("/admin/tasks", Msg::Tasks));
    }
    // Everyone signed in: administrators see all activities, others their own.
    if info.user.is_some() {
        entries.push(("/activities", Msg::Activities));
    }
    if may_read(ObjectType::Setting) {
        entries.push(("/admin/settings", Msg::Settings));
        entries.push(("/admin/mail/templates", Msg::Mail));
    }
    // Nodes and the pool's templates; template readers see the templates there.
    if may_read(ObjectType::Node) {
        entries.push(("/admin/nodes", Msg::Cluster));
    } else if may_read(ObjectType::Template) {
        entries.push(("/admin/nodes", Msg::ClusterTemplates));
    }
    let location = use_location();
    let logout = ServerAction::<Logout>::new();
    view! {
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
            <ActionError value=logout.value()/>
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
                <div role="status" data-testid="flash" class="mb-4 rounded border border-emerald-300 bg-emerald-50 px-4 py-3 text-sm text-emerald-800">
                    {text}
                </div>
            }
        })
    }
}
