use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::auth::ShellInfo;
use crate::components::PageHeader;
use crate::components::layout::WithShell;
use crate::i18n::Msg;

#[component]
pub fn Dashboard() -> impl IntoView {
    // Classroom (issue 5): the student's "My VMs".
    let act = ServerAction::<crate::api::deployment::VmAction>::new();
    let my = Resource::new(move || act.version().get(), |_| crate::api::classroom::my_vms());
    view! {
        <WithShell>
            <Overview/>
            <section class="mt-6" aria-labelledby="my-vms-heading">
                <h2 id="my-vms-heading" class="mb-3 text-lg font-semibold">{crate::components::t(Msg::MyVms)}</h2>
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
    let roles = user.map(|u| u.actor.role_keys).unwrap_or_default();
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
            <p class="mt-6 text-sm text-slate-500">{Msg::DashboardNext.text(lang)}</p>
        </section>
    }
}
