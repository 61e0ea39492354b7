//! Fuzz findings as ordinary case results: a shrunk finding is a failure at
//! its failing step carrying every exchange of its minimal sequence, and a
//! whole campaign (`metaconform fuzz`) is a [`RunResults`] the one JUnit
//! writer renders, as it renders a run's.

use crate::cases::format::Identity;
use crate::endpoint::Target;
use crate::fuzz::campaign::CampaignReport;
use crate::fuzz::shrink::Shrunk;

use super::redact::Redactor;
use super::results::{
    CaseClass, CaseResult, Cause, ExchangeRecord, FORMAT_VERSION, Failure, Place, Purpose, RunInfo,
    RunResults, Summary, Verdict, millis, now_rfc3339, strip_endpoint_secrets,
};

/// The area fuzz findings are reported under.
pub const AREA: &str = "fuzz";

/// The records of every exchange of a shrunk finding's re-check, each
/// under its 1-based step and sent as its step's identity, secrets
/// replaced.
pub fn finding_records(shrunk: &Shrunk, redactor: &Redactor) -> Vec<ExchangeRecord> {
    shrunk
        .execution
        .exchanges
        .iter()
        .map(|(index, exchange)| {
            let who = shrunk.steps.get(*index).map_or(Identity::Owner, |s| s.who);
            redactor.record(exchange, Purpose::Step, Some(index + 1), who)
        })
        .collect()
}

/// A shrunk finding as a failure: at its failing step, what the model and
/// the endpoint disagreed on, and how small the sequence got.
pub fn finding_failure(shrunk: &Shrunk) -> Failure {
    let finding = &shrunk.finding;
    let at = Place::Step {
        step: finding.step + 1,
        op: finding.kind.clone(),
    };
    let summary = finding.mismatch.to_string();
    let detail = format!(
        "minimal sequence: {} step(s), shrunk from {} in {} run(s); re-check: {}",
        shrunk.steps.len(),
        shrunk.original_len,
        shrunk.runs,
        if shrunk.reproduced {
            "fails the same way"
        } else {
            "did NOT reproduce (showing the original sequence)"
        }
    );
    Failure::new(
        at,
        Cause::Finding {
            summary,
            detail: Some(detail),
        },
    )
}

/// A campaign as a run: one case for the campaign itself (an error when it
/// was aborted), one failed case per finding with its exchanges, one
/// erred case per kind of setup trouble.
pub fn campaign_results(
    report: &CampaignReport,
    target: &Target,
    seed: u64,
    redactor: &Redactor,
) -> RunResults {
    let mut cases = vec![campaign_case(report, seed)];
    cases.extend(report.findings.iter().map(|shrunk| CaseResult {
        failure: Some(finding_failure(shrunk)),
        exchanges: finding_records(shrunk, redactor),
        ..case(
            format!("fuzz::{}", shrunk.finding.cause()),
            shrunk.finding.mismatch.class(),
            Verdict::Fail,
        )
    }));
    cases.extend(report.setup_troubles.iter().enumerate().map(|(n, t)| {
        let message = format!(
            "{} sequence(s) could not start: preparing server {} failed: {}",
            t.count, t.server, t.reason
        );
        CaseResult {
            failure: Some(Failure::trouble(Place::Setup, message)),
            ..case(
                format!("fuzz::setup-{}", n + 1),
                "setup".into(),
                Verdict::Error,
            )
        }
    }));
    let cases: Vec<CaseResult> = cases.into_iter().map(|c| redactor.case(c)).collect();
    let mut summary = Summary::default();
    cases.iter().for_each(|c| summary.count(c));
    RunResults {
        format_version: FORMAT_VERSION,
        run: RunInfo {
            dialect: target.profile.id().to_string(),
            endpoint: strip_endpoint_secrets(&target.endpoint),
            embedded: target.disposable,
            started_at: now_rfc3339(),
            duration_ms: millis(report.elapsed),
            metaconform_version: env!("CARGO_PKG_VERSION").to_string(),
            interrupted: report.interrupted,
            partition: None,
            target: None,
            microversion: super::schedule::tested_microversion(&target.profile),
            strict: false,
        },
        summary,
        cases,
    }
}

/// The campaign itself: its size and pace, an error if it was aborted.
fn campaign_case(report: &CampaignReport, seed: u64) -> CaseResult {
    let stats = format!(
        "{} sequences, {} requests, {:.0} requests/s",
        report.sequences,
        report.requests,
        report.throughput()
    );
    let verdict = match report.aborted {
        Some(_) => Verdict::Error,
        None => Verdict::Pass,
    };
    CaseResult {
        failure: report
            .aborted
            .as_ref()
            .map(|why| Failure::trouble(Place::Case, format!("aborted: {why}"))),
        duration_ms: millis(report.elapsed),
        ..case(format!("fuzz::campaign (seed {seed})"), stats, verdict)
    }
}

/// A fuzz case with nothing recorded yet; `name` says what it is.
fn case(id: String, name: String, verdict: Verdict) -> CaseResult {
    CaseResult {
        id,
        area: AREA.to_string(),
        name,
        spec: "all".to_string(),
        class: CaseClass::Required,
        verdict,
        failure: None,
        skip_reason: None,
        skip_kind: None,
        known_failure: None,
        known_reason: None,
        duration_ms: 0.0,
        exchanges: Vec::new(),
    }
}
