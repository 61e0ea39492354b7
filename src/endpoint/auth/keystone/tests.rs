use std::path::PathBuf;

use super::*;
use crate::endpoint::auth::clouds::{AuthSettings, Origin};
use crate::endpoint::auth::fake::{FakeKeystone, Reply};

fn cloud(auth_type: AuthType, auth: AuthSettings) -> Cloud {
    Cloud {
        name: "c".into(),
        origin: Origin::File {
            clouds: PathBuf::from("/cfg/clouds.yaml"),
            secure: None,
        },
        profile: None,
        auth_type,
        auth,
        region_name: None,
        interface: None,
        identity_api_version: None,
        compute_api_version: None,
        compute_endpoint_override: None,
        verify: true,
        cacert: None,
        cert: None,
        key: None,
    }
}

fn s(text: &str) -> Option<String> {
    Some(text.to_string())
}

fn password_auth() -> AuthSettings {
    AuthSettings {
        auth_url: s("https://k:5000"),
        username: s("U"),
        password: Some(Secret::new("P")),
        project_name: s("demo"),
        user_domain_name: s("Default"),
        project_domain_name: s("Default"),
        ..AuthSettings::default()
    }
}

#[test]
fn password_body_by_names() {
    let request = AuthRequest::from_cloud(&cloud(AuthType::Password, password_auth())).unwrap();
    assert_eq!(request.tokens_url(), "https://k:5000/v3/auth/tokens");
    assert_eq!(
        request.body(),
        json!({"auth": {"identity": {"methods": ["password"],
            "password": {"user": {"name": "U", "domain": {"name": "Default"}, "password": "P"}}},
          "scope": {"project": {"name": "demo", "domain": {"name": "Default"}}}}})
    );
}

#[test]
fn password_body_by_ids() {
    let auth = AuthSettings {
        auth_url: s("https://k/v3/"),
        user_id: s("uid"),
        username: s("ignored"),
        password: Some(Secret::new("P")),
        project_id: s("pid"),
        project_name: s("ignored"),
        ..AuthSettings::default()
    };
    let request = AuthRequest::from_cloud(&cloud(AuthType::Password, auth)).unwrap();
    assert_eq!(request.auth_url, "https://k/v3");
    assert_eq!(
        request.body(),
        json!({"auth": {"identity": {"methods": ["password"],
            "password": {"user": {"id": "uid", "password": "P"}}},
          "scope": {"project": {"id": "pid"}}}})
    );
}

#[test]
fn application_credential_bodies_send_no_scope() {
    let by_id = AuthSettings {
        auth_url: s("https://k"),
        application_credential_id: s("acid"),
        application_credential_secret: Some(Secret::new("S")),
        project_id: s("pid"),
        ..AuthSettings::default()
    };
    let request = AuthRequest::from_cloud(&cloud(AuthType::ApplicationCredential, by_id)).unwrap();
    assert_eq!(
        request.body(),
        json!({"auth": {"identity": {"methods": ["application_credential"],
            "application_credential": {"id": "acid", "secret": "S"}}}})
    );
    let by_name = AuthSettings {
        auth_url: s("https://k"),
        application_credential_name: s("acname"),
        application_credential_secret: Some(Secret::new("S")),
        user_id: s("uid"),
        ..AuthSettings::default()
    };
    let request =
        AuthRequest::from_cloud(&cloud(AuthType::ApplicationCredential, by_name)).unwrap();
    assert_eq!(
        request.body(),
        json!({"auth": {"identity": {"methods": ["application_credential"],
            "application_credential": {"name": "acname", "secret": "S", "user": {"id": "uid"}}}}})
    );
}

#[test]
fn token_body_rescopes() {
    let auth = AuthSettings {
        auth_url: s("https://k"),
        token: Some(Secret::new("T")),
        project_id: s("pid"),
        ..AuthSettings::default()
    };
    let request = AuthRequest::from_cloud(&cloud(AuthType::Token, auth)).unwrap();
    assert_eq!(
        request.body(),
        json!({"auth": {"identity": {"methods": ["token"], "token": {"id": "T"}},
          "scope": {"project": {"id": "pid"}}}})
    );
}

#[test]
fn missing_settings_say_where_to_set_them() {
    let mut auth = password_auth();
    auth.user_domain_name = None;
    let err = AuthRequest::from_cloud(&cloud(AuthType::Password, auth))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("user 'U' is given by name, so its domain is needed"),
        "{err}"
    );
    assert!(err.contains("user_domain_name"), "{err}");
    assert!(err.contains("/cfg/clouds.yaml"), "{err}");
    let mut auth = password_auth();
    auth.password = None;
    let mut env_cloud = cloud(AuthType::Password, auth);
    env_cloud.origin = Origin::Environment;
    let err = AuthRequest::from_cloud(&env_cloud).unwrap_err().to_string();
    assert!(err.contains("no password"), "{err}");
    assert!(err.contains("OS_PASSWORD"), "{err}");
    let mut auth = password_auth();
    auth.project_name = None;
    let err = AuthRequest::from_cloud(&cloud(AuthType::Password, auth))
        .unwrap_err()
        .to_string();
    assert!(err.contains("no project"), "{err}");
    let mut auth = password_auth();
    auth.auth_url = None;
    let err = AuthRequest::from_cloud(&cloud(AuthType::Password, auth))
        .unwrap_err()
        .to_string();
    assert!(err.contains("no auth_url"), "{err}");
}

