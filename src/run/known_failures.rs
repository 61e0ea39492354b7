//! The known-failures file: cases an endpoint is known to fail, each with a
//! reason. A known failure is reported but does not fail the exit code; a
//! listed case that now passes is reported as fixed.
//!
//! ```yaml
//! - id: charset-key-0x20
//!   reason: "this cloud refuses spaces in keys (spec §8 row 5)"
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::diag::Diagnostic;

use super::results::{CaseResult, KnownStatus, Verdict};

/// One entry of the file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KnownFailure {
    pub id: String,
    pub reason: String,
}

/// The file, by case id.
#[derive(Debug, Clone, Default)]
pub struct KnownFailures {
    by_id: BTreeMap<String, String>,
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
            if by_id.insert(entry.id.clone(), entry.reason).is_some() {
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

    /// Mark `result` as a known failure, or as fixed.
    pub fn apply(&self, result: &mut CaseResult) {
        let Some(reason) = self.by_id.get(&result.id) else {
            return;
        };
        result.known_reason = Some(reason.clone());
        result.known_failure = match result.verdict {
            Verdict::Fail | Verdict::Error => Some(KnownStatus::StillFailing),
            Verdict::Pass => Some(KnownStatus::Fixed),
            Verdict::Skip => None,
        };
    }
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
}
