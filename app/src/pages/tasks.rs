//! Background tasks: what is queued, running, failed or done, with
//! progress, errors, retry and cancel. Refreshes itself every few seconds
//! with JavaScript; without, the Refresh link reloads it.

use std::time::Duration;

use domain::ObjectType;
use domain::task::{TaskStatus, TaskView};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

use crate::api::tasks::*;
use crate::components::forms::{
    ActionError, BUTTON_CLASS, DANGER_BUTTON_CLASS, INPUT_CLASS, LINK_CLASS, SECONDARY_BUTTON_CLASS,
};
use crate::components::layout::WithShell;
use crate::components::pager::Pager;
use crate::components::{EmptyState, PageHeader, t, use_lang};
use crate::i18n::{Msg, error_text, task_status_text, task_title_text};
use crate::pages::route_id;

const REFRESH_EVERY: Duration = Duration::from_secs(3);

/// Re-reads `refetch` on a timer while the page is open (browser only: the
/// server renders once).
fn refresh_periodically(refetch: impl Fn() + Clone + 'static) {
    Effect::new(move |_| {
        let refetch = refetch.clone();
        if let Ok(handle) = set_interval_with_handle(refetch, REFRESH_EVERY) {
            on_cleanup(move || handle.clear());
        }
    });
}

/// Live progress: the server pushes an event (`/events/tasks/{id}`, SSE)
/// whenever the task changes, and the page reloads it. Browser only; without
/// JavaScript the page shows the state when it was loaded and a Refresh link.
fn follow_task_events(id: Memo<Option<i64>>, refetch: impl Fn() + Clone + 'static) {
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        use wasm_bindgen::JsCast;
        use wasm_bindgen::closure::Closure;
        let Some(id) = id.get() else { return };
        let Ok(source) = web_sys::EventSource::new(&format!("/events/tasks/{id}")) else { return };
        let refetch = refetch.clone();
        let on_change = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |_: web_sys::MessageEvent| refetch());
        let _ = source.add_event_listener_with_callback("change", on_change.as_ref().unchecked_ref());
        let source = send_wrapper::SendWrapper::new(source);
        let on_change = send_wrapper::SendWrapper::new(on_change);
        on_cleanup(move || {
            source.close();
            drop(on_change);
        });
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = (id, refetch);
}

fn status_class(status: TaskStatus) -> &'static str {
    match status {
        TaskStatus::Queued => "bg-slate-100 text-slate-700",
        TaskStatus::Running => "bg-indigo-100 text-indigo-800",
        TaskStatus::Failed => "bg-red-100 text-red-800",
        TaskStatus::Success => "bg-emerald-100 text-emerald-800",
        TaskStatus::Cancelled => "bg-amber-100 text-amber-800",
    }
}

#[component]
fn StatusBadge(status: TaskStatus) -> impl IntoView {
    view! {
        <span class=format!("rounded-full px-2 py-0.5 text-xs font-medium {}", status_class(status)) data-status=status.key()>
            {task_status_text(status, use_lang())}
        </span>
    }
}

#[component]
fn ProgressBar(task: TaskView) -> impl IntoView {
    let percent = task.progress_percent();
    view! {
        <div class="flex items-center gap-2">
            <div class="h-2 w-32 rounded bg-slate-200" role="progressbar" aria-valuemin="0" aria-valuemax="100"
                aria-valuenow=percent.to_string() aria-label=t(Msg::Progress)>
                <div class="h-2 rounded bg-indigo-500" style=format!("width: {percent}%")></div>
            </div>
            <span class="text-xs text-slate-600">{format!("{percent} %")}</span>
        </div>
    }
}

