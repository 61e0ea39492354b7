//! The in-process request handler: [`App::handle`] turns one
//! [`HttpRequest`] into one [`HttpResponse`], synchronously, over the
//! mutex-protected [`World`]. The listener, the tests and the fuzz target
//! all call it directly.
//!
//! Order (spec §4.4 and §5.2): body size (413, on every route), version
//! documents (unauthenticated), authentication (401), routing (404 HTML),
//! then the route's handler, which runs the model's stages.

use std::sync::{Mutex, MutexGuard};

use crate::model::caller::Caller;
use crate::model::microversion::{Microversion, VersionHeaders};
use crate::model::outcome::Outcome;
use crate::model::pipeline::{self, ApiRules};
use crate::profile::{self, ErrorShape, Profile};

use super::faults::{Fault, FaultSet};
use super::huawei::{self, HuaweiState};
use super::message::{HttpRequest, HttpResponse};
use super::respond;
use super::routes::{Captures, Handler, Mount, Resolved, Site, decode_path, decode_path_latin1};
use super::world::{Projects, World};
use super::{flavors, metadata, servers, tags, versions};

/// Why an [`App`] could not be built.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    Profile(String),
}

/// The mock server's state and routes.
#[derive(Debug)]
pub struct App {
    site: Site,
    /// The rules handed to the model, per mount (faults applied).
    rules: Vec<ApiRules>,
    world: Mutex<World>,
    projects: Projects,
    faults: FaultSet,
    huawei: HuaweiState,
    overlap: metadata::Overlap,
}

/// One routed request, as the handlers see it.
pub struct Call<'a> {
    pub app: &'a App,
    pub mount: &'a Mount,
    /// The rules for the model (faults applied).
    pub rules: &'a ApiRules,
    pub request: &'a HttpRequest,
    pub url_project: Option<String>,
    pub captures: Captures,
    pub query: Vec<(String, String)>,
    pub versions: VersionHeaders,
    /// The caller as the model sees it (faults applied).
    pub caller: Option<Caller>,
    pub identity_uri: String,
}

impl Call<'_> {
    pub fn profile(&self) -> &Profile {
        &self.mount.profile
    }

    pub fn faults(&self) -> &FaultSet {
        &self.app.faults
    }

    pub fn world(&self) -> MutexGuard<'_, World> {
        self.app.world()
    }

    /// A refusal in this mount's dialect, with the version headers.
    pub fn refuse(&self, outcome: &Outcome, version: Option<Microversion>) -> HttpResponse {
        let mut response = respond::outcome(self.profile(), outcome, 200, &self.identity_uri);
        respond::add_version_headers(&mut response, version, self.rules.legacy);
        response
    }
}

impl App {
    /// Build the app for a profile, with the built-in profile it names in
    /// `served_with` mounted alongside (nova: legacy `/v2` through
    /// `nova-legacy`). Each project gets `servers` servers.
    pub fn new(
        profile: Profile,
        servers: usize,
        faults: Vec<Fault>,
        seed: u64,
    ) -> Result<App, AppError> {
        let legacy = match &profile.file.served_with {
            Some(id) => Some(profile::builtin(id).map_err(|d| AppError::Profile(d.to_string()))?),
            None => None,
        };
        App::with_legacy(profile, legacy, servers, faults, seed)
    }

    /// As [`App::new`], with the profile served under legacy `/v2` given
    /// (none: no legacy mount). Callers that build many apps (the fuzz
    /// target) load the legacy profile once.
    pub fn with_legacy(
        profile: Profile,
        legacy: Option<Profile>,
        servers: usize,
        faults: Vec<Fault>,
        seed: u64,
    ) -> Result<App, AppError> {
        let projects = Projects::generate();
        let huawei = HuaweiState::new(&profile, &projects);
        let site = Site::for_profile(profile, legacy).map_err(AppError::Profile)?;
        let world = World::seeded(&projects, servers);
        let faults = FaultSet::new(faults, seed);
        let rules = site
            .mounts
            .iter()
            .map(|m| faults.rules(&m.profile.rules))
            .collect();
        Ok(App {
            site,
            rules,
            world: Mutex::new(world),
            projects,
            faults,
            huawei,
            overlap: metadata::Overlap::default(),
        })
    }

    /// Where `lost-update` writes meet.
    pub fn overlap(&self) -> &metadata::Overlap {
        &self.overlap
    }

    /// AK/SK pairs and batch-action jobs (Huawei dialects).
    pub fn huawei(&self) -> &HuaweiState {
        &self.huawei
    }

    pub fn projects(&self) -> &Projects {
        &self.projects
    }

    /// The dialect's own profile.
    pub fn profile(&self) -> &Profile {
        &self.site.primary().profile
    }

    pub fn faults(&self) -> &FaultSet {
        &self.faults
    }

    /// Ids of a project's servers.
    pub fn server_ids(&self, project: &str) -> Vec<String> {
        self.world().ids(project)
    }

