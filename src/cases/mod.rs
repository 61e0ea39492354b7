//! Declarative cases: the file format ([`format`]), table expansion
//! ([`table`]), semantic checks ([`check`]), loading with located
//! diagnostics ([`loader`]) and spec coverage ([`coverage`]).

pub mod check;
pub mod coverage;
pub mod format;
pub mod loader;
pub mod partition;
pub mod table;

pub use coverage::{RULES, Rule, coverage, missing};
pub use loader::{LoadedCase, default_source, load_builtin, load_dir, load_str};