#[component]
pub fn TasksPage() -> impl IntoView {
    let query = use_query_map();
    let check = ServerAction::<StartWorkerCheck>::new();
    let tasks = Resource::new(
        move || {
            query.with(|q| {
                (
                    q.get("status"),
                    q.get("since").and_then(|s| s.parse().ok()),
                    q.get("user"),
                    q.get("event").and_then(|e| e.parse().ok()),
                    q.get("page").and_then(|p| p.parse().ok()),
                )
            })
        },
        |(status, since, user, event, page)| list_tasks(status, since, user, event, page),
    );
    refresh_periodically(move || tasks.refetch());
    let current = move |key: &str| query.with_untracked(|q| q.get(key)).unwrap_or_default();
    view! {
        <WithShell readers_of=ObjectType::Task>
            <Title text=t(Msg::Tasks)/>
            <PageHeader title=t(Msg::Tasks).to_string()>
                <a href="" class=SECONDARY_BUTTON_CLASS>{t(Msg::Refresh)}</a>
                <ActionForm action=check>
                    <button type="submit" class=BUTTON_CLASS>{t(Msg::StartWorkerCheck)}</button>
                </ActionForm>
            </PageHeader>
            <ActionError value=check.value()/>
            <Form method="GET" action="" attr:class="mb-4 flex flex-wrap items-end gap-3">
                <div>
                    <label for="status" class="block text-sm font-medium text-slate-700">{t(Msg::Status)}</label>
                    <select id="status" name="status" class=INPUT_CLASS>
                        <option value="">{t(Msg::Any)}</option>
                        {TaskStatus::ALL.into_iter().map(|s| view! {
                            <option value=s.key() selected=current("status") == s.key()>{task_status_text(s, use_lang())}</option>
                        }).collect_view()}
                    </select>
                </div>
                <div>
                    <label for="since" class="block text-sm font-medium text-slate-700">{t(Msg::Since)}</label>
                    <select id="since" name="since" class=INPUT_CLASS>
                        {[("", Msg::AllTime), ("1", Msg::LastHour), ("24", Msg::LastDay), ("168", Msg::LastWeek)]
                            .into_iter()
                            .map(|(value, msg)| view! { <option value=value selected=current("since") == value>{t(msg)}</option> })
                            .collect_view()}
                    </select>
                </div>
                <div>
                    <label for="user" class="block text-sm font-medium text-slate-700">{t(Msg::CreatedBy)}</label>
                    <input id="user" name="user" type="search" value=current("user") placeholder=t(Msg::Username) class=INPUT_CLASS/>
                </div>
                <div>
                    <label for="event" class="block text-sm font-medium text-slate-700">{t(Msg::EventId)}</label>
                    <input id="event" name="event" type="number" min="1" value=current("event") class=INPUT_CLASS/>
                </div>
                <button type="submit" class=SECONDARY_BUTTON_CLASS>{t(Msg::Filter)}</button>
            </Form>
            <Transition fallback=|| view! { <p>{t(Msg::Loading)}</p> }>
                {move || Suspend::new(async move {
                    match tasks.await {
                        Ok(page) if page.items.is_empty() => view! { <EmptyState message=t(Msg::NoTasks)/> }.into_any(),
                        Ok(page) => {
                            let pages = page.page_count();
                            view! {
                                <TaskTable tasks=page.items/>
                                <Pager page=page.page pages=pages total=page.total base="/admin/tasks"/>
                            }.into_any()
                        }
                        Err(e) => view! { <p role="alert" class="text-red-700">{error_text(&e.0, use_lang())}</p> }.into_any(),
                    }
                })}
            </Transition>
        </WithShell>
    }
}

