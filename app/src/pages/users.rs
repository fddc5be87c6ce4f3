//! User administration pages.

use domain::ObjectType;
use domain::UserStatus;
use domain::user::{RoleView, UserView};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

use crate::api::activities::ActivityQuery;
use crate::api::users::*;
use crate::components::forms::{
    ActionError, BUTTON_CLASS, DANGER_BUTTON_CLASS, Field, INPUT_CLASS, LINK_CLASS, LanguageSelect,
    SECONDARY_BUTTON_CLASS, Submit,
};
use crate::components::layout::WithShell;
use crate::components::pager::Pager;
use crate::components::{EmptyState, PageHeader, t, use_lang};
use crate::i18n::{Msg, error_text, status_text};
use crate::pages::activities::{ActivityTimeline, timeline};
use crate::pages::route_id;

#[component]
pub fn UsersPage() -> impl IntoView {
    let query = use_query_map();
    let users = Resource::new(
        move || {
            query.with(|q| (q.get("q"), q.get("status"), q.get("role"), q.get("page").and_then(|p| p.parse().ok())))
        },
        |(q, status, role, page)| list_users(q, status, role, page),
    );
    let current = move |key: &str| query.with_untracked(|q| q.get(key)).unwrap_or_default();
    view! {
        <WithShell readers_of=ObjectType::User>
        <Title text=t(Msg::Users)/>
        <PageHeader title=t(Msg::Users).to_string()>
            <a href="/admin/users/new" class=BUTTON_CLASS>{t(Msg::NewUser)}</a>
        </PageHeader>
        <Form method="GET" action="" attr:class="mb-4 flex flex-wrap items-end gap-3" attr:role="search">
            <div class="grow">
                <label for="q" class="block text-sm font-medium text-slate-700">{t(Msg::Search)}</label>
                <input id="q" name="q" type="search" value=current("q") placeholder=t(Msg::SearchUsers) class=INPUT_CLASS/>
            </div>
            <div>
                <label for="status" class="block text-sm font-medium text-slate-700">{t(Msg::Status)}</label>
                <select id="status" name="status" class=INPUT_CLASS>
                    <option value="">{t(Msg::Any)}</option>
                    {UserStatus::ALL.into_iter().map(|s| view! {
                        <option value=s.key() selected=current("status") == s.key()>{status_text(s, use_lang())}</option>
                    }).collect_view()}
                </select>
            </div>
            <button type="submit" class=SECONDARY_BUTTON_CLASS>{t(Msg::Filter)}</button>
        </Form>
        <Suspense fallback=|| view! { <p>{t(Msg::Loading)}</p> }>
            {move || Suspend::new(async move {
                match users.await {
                    Ok(page) if page.items.is_empty() => view! { <EmptyState message=t(Msg::NoUsers)/> }.into_any(),
                    Ok(page) => {
                        let pages = page.page_count();
                        view! {
                            <UserTable users=page.items/>
                            <Pager page=page.page pages=pages total=page.total base="/admin/users"/>
                        }.into_any()
                    }
                    Err(e) => view! { <p role="alert" class="text-red-700">{error_text(&e.0, use_lang())}</p> }.into_any(),
                }
            })}
        </Suspense>
        </WithShell>
    }
}

