//! metaconform: a conformance test suite and fuzzer for cloud server-metadata
//! HTTP APIs (OpenStack Nova, Huawei ECS/BMS).
//!
//! Layers, one module each: [`model`] (I/O-free reference semantics),
//! [`profile`] (dialects as data), [`cases`] (the case file format and
//! loader), [`endpoint`] (the one client of the endpoint under test: transport, signing, servers),
//! [`serve`] (the mock server), [`cli`] (flags and exit codes). The binary is
//! a thin shell over [`cli::main`].

pub mod abort;
pub mod cases;
pub mod cli;
pub mod diag;
pub mod differential;
pub mod endpoint;
pub mod fuzz;
pub mod model;
pub mod profile;
pub mod report;
pub mod run;
pub mod serve;