#[component]
fn TaskTable(tasks: Vec<TaskView>) -> impl IntoView {
    view! {
        <div class="overflow-x-auto rounded-lg bg-white shadow-sm">
            <table class="min-w-full divide-y divide-slate-200 text-sm">
                <thead class="bg-slate-100 text-left text-slate-600">
                    <tr>
                        <th scope="col" class="px-4 py-2">{t(Msg::Task)}</th>
                        <th scope="col" class="px-4 py-2">{t(Msg::Status)}</th>
                        <th scope="col" class="px-4 py-2">{t(Msg::Progress)}</th>
                        <th scope="col" class="px-4 py-2">{t(Msg::Attempts)}</th>
                        <th scope="col" class="px-4 py-2">{t(Msg::CreatedBy)}</th>
                        <th scope="col" class="px-4 py-2">{t(Msg::Created)}</th>
                        <th scope="col" class="px-4 py-2">{t(Msg::LastError)}</th>
                    </tr>
                </thead>
                <tbody class="divide-y divide-slate-100">
                    {tasks.into_iter().map(|task| view! {
                        <tr data-task=task.id>
                            <td class="px-4 py-2"><a class=LINK_CLASS href=format!("/admin/tasks/{}", task.id)>{format!("#{} {}", task.id, task_title_text(&task.title, use_lang()))}</a></td>
                            <td class="px-4 py-2"><StatusBadge status=task.status/></td>
                            <td class="px-4 py-2"><ProgressBar task=task.clone()/></td>
                            <td class="px-4 py-2">{format!("{} / {}", task.attempts, task.max_attempts)}</td>
                            <td class="px-4 py-2">{task.created_by.clone().unwrap_or_else(|| t(Msg::SystemActor).to_string())}</td>
                            <td class="px-4 py-2">{crate::components::local_time(task.created_at)}</td>
                            <td class="max-w-xs truncate px-4 py-2 text-red-700" title=task.last_error.clone()>{task.last_error.clone()}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
pub fn TaskPage() -> impl IntoView {
    let id = route_id();
    let retry = ServerAction::<RetryTask>::new();
    let cancel = ServerAction::<CancelTask>::new();
    let task = Resource::new(
        move || (id.get(), retry.version().get(), cancel.version().get()),
        |(id, _, _)| async move {
            match id {
                Some(id) => get_task(id).await,
                None => Err(domain::AppError::NotFound.into()),
            }
        },
    );
    follow_task_events(id, move || task.refetch());
    view! {
        <WithShell>
            <ActionError value=retry.value()/>
            <ActionError value=cancel.value()/>
            <Transition fallback=|| view! { <p>{t(Msg::Loading)}</p> }>
                {move || Suspend::new(async move {
                    let task = match task.await {
                        Ok(task) => task,
                        Err(e) => return crate::components::page_error_view(&e),
                    };
                    let heading = format!("#{} {}", task.id, task_title_text(&task.title, use_lang()));
                    view! {
                        <Title text=heading.clone()/>
                        <PageHeader title=heading>
                            <a href="" class=SECONDARY_BUTTON_CLASS>{t(Msg::Refresh)}</a>
                            <a href="/admin/tasks" class=SECONDARY_BUTTON_CLASS>{t(Msg::Tasks)}</a>
                            {(task.status == TaskStatus::Failed).then(|| view! {
                                <ActionForm action=retry>
                                    <input type="hidden" name="id" value=task.id/>
                                    <button type="submit" class=BUTTON_CLASS>{t(Msg::RetryTask)}</button>
                                </ActionForm>
                            })}
                            {(task.status == TaskStatus::Queued).then(|| view! {
                                <ActionForm action=cancel>
                                    <input type="hidden" name="id" value=task.id/>
                                    <button type="submit" class=DANGER_BUTTON_CLASS>{t(Msg::CancelTask)}</button>
                                </ActionForm>
                            })}
                        </PageHeader>
                        <section class="mb-6 grid gap-2 rounded-lg bg-white p-6 text-sm shadow-sm sm:grid-cols-2">
                            <p>{t(Msg::Status)}": " <StatusBadge status=task.status/></p>
                            <div class="flex gap-2">{t(Msg::Progress)}": " <ProgressBar task=task.clone()/></div>
                            <p>{t(Msg::Attempts)}": " {format!("{} / {}", task.attempts, task.max_attempts)}</p>
                            <p>{t(Msg::CreatedBy)}": " {task.created_by.clone().unwrap_or_else(|| t(Msg::SystemActor).to_string())}</p>
                            <p>{t(Msg::Created)}": " {crate::components::local_time(task.created_at)}</p>
                            <p>{t(Msg::Updated)}": " {crate::components::local_time(task.updated_at)}</p>
                            {task.next_run_at.map(|at| view! { <p>{t(Msg::NextRun)}": " {crate::components::local_time(at)}</p> })}
                            {task.last_error.clone().map(|e| view! {
                                <p class="sm:col-span-2 text-red-700" data-testid="task-error">{t(Msg::LastError)}": " {e}</p>
                            })}
                        </section>
                        <h2 class="mb-2 text-lg font-semibold">{t(Msg::Steps)}</h2>
                        <ol class="space-y-2">
                            {task.subtasks.into_iter().map(|step| view! {
                                <li class="flex flex-wrap items-center gap-3 rounded bg-white p-3 text-sm shadow-sm">
                                    <span class="font-mono">{format!("{}. {}", step.position + 1, step.action)}</span>
                                    <StatusBadge status=step.status/>
                                    <span class="text-slate-600">{t(Msg::Attempts)}": " {step.attempts}</span>
                                    {step.last_error.map(|e| view! { <span class="text-red-700">{e}</span> })}
                                </li>
                            }).collect_view()}
                        </ol>
                    }.into_any()
                })}
            </Transition>
        </WithShell>
    }
}
