//! The catalogue (vendors, operating systems, applications), its links to
//! templates and environments, and tags on templates, environments and VMs.

use domain::catalogue::{CatalogueItem, CatalogueLinks, ObjectTags, Tag};
use domain::page::Page;
use leptos::prelude::*;

use crate::error::ApiResult;

#[cfg(feature = "ssr")]
fn kind(key: &str) -> Result<domain::catalogue::CatalogueKind, domain::AppError> {
    domain::catalogue::CatalogueKind::from_key(key)
        .ok_or_else(|| domain::AppError::invalid("kind", domain::error::Problem::Unknown))
}

#[cfg(feature = "ssr")]
fn object(key: &str) -> Result<domain::catalogue::Taggable, domain::AppError> {
    domain::catalogue::Taggable::from_key(key)
        .ok_or_else(|| domain::AppError::invalid("object", domain::error::Problem::Unknown))
}

// ---------------------------------------------------------------- catalogue

/// `kind`: `vendors`, `operating-systems` or `applications`; `vendor` limits
/// the latter two to one vendor.
#[server]
pub async fn list_catalogue(
    kind: String,
    vendor: Option<i64>,
    page: Option<u32>,
    per_page: Option<u32>,
) -> ApiResult<Page<CatalogueItem>> {
    use super::context;
    let actor = context::actor().await?;
    let request = domain::page::PageRequest::new(page, per_page);
    Ok(context::state()?.services.list_catalogue(&actor, self::kind(&kind)?, vendor, request).await?)
}

#[server]
pub async fn get_catalogue_item(kind: String, id: i64) -> ApiResult<CatalogueItem> {
    use super::context;
    let actor = context::actor().await?;
    Ok(context::state()?.services.get_catalogue_item(&actor, self::kind(&kind)?, id).await?)
}

#[server]
pub async fn create_catalogue_item(
    kind: String,
    name: String,
    #[server(default)] description: String,
    #[server(default)] vendor_id: Option<i64>,
) -> ApiResult<()> {
    use super::context;
    let actor = context::actor().await?;
    let input = services::catalogue::CatalogueInput { name, description, vendor_id };
    context::state()?.services.create_catalogue_item(&actor, self::kind(&kind)?, &input).await?;
    context::redirect_with_flash(&format!("/admin/catalogue/{kind}"), super::flash::CREATED);
    Ok(())
}

#[server]
pub async fn update_catalogue_item(
    kind: String,
    id: i64,
    name: String,
    #[server(default)] description: String,
    #[server(default)] vendor_id: Option<i64>,
) -> ApiResult<()> {
    use super::context;
    let actor = context::actor().await?;
    let input = services::catalogue::CatalogueInput { name, description, vendor_id };
    context::state()?.services.update_catalogue_item(&actor, self::kind(&kind)?, id, &input).await?;
    context::redirect_with_flash(&format!("/admin/catalogue/{kind}/{id}"), super::flash::SAVED);
    Ok(())
}

/// Refused while anything uses the entry; the error names what does.
#[server]
pub async fn delete_catalogue_item(kind: String, id: i64) -> ApiResult<()> {
    use super::context;
    let actor = context::actor().await?;
    context::state()?.services.delete_catalogue_item(&actor, self::kind(&kind)?, id).await?;
    context::redirect_with_flash(&format!("/admin/catalogue/{kind}"), super::flash::DELETED);
    Ok(())
}

/// `object`: `templates`, `environments` or `vms` (a VM shows its template's links).
#[server]
pub async fn object_catalogue(object: String, id: i64) -> ApiResult<CatalogueLinks> {
    use super::context;
    let actor = context::actor().await?;
    Ok(context::state()?.services.object_catalogue(&actor, self::object(&object)?, id).await?)
}

/// `operating_system_id`: empty for none (templates only).
#[server]
pub async fn set_catalogue_links(
    object: String,
    id: i64,
    #[server(default)] operating_system_id: String,
    #[server(default)] application_ids: Vec<i64>,
) -> ApiResult<()> {
    use super::context;
    let actor = context::actor().await?;
    let object = self::object(&object)?;
    let operating_system_id = match operating_system_id.trim() {
        "" => None,
        raw => Some(
            raw.parse::<i64>()
                .map_err(|_| domain::AppError::invalid("operating_system_id", domain::error::Problem::Unknown))?,
        ),
    };
    context::state()?.services.set_catalogue_links(&actor, object, id, operating_system_id, &application_ids).await?;
    context::redirect_with_flash(&object.page(id), super::flash::SAVED);
    Ok(())
}

// --------------------------------------------------------------------- tags

#[server]
pub async fn list_tags(object: String, id: i64) -> ApiResult<Vec<Tag>> {
    use super::context;
    let actor = context::actor().await?;
    Ok(context::state()?.services.object_tags(&actor, self::object(&object)?, id).await?)
}

/// The tags of the listed objects the caller may read (for list pages).
#[server]
pub async fn tags_of(object: String, #[server(default)] ids: Vec<i64>) -> ApiResult<Vec<ObjectTags>> {
    use super::context;
    let actor = context::actor().await?;
    Ok(context::state()?.services.tags_of(&actor, self::object(&object)?, &ids).await?)
}

#[server]
pub async fn add_tag(object: String, id: i64, name: String, #[server(default)] value: String) -> ApiResult<()> {
    use super::context;
    let actor = context::actor().await?;
    let object = self::object(&object)?;
    context::state()?.services.add_tag(&actor, object, id, &name, &value).await?;
    context::redirect_with_flash(&object.page(id), super::flash::SAVED);
    Ok(())
}

#[server]
pub async fn remove_tag(object: String, id: i64, tag_id: i64) -> ApiResult<()> {
    use super::context;
    let actor = context::actor().await?;
    let object = self::object(&object)?;
    context::state()?.services.remove_tag(&actor, object, id, tag_id).await?;
    context::redirect_with_flash(&object.page(id), super::flash::SAVED);
    Ok(())
}
