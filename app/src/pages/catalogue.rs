//! The infrastructure catalogue (`/admin/catalogue/{vendors,operating-systems,
//! applications}`): lists with pagination, create, edit, delete (refused
//! while used, naming the users), and the "Catalogue" section of template,
//! environment and VM pages.

use domain::catalogue::{CatalogueItem, CatalogueKind, CatalogueLinks, Taggable};
use domain::{Action, ObjectType, Target, can};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::catalogue::*;
use crate::components::forms::{
    ActionError, BUTTON_CLASS, DANGER_BUTTON_CLASS, Field, INPUT_CLASS, LINK_CLASS, SECONDARY_BUTTON_CLASS, Submit,
};
use crate::components::layout::WithShell;
use crate::components::pager::Pager;
use crate::components::{EmptyState, PageHeader, error_view, page_error_view, t, use_actor};
use crate::error::ApiError;
use crate::i18n::Msg;

const CARD: &str = "rounded-lg bg-white p-6 shadow-sm";
const LABEL: &str = "block text-sm font-medium text-slate-700";

fn may(action: Action) -> bool {
    use_actor().is_some_and(|a| can(&a, action, Target::All(ObjectType::Catalogue)))
}

fn kind_title(kind: CatalogueKind) -> &'static str {
    match kind {
        CatalogueKind::Vendor => t(Msg::CatalogueVendors),
        CatalogueKind::OperatingSystem => t(Msg::CatalogueOperatingSystems),
        CatalogueKind::Application => t(Msg::CatalogueApplications),
    }
}

fn kind_empty(kind: CatalogueKind) -> &'static str {
    match kind {
        CatalogueKind::Vendor => t(Msg::CatalogueNoVendors),
        CatalogueKind::OperatingSystem => t(Msg::CatalogueNoOperatingSystems),
        CatalogueKind::Application => t(Msg::CatalogueNoApplications),
    }
}

/// The list's address (the pager needs a `'static` one).
fn base(kind: CatalogueKind) -> &'static str {
    match kind {
        CatalogueKind::Vendor => "/admin/catalogue/vendors",
        CatalogueKind::OperatingSystem => "/admin/catalogue/operating-systems",
        CatalogueKind::Application => "/admin/catalogue/applications",
    }
}

fn route_kind() -> Memo<Option<CatalogueKind>> {
    let params = use_params_map();
    Memo::new(move |_| params.with(|p| p.get("kind").and_then(|k| CatalogueKind::from_key(&k))))
}

fn not_found<T>() -> Result<T, ApiError> {
    Err(domain::AppError::NotFound.into())
}

/// Every vendor, for the vendor selects (the catalogue is small; one page of the maximum size).
async fn all_vendors() -> Result<Vec<CatalogueItem>, ApiError> {
    Ok(list_catalogue(CatalogueKind::Vendor.key().into(), None, None, Some(domain::page::MAX_PER_PAGE)).await?.items)
}

#[component]
fn KindTabs(current: CatalogueKind) -> impl IntoView {
    view! {
        <nav class="mb-4 flex gap-2 text-sm" aria-label=t(Msg::Catalogue)>
            {CatalogueKind::ALL.into_iter().map(|kind| view! {
                <a href=base(kind)
                    aria-current=if kind == current { "page" } else { "false" }
                    class="rounded px-3 py-1 hover:bg-slate-200 aria-[current=page]:bg-slate-800 aria-[current=page]:text-white">
                    {kind_title(kind)}
                </a>
            }).collect_view()}
        </nav>
    }
}

#[component]
fn VendorSelect(vendors: Vec<CatalogueItem>, selected: Option<i64>) -> impl IntoView {
    if vendors.is_empty() {
        return view! {
            <p class="mb-4 text-sm text-slate-600">
                {t(Msg::CatalogueVendorFirst)}" "
                <a class=LINK_CLASS href=base(CatalogueKind::Vendor)>{t(Msg::CatalogueVendors)}</a>
            </p>
        }
        .into_any();
    }
    view! {
        <div class="mb-4">
            <label for="field-vendor_id" class=LABEL>{t(Msg::CatalogueVendor)}</label>
            <select id="field-vendor_id" name="vendor_id" required=true class=INPUT_CLASS>
                {vendors.into_iter().map(|v| view! {
                    <option value=v.id selected=Some(v.id) == selected>{v.name.clone()}</option>
                }).collect_view()}
            </select>
        </div>
    }
    .into_any()
}

