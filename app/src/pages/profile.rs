use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::profile::{ChangeOwnPassword, SetOwnTimeZone, UpdateOwnProfile, own_account, own_time_zone};
use crate::components::forms::{ActionError, Field, INPUT_CLASS, LanguageSelect, SECONDARY_BUTTON_CLASS, Submit};
use crate::components::layout::WithShell;
use crate::components::{PageHeader, t, use_lang};
use crate::i18n::{Msg, error_text};

#[component]
pub fn ProfilePage() -> impl IntoView {
    let update = ServerAction::<UpdateOwnProfile>::new();
    let password = ServerAction::<ChangeOwnPassword>::new();
    let zone = ServerAction::<SetOwnTimeZone>::new();
    let zones = Resource::new(move || zone.version().get(), |_| own_time_zone());
    let account = Resource::new(move || update.version().get(), |_| own_account());
    let update_pending = Memo::new(move |_| update.pending().get());
    let password_pending = Memo::new(move |_| password.pending().get());
    view! {
        <WithShell>
        <Title text=t(Msg::Profile)/>
        <PageHeader title=t(Msg::Profile).to_string()/>
        <div class="grid gap-6 md:grid-cols-2">
            <section class="rounded-lg bg-white p-6 shadow-sm">
                <Suspense fallback=|| view! { <p>{t(Msg::Loading)}</p> }>
                    {move || Suspend::new(async move {
                        match account.await {
                            Ok(user) => view! {
                                <p class="mb-4 text-sm text-slate-500">{t(Msg::Username)}": " <strong>{user.username.clone()}</strong></p>
                                <ActionError value=update.value()/>
                                <ActionForm action=update>
                                    <Field label=t(Msg::Name) name="name" value=user.name.clone() required=true maxlength=128 autocomplete="name"/>
                                    <Field label=t(Msg::Email) name="email" kind="email" value=user.email.clone() required=true maxlength=254 autocomplete="email"/>
                                    <LanguageSelect selected=user.language/>
                                    <Submit label=t(Msg::Save) pending=update_pending/>
                                </ActionForm>
                            }.into_any(),
                            Err(e) => view! { <p role="alert" class="text-red-700">{error_text(&e.0, use_lang())}</p> }.into_any(),
                        }
                    })}
                </Suspense>
            </section>
            <section class="rounded-lg bg-white p-6 shadow-sm">
                <h2 class="mb-4 text-lg font-semibold">{t(Msg::ChangePassword)}</h2>
                <ActionError value=password.value()/>
                <ActionForm action=password>
                    <Field label=t(Msg::CurrentPassword) name="current_password" kind="password" required=true autocomplete="current-password"/>
                    <Field label=t(Msg::NewPassword) name="new_password" kind="password" required=true autocomplete="new-password" hint=t(Msg::PasswordRules) maxlength=256/>
                    <Field label=t(Msg::ConfirmPassword) name="confirm_password" kind="password" required=true autocomplete="new-password" maxlength=256/>
                    <Submit label=t(Msg::ChangePassword) pending=password_pending/>
                </ActionForm>
            </section>
            <section class="rounded-lg bg-white p-6 shadow-sm" aria-labelledby="zone-heading">
                <h2 id="zone-heading" class="mb-4 text-lg font-semibold">{t(Msg::ZoneTitle)}</h2>
                <ActionError value=zone.value()/>
                <Suspense fallback=|| view! { <p>{t(Msg::Loading)}</p> }>
                    {move || Suspend::new(async move {
                        match zones.await {
                            Ok(choice) => view! {
                                <ActionForm action=zone>
                                    <label for="field-time_zone" class="block text-sm font-medium text-slate-700">{t(Msg::ZoneTitle)}</label>
                                    <select id="field-time_zone" name="time_zone" class=INPUT_CLASS data-effective=choice.effective.clone()>
                                        <option value="" selected=choice.own.is_empty()>
                                            {Msg::ZoneSiteDefault.text(use_lang()).replace("{zone}", &choice.site)}
                                        </option>
                                        {choice.available.into_iter().map(|name| {
                                            let selected = name == choice.own;
                                            view! { <option value=name.clone() selected=selected>{name.clone()}</option> }
                                        }).collect_view()}
                                    </select>
                                    <button type="submit" class=format!("mt-3 {SECONDARY_BUTTON_CLASS}")>{t(Msg::Save)}</button>
                                </ActionForm>
                            }.into_any(),
                            Err(e) => view! { <p role="alert" class="text-red-700">{error_text(&e.0, use_lang())}</p> }.into_any(),
                        }
                    })}
                </Suspense>
            </section>
        </div>
        </WithShell>
    }
}
