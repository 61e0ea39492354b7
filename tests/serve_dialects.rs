//! The Nova-shaped Huawei profiles (`ecs-os`, `bms-os`) and `nova-legacy`
//! served on their own, through the in-process handler.

use metaconform::serve::App;
use metaconform::serve::message::{HttpRequest, HttpResponse};
use serde_json::{Value, json};

fn app(dialect: &str) -> App {
    let profile = metaconform::profile::builtin(dialect).expect("profile");
    App::new(profile, 1, Vec::new(), 0).expect("app")
}

fn send(app: &App, method: &str, path: &str, body: Option<Value>) -> HttpResponse {
    let project = &app.projects().main;
    let mut request =
        HttpRequest::new(method, path).header("X-Auth-Token", &format!("demo:{project}"));
    if let Some(b) = body {
        request = request
            .header("Content-Type", "application/json")
            .body(b.to_string());
    }
    app.handle(request)
}

fn json_of(r: &HttpResponse) -> Value {
    serde_json::from_slice(&r.body).unwrap_or(Value::Null)
}

#[test]
fn ecs_os_speaks_huawei_errors_under_v2_1_and_v2() {
    let app = app("ecs-os");
    let p = app.projects().main.clone();
    let s = app.server_ids(&p)[0].clone();
    for version in ["v2.1", "v2"] {
        let ok = send(
            &app,
            "POST",
            &format!("/{version}/{p}/servers/{s}/metadata"),
            Some(json!({"metadata": {"a": "1"}})),
        );
        assert_eq!(ok.status, 200, "{version}");
    }
    let missing = send(
        &app,
        "GET",
        &format!("/v2.1/{p}/servers/nope/metadata"),
        None,
    );
    assert_eq!(missing.status, 404);
    assert_eq!(json_of(&missing)["error"]["code"], "Ecs.0114");
    let space = send(
        &app,
        "POST",
        &format!("/v2.1/{p}/servers/{s}/metadata"),
        Some(json!({"metadata": {"a b": "1"}})),
    );
    assert_eq!(
        (space.status, json_of(&space)["error"]["code"].clone()),
        (400, json!("Ecs.0005"))
    );
    let no_token = app.handle(HttpRequest::new(
        "GET",
        &format!("/v2.1/{p}/servers/{s}/metadata"),
    ));
    assert_eq!(
        (no_token.status, json_of(&no_token)["error_code"].clone()),
        (401, json!("APIGW.0301"))
    );
    let doc = json_of(&send(&app, "GET", "/v2.1", None));
    assert_eq!(doc["version"]["version"], "2.60");
}

#[test]
fn bms_os_has_no_replace_or_get_one() {
    let app = app("bms-os");
    let p = app.projects().main.clone();
    let s = app.server_ids(&p)[0].clone();
    let replace = send(
        &app,
        "PUT",
        &format!("/v2.1/{p}/servers/{s}/metadata"),
        Some(json!({"metadata": {}})),
    );
    assert_eq!(
        (replace.status, json_of(&replace)["error_code"].clone()),
        (404, json!("APIGW.0101"))
    );
    let set = send(
        &app,
        "PUT",
        &format!("/v2.1/{p}/servers/{s}/metadata/k"),
        Some(json!({"meta": {"k": "v"}})),
    );
    assert_eq!(set.status, 200);
    let colon = send(
        &app,
        "POST",
        &format!("/v2.1/{p}/servers/{s}/metadata"),
        Some(json!({"metadata": {"a:b": "1"}})),
    );
    assert_eq!(colon.status, 400, "bms-os forbids ':' in keys");
}

#[test]
fn nova_legacy_alone_serves_v2_only() {
    let app = app("nova-legacy");
    let p = app.projects().main.clone();
    let s = app.server_ids(&p)[0].clone();
    let r = send(
        &app,
        "POST",
        &format!("/v2/{p}/servers/{s}/metadata"),
        Some(json!({"metadata": {"a": "1"}, "junk": 1})),
    );
    assert_eq!(r.status, 200);
    assert!(r.header("OpenStack-API-Version").is_none());
    assert_eq!(
        send(
            &app,
            "GET",
            &format!("/v2.1/{p}/servers/{s}/metadata"),
            None
        )
        .status,
        404
    );
}

#[test]
fn huawei_v1_family_is_refused_with_a_reason() {
    let profile = metaconform::profile::builtin("ecs-v1").expect("profile");
    let err = App::new(profile, 1, Vec::new(), 0).expect_err("not served yet");
    assert!(err.to_string().contains("Huawei v1"), "{err}");
}

#[test]
fn the_catalog_endpoint_answers_version_discovery() {
    let app = app("nova");
    let p = app.projects().main.clone();
    let r = send(&app, "GET", &format!("/v2.1/{p}"), None);
    assert_eq!(r.status, 200);
    assert_eq!(json_of(&r)["version"]["min_version"], "2.1");
    let anonymous = app.handle(HttpRequest::new("GET", &format!("/v2.1/{p}")));
    assert_eq!(anonymous.status, 401);
}

#[test]
fn server_creation_is_bounded_by_the_instance_quota() {
    let profile = metaconform::profile::builtin("nova").expect("profile");
    let limit = metaconform::serve::servers::MAX_INSTANCES;
    let app = App::new(profile, limit - 1, Vec::new(), 0).expect("app");
    let p = app.projects().main.clone();
    let create = |name: &str| {
        send(
            &app,
            "POST",
            &format!("/v2.1/{p}/servers"),
            Some(json!({"server": {"name": name}})),
        )
    };
    assert_eq!(create("last").status, 202);
    let refused = create("one-too-many");
    assert_eq!(refused.status, 403);
    assert!(
        json_of(&refused)["forbidden"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("Quota exceeded for instances"))
    );
}

#[test]
fn nova_order_size_then_auth_then_routing() {
    let app = app("nova");
    let p = app.projects().main.clone();
    let unrouted = format!("/v2.1/{p}/servers/x/metadata");
    let anonymous = app.handle(HttpRequest::new("PATCH", &unrouted));
    assert_eq!(anonymous.status, 401, "authentication before routing");
    let routed_late = send(&app, "PATCH", &unrouted, None);
    assert_eq!((routed_late.status, routed_late.is_json()), (404, false));
    let mut oversize = HttpRequest::new("PATCH", &unrouted);
    oversize.declared_len = Some(114_689);
    let oversize = app.handle(oversize);
    assert_eq!(oversize.status, 413, "size before authentication");
    let mut exact = HttpRequest::new("GET", &format!("/v2.1/{p}/servers/x/metadata"));
    exact.declared_len = Some(114_688);
    assert_eq!(
        app.handle(exact).status,
        401,
        "the limit itself is accepted"
    );
}
