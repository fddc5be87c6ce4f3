//! The audit log: who did what to which object, when, and whether it
//! worked. Administrators see everything (and the activity log's backlog),
//! everyone else their own activities. Filters are a GET form and pages are
//! links, so the page works without JavaScript; the CSV export streams the
//! same filtered list.

use domain::activity::{Activity, Outcome};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

use crate::api::activities::*;
use crate::components::forms::{INPUT_CLASS, LINK_CLASS, SECONDARY_BUTTON_CLASS};
use crate::components::layout::WithShell;
use crate::components::{EmptyState, PageHeader, t, use_lang};
use crate::i18n::{Msg, error_text};

fn outcome_text(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Ok => t(Msg::OutcomeOk),
        Outcome::Failed => t(Msg::OutcomeFailed),
    }
}

#[component]
pub fn ActivitiesPage() -> impl IntoView {
    let query = use_query_map();
    let current = Memo::new(move |_| {
        query.with(|q| {
            let text = |key: &str| q.get(key).filter(|v| !v.trim().is_empty());
            (
                ActivityQuery {
                    user: text("user"),
                    event: q.get("event").and_then(|e| e.parse().ok()),
                    action: text("action"),
                    outcome: text("outcome"),
                    from: text("from"),
                    until: text("until"),
                    q: text("q"),
                },
                text("cursor"),
            )
        })
    });
    let activities = Resource::new(
        move || current.get(),
        |(query, cursor)| {
            let ActivityQuery { user, event, action, outcome, from, until, q } = query;
            list_activities(user, event, action, outcome, from, until, q, cursor, None)
        },
    );
    // Only administrators may read it; for everyone else it answers "forbidden" and shows nothing.
    let health = Resource::new(|| (), |_| activity_health());
    let value = move |key: &str| query.with_untracked(|q| q.get(key)).unwrap_or_default();
    let filters = move || current.with(|(q, _)| q.to_query_string());
    view! {
        <WithShell>
            <Title text=t(Msg::Activities)/>
            <PageHeader title=t(Msg::Activities).to_string()>
                // A file, not a page: rel=external keeps the app's router from
                // opening it as one (which ended on "Page not found").
                <a class=SECONDARY_BUTTON_CLASS rel="external" download="activities.csv"
                    href=move || format!("/activities/export.csv?{}", filters())>
                    {t(Msg::ExportCsv)}
                </a>
            </PageHeader>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    health.await.ok().map(|h| view! {
                        <p class="mb-4 rounded bg-white p-3 text-sm text-slate-700 shadow-sm" data-outbox=h.backlog.waiting>
                            {format!("{}: {} — {} {}", t(Msg::ActivityStore), h.store, h.backlog.waiting, t(Msg::OutboxWaiting))}
                            {h.backlog.oldest.map(|at| format!(" ({} {})", t(Msg::OutboxOldest), crate::components::local_time(at)))}
                        </p>
                    })
                })}
            </Transition>
            <Form method="GET" action="" attr:class="mb-4 flex flex-wrap items-end gap-3">
                <div>
                    <label for="user" class="block text-sm font-medium text-slate-700">{t(Msg::Actor)}</label>
                    <input id="user" name="user" type="search" value=value("user") placeholder=t(Msg::Username) class=INPUT_CLASS/>
                </div>
                <div>
                    <label for="event" class="block text-sm font-medium text-slate-700">{t(Msg::EventId)}</label>
                    <input id="event" name="event" type="number" min="1" value=value("event") class=INPUT_CLASS/>
                </div>
                // Wide enough for its example (the placeholder), which is its only hint.
                <div class="w-full sm:w-96">
                    <label for="action" class="block text-sm font-medium text-slate-700">{t(Msg::ActionName)}</label>
                    <input id="action" name="action" type="search" value=value("action") placeholder=t(Msg::ActionHint) class=INPUT_CLASS/>
                </div>
                <div>
                    <label for="outcome" class="block text-sm font-medium text-slate-700">{t(Msg::Outcome)}</label>
                    <select id="outcome" name="outcome" class=INPUT_CLASS>
                        <option value="">{t(Msg::Any)}</option>
                        {[Outcome::Ok, Outcome::Failed].into_iter().map(|o| view! {
                            <option value=o.key() selected=value("outcome") == o.key()>{outcome_text(o)}</option>
                        }).collect_view()}
                    </select>
                </div>
                <div>
                    <label for="from" class="block text-sm font-medium text-slate-700">{t(Msg::FromDay)}</label>
                    <input id="from" name="from" type="date" value=value("from") class=INPUT_CLASS/>
                </div>
                <div>
                    <label for="until" class="block text-sm font-medium text-slate-700">{t(Msg::UntilDay)}</label>
                    <input id="until" name="until" type="date" value=value("until") class=INPUT_CLASS/>
                </div>
                <div>
                    <label for="q" class="block text-sm font-medium text-slate-700">{t(Msg::SearchTargets)}</label>
                    <input id="q" name="q" type="search" value=value("q") class=INPUT_CLASS/>
                </div>
                <button type="submit" class=SECONDARY_BUTTON_CLASS>{t(Msg::Filter)}</button>
            </Form>
            <Transition fallback=|| view! { <p>{t(Msg::Loading)}</p> }>
                {move || Suspend::new(async move {
                    match activities.await {
                        Ok(page) if page.items.is_empty() => view! { <EmptyState message=t(Msg::NoActivities)/> }.into_any(),
                        Ok(page) => {
                            let base = filters();
                            let first = format!("/activities?{base}");
                            let older = page.next.map(|cursor| format!("/activities?{base}&cursor={}", crate::url_encode(&cursor)));
                            let paged = !value("cursor").is_empty();
                            view! {
                                <ActivityTable activities=page.items/>
                                <nav class="mt-4 flex justify-end gap-2 text-sm" aria-label="pagination">
                                    {paged.then(|| view! { <a class=SECONDARY_BUTTON_CLASS href=first>{t(Msg::FirstPage)}</a> })}
                                    {older.map(|href| view! { <a class=SECONDARY_BUTTON_CLASS rel="next" href=href>{t(Msg::OlderPage)}</a> })}
                                </nav>
                            }.into_any()
                        }
                        Err(e) => view! { <p role="alert" class="text-red-700">{error_text(&e.0, use_lang())}</p> }.into_any(),
                    }
                })}
            </Transition>
        </WithShell>
    }
}