/// `/admin/catalogue/:kind`: one list, filtered by vendor, with the create form.
#[component]
pub fn CataloguePage() -> impl IntoView {
    let kind = route_kind();
    let query = use_query_map();
    let create = ServerAction::<CreateCatalogueItem>::new();
    let items = Resource::new(
        move || {
            let (vendor, page) = query
                .with(|q| (q.get("vendor").and_then(|v| v.parse().ok()), q.get("page").and_then(|p| p.parse().ok())));
            (kind.get(), vendor, page, create.version().get())
        },
        |(kind, vendor, page, _)| async move {
            match kind {
                Some(kind) => list_catalogue(kind.key().into(), vendor, page, None).await,
                None => not_found(),
            }
        },
    );
    let vendors = Resource::new(move || create.version().get(), |_| all_vendors());
    let pending = Memo::new(move |_| create.pending().get());
    let current_vendor = move || query.with_untracked(|q| q.get("vendor")).unwrap_or_default();
    view! {
        <WithShell readers_of=ObjectType::Catalogue>
        <Title text=t(Msg::Catalogue)/>
        <PageHeader title=t(Msg::Catalogue).to_string()/>
        {move || match kind.get() {
            None => error_view(&ApiError(domain::AppError::NotFound)),
            Some(kind) => view! {
                <KindTabs current=kind/>
                {kind.has_vendor().then(|| view! {
                    <Form method="GET" action="" attr:class="mb-4 flex flex-wrap items-end gap-3" attr:role="search">
                        <div>
                            <label for="f-vendor" class=LABEL>{t(Msg::CatalogueVendor)}</label>
                            <select id="f-vendor" name="vendor" class=INPUT_CLASS>
                                <option value="">{t(Msg::Any)}</option>
                                <Suspense fallback=|| ()>
                                    {move || Suspend::new(async move {
                                        vendors.await.unwrap_or_default().into_iter().map(|v| {
                                            let selected = current_vendor() == v.id.to_string();
                                            view! { <option value=v.id selected=selected>{v.name.clone()}</option> }
                                        }).collect_view()
                                    })}
                                </Suspense>
                            </select>
                        </div>
                        <button type="submit" class=SECONDARY_BUTTON_CLASS>{t(Msg::Filter)}</button>
                    </Form>
                })}
                <Suspense fallback=|| view! { <p>{t(Msg::Loading)}</p> }>
                    {move || Suspend::new(async move {
                        match items.await {
                            Ok(page) if page.items.is_empty() => view! { <EmptyState message=kind_empty(kind)/> }.into_any(),
                            Ok(page) => {
                                let pages = page.page_count();
                                view! {
                                    <div class="overflow-x-auto rounded-lg bg-white shadow-sm">
                                        <table class="min-w-full divide-y divide-slate-200 text-sm" data-testid="catalogue">
                                            <thead class="bg-slate-100 text-left text-slate-600"><tr>
                                                <th scope="col" class="px-4 py-2">{t(Msg::Name)}</th>
                                                {kind.has_vendor().then(|| view! { <th scope="col" class="px-4 py-2">{t(Msg::CatalogueVendor)}</th> })}
                                                <th scope="col" class="px-4 py-2">{t(Msg::Description)}</th>
                                            </tr></thead>
                                            <tbody class="divide-y divide-slate-100">
                                                {page.items.into_iter().map(|item| view! {
                                                    <tr>
                                                        <td class="px-4 py-2"><a class=LINK_CLASS href=format!("{}/{}", base(kind), item.id)>{item.name.clone()}</a></td>
                                                        {item.vendor.clone().map(|(_, name)| view! { <td class="px-4 py-2">{name}</td> })}
                                                        <td class="px-4 py-2">{item.description.clone()}</td>
                                                    </tr>
                                                }).collect_view()}
                                            </tbody>
                                        </table>
                                    </div>
                                    <Pager page=page.page pages=pages total=page.total base=base(kind)/>
                                }.into_any()
                            }
                            Err(e) => error_view(&e),
                        }
                    })}
                </Suspense>
                {may(Action::Create).then(|| view! {
                    <section class=format!("mt-8 max-w-2xl {CARD}")>
                        <h2 class="mb-4 text-lg font-semibold">{t(Msg::CatalogueNew)}</h2>
                        <ActionError value=create.value()/>
                        <ActionForm action=create>
                            <input type="hidden" name="kind" value=kind.key()/>
                            <Field label=t(Msg::Name) name="name" required=true maxlength=128/>
                            <Field label=t(Msg::Description) name="description" maxlength=2000/>
                            {kind.has_vendor().then(|| view! {
                                <Suspense fallback=|| ()>
                                    {move || Suspend::new(async move {
                                        view! { <VendorSelect vendors=vendors.await.unwrap_or_default() selected=None/> }
                                    })}
                                </Suspense>
                            })}
                            <Submit label=t(Msg::Create) pending=pending/>
                        </ActionForm>
                    </section>
                })}
            }.into_any(),
        }}
        </WithShell>
    }
}

