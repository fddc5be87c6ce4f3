//! Form helpers. Forms are `ActionForm`s: real `<form method=post>` elements
//! that work without JavaScript and are submitted in place with it.

use leptos::prelude::*;

use crate::components::layout::FlashOutdated;
use crate::components::{t, use_lang};
use crate::error::ApiError;
use crate::i18n::{Msg, error_text};

pub const INPUT_CLASS: &str = "mt-1 block w-full rounded border border-slate-300 px-3 py-2 text-sm shadow-sm \
     focus:border-indigo-500 focus:outline-none focus:ring-2 focus:ring-indigo-200";
pub const BUTTON_CLASS: &str = "inline-flex items-center rounded bg-indigo-600 px-4 py-2 text-sm font-medium \
     text-white hover:bg-indigo-700 focus:outline-none focus:ring-2 focus:ring-indigo-300 disabled:opacity-50";
pub const SECONDARY_BUTTON_CLASS: &str = "inline-flex items-center rounded border border-slate-300 bg-white px-4 py-2 \
     text-sm font-medium text-slate-700 hover:bg-slate-50 focus:outline-none focus:ring-2 focus:ring-indigo-200";
pub const DANGER_BUTTON_CLASS: &str = "inline-flex items-center rounded bg-red-600 px-4 py-2 text-sm font-medium \
     text-white hover:bg-red-700 focus:outline-none focus:ring-2 focus:ring-red-300";
pub const LINK_CLASS: &str = "text-indigo-700 underline hover:text-indigo-900";

/// Shows the last error of an action, in the visitor's language. Without
/// JavaScript the error arrives through the redirect and lands here too.
#[component]
pub fn ActionError<T>(#[prop(into)] value: Signal<Option<Result<T, ApiError>>>) -> impl IntoView
where
    T: Send + Sync + Clone + 'static,
{
    let lang = use_lang();
    if let Some(FlashOutdated(outdated)) = use_context::<FlashOutdated>() {
        // The latest outcome decides; a form not used yet (None) leaves it.
        // A success seen at creation is not news: pages re-create their
        // forms when they reload, and the flash may have become outdated since.
        Effect::new(move |seen_before: Option<()>| {
            value.with(|v| {
                if let Some(result) = v
                    && (seen_before.is_some() || result.is_err())
                {
                    outdated.set(result.is_err())
                }
            })
        });
    }
    move || {
        value.with(|v| match v {
            Some(Err(ApiError(e))) => Some(view! {
                <div role="alert" class="mb-4 rounded border border-red-300 bg-red-50 px-4 py-3 text-sm text-red-800">
                    {error_text(e, lang)}
                </div>
            }),
            _ => None,
        })
    }
}

/// A labelled input, `field-{name}` by id; `form` tells it apart from a
/// field of the same name in another form on the page (`field-{form}-{name}`).
#[component]
pub fn Field(
    label: &'static str,
    name: &'static str,
    #[prop(optional)] form: Option<&'static str>,
    #[prop(default = "text")] kind: &'static str,
    #[prop(optional, into)] value: String,
    #[prop(optional)] required: bool,
    #[prop(optional)] hint: Option<&'static str>,
    #[prop(optional)] autocomplete: Option<&'static str>,
    #[prop(default = 0)] maxlength: usize,
) -> impl IntoView {
    let id = match form {
        Some(form) => format!("field-{form}-{name}"),
        None => format!("field-{name}"),
    };
    let maxlength = (maxlength > 0).then(|| maxlength.to_string());
    view! {
        <div class="mb-4">
            <label for=id.clone() class="block text-sm font-medium text-slate-700">{label}</label>
            <input
                id=id
                name=name
                type=kind
                value=value
                required=required
                autocomplete=autocomplete
                maxlength=maxlength
                class=INPUT_CLASS
            />
            {hint.map(|h| view! { <p class="mt-1 text-xs text-slate-500">{h}</p> })}
        </div>
    }
}

/// A select for the UI languages.
#[component]
pub fn LanguageSelect(selected: domain::Language) -> impl IntoView {
    view! {
        <div class="mb-4">
            <label for="field-language" class="block text-sm font-medium text-slate-700">{t(Msg::Language)}</label>
            <select id="field-language" name="language" class=INPUT_CLASS>
                {domain::Language::ALL
                    .into_iter()
                    .map(|l| view! { <option value=l.code() selected=l == selected>{l.native_name()}</option> })
                    .collect_view()}
            </select>
        </div>
    }
}

/// A submit button that shows when its action is running.
#[component]
pub fn Submit(
    label: &'static str,
    pending: Memo<bool>,
    #[prop(default = BUTTON_CLASS)] class: &'static str,
) -> impl IntoView {
    view! {
        <button type="submit" class=class disabled=move || pending.get() aria-busy=move || pending.get().to_string()>
            {move || if pending.get() { t(Msg::Loading) } else { label }}
        </button>
    }
}
