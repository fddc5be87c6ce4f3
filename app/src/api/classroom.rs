//! The classroom: VM templates, environments, events, participants, groups, VMs.

use domain::classroom::{
    EnvironmentView, EventView, GroupView, MyEvent, ParticipantView, RosterPreview, VmTemplateView, VmView,
};
use domain::page::Page;
use leptos::prelude::*;

use crate::error::ApiResult;

// ---------------------------------------------------------------- templates

/// `tag`: only templates with this tag (`name` or `name=value`).
#[server]
pub async fn list_templates(tag: Option<String>) -> ApiResult<Vec<VmTemplateView>> {
    use super::context;
    let actor = context::actor().await?;
    let tag = domain::catalogue::TagFilter::parse(tag.as_deref().unwrap_or_default())?;
    Ok(context::state()?.services.list_templates_tagged(&actor, tag.as_ref()).await?)
}

#[server]
pub async fn get_template(id: i64) -> ApiResult<VmTemplateView> {
    use super::context;
    let actor = context::actor().await?;
    Ok(context::state()?.services.get_template(&actor, id).await?)
}

/// The template form's fields, shared by create and update.
#[allow(clippy::too_many_arguments)]
#[server]
pub async fn create_template(
    name: String,
    #[server(default)] description: String,
    #[server(default)] operating_system: String,
    proxmox_vmid: String,
    node: String,
    cores: String,
    memory_mib: String,
    #[server(default)] disk_gib: String,
    #[server(default)] linked_clone: Option<String>,
    #[server(default)] console: String,
) -> ApiResult<()> {
    use super::context;
    let actor = context::actor().await?;
    let input = domain::classroom::TemplateInput {
        name,
        description,
        operating_system,
        proxmox_vmid,
        node,
        cores,
        memory_mib,
        disk_gib,
        linked_clone: linked_clone.is_some(),
        console,
    };
    context::state()?.services.create_template(&actor, &input).await?;
    context::redirect_with_flash("/templates", super::flash::CREATED);
    Ok(())
}

#[allow(clippy::too_many_arguments)]
#[server]
pub async fn update_template(
    id: i64,
    name: String,
    #[server(default)] description: String,
    #[server(default)] operating_system: String,
    proxmox_vmid: String,
    node: String,
    cores: String,
    memory_mib: String,
    #[server(default)] disk_gib: String,
    #[server(default)] linked_clone: Option<String>,
    #[server(default)] console: String,
) -> ApiResult<()> {
    use super::context;
    let actor = context::actor().await?;
    let input = domain::classroom::TemplateInput {
        name,
        description,
        operating_system,
        proxmox_vmid,
        node,
        cores,
        memory_mib,
        disk_gib,
        linked_clone: linked_clone.is_some(),
        console,
    };
    context::state()?.services.update_template(&actor, id, &input).await?;
    context::redirect_with_flash(&format!("/templates/{id}"), super::flash::SAVED);
    Ok(())
}

#[server]
pub async fn delete_template(id: i64) -> ApiResult<()> {
    use super::context;
    let actor = context::actor().await?;
    context::state()?.services.delete_template(&actor, id).await?;
    context::redirect_with_flash("/templates", super::flash::DELETED);
    Ok(())
}

/// Creates a template from a template VM of the cluster, then opens it for editing.
#[server]
pub async fn import_cluster_template(vmid: u32) -> ApiResult<()> {
    use super::context;
    let actor = context::actor().await?;
    let id = context::state()?.services.import_cluster_template(&actor, vmid).await?;
    context::redirect_with_flash(&format!("/templates/{id}"), super::flash::CREATED);
    Ok(())
}

// ------------------------------------------------------------- environments

/// `tag`: only environments with this tag (`name` or `name=value`).
#[server]
pub async fn list_environments(tag: Option<String>) -> ApiResult<Vec<EnvironmentView>> {
    use super::context;
    let actor = context::actor().await?;
    let tag = domain::catalogue::TagFilter::parse(tag.as_deref().unwrap_or_default())?;
    Ok(context::state()?.services.list_environments_tagged(&actor, tag.as_ref()).await?)
}

