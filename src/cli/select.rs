//! `run`'s selection flags, defined once: where the cases come from (the
//! built-in catalogue, `--cases DIR` adding to it, `--only-cases DIR`
//! replacing it), which of them run (FILTER, `--exact`, `--skip`, `--area`,
//! `--tag`), and what an empty selection means (`--no-tests`, default: exit
//! 4, as nextest). The run's summary names the catalogue and its size
//! ([`Plan::catalogue_line`]).

use std::collections::BTreeSet;
use std::path::PathBuf;

use clap::{Args, ValueEnum};

use crate::cases::sources::plural;
use crate::cases::{Catalogue, LoadedCase, Selection, Source};
use crate::cli::{CliError, Exit};
use crate::fuzz::properties::{PropertyTrial, property_trials};
use crate::run::properties;
use crate::run::results::RunResults;

#[derive(Debug, Clone, Args)]
pub struct SelectArgs {
    /// Run only cases whose id contains this text.
    pub filter: Option<String>,
    /// The filter (and --skip) must match the whole id.
    #[arg(long)]
    pub exact: bool,
    /// Leave out cases whose id contains this text (repeatable).
    #[arg(long = "skip", value_name = "PATTERN")]
    pub skip: Vec<String>,
    /// Only cases of this area, the case's folder: charset, lengths, ...;
    /// `prop` for the property trials (repeatable: any of them).
    #[arg(long = "area", value_name = "AREA")]
    pub areas: Vec<String>,
    /// Only cases carrying this tag in their file; `property` for the
    /// property trials (repeatable: any of them).
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,
    /// Add the case files under DIR to the built-in catalogue (repeatable;
    /// an id defined twice is an error). `./cases` is never read unasked.
    #[arg(long = "cases", value_name = "DIR")]
    pub cases: Vec<PathBuf>,
    /// Run the case files under DIR instead of the built-in catalogue
    /// (repeatable).
    #[arg(long = "only-cases", value_name = "DIR")]
    pub only_cases: Vec<PathBuf>,
    /// What a selection that matches nothing does: fail (exit 4), warn
    /// (exit 0) or pass (exit 0).
    #[arg(long, value_enum, default_value_t = NoTests::Fail)]
    pub no_tests: NoTests,
}

/// What an empty selection does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum NoTests {
    Pass,
    Warn,
    Fail,
}

/// What a run will do: the selected cases and trials, and the line that
/// says which catalogue they came from.
#[derive(Clone)]
pub struct Plan {
    pub cases: Vec<LoadedCase>,
    pub trials: Vec<PropertyTrial>,
    /// `catalogue: built-in (724 cases), 5 property trials; ...`.
    pub catalogue_line: String,
    /// `built-in (724 cases), 5 property trials`.
    pub catalogue: String,
}

impl SelectArgs {
    /// The filters as data.
    pub fn selection(&self) -> Selection {
        Selection {
            filter: self.filter.clone(),
            exact: self.exact,
            skip: self.skip.clone(),
            areas: self.areas.clone(),
            tags: self.tags.clone(),
        }
    }

    /// Load the sources the flags name (exit 2 with every diagnostic).
    pub fn catalogue(&self) -> Result<Catalogue, CliError> {
        let sources = Source::from_flags(&self.only_cases, &self.cases);
        Catalogue::load(&sources).map_err(|diags| {
            let mut text: String = diags.iter().map(|d| format!("{d}\n")).collect();
            text.push_str(&format!(
                "error: {} problem(s) in the case files",
                diags.len()
            ));
            CliError(Exit::Usage, text)
        })
    }

    /// The selected cases and trials (none with `no_props`); an unknown
    /// `--area` is exit 2.
    pub fn plan(&self, catalogue: Catalogue, no_props: bool) -> Result<Plan, CliError> {
        let selection = self.selection();
        let mut areas: BTreeSet<String> = catalogue.cases.iter().map(|c| c.area.clone()).collect();
        areas.insert(properties::AREA.to_string());
        selection
            .check_areas(&areas)
            .map_err(|e| CliError(Exit::Usage, format!("error: {e}")))?;
        let all_trials = if no_props {
            Vec::new()
        } else {
            property_trials()
        };
        let described = describe(&catalogue, all_trials.len(), no_props);
        let line = format!("catalogue: {described}");
        let cases = selection.select(catalogue.cases);
        let trials: Vec<PropertyTrial> = all_trials
            .into_iter()
            .filter(|t| properties::selected(t, &selection))
            .collect();
        let catalogue_line = match selection.is_filtered() {
            false => line,
            true => format!(
                "{line}; selected {} and {} ({})",
                plural(cases.len(), "case"),
                plural(trials.len(), "trial"),
                selection.describe()
            ),
        };
        Ok(Plan {
            cases,
            trials,
            catalogue_line,
            catalogue: described,
        })
    }

    /// An empty plan is exit 4 naming the filters, unless `--no-tests`
    /// says otherwise.
    pub fn require_some(&self, plan: &Plan) -> Result<(), CliError> {
        if !plan.cases.is_empty() || !plan.trials.is_empty() {
            return Ok(());
        }
        let what = format!(
            "no case or property trial matches {} in the catalogue, {}",
            self.selection().describe(),
            plan.catalogue
        );
        self.untested(
            what,
            ": nothing would run; check the filter (`run --list` shows the ids), or pass --no-tests=pass to allow an empty selection",
        )
    }

    /// What `--no-tests` makes of a run that tests nothing: `fix` ends the
    /// error (exit 4); a warning or nothing when it is allowed.
    fn untested(&self, what: String, fix: &str) -> Result<(), CliError> {
        match self.no_tests {
            NoTests::Pass => Ok(()),
            NoTests::Warn => {
                eprintln!("warning: {what}");
                Ok(())
            }
            NoTests::Fail => Err(CliError(Exit::Untested, format!("error: {what}{fix}"))),
        }
    }
}

impl SelectArgs {
    /// A run in which every selected case and trial was skipped tested
    /// nothing, whatever the reasons: exit 4 naming them, unless
    /// `--no-tests` says otherwise (as for an empty selection). Without
    /// this, a selection made only of cases for other dialects passed.
    pub fn require_tested(&self, results: &RunResults) -> Result<(), CliError> {
        let summary = &results.summary;
        if results.cases.is_empty() || summary.skipped < results.cases.len() {
            return Ok(());
        }
        let selected = match results.cases.len() {
            1 => "the one case or trial".to_string(),
            n => format!("all {n} cases and trials"),
        };
        let what = format!(
            "nothing was tested: {selected} selected by {} were skipped ({})",
            self.selection().describe(),
            summary.skipped_by_kind
        );
        self.untested(
            what,
            "; choose cases that run on this endpoint (`run --list` shows them), or pass --no-tests=pass to allow it",
        )
    }
}

/// `built-in (724 cases) + regressions (1 case), 5 property trials`.
fn describe(catalogue: &Catalogue, trials: usize, no_props: bool) -> String {
    let trials = match no_props {
        true => "no property trials (--no-props)".to_string(),
        false => plural(trials, "property trial"),
    };
    format!("{}, {trials}", catalogue.describe())
}
