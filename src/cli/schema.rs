//! `metaconform schema KIND`: the JSON Schema of a file metaconform reads,
//! for editors (YAML language servers take JSON Schemas). Generated from
//! the same types the loaders parse into, so a schema cannot drift from
//! what is accepted (`deny_unknown_fields` becomes
//! `additionalProperties: false`).

use std::process::ExitCode;

use clap::{Args, ValueEnum};

use crate::cases::format::CaseFile;
use crate::profile::format::ProfileFile;
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
    };
    schema.to_value()
}
