//! The property trials (`prop::charset`, `prop::lengths`,
//! `prop::merge-replace`, `prop::states`, `prop::quota`, from
//! [`crate::fuzz::properties`]) as cases of `metaconform run`: selected by
//! the same FILTER/`--skip`/`--exact` rules, run after the declarative cases
//! with a small example count, and reported as [`CaseResult`]s of area
//! `prop` so they land in the JUnit file and `results.json` beside them.
//!
//! A failing trial is a finding at the failing step of its shrunk sequence,
//! carrying every exchange of that sequence (the reports render them, curl
//! repros included); a trial that does not apply to the dialect is a dialect skip; with
//! `--no-state-changes`, `prop::states` is skipped as the user's choice, and
//! when the member signs with AK/SK every trial is (the trials' driver sends
//! tokens only).

use std::time::Instant;

use crate::cases::Selection;
use crate::endpoint::Target;
use crate::fuzz::properties::{PropertyOptions, PropertyTrial, TrialVerdict};

use super::RunOptions;
use super::events::{Event, EventSink};
use super::findings::{finding_failure, finding_records};
use super::redact::Redactor;
use super::results::{
    CaseClass, CaseResult, Failure, Place, RunResults, SkipKind, Verdict, millis,
};

/// The area every property trial is reported under.
pub const AREA: &str = "prop";

/// The tag every property trial carries (`run --tag property`).
pub const TAG: &str = "property";

/// The trial that changes server states (skipped by `--no-state-changes`).
const STATES_TRIAL: &str = "prop::states";

/// What one trial checks, and the spec section it checks.
pub fn describe(name: &str) -> (&'static str, &'static str) {
    match name {
        "prop::charset" => (
            "generated keys of every character class are accepted or rejected as the key rule says",
            "2.1",
        ),
        "prop::lengths" => (
            "generated keys and values on every length boundary, in characters and bytes",
            "2.3",
        ),
        "prop::merge-replace" => (
            "generated merges, replaces and reads keep the stored map the model predicts",
            "3.1",
        ),
        "prop::states" => (
            "generated server actions each followed by a write, allowed only in write states",
            "4.1",
        ),
        "prop::quota" => ("generated maps around the item quota", "2.5"),
        _ => ("a generated property check", "3.1"),
    }
}

/// Whether `selection` selects `trial`: its id is its name, its area
/// [`AREA`] and its one tag [`TAG`].
pub fn selected(trial: &PropertyTrial, selection: &Selection) -> bool {
    selection.matches(trial.name, AREA, &[TAG.to_string()])
}

/// How a run's trials are sized: `examples` sequences each, the default
/// fixed seed (a run is repeatable) and shrink budget.
pub fn options(examples: u64) -> PropertyOptions {
    PropertyOptions {
        examples,
        ..PropertyOptions::default()
    }
}

/// Runs `trial` against `target`, as a case result (a skip when the user's
/// choices leave it out).
pub async fn run_one(
    trial: &PropertyTrial,
    target: &Target,
    run_options: &RunOptions,
    options: PropertyOptions,
    redactor: &Redactor,
) -> CaseResult {
    let started = Instant::now();
    let verdict = match not_run(trial, target, run_options) {
        Some(reason) => Err(reason),
        None => Ok((trial.run)(target.clone(), options).await.verdict),
    };
    let mut result = to_case_result(trial.name, verdict, redactor);
    result.duration_ms = millis(started.elapsed());
    result
}

/// Runs `trials` after the declarative cases of `results`, one after
/// another: each starts and finishes as an event to `events` (numbered on
/// from the cases; a failure's shrunk finding announced before it
/// finishes), marked against the known failures, appended, and counted.
pub async fn run_and_append(
    trials: &[PropertyTrial],
    target: &Target,
    run_options: &RunOptions,
    options: PropertyOptions,
    admission: &super::events::Admission<'_>,
    events: &mut dyn EventSink,
    results: &mut RunResults,
) {
    let started = Instant::now();
    let before = results.cases.len();
    let total = before + trials.len();
    // Trials run even when a setup primitive of the cases is broken: their
    // driver reads each server back after its reset and starts the model
    // from what it finds, so a broken reset cannot cascade into them.
    for (i, trial) in trials.iter().enumerate() {
        if run_options.interrupt.requested() {
            break;
        }
        events.emit(Event::CaseStarted { id: trial.name });
        let result = run_one(trial, target, run_options, options, admission.redactor).await;
        let result = admission.admit(result);
        if result.verdict == Verdict::Fail {
            events.emit(Event::FindingShrunk { result: &result });
        }
        events.emit(Event::CaseFinished {
            result: &result,
            done: before + i + 1,
            total,
        });
        results.summary.count(&result);
        results.cases.push(result);
    }
    results.run.duration_ms += millis(started.elapsed());
    results.run.interrupted |= run_options.interrupt.requested();
}

