//! The embedded mock as a fuzz target: start `serve` in-process on
//! 127.0.0.1 port 0 and build a [`Target`] from its startup values
//! ([`Target::from_startup`], shared with the runner).

use crate::endpoint::Target;
use crate::profile::Profile;
use crate::serve::{self, Fault, RunningServer, ServeConfig, ServeError};

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
    let target = Target::from_startup(running.info(), profile);
    Ok((running, target))
}
