//! Reports rendered from [`crate::run::results`]: the request/response
//! transcript and curl repros ([`transcript`]), and the JUnit file
//! ([`junit`]) CI systems read.

pub mod junit;
pub mod transcript;
