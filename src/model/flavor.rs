//! Flavors: the size a server has, and what `resize` may change it to
//! (spec §4.2). The mock offers a fixed catalogue (Nova's historic default
//! flavors); a real cloud's flavors are read from `GET /flavors` by
//! `crate::endpoint::flavors`.

use super::microversion::Microversion;
use super::outcome::{Outcome, OutcomeKind};

/// Server show embeds the flavor's fields (`original_name`, `vcpus`, ...,
/// `extra_specs`) instead of `{"id", "links"}` (`views/servers.py`
/// `_get_flavor`).
pub const EMBEDDED_IN_SERVER_FROM: Microversion = Microversion::new(2, 47);
/// Flavor views gain `description` (`views/flavors.py`).
pub const DESCRIPTION_FROM: Microversion = Microversion::new(2, 55);
/// Flavor detail and show gain `extra_specs` (`flavors.py` `detail`, `show`).
pub const EXTRA_SPECS_FROM: Microversion = Microversion::new(2, 61);
/// Flavor `swap` is `0`, not `""`, when there is none.
pub const SWAP_INTEGER_FROM: Microversion = Microversion::new(2, 75);
/// Flavor views drop `OS-FLV-DISABLED:disabled` and `rxtx_factor`.
pub const NO_DISABLED_RXTX_FROM: Microversion = Microversion::new(2, 102);

/// One flavor, with the fields Nova shows for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flavor {
    /// The API id (`flavorid`), a string.
    pub id: &'static str,
    pub name: &'static str,
    pub vcpus: u32,
    /// `ram`, in MiB (`memory_mb`).
    pub ram_mb: u32,
    /// `disk`, in GiB (`root_gb`).
    pub disk_gb: u32,
    /// `ephemeral` / `OS-FLV-EXT-DATA:ephemeral`, in GiB.
    pub ephemeral_gb: u32,
    /// `swap`, in MiB.
    pub swap_mb: u32,
}

/// The flavors the mock serves, in id order (Nova lists by `flavorid`
/// ascending by default: `flavors.py` `_get_flavors`).
pub const FLAVORS: [Flavor; 3] = [
    Flavor {
        id: "1",
        name: "m1.tiny",
        vcpus: 1,
        ram_mb: 512,
        disk_gb: 1,
        ephemeral_gb: 0,
        swap_mb: 0,
    },
    Flavor {
        id: "2",
        name: "m1.small",
        vcpus: 1,
        ram_mb: 2048,
        disk_gb: 20,
        ephemeral_gb: 0,
        swap_mb: 0,
    },
    Flavor {
        id: "3",
        name: "m1.medium",
        vcpus: 2,
        ram_mb: 4096,
        disk_gb: 40,
        ephemeral_gb: 0,
        swap_mb: 0,
    },
];

/// The flavor a new server gets. Not the runner's default
/// `--resize-flavor` ("2"), so resizing a fresh server changes its flavor.
pub const DEFAULT: Flavor = FLAVORS[0];

/// The flavor whose id is `id` (Nova's `get_flavor_by_flavor_id`).
pub fn find(id: &str) -> Option<Flavor> {
    FLAVORS.into_iter().find(|f| f.id == id)
}

/// The first flavor, in id order, other than `current`: where a resize that
/// names no flavor goes (the same choice as
/// `crate::endpoint::flavors::pick_resize_flavor`).
pub fn other_than(current: &Flavor) -> Flavor {
    FLAVORS
        .into_iter()
        .find(|f| f.id != current.id)
        .unwrap_or(*current)
}

/// `nova/exception.py` `FlavorNotFound`: 400 from `resize`
/// (`servers.py` `_resize`), 404 from `GET /flavors/{id}`.
pub fn not_found_message(id: &str) -> String {
    format!("Flavor {id} could not be found.")
}

/// `nova/exception.py` `CannotResizeToSameFlavor`, raised by
/// `nova/compute/api.py` `resize` and answered 400 `badRequest` by
/// `servers.py` `_resize`.
pub const SAME_FLAVOR_MESSAGE: &str = "When resizing, instances must change flavor!";

/// `GET /flavors/{id}` of an unknown id: 404 `itemNotFound`.
pub fn not_found(id: &str) -> Outcome {
    Outcome::refused(OutcomeKind::ItemNotFound, not_found_message(id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_is_in_id_order_and_found_by_id() {
        let ids: Vec<_> = FLAVORS.iter().map(|f| f.id).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted);
        assert_eq!(find("2").map(|f| f.name), Some("m1.small"));
        assert_eq!(find("m1.small"), None, "by id only");
        assert_eq!(find("9"), None);
    }

    #[test]
    fn another_flavor_is_never_the_current_one() {
        for flavor in FLAVORS {
            assert_ne!(other_than(&flavor).id, flavor.id);
        }
        assert_eq!(other_than(&DEFAULT).id, "2");
        assert_eq!(not_found("9").kind(), OutcomeKind::ItemNotFound);
        assert_eq!(not_found_message("9"), "Flavor 9 could not be found.");
    }
}
