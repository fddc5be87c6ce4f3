//! `/admin/guacamole`: the Apache Guacamole connection in use (saved here, or
//! from `GUACAMOLE_*` until something is saved) as a form whose secrets are
//! write-only (an empty field keeps the stored one), and "Test connection", a
//! GET (`?test=1`) that signs in with the admin account of the connection in
//! use and lists the data source: it changes nothing and works without
//! JavaScript.
//!
//! Also the connection templates block of the template and VM pages, and the
//! VM's Guacamole connections.

use domain::ObjectType;
use domain::classroom::{ConnectionBinding, ConnectionTemplateView, Protocol, RdpSecurity, VmConnectionView};
use domain::guacamole::{GuacamoleProblem, GuacamoleSource, GuacamoleView, SsoMethod};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

use crate::api::guacamole::*;
use crate::components::forms::{
    ActionError, BUTTON_CLASS, DANGER_BUTTON_CLASS, Field, INPUT_CLASS, SECONDARY_BUTTON_CLASS, Submit,
};
use crate::components::layout::WithShell;
use crate::components::{EmptyState, PageHeader, error_view, t, use_lang};
use crate::i18n::Msg;

const SECTION_CLASS: &str = "mb-6 max-w-4xl rounded-lg bg-white p-6 shadow-sm";
const LABEL: &str = "block text-sm font-medium text-slate-700";
const WARNING_CLASS: &str = "mb-4 rounded border border-amber-300 bg-amber-50 px-4 py-3 text-sm text-amber-900";

#[component]
pub fn GuacamoleSettingsPage() -> impl IntoView {
    let query = use_query_map();
    let save = ServerAction::<SaveGuacamole>::new();
    let settings = Resource::new(move || save.version().get(), |_| guacamole_settings());
    let test = Resource::new(
        move || query.with(|q| q.get("test").is_some()),
        |wanted| async move { if wanted { Some(test_guacamole().await) } else { None } },
    );
    let pending = Memo::new(move |_| save.pending().get());
    view! {
        <WithShell readers_of=ObjectType::Setting>
            <Title text=t(Msg::GuacTitle)/>
            <PageHeader title=t(Msg::GuacTitle).to_string()>
                <a href="/admin/settings" class=SECONDARY_BUTTON_CLASS>{t(Msg::Settings)}</a>
            </PageHeader>
            <ActionError value=save.value()/>
            <Suspense fallback=|| view! { <p>{t(Msg::Loading)}</p> }>
                {move || Suspend::new(async move {
                    match settings.await {
                        Ok(view) => view! { <GuacamoleForm connection=view action=save pending=pending/> }.into_any(),
                        Err(e) => error_view(&e),
                    }
                })}
            </Suspense>
            <section class=SECTION_CLASS aria-labelledby="guacamole-test-heading">
                <h2 id="guacamole-test-heading" class="mb-3 text-lg font-semibold">{t(Msg::TestConnection)}</h2>
                <Form method="GET" action="">
                    <input type="hidden" name="test" value="1"/>
                    <button type="submit" class=BUTTON_CLASS>{t(Msg::TestConnection)}</button>
                </Form>
                <Suspense fallback=|| view! { <p class="mt-3">{t(Msg::Loading)}</p> }>
                    {move || Suspend::new(async move {
                        match test.await {
                            None => ().into_any(),
                            Some(Ok(data_source)) => view! {
                                <p role="status" data-testid="guacamole-result"
                                    class="mt-3 rounded border border-emerald-300 bg-emerald-50 px-4 py-3 text-sm text-emerald-800">
                                    {t(Msg::GuacTestOk).replace("{name}", &data_source)}
                                </p>
                            }.into_any(),
                            Some(Err(e)) => view! { <div class="mt-3" data-testid="guacamole-result">{error_view(&e)}</div> }.into_any(),
                        }
                    })}
                </Suspense>
            </section>
        </WithShell>
    }
}

