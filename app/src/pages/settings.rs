//! Runtime settings, one small form per setting.

use domain::settings::{SettingType, SettingView, Visibility};
use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::settings::{UpdateSetting, list_settings};
use crate::components::forms::{ActionError, INPUT_CLASS, SECONDARY_BUTTON_CLASS};
use crate::components::layout::WithShell;
use crate::components::{PageHeader, t, use_lang};
use crate::i18n::{Msg, error_text};
use crate::pages::mail::MailServerSection;

#[component]
pub fn SettingsPage() -> impl IntoView {
    let update = ServerAction::<UpdateSetting>::new();
    let settings = Resource::new(move || update.version().get(), |_| list_settings());
    view! {
        <WithShell>
        <Title text=t(Msg::Settings)/>
        <PageHeader title=t(Msg::Settings).to_string()>
            <a href="/admin/sign-in" class=SECONDARY_BUTTON_CLASS>{t(Msg::SignInMethods)}</a>
            <a href="/admin/guacamole" class=SECONDARY_BUTTON_CLASS>{t(Msg::GuacTitle)}</a>
            <a href="/admin/proxmox" class=SECONDARY_BUTTON_CLASS>{t(Msg::ProxmoxConnection)}</a>
            <a href="/admin/health" class=SECONDARY_BUTTON_CLASS>{t(Msg::HealthTitle)}</a>
            <a href="/admin/dashboard" class=SECONDARY_BUTTON_CLASS>{t(Msg::DashManage)}</a>
        </PageHeader>
        <MailServerSection/>
        <ActionError value=update.value()/>
        <Suspense fallback=|| view! { <p>{t(Msg::Loading)}</p> }>
            {move || Suspend::new(async move {
                match settings.await {
                    Ok(list) => view! {
                        <div class="space-y-3">
                            {list.into_iter().map(|s| view! { <SettingRow setting=s action=update/> }).collect_view()}
                        </div>
                    }.into_any(),
                    Err(e) => view! { <p role="alert" class="text-red-700">{error_text(&e.0, use_lang())}</p> }.into_any(),
                }
            })}
        </Suspense>
        </WithShell>
    }
}

#[component]
fn SettingRow(setting: SettingView, action: ServerAction<UpdateSetting>) -> impl IntoView {
    let id = format!("setting-{}", setting.key.replace('.', "-"));
    let read_only = setting.visibility == Visibility::Internal;
    let input = match setting.setting_type {
        SettingType::Boolean => view! {
            <select id=id.clone() name="value" class=INPUT_CLASS disabled=read_only>
                <option value="true" selected=setting.value == "true">"true"</option>
                <option value="false" selected=setting.value == "false">"false"</option>
            </select>
        }
        .into_any(),
        SettingType::Json => view! {
            <textarea id=id.clone() name="value" rows="3" class=format!("{INPUT_CLASS} font-mono") disabled=read_only>
                {setting.value.clone()}
            </textarea>
        }
        .into_any(),
        SettingType::Integer | SettingType::Float | SettingType::String => view! {
            <input id=id.clone() name="value" type="text" value=setting.value.clone() class=INPUT_CLASS disabled=read_only
                inputmode=if setting.setting_type == SettingType::String { "text" } else { "decimal" }/>
        }
        .into_any(),
    };
    view! {
        <ActionForm action=action attr:class="rounded-lg bg-white p-4 shadow-sm">
            <input type="hidden" name="key" value=setting.key.clone()/>
            <div class="flex flex-wrap items-end gap-4">
                <div class="min-w-64 grow">
                    <label for=id class="block font-mono text-sm font-medium text-slate-800">{setting.key.clone()}</label>
                    <p class="text-xs text-slate-500">
                        {setting.description.clone()} " · " {setting.setting_type.key()} " · " {setting.visibility.key()}
                    </p>
                    {input}
                </div>
                {if read_only {
                    view! { <span class="text-xs text-slate-500">{t(Msg::ReadOnly)}</span> }.into_any()
                } else {
                    view! { <button type="submit" class=SECONDARY_BUTTON_CLASS>{t(Msg::Save)}</button> }.into_any()
                }}
            </div>
        </ActionForm>
    }
}
