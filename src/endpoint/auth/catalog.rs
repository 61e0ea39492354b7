//! The service catalog of a Keystone token and picking the compute endpoint
//! from it (spec §7.1): type `compute`, the configured interface (default
//! `public`; legacy `publicURL`/`internalURL`/`adminURL` accepted), the
//! configured region; exactly one must remain.
//!
//! This module also owns turning the catalog URL into the endpoint a
//! dialect profile expects ([`dialect_endpoint`]): the version root with
//! the profile's `endpoint_path` (`/v2.1/{project}`) appended.

use std::fmt;
use std::str::FromStr;

use serde::Deserialize;

/// One catalog entry.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Service {
    #[serde(rename = "type")]
    pub service_type: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub endpoints: Vec<Endpoint>,
}

/// One endpoint of a catalog entry.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Endpoint {
    #[serde(default)]
    pub interface: String,
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub region_id: Option<String>,
    pub url: String,
    #[serde(default)]
    pub id: Option<String>,
}

impl Endpoint {
    fn in_region(&self, region: &str) -> bool {
        self.region_id.as_deref() == Some(region) || self.region.as_deref() == Some(region)
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let region = self
            .region_id
            .as_deref()
            .or(self.region.as_deref())
            .unwrap_or("-");
        write!(
            f,
            "{} (interface {}, region {region})",
            self.url, self.interface
        )
    }
}

/// Which of an endpoint's interfaces to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Interface {
    #[default]
    Public,
    Internal,
    Admin,
}

impl Interface {
    pub fn as_str(self) -> &'static str {
        match self {
            Interface::Public => "public",
            Interface::Internal => "internal",
            Interface::Admin => "admin",
        }
    }
}

impl FromStr for Interface {
    type Err = String;

    /// `public`, `internal`, `admin`, or the legacy `publicURL`,
    /// `internalURL`, `adminURL`.
    fn from_str(text: &str) -> Result<Interface, String> {
        let lower = text.trim().to_ascii_lowercase();
        match lower.strip_suffix("url").unwrap_or(&lower) {
            "public" => Ok(Interface::Public),
            "internal" => Ok(Interface::Internal),
            "admin" => Ok(Interface::Admin),
            _ => Err(format!(
                "interface '{text}' is not public, internal or admin (or publicURL, internalURL, adminURL)"
            )),
        }
    }
}

impl fmt::Display for Interface {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why no single endpoint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogError {
    #[error(
        "the service catalog has no '{service_type}' service (it has: {present}); pass --endpoint or set compute_endpoint_override"
    )]
    NoService {
        service_type: String,
        present: String,
    },
    #[error(
        "the '{service_type}' service has no {interface} endpoint{in_region}; its endpoints: {candidates}. Pick another with --os-interface / --os-region (OS_INTERFACE / OS_REGION_NAME), or set compute_endpoint_override"
    )]
    NoEndpoint {
        service_type: String,
        interface: Interface,
        in_region: String,
        candidates: String,
    },
    #[error(
        "{count} '{service_type}' endpoints match interface {interface}{in_region}: {candidates}. Pick one with --os-region (OS_REGION_NAME) or --os-interface, or set compute_endpoint_override"
    )]
    Ambiguous {
        service_type: String,
        interface: Interface,
        in_region: String,
        count: usize,
        candidates: String,
    },
}

fn list(endpoints: &[&Endpoint]) -> String {
    if endpoints.is_empty() {
        return "none".into();
    }
    endpoints
        .iter()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

/// The one endpoint of `service_type` with `interface` (and in `region`,
/// when one is given).
pub fn pick<'c>(
    catalog: &'c [Service],
    service_type: &str,
    interface: Interface,
    region: Option<&str>,
) -> Result<&'c Endpoint, CatalogError> {
    let all: Vec<&Endpoint> = catalog
        .iter()
        .filter(|s| s.service_type == service_type)
        .flat_map(|s| &s.endpoints)
        .collect();
    if !catalog.iter().any(|s| s.service_type == service_type) {
        let mut present: Vec<&str> = catalog.iter().map(|s| s.service_type.as_str()).collect();
        present.sort_unstable();
        present.dedup();
        return Err(CatalogError::NoService {
            service_type: service_type.to_string(),
            present: if present.is_empty() {
                "nothing".into()
            } else {
                present.join(", ")
            },
        });
    }
    let matching: Vec<&Endpoint> = all
        .iter()
        .copied()
        .filter(|e| e.interface.parse::<Interface>() == Ok(interface))
        .filter(|e| region.is_none_or(|r| e.in_region(r)))
        .collect();
    let in_region = region.map_or(String::new(), |r| format!(" in region {r}"));
    match matching.as_slice() {
        [one] => Ok(one),
        [] => Err(CatalogError::NoEndpoint {
            service_type: service_type.to_string(),
            interface,
            in_region,
            candidates: list(&all),
        }),
        many => Err(CatalogError::Ambiguous {
            service_type: service_type.to_string(),
            interface,
            in_region,
            count: many.len(),
            candidates: list(many),
        }),
    }
}

/// The version root of a compute URL: everything from a `/v2.1` or `/v2`
/// path segment on is dropped (`https://h/compute/v2.1/p` →
/// `https://h/compute`); an unversioned URL is its own root.
pub fn compute_root(url: &str) -> &str {
    let url = url.trim_end_matches('/');
    let path_start = url.find("://").map_or(0, |i| {
        url[i + 3..].find('/').map_or(url.len(), |j| i + 3 + j)
    });
    let mut at = path_start;
    for segment in url[path_start..].split('/') {
        if segment == "v2.1" || segment == "v2" {
            return url[..at].trim_end_matches('/');
        }
        at += segment.len() + 1;
    }
    url
}

