//! Pagination links that keep the other query parameters.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::components::forms::SECONDARY_BUTTON_CLASS;
use crate::components::t;
use crate::i18n::Msg;

#[component]
pub fn Pager(page: u32, pages: u32, total: u64, base: &'static str) -> impl IntoView {
    let query = use_query_map();
    let link = move |target: u32| {
        let mut params: Vec<(String, String)> = query.with_untracked(|q| {
            q.into_iter()
                .filter(|(k, _)| k.as_ref() != "page" && k.as_ref() != "ok")
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        });
        params.push(("page".into(), target.to_string()));
        let encoded: Vec<String> = params.into_iter().map(|(k, v)| format!("{k}={}", crate::url_encode(&v))).collect();
        format!("{base}?{}", encoded.join("&"))
    };
    let summary = t(Msg::PageOf)
        .replace("{page}", &page.to_string())
        .replace("{pages}", &pages.to_string())
        .replace("{total}", &total.to_string());
    view! {
        <nav class="mt-4 flex items-center justify-between text-sm text-slate-600" aria-label="pagination">
            <span>{summary}</span>
            <span class="flex gap-2">
                {(page > 1).then(|| view! { <a class=SECONDARY_BUTTON_CLASS rel="prev" href=link(page - 1)>{t(Msg::Previous)}</a> })}
                {(page < pages).then(|| view! { <a class=SECONDARY_BUTTON_CLASS rel="next" href=link(page + 1)>{t(Msg::Next)}</a> })}
            </span>
        </nav>
    }
}