/// Names link to that user's and that event's timelines (the same page, filtered).
#[component]
fn ActivityTable(activities: Vec<Activity>) -> impl IntoView {
    view! {
        <div class="overflow-x-auto rounded-lg bg-white shadow-sm">
            <table class="min-w-full divide-y divide-slate-200 text-sm">
                <thead class="bg-slate-100 text-left text-slate-600">
                    <tr>
                        <th scope="col" class="px-3 py-2">{t(Msg::ActivityTime)}</th>
                        <th scope="col" class="px-3 py-2">{t(Msg::Actor)}</th>
                        <th scope="col" class="px-3 py-2">{t(Msg::ActionName)}</th>
                        <th scope="col" class="px-3 py-2">{t(Msg::TargetName)}</th>
                        <th scope="col" class="px-3 py-2">{t(Msg::EventId)}</th>
                        <th scope="col" class="px-3 py-2">{t(Msg::Outcome)}</th>
                        <th scope="col" class="px-3 py-2">{t(Msg::ClientAddress)}</th>
                        <th scope="col" class="px-3 py-2">{t(Msg::RequestId)}</th>
                    </tr>
                </thead>
                <tbody class="divide-y divide-slate-100">
                    {activities.into_iter().map(|a| {
                        let failed = a.outcome == Outcome::Failed;
                        let actor = if a.actor_id.is_some() {
                            view! { <a class=LINK_CLASS href=format!("/activities?user={}", crate::url_encode(&a.actor_name))>{a.actor_name.clone()}</a> }.into_any()
                        } else {
                            view! { <span>{a.actor_name.clone()}</span> }.into_any()
                        };
                        let details = a.details_text();
                        view! {
                            <tr data-activity=a.id.clone() data-action=a.action.clone()>
                                <td class="whitespace-nowrap px-3 py-2">{crate::components::local_time(a.at)}</td>
                                <td class="px-3 py-2">{actor}</td>
                                <td class="px-3 py-2 font-mono" title=details>{a.action.clone()}</td>
                                <td class="px-3 py-2">{format!("{} {} ({})", a.target.kind, a.target.name, a.target.id)}</td>
                                <td class="px-3 py-2">{a.event_id.map(|e| view! { <a class=LINK_CLASS href=format!("/activities?event={e}")>{e}</a> })}</td>
                                <td class=if failed { "px-3 py-2 text-red-700" } else { "px-3 py-2" }>
                                    {outcome_text(a.outcome)}{a.reason.clone().map(|r| format!(": {r}"))}
                                </td>
                                <td class="px-3 py-2">{a.client_ip.clone()}</td>
                                <td class="max-w-[8rem] truncate px-3 py-2 font-mono text-xs" title=a.request_id.clone()>{a.request_id.clone()}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// How many activities a timeline on an object's page shows.
pub const TIMELINE_SIZE: u32 = 20;

/// The latest activities of `query` (whose: `event` or `user`; only what the
/// viewer may see, as on the Activities page) and the link to all of them there.
pub async fn timeline(query: ActivityQuery) -> crate::error::ApiResult<(domain::activity::ActivityPage, String)> {
    let all = format!("/activities?{}", query.to_query_string());
    let ActivityQuery { user, event, action, outcome, from, until, q } = query;
    let page = list_activities(user, event, action, outcome, from, until, q, None, Some(TIMELINE_SIZE)).await?;
    Ok((page, all))
}

/// An object's recent activities (newest first) and a link to all of them.
/// The page creates `recent` (from [`timeline`]) with its other resources, not
/// inside a `Suspend`: a resource created while another resolves made server
/// and browser number them differently now and then, and hydration panicked.
#[component]
pub fn ActivityTimeline(
    recent: Resource<crate::error::ApiResult<(domain::activity::ActivityPage, String)>>,
) -> impl IntoView {
    view! {
        <section class="mt-6 rounded-lg bg-white p-4 shadow-sm" data-testid="activity-timeline">
            <Transition fallback=|| view! { <h2 class="mb-3 font-semibold">{t(Msg::RecentActivities)}</h2><p>{t(Msg::Loading)}</p> }>
                {move || Suspend::new(async move {
                    match recent.await {
                        Ok((page, all)) => view! {
                            <div class="mb-3 flex items-baseline justify-between gap-4">
                                <h2 class="font-semibold">{t(Msg::RecentActivities)}</h2>
                                <a class=LINK_CLASS href=all>{t(Msg::AllActivities)}</a>
                            </div>
                            {if page.items.is_empty() {
                                view! { <p class="text-sm text-slate-500">{t(Msg::NoActivities)}</p> }.into_any()
                            } else {
                                view! {
                                    <ol class="divide-y divide-slate-100 text-sm">
                                        {page.items.into_iter().map(|a| {
                                            let outcome = if a.outcome == Outcome::Failed { "text-red-700" } else { "text-slate-500" };
                                            view! {
                                                <li class="flex flex-wrap gap-x-3 py-1" data-activity=a.id.clone() data-action=a.action.clone()>
                                                    <span class="whitespace-nowrap text-slate-500">{crate::components::local_time(a.at)}</span>
                                                    <span>{a.actor_name.clone()}</span>
                                                    <span class="font-mono">{a.action.clone()}</span>
                                                    <span>{a.target.name.clone()}</span>
                                                    <span class=outcome>{outcome_text(a.outcome)}{a.reason.clone().map(|r| format!(": {r}"))}</span>
                                                </li>
                                            }
                                        }).collect_view()}
                                    </ol>
                                }.into_any()
                            }}
                        }.into_any(),
                        Err(e) => view! { <p role="alert" class="text-red-700">{error_text(&e.0, use_lang())}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}
