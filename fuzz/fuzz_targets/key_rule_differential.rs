//! Differential check of the dialect key validators: the profile-driven
//! `KeyRule` (a regex character class compiled from the profile) against
//! independently written, char-by-char formulations of the same rules from
//! the spec (§2.1 Nova's 67 characters, §2.2 the strict ECS set and the
//! bms-os blacklist), lengths counted in Unicode scalar values.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use metaconform::model::rules::KeyRule;

fn rule(id: &str) -> KeyRule {
    match metaconform::profile::builtin(id) {
        Ok(p) => p.rules.metadata.key,
        Err(d) => panic!("built-in profile {id} does not load: {d}"),
    }
}

fn rules() -> &'static [(KeyRule, fn(&str) -> bool); 3] {
    static RULES: OnceLock<[(KeyRule, fn(&str) -> bool); 3]> = OnceLock::new();
    RULES.get_or_init(|| {
        [
            (rule("nova"), nova_by_hand as fn(&str) -> bool),
            (rule("ecs-v1"), ecs_strict_by_hand),
            (rule("bms-os"), bms_os_by_hand),
        ]
    })
}

fn length_ok(key: &str) -> bool {
    (1..=255).contains(&key.chars().count())
}

/// §2.1: space, '-', '.', 0-9, ':', A-Z, '_', a-z; 1-255 characters; then
/// at most one "\n", which Python's `$` lets through (issue 8, measured on
/// Nova 34).
fn nova_by_hand(key: &str) -> bool {
    let key = key.strip_suffix('\n').unwrap_or(key);
    length_ok(key)
        && key.chars().all(|c| {
            c == ' '
                || c == '-'
                || c == '.'
                || c == ':'
                || c == '_'
                || c.is_ascii_digit()
                || c.is_ascii_uppercase()
                || c.is_ascii_lowercase()
        })
}

/// §2.2 "ecs strict": Nova's set without the space; not blank.
fn ecs_strict_by_hand(key: &str) -> bool {
    length_ok(key)
        && key.chars().all(|c| c != ' ' && c != '\n' && nova_by_hand(&c.to_string()))
        && !key.chars().all(char::is_whitespace)
}

/// §2.2 bms-os: any character except 29 ASCII punctuation characters.
fn bms_os_by_hand(key: &str) -> bool {
    const FORBIDDEN: &str = ":`~!@#$%^&*()=+<,>?/'\";{[]}|\\";
    length_ok(key) && key.chars().all(|c| !FORBIDDEN.contains(c))
}

fuzz_target!(|key: String| {
    for (rule, by_hand) in rules() {
        let model = rule.check(&key).is_ok();
        let expected = by_hand(&key);
        assert_eq!(
            model, expected,
            "key {key:?}: model says {model}, hand-written rule says {expected} ({})",
            rule.display_pattern
        );
    }
});
