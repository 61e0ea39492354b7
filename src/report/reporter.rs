//! The reporters' side of the run's event stream: a [`Reporter`] handles
//! each [`Event`] it cares about; [`Subscribers`] is the sink the runner
//! emits into, handing every event to every reporter and keeping what they
//! could not write.

use std::path::{Path, PathBuf};

use crate::run::events::{Event, EventSink};

/// A reporter could not write its output.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("cannot write {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot render {what}: {message}")]
    Render { what: &'static str, message: String },
}

/// Something that wants to hear about the run: the terminal, the JUnit
/// file, the results file.
pub trait Reporter {
    fn handle(&mut self, event: Event<'_>) -> Result<(), ReportError>;
}

/// Every reporter of a run, subscribed to its events.
pub struct Subscribers<'r> {
    reporters: Vec<&'r mut dyn Reporter>,
    errors: Vec<ReportError>,
}

impl<'r> Subscribers<'r> {
    pub fn new(reporters: Vec<&'r mut dyn Reporter>) -> Self {
        Subscribers {
            reporters,
            errors: Vec::new(),
        }
    }

    /// What the reporters could not write, each once, in the order it
    /// happened.
    pub fn errors(self) -> Vec<ReportError> {
        self.errors
    }
}

impl EventSink for Subscribers<'_> {
    fn emit(&mut self, event: Event<'_>) {
        for reporter in self.reporters.iter_mut() {
            if let Err(e) = reporter.handle(event) {
                self.errors.push(e);
            }
        }
    }
}

/// Write `bytes` to `path`, creating parent folders.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    let io = |source| ReportError::Io {
        path: path.to_path_buf(),
        source,
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    std::fs::write(path, bytes).map_err(io)
}
