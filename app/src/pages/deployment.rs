//! Deployment controls (issue 5): "Deploy now" / "End now" on the event
//! page with live VM progress, and power actions on a VM (its page and the
//! student's My VMs). Forms are `ActionForm`s, so all of it works without
//! JavaScript; with it, the event page follows its VMs over server-sent events.

use domain::classroom::{EventStatus, EventView, VmState, VmView};
use domain::reconcile::{DriftKind, DriftedVm, EventDrift};
use leptos::prelude::*;

use crate::api::deployment::{DeployEvent, EndEvent, ReturnToPlanning, VmAction};
use crate::components::forms::{ActionError, BUTTON_CLASS, DANGER_BUTTON_CLASS, LINK_CLASS, SECONDARY_BUTTON_CLASS};
use crate::components::layout::FlashOutdated;
use crate::components::{local_time, t, use_lang};
use crate::i18n::{Msg, vm_action_msg};

const CARD: &str = "mb-6 rounded-lg bg-white p-6 shadow-sm";

/// Live progress: the server pushes a `change` event (`/events/event-vms/{id}`)
/// whenever the event or one of its VMs changes, and the page reloads them.
/// Browser only; without JavaScript the Refresh link reloads the page.
pub fn follow_event_vms(id: Memo<Option<i64>>, refetch: impl Fn() + Clone + 'static) {
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        use wasm_bindgen::JsCast;
        use wasm_bindgen::closure::Closure;
        let Some(id) = id.get() else { return };
        let Ok(source) = web_sys::EventSource::new(&format!("/events/event-vms/{id}")) else { return };
        let refetch = refetch.clone();
        let on_change = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |_: web_sys::MessageEvent| refetch());
        let _ = source.add_event_listener_with_callback("change", on_change.as_ref().unchecked_ref());
        let source = send_wrapper::SendWrapper::new(source);
        let on_change = send_wrapper::SendWrapper::new(on_change);
        on_cleanup(move || {
            source.close();
            drop(on_change);
        });
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = (id, refetch);
}

/// "Queued: a worker picks it up shortly." is outdated once the event has
/// left the deploying or decommissioning this page saw it in: the page then
/// says how the work ended. `saw_work` lives as long as the page.
#[component]
pub fn QueuedFlashEnds(status: EventStatus, saw_work: StoredValue<bool>) -> impl IntoView {
    let working = matches!(status, EventStatus::Deploying | EventStatus::Decommissioning);
    if working {
        saw_work.set_value(true);
    } else if saw_work.get_value()
        && let Some(FlashOutdated(outdated)) = use_context::<FlashOutdated>()
    {
        // Once: the flash of a later action ("Saved." after going back to planning) stays.
        saw_work.set_value(false);
        outdated.set(true);
    }
}

/// Deploy / deploy what fits / end, as the event's status allows.
#[component]
pub fn EventControls(
    event: EventView,
    deploy: ServerAction<DeployEvent>,
    end: ServerAction<EndEvent>,
    replan: ServerAction<ReturnToPlanning>,
    /// Whether none of the event's VMs was created on the cluster.
    nothing_created: bool,
    /// The newest drift a reconcile pass found, if any.
    drift: Option<EventDrift>,
) -> impl IntoView {
    let deployable = matches!(event.status, EventStatus::Planned | EventStatus::Failed | EventStatus::Running);
    let endable = matches!(event.status, EventStatus::Running | EventStatus::Ending | EventStatus::Failed);
    let failed = event.status == EventStatus::Failed;
    let deploy_label = if event.status == EventStatus::Planned { Msg::DeployNow } else { Msg::DeployAgain };
    let id = event.id;
    view! {
        <section class=CARD data-testid="event-controls">
            <h2 class="mb-3 font-semibold">{t(Msg::Deployment)}</h2>
            <ActionError value=deploy.value()/>
            <ActionError value=end.value()/>
            <ActionError value=replan.value()/>
            <div class="flex flex-wrap items-start gap-6">
                {deployable.then(|| view! {
                    <ActionForm action=deploy>
                        <input type="hidden" name="id" value=id/>
                        {failed.then(|| view! {
                            <label class="mb-2 flex items-center gap-2 text-sm">
                                <input type="checkbox" name="allow_partial" data-testid="allow-partial"/>
                                {t(Msg::DeployWhatFits)}
                            </label>
                        })}
                        <button type="submit" class=BUTTON_CLASS data-testid="deploy-now">{t(deploy_label)}</button>
                    </ActionForm>
                })}
                {endable.then(|| view! {
                    <ActionForm action=end>
                        <input type="hidden" name="id" value=id/>
                        <label class="mb-2 flex items-center gap-2 text-sm">
                            <input type="checkbox" name="confirm" required=true data-testid="confirm-end"/>
                            {t(Msg::ConfirmEnd)}
                        </label>
                        <button type="submit" class=DANGER_BUTTON_CLASS data-testid="end-now">{t(Msg::EndNow)}</button>
                    </ActionForm>
                })}
                {(failed && nothing_created).then(|| view! {
                    <ActionForm action=replan attr:class="max-w-sm">
                        <input type="hidden" name="id" value=id/>
                        <p class="mb-2 text-sm text-slate-600">{t(Msg::BackToPlanningHint)}</p>
                        <button type="submit" class=SECONDARY_BUTTON_CLASS data-testid="back-to-planning">{t(Msg::BackToPlanning)}</button>
                    </ActionForm>
                })}
            </div>
            <p class="mt-3 text-sm text-slate-500">
                {t(Msg::DeploymentLive)} " "
                <a class=LINK_CLASS href=format!("/events/{id}") data-testid="refresh">{t(Msg::Refresh)}</a>
            </p>
            {drift.map(|drift| view! { <DriftNotice drift=drift/> })}
        </section>
    }
}

