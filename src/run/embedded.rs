//! The embedded reference server as a target: `metaconform run` without
//! `--endpoint`, the catalogue test harness and the benchmark all start the
//! mock in-process and build their [`Target`] from its startup values.

use std::net::{Ipv4Addr, SocketAddr};

use crate::profile::Profile;
use crate::serve::{Fault, RunningServer, ServeConfig, ServeError, StartupInfo, spawn};
use crate::target::{Credentials, Target};

/// Start the mock for `profile` on 127.0.0.1 (any port) with `servers`
/// servers per project and `faults` injected.
pub async fn start(
    profile: Profile,
    servers: usize,
    faults: Vec<Fault>,
) -> Result<(RunningServer, Target), ServeError> {
    let listen = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
    let mut config = ServeConfig::new(listen, profile.clone(), servers.max(1));
    config.faults = faults;
    let server = spawn(config).await?;
    let target = target_from(server.info(), profile);
    Ok((server, target))
}

/// The target a startup line describes (also for `metaconform serve` run
/// as a separate process).
pub fn target_from(info: &StartupInfo, profile: Profile) -> Target {
    Target {
        endpoint: info.endpoint.clone(),
        project_id: info.project_id.clone(),
        profile,
        credentials: Credentials {
            token: Some(info.token.clone()),
            admin_token: Some(info.admin_token.clone()),
            reader_token: Some(info.reader_token.clone()),
            alt_token: Some(info.alt_token.clone()),
            alt_project_id: Some(info.alt_project_id.clone()),
        },
        servers: info.servers.clone(),
        alt_servers: info.alt_servers.clone(),
        disposable: true,
    }
}
