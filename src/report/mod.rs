//! Reports rendered from [`crate::run::results`], by reporters subscribed to
//! the run's events ([`reporter`]: [`terminal`], [`json`], [`junit`],
//! [`markdown`], [`html`], [`subunit`]; where a case stands against the baseline:
//! [`standing`]): the request/response
//! transcript and the one curl repro renderer ([`transcript`]), a failure's
//! sentence and the terminal's account of a failed case ([`failure`]), a
//! fuzz finding's account ([`finding`]), and the JUnit file ([`junit`],
//! written by [`junit_xml`]) CI systems read; the matrix of a multi-target
//! run ([`matrix`]).

pub mod diff;
pub mod failure;
pub mod finding;
pub mod html;
pub mod json;
pub mod junit;
pub mod junit_xml;
pub mod markdown;
pub mod matrix;
pub mod merge;
pub mod reporter;
pub mod standing;
pub mod subunit;
pub mod terminal;
pub mod transcript;
