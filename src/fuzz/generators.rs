//! Proptest strategies for metadata keys, values and maps, parameterised by a
//! dialect [`Profile`]: every charset and limit is read from
//! `profile.rules`, none is written here.
//!
//! What each generator covers:
//! - keys ([`key`]): the dialect's allowed characters, each forbidden ASCII
//!   character, control characters, whitespace at the start, middle and end,
//!   non-ASCII letters and digits, combining marks and characters outside the
//!   BMP; lengths clustered at min-1, min, min+1, max-1, max and max+1, counted
//!   in characters *and* in UTF-8 bytes (whatever unit the dialect uses);
//! - values ([`value`]): the same character classes and boundaries for the
//!   value rule, multi-byte fillers (2, 3, 4 bytes) so character and byte
//!   counts differ, plus non-string JSON values (numbers, booleans, null,
//!   arrays, objects);
//! - maps ([`map`]): 0 to quota+2 items, with the sizes around the quota
//!   (quota-1 .. quota+2) weighted up.
//!
//! The generators never decide whether a string is valid: the expected
//! outcome always comes from [`crate::model::pipeline::decide`].

use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{Map, Value};

use crate::model::rules::{CharSet, KeyRule, ValueRule};
use crate::profile::Profile;

/// Non-ASCII characters, one table per class (the classes a charset rule can
/// get wrong). Whether each is allowed is asked of the profile's charset.
pub const NON_ASCII_LETTERS: &[char] = &['é', 'ß', 'Ж', '中', 'ａ', 'Ω'];
pub const NON_ASCII_DIGITS: &[char] = &['٣', '５', '²', '߂'];
pub const COMBINING_MARKS: &[char] = &['\u{0301}', '\u{0308}', '\u{20DD}'];
pub const OUTSIDE_BMP: &[char] = &['😀', '𝒜', '𐍈', '\u{10FFFD}'];
pub const CONTROLS: &[char] = &['\0', '\t', '\n', '\r', '\u{1b}', '\u{7f}', '\u{85}'];
pub const WHITESPACE: &[char] = &[' ', '\t', '\u{a0}', '\u{2028}', '\u{3000}'];
/// Fillers whose UTF-8 length is 2, 3 and 4 bytes: a value made of them has
/// far more bytes than characters.
pub const MULTI_BYTE: &[char] = &['é', '中', '😀'];

/// Where a special character goes in a generated string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position {
    Start,
    Middle,
    End,
}

/// How a target length is counted while building a string (independent of
/// the dialect's unit, so both kinds of boundary are exercised).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    Chars,
    Bytes,
}

impl Measure {
    fn of(self, s: &str) -> usize {
        match self {
            Measure::Chars => s.chars().count(),
            Measure::Bytes => s.len(),
        }
    }
}

/// The characters of one charset rule, split for generation.
#[derive(Debug, Clone)]
pub struct Alphabet {
    /// ASCII characters (0x00-0x7F) the set contains.
    pub allowed_ascii: Vec<char>,
    /// Printable ASCII characters (0x20-0x7E) the set does not contain.
    pub forbidden_ascii: Vec<char>,
    /// Non-ASCII characters of the tables above that the set contains.
    pub allowed_other: Vec<char>,
}

impl Alphabet {
    /// Split `charset` (an allow-list or a deny-list) into the classes used
    /// for generation.
    pub fn of(charset: &CharSet) -> Alphabet {
        let ascii = (0u8..0x80).map(char::from);
        let allowed_ascii: Vec<char> = ascii.clone().filter(|&c| charset.contains(c)).collect();
        let forbidden_ascii = (0x20u8..0x7f)
            .map(char::from)
            .filter(|&c| !charset.contains(c))
            .collect();
        let allowed_other = all_non_ascii().filter(|&c| charset.contains(c)).collect();
        Alphabet {
            allowed_ascii,
            forbidden_ascii,
            allowed_other,
        }
    }

    /// Allowed ASCII letters and digits: the safest filler.
    pub fn alphanumerics(&self) -> Vec<char> {
        self.allowed_ascii
            .iter()
            .copied()
            .filter(char::is_ascii_alphanumeric)
            .collect()
    }

    /// Every allowed character the tables know, ASCII printable first.
    pub fn allowed(&self) -> Vec<char> {
        let printable = self
            .allowed_ascii
            .iter()
            .copied()
            .filter(|c| !c.is_control());
        printable
            .chain(self.allowed_other.iter().copied())
            .collect()
    }
}

