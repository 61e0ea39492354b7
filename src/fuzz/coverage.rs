//! The coverage phase: what a campaign sends before its first random
//! sequence.
//!
//! Six input dimensions, each value a class of input a dialect's rules
//! treat alike:
//! - [`Operation`]: every metadata write and read the profile serves;
//! - [`Place`]: where the generated text sits (a key in the body, a key in
//!   the URL, a value);
//! - [`Length`] and [`Measure`], one dimension: empty, 1, max−1, max, max+1
//!   and far over in characters (ASCII filler), and max−1, max and max+1 in
//!   UTF-8 bytes (multi-byte filler), of the rule the text falls under (one
//!   dimension, so every place meets max+1 characters: a length bug needs
//!   the place, the length and the unit together);
//! - [`CharClass`] and [`Position`]: one special character of a class
//!   (forbidden ASCII, control, whitespace, non-ASCII letter or digit,
//!   combining mark, outside the BMP) at the start, middle or end;
//! - [`JsonShape`]: a plain string, a value of another JSON type, or one of
//!   the raw-body [`Mutation`]s (duplicate members, a `\u` escape that is
//!   not a scalar value, deep nesting, huge numbers, wrong types, trailing
//!   bytes, invalid UTF-8, truncation).
//!
//! [`crate::fuzz::covering::pairwise`] picks inputs so that every pair of
//! values that can meet does meet once; [`plan`] orders them cheapest first
//! (fewest requests, then smallest body) and [`sequences`] packs them into
//! sequences the campaign runs like any other. The expected answer is never
//! decided here: the model judges every step, as in the random phase.
//!
//! Route families: a campaign addresses one dialect's routes (its
//! profile), so the operation dimension covers the routes of that profile;
//! another family (`/v2`, project-less) is another `--dialect`.

use serde_json::{Map, Value, json};

use crate::cases::format::Identity;
use crate::model::body::Wrapper;
use crate::model::pipeline::Op;
use crate::model::server::ServerAction;
use crate::profile::Profile;

use super::covering::{Cell, pairwise};
use super::generators::{
    Alphabet, CHAR_CLASSES, CharClass, MULTI_BYTE, Measure, Position, bulk_key, fill, inject,
    specials_of,
};
use super::mutate::{self, Mutation, MutationInput};
use super::stateful::Shape;
use super::step::{Body, Call, ServerPick, Step, meta_body, metadata_body, url_addressable};

/// A metadata operation with an input to cover.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Merge,
    Replace,
    Set,
    Get,
    Delete,
}

/// Where the generated text goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    BodyKey,
    UrlKey,
    Value,
}

/// The length class of the generated text, against its rule's limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Length {
    Empty,
    One,
    BelowMax,
    Max,
    AboveMax,
    FarOver,
}

/// The JSON around the generated text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonShape {
    /// The text as a JSON string.
    Plain,
    /// A value of another JSON type in its place.
    NotString(NotString),
    /// Bytes a JSON value cannot carry.
    Raw(Mutation),
}

/// JSON types a metadata value must not have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotString {
    Number,
    Bool,
    Null,
    Array,
    Object,
}

impl NotString {
    const ALL: [NotString; 5] = [
        NotString::Number,
        NotString::Bool,
        NotString::Null,
        NotString::Array,
        NotString::Object,
    ];

    fn value(self) -> Value {
        match self {
            NotString::Number => json!(1),
            NotString::Bool => json!(true),
            NotString::Null => Value::Null,
            NotString::Array => json!(["v"]),
            NotString::Object => json!({ "a": "v" }),
        }
    }
}

/// One input of the coverage phase: a value of every dimension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Input {
    pub operation: Operation,
    pub place: Place,
    pub length: Length,
    pub measure: Measure,
    pub class: CharClass,
    pub position: Position,
    pub shape: JsonShape,
}

/// The values of each dimension, in dimension order (the covering array's
/// columns).
struct Dimensions {
    operations: Vec<Operation>,
    places: Vec<Place>,
    lengths: Vec<(Length, Measure)>,
    classes: Vec<CharClass>,
    positions: Vec<Position>,
    shapes: Vec<JsonShape>,
}

const OPERATION: usize = 0;
const PLACE: usize = 1;
const LENGTH: usize = 2;
const CLASS: usize = 3;
const POSITION: usize = 4;
const SHAPE: usize = 5;

