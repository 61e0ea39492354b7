//! The Huawei side of `metaconform serve`: AK/SK authentication for every
//! Huawei dialect ([`keys`]), and the v1 family (`ecs-v1`, `bms-v1`): its
//! route table ([`routes`]), the handlers of the routes Nova has no
//! counterpart for ([`v1`]), batch-action jobs ([`jobs`]) and response
//! bodies ([`render`]). Metadata operations and server show on v1 routes go
//! through the shared handlers, so every metadata rule still comes from
//! [`crate::model::pipeline::decide`].

pub mod jobs;
pub mod keys;
pub mod render;
pub mod routes;
pub mod v1;

use std::sync::{Mutex, MutexGuard};

use crate::endpoint::sign::SdkDate;
use crate::model::caller::Caller;
use crate::profile::{ErrorShape, Profile};

use super::message::{HttpRequest, HttpResponse};
use super::world::Projects;
use jobs::JobBook;
use keys::AccessKeys;

/// The Huawei v1 routes without a Nova counterpart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum V1Route {
    /// `GET /v1/{p}/cloudservers/limits`.
    Limits,
    /// `POST /v1/{p}/cloudservers/action` (`os-stop`, `os-start`).
    BatchAction,
    /// `GET /v1/{p}/jobs/{job}`.
    ShowJob,
    /// `GET /v1/{p}/cloudservers/{s}/autorecovery`.
    ShowAutoRecovery,
    /// `PUT /v1/{p}/cloudservers/{s}/autorecovery`.
    UpdateAutoRecovery,
}

/// The Huawei state of one `serve` process: AK/SK pairs (Huawei dialects
/// only) and the jobs of batch actions.
#[derive(Debug, Default)]
pub struct HuaweiState {
    keys: Option<AccessKeys>,
    jobs: Mutex<JobBook>,
}

impl HuaweiState {
    /// Huawei dialects (error shape `huawei`) get an AK/SK pair per project.
    pub fn new(profile: &Profile, projects: &Projects) -> HuaweiState {
        let keys = (profile.error_shape() == ErrorShape::Huawei)
            .then(|| AccessKeys::generate([projects.main.as_str(), projects.alt.as_str()]));
        HuaweiState {
            keys,
            jobs: Mutex::new(JobBook::default()),
        }
    }

    /// The `(ak, sk)` of a project, for the startup line.
    pub fn access_key(&self, project: &str) -> Option<(String, String)> {
        let keys = self.keys.as_ref()?;
        keys.for_project(project)
            .map(|(ak, sk)| (ak.to_string(), sk.to_string()))
    }

    pub fn jobs(&self) -> MutexGuard<'_, JobBook> {
        // The book is plain data; a poisoned lock leaves it usable.
        self.jobs.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The credential `request` carries: its `X-Auth-Token`, or the secret
    /// key of the access key that signed it (for the `echo-token` fault).
    pub fn caller_secret(&self, request: &HttpRequest) -> Option<String> {
        if let Some(token) = request.header_value("X-Auth-Token") {
            return Some(token.to_string());
        }
        let authorization = request.header_value("Authorization")?;
        let ak = authorization
            .split("Access=")
            .nth(1)?
            .split([',', ' '])
            .next()?;
        self.keys.as_ref()?.secret_of(ak).map(str::to_string)
    }

    /// Who is calling. Non-Huawei dialects read `X-Auth-Token` only; Huawei
    /// dialects also verify an `SDK-HMAC-SHA256` signature, and a bad one
    /// is the gateway's 401 (spec §5.5). `Ok(None)`: no credentials.
    pub fn authenticate(&self, request: &HttpRequest) -> Result<Option<Caller>, HttpResponse> {
        let Some(keys) = &self.keys else {
            let token = request.header_value("X-Auth-Token").unwrap_or("");
            return Ok(Caller::from_token(token));
        };
        keys.authenticate(&request.signing_parts(), SdkDate::now())
            .map_err(|refusal| {
                super::respond::huawei_error(refusal.status, refusal.code, &refusal.message)
            })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use crate::endpoint::sign::{AccessKey, RequestParts, SdkDate, sign};
    use crate::serve::App;
    use crate::serve::message::HttpRequest;

    /// A request signed with the project's printed pair.
    fn signed(app: &App, method: &str, target: &str, tamper: bool) -> HttpRequest {
        let project = &app.projects().main;
        let (ak, sk) = app.huawei().access_key(project).unwrap();
        let mut request = HttpRequest::new(method, target).header("Host", "127.0.0.1:8080");
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let parts = RequestParts {
            method,
            path,
            query,
            headers: &request.headers,
            body: &request.body,
        };
        let added = sign(
            &parts,
            &AccessKey { ak: &ak, sk: &sk },
            SdkDate::now(),
            &["host"],
        )
        .unwrap();
        request.headers.extend(added);
        if tamper {
            request.target.push_str("?limit=1");
        }
        request
    }

    #[test]
    fn every_huawei_dialect_takes_a_signature_or_a_token() {
        for (dialect, show) in [
            ("ecs-v1", "/v1/{p}/cloudservers/{s}"),
            ("bms-v1", "/v1/{p}/baremetalservers/{s}"),
            ("ecs-os", "/v2.1/{p}/servers/{s}"),
            ("bms-os", "/v2.1/{p}/servers/{s}"),
        ] {
            let profile = crate::profile::builtin(dialect).unwrap();
            let app = App::new(profile, 1, Vec::new(), 0).unwrap();
            let p = app.projects().main.clone();
            let s = app.server_ids(&p)[0].clone();
            let target = show.replace("{p}", &p).replace("{s}", &s);

            let ok = app.handle(signed(&app, "GET", &target, false));
            assert_eq!(
                ok.status,
                200,
                "{dialect}: {}",
                String::from_utf8_lossy(&ok.body)
            );

            let tampered = app.handle(signed(&app, "GET", &target, true));
            assert_eq!(tampered.status, 401, "{dialect}");
            let body: Value = serde_json::from_slice(&tampered.body).unwrap();
            assert_eq!(body["error_code"], "APIGW.0301", "{dialect}");

            let token =
                HttpRequest::new("GET", &target).header("X-Auth-Token", &format!("demo:{p}"));
            assert_eq!(app.handle(token).status, 200, "{dialect}");
        }
    }

    #[test]
    fn nova_has_no_access_keys() {
        let profile = crate::profile::builtin("nova").unwrap();
        let app = App::new(profile, 1, Vec::new(), 0).unwrap();
        assert_eq!(app.huawei().access_key(&app.projects().main), None);
    }
}
