//! The embedded reference server as a target: `metaconform run` without
//! `--endpoint`, the catalogue test harness and the benchmark all start the
//! mock in-process and build their [`Target`] from its startup values.

use std::net::{Ipv4Addr, SocketAddr};

use crate::endpoint::{AccessKeyPair, Credentials, Target};
use crate::profile::Profile;
use crate::serve::{Fault, RunningServer, ServeConfig, ServeError, StartupInfo, spawn};

/// Start the mock for `profile` on 127.0.0.1 (any port) with `servers`
/// servers per project and `faults` injected.
pub async fn start(
    profile: Profile,
    servers: usize,
    faults: Vec<Fault>,
) -> Result<(RunningServer, Target), ServeError> {
    start_with_fresh(profile, servers, 0, faults).await
}

/// As [`start`], plus `fresh` more servers that become the target's
/// [`Target::fresh_servers`] (one per case, for dialects that cannot empty
/// metadata; count them with [`planning_target`]).
pub async fn start_with_fresh(
    profile: Profile,
    servers: usize,
    fresh: usize,
    faults: Vec<Fault>,
) -> Result<(RunningServer, Target), ServeError> {
    let listen = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
    let workers = servers.max(1);
    let mut config = ServeConfig::new(listen, profile.clone(), workers + fresh);
    config.faults = faults;
    let server = spawn(config).await?;
    let mut target = Target::from_startup(server.info(), profile);
    target.fresh_servers = target.servers.split_off(workers.min(target.servers.len()));
    Ok((server, target))
}

/// Switch `target`'s project member from its token to the AK/SK pair of
/// the startup line (`run --auth aksk`), so every member request is
/// signed; `None` when the dialect's mock has no pair (not Huawei).
pub fn use_access_key(mut target: Target, info: &StartupInfo) -> Option<Target> {
    let (ak, sk) = (info.ak.clone()?, info.sk.clone()?);
    target.credentials.access_key = Some(AccessKeyPair { ak, sk });
    target.credentials.token = None;
    Some(target)
}

/// The target the embedded server will be, with placeholder endpoint,
/// tokens and servers: what applicability needs to count the cases that
/// need a fresh server before the server is started.
pub fn planning_target(profile: Profile) -> Target {
    let placeholder = || Some("placeholder".to_string());
    Target {
        endpoint: "http://127.0.0.1:0".into(),
        project_id: "placeholder".into(),
        profile,
        credentials: Credentials {
            token: placeholder(),
            access_key: None,
            admin_token: placeholder(),
            reader_token: placeholder(),
            alt_token: placeholder(),
            alt_project_id: placeholder(),
            renewal: None,
        },
        servers: vec!["placeholder".into()],
        alt_servers: vec!["placeholder".into()],
        fresh_servers: Vec::new(),
        disposable: true,
        tls: Default::default(),
    }
}
