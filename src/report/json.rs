//! The results file reporter: `results.json` (format
//! [`crate::run::results::FORMAT_VERSION`], packed as `run::stored` says),
//! written when the run finishes.

use std::path::PathBuf;

use crate::run::events::Event;
use crate::run::results::RunResults;

use super::reporter::{ReportError, Reporter, write_file};

/// Writes `results.json` (compact JSON: `jq .` shows it indented).
pub struct JsonWriter {
    pub path: PathBuf,
}

impl JsonWriter {
    /// Write `results` to the file.
    pub fn write(&self, results: &RunResults) -> Result<(), ReportError> {
        let text = serde_json::to_vec(results).map_err(|e| ReportError::Render {
            what: "results.json",
            message: e.to_string(),
        })?;
        write_file(&self.path, &text)
    }
}

impl Reporter for JsonWriter {
    fn handle(&mut self, event: Event<'_>) -> Result<(), ReportError> {
        match event {
            Event::RunFinished { results } => self.write(results),
            _ => Ok(()),
        }
    }
}
