//! The results of a run as data (`reports/results.json`).
//!
//! The format carries [`FORMAT_VERSION`] from its first release so later
//! tools (baselines, diffs of bodies between endpoints) can refuse what they
//! do not understand. Every exchange is kept, with secrets already redacted:
//! nothing in these types may hold a token. On disk the exchanges are
//! packed losslessly (shared header pairs and long bodies written once; see
//! [`super::stored`]); these types are what a reader gets back.

use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use super::failure::{Cause, Failure, HeaderRule, Place, Problem, StoredMap};
use super::stored::{ReadResults, StoredResults};
pub use crate::cases::format::CaseClass;

/// Bumped on any incompatible change of [`RunResults`] or of its stored
/// form (2: header pairs and long bodies packed, compact JSON; 3: a failure
/// is data, [`Failure`], and a skip's reason is `skip_reason`; 4: each
/// case's `class`, and the run's `target` and `microversion`). Older
/// formats still load (see [`super::stored`]).
pub const FORMAT_VERSION: u32 = 4;

/// A whole run (written as [`StoredResults`], read as [`ReadResults`]).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(into = "StoredResults", try_from = "ReadResults")]
pub struct RunResults {
    pub format_version: u32,
    pub run: RunInfo,
    pub summary: Summary,
    pub cases: Vec<CaseResult>,
}

/// Where and when the run happened.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunInfo {
    pub dialect: String,
    /// The endpoint, without user info or query string.
    pub endpoint: String,
    /// The embedded reference server was used.
    pub embedded: bool,
    /// RFC 3339, UTC.
    pub started_at: String,
    pub duration_ms: f64,
    pub metaconform_version: String,
    /// Stopped by SIGINT/SIGTERM: the cases listed are those that ran (or
    /// were running) before it; the others did not run.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub interrupted: bool,
    /// `run --partition` (`count:K/N`, `hash:K/N`): this run is one shard,
    /// and `merge` wants every shard of N.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition: Option<String>,
    /// `run --strict`: tolerated answers failed. `merge` refuses to mix
    /// strict and lenient shards.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub strict: bool,
    /// `run --target NAME=FILE`: the name of the target this run was (one
    /// results file per target); absent for a run of the endpoint flags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// The highest microversion the run tested (`2.N`: the dialect's own,
    /// or what `--microversion` capped it to; legacy `/v2` serves 2.1
    /// alone); absent for a dialect without microversions (Huawei v1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub microversion: Option<String>,
}

/// Counts per verdict.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(deny_unknown_fields)]
pub struct Summary {
    pub passed: usize,
    pub failed: usize,
    pub errors: usize,
    pub skipped: usize,
    /// Failed or errored (or a required case not run for a reason that
    /// gates), but listed in the known-failures file.
    pub known_failures: usize,
    /// Listed in the known-failures file, yet passed.
    pub fixed: usize,
    /// Failed or errored, advisory and not listed in the known-failures
    /// file: reported, never gating.
    #[serde(default)]
    pub advisory_failures: usize,
    /// The skipped cases by [`SkipKind`]: a change that skips many more
    /// cases "for the dialect's nature" shows here, not only in the total.
    #[serde(default)]
    pub skipped_by_kind: SkipCounts,
}

/// Skipped cases per [`SkipKind`] (they add up to [`Summary::skipped`]).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SkipCounts {
    pub case: usize,
    pub dialect: usize,
    pub credentials: usize,
    pub user_choice: usize,
    /// Not run because a setup primitive of the runner is broken.
    #[serde(default)]
    pub blocked: usize,
}

impl SkipCounts {
    fn add(&mut self, kind: SkipKind) {
        *match kind {
            SkipKind::Case => &mut self.case,
            SkipKind::Dialect => &mut self.dialect,
            SkipKind::Credentials => &mut self.credentials,
            SkipKind::UserChoice => &mut self.user_choice,
            SkipKind::Blocked => &mut self.blocked,
        } += 1;
    }
}

impl std::fmt::Display for SkipCounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} for the dialect, {} by the case file, {} for a missing credential or server, {} by choice, {} blocked by a broken setup primitive",
            self.dialect, self.case, self.credentials, self.user_choice, self.blocked
        )
    }
}

