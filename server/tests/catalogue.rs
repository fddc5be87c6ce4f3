//! Tags and the catalogue over HTTP: who may manage and read the catalogue,
//! names unique regardless of case, linking an operating system and
//! applications to a template, tag filters on the template, environment and
//! VM lists, and deleting a vendor in use refused with its users named.

mod common;

use common::{Backend, Client, TestApp, json, ok};
use serde_json::Value;

/// The JSON error of a call that must fail, and its status.
async fn refused(client: &Client, name: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let reply = client.call(name, form).await;
    let body: Value = serde_json::from_str(&reply.body).unwrap_or_else(|_| panic!("{name}: {}", reply.body));
    assert!(body.get("error").is_some(), "{name} did not fail: {}", reply.body);
    (reply.status, body)
}

fn id_of(list: &Value, name: &str) -> String {
    list.as_array()
        .and_then(|items| items.iter().find(|i| i["name"] == name))
        .and_then(|i| i["id"].as_i64())
        .unwrap_or_else(|| panic!("{name} not in {list}"))
        .to_string()
}

#[tokio::test]
async fn catalogue_links_tags_and_refused_deletes() {
    let app = TestApp::start(Backend::Sqlite).await;
    let admin = app.signed_in("admin").await;
    let instructor = app.signed_in("instructor").await;
    let student = app.signed_in("student").await;

    // Administrators manage the catalogue; names are unique regardless of case.
    ok(&admin, "create_catalogue_item", &[("kind", "vendors"), ("name", "Microsoft")]).await;
    let (status, dup) = refused(&admin, "create_catalogue_item", &[("kind", "vendors"), ("name", "MICROSOFT")]).await;
    assert_eq!((status, dup["error"].as_str(), dup["field"].as_str()), (422, Some("invalid"), Some("name")));
    let vendors = json(&instructor, "list_catalogue", &[("kind", "vendors")]).await;
    assert_eq!(vendors["total"], 1);
    let vendor = id_of(&vendors["items"], "Microsoft");
    ok(
        &admin,
        "create_catalogue_item",
        &[("kind", "operating-systems"), ("name", "Windows 11"), ("vendor_id", &vendor)],
    )
    .await;
    ok(&admin, "create_catalogue_item", &[("kind", "applications"), ("name", "Office"), ("vendor_id", &vendor)]).await;
    let (_, no_vendor) = refused(&admin, "create_catalogue_item", &[("kind", "applications"), ("name", "Teams")]).await;
    assert_eq!(no_vendor["field"], "vendor_id");
    let (_, bad_kind) = refused(&admin, "list_catalogue", &[("kind", "manufacturers")]).await;
    assert_eq!(bad_kind["field"], "kind");
    // Instructors read it, students not at all.
    let (status, _) = refused(&instructor, "create_catalogue_item", &[("kind", "vendors"), ("name", "Mine")]).await;
    assert_eq!(status, 403);
    assert_eq!(refused(&student, "list_catalogue", &[("kind", "vendors")]).await.0, 403);
    let systems = json(&admin, "list_catalogue", &[("kind", "operating-systems"), ("vendor", &vendor)]).await;
    let windows = id_of(&systems["items"], "Windows 11");
    let apps = json(&admin, "list_catalogue", &[("kind", "applications")]).await;
    let office = id_of(&apps["items"], "Office");

    // A template with an operating system, an application and a tag.
    for name in ["Win lab", "Kali"] {
        ok(
            &admin,
            "create_template",
            &[
                ("name", name),
                ("proxmox_vmid", "9000"),
                ("node", "pve1"),
                ("cores", "2"),
                ("memory_mib", "2048"),
                ("disk_gib", "32"),
                ("protocol", "rdp"),
            ],
        )
        .await;
    }
    let templates = json(&admin, "list_templates", &[]).await;
    let win_lab = id_of(&templates, "Win lab");
    let link = [
        ("object", "templates"),
        ("id", win_lab.as_str()),
        ("operating_system_id", windows.as_str()),
        ("application_ids[]", office.as_str()),
    ];
    ok(&admin, "set_catalogue_links", &link).await;
    let links = json(&instructor, "object_catalogue", &[("object", "templates"), ("id", &win_lab)]).await;
    assert_eq!(
        (links["operating_system"]["name"].as_str(), links["applications"][0]["name"].as_str()),
        (Some("Windows 11"), Some("Office"))
    );
    assert_eq!(refused(&instructor, "set_catalogue_links", &link).await.0, 403);
    ok(&admin, "add_tag", &[("object", "templates"), ("id", &win_lab), ("name", "course"), ("value", "win-101")]).await;
    let (_, bad_tag) =
        refused(&admin, "add_tag", &[("object", "templates"), ("id", &win_lab), ("name", "no spaces"), ("value", "")])
            .await;
    assert_eq!(bad_tag["field"], "tag_name");
    assert_eq!(
        refused(&instructor, "add_tag", &[("object", "templates"), ("id", &win_lab), ("name", "x")]).await.0,
        403,
        "instructors do not edit templates"
    );

    // List filters by tag name, or name=value.
    let filtered = json(&instructor, "list_templates", &[("tag", "course")]).await;
    assert_eq!(filtered.as_array().map(|a| a.len()), Some(1));
    assert_eq!(filtered[0]["name"], "Win lab");
    assert_eq!(json(&admin, "list_templates", &[("tag", "course=win-101")]).await.as_array().map(|a| a.len()), Some(1));
    assert_eq!(json(&admin, "list_templates", &[("tag", "course=other")]).await.as_array().map(|a| a.len()), Some(0));
    let (status, bad_filter) = refused(&admin, "list_templates", &[("tag", "a b")]).await;
    assert_eq!((status, bad_filter["field"].as_str()), (422, Some("tag")));
    let tags = json(&admin, "tags_of", &[("object", "templates"), ("ids[]", &win_lab)]).await;
    assert_eq!(tags[0]["tags"][0]["name"], "course");

    // Environments: the instructor tags the one they created and filters by it.
    ok(&instructor, "create_environment", &[("name", "Office course")]).await;
    let envs = json(&instructor, "list_environments", &[]).await;
    let env = id_of(&envs, "Office course");
    ok(&instructor, "add_tag", &[("object", "environments"), ("id", &env), ("name", "term"), ("value", "2026w")]).await;
    ok(&instructor, "set_catalogue_links", &[("object", "environments"), ("id", &env), ("application_ids[]", &office)])
        .await;
    let envs = json(&instructor, "list_environments", &[("tag", "term=2026w")]).await;
    assert_eq!(envs.as_array().map(|a| a.len()), Some(1));
    assert_eq!(
        json(&instructor, "list_environments", &[("tag", "term=2025s")]).await.as_array().map(|a| a.len()),
        Some(0)
    );
    // The VM list takes the tag filter beside its others (no VM carries it yet).
    let vms = json(&admin, "list_vms", &[("tag", "course=win-101"), ("state", "running")]).await;
    assert_eq!(vms["total"], 0);

    // Deleting a vendor in use: refused, its users named, nothing changed.
    let (status, in_use) = refused(&admin, "delete_catalogue_item", &[("kind", "vendors"), ("id", &vendor)]).await;
    assert_eq!((status, in_use["error"].as_str()), (409, Some("in_use")));
    let used_by = in_use["used_by"].to_string();
    assert!(used_by.contains("Windows 11") && used_by.contains("Office"), "{used_by}");
    let (_, os_in_use) =
        refused(&admin, "delete_catalogue_item", &[("kind", "operating-systems"), ("id", &windows)]).await;
    assert!(os_in_use["used_by"].to_string().contains("Win lab"), "{os_in_use}");
    let (_, app_in_use) = refused(&admin, "delete_catalogue_item", &[("kind", "applications"), ("id", &office)]).await;
    assert!(app_in_use["used_by"].to_string().contains("Office course"), "{app_in_use}");
    assert_eq!(json(&admin, "list_catalogue", &[("kind", "vendors")]).await["total"], 1);
    // The delete page says so in words, without JavaScript too.
    let page = admin.get(&format!("/admin/catalogue/vendors/{vendor}/delete")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Microsoft"), "{}", page.body);

    // Unlinked, everything can go.
    ok(&admin, "set_catalogue_links", &[("object", "templates"), ("id", &win_lab)]).await;
    ok(&instructor, "set_catalogue_links", &[("object", "environments"), ("id", &env)]).await;
    ok(&admin, "delete_catalogue_item", &[("kind", "operating-systems"), ("id", &windows)]).await;
    ok(&admin, "delete_catalogue_item", &[("kind", "applications"), ("id", &office)]).await;
    ok(&admin, "delete_catalogue_item", &[("kind", "vendors"), ("id", &vendor)]).await;
    let list = admin.get("/admin/catalogue/vendors").await;
    assert!(list.body.contains("No vendors yet."), "empty state: {}", list.body);
}
