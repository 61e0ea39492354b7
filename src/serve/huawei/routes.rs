//! The Huawei v1 route family (`ecs-v1`, `bms-v1`): one mount `/v1/{p}`
//! whose table comes from the profile's paths: the metadata operations it
//! lists, server show (the read-back of spec §1.4), limits, the batch
//! action, jobs and, where the profile names it, automatic recovery.

use std::sync::Arc;

use crate::profile::Profile;
use crate::serve::routes::{Handler, Mount, RouteTable, Site, metadata_routes};

use super::V1Route;

/// The site of a v1 profile.
pub fn site(profile: Profile) -> Result<Site, String> {
    let prefix = version_prefix(&profile)?;
    let table = table(&profile, &prefix)?;
    Ok(Site {
        mounts: vec![Mount {
            prefix,
            project_optional: false,
            profile: Arc::new(profile),
            table: Arc::new(table),
        }],
    })
}

/// `v1`, the first segment of the server show path `/v1/{project}/…`.
fn version_prefix(profile: &Profile) -> Result<String, String> {
    let show = &profile.file.servers.show;
    let mut parts = show.trim_start_matches('/').split('/');
    match (parts.next(), parts.next()) {
        (Some(prefix), Some("{project}")) if !prefix.is_empty() => Ok(prefix.to_string()),
        _ => Err(format!(
            "profile '{}': servers.show '{show}' is not of the form /<version>/{{project}}/…",
            profile.id()
        )),
    }
}

fn table(profile: &Profile, prefix: &str) -> Result<RouteTable, String> {
    let head = format!("/{prefix}/{{project}}/");
    let below = |path: &str| -> Result<String, String> {
        path.strip_prefix(&head)
            .map(|rest| format!("/{rest}"))
            .ok_or_else(|| {
                format!(
                    "profile '{}': path '{path}' does not start with {head}",
                    profile.id()
                )
            })
    };
    let servers = &profile.file.servers;
    let mut table = RouteTable::default();
    // Literal routes first: `…/limits` and `…/action` before `…/{server}`.
    if let Some(limits) = &servers.limits {
        table.add("GET", &below(limits)?, Handler::HuaweiV1(V1Route::Limits));
    }
    table.add(
        "POST",
        &below(&servers.action)?,
        Handler::HuaweiV1(V1Route::BatchAction),
    );
    if let Some(jobs) = &servers.jobs {
        table.add("GET", &below(jobs)?, Handler::HuaweiV1(V1Route::ShowJob));
    }
    table.add("GET", &below(&servers.show)?, Handler::ServerShow);
    if let Some(path) = &servers.autorecovery {
        let path = below(path)?;
        table.add("GET", &path, Handler::HuaweiV1(V1Route::ShowAutoRecovery));
        table.add("PUT", &path, Handler::HuaweiV1(V1Route::UpdateAutoRecovery));
    }
    for (spec, op) in metadata_routes(profile) {
        table.add(
            spec.method.as_str(),
            &below(&spec.path)?,
            Handler::Metadata(op),
        );
    }
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile;
    use crate::serve::routes::{Captures, MetaOp, Resolved};

    fn routed(site: &Site, method: &str, path: &str) -> Option<(Handler, Captures)> {
        match site.resolve(method, path) {
            Resolved::Api {
                handler,
                captures,
                url_project,
                ..
            } => {
                assert_eq!(url_project.as_deref(), Some("0abc"));
                Some((handler, captures))
            }
            _ => None,
        }
    }

    #[test]
    fn ecs_v1_routes() {
        let site = site(profile::builtin("ecs-v1").unwrap()).unwrap();
        let cases = [
            (
                "POST",
                "/v1/0abc/cloudservers/s1/metadata",
                Handler::Metadata(MetaOp::Merge),
            ),
            (
                "DELETE",
                "/v1/0abc/cloudservers/s1/metadata/k",
                Handler::Metadata(MetaOp::Delete),
            ),
            ("GET", "/v1/0abc/cloudservers/s1", Handler::ServerShow),
            (
                "GET",
                "/v1/0abc/cloudservers/limits",
                Handler::HuaweiV1(V1Route::Limits),
            ),
            (
                "POST",
                "/v1/0abc/cloudservers/action",
                Handler::HuaweiV1(V1Route::BatchAction),
            ),
            (
                "GET",
                "/v1/0abc/jobs/j1",
                Handler::HuaweiV1(V1Route::ShowJob),
            ),
            (
                "GET",
                "/v1/0abc/cloudservers/s1/autorecovery",
                Handler::HuaweiV1(V1Route::ShowAutoRecovery),
            ),
            (
                "PUT",
                "/v1/0abc/cloudservers/s1/autorecovery",
                Handler::HuaweiV1(V1Route::UpdateAutoRecovery),
            ),
        ];
        for (method, path, handler) in cases {
            let (found, _) =
                routed(&site, method, path).unwrap_or_else(|| panic!("{method} {path}"));
            assert_eq!(found, handler, "{method} {path}");
        }
        let (_, captures) = routed(&site, "DELETE", "/v1/0abc/cloudservers/s1/metadata/k").unwrap();
        assert_eq!(
            (captures.server.as_deref(), captures.key.as_deref()),
            (Some("s1"), Some("k"))
        );
        let (_, captures) = routed(&site, "GET", "/v1/0abc/jobs/j1").unwrap();
        assert_eq!(captures.job.as_deref(), Some("j1"));
        for (method, path) in [
            ("GET", "/v1/0abc/cloudservers/s1/metadata"),
            ("PUT", "/v1/0abc/cloudservers/s1/metadata"),
            ("GET", "/v1/0abc/cloudservers/s1/metadata/k"),
            ("POST", "/v1/0abc/cloudservers/s1/action"),
            ("GET", "/v1/0abc/jobs/"),
            ("GET", "/v2.1/0abc/servers/s1/metadata"),
        ] {
            assert!(routed(&site, method, path).is_none(), "{method} {path}");
        }
    }

    #[test]
    fn bms_v1_routes_have_no_autorecovery() {
        let site = site(profile::builtin("bms-v1").unwrap()).unwrap();
        let (found, _) = routed(&site, "POST", "/v1/0abc/baremetalservers/s1/metadata").unwrap();
        assert_eq!(found, Handler::Metadata(MetaOp::Merge));
        let (found, _) = routed(&site, "POST", "/v1/0abc/baremetalservers/action").unwrap();
        assert_eq!(found, Handler::HuaweiV1(V1Route::BatchAction));
        assert!(routed(&site, "GET", "/v1/0abc/baremetalservers/s1/autorecovery").is_none());
        assert!(routed(&site, "DELETE", "/v1/0abc/baremetalservers/s1/metadata/k").is_none());
    }
}