fn problem_text(problem: &GuacamoleProblem, lang: domain::Language) -> String {
    match problem {
        GuacamoleProblem::SecretKeyMissing => Msg::GuacProblemKeyMissing.text(lang).into(),
        GuacamoleProblem::SecretUnreadable => Msg::GuacProblemUnreadable.text(lang).into(),
        GuacamoleProblem::Setup { message } => Msg::GuacProblemSetup.text(lang).replace("{message}", message),
    }
}

/// A write-only secret: never filled in, the hint says whether one is stored.
#[component]
fn SecretField(label: Msg, name: &'static str, set: bool, hint: Option<Msg>, maxlength: usize) -> impl IntoView {
    let id = format!("field-{name}");
    let hint_id = format!("hint-{name}");
    let state = if set { t(Msg::SecretSetHint) } else { t(Msg::SecretNotSetHint) };
    view! {
        <div class="mb-4">
            <label for=id.clone() class=LABEL>{t(label)}</label>
            <input id=id name=name type="password" value="" autocomplete="new-password"
                placeholder=if set { "•••" } else { "" } maxlength=maxlength.to_string()
                aria-describedby=hint_id.clone() class=INPUT_CLASS/>
            <p id=hint_id class="mt-1 text-xs text-slate-500" data-testid=format!("{name}-state")>
                {hint.map(|h| format!("{} ", t(h)))}{state}
            </p>
        </div>
    }
}

#[component]
fn GuacamoleForm(connection: GuacamoleView, action: ServerAction<SaveGuacamole>, pending: Memo<bool>) -> impl IntoView {
    let lang = use_lang();
    let source = match connection.source {
        Some(GuacamoleSource::Saved) => Msg::GuacSourceSaved
            .text(lang)
            .replace("{at}", &connection.updated_at.map(crate::components::local_time).unwrap_or_default())
            .replace("{by}", connection.updated_by.as_deref().unwrap_or("?")),
        Some(GuacamoleSource::Environment) => Msg::GuacSourceEnvironment.text(lang).to_string(),
        None => Msg::GuacSourceNone.text(lang).to_string(),
    };
    let current = connection.sso_method;
    let sso_text = |method: SsoMethod| match method {
        SsoMethod::EncryptedJson => t(Msg::GuacSsoJson),
        SsoMethod::None => t(Msg::GuacSsoNone),
    };
    view! {
        <section class=SECTION_CLASS data-testid="guacamole">
            <p class="mb-4 text-sm text-slate-700" data-testid="guacamole-source">{source}</p>
            {connection.problem.as_ref().map(|p| view! { <p role="alert" class=WARNING_CLASS>{problem_text(p, lang)}</p> })}
            {(!connection.can_save).then(|| view! { <p role="alert" class=WARNING_CLASS>{t(Msg::GuacSecretKeyHint)}</p> })}
            <ActionForm action=action>
                <Field label=t(Msg::GuacUrl) name="guacamole_url" value=connection.url.clone() required=true
                    hint=t(Msg::GuacUrlHint) maxlength=domain::guacamole::URL_MAX/>
                <Field label=t(Msg::GuacAdminUsername) name="admin_username" value=connection.admin_username.clone()
                    required=true hint=t(Msg::GuacAdminUsernameHint) autocomplete="off" maxlength=domain::guacamole::USERNAME_MAX/>
                <SecretField label=Msg::GuacAdminPassword name="admin_password" set=connection.password_set hint=None
                    maxlength=domain::guacamole::PASSWORD_MAX/>
                <Field label=t(Msg::GuacDataSource) name="data_source" value=connection.data_source.clone()
                    hint=t(Msg::GuacDataSourceHint) maxlength=domain::guacamole::DATA_SOURCE_MAX/>
                <div class="mb-4">
                    <label for="field-sso_method" class=LABEL>{t(Msg::GuacSsoMethod)}</label>
                    <select id="field-sso_method" name="sso_method" aria-describedby="hint-sso_method" class=INPUT_CLASS>
                        {SsoMethod::ALL.into_iter().map(|m| view! {
                            <option value=m.key() selected=m == current>{sso_text(m)}</option>
                        }).collect_view()}
                    </select>
                    <p id="hint-sso_method" class="mt-1 text-xs text-slate-500">{t(Msg::GuacSsoHint)}</p>
                </div>
                <SecretField label=Msg::GuacJsonSecret name="json_secret_key" set=connection.json_secret_set
                    hint=Some(Msg::GuacJsonSecretHint) maxlength=32/>
                <Submit label=t(Msg::Save) pending=pending/>
            </ActionForm>
        </section>
    }
}

