//! Real-cloud authentication end to end (spec §7.1, §7.2): a Keystone
//! stand-in on 127.0.0.1 whose catalog points at a `metaconform serve`
//! child, a clouds.yaml + secure.yaml in a scratch folder, and
//! `metaconform run|fuzz --os-cloud NAME`. The password and the
//! application-credential secret must appear in no output and no report.

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use serde_json::{Value, json};

use common::*;
use metaconform::serve::StartupInfo;

const PASSWORD: &str = "S3cr3t-PW-9f1c";
const APP_SECRET: &str = "AppCred-Secret-77e2";
/// A small, member-only selection of the catalogue.
const FILTER: &str = "charset.colon";

/// A Keystone v3 stand-in: `POST /v3/auth/tokens` with the right password
/// (user `demo` in domain `Default`) or application credential (`ac1`)
/// gets 201, the serve child's member token and a catalog whose compute
/// endpoints are: public in r1 (the serve child), public in r2 and
/// internal in r1 (both dead); anything else gets Keystone's 401.
struct Keystone {
    addr: SocketAddr,
    /// Tokens issued so far.
    issued: Arc<AtomicUsize>,
    _runtime: tokio::runtime::Runtime,
}

/// What the first token a [`Keystone`] issues is like.
#[derive(Clone, Copy, PartialEq)]
enum FirstToken {
    /// The serve child's member token, valid until 2099.
    Valid,
    /// Already expired, and a value the serve child refuses (401): a run
    /// passes only if it renews the token before using it.
    Expired,
}

impl Keystone {
    fn start(info: &StartupInfo) -> Keystone {
        Keystone::issuing(info, FirstToken::Valid)
    }

    fn issuing(info: &StartupInfo, first: FirstToken) -> Keystone {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let info = Arc::new(info.clone());
        let issued = Arc::new(AtomicUsize::new(0));
        let counter = issued.clone();
        runtime.spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let (info, counter) = (info.clone(), counter.clone());
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(
                        move |req: hyper::Request<hyper::body::Incoming>| {
                            let (info, counter) = (info.clone(), counter.clone());
                            async move {
                                let ok = req.method() == hyper::Method::POST
                                    && req.uri().path() == "/v3/auth/tokens";
                                let body = req.into_body().collect().await?.to_bytes();
                                let body: Value = serde_json::from_slice(&body).unwrap_or_default();
                                let ok = ok && accepts(&body);
                                let n = if ok {
                                    counter.fetch_add(1, Ordering::SeqCst)
                                } else {
                                    0
                                };
                                let expired = ok && n == 0 && first == FirstToken::Expired;
                                Ok::<_, hyper::Error>(answer(ok, expired, &info))
                            }
                        },
                    );
                    let io = hyper_util::rt::TokioIo::new(stream);
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(io, service)
                        .await;
                });
            }
        });
        Keystone {
            addr,
            issued,
            _runtime: runtime,
        }
    }

    /// Unversioned, so `/v3` must be appended.
    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

fn accepts(body: &Value) -> bool {
    let identity = &body["auth"]["identity"];
    let password = &identity["password"]["user"];
    let by_password = password["name"] == "demo"
        && password["domain"]["name"] == "Default"
        && password["password"] == PASSWORD
        && body["auth"]["scope"]["project"]["name"] == "demo";
    let credential = &identity["application_credential"];
    let by_credential = credential["id"] == "ac1"
        && credential["secret"] == APP_SECRET
        && body["auth"].get("scope").is_none();
    by_password || by_credential
}

/// Keystone's answer; an `expired` token has passed its `expires_at` and
/// is a value the serve child refuses.
fn answer(ok: bool, expired: bool, info: &StartupInfo) -> hyper::Response<Full<Bytes>> {
    let expires_at = if expired {
        "2001-01-01T00:00:00.000000Z"
    } else {
        "2099-01-01T00:00:00.000000Z"
    };
    let value = if expired {
        "expired-token-from-keystone".to_string()
    } else {
        info.token.clone()
    };
    let (status, token, body) = if ok {
        let endpoint = |interface: &str, region: &str, url: &str| json!({"interface": interface, "region": region, "region_id": region, "url": url});
        let body = json!({"token": {
            "expires_at": expires_at,
            "project": {"id": info.project_id, "name": "demo"},
            "user": {"id": "demo"},
            "catalog": [
                {"type": "identity", "endpoints": [endpoint("public", "r1", "http://127.0.0.1:1/v3")]},
                {"type": "compute", "name": "nova", "endpoints": [
                    endpoint("public", "r1", &info.endpoint),
                    endpoint("public", "r2", "http://127.0.0.1:1/v2.1"),
                    endpoint("internal", "r1", "http://127.0.0.1:1/v2.1"),
                ]},
            ],
        }});
        (201, Some(value), body)
    } else {
        let body = json!({"error": {"code": 401, "title": "Unauthorized",
            "message": "The request you have made requires authentication."}});
        (401, None, body)
    };
    let mut response = hyper::Response::builder()
        .status(status)
        .header("content-type", "application/json");
    if let Some(token) = token {
        response = response.header("X-Subject-Token", token);
    }
    response
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap()
}

