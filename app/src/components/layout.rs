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
///
/// A page only for those who may read every object of a type (`readers_of`,
/// the rule its server functions apply) or create one (`creators_of`, for a
/// "new …" form) shows anyone else "not allowed" with a 403, instead of its
/// heading and forms above the same error.
#[component]
pub fn WithShell(
    children: ChildrenFn,
    #[prop(optional)] readers_of: Option<ObjectType>,
    #[prop(optional)] creators_of: Option<ObjectType>,
) -> impl IntoView {
    let ShellResource(shell) = expect_context::<ShellResource>();
    let children = StoredValue::new(children);
    view! {
        <Suspense fallback=|| view! { <p class="text-slate-500">"…"</p> }>
            {move || Suspend::new(async move {
                shell.await.ok().and_then(|info| info.user.clone().map(|user| (info, user))).map(|(info, user)| {
                    provide_context(info);
                    provide_context(FlashOutdated(RwSignal::new(false)));
                    let may = |action, object: Option<ObjectType>| {
                        object.is_none_or(|object| can(&user.actor, action, Target::All(object)))
                    };
                    let allowed = may(Action::Read, readers_of) && may(Action::Create, creators_of);
                    if !allowed {
                        let refused: crate::error::ApiError = domain::AppError::Forbidden.into();
                        return crate::components::page_error_view(&refused);
                    }
                    view! {
                        <crate::pages::dashboard::NotificationBanner/>
                        <Flash/>
                        {children.with_value(|c| c())}
                    }
                    .into_any()
                })
            })}
        </Suspense>
    }
}

