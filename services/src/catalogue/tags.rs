//! Tags (name + value) on templates, environments and VMs: who may read an
//! object reads its tags, who may edit it changes them. Lists filter by tag
//! (`name` or `name=value`).

use std::collections::HashSet;

use domain::activity::ActivityTarget;
use domain::catalogue::{ObjectTags, Tag, TagFilter, Taggable, validate_tag};
use domain::classroom::{EnvironmentView, VmTemplateView, VmView};
use domain::{Action, Actor, AppError};

use crate::Services;

impl Services {
    pub async fn object_tags(&self, actor: &Actor, object: Taggable, id: i64) -> Result<Vec<Tag>, AppError> {
        self.object_name(actor, object, id, Action::Read).await?;
        let found = self.ports.tags.tags(object, &[id]).await?;
        Ok(found.into_iter().next().map(|o| o.tags).unwrap_or_default())
    }

    /// The tags of the listed objects the actor may read (others are left out).
    pub async fn tags_of(&self, actor: &Actor, object: Taggable, ids: &[i64]) -> Result<Vec<ObjectTags>, AppError> {
        let mut readable = Vec::with_capacity(ids.len());
        for id in ids.iter().take(domain::page::MAX_PER_PAGE as usize) {
            match self.object_name(actor, object, *id, Action::Read).await {
                Ok(_) => readable.push(*id),
                Err(AppError::NotFound | AppError::Forbidden) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(self.ports.tags.tags(object, &readable).await?)
    }

    /// Tagging is editing: administrators on everything, instructors on the
    /// environments they may edit. The same tag twice is refused ("taken").
    pub async fn add_tag(
        &self,
        actor: &Actor,
        object: Taggable,
        id: i64,
        name: &str,
        value: &str,
    ) -> Result<i64, AppError> {
        let object_name = self.object_name(actor, object, id, Action::Update).await?;
        let (name, value) = validate_tag(name, value)?;
        let mut activity = self.activity(actor, "tag.add", ActivityTarget::new(object.key(), id, &object_name));
        activity.details = serde_json::json!({ "name": name, "value": value });
        Ok(self.ports.tags.add(object, id, &name, &value, self.clock.now(), Some(&activity)).await?)
    }

    pub async fn remove_tag(&self, actor: &Actor, object: Taggable, id: i64, tag_id: i64) -> Result<(), AppError> {
        let object_name = self.object_name(actor, object, id, Action::Update).await?;
        let tags = self.ports.tags.tags(object, &[id]).await?;
        let tag = tags.iter().flat_map(|o| &o.tags).find(|t| t.id == tag_id).ok_or(AppError::NotFound)?;
        let mut activity = self.activity(actor, "tag.remove", ActivityTarget::new(object.key(), id, &object_name));
        activity.details = serde_json::json!({ "name": tag.name, "value": tag.value });
        Ok(self.ports.tags.remove(object, id, tag_id, Some(&activity)).await?)
    }

    /// Ids carrying a tag that matches `filter` (`name` or `name=value`), or
    /// `None` when there is no filter.
    pub(crate) async fn tag_matches(
        &self,
        object: Taggable,
        filter: Option<&TagFilter>,
    ) -> Result<Option<HashSet<i64>>, AppError> {
        match filter {
            None => Ok(None),
            Some(filter) => Ok(Some(self.ports.tags.tagged(object, filter).await?.into_iter().collect())),
        }
    }

    /// The template list, optionally only the templates with a matching tag.
    pub async fn list_templates_tagged(
        &self,
        actor: &Actor,
        filter: Option<&TagFilter>,
    ) -> Result<Vec<VmTemplateView>, AppError> {
        let mut list = self.list_templates(actor).await?;
        if let Some(ids) = self.tag_matches(Taggable::Template, filter).await? {
            list.retain(|t| ids.contains(&t.id));
        }
        Ok(list)
    }

    /// The environment list, optionally only the environments with a matching tag.
    pub async fn list_environments_tagged(
        &self,
        actor: &Actor,
        filter: Option<&TagFilter>,
    ) -> Result<Vec<EnvironmentView>, AppError> {
        let mut list = self.list_environments(actor).await?;
        if let Some(ids) = self.tag_matches(Taggable::Environment, filter).await? {
            list.retain(|e| ids.contains(&e.id));
        }
        Ok(list)
    }

    /// For deployment: gives the VMs recorded since `before` their template's
    /// tags (VMs recorded earlier keep the tags people gave or took away).
    pub(crate) async fn inherit_template_tags(&self, before: &[VmView], now: &[VmView]) -> Result<(), AppError> {
        let known: HashSet<i64> = before.iter().map(|vm| vm.id).collect();
        let new: Vec<(i64, i64)> =
            now.iter().filter(|vm| !known.contains(&vm.id)).map(|vm| (vm.id, vm.template_id)).collect();
        if new.is_empty() {
            return Ok(());
        }
        Ok(self.ports.tags.copy_template_tags(&new, self.clock.now()).await?)
    }

    /// The Proxmox tags of each template (deployment puts them on the clones).
    pub(crate) async fn template_proxmox_tags(
        &self,
        template_ids: &[i64],
    ) -> Result<std::collections::HashMap<i64, Vec<String>>, AppError> {
        let found = self.ports.tags.tags(Taggable::Template, template_ids).await?;
        Ok(found.into_iter().map(|o| (o.id, o.tags.iter().map(Tag::proxmox).collect())).collect())
    }
}
