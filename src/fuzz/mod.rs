//! `metaconform fuzz`: generated inputs and model-based stateful fuzzing.
//!
//! The oracle is the model ([`crate::model::pipeline::decide`]) run on a
//! model copy of each server ([`world`]), with the dialect profile turning
//! outcomes into accepted status codes. One module per concept:
//! [`generators`] (proptest strategies), [`step`] (one fuzz step and its HTTP
//! form), [`world`] (the model copy), [`oracle`] (comparing an exchange with
//! the model), [`driver`] (the HTTP side: throttling, read-back, server
//! states), [`stateful`] (sequences and their execution), [`linearize`]
//! (whether some order of a concurrent step's writes explains what the
//! endpoint did), [`mutate`] (raw
//! body mutations), [`shrink`] (minimising a failing sequence), [`repro`]
//! (case files; the curl repros are `report::finding`'s), [`properties`] (the `prop::*` trials) and
//! [`campaign`] (workers, seeds, budget, summary).

pub mod bench;
pub mod campaign;
pub mod coverage;
pub mod covering;
pub mod driver;
pub mod embedded;
pub mod generators;
pub mod linearize;
pub mod mutate;
pub mod novelty;
pub mod oracle;
pub mod properties;
pub mod repro;
pub mod shrink;
pub mod stateful;
pub mod step;

pub mod world;

/// Request pacing and throttling answers, shared with `run` (see
/// [`crate::endpoint::throttle`]).
pub use crate::endpoint::throttle;
