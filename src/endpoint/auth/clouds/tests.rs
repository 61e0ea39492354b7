use super::*;

/// A scratch folder removed on drop.
struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "metaconform-clouds-{}-{name}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Dir(dir)
    }

    fn sub(&self, name: &str) -> PathBuf {
        let d = self.0.join(name);
        std::fs::create_dir_all(&d).unwrap();
        d
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn env(pairs: &[(&str, &str)]) -> Env {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

const ONE: &str = "clouds:\n  one:\n    auth:\n      auth_url: https://k1/v3\n      username: u\n      password: p1\n      project_name: demo\n      user_domain_name: Default\n      project_domain_name: Default\n";

#[test]
fn standard_dirs_follow_openstacksdk() {
    let dirs = search_dirs(&env(&[("HOME", "/home/u")]), Some(Path::new("/work")));
    let shown: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
    assert_eq!(
        shown,
        [
            "/work",
            "/home/u/.config/openstack",
            "/etc/xdg/openstack",
            "/etc/openstack"
        ]
    );
    let dirs = search_dirs(
        &env(&[
            ("HOME", "/home/u/snap/x/1"),
            ("SNAP_REAL_HOME", "/home/u"),
            ("XDG_CONFIG_HOME", "/xdg"),
            ("XDG_CONFIG_DIRS", "/a:/b"),
        ]),
        None,
    );
    let shown: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
    assert_eq!(
        shown,
        [
            "/xdg/openstack",
            "/home/u/.config/openstack",
            "/a/openstack",
            "/b/openstack",
            "/etc/openstack"
        ]
    );
}

#[test]
fn the_first_file_wins_and_files_are_not_merged() {
    let root = Dir::new("order");
    let (cwd, user, site) = (root.sub("cwd"), root.sub("user"), root.sub("site"));
    write(&user, "clouds.yaml", ONE);
    write(&site, "clouds.yaml", "clouds:\n  two: {}\n");
    let dirs = vec![cwd.clone(), user.clone(), site.clone()];
    let config = Config::load(&Env::new(), &dirs).unwrap();
    assert_eq!(config.clouds_file, Some(user.join("clouds.yaml")));
    assert_eq!(config.names(), ["one"]);
    // yaml before yml before json in one directory; cwd before the others.
    write(&cwd, "clouds.json", r#"{"clouds": {"json": {}}}"#);
    write(&cwd, "clouds.yml", "clouds:\n  yml: {}\n");
    let config = Config::load(&Env::new(), &dirs).unwrap();
    assert_eq!(config.names(), ["yml"]);
    std::fs::remove_file(cwd.join("clouds.yml")).unwrap();
    let config = Config::load(&Env::new(), &dirs).unwrap();
    assert_eq!(config.names(), ["json"]);
    // OS_CLIENT_CONFIG_FILE comes first of all.
    let own = write(&root.0, "mine.yaml", "clouds:\n  mine: {}\n");
    let e = env(&[("OS_CLIENT_CONFIG_FILE", own.to_str().unwrap())]);
    assert_eq!(Config::load(&e, &dirs).unwrap().names(), ["mine"]);
}

#[test]
fn a_missing_override_file_is_an_error_naming_it() {
    let e = env(&[("OS_CLIENT_CONFIG_FILE", "/nonexistent/clouds.yaml")]);
    let err = Config::load(&e, &[]).unwrap_err().to_string();
    assert!(
        err.contains("OS_CLIENT_CONFIG_FILE names /nonexistent/clouds.yaml"),
        "{err}"
    );
}

#[test]
fn secure_yaml_is_deep_merged() {
    let root = Dir::new("secure");
    let d = root.sub("d");
    write(
        &d,
        "clouds.yaml",
        "clouds:\n  one:\n    region_name: r1\n    auth:\n      auth_url: https://k1\n      username: u\n      project_id: p1\n      user_domain_name: Default\n",
    );
    write(
        &root.0,
        "s.yaml",
        "clouds:\n  one:\n    auth:\n      password: from-secure\n",
    );
    let e = env(&[(
        "OS_CLIENT_SECURE_FILE",
        root.0.join("s.yaml").to_str().unwrap(),
    )]);
    let config = Config::load(&e, &[d]).unwrap();
    let cloud = config.select(None, None).unwrap();
    assert_eq!(cloud.auth.password, Some(Secret::new("from-secure")));
    assert_eq!(cloud.auth.username.as_deref(), Some("u"));
    assert_eq!(cloud.region_name.as_deref(), Some("r1"));
    assert!(matches!(
        cloud.origin,
        Origin::File {
            secure: Some(_),
            ..
        }
    ));
}

#[test]
fn syntax_errors_name_the_file_and_line_but_not_the_secret() {
    let root = Dir::new("syntax");
    write(
        &root.0,
        "clouds.yaml",
        "clouds:\n  one:\n    auth:\n      password: \"s3cret-value\n      username: [u\n",
    );
    let err = Config::load(&Env::new(), std::slice::from_ref(&root.0))
        .unwrap_err()
        .to_string();
    assert!(err.contains("clouds.yaml:"), "{err}");
    assert!(err.contains("fix the syntax"), "{err}");
    assert!(!err.contains("s3cret-value"), "{err}");
    let CloudsError::Syntax { line, .. } =
        Config::load(&Env::new(), std::slice::from_ref(&root.0)).unwrap_err()
    else {
        panic!("not a syntax error")
    };
    assert!(line > 0);
}

#[test]
fn a_password_of_the_wrong_type_is_not_quoted() {
    let root = Dir::new("type");
    write(
        &root.0,
        "clouds.yaml",
        "clouds:\n  one:\n    auth:\n      password: {nested: s3cret}\n",
    );
    let config = Config::load(&Env::new(), std::slice::from_ref(&root.0)).unwrap();
    let err = config.select(None, None).unwrap_err().to_string();
    assert!(err.contains("'password' must be a string"), "{err}");
    assert!(!err.contains("s3cret"), "{err}");
    // A number is fine: it is text to Keystone.
    write(
        &root.0,
        "clouds.yaml",
        "clouds:\n  one:\n    auth:\n      password: 1234\n",
    );
    let config = Config::load(&Env::new(), std::slice::from_ref(&root.0)).unwrap();
    let cloud = config.select(None, None).unwrap();
    assert_eq!(cloud.auth.password, Some(Secret::new("1234")));
}

#[test]
fn the_env_cloud_exists_only_beyond_selectors() {
    let selectors_only = env(&[
        ("OS_CLOUD", "x"),
        ("OS_REGION_NAME", "r"),
        ("OS_CLOUD_NAME", "mine"),
        ("OS_TEST_TIMEOUT", "5"),
        ("OS_STDOUT_CAPTURE", "1"),
        ("OS_LOG_CAPTURE", "1"),
    ]);
    assert!(!Config::load(&selectors_only, &[]).unwrap().has_env_cloud());
    let with_url = env(&[("OS_AUTH_URL", "https://k"), ("OS_REGION_NAME", "r")]);
    let config = Config::load(&with_url, &[]).unwrap();
    assert!(config.has_env_cloud());
    assert_eq!(config.names(), ["envvars"]);
    assert_eq!(config.env_auth_url(), Some("https://k"));
}

#[test]
fn env_variables_become_the_envvars_cloud() {
    let e = env(&[
        ("OS_AUTH_URL", "https://k:5000"),
        ("OS_USERNAME", "u"),
        ("OS_PASSWORD", "pw"),
        ("OS_PROJECT_NAME", "demo"),
        ("OS_DOMAIN_NAME", "Default"),
        ("OS_REGION_NAME", "r2"),
        ("OS_ENDPOINT_TYPE", "internalURL"),
        ("OS_COMPUTE_API_VERSION", "2.60"),
        ("OS_INSECURE", "true"),
        ("OS_CACERT", "/ca.pem"),
    ]);
    let cloud = Config::load(&e, &[]).unwrap().select(None, None).unwrap();
    assert_eq!(cloud.name, "envvars");
    assert_eq!(cloud.origin, Origin::Environment);
    assert_eq!(cloud.auth_type, AuthType::Password);
    assert_eq!(cloud.auth.auth_url.as_deref(), Some("https://k:5000"));
    assert_eq!(cloud.auth.password, Some(Secret::new("pw")));
    // OS_DOMAIN_NAME fills both domains of a project-scoped cloud.
    assert_eq!(cloud.auth.user_domain_name.as_deref(), Some("Default"));
    assert_eq!(cloud.auth.project_domain_name.as_deref(), Some("Default"));
    assert_eq!(cloud.region_name.as_deref(), Some("r2"));
    assert_eq!(cloud.interface.as_deref(), Some("internalURL"));
    assert_eq!(cloud.compute_api_version.as_deref(), Some("2.60"));
    assert!(!cloud.verify);
    assert_eq!(cloud.cacert, Some(PathBuf::from("/ca.pem")));
    // OS_CLOUD_NAME renames it.
    let mut renamed = e.clone();
    renamed.insert("OS_CLOUD_NAME".into(), "mine".into());
    assert_eq!(Config::load(&renamed, &[]).unwrap().names(), ["mine"]);
}

#[test]
fn os_cloud_picks_else_env_cloud_else_the_only_one() {
    let root = Dir::new("pick");
    write(&root.0, "clouds.yaml", ONE);
    let dirs = std::slice::from_ref(&root.0);
    // The only cloud of the file.
    assert_eq!(
        Config::load(&Env::new(), dirs)
            .unwrap()
            .default_name(None)
            .unwrap(),
        "one"
    );
    // An env cloud wins over the file's only cloud.
    let e = env(&[("OS_AUTH_URL", "https://k")]);
    assert_eq!(
        Config::load(&e, dirs).unwrap().default_name(None).unwrap(),
        "envvars"
    );
    // OS_CLOUD wins over both; --os-cloud over OS_CLOUD.
    let mut picked = e.clone();
    picked.insert("OS_CLOUD".into(), "one".into());
    let config = Config::load(&picked, dirs).unwrap();
    assert_eq!(config.default_name(None).unwrap(), "one");
    assert_eq!(config.default_name(Some("envvars")).unwrap(), "envvars");
    assert_eq!(
        config.select(None, None).unwrap().auth.password,
        Some(Secret::new("p1"))
    );
}

#[test]
fn several_clouds_and_no_choice_is_an_error_listing_them() {
    let root = Dir::new("many");
    write(&root.0, "clouds.yaml", "clouds:\n  a: {}\n  b: {}\n");
    let config = Config::load(&Env::new(), std::slice::from_ref(&root.0)).unwrap();
    let err = config.select(None, None).unwrap_err().to_string();
    assert!(err.contains("the clouds are a, b"), "{err}");
    assert!(err.contains("--os-cloud NAME or OS_CLOUD=NAME"), "{err}");
    let err = config.select(Some("c"), None).unwrap_err().to_string();
    assert!(err.contains("no cloud named 'c'"), "{err}");
    assert!(err.contains("a, b"), "{err}");
    let none = Config::load(&Env::new(), &[root.sub("empty")]).unwrap();
    let err = none.select(None, None).unwrap_err().to_string();
    assert!(err.contains("no cloud is configured"), "{err}");
    assert!(err.contains("/empty"), "{err}");
}

#[test]
fn env_cloud_name_clash_is_an_error() {
    let root = Dir::new("clash");
    write(&root.0, "clouds.yaml", "clouds:\n  envvars: {}\n");
    let e = env(&[("OS_CLOUD_NAME", "envvars"), ("OS_AUTH_URL", "https://k")]);
    let err = Config::load(&e, std::slice::from_ref(&root.0)).unwrap_err();
    assert!(matches!(err, CloudsError::EnvNameClash { .. }), "{err}");
}

#[test]
fn regions_pick_values_and_unknown_regions_are_listed() {
    let root = Dir::new("regions");
    write(
        &root.0,
        "clouds.yaml",
        "clouds:\n  c:\n    auth: {auth_url: https://k}\n    regions:\n      - r1\n      - name: r2\n        values:\n          interface: internal\n          compute_endpoint_override: https://n2/v2.1\n",
    );
    let config = Config::load(&Env::new(), std::slice::from_ref(&root.0)).unwrap();
    let first = config.select(None, None).unwrap();
    assert_eq!(first.region_name.as_deref(), Some("r1"));
    assert_eq!(first.interface, None);
    let second = config.select(None, Some("r2")).unwrap();
    assert_eq!(second.interface.as_deref(), Some("internal"));
    assert_eq!(
        second.compute_endpoint_override.as_deref(),
        Some("https://n2/v2.1")
    );
    let err = config.select(None, Some("R1")).unwrap_err().to_string();
    assert!(
        err.contains("region 'R1' is not one of its regions (r1, r2)"),
        "{err}"
    );
}

#[test]
fn old_spellings_and_top_level_auth_keys_are_folded_in() {
    let root = Dir::new("old");
    write(
        &root.0,
        "clouds.yaml",
        "clouds:\n  c:\n    auth_plugin: v3applicationcredential\n    tenant-name: from-top\n    auth:\n      auth-url: https://k\n      tenant_name: from-auth\n      application_credential_id: ac\n      application_credential_secret: acs\n    verify: false\n",
    );
    let config = Config::load(&Env::new(), std::slice::from_ref(&root.0)).unwrap();
    let cloud = config.select(None, None).unwrap();
    assert_eq!(cloud.auth_type, AuthType::ApplicationCredential);
    assert_eq!(cloud.auth.auth_url.as_deref(), Some("https://k"));
    assert_eq!(cloud.auth.project_name.as_deref(), Some("from-top"));
    assert!(!cloud.verify);
}

#[test]
fn auth_type_defaults_and_unsupported_ones() {
    let root = Dir::new("types");
    write(
        &root.0,
        "clouds.yaml",
        "clouds:\n  pw: {auth: {username: u, password: p}}\n  ac: {auth: {application_credential_id: i, application_credential_secret: s}}\n  tok: {auth: {token: t}}\n  oidc: {auth_type: v3oidcpassword}\n",
    );
    let config = Config::load(&Env::new(), std::slice::from_ref(&root.0)).unwrap();
    let kind = |name: &str| config.select(Some(name), None).map(|c| c.auth_type);
    assert_eq!(kind("pw").unwrap(), AuthType::Password);
    assert_eq!(kind("ac").unwrap(), AuthType::ApplicationCredential);
    assert_eq!(kind("tok").unwrap(), AuthType::Token);
    let err = kind("oidc").unwrap_err().to_string();
    assert!(err.contains("v3oidcpassword"), "{err}");
    assert!(
        err.contains("password (v3password), v3applicationcredential or token"),
        "{err}"
    );
}

#[test]
fn debug_output_hides_secrets() {
    let e = env(&[
        ("OS_AUTH_URL", "https://k"),
        ("OS_PASSWORD", "pw-secret"),
        ("OS_APPLICATION_CREDENTIAL_SECRET", "ac-secret"),
        ("OS_TOKEN", "tok-secret"),
    ]);
    let config = Config::load(&e, &[]).unwrap();
    let cloud = config.select(None, None).unwrap();
    let shown = format!("{cloud:?}");
    for secret in ["pw-secret", "ac-secret", "tok-secret"] {
        assert!(!shown.contains(secret), "{shown}");
    }
}

#[test]
fn config_debug_shows_names_only() {
    let e = env(&[("OS_AUTH_URL", "https://k"), ("OS_PASSWORD", "pw-secret")]);
    let shown = format!("{:?}", Config::load(&e, &[]).unwrap());
    assert!(!shown.contains("pw-secret"), "{shown}");
    assert!(shown.contains("envvars"), "{shown}");
}

#[test]
fn an_unknown_cloud_without_any_file_says_where_files_were_looked_for() {
    let config = Config::load(&Env::new(), &[PathBuf::from("/nowhere/a")]).unwrap();
    let err = config.select(Some("x"), None).unwrap_err().to_string();
    assert!(err.contains("no cloud named 'x'"), "{err}");
    assert!(err.contains("/nowhere/a"), "{err}");
}
