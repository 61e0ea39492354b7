//! Turning decisions into HTTP: the profile's status code and error body
//! shape, Nova's special pages (keystone 401, HTML 404 and 413), request ids
//! and microversion headers.

use serde_json::{Value, json};

use crate::model::microversion::Microversion;
use crate::model::outcome::{Outcome, OutcomeKind, Success};
use crate::profile::{ErrorShape, Profile};

use super::huawei;
use super::message::{HttpResponse, JSON, JSON_UTF8};
use super::webob::{self, PageFormat};

/// Nova fault names by status (spec §5.2); anything else is `computeFault`.
pub fn nova_fault_name(status: u16) -> &'static str {
    match status {
        400 => "badRequest",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "itemNotFound",
        405 => "badMethod",
        409 => "conflictingRequest",
        413 | 429 => "overLimit",
        415 => "badMediaType",
        501 => "notImplemented",
        503 => "serviceUnavailable",
        _ => "computeFault",
    }
}

/// A refused request as the profile renders it. `identity_uri` goes into
/// Nova's `WWW-Authenticate` header on 401.
pub fn refusal(
    profile: &Profile,
    kind: OutcomeKind,
    message: &str,
    identity_uri: &str,
) -> HttpResponse {
    let (status, code) = profile.emit(kind);
    match profile.error_shape() {
        ErrorShape::NovaFault => nova_refusal(kind, status, code, message, identity_uri),
        ErrorShape::Huawei => huawei_error(status, code.unwrap_or("Ecs.0000"), message),
    }
}

fn nova_refusal(
    kind: OutcomeKind,
    status: u16,
    code: Option<&str>,
    message: &str,
    identity_uri: &str,
) -> HttpResponse {
    match kind {
        OutcomeKind::Unauthorized => keystone_unauthorized(identity_uri),
        OutcomeKind::TooLarge => html_page(
            status,
            "Request Entity Too Large",
            "Request is too large. Larger than max_request_body_size (%s).",
        ),
        _ => nova_fault(status, code.unwrap_or(nova_fault_name(status)), message),
    }
}

/// `{"<name>": {"code": N, "message": ...}}` (spec §5.2).
pub fn nova_fault(status: u16, name: &str, message: &str) -> HttpResponse {
    let body = json!({ name: { "code": status, "message": message } });
    HttpResponse::json(status, JSON_UTF8, &body)
}

/// keystonemiddleware's 401 (spec §5.2). `Content-Type` is bare
/// `application/json`: keystonemiddleware 13 (`auth_token/__init__.py`
/// `AuthProtocol.process_request`) raises `webob.exc.HTTPUnauthorized(...,
/// charset='UTF-8', content_type='application/json')`, and webob 1.8 adds a
/// charset parameter only to `text/*` types (measured against genuine
/// keystonemiddleware 13.0.1 with webob 1.8.11).
pub fn keystone_unauthorized(identity_uri: &str) -> HttpResponse {
    let body = json!({"error": {
        "code": 401,
        "title": "Unauthorized",
        "message": "The request you have made requires authentication.",
    }});
    HttpResponse::json(401, JSON, &body).with_header(
        "WWW-Authenticate",
        &format!("Keystone uri=\"{identity_uri}\""),
    )
}

/// Huawei service errors `{"error": {"code": "Ecs.XXXX", ...}}`, or the API
/// gateway's `{"error_code": "APIGW.XXXX", ...}` for gateway codes (spec §5.5).
pub fn huawei_error(status: u16, code: &str, message: &str) -> HttpResponse {
    let body = if code.starts_with("APIGW.") || code.starts_with("APIG.") {
        let request_id = uuid::Uuid::new_v4().simple().to_string();
        huawei::render::gateway_error(code, message, &request_id)
    } else {
        huawei::render::service_error(code, message)
    };
    HttpResponse::json(status, JSON_UTF8, &body)
}

/// webob's HTML error page.
pub fn html_page(status: u16, title: &str, detail: &str) -> HttpResponse {
    webob::error_page(status, title, detail, PageFormat::Html)
}

/// The answer to an unrouted request in the profile's family; Nova's
/// follows the request's `Accept` as webob does ([`webob::page_format`]).
pub fn unrouted(profile: &Profile, accept: Option<&str>) -> HttpResponse {
    match profile.error_shape() {
        ErrorShape::NovaFault => webob::error_page(
            404,
            "Not Found",
            "The resource could not be found.",
            webob::page_format(accept),
        ),
        ErrorShape::Huawei => {
            let body = json!({
                "error_code": "APIGW.0101",
                "error_msg": "The API does not exist or has not been published in the environment",
            });
            HttpResponse::json(404, JSON_UTF8, &body)
        }
    }
}

/// A successful metadata answer with the operation's status.
pub fn success(status: u16, success: &Success) -> HttpResponse {
    match success {
        Success::Metadata(map) => HttpResponse::json(status, JSON, &json!({ "metadata": map })),
        Success::Meta(key, value) => {
            HttpResponse::json(status, JSON, &json!({ "meta": { key.as_str(): value } }))
        }
        Success::Empty => HttpResponse::new(status),
    }
}

