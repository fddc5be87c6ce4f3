//! The admin Health page: read-only, what the system knows about itself —
//! its connections, the activity outbox and where it forwards to, the task
//! queues and which process leads the schedulers.

use domain::ObjectType;
use domain::health::SystemHealth;
use domain::time::Timestamp;
use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::health::health_report;
use crate::components::layout::WithShell;
use crate::components::{PageHeader, t, use_lang};
use crate::i18n::{Msg, error_text};

const CARD_CLASS: &str = "rounded bg-white p-4 shadow-sm";

#[component]
pub fn HealthPage() -> impl IntoView {
    let health = Resource::new(|| (), |_| health_report());
    view! {
        <WithShell readers_of=ObjectType::Setting>
            <Title text=t(Msg::HealthTitle)/>
            <PageHeader title=t(Msg::HealthTitle).to_string()/>
            <Suspense fallback=|| view! { <p>{t(Msg::Loading)}</p> }>
                {move || Suspend::new(async move {
                    match health.await {
                        Ok(h) => health_view(h).into_any(),
                        Err(e) => view! { <p role="alert" class="text-red-700">{error_text(&e.0, use_lang())}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </WithShell>
    }
}

fn health_view(h: SystemHealth) -> impl IntoView {
    let oldest = h.activities.backlog.oldest.map(Timestamp::format_utc).unwrap_or_else(|| "—".into());
    let leader = h.scheduler_leader.clone().unwrap_or_else(|| t(Msg::HealthNoLeader).to_string());
    view! {
        <div class="grid gap-4 md:grid-cols-2">
            <section class=CARD_CLASS aria-labelledby="health-dependencies">
                <h2 id="health-dependencies" class="mb-2 font-semibold">{t(Msg::HealthDependencies)}</h2>
                <dl class="space-y-1 text-sm">
                    {h.dependencies.into_iter().map(|d| {
                        let class = if d.is_ok() { "text-green-800" } else { "text-slate-700" };
                        view! {
                            <div class="flex justify-between gap-4" data-dependency=d.name.clone()>
                                <dt class="font-medium">{d.name.clone()}</dt>
                                <dd class=class>{d.status.clone()}</dd>
                            </div>
                        }
                    }).collect_view()}
                </dl>
            </section>
            <section class=CARD_CLASS aria-labelledby="health-activities">
                <h2 id="health-activities" class="mb-2 font-semibold">{t(Msg::Activities)}</h2>
                <dl class="space-y-1 text-sm">
                    <div class="flex justify-between gap-4">
                        <dt>{t(Msg::HealthForwardingTarget)}</dt>
                        <dd data-store=h.activities.store.clone()>{h.activities.store.clone()}</dd>
                    </div>
                    <div class="flex justify-between gap-4">
                        <dt>{t(Msg::OutboxWaiting)}</dt>
                        <dd data-outbox=h.activities.backlog.waiting>{h.activities.backlog.waiting}</dd>
                    </div>
                    <div class="flex justify-between gap-4">
                        <dt>{t(Msg::OutboxOldest)}</dt>
                        <dd>{oldest}</dd>
                    </div>
                    <div class="flex justify-between gap-4">
                        <dt>{t(Msg::HealthLastError)}</dt>
                        <dd data-forwarding-error="">{h.forwarding_error.unwrap_or_else(|| "—".into())}</dd>
                    </div>
                </dl>
            </section>
            <section class=CARD_CLASS aria-labelledby="health-tasks">
                <h2 id="health-tasks" class="mb-2 font-semibold">
                    <a class="underline" href="/admin/tasks">{t(Msg::Tasks)}</a>
                </h2>
                <dl class="space-y-1 text-sm">
                    <div class="flex justify-between gap-4">
                        <dt>{t(Msg::HealthQueued)}</dt>
                        <dd data-tasks-queued=h.tasks.queued>{h.tasks.queued}</dd>
                    </div>
                    <div class="flex justify-between gap-4">
                        <dt>{t(Msg::HealthRunning)}</dt>
                        <dd data-tasks-running=h.tasks.running>{h.tasks.running}</dd>
                    </div>
                    <div class="flex justify-between gap-4">
                        <dt>{t(Msg::HealthFailed)}</dt>
                        <dd data-tasks-failed=h.tasks.failed>{h.tasks.failed}</dd>
                    </div>
                </dl>
            </section>
            <section class=CARD_CLASS aria-labelledby="health-scheduler">
                <h2 id="health-scheduler" class="mb-2 font-semibold">{t(Msg::HealthScheduler)}</h2>
                <p class="text-sm" data-scheduler-leader="">{leader}</p>
            </section>
        </div>
    }
}
