//! Tags and the infrastructure catalogue.
//!
//! A tag is a name and an optional value on a template, an environment or a
//! VM; lists filter by `name` or `name=value`. Tags follow Proxmox's tag
//! syntax, because deployment copies a template's tags onto its VMs in the
//! cluster too. The catalogue holds vendors, the operating systems and
//! applications they make; templates name one operating system and any
//! number of applications, environments applications, and VMs inherit their
//! template's.

use serde::{Deserialize, Serialize};

use crate::error::{AppError, Problem};
use crate::validate;

// --------------------------------------------------------------------- tags

/// What can carry tags and catalogue links.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Taggable {
    Template,
    Environment,
    Vm,
}

impl Taggable {
    pub const ALL: [Taggable; 3] = [Taggable::Template, Taggable::Environment, Taggable::Vm];

    /// Also the activity target kind and the URL segment of the object's page.
    pub fn key(self) -> &'static str {
        match self {
            Taggable::Template => "templates",
            Taggable::Environment => "environments",
            Taggable::Vm => "vms",
        }
    }

    pub fn from_key(key: &str) -> Option<Taggable> {
        Taggable::ALL.into_iter().find(|t| t.key() == key)
    }

    /// The object's page, where its tags are added and removed.
    pub fn page(self, id: i64) -> String {
        format!("/{}/{id}", self.key())
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    pub id: i64,
    pub name: String,
    /// Empty: a tag without value.
    pub value: String,
}

impl Tag {
    /// `name` or `name=value`, as lists show it and filters take it.
    pub fn label(&self) -> String {
        if self.value.is_empty() { self.name.clone() } else { format!("{}={}", self.name, self.value) }
    }

    /// The Proxmox tag deployment puts on the VM: `name` or `name-value`
    /// (Proxmox tags know no `=`).
    pub fn proxmox(&self) -> String {
        if self.value.is_empty() { self.name.clone() } else { format!("{}-{}", self.name, self.value) }
    }
}

/// The tags of one object (lists show them next to each row).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectTags {
    pub id: i64,
    pub tags: Vec<Tag>,
}

pub const TAG_NAME_MAX: usize = 64;
pub const TAG_VALUE_MAX: usize = 64;
/// Deployment marks the VMs it owns with `openvle-<owner>` tags; a user's tag
/// of that shape would make another event's decommission take the VM for its own.
pub const RESERVED_TAG_PREFIX: &str = "openvle";

/// Proxmox's tag syntax: `[a-z0-9_][a-z0-9_+.-]*` (we store lowercase).
fn proxmox_tag_part(field: &str, raw: &str, max: usize, required: bool) -> Result<String, AppError> {
    let value = raw.trim().to_lowercase();
    if value.is_empty() {
        return if required { Err(AppError::invalid(field, Problem::Required)) } else { Ok(value) };
    }
    if value.chars().count() > max {
        return Err(AppError::invalid(field, Problem::TooLong { max }));
    }
    let first_ok = value.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    let rest_ok = value.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_+.-".contains(c));
    if !first_ok || !rest_ok {
        return Err(AppError::invalid(field, Problem::Format { expected: "tag".into() }));
    }
    Ok(value)
}

/// A tag as typed: name required, value optional, both in Proxmox's tag syntax.
pub fn validate_tag(name: &str, value: &str) -> Result<(String, String), AppError> {
    let name = proxmox_tag_part("tag_name", name, TAG_NAME_MAX, true)?;
    if name.starts_with(RESERVED_TAG_PREFIX) {
        return Err(AppError::invalid("tag_name", Problem::Format { expected: "tag_reserved".into() }));
    }
    let value = proxmox_tag_part("tag_value", value, TAG_VALUE_MAX, false)?;
    Ok((name, value))
}

/// A list filter: objects with a tag of this name (and this value, if given).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagFilter {
    pub name: String,
    pub value: Option<String>,
}

impl TagFilter {
    /// `name` or `name=value`; empty input is no filter. Input that no tag
    /// could match is refused, so a typo is not answered with an empty list.
    pub fn parse(raw: &str) -> Result<Option<TagFilter>, AppError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Ok(None);
        }
        let (name, value) = match raw.split_once('=') {
            Some((name, value)) => (name, Some(value)),
            None => (raw, None),
        };
        let name = proxmox_tag_part("tag", name, TAG_NAME_MAX, true)?;
        let value = match value {
            Some(v) => Some(proxmox_tag_part("tag", v, TAG_VALUE_MAX, false)?),
            None => None,
        };
        Ok(Some(TagFilter { name, value }))
    }

    pub fn matches(&self, tag: &Tag) -> bool {
        tag.name == self.name && self.value.as_ref().is_none_or(|v| *v == tag.value)
    }
}

// ---------------------------------------------------------------- catalogue

/// The three lists of the catalogue.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CatalogueKind {
    Vendor,
    OperatingSystem,
    Application,
}

impl CatalogueKind {
    pub const ALL: [CatalogueKind; 3] =
        [CatalogueKind::Vendor, CatalogueKind::OperatingSystem, CatalogueKind::Application];

