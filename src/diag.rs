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

    /// Attach the source line from `text` (the whole file); a long line is
    /// cut to [`SNIPPET`] characters around the column (the caret follows).
    pub fn with_source(mut self, text: &str) -> Self {
        if self.line > 0
            && let Some(line) = text.lines().nth(self.line as usize - 1)
        {
            let (snippet, column) = snippet(line, self.column);
            self.source_line = Some(snippet);
            self.column = column;
        }
        self
    }

    /// From a serde-saphyr error, located in `file` whose contents are `text`.
    pub fn from_yaml(file: &Path, text: &str, error: &serde_saphyr::Error) -> Self {
        let (line, column) = error
            .location()
            .map(|l| (l.line() as u32, l.column() as u32))
            .unwrap_or((0, 0));
        if let serde_saphyr::Error::Budget { breach, .. } = error.without_snippet() {
            return Diagnostic::new(file, line, column, too_large(breach)).with_help(
                "split the cases into several files under the same folder: each file is loaded on its own",
            );
        }
        let message = first_line(&error.to_string());
        Diagnostic::new(file, line, column, message).with_source(text)
    }
}

/// Source lines longer than this (in characters) are cut around the column.
pub const SNIPPET: usize = 160;

/// `line` cut to at most [`SNIPPET`] characters around the 1-based
/// `column` (with `…` where text was left out), and the column in the cut.
fn snippet(line: &str, column: u32) -> (String, u32) {
    let length = line.chars().count();
    if length <= SNIPPET {
        return (line.to_string(), column);
    }
    let at = (column as usize).saturating_sub(1).min(length);
    let start = at.saturating_sub(SNIPPET / 2).min(length - SNIPPET);
    let mut cut: String = line.chars().skip(start).take(SNIPPET).collect();
    let mut column = (at - start + 1) as u32;
    if start > 0 {
        cut.insert(0, '…');
        column += 1;
    }
    if start + SNIPPET < length {
        cut.push('…');
    }
    (cut, column)
}

/// What a parser limit means for a case file, with the limit.
fn too_large(breach: &serde_saphyr::budget::BudgetBreach) -> String {
    use serde_saphyr::budget::BudgetBreach as B;
    let limits = serde_saphyr::Budget::default();
    let what = match breach {
        B::Nodes { .. } => format!(
            "more than {} YAML nodes (values, lists and maps)",
            limits.max_nodes
        ),
        B::Events { .. } => format!("more than {} YAML parser events", limits.max_events),
        B::Depth { .. } => format!("nesting deeper than {} levels", limits.max_depth),
        other => format!("a YAML parser limit ({other:?})"),
    };
    format!("the file is too large to load: {what}")
}

impl Diagnostic {
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
    fn a_long_line_is_cut_around_the_column_and_the_caret_follows() {
        let line = format!("{}X{}", "a".repeat(100_000), "b".repeat(100_000));
        let d = Diagnostic::new(Path::new("x.yaml"), 1, 100_001, "bad").with_source(&line);
        let text = d.to_string();
        assert!(text.len() < 600, "{} bytes", text.len());
        let src = d.source_line.as_deref().unwrap();
        assert!(src.starts_with('…') && src.ends_with('…'), "{src}");
        let caret_at = d.column as usize - 1;
        assert_eq!(src.chars().nth(caret_at), Some('X'), "{src}");
        // Short lines and the ends of long lines stay as they were.
        let d = Diagnostic::new(Path::new("x.yaml"), 1, 3, "bad").with_source("abcdef");
        assert_eq!((d.source_line.as_deref(), d.column), (Some("abcdef"), 3));
        let d = Diagnostic::new(Path::new("x.yaml"), 1, 2, "bad").with_source(&line);
        let src = d.source_line.unwrap();
        assert!(!src.starts_with('…') && src.ends_with('…'));
        assert_eq!(d.column, 2);
    }

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