    /// Whether a handler may sleep (the listener then runs it on a blocking
    /// thread).
    pub fn may_block(&self) -> bool {
        self.faults.has(&Fault::LostUpdate)
    }

    /// The largest body any route accepts.
    pub fn max_body_bytes(&self) -> usize {
        self.rules
            .iter()
            .map(|r| r.max_body_bytes)
            .max()
            .unwrap_or(0)
    }

    /// The servers, locked for one read-decide-write (or for seeding a
    /// twin of real servers, [`crate::run::rehearsal`]).
    pub fn world(&self) -> MutexGuard<'_, World> {
        // A poisoned lock only means another request panicked mid-way; the
        // world is plain data and stays usable.
        self.world.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether this is Nova itself (its error shape), whose WSGI stack
    /// (eventlet, webob, oslo middleware) the mock follows.
    fn is_nova(&self) -> bool {
        matches!(
            self.profile().error_shape(),
            crate::profile::ErrorShape::NovaFault
        )
    }

    /// Whether Nova's paste `urlmap` sends the request to the versions app
    /// (`/` and every path outside the API prefixes), whose pipeline has no
    /// request-id filter (etc/nova/api-paste.ini `oscomputeversions`).
    pub fn reaches_versions_app(&self, request: &HttpRequest) -> bool {
        let path = request.target.split('?').next().unwrap_or_default();
        let first = path
            .trim_start_matches('/')
            .split('/')
            .next()
            .unwrap_or_default();
        let api_prefix =
            ["v2", "v2.1"].contains(&first) || self.site.mounts.iter().any(|m| m.prefix == first);
        self.is_nova() && !api_prefix
    }

    /// Answer one request.
    pub fn handle(&self, mut request: HttpRequest) -> HttpResponse {
        if request.unframed_body && self.is_nova() {
            // webob's `Request.is_body_readable` (webob/request.py): without
            // Content-Length the body is read only when the server sets
            // `wsgi.input_terminated`, which eventlet's does not; Nova sees
            // a chunked body as no body (measured on Nova 34).
            // The mock still caps what it read: an oversize chunked body
            // stays a 413 (Nova, never reading it, would not say so).
            request.declared_len = Some(request.body.len());
            request.body.clear();
        }
        let mut response = self.route(&request);
        if self.faults.roll_error500() {
            response = self.internal_error();
        }
        if request.method == "OPTIONS" && self.is_nova() && !(200..300).contains(&response.status) {
            // oslo_middleware/cors.py `_apply_cors_preflight_headers`, the
            // outermost filter: an OPTIONS answer outside 2xx is replaced by
            // an empty 200 without Content-Type, request ids included
            // (measured on Nova 34).
            return HttpResponse::new(200);
        }
        self.apply_body_faults(&mut response);
        if self.faults.has(&Fault::EchoToken)
            && let Some(secret) = self.huawei.caller_secret(&request)
        {
            super::faults::echo_secret(&mut response, &secret);
        }
        if !self.faults.has(&Fault::MissingRequestId) && !self.reaches_versions_app(&request) {
            respond::add_request_id(&mut response);
        }
        response
    }

    fn route(&self, request: &HttpRequest) -> HttpResponse {
        let primary = self.profile();
        let identity_uri = identity_uri(request);
        let (raw_path, raw_query) = match request.target.split_once('?') {
            Some((p, q)) => (p, q),
            None => (request.target.as_str(), ""),
        };
        let path = if self.is_nova() {
            decode_path_latin1(raw_path)
        } else {
            let Some(path) = decode_path(raw_path) else {
                return respond::unrouted(primary, request.header_value("Accept"));
            };
            path
        };
        if self.reaches_versions_app(request) && path != "/" {
            return versions::choices(&path, &host_root(request));
        }
        let resolved = self.site.resolve(&request.method, &path);
        let mount = match &resolved {
            Resolved::Api { mount, .. } | Resolved::VersionDoc(mount) => mount,
            _ => self.site.primary(),
        };
        if pipeline::admit_size(self.rules_of(mount), request.body_len()).is_err() {
            return too_large(&mount.profile, &identity_uri);
        }
        match resolved {
            Resolved::VersionList => return versions::list(&self.site, &host_root(request)),
            Resolved::VersionDoc(mount) => return versions::document(mount, &host_root(request)),
            _ => {}
        }
        let caller = match self.huawei.authenticate(request) {
            Ok(Some(caller)) => caller,
            Ok(None) => {
                return respond::outcome(primary, &pipeline::unauthenticated(), 200, &identity_uri);
            }
            Err(gateway_refusal) => return gateway_refusal,
        };
        let Resolved::Api {
            mount,
            url_project,
            handler,
            captures,
        } = resolved
        else {
            return respond::unrouted(primary, request.header_value("Accept"));
        };
        let call = Call {
            app: self,
            mount,
            rules: self.rules_of(mount),
            request,
            url_project,
            captures,
            query: parse_query(raw_query),
            versions: version_headers(request),
            caller: Some(self.faults.caller(caller)),
            identity_uri,
        };
        dispatch(&call, handler)
    }

