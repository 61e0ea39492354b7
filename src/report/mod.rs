//! Reports rendered from [`crate::run::results`], by reporters subscribed to
//! the run's events ([`reporter`]: [`terminal`], [`json`], [`junit`]): the request/response
//! transcript and the one curl repro renderer ([`transcript`]), a failure's
//! sentence and the terminal's account of a failed case ([`failure`]), a
//! fuzz finding's account ([`finding`]), and the JUnit file ([`junit`],
//! written by [`junit_xml`]) CI systems read.

pub mod diff;
pub mod failure;
pub mod finding;
pub mod json;
pub mod junit;
pub mod junit_xml;
pub mod merge;
pub mod reporter;
pub mod terminal;
pub mod transcript;