/// clouds.yaml (cloud `mock`, region r1, password auth; cloud `appcred`)
/// and secure.yaml (the secrets) in `dir`.
fn write_config(dir: &Path, keystone: &Keystone, password: &str) {
    let clouds = format!(
        "clouds:\n  mock:\n    region_name: r1\n    auth:\n      auth_url: {url}\n      username: demo\n      project_name: demo\n      user_domain_name: Default\n      project_domain_name: Default\n  appcred:\n    auth_type: v3applicationcredential\n    region_name: r1\n    auth:\n      auth_url: {url}/v3/\n      application_credential_id: ac1\n",
        url = keystone.url()
    );
    std::fs::write(dir.join("clouds.yaml"), clouds).unwrap();
    let secure = format!(
        "clouds:\n  mock:\n    auth:\n      password: \"{password}\"\n  appcred:\n    auth:\n      application_credential_secret: {APP_SECRET}\n"
    );
    std::fs::write(dir.join("secure.yaml"), secure).unwrap();
}

/// `metaconform ARGS` in `dir`, with no `OS_*` of the caller's and HOME in
/// `dir`, so no real clouds.yaml is read.
fn metaconform<A: AsRef<std::ffi::OsStr>>(dir: &Path, args: &[A], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .current_dir(dir)
        .env("HOME", dir)
        .env("CI", "true");
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("OS_") {
            cmd.env_remove(&name);
        }
    }
    cmd.env_remove("METACONFORM_ENDPOINT")
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("XDG_CONFIG_DIRS");
    for (name, value) in env {
        cmd.env(name, value);
    }
    cmd.output().expect("run metaconform")
}

/// `run FILTER` over the catalogue against the serve child's servers,
/// reports in the current directory.
fn run_args(info: &StartupInfo, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = ["run", FILTER, "--no-props", "--junit", "junit.xml"]
        .iter()
        .map(|a| a.to_string())
        .collect();
    args.extend(["--json".into(), "results.json".into()]);
    args.extend(["--only-cases".into(), catalogue().display().to_string()]);
    for s in &info.servers {
        args.extend(["--server".to_string(), s.clone()]);
    }
    args.extend(extra.iter().map(|a| a.to_string()));
    args
}

/// No secret in stdout, stderr, or any file the run wrote into `dir`.
fn assert_no_secret(dir: &Path, out: &Output) {
    let mut texts = vec![
        ("stdout".to_string(), text(&out.stdout)),
        ("stderr".to_string(), text(&out.stderr)),
    ];
    for name in ["junit.xml", "results.json"] {
        if let Ok(t) = std::fs::read_to_string(dir.join(name)) {
            texts.push((name.to_string(), t));
        }
    }
    for (name, t) in texts {
        for secret in [PASSWORD, APP_SECRET] {
            assert!(!t.contains(secret), "{name} shows a secret:\n{t}");
        }
    }
}

fn config_env(dir: &Path) -> [(&'static str, String); 2] {
    [
        (
            "OS_CLIENT_CONFIG_FILE",
            dir.join("clouds.yaml").display().to_string(),
        ),
        (
            "OS_CLIENT_SECURE_FILE",
            dir.join("secure.yaml").display().to_string(),
        ),
    ]
}

#[test]
fn run_with_os_cloud_authenticates_and_passes_without_showing_the_password() {
    let dir = Scratch::new("auth-cloud");
    let serve = spawn_serve(&["--servers", "2"]);
    let keystone = Keystone::start(&serve.info);
    write_config(&dir, &keystone, PASSWORD);
    let args = run_args(&serve.info, &["--os-cloud", "mock"]);
    let env = config_env(&dir);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let out = metaconform(&dir, &args, &env);
    let stderr = text(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stderr}\n{}",
        text(&out.stdout)
    );
    assert!(
        stderr.contains("authenticated with cloud 'mock'"),
        "{stderr}"
    );
    assert!(stderr.contains(&serve.info.endpoint), "{stderr}");
    let results = results(&dir);
    assert!(!results.run.embedded);
    assert!(!results.cases.is_empty());
    assert_no_secret(&dir, &out);
}