fn all_non_ascii() -> impl Iterator<Item = char> + Clone {
    [
        NON_ASCII_LETTERS,
        NON_ASCII_DIGITS,
        COMBINING_MARKS,
        OUTSIDE_BMP,
        &['\u{85}', '\u{a0}', '\u{2028}', '\u{3000}'],
    ]
    .into_iter()
    .flatten()
    .copied()
}

/// The character class a generated string is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CharClass {
    /// Only characters the rule allows.
    Allowed,
    ForbiddenAscii,
    Control,
    Whitespace,
    NonAsciiLetter,
    NonAsciiDigit,
    Combining,
    OutsideBmp,
}

/// Lengths around every boundary of `min..=max`, plus a few short ones.
pub fn boundary_lengths(min: usize, max: usize) -> Vec<usize> {
    let mut out = vec![
        min.saturating_sub(1),
        min,
        min + 1,
        max.saturating_sub(1),
        max,
        max + 1,
        1,
        2,
        3,
        5,
        8,
    ];
    out.sort_unstable();
    out.dedup();
    out
}

/// Repeat `pattern` until the string measures `target` in `measure`; in
/// bytes, stop before overshooting and pad with `pad` (a one-byte
/// character) when there is one.
pub fn fill(pattern: &[char], target: usize, measure: Measure, pad: Option<char>) -> String {
    let mut out = String::new();
    if pattern.is_empty() {
        return out;
    }
    for &c in pattern.iter().cycle() {
        if measure.of(&out) >= target {
            break;
        }
        let mut next = out.clone();
        next.push(c);
        if measure.of(&next) > target {
            break;
        }
        out = next;
    }
    if let Some(pad) = pad.filter(|p| p.len_utf8() == 1) {
        while measure.of(&out) < target {
            out.push(pad);
        }
    }
    out
}

/// Put `special` into `s` at `at`, replacing a character (so the character
/// count stays) or appending to an empty string.
pub fn inject(s: &str, special: char, at: Position) -> String {
    let mut chars: Vec<char> = s.chars().collect();
    if chars.is_empty() {
        return special.to_string();
    }
    let index = match at {
        Position::Start => 0,
        Position::Middle => chars.len() / 2,
        Position::End => chars.len() - 1,
    };
    chars[index] = special;
    chars.into_iter().collect()
}

fn position() -> impl Strategy<Value = Position> {
    prop_oneof![
        Just(Position::Start),
        Just(Position::Middle),
        Just(Position::End)
    ]
}

fn measure() -> impl Strategy<Value = Measure> {
    prop_oneof![Just(Measure::Chars), Just(Measure::Bytes)]
}

/// A string of `pool` characters whose length (in characters or bytes) sits
/// on one of `lengths`, optionally with one character of `specials` at some
/// position.
fn text(
    pool: Vec<char>,
    pad: Option<char>,
    lengths: Vec<usize>,
    specials: Vec<char>,
) -> BoxedStrategy<String> {
    if pool.is_empty() {
        return Just(String::new()).boxed();
    }
    let pattern = prop::collection::vec(select(pool), 1..4);
    let special = if specials.is_empty() {
        Just(None).boxed()
    } else {
        (select(specials), position()).prop_map(Some).boxed()
    };
    (pattern, select(lengths), measure(), special)
        .prop_map(move |(pattern, len, measure, special)| {
            let base = fill(&pattern, len, measure, pad);
            match special {
                Some((c, at)) => inject(&base, c, at),
                None => base,
            }
        })
        .boxed()
}

/// Characters of `class` for a rule with this alphabet.
pub fn specials_of(class: CharClass, alphabet: &Alphabet) -> Vec<char> {
    match class {
        CharClass::Allowed => Vec::new(),
        CharClass::ForbiddenAscii => alphabet.forbidden_ascii.clone(),
        CharClass::Control => CONTROLS.to_vec(),
        CharClass::Whitespace => WHITESPACE.to_vec(),
        CharClass::NonAsciiLetter => NON_ASCII_LETTERS.to_vec(),
        CharClass::NonAsciiDigit => NON_ASCII_DIGITS.to_vec(),
        CharClass::Combining => COMBINING_MARKS.to_vec(),
        CharClass::OutsideBmp => OUTSIDE_BMP.to_vec(),
    }
}

