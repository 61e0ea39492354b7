//! `metaconform schema KIND`: the JSON Schema of a file metaconform reads,
//! for editors (YAML language servers take JSON Schemas). Case, profile and
//! baseline schemas are generated from the same types the loaders parse
//! into (and the target file and matrix schemas from their types), so they
//! cannot drift from what is accepted (`deny_unknown_fields`
//! becomes `additionalProperties: false`); the results schema is the
//! repository's `schemas/results.schema.json`, checked against real files
//! in CI.

use std::process::ExitCode;

use clap::{Args, ValueEnum};

use crate::cases::format::CaseFile;
use crate::cli::target_file::TargetFile;
use crate::profile::format::ProfileFile;
use crate::report::matrix::Matrix;
use crate::run::known_failures::KnownFailure;

/// The files there is a schema for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SchemaKind {
    /// A case file (`cases/<area>/*.yaml`).
    Case,
    /// A dialect profile (`--dialect FILE`).
    Profile,
    /// A baseline (`--baseline FILE`): a list of known failures.
    Baseline,
    /// A results file (`run --json`, `fuzz --json`, `merge --json`).
    Results,
    /// A target file (`run --target NAME=FILE`, TOML).
    Target,
    /// The matrix of a multi-target run (`matrix.json`).
    Matrix,
}

#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// Which file's schema to print.
    #[arg(value_enum)]
    pub kind: SchemaKind,
}

pub fn main(args: SchemaArgs) -> ExitCode {
    let text = serde_json::to_string_pretty(&schema(args.kind)).unwrap_or_default();
    crate::say!("{text}");
    ExitCode::SUCCESS
}

/// The schema of `kind`, as JSON.
pub fn schema(kind: SchemaKind) -> serde_json::Value {
    let schema = match kind {
        SchemaKind::Case => schemars::schema_for!(CaseFile),
        SchemaKind::Profile => schemars::schema_for!(ProfileFile),
        SchemaKind::Baseline => schemars::schema_for!(Vec<KnownFailure>),
        SchemaKind::Target => schemars::schema_for!(TargetFile),
        SchemaKind::Matrix => schemars::schema_for!(Matrix),
        // written by hand (the stored form is compacted on the way out);
        // .ci/check-results.py holds real files against it
        SchemaKind::Results => {
            return serde_json::from_str(RESULTS_SCHEMA).unwrap_or_default();
        }
    };
    schema.to_value()
}

/// `schemas/results.schema.json`, built in.
const RESULTS_SCHEMA: &str = include_str!("../../schemas/results.schema.json");

#[cfg(test)]
mod tests {
    use super::*;

    /// The checked-in schemas of the generated kinds are what `schema`
    /// prints (regenerate with `metaconform schema KIND > schemas/...`).
    #[test]
    fn checked_in_target_and_matrix_schemas_are_the_generated_ones() {
        for (kind, text) in [
            (
                SchemaKind::Target,
                include_str!("../../schemas/target.schema.json"),
            ),
            (
                SchemaKind::Matrix,
                include_str!("../../schemas/matrix.schema.json"),
            ),
        ] {
            let stored: serde_json::Value = serde_json::from_str(text).unwrap();
            assert_eq!(stored, schema(kind), "{kind:?}");
        }
    }

    #[test]
    fn the_target_schema_refuses_unknown_keys() {
        let target = schema(SchemaKind::Target);
        assert_eq!(target["additionalProperties"], false, "{target}");
        assert!(target["properties"]["token_env"].is_object(), "{target}");
    }
}