impl Summary {
    pub fn count(&mut self, case: &CaseResult) {
        match case.verdict {
            Verdict::Pass => self.passed += 1,
            Verdict::Fail => self.failed += 1,
            Verdict::Error => self.errors += 1,
            Verdict::Skip => {
                self.skipped += 1;
                // no skip is made without a kind today; one would count
                // as the dialect's
                self.skipped_by_kind
                    .add(case.skip_kind.unwrap_or(SkipKind::Dialect));
            }
        }
        // a failure is known (baselined) or advisory, never both
        let failed = matches!(case.verdict, Verdict::Fail | Verdict::Error);
        if failed && !case.class.is_required() && case.known_failure.is_none() {
            self.advisory_failures += 1;
        }
        match case.known_failure {
            Some(KnownStatus::StillFailing) => self.known_failures += 1,
            Some(KnownStatus::Fixed) => self.fixed += 1,
            None => {}
        }
    }
}

/// What became of one case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Pass,
    /// An expectation was broken.
    Fail,
    /// Transport or setup trouble: the rule was not checked.
    Error,
    Skip,
}

/// Why a case was skipped; decides whether the skip gates the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum SkipKind {
    /// The case file says `skip:`.
    Case,
    /// The dialect lacks what the case needs (an operation, a reachable
    /// state, a lock, a microversion, or the case is for other dialects).
    Dialect,
    /// The user did not pass a credential or server the case needs (or
    /// `--image`/`--flavor`, for a case that creates a server).
    Credentials,
    /// The user asked for it (`--no-state-changes`).
    UserChoice,
    /// A setup primitive of the runner is broken on this endpoint (the
    /// run's root-cause finding, `setup::…`, names it): the case was not
    /// run. Gates, as the finding does.
    Blocked,
}

impl SkipKind {
    /// Whether this skip keeps a run with a case of `class` from
    /// succeeding. A required case skipped for a reason the user did not
    /// choose gates: a credential or server they did not pass, a broken
    /// setup primitive, a `skip:` in the case file ("green because
    /// everything was skipped" cannot happen). A case that is not for the
    /// dialect, or one the user left out (`--no-state-changes`), does not.
    /// An advisory case never gates.
    pub fn gates(self, class: CaseClass) -> bool {
        class.is_required()
            && matches!(
                self,
                SkipKind::Credentials | SkipKind::Blocked | SkipKind::Case
            )
    }
}

/// Whether a case is in the known-failures file, and how that turned out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KnownStatus {
    StillFailing,
    Fixed,
}

/// One case's result; `X` is how its exchanges are held ([`ExchangeRecord`],
/// or packed on disk).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseResult<X = ExchangeRecord> {
    pub id: String,
    pub area: String,
    pub name: String,
    pub spec: String,
    /// Whether the verdict gates (`required`) or is only reported
    /// (`advisory`); format 3 and older files had none: required.
    #[serde(default)]
    pub class: CaseClass,
    pub verdict: Verdict,
    /// For fail and error: where and what went wrong, as data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<Failure>,
    /// For skip: why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip_kind: Option<SkipKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub known_failure: Option<KnownStatus>,
    /// The reason given in the known-failures file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub known_reason: Option<String>,
    pub duration_ms: f64,
    pub exchanges: Vec<X>,
}

impl<X> CaseResult<X> {
    /// The same result with each exchange turned by `f`.
    pub fn map_exchanges<Y>(mut self, f: impl FnMut(X) -> Y) -> CaseResult<Y> {
        let exchanges = std::mem::take(&mut self.exchanges);
        self.with_exchanges(exchanges.into_iter().map(f).collect())
    }

    /// [`Self::map_exchanges`] with a fallible `f`.
    pub fn try_map_exchanges<Y, E>(
        mut self,
        f: impl FnMut(X) -> Result<Y, E>,
    ) -> Result<CaseResult<Y>, E> {
        let exchanges = std::mem::take(&mut self.exchanges);
        let exchanges = exchanges.into_iter().map(f).collect::<Result<_, _>>()?;
        Ok(self.with_exchanges(exchanges))
    }

    fn with_exchanges<Y>(self, exchanges: Vec<Y>) -> CaseResult<Y> {
        // Every field but the exchanges, once.
        CaseResult {
            id: self.id,
            area: self.area,
            name: self.name,
            spec: self.spec,
            class: self.class,
            verdict: self.verdict,
            failure: self.failure,
            skip_reason: self.skip_reason,
            skip_kind: self.skip_kind,
            known_failure: self.known_failure,
            known_reason: self.known_reason,
            duration_ms: self.duration_ms,
            exchanges,
        }
    }
}

