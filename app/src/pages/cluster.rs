//! The Proxmox VE cluster: the connection settings with "Test connection"
//! (`/admin/proxmox`), and the nodes with their load and the pool's
//! templates (`/admin/nodes`).

use domain::cluster::{ConnectionSource, ConnectionTest, ConnectionView, NodeView, TemplateView, format_bytes};
use domain::{Action, ObjectType, Target, can};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

use crate::api::cluster::*;
use crate::components::forms::{ActionError, BUTTON_CLASS, INPUT_CLASS, SECONDARY_BUTTON_CLASS, Submit};
use crate::components::layout::WithShell;
use crate::components::{EmptyState, PageHeader, error_view, t, use_actor, use_lang};
use crate::i18n::Msg;

fn may_read(object: ObjectType) -> bool {
    use_actor().is_some_and(|a| can(&a, Action::Read, Target::All(object)))
}

#[component]
pub fn ConnectionPage() -> impl IntoView {
    let query = use_query_map();
    let save = ServerAction::<SaveConnection>::new();
    let settings = Resource::new(move || save.version().get(), |_| connection_settings());
    // "Test connection" is a GET (`?test=1`): it changes nothing, works
    // without JavaScript, and its result survives a reload.
    let test = Resource::new(
        move || query.with(|q| q.get("test").is_some()),
        |wanted| async move { if wanted { Some(test_connection().await) } else { None } },
    );
    let pending = Memo::new(move |_| save.pending().get());
    view! {
        <WithShell readers_of=ObjectType::Setting>
            <Title text=t(Msg::ProxmoxConnection)/>
            <PageHeader title=t(Msg::ProxmoxConnection).to_string()>
                <a href="/admin/nodes" class=SECONDARY_BUTTON_CLASS>{t(Msg::Nodes)}</a>
            </PageHeader>
            <ActionError value=save.value()/>
            <Suspense fallback=|| view! { <p>{t(Msg::Loading)}</p> }>
                {move || Suspend::new(async move {
                    match settings.await {
                        Ok(view) => view! { <ConnectionForm connection=view action=save pending=pending/> }.into_any(),
                        Err(e) => error_view(&e),
                    }
                })}
            </Suspense>
            <section class="mt-6 max-w-3xl rounded-lg bg-white p-6 shadow-sm" aria-labelledby="test-heading">
                <h2 id="test-heading" class="mb-3 text-lg font-semibold">{t(Msg::TestConnection)}</h2>
                <Form method="GET" action="">
                    <input type="hidden" name="test" value="1"/>
                    <button type="submit" class=BUTTON_CLASS>{t(Msg::TestConnection)}</button>
                </Form>
                <Suspense fallback=|| view! { <p class="mt-3">{t(Msg::Loading)}</p> }>
                    {move || Suspend::new(async move {
                        match test.await {
                            None => ().into_any(),
                            Some(Ok(result)) => view! { <TestResult result=result/> }.into_any(),
                            Some(Err(e)) => view! { <div class="mt-3" data-testid="test-result">{error_view(&e)}</div> }.into_any(),
                        }
                    })}
                </Suspense>
            </section>
        </WithShell>
    }
}