    /// The URL segment (`/catalogue/operating-systems`).
    pub fn key(self) -> &'static str {
        match self {
            CatalogueKind::Vendor => "vendors",
            CatalogueKind::OperatingSystem => "operating-systems",
            CatalogueKind::Application => "applications",
        }
    }

    pub fn from_key(key: &str) -> Option<CatalogueKind> {
        CatalogueKind::ALL.into_iter().find(|k| k.key() == key)
    }

    /// The area of its activities (`vendor.create`, `operating_system.delete`).
    pub fn activity_area(self) -> &'static str {
        match self {
            CatalogueKind::Vendor => "vendor",
            CatalogueKind::OperatingSystem => "operating_system",
            CatalogueKind::Application => "application",
        }
    }

    /// Operating systems and applications belong to a vendor.
    pub fn has_vendor(self) -> bool {
        self != CatalogueKind::Vendor
    }
}

/// A vendor, operating system or application.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogueItem {
    pub id: i64,
    pub kind: CatalogueKind,
    pub name: String,
    /// Version, architecture, notes.
    pub description: String,
    /// (id, name) of the vendor; `None` for vendors.
    pub vendor: Option<(i64, String)>,
}

/// A catalogue entry as links show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemRef {
    pub id: i64,
    pub name: String,
}

/// What a template, environment or VM is linked to. VMs show their template's.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogueLinks {
    pub operating_system: Option<ItemRef>,
    pub applications: Vec<ItemRef>,
}

/// Where a catalogue entry is used: the kind of user (`operating_systems`,
/// `applications`, `templates`, `environments`) and their names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub kind: String,
    pub names: Vec<String>,
}

/// A catalogue entry's fields after validation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CatalogueFields {
    pub name: String,
    /// Lowercase name: names are unique regardless of case.
    pub name_key: String,
    pub description: String,
    pub vendor_id: Option<i64>,
}

pub fn validate_item(
    kind: CatalogueKind,
    name: &str,
    description: &str,
    vendor_id: Option<i64>,
) -> Result<CatalogueFields, AppError> {
    let name = validate::line("name", name, validate::NAME_MAX)?;
    let description = validate::text("description", description, validate::DESCRIPTION_MAX)?;
    let vendor_id = match (kind.has_vendor(), vendor_id) {
        (true, None) => return Err(AppError::invalid("vendor_id", Problem::Required)),
        (true, Some(id)) => Some(id),
        (false, _) => None,
    };
    Ok(CatalogueFields { name_key: name.to_lowercase(), name, description, vendor_id })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_follow_proxmox_syntax_and_keep_our_prefix_free() {
        assert_eq!(validate_tag(" Course ", "Net-101").unwrap(), ("course".into(), "net-101".into()));
        assert_eq!(validate_tag("lab_1", "").unwrap(), ("lab_1".into(), String::new()));
        let field = |name: &str, value: &str| validate_tag(name, value).unwrap_err().field().map(str::to_string);
        assert_eq!(field("", "x").as_deref(), Some("tag_name"));
        assert_eq!(field("-lab", "").as_deref(), Some("tag_name"));
        assert_eq!(field("la b", "").as_deref(), Some("tag_name"));
        assert_eq!(field("lab", "a=b").as_deref(), Some("tag_value"));
        assert_eq!(field("lab", "ä").as_deref(), Some("tag_value"));
        assert_eq!(field(&"x".repeat(65), "").as_deref(), Some("tag_name"));
        assert_eq!(
            validate_tag("openvle-event-3", ""),
            Err(AppError::invalid("tag_name", Problem::Format { expected: "tag_reserved".into() }))
        );
    }

    #[test]
    fn tag_filters_take_a_name_or_a_pair() {
        assert_eq!(TagFilter::parse("  ").unwrap(), None);
        let by_name = TagFilter::parse("Course").unwrap().unwrap();
        assert_eq!(by_name, TagFilter { name: "course".into(), value: None });
        let pair = TagFilter::parse("course=net-101").unwrap().unwrap();
        assert_eq!(pair.value.as_deref(), Some("net-101"));
        let tag = |name: &str, value: &str| Tag { id: 1, name: name.into(), value: value.into() };
        assert!(by_name.matches(&tag("course", "anything")));
        assert!(pair.matches(&tag("course", "net-101")));
        assert!(!pair.matches(&tag("course", "net-102")));
        assert!(!pair.matches(&tag("lab", "net-101")));
        assert!(TagFilter::parse("a b").is_err());
        assert_eq!(tag("course", "net-101").label(), "course=net-101");
        assert_eq!(tag("course", "net-101").proxmox(), "course-net-101");
        assert_eq!(tag("lab", "").proxmox(), "lab");
    }

    #[test]
    fn catalogue_entries_need_a_name_and_their_vendor() {
        let os = validate_item(CatalogueKind::OperatingSystem, " Debian 12 ", "amd64", Some(3)).unwrap();
        assert_eq!((os.name.as_str(), os.name_key.as_str(), os.vendor_id), ("Debian 12", "debian 12", Some(3)));
        let vendor = validate_item(CatalogueKind::Vendor, "Proxmox", "", Some(3)).unwrap();
        assert_eq!(vendor.vendor_id, None, "vendors have no vendor");
        let field =
            |kind, name: &str, vendor| validate_item(kind, name, "", vendor).unwrap_err().field().map(str::to_string);
        assert_eq!(field(CatalogueKind::Application, "Office", None).as_deref(), Some("vendor_id"));
        assert_eq!(field(CatalogueKind::Vendor, "  ", None).as_deref(), Some("name"));
        assert_eq!(field(CatalogueKind::Vendor, &"x".repeat(129), None).as_deref(), Some("name"));
        for kind in CatalogueKind::ALL {
            assert_eq!(CatalogueKind::from_key(kind.key()), Some(kind));
        }
    }
}
