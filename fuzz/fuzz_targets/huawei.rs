//! Drive the Huawei dialects of `metaconform serve` in-process: v1 routes
//! (metadata, show, limits, batch actions, jobs, automatic recovery) and
//! the Nova-shaped `ecs-os`/`bms-os`, with tokens, valid AK/SK signatures,
//! signatures broken after signing, and arbitrary `Authorization` and
//! `X-Sdk-Date` headers.
//!
//! Asserted for every answer: no panic, a status in 100..=599, never a 5xx,
//! request-id headers present, a JSON body whenever Content-Type says JSON,
//! and a request carrying a valid signature is never refused at the gateway
//! (no `APIGW.*` 401).

#![no_main]

use std::sync::OnceLock;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use metaconform::profile::Profile;
use metaconform::serve::App;
use metaconform::serve::message::{HttpRequest, HttpResponse};
use metaconform::endpoint::sign::{AccessKey, SdkDate, sign};

#[derive(Debug, Arbitrary)]
struct Input {
    dialect: u8,
    requests: Vec<Request>,
}

#[derive(Debug, Arbitrary)]
struct Request {
    method: Method,
    own_project: bool,
    server: ServerPick,
    tail: Tail,
    query: Option<String>,
    credential: Credential,
    json_content_type: bool,
    body: Body,
}

#[derive(Debug, Arbitrary)]
enum Method {
    Get,
    Post,
    Put,
    Delete,
    Other(String),
}

#[derive(Debug, Arbitrary)]
enum ServerPick {
    Own(u8),
    Alt(u8),
    Raw(String),
}

#[derive(Debug, Arbitrary)]
enum Tail {
    Metadata,
    Key(String),
    Show,
    Limits,
    Action,
    Job(String),
    AutoRecovery,
    Raw(String),
}

#[derive(Debug, Arbitrary)]
enum Credential {
    Token,
    ReaderToken,
    NoCredential,
    /// Signed with the project's pair at the current time.
    Signed,
    /// Signed, then one part changed.
    Tampered(Tamper),
    /// Arbitrary `Authorization` and `X-Sdk-Date` values.
    RawSignature(String, String),
}

#[derive(Debug, Arbitrary)]
enum Tamper {
    Body(u8),
    Path(String),
    Method,
    Date(i16),
}

#[derive(Debug, Arbitrary)]
enum Body {
    Empty,
    Raw(Vec<u8>),
    Metadata(Vec<(String, String)>),
    Batch {
        start: bool,
        kind: Option<String>,
        servers: Vec<ServerPick>,
    },
    AutoRecovery(Option<String>),
    AutoRecoveryBool(bool),
}

fn profiles() -> &'static [Profile] {
    static PROFILES: OnceLock<Vec<Profile>> = OnceLock::new();
    PROFILES.get_or_init(|| {
        ["ecs-v1", "bms-v1", "ecs-os", "bms-os"]
            .iter()
            .map(|id| {
                metaconform::profile::builtin(id)
                    .unwrap_or_else(|e| panic!("built-in profile {id} does not load: {e}"))
            })
            .collect()
    })
}

fn pick(app: &App, server: &ServerPick) -> String {
    let projects = app.projects();
    let choose = |project: &str, n: u8| {
        let ids = app.server_ids(project);
        ids.get(usize::from(n) % ids.len().max(1))
            .cloned()
            .unwrap_or_default()
    };
    match server {
        ServerPick::Own(n) => choose(&projects.main, *n),
        ServerPick::Alt(n) => choose(&projects.alt, *n),
        ServerPick::Raw(text) => text.clone(),
    }
}

fn body_bytes(app: &App, body: &Body) -> Vec<u8> {
    use serde_json::json;
    let value = match body {
        Body::Empty => return Vec::new(),
        Body::Raw(bytes) => return bytes.clone(),
        Body::Metadata(entries) => {
            let map: serde_json::Map<String, serde_json::Value> = entries
                .iter()
                .map(|(k, v)| (k.clone(), json!(v)))
                .collect();
            json!({ "metadata": map })
        }
        Body::Batch {
            start,
            kind,
            servers,
        } => {
            let ids: Vec<_> = servers
                .iter()
                .take(4)
                .map(|s| json!({"id": pick(app, s)}))
                .collect();
            let name = if *start { "os-start" } else { "os-stop" };
            match kind {
                Some(k) => json!({ name: {"type": k, "servers": ids} }),
                None => json!({ name: {"servers": ids} }),
            }
        }
        Body::AutoRecovery(Some(value)) => json!({ "support_auto_recovery": value }),
        Body::AutoRecovery(None) => json!({}),
        Body::AutoRecoveryBool(value) => json!({ "support_auto_recovery": value }),
    };
    value.to_string().into_bytes()
}