/// The connection templates of a VM template or of one VM: the list with a
/// delete form each (confirmed by a checkbox) and, for those who may change
/// them, the create form. There is no edit: delete and create anew.
#[component]
pub fn ConnectionTemplates(binding: ConnectionBinding, editable: bool) -> impl IntoView {
    let create = ServerAction::<CreateConnectionTemplate>::new();
    let delete = ServerAction::<DeleteConnectionTemplate>::new();
    let (template_id, vm_id) = match binding {
        ConnectionBinding::Template(id) => (Some(id), None),
        ConnectionBinding::Vm(id) => (None, Some(id)),
    };
    let list = Resource::new(
        move || (create.version().get(), delete.version().get()),
        move |_| list_connection_templates(template_id, vm_id),
    );
    let pending = Memo::new(move |_| create.pending().get());
    let hint = match binding {
        ConnectionBinding::Template(_) => Msg::ConnTemplatesHint,
        ConnectionBinding::Vm(_) => Msg::ConnTemplatesVmHint,
    };
    let (bound_field, bound_id) = match binding {
        ConnectionBinding::Template(id) => ("template_id", id),
        ConnectionBinding::Vm(id) => ("vm_id", id),
    };
    view! {
        <section class=SECTION_CLASS aria-labelledby="connection-templates-heading" data-testid="connection-templates">
            <h2 id="connection-templates-heading" class="mb-2 text-lg font-semibold">{t(Msg::ConnTemplates)}</h2>
            <p class="mb-3 text-sm text-slate-600">{t(hint)}</p>
            <ActionError value=delete.value()/>
            <Suspense fallback=|| view! { <p>{t(Msg::Loading)}</p> }>
                {move || Suspend::new(async move {
                    match list.await {
                        Ok(items) if items.is_empty() => view! { <EmptyState message=t(Msg::NoConnTemplates)/> }.into_any(),
                        Ok(items) => view! {
                            <ul class="divide-y divide-slate-100">
                                {items.into_iter().map(|c| view! { <ConnectionTemplateRow item=c editable=editable delete=delete/> }).collect_view()}
                            </ul>
                        }.into_any(),
                        Err(e) => error_view(&e),
                    }
                })}
            </Suspense>
            {editable.then(|| view! {
                <h3 class="mt-4 mb-2 font-medium">{t(Msg::ConnAdd)}</h3>
                <ActionError value=create.value()/>
                <ActionForm action=create>
                    <input type="hidden" name=bound_field value=bound_id/>
                    <div class="grid gap-x-4 sm:grid-cols-2">
                        <div class="mb-4">
                            <label for="field-protocol" class=LABEL>{t(Msg::Protocol)}</label>
                            <select id="field-protocol" name="protocol" class=INPUT_CLASS>
                                {Protocol::ALL.into_iter().map(|p| view! {
                                    <option value=p.key() selected=p == Protocol::Ssh>{format!("{} ({})", p.label(), p.default_port())}</option>
                                }).collect_view()}
                            </select>
                        </div>
                        <Field label=t(Msg::Port) name="port" kind="number" value=String::new() hint=t(Msg::PortHint)/>
                        <Field label=t(Msg::ConnectionUsername) name="conn_username" value=String::new() maxlength=64 autocomplete="off"/>
                        <div class="mb-4">
                            <label for="field-conn_password" class=LABEL>{t(Msg::ConnectionPassword)}</label>
                            <input id="field-conn_password" name="conn_password" type="password" value="" autocomplete="new-password"
                                maxlength="256" class=INPUT_CLASS/>
                            <p class="mt-1 text-xs text-slate-500">{t(Msg::ConnPasswordHint)}</p>
                        </div>
                        <div class="mb-4">
                            <label for="field-rdp_security" class=LABEL>{t(Msg::RdpSecurityLabel)}</label>
                            <select id="field-rdp_security" name="rdp_security" class=INPUT_CLASS>
                                {RdpSecurity::ALL.into_iter().map(|s| view! { <option value=s.key()>{rdp_security_text(s)}</option> }).collect_view()}
                            </select>
                        </div>
                        <div class="mb-4 flex items-end">
                            <label class="flex items-center gap-2 text-sm font-medium text-slate-700">
                                <input type="checkbox" name="ignore_cert" value="on" checked=true/>
                                {t(Msg::IgnoreCert)}
                            </label>
                        </div>
                    </div>
                    <Submit label=t(Msg::Create) pending=pending/>
                </ActionForm>
            })}
        </section>
    }
}