#[server]
pub async fn get_environment(id: i64) -> ApiResult<EnvironmentView> {
    use super::context;
    let actor = context::actor().await?;
    Ok(context::state()?.services.get_environment(&actor, id).await?)
}

#[cfg(feature = "ssr")]
fn environment_input(
    name: String,
    description: String,
    template_ids: Vec<i64>,
    counts: Vec<String>,
) -> services::classroom::environments::EnvironmentInput {
    let templates = template_ids.into_iter().zip(counts.into_iter().chain(std::iter::repeat(String::new()))).collect();
    services::classroom::environments::EnvironmentInput { name, description, templates }
}

/// `template_ids[]` and `counts[]` are parallel lists: one count per template
/// (0 leaves it out, empty means 1).
#[server]
pub async fn create_environment(
    name: String,
    #[server(default)] description: String,
    #[server(default)] template_ids: Vec<i64>,
    #[server(default)] counts: Vec<String>,
) -> ApiResult<()> {
    use super::context;
    let actor = context::actor().await?;
    let input = environment_input(name, description, template_ids, counts);
    let id = context::state()?.services.create_environment(&actor, &input).await?;
    context::redirect_with_flash(&format!("/environments/{id}"), super::flash::CREATED);
    Ok(())
}

#[server]
pub async fn update_environment(
    id: i64,
    name: String,
    #[server(default)] description: String,
    #[server(default)] template_ids: Vec<i64>,
    #[server(default)] counts: Vec<String>,
) -> ApiResult<()> {
    use super::context;
    let actor = context::actor().await?;
    let input = environment_input(name, description, template_ids, counts);
    context::state()?.services.update_environment(&actor, id, &input).await?;
    context::redirect_with_flash(&format!("/environments/{id}"), super::flash::SAVED);
    Ok(())
}

#[server]
pub async fn delete_environment(id: i64) -> ApiResult<()> {
    use super::context;
    let actor = context::actor().await?;
    context::state()?.services.delete_environment(&actor, id).await?;
    context::redirect_with_flash("/environments", super::flash::DELETED);
    Ok(())
}

// ------------------------------------------------------------------- events

/// `tab`: `planned` (default), `active` or `completed`.
#[server]
pub async fn list_events(tab: Option<String>, page: Option<u32>) -> ApiResult<Page<EventView>> {
    use super::context;
    let actor = context::actor().await?;
    let tab =
        tab.as_deref().and_then(domain::classroom::EventTab::from_key).unwrap_or(domain::classroom::EventTab::Planned);
    let request = domain::page::PageRequest::new(page, None);
    Ok(context::state()?.services.list_events(&actor, tab, request).await?)
}

#[server]
pub async fn get_event(id: i64) -> ApiResult<EventView> {
    use super::context;
    let actor = context::actor().await?;
    Ok(context::state()?.services.get_event(&actor, id).await?)
}

/// Dates are `datetime-local` values in the caller's time zone.
#[allow(clippy::too_many_arguments)]
#[server]
pub async fn create_event(
    name: String,
    short_name: String,
    #[server(default)] description: String,
    #[server(default)] environment_id: Option<i64>,
    starts_at: String,
    #[server(default)] ends_at: String,
) -> ApiResult<()> {
    use super::context;
    let actor = context::actor().await?;
    let input = domain::classroom::EventInput { name, short_name, description, environment_id, starts_at, ends_at };
    let id = context::state()?.services.create_event(&actor, &input).await?;
    context::redirect_with_flash(&format!("/events/{id}"), super::flash::CREATED);
    Ok(())
}

#[allow(clippy::too_many_arguments)]
#[server]
pub async fn update_event(
    id: i64,
    name: String,
    short_name: String,
    #[server(default)] description: String,
    #[server(default)] environment_id: Option<i64>,
    starts_at: String,
    #[server(default)] ends_at: String,
) -> ApiResult<()> {
    use super::context;
    let actor = context::actor().await?;
    let input = domain::classroom::EventInput { name, short_name, description, environment_id, starts_at, ends_at };
    context::state()?.services.update_event(&actor, id, &input).await?;
    context::redirect_with_flash(&format!("/events/{id}"), super::flash::SAVED);
    Ok(())
}

