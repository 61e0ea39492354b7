//! `GET /flavors`, `/flavors/detail` and `/flavors/{id}` over the model's
//! catalogue ([`crate::model::flavor::FLAVORS`]), in the shapes of Nova's
//! `views/flavors.py` per microversion, and the flavor a server show embeds
//! (`views/servers.py` `_get_flavor`).
//!
//! Paging and filters (`limit`, `marker`, `minRam`, `sort_key`, ...) are not
//! served: the catalogue is three flavors.

use serde_json::{Value, json};

use crate::model::flavor::{self, Flavor};
use crate::model::microversion::Microversion;

use super::app::Call;
use super::servers::{admit, answer};

/// Where a view's links point: `{root}/{prefix}[/{project}]` for `self`,
/// `{root}[/{project}]` for `bookmark` (Nova's `_get_href_link` and
/// `_get_bookmark_link`, the project only when the URL has one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Links {
    href: String,
    bookmark: String,
}

impl Links {
    pub fn for_call(call: &Call<'_>) -> Links {
        let root = super::app::host_root(call.request);
        let project = call
            .url_project
            .as_deref()
            .map(|p| format!("/{p}"))
            .unwrap_or_default();
        Links {
            href: format!("{root}/{}{project}", call.mount.prefix),
            bookmark: format!("{root}{project}"),
        }
    }

    fn bookmark(&self, id: &str) -> Value {
        json!({"rel": "bookmark", "href": format!("{}/flavors/{id}", self.bookmark)})
    }

    fn both(&self, id: &str) -> Value {
        json!([
            {"rel": "self", "href": format!("{}/flavors/{id}", self.href)},
            self.bookmark(id),
        ])
    }
}

/// A server's `flavor` at `version`: `{"id", "links"}` below 2.47, the
/// flavor's own fields from 2.47. `extra_specs` is shown to whoever may see
/// the server (`show:flavor-extra-specs` is `PROJECT_READER_OR_ADMIN`).
pub fn in_server(flavor: &Flavor, version: Microversion, links: &Links) -> Value {
    if version < flavor::EMBEDDED_IN_SERVER_FROM {
        return json!({"id": flavor.id, "links": [links.bookmark(flavor.id)]});
    }
    json!({
        "vcpus": flavor.vcpus,
        "ram": flavor.ram_mb,
        "disk": flavor.disk_gb,
        "ephemeral": flavor.ephemeral_gb,
        "swap": flavor.swap_mb,
        "original_name": flavor.name,
        "extra_specs": {},
    })
}

/// `GET /flavors` entry (`views/flavors.py` `basic`).
fn basic(flavor: &Flavor, version: Microversion, links: &Links) -> Value {
    let mut shown = json!({"id": flavor.id, "name": flavor.name, "links": links.both(flavor.id)});
    if version >= flavor::DESCRIPTION_FROM {
        shown["description"] = Value::Null;
    }
    shown
}

/// `GET /flavors/detail` entry and `GET /flavors/{id}` (`views/flavors.py`
/// `show`).
fn detailed(flavor: &Flavor, version: Microversion, links: &Links) -> Value {
    let swap = match flavor.swap_mb {
        0 if version < flavor::SWAP_INTEGER_FROM => json!(""),
        mb => json!(mb),
    };
    let mut shown = json!({
        "id": flavor.id,
        "name": flavor.name,
        "ram": flavor.ram_mb,
        "disk": flavor.disk_gb,
        "swap": swap,
        "OS-FLV-EXT-DATA:ephemeral": flavor.ephemeral_gb,
        "vcpus": flavor.vcpus,
        "os-flavor-access:is_public": true,
        "links": links.both(flavor.id),
    });
    if version < flavor::NO_DISABLED_RXTX_FROM {
        shown["OS-FLV-DISABLED:disabled"] = json!(false);
        shown["rxtx_factor"] = json!(1.0);
    }
    if version >= flavor::DESCRIPTION_FROM {
        shown["description"] = Value::Null;
    }
    if version >= flavor::EXTRA_SPECS_FROM {
        shown["extra_specs"] = json!({});
    }
    shown
}

/// `GET /flavors` and `/flavors/detail`: every flavor, in id order.
pub fn list(call: &Call<'_>, detail: bool) -> super::message::HttpResponse {
    let admitted = match admit(call, false) {
        Ok(a) => a,
        Err(response) => return response,
    };
    let version = admitted.version;
    let at = version.unwrap_or(Microversion::BASE);
    let links = Links::for_call(call);
    let flavors: Vec<Value> = flavor::FLAVORS
        .iter()
        .map(|f| match detail {
            true => detailed(f, at, &links),
            false => basic(f, at, &links),
        })
        .collect();
    answer(call, 200, &json!({ "flavors": flavors }), version)
}

/// `GET /flavors/{id}`: 404 `FlavorNotFound` for an unknown id.
pub fn show(call: &Call<'_>) -> super::message::HttpResponse {
    let admitted = match admit(call, false) {
        Ok(a) => a,
        Err(response) => return response,
    };
    let version = admitted.version;
    let id = call.captures.flavor.as_deref().unwrap_or_default();
    match flavor::find(id) {
        Some(found) => {
            let at = version.unwrap_or(Microversion::BASE);
            let shown = detailed(&found, at, &Links::for_call(call));
            answer(call, 200, &json!({ "flavor": shown }), version)
        }
        None => call.refuse(&flavor::not_found(id), version),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn links() -> Links {
        Links {
            href: "http://h/v2.1/p".into(),
            bookmark: "http://h/p".into(),
        }
    }

    #[test]
    fn server_flavor_changes_shape_at_2_47() {
        let tiny = flavor::DEFAULT;
        let old = in_server(&tiny, Microversion::new(2, 46), &links());
        assert_eq!(
            old,
            json!({"id": "1", "links": [{"rel": "bookmark", "href": "http://h/p/flavors/1"}]})
        );
        let new = in_server(&tiny, Microversion::new(2, 47), &links());
        assert_eq!(new["original_name"], "m1.tiny");
        assert_eq!(new["swap"], 0);
        assert!(new.get("id").is_none() && new["extra_specs"].is_object());
    }

    #[test]
    fn detail_fields_follow_the_microversion() {
        let tiny = flavor::DEFAULT;
        let base = detailed(&tiny, Microversion::BASE, &links());
        assert_eq!(base["swap"], "");
        assert_eq!(base["OS-FLV-DISABLED:disabled"], false);
        assert!(base.get("description").is_none() && base.get("extra_specs").is_none());
        let latest = detailed(&tiny, Microversion::new(2, 102), &links());
        assert_eq!(latest["swap"], 0);
        assert!(latest.get("rxtx_factor").is_none());
        assert!(latest["description"].is_null() && latest["extra_specs"].is_object());
        assert_eq!(latest["links"][0]["href"], "http://h/v2.1/p/flavors/1");
    }
}
