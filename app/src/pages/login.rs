use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_query_map;

use crate::api::auth::{Login, load_shell, safe_next};
use crate::components::forms::{ActionError, INPUT_CLASS, Submit};
use crate::components::layout::Flash;
use crate::i18n::{Msg, oidc_error_text};

#[component]
pub fn LoginPage() -> impl IntoView {
    let shell = Resource::new(|| (), |_| load_shell());
    let query = use_query_map();
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let next = query.with_untracked(|q| q.get("next")).unwrap_or_default();
                match shell.await {
                    Ok(info) if info.user.is_some() => {
                        view! { <Redirect path=safe_next(Some(&next)).to_string()/> }.into_any()
                    }
                    Ok(info) => {
                        provide_context(info.clone());
                        let oidc_error = query.with_untracked(|q| q.get("oidc_error"));
                        view! {
                            <LoginForm title=info.title.clone() lang=info.language next=next
                                oidc_button=info.oidc_button.clone() oidc_error=oidc_error/>
                        }
                        .into_any()
                    }
                    Err(e) => view! { <p role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn LoginForm(
    title: String,
    lang: domain::Language,
    next: String,
    oidc_button: Option<String>,
    oidc_error: Option<String>,
) -> impl IntoView {
    let oidc_start = format!("/auth/oidc/start?next={}", crate::url_encode(safe_next(Some(&next))));
    let login = ServerAction::<Login>::new();
    let pending = login.pending();
    let pending = Memo::new(move |_| pending.get());
    // Only true once the WASM bundle runs: the password toggle needs it.
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    let show_password = RwSignal::new(false);
    view! {
        <Title text=format!("{} · {title}", Msg::SignIn.text(lang))/>
        <main class="flex min-h-screen items-center justify-center bg-slate-100 px-4">
            <div class="w-full max-w-sm rounded-lg bg-white p-8 shadow">
                <h1 class="text-2xl font-semibold text-slate-900">{title}</h1>
                <p class="mb-6 mt-1 text-sm text-slate-500">{Msg::AppTagline.text(lang)}</p>
                <Flash/>
                {oidc_error.map(|key| view! {
                    <p role="alert" class="mb-4 rounded border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800">
                        {oidc_error_text(&key, lang)}
                    </p>
                })}
                {oidc_button.map(|name| view! {
                    // rel=external: a full page load (the router must not handle this server route).
                    <a href=oidc_start rel="external" class="mb-4 flex w-full items-center justify-center rounded border border-indigo-600 px-4 py-2 text-sm font-medium text-indigo-700 hover:bg-indigo-50 focus:outline-none focus:ring-2 focus:ring-indigo-300">
                        {Msg::SignInWith.text(lang).replace("{name}", &name)}
                    </a>
                    <p class="mb-4 text-center text-xs uppercase tracking-wide text-slate-400">{Msg::OrDivider.text(lang)}</p>
                })}
                <ActionError value=login.value()/>
                <ActionForm action=login attr:aria-label=Msg::SignIn.text(lang)>
                    <input type="hidden" name="next" value=next/>
                    <div class="mb-4">
                        <label for="username" class="block text-sm font-medium text-slate-700">{Msg::Username.text(lang)}</label>
                        <input id="username" name="username" type="text" required autocomplete="username"
                            autofocus maxlength="64" class=INPUT_CLASS/>
                    </div>
                    <div class="mb-6">
                        <label for="password" class="block text-sm font-medium text-slate-700">{Msg::Password.text(lang)}</label>
                        <input id="password" name="password" required autocomplete="current-password" maxlength="256"
                            type=move || if show_password.get() { "text" } else { "password" } class=INPUT_CLASS/>
                        <Show when=move || hydrated.get()>
                            <button type="button" class="mt-1 text-xs text-indigo-700 underline"
                                aria-pressed=move || show_password.get().to_string()
                                on:click=move |_| show_password.update(|v| *v = !*v)>
                                {move || if show_password.get() { Msg::HidePassword.text(lang) } else { Msg::ShowPassword.text(lang) }}
                            </button>
                        </Show>
                    </div>
                    <Submit label=Msg::SignIn.text(lang) pending=pending class="w-full justify-center inline-flex items-center rounded bg-indigo-600 px-4 py-2 text-sm font-medium text-white hover:bg-indigo-700 focus:outline-none focus:ring-2 focus:ring-indigo-300 disabled:opacity-50"/>
                </ActionForm>
                <p class="mt-4 text-center text-sm"><a class="text-indigo-700 underline" href="/forgot-password">{Msg::ForgotPassword.text(lang)}</a></p>
            </div>
        </main>
    }
}