#[component]
fn ConnectionForm(
    connection: ConnectionView,
    action: ServerAction<SaveConnection>,
    pending: Memo<bool>,
) -> impl IntoView {
    let lang = use_lang();
    let source = match connection.source {
        Some(ConnectionSource::Saved) => Msg::SourceSaved
            .text(lang)
            .replace("{at}", &connection.updated_at.map(crate::components::local_time).unwrap_or_default())
            .replace("{by}", connection.updated_by.as_deref().unwrap_or("?")),
        Some(ConnectionSource::Environment) => Msg::SourceEnvironment.text(lang).to_string(),
        None => Msg::SourceNone.text(lang).to_string(),
    };
    let secret_hint = if connection.secret_set { t(Msg::SecretSetHint) } else { t(Msg::SecretNotSetHint) };
    view! {
        <section class="max-w-3xl rounded-lg bg-white p-6 shadow-sm">
            <p class="mb-4 text-sm text-slate-700" data-testid="connection-source">{source}</p>
            {connection.problem.as_ref().map(|p| view! {
                <p role="alert" class="mb-4 rounded border border-amber-300 bg-amber-50 px-4 py-3 text-sm text-amber-900">
                    {crate::i18n::cluster_problem_text(p, lang)}
                </p>
            })}
            {(!connection.can_save).then(|| view! {
                <p role="alert" class="mb-4 rounded border border-amber-300 bg-amber-50 px-4 py-3 text-sm text-amber-900">
                    {t(Msg::SecretKeyHint)}
                </p>
            })}
            <ActionForm action=action>
                <TextField label=Msg::ConnectionUrl name="url" value=connection.url.clone() hint=Msg::ConnectionUrlHint required=true/>
                <TextField label=Msg::TokenId name="token_id" value=connection.token_id.clone() hint=Msg::TokenIdHint required=true/>
                <div class="mb-4">
                    <label for="field-secret" class="block text-sm font-medium text-slate-700">{t(Msg::TokenSecret)}</label>
                    // Never filled in: the secret is write-only.
                    <input id="field-secret" name="secret" type="password" value="" autocomplete="new-password"
                        placeholder=if connection.secret_set { "•••" } else { "" } maxlength="255"
                        aria-describedby="hint-secret" class=INPUT_CLASS/>
                    <p id="hint-secret" class="mt-1 text-xs text-slate-500" data-testid="secret-state">{secret_hint}</p>
                </div>
                <TextField label=Msg::Fingerprint name="fingerprint" value=connection.fingerprint.clone() hint=Msg::FingerprintHint mono=true/>
                <div class="mb-4">
                    <label class="flex items-center gap-2 text-sm font-medium text-slate-700">
                        <input id="field-verify_tls" name="verify_tls" type="checkbox" value="true" checked=connection.verify_tls
                            aria-describedby="hint-verify_tls"/>
                        {t(Msg::VerifyTls)}
                    </label>
                    <p id="hint-verify_tls" class="mt-1 text-xs text-slate-500">{t(Msg::VerifyTlsHint)}</p>
                </div>
                <TextField label=Msg::Pool name="pool" value=connection.pool.clone() hint=Msg::PoolHint/>
                <Submit label=t(Msg::Save) pending=pending/>
            </ActionForm>
        </section>
    }
}

#[component]
fn TextField(
    label: Msg,
    name: &'static str,
    value: String,
    hint: Msg,
    #[prop(optional)] required: bool,
    #[prop(optional)] mono: bool,
) -> impl IntoView {
    let id = format!("field-{name}");
    let hint_id = format!("hint-{name}");
    let class = if mono { format!("{INPUT_CLASS} font-mono") } else { INPUT_CLASS.to_string() };
    view! {
        <div class="mb-4">
            <label for=id.clone() class="block text-sm font-medium text-slate-700">{t(label)}</label>
            <input id=id name=name type="text" value=value required=required aria-describedby=hint_id.clone() class=class/>
            <p id=hint_id class="mt-1 text-xs text-slate-500">{t(hint)}</p>
        </div>
    }
}

#[component]
fn TestResult(result: ConnectionTest) -> impl IntoView {
    let version = if result.release.is_empty() || result.version.starts_with(&result.release) {
        result.version.clone()
    } else {
        format!("{} ({})", result.version, result.release)
    };
    view! {
        <div class="mt-3" data-testid="test-result">
            <p role="status" class="mb-3 rounded border border-emerald-300 bg-emerald-50 px-4 py-3 text-sm text-emerald-800">
                {t(Msg::ConnectionOk).replace("{version}", &version)}
            </p>
            <NodeTable nodes=result.nodes/>
        </div>
    }
}

