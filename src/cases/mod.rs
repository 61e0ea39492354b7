//! Declarative cases: the file format ([`format`]), table expansion
//! ([`table`]), semantic checks ([`check`]), loading with located
//! diagnostics ([`loader`]), the sources a run reads ([`sources`]), the
//! filters that select from them ([`selection`]) and spec coverage
//! ([`coverage`]).

pub mod check;
pub mod coverage;
pub mod explain;
pub mod format;
pub mod loader;
pub mod partition;
pub mod selection;
pub mod sources;
pub mod table;

pub use coverage::{RULES, Rule, coverage, missing};
pub use loader::{LoadedCase, load_builtin, load_dir, load_str};
pub use selection::Selection;
pub use sources::{Catalogue, Source};