#[test]
fn an_expired_keystone_token_is_renewed_before_it_is_used() {
    let dir = Scratch::new("auth-renew");
    let serve = spawn_serve(&["--servers", "2"]);
    let keystone = Keystone::issuing(&serve.info, FirstToken::Expired);
    write_config(&dir, &keystone, PASSWORD);
    let args = run_args(&serve.info, &["--os-cloud", "mock"]);
    let env = config_env(&dir);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let out = metaconform(&dir, &args, &env);
    let stderr = text(&out.stderr);
    // The first token opened the catalog; every request to the endpoint
    // carried the renewed one (the serve child refuses the first).
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stderr}\n{}",
        text(&out.stdout)
    );
    assert_eq!(keystone.issued.load(Ordering::SeqCst), 2, "{stderr}");
    let results = results(&dir);
    assert!(!results.cases.is_empty());
    assert_no_secret(&dir, &out);
}

#[test]
fn the_env_cloud_with_an_application_credential_works_too() {
    let dir = Scratch::new("auth-env");
    let serve = spawn_serve(&["--servers", "2"]);
    let keystone = Keystone::start(&serve.info);
    let args = run_args(&serve.info, &[]);
    let url = keystone.url();
    let env = [
        ("OS_AUTH_URL", url.as_str()),
        ("OS_AUTH_TYPE", "v3applicationcredential"),
        ("OS_APPLICATION_CREDENTIAL_ID", "ac1"),
        ("OS_APPLICATION_CREDENTIAL_SECRET", APP_SECRET),
        ("OS_REGION_NAME", "r1"),
    ];
    let out = metaconform(&dir, &args, &env);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("cloud 'envvars' (OS_* variables)"),
        "{stderr}"
    );
    assert_no_secret(&dir, &out);
}

#[test]
fn a_refused_password_exits_3_and_is_not_echoed() {
    let dir = Scratch::new("auth-refused");
    let serve = spawn_serve(&["--servers", "2"]);
    let keystone = Keystone::start(&serve.info);
    // secure.yaml holds a wrong password; it must not be shown either.
    write_config(&dir, &keystone, "Wrong-PW-5d0a");
    let args = run_args(&serve.info, &["--os-cloud", "mock"]);
    let env = config_env(&dir);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let out = metaconform(&dir, &args, &env);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("refused the credentials of cloud 'mock'"),
        "{stderr}"
    );
    assert!(!stderr.contains("Wrong-PW-5d0a"), "{stderr}");
    assert_no_secret(&dir, &out);
}

#[test]
fn without_a_region_the_two_public_endpoints_are_an_ambiguity() {
    let dir = Scratch::new("auth-ambiguous");
    let serve = spawn_serve(&["--servers", "2"]);
    let keystone = Keystone::start(&serve.info);
    let args = run_args(&serve.info, &[]);
    let url = keystone.url();
    let env = [
        ("OS_AUTH_URL", url.as_str()),
        ("OS_USERNAME", "demo"),
        ("OS_PASSWORD", PASSWORD),
        ("OS_PROJECT_NAME", "demo"),
        ("OS_DOMAIN_NAME", "Default"),
    ];
    let out = metaconform(&dir, &args, &env);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("2 'compute' endpoints match"), "{stderr}");
    assert!(stderr.contains("--os-region"), "{stderr}");
    assert_no_secret(&dir, &out);
    // --os-region r1 settles it.
    let mut with_region = args.clone();
    with_region.extend(["--os-region".to_string(), "r1".to_string()]);
    let out = metaconform(&dir, &with_region, &env);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_no_secret(&dir, &out);
}

#[test]
fn microversion_latest_is_read_from_the_endpoint() {
    let dir = Scratch::new("auth-microversion");
    let serve = spawn_serve(&["--servers", "2"]);
    let keystone = Keystone::start(&serve.info);
    write_config(&dir, &keystone, PASSWORD);
    let args = run_args(
        &serve.info,
        &["--os-cloud", "mock", "--microversion", "latest"],
    );
    let env = config_env(&dir);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let out = metaconform(&dir, &args, &env);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("note: the endpoint serves microversions up to 2."),
        "{stderr}"
    );
    assert_no_secret(&dir, &out);
}

#[test]
fn fuzz_with_os_cloud_authenticates() {
    let dir = Scratch::new("auth-fuzz");
    let serve = spawn_serve(&["--servers", "2"]);
    let keystone = Keystone::start(&serve.info);
    write_config(&dir, &keystone, PASSWORD);
    let env = config_env(&dir);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let server = serve.info.servers[0].as_str();
    let args = [
        "fuzz",
        "--os-cloud",
        "mock",
        "--server",
        server,
        "--sequences",
        "3",
        "--seed",
        "7",
        "--junit",
        "junit.xml",
    ];
    let out = metaconform(&dir, &args, &env);
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{stdout}",
        text(&out.stderr)
    );
    assert!(stdout.contains(&serve.info.endpoint), "{stdout}");
    assert_no_secret(&dir, &out);
}
