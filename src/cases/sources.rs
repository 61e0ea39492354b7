//! Where a run's cases come from: the catalogue built into the binary,
//! folders that add to it (`run --cases DIR`) or folders that replace it
//! (`run --only-cases DIR`). Ids are unique across every source (a clash
//! names both files), and [`Catalogue::describe`] says in one line what the
//! run's catalogue was, so a run never tests less than the user thinks.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::loader::{LoadedCase, load_builtin, load_dir};
use crate::diag::Diagnostic;

/// One place cases are read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The `cases/` folder compiled into the binary.
    Builtin,
    /// A folder of case files (`<area>/*.yaml`, or files at its top).
    Dir(PathBuf),
}

impl Source {
    /// The sources the flags name: the built-in catalogue unless `only` is
    /// given, then every `only` folder, then every `extra` folder.
    pub fn from_flags(only: &[PathBuf], extra: &[PathBuf]) -> Vec<Source> {
        let builtin = only.is_empty().then_some(Source::Builtin);
        builtin
            .into_iter()
            .chain(only.iter().chain(extra).cloned().map(Source::Dir))
            .collect()
    }

    fn label(&self) -> String {
        match self {
            Source::Builtin => "built-in".to_string(),
            Source::Dir(dir) => dir.display().to_string(),
        }
    }

    fn load(&self) -> Result<Vec<LoadedCase>, Vec<Diagnostic>> {
        match self {
            Source::Builtin => load_builtin(),
            Source::Dir(dir) => load_dir(dir),
        }
    }
}

/// The cases of every source, sorted by id, and how many each gave.
#[derive(Debug, Clone)]
pub struct Catalogue {
    pub cases: Vec<LoadedCase>,
    /// Each source with its number of cases, in the order given.
    pub parts: Vec<(Source, usize)>,
}

impl Catalogue {
    /// Load every source; all problems of all sources are returned at once,
    /// including an id defined in two sources.
    pub fn load(sources: &[Source]) -> Result<Catalogue, Vec<Diagnostic>> {
        let mut cases: Vec<LoadedCase> = Vec::new();
        let mut parts = Vec::new();
        let mut diags = Vec::new();
        for source in sources {
            match source.load() {
                Ok(loaded) => {
                    parts.push((source.clone(), loaded.len()));
                    cases.extend(loaded);
                }
                Err(errors) => diags.extend(errors),
            }
        }
        diags.extend(clashes(&cases));
        if !diags.is_empty() {
            return Err(diags);
        }
        cases.sort_by(|a, b| a.case.id.cmp(&b.case.id));
        Ok(Catalogue { cases, parts })
    }

    /// `built-in (724 cases) + regressions (1 case)`.
    pub fn describe(&self) -> String {
        let parts: Vec<String> = self
            .parts
            .iter()
            .map(|(source, n)| format!("{} ({})", source.label(), plural(*n, "case")))
            .collect();
        parts.join(" + ")
    }
}

/// `1 case`, `2 cases`.
pub fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("{n} {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// Clashes shown one by one; past this, one line counts the rest.
const SHOWN_CLASHES: usize = 5;

/// One diagnostic per id that two sources define, at the second place,
/// naming the first (at most [`SHOWN_CLASHES`], then a count: `--cases
/// cases` in a checkout repeats the whole catalogue). Within one source
/// the loader has checked already.
fn clashes(cases: &[LoadedCase]) -> Vec<Diagnostic> {
    let mut first: BTreeMap<&str, &LoadedCase> = BTreeMap::new();
    let mut diags = Vec::new();
    for case in cases {
        let id = case.case.id.as_str();
        match first.get(id) {
            None => {
                first.insert(id, case);
            }
            Some(original) => diags.push(clash(id, original, case)),
        }
    }
    if diags.len() > SHOWN_CLASHES {
        let more = diags.len() - SHOWN_CLASHES;
        let file = diags[SHOWN_CLASHES].file.clone();
        diags.truncate(SHOWN_CLASHES);
        diags.push(
            Diagnostic::new(&file, 0, 0, format!("{more} more case ids are defined twice"))
                .with_help("--cases adds a folder to the built-in catalogue; to run a copy of the catalogue itself (a checkout's cases/), pass it with --only-cases"),
        );
    }
    diags
}

fn clash(id: &str, original: &LoadedCase, repeat: &LoadedCase) -> Diagnostic {
    let source_of = |file: &Path| {
        if file.starts_with("<builtin>") {
            "the built-in catalogue"
        } else {
            "another case folder"
        }
    };
    Diagnostic::new(
        &repeat.file,
        repeat.line,
        0,
        format!(
            "case id '{id}' is also defined in {} at {}:{}",
            source_of(&original.file),
            original.file.display(),
            original.line
        ),
    )
    .with_help(
        "ids are unique across the built-in catalogue and every --cases folder: give this case a new id, or run the folder alone with --only-cases",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_replaces_the_builtin_catalogue_and_cases_adds() {
        let a = PathBuf::from("a");
        let b = PathBuf::from("b");
        assert_eq!(
            Source::from_flags(&[], std::slice::from_ref(&b)),
            [Source::Builtin, Source::Dir(b.clone())]
        );
        assert_eq!(
            Source::from_flags(std::slice::from_ref(&a), std::slice::from_ref(&b)),
            [Source::Dir(a), Source::Dir(b)]
        );
        assert_eq!(Source::from_flags(&[], &[]), [Source::Builtin]);
    }

    #[test]
    fn the_catalogue_added_to_itself_is_a_short_error() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("cases");
        let diags = Catalogue::load(&[Source::Builtin, Source::Dir(dir)]).unwrap_err();
        assert_eq!(diags.len(), SHOWN_CLASHES + 1);
        assert!(
            diags[0]
                .message
                .contains("is also defined in the built-in catalogue")
        );
        let last = &diags[SHOWN_CLASHES];
        assert!(
            last.message.ends_with("more case ids are defined twice"),
            "{last}"
        );
        assert!(last.help.as_deref().unwrap().contains("--only-cases"));
    }

    #[test]
    fn describe_names_each_source_and_its_count() {
        let catalogue = Catalogue {
            cases: Vec::new(),
            parts: vec![
                (Source::Builtin, 724),
                (Source::Dir(PathBuf::from("regressions")), 1),
            ],
        };
        assert_eq!(
            catalogue.describe(),
            "built-in (724 cases) + regressions (1 case)"
        );
    }
}
