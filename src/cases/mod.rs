//! Declarative cases: the file format ([`format`]).

pub mod format;