#[test]
fn auth_urls_are_normalised_to_v3() {
    assert_eq!(
        normalize_auth_url("https://k:5000", None).unwrap(),
        "https://k:5000/v3"
    );
    assert_eq!(
        normalize_auth_url("https://k/identity/", None).unwrap(),
        "https://k/identity/v3"
    );
    assert_eq!(
        normalize_auth_url("https://k/v3/", None).unwrap(),
        "https://k/v3"
    );
    assert_eq!(
        normalize_auth_url("https://k/v3.14", None).unwrap(),
        "https://k/v3.14"
    );
    assert!(
        normalize_auth_url("https://k/v2.0", None)
            .unwrap_err()
            .contains("Keystone v2.0")
    );
    assert!(normalize_auth_url("https://k", Some("2")).is_err());
    assert!(normalize_auth_url("https://k", Some("3")).is_ok());
}

#[test]
fn timestamps_parse() {
    let at = |t: &str| {
        parse_timestamp(t).map(|s| s.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs())
    };
    assert_eq!(at("1970-01-01T00:00:00Z"), Some(0));
    assert_eq!(at("2015-08-27T09:49:58.000000Z"), Some(1_440_668_998));
    assert_eq!(at("2015-08-27T11:49:58+02:00"), Some(1_440_668_998));
    assert_eq!(at("2015-08-27T07:49:58-02:00"), Some(1_440_668_998));
    assert_eq!(at("2000-02-29T00:00:00Z"), Some(951_782_400));
    assert_eq!(at("not a date"), None);
    assert_eq!(at("2015-13-01T00:00:00Z"), None);
}

#[tokio::test]
async fn a_201_gives_token_project_and_catalog() {
    let keystone = FakeKeystone::start("2030-01-01T00:00:00.000000Z").await;
    let mut auth = password_auth();
    auth.auth_url = Some(keystone.url());
    let request = AuthRequest::from_cloud(&cloud(AuthType::Password, auth)).unwrap();
    let transport = Transport::new(Duration::from_secs(5)).unwrap();
    let token = request.send(&transport).await.unwrap();
    assert_eq!(token.value.expose(), "fresh-1");
    assert_eq!(token.project_id.as_deref(), Some("p1"));
    assert_eq!(
        token.catalog[0].endpoints[0].url,
        "http://compute.invalid/v2.1/p1"
    );
    assert_eq!(
        token
            .expires_at
            .unwrap()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
        1_893_456_000
    );
    let sent: Value = serde_json::from_str(&keystone.last_body()).unwrap();
    assert_eq!(sent, request.body());
}

#[tokio::test]
async fn a_401_is_clear_and_never_echoes_the_password() {
    let keystone = FakeKeystone::with(|_, _, _| Reply {
        status: 401,
        headers: vec![],
        // A server that quotes what it got must not make us leak it.
        body: r#"{"error": {"code": 401, "message": "The request you have made requires authentication (password P4ssw0rd-x).", "title": "Unauthorized"}}"#.into(),
    })
    .await;
    let mut auth = password_auth();
    auth.auth_url = Some(keystone.url());
    auth.password = Some(Secret::new("P4ssw0rd-x"));
    let request = AuthRequest::from_cloud(&cloud(AuthType::Password, auth)).unwrap();
    let transport = Transport::new(Duration::from_secs(5)).unwrap();
    let err = request.send(&transport).await.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, KeystoneError::Refused { .. }), "{text}");
    assert!(
        text.contains("refused the credentials of cloud 'c'"),
        "{text}"
    );
    assert!(text.contains("requires authentication"), "{text}");
    assert!(!text.contains("P4ssw0rd-x"), "{text}");
    assert!(!format!("{err:?}").contains("P4ssw0rd-x"));
    assert!(!format!("{request:?}").contains("P4ssw0rd-x"));
}

#[tokio::test]
async fn other_answers_are_errors_too() {
    let keystone = FakeKeystone::with(|_, _, n| match n {
        1 => Reply {
            status: 200,
            headers: vec![],
            body: "{}".into(),
        },
        2 => Reply {
            status: 201,
            headers: vec![],
            body: "{}".into(),
        },
        _ => Reply {
            status: 201,
            headers: vec![("X-Subject-Token".into(), "t".into())],
            body: "[]".into(),
        },
    })
    .await;
    let mut auth = password_auth();
    auth.auth_url = Some(keystone.url());
    let request = AuthRequest::from_cloud(&cloud(AuthType::Password, auth)).unwrap();
    let transport = Transport::new(Duration::from_secs(5)).unwrap();
    let e1 = request.send(&transport).await.unwrap_err();
    assert!(
        matches!(e1, KeystoneError::Unexpected { status: 200, .. }),
        "{e1}"
    );
    let e2 = request.send(&transport).await.unwrap_err();
    assert!(matches!(e2, KeystoneError::NoToken { .. }), "{e2}");
    let e3 = request.send(&transport).await.unwrap_err();
    assert!(matches!(e3, KeystoneError::BadBody { .. }), "{e3}");
}
