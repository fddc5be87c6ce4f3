//! The home page: quick links, each role's overview (administrators:
//! cluster capacity, running VMs, today's events, failed jobs; instructors:
//! their events' readiness; participants: their next event), and "My VMs".
//! `/admin/dashboard` edits the notifications and quick links.

use domain::dashboard::{AdminOverview, DashboardView, EventReadiness, NotificationView, QuickLinkView, Severity};
use domain::{Action, ObjectType, Target, can};
use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::auth::ShellInfo;
use crate::api::dashboard::*;
use crate::components::forms::{ActionError, DANGER_BUTTON_CLASS, INPUT_CLASS, LINK_CLASS, SECONDARY_BUTTON_CLASS};
use crate::components::layout::WithShell;
use crate::components::{EmptyState, PageHeader, t, use_lang};
use crate::i18n::{Msg, error_text};

#[component]
pub fn Dashboard() -> impl IntoView {
    // Classroom (issue 5): the student's "My VMs".
    let act = ServerAction::<crate::api::deployment::VmAction>::new();
    let my = Resource::new(move || act.version().get(), |_| crate::api::classroom::my_vms());
    let overview = Resource::new(|| (), |_| dashboard());
    view! {
        <WithShell>
            <Overview/>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    match overview.await {
                        Ok(view) => view! { <RoleOverview view=view/> }.into_any(),
                        Err(e) => view! { <p role="alert" class="mt-4 text-red-700">{error_text(&e.0, use_lang())}</p> }.into_any(),
                    }
                })}
            </Suspense>
            <section class="mt-6" aria-labelledby="my-vms-heading">
                <h2 id="my-vms-heading" class="mb-3 text-lg font-semibold">{t(Msg::MyVms)}</h2>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        my.await.ok().map(|events| view! { <crate::pages::classroom::MyVms events=events action=act/> })
                    })}
                </Suspense>
            </section>
        </WithShell>
    }
}

