//! Roles and the permission catalogue.

use domain::ObjectType;
use domain::user::RoleView;
use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::roles::*;
use crate::components::forms::{
    ActionError, BUTTON_CLASS, DANGER_BUTTON_CLASS, Field, LINK_CLASS, SECONDARY_BUTTON_CLASS, Submit,
};
use crate::components::layout::WithShell;
use crate::components::{EmptyState, PageHeader, t, use_lang};
use crate::i18n::{Msg, error_text, level_text};
use crate::pages::route_id;

#[component]
pub fn RolesPage() -> impl IntoView {
    let roles = Resource::new(|| (), |_| list_roles());
    view! {
        <WithShell readers_of=ObjectType::Role>
        <Title text=t(Msg::Roles)/>
        <PageHeader title=t(Msg::Roles).to_string()>
            <a href="/admin/permissions" class=SECONDARY_BUTTON_CLASS>{t(Msg::Permissions)}</a>
            <a href="/admin/roles/new" class=BUTTON_CLASS>{t(Msg::NewRole)}</a>
        </PageHeader>
        <Suspense fallback=|| view! { <p>{t(Msg::Loading)}</p> }>
            {move || Suspend::new(async move {
                match roles.await {
                    Ok(roles) if roles.is_empty() => view! { <EmptyState message=t(Msg::NoRoles)/> }.into_any(),
                    Ok(roles) => view! {
                        <div class="overflow-x-auto rounded-lg bg-white shadow-sm">
                            <table class="min-w-full divide-y divide-slate-200 text-sm">
                                <thead class="bg-slate-100 text-left text-slate-600">
                                    <tr>
                                        <th scope="col" class="px-4 py-2">{t(Msg::Name)}</th>
                                        <th scope="col" class="px-4 py-2">{t(Msg::Key)}</th>
                                        <th scope="col" class="px-4 py-2">{t(Msg::Description)}</th>
                                        <th scope="col" class="px-4 py-2">{t(Msg::Members)}</th>
                                    </tr>
                                </thead>
                                <tbody class="divide-y divide-slate-100">
                                    {roles.into_iter().map(|r| view! {
                                        <tr>
                                            <td class="px-4 py-2"><a class=LINK_CLASS href=format!("/admin/roles/{}", r.id)>{r.name.clone()}</a></td>
                                            <td class="px-4 py-2 font-mono">{r.key.clone()}</td>
                                            <td class="px-4 py-2">{r.description.clone()}</td>
                                            <td class="px-4 py-2">{r.member_count}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                    }.into_any(),
                    Err(e) => view! { <p role="alert" class="text-red-700">{error_text(&e.0, use_lang())}</p> }.into_any(),
                }
            })}
        </Suspense>
        </WithShell>
    }
}

/// The permission grid: one row per object type, one checkbox per level.
#[component]
fn PermissionChoices(catalogue: Vec<Permission>, selected: Vec<String>) -> impl IntoView {
    let lang = use_lang();
    let mut types: Vec<domain::ObjectType> = catalogue.iter().map(|p| p.object_type).collect();
    types.dedup();
    view! {
        <fieldset class="mb-4">
            <legend class="block text-sm font-medium text-slate-700">{t(Msg::Permissions)}</legend>
            <p class="mb-2 text-xs text-slate-500">{t(Msg::ModelLevelHint)}</p>
            <table class="text-sm">
                <tbody>
                    {types.into_iter().map(|ty| {
                        let levels: Vec<Permission> = catalogue.iter().filter(|p| p.object_type == ty).cloned().collect();
                        view! {
                            <tr class="border-t border-slate-100">
                                <th scope="row" class="py-1 pr-4 text-left font-mono font-normal">{ty.key()}</th>
                                <td class="flex flex-wrap gap-3 py-1">
                                    {levels.into_iter().map(|p| {
                                        let id = format!("perm-{}", p.key.replace(':', "-"));
                                        view! {
                                            <span class="flex items-center gap-1">
                                                <input type="checkbox" id=id.clone() name="permissions[]" value=p.key.clone() checked=selected.contains(&p.key)/>
                                                <label for=id>{level_text(p.level, lang)}</label>
                                            </span>
                                        }
                                    }).collect_view()}
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </fieldset>
    }
}

#[component]
pub fn NewRolePage() -> impl IntoView {
    let create = ServerAction::<CreateRole>::new();
    let pending = Memo::new(move |_| create.pending().get());
    let catalogue = Resource::new(|| (), |_| list_permissions());
    view! {
        <WithShell readers_of=ObjectType::Role>
        <Title text=t(Msg::NewRole)/>
        <PageHeader title=t(Msg::NewRole).to_string()/>
        <section class="max-w-3xl rounded-lg bg-white p-6 shadow-sm">
            <ActionError value=create.value()/>
            <ActionForm action=create>
                <Field label=t(Msg::Key) name="key" required=true maxlength=64/>
                <Field label=t(Msg::Name) name="name" required=true maxlength=128/>
                <Field label=t(Msg::Description) name="description" maxlength=2000/>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        catalogue.await.map(|c| view! { <PermissionChoices catalogue=c selected=vec![]/> }).ok()
                    })}
                </Suspense>
                <div class="flex gap-2">
                    <Submit label=t(Msg::Create) pending=pending/>
                    <a href="/admin/roles" class=SECONDARY_BUTTON_CLASS>{t(Msg::Cancel)}</a>
                </div>
            </ActionForm>
        </section>
        </WithShell>
    }
}

fn role_resource(
    id: Memo<Option<i64>>,
    version: impl Fn() -> usize + Send + Sync + 'static,
) -> Resource<Result<RoleView, crate::error::ApiError>> {
    Resource::new(
        move || (id.get(), version()),
        |(id, _)| async move {
            match id {
                Some(id) => get_role(id).await,
                None => Err(domain::AppError::NotFound.into()),
            }
        },
    )
}

#[component]
pub fn EditRolePage() -> impl IntoView {
    let id = route_id();
    let update = ServerAction::<UpdateRole>::new();
    let copy = ServerAction::<CopyRole>::new();
    let role = role_resource(id, move || update.version().get());
    let catalogue = Resource::new(|| (), |_| list_permissions());
    view! {
        <WithShell>
        <Suspense fallback=|| view! { <p>{t(Msg::Loading)}</p> }>
            {move || Suspend::new(async move {
                let role = match role.await {
                    Ok(role) => role,
                    Err(e) => return crate::components::page_error_view(&e),
                };
                let catalogue = catalogue.await.unwrap_or_default();
                let update_pending = Memo::new(move |_| update.pending().get());
                let copy_pending = Memo::new(move |_| copy.pending().get());
                let copy_key = format!("{}_copy", role.key);
                let copy_name = format!("{} (2)", role.name);
                view! {
                    <Title text=role.name.clone()/>
                    <PageHeader title=format!("{} ({})", role.name.clone(), role.key.clone())>
                        <a href=format!("/admin/roles/{}/delete", role.id) class=DANGER_BUTTON_CLASS>{t(Msg::Delete)}</a>
                    </PageHeader>
                    <div class="grid gap-6 lg:grid-cols-3">
                        <section class="rounded-lg bg-white p-6 shadow-sm lg:col-span-2">
                            <ActionError value=update.value()/>
                            <ActionForm action=update>
                                <input type="hidden" name="id" value=role.id/>
                                <Field label=t(Msg::Name) name="name" value=role.name.clone() required=true maxlength=128/>
                                <Field label=t(Msg::Description) name="description" value=role.description.clone() maxlength=2000/>
                                <PermissionChoices catalogue=catalogue selected=role.permissions.clone()/>
                                <Submit label=t(Msg::Save) pending=update_pending/>
                            </ActionForm>
                        </section>
                        <section class="rounded-lg bg-white p-6 shadow-sm">
                            <h2 class="mb-4 text-lg font-semibold">{t(Msg::CopyRole)}</h2>
                            <ActionError value=copy.value()/>
                            <ActionForm action=copy>
                                <input type="hidden" name="id" value=role.id/>
                                <Field label=t(Msg::Key) name="key" value=copy_key required=true maxlength=64/>
                                <Field label=t(Msg::Name) name="name" value=copy_name required=true maxlength=128/>
                                <Submit label=t(Msg::Copy) pending=copy_pending/>
                            </ActionForm>
                        </section>
                    </div>
                }.into_any()
            })}
        </Suspense>
        </WithShell>
    }
}

#[component]
pub fn DeleteRolePage() -> impl IntoView {
    let id = route_id();
    let delete = ServerAction::<DeleteRole>::new();
    let role = role_resource(id, || 0);
    view! {
        <WithShell>
        <Suspense fallback=|| view! { <p>{t(Msg::Loading)}</p> }>
            {move || Suspend::new(async move {
                match role.await {
                    Ok(role) => view! {
                        <section class="max-w-xl rounded-lg border border-red-200 bg-white p-6 shadow-sm">
                            <h1 class="text-xl font-semibold">{Msg::DeleteRoleTitle.text(use_lang()).replace("{name}", &role.name)}</h1>
                            <p class="mt-2 text-slate-600">{t(Msg::DeleteRoleText)}</p>
                            <ActionError value=delete.value()/>
                            <ActionForm action=delete attr:class="mt-6 flex gap-2">
                                <input type="hidden" name="id" value=role.id/>
                                <button type="submit" class=DANGER_BUTTON_CLASS>{t(Msg::YesDelete)}</button>
                                <a href=format!("/admin/roles/{}", role.id) class=SECONDARY_BUTTON_CLASS>{t(Msg::Cancel)}</a>
                            </ActionForm>
                        </section>
                    }.into_any(),
                    Err(e) => crate::components::page_error_view(&e),
                }
            })}
        </Suspense>
        </WithShell>
    }
}

#[component]
pub fn PermissionsPage() -> impl IntoView {
    let catalogue = Resource::new(|| (), |_| list_permissions());
    view! {
        <WithShell readers_of=ObjectType::Role>
        <Title text=t(Msg::Permissions)/>
        <PageHeader title=t(Msg::Permissions).to_string()/>
        <p class="mb-4 text-sm text-slate-600">{t(Msg::ModelLevelHint)}</p>
        <Suspense fallback=|| view! { <p>{t(Msg::Loading)}</p> }>
            {move || Suspend::new(async move {
                match catalogue.await {
                    Ok(entries) => view! {
                        <div class="overflow-x-auto rounded-lg bg-white shadow-sm">
                            <table class="min-w-full divide-y divide-slate-200 text-sm">
                                <thead class="bg-slate-100 text-left text-slate-600">
                                    <tr>
                                        <th scope="col" class="px-4 py-2">{t(Msg::Key)}</th>
                                        <th scope="col" class="px-4 py-2">{t(Msg::ObjectType)}</th>
                                        <th scope="col" class="px-4 py-2">{t(Msg::Level)}</th>
                                    </tr>
                                </thead>
                                <tbody class="divide-y divide-slate-100">
                                    {entries.into_iter().map(|p| view! {
                                        <tr>
                                            <td class="px-4 py-2 font-mono">{p.key.clone()}</td>
                                            <td class="px-4 py-2">{p.object_type.key()}</td>
                                            <td class="px-4 py-2">{level_text(p.level, use_lang())}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                    }.into_any(),
                    Err(e) => view! { <p role="alert" class="text-red-700">{error_text(&e.0, use_lang())}</p> }.into_any(),
                }
            })}
        </Suspense>
        </WithShell>
    }
}
