//! Routing: which handler a method and path reach, per profile family.
//!
//! A [`Site`] is a list of [`Mount`]s (a version prefix such as `v2.1`, with
//! or without a project segment, served by one profile); each mount has a
//! [`RouteTable`] built from its profile's paths. Families other than Nova
//! (Huawei v1 `cloudservers`, batch actions, jobs) add their own table
//! builder and [`Handler`] variants; nothing here is a single match that
//! only knows Nova.
//!
//! Paths are percent-decoded before they are split, as webob does, so `%2F`
//! in a key becomes a separator and the request is unrouted (spec §1.3).

use std::sync::Arc;

use crate::model::pipeline::Op;
use crate::profile::format::ActionForm;
use crate::profile::{HttpMethod, OpSpec, Profile};
use crate::serve::huawei::V1Route;

/// What a matched route does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handler {
    /// One of the six metadata operations.
    Metadata(MetaOp),
    ServerCreate,
    /// `GET /servers` (summary) or `/servers/detail`.
    ServerList {
        detail: bool,
    },
    ServerShow,
    ServerDelete,
    ServerAction,
    Limits,
    /// `GET /flavors` (summary) or `/flavors/detail`.
    FlavorList {
        detail: bool,
    },
    /// `GET /flavors/{flavor}`.
    FlavorShow,
    /// `GET /servers/{id}/tags`, `PUT` and `DELETE /servers/{id}/tags/{tag}`
    /// (microversion 2.26; the tag is the route's key).
    Tags(TagRoute),
    /// `GET {endpoint}`: the version document, behind authentication (the
    /// discovery request clients send to the catalog URL).
    EndpointVersion,
    /// Huawei v1 routes without a Nova counterpart (batch actions, jobs,
    /// automatic recovery, v1 limits).
    HuaweiV1(V1Route),
}

/// A server-tag route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagRoute {
    List,
    Add,
    Remove,
}

/// The metadata operation a route names; the key comes from the path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetaOp {
    List,
    Merge,
    Replace,
    Get,
    Set,
    Delete,
}

impl MetaOp {
    /// The model's operation, with the decoded URL key.
    pub fn to_op(self, key: Option<&str>) -> Op {
        let key = key.unwrap_or_default().to_string();
        match self {
            MetaOp::List => Op::List,
            MetaOp::Merge => Op::Merge,
            MetaOp::Replace => Op::Replace,
            MetaOp::Get => Op::Get(key),
            MetaOp::Set => Op::Set(key),
            MetaOp::Delete => Op::Delete(key),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Server,
    Key,
    Job,
    Flavor,
}

/// A path pattern such as `/servers/{server}/metadata/{key}`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Pattern(Vec<Segment>);

impl Pattern {
    fn parse(path: &str) -> Pattern {
        let segments = path
            .trim_start_matches('/')
            .split('/')
            .filter(|s| !s.is_empty())
            .map(|s| match s {
                "{server}" => Segment::Server,
                "{key}" => Segment::Key,
                "{job}" => Segment::Job,
                "{flavor}" => Segment::Flavor,
                other => Segment::Literal(other.to_string()),
            })
            .collect();
        Pattern(segments)
    }

    fn matches(&self, path: &[&str]) -> Option<Captures> {
        if self.0.len() != path.len() {
            return None;
        }
        let mut captures = Captures::default();
        for (segment, actual) in self.0.iter().zip(path) {
            match segment {
                Segment::Literal(text) if text == actual => {}
                Segment::Literal(_) => return None,
                // A variable never matches an empty segment (trailing slash).
                Segment::Server | Segment::Key | Segment::Job | Segment::Flavor
                    if actual.is_empty() =>
                {
                    return None;
                }
                Segment::Server => captures.server = Some((*actual).to_string()),
                Segment::Key => captures.key = Some((*actual).to_string()),
                Segment::Job => captures.job = Some((*actual).to_string()),
                Segment::Flavor => captures.flavor = Some((*actual).to_string()),
            }
        }
        Some(captures)
    }
}

/// Values taken from the path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Captures {
    pub server: Option<String>,
    pub key: Option<String>,
    /// Huawei v1 job id (`{job}`).
    pub job: Option<String>,
    /// A flavor id (`{flavor}`).
    pub flavor: Option<String>,
}

#[derive(Debug, Clone)]
struct Route {
    method: &'static str,
    pattern: Pattern,
    handler: Handler,
}

/// The routes of one mount, tried in order (literal routes such as
/// `/servers/detail` come before `/servers/{server}`).
#[derive(Debug, Clone, Default)]
pub struct RouteTable {
    routes: Vec<Route>,
}

impl RouteTable {
    pub(crate) fn add(&mut self, method: &'static str, path: &str, handler: Handler) {
        self.routes.push(Route {
            method,
            pattern: Pattern::parse(path),
            handler,
        });
    }

