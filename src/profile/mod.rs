//! Dialect profiles: the data that says how one cloud spells the API.
//!
//! A profile file ([`format::ProfileFile`]) gives paths and wrappers per
//! operation, key and value rules, quota, write states, and for every
//! [`OutcomeKind`] the one code the mock emits and the set a real endpoint
//! may answer with. Built-in copies of the six dialects of the spec live in
//! `cases/dialects/` and are compiled in; a file with the same id in a
//! user's dialect directory replaces the built-in one.

pub mod format;

use std::path::{Path, PathBuf};

use crate::diag::Diagnostic;
use crate::model::outcome::OutcomeKind;
use crate::model::pipeline::{ApiRules, Op};
use crate::model::rules::{CharSet, KeyRule, MetadataRules, ValueRule};
use crate::model::server::VmState;

pub use format::{ErrorShape, HttpMethod, OpSpec, ProfileFile, ReadBack};

/// The built-in profiles: `(id, file name, contents)`.
const BUILTIN: &[(&str, &str)] = &[
    ("nova", include_str!("../../cases/dialects/nova.yaml")),
    (
        "nova-legacy",
        include_str!("../../cases/dialects/nova-legacy.yaml"),
    ),
    ("ecs-os", include_str!("../../cases/dialects/ecs-os.yaml")),
    ("ecs-v1", include_str!("../../cases/dialects/ecs-v1.yaml")),
    ("bms-os", include_str!("../../cases/dialects/bms-os.yaml")),
    ("bms-v1", include_str!("../../cases/dialects/bms-v1.yaml")),
];

/// Builds an [`Op`] from a request's key (ignored by the whole-map ops).
type MakeOp = fn(String) -> Op;

/// A loaded, checked dialect profile.
#[derive(Debug, Clone)]
pub struct Profile {
    pub file: ProfileFile,
    /// Where it came from (`<builtin>/nova.yaml` for compiled-in copies).
    pub origin: PathBuf,
    /// The model's rules for this dialect.
    pub rules: ApiRules,
}

impl Profile {
    pub fn id(&self) -> &str {
        &self.file.id
    }

    /// The operation's route, if the dialect has it.
    pub fn op(&self, op: &Op) -> Option<&OpSpec> {
        let ops = &self.file.operations;
        match op {
            Op::List => ops.list.as_ref(),
            Op::Merge => ops.merge.as_ref(),
            Op::Replace => ops.replace.as_ref(),
            Op::Get(_) => ops.get.as_ref(),
            Op::Set(_) => ops.set.as_ref(),
            Op::Delete(_) => ops.delete.as_ref(),
        }
    }

    /// The metadata operation a request addresses, read from `operations`:
    /// `method` and `path` relative to the server resource (`servers.show`),
    /// e.g. `/metadata/a%20b?x=1`. The key is percent-decoded; an empty key or
    /// one spanning segments addresses none.
    pub fn op_at(&self, method: &str, path: &str) -> Option<Op> {
        let path = path.split('?').next().unwrap_or_default();
        let ops = &self.file.operations;
        let routes: [(&Option<OpSpec>, MakeOp); 6] = [
            (&ops.list, |_| Op::List),
            (&ops.merge, |_| Op::Merge),
            (&ops.replace, |_| Op::Replace),
            (&ops.get, Op::Get),
            (&ops.set, Op::Set),
            (&ops.delete, Op::Delete),
        ];
        routes.into_iter().find_map(|(spec, make)| {
            let spec = spec.as_ref().filter(|s| s.method.as_str() == method)?;
            let relative = spec.path.strip_prefix(&self.file.servers.show)?;
            let Some((before, after)) = relative.split_once("{key}") else {
                return (relative == path).then(|| make(String::new()));
            };
            let key = path.strip_prefix(before)?.strip_suffix(after)?;
            if key.is_empty() || key.contains('/') {
                return None;
            }
            let key = percent_encoding::percent_decode_str(key).decode_utf8_lossy();
            Some(make(key.into_owned()))
        })
    }

    /// What the mock sends for a refused request of this kind.
    pub fn emit(&self, kind: OutcomeKind) -> (u16, Option<&str>) {
        match self.file.outcomes.value.get(&kind) {
            Some(spec) => (spec.value.emit.status, spec.value.emit.code.as_deref()),
            None => (500, None),
        }
    }

    /// The codes a real endpoint may answer for `kind` on `op`.
    pub fn accepted(&self, kind: OutcomeKind, op: Option<&Op>) -> Vec<u16> {
        if kind == OutcomeKind::Ok {
            return op
                .and_then(|op| self.op(op))
                .map(|spec| {
                    let mut codes = vec![spec.status];
                    codes.extend(&spec.also_accept);
                    codes
                })
                .unwrap_or_default();
        }
        self.file
            .outcomes
            .value
            .get(&kind)
            .map(|spec| spec.value.accept.clone())
            .unwrap_or_default()
    }