#[component]
fn Overview() -> impl IntoView {
    let info = expect_context::<ShellInfo>();
    let lang = info.language;
    let user = info.user.clone();
    let name = user.as_ref().map(|u| u.name.clone()).unwrap_or_default();
    let roles = user.map(|u| u.role_names).unwrap_or_default();
    view! {
        <Title text=format!("{} · {}", Msg::Dashboard.text(lang), info.title)/>
        <PageHeader title=Msg::Welcome.text(lang).replace("{name}", &name)/>
        <section class="rounded-lg bg-white p-6 shadow-sm">
            <p class="text-slate-700">{Msg::DashboardIntro.text(lang)}</p>
            {if roles.is_empty() {
                view! { <p class="mt-2 text-slate-500">{Msg::NoRoles.text(lang)}</p> }.into_any()
            } else {
                view! {
                    <ul class="mt-2 flex flex-wrap gap-2" data-testid="my-roles">
                        {roles.into_iter().map(|r| view! {
                            <li class="rounded-full bg-indigo-100 px-3 py-1 text-sm text-indigo-800">{r}</li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
    }
}

/// What the viewer's roles and events give them to see.
#[component]
fn RoleOverview(view: DashboardView) -> impl IntoView {
    let info = expect_context::<ShellInfo>();
    let admin_of_settings =
        info.user.as_ref().is_some_and(|u| can(&u.actor, Action::Update, Target::All(ObjectType::Setting)));
    let DashboardView { quick_links, admin, instructing, next_event } = view;
    let is_instructor =
        info.user.as_ref().is_some_and(|u| can(&u.actor, Action::Create, Target::All(ObjectType::Event)));
    view! {
        <QuickLinks links=quick_links editable=admin_of_settings/>
        {admin.map(|a| view! { <AdminPanel overview=a/> })}
        {(is_instructor || !instructing.is_empty()).then(|| view! { <Teaching events=instructing/> })}
        <section class="mt-6 rounded-lg bg-white p-4 shadow-sm" aria-labelledby="next-event-heading" data-dash="next-event">
            <h2 id="next-event-heading" class="font-semibold">{t(Msg::DashNextEvent)}</h2>
            {match next_event {
                Some(e) => view! {
                    <p class="mt-2">
                        <a class=LINK_CLASS href=format!("/events/{}", e.id)>{e.name.clone()}</a>
                        " · " {crate::components::local_time(e.starts_at)}
                        {e.ends_at.map(|end| format!(" – {}", crate::components::local_time(end)))}
                        " · " {crate::i18n::event_status_text(e.status, use_lang())}
                    </p>
                }.into_any(),
                None => view! { <p class="mt-2 text-sm text-slate-500">{t(Msg::DashNoNextEvent)}</p> }.into_any(),
            }}
        </section>
    }
}

#[component]
fn QuickLinks(links: Vec<QuickLinkView>, editable: bool) -> impl IntoView {
    if links.is_empty() && !editable {
        return ().into_any();
    }
    view! {
        <section class="mt-6 rounded-lg bg-white p-4 shadow-sm" aria-labelledby="quick-links-heading" data-dash="quick-links">
            <div class="flex items-center justify-between">
                <h2 id="quick-links-heading" class="font-semibold">{t(Msg::DashQuickLinks)}</h2>
                {editable.then(|| view! { <a class=LINK_CLASS href="/admin/dashboard">{t(Msg::DashManage)}</a> })}
            </div>
            {if links.is_empty() {
                view! { <p class="mt-2 text-sm text-slate-500">{t(Msg::DashNoQuickLinks)}</p> }.into_any()
            } else {
                view! {
                    <ul class="mt-2 flex flex-wrap gap-3">
                        {links.into_iter().map(|l| view! {
                            <li><a class=LINK_CLASS href=l.url rel="noopener noreferrer" target="_blank">{l.title}</a></li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
    }
    .into_any()
}

fn gib(bytes: u64) -> String {
    format!("{:.1} GiB", bytes as f64 / 1024.0 / 1024.0 / 1024.0)
}

#[component]
fn AdminPanel(overview: AdminOverview) -> impl IntoView {
    let AdminOverview { nodes, cluster_problem, running_vms, events_today, failed_jobs } = overview;
    let failed_class =
        if failed_jobs > 0 { "block text-2xl font-semibold text-red-700" } else { "block text-2xl font-semibold" };
    view! {
        <section class="mt-6" aria-labelledby="admin-overview-heading" data-dash="admin">
            <h2 id="admin-overview-heading" class="mb-3 text-lg font-semibold">{t(Msg::DashClusterCapacity)}</h2>
            <div class="grid gap-3 sm:grid-cols-3">
                <a href="/vms?state=running" class="rounded-lg bg-white p-4 shadow-sm" data-count="running-vms">
                    <span class="block text-2xl font-semibold">{running_vms}</span>
                    <span class="text-sm text-slate-600">{t(Msg::DashRunningVms)}</span>
                </a>
                <a href="/events?tab=active" class="rounded-lg bg-white p-4 shadow-sm" data-count="events-today">
                    <span class="block text-2xl font-semibold">{events_today}</span>
                    <span class="text-sm text-slate-600">{t(Msg::DashEventsToday)}</span>
                </a>
                <a href="/admin/tasks?status=failed" class="rounded-lg bg-white p-4 shadow-sm" data-count="failed-jobs">
                    <span class=failed_class>{failed_jobs}</span>
                    <span class="text-sm text-slate-600">{t(Msg::DashFailedJobs)}</span>
                </a>
            </div>
            {cluster_problem.map(|e| view! { <p role="alert" class="mt-3 text-red-700">{error_text(&e, use_lang())}</p> })}
            {(!nodes.is_empty()).then(|| view! {
                <div class="mt-3 overflow-x-auto rounded-lg bg-white shadow-sm">
                    <table class="min-w-full divide-y divide-slate-200 text-sm">
                        <thead class="bg-slate-100 text-left text-slate-600">
                            <tr>
                                <th scope="col" class="px-4 py-2">{t(Msg::Node)}</th>
                                <th scope="col" class="px-4 py-2">{t(Msg::Cpu)}</th>
                                <th scope="col" class="px-4 py-2">{t(Msg::Memory)}</th>
                                <th scope="col" class="px-4 py-2">{t(Msg::DashMemoryFree)}</th>
                            </tr>
                        </thead>
                        <tbody class="divide-y divide-slate-100">
                            {nodes.into_iter().map(|n| {
                                let cpu = format!("{} % · {} {}", n.cpu_percent(), n.cpus, t(Msg::DashCores));
                                let free = gib(n.mem_total.saturating_sub(n.mem_used));
                                let memory = format!("{} / {} ({} %)", gib(n.mem_used), gib(n.mem_total), n.mem_percent());
                                view! {
                                    <tr data-node=n.name.clone()>
                                        <td class="px-4 py-2">
                                            {n.name.clone()} " "
                                            <span class="text-xs text-slate-500">{if n.online { t(Msg::Online) } else { t(Msg::Offline) }}</span>
                                        </td>
                                        <td class="px-4 py-2">{cpu}</td>
                                        <td class="px-4 py-2">{memory}</td>
                                        <td class="px-4 py-2" data-free="">{free}</td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
            })}
        </section>
    }
}

#[component]
fn Teaching(events: Vec<EventReadiness>) -> impl IntoView {
    view! {
        <section class="mt-6" aria-labelledby="teaching-heading" data-dash="teaching">
            <h2 id="teaching-heading" class="mb-3 text-lg font-semibold">{t(Msg::DashMyEvents)}</h2>
            {if events.is_empty() {
                view! { <EmptyState message=t(Msg::DashNoEvents)/> }.into_any()
            } else {
                view! {
                    <ul class="space-y-2">
                        {events.into_iter().map(|r| view! {
                            <li class="rounded-lg bg-white p-4 shadow-sm" data-event=r.event.id>
                                <a class=LINK_CLASS href=format!("/events/{}", r.event.id)>{r.event.name.clone()}</a>
                                " · " {crate::components::local_time(r.event.starts_at)}
                                " · " {crate::i18n::event_status_text(r.event.status, use_lang())}
                                <p class="text-sm text-slate-600" data-readiness="">
                                    {format!("{} / {} ", r.vms_running, r.vms_total)} {t(Msg::DashVmsRunning)}
                                    {(r.vms_failed > 0).then(|| view! {
                                        <span class="ml-2 text-red-700">{format!("{} ", r.vms_failed)} {t(Msg::DashVmsFailed)}</span>
                                    })}
                                </p>
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
    }
}

fn severity_class(severity: Severity) -> &'static str {
    match severity {
        Severity::Info => "border-sky-300 bg-sky-50 text-sky-900",
        Severity::Warning => "border-amber-300 bg-amber-50 text-amber-900",
        Severity::Critical => "border-red-300 bg-red-50 text-red-900",
    }
}

fn severity_text(severity: Severity) -> &'static str {
    match severity {
        Severity::Info => t(Msg::DashSeverityInfo),
        Severity::Warning => t(Msg::DashSeverityWarning),
        Severity::Critical => t(Msg::DashSeverityCritical),
    }
}

/// The active system-wide notifications, on top of every signed-in page.
#[component]
pub fn NotificationBanner() -> impl IntoView {
    let active = Resource::new(|| (), |_| active_notifications());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                active.await.ok().map(|list| list.into_iter().map(|n| view! {
                    <div role=if n.severity == Severity::Critical { "alert" } else { "status" }
                        class=format!("mb-3 rounded border px-4 py-2 text-sm {}", severity_class(n.severity))
                        data-notification=n.severity.key()>
                        <strong class="mr-2">{severity_text(n.severity)}</strong>{n.message}
                    </div>
                }).collect_view())
            })}
        </Suspense>
    }
}

fn input_time(at: Option<domain::time::Timestamp>) -> String {
    at.map(|t| domain::zone::input_value(t, &crate::components::use_zone())).unwrap_or_default()
}

/// Administrators: notifications and quick links.
#[component]
pub fn DashboardAdminPage() -> impl IntoView {
    let save_note = ServerAction::<SaveNotification>::new();
    let delete_note = ServerAction::<DeleteNotification>::new();
    let save_link = ServerAction::<SaveQuickLink>::new();
    let delete_link = ServerAction::<DeleteQuickLink>::new();
    let notes =
        Resource::new(move || (save_note.version().get(), delete_note.version().get()), |_| list_notifications());
    let links = Resource::new(move || (save_link.version().get(), delete_link.version().get()), |_| list_quick_links());
    view! {
        <WithShell readers_of=ObjectType::Setting>
        <Title text=t(Msg::DashManage)/>
        <PageHeader title=t(Msg::DashManage).to_string()/>
        <section class="mb-8" aria-labelledby="notifications-heading">
            <h2 id="notifications-heading" class="mb-3 text-lg font-semibold">{t(Msg::DashNotifications)}</h2>
            <ActionError value=save_note.value()/>
            <ActionError value=delete_note.value()/>
            <Suspense fallback=|| view! { <p>{t(Msg::Loading)}</p> }>
                {move || Suspend::new(async move {
                    match notes.await {
                        Ok(list) if list.is_empty() => view! { <EmptyState message=t(Msg::DashNoNotifications)/> }.into_any(),
                        Ok(list) => list.into_iter().map(|n| view! {
                            <NotificationForm note=Some(n) save=save_note delete=Some(delete_note)/>
                        }).collect_view().into_any(),
                        Err(e) => view! { <p role="alert" class="text-red-700">{error_text(&e.0, use_lang())}</p> }.into_any(),
                    }
                })}
            </Suspense>
            <h3 class="mt-4 font-semibold">{t(Msg::DashNewNotification)}</h3>
            <NotificationForm note=None save=save_note delete=None/>
        </section>
        <section aria-labelledby="links-heading">
            <h2 id="links-heading" class="mb-3 text-lg font-semibold">{t(Msg::DashQuickLinks)}</h2>
            <ActionError value=save_link.value()/>
            <ActionError value=delete_link.value()/>
            <Suspense fallback=|| view! { <p>{t(Msg::Loading)}</p> }>
                {move || Suspend::new(async move {
                    match links.await {
                        Ok(list) if list.is_empty() => view! { <EmptyState message=t(Msg::DashNoQuickLinks)/> }.into_any(),
                        Ok(list) => list.into_iter().map(|l| view! {
                            <QuickLinkForm link=Some(l) save=save_link delete=Some(delete_link)/>
                        }).collect_view().into_any(),
                        Err(e) => view! { <p role="alert" class="text-red-700">{error_text(&e.0, use_lang())}</p> }.into_any(),
                    }
                })}
            </Suspense>
            <h3 class="mt-4 font-semibold">{t(Msg::DashNewQuickLink)}</h3>
            <QuickLinkForm link=None save=save_link delete=None/>
        </section>
        </WithShell>
    }
}

#[component]
fn NotificationForm(
    note: Option<NotificationView>,
    save: ServerAction<SaveNotification>,
    delete: Option<ServerAction<DeleteNotification>>,
) -> impl IntoView {
    let key = note.as_ref().map_or("new".to_string(), |n| n.id.to_string());
    let id = note.as_ref().map(|n| n.id.to_string());
    let (message, severity, starts, ends) = match &note {
        Some(n) => (n.message.clone(), n.severity, input_time(n.starts_at), input_time(n.ends_at)),
        None => (String::new(), Severity::Info, String::new(), String::new()),
    };
    let field = move |name: &str| format!("note-{key}-{name}");
    let marker = id.clone().unwrap_or_default();
    let hidden = id.clone();
    view! {
        <div class="mb-3 rounded-lg bg-white p-4 shadow-sm" data-notification-form=marker>
            <ActionForm action=save>
                {hidden.map(|id| view! { <input type="hidden" name="id" value=id/> })}
                <label for=field("message") class="block text-sm font-medium text-slate-700">{t(Msg::DashMessage)}</label>
                <textarea id=field("message") name="message" rows="2" required maxlength="2000" class=INPUT_CLASS>{message}</textarea>
                <div class="mt-2 grid gap-3 sm:grid-cols-3">
                    <div>
                        <label for=field("severity") class="block text-sm font-medium text-slate-700">{t(Msg::DashSeverity)}</label>
                        <select id=field("severity") name="severity" class=INPUT_CLASS>
                            {Severity::ALL.into_iter().map(|s| view! {
                                <option value=s.key() selected=s == severity>{severity_text(s)}</option>
                            }).collect_view()}
                        </select>
                    </div>
                    <div>
                        <label for=field("starts_at") class="block text-sm font-medium text-slate-700">{t(Msg::DashShownFrom)} " (" {crate::components::use_zone()} ")"</label>
                        <input id=field("starts_at") name="starts_at" type="datetime-local" value=starts class=INPUT_CLASS/>
                    </div>
                    <div>
                        <label for=field("ends_at") class="block text-sm font-medium text-slate-700">{t(Msg::DashShownUntil)} " (" {crate::components::use_zone()} ")"</label>
                        <input id=field("ends_at") name="ends_at" type="datetime-local" value=ends class=INPUT_CLASS/>
                    </div>
                </div>
                <button type="submit" class=format!("mt-3 {SECONDARY_BUTTON_CLASS}")>{t(Msg::Save)}</button>
            </ActionForm>
            {delete.zip(id).map(|(delete, id)| view! {
                <details class="mt-2">
                    <summary class="cursor-pointer text-sm text-red-700">{t(Msg::Delete)}</summary>
                    <ActionForm action=delete attr:class="mt-2">
                        <input type="hidden" name="id" value=id/>
                        <label class="mb-2 block text-sm"><input type="checkbox" name="confirm" required/> " " {t(Msg::ConfirmDelete)}</label>
                        <button type="submit" class=DANGER_BUTTON_CLASS>{t(Msg::YesDelete)}</button>
                    </ActionForm>
                </details>
            })}
        </div>
    }
}

#[component]
fn QuickLinkForm(
    link: Option<QuickLinkView>,
    save: ServerAction<SaveQuickLink>,
    delete: Option<ServerAction<DeleteQuickLink>>,
) -> impl IntoView {
    let key = link.as_ref().map_or("new".to_string(), |l| l.id.to_string());
    let id = link.as_ref().map(|l| l.id.to_string());
    let (title, url, position) = match &link {
        Some(l) => (l.title.clone(), l.url.clone(), l.position.to_string()),
        None => (String::new(), String::new(), String::new()),
    };
    let field = move |name: &str| format!("link-{key}-{name}");
    let marker = id.clone().unwrap_or_default();
    let hidden = id.clone();
    view! {
        <div class="mb-3 rounded-lg bg-white p-4 shadow-sm" data-link-form=marker>
            <ActionForm action=save attr:class="grid gap-3 sm:grid-cols-4 sm:items-end">
                {hidden.map(|id| view! { <input type="hidden" name="id" value=id/> })}
                <div>
                    <label for=field("title") class="block text-sm font-medium text-slate-700">{t(Msg::DashLinkTitle)}</label>
                    <input id=field("title") name="title" value=title required maxlength="128" class=INPUT_CLASS/>
                </div>
                <div>
                    <label for=field("url") class="block text-sm font-medium text-slate-700">"URL"</label>
                    <input id=field("url") name="url" type="url" value=url required maxlength="2000" placeholder="https://" class=INPUT_CLASS/>
                </div>
                <div>
                    <label for=field("position") class="block text-sm font-medium text-slate-700">{t(Msg::DashPosition)}</label>
                    <input id=field("position") name="position" type="number" min="0" max="10000" value=position class=INPUT_CLASS/>
                </div>
                <div><button type="submit" class=SECONDARY_BUTTON_CLASS>{t(Msg::Save)}</button></div>
            </ActionForm>
            {delete.zip(id).map(|(delete, id)| view! {
                <details class="mt-2">
                    <summary class="cursor-pointer text-sm text-red-700">{t(Msg::Delete)}</summary>
                    <ActionForm action=delete attr:class="mt-2">
                        <input type="hidden" name="id" value=id/>
                        <label class="mb-2 block text-sm"><input type="checkbox" name="confirm" required/> " " {t(Msg::ConfirmDelete)}</label>
                        <button type="submit" class=DANGER_BUTTON_CLASS>{t(Msg::YesDelete)}</button>
                    </ActionForm>
                </details>
            })}
        </div>
    }
}