#[component]
fn UserTable(users: Vec<UserView>) -> impl IntoView {
    let lang = use_lang();
    view! {
        <div class="overflow-x-auto rounded-lg bg-white shadow-sm">
            <table class="min-w-full divide-y divide-slate-200 text-sm">
                <thead class="bg-slate-100 text-left text-slate-600">
                    <tr>
                        <th scope="col" class="px-4 py-2">{t(Msg::Username)}</th>
                        <th scope="col" class="px-4 py-2">{t(Msg::Name)}</th>
                        <th scope="col" class="px-4 py-2">{t(Msg::Email)}</th>
                        <th scope="col" class="px-4 py-2">{t(Msg::Roles)}</th>
                        <th scope="col" class="px-4 py-2">{t(Msg::Status)}</th>
                        <th scope="col" class="px-4 py-2">{t(Msg::LastLogin)}</th>
                    </tr>
                </thead>
                <tbody class="divide-y divide-slate-100">
                    {users.into_iter().map(|u| view! {
                        <tr>
                            <td class="px-4 py-2"><a class=LINK_CLASS href=format!("/admin/users/{}", u.id)>{u.username.clone()}</a></td>
                            <td class="px-4 py-2">{u.name.clone()}</td>
                            <td class="px-4 py-2">{u.email.clone()}</td>
                            <td class="px-4 py-2">{u.roles.iter().map(|r| r.name.clone()).collect::<Vec<_>>().join(", ")}</td>
                            <td class="px-4 py-2">{status_text(u.status, lang)}</td>
                            <td class="px-4 py-2">{u.last_login_at.map(crate::components::local_time).unwrap_or_else(|| Msg::Never.text(lang).to_string())}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// Checkboxes for roles; `name="roles[]"` posts a list, also without JavaScript.
#[component]
fn RoleChoices(roles: Vec<RoleView>, selected: Vec<String>) -> impl IntoView {
    view! {
        <fieldset class="mb-4">
            <legend class="block text-sm font-medium text-slate-700">{t(Msg::Roles)}</legend>
            {roles.into_iter().map(|r| {
                let checked = selected.contains(&r.key);
                let id = format!("role-{}", r.key);
                view! {
                    <div class="mt-1 flex items-center gap-2">
                        <input type="checkbox" id=id.clone() name="roles[]" value=r.key.clone() checked=checked/>
                        <label for=id class="text-sm">{r.name.clone()}</label>
                    </div>
                }
            }).collect_view()}
        </fieldset>
    }
}

#[component]
pub fn NewUserPage() -> impl IntoView {
    let create = ServerAction::<CreateUser>::new();
    let pending = Memo::new(move |_| create.pending().get());
    let roles = Resource::new(|| (), |_| assignable_roles());
    view! {
        <WithShell>
        <Title text=t(Msg::NewUser)/>
        <PageHeader title=t(Msg::NewUser).to_string()/>
        <section class="max-w-xl rounded-lg bg-white p-6 shadow-sm">
            <ActionError value=create.value()/>
            <ActionForm action=create>
                <Field label=t(Msg::Username) name="username" required=true maxlength=64 autocomplete="off"/>
                <Field label=t(Msg::Name) name="name" required=true maxlength=128/>
                <Field label=t(Msg::Email) name="email" kind="email" required=true maxlength=254/>
                <LanguageSelect selected=use_lang()/>
                <Field label=t(Msg::Password) name="password" kind="password" hint=t(Msg::PasswordOptional) autocomplete="new-password" maxlength=256/>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        roles.await.map(|r| view! { <RoleChoices roles=r selected=vec!["participant".to_string()]/> }).ok()
                    })}
                </Suspense>
                <div class="flex gap-2">
                    <Submit label=t(Msg::Create) pending=pending/>
                    <a href="/admin/users" class=SECONDARY_BUTTON_CLASS>{t(Msg::Cancel)}</a>
                </div>
            </ActionForm>
        </section>
        </WithShell>
    }
}

#[component]
pub fn EditUserPage() -> impl IntoView {
    let id = route_id();
    let update = ServerAction::<UpdateUser>::new();
    let set_roles = ServerAction::<SetUserRoles>::new();
    let set_status = ServerAction::<SetUserStatus>::new();
    let set_password = ServerAction::<SetUserPassword>::new();
    let versions = move || (update.version().get(), set_roles.version().get(), set_status.version().get());
    // Every change on this page is an activity of the timeline below.
    let changes = move || {
        let (a, b, c) = versions();
        (a + b + c + set_password.version().get()) as u64
    };
    let user = Resource::new(
        move || (id.get(), versions()),
        |(id, _)| async move {
            match id {
                Some(id) => get_user(id).await,
                None => Err(domain::AppError::NotFound.into()),
            }
        },
    );
    let roles = Resource::new(|| (), |_| assignable_roles());
    // Only the changes the caller may make are offered (an instructor looking
    // at an administrator sees the account, not controls that would be refused).
    let controls = Resource::new(
        move || (id.get(), versions()),
        |(id, _)| async move {
            match id {
                Some(id) => controls_for_account(id).await,
                None => Err(domain::AppError::NotFound.into()),
            }
        },
    );
    // This person's timeline: what they did.
    let timeline = Resource::new(
        move || (id.get(), changes()),
        |(id, _)| async move {
            let Some(id) = id else { return Err(domain::AppError::NotFound.into()) };
            let user = get_user(id).await?;
            timeline(ActivityQuery { user: Some(user.username), ..ActivityQuery::default() }).await
        },
    );
    view! {
        <WithShell>
        <Suspense fallback=|| view! { <p>{t(Msg::Loading)}</p> }>
            {move || Suspend::new(async move {
                let user = match user.await {
                    Ok(user) => user,
                    Err(e) => return crate::components::page_error_view(&e),
                };
                let roles = roles.await.unwrap_or_default();
                let may = controls.await.unwrap_or_default();
                let manages = may.roles || may.status || may.password;
                let selected: Vec<String> = user.roles.iter().map(|r| r.key.clone()).collect();
                let role_names = user.roles.iter().map(|r| r.name.clone()).collect::<Vec<_>>().join(", ");
                let locked = user.status != UserStatus::Active;
                let update_pending = Memo::new(move |_| update.pending().get());
                let roles_pending = Memo::new(move |_| set_roles.pending().get());
                let password_pending = Memo::new(move |_| set_password.pending().get());
                view! {
                    <Title text=user.username.clone()/>
                    <PageHeader title=format!("{} ({})", user.name, user.username)>
                        {may.delete.then(|| view! {
                            <a href=format!("/admin/users/{}/delete", user.id) class=DANGER_BUTTON_CLASS>{t(Msg::Delete)}</a>
                        })}
                    </PageHeader>
                    <p class="mb-4 text-sm text-slate-600">
                        {t(Msg::Status)}": " <strong data-testid="user-status">{status_text(user.status, use_lang())}</strong>
                    </p>
                    {(!may.profile && !manages).then(|| view! {
                        <p class="mb-4 rounded border border-slate-200 bg-slate-50 px-4 py-3 text-sm text-slate-700" data-testid="account-read-only">
                            {t(Msg::AccountReadOnly)}
                        </p>
                    })}
                    <div class="grid gap-6 md:grid-cols-2">
                        <section class="rounded-lg bg-white p-6 shadow-sm">
                            {if may.profile {
                                view! {
                                    <ActionError value=update.value()/>
                                    <ActionForm action=update>
                                        <input type="hidden" name="id" value=user.id/>
                                        <Field label=t(Msg::Name) name="name" value=user.name.clone() required=true maxlength=128/>
                                        <Field label=t(Msg::Email) name="email" kind="email" value=user.email.clone() required=true maxlength=254/>
                                        <LanguageSelect selected=user.language/>
                                        <Submit label=t(Msg::Save) pending=update_pending/>
                                    </ActionForm>
                                }.into_any()
                            } else {
                                view! {
                                    <dl class="grid grid-cols-[auto_1fr] gap-x-4 gap-y-2 text-sm">
                                        <dt class="font-medium text-slate-700">{t(Msg::Name)}</dt><dd>{user.name.clone()}</dd>
                                        <dt class="font-medium text-slate-700">{t(Msg::Email)}</dt><dd>{user.email.clone()}</dd>
                                        <dt class="font-medium text-slate-700">{t(Msg::Roles)}</dt><dd data-testid="user-roles">{role_names.clone()}</dd>
                                    </dl>
                                }.into_any()
                            }}
                        </section>
                        {manages.then(|| view! {
                        <section class="rounded-lg bg-white p-6 shadow-sm space-y-6">
                            {if may.roles {
                                view! {
                                    <div>
                                        <ActionError value=set_roles.value()/>
                                        <ActionForm action=set_roles>
                                            <input type="hidden" name="id" value=user.id/>
                                            <RoleChoices roles=roles selected=selected/>
                                            <Submit label=t(Msg::Save) pending=roles_pending/>
                                        </ActionForm>
                                    </div>
                                }.into_any()
                            } else {
                                view! {
                                    <p class="text-sm"><span class="font-medium text-slate-700">{t(Msg::Roles)}": "</span>{role_names}</p>
                                }.into_any()
                            }}
                            {may.status.then(|| view! {
                                <div>
                                    <ActionError value=set_status.value()/>
                                    <ActionForm action=set_status>
                                        <input type="hidden" name="id" value=user.id/>
                                        <input type="hidden" name="status" value=if locked { "active" } else { "inactive" }/>
                                        <button type="submit" class=SECONDARY_BUTTON_CLASS>
                                            {if locked { t(Msg::Unlock) } else { t(Msg::Lock) }}
                                        </button>
                                    </ActionForm>
                                </div>
                            })}
                            {may.password.then(|| view! {
                                <div>
                                    <ActionError value=set_password.value()/>
                                    <ActionForm action=set_password>
                                        <input type="hidden" name="id" value=user.id/>
                                        <Field label=t(Msg::NewPassword) name="password" kind="password" required=true hint=t(Msg::PasswordRules) autocomplete="new-password" maxlength=256/>
                                        <Submit label=t(Msg::SetPassword) pending=password_pending/>
                                    </ActionForm>
                                </div>
                            })}
                        </section>
                        })}
                    </div>
                    <ActivityTimeline recent=timeline/>
                }.into_any()
            })}
        </Suspense>
        </WithShell>
    }
}

/// A page of its own, so deleting asks first with or without JavaScript.
#[component]
pub fn DeleteUserPage() -> impl IntoView {
    let id = route_id();
    let delete = ServerAction::<DeleteUser>::new();
    let user = Resource::new(
        move || id.get(),
        |id| async move {
            match id {
                Some(id) => {
                    let user = get_user(id).await?;
                    // The same rules as the deletion: one's own account, or one
                    // that may do more, is refused here rather than after "Yes, delete".
                    if !controls_for_account(id).await?.delete {
                        return Err(domain::AppError::Forbidden.into());
                    }
                    Ok(user)
                }
                None => Err(domain::AppError::NotFound.into()),
            }
        },
    );
    view! {
        <WithShell>
        <Suspense fallback=|| view! { <p>{t(Msg::Loading)}</p> }>
            {move || Suspend::new(async move {
                match user.await {
                    Ok(user) => view! {
                        <section class="max-w-xl rounded-lg border border-red-200 bg-white p-6 shadow-sm">
                            <h1 class="text-xl font-semibold">{Msg::DeleteUserTitle.text(use_lang()).replace("{name}", &user.username)}</h1>
                            <p class="mt-2 text-slate-600">{t(Msg::DeleteUserText)}</p>
                            <ActionError value=delete.value()/>
                            <ActionForm action=delete attr:class="mt-6 flex gap-2">
                                <input type="hidden" name="id" value=user.id/>
                                <button type="submit" class=DANGER_BUTTON_CLASS>{t(Msg::YesDelete)}</button>
                                <a href=format!("/admin/users/{}", user.id) class=SECONDARY_BUTTON_CLASS>{t(Msg::Cancel)}</a>
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
