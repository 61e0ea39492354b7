//! Which flavor to resize a server to (issue 7): Nova refuses a resize to
//! the server's own flavor with 400 "When resizing, instances must change
//! flavor!" (`nova/compute/api.py` `resize`), so the flavor has to be chosen
//! per server, from what the cloud offers.
//!
//! Pure functions over response bodies: [`parse_flavor_list`] reads
//! `GET {endpoint}/flavors` or `/flavors/detail`, [`parse_server_flavor`]
//! reads `GET /servers/{id}` in either microversion shape, and
//! [`pick_resize_flavor`] chooses. The caller sends the requests
//! ([`FLAVOR_DETAIL_PATH`], [`Target::url`]).

use std::cmp::Ordering;

use serde_json::Value;

use super::Target;

/// The flavor list, relative to the endpoint: ids and names only.
pub const FLAVOR_LIST_PATH: &str = "/flavors";
/// The flavor list with sizes, relative to the endpoint; preferred, since
/// [`pick_resize_flavor`] then avoids shrinking the disk.
pub const FLAVOR_DETAIL_PATH: &str = "/flavors/detail";

/// `{endpoint}/flavors/detail` of `target`.
pub fn flavor_detail_url(target: &Target) -> String {
    target.url(FLAVOR_DETAIL_PATH, "", None)
}

/// `{endpoint}/flavors` of `target`.
pub fn flavor_list_url(target: &Target) -> String {
    target.url(FLAVOR_LIST_PATH, "", None)
}

/// One entry of a flavor list. The sizes are there in `/flavors/detail`
/// only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlavorEntry {
    pub id: String,
    pub name: String,
    /// `disk`, GiB.
    pub disk: Option<u64>,
}

/// A server's flavor as server show reports it: below microversion 2.47
/// `{"id": "1", "links": [...]}`, from 2.47 `{"original_name": "m1.tiny",
/// "disk": 1, ...}` without the id (`views/servers.py` `_get_flavor`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CurrentFlavor {
    Id(String),
    Name { name: String, disk: Option<u64> },
}

impl CurrentFlavor {
    /// Whether `entry` is this flavor.
    pub fn is(&self, entry: &FlavorEntry) -> bool {
        match self {
            CurrentFlavor::Id(id) => &entry.id == id,
            CurrentFlavor::Name { name, .. } => &entry.name == name,
        }
    }

    /// The flavor's disk, from the show body or else from the list.
    fn disk(&self, flavors: &[FlavorEntry]) -> Option<u64> {
        match self {
            CurrentFlavor::Name {
                disk: Some(disk), ..
            } => Some(*disk),
            _ => flavors.iter().find(|f| self.is(f)).and_then(|f| f.disk),
        }
    }
}

/// A body that is not the expected shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FlavorParseError(pub String);

/// No flavor in the list is not the server's own.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no flavor other than the server's own ({current}) is offered ({offered} listed)")]
pub struct NoOtherFlavor {
    pub current: String,
    pub offered: usize,
}

/// Read `{"flavors": [{"id": "1", "name": "m1.tiny", ...}, ...]}`.
pub fn parse_flavor_list(body: &Value) -> Result<Vec<FlavorEntry>, FlavorParseError> {
    let items = body
        .get("flavors")
        .and_then(Value::as_array)
        .ok_or_else(|| FlavorParseError("flavor list lacks a `flavors` array".into()))?;
    items
        .iter()
        .map(|item| {
            let id = id_text(item.get("id"))
                .ok_or_else(|| FlavorParseError(format!("flavor without an id: {item}")))?;
            let name = item
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            let disk = item.get("disk").and_then(Value::as_u64);
            Ok(FlavorEntry { id, name, disk })
        })
        .collect()
}

/// Read the `flavor` of `{"server": {...}}` in either shape.
pub fn parse_server_flavor(body: &Value) -> Result<CurrentFlavor, FlavorParseError> {
    let flavor = body
        .get("server")
        .and_then(|s| s.get("flavor"))
        .ok_or_else(|| FlavorParseError("server show lacks `server.flavor`".into()))?;
    if let Some(id) = id_text(flavor.get("id")) {
        return Ok(CurrentFlavor::Id(id));
    }
    match flavor.get("original_name").and_then(Value::as_str) {
        Some(name) => Ok(CurrentFlavor::Name {
            name: name.to_string(),
            disk: flavor.get("disk").and_then(Value::as_u64),
        }),
        None => Err(FlavorParseError(format!(
            "server flavor has neither `id` nor `original_name`: {flavor}"
        ))),
    }
}

/// The flavor to resize a server with flavor `current` to: the first, in id
/// order (numeric ids by value), that is not `current` and whose disk is not
/// smaller than the current one's where both are known (libvirt cannot
/// shrink a local disk); failing that, the first that is not `current`
/// (a volume-backed server can shrink).
pub fn pick_resize_flavor(
    current: &CurrentFlavor,
    flavors: &[FlavorEntry],
) -> Result<String, NoOtherFlavor> {
    let mut others: Vec<&FlavorEntry> = flavors.iter().filter(|f| !current.is(f)).collect();
    others.sort_by(|a, b| id_order(&a.id, &b.id));
    let current_disk = current.disk(flavors);
    let keeps_disk = |f: &&&FlavorEntry| match (current_disk, f.disk) {
        (Some(now), Some(then)) => then >= now,
        _ => true,
    };
    others
        .iter()
        .find(keeps_disk)
        .or_else(|| others.first())
        .map(|f| f.id.clone())
        .ok_or_else(|| NoOtherFlavor {
            current: match current {
                CurrentFlavor::Id(id) => id.clone(),
                CurrentFlavor::Name { name, .. } => name.clone(),
            },
            offered: flavors.len(),
        })
}

