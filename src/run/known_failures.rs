//! The baseline (known-failures file): cases an endpoint is known to fail,
//! each with a reason, and optionally a link and an expiry date. A listed
//! failure is reported but does not fail the exit code; a listed case that
//! now passes is reported as fixed (remove it). An entry past its
//! `expires` date suppresses nothing: the failure gates again until the
//! entry is reviewed.
//!
//! ```yaml
//! - id: charset-key-0x20
//!   reason: "this cloud refuses spaces in keys (spec §8 row 5)"
//!   link: https://bugs.launchpad.net/nova/+bug/0000000
//!   expires: 2027-06-30
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::diag::Diagnostic;

use super::results::{CaseResult, KnownStatus, Verdict};

/// One entry of the file.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KnownFailure {
    pub id: String,
    pub reason: String,
    /// Where the failure is tracked (a bug, a ticket).
    #[serde(default)]
    pub link: Option<String>,
    /// `YYYY-MM-DD`: after this day the entry suppresses nothing.
    #[serde(default)]
    pub expires: Option<String>,
}

/// The file, by case id: each entry's reason, and its expiry if any.
#[derive(Debug, Clone, Default)]
pub struct KnownFailures {
    by_id: BTreeMap<String, (String, Option<time::Date>)>,
}

impl KnownFailures {
    /// Load and check a known-failures file.
    pub fn load(path: &Path) -> Result<Self, Diagnostic> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Diagnostic::new(path, 0, 0, format!("cannot read known-failures file: {e}"))
                .with_help("check the path given to --known-failures")
        })?;
        Self::parse(path, &text)
    }

    pub fn parse(path: &Path, text: &str) -> Result<Self, Diagnostic> {
        let entries: Vec<KnownFailure> = serde_saphyr::from_str(text).map_err(|e| {
            Diagnostic::from_yaml(path, text, &e)
                .with_help("the file is a YAML list of `{id: <case id>, reason: <text>}`")
        })?;
        let mut by_id = BTreeMap::new();
        for entry in entries {
            let expires = match &entry.expires {
                Some(text) => Some(parse_date(text).ok_or_else(|| {
                    Diagnostic::new(
                        path,
                        0,
                        0,
                        format!("case '{}': expires '{text}' is not a date", entry.id),
                    )
                    .with_source(text)
                    .with_help("write the day as YYYY-MM-DD, e.g. expires: 2027-06-30")
                })?),
                None => None,
            };
            if by_id
                .insert(entry.id.clone(), (entry.reason, expires))
                .is_some()
            {
                return Err(Diagnostic::new(
                    path,
                    0,
                    0,
                    format!("case '{}' is listed twice", entry.id),
                )
                .with_source(text)
                .with_help("keep one entry per case id"));
            }
        }
        Ok(KnownFailures { by_id })
    }

    /// Ids listed in the file that no loaded case has.
    pub fn unknown_ids<'a>(&'a self, ids: &'a [&str]) -> impl Iterator<Item = &'a str> {
        self.by_id
            .keys()
            .map(String::as_str)
            .filter(move |id| !ids.contains(id))
    }

    /// Entries whose `expires` day is before `today`, with that day: they
    /// suppress nothing and want a review.
    pub fn expired(&self, today: time::Date) -> Vec<(&str, time::Date)> {
        self.by_id
            .iter()
            .filter_map(|(id, (_, expires))| {
                expires
                    .filter(|day| *day < today)
                    .map(|day| (id.as_str(), day))
            })
            .collect()
    }

    /// Mark `result` as a known failure, or as fixed.
    pub fn apply(&self, result: &mut CaseResult) {
        self.apply_on(result, today());
    }

    /// [`KnownFailures::apply`] as on `today`: an expired entry leaves the
    /// result as it is (it gates).
    pub fn apply_on(&self, result: &mut CaseResult, today: time::Date) {
        let Some((reason, expires)) = self.by_id.get(&result.id) else {
            return;
        };
        if expires.is_some_and(|day| day < today) {
            return;
        }
        result.known_reason = Some(reason.clone());
        result.known_failure = match result.verdict {
            Verdict::Fail | Verdict::Error => Some(KnownStatus::StillFailing),
            Verdict::Pass => Some(KnownStatus::Fixed),
            // a required case that could not run, for a reason that gates
            Verdict::Skip if result.gates() => Some(KnownStatus::StillFailing),
            Verdict::Skip => None,
        };
    }
}

/// Today, UTC.
pub fn today() -> time::Date {
    time::OffsetDateTime::now_utc().date()
}

/// `YYYY-MM-DD`.
fn parse_date(text: &str) -> Option<time::Date> {
    let mut parts = text.splitn(3, '-');
    let year: i32 = parts.next()?.parse().ok()?;
    let month: u8 = parts.next()?.parse().ok()?;
    let day: u8 = parts.next()?.parse().ok()?;
    let month = time::Month::try_from(month).ok()?;
    time::Date::from_calendar_date(year, month, day).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_fields_and_duplicates_are_refused() {
        let path = Path::new("kf.yaml");
        let typo = "- id: a\n  reason: r\n  reasn: x\n";
        let err = KnownFailures::parse(path, typo).unwrap_err();
        assert!(err.message.contains("reasn"), "{err}");
        let twice = "- {id: a, reason: r}\n- {id: a, reason: s}\n";
        assert!(KnownFailures::parse(path, twice).is_err());
        let ok = KnownFailures::parse(path, "- {id: a, reason: r}\n").unwrap();
        assert_eq!(ok.unknown_ids(&["b"]).collect::<Vec<_>>(), vec!["a"]);
    }

    #[test]
    fn an_expired_entry_suppresses_nothing() {
        let path = Path::new("baseline.yaml");
        let text = "- {id: a, reason: r, expires: 2026-01-31, link: 'https://bugs/1'}\n- {id: b, reason: s}\n";
        let baseline = KnownFailures::parse(path, text).unwrap();
        let day = |d: &str| parse_date(d).unwrap();
        let failed = |id: &str| CaseResult {
            id: id.into(),
            area: String::new(),
            name: String::new(),
            spec: String::new(),
            class: crate::run::results::CaseClass::Required,
            verdict: Verdict::Fail,
            failure: None,
            skip_reason: None,
            skip_kind: None,
            known_failure: None,
            known_reason: None,
            duration_ms: 0.0,
            exchanges: Vec::new(),
        };
        let mut before = failed("a");
        baseline.apply_on(&mut before, day("2026-01-31"));
        assert_eq!(before.known_failure, Some(KnownStatus::StillFailing));
        assert!(!before.gates());
        let mut after = failed("a");
        baseline.apply_on(&mut after, day("2026-02-01"));
        assert_eq!(after.known_failure, None);
        assert!(after.gates());
        assert_eq!(
            baseline.expired(day("2026-02-01")),
            vec![("a", day("2026-01-31"))]
        );
        let bad = KnownFailures::parse(path, "- {id: a, reason: r, expires: soon}\n").unwrap_err();
        assert!(bad.message.contains("not a date"), "{bad}");
    }
}