    /// The model's rules for one of the site's mounts (faults applied).
    fn rules_of(&self, mount: &Mount) -> &ApiRules {
        let index = self
            .site
            .mounts
            .iter()
            .position(|m| std::ptr::eq(m, mount))
            .unwrap_or(0);
        &self.rules[index]
    }

    fn internal_error(&self) -> HttpResponse {
        let message = "Unexpected API Error. Please report this at http://bugs.launchpad.net/nova/ and attach the Nova API log if possible.";
        match self.profile().error_shape() {
            ErrorShape::NovaFault => respond::nova_fault(500, "computeFault", message),
            ErrorShape::Huawei => respond::huawei_error(500, "Ecs.0000", message),
        }
    }

    fn apply_body_faults(&self, response: &mut HttpResponse) {
        if self.faults.has(&Fault::NonJsonBody) && !response.body.is_empty() {
            response.body = b"<html><body><h1>502 Bad Gateway</h1></body></html>".to_vec();
        }
        if self.faults.has(&Fault::LoneSurrogate) {
            response.body = with_lone_surrogate(&response.body);
        }
        if self.faults.has(&Fault::TruncateBody) {
            let half = response.body.len() / 2;
            response.body.truncate(half);
        }
    }
}

/// A metadata answer (`{"metadata": {...}}` or `{"meta": {...}}`) whose
/// first value ends in `\udc80`, the escape of an unpaired surrogate;
/// other bodies as they are.
fn with_lone_surrogate(body: &[u8]) -> Vec<u8> {
    const MARK: &str = "\u{E000}lone\u{E000}";
    let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(body) else {
        return body.to_vec();
    };
    let wrapper = ["metadata", "meta"]
        .into_iter()
        .find(|w| value.get(*w).is_some_and(|m| m.is_object()));
    let first = wrapper
        .and_then(|w| value.get_mut(w))
        .and_then(|m| m.as_object_mut())
        .and_then(|m| m.values_mut().find(|v| v.is_string()));
    let Some(serde_json::Value::String(text)) = first else {
        return body.to_vec();
    };
    text.push_str(MARK);
    value.to_string().replace(MARK, "\\udc80").into_bytes()
}

fn dispatch(call: &Call<'_>, handler: Handler) -> HttpResponse {
    match handler {
        Handler::Metadata(op) => metadata::handle(call, op),
        Handler::ServerCreate => servers::create(call),
        Handler::ServerList { detail } => servers::list(call, detail),
        Handler::ServerShow => servers::show(call),
        Handler::ServerDelete => servers::delete(call),
        Handler::ServerAction => servers::action(call),
        Handler::Limits => servers::limits(call),
        Handler::FlavorList { detail } => flavors::list(call, detail),
        Handler::FlavorShow => flavors::show(call),
        Handler::EndpointVersion => servers::endpoint_version(call),
        Handler::Tags(route) => tags::handle(call, route),
        Handler::HuaweiV1(route) => huawei::v1::handle(call, route),
    }
}

fn too_large(profile: &Profile, identity_uri: &str) -> HttpResponse {
    let mut response = respond::outcome(profile, &pipeline::too_large(), 200, identity_uri);
    // The rest of an announced oversize body is never read.
    response.headers.push(("Connection".into(), "close".into()));
    response
}

fn version_headers(request: &HttpRequest) -> VersionHeaders {
    VersionHeaders {
        openstack: request
            .header_value("OpenStack-API-Version")
            .map(str::to_string),
        nova: request
            .header_value("X-OpenStack-Nova-API-Version")
            .map(str::to_string),
    }
}

/// `a=1&b` as decoded pairs, in order.
pub fn parse_query(raw: &str) -> Vec<(String, String)> {
    let decode = |s: &str| {
        let spaced = s.replace('+', " ");
        percent_encoding::percent_decode_str(&spaced)
            .decode_utf8_lossy()
            .into_owned()
    };
    raw.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| match pair.split_once('=') {
            Some((k, v)) => (decode(k), decode(v)),
            None => (decode(pair), String::new()),
        })
        .collect()
}

/// `http://<Host>`, for links and the keystone `WWW-Authenticate` header.
pub fn host_root(request: &HttpRequest) -> String {
    let host = request
        .header_value("Host")
        .filter(|h| h.chars().all(|c| c.is_ascii_graphic()))
        .unwrap_or("127.0.0.1");
    format!("http://{host}")
}

fn identity_uri(request: &HttpRequest) -> String {
    format!("{}/identity", host_root(request))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_pairs_are_decoded_in_order() {
        assert_eq!(
            parse_query("a=1&b&c=x%20y+z&&"),
            vec![
                ("a".to_string(), "1".to_string()),
                ("b".to_string(), String::new()),
                ("c".to_string(), "x y z".to_string()),
            ]
        );
        assert!(parse_query("").is_empty());
    }
}
