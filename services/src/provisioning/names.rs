//! VM names and tags as Proxmox accepts them.
//!
//! A VM is named `<shortname>-<username>-<template>` (plus `-<copy>` for a
//! second copy of a template). Proxmox wants a DNS name; we make it one label
//! (at most 63 characters of `a-z`, `0-9` and inner `-`), so it also works as
//! the guest's hostname. Names must be the same on every run of a plan (they
//! are how a re-run finds what exists), so every decision here depends only
//! on the plan, never on the cluster or on order.

use std::collections::HashMap;

use sha2::{Digest, Sha256};

use super::{PlannedVm, ProvisionError};

/// The longest name: one DNS label.
pub const MAX_NAME_LEN: usize = 63;
/// Cap for the short name and the template part, so the username keeps room.
const MAX_SHORT_LEN: usize = 16;
const MAX_TEMPLATE_LEN: usize = 20;
/// Length of the hash suffix that keeps shortened or colliding names apart.
const HASH_LEN: usize = 6;

/// Lower-case ASCII letters and digits, other characters folded to one `-`,
/// German umlauts and common accents spelt out (`Müller` → `mueller`).
pub fn sanitize(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let push = |c: char, out: &mut String| {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    };
    for c in raw.chars() {
        let spelt: &str = match c {
            'ä' | 'Ä' => "ae",
            'ö' | 'Ö' => "oe",
            'ü' | 'Ü' => "ue",
            'ß' => "ss",
            'à' | 'á' | 'â' | 'ã' | 'å' | 'À' | 'Á' | 'Â' | 'Ã' | 'Å' => "a",
            'ç' | 'Ç' => "c",
            'è' | 'é' | 'ê' | 'ë' | 'È' | 'É' | 'Ê' | 'Ë' => "e",
            'ì' | 'í' | 'î' | 'ï' | 'Ì' | 'Í' | 'Î' | 'Ï' => "i",
            'ñ' | 'Ñ' => "n",
            'ò' | 'ó' | 'ô' | 'õ' | 'ø' | 'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ø' => "o",
            'ù' | 'ú' | 'û' | 'Ù' | 'Ú' | 'Û' => "u",
            'ý' | 'ÿ' | 'Ý' => "y",
            _ => {
                push(c, &mut out);
                continue;
            }
        };
        for s in spelt.chars() {
            push(s, &mut out);
        }
    }
    out.trim_end_matches('-').to_string()
}

fn short_hash(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    hex::encode(digest)[..HASH_LEN].to_string()
}

fn cut(part: &str, max: usize) -> String {
    part.chars().take(max).collect::<String>().trim_end_matches('-').to_string()
}

/// The raw parts of a name, for hashing: distinct plans entries give distinct texts.
fn identity(vm: &PlannedVm) -> String {
    format!("{}\u{1f}{}\u{1f}{}\u{1f}{}", vm.shortname, vm.username, vm.template_name, vm.copy)
}

/// `part` sanitised, or a stand-in derived from the raw text when nothing
/// printable is left (a username in another script).
fn part_or_hash(prefix: char, raw: &str) -> String {
    let clean = sanitize(raw);
    if clean.is_empty() { format!("{prefix}{}", short_hash(raw)) } else { clean }
}

/// The name of one planned VM on its own; `suffix` is appended (after a `-`)
/// within the length limit.
fn name_with(vm: &PlannedVm, suffix: Option<&str>) -> String {
    let short = cut(&part_or_hash('e', &vm.shortname), MAX_SHORT_LEN);
    let template = cut(&part_or_hash('t', &vm.template_name), MAX_TEMPLATE_LEN);
    let user = part_or_hash('u', &vm.username);
    let copy = if vm.copy > 1 { format!("-{}", vm.copy) } else { String::new() };
    let mut tail = copy;
    if let Some(suffix) = suffix {
        tail.push('-');
        tail.push_str(suffix);
    }
    let fixed = short.len() + template.len() + tail.len() + 2;
    let room = MAX_NAME_LEN.saturating_sub(fixed);
    if user.len() <= room {
        return format!("{short}-{user}-{template}{tail}");
    }
    // Too long: shorten the username and keep the result unique with a hash
    // of everything (a suffix given by the caller is such a hash already).
    if suffix.is_none() {
        tail.push('-');
        tail.push_str(&short_hash(&identity(vm)));
    }
    let room = MAX_NAME_LEN.saturating_sub(short.len() + template.len() + tail.len() + 2).max(1);
    format!("{short}-{}-{template}{tail}", cut(&user, room))
}

/// The names of every VM of a plan, in plan order. Entries whose names come
/// out equal after sanitising (`anna.b` and `anna_b`) each get a hash of
/// their own raw parts appended, so neither depends on the other's order.
pub fn assign(vms: &[PlannedVm]) -> Result<Vec<String>, ProvisionError> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    for vm in vms {
        if seen.insert(identity(vm), 0).is_some() {
            return Err(ProvisionError::InvalidPlan {
                message: format!(
                    "{} appears twice for {} (copy {}): give each copy its own number",
                    vm.template_name, vm.username, vm.copy
                ),
            });
        }
    }
    let plain: Vec<String> = vms.iter().map(|vm| name_with(vm, None)).collect();
    let mut count: HashMap<&str, usize> = HashMap::new();
    for name in &plain {
        *count.entry(name).or_default() += 1;
    }
    Ok(vms
        .iter()
        .zip(&plain)
        .map(
            |(vm, name)| {
                if count[name.as_str()] > 1 { name_with(vm, Some(&short_hash(&identity(vm)))) } else { name.clone() }
            },
        )
        .collect())
}