fn rdp_security_text(security: RdpSecurity) -> &'static str {
    match security {
        RdpSecurity::Any => t(Msg::RdpSecurityAny),
        RdpSecurity::Nla => "NLA",
        RdpSecurity::Tls => "TLS",
        RdpSecurity::Rdp => "RDP",
    }
}

#[component]
fn ConnectionTemplateRow(
    item: ConnectionTemplateView,
    editable: bool,
    delete: ServerAction<DeleteConnectionTemplate>,
) -> impl IntoView {
    let rdp = (item.protocol == Protocol::Rdp).then(|| {
        let cert = if item.ignore_cert { format!(" · {}", t(Msg::IgnoreCertShort)) } else { String::new() };
        format!(" · {}{cert}", rdp_security_text(item.rdp_security))
    });
    let user = if item.username.is_empty() { "—".to_string() } else { item.username.clone() };
    let password = if item.password_set { t(Msg::ConnPasswordStored) } else { t(Msg::ConnNoPassword) };
    view! {
        <li class="flex flex-wrap items-center justify-between gap-3 py-2 text-sm" data-testid="connection-template">
            <span>
                <strong>{format!("{} :{}", item.protocol.label(), item.port)}</strong>
                {format!(" · {user} · {password}")}{rdp}
            </span>
            {editable.then(|| view! {
                <ActionForm action=delete attr:class="flex items-center gap-2">
                    <input type="hidden" name="id" value=item.id/>
                    <label class="flex items-center gap-1 text-xs text-slate-600">
                        <input type="checkbox" name="confirm" value="on" required=true/>
                        {t(Msg::ConfirmDeleteConn)}
                    </label>
                    <button type="submit" class=DANGER_BUTTON_CLASS>{t(Msg::Delete)}</button>
                </ActionForm>
            })}
        </li>
    }
}

/// The Guacamole connections deployment made for a VM, with the last failure.
#[component]
pub fn VmConnections(vm_id: i64) -> impl IntoView {
    let list = Resource::new(move || vm_id, vm_connections);
    view! {
        <Suspense fallback=|| view! { <p>{t(Msg::Loading)}</p> }>
            {move || Suspend::new(async move {
                match list.await {
                    Ok(items) if items.is_empty() => ().into_any(),
                    Ok(items) => view! {
                        <section class=SECTION_CLASS aria-labelledby="vm-connections-heading" data-testid="vm-connections">
                            <h2 id="vm-connections-heading" class="mb-2 text-lg font-semibold">{t(Msg::GuacConnections)}</h2>
                            <ul class="divide-y divide-slate-100 text-sm">
                                {items.into_iter().map(|c| view! { <VmConnectionRow item=c/> }).collect_view()}
                            </ul>
                        </section>
                    }.into_any(),
                    Err(e) => error_view(&e),
                }
            })}
        </Suspense>
    }
}

#[component]
fn VmConnectionRow(item: VmConnectionView) -> impl IntoView {
    let state = match (&item.remote_id, item.granted) {
        (None, _) => t(Msg::GuacPending),
        (Some(_), true) => t(Msg::GuacGranted),
        (Some(_), false) => t(Msg::GuacNotGranted),
    };
    view! {
        <li class="py-2">
            <span class="font-medium">{item.name}</span>
            {format!(" · {} · {state}", item.hostname.unwrap_or_else(|| "—".into()))}
            {item.last_error.map(|e| view! { <p class="text-red-700" data-testid="vm-connection-error">{e}</p> })}
        </li>
    }
}