impl<X> CaseResult<X> {
    /// The 1-based step that failed, if a step did.
    pub fn failed_step(&self) -> Option<usize> {
        self.failure.as_ref().and_then(Failure::step)
    }
}

impl CaseResult {
    /// Whether this case keeps the exit code from 0.
    pub fn gates(&self) -> bool {
        let baselined = self.known_failure == Some(KnownStatus::StillFailing);
        if baselined || !self.class.is_required() {
            return false;
        }
        match self.verdict {
            Verdict::Pass => false,
            Verdict::Fail | Verdict::Error => true,
            Verdict::Skip => self.skip_kind.is_some_and(|kind| kind.gates(self.class)),
        }
    }
}

pub use crate::endpoint::servers::Purpose;

/// One request and its response, secrets redacted; `Q` and `S` are how
/// they are held (packed on disk, see [`super::stored`]).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExchangeRecord<Q = RequestRecord, S = ResponseRecord> {
    pub purpose: Purpose,
    /// The 1-based step, for steps and their read-backs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<usize>,
    /// The environment variable holding the token used (`OS_TOKEN`, ...), if
    /// a token was sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_var: Option<String>,
    pub request: Q,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<S>,
    /// Transport error, when nothing came back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub elapsed_ms: f64,
}

impl<Q, S> ExchangeRecord<Q, S> {
    /// The same exchange with its request and response turned by `q`, `s`.
    pub fn try_map<Q2, S2, E>(
        self,
        q: impl FnOnce(Q) -> Result<Q2, E>,
        s: impl FnOnce(S) -> Result<S2, E>,
    ) -> Result<ExchangeRecord<Q2, S2>, E> {
        Ok(ExchangeRecord {
            purpose: self.purpose,
            step: self.step,
            token_var: self.token_var,
            request: q(self.request)?,
            response: self.response.map(s).transpose()?,
            error: self.error,
            elapsed_ms: self.elapsed_ms,
        })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestRecord {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    /// The body as text (invalid UTF-8 replaced); see `body_hex`.
    pub body: String,
    /// The exact bytes, hex, when the body is not valid UTF-8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_hex: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResponseRecord {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_hex: Option<String>,
}

/// Milliseconds as the results file writes durations.
pub fn millis(d: Duration) -> f64 {
    (d.as_secs_f64() * 1_000_000.0).round() / 1000.0
}

/// The endpoint with user info and query string removed.
pub fn strip_endpoint_secrets(endpoint: &str) -> String {
    match reqwest::Url::parse(endpoint) {
        Ok(mut url) => {
            let _ = url.set_username("");
            let _ = url.set_password(None);
            url.set_query(None);
            url.set_fragment(None);
            url.to_string().trim_end_matches('/').to_string()
        }
        Err(_) => "<unparseable endpoint>".to_string(),
    }
}

/// The current time, RFC 3339 UTC.
pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| "unknown".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_loses_user_info_and_query() {
        assert_eq!(
            strip_endpoint_secrets("http://u:secret@h:1/v2.1/p?token=abc"),
            "http://h:1/v2.1/p"
        );
        assert_eq!(strip_endpoint_secrets("::"), "<unparseable endpoint>");
    }

    #[test]
    fn only_credential_skips_and_unknown_failures_gate() {
        let mut case = CaseResult {
            id: "x".into(),
            area: "a".into(),
            name: "n".into(),
            spec: "1".into(),
            class: CaseClass::Required,
            verdict: Verdict::Skip,
            failure: None,
            skip_reason: Some("r".into()),
            skip_kind: Some(SkipKind::Dialect),
            known_failure: None,
            known_reason: None,
            duration_ms: 0.0,
            exchanges: vec![],
        };
        assert!(!case.gates());
        case.skip_kind = Some(SkipKind::Credentials);
        assert!(case.gates());
        case.verdict = Verdict::Fail;
        case.skip_kind = None;
        assert!(case.gates());
        case.known_failure = Some(KnownStatus::StillFailing);
        assert!(!case.gates());
    }
}