impl Dimensions {
    fn for_profile(profile: &Profile, shape: &Shape) -> Dimensions {
        let has = |op: Op| profile.op(&op).is_some();
        let mut operations = Vec::new();
        for (op, operation) in [
            (Op::Merge, Operation::Merge),
            (Op::Replace, Operation::Replace),
            (Op::Set(String::new()), Operation::Set),
            (Op::Get(String::new()), Operation::Get),
            (Op::Delete(String::new()), Operation::Delete),
        ] {
            let refused = operation == Operation::Replace && !shape.replace;
            if has(op) && !refused {
                operations.push(operation);
            }
        }
        let mut shapes = vec![JsonShape::Plain];
        shapes.extend(NotString::ALL.map(JsonShape::NotString));
        shapes.extend(Mutation::ALL.map(JsonShape::Raw));
        Dimensions {
            operations,
            places: vec![Place::BodyKey, Place::UrlKey, Place::Value],
            lengths: vec![
                (Length::Empty, Measure::Chars),
                (Length::One, Measure::Chars),
                (Length::BelowMax, Measure::Chars),
                (Length::Max, Measure::Chars),
                (Length::AboveMax, Measure::Chars),
                (Length::FarOver, Measure::Chars),
                (Length::BelowMax, Measure::Bytes),
                (Length::Max, Measure::Bytes),
                (Length::AboveMax, Measure::Bytes),
            ],
            classes: CHAR_CLASSES.to_vec(),
            positions: vec![Position::Start, Position::Middle, Position::End],
            shapes,
        }
    }

    fn sizes(&self) -> Vec<usize> {
        vec![
            self.operations.len(),
            self.places.len(),
            self.lengths.len(),
            self.classes.len(),
            self.positions.len(),
            self.shapes.len(),
        ]
    }

    fn input(&self, row: &[usize]) -> Input {
        Input {
            operation: self.operations[row[OPERATION]],
            place: self.places[row[PLACE]],
            length: self.lengths[row[LENGTH]].0,
            measure: self.lengths[row[LENGTH]].1,
            class: self.classes[row[CLASS]],
            position: self.positions[row[POSITION]],
            shape: self.shapes[row[SHAPE]],
        }
    }

    /// Whether two dimension values can sit in one input (the constraints
    /// that keep every input meaningful).
    fn compatible(&self, a: Cell, b: Cell) -> bool {
        let (a, b) = if a.0 < b.0 { (a, b) } else { (b, a) };
        match (a.0, b.0) {
            (OPERATION, PLACE) => place_fits(self.operations[a.1], self.places[b.1]),
            (OPERATION, SHAPE) => {
                let reads = matches!(self.operations[a.1], Operation::Get | Operation::Delete);
                !reads || self.shapes[b.1] == JsonShape::Plain
            }
            (PLACE, LENGTH) => {
                !(self.places[a.1] == Place::UrlKey && self.lengths[b.1].0 == Length::Empty)
            }
            (PLACE, SHAPE) => match self.shapes[b.1] {
                JsonShape::NotString(_) => self.places[a.1] == Place::Value,
                _ => true,
            },
            (LENGTH, CLASS) => {
                self.lengths[a.1].0 != Length::Empty || self.classes[b.1] == CharClass::Allowed
            }
            (CLASS, POSITION) => {
                self.classes[a.1] != CharClass::Allowed || self.positions[b.1] == Position::Start
            }
            // a value of another type has no text of its own, and a body
            // shape is tried around the plainest text: every text class
            // is sent as a plain JSON string, every shape around plain text
            (LENGTH | CLASS | POSITION, SHAPE) => {
                self.shapes[b.1] == JsonShape::Plain || self.neutral(a)
            }
            _ => true,
        }
    }
}

impl Dimensions {
    /// Whether a text dimension's value is the plainest one (the only one
    /// that makes sense where there is no text).
    fn neutral(&self, (dimension, value): Cell) -> bool {
        match dimension {
            LENGTH => self.lengths[value] == (Length::One, Measure::Chars),
            CLASS => self.classes[value] == CharClass::Allowed,
            POSITION => self.positions[value] == Position::Start,
            _ => true,
        }
    }
}

