//! `/vms/{id}/console`: the built-in console. The page (rendered on the server)
//! holds the toolbar, the status line and the screen's place; `/js/console.js`
//! (an ES module with noVNC, served from the site) connects the screen to
//! `/console/{id}/websocket` on this server, with the session cookie, and drives
//! the toolbar. The texts the script shows travel as `data-msg-*` attributes, so
//! they come from the same translations as the rest of the page. Without
//! JavaScript the page says the console needs it and links back to the VM.

use domain::classroom::{VmState, VmView};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;

use crate::api::console::{VmConsole, vm_console};
use crate::components::forms::{INPUT_CLASS, LINK_CLASS, SECONDARY_BUTTON_CLASS};
use crate::components::layout::WithShell;
use crate::components::{PageHeader, page_error_view, t, use_lang};
use crate::i18n::Msg;
use crate::pages::route_id;

#[component]
pub fn ConsolePage() -> impl IntoView {
    let id = route_id();
    let vm = Resource::new(
        move || id.get(),
        |id| async move {
            match id {
                Some(id) => vm_console(id).await,
                None => Err(domain::AppError::NotFound.into()),
            }
        },
    );
    view! {
        <WithShell>
        <Suspense fallback=|| view! { <p>{t(Msg::Loading)}</p> }>
            {move || Suspend::new(async move {
                match vm.await {
                    Ok(vm) => view! { <Console vm=vm/> }.into_any(),
                    Err(e) => page_error_view(&e),
                }
            })}
        </Suspense>
        </WithShell>
    }
}

#[component]
fn Console(vm: VmView) -> impl IntoView {
    let lang = use_lang();
    let title = format!("{} · {}", Msg::ConsoleTitle.text(lang), vm.name);
    let running = vm.state == VmState::Running;
    let back = format!("/vms/{}", vm.id);
    let header_back = back.clone();
    view! {
        <Title text=title.clone()/>
        <PageHeader title=title>
            <a class=LINK_CLASS href=header_back data-testid="console-back">{t(Msg::ConsoleBackToVm)}</a>
        </PageHeader>
        <section
            id="console"
            data-testid="console"
            data-vm=vm.id
            data-running=running.to_string()
            data-status-url=VmConsole::PATH
            data-msg-connecting=Msg::ConsoleConnecting.text(lang)
            data-msg-connected=Msg::ConsoleConnected.text(lang)
            data-msg-reconnecting=Msg::ConsoleReconnecting.text(lang)
            data-msg-unreachable=Msg::ConsoleUnreachable.text(lang)
            data-msg-disconnected=Msg::ConsoleDisconnected.text(lang)
            data-msg-not-running=Msg::ConsoleVmNotRunning.text(lang)
            data-msg-refused=Msg::ConsoleRefused.text(lang)
        >
            // The script hides this and shows the console below.
            <p data-console-nojs class="rounded border border-amber-300 bg-amber-50 px-4 py-3 text-sm text-amber-900" data-testid="console-nojs">
                {t(Msg::ConsoleNeedsJs)} " "
                <a class=LINK_CLASS href=back>{t(Msg::ConsoleBackToVm)}</a>
            </p>
            <div data-console-ui hidden=true class="space-y-3">
                <p id="console-status" role="status" aria-live="polite" data-testid="console-status" class="text-sm text-slate-700">
                    {if running { t(Msg::ConsoleConnecting) } else { t(Msg::ConsoleVmNotRunning) }}
                </p>
                <div role="toolbar" aria-label=t(Msg::ConsoleToolbar) class="flex flex-wrap items-center gap-2">
                    <button type="button" class=SECONDARY_BUTTON_CLASS data-console-action="ctrl-alt-del" data-testid="console-cad">{t(Msg::ConsoleCtrlAltDel)}</button>
                    <button type="button" class=SECONDARY_BUTTON_CLASS data-console-action="fullscreen" data-testid="console-fullscreen">{t(Msg::ConsoleFullScreen)}</button>
                    <label class="inline-flex items-center gap-2 text-sm">
                        {t(Msg::ConsoleScaling)}
                        <select class="rounded border border-slate-300 px-2 py-2 text-sm" data-console-scale data-testid="console-scale">
                            <option value="fit" selected=true>{t(Msg::ConsoleScaleFit)}</option>
                            <option value="remote">{t(Msg::ConsoleScaleRemote)}</option>
                        </select>
                    </label>
                    <button type="button" class=SECONDARY_BUTTON_CLASS data-console-action="reconnect" data-testid="console-reconnect">{t(Msg::ConsoleReconnect)}</button>
                </div>
                <div id="console-screen" data-testid="console-screen" aria-label=t(Msg::ConsoleScreen) class="h-[70vh] w-full overflow-auto rounded bg-black"></div>
                <details class="rounded bg-white p-4 shadow-sm">
                    <summary class="cursor-pointer text-sm font-medium">{t(Msg::ConsolePaste)}</summary>
                    <label for="console-paste" class="mt-3 block text-sm text-slate-600">{t(Msg::ConsolePasteText)}</label>
                    <textarea id="console-paste" rows="3" class=INPUT_CLASS data-testid="console-paste"></textarea>
                    <div class="mt-2 flex flex-wrap gap-2">
                        <button type="button" class=SECONDARY_BUTTON_CLASS data-console-action="type" data-testid="console-type">{t(Msg::ConsoleTypeText)}</button>
                        <button type="button" class=SECONDARY_BUTTON_CLASS data-console-action="clipboard" data-testid="console-clipboard">{t(Msg::ConsoleSendClipboard)}</button>
                    </div>
                </details>
            </div>
            <script type="module" src="/js/console.js"></script>
        </section>
    }
}