/// What the newest reconcile pass found and corrected: a short notice.
#[component]
fn DriftNotice(drift: EventDrift) -> impl IntoView {
    let lang = use_lang();
    let intro = Msg::DriftFound.text(lang).replace("{time}", &local_time(drift.at));
    let report = drift.report;
    view! {
        <div role="status" class="mt-4 rounded border border-amber-300 bg-amber-50 p-3 text-sm text-amber-900" data-testid="event-drift">
            <p class="font-medium">{intro}</p>
            <ul class="mt-1 list-disc pl-5">
                {report.vms.iter().map(|vm| view! { <li>{drifted_vm_text(vm, lang)}</li> }).collect_view()}
                {report.untracked.iter().map(|vm| {
                    let text = Msg::DriftUntracked
                        .text(lang)
                        .replace("{name}", &vm.name)
                        .replace("{vmid}", &vm.vmid.to_string())
                        .replace("{node}", &vm.node);
                    view! { <li>{text}</li> }
                }).collect_view()}
            </ul>
        </div>
    }
}

/// One corrected VM as a sentence: its name, then what was recorded and what the cluster said.
fn drifted_vm_text(vm: &DriftedVm, lang: domain::Language) -> String {
    let msg = match vm.kind {
        DriftKind::Missing => Msg::DriftVmMissing,
        DriftKind::Moved => Msg::DriftVmMoved,
        DriftKind::Status => Msg::DriftVmStatus,
        DriftKind::Found => Msg::DriftVmFound,
        DriftKind::Address => Msg::DriftVmAddress,
    };
    let unknown = Msg::DriftNothing.text(lang);
    msg.text(lang)
        .replace("{name}", &vm.name)
        .replace("{vmid}", &vm.vmid.map(|v| v.to_string()).unwrap_or_default())
        .replace("{recorded}", vm.recorded.as_deref().unwrap_or(unknown))
        .replace("{cluster}", vm.cluster.as_deref().unwrap_or(unknown))
        .replace("{node}", vm.node.as_deref().unwrap_or(unknown))
}

/// The actions that make sense in a VM's state: (key, destructive); their
/// labels are the i18n's (`vm_action_msg`), which task titles share.
fn actions_for(state: VmState) -> Vec<(&'static str, bool)> {
    let reset = ("reset_to_template", true);
    match state {
        VmState::Running => vec![("shutdown", false), ("reboot", false), ("pause", false), ("stop", true), reset],
        VmState::Paused => vec![("resume", false), ("stop", true), reset],
        VmState::Stopped => vec![("start", false), reset],
        VmState::Failed => vec![("start", false), ("stop", true), reset],
        VmState::Pending | VmState::Cloning | VmState::Starting | VmState::Deleting => Vec::new(),
    }
}

/// "Connect" for a running VM: `/vms/{id}/connect` checks access on the server
/// and sends the browser on to the console. A full page load (`rel=external`):
/// the route is the server's, not the app's.
#[component]
pub fn ConnectButton(vm: VmView) -> impl IntoView {
    (vm.state == VmState::Running).then(|| {
        view! {
            <a
                class=BUTTON_CLASS
                href=format!("/vms/{}/connect", vm.id)
                rel="external"
                data-testid=format!("vm-connect-{}", vm.name)
            >{t(Msg::ConsoleConnect)}</a>
        }
    })
}

/// Power actions on one VM; destructive ones carry a confirmation box.
/// `back`: the page to return to after the action. `errors_shown_above`:
/// a list of many VMs shows the action's error once, not under each VM.
#[component]
pub fn VmActions(
    vm: VmView,
    action: ServerAction<VmAction>,
    back: String,
    #[prop(optional)] errors_shown_above: bool,
) -> impl IntoView {
    if vm.vmid.is_none() {
        return ().into_any();
    }
    let id = vm.id;
    view! {
        <div class="flex flex-wrap items-start gap-2" data-testid=format!("vm-actions-{}", vm.name)>
            {actions_for(vm.state).into_iter().map(|(key, destructive)| {
                let back = back.clone();
                view! {
                    <ActionForm action=action attr:class="inline-flex items-center gap-1">
                        <input type="hidden" name="id" value=id/>
                        <input type="hidden" name="action" value=key/>
                        <input type="hidden" name="back" value=back/>
                        {destructive.then(|| view! {
                            <label class="flex items-center gap-1 text-xs text-slate-600">
                                <input type="checkbox" name="confirm" required=true data-testid=format!("confirm-{key}")/>
                                {t(Msg::ConfirmAction)}
                            </label>
                        })}
                        <button
                            type="submit"
                            class=if destructive { DANGER_BUTTON_CLASS } else { SECONDARY_BUTTON_CLASS }
                            data-testid=format!("vm-{key}")
                        >{vm_action_msg(key).map(t)}</button>
                    </ActionForm>
                }
            }).collect_view()}
        </div>
        {(!errors_shown_above).then(|| view! { <ActionError value=action.value()/> })}
    }.into_any()
}