fn place_fits(operation: Operation, place: Place) -> bool {
    match operation {
        Operation::Merge | Operation::Replace => place != Place::UrlKey,
        Operation::Set => place != Place::BodyKey,
        Operation::Get | Operation::Delete => place == Place::UrlKey,
    }
}

/// Concurrent steps drawn for the coverage phase. Lost updates are the
/// bug class real endpoints have most (spec §2.9), and no pairwise input
/// holds two requests, so the phase draws a few concurrent steps from the
/// random phase's generator and sends them first.
const CONCURRENT_DRAWS: u64 = 4;

/// The concurrent steps the coverage phase sends first (none when the
/// shape has no writers).
pub fn concurrent_steps(profile: &Profile, shape: &Shape) -> Vec<Step> {
    if shape.writers < 2 {
        return Vec::new();
    }
    let strategy = super::stateful::concurrent_step(profile, shape);
    (0..CONCURRENT_DRAWS)
        .filter_map(|seed| super::campaign::draw(&strategy, seed))
        .filter(|step| matches!(step.call, Call::Concurrent { .. }))
        .collect()
}

/// The coverage inputs for `profile`, each with its steps, cheapest first.
/// Inputs whose text cannot be addressed in a URL where they must be are
/// left out (see [`url_addressable`]).
pub fn plan(profile: &Profile, shape: &Shape) -> Vec<(Input, Vec<Step>)> {
    let dims = Dimensions::for_profile(profile, shape);
    if dims.operations.is_empty() {
        return Vec::new();
    }
    let rows = pairwise(&dims.sizes(), &|a, b| dims.compatible(a, b));
    let mut planned: Vec<(Input, Vec<Step>)> = rows
        .iter()
        .enumerate()
        .filter_map(|(index, row)| {
            let input = dims.input(row);
            steps(profile, &input, index).map(|steps| (input, steps))
        })
        .collect();
    // one-step inputs first, far-over lengths (kilobytes per body) last;
    // otherwise the covering array's order, which covers the most new
    // pairs first
    planned.sort_by_key(|(input, steps)| (steps.len(), input.length == Length::FarOver));
    planned
}

/// Everything the coverage phase sends, as sequences: the concurrent
/// steps and the callers (each identity, another project's server, a
/// missing one, a key that is not there), then the quota boundary and
/// every server action followed by writes, one sequence each (a state or a
/// full map stays for the rest of its sequence), then the pairwise inputs.
/// Inputs are packed into sequences of at most `max_steps` steps, an
/// input's steps never split.
pub fn sequences(profile: &Profile, shape: &Shape) -> Vec<Vec<Step>> {
    let max = shape.max_steps.max(2);
    let mut out: Vec<Vec<Step>> = Vec::new();
    let concurrent = concurrent_steps(profile, shape)
        .into_iter()
        .map(|s| vec![s]);
    let planned = plan(profile, shape).into_iter().map(|(_, steps)| steps);
    for steps in concurrent.chain(callers(profile, shape)) {
        pack(&mut out, steps, max);
    }
    out.extend(quota_boundary(profile, shape));
    out.extend(states(profile, shape));
    out.push(Vec::new());
    for steps in planned {
        pack(&mut out, steps, max);
    }
    out.retain(|steps| !steps.is_empty());
    out
}

/// Add `steps` to the last sequence if it stays within `max`, else start a
/// new one.
fn pack(out: &mut Vec<Vec<Step>>, steps: Vec<Step>, max: usize) {
    match out.last_mut() {
        Some(last) if last.len() + steps.len() <= max => last.extend(steps),
        _ => out.push(steps),
    }
}

/// A merge, a set, a get, a delete and a list of one plain key, as `who`
/// on `server` (the operations the profile has).
fn every_operation(profile: &Profile, who: Identity, server: ServerPick) -> Vec<Step> {
    let key = plain_key(profile);
    let value = || Value::String("v".into());
    let mut entry = Map::new();
    entry.insert(key.clone(), value());
    let candidates = [
        (Op::Merge, Some(Body::Json(metadata_body(entry)))),
        (
            Op::Set(key.clone()),
            Some(Body::Json(meta_body(&key, value()))),
        ),
        (Op::Get(key.clone()), None),
        (Op::Delete(key.clone()), None),
        (Op::List, None),
    ];
    candidates
        .into_iter()
        .filter(|(op, _)| profile.op(op).is_some())
        .map(|(op, body)| Step {
            who,
            server,
            call: Call::Meta { op, body },
        })
        .collect()
}

