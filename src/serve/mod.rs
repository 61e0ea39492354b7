//! `metaconform serve`: the reference mock server, an HTTP face over
//! [`crate::model`] for any dialect profile.

pub mod cli;
pub mod huawei;
pub mod startup;