/// A trial as `metaconform run --list --format json` shows it.
pub fn list_entry(trial: &PropertyTrial) -> serde_json::Value {
    let (name, spec) = describe(trial.name);
    serde_json::json!({
        "id": trial.name,
        "name": name,
        "area": AREA,
        "spec": spec,
        "file": null,
        "line": null,
        "tags": [TAG],
        "dialects": null,
    })
}

/// Why `trial` is left out by the user's choices, if it is: state changes
/// forbidden, or a member who signs with AK/SK (the trials' driver sends
/// tokens only, so it would only collect 401s and risk locking the key).
fn not_run(trial: &PropertyTrial, target: &Target, run_options: &RunOptions) -> Option<String> {
    if target.credentials.access_key.is_some() {
        return Some(
            "the property trials send tokens and cannot sign with AK/SK yet: run them with a token (--token, or --auth token on the embedded server)".into(),
        );
    }
    (trial.name == STATES_TRIAL && run_options.no_state_changes)
        .then(|| "--no-state-changes: this trial changes server states".into())
}

/// The case result of a trial; `Err`: left out by the user's choice.
fn to_case_result(
    name: &str,
    verdict: Result<TrialVerdict, String>,
    redactor: &Redactor,
) -> CaseResult {
    let (title, spec) = describe(name);
    let skip = |why, kind| (Verdict::Skip, None, Some(why), Some(kind));
    let mut exchanges = Vec::new();
    let (verdict, failure, skip_reason, skip_kind) = match verdict {
        Err(why) => skip(why, SkipKind::UserChoice),
        Ok(TrialVerdict::Pass) => (Verdict::Pass, None, None, None),
        Ok(TrialVerdict::Fail(shrunk)) => {
            exchanges = finding_records(&shrunk, redactor);
            let failure = finding_failure(&shrunk);
            (Verdict::Fail, Some(failure), None, None)
        }
        Ok(TrialVerdict::Skip(why)) => skip(why, SkipKind::Dialect),
        Ok(TrialVerdict::Error(why)) => (
            Verdict::Error,
            Some(Failure::trouble(Place::Case, why)),
            None,
            None,
        ),
    };
    CaseResult {
        id: name.to_string(),
        area: AREA.to_string(),
        name: title.to_string(),
        spec: spec.to_string(),
        class: CaseClass::Required,
        verdict,
        failure,
        skip_reason,
        skip_kind,
        known_failure: None,
        known_reason: None,
        duration_ms: 0.0,
        exchanges,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(selection: Selection) -> Vec<&'static str> {
        crate::fuzz::properties::property_trials()
            .into_iter()
            .filter(|t| selected(t, &selection))
            .map(|t| t.name)
            .collect()
    }

    #[test]
    fn filter_skip_exact_area_and_tag_select_like_case_ids() {
        let filter = |f: &str, exact: bool, skip: &[&str]| Selection {
            filter: Some(f.to_string()),
            exact,
            skip: skip.iter().map(|s| s.to_string()).collect(),
            ..Selection::default()
        };
        assert_eq!(names(Selection::default()).len(), 5);
        assert_eq!(names(filter("quota", false, &[])), ["prop::quota"]);
        assert!(names(filter("quota", true, &[])).is_empty());
        assert_eq!(names(filter("prop::states", true, &[])), ["prop::states"]);
        assert_eq!(
            names(filter("prop::", false, &["merge", "char"])),
            ["prop::lengths", "prop::states", "prop::quota"]
        );
        let area = |a: &str| Selection {
            areas: vec![a.to_string()],
            ..Selection::default()
        };
        assert_eq!(names(area("prop")).len(), 5);
        assert!(names(area("charset")).is_empty());
        let tag = |t: &str| Selection {
            tags: vec![t.to_string()],
            ..Selection::default()
        };
        assert_eq!(names(tag("property")).len(), 5);
        assert!(names(tag("tempest")).is_empty());
    }

    #[test]
    fn skips_say_who_chose() {
        let to_case_result = |name, verdict| to_case_result(name, verdict, &Redactor::default());
        let chosen = to_case_result("prop::states", Err("--no-state-changes".into()));
        assert_eq!(chosen.skip_kind, Some(SkipKind::UserChoice));
        let dialect = to_case_result("prop::quota", Ok(TrialVerdict::Skip("no quota".into())));
        assert_eq!(dialect.skip_kind, Some(SkipKind::Dialect));
        assert!(!dialect.gates() && !chosen.gates());
    }
}