/// Every class, for iteration in property checks.
pub const CHAR_CLASSES: [CharClass; 8] = [
    CharClass::Allowed,
    CharClass::ForbiddenAscii,
    CharClass::Control,
    CharClass::Whitespace,
    CharClass::NonAsciiLetter,
    CharClass::NonAsciiDigit,
    CharClass::Combining,
    CharClass::OutsideBmp,
];

/// Keys of one character class, lengths at the key rule's boundaries.
pub fn key_of_class(rule: &KeyRule, class: CharClass) -> BoxedStrategy<String> {
    let alphabet = Alphabet::of(&rule.charset);
    let pool = alphabet.allowed();
    let pad = alphabet.alphanumerics().first().copied();
    let lengths = boundary_lengths(rule.min_len, rule.max_len);
    text(pool, pad, lengths, specials_of(class, &alphabet))
}

/// Keys from every class, allowed ones weighted up.
pub fn key(profile: &Profile) -> BoxedStrategy<String> {
    let rule = &profile.rules.metadata.key;
    let classes: Vec<(u32, BoxedStrategy<String>)> = CHAR_CLASSES
        .iter()
        .map(|&class| {
            let weight = if class == CharClass::Allowed { 8 } else { 1 };
            (weight, key_of_class(rule, class))
        })
        .collect();
    proptest::strategy::Union::new_weighted(classes).boxed()
}

/// Short keys of allowed characters only (for setup and bulk maps).
pub fn plain_key(profile: &Profile) -> BoxedStrategy<String> {
    let rule = &profile.rules.metadata.key;
    let alphabet = Alphabet::of(&rule.charset);
    let pool = alphabet.alphanumerics();
    let min = rule.min_len.max(1);
    let max = rule.max_len.min(min + 6).max(min);
    prop::collection::vec(select_or_empty(pool), min..=max)
        .prop_map(|chars| chars.into_iter().flatten().collect())
        .boxed()
}

fn select_or_empty(pool: Vec<char>) -> BoxedStrategy<Option<char>> {
    if pool.is_empty() {
        Just(None).boxed()
    } else {
        select(pool).prop_map(Some).boxed()
    }
}

/// String values of one class, lengths at the value rule's boundaries.
pub fn value_text_of_class(rule: &ValueRule, class: CharClass) -> BoxedStrategy<String> {
    let printable: Vec<char> = (0x20u8..0x7f).map(char::from).collect();
    let lengths = boundary_lengths(0, rule.max_len);
    let ascii = text(printable.clone(), Some('x'), lengths.clone(), Vec::new());
    let wide = text(MULTI_BYTE.to_vec(), Some('x'), lengths.clone(), Vec::new());
    let base = prop_oneof![ascii, wide];
    let specials = match class {
        CharClass::Allowed => return base.boxed(),
        CharClass::ForbiddenAscii => printable,
        other => specials_of(other, &Alphabet::of_empty()),
    };
    (base, select(specials), position())
        .prop_map(|(s, c, at)| inject(&s, c, at))
        .boxed()
}

impl Alphabet {
    fn of_empty() -> Alphabet {
        Alphabet {
            allowed_ascii: Vec::new(),
            forbidden_ascii: Vec::new(),
            allowed_other: Vec::new(),
        }
    }
}

/// JSON values that are not strings, at every nesting level a schema can
/// get wrong.
pub fn non_string_json() -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (-1.0e300f64..1.0e300).prop_map(Value::from),
        Just(Value::from(u64::MAX)),
    ];
    leaf.prop_recursive(3, 8, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            prop::collection::btree_map("[a-z]{1,3}", inner, 0..3)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<String, Value>>())),
        ]
    })
    .boxed()
}

/// Metadata values: strings of every class (mostly allowed) and, rarely,
/// non-string JSON.
pub fn value(profile: &Profile) -> BoxedStrategy<Value> {
    let rule = &profile.rules.metadata.value;
    let mut arms: Vec<(u32, BoxedStrategy<Value>)> = CHAR_CLASSES
        .iter()
        .map(|&class| {
            let weight = if class == CharClass::Allowed { 10 } else { 1 };
            let strategy = value_text_of_class(rule, class)
                .prop_map(Value::String)
                .boxed();
            (weight, strategy)
        })
        .collect();
    arms.push((2, non_string_json()));
    proptest::strategy::Union::new_weighted(arms).boxed()
}

