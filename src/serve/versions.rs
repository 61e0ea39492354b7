//! The version documents (spec §6.2): `GET /` lists the mounts,
//! `GET /v2.1` and `/v2.1/` describe one. No authentication, as in Nova.

use serde_json::{Value, json};

use super::message::HttpResponse;
use super::respond;
use super::routes::{Mount, Site};

fn entry(mount: &Mount, root: &str) -> Value {
    let href = format!("{root}/{}/", mount.prefix);
    let links = json!([{"rel": "self", "href": href}]);
    let current = !mount.profile.rules.legacy && mount.prefix != "v2";
    match mount.profile.rules.microversions {
        Some((min, max)) if current => json!({
            "id": mount.prefix,
            "status": "CURRENT",
            "version": max.to_string(),
            "min_version": min.to_string(),
            "updated": "2013-07-23T11:33:21Z",
            "links": links,
        }),
        _ => json!({
            "id": "v2.0",
            "status": "SUPPORTED",
            "version": "",
            "min_version": "",
            "updated": "2011-01-21T11:33:21Z",
            "links": links,
        }),
    }
}

/// `GET /`.
pub fn list(site: &Site, root: &str) -> HttpResponse {
    let versions: Vec<Value> = site.mounts.iter().map(|m| entry(m, root)).collect();
    respond::document(200, &json!({ "versions": versions }))
}

/// Any other path outside the API prefixes on Nova: 300 Multiple Choices,
/// one entry per version with the path under it
/// (nova/api/openstack/compute/versions.py `Versions.multi`,
/// views/versions.py `build_choices`, Nova 34's table).
pub fn choices(path: &str, root: &str) -> HttpResponse {
    let entry = |id: &str, prefix: &str, status: &str, media: &str| {
        json!({
            "id": id,
            "status": status,
            "links": [{"rel": "self", "href": format!("{root}/{prefix}{path}")}],
            "media-types": [{
                "base": "application/json",
                "type": format!("application/vnd.openstack.compute+json;version={media}"),
            }],
        })
    };
    let choices = json!({"choices": [
        entry("v2.0", "v2", "DEPRECATED", "2"),
        entry("v2.1", "v2.1", "CURRENT", "2.1"),
    ]});
    respond::document(300, &choices)
}

/// `GET /<prefix>` or `/<prefix>/`.
pub fn document(mount: &Mount, root: &str) -> HttpResponse {
    respond::document(200, &json!({ "version": entry(mount, root) }))
}