    /// The Nova family (`nova`, `nova-legacy`, `ecs-os`, `bms-os`): the
    /// profile's metadata operations and server routes.
    pub fn nova_family(profile: &Profile) -> RouteTable {
        let mut table = RouteTable::default();
        let servers = &profile.file.servers;
        table.add("GET", "", Handler::EndpointVersion);
        table.add(
            "GET",
            &format!("{}/detail", servers.create),
            Handler::ServerList { detail: true },
        );
        table.add(
            "GET",
            &servers.create,
            Handler::ServerList { detail: false },
        );
        table.add("POST", &servers.create, Handler::ServerCreate);
        table.add("GET", &servers.show, Handler::ServerShow);
        table.add("DELETE", &servers.delete, Handler::ServerDelete);
        table.add("POST", &servers.action, Handler::ServerAction);
        if let Some(limits) = &servers.limits {
            table.add("GET", limits, Handler::Limits);
        }
        if let Some(flavors) = &servers.flavors {
            table.add(
                "GET",
                &format!("{flavors}/detail"),
                Handler::FlavorList { detail: true },
            );
            table.add("GET", flavors, Handler::FlavorList { detail: false });
            table.add("GET", &format!("{flavors}/{{flavor}}"), Handler::FlavorShow);
        }
        for (spec, op) in metadata_routes(profile) {
            table.add(method_name(spec.method), &spec.path, Handler::Metadata(op));
        }
        if profile.serves_tags() {
            let tags = format!("{}/tags", servers.show);
            table.add("GET", &tags, Handler::Tags(TagRoute::List));
            table.add(
                "PUT",
                &format!("{tags}/{{key}}"),
                Handler::Tags(TagRoute::Add),
            );
            table.add(
                "DELETE",
                &format!("{tags}/{{key}}"),
                Handler::Tags(TagRoute::Remove),
            );
        }
        table
    }

    /// The handler for `method` on the path below the mount.
    pub fn find(&self, method: &str, path: &[&str]) -> Option<(Handler, Captures)> {
        self.routes
            .iter()
            .filter(|r| r.method == method)
            .find_map(|r| r.pattern.matches(path).map(|c| (r.handler, c)))
    }
}

/// The metadata operations a profile lists, with the route kind of each.
pub fn metadata_routes(profile: &Profile) -> impl Iterator<Item = (&OpSpec, MetaOp)> {
    let ops = &profile.file.operations;
    [
        (&ops.list, MetaOp::List),
        (&ops.merge, MetaOp::Merge),
        (&ops.replace, MetaOp::Replace),
        (&ops.get, MetaOp::Get),
        (&ops.set, MetaOp::Set),
        (&ops.delete, MetaOp::Delete),
    ]
    .into_iter()
    .filter_map(|(spec, op)| spec.as_ref().map(|spec| (spec, op)))
}

fn method_name(method: HttpMethod) -> &'static str {
    method.as_str()
}

/// Whether a URL project segment may be a project (`[0-9a-f-]+`, Nova's
/// `ProjectMapper`).
pub fn is_project_segment(segment: &str) -> bool {
    !segment.is_empty()
        && segment
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f' | b'-'))
}

/// A version prefix served by one profile.
#[derive(Debug, Clone)]
pub struct Mount {
    /// First path segment (`v2.1`, `v2`).
    pub prefix: String,
    /// Routes without the project segment are served too (Nova ≥ 2.18).
    pub project_optional: bool,
    pub profile: Arc<Profile>,
    pub table: Arc<RouteTable>,
}

/// Where a request lands.
#[derive(Debug, Clone)]
pub enum Resolved<'s> {
    /// `GET /`: the version list.
    VersionList,
    /// `GET /v2.1` or `/v2.1/`: one version document.
    VersionDoc(&'s Mount),
    Api {
        mount: &'s Mount,
        url_project: Option<String>,
        handler: Handler,
        captures: Captures,
    },
    /// No route: 404 at routing (after authentication).
    Unrouted,
}

/// The route families the mock knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// Nova-shaped routes: `/servers/{id}/metadata`, per-server actions.
    Nova,
    /// Huawei v1: `/v1/{p}/cloudservers`, batch actions and jobs.
    HuaweiV1,
}

impl Family {
    pub fn of(profile: &Profile) -> Family {
        if profile.file.servers.action_form == ActionForm::Batch {
            Family::HuaweiV1
        } else {
            Family::Nova
        }
    }
}