    /// The one answer the reference mock gives for `kind` on `op`: the
    /// operation's success status for `ok`, else the outcome's `emit`
    /// (status and error code). `None` where the request addresses no
    /// operation of the dialect.
    pub fn emitted(&self, kind: OutcomeKind, op: Option<&Op>) -> Option<(u16, Option<&str>)> {
        if kind == OutcomeKind::Ok {
            return op
                .and_then(|op| self.op(op))
                .map(|spec| (spec.status, None));
        }
        let spec = &self.file.outcomes.value.get(&kind)?.value.emit;
        Some((spec.status, spec.code.as_deref()))
    }

    pub fn error_shape(&self) -> ErrorShape {
        self.file.error_shape
    }

    /// Whether the dialect serves Nova's server tags: a Nova fault shape
    /// and microversions up to 2.26 or more (not legacy `/v2`).
    pub fn serves_tags(&self) -> bool {
        let rules = &self.rules;
        self.error_shape() == ErrorShape::NovaFault
            && !rules.legacy
            && rules
                .microversions
                .is_some_and(|(_, max)| max >= crate::model::tags::TAGS_FROM)
    }

    /// Whether a server can be brought to `state` through this API.
    pub fn reachable(&self, state: VmState) -> bool {
        !self.file.unreachable_states.contains(&state)
    }

    /// Whether `key` is system-owned (exact name or `prefix*` pattern).
    pub fn is_system_key(&self, key: &str) -> bool {
        self.file
            .system_keys
            .iter()
            .any(|pattern| match pattern.strip_suffix('*') {
                Some(prefix) => key.starts_with(prefix),
                None => key == pattern,
            })
    }
}

/// The ids of the built-in profiles.
pub fn builtin_ids() -> impl Iterator<Item = &'static str> {
    BUILTIN.iter().map(|(id, _)| *id)
}

/// A built-in profile by id.
pub fn builtin(id: &str) -> Result<Profile, Diagnostic> {
    let (_, text) = BUILTIN.iter().find(|(bid, _)| *bid == id).ok_or_else(|| {
        let known: Vec<&str> = builtin_ids().collect();
        Diagnostic::new(
            Path::new("--dialect"),
            0,
            0,
            format!("unknown dialect '{id}'"),
        )
        .with_help(format!(
            "use one of: {}, or pass a profile file",
            known.join(", ")
        ))
    })?;
    parse(Path::new(&format!("<builtin>/{id}.yaml")), text)
}

/// Load a dialect by id: a file `<dir>/<id>.yaml` wins over the built-in copy.
/// `id` may also be a path to a profile file.
pub fn resolve(id: &str, dir: Option<&Path>) -> Result<Profile, Diagnostic> {
    let as_path = Path::new(id);
    if id.ends_with(".yaml") || id.ends_with(".yml") {
        return load_file(as_path);
    }
    if let Some(dir) = dir {
        let candidate = dir.join(format!("{id}.yaml"));
        if candidate.is_file() {
            return load_file(&candidate);
        }
    }
    builtin(id)
}

/// Load and check a profile file.
pub fn load_file(path: &Path) -> Result<Profile, Diagnostic> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Diagnostic::new(path, 0, 0, format!("cannot read profile: {e}"))
            .with_help("check the path given to --dialect")
    })?;
    parse(path, &text)
}

/// Parse and check a profile from `text` (named `path` in errors).
pub fn parse(path: &Path, text: &str) -> Result<Profile, Diagnostic> {
    let file: ProfileFile =
        serde_saphyr::from_str(text).map_err(|e| Diagnostic::from_yaml(path, text, &e))?;
    check(&file, path, text)?;
    let rules = compile(&file, path, text)?;
    Ok(Profile {
        file,
        origin: path.to_path_buf(),
        rules,
    })
}

/// Cross-field checks serde cannot express.
fn check(file: &ProfileFile, path: &Path, text: &str) -> Result<(), Diagnostic> {
    let outcomes = &file.outcomes;
    for kind in OutcomeKind::ALL {
        if kind == OutcomeKind::Ok {
            continue;
        }
        if !outcomes.value.contains_key(&kind) {
            return Err(Diagnostic::at(
                path,
                text,
                &outcomes.referenced,
                format!("outcome '{kind}' is not mapped"),
            )
            .with_help(format!(
                "add `{kind}: {{emit: {{status: N}}, accept: [N]}}` under `outcomes`"
            )));
        }
    }
    for (kind, spec) in &outcomes.value {
        if *kind == OutcomeKind::Ok {
            return Err(Diagnostic::at(
                path,
                text,
                &spec.referenced,
                "outcome 'ok' cannot be mapped here",
            )
            .with_help("success codes belong to each operation's `status`"));
        }
        if !spec.value.accept.contains(&spec.value.emit.status) {
            return Err(Diagnostic::at(
                path,
                text,
                &spec.referenced,
                format!(
                    "outcome '{kind}' emits {} but does not accept it",
                    spec.value.emit.status
                ),
            )
            .with_help(
                "the mock must conform to its own profile: add the emitted code to `accept`",
            ));
        }
    }
    if file.read_back.value == ReadBack::List && file.operations.list.is_none() {
        return Err(Diagnostic::at(
            path,
            text,
            &file.read_back.referenced,
            "read_back is `list` but there is no list operation",
        )
        .with_help("use `read_back: server-show`, or add `operations.list`"));
    }
    if let Some(range) = file
        .microversions
        .as_ref()
        .filter(|r| r.value.min > r.value.max)
    {
        return Err(Diagnostic::at(
            path,
            text,
            &range.referenced,
            "microversions: min is above max",
        ));
    }
    if file.keys.min_length > file.keys.max_length {
        return Err(
            Diagnostic::new(path, 0, 0, "keys: min_length is above max_length").with_source(text),
        );
    }
    Ok(())
}

