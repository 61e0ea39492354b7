//! Which spec rules the catalogue checks: the list of rule sections (spec
//! §2.1-§6.2) and a count of cases per section, for `run --coverage`.

use std::collections::BTreeMap;

use super::loader::LoadedCase;

/// One rule section of `metadata-api.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// `"2.1"`.
    pub section: &'static str,
    /// One line saying what it rules.
    pub title: &'static str,
}

const fn rule(section: &'static str, title: &'static str) -> Rule {
    Rule { section, title }
}

/// Every rule section of spec §2-§6; each must have at least one case.
pub const RULES: &[Rule] = &[
    rule(
        "2.1",
        "Nova key rule: 67-character set, 1-255 characters, spaces kept",
    ),
    rule(
        "2.2",
        "Key/value rules per dialect: charsets, lengths, value type, empty maps, max items",
    ),
    rule(
        "2.3",
        "Lengths count code points, not bytes (multibyte boundaries)",
    ),
    rule(
        "2.4",
        "Body shape: wrappers, null/array bodies, extra members, meta with 1 entry, bad JSON",
    ),
    rule(
        "2.5",
        "Quota: per-server item count, limit accepted, limit + 1 refused, per operation",
    ),
    rule(
        "2.6",
        "Request body size limit (113 KiB) and its interaction with quota tests",
    ),
    rule("2.7", "Huawei reserved and system keys are never dropped"),
    rule(
        "3.1",
        "Reference model: merge, replace, set, get, delete, list and their responses",
    ),
    rule(
        "3.2",
        "Per-key edge rules: URI/body mismatch, zero or two keys, delete not idempotent",
    ),
    rule("3.3", "Keys are case- and whitespace-sensitive"),
    rule(
        "3.4",
        "Other writers: rebuild with metadata replaces the map",
    ),
    rule(
        "4.1",
        "Writes allowed only in active/paused/suspended/stopped; reads never gated",
    ),
    rule(
        "4.2",
        "Reaching states through server actions; lock and unlock",
    ),
    rule(
        "4.3",
        "The 409 cases: locked for non-admins, disallowed vm_state; admins bypass locks",
    ),
    rule("4.4", "Order of checks and its consequences"),
    rule("5.1", "Status codes per operation and condition"),
    rule("5.2", "Nova fault body, 401 and unrouted 404 bodies"),
    rule("5.3", "Exact Nova messages"),
    rule("5.4", "413 for oversized bodies, 415 for other media types"),
    rule("5.5", "Huawei error shapes and codes"),
    rule("5.6", "Reference expectations of Tempest and interop"),
    rule(
        "6.1",
        "Legacy /v2: extra members stripped, version headers ignored, no query schema",
    ),
    rule(
        "6.2",
        "Microversion headers, negotiation, 2.102 query rule, Huawei ceiling",
    ),
];

/// Sections a case may name besides the rules: the operations matrix (§1)
/// and the appendix on ECS v1 automatic recovery (§9, no subsections).
pub const CONTEXT_SECTIONS: &[&str] = &["1.1", "1.2", "1.3", "1.4", "1.5", "9"];

/// Whether a case may name `section` in `spec:`.
pub fn is_known_section(section: &str) -> bool {
    RULES.iter().any(|r| r.section == section) || CONTEXT_SECTIONS.contains(&section)
}

/// Cases per spec section: every rule section (0 when none checks it) and
/// any other section a case names.
pub fn coverage(cases: &[LoadedCase]) -> BTreeMap<String, usize> {
    let mut counts: BTreeMap<String, usize> =
        RULES.iter().map(|r| (r.section.to_string(), 0)).collect();
    for loaded in cases {
        *counts.entry(loaded.case.spec.clone()).or_insert(0) += 1;
    }
    counts
}

/// The rules no case checks.
pub fn missing(counts: &BTreeMap<String, usize>) -> Vec<Rule> {
    RULES
        .iter()
        .filter(|r| counts.get(r.section).copied().unwrap_or(0) == 0)
        .copied()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_sections_are_unique_and_ordered() {
        let sections: Vec<&str> = RULES.iter().map(|r| r.section).collect();
        let mut sorted = sections.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sections, sorted);
        assert!(is_known_section("4.4"));
        assert!(is_known_section("1.3"));
        assert!(!is_known_section("2.9"));
        assert!(!is_known_section("7.1"));
    }

    #[test]
    fn empty_catalogue_misses_every_rule() {
        let counts = coverage(&[]);
        assert_eq!(counts.len(), RULES.len());
        assert_eq!(missing(&counts).len(), RULES.len());
    }
}