/// A Proxmox tag (`[a-z0-9_][a-z0-9_+.-]*`); `None` when nothing is left.
pub fn tag(raw: &str) -> Option<String> {
    let clean: String = raw
        .trim()
        .chars()
        .map(|c| c.to_ascii_lowercase())
        .map(|c| if c.is_ascii_alphanumeric() || "_+.-".contains(c) { c } else { '-' })
        .collect();
    let clean = clean.trim_start_matches(['-', '+', '.']).to_string();
    if clean.is_empty() { None } else { Some(clean) }
}

/// The tag that marks a VM as belonging to `owner` (e.g. an event).
pub fn owner_tag(owner: &str) -> String {
    format!("openvle-{}", tag(owner).unwrap_or_else(|| short_hash(owner)))
}

/// Whether a tag marks some owner (ours or another's).
pub fn is_owner_tag(tag: &str) -> bool {
    tag.starts_with("openvle-")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provisioning::TemplateRef;

    fn vm(short: &str, user: &str, template: &str) -> PlannedVm {
        PlannedVm {
            key: format!("{user}/{template}"),
            shortname: short.into(),
            username: user.into(),
            template_name: template.into(),
            copy: 1,
            source: TemplateRef { vmid: 9000, node: "pve1".into() },
            linked_clone: true,
            memory_mib: 1024,
            cores: 1,
            tags: vec![],
            description: String::new(),
        }
    }

    fn valid_dns_label(name: &str) -> bool {
        !name.is_empty()
            && name.len() <= MAX_NAME_LEN
            && !name.starts_with('-')
            && !name.ends_with('-')
            && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    }

    #[test]
    fn ordinary_names_read_naturally() {
        let names = assign(&[vm("net24", "anna", "Debian 12 Server")]).unwrap();
        assert_eq!(names, ["net24-anna-debian-12-server"]);
        assert_eq!(sanitize("Jürgen.Müller@Uni-Köln.de"), "juergen-mueller-uni-koeln-de");
        assert_eq!(sanitize("  --Ça va?  "), "ca-va");
    }

    #[test]
    fn odd_usernames_still_give_valid_names() {
        let odd = [
            "李雷",
            "___",
            "-",
            "user name with spaces",
            "UPPER.lower_mixed",
            "a".repeat(200).as_str(),
            "x@y",
            "émile",
            "o'brien",
        ]
        .map(String::from);
        let plan: Vec<PlannedVm> = odd.iter().map(|u| vm("ws-25", u, "Windows 11 Pro")).collect();
        let names = assign(&plan).unwrap();
        for (user, name) in odd.iter().zip(&names) {
            assert!(valid_dns_label(name), "{user:?} gave {name:?}");
            assert!(name.starts_with("ws-25-"), "{name}");
        }
        let distinct: std::collections::HashSet<&String> = names.iter().collect();
        assert_eq!(distinct.len(), names.len(), "{names:?}");
        assert_eq!(names[8], "ws-25-o-brien-windows-11-pro");
    }

    #[test]
    fn long_names_are_cut_and_kept_apart() {
        let a = "maximilian-alexander-von-und-zu-langenstein-a";
        let b = "maximilian-alexander-von-und-zu-langenstein-b";
        let names = assign(&[vm("course01", a, "ubuntu-24-desktop"), vm("course01", b, "ubuntu-24-desktop")]).unwrap();
        assert!(names.iter().all(|n| valid_dns_label(n) && n.len() <= 63), "{names:?}");
        assert_ne!(names[0], names[1]);
        assert!(names[0].starts_with("course01-maximilian"));
        assert!(names[0].contains("-ubuntu-24-desktop-"));
    }

    #[test]
    fn collisions_get_a_hash_that_does_not_depend_on_order() {
        let one = vm("sec1", "anna.b", "kali");
        let two = vm("sec1", "anna_b", "kali");
        let three = vm("sec1", "anna-b", "kali");
        let forward = assign(&[one.clone(), two.clone(), three.clone()]).unwrap();
        let backward = assign(&[three, two, one]).unwrap();
        assert_eq!(forward[0], backward[2]);
        assert_eq!(forward[2], backward[0]);
        let distinct: std::collections::HashSet<&String> = forward.iter().collect();
        assert_eq!(distinct.len(), 3, "{forward:?}");
        assert!(forward.iter().all(|n| n.starts_with("sec1-anna-b-kali-") && valid_dns_label(n)));
        // Without a collision the name stays plain.
        assert_eq!(assign(&[vm("sec1", "anna.b", "kali")]).unwrap(), ["sec1-anna-b-kali"]);
    }

    #[test]
    fn copies_are_numbered_and_duplicates_refused() {
        let mut second = vm("lab1", "bob", "debian");
        second.copy = 2;
        assert_eq!(assign(&[vm("lab1", "bob", "debian"), second]).unwrap(), ["lab1-bob-debian", "lab1-bob-debian-2"]);
        let err = assign(&[vm("lab1", "bob", "debian"), vm("lab1", "bob", "debian")]).unwrap_err();
        assert!(matches!(err, ProvisionError::InvalidPlan { .. }), "{err:?}");
    }

    #[test]
    fn tags_follow_proxmox_rules() {
        assert_eq!(tag("Course: Networks 1").as_deref(), Some("course--networks-1"));
        assert_eq!(tag("-+."), None);
        assert_eq!(owner_tag("event-42"), "openvle-event-42");
        assert!(is_owner_tag(&owner_tag("Ereignis 7")));
    }
}
