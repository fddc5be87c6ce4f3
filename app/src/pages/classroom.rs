//! The classroom pages: VM templates (`/templates`), environments
//! (`/environments`), events with participants, rosters and their VMs
//! (`/events`), user groups (`/groups`), VMs (`/vms`) and the "My VMs" block
//! of the home page.

use domain::catalogue::Taggable;
use domain::classroom::{
    ConnectionBinding, Console, EnvironmentView, EventNote, EventRole, EventStatus, EventTab, EventView, MyEvent,
    ParticipantView, ROSTER_COLUMNS, RosterPreview, VmState, VmTemplateView, VmView,
};
use domain::time::Timestamp;
use domain::{Action, ObjectType, Target, can};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::catalogue::tags_of;
use crate::api::classroom::*;
use crate::components::forms::{
    ActionError, BUTTON_CLASS, DANGER_BUTTON_CLASS, Field, INPUT_CLASS, LINK_CLASS, SECONDARY_BUTTON_CLASS, Submit,
};
use crate::components::layout::WithShell;
use crate::components::pager::Pager;
use crate::components::tags::{TagChips, TagFilterField, TagsSection, tags_for};
use crate::components::{EmptyState, PageHeader, error_view, page_error_view, t, use_actor, use_lang};
use crate::error::ApiError;
use crate::i18n::{Msg, error_text, event_role_text, event_status_text, vm_state_text};
use crate::pages::route_id;

fn may(action: Action, object: ObjectType) -> bool {
    use_actor().is_some_and(|a| can(&a, action, Target::All(object)))
}

fn may_one(action: Action, object: ObjectType, id: i64) -> bool {
    use_actor().is_some_and(|a| can(&a, action, Target::One(object, id)))
}

fn not_found<T>() -> Result<T, ApiError> {
    Err(domain::AppError::NotFound.into())
}

fn when(at: Option<Timestamp>) -> String {
    at.map(crate::components::local_time).unwrap_or_else(|| "—".into())
}

const TABLE: &str = "min-w-full divide-y divide-slate-200 text-sm";
const THEAD: &str = "bg-slate-100 text-left text-slate-600";
const CELL: &str = "px-4 py-2";
const CARD: &str = "rounded-lg bg-white p-6 shadow-sm";
const LABEL: &str = "block text-sm font-medium text-slate-700";

// ---------------------------------------------------------------- templates

#[component]
pub fn TemplatesPage() -> impl IntoView {
    let import = ServerAction::<ImportClusterTemplate>::new();
    let query = use_query_map();
    let templates = Resource::new(
        move || query.with(|q| q.get("tag")),
        |tag| async move {
            let list = list_templates(tag).await?;
            let tags = tags_of(Taggable::Template.key().into(), list.iter().map(|x| x.id).collect()).await?;
            Ok::<_, ApiError>((list, tags))
        },
    );
    let tag = move || query.with_untracked(|q| q.get("tag")).unwrap_or_default();
    // The cluster is asked only on request (`?cluster=1`): it may be slow or down.
    let cluster = Resource::new(
        move || query.with(|q| q.get("cluster").is_some()),
        |wanted| async move { if wanted { Some(crate::api::cluster::cluster_templates().await) } else { None } },
    );
    view! {
        <WithShell readers_of=ObjectType::Template>
        <Title text=t(Msg::Templates)/>
        <PageHeader title=t(Msg::Templates).to_string()>
            {may(Action::Create, ObjectType::Template).then(|| view! {
                <a href="/templates?cluster=1" class=SECONDARY_BUTTON_CLASS>{t(Msg::ImportFromCluster)}</a>
                <a href="/templates/new" class=BUTTON_CLASS>{t(Msg::NewTemplate)}</a>
            })}
        </PageHeader>
        <ActionError value=import.value()/>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match cluster.await {
                    None => ().into_any(),
                    Some(Err(e)) => error_view(&e),
                    Some(Ok(list)) if list.is_empty() => view! { <EmptyState message=t(Msg::NoClusterTemplates)/> }.into_any(),
                    Some(Ok(list)) => view! {
                        <section class="mb-6 rounded-lg bg-white p-4 shadow-sm" data-testid="cluster-templates">
                            <h2 class="mb-2 font-semibold">{t(Msg::ImportFromCluster)}</h2>
                            <ul class="divide-y divide-slate-100">
                                {list.into_iter().map(|c| view! {
                                    <li class="flex items-center justify-between gap-2 py-2 text-sm">
                                        <span>{format!("{} (VMID {}, {})", c.name, c.vmid, c.node)}</span>
                                        <ActionForm action=import>
                                            <input type="hidden" name="vmid" value=c.vmid/>
                                            <button type="submit" class=SECONDARY_BUTTON_CLASS>{t(Msg::Import)}</button>
                                        </ActionForm>
                                    </li>
                                }).collect_view()}
                            </ul>
                        </section>
                    }.into_any(),
                }
            })}
        </Suspense>
        <TagFilterForm current=tag()/>
        <Suspense fallback=|| view! { <p>{t(Msg::Loading)}</p> }>
            {move || Suspend::new(async move {
                match templates.await {
                    Ok((list, _)) if list.is_empty() && !tag().is_empty() => view! { <EmptyState message=t(Msg::TagsNoMatch)/> }.into_any(),
                    Ok((list, _)) if list.is_empty() => view! { <EmptyState message=t(Msg::NoVmTemplates)/> }.into_any(),
                    Ok((list, tags)) => view! {
                        <div class="overflow-x-auto rounded-lg bg-white shadow-sm">
                            <table class=TABLE>
                                <thead class=THEAD><tr>
                                    <th scope="col" class=CELL>{t(Msg::Name)}</th>
                                    <th scope="col" class=CELL>{t(Msg::OperatingSystem)}</th>
                                    <th scope="col" class=CELL>{t(Msg::ProxmoxTemplate)}</th>
                                    <th scope="col" class=CELL>{t(Msg::Resources)}</th>
                                    <th scope="col" class=CELL>{t(Msg::ConsoleKind)}</th>
                                    <th scope="col" class=CELL>{t(Msg::OnCluster)}</th>
                                    <th scope="col" class=CELL>{t(Msg::Tags)}</th>
                                </tr></thead>
                                <tbody class="divide-y divide-slate-100">
                                    {list.into_iter().map(|tpl| view! {
                                        <tr>
                                            <td class=CELL><a class=LINK_CLASS href=format!("/templates/{}", tpl.id)>{tpl.name.clone()}</a></td>
                                            <td class=CELL>{tpl.operating_system.clone()}</td>
                                            <td class=CELL>{format!("{} @ {}", tpl.proxmox_vmid, tpl.node)}</td>
                                            <td class=CELL>{format!("{} CPU · {} MiB · {} GiB", tpl.cores, tpl.memory_mib, tpl.disk_gib)}</td>
                                            <td class=CELL>{console_text(tpl.console)}</td>
                                            <td class=CELL>{match tpl.on_cluster {
                                                Some(true) => t(Msg::Yes),
                                                Some(false) => t(Msg::MissingOnCluster),
                                                None => t(Msg::NotCheckedYet),
                                            }}</td>
                                            <td class=CELL><TagChips tags=tags_for(&tags, tpl.id)/></td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                    }.into_any(),
                    Err(e) => error_view(&e),
                }
            })}
        </Suspense>
        </WithShell>
    }
}

fn console_text(console: Console) -> &'static str {
    match console {
        Console::Builtin => t(Msg::ConsoleBuiltin),
        Console::Guacamole => t(Msg::ConsoleGuacamole),
    }
}

/// The template form's inputs (inside a create or update form). How VMs are
/// reached is not here: see the template's connection templates.
#[component]
fn TemplateInputs(template: Option<VmTemplateView>) -> impl IntoView {
    let v = template.clone();
    let text = move |f: fn(&VmTemplateView) -> String| v.as_ref().map(f).unwrap_or_default();
    let console = template.as_ref().map(|t| t.console);
    let linked = template.as_ref().is_none_or(|t| t.linked_clone);
    view! {
        <Field label=t(Msg::Name) name="name" value=text(|t| t.name.clone()) required=true maxlength=128/>
        <div class="mb-4">
            <label for="field-description" class=LABEL>{t(Msg::DescriptionMarkdown)}</label>
            <textarea id="field-description" name="description" rows="4" class=INPUT_CLASS>{text(|t| t.description.clone())}</textarea>
        </div>
        <Field label=t(Msg::OperatingSystemLabel) name="operating_system" value=text(|t| t.operating_system.clone()) maxlength=128 hint=t(Msg::OperatingSystemLabelHint)/>
        <div class="grid gap-x-4 sm:grid-cols-2">
            <Field label=t(Msg::ProxmoxVmid) name="proxmox_vmid" kind="number" value=text(|t| t.proxmox_vmid.to_string()) required=true/>
            <Field label=t(Msg::Node) name="node" value=text(|t| t.node.clone()) required=true maxlength=63/>
            <Field label=t(Msg::Cores) name="cores" kind="number" value=text(|t| t.cores.to_string()) required=true/>
            <Field label=t(Msg::MemoryMib) name="memory_mib" kind="number" value=text(|t| t.memory_mib.to_string()) required=true/>
            <Field label=t(Msg::DiskGib) name="disk_gib" kind="number" value=text(|t| t.disk_gib.to_string())/>
        </div>
        <div class="mb-4">
            <label class="flex items-center gap-2 text-sm font-medium text-slate-700">
                <input type="checkbox" name="linked_clone" value="true" checked=linked/>
                {t(Msg::LinkedCloneAllowed)}
            </label>
        </div>
        <div class="mb-4">
            <label for="field-console" class=LABEL>{t(Msg::ConsoleKind)}</label>
            <select id="field-console" name="console" class=INPUT_CLASS>
                // A new template takes the server's default (Guacamole when configured).
                {console.is_none().then(|| view! { <option value="" selected=true>{t(Msg::ConsoleDefault)}</option> })}
                {Console::ALL.into_iter().map(|c| view! {
                    <option value=c.key() selected=console == Some(c)>{console_text(c)}</option>
                }).collect_view()}
            </select>
        </div>
    }
}

