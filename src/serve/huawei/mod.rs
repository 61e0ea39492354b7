//! The Huawei side of `metaconform serve`: AK/SK authentication for every
//! Huawei dialect ([`keys`]), and the v1 family's batch-action jobs
//! ([`jobs`]) and response bodies ([`render`]).

pub mod jobs;
pub mod keys;
pub mod render;