fn compile(file: &ProfileFile, path: &Path, text: &str) -> Result<ApiRules, Diagnostic> {
    let bad_class = |what: &str, e: regex::Error| {
        Diagnostic::new(
            path,
            0,
            0,
            format!("{what} is not a valid character class: {e}"),
        )
        .with_source(text)
        .with_help("write the inside of a regex [...] class, e.g. `A-Za-z0-9 _:.\\-`")
    };
    let charset = CharSet::new(&file.keys.charset, file.keys.negated)
        .map_err(|e| bad_class("keys.charset", e))?;
    let forbidden = match &file.values.forbidden {
        Some(class) => {
            Some(CharSet::new(class, false).map_err(|e| bad_class("values.forbidden", e))?)
        }
        None => None,
    };
    let display_pattern = file.keys.display_pattern.clone().unwrap_or_else(|| {
        format!(
            "^{}{{{},{}}}$",
            charset.describe(),
            file.keys.min_length,
            file.keys.max_length
        )
    });
    Ok(ApiRules {
        metadata: MetadataRules {
            key: KeyRule {
                charset,
                min_len: file.keys.min_length,
                max_len: file.keys.max_length,
                unit: file.keys.unit,
                reject_blank: file.keys.reject_blank,
                final_newline: file.keys.final_newline,
                display_pattern,
            },
            value: ValueRule {
                max_len: file.values.max_length,
                unit: file.values.unit,
                forbidden,
            },
            quota: file.quota,
        },
        write_states: file.write_states.clone(),
        max_body_bytes: file.max_body_bytes,
        microversions: file
            .microversions
            .as_ref()
            .map(|r| (r.value.min, r.value.max)),
        legacy: file.legacy,
        strict_query_from: file.strict_query_from,
        blank_body_malformed: file.blank_body_malformed,
        latin1_paths: file.error_shape == ErrorShape::NovaFault,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    /// All built-in profiles, keyed by id (used by `--list-dialects` and tests).
    fn all_builtin() -> Result<BTreeMap<String, Profile>, Diagnostic> {
        builtin_ids()
            .map(|id| builtin(id).map(|p| (id.to_string(), p)))
            .collect()
    }

    #[test]
    fn raw_paths_map_to_the_dialects_operations() {
        let nova = builtin("nova").unwrap();
        assert_eq!(nova.op_at("POST", "/metadata"), Some(Op::Merge));
        assert_eq!(
            nova.op_at("PUT", "/metadata/a%20b"),
            Some(Op::Set("a b".into()))
        );
        assert_eq!(nova.op_at("DELETE", "/metadata"), None);
        assert_eq!(nova.op_at("GET", "/metadata/a/b"), None);
        assert_eq!(nova.op_at("GET", "/metadata/"), None);
        assert_eq!(nova.op_at("GET", "/metadata?x=1"), Some(Op::List));
        let v1 = builtin("ecs-v1").unwrap();
        assert_eq!(v1.op_at("GET", "/metadata"), None, "ecs-v1 has no list");
        assert_eq!(
            v1.op_at("DELETE", "/metadata/k"),
            Some(Op::Delete("k".into()))
        );
    }

    #[test]
    fn every_builtin_profile_loads() {
        let all = all_builtin().unwrap_or_else(|d| panic!("{d}"));
        assert_eq!(all.len(), 6);
        assert_eq!(all["nova"].rules.metadata.quota, Some(128));
        assert!(all["nova-legacy"].rules.legacy);
    }

    #[test]
    fn unknown_field_is_located() {
        let text = include_str!("../../cases/dialects/nova.yaml")
            .replace("quota: 128", "quota: 128\nquotta: 3");
        let err = parse(Path::new("x.yaml"), &text).expect_err("typo must fail");
        assert!(err.line > 0 && err.message.contains("quotta"), "{err}");
    }

    #[test]
    fn emitted_code_must_be_accepted() {
        let text = include_str!("../../cases/dialects/nova.yaml")
            .replace("locked:                   {emit: {status: 409, code: conflictingRequest}, accept: [409]}",
                     "locked:                   {emit: {status: 409, code: conflictingRequest}, accept: [400]}");
        let err = parse(Path::new("x.yaml"), &text).expect_err("contradiction must fail");
        assert!(err.message.contains("does not accept"), "{err}");
    }
}