fn route_item() -> (Memo<Option<CatalogueKind>>, Memo<Option<i64>>) {
    (route_kind(), crate::pages::route_id())
}

/// `/admin/catalogue/:kind/:id`: the entry's form (read-only without the permission).
#[component]
pub fn CatalogueItemPage() -> impl IntoView {
    let (kind, id) = route_item();
    let update = ServerAction::<UpdateCatalogueItem>::new();
    let item = Resource::new(
        move || (kind.get(), id.get(), update.version().get()),
        |(kind, id, _)| async move {
            match (kind, id) {
                (Some(kind), Some(id)) => get_catalogue_item(kind.key().into(), id).await,
                _ => not_found(),
            }
        },
    );
    let vendors = Resource::new(|| (), |_| all_vendors());
    let pending = Memo::new(move |_| update.pending().get());
    view! {
        <WithShell>
        <Suspense fallback=|| view! { <p>{t(Msg::Loading)}</p> }>
            {move || Suspend::new(async move {
                let item = match item.await {
                    Ok(item) => item,
                    Err(e) => return page_error_view(&e),
                };
                let vendors = if item.kind.has_vendor() { vendors.await.unwrap_or_default() } else { Vec::new() };
                let editable = may(Action::Update);
                let kind = item.kind;
                view! {
                    <Title text=item.name.clone()/>
                    <PageHeader title=item.name.clone()>
                        <a href=base(kind) class=SECONDARY_BUTTON_CLASS>{kind_title(kind)}</a>
                        {may(Action::Delete).then(|| view! {
                            <a href=format!("{}/{}/delete", base(kind), item.id) class=DANGER_BUTTON_CLASS>{t(Msg::Delete)}</a>
                        })}
                    </PageHeader>
                    <section class=format!("max-w-2xl {CARD}")>
                        <ActionError value=update.value()/>
                        <ActionForm action=update>
                            <input type="hidden" name="kind" value=kind.key()/>
                            <input type="hidden" name="id" value=item.id/>
                            <fieldset disabled=!editable>
                                <Field label=t(Msg::Name) name="name" value=item.name.clone() required=true maxlength=128/>
                                <Field label=t(Msg::Description) name="description" value=item.description.clone() maxlength=2000/>
                                {kind.has_vendor().then(|| view! {
                                    <VendorSelect vendors=vendors selected=item.vendor.as_ref().map(|v| v.0)/>
                                })}
                            </fieldset>
                            {editable.then(|| view! { <Submit label=t(Msg::Save) pending=pending/> })}
                        </ActionForm>
                    </section>
                }.into_any()
            })}
        </Suspense>
        </WithShell>
    }
}

/// Asks before deleting; an entry in use stays, and the error names its users.
#[component]
pub fn DeleteCatalogueItemPage() -> impl IntoView {
    let (kind, id) = route_item();
    let delete = ServerAction::<DeleteCatalogueItem>::new();
    let item = Resource::new(
        move || (kind.get(), id.get()),
        |(kind, id)| async move {
            match (kind, id) {
                (Some(kind), Some(id)) => get_catalogue_item(kind.key().into(), id).await,
                _ => not_found(),
            }
        },
    );
    view! {
        <WithShell>
        <Suspense fallback=|| view! { <p>{t(Msg::Loading)}</p> }>
            {move || Suspend::new(async move {
                match item.await {
                    Ok(item) => view! {
                        <section class="max-w-xl rounded-lg border border-red-200 bg-white p-6 shadow-sm">
                            <h1 class="text-xl font-semibold">{t(Msg::CatalogueDeleteTitle).replace("{name}", &item.name)}</h1>
                            <p class="mt-2 text-slate-600">{t(Msg::CannotBeUndone)}</p>
                            <div class="mt-4"><ActionError value=delete.value()/></div>
                            <ActionForm action=delete attr:class="mt-6 flex gap-2">
                                <input type="hidden" name="kind" value=item.kind.key()/>
                                <input type="hidden" name="id" value=item.id/>
                                <button type="submit" class=DANGER_BUTTON_CLASS>{t(Msg::YesDelete)}</button>
                                <a href=format!("{}/{}", base(item.kind), item.id) class=SECONDARY_BUTTON_CLASS>{t(Msg::Cancel)}</a>
                            </ActionForm>
                        </section>
                    }.into_any(),
                    Err(e) => page_error_view(&e),
                }
            })}
        </Suspense>
        </WithShell>
    }
}

