//! `metaconform explain CASE_ID [RESULTS...]`: what a case checks
//! ([`crate::cases::explain`]), the dialects it runs on, and its history
//! across the given results files (verdict and the answers its steps got,
//! oldest first as given).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use crate::cases::{Catalogue, LoadedCase, Source};
use crate::cli::{CliError, Exit};
use crate::report::diff::side;
use crate::run::applicability;
use crate::run::embedded::planning_target;

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The case id, exactly (`run --list` lists them).
    pub id: String,
    /// Results files (`run --json`) to show the case's history from, in the
    /// order given.
    pub results: Vec<PathBuf>,
    /// Add the case files under DIR to the built-in catalogue (as `run
    /// --cases`; repeatable).
    #[arg(long = "cases", value_name = "DIR")]
    pub cases: Vec<PathBuf>,
    /// Look in these folders instead of the built-in catalogue (as `run
    /// --only-cases`; repeatable).
    #[arg(long = "only-cases", value_name = "DIR")]
    pub only_cases: Vec<PathBuf>,
}

pub fn main(args: ExplainArgs) -> ExitCode {
    match run(&args) {
        Ok(exit) => exit.into(),
        Err(CliError(exit, message)) => {
            eprintln!("{message}");
            exit.into()
        }
    }
}

fn run(args: &ExplainArgs) -> Result<Exit, CliError> {
    let sources = Source::from_flags(&args.only_cases, &args.cases);
    let catalogue = Catalogue::load(&sources).map_err(|diagnostics| {
        let text: Vec<String> = diagnostics.iter().map(ToString::to_string).collect();
        CliError(Exit::Usage, text.join("\n"))
    })?;
    let Some(loaded) = catalogue.cases.iter().find(|c| c.case.id == args.id) else {
        return Err(CliError(Exit::Usage, unknown(&args.id, &catalogue.cases)));
    };
    let mut out = crate::cases::explain::describe(loaded);
    out.push_str(&dialects(loaded));
    out.push_str(&history(&args.id, &args.results)?);
    print!("{out}");
    Ok(Exit::Success)
}

/// The built-in dialects the case runs on, and why not on the others.
fn dialects(loaded: &LoadedCase) -> String {
    let mut runs = Vec::new();
    let mut not = Vec::new();
    for id in crate::profile::builtin_ids() {
        let Ok(profile) = crate::profile::builtin(id) else {
            continue;
        };
        let target = planning_target(profile);
        match applicability::for_dialect(&loaded.case, &target) {
            true => runs.push(id.to_string()),
            false => not.push(id.to_string()),
        }
    }
    let mut out = format!("  runs on: {}\n", or_none(&runs));
    if !not.is_empty() {
        out.push_str(&format!("  not for: {}\n", not.join(", ")));
    }
    out
}

fn or_none(list: &[String]) -> String {
    match list.is_empty() {
        true => "no built-in dialect".to_string(),
        false => list.join(", "),
    }
}

/// One line per results file: when, where, the verdict and the answers.
fn history(id: &str, files: &[PathBuf]) -> Result<String, CliError> {
    if files.is_empty() {
        return Ok(String::new());
    }
    let mut out = String::from("  history:\n");
    for path in files {
        let results = crate::cli::diff::load(path)?;
        let run = &results.run;
        let place = format!(
            "{} ({}, {}, metaconform {})",
            path.display(),
            run.started_at,
            run.dialect,
            run.metaconform_version
        );
        match results.cases.iter().find(|c| c.id == id) {
            Some(case) => {
                let seen = side(case);
                let answers = match seen.answers.is_empty() {
                    true => String::new(),
                    false => format!(": {}", seen.answers.join(", ")),
                };
                let verdict = format!("{:?}", seen.verdict).to_lowercase();
                out.push_str(&format!("    {place}: {verdict}{answers}\n"));
            }
            None => out.push_str(&format!("    {place}: not run\n")),
        }
    }
    Ok(out)
}

/// The error for an id the catalogue does not have, with the nearest ids
/// (those holding the text first).
fn unknown(id: &str, cases: &[LoadedCase]) -> String {
    // ids holding the text first, then by edit distance
    let mut near: Vec<(bool, usize, &str)> = cases
        .iter()
        .map(|c| {
            let other = c.case.id.as_str();
            (!other.contains(id), distance(id, other), other)
        })
        .collect();
    near.sort();
    let suggestions: Vec<&str> = near.iter().take(3).map(|(_, _, id)| *id).collect();
    format!(
        "error: no case has the id {id:?}; nearest: {} (`metaconform run --list` lists every id)",
        suggestions.join(", ")
    )
}

/// Levenshtein distance, by characters.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let substitute = previous + usize::from(ca != cb);
            previous = row[j + 1];
            row[j + 1] = substitute.min(row[j] + 1).min(previous + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance() {
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("same", "same"), 0);
    }
}
