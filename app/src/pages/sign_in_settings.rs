//! `/admin/sign-in`: how people sign in — local accounts, the directory (LDAP) and single
//! sign-on (OpenID Connect) — with the effective configuration, the role rules, and
//! "Test" actions. Tests are GETs (`?ldap_user=name`, `?oidc_test=1`): they change
//! nothing, work without JavaScript, and their result survives a reload.

use domain::ObjectType;
use domain::sign_in::{DirectoryCheck, MethodOverview, ProviderCheck, SignInOverview};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

use crate::api::sign_in_settings::*;
use crate::components::forms::{BUTTON_CLASS, INPUT_CLASS, SECONDARY_BUTTON_CLASS};
use crate::components::layout::WithShell;
use crate::components::{PageHeader, error_view, t};
use crate::error::ApiError;
use crate::i18n::Msg;

const SECTION_CLASS: &str = "mb-6 max-w-4xl rounded-lg bg-white p-6 shadow-sm";

#[component]
pub fn SignInSettingsPage() -> impl IntoView {
    let query = use_query_map();
    let overview = Resource::new(|| (), |_| sign_in_methods());
    let ldap_user = move || query.with(|q| q.get("ldap_user")).filter(|u| !u.trim().is_empty());
    let ldap_test = Resource::new(ldap_user, |user| async move {
        match user {
            Some(user) => Some(test_directory(user).await),
            None => None,
        }
    });
    let oidc_test = Resource::new(
        move || query.with(|q| q.get("oidc_test").is_some()),
        |wanted| async move { if wanted { Some(test_identity_provider().await) } else { None } },
    );
    view! {
        <WithShell readers_of=ObjectType::Setting>
            <Title text=t(Msg::SignInMethods)/>
            <PageHeader title=t(Msg::SignInMethods).to_string()>
                <a href="/admin/settings" class=SECONDARY_BUTTON_CLASS>{t(Msg::Settings)}</a>
            </PageHeader>
            <p class="mb-6 max-w-4xl text-sm text-slate-600">{t(Msg::SignInMethodsIntro)}</p>
            <Suspense fallback=|| view! { <p>{t(Msg::Loading)}</p> }>
                {move || Suspend::new(async move {
                    match overview.await {
                        Ok(overview) => view! {
                            <Overview overview=overview ldap_user=ldap_user().unwrap_or_default()
                                ldap_test=ldap_test oidc_test=oidc_test/>
                        }.into_any(),
                        Err(e) => error_view(&e),
                    }
                })}
            </Suspense>
        </WithShell>
    }
}

type TestResource<T> = Resource<Option<Result<T, ApiError>>>;

#[component]
fn Overview(
    overview: SignInOverview,
    ldap_user: String,
    ldap_test: TestResource<DirectoryCheck>,
    oidc_test: TestResource<ProviderCheck>,
) -> impl IntoView {
    view! {
        <section class=SECTION_CLASS aria-labelledby="local-heading">
            <h2 id="local-heading" class="mb-2 text-lg font-semibold">{t(Msg::LocalAccounts)}</h2>
            <p class="text-sm">
                {if overview.local_login_non_admins { t(Msg::LocalLoginOn) } else { t(Msg::LocalLoginOff) }} " "
                <a href="/admin/settings#setting-auth-local_login_non_admins" class="text-indigo-700 underline">{t(Msg::ChangeInSettings)}</a>
            </p>
        </section>
        <section class=SECTION_CLASS aria-labelledby="ldap-heading" data-testid="ldap">
            <h2 id="ldap-heading" class="mb-3 text-lg font-semibold">{t(Msg::DirectoryLdap)}</h2>
            {match overview.directory {
                None => view! { <NotConfigured how_to=Msg::LdapHowTo/> }.into_any(),
                Some(method) => view! {
                    <MethodDetails method=method/>
                    <h3 class="mt-4 mb-1 font-medium">{t(Msg::TestLookup)}</h3>
                    <p class="mb-2 text-sm text-slate-600">{t(Msg::TestLookupHint)}</p>
                    <Form method="GET" action="" attr:class="flex flex-wrap items-end gap-2">
                        <div>
                            <label for="ldap-user" class="block text-sm font-medium">{t(Msg::Username)}</label>
                            <input id="ldap-user" name="ldap_user" required value=ldap_user class=INPUT_CLASS autocomplete="off"/>
                        </div>
                        <button type="submit" class=BUTTON_CLASS>{t(Msg::Test)}</button>
                    </Form>
                    <Suspense fallback=|| view! { <p class="mt-3">{t(Msg::Loading)}</p> }>
                        {move || Suspend::new(async move {
                            match ldap_test.await {
                                None => ().into_any(),
                                Some(Ok(check)) => view! { <DirectoryResult check=check/> }.into_any(),
                                Some(Err(e)) => view! { <div class="mt-3" data-testid="ldap-result">{error_view(&e)}</div> }.into_any(),
                            }
                        })}
                    </Suspense>
                }.into_any(),
            }}
        </section>
        <section class=SECTION_CLASS aria-labelledby="oidc-heading" data-testid="oidc">
            <h2 id="oidc-heading" class="mb-3 text-lg font-semibold">{t(Msg::SingleSignOn)}</h2>
            {match overview.provider {
                None => view! { <NotConfigured how_to=Msg::OidcHowTo/> }.into_any(),
                Some(method) => view! {
                    <MethodDetails method=method/>
                    <Form method="GET" action="" attr:class="mt-4">
                        <input type="hidden" name="oidc_test" value="1"/>
                        <button type="submit" class=BUTTON_CLASS>{t(Msg::TestProvider)}</button>
                    </Form>
                    <Suspense fallback=|| view! { <p class="mt-3">{t(Msg::Loading)}</p> }>
                        {move || Suspend::new(async move {
                            match oidc_test.await {
                                None => ().into_any(),
                                Some(Ok(check)) => view! { <ProviderResult check=check/> }.into_any(),
                                Some(Err(e)) => view! { <div class="mt-3" data-testid="oidc-result">{error_view(&e)}</div> }.into_any(),
                            }
                        })}
                    </Suspense>
                }.into_any(),
            }}
        </section>
    }
}