/// A labelled usage bar that screen readers announce as a progress bar.
#[component]
fn UsageBar(label: &'static str, percent: u8, text: String) -> impl IntoView {
    let color = match percent {
        90.. => "bg-red-500",
        75..=89 => "bg-amber-500",
        _ => "bg-indigo-500",
    };
    view! {
        <div class="min-w-40">
            <div class="h-2 w-full rounded bg-slate-200" role="progressbar" aria-valuemin="0" aria-valuemax="100"
                aria-valuenow=percent.to_string() aria-valuetext=format!("{percent} %, {text}") aria-label=label>
                <div class=format!("h-2 rounded {color}") style=format!("width: {percent}%")></div>
            </div>
            <span class="text-xs text-slate-600">{format!("{percent} % · {text}")}</span>
        </div>
    }
}

#[component]
fn NodeTable(nodes: Vec<NodeView>) -> impl IntoView {
    if nodes.is_empty() {
        return view! { <EmptyState message=t(Msg::NoNodes)/> }.into_any();
    }
    let lang = use_lang();
    let usage = move |used: u64, total: u64| {
        Msg::UsageOf.text(lang).replace("{used}", &format_bytes(used)).replace("{total}", &format_bytes(total))
    };
    view! {
        <div class="overflow-x-auto rounded-lg bg-white shadow-sm">
            <table class="min-w-full divide-y divide-slate-200 text-sm">
                <thead class="bg-slate-100 text-left text-slate-600">
                    <tr>
                        <th scope="col" class="px-4 py-2">{t(Msg::Node)}</th>
                        <th scope="col" class="px-4 py-2">{t(Msg::Status)}</th>
                        <th scope="col" class="px-4 py-2">{t(Msg::Cpu)}</th>
                        <th scope="col" class="px-4 py-2">{t(Msg::Memory)}</th>
                        <th scope="col" class="px-4 py-2">{t(Msg::Storage)}</th>
                        <th scope="col" class="px-4 py-2">{t(Msg::Vms)}</th>
                        <th scope="col" class="px-4 py-2">{t(Msg::Templates)}</th>
                    </tr>
                </thead>
                <tbody class="divide-y divide-slate-100">
                    {nodes.into_iter().map(|node| {
                        let cpus = Msg::CpuOf.text(lang).replace("{cpus}", &node.cpus.to_string());
                        view! {
                            <tr data-node=node.name.clone()>
                                <th scope="row" class="px-4 py-2 text-left font-medium">{node.name.clone()}</th>
                                <td class="px-4 py-2">
                                    {if node.online {
                                        view! { <span class="rounded-full bg-emerald-100 px-2 py-0.5 text-xs font-medium text-emerald-800">{t(Msg::Online)}</span> }.into_any()
                                    } else {
                                        view! { <span class="rounded-full bg-red-100 px-2 py-0.5 text-xs font-medium text-red-800">{t(Msg::Offline)}</span> }.into_any()
                                    }}
                                </td>
                                <td class="px-4 py-2">
                                    <UsageBar label=t(Msg::Cpu) percent=node.cpu_percent() text=cpus/>
                                </td>
                                <td class="px-4 py-2">
                                    <UsageBar label=t(Msg::Memory) percent=node.mem_percent() text=usage(node.mem_used, node.mem_total)/>
                                </td>
                                <td class="px-4 py-2">
                                    <UsageBar label=t(Msg::Storage) percent=node.disk_percent() text=usage(node.disk_used, node.disk_total)/>
                                </td>
                                <td class="px-4 py-2" data-testid="vm-count">{node.vms}</td>
                                <td class="px-4 py-2" data-testid="template-count">{node.templates}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

#[component]
pub fn NodesPage() -> impl IntoView {
    let nodes = Resource::new(|| (), |_| cluster_nodes());
    let templates = Resource::new(|| (), |_| cluster_templates());
    view! {
        <WithShell>
            <Title text=t(Msg::Cluster)/>
            <PageHeader title=t(Msg::Cluster).to_string()>
                {may_read(ObjectType::Setting).then(|| view! {
                    <a href="/admin/proxmox" class=SECONDARY_BUTTON_CLASS>{t(Msg::ProxmoxConnection)}</a>
                })}
            </PageHeader>
            {may_read(ObjectType::Node).then(|| view! {
                <section class="mb-8" aria-labelledby="nodes-heading">
                    <h2 id="nodes-heading" class="mb-3 text-lg font-semibold">{t(Msg::Nodes)}</h2>
                    <Suspense fallback=|| view! { <p>{t(Msg::Loading)}</p> }>
                        {move || Suspend::new(async move {
                            match nodes.await {
                                Ok(list) => view! { <NodeTable nodes=list/> }.into_any(),
                                Err(e) => error_view(&e),
                            }
                        })}
                    </Suspense>
                </section>
            })}
            <section aria-labelledby="templates-heading">
                <h2 id="templates-heading" class="text-lg font-semibold">{t(Msg::ClusterTemplates)}</h2>
                <p class="mb-3 text-sm text-slate-600">{t(Msg::ClusterTemplatesHint)}</p>
                <Suspense fallback=|| view! { <p>{t(Msg::Loading)}</p> }>
                    {move || Suspend::new(async move {
                        match templates.await {
                            Ok(list) if list.is_empty() => view! { <EmptyState message=t(Msg::NoTemplates)/> }.into_any(),
                            Ok(list) => view! { <TemplateTable templates=list/> }.into_any(),
                            Err(e) => error_view(&e),
                        }
                    })}
                </Suspense>
            </section>
        </WithShell>
    }
}

#[component]
fn TemplateTable(templates: Vec<TemplateView>) -> impl IntoView {
    view! {
        <div class="overflow-x-auto rounded-lg bg-white shadow-sm">
            <table class="min-w-full divide-y divide-slate-200 text-sm">
                <thead class="bg-slate-100 text-left text-slate-600">
                    <tr>
                        <th scope="col" class="px-4 py-2">{t(Msg::VmId)}</th>
                        <th scope="col" class="px-4 py-2">{t(Msg::Name)}</th>
                        <th scope="col" class="px-4 py-2">{t(Msg::Node)}</th>
                        <th scope="col" class="px-4 py-2">{t(Msg::Cores)}</th>
                        <th scope="col" class="px-4 py-2">{t(Msg::Memory)}</th>
                        <th scope="col" class="px-4 py-2">{t(Msg::Disk)}</th>
                        <th scope="col" class="px-4 py-2">{t(Msg::Tags)}</th>
                        <th scope="col" class="px-4 py-2">{t(Msg::Description)}</th>
                    </tr>
                </thead>
                <tbody class="divide-y divide-slate-100">
                    {templates.into_iter().map(|tpl| view! {
                        <tr data-vmid=tpl.vmid>
                            <td class="px-4 py-2 font-mono">{tpl.vmid}</td>
                            <th scope="row" class="px-4 py-2 text-left font-medium">{tpl.name.clone()}</th>
                            <td class="px-4 py-2">{tpl.node.clone()}</td>
                            <td class="px-4 py-2">{tpl.cores.map(|c| c.to_string()).unwrap_or_default()}</td>
                            <td class="px-4 py-2">{tpl.memory_mib.map(|m| format_bytes(m * 1024 * 1024)).unwrap_or_default()}</td>
                            <td class="px-4 py-2">{tpl.disk_bytes.map(format_bytes).unwrap_or_default()}</td>
                            <td class="px-4 py-2">
                                <ul class="flex flex-wrap gap-1">
                                    {tpl.tags.iter().map(|tag| view! {
                                        <li class="rounded bg-slate-100 px-2 py-0.5 text-xs text-slate-700">{tag.clone()}</li>
                                    }).collect_view()}
                                </ul>
                            </td>
                            <td class="max-w-sm px-4 py-2 text-slate-700">{tpl.description.clone()}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}
