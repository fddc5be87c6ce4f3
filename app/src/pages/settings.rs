//! Runtime settings, one small form per setting.

use domain::ObjectType;
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
    // The setting saved last: its error shows in its own row, where the
    // value is, not above a long list. (Without JavaScript the page does
    // not know it, and the error stays on top.)
    let last_saved = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        if let Some(input) = update.input().get() {
            last_saved.set(Some(input.key));
        }
    });
    view! {
        <WithShell readers_of=ObjectType::Setting>
        <Title text=t(Msg::Settings)/>
        <PageHeader title=t(Msg::Settings).to_string()>
            <a href="/admin/sign-in" class=SECONDARY_BUTTON_CLASS>{t(Msg::SignInMethods)}</a>
            <a href="/admin/guacamole" class=SECONDARY_BUTTON_CLASS>{t(Msg::GuacTitle)}</a>
            <a href="/admin/proxmox" class=SECONDARY_BUTTON_CLASS>{t(Msg::ProxmoxConnection)}</a>
            <a href="/admin/health" class=SECONDARY_BUTTON_CLASS>{t(Msg::HealthTitle)}</a>
            <a href="/admin/dashboard" class=SECONDARY_BUTTON_CLASS>{t(Msg::DashManage)}</a>
        </PageHeader>
        <MailServerSection/>
        {move || last_saved.with(Option::is_none).then(|| view! { <ActionError value=update.value()/> })}
        <Suspense fallback=|| view! { <p>{t(Msg::Loading)}</p> }>
            {move || Suspend::new(async move {
                match settings.await {
                    Ok(list) => view! {
                        <div class="space-y-3">
                            {list.into_iter().map(|s| view! { <SettingRow setting=s action=update last_saved=last_saved/> }).collect_view()}
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
fn SettingRow(
    setting: SettingView,
    action: ServerAction<UpdateSetting>,
    last_saved: RwSignal<Option<String>>,
) -> impl IntoView {
    let id = format!("setting-{}", setting.key.replace('.', "-"));
    let key = setting.key.clone();
    let saved_last = move || last_saved.with(|k| k.as_deref() == Some(key.as_str()));
    // What the setting is for leads; its key (as in the docs and the
    // environment) stays beside it for those who look it up.
    // Known settings in the visitor's language; others as stored.
    let label = match crate::i18n::setting_text(&setting.key, use_lang()) {
        Some(text) => text.to_string(),
        None if setting.description.is_empty() => setting.key.clone(),
        None => setting.description.clone(),
    };
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
            {move || saved_last().then(|| view! { <ActionError value=action.value()/> })}
            <div class="flex flex-wrap items-end gap-4">
                <div class="min-w-64 grow">
                    <label for=id class="block text-sm font-medium text-slate-800">{label}</label>
                    <p class="text-xs text-slate-500">
                        <span class="font-mono">{setting.key.clone()}</span> " · " {setting.setting_type.key()} " · " {setting.visibility.key()}
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
