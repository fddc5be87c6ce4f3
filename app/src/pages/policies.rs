//! Terms of use: the admin list and the page where users accept them.

use domain::ObjectType;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::policies::*;
use crate::components::forms::{ActionError, BUTTON_CLASS, Field, INPUT_CLASS, SECONDARY_BUTTON_CLASS, Submit};
use crate::components::layout::WithShell;
use crate::components::{EmptyState, PageHeader, t, use_lang};
use crate::i18n::{Msg, error_text};

#[component]
pub fn PoliciesPage() -> impl IntoView {
    let create = ServerAction::<CreatePolicy>::new();
    let toggle = ServerAction::<SetPolicyActive>::new();
    let policies = Resource::new(move || (create.version().get(), toggle.version().get()), |_| list_policies());
    let pending = Memo::new(move |_| create.pending().get());
    view! {
        <WithShell readers_of=ObjectType::Policy>
        <Title text=t(Msg::Policies)/>
        <PageHeader title=t(Msg::Policies).to_string()/>
        <ActionError value=toggle.value()/>
        <Suspense fallback=|| view! { <p>{t(Msg::Loading)}</p> }>
            {move || Suspend::new(async move {
                match policies.await {
                    Ok(list) if list.is_empty() => view! { <EmptyState message=t(Msg::NoPolicies)/> }.into_any(),
                    Ok(list) => view! {
                        <ul class="space-y-3">
                            {list.into_iter().map(|p| view! {
                                <li class="rounded-lg bg-white p-4 shadow-sm">
                                    <div class="flex flex-wrap items-center justify-between gap-2">
                                        <h2 class="font-semibold">{p.name.clone()}</h2>
                                        <ActionForm action=toggle>
                                            <input type="hidden" name="id" value=p.id/>
                                            <input type="hidden" name="active" value=(!p.active).to_string()/>
                                            <button type="submit" class=if p.active { SECONDARY_BUTTON_CLASS } else { BUTTON_CLASS }>
                                                {if p.active { t(Msg::Deactivate) } else { t(Msg::Activate) }}
                                            </button>
                                        </ActionForm>
                                    </div>
                                    <p class="text-sm text-slate-600">
                                        {if p.active { t(Msg::Active) } else { t(Msg::Inactive) }} " · " {t(Msg::Accepted)} " " {p.accepted_count}
                                    </p>
                                    <p class="mt-2 whitespace-pre-line text-sm">{p.content.clone()}</p>
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                    Err(e) => view! { <p role="alert" class="text-red-700">{error_text(&e.0, use_lang())}</p> }.into_any(),
                }
            })}
        </Suspense>
        <section class="mt-8 max-w-2xl rounded-lg bg-white p-6 shadow-sm">
            <h2 class="mb-4 text-lg font-semibold">{t(Msg::NewPolicy)}</h2>
            <ActionError value=create.value()/>
            <ActionForm action=create>
                <Field label=t(Msg::Name) name="name" required=true maxlength=128/>
                <Field label=t(Msg::Description) name="description" maxlength=2000/>
                <div class="mb-4">
                    <label for="policy-content" class="block text-sm font-medium text-slate-700">{t(Msg::Content)}</label>
                    <textarea id="policy-content" name="content" rows="6" class=INPUT_CLASS></textarea>
                </div>
                <Submit label=t(Msg::Create) pending=pending/>
            </ActionForm>
        </section>
        </WithShell>
    }
}

#[component]
pub fn AcceptPoliciesPage() -> impl IntoView {
    let accept = ServerAction::<AcceptPolicy>::new();
    let pending_list = Resource::new(move || accept.version().get(), |_| pending_policies());
    let query = use_query_map();
    let next = move || query.with_untracked(|q| q.get("next")).unwrap_or_else(|| "/".into());
    view! {
        <WithShell>
        <Title text=t(Msg::AcceptTitle)/>
        <PageHeader title=t(Msg::AcceptTitle).to_string()/>
        <ActionError value=accept.value()/>
        <Suspense fallback=|| view! { <p>{t(Msg::Loading)}</p> }>
            {move || Suspend::new(async move {
                match pending_list.await {
                    Ok(list) => view! {
                        {list.into_iter().map(|p| {
                            let pending = Memo::new(move |_| accept.pending().get());
                            view! {
                                <article class="mb-4 rounded-lg bg-white p-6 shadow-sm">
                                    <h2 class="text-lg font-semibold">{p.name.clone()}</h2>
                                    <p class="mt-2 whitespace-pre-line text-sm">{p.content.clone()}</p>
                                    <ActionForm action=accept attr:class="mt-4">
                                        <input type="hidden" name="id" value=p.id/>
                                        <input type="hidden" name="next" value=next()/>
                                        <Submit label=t(Msg::Accept) pending=pending/>
                                    </ActionForm>
                                </article>
                            }
                        }).collect_view()}
                    }.into_any(),
                    Err(e) => view! { <p role="alert" class="text-red-700">{error_text(&e.0, use_lang())}</p> }.into_any(),
                }
            })}
        </Suspense>
        </WithShell>
    }
}