#[component]
pub fn NewTemplatePage() -> impl IntoView {
    let create = ServerAction::<CreateTemplate>::new();
    let pending = Memo::new(move |_| create.pending().get());
    view! {
        <WithShell creators_of=ObjectType::Template>
        <Title text=t(Msg::NewTemplate)/>
        <PageHeader title=t(Msg::NewTemplate).to_string()/>
        <section class=format!("max-w-3xl {CARD}")>
            <ActionError value=create.value()/>
            <ActionForm action=create>
                <TemplateInputs template=None/>
                <div class="flex gap-2">
                    <Submit label=t(Msg::Create) pending=pending/>
                    <a href="/templates" class=SECONDARY_BUTTON_CLASS>{t(Msg::Cancel)}</a>
                </div>
            </ActionForm>
        </section>
        </WithShell>
    }
}

#[component]
pub fn EditTemplatePage() -> impl IntoView {
    let id = route_id();
    let update = ServerAction::<UpdateTemplate>::new();
    let template = Resource::new(
        move || (id.get(), update.version().get()),
        |(id, _)| async move {
            match id {
                Some(id) => get_template(id).await,
                None => not_found(),
            }
        },
    );
    let pending = Memo::new(move |_| update.pending().get());
    view! {
        <WithShell>
        <Suspense fallback=|| view! { <p>{t(Msg::Loading)}</p> }>
            {move || Suspend::new(async move {
                match template.await {
                    Ok(tpl) => {
                        let editable = may_one(Action::Update, ObjectType::Template, tpl.id);
                        let id = tpl.id;
                        let binding = ConnectionBinding::Template(tpl.id);
                        view! {
                            <Title text=tpl.name.clone()/>
                            <PageHeader title=tpl.name.clone()>
                                {may_one(Action::Delete, ObjectType::Template, tpl.id).then(|| view! {
                                    <a href=format!("/templates/{}/delete", tpl.id) class=DANGER_BUTTON_CLASS>{t(Msg::Delete)}</a>
                                })}
                            </PageHeader>
                            <section class=format!("max-w-3xl {CARD}")>
                                <ActionError value=update.value()/>
                                <ActionForm action=update>
                                    <input type="hidden" name="id" value=tpl.id/>
                                    <fieldset disabled=!editable>
                                        <TemplateInputs template=Some(tpl.clone())/>
                                    </fieldset>
                                    {editable.then(|| view! { <Submit label=t(Msg::Save) pending=pending/> })}
                                </ActionForm>
                            </section>
                            <TagsSection object=Taggable::Template id=id editable=editable/>
                            <crate::pages::catalogue::CatalogueSection object=Taggable::Template id=id editable=editable/>
                            <div class="mt-6">
                                <crate::pages::guacamole::ConnectionTemplates binding=binding editable=editable/>
                            </div>
                        }.into_any()
                    }
                    Err(e) => page_error_view(&e),
                }
            })}
        </Suspense>
        </WithShell>
    }
}

/// Asks before deleting, with or without JavaScript.
#[component]
pub fn DeleteTemplatePage() -> impl IntoView {
    let id = route_id();
    let delete = ServerAction::<DeleteTemplate>::new();
    let template = Resource::new(
        move || id.get(),
        |id| async move {
            match id {
                Some(id) => get_template(id).await,
                None => not_found(),
            }
        },
    );
    view! {
        <WithShell>
        <Suspense fallback=|| view! { <p>{t(Msg::Loading)}</p> }>
            {move || Suspend::new(async move {
                match template.await {
                    Ok(tpl) => view! {
                        <ConfirmDelete title=Msg::DeleteTemplateTitle.text(use_lang()).replace("{name}", &tpl.name)>
                            <ActionError value=delete.value()/>
                            <ActionForm action=delete attr:class="mt-6 flex gap-2">
                                <input type="hidden" name="id" value=tpl.id/>
                                <button type="submit" class=DANGER_BUTTON_CLASS>{t(Msg::YesDelete)}</button>
                                <a href=format!("/templates/{}", tpl.id) class=SECONDARY_BUTTON_CLASS>{t(Msg::Cancel)}</a>
                            </ActionForm>
                        </ConfirmDelete>
                    }.into_any(),
                    Err(e) => page_error_view(&e),
                }
            })}
        </Suspense>
        </WithShell>
    }
}

#[component]
fn ConfirmDelete(title: String, children: Children) -> impl IntoView {
    view! {
        <section class="max-w-xl rounded-lg border border-red-200 bg-white p-6 shadow-sm">
            <h1 class="text-xl font-semibold">{title}</h1>
            <p class="mt-2 text-slate-600">{t(Msg::CannotBeUndone)}</p>
            {children()}
        </section>
    }
}

/// The tag filter of the template and environment lists (a GET form).
#[component]
fn TagFilterForm(current: String) -> impl IntoView {
    view! {
        <Form method="GET" action="" attr:class="mb-4 flex flex-wrap items-end gap-3" attr:role="search">
            <TagFilterField current=current/>
            <button type="submit" class=SECONDARY_BUTTON_CLASS>{t(Msg::Filter)}</button>
        </Form>
    }
}

// ------------------------------------------------------------- environments

/// One count input per template (`template_ids[]` + `counts[]`); 0 leaves it out.
#[component]
fn TemplateCounts(templates: Vec<VmTemplateView>, current: Option<EnvironmentView>) -> impl IntoView {
    if templates.is_empty() {
        return view! { <p class="mb-4 text-sm text-slate-500">{t(Msg::NoVmTemplates)}</p> }.into_any();
    }
    view! {
        <fieldset class="mb-4">
            <legend class=LABEL>{t(Msg::VmsPerParticipant)}</legend>
            <p class="mb-2 text-xs text-slate-500">{t(Msg::VmsPerParticipantHint)}</p>
            {templates.into_iter().map(|tpl| {
                let count = current.as_ref()
                    .and_then(|e| e.templates.iter().find(|x| x.template_id == tpl.id))
                    .map(|x| x.count)
                    .unwrap_or(0);
                let id = format!("count-{}", tpl.id);
                view! {
                    <div class="mt-1 flex items-center gap-2">
                        <input type="hidden" name="template_ids[]" value=tpl.id/>
                        <input type="number" id=id.clone() name="counts[]" min="0" max="20" value=count.to_string()
                            class="w-20 rounded border border-slate-300 px-2 py-1 text-sm"/>
                        <label for=id class="text-sm">{tpl.name.clone()}</label>
                    </div>
                }
            }).collect_view()}
        </fieldset>
    }
    .into_any()
}