/// A link of the main navigation.
type NavEntry = (&'static str, Msg);

/// What the main navigation offers: the pages everyone works in, and the
/// pages that manage the site, which sit in the "Administration" menu so the
/// header stays one row on a laptop.
fn nav_entries(info: &ShellInfo) -> (Vec<NavEntry>, Vec<NavEntry>) {
    let actor = info.user.as_ref().map(|u| u.actor.clone());
    let may = |action: Action, t: ObjectType| actor.as_ref().is_some_and(|a| can(a, action, Target::All(t)));
    let may_read = |t: ObjectType| may(Action::Read, t);
    let mut work = vec![("/", Msg::Dashboard)];
    // Classroom (issue 5): everyone sees their events and VMs.
    work.push(("/events", Msg::Events));
    work.push(("/vms", Msg::Vms));
    if may_read(ObjectType::Environment) || may(Action::Create, ObjectType::Environment) {
        work.push(("/environments", Msg::Environments));
    }
    if may_read(ObjectType::Template) {
        work.push(("/templates", Msg::Templates));
    }
    // Everyone signed in: administrators see all activities, others their own.
    if info.user.is_some() {
        work.push(("/activities", Msg::Activities));
    }
    let mut manage = Vec::new();
    if may_read(ObjectType::Catalogue) {
        manage.push(("/admin/catalogue/vendors", Msg::Catalogue));
    }
    if may(Action::Create, ObjectType::User) {
        manage.push(("/groups", Msg::Groups));
    }
    if may_read(ObjectType::User) {
        manage.push(("/admin/users", Msg::Users));
    }
    if may_read(ObjectType::Role) {
        manage.push(("/admin/roles", Msg::Roles));
    }
    if may_read(ObjectType::Policy) {
        manage.push(("/admin/policies", Msg::Policies));
    }
    if may_read(ObjectType::Task) {
        manage.push(("/admin/tasks", Msg::Tasks));
    }
    if may_read(ObjectType::Setting) {
        manage.push(("/admin/settings", Msg::Settings));
        manage.push(("/admin/mail/templates", Msg::Mail));
    }
    // Nodes and the pool's templates; template readers see the templates there.
    if may_read(ObjectType::Node) {
        manage.push(("/admin/nodes", Msg::Cluster));
    } else if may_read(ObjectType::Template) {
        manage.push(("/admin/nodes", Msg::ClusterTemplates));
    }
    (work, manage)
}

/// Whether `href` is the section the visitor is in.
fn is_current(href: &str, path: &str) -> bool {
    (href == "/" && path == "/") || (href != "/" && path.starts_with(href))
}

/// The header: site title, main navigation, the signed-in person. Below the
/// `md` breakpoint the navigation folds behind a "Menu" button (a checkbox,
/// so it works before and without the WASM bundle).
#[component]
fn Header(info: ShellInfo) -> impl IntoView {
    let lang = info.language;
    let name = info.user.as_ref().map(|u| u.name.clone()).unwrap_or_default();
    let (work, manage) = nav_entries(&info);
    let location = use_location();
    let logout = ServerAction::<Logout>::new();
    let menu_open = NodeRef::<leptos::html::Input>::new();
    let admin_menu = NodeRef::<leptos::html::Details>::new();
    let admin_button = NodeRef::<leptos::html::Summary>::new();
    // The header stays across client-side navigation: fold both menus once
    // the visitor has gone where they chose.
    Effect::new(move |_| {
        location.pathname.track();
        if let Some(toggle) = menu_open.get() {
            toggle.set_checked(false);
        }
        if let Some(menu) = admin_menu.get() {
            let _ = menu.remove_attribute("open");
        }
    });
    let link = move |(href, msg): NavEntry| {
        let current = move || if is_current(href, &location.pathname.get()) { "page" } else { "false" };
        view! {
            <a href=href aria-current=current class="block rounded px-3 py-2 hover:bg-slate-700 aria-[current=page]:bg-slate-700">
                {msg.text(lang)}
            </a>
        }
    };
    let manage_hrefs: Vec<&'static str> = manage.iter().map(|(href, _)| *href).collect();
    let in_manage = move || manage_hrefs.iter().any(|href| is_current(href, &location.pathname.get()));
    view! {
            <a href="#main" class="sr-only focus:not-sr-only focus:absolute focus:p-2">{Msg::SkipToContent.text(lang)}</a>
            <header class="bg-slate-900 text-white">
                <div class="mx-auto flex max-w-6xl flex-wrap items-center gap-x-4 gap-y-2 px-4 py-3">
                    <a href="/" class="mr-auto text-lg font-semibold tracking-tight md:mr-0">{info.title.clone()}</a>
                    <input type="checkbox" id="main-menu-toggle" class="peer sr-only md:hidden" node_ref=menu_open/>
                    <label for="main-menu-toggle" data-testid="main-menu-toggle"
                        class="order-2 cursor-pointer rounded border border-slate-500 px-3 py-1 text-sm hover:bg-slate-700 peer-focus-visible:ring-2 peer-focus-visible:ring-indigo-300 md:hidden">
                        {Msg::Menu.text(lang)}
                    </label>
                    <nav aria-label=Msg::MainNavigation.text(lang)
                        class="order-3 hidden w-full flex-col gap-1 text-sm peer-checked:flex md:order-none md:flex md:w-auto md:grow md:flex-row md:flex-wrap md:items-center">
                        {work.into_iter().map(link).collect_view()}
                        {(!manage.is_empty()).then(|| view! {
                            <details class="group relative" node_ref=admin_menu
                                on:keydown=move |ev| {
                                    if ev.key() == "Escape" && let Some(menu) = admin_menu.get() {
                                        let _ = menu.remove_attribute("open");
                                        // Back to the menu's button, not to the page's start.
                                        if let Some(summary) = admin_button.get() {
                                            let _ = summary.focus();
                                        }
                                    }
                                }>
                                <summary node_ref=admin_button data-in-section=move || in_manage().to_string()
                                    class="cursor-pointer list-none rounded px-3 py-2 hover:bg-slate-700 data-[in-section=true]:bg-slate-700 [&::-webkit-details-marker]:hidden">
                                    {Msg::Administration.text(lang)} <span aria-hidden="true">" ▾"</span>
                                </summary>
                                <div class="flex flex-col gap-1 pl-4 md:absolute md:left-0 md:z-20 md:mt-1 md:w-56 md:rounded md:bg-slate-800 md:p-1 md:shadow-lg">
                                    {manage.into_iter().map(link).collect_view()}
                                </div>
                            </details>
                        })}
                    </nav>
                    <div class="order-1 flex items-center gap-3 text-sm md:order-none">
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

/// Whether a later action on the page has failed (set by [`ActionError`]):
/// its error then holds, not the "Saved." of the action before it, whose
/// `?ok=` is still in the URL.
#[derive(Copy, Clone)]
pub struct FlashOutdated(pub RwSignal<bool>);

/// The "saved" / "deleted" line after a successful action (`?ok=` in the URL).
#[component]
pub fn Flash() -> impl IntoView {
    let query = use_query_map();
    let lang = crate::components::use_lang();
    let outdated = use_context::<FlashOutdated>();
    move || {
        if outdated.is_some_and(|FlashOutdated(outdated)| outdated.get()) {
            return None;
        }
        // Without JavaScript a failed form comes back to the page it was sent
        // from, `?ok=` and all, with its error in `__err`: the error holds.
        if query.with(|q| q.get("__err").is_some()) {
            return None;
        }
        query.with(|q| q.get("ok")).and_then(|key| flash_text(&key, lang)).map(|text| {
            view! {
                <div role="status" data-testid="flash" class="mb-4 rounded border border-emerald-300 bg-emerald-50 px-4 py-3 text-sm text-emerald-800">
                    {text}
                </div>
            }
        })
    }
}