/// Every operation as each identity other than the owner, on another
/// project's server and on a server that does not exist (authorization and
/// isolation, spec §6), and the owner's get and delete of a key that is
/// not there.
fn callers(profile: &Profile, shape: &Shape) -> Vec<Vec<Step>> {
    let mut out: Vec<Vec<Step>> = shape
        .identities
        .iter()
        .filter(|&&who| who != Identity::Owner)
        .map(|&who| every_operation(profile, who, ServerPick::Own(0)))
        .collect();
    if shape.alt_server {
        out.push(every_operation(profile, Identity::Owner, ServerPick::Alt));
    }
    out.push(every_operation(
        profile,
        Identity::Owner,
        ServerPick::Missing,
    ));
    // a key that was never written: read and delete answer "not found"
    let absent: Vec<Step> = every_operation(profile, Identity::Owner, ServerPick::Own(0))
        .into_iter()
        .filter(|s| matches!(s.op(), Some(Op::Get(_) | Op::Delete(_))))
        .collect();
    out.push(absent);
    out.retain(|steps| !steps.is_empty());
    out
}

/// The quota boundary (spec §2.8): a merge of exactly the quota, one of
/// quota + 1 items, and one more item after a full map.
fn quota_boundary(profile: &Profile, shape: &Shape) -> Vec<Vec<Step>> {
    let Some(quota) = profile.rules.metadata.quota else {
        return Vec::new();
    };
    if profile.op(&Op::Merge).is_none() {
        return Vec::new();
    }
    let alphabet = Alphabet::of(&profile.rules.metadata.key.charset).alphanumerics();
    let tag = alphabet.first().copied().unwrap_or('q');
    let map = |n: usize| -> Map<String, Value> {
        (0..n)
            .map(|i| (bulk_key(&alphabet, tag, i, 2), Value::String("v".into())))
            .collect()
    };
    let merge = |n: usize| Step {
        who: Identity::Owner,
        server: ServerPick::Own(0),
        call: Call::Meta {
            op: Op::Merge,
            body: Some(Body::Json(metadata_body(map(n)))),
        },
    };
    let one_more = Step {
        call: Call::Meta {
            op: Op::Merge,
            body: Some(Body::Json(metadata_body(
                std::iter::once((plain_key(profile), Value::String("v".into()))).collect(),
            ))),
        },
        ..merge(0)
    };
    let mut out = vec![vec![merge(quota + 1)], vec![merge(quota), one_more]];
    if shape.replace && profile.op(&Op::Replace).is_some() {
        let replace = Step {
            call: Call::Meta {
                op: Op::Replace,
                body: Some(Body::Json(metadata_body(map(quota + 1)))),
            },
            ..merge(0)
        };
        out.push(vec![replace]);
    }
    out
}

/// Every server action the shape allows, each followed by the owner's
/// writes (and, after a lock, the admin's): where state and lock rules are
/// decided (spec §4).
fn states(profile: &Profile, shape: &Shape) -> Vec<Vec<Step>> {
    let admin = shape.identities.contains(&Identity::Admin);
    shape
        .actions
        .iter()
        .map(|action| {
            let who = match action {
                ServerAction::ResetState(_) => Identity::Admin,
                _ => Identity::Owner,
            };
            let mut steps = vec![Step {
                who,
                server: ServerPick::Own(0),
                call: Call::Action(action.clone()),
            }];
            let writes = every_operation(profile, Identity::Owner, ServerPick::Own(0));
            steps.extend(
                writes
                    .into_iter()
                    .filter(|s| !s.body_bytes().is_empty() || is_delete(s)),
            );
            if admin && matches!(action, ServerAction::Lock { .. }) {
                steps.extend(every_operation(
                    profile,
                    Identity::Admin,
                    ServerPick::Own(0),
                ));
            }
            steps
        })
        .collect()
}

fn is_delete(step: &Step) -> bool {
    matches!(step.op(), Some(Op::Delete(_)))
}

