use leptos::prelude::*;

use crate::components::forms::LINK_CLASS;
use crate::i18n::Msg;

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::components::answer_status(http::StatusCode::NOT_FOUND);
    let lang = crate::components::use_lang();
    view! {
        <main class="mx-auto max-w-xl px-4 py-24 text-center">
            <p class="text-6xl font-bold text-slate-300">"404"</p>
            <h1 class="mt-4 text-2xl font-semibold">{Msg::NotFoundTitle.text(lang)}</h1>
            <p class="mt-2 text-slate-600">{Msg::NotFoundText.text(lang)}</p>
            <a href="/" class=format!("mt-6 inline-block {LINK_CLASS}")>{Msg::BackHome.text(lang)}</a>
        </main>
    }
}