#[component]
fn LinksView(links: CatalogueLinks, with_os: bool) -> impl IntoView {
    let apps = if links.applications.is_empty() {
        "—".to_string()
    } else {
        links.applications.iter().map(|a| a.name.clone()).collect::<Vec<_>>().join(", ")
    };
    view! {
        <dl class="grid gap-2 text-sm sm:grid-cols-2" data-testid="catalogue-links">
            {with_os.then(|| view! {
                <div><dt class="text-slate-500">{t(Msg::OperatingSystem)}</dt>
                <dd>{links.operating_system.clone().map(|o| o.name).unwrap_or_else(|| "—".into())}</dd></div>
            })}
            <div><dt class="text-slate-500">{t(Msg::CatalogueApplications)}</dt><dd>{apps}</dd></div>
        </dl>
    }
}

/// The operating system and applications of a template (one OS, many
/// applications), an environment (applications) or a VM (its template's,
/// read-only). Editable by whoever may edit the object and read the catalogue.
#[component]
pub fn CatalogueSection(object: Taggable, id: i64, editable: bool) -> impl IntoView {
    let save = ServerAction::<SetCatalogueLinks>::new();
    let links = Resource::new(move || save.version().get(), move |_| object_catalogue(object.key().to_string(), id));
    let editable = editable && object != Taggable::Vm && may(Action::Read);
    let with_os = object != Taggable::Environment;
    let options = Resource::new(
        || (),
        move |_| async move {
            if !editable {
                return Ok((Vec::new(), Vec::new()));
            }
            let max = Some(domain::page::MAX_PER_PAGE);
            let systems = if with_os {
                list_catalogue(CatalogueKind::OperatingSystem.key().into(), None, None, max).await?.items
            } else {
                Vec::new()
            };
            let apps = list_catalogue(CatalogueKind::Application.key().into(), None, None, max).await?.items;
            Ok::<_, ApiError>((systems, apps))
        },
    );
    view! {
        <section class="mt-6 max-w-3xl rounded-lg bg-white p-6 shadow-sm" data-testid="catalogue-section">
            <h2 class="mb-3 text-lg font-semibold">{t(Msg::Catalogue)}</h2>
            {(object == Taggable::Vm).then(|| view! { <p class="mb-2 text-xs text-slate-500">{t(Msg::CatalogueFromTemplate)}</p> })}
            <ActionError value=save.value()/>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let links = match links.await {
                        Ok(links) => links,
                        Err(e) => return error_view(&e),
                    };
                    if !editable {
                        return view! { <LinksView links=links with_os=with_os/> }.into_any();
                    }
                    let (systems, apps) = match options.await {
                        Ok(options) => options,
                        Err(e) => return error_view(&e),
                    };
                    let current_os = links.operating_system.as_ref().map(|o| o.id);
                    view! {
                        <ActionForm action=save>
                            <input type="hidden" name="object" value=object.key()/>
                            <input type="hidden" name="id" value=id/>
                            {with_os.then(|| view! {
                                <div class="mb-4">
                                    <label for="field-operating_system_id" class=LABEL>{t(Msg::OperatingSystem)}</label>
                                    <select id="field-operating_system_id" name="operating_system_id" class=INPUT_CLASS>
                                        <option value="">"—"</option>
                                        {systems.into_iter().map(|os| view! {
                                            <option value=os.id selected=Some(os.id) == current_os>{os.name.clone()}</option>
                                        }).collect_view()}
                                    </select>
                                </div>
                            })}
                            <fieldset class="mb-4">
                                <legend class=LABEL>{t(Msg::CatalogueApplications)}</legend>
                                {apps.is_empty().then(|| view! { <p class="text-sm text-slate-500">{t(Msg::CatalogueNoApplications)}</p> })}
                                {apps.into_iter().map(|app| {
                                    let checked = links.applications.iter().any(|a| a.id == app.id);
                                    let field = format!("app-{}", app.id);
                                    view! {
                                        <div class="mt-1 flex items-center gap-2 text-sm">
                                            <input type="checkbox" id=field.clone() name="application_ids[]" value=app.id checked=checked/>
                                            <label for=field>{app.name.clone()}</label>
                                        </div>
                                    }
                                }).collect_view()}
                            </fieldset>
                            <button type="submit" class=BUTTON_CLASS>{t(Msg::Save)}</button>
                        </ActionForm>
                    }.into_any()
                })}
            </Suspense>
        </section>
    }
}