#[server]
pub async fn delete_event(id: i64) -> ApiResult<()> {
    use super::context;
    let actor = context::actor().await?;
    context::state()?.services.delete_event(&actor, id).await?;
    context::redirect_with_flash("/events", super::flash::DELETED);
    Ok(())
}

// ------------------------------------------------------------- participants

#[server]
pub async fn list_participants(event_id: i64) -> ApiResult<Vec<ParticipantView>> {
    use super::context;
    let actor = context::actor().await?;
    Ok(context::state()?.services.list_participants(&actor, event_id).await?)
}

#[cfg(feature = "ssr")]
fn event_role(role: &str) -> Result<domain::classroom::EventRole, domain::AppError> {
    domain::classroom::EventRole::from_key(role).ok_or_else(domain::classroom::event_role_unknown)
}

/// `usernames`: one or more, separated by commas, spaces or lines.
#[server]
pub async fn add_participants(event_id: i64, usernames: String, role: String) -> ApiResult<()> {
    use super::context;
    let actor = context::actor().await?;
    let role = event_role(&role)?;
    context::state()?.services.add_participants(&actor, event_id, &[usernames], role).await?;
    context::redirect_with_flash(&format!("/events/{event_id}"), super::flash::SAVED);
    Ok(())
}

#[server]
pub async fn create_participant(
    event_id: i64,
    username: String,
    name: String,
    email: String,
    #[server(default)] password: String,
    role: String,
) -> ApiResult<()> {
    use super::context;
    let actor = context::actor().await?;
    let role = event_role(&role)?;
    let input =
        services::accounts::UserInput { username, name, email, language: "en".into(), password, role_keys: vec![] };
    context::state()?.services.create_participant(&actor, event_id, input, role).await?;
    context::redirect_with_flash(&format!("/events/{event_id}"), super::flash::CREATED);
    Ok(())
}

#[server]
pub async fn remove_participant(event_id: i64, user_id: i64) -> ApiResult<()> {
    use super::context;
    let actor = context::actor().await?;
    context::state()?.services.remove_participant(&actor, event_id, user_id).await?;
    context::redirect_with_flash(&format!("/events/{event_id}"), super::flash::SAVED);
    Ok(())
}

#[server]
pub async fn set_event_admin(event_id: i64, user_id: i64, admin: bool) -> ApiResult<()> {
    use super::context;
    let actor = context::actor().await?;
    context::state()?.services.set_event_admin(&actor, event_id, user_id, admin).await?;
    context::redirect_with_flash(&format!("/events/{event_id}"), super::flash::SAVED);
    Ok(())
}

#[server]
pub async fn add_group_to_event(event_id: i64, group_id: i64, role: String) -> ApiResult<()> {
    use super::context;
    let actor = context::actor().await?;
    let role = event_role(&role)?;
    context::state()?.services.add_group_to_event(&actor, event_id, group_id, role).await?;
    context::redirect_with_flash(&format!("/events/{event_id}"), super::flash::SAVED);
    Ok(())
}

/// Checks a roster (CSV: username,name,email,role) without importing it. A
/// POST, so the roster (names, e-mail addresses) stays out of URLs, browser
/// history and logs. Without JavaScript the preview can only come back as
/// the roster page rendered from its URL, so a plain form is sent there.
#[server]
pub async fn preview_roster(event_id: i64, csv: String) -> ApiResult<RosterPreview> {
    use super::context;
    let actor = context::actor().await?;
    let preview = context::state()?.services.preview_roster(&actor, event_id, &csv).await?;
    if context::from_plain_form() {
        leptos_axum::redirect(&format!("/events/{event_id}/roster?csv={}", crate::url_encode(&csv)));
    }
    Ok(preview)
}

/// Imports a roster: every line or none.
#[server]
pub async fn import_roster(event_id: i64, csv: String) -> ApiResult<()> {
    use super::context;
    let actor = context::actor().await?;
    context::state()?.services.import_roster(&actor, event_id, &csv).await?;
    context::redirect_with_flash(&format!("/events/{event_id}"), super::flash::IMPORTED);
    Ok(())
}