/// The endpoint a dialect profile expects (`Target::endpoint`): the
/// version root of `catalog_url` with `endpoint_path` (`/v2.1/{project}`)
/// appended; for a profile whose paths start at the host (`endpoint_path`
/// empty, Huawei v1) the URL's scheme and authority.
pub fn dialect_endpoint(catalog_url: &str, project_id: &str, endpoint_path: &str) -> String {
    if endpoint_path.is_empty() {
        let url = catalog_url.trim_end_matches('/');
        return match url.find("://") {
            Some(i) => url[..url[i + 3..].find('/').map_or(url.len(), |j| i + 3 + j)].to_string(),
            None => url.to_string(),
        };
    }
    format!(
        "{}{}",
        compute_root(catalog_url),
        endpoint_path.replace("{project}", project_id)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(interface: &str, region: &str, url: &str) -> Endpoint {
        Endpoint {
            interface: interface.into(),
            region: Some(region.into()),
            region_id: Some(region.into()),
            url: url.into(),
            id: None,
        }
    }

    fn catalog() -> Vec<Service> {
        vec![
            Service {
                service_type: "identity".into(),
                name: Some("keystone".into()),
                id: None,
                endpoints: vec![endpoint("public", "r1", "https://k/v3")],
            },
            Service {
                service_type: "compute".into(),
                name: Some("nova".into()),
                id: None,
                endpoints: vec![
                    endpoint("public", "r1", "https://n1/v2.1"),
                    endpoint("internal", "r1", "http://n1-int/v2.1"),
                    endpoint("public", "r2", "https://n2/compute/v2.1/p"),
                    endpoint("admin", "r2", "http://n2-adm/v2.1"),
                ],
            },
        ]
    }

    #[test]
    fn a_region_makes_the_public_endpoint_unique() {
        let c = catalog();
        let e = pick(&c, "compute", Interface::Public, Some("r2")).unwrap();
        assert_eq!(e.url, "https://n2/compute/v2.1/p");
    }

    #[test]
    fn two_public_endpoints_without_a_region_are_ambiguous_and_listed() {
        let c = catalog();
        let e = pick(&c, "compute", Interface::Public, None).unwrap_err();
        let text = e.to_string();
        assert!(
            matches!(e, CatalogError::Ambiguous { count: 2, .. }),
            "{text}"
        );
        assert!(
            text.contains("https://n1/v2.1 (interface public, region r1)"),
            "{text}"
        );
        assert!(text.contains("https://n2/compute/v2.1/p"), "{text}");
        assert!(text.contains("--os-region"), "{text}");
    }

    #[test]
    fn legacy_interface_names_map() {
        assert_eq!("publicURL".parse(), Ok(Interface::Public));
        assert_eq!("internalURL".parse(), Ok(Interface::Internal));
        assert_eq!("adminURL".parse(), Ok(Interface::Admin));
        assert_eq!("Internal".parse(), Ok(Interface::Internal));
        assert!("private".parse::<Interface>().is_err());
        let c = catalog();
        let e = pick(&c, "compute", "internalURL".parse().unwrap(), None).unwrap();
        assert_eq!(e.url, "http://n1-int/v2.1");
        // A catalog written with legacy names matches too.
        let mut legacy = catalog();
        legacy[1].endpoints[3].interface = "adminURL".into();
        assert_eq!(
            pick(&legacy, "compute", Interface::Admin, None)
                .unwrap()
                .url,
            "http://n2-adm/v2.1"
        );
    }

    #[test]
    fn region_matches_region_id_or_region() {
        let mut c = catalog();
        c[1].endpoints[0].region_id = None;
        assert_eq!(
            pick(&c, "compute", Interface::Public, Some("r1"))
                .unwrap()
                .url,
            "https://n1/v2.1"
        );
    }

    #[test]
    fn nothing_left_lists_what_there_is() {
        let c = catalog();
        let e = pick(&c, "compute", Interface::Internal, Some("r2")).unwrap_err();
        assert!(matches!(e, CatalogError::NoEndpoint { .. }));
        assert!(
            e.to_string()
                .contains("http://n2-adm/v2.1 (interface admin, region r2)")
        );
        let e = pick(&c, "volumev3", Interface::Public, None).unwrap_err();
        assert!(e.to_string().contains("it has: compute, identity"), "{e}");
    }

    #[test]
    fn roots_and_dialect_endpoints() {
        assert_eq!(compute_root("https://n/v2.1/p/"), "https://n");
        assert_eq!(compute_root("https://n/compute/v2.1"), "https://n/compute");
        assert_eq!(compute_root("https://n/v2/p"), "https://n");
        assert_eq!(compute_root("https://n:8774"), "https://n:8774");
        assert_eq!(compute_root("https://n/v2.10"), "https://n/v2.10");
        assert_eq!(
            dialect_endpoint("https://n/compute/v2.1", "p1", "/v2.1/{project}"),
            "https://n/compute/v2.1/p1"
        );
        assert_eq!(
            dialect_endpoint("https://n/v2.1/p1", "p1", "/v2/{project}"),
            "https://n/v2/p1"
        );
        assert_eq!(
            dialect_endpoint("https://ecs.r/v1/p1", "p1", ""),
            "https://ecs.r"
        );
    }
}
