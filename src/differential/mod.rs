//! The differential test against real Nova (issue 8): one scenario list
//! sent to two peers (genuine Nova from `contrib/nova-peer`, and `metaconform
//! serve --dialect nova`), their answers compared field by field.
//!
//! - [`scenario`]: scenarios, the peer they go to, sending (through
//!   [`crate::endpoint`]'s transport, or [`crate::endpoint::raw`] for what
//!   it cannot send).
//! - [`catalogue`]: scenarios from a catalogue run's results;
//!   [`fuzzed`]: the requests of the fuzzer's coverage phase;
//!   [`wire`]: the transport-level ones.
//! - [`observe`]: what is compared, normalised; [`recording`]: real Nova's
//!   answers on file, replayed; [`known`]: the listed divergences and the
//!   verdict.
//!
//! `contrib/differential/record.sh` records; `tests/differential.rs`
//! replays the recording against the mock.

pub mod catalogue;
pub mod fuzzed;
pub mod known;
pub mod observe;
pub mod recording;
pub mod scenario;
pub mod wire;