/// The steps of one input; `pick` chooses among the special characters of
/// its class so that different inputs use different ones.
fn steps(profile: &Profile, input: &Input, pick: usize) -> Option<Vec<Step>> {
    let (key, text) = match input.place {
        Place::BodyKey | Place::UrlKey => (key_text(profile, input, pick)?, "v".to_string()),
        Place::Value => (plain_key(profile), value_text(profile, input, pick)),
    };
    if input.place == Place::UrlKey && !url_addressable(&key) {
        return None;
    }
    let value = match input.shape {
        JsonShape::NotString(other) => other.value(),
        _ => Value::String(text.clone()),
    };
    let owner = |op: Op, body: Option<Body>| Step {
        who: Identity::Owner,
        server: ServerPick::Own(0),
        call: Call::Meta { op, body },
    };
    let one_entry = || {
        let mut map = Map::new();
        map.insert(key.clone(), value.clone());
        map
    };
    let body = |wrapper: Wrapper| match input.shape {
        JsonShape::Raw(mutation) => Body::Raw {
            bytes: raw_body(input, mutation, &key, &text, wrapper, pick),
            mutation,
        },
        _ => Body::Json(match wrapper {
            Wrapper::Metadata => metadata_body(one_entry()),
            Wrapper::Meta => meta_body(&key, value.clone()),
        }),
    };
    let steps = match input.operation {
        Operation::Merge => vec![owner(Op::Merge, Some(body(Wrapper::Metadata)))],
        Operation::Replace => vec![owner(Op::Replace, Some(body(Wrapper::Metadata)))],
        Operation::Set => vec![owner(Op::Set(key.clone()), Some(body(Wrapper::Meta)))],
        Operation::Get | Operation::Delete => {
            let read = match input.operation {
                Operation::Get => Op::Get(key.clone()),
                _ => Op::Delete(key.clone()),
            };
            // write the key first, so the read finds it where it is valid
            let prepare = if profile.op(&Op::Merge).is_some() {
                owner(Op::Merge, Some(Body::Json(metadata_body(one_entry()))))
            } else {
                owner(
                    Op::Set(key.clone()),
                    Some(Body::Json(meta_body(&key, value.clone()))),
                )
            };
            vec![prepare, owner(read, None)]
        }
    };
    Some(steps)
}

fn raw_body(
    input: &Input,
    mutation: Mutation,
    key: &str,
    value: &str,
    wrapper: Wrapper,
    pick: usize,
) -> Vec<u8> {
    // escapes go where the input's text is: variant 0 escapes the key,
    // variant 1 the value (see `mutate::render`)
    let variant = match (mutation, input.place) {
        (Mutation::EscapedCodeUnit, Place::Value) => 1,
        (Mutation::EscapedCodeUnit, _) => 0,
        // the deepest nesting (5,000 arrays), where recursive parsers break;
        // the random phase draws the shallower depths
        (Mutation::DeepNesting, _) => 5,
        _ => pick,
    };
    // a lone low and high surrogate, NUL and a BOM
    let units = [0xDC80u16, 0xD800, 0x0000, 0xFEFF];
    let raw = MutationInput {
        mutation,
        key: key.to_string(),
        value: value.to_string(),
        unit: units[pick % units.len()],
        variant,
    };
    mutate::render(&raw, wrapper)
}

/// The length `length` stands for under a rule of `min..=max`.
fn target_length(length: Length, min: usize, max: usize) -> usize {
    match length {
        Length::Empty => 0,
        Length::One => 1,
        Length::BelowMax => max.saturating_sub(1).max(min),
        Length::Max => max,
        Length::AboveMax => max + 1,
        Length::FarOver => max.saturating_mul(8).max(64),
    }
}

/// A key of the input's length and character class.
fn key_text(profile: &Profile, input: &Input, pick: usize) -> Option<String> {
    let rule = &profile.rules.metadata.key;
    let alphabet = Alphabet::of(&rule.charset);
    let plain = alphabet.alphanumerics();
    let wide: Vec<char> = alphabet
        .allowed_other
        .iter()
        .copied()
        .filter(|c| c.len_utf8() > 1)
        .collect();
    let filler = match input.measure {
        Measure::Bytes if !wide.is_empty() => wide,
        _ => plain.clone(),
    };
    let target = target_length(input.length, rule.min_len, rule.max_len);
    let base = fill(&filler, target, input.measure, plain.first().copied());
    let specials = specials_of(input.class, &alphabet);
    Some(with_special(&base, &specials, input, pick))
}

