//! Which cases (and property trials) a run selects: the id filter and
//! `--skip` (substring, or the whole id with `--exact`, as libtest), `--area`
//! and `--tag`. Repeating `--area` or `--tag` widens that filter (any of the
//! names); different filters narrow each other (all must hold). An unknown
//! area is a usage error, and an empty selection is said in words that name
//! the filters, so a typo never passes as a green run.

use std::collections::BTreeSet;

use super::loader::LoadedCase;

/// The filters of one run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// Ids containing this (or equal to it with `exact`).
    pub filter: Option<String>,
    pub exact: bool,
    /// Ids containing any of these (or equal, with `exact`) are left out.
    pub skip: Vec<String>,
    /// Only these areas (the case's first folder; `prop` for the trials).
    pub areas: Vec<String>,
    /// Only cases carrying one of these tags (`property` for the trials).
    pub tags: Vec<String>,
}

/// `--area` names an area no loaded case has.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("--area {name}: no case has this area; the areas are: {}", known.join(", "))]
pub struct UnknownArea {
    pub name: String,
    pub known: Vec<String>,
}

impl Selection {
    /// Whether a case or trial with this id, area and tags is selected.
    pub fn matches(&self, id: &str, area: &str, tags: &[String]) -> bool {
        let hit = |pattern: &str| {
            if self.exact {
                id == pattern
            } else {
                id.contains(pattern)
            }
        };
        self.filter.as_deref().is_none_or(hit)
            && !self.skip.iter().any(|s| hit(s))
            && (self.areas.is_empty() || self.areas.iter().any(|a| a == area))
            && (self.tags.is_empty() || self.tags.iter().any(|t| tags.contains(t)))
    }

    /// The selected cases, in their order.
    pub fn select(&self, cases: Vec<LoadedCase>) -> Vec<LoadedCase> {
        cases
            .into_iter()
            .filter(|c| self.matches(&c.case.id, &c.area, &c.case.tags))
            .collect()
    }

    /// Each `--area` must name an area of `known` (the loaded cases' areas
    /// and the trials' `prop`).
    pub fn check_areas(&self, known: &BTreeSet<String>) -> Result<(), UnknownArea> {
        match self.areas.iter().find(|a| !known.contains(*a)) {
            None => Ok(()),
            Some(name) => Err(UnknownArea {
                name: name.clone(),
                known: known.iter().cloned().collect(),
            }),
        }
    }

    /// Whether any filter is set.
    pub fn is_filtered(&self) -> bool {
        self.filter.is_some()
            || !self.skip.is_empty()
            || !self.areas.is_empty()
            || !self.tags.is_empty()
    }

    /// The filters in words: `filter 'x' (exact), --skip y, --area charset`.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(f) = &self.filter {
            let exact = if self.exact { " (exact)" } else { "" };
            parts.push(format!("filter '{f}'{exact}"));
        }
        parts.extend(self.skip.iter().map(|s| format!("--skip {s}")));
        parts.extend(self.areas.iter().map(|a| format!("--area {a}")));
        parts.extend(self.tags.iter().map(|t| format!("--tag {t}")));
        if parts.is_empty() {
            "no filter".to_string()
        } else {
            parts.join(", ")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(list: &[&str]) -> Vec<String> {
        list.iter().map(|t| t.to_string()).collect()
    }

    #[test]
    fn filter_skip_area_and_tag_narrow_each_other() {
        let s = Selection {
            filter: Some("charset".into()),
            skip: vec!["colon".into()],
            areas: vec!["charset".into(), "lengths".into()],
            tags: vec!["nova".into(), "tempest".into()],
            ..Selection::default()
        };
        assert!(s.matches("charset.space.1", "charset", &tags(&["tempest"])));
        assert!(!s.matches("charset.colon.1", "charset", &tags(&["tempest"])));
        assert!(!s.matches("charset.space.1", "quota", &tags(&["tempest"])));
        assert!(!s.matches("charset.space.1", "charset", &tags(&["huawei"])));
        assert!(!s.matches("lengths.key.1", "lengths", &tags(&["nova"])));
        assert!(Selection::default().matches("anything", "", &[]));
    }

    #[test]
    fn exact_compares_whole_ids() {
        let s = Selection {
            filter: Some("a.b".into()),
            exact: true,
            ..Selection::default()
        };
        assert!(s.matches("a.b", "x", &[]));
        assert!(!s.matches("a.b.c", "x", &[]));
    }

    #[test]
    fn unknown_area_names_the_known_ones() {
        let known: BTreeSet<String> = ["charset".to_string(), "prop".to_string()].into();
        let s = Selection {
            areas: vec!["charset".into(), "chraset".into()],
            ..Selection::default()
        };
        let e = s.check_areas(&known).unwrap_err();
        assert_eq!(
            e.to_string(),
            "--area chraset: no case has this area; the areas are: charset, prop"
        );
    }

    #[test]
    fn describe_names_every_filter() {
        let s = Selection {
            filter: Some("x".into()),
            exact: true,
            skip: vec!["y".into()],
            areas: vec!["charset".into()],
            tags: vec!["t".into()],
        };
        assert_eq!(
            s.describe(),
            "filter 'x' (exact), --skip y, --area charset, --tag t"
        );
        assert_eq!(Selection::default().describe(), "no filter");
    }
}