/// Any outcome: success with `ok_status`, or the profile's refusal.
pub fn outcome(
    profile: &Profile,
    outcome: &Outcome,
    ok_status: u16,
    identity_uri: &str,
) -> HttpResponse {
    match outcome {
        Outcome::Success(Success::Empty) if is_nova(profile) => {
            // nova/api/openstack/wsgi.py `ResponseObject.serialize` sets
            // `Content-Type` to the negotiated type on every answer, a 204 too.
            success(ok_status, &Success::Empty).with_header("Content-Type", JSON)
        }
        Outcome::Success(s) => success(ok_status, s),
        Outcome::Refused { kind, message } => refusal(profile, *kind, message, identity_uri),
    }
}

fn is_nova(profile: &Profile) -> bool {
    matches!(profile.error_shape(), ErrorShape::NovaFault)
}

/// A JSON document (servers, limits, versions).
pub fn document(status: u16, value: &Value) -> HttpResponse {
    HttpResponse::json(status, JSON, value)
}

/// Echo the negotiated microversion, with both `Vary` headers (spec §6.2).
/// Legacy `/v2` strips version headers in both directions.
pub fn add_version_headers(
    response: &mut HttpResponse,
    version: Option<Microversion>,
    legacy: bool,
) {
    let Some(v) = version.filter(|_| !legacy) else {
        return;
    };
    let headers = [
        ("OpenStack-API-Version", format!("compute {v}")),
        ("X-OpenStack-Nova-API-Version", v.to_string()),
        ("Vary", "OpenStack-API-Version".to_string()),
        ("Vary", "X-OpenStack-Nova-API-Version".to_string()),
    ];
    for (name, value) in headers {
        response.headers.push((name.to_string(), value));
    }
}

/// `req-<uuid>` in both request-id headers.
pub fn add_request_id(response: &mut HttpResponse) {
    let id = format!("req-{}", uuid::Uuid::new_v4());
    response
        .headers
        .push(("x-openstack-request-id".into(), id.clone()));
    response.headers.push(("x-compute-request-id".into(), id));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile;

    fn body(r: &HttpResponse) -> Value {
        serde_json::from_slice(&r.body).expect("json body")
    }

    #[test]
    fn nova_conflict_is_a_fault_body() {
        let nova = profile::builtin("nova").expect("nova");
        let r = refusal(&nova, OutcomeKind::Locked, "Instance x is locked", "");
        assert_eq!(r.status, 409);
        assert_eq!(r.header("Content-Type"), Some(JSON_UTF8));
        assert_eq!(
            body(&r),
            json!({"conflictingRequest": {"code": 409, "message": "Instance x is locked"}})
        );
    }

    #[test]
    fn nova_special_pages() {
        let nova = profile::builtin("nova").expect("nova");
        let r = refusal(
            &nova,
            OutcomeKind::Unauthorized,
            "ignored",
            "http://h/identity",
        );
        assert_eq!(r.status, 401);
        assert_eq!(r.header("Content-Type"), Some(JSON));
        assert_eq!(body(&r)["error"]["title"], "Unauthorized");
        assert_eq!(
            r.header("WWW-Authenticate"),
            Some("Keystone uri=\"http://h/identity\"")
        );
        let r = refusal(&nova, OutcomeKind::TooLarge, "ignored", "");
        assert_eq!(r.status, 413);
        assert!(!r.is_json());
        assert!(String::from_utf8_lossy(&r.body).contains("max_request_body_size (%s)"));
        let r = unrouted(&nova, Some("text/html"));
        assert_eq!((r.status, r.is_json()), (404, false));
    }

    #[test]
    fn a_nova_204_says_json_like_every_nova_answer() {
        let nova = profile::builtin("nova").expect("nova");
        let r = outcome(&nova, &Outcome::Success(Success::Empty), 204, "");
        assert_eq!((r.status, r.header("Content-Type")), (204, Some(JSON)));
        assert!(r.body.is_empty());
        let ecs = profile::builtin("ecs-os").expect("ecs-os");
        let r = outcome(&ecs, &Outcome::Success(Success::Empty), 204, "");
        assert_eq!(r.header("Content-Type"), None);
    }

    #[test]
    fn huawei_shapes() {
        let ecs = profile::builtin("ecs-os").expect("ecs-os");
        let r = refusal(
            &ecs,
            OutcomeKind::ServerNotFound,
            "Instance[x] could not be found.",
            "",
        );
        assert_eq!(r.status, 404);
        assert_eq!(
            body(&r),
            json!({"error": {"code": "Ecs.0114", "message": "Instance[x] could not be found."}})
        );
        let r = refusal(&ecs, OutcomeKind::Unauthorized, "bad token", "");
        assert_eq!(body(&r)["error_code"], "APIGW.0301");
    }

    #[test]
    fn version_headers_twice_vary_and_none_on_legacy() {
        let mut r = HttpResponse::new(200);
        add_version_headers(&mut r, Some(Microversion::new(2, 9)), false);
        assert_eq!(r.header("OpenStack-API-Version"), Some("compute 2.9"));
        assert_eq!(r.headers.iter().filter(|(n, _)| n == "Vary").count(), 2);
        let mut legacy = HttpResponse::new(200);
        add_version_headers(&mut legacy, Some(Microversion::BASE), true);
        assert!(legacy.headers.is_empty());
    }

    #[test]
    fn request_ids_match_and_have_the_prefix() {
        let mut r = HttpResponse::new(200);
        add_request_id(&mut r);
        let a = r.header("x-openstack-request-id").expect("id");
        assert!(a.starts_with("req-") && uuid::Uuid::parse_str(&a[4..]).is_ok());
        assert_eq!(r.header("x-compute-request-id"), Some(a));
    }
}
