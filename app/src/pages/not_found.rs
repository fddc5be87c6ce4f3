use leptos::prelude::*;

use crate::api::auth::load_shell;
use crate::components::forms::LINK_CLASS;
use crate::i18n::Msg;

/// Any address no route knows, in the visitor's language (their own when
/// signed in, else their browser's): the shell tells which.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::components::answer_status(http::StatusCode::NOT_FOUND);
    let shell = Resource::new(|| (), |_| load_shell());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let lang = shell.await.map(|info| info.language).unwrap_or_default();
                view! {
                    <main class="mx-auto max-w-xl px-4 py-24 text-center">
                        <p class="text-6xl font-bold text-slate-300">"404"</p>
                        <h1 class="mt-4 text-2xl font-semibold">{Msg::NotFoundTitle.text(lang)}</h1>
                        <p class="mt-2 text-slate-600">{Msg::NotFoundText.text(lang)}</p>
                        <a href="/" class=format!("mt-6 inline-block {LINK_CLASS}")>{Msg::BackHome.text(lang)}</a>
                    </main>
                }
            })}
        </Suspense>
    }
}