#[component]
fn NotConfigured(how_to: Msg) -> impl IntoView {
    view! {
        <p class="text-sm font-medium">{t(Msg::NotConfigured)}</p>
        <p class="text-sm text-slate-600">{t(how_to)}</p>
    }
}

#[component]
fn MethodDetails(method: MethodOverview) -> impl IntoView {
    view! {
        <table class="w-full text-left text-sm">
            <thead>
                <tr class="border-b border-slate-200 text-slate-600">
                    <th scope="col" class="py-1 pr-4 font-medium">{t(Msg::Variable)}</th>
                    <th scope="col" class="py-1 font-medium">{t(Msg::Value)}</th>
                </tr>
            </thead>
            <tbody>
                {method.settings.into_iter().map(|entry| view! {
                    <tr class="border-b border-slate-100 align-top">
                        <td class="py-1 pr-4 font-mono text-xs">{entry.variable}</td>
                        <td class="py-1 font-mono text-xs break-all">{entry.value}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
        <h3 class="mt-4 mb-1 font-medium">{t(Msg::RoleRules)}</h3>
        <ol class="list-decimal pl-6 font-mono text-xs" data-testid="role-rules">
            {method.role_rules.into_iter().map(|rule| view! { <li>{rule}</li> }).collect_view()}
        </ol>
    }
}

/// A label and its value in a result list.
#[component]
fn Fact(label: &'static str, children: Children) -> impl IntoView {
    view! {
        <div class="flex gap-3">
            <dt class="w-48 shrink-0 text-slate-600">{label}</dt>
            <dd class="break-all">{children()}</dd>
        </div>
    }
}

#[component]
fn DirectoryResult(check: DirectoryCheck) -> impl IntoView {
    let Some(entry) = check.found else {
        return view! {
            <p role="status" class="mt-3 rounded border border-amber-300 bg-amber-50 px-4 py-3 text-sm text-amber-900" data-testid="ldap-result">
                {t(Msg::NoDirectoryEntry).replace("{username}", &check.username)}
            </p>
        }
        .into_any();
    };
    view! {
        <dl class="mt-3 space-y-1 rounded border border-slate-200 p-4 text-sm" data-testid="ldap-result">
            <Fact label=t(Msg::Username)>{check.username}</Fact>
            <Fact label=t(Msg::Name)>{entry.name.unwrap_or_default()}</Fact>
            <Fact label=t(Msg::Email)>{entry.email.unwrap_or_default()}</Fact>
            <Fact label=t(Msg::Groups)>
                <ul>{entry.groups.into_iter().map(|g| view! { <li class="font-mono text-xs">{g}</li> }).collect_view()}</ul>
            </Fact>
            <Fact label=t(Msg::MappedRole)><strong data-testid="ldap-role">{entry.role_key}</strong></Fact>
            {entry.disabled.then(|| view! {
                <p class="font-medium text-red-700">{t(Msg::AccountDisabledInDirectory)}</p>
            })}
        </dl>
    }
    .into_any()
}

#[component]
fn ProviderResult(check: ProviderCheck) -> impl IntoView {
    view! {
        <div class="mt-3" data-testid="oidc-result">
            <p role="status" class="mb-3 rounded border border-emerald-300 bg-emerald-50 px-4 py-3 text-sm text-emerald-800">
                {t(Msg::ProviderOk)}
            </p>
            <dl class="space-y-1 text-sm">
                <Fact label=t(Msg::Issuer)>{check.issuer}</Fact>
                <Fact label=t(Msg::Endpoints)>
                    <ul class="font-mono text-xs">
                        <li>{check.authorization_endpoint}</li>
                        <li>{check.token_endpoint}</li>
                        {check.end_session_endpoint.map(|e| view! { <li>{e}</li> })}
                    </ul>
                </Fact>
                <Fact label=t(Msg::SigningKeys)>
                    <span class="font-mono text-xs">{check.signing_key_ids.join(", ")}</span>
                </Fact>
            </dl>
            {(!check.warnings.is_empty()).then(|| view! {
                <h3 class="mt-3 font-medium text-amber-900">{t(Msg::Warnings)}</h3>
                <ul class="list-disc pl-6 text-sm text-amber-900">
                    {check.warnings.into_iter().map(|w| view! { <li>{w}</li> }).collect_view()}
                </ul>
            })}
        </div>
    }
}