/// Every mount of one `serve` process.
#[derive(Debug, Clone)]
pub struct Site {
    pub mounts: Vec<Mount>,
}

impl Site {
    /// Build the mounts for a dialect: its endpoint (also without the project
    /// segment if the profile says `project_optional`), each prefix of
    /// `also_served_under`, and `legacy` (the profile's `served_with`) at
    /// its own endpoint, all over the same servers.
    pub fn for_profile(profile: Profile, legacy: Option<Profile>) -> Result<Site, String> {
        if Family::of(&profile) == Family::HuaweiV1 {
            return crate::serve::huawei::routes::site(profile);
        }
        let prefix = endpoint_prefix(&profile)?;
        let project_optional = profile.file.project_optional;
        let also_served_under = profile.file.also_served_under.clone();
        let profile = Arc::new(profile);
        let table = Arc::new(RouteTable::nova_family(&profile));
        let mut mounts = vec![Mount {
            prefix: prefix.clone(),
            project_optional,
            profile: profile.clone(),
            table: table.clone(),
        }];
        if let Some(legacy) = legacy {
            let legacy_table = Arc::new(RouteTable::nova_family(&legacy));
            mounts.push(Mount {
                prefix: endpoint_prefix(&legacy)?,
                project_optional: false,
                profile: Arc::new(legacy),
                table: legacy_table,
            });
        }
        for prefix in also_served_under {
            mounts.push(Mount {
                prefix,
                project_optional: false,
                profile: profile.clone(),
                table: table.clone(),
            });
        }
        Ok(Site { mounts })
    }

    /// The main mount (the dialect's own).
    pub fn primary(&self) -> &Mount {
        &self.mounts[0]
    }

    /// Resolve a decoded path (`/v2.1/p/servers/x`) and method.
    pub fn resolve(&self, method: &str, path: &str) -> Resolved<'_> {
        let Some(rest) = path.strip_prefix('/') else {
            return Resolved::Unrouted;
        };
        let segments: Vec<&str> = rest.split('/').collect();
        match segments.as_slice() {
            [""] if method == "GET" => return Resolved::VersionList,
            [prefix] | [prefix, ""] if method == "GET" => {
                return match self.mount(prefix) {
                    Some(mount) => Resolved::VersionDoc(mount),
                    None => Resolved::Unrouted,
                };
            }
            _ => {}
        }
        let Some((first, below)) = segments.split_first() else {
            return Resolved::Unrouted;
        };
        let Some(mount) = self.mount(first) else {
            return Resolved::Unrouted;
        };
        if let Some((project, below_project)) = below.split_first()
            && is_project_segment(project)
            && let Some((handler, captures)) = mount.table.find(method, below_project)
        {
            return Resolved::Api {
                mount,
                url_project: Some((*project).to_string()),
                handler,
                captures,
            };
        }
        if mount.project_optional
            && let Some((handler, captures)) = mount.table.find(method, below)
        {
            return Resolved::Api {
                mount,
                url_project: None,
                handler,
                captures,
            };
        }
        Resolved::Unrouted
    }

    fn mount(&self, prefix: &str) -> Option<&Mount> {
        self.mounts.iter().find(|m| m.prefix == prefix)
    }
}

/// `v2.1` from `/v2.1/{project}`.
fn endpoint_prefix(profile: &Profile) -> Result<String, String> {
    let path = &profile.file.endpoint_path;
    let mut parts = path.trim_start_matches('/').split('/');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(prefix), Some("{project}"), None) if !prefix.is_empty() => Ok(prefix.to_string()),
        _ => Err(format!(
            "profile '{}': endpoint_path '{path}' is not of the form /<version>/{{project}}",
            profile.id()
        )),
    }
}

/// Percent-decode a path as Nova's server sees it: eventlet unquotes it to
/// bytes and, as PEP 3333 has it, `PATH_INFO` is those bytes read as
/// Latin-1, which routes matches: `%E9` is `é`, `%C3%A9` is `Ã©` (measured
/// on Nova 34: `/metadata/caf%E9` reaches the key route, 404 itemNotFound).
pub fn decode_path_latin1(raw: &str) -> String {
    percent_encoding::percent_decode_str(raw)
        .map(char::from)
        .collect()
}