/// Keys sitting exactly on the key rule's boundaries: min-1, max and max+1
/// characters of an allowed ASCII character, and, where the charset allows
/// a multi-byte character, max characters of it and the byte-count
/// boundary (max bytes and max+1 bytes).
pub fn boundary_keys(rule: &KeyRule) -> Vec<String> {
    let alphabet = Alphabet::of(&rule.charset);
    let mut out = Vec::new();
    if let Some(&c) = alphabet.alphanumerics().first() {
        for n in [
            rule.min_len.saturating_sub(1),
            rule.max_len,
            rule.max_len + 1,
        ] {
            out.push(c.to_string().repeat(n));
        }
    }
    if let Some(&wide) = alphabet.allowed_other.iter().find(|c| c.len_utf8() > 1) {
        let pad = alphabet.alphanumerics().first().copied();
        out.push(wide.to_string().repeat(rule.max_len));
        out.push(fill(&[wide], rule.max_len, Measure::Bytes, pad));
        out.push(fill(&[wide], rule.max_len + 1, Measure::Bytes, pad));
    }
    out
}

/// Values sitting exactly on the value rule's boundaries, in characters and
/// in bytes: empty, max and max+1 ASCII characters, max and max+1
/// characters of each multi-byte filler, and values whose *byte* length is
/// just over max while their character count is well under it.
pub fn boundary_values(rule: &ValueRule) -> Vec<String> {
    let max = rule.max_len;
    let mut out = vec![String::new(), "x".repeat(max), "x".repeat(max + 1)];
    for &wide in MULTI_BYTE {
        out.push(wide.to_string().repeat(max));
        out.push(wide.to_string().repeat(max + 1));
        out.push(fill(&[wide], max + 1, Measure::Bytes, Some('x')));
    }
    out
}

/// Short plain string values (for bulk maps and concurrency).
pub fn plain_value() -> BoxedStrategy<String> {
    "[a-z0-9]{0,6}".boxed()
}

/// Item counts for a map: small ones, and every count around the quota.
pub fn map_sizes(profile: &Profile) -> Vec<usize> {
    let mut sizes = vec![0, 1, 2, 3];
    if let Some(q) = profile.rules.metadata.quota {
        sizes.extend([q.saturating_sub(1), q, q + 1, q + 2]);
    }
    sizes.sort_unstable();
    sizes.dedup();
    sizes
}

/// The `i`-th bulk key: a fixed-width name over the allowed alphanumerics,
/// distinct for distinct `i`, `tag` first so bulk keys of different maps
/// differ.
pub fn bulk_key(alphabet: &[char], tag: char, i: usize, width: usize) -> String {
    let base = alphabet.len().max(1);
    let mut digits = Vec::with_capacity(width);
    let mut n = i;
    for _ in 0..width {
        digits.push(alphabet.get(n % base).copied().unwrap_or(tag));
        n /= base;
    }
    digits.reverse();
    std::iter::once(tag).chain(digits).collect()
}

/// Metadata maps of 0 to quota+2 items: either a few generated entries (any
/// class), or a bulk map of quota-1 .. quota+2 items (all entries valid, so
/// the count is what decides), sometimes with one generated entry in place
/// of a bulk one.
pub fn map(profile: &Profile) -> BoxedStrategy<Map<String, Value>> {
    let small = prop::collection::vec((key(profile), value(profile)), 0..4)
        .prop_map(|entries| entries.into_iter().collect::<Map<String, Value>>());
    prop_oneof![small, bulk_map(profile)].boxed()
}

/// Maps of quota-1 .. quota+2 valid items (0..3 without a quota), sometimes
/// with one generated entry in place of a bulk one.
pub fn bulk_map(profile: &Profile) -> BoxedStrategy<Map<String, Value>> {
    let rule = &profile.rules.metadata.key;
    let alphabet = Alphabet::of(&rule.charset).alphanumerics();
    let sizes: Vec<usize> = match profile.rules.metadata.quota {
        Some(q) => map_sizes(profile)
            .into_iter()
            .filter(|&n| n + 1 >= q)
            .collect(),
        None => map_sizes(profile),
    };
    let tag = select_or_empty(alphabet.clone());
    let max_width = rule_max(rule);
    let odd_one = prop::option::weighted(0.3, (key(profile), value(profile)));
    (select(sizes), tag, plain_value(), odd_one)
        .prop_map(move |(size, tag, bulk_value, odd_one)| {
            let tag = tag.unwrap_or('k');
            let width = bulk_width(alphabet.len(), size, max_width);
            let mut map = Map::new();
            let mut i = 0;
            while map.len() < size && i < size * 2 + 8 {
                let k = bulk_key(&alphabet, tag, i, width);
                map.entry(k)
                    .or_insert_with(|| Value::String(bulk_value.clone()));
                i += 1;
            }
            if let (Some((k, v)), Some(first)) = (odd_one, map.keys().next().cloned()) {
                map.remove(&first);
                map.insert(k, v);
            }
            map
        })
        .boxed()
}

