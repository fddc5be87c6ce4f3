//! What the catalogue and tag use cases need from storage (adapters in `store`).
//! Every mutating method takes the change's activity and writes it in the
//! same transaction (see [`crate::activities`]).

use async_trait::async_trait;
use domain::activity::Activity;
use domain::catalogue::{
    CatalogueFields, CatalogueItem, CatalogueKind, CatalogueLinks, ObjectTags, TagFilter, Taggable, Usage,
};
use domain::page::{Page, PageRequest};
use domain::time::Timestamp;

use crate::StoreError;

#[async_trait]
pub trait CatalogueRepo: Send + Sync {
    /// By name; `vendor_id` limits operating systems and applications to one vendor.
    async fn list(
        &self,
        kind: CatalogueKind,
        vendor_id: Option<i64>,
        page: PageRequest,
    ) -> Result<Page<CatalogueItem>, StoreError>;
    async fn by_id(&self, kind: CatalogueKind, id: i64) -> Result<Option<CatalogueItem>, StoreError>;
    /// `StoreError::Duplicate("name")` when the name is taken (in any case).
    async fn insert(
        &self,
        kind: CatalogueKind,
        fields: &CatalogueFields,
        at: Timestamp,
        activity: Option<&Activity>,
    ) -> Result<i64, StoreError>;
    async fn update(
        &self,
        kind: CatalogueKind,
        id: i64,
        fields: &CatalogueFields,
        at: Timestamp,
        activity: Option<&Activity>,
    ) -> Result<(), StoreError>;
    /// Deletes the entry unless something uses it, deciding in the deleting
    /// transaction; answers what uses it (empty: deleted).
    async fn delete(&self, kind: CatalogueKind, id: i64, activity: Option<&Activity>)
    -> Result<Vec<Usage>, StoreError>;
    /// The operating system and applications a template or environment is linked to.
    async fn links(&self, object: Taggable, id: i64) -> Result<CatalogueLinks, StoreError>;
    /// Replaces the links of a template or environment.
    async fn set_links(
        &self,
        object: Taggable,
        id: i64,
        operating_system_id: Option<i64>,
        application_ids: &[i64],
        activity: Option<&Activity>,
    ) -> Result<(), StoreError>;
}

#[async_trait]
pub trait TagRepo: Send + Sync {
    /// The tags of each object (objects without tags are left out).
    async fn tags(&self, object: Taggable, ids: &[i64]) -> Result<Vec<ObjectTags>, StoreError>;
    /// `StoreError::Duplicate("tag")` when the object has this tag already.
    async fn add(
        &self,
        object: Taggable,
        id: i64,
        name: &str,
        value: &str,
        at: Timestamp,
        activity: Option<&Activity>,
    ) -> Result<i64, StoreError>;
    /// `StoreError::NotFound` when the object has no such tag.
    async fn remove(
        &self,
        object: Taggable,
        id: i64,
        tag_id: i64,
        activity: Option<&Activity>,
    ) -> Result<(), StoreError>;
    /// Ids of the objects that carry a matching tag.
    async fn tagged(&self, object: Taggable, filter: &TagFilter) -> Result<Vec<i64>, StoreError>;
    /// Gives each VM (vm id, template id) its template's tags, skipping the
    /// ones it has; part of a deployment, which records its own activities.
    async fn copy_template_tags(&self, vms: &[(i64, i64)], at: Timestamp) -> Result<(), StoreError>;
}