/// Percent-decode a path. `None` when the result is not UTF-8.
pub fn decode_path(raw: &str) -> Option<String> {
    percent_encoding::percent_decode_str(raw)
        .decode_utf8()
        .ok()
        .map(|s| s.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile;

    fn nova_site() -> Site {
        let nova = profile::builtin("nova").expect("nova");
        let legacy = profile::builtin("nova-legacy").expect("legacy");
        Site::for_profile(nova, Some(legacy)).expect("site")
    }

    fn api(
        site: &Site,
        method: &str,
        path: &str,
    ) -> Option<(String, Option<String>, Handler, Captures)> {
        match site.resolve(method, path) {
            Resolved::Api {
                mount,
                url_project,
                handler,
                captures,
            } => Some((
                mount.profile.id().to_string(),
                url_project,
                handler,
                captures,
            )),
            _ => None,
        }
    }

    #[test]
    fn metadata_routes_with_and_without_project() {
        let site = nova_site();
        let (id, project, handler, captures) =
            api(&site, "PUT", "/v2.1/abc123/servers/s1/metadata/k1").expect("routed");
        assert_eq!(id, "nova");
        assert_eq!(project.as_deref(), Some("abc123"));
        assert_eq!(handler, Handler::Metadata(MetaOp::Set));
        assert_eq!(captures.server.as_deref(), Some("s1"));
        assert_eq!(captures.key.as_deref(), Some("k1"));
        let (_, project, handler, _) =
            api(&site, "GET", "/v2.1/servers/s1/metadata").expect("project-less");
        assert_eq!((project, handler), (None, Handler::Metadata(MetaOp::List)));
        let (id, project, _, _) =
            api(&site, "POST", "/v2/abc/servers/s1/metadata").expect("legacy");
        assert_eq!(
            (id.as_str(), project.as_deref()),
            ("nova-legacy", Some("abc"))
        );
    }

    #[test]
    fn unrouted_paths_and_methods() {
        let site = nova_site();
        for (method, path) in [
            ("DELETE", "/v2.1/abc/servers/s1/metadata"),
            ("PATCH", "/v2.1/abc/servers/s1/metadata"),
            ("POST", "/v2.1/abc/servers/s1/metadata/k"),
            ("GET", "/v2.1/abc/servers/s1/metadata/"),
            ("GET", "/v2.1/abc/servers/s1/metadata/a/b"),
            ("GET", "/v2.1/NOTHEX/servers/s1/metadata"),
            ("GET", "/v2/servers/s1/metadata"),
            ("GET", "/v3/abc/servers/s1/metadata"),
        ] {
            assert!(
                matches!(site.resolve(method, path), Resolved::Unrouted),
                "{method} {path}"
            );
        }
    }

    #[test]
    fn detail_wins_over_show_and_version_docs_resolve() {
        let site = nova_site();
        let (_, _, handler, _) = api(&site, "GET", "/v2.1/abc/servers/detail").expect("detail");
        assert_eq!(handler, Handler::ServerList { detail: true });
        assert!(matches!(site.resolve("GET", "/"), Resolved::VersionList));
        assert!(matches!(
            site.resolve("GET", "/v2.1/"),
            Resolved::VersionDoc(_)
        ));
        assert!(
            matches!(site.resolve("GET", "/v2"), Resolved::VersionDoc(m) if m.profile.rules.legacy)
        );
    }

    #[test]
    fn encoded_slash_in_a_key_is_unrouted() {
        let site = nova_site();
        let decoded = decode_path("/v2.1/abc/servers/s1/metadata/a%2Fb").expect("utf-8");
        assert!(matches!(site.resolve("GET", &decoded), Resolved::Unrouted));
        let decoded = decode_path("/v2.1/abc/servers/s1/metadata/a%20b").expect("utf-8");
        let (_, _, _, captures) = api(&site, "GET", &decoded).expect("routed");
        assert_eq!(captures.key.as_deref(), Some("a b"));
        assert_eq!(decode_path("/x%FF"), None);
    }

    #[test]
    fn nova_paths_are_latin1() {
        assert_eq!(decode_path_latin1("/m/caf%E9"), "/m/caf\u{e9}");
        assert_eq!(decode_path_latin1("/m/caf%C3%A9"), "/m/caf\u{c3}\u{a9}");
        assert_eq!(decode_path_latin1("/m/a%2Fb%0A"), "/m/a/b\n");
    }

    #[test]
    fn the_endpoint_itself_is_the_version_document() {
        let site = nova_site();
        let (_, project, handler, _) = api(&site, "GET", "/v2.1/abc").expect("routed");
        assert_eq!(
            (project.as_deref(), handler),
            (Some("abc"), Handler::EndpointVersion)
        );
    }

    #[test]
    fn project_segment_rule() {
        assert!(is_project_segment("0a1b-c"));
        assert!(!is_project_segment("Abc"));
        assert!(!is_project_segment(""));
        assert!(!is_project_segment("servers"));
    }
}
