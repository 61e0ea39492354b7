//! File diagnostics shared by the profile and case loaders: a message tied to
//! `file:line:column`, rendered rustc-style with the offending line and a caret.

use std::fmt;
use std::path::{Path, PathBuf};

/// An error in a user's file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: PathBuf,
    /// 1-based; 0 when the position is unknown.
    pub line: u32,
    /// 1-based; 0 when the position is unknown.
    pub column: u32,
    pub message: String,
    /// What to do about it.
    pub help: Option<String>,
    /// The source line, for the snippet.
    pub source_line: Option<String>,
}

impl Diagnostic {
    pub fn new(file: &Path, line: u32, column: u32, message: impl Into<String>) -> Self {
        Diagnostic {
            file: file.to_path_buf(),
            line,
            column,
            message: message.into(),
            help: None,
            source_line: None,
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Attach the source line from `text` (the whole file).
    pub fn with_source(mut self, text: &str) -> Self {
        if self.line > 0 {
            self.source_line = text.lines().nth(self.line as usize - 1).map(str::to_string);
        }
        self
    }

    /// From a serde-saphyr error, located in `file` whose contents are `text`.
    pub fn from_yaml(file: &Path, text: &str, error: &serde_saphyr::Error) -> Self {
        let (line, column) = error
            .location()
            .map(|l| (l.line() as u32, l.column() as u32))
            .unwrap_or((0, 0));
        let message = first_line(&error.to_string());
        Diagnostic::new(file, line, column, message).with_source(text)
    }

    /// From a serde-saphyr span.
    pub fn at(
        file: &Path,
        text: &str,
        at: &serde_saphyr::Location,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic::new(file, at.line() as u32, at.column() as u32, message).with_source(text)
    }
}

fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or(text);
    line.strip_prefix("error: ").unwrap_or(line).to_string()
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "error: {}", self.message)?;
        write!(f, "  --> {}", self.file.display())?;
        if self.line > 0 {
            write!(f, ":{}:{}", self.line, self.column)?;
        }
        writeln!(f)?;
        if let Some(src) = &self.source_line {
            let gutter = self.line.to_string();
            let pad = " ".repeat(gutter.len());
            writeln!(f, "{pad} |")?;
            writeln!(f, "{gutter} | {src}")?;
            let caret_at = (self.column as usize).saturating_sub(1);
            writeln!(f, "{pad} | {}^", " ".repeat(caret_at))?;
        }
        if let Some(help) = &self.help {
            writeln!(f, "  = help: {help}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostic {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_snippet_with_caret() {
        let d = Diagnostic::new(Path::new("x.yaml"), 2, 3, "bad")
            .with_source("a: 1\nb: 2\n")
            .with_help("fix it");
        let text = d.to_string();
        assert!(text.contains("--> x.yaml:2:3"), "{text}");
        assert!(text.contains("2 | b: 2"), "{text}");
        assert!(text.contains("  |   ^"), "{text}");
        assert!(text.contains("help: fix it"), "{text}");
    }
}