// ------------------------------------------------------------------- groups

#[server]
pub async fn list_groups() -> ApiResult<Vec<GroupView>> {
    use super::context;
    let actor = context::actor().await?;
    Ok(context::state()?.services.list_groups(&actor).await?)
}

/// (user id, username) of a group's members.
#[server]
pub async fn group_members(id: i64) -> ApiResult<Vec<(i64, String)>> {
    use super::context;
    let actor = context::actor().await?;
    Ok(context::state()?.services.group_members(&actor, id).await?)
}

#[server]
pub async fn create_group(name: String, #[server(default)] description: String) -> ApiResult<()> {
    use super::context;
    let actor = context::actor().await?;
    context::state()?.services.create_group(&actor, &name, &description).await?;
    context::redirect_with_flash("/groups", super::flash::CREATED);
    Ok(())
}

#[server]
pub async fn delete_group(id: i64) -> ApiResult<()> {
    use super::context;
    let actor = context::actor().await?;
    context::state()?.services.delete_group(&actor, id).await?;
    context::redirect_with_flash("/groups", super::flash::DELETED);
    Ok(())
}

#[server]
pub async fn add_group_member(id: i64, username: String) -> ApiResult<()> {
    use super::context;
    let actor = context::actor().await?;
    context::state()?.services.add_group_member(&actor, id, &username).await?;
    context::redirect_with_flash("/groups", super::flash::SAVED);
    Ok(())
}

#[server]
pub async fn remove_group_member(id: i64, user_id: i64) -> ApiResult<()> {
    use super::context;
    let actor = context::actor().await?;
    context::state()?.services.remove_group_member(&actor, id, user_id).await?;
    context::redirect_with_flash("/groups", super::flash::SAVED);
    Ok(())
}

// ---------------------------------------------------------------------- VMs

/// Filters: `event` id, `user` (owner's username), `node`, `state`, `tag`
/// (`name` or `name=value`).
#[server]
pub async fn list_vms(
    event: Option<i64>,
    user: Option<String>,
    node: Option<String>,
    state: Option<String>,
    tag: Option<String>,
    page: Option<u32>,
) -> ApiResult<Page<VmView>> {
    use super::context;
    let actor = context::actor().await?;
    let services = context::state()?.services;
    let query = services::classroom::ports::VmQuery {
        event_id: event,
        owner_username: user.map(|u| u.trim().to_lowercase()).filter(|u| !u.is_empty()),
        node: node.filter(|n| !n.is_empty()),
        state: state.as_deref().and_then(domain::classroom::VmState::from_key),
        tag: domain::catalogue::TagFilter::parse(tag.as_deref().unwrap_or_default())?,
        ..Default::default()
    };
    Ok(services.list_vms(&actor, query, domain::page::PageRequest::new(page, None)).await?)
}

#[server]
pub async fn get_vm(id: i64) -> ApiResult<VmView> {
    use super::context;
    let actor = context::actor().await?;
    Ok(context::state()?.services.vm_details(&actor, id).await?)
}

#[server]
pub async fn vm_nodes() -> ApiResult<Vec<String>> {
    use super::context;
    let actor = context::actor().await?;
    Ok(context::state()?.services.vm_nodes(&actor).await?)
}

/// The signed-in user's events with their own VMs (the home page).
#[server]
pub async fn my_vms() -> ApiResult<Vec<MyEvent>> {
    use super::context;
    let actor = context::actor().await?;
    Ok(context::state()?.services.my_vms(&actor).await?)
}

/// An event's VMs as the caller may see them (the participants × VMs grid).
#[server]
pub async fn event_vms(event_id: i64) -> ApiResult<Vec<VmView>> {
    use super::context;
    let actor = context::actor().await?;
    Ok(context::state()?.services.event_vms(&actor, event_id).await?)
}

/// Unfinished events at the same time as this one with students in common.
#[server]
pub async fn event_overlaps(event_id: i64) -> ApiResult<Vec<domain::classroom::EventOverlap>> {
    use super::context;
    let actor = context::actor().await?;
    Ok(context::state()?.services.event_overlaps(&actor, event_id).await?)
}