/// A flavor id as text (Nova's are strings; tolerate numbers).
fn id_text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Numeric ids by value (`"2"` before `"10"`), before any other id, which
/// sort as text.
fn id_order(a: &str, b: &str) -> Ordering {
    match (a.parse::<u64>(), b.parse::<u64>()) {
        (Ok(x), Ok(y)) => x.cmp(&y),
        (Ok(_), Err(_)) => Ordering::Less,
        (Err(_), Ok(_)) => Ordering::Greater,
        (Err(_), Err(_)) => a.cmp(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn list() -> Vec<FlavorEntry> {
        parse_flavor_list(&json!({"flavors": [
            {"id": "3", "name": "m1.medium", "links": []},
            {"id": "1", "name": "m1.tiny", "links": []},
            {"id": "2", "name": "m1.small", "links": []},
        ]}))
        .unwrap()
    }

    #[test]
    fn both_show_shapes_are_read() {
        let old =
            json!({"server": {"flavor": {"id": "1", "links": [{"rel": "bookmark", "href": "x"}]}}});
        assert_eq!(parse_server_flavor(&old), Ok(CurrentFlavor::Id("1".into())));
        let new = json!({"server": {"flavor": {"original_name": "m1.tiny", "vcpus": 1, "ram": 512,
            "disk": 1, "ephemeral": 0, "swap": 0, "extra_specs": {}}}});
        assert_eq!(
            parse_server_flavor(&new),
            Ok(CurrentFlavor::Name {
                name: "m1.tiny".into(),
                disk: Some(1)
            })
        );
        assert!(parse_server_flavor(&json!({"server": {}})).is_err());
        assert!(parse_server_flavor(&json!({"server": {"flavor": {}}})).is_err());
        assert!(parse_flavor_list(&json!({"flavor": []})).is_err());
        assert!(parse_flavor_list(&json!({"flavors": [{"name": "x"}]})).is_err());
    }

    #[test]
    fn picks_the_first_other_flavor_by_id_matching_by_id_or_name() {
        let flavors = list();
        let by_id = |id: &str| pick_resize_flavor(&CurrentFlavor::Id(id.into()), &flavors);
        assert_eq!(by_id("1").as_deref(), Ok("2"));
        assert_eq!(by_id("2").as_deref(), Ok("1"));
        assert_eq!(by_id("9").as_deref(), Ok("1"), "an unlisted flavor");
        let by_name = |name: &str| {
            let current = CurrentFlavor::Name {
                name: name.into(),
                disk: None,
            };
            pick_resize_flavor(&current, &flavors)
        };
        assert_eq!(by_name("m1.tiny").as_deref(), Ok("2"));
        assert_eq!(by_name("m1.small").as_deref(), Ok("1"));
    }

    #[test]
    fn numeric_ids_sort_by_value() {
        let flavors = parse_flavor_list(&json!({"flavors": [
            {"id": "10", "name": "big"}, {"id": "abc", "name": "named"},
            {"id": "2", "name": "small"}, {"id": 1, "name": "tiny"},
        ]}))
        .unwrap();
        let pick = pick_resize_flavor(&CurrentFlavor::Id("1".into()), &flavors);
        assert_eq!(pick.as_deref(), Ok("2"));
        let pick = pick_resize_flavor(&CurrentFlavor::Id("2".into()), &flavors);
        assert_eq!(pick.as_deref(), Ok("1"));
    }

    #[test]
    fn a_known_disk_is_not_shrunk_unless_nothing_else_is_left() {
        let flavors = parse_flavor_list(&json!({"flavors": [
            {"id": "1", "name": "m1.tiny", "disk": 1},
            {"id": "2", "name": "m1.small", "disk": 20},
            {"id": "3", "name": "m1.medium", "disk": 40},
        ]}))
        .unwrap();
        let by_id = |id: &str| pick_resize_flavor(&CurrentFlavor::Id(id.into()), &flavors);
        assert_eq!(by_id("2").as_deref(), Ok("3"));
        assert_eq!(
            by_id("3").as_deref(),
            Ok("1"),
            "largest: fall back to id order"
        );
        let current = CurrentFlavor::Name {
            name: "gone".into(),
            disk: Some(20),
        };
        assert_eq!(pick_resize_flavor(&current, &flavors).as_deref(), Ok("2"));
    }

    #[test]
    fn only_the_current_flavor_is_an_error() {
        let flavors =
            parse_flavor_list(&json!({"flavors": [{"id": "1", "name": "m1.tiny"}]})).unwrap();
        let err = pick_resize_flavor(&CurrentFlavor::Id("1".into()), &flavors).unwrap_err();
        assert_eq!(
            err,
            NoOtherFlavor {
                current: "1".into(),
                offered: 1
            }
        );
        assert!(pick_resize_flavor(&CurrentFlavor::Id("1".into()), &[]).is_err());
    }
}
