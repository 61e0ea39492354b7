//! Drive `metaconform serve`'s request handler in-process with arbitrary
//! method, path, headers and body, a few requests per input against a fresh
//! app (so a crash reproduces from its input alone).
//!
//! Asserted for every answer: no panic, a status in 100..=599, never a 5xx
//! (the fault-free mock has no reason to fail), request-id headers present,
//! and a body that parses as JSON whenever Content-Type says JSON.

#![no_main]

use std::sync::OnceLock;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use metaconform::profile::Profile;
use metaconform::serve::App;
use metaconform::serve::message::{HttpRequest, HttpResponse};

#[derive(Debug, Arbitrary)]
struct Input {
    dialect: u8,
    requests: Vec<Request>,
}

#[derive(Debug, Arbitrary)]
struct Request {
    method: Method,
    prefix: Prefix,
    server: ServerPick,
    tail: Tail,
    query: Option<String>,
    token: TokenPick,
    content_type: Option<ContentType>,
    version: Option<String>,
    legacy_version: Option<String>,
    extra_headers: Vec<(String, String)>,
    body: Body,
    declared_len: Option<u32>,
}

#[derive(Debug, Arbitrary)]
enum Method {
    Get,
    Post,
    Put,
    Delete,
    Patch,
    Other(String),
}

#[derive(Debug, Arbitrary)]
enum Prefix {
    Project,
    NoProject,
    Legacy,
    OtherProject,
    Raw(String),
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
    EncodedKey(String),
    Action,
    Show,
    Servers,
    Detail,
    Limits,
    Root,
    Raw(String),
}

#[derive(Debug, Arbitrary)]
enum TokenPick {
    Member,
    Admin,
    Reader,
    Alt,
    None,
    Raw(String),
}

#[derive(Debug, Arbitrary)]
enum ContentType {
    Json,
    JsonCharset,
    TextPlain,
    Xml,
    Raw(String),
}

#[derive(Debug, Arbitrary)]
enum Body {
    Empty,
    Raw(Vec<u8>),
    Metadata(Vec<(String, String)>),
    Meta(String, String),
    Action(String, Option<String>),
    Server(String, Vec<(String, String)>),
    Json(String, Vec<(String, String)>),
}

/// The legacy profile `nova` mounts under `/v2` (its `served_with`), loaded once.
fn legacy() -> &'static Profile {
    static LEGACY: OnceLock<Profile> = OnceLock::new();
    LEGACY.get_or_init(|| {
        metaconform::profile::builtin("nova-legacy")
            .unwrap_or_else(|e| panic!("built-in profile nova-legacy does not load: {e}"))
    })
}

fn profiles() -> &'static [Profile] {
    static PROFILES: OnceLock<Vec<Profile>> = OnceLock::new();
    PROFILES.get_or_init(|| {
        ["nova", "nova-legacy", "ecs-os", "bms-os"]
            .iter()
            .map(|id| {
                metaconform::profile::builtin(id)
                    .unwrap_or_else(|e| panic!("built-in profile {id} does not load: {e}"))
            })
            .collect()
    })
}

fn map(entries: &[(String, String)]) -> serde_json::Value {
    let object: serde_json::Map<String, serde_json::Value> = entries
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
        .collect();
    serde_json::Value::Object(object)
}

fn body_bytes(body: &Body) -> Vec<u8> {
    use serde_json::json;
    let value = match body {
        Body::Empty => return Vec::new(),
        Body::Raw(bytes) => return bytes.clone(),
        Body::Metadata(entries) => json!({ "metadata": map(entries) }),
        Body::Meta(k, v) => json!({ "meta": { k.as_str(): v } }),
        Body::Action(name, state) => match state {
            Some(s) => json!({ name.as_str(): { "state": s, "flavorRef": s, "locked_reason": s } }),
            None => json!({ name.as_str(): null }),
        },
        Body::Server(name, entries) => json!({"server": {"name": name, "metadata": map(entries)}}),
        Body::Json(wrapper, entries) => json!({ wrapper.as_str(): map(entries) }),
    };
    value.to_string().into_bytes()
}

