//! The reference semantics of the server-metadata API, free of I/O.
//!
//! Everything that decides *what the right answer is* lives here: key and value
//! validation ([`rules`]), request-body shapes ([`body`]), server states and the
//! actions that move between them ([`server`]), callers and roles ([`caller`]),
//! microversion negotiation ([`microversion`]), Nova's order of checks
//! ([`pipeline`]), request bodies read as Python's `json.loads` reads them
//! ([`pyjson`]) and Python's rendering of values in messages ([`pyrepr`]).
//! The mock server, the runner's oracle and the fuzzer's generators all call
//! into this module; none of them restates a rule.
//!
//! Results are [`outcome::Outcome`]s, not status codes: a dialect profile
//! (`crate::profile`) turns an outcome into the status code and error body a
//! given cloud sends, and into the set of codes a real endpoint may answer.

pub mod autorecovery;
pub mod batch;
pub mod body;
pub mod caller;
pub mod flavor;
pub mod microversion;
pub mod outcome;
pub mod pipeline;
pub mod pyjson;
pub mod pyrepr;
pub mod rules;
pub mod server;
pub mod tags;

use std::collections::BTreeMap;

/// A server's user metadata: a flat string-to-string map. Keys compare by
/// exact code-point equality (spec §3.3), which `BTreeMap<String, _>` gives.
pub type Metadata = BTreeMap<String, String>;