fn rule_max(rule: &KeyRule) -> usize {
    rule.max_len.saturating_sub(1).max(1)
}

/// Digits needed to name `count` keys over `base` symbols, capped so the
/// key (tag + digits) stays within the rule's maximum.
fn bulk_width(base: usize, count: usize, max: usize) -> usize {
    let base = base.max(2);
    let mut width = 1;
    let mut capacity = base;
    while capacity < count * 2 + 8 && width < max {
        width += 1;
        capacity = capacity.saturating_mul(base);
    }
    width
}

/// Swap the case of every ASCII letter whose swapped form the charset also
/// allows (`Key` → `kEY`): the keys a case-insensitive store confuses.
pub fn case_variant(key: &str, charset: &CharSet) -> String {
    key.chars()
        .map(|c| {
            let swapped = if c.is_ascii_lowercase() {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            };
            if charset.contains(swapped) {
                swapped
            } else {
                c
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::test_runner::TestRunner;

    fn nova() -> Profile {
        crate::profile::builtin("nova").expect("nova profile")
    }

    #[test]
    fn nova_alphabet_has_the_67_characters() {
        let p = nova();
        let a = Alphabet::of(&p.rules.metadata.key.charset);
        assert_eq!(a.allowed_ascii.len(), 67);
        assert!(a.forbidden_ascii.contains(&'/') && !a.forbidden_ascii.contains(&' '));
        assert!(a.allowed_other.is_empty());
    }

    #[test]
    fn negated_charset_allows_non_ascii() {
        let p = crate::profile::builtin("bms-os").expect("bms-os");
        let a = Alphabet::of(&p.rules.metadata.key.charset);
        assert!(a.allowed_other.contains(&'é'));
        assert!(a.forbidden_ascii.contains(&':'));
    }

    #[test]
    fn fill_hits_byte_and_char_targets() {
        assert_eq!(fill(&['é'], 255, Measure::Chars, Some('a')).len(), 510);
        let s = fill(&['é'], 255, Measure::Bytes, Some('a'));
        assert_eq!(s.len(), 255);
        assert_eq!(s.chars().count(), 128);
        assert_eq!(fill(&['😀'], 3, Measure::Bytes, None), "");
    }

    #[test]
    fn keys_reach_every_boundary_in_both_units() {
        let p = nova();
        let strategy = key_of_class(&p.rules.metadata.key, CharClass::Allowed);
        let mut runner = TestRunner::deterministic();
        let mut lengths = std::collections::BTreeSet::new();
        for _ in 0..2000 {
            let k = strategy.new_tree(&mut runner).expect("tree").current();
            lengths.insert(k.chars().count());
        }
        for want in [0, 1, 2, 254, 255, 256] {
            assert!(lengths.contains(&want), "length {want} never generated");
        }
    }

    #[test]
    fn maps_reach_quota_plus_one() {
        let p = nova();
        let strategy = map(&p);
        let mut runner = TestRunner::deterministic();
        let mut sizes = std::collections::BTreeSet::new();
        for _ in 0..300 {
            sizes.insert(
                strategy
                    .new_tree(&mut runner)
                    .expect("tree")
                    .current()
                    .len(),
            );
        }
        for want in [0, 127, 128, 129, 130] {
            assert!(
                sizes.contains(&want),
                "size {want} never generated: {sizes:?}"
            );
        }
    }

    #[test]
    fn bulk_keys_are_distinct_and_valid() {
        let p = nova();
        let rule = &p.rules.metadata.key;
        let alphabet = Alphabet::of(&rule.charset).alphanumerics();
        let keys: std::collections::BTreeSet<String> =
            (0..200).map(|i| bulk_key(&alphabet, 'q', i, 2)).collect();
        assert_eq!(keys.len(), 200);
        assert!(keys.iter().all(|k| rule.check(k).is_ok()));
    }

    #[test]
    fn case_variant_respects_the_charset() {
        let p = nova();
        assert_eq!(
            case_variant("Key-1", &p.rules.metadata.key.charset),
            "kEY-1"
        );
    }
}