fn target(app: &App, r: &Request) -> String {
    let projects = app.projects();
    let own = app.server_ids(&projects.main);
    let alt = app.server_ids(&projects.alt);
    let pick = |ids: &[String], n: u8| {
        ids.get(usize::from(n) % ids.len().max(1))
            .cloned()
            .unwrap_or_default()
    };
    let prefix = match &r.prefix {
        Prefix::Project => format!("/v2.1/{}", projects.main),
        Prefix::NoProject => "/v2.1".to_string(),
        Prefix::Legacy => format!("/v2/{}", projects.main),
        Prefix::OtherProject => format!("/v2.1/{}", projects.alt),
        Prefix::Raw(text) => text.clone(),
    };
    let server = match &r.server {
        ServerPick::Own(n) => pick(&own, *n),
        ServerPick::Alt(n) => pick(&alt, *n),
        ServerPick::Raw(text) => text.clone(),
    };
    let tail = match &r.tail {
        Tail::Metadata => format!("/servers/{server}/metadata"),
        Tail::Key(k) => format!("/servers/{server}/metadata/{k}"),
        Tail::EncodedKey(k) => format!(
            "/servers/{server}/metadata/{}",
            percent_encoding::utf8_percent_encode(k, percent_encoding::NON_ALPHANUMERIC)
        ),
        Tail::Action => format!("/servers/{server}/action"),
        Tail::Show => format!("/servers/{server}"),
        Tail::Servers => "/servers".to_string(),
        Tail::Detail => "/servers/detail".to_string(),
        Tail::Limits => "/limits".to_string(),
        Tail::Root => "/".to_string(),
        Tail::Raw(text) => text.clone(),
    };
    match &r.query {
        Some(q) => format!("{prefix}{tail}?{q}"),
        None => format!("{prefix}{tail}"),
    }
}

fn request(app: &App, r: &Request) -> HttpRequest {
    let projects = app.projects();
    let method = match &r.method {
        Method::Get => "GET".to_string(),
        Method::Post => "POST".to_string(),
        Method::Put => "PUT".to_string(),
        Method::Delete => "DELETE".to_string(),
        Method::Patch => "PATCH".to_string(),
        Method::Other(m) => m.clone(),
    };
    let mut out = HttpRequest::new(&method, &target(app, r));
    let token = match &r.token {
        TokenPick::Member => Some(format!("demo:{}", projects.main)),
        TokenPick::Admin => Some(format!("admin:{}", projects.main)),
        TokenPick::Reader => Some(format!("reader:{}:reader", projects.main)),
        TokenPick::Alt => Some(format!("alt:{}", projects.alt)),
        TokenPick::None => None,
        TokenPick::Raw(t) => Some(t.clone()),
    };
    if let Some(t) = token {
        out = out.header("X-Auth-Token", &t);
    }
    if let Some(ct) = &r.content_type {
        let text = match ct {
            ContentType::Json => "application/json",
            ContentType::JsonCharset => "application/json;charset=UTF-8",
            ContentType::TextPlain => "text/plain",
            ContentType::Xml => "application/xml",
            ContentType::Raw(t) => t.as_str(),
        };
        out = out.header("Content-Type", text);
    }
    if let Some(v) = &r.version {
        out = out.header("OpenStack-API-Version", &format!("compute {v}"));
    }
    if let Some(v) = &r.legacy_version {
        out = out.header("X-OpenStack-Nova-API-Version", v);
    }
    for (name, value) in r.extra_headers.iter().take(8) {
        out = out.header(name, value);
    }
    out.body = body_bytes(&r.body);
    out.declared_len = r
        .declared_len
        .map(|n| n as usize)
        .filter(|n| *n > out.body.len());
    out
}

/// What every answer of the fault-free mock holds. Nova answers without
/// request ids where its pipeline has no request-id filter: the versions
/// app (`/` and paths outside the API prefixes) and the CORS filter's empty
/// 200 for an OPTIONS it does not route; so does the mock.
fn check(app: &App, request: &HttpRequest, response: &HttpResponse) {
    assert!(
        (100..=599).contains(&response.status),
        "status {}",
        response.status
    );
    assert!(
        response.status < 500,
        "5xx from the fault-free mock: {response:?}"
    );
    let without_ids = request.method == "OPTIONS" || app.reaches_versions_app(request);
    assert!(
        without_ids || response.header("x-openstack-request-id").is_some(),
        "no request id: {} {} -> {response:?}",
        request.method,
        request.target
    );
    if response.is_json() {
        assert!(
            serde_json::from_slice::<serde_json::Value>(&response.body).is_ok(),
            "Content-Type says JSON but the body is not: {response:?}"
        );
    }
}

fuzz_target!(|input: Input| {
    let all = profiles();
    let profile = &all[usize::from(input.dialect) % all.len()];
    let legacy = Some(legacy())
        .filter(|legacy| profile.file.served_with.as_deref() == Some(legacy.id()))
        .cloned();
    let app = App::with_legacy(profile.clone(), legacy, 2, Vec::new(), 0)
        .unwrap_or_else(|e| panic!("the {} mock does not start: {e}", profile.id()));
    for r in input.requests.iter().take(8) {
        let sent = request(&app, r);
        let response = app.handle(sent.clone());
        check(&app, &sent, &response);
    }
});
