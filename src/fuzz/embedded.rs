//! The embedded mock as a fuzz target: start `serve` in-process on
//! 127.0.0.1 port 0 and build a [`Target`] from its startup values.
//!
//! The runner needs the same conversion; the two should share one
//! `Target::from_startup` once both branches are merged.

use crate::profile::Profile;
use crate::serve::{self, Fault, RunningServer, ServeConfig, ServeError, StartupInfo};
use crate::target::{Credentials, Target};

/// The target described by a startup line (a disposable server).
pub fn target_from_startup(info: &StartupInfo, profile: Profile) -> Target {
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

/// Start the mock for `profile` with `faults` and `servers` servers.
pub async fn start(
    profile: Profile,
    servers: usize,
    faults: Vec<Fault>,
    seed: u64,
) -> Result<(RunningServer, Target), ServeError> {
    let listen = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    let mut config = ServeConfig::new(listen, profile.clone(), servers);
    config.faults = faults;
    config.seed = seed;
    let running = serve::spawn(config).await?;
    let target = target_from_startup(running.info(), profile);
    Ok((running, target))
}
