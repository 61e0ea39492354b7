//! `metaconform run`'s engine: executing cases against a [`Target`].
//!
//! One module per concept: [`applicability`] decides whether a case can run
//! on this target at all (or is skipped, with a reason), [`requests`] turns
//! steps into HTTP requests through the dialect profile, [`servers`] brings a
//! server to a case's `given` state and back, [`check`] compares answers with
//! expectations, [`execute`] runs one case, [`schedule`] runs many
//! concurrently on different servers, [`results`] is the outcome as data
//! ([`failure`] why a case failed, [`stored`] its packed form in
//! `results.json`),
//! [`events`] is the run as a stream of events (the reporters of
//! `crate::report` subscribe), [`known_failures`] marks what an
//! endpoint is known to fail, [`embedded`] makes the mock a target,
//! [`primitives`] verifies the runner's own setup before cases rely on it,
//! and [`auth_guard`] stops a run whose AK/SK signatures are refused.

pub mod applicability;
pub mod auth_guard;
pub mod check;
pub mod embedded;
pub mod events;
pub mod execute;
pub mod failure;
pub mod findings;
pub mod known_failures;
pub mod primitives;
pub mod properties;
pub mod redact;
pub mod rehearsal;
pub mod requests;
pub mod results;
pub mod schedule;
pub mod servers;
pub mod stored;

use std::time::Duration;

use crate::cases::format::Identity;
use crate::endpoint::{AccessKeyPair, Credentials};

/// How the runner behaves, beyond the target.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Cases run at once, each on its own server.
    pub jobs: usize,
    /// How long to wait for a server to settle after an action.
    pub state_timeout: Duration,
    /// The user forbade state changes (`--no-state-changes`).
    pub no_state_changes: bool,
    /// The flavor `resize` asks for (`--resize-flavor`); `None`: a flavor
    /// other than the server's own, from the endpoint's flavor list.
    pub resize_flavor: Option<String>,
    /// `--strict`: an answer a step only tolerates (its `tolerate` list)
    /// fails it.
    pub strict: bool,
    /// Set on the first SIGINT/SIGTERM: no further case or trial starts;
    /// those running finish, and the reports say the run was interrupted.
    pub interrupt: Interrupt,
    /// What `op: create` steps make servers from (`--image`, `--flavor`);
    /// `None` on an endpoint: those cases are skipped (the embedded server,
    /// disposable, takes any image and flavor).
    pub create_recipe: Option<crate::endpoint::provision::Recipe>,
    /// The run's journal (`None`: the embedded server, disposable): every
    /// server a step creates is recorded in it as soon as the endpoint
    /// answers, so an interrupted run or `metaconform restore` deletes it.
    pub journal: Option<crate::endpoint::journal::SharedJournal>,
}

pub use crate::abort::Interrupt;

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            jobs: 4,
            state_timeout: Duration::from_secs(300),
            no_state_changes: false,
            resize_flavor: None,
            strict: false,
            interrupt: Interrupt::default(),
            create_recipe: None,
            journal: None,
        }
    }
}

pub use crate::endpoint::secrets::token_var;

/// The access key that signs `identity`'s requests ([`Credentials::signing_key`]).
pub fn signing_key(creds: &Credentials, identity: Identity) -> Option<&AccessKeyPair> {
    creds.signing_key(identity)
}

/// The token of `identity` ([`Credentials::token_of`]).
pub fn token_of(creds: &Credentials, identity: Identity) -> Result<Option<&str>, &'static str> {
    creds.token_of(identity)
}