/// A value of the input's length and character class.
fn value_text(profile: &Profile, input: &Input, pick: usize) -> String {
    let rule = &profile.rules.metadata.value;
    let filler: Vec<char> = match input.measure {
        Measure::Chars => vec!['x'],
        Measure::Bytes => MULTI_BYTE.to_vec(),
    };
    let target = target_length(input.length, 0, rule.max_len);
    let base = fill(&filler, target, input.measure, Some('x'));
    let specials = match input.class {
        // the characters a value rule forbids, or else the ones a key rule
        // does (a value rule without a charset must take them)
        CharClass::ForbiddenAscii => match &rule.forbidden {
            Some(set) => (0x20u8..0x7f)
                .map(char::from)
                .filter(|&c| set.contains(c))
                .collect(),
            None => Alphabet::of(&profile.rules.metadata.key.charset).forbidden_ascii,
        },
        other => specials_of(other, &Alphabet::of(&profile.rules.metadata.key.charset)),
    };
    with_special(&base, &specials, input, pick)
}

fn with_special(base: &str, specials: &[char], input: &Input, pick: usize) -> String {
    if input.class == CharClass::Allowed || specials.is_empty() {
        return base.to_string();
    }
    // in a URL key, skip characters that would route elsewhere (`/`)
    let usable: Vec<char> = match input.place {
        Place::UrlKey => specials.iter().copied().filter(|&c| c != '/').collect(),
        _ => specials.to_vec(),
    };
    match usable.get(pick % usable.len().max(1)) {
        Some(&c) => inject(base, c, input.position),
        None => base.to_string(),
    }
}