fn target(app: &App, r: &Request) -> String {
    let projects = app.projects();
    let v1 = app.profile().file.endpoint_path.is_empty();
    let project = if r.own_project {
        &projects.main
    } else {
        &projects.alt
    };
    let server = pick(app, &r.server);
    let (prefix, servers) = match (v1, app.profile().id()) {
        (true, "bms-v1") => (format!("/v1/{project}"), "baremetalservers"),
        (true, _) => (format!("/v1/{project}"), "cloudservers"),
        (false, _) => (format!("/v2.1/{project}"), "servers"),
    };
    let tail = match &r.tail {
        Tail::Metadata => format!("/{servers}/{server}/metadata"),
        Tail::Key(k) => format!(
            "/{servers}/{server}/metadata/{}",
            percent_encoding::utf8_percent_encode(k, percent_encoding::NON_ALPHANUMERIC)
        ),
        Tail::Show => format!("/{servers}/{server}"),
        Tail::Limits if v1 => format!("/{servers}/limits"),
        Tail::Limits => "/limits".to_string(),
        Tail::Action if v1 => format!("/{servers}/action"),
        Tail::Action => format!("/{servers}/{server}/action"),
        Tail::Job(id) => format!("/jobs/{id}"),
        Tail::AutoRecovery => format!("/{servers}/{server}/autorecovery"),
        Tail::Raw(text) => text.clone(),
    };
    match &r.query {
        Some(q) => format!("{prefix}{tail}?{q}"),
        None => format!("{prefix}{tail}"),
    }
}

/// Add `X-Sdk-Date` and `Authorization` signed with the main project's pair.
/// `false` when the request cannot be signed (e.g. an unusable method or
/// duplicate signed headers). A Huawei mock without a pair is a broken
/// set-up, never a reason to skip the "valid signature refused" check.
fn add_signature(app: &App, request: &mut HttpRequest) -> bool {
    let Some((ak, sk)) = app.huawei().access_key(&app.projects().main) else {
        panic!("the Huawei mock has no access key for its main project");
    };
    let parts = request.signing_parts();
    match sign(&parts, &AccessKey { ak: &ak, sk: &sk }, SdkDate::now(), &["host"]) {
        Ok(added) => {
            request.headers.extend(added);
            true
        }
        Err(_) => false,
    }
}

fn tamper(request: &mut HttpRequest, how: &Tamper) {
    match how {
        Tamper::Body(flip) => match request.body.first_mut() {
            Some(byte) => *byte ^= flip | 1,
            None => request.body.push(*flip),
        },
        Tamper::Path(extra) => request.target = format!("/x{extra}{}", request.target),
        Tamper::Method => request.method = format!("{}X", request.method),
        Tamper::Date(delta) => {
            for (name, value) in &mut request.headers {
                if name == "X-Sdk-Date" {
                    let moved = SdkDate::now().unix_secs() + i64::from(*delta) * 7;
                    *value = SdkDate::from_unix(moved).to_string();
                }
            }
        }
    }
}

/// The request, and whether it carries an untouched valid signature.
fn request(app: &App, r: &Request) -> (HttpRequest, bool) {
    let projects = app.projects();
    let method = match &r.method {
        Method::Get => "GET".to_string(),
        Method::Post => "POST".to_string(),
        Method::Put => "PUT".to_string(),
        Method::Delete => "DELETE".to_string(),
        Method::Other(m) => m.clone(),
    };
    let mut out = HttpRequest::new(&method, &target(app, r)).header("Host", "127.0.0.1:8080");
    if r.json_content_type {
        out = out.header("Content-Type", "application/json;charset=UTF-8");
    }
    out.body = body_bytes(app, &r.body);
    let mut valid_signature = false;
    match &r.credential {
        Credential::Token => out = out.header("X-Auth-Token", &format!("demo:{}", projects.main)),
        Credential::ReaderToken => {
            out = out.header("X-Auth-Token", &format!("reader:{}:reader", projects.main))
        }
        Credential::NoCredential => {}
        Credential::Signed => valid_signature = add_signature(app, &mut out),
        Credential::Tampered(how) => {
            if add_signature(app, &mut out) {
                tamper(&mut out, how);
            }
        }
        Credential::RawSignature(auth, date) => {
            out = out.header("Authorization", auth).header("X-Sdk-Date", date);
        }
    }
    (out, valid_signature)
}

fn check(response: &HttpResponse, valid_signature: bool) {
    assert!(
        (100..=599).contains(&response.status),
        "status {}",
        response.status
    );
    assert!(
        response.status < 500,
        "5xx from the fault-free mock: {response:?}"
    );
    assert!(
        response.header("x-openstack-request-id").is_some(),
        "no request id"
    );
    let body = if response.is_json() {
        match serde_json::from_slice::<serde_json::Value>(&response.body) {
            Ok(value) => Some(value),
            Err(_) => panic!("Content-Type says JSON but the body is not: {response:?}"),
        }
    } else {
        None
    };
    if valid_signature {
        let gateway = body
            .as_ref()
            .and_then(|b| b.get("error_code"))
            .and_then(|c| c.as_str())
            .is_some_and(|c| c.starts_with("APIGW.03"));
        assert!(
            !(response.status == 401 && gateway),
            "a valid signature was refused: {response:?}"
        );
    }
}

fuzz_target!(|input: Input| {
    let all = profiles();
    let profile = &all[usize::from(input.dialect) % all.len()];
    let app = App::new(profile.clone(), 2, Vec::new(), 0)
        .unwrap_or_else(|e| panic!("the {} mock does not start: {e}", profile.id()));
    for r in input.requests.iter().take(8) {
        let (request, valid_signature) = request(&app, r);
        let response = app.handle(request);
        check(&response, valid_signature);
    }
});