#[component]
pub fn EnvironmentsPage() -> impl IntoView {
    let create = ServerAction::<CreateEnvironment>::new();
    let query = use_query_map();
    let environments = Resource::new(
        move || query.with(|q| q.get("tag")),
        |tag| async move {
            let list = list_environments(tag).await?;
            let tags = tags_of(Taggable::Environment.key().into(), list.iter().map(|x| x.id).collect()).await?;
            Ok::<_, ApiError>((list, tags))
        },
    );
    let tag = move || query.with_untracked(|q| q.get("tag")).unwrap_or_default();
    let templates = Resource::new(|| (), |_| list_templates(None));
    let pending = Memo::new(move |_| create.pending().get());
    view! {
        <WithShell>
        <Title text=t(Msg::Environments)/>
        <PageHeader title=t(Msg::Environments).to_string()/>
        <Suspense fallback=|| view! { <p>{t(Msg::Loading)}</p> }>
            {move || Suspend::new(async move {
                // Someone who may neither see nor create environments gets the refusal alone.
                let (list, tags) = match environments.await {
                    Ok(found) => found,
                    Err(e) => return page_error_view(&e),
                };
                let filter = view! { <TagFilterForm current=tag()/> };
                match list {
                    list if list.is_empty() && !tag().is_empty() => view! { {filter} <EmptyState message=t(Msg::TagsNoMatch)/> }.into_any(),
                    list if list.is_empty() => view! { <EmptyState message=t(Msg::NoEnvironments)/> }.into_any(),
                    list => view! {
                        {filter}
                        <div class="overflow-x-auto rounded-lg bg-white shadow-sm">
                            <table class=TABLE>
                                <thead class=THEAD><tr>
                                    <th scope="col" class=CELL>{t(Msg::Name)}</th>
                                    <th scope="col" class=CELL>{t(Msg::Templates)}</th>
                                    <th scope="col" class=CELL>{t(Msg::Events)}</th>
                                    <th scope="col" class=CELL>{t(Msg::Tags)}</th>
                                </tr></thead>
                                <tbody class="divide-y divide-slate-100">
                                    {list.into_iter().map(|env| view! {
                                        <tr>
                                            <td class=CELL><a class=LINK_CLASS href=format!("/environments/{}", env.id)>{env.name.clone()}</a></td>
                                            <td class=CELL>
                                                {if env.templates.is_empty() {
                                                    view! { <span class="rounded bg-amber-100 px-2 py-0.5 text-xs text-amber-900" data-testid="environment-no-vms">{t(Msg::EnvironmentNoVmsShort)}</span> }.into_any()
                                                } else {
                                                    env.templates.iter().map(|x| format!("{} × {}", x.count, x.template_name)).collect::<Vec<_>>().join(", ").into_any()
                                                }}
                                            </td>
                                            <td class=CELL>{env.event_count}</td>
                                            <td class=CELL><TagChips tags=tags_for(&tags, env.id)/></td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                    }.into_any(),
                }
            })}
        </Suspense>
        {may(Action::Create, ObjectType::Environment).then(|| view! {
            <section class=format!("mt-8 max-w-2xl {CARD}")>
                <h2 class="mb-4 text-lg font-semibold">{t(Msg::NewEnvironment)}</h2>
                <ActionError value=create.value()/>
                <ActionForm action=create>
                    <Field label=t(Msg::Name) name="name" required=true maxlength=128/>
                    <div class="mb-4">
                        <label for="env-description" class=LABEL>{t(Msg::DescriptionMarkdown)}</label>
                        <textarea id="env-description" name="description" rows="3" class=INPUT_CLASS></textarea>
                    </div>
                    <Suspense fallback=|| ()>
                        {move || Suspend::new(async move {
                            templates.await.map(|list| view! { <TemplateCounts templates=list current=None/> }).ok()
                        })}
                    </Suspense>
                    <Submit label=t(Msg::Create) pending=pending/>
                </ActionForm>
            </section>
        })}
        </WithShell>
    }
}

#[component]
pub fn EditEnvironmentPage() -> impl IntoView {
    let id = route_id();
    let update = ServerAction::<UpdateEnvironment>::new();
    let environment = Resource::new(
        move || (id.get(), update.version().get()),
        |(id, _)| async move {
            match id {
                Some(id) => get_environment(id).await,
                None => not_found(),
            }
        },
    );
    let templates = Resource::new(|| (), |_| list_templates(None));
    let pending = Memo::new(move |_| update.pending().get());
    view! {
        <WithShell>
        <Suspense fallback=|| view! { <p>{t(Msg::Loading)}</p> }>
            {move || Suspend::new(async move {
                let env = match environment.await {
                    Ok(env) => env,
                    Err(e) => return page_error_view(&e),
                };
                let templates = templates.await.unwrap_or_default();
                let editable = may_one(Action::Update, ObjectType::Environment, env.id);
                let id = env.id;
                view! {
                    <Title text=env.name.clone()/>
                    <PageHeader title=env.name.clone()>
                        {may_one(Action::Delete, ObjectType::Environment, env.id).then(|| view! {
                            <a href=format!("/environments/{}/delete", env.id) class=DANGER_BUTTON_CLASS>{t(Msg::Delete)}</a>
                        })}
                    </PageHeader>
                    <p class="mb-4 text-sm text-slate-600">{t(Msg::EnvironmentEditHint)}</p>
                    {env.templates.is_empty().then(|| view! {
                        <p role="status" class="mb-4 max-w-2xl rounded border border-amber-300 bg-amber-50 p-4 text-sm text-amber-900" data-testid="environment-empty">
                            {t(Msg::EnvironmentNoVms)}
                        </p>
                    })}
                    <section class=format!("max-w-2xl {CARD}")>
                        <ActionError value=update.value()/>
                        <ActionForm action=update>
                            <input type="hidden" name="id" value=env.id/>
                            <fieldset disabled=!editable>
                                <Field label=t(Msg::Name) name="name" value=env.name.clone() required=true maxlength=128/>
                                <div class="mb-4">
                                    <label for="env-description" class=LABEL>{t(Msg::DescriptionMarkdown)}</label>
                                    <textarea id="env-description" name="description" rows="3" class=INPUT_CLASS>{env.description.clone()}</textarea>
                                </div>
                                <TemplateCounts templates=templates current=Some(env.clone())/>
                            </fieldset>
                            {editable.then(|| view! { <Submit label=t(Msg::Save) pending=pending/> })}
                        </ActionForm>
                    </section>
                    <TagsSection object=Taggable::Environment id=id editable=editable/>
                    <crate::pages::catalogue::CatalogueSection object=Taggable::Environment id=id editable=editable/>
                }.into_any()
            })}
        </Suspense>
        </WithShell>
    }
}

#[component]
pub fn DeleteEnvironmentPage() -> impl IntoView {
    let id = route_id();
    let delete = ServerAction::<DeleteEnvironment>::new();
    let environment = Resource::new(
        move || id.get(),
        |id| async move {
            match id {
                Some(id) => get_environment(id).await,
                None => not_found(),
            }
        },
    );
    view! {
        <WithShell>
        <Suspense fallback=|| view! { <p>{t(Msg::Loading)}</p> }>
            {move || Suspend::new(async move {
                match environment.await {
                    Ok(env) => view! {
                        <ConfirmDelete title=Msg::DeleteEnvironmentTitle.text(use_lang()).replace("{name}", &env.name)>
                            <ActionError value=delete.value()/>
                            <ActionForm action=delete attr:class="mt-6 flex gap-2">
                                <input type="hidden" name="id" value=env.id/>
                                <button type="submit" class=DANGER_BUTTON_CLASS>{t(Msg::YesDelete)}</button>
                                <a href=format!("/environments/{}", env.id) class=SECONDARY_BUTTON_CLASS>{t(Msg::Cancel)}</a>
                            </ActionForm>
                        </ConfirmDelete>
                    }.into_any(),
                    Err(e) => page_error_view(&e),
                }
            })}
        </Suspense>
        </WithShell>
    }
}

// ------------------------------------------------------------------- events

fn tab_text(tab: EventTab) -> &'static str {
    match tab {
        EventTab::Planned => t(Msg::TabPlanned),
        EventTab::Active => t(Msg::TabActive),
        EventTab::Completed => t(Msg::TabCompleted),
    }
}

#[component]
pub fn EventsPage() -> impl IntoView {
    let query = use_query_map();
    let asked = Memo::new(move |_| query.with(|q| q.get("tab").as_deref().and_then(EventTab::from_key)));
    // Without a tab asked for, the first with events in it: what runs now,
    // else what is planned, else what is over.
    let events = Resource::new(
        move || (asked.get(), query.with(|q| q.get("page").and_then(|p| p.parse().ok()))),
        |(asked, page)| async move {
            let list = |tab: EventTab| list_events(Some(tab.key().to_string()), page);
            if let Some(tab) = asked {
                return Ok::<_, ApiError>((tab, list(tab).await?));
            }
            let active = list(EventTab::Active).await?;
            if active.total > 0 {
                return Ok((EventTab::Active, active));
            }
            let planned = list(EventTab::Planned).await?;
            if planned.total > 0 {
                return Ok((EventTab::Planned, planned));
            }
            let completed = list(EventTab::Completed).await?;
            // Nothing anywhere: the empty list opens on what is planned.
            Ok(if completed.total > 0 { (EventTab::Completed, completed) } else { (EventTab::Planned, planned) })
        },
    );
    view! {
        <WithShell>
        <Title text=t(Msg::Events)/>
        <PageHeader title=t(Msg::Events).to_string()>
            {may(Action::Create, ObjectType::Event).then(|| view! {
                <a href="/events/new" class=BUTTON_CLASS>{t(Msg::NewEvent)}</a>
            })}
        </PageHeader>
        <Suspense fallback=|| view! { <p>{t(Msg::Loading)}</p> }>
            {move || Suspend::new(async move {
                let (tab, page) = match events.await {
                    Ok(found) => found,
                    Err(e) => return error_view(&e),
                };
                let tabs = view! {
                    <nav class="mb-4 flex gap-2" aria-label=t(Msg::Events)>
                        {EventTab::ALL.into_iter().map(|x| view! {
                            <a href=format!("/events?tab={}", x.key())
                                aria-current=if tab == x { "page" } else { "false" }
                                class="rounded px-3 py-1 text-sm aria-[current=page]:bg-indigo-600 aria-[current=page]:text-white hover:bg-slate-200">
                                {tab_text(x)}
                            </a>
                        }).collect_view()}
                    </nav>
                };
                if page.items.is_empty() {
                    return view! { {tabs} <EmptyState message=t(Msg::NoEvents)/> }.into_any();
                }
                let pages = page.page_count();
                // Without `tab`, the next page is chosen the same way: by the totals.
                view! {
                    {tabs}
                    <EventTable events=page.items/>
                    <Pager page=page.page pages=pages total=page.total base="/events"/>
                }.into_any()
            })}
        </Suspense>
        </WithShell>
    }
}

#[component]
fn EventTable(events: Vec<EventView>) -> impl IntoView {
    let lang = use_lang();
    view! {
        <div class="overflow-x-auto rounded-lg bg-white shadow-sm">
            <table class=TABLE data-testid="events">
                <thead class=THEAD><tr>
                    <th scope="col" class=CELL>{t(Msg::Name)}</th>
                    <th scope="col" class=CELL>{t(Msg::ShortName)}</th>
                    <th scope="col" class=CELL>{t(Msg::Environment)}</th>
                    <th scope="col" class=CELL>{t(Msg::Starts)}</th>
                    <th scope="col" class=CELL>{t(Msg::Ends)}</th>
                    <th scope="col" class=CELL>{t(Msg::Status)}</th>
                    <th scope="col" class=CELL>{t(Msg::Participants)}</th>
                </tr></thead>
                <tbody class="divide-y divide-slate-100">
                    {events.into_iter().map(|e| view! {
                        <tr>
                            <td class=CELL><a class=LINK_CLASS href=format!("/events/{}", e.id)>{e.name.clone()}</a></td>
                            <td class=format!("{CELL} font-mono")>{e.short_name.clone()}</td>
                            <td class=CELL>{e.environment_name.clone()}</td>
                            <td class=CELL>{crate::components::local_time(e.starts_at)}</td>
                            <td class=CELL>{when(e.ends_at)}</td>
                            <td class=CELL>{event_status_text(e.status, lang)}</td>
                            <td class=CELL>{e.participant_count}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// The event form's inputs. Times are typed in the person's time zone, named
/// in the labels.
#[component]
fn EventInputs(event: Option<EventView>, environments: Vec<EnvironmentView>) -> impl IntoView {
    let selected = event.as_ref().map(|e| e.environment_id);
    let zone = crate::components::use_zone();
    let local = |at: Timestamp| domain::zone::input_value(at, &zone);
    let starts = event.as_ref().map(|e| local(e.starts_at)).unwrap_or_default();
    let ends = event.as_ref().and_then(|e| e.ends_at).map(local).unwrap_or_default();
    let lang = use_lang();
    view! {
        <Field label=t(Msg::Name) name="name" value=event.as_ref().map(|e| e.name.clone()).unwrap_or_default() required=true maxlength=128/>
        <Field label=t(Msg::ShortName) name="short_name" value=event.as_ref().map(|e| e.short_name.clone()).unwrap_or_default()
            required=true maxlength=8 hint=t(Msg::ShortNameHint)/>
        <div class="mb-4">
            <label for="field-description" class=LABEL>{t(Msg::DescriptionMarkdown)}</label>
            <textarea id="field-description" name="description" rows="3" class=INPUT_CLASS>{event.as_ref().map(|e| e.description.clone()).unwrap_or_default()}</textarea>
        </div>
        <div class="mb-4">
            <label for="field-environment_id" class=LABEL>{t(Msg::Environment)}</label>
            <select id="field-environment_id" name="environment_id" class=INPUT_CLASS>
                <option value="">"—"</option>
                {environments.into_iter().map(|env| view! {
                    <option value=env.id selected=Some(env.id) == selected>{env.name.clone()}</option>
                }).collect_view()}
            </select>
        </div>
        <div class="grid gap-x-4 sm:grid-cols-2">
            <div class="mb-4">
                <label for="field-starts_at" class=LABEL>{Msg::StartsInZone.text(lang).replace("{zone}", &zone)}</label>
                <input id="field-starts_at" name="starts_at" type="datetime-local" value=starts required class=INPUT_CLASS/>
            </div>
            <div class="mb-4">
                <label for="field-ends_at" class=LABEL>{Msg::EndsInZone.text(lang).replace("{zone}", &zone)}</label>
                <input id="field-ends_at" name="ends_at" type="datetime-local" value=ends class=INPUT_CLASS/>
                <p class="mt-1 text-xs text-slate-500">{t(Msg::EndsHint)}</p>
            </div>
        </div>
    }
}

#[component]
pub fn NewEventPage() -> impl IntoView {
    let create = ServerAction::<CreateEvent>::new();
    let environments = Resource::new(|| (), |_| list_environments(None));
    let pending = Memo::new(move |_| create.pending().get());
    view! {
        <WithShell creators_of=ObjectType::Event>
        <Title text=t(Msg::NewEvent)/>
        <PageHeader title=t(Msg::NewEvent).to_string()/>
        <section class=format!("max-w-2xl {CARD}")>
            <ActionError value=create.value()/>
            <ActionForm action=create>
                <Suspense fallback=|| view! { <p>{t(Msg::Loading)}</p> }>
                    {move || Suspend::new(async move {
                        let environments = environments.await.unwrap_or_default();
                        view! { <EventInputs event=None environments=environments/> }
                    })}
                </Suspense>
                <div class="flex gap-2">
                    <Submit label=t(Msg::Create) pending=pending/>
                    <a href="/events" class=SECONDARY_BUTTON_CLASS>{t(Msg::Cancel)}</a>
                </div>
            </ActionForm>
        </section>
        </WithShell>
    }
}

#[component]
pub fn EventPage() -> impl IntoView {
    let id = route_id();
    let update = ServerAction::<UpdateEvent>::new();
    let add = ServerAction::<AddParticipants>::new();
    let create_user = ServerAction::<CreateParticipant>::new();
    let remove = ServerAction::<RemoveParticipant>::new();
    let admin = ServerAction::<SetEventAdmin>::new();
    let add_group = ServerAction::<AddGroupToEvent>::new();
    // Deployment (issue 5): deploy / end, and a tick per live VM change.
    let deploy = ServerAction::<crate::api::deployment::DeployEvent>::new();
    let end = ServerAction::<crate::api::deployment::EndEvent>::new();
    let replan = ServerAction::<crate::api::deployment::ReturnToPlanning>::new();
    // Power actions from the VM grid, with the VM page's confirmation.
    let act = ServerAction::<crate::api::deployment::VmAction>::new();
    let live = RwSignal::new(0u32);
    crate::pages::deployment::follow_event_vms(id, move || live.update(|n| *n += 1));
    let saw_work = StoredValue::new(false);
    let version = move || {
        (
            (deploy.version().get() + replan.version().get(), end.version().get(), live.get(), act.version().get()),
            update.version().get(),
            add.version().get(),
            create_user.version().get(),
            remove.version().get(),
            admin.version().get(),
            add_group.version().get(),
        )
    };
    // Every change on this page (and every live VM change) is an activity of its timeline.
    let changes = move || {
        let ((deployed, ended, live, acted), updated, added, created, removed, admins, grouped) = version();
        let counts = [deployed, ended, live as usize, acted, updated, added, created, removed, admins, grouped];
        counts.iter().sum::<usize>() as u64
    };
    // What happened in this event (participants see their own part of it).
    let timeline = Resource::new(
        move || (id.get(), changes()),
        |(id, _)| async move {
            let Some(id) = id else { return Err(domain::AppError::NotFound.into()) };
            let query = crate::api::activities::ActivityQuery { event: Some(id), ..Default::default() };
            crate::pages::activities::timeline(query).await
        },
    );
    let event = Resource::new(
        move || (id.get(), version()),
        |(id, _)| async move {
            match id {
                Some(id) => get_event(id).await,
                None => not_found(),
            }
        },
    );
    let participants = Resource::new(
        move || (id.get(), version()),
        |(id, _)| async move {
            match id {
                Some(id) => list_participants(id).await,
                None => not_found(),
            }
        },
    );
    let vms = Resource::new(
        move || (id.get(), version()),
        |(id, _)| async move {
            match id {
                Some(id) => event_vms(id).await,
                None => not_found(),
            }
        },
    );
    let overlaps = Resource::new(
        move || (id.get(), version()),
        |(id, _)| async move {
            match id {
                Some(id) => event_overlaps(id).await,
                None => not_found(),
            }
        },
    );
    let drift = Resource::new(
        move || (id.get(), version()),
        |(id, _)| async move {
            match id {
                Some(id) => crate::api::deployment::event_drift(id).await,
                None => not_found(),
            }
        },
    );
    let environments = Resource::new(|| (), |_| list_environments(None));
    let groups = Resource::new(|| (), |_| list_groups());
    view! {
        <WithShell>
        <Suspense fallback=|| view! { <p>{t(Msg::Loading)}</p> }>
            {move || Suspend::new(async move {
                let overlaps = overlaps.await.unwrap_or_default();
                // Only those who manage the event may read it; others get an error, shown as nothing.
                let drift = drift.await.ok().flatten();
                let event = match event.await {
                    Ok(event) => event,
                    Err(e) => return page_error_view(&e),
                };
                let participants = participants.await.unwrap_or_default();
                let vms = vms.await.unwrap_or_default();
                let environments = environments.await.unwrap_or_default();
                let groups = groups.await.unwrap_or_default();
                let manages = event.my_role == Some(EventRole::Instructor)
                    || may_one(Action::Update, ObjectType::Event, event.id);
                let lang = use_lang();
                let update_pending = Memo::new(move |_| update.pending().get());
                view! {
                    <Title text=event.name.clone()/>
                    <crate::pages::deployment::QueuedFlashEnds status=event.status saw_work=saw_work/>
                    <PageHeader title=event.name.clone()>
                        {(manages && matches!(event.status, EventStatus::Planned | EventStatus::Finished)).then(|| view! {
                            <a href=format!("/events/{}/delete", event.id) class=DANGER_BUTTON_CLASS>{t(Msg::Delete)}</a>
                        })}
                    </PageHeader>
                    <dl class="mb-6 grid gap-2 rounded-lg bg-white p-4 text-sm shadow-sm sm:grid-cols-3">
                        <div><dt class="text-slate-500">{t(Msg::Status)}</dt><dd data-testid="event-status">{event_status_text(event.status, lang)}</dd></div>
                        <div><dt class="text-slate-500">{t(Msg::ShortName)}</dt><dd class="font-mono">{event.short_name.clone()}</dd></div>
                        <div><dt class="text-slate-500">{t(Msg::Environment)}</dt><dd>{event.environment_name.clone()}</dd></div>
                        <div><dt class="text-slate-500">{t(Msg::Starts)}</dt><dd>{crate::components::local_time(event.starts_at)}</dd></div>
                        <div><dt class="text-slate-500">{t(Msg::Ends)}</dt><dd>{when(event.ends_at)}</dd></div>
                        {event.failure_reason.clone().map(|reason| view! {
                            <div class="sm:col-span-3 text-red-800"><dt class="font-medium">{t(Msg::FailureReason)}</dt><dd>{reason}</dd></div>
                        })}
                    </dl>
                    {(!overlaps.is_empty()).then(|| view! {
                        <div role="status" class="mb-6 rounded border border-amber-300 bg-amber-50 p-4 text-sm text-amber-900" data-testid="event-overlaps">
                            <p class="font-medium">{t(Msg::EventOverlapWarning)}</p>
                            <ul class="mt-1 list-disc pl-5">
                                {overlaps.into_iter().map(|o| view! {
                                    <li>
                                        <a class=LINK_CLASS href=format!("/events/{}", o.event_id)>{o.name.clone()}</a>
                                        " (" {crate::components::local_time(o.starts_at)} " – " {when(o.ends_at)} "): "
                                        {o.shared.join(", ")}
                                    </li>
                                }).collect_view()}
                            </ul>
                        </div>
                    })}
                    {(!event.description.is_empty()).then(|| view! {
                        <p class="mb-6 whitespace-pre-line text-sm text-slate-700">{event.description.clone()}</p>
                    })}
                    {manages.then(|| {
                        let nothing_created = vms.iter().all(|vm| vm.vmid.is_none());
                        view! { <crate::pages::deployment::EventControls event=event.clone() deploy=deploy end=end replan=replan nothing_created=nothing_created drift=drift.clone()/> }
                    })}
                    <VmGrid status=event.status participants=participants.clone() vms=vms act=act back=format!("/events/{}", event.id)/>
                    {manages.then(|| view! {
                        <ParticipantsSection event_id=event.id participants=participants.clone() remove=remove admin=admin/>
                    })}
                    // An event that is over gets no new participants: it has no VMs to give them.
                    {(manages && event.status.takes_participants()).then(|| view! {
                        <div class="mt-6 grid gap-6 md:grid-cols-2">
                            <section class=CARD>
                                <h2 class="mb-3 font-semibold">{t(Msg::AddParticipants)}</h2>
                                <ActionError value=add.value()/>
                                <ActionForm action=add>
                                    <input type="hidden" name="event_id" value=event.id/>
                                    <Field label=t(Msg::Usernames) name="usernames" required=true hint=t(Msg::UsernamesHint)/>
                                    <RoleSelect/>
                                    <button type="submit" class=BUTTON_CLASS>{t(Msg::Add)}</button>
                                </ActionForm>
                                <hr class="my-6"/>
                                <h2 class="mb-3 font-semibold">{t(Msg::AddGroup)}</h2>
                                <ActionError value=add_group.value()/>
                                {if groups.is_empty() {
                                    view! { <p class="text-sm text-slate-500">{t(Msg::NoGroups)} " " <a class=LINK_CLASS href="/groups">{t(Msg::Groups)}</a></p> }.into_any()
                                } else {
                                    view! {
                                        <ActionForm action=add_group>
                                            <input type="hidden" name="event_id" value=event.id/>
                                            <div class="mb-4">
                                                <label for="field-group_id" class=LABEL>{t(Msg::Group)}</label>
                                                <select id="field-group_id" name="group_id" class=INPUT_CLASS>
                                                    {groups.iter().map(|g| view! { <option value=g.id>{format!("{} ({})", g.name, g.member_count)}</option> }).collect_view()}
                                                </select>
                                            </div>
                                            <RoleSelect/>
                                            <button type="submit" class=BUTTON_CLASS>{t(Msg::Add)}</button>
                                        </ActionForm>
                                    }.into_any()
                                }}
                                <hr class="my-6"/>
                                <a href=format!("/events/{}/roster", event.id) class=SECONDARY_BUTTON_CLASS>{t(Msg::ImportRoster)}</a>
                            </section>
                            <section class=CARD>
                                <h2 class="mb-3 font-semibold">{t(Msg::CreateParticipant)}</h2>
                                <ActionError value=create_user.value()/>
                                <ActionForm action=create_user>
                                    <input type="hidden" name="event_id" value=event.id/>
                                    <Field label=t(Msg::Username) name="username" form="participant" required=true maxlength=64 autocomplete="off"/>
                                    <Field label=t(Msg::Name) name="name" form="participant" required=true maxlength=128/>
                                    <Field label=t(Msg::Email) name="email" form="participant" kind="email" required=true maxlength=254/>
                                    <Field label=t(Msg::Password) name="password" form="participant" kind="password" hint=t(Msg::PasswordOptional) autocomplete="new-password" maxlength=256/>
                                    <RoleSelect/>
                                    <button type="submit" class=BUTTON_CLASS>{t(Msg::Create)}</button>
                                </ActionForm>
                            </section>
                        </div>
                    })}
                    {(manages && event.status.is_editable()).then(|| view! {
                        <section class=format!("mt-6 max-w-2xl {CARD}")>
                            <h2 class="mb-3 font-semibold">{t(Msg::EditEvent)}</h2>
                            <ActionError value=update.value()/>
                            <ActionForm action=update>
                                <input type="hidden" name="id" value=event.id/>
                                <EventInputs event=Some(event.clone()) environments=environments/>
                                <Submit label=t(Msg::Save) pending=update_pending/>
                            </ActionForm>
                        </section>
                    })}
                    <crate::pages::activities::ActivityTimeline recent=timeline/>
                }.into_any()
            })}
        </Suspense>
        </WithShell>
    }
}

#[component]
fn RoleSelect() -> impl IntoView {
    let lang = use_lang();
    view! {
        <div class="mb-4">
            <label class=LABEL>
                {t(Msg::EventRoleLabel)}
                <select name="role" class=INPUT_CLASS>
                    {EventRole::ALL.into_iter().map(|r| view! {
                        <option value=r.key() selected=r == EventRole::Student>{event_role_text(r, lang)}</option>
                    }).collect_view()}
                </select>
            </label>
        </div>
    }
}

#[component]
fn ParticipantsSection(
    event_id: i64,
    participants: Vec<ParticipantView>,
    remove: ServerAction<RemoveParticipant>,
    admin: ServerAction<SetEventAdmin>,
) -> impl IntoView {
    let lang = use_lang();
    view! {
        <section class="mt-6">
            <h2 class="mb-3 text-lg font-semibold">{t(Msg::Participants)} " (" {participants.len()} ")"</h2>
            <ActionError value=remove.value()/>
            <ActionError value=admin.value()/>
            <div class="overflow-x-auto rounded-lg bg-white shadow-sm">
                <table class=TABLE data-testid="participants">
                    <thead class=THEAD><tr>
                        <th scope="col" class=CELL>{t(Msg::Username)}</th>
                        <th scope="col" class=CELL>{t(Msg::Name)}</th>
                        <th scope="col" class=CELL>{t(Msg::EventRoleLabel)}</th>
                        <th scope="col" class=CELL>{t(Msg::EventAdmin)}</th>
                        <th scope="col" class=CELL>{t(Msg::Actions)}</th>
                    </tr></thead>
                    <tbody class="divide-y divide-slate-100">
                        {participants.into_iter().map(|p| view! {
                            <tr>
                                <td class=CELL>{p.username.clone()}</td>
                                <td class=CELL>{p.name.clone()}</td>
                                <td class=CELL>{event_role_text(p.role, lang)}</td>
                                <td class=CELL>
                                    <ActionForm action=admin>
                                        <input type="hidden" name="event_id" value=event_id/>
                                        <input type="hidden" name="user_id" value=p.user_id/>
                                        <input type="hidden" name="admin" value=(!p.event_admin).to_string()/>
                                        <button type="submit" class=LINK_CLASS>{if p.event_admin { t(Msg::Yes) } else { t(Msg::No) }}</button>
                                    </ActionForm>
                                </td>
                                <td class=CELL>
                                    <ActionForm action=remove>
                                        <input type="hidden" name="event_id" value=event_id/>
                                        <input type="hidden" name="user_id" value=p.user_id/>
                                        <button type="submit" class=LINK_CLASS>{t(Msg::Remove)}</button>
                                    </ActionForm>
                                </td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
    }
}

/// Participants × VMs: one row per participant, their VMs with state and IP.
#[component]
fn VmGrid(
    status: EventStatus,
    participants: Vec<ParticipantView>,
    vms: Vec<VmView>,
    act: ServerAction<crate::api::deployment::VmAction>,
    back: String,
) -> impl IntoView {
    let lang = use_lang();
    if vms.is_empty() {
        let empty = if status.takes_participants() { Msg::NoVmsYet } else { Msg::VmsRemoved };
        return view! { <p class="mb-6 rounded border border-dashed border-slate-300 p-4 text-sm text-slate-500" data-testid="vm-grid-empty">{t(empty)}</p> }.into_any();
    }
    let rows: Vec<(String, Vec<VmView>)> = participants
        .iter()
        .map(|p| (p.username.clone(), vms.iter().filter(|v| v.owner_id == p.user_id).cloned().collect::<Vec<_>>()))
        .filter(|(_, list)| !list.is_empty())
        .collect();
    view! {
        <section class="mb-6">
            <h2 class="mb-3 text-lg font-semibold">{t(Msg::Vms)}</h2>
            <ActionError value=act.value()/>
            <div class="overflow-x-auto rounded-lg bg-white shadow-sm">
                <table class=TABLE data-testid="vm-grid">
                    <thead class=THEAD><tr>
                        <th scope="col" class=CELL>{t(Msg::Participant)}</th>
                        <th scope="col" class=CELL>{t(Msg::Vms)}</th>
                    </tr></thead>
                    <tbody class="divide-y divide-slate-100">
                        {rows.into_iter().map(|(username, list)| view! {
                            <tr>
                                <th scope="row" class=format!("{CELL} font-normal")>{username}</th>
                                <td class=CELL>
                                    <ul class="flex flex-wrap gap-2">
                                        {list.into_iter().map(|vm| view! {
                                            <li class="rounded border border-slate-200 px-2 py-1">
                                                <a class=LINK_CLASS href=format!("/vms/{}", vm.id)>{vm.name.clone()}</a>
                                                " · " {grid_state_text(status, vm.state, lang)}
                                                " · " <span class="font-mono">{vm.ip.clone().unwrap_or_else(|| "—".into())}</span>
                                                {vm.last_error.clone().map(|e| view! { <span class="block text-xs text-red-700">{e}</span> })}
                                                <div class="mt-1"><crate::pages::deployment::VmActions vm=vm.clone() action=act back=back.clone() errors_shown_above=true/></div>
                                            </li>
                                        }).collect_view()}
                                    </ul>
                                </td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
    }.into_any()
}

/// A VM's state in the grid: one still waiting when the deployment failed
/// will not be created by it.
fn grid_state_text(event: EventStatus, state: VmState, lang: domain::Language) -> &'static str {
    if event == EventStatus::Failed && state == VmState::Pending {
        Msg::VmNotCreated.text(lang)
    } else {
        vm_state_text(state, lang)
    }
}

#[component]
pub fn DeleteEventPage() -> impl IntoView {
    let id = route_id();
    let delete = ServerAction::<DeleteEvent>::new();
    let event = Resource::new(
        move || id.get(),
        |id| async move {
            match id {
                Some(id) => get_event(id).await,
                None => not_found(),
            }
        },
    );
    view! {
        <WithShell>
        <Suspense fallback=|| view! { <p>{t(Msg::Loading)}</p> }>
            {move || Suspend::new(async move {
                match event.await {
                    Ok(event) => view! {
                        <ConfirmDelete title=Msg::DeleteEventTitle.text(use_lang()).replace("{name}", &event.name)>
                            <ActionError value=delete.value()/>
                            <ActionForm action=delete attr:class="mt-6 flex gap-2">
                                <input type="hidden" name="id" value=event.id/>
                                <button type="submit" class=DANGER_BUTTON_CLASS>{t(Msg::YesDelete)}</button>
                                <a href=format!("/events/{}", event.id) class=SECONDARY_BUTTON_CLASS>{t(Msg::Cancel)}</a>
                            </ActionForm>
                        </ConfirmDelete>
                    }.into_any(),
                    Err(e) => page_error_view(&e),
                }
            })}
        </Suspense>
        </WithShell>
    }
}

/// Roster import: paste CSV, "Check" (a POST: the roster stays out of the
/// URL), then "Import" what was checked (all or nothing). Without JavaScript
/// the check comes back as this page with the CSV in its URL (see
/// `api::classroom::preview_roster`).
#[component]
pub fn RosterPage() -> impl IntoView {
    let id = route_id();
    let query = use_query_map();
    let check = ServerAction::<PreviewRoster>::new();
    let import = ServerAction::<ImportRoster>::new();
    // The CSV that was checked: what the import sends, whatever the text box holds by then.
    let checked = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        if let Some(input) = check.input().get() {
            checked.set(Some(input.csv));
        }
    });
    let linked_csv = Memo::new(move |_| query.with(|q| q.get("csv")).unwrap_or_default());
    let linked_preview = Resource::new(
        move || (id.get(), linked_csv.get()),
        |(id, csv)| async move {
            match id {
                Some(id) if !csv.trim().is_empty() => Some(preview_roster(id, csv).await),
                Some(_) => None,
                None => Some(not_found()),
            }
        },
    );
    let pending = Memo::new(move |_| import.pending().get());
    let columns = ROSTER_COLUMNS.join(",");
    let to_import = Signal::derive(move || checked.get().unwrap_or_else(|| linked_csv.get()));
    // A check's answer, from either way of checking.
    let checked_view = move |checked: Result<RosterPreview, ApiError>| match checked {
        Ok(preview) => {
            view! { <RosterPreviewSection preview=preview import=import pending=pending csv=to_import id=id/> }
                .into_any()
        }
        Err(e) => view! { <div class="mt-4">{error_view(&e)}</div> }.into_any(),
    };
    view! {
        <WithShell>
        <Title text=t(Msg::ImportRoster)/>
        <PageHeader title=t(Msg::ImportRoster).to_string()>
            <a href=move || format!("/events/{}", id.get().unwrap_or_default()) class=SECONDARY_BUTTON_CLASS>{t(Msg::BackToEvent)}</a>
        </PageHeader>
        <section class=format!("max-w-3xl {CARD}")>
            <p class="mb-2 text-sm text-slate-700">{t(Msg::RosterHelp)}</p>
            <pre class="mb-4 rounded bg-slate-100 p-2 text-xs" data-testid="roster-columns">{columns.clone()}"\nalice,Alice Example,alice@example.org,student\nbob,Bob Example,bob@example.org,instructor,de"</pre>
            <ActionForm action=check>
                <input type="hidden" name="event_id" value=move || id.get().unwrap_or_default()/>
                <label for="roster-csv" class=LABEL>{t(Msg::RosterCsv)}</label>
                <textarea id="roster-csv" name="csv" rows="8" class=format!("{INPUT_CLASS} font-mono") required=true>{move || linked_csv.get()}</textarea>
                <button type="submit" class=format!("mt-3 {SECONDARY_BUTTON_CLASS}")>{t(Msg::CheckRoster)}</button>
            </ActionForm>
        </section>
        <ActionError value=import.value()/>
        {move || match check.value().get() {
            Some(checked) => checked_view(checked),
            // Not checked on this page (yet): the check a plain form sent here, if any.
            None => view! {
                <Suspense fallback=|| view! { <p>{t(Msg::Loading)}</p> }>
                    {move || Suspend::new(async move { linked_preview.await.map(checked_view) })}
                </Suspense>
            }.into_any(),
        }}
        </WithShell>
    }
}

/// A checked roster: its lines, what each would do, its errors, and "Import"
/// when it has none.
#[component]
fn RosterPreviewSection(
    preview: RosterPreview,
    import: ServerAction<ImportRoster>,
    pending: Memo<bool>,
    csv: Signal<String>,
    id: Memo<Option<i64>>,
) -> impl IntoView {
    let lang = use_lang();
    let ok = preview.errors.is_empty();
    view! {
        <section class=format!("mt-6 max-w-3xl {CARD}") data-testid="roster-preview">
            <h2 class="mb-3 font-semibold">{t(Msg::RosterPreview)}</h2>
            {(!preview.errors.is_empty()).then(|| view! {
                <div role="alert" class="mb-4 rounded border border-red-300 bg-red-50 p-3 text-sm text-red-800">
                    <p class="font-medium">{t(Msg::RosterHasErrors)}</p>
                    <ul class="mt-1 list-disc pl-5" data-testid="roster-errors">
                        {preview.errors.iter().map(|e| view! {
                            <li>{Msg::RosterLine.text(lang).replace("{line}", &e.line.to_string())} ": " {error_text(&e.error, lang)}</li>
                        }).collect_view()}
                    </ul>
                </div>
            })}
            <table class=TABLE>
                <thead class=THEAD><tr>
                    <th scope="col" class=CELL>"#"</th>
                    <th scope="col" class=CELL>{t(Msg::Username)}</th>
                    <th scope="col" class=CELL>{t(Msg::Name)}</th>
                    <th scope="col" class=CELL>{t(Msg::Email)}</th>
                    <th scope="col" class=CELL>{t(Msg::EventRoleLabel)}</th>
                    <th scope="col" class=CELL>{t(Msg::Language)}</th>
                    <th scope="col" class=CELL>{t(Msg::Status)}</th>
                </tr></thead>
                <tbody class="divide-y divide-slate-100" data-testid="roster-rows">
                    {preview.rows.iter().map(|r| view! {
                        <tr>
                            <td class=CELL>{r.row.line}</td>
                            <td class=CELL>{r.row.username.clone()}</td>
                            <td class=CELL>{r.row.name.clone()}</td>
                            <td class=CELL>{r.row.email.clone()}</td>
                            <td class=CELL>{event_role_text(r.row.role, lang)}</td>
                            <td class=CELL>{r.row.language.native_name()}</td>
                            <td class=CELL>{if r.already_participant { t(Msg::RosterAlready) } else if r.existing { t(Msg::RosterExisting) } else { t(Msg::RosterNew) }}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
            {ok.then(|| view! {
                <ActionForm action=import attr:class="mt-4">
                    <input type="hidden" name="event_id" value=move || id.get().unwrap_or_default()/>
                    <input type="hidden" name="csv" value=move || csv.get()/>
                    <Submit label=t(Msg::ConfirmImport) pending=pending/>
                </ActionForm>
            })}
        </section>
    }
}

// ------------------------------------------------------------------- groups

#[component]
pub fn GroupsPage() -> impl IntoView {
    let create = ServerAction::<CreateGroup>::new();
    let add = ServerAction::<AddGroupMember>::new();
    let remove = ServerAction::<RemoveGroupMember>::new();
    let delete = ServerAction::<DeleteGroup>::new();
    let versions =
        move || (create.version().get(), add.version().get(), remove.version().get(), delete.version().get());
    let groups = Resource::new(versions, |_| async move {
        let groups = list_groups().await?;
        let mut out = Vec::with_capacity(groups.len());
        for g in groups {
            let members = group_members(g.id).await?;
            out.push((g, members));
        }
        Ok::<_, ApiError>(out)
    });
    let pending = Memo::new(move |_| create.pending().get());
    view! {
        <WithShell>
        <Title text=t(Msg::Groups)/>
        <PageHeader title=t(Msg::Groups).to_string()/>
        <ActionError value=add.value()/>
        <ActionError value=remove.value()/>
        <ActionError value=delete.value()/>
        <Suspense fallback=|| view! { <p>{t(Msg::Loading)}</p> }>
            {move || Suspend::new(async move {
                match groups.await {
                    Ok(list) if list.is_empty() => view! { <EmptyState message=t(Msg::NoGroups)/> }.into_any(),
                    Ok(list) => view! {
                        <ul class="space-y-3">
                            {list.into_iter().map(|(g, members)| view! {
                                <li class=CARD>
                                    <div class="flex flex-wrap items-center justify-between gap-2">
                                        <h2 class="font-semibold">{g.name.clone()}</h2>
                                        <ActionForm action=delete>
                                            <input type="hidden" name="id" value=g.id/>
                                            <button type="submit" class=SECONDARY_BUTTON_CLASS>{t(Msg::Delete)}</button>
                                        </ActionForm>
                                    </div>
                                    <p class="text-sm text-slate-600">{g.description.clone()}</p>
                                    <ul class="mt-2 flex flex-wrap gap-2 text-sm">
                                        {members.into_iter().map(|(user_id, username)| view! {
                                            <li class="flex items-center gap-1 rounded-full bg-slate-100 px-3 py-1">
                                                {username.clone()}
                                                <ActionForm action=remove>
                                                    <input type="hidden" name="id" value=g.id/>
                                                    <input type="hidden" name="user_id" value=user_id/>
                                                    <button type="submit" aria-label=format!("{} {}", t(Msg::Remove), username) class="text-slate-500 hover:text-red-700">"×"</button>
                                                </ActionForm>
                                            </li>
                                        }).collect_view()}
                                    </ul>
                                    <ActionForm action=add attr:class="mt-3 flex items-end gap-2">
                                        <input type="hidden" name="id" value=g.id/>
                                        <label class="text-sm">{t(Msg::Username)}
                                            <input name="username" required=true class=INPUT_CLASS/>
                                        </label>
                                        <button type="submit" class=SECONDARY_BUTTON_CLASS>{t(Msg::Add)}</button>
                                    </ActionForm>
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                    Err(e) => error_view(&e),
                }
            })}
        </Suspense>
        <section class=format!("mt-8 max-w-2xl {CARD}")>
            <h2 class="mb-4 text-lg font-semibold">{t(Msg::NewGroup)}</h2>
            <ActionError value=create.value()/>
            <ActionForm action=create>
                <Field label=t(Msg::Name) name="name" required=true maxlength=128/>
                <Field label=t(Msg::Description) name="description" maxlength=2000/>
                <Submit label=t(Msg::Create) pending=pending/>
            </ActionForm>
        </section>
        </WithShell>
    }
}

// ---------------------------------------------------------------------- VMs

#[component]
pub fn VmsPage() -> impl IntoView {
    let query = use_query_map();
    let vms = Resource::new(
        move || {
            query.with(|q| {
                (
                    q.get("event").and_then(|e| e.parse().ok()),
                    q.get("user"),
                    q.get("node"),
                    q.get("state"),
                    q.get("tag"),
                    q.get("page").and_then(|p| p.parse().ok()),
                )
            })
        },
        |(event, user, node, state, tag, page)| async move {
            let page = list_vms(event, user, node, state, tag, page).await?;
            let tags = tags_of(Taggable::Vm.key().into(), page.items.iter().map(|x| x.id).collect()).await?;
            Ok::<_, ApiError>((page, tags))
        },
    );
    let nodes = Resource::new(|| (), |_| vm_nodes());
    let current = move |key: &str| query.with_untracked(|q| q.get(key)).unwrap_or_default();
    view! {
        <WithShell>
        <Title text=t(Msg::Vms)/>
        <PageHeader title=t(Msg::Vms).to_string()/>
        <Form method="GET" action="" attr:class="mb-4 flex flex-wrap items-end gap-3" attr:role="search">
            <div>
                <label for="f-event" class=LABEL>{t(Msg::EventId)}</label>
                <input id="f-event" name="event" type="number" value=current("event") class=INPUT_CLASS/>
            </div>
            <div>
                <label for="f-user" class=LABEL>{t(Msg::Username)}</label>
                <input id="f-user" name="user" value=current("user") class=INPUT_CLASS/>
            </div>
            <div>
                <label for="f-node" class=LABEL>{t(Msg::Node)}</label>
                <select id="f-node" name="node" class=INPUT_CLASS>
                    <option value="">{t(Msg::Any)}</option>
                    <Suspense fallback=|| ()>
                        {move || Suspend::new(async move {
                            nodes.await.unwrap_or_default().into_iter().map(|n| view! {
                                <option value=n.clone() selected=current("node") == n>{n.clone()}</option>
                            }).collect_view()
                        })}
                    </Suspense>
                </select>
            </div>
            <div>
                <label for="f-state" class=LABEL>{t(Msg::Status)}</label>
                <select id="f-state" name="state" class=INPUT_CLASS>
                    <option value="">{t(Msg::Any)}</option>
                    {VmState::ALL.into_iter().map(|s| view! {
                        <option value=s.key() selected=current("state") == s.key()>{vm_state_text(s, use_lang())}</option>
                    }).collect_view()}
                </select>
            </div>
            <TagFilterField current=current("tag")/>
            <button type="submit" class=SECONDARY_BUTTON_CLASS>{t(Msg::Filter)}</button>
        </Form>
        <Suspense fallback=|| view! { <p>{t(Msg::Loading)}</p> }>
            {move || Suspend::new(async move {
                match vms.await {
                    Ok((page, _)) if page.items.is_empty() => view! { <EmptyState message=t(Msg::NoVms)/> }.into_any(),
                    Ok((page, tags)) => {
                        let pages = page.page_count();
                        view! {
                            <VmTable vms=page.items tags=tags/>
                            <Pager page=page.page pages=pages total=page.total base="/vms"/>
                        }.into_any()
                    }
                    Err(e) => error_view(&e),
                }
            })}
        </Suspense>
        </WithShell>
    }
}

#[component]
fn VmTable(vms: Vec<VmView>, tags: Vec<domain::catalogue::ObjectTags>) -> impl IntoView {
    let lang = use_lang();
    view! {
        <div class="overflow-x-auto rounded-lg bg-white shadow-sm">
            <table class=TABLE data-testid="vms">
                <thead class=THEAD><tr>
                    <th scope="col" class=CELL>{t(Msg::Name)}</th>
                    <th scope="col" class=CELL>{t(Msg::Event)}</th>
                    <th scope="col" class=CELL>{t(Msg::Participant)}</th>
                    <th scope="col" class=CELL>{t(Msg::Node)}</th>
                    <th scope="col" class=CELL>{t(Msg::Status)}</th>
                    <th scope="col" class=CELL>"IP"</th>
                    <th scope="col" class=CELL>{t(Msg::Tags)}</th>
                    <th scope="col" class=CELL>{t(Msg::VmUptime)}</th>
                </tr></thead>
                <tbody class="divide-y divide-slate-100">
                    {vms.into_iter().map(|vm| view! {
                        <tr>
                            <td class=CELL><a class=LINK_CLASS href=format!("/vms/{}", vm.id)>{vm.name.clone()}</a></td>
                            <td class=CELL>{vm.event_name.clone()}</td>
                            <td class=CELL>{vm.owner_username.clone()}</td>
                            <td class=CELL>{vm.node.clone().unwrap_or_else(|| "—".into())}</td>
                            <td class=CELL>{vm_state_text(vm.state, lang)}</td>
                            <td class=format!("{CELL} font-mono")>{vm.ip.clone().unwrap_or_else(|| "—".into())}</td>
                            <td class=CELL><TagChips tags=tags_for(&tags, vm.id)/></td>
                            <td class=CELL data-uptime="">{vm.uptime_secs.map(domain::classroom::format_uptime).unwrap_or_else(|| "—".into())}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
pub fn VmPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").and_then(|id| id.parse::<i64>().ok())));
    let act = ServerAction::<crate::api::deployment::VmAction>::new();
    let vm = Resource::new(
        move || (id.get(), act.version().get()),
        |(id, _)| async move {
            match id {
                Some(id) => get_vm(id).await,
                None => not_found(),
            }
        },
    );
    view! {
        <WithShell>
        <Suspense fallback=|| view! { <p>{t(Msg::Loading)}</p> }>
            {move || Suspend::new(async move {
                let lang = use_lang();
                match vm.await {
                    Ok(vm) => {
                        // Owners only read their VM's own connection templates; the event's
                        // instructors and administrators change them (the server decides).
                        let connections_editable = may_one(Action::Update, ObjectType::Vm, vm.id)
                            || use_actor().is_some_and(|a| a.user_id != vm.owner_id);
                        view! {
                        <Title text=vm.name.clone()/>
                        <PageHeader title=vm.name.clone()/>
                        <dl class="grid gap-3 rounded-lg bg-white p-6 text-sm shadow-sm sm:grid-cols-2" data-testid="vm-detail">
                            <div><dt class="text-slate-500">{t(Msg::Status)}</dt><dd>{vm_state_text(vm.state, lang)}</dd></div>
                            <div><dt class="text-slate-500">"IP"</dt><dd class="font-mono">{vm.ip.clone().unwrap_or_else(|| "—".into())}</dd></div>
                            <div><dt class="text-slate-500">{t(Msg::Node)}</dt><dd>{vm.node.clone().unwrap_or_else(|| "—".into())}</dd></div>
                            <div><dt class="text-slate-500">"VMID"</dt><dd>{vm.vmid.map(|v| v.to_string()).unwrap_or_else(|| "—".into())}</dd></div>
                            <div><dt class="text-slate-500">{t(Msg::Template)}</dt><dd>{vm.template_name.clone()}</dd></div>
                            <div><dt class="text-slate-500">{t(Msg::Resources)}</dt><dd>{match (vm.cores, vm.memory_mib) {
                                (Some(cores), Some(memory)) => format!("{cores} CPU · {memory} MiB"),
                                _ => "—".to_string(),
                            }}</dd></div>
                            <div><dt class="text-slate-500">{t(Msg::Event)}</dt><dd><a class=LINK_CLASS href=format!("/events/{}", vm.event_id)>{vm.event_name.clone()}</a></dd></div>
                            <div><dt class="text-slate-500">{t(Msg::Participant)}</dt><dd>{vm.owner_username.clone()}</dd></div>
                            <div><dt class="text-slate-500">{t(Msg::UpdatedAt)}</dt><dd>{crate::components::local_time(vm.updated_at)}</dd></div>
                            <div><dt class="text-slate-500">{t(Msg::VmUptime)}</dt><dd data-uptime="">{vm.uptime_secs.map(domain::classroom::format_uptime).unwrap_or_else(|| "—".into())}</dd></div>
                            {vm.last_error.clone().map(|e| view! {
                                <div class="sm:col-span-2 text-red-800"><dt class="font-medium">{t(Msg::LastError)}</dt><dd>{e}</dd></div>
                            })}
                        </dl>
                        <div class="mt-4 flex flex-wrap items-start gap-4">
                            <crate::pages::deployment::ConnectButton vm=vm.clone()/>
                            <crate::pages::deployment::VmActions vm=vm.clone() action=act back=format!("/vms/{}", vm.id)/>
                        </div>
                        <TagsSection object=Taggable::Vm id=vm.id editable=may_one(Action::Update, ObjectType::Vm, vm.id)/>
                        <crate::pages::catalogue::CatalogueSection object=Taggable::Vm id=vm.id editable=false/>
                        <div class="mt-6">
                            <crate::pages::guacamole::VmConnections vm_id=vm.id/>
                            <crate::pages::guacamole::ConnectionTemplates binding=ConnectionBinding::Vm(vm.id) editable=connections_editable/>
                        </div>
                    }.into_any()
                    }
                    Err(e) => page_error_view(&e),
                }
            })}
        </Suspense>
        </WithShell>
    }
}

/// The home page's "My VMs": the user's events, each with their own VMs and
/// a sentence when the event has not started or has ended.
#[component]
pub fn MyVms(events: Vec<MyEvent>, action: ServerAction<crate::api::deployment::VmAction>) -> impl IntoView {
    let lang = use_lang();
    if events.is_empty() {
        return view! { <p class="text-sm text-slate-500" data-testid="my-vms-empty">{t(Msg::NoMyEvents)}</p> }
            .into_any();
    }
    view! {
        <div class="space-y-4" data-testid="my-vms">
            {events.into_iter().map(|MyEvent { event, vms, note }| {
                let note = note.map(|n| match n {
                    EventNote::NotStarted => Msg::EventNotStarted.text(lang).replace("{at}", &crate::components::local_time(event.starts_at)),
                    EventNote::Preparing => Msg::EventPreparing.text(lang).to_string(),
                    EventNote::Ended => Msg::EventEnded.text(lang).to_string(),
                });
                view! {
                    <section class=CARD>
                        <h3 class="font-semibold"><a class=LINK_CLASS href=format!("/events/{}", event.id)>{event.name.clone()}</a></h3>
                        <p class="text-sm text-slate-600">{crate::components::local_time(event.starts_at)} " – " {when(event.ends_at)} " · " {event_status_text(event.status, lang)}</p>
                        {note.map(|n| view! { <p class="mt-2 rounded bg-amber-50 px-3 py-2 text-sm text-amber-900">{n}</p> })}
                        {(!vms.is_empty()).then(|| view! {
                            <ul class="mt-3 divide-y divide-slate-100 text-sm">
                                {vms.into_iter().map(|vm| view! {
                                    <li class="flex flex-wrap items-center justify-between gap-2 py-2">
                                        <a class=LINK_CLASS href=format!("/vms/{}", vm.id)>{vm.name.clone()}</a>
                                        <span>{vm_state_text(vm.state, lang)} " · " <span class="font-mono">{vm.ip.clone().unwrap_or_else(|| "—".into())}</span></span>
                                        <crate::pages::deployment::ConnectButton vm=vm.clone()/>
                                        <crate::pages::deployment::VmActions vm=vm.clone() action=action back="/".to_string()/>
                                    </li>
                                }).collect_view()}
                            </ul>
                        })}
                    </section>
                }
            }).collect_view()}
        </div>
    }.into_any()
}