/// A short key every dialect accepts (for inputs about the value).
fn plain_key(profile: &Profile) -> String {
    let rule = &profile.rules.metadata.key;
    let plain = Alphabet::of(&rule.charset).alphanumerics();
    let len = 3usize.clamp(rule.min_len.max(1), rule.max_len.max(1));
    fill(&plain, len, Measure::Chars, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::endpoint::Target;
    use crate::fuzz::campaign::{CampaignConfig, shape_for};

    fn shape(profile: &Profile) -> Shape {
        let mut target = Target::for_tests("http://x", profile.clone());
        target.credentials = crate::endpoint::Credentials {
            admin_token: Some("admin".into()),
            reader_token: Some("reader".into()),
            ..Default::default()
        };
        shape_for(&target, &CampaignConfig::default(), 1)
    }

    fn nova() -> Profile {
        crate::profile::builtin("nova").expect("nova")
    }

    #[test]
    fn every_dialect_gets_a_plan_in_the_hundreds_not_the_product() {
        for dialect in crate::profile::builtin_ids() {
            let profile = crate::profile::builtin(dialect).expect("builtin");
            let planned = plan(&profile, &shape(&profile));
            // the full product is 5·3·9·8·3·14 = 45,360 inputs
            assert!(
                (50..1000).contains(&planned.len()),
                "{dialect}: {} inputs",
                planned.len()
            );
        }
    }

    /// The generated text of a plain input: the key or the value.
    fn text_of(input: &Input, steps: &[Step]) -> String {
        let write = steps.first().expect("a step");
        let body: Value =
            serde_json::from_slice(&write.body_bytes()).expect("a plain input's body is JSON");
        let entries = body
            .get("metadata")
            .or_else(|| body.get("meta"))
            .and_then(Value::as_object)
            .expect("one entry");
        let (key, value) = entries.iter().next().expect("one entry");
        match input.place {
            Place::Value => value.as_str().expect("a string").to_string(),
            _ => key.clone(),
        }
    }

    #[test]
    fn every_length_class_reaches_its_boundary_in_every_place() {
        let profile = nova();
        let rules = &profile.rules.metadata;
        let planned = plan(&profile, &shape(&profile));
        for place in [Place::BodyKey, Place::UrlKey, Place::Value] {
            for length in [
                Length::Empty,
                Length::One,
                Length::BelowMax,
                Length::Max,
                Length::AboveMax,
                Length::FarOver,
            ] {
                if place == Place::UrlKey && length == Length::Empty {
                    continue;
                }
                let (input, steps) = planned
                    .iter()
                    .find(|(i, _)| {
                        i.place == place && i.length == length && i.shape == JsonShape::Plain
                    })
                    .unwrap_or_else(|| panic!("no plain input for {place:?} × {length:?}"));
                let (min, max) = match place {
                    Place::Value => (0, rules.value.max_len),
                    _ => (rules.key.min_len, rules.key.max_len),
                };
                let text = text_of(input, steps);
                let measured = match input.measure {
                    Measure::Chars => text.chars().count(),
                    Measure::Bytes => text.len(),
                };
                let special_changes_bytes =
                    input.measure == Measure::Bytes && input.class != CharClass::Allowed;
                if !special_changes_bytes {
                    assert_eq!(
                        measured,
                        target_length(length, min, max),
                        "{input:?}: {text:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn every_shape_meets_every_writing_operation() {
        let profile = nova();
        let dims = Dimensions::for_profile(&profile, &shape(&profile));
        let rows = pairwise(&dims.sizes(), &|a, b| dims.compatible(a, b));
        let inputs: Vec<Input> = rows.iter().map(|r| dims.input(r)).collect();
        for &operation in &[Operation::Merge, Operation::Replace, Operation::Set] {
            for &shape in &dims.shapes {
                assert!(
                    inputs
                        .iter()
                        .any(|i| i.operation == operation && i.shape == shape),
                    "{operation:?} × {shape:?}"
                );
            }
        }
        for &class in &CHAR_CLASSES {
            for place in [Place::BodyKey, Place::UrlKey, Place::Value] {
                assert!(
                    inputs.iter().any(|i| i.class == class && i.place == place),
                    "{class:?} × {place:?}"
                );
            }
        }
    }

    #[test]
    fn every_action_identity_and_the_quota_boundary_are_covered() {
        let profile = nova();
        let shape = shape(&profile);
        assert!(!shape.actions.is_empty(), "the test shape is disposable");
        let packed: Vec<Step> = sequences(&profile, &shape).into_iter().flatten().collect();
        for action in &shape.actions {
            let at = packed
                .iter()
                .position(|s| s.call == Call::Action(action.clone()))
                .unwrap_or_else(|| panic!("{action:?} is not covered"));
            assert!(
                matches!(packed[at + 1].op(), Some(Op::Merge)),
                "{action:?} is followed by a write"
            );
        }
        let quota = profile.rules.metadata.quota.expect("nova has a quota");
        let merged_sizes: Vec<usize> = packed
            .iter()
            .filter(|s| matches!(s.op(), Some(Op::Merge)))
            .filter_map(|s| {
                let body: Value = serde_json::from_slice(&s.body_bytes()).ok()?;
                Some(body.get("metadata")?.as_object()?.len())
            })
            .collect();
        assert!(merged_sizes.contains(&quota) && merged_sizes.contains(&(quota + 1)));
        assert!(packed.iter().any(|s| s.server == ServerPick::Missing));
        for who in [Identity::Admin, Identity::Reader] {
            assert!(packed.iter().any(|s| s.who == who), "{who:?}");
        }
    }

    #[test]
    fn reads_are_prepared_by_a_write_of_the_same_key() {
        let profile = nova();
        let planned = plan(&profile, &shape(&profile));
        let read = planned
            .iter()
            .find(|(i, _)| i.operation == Operation::Get)
            .expect("a get input");
        let [prepare, get] = read.1.as_slice() else {
            panic!("two steps: {:?}", read.1);
        };
        let Some(Op::Get(key)) = get.op() else {
            panic!("{get:?}")
        };
        assert!(prepare.body_bytes().len() > key.len());
        assert!(String::from_utf8_lossy(&prepare.body_bytes()).contains(key.as_str()));
    }

    #[test]
    fn sequences_keep_every_input_and_respect_the_step_limit() {
        let profile = nova();
        let shape = shape(&profile);
        let planned: usize = plan(&profile, &shape).iter().map(|(_, s)| s.len()).sum();
        let concurrent = concurrent_steps(&profile, &shape);
        assert!(!concurrent.is_empty(), "nova has concurrent writes");
        let context: usize = callers(&profile, &shape)
            .into_iter()
            .chain(quota_boundary(&profile, &shape))
            .chain(states(&profile, &shape))
            .map(|s| s.len())
            .sum();
        let packed = sequences(&profile, &shape);
        assert_eq!(
            packed.iter().map(Vec::len).sum::<usize>(),
            concurrent.len() + context + planned
        );
        assert_eq!(packed[0][0], concurrent[0], "concurrency goes first");
        assert!(packed.iter().all(|s| s.len() <= shape.max_steps));
    }
}
