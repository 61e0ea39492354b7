//! The checker alone: orders that explain, answers no order explains, a lost
//! acknowledged write, a delete-delete race, and (property) every
//! sequential execution of a random batch through the model is accepted.

use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;
use crate::model::server::ServerRecord;

fn nova() -> Profile {
    crate::profile::builtin("nova").expect("nova profile")
}

fn world(map: &[(&str, &str)]) -> World {
    let metadata = map
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let server = ServerRecord::new("s1", "p1", "one", metadata);
    World::new("p1", "p1", vec![server])
}

fn map(entries: &[(&str, &str)]) -> Metadata {
    entries
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn merge(entries: &[(&str, &str)]) -> Request {
    let body = json!({ "metadata": map(entries) });
    Request {
        op: Op::Merge,
        body: body.to_string().into_bytes(),
    }
}

fn set(key: &str, value: &str) -> Request {
    Request {
        op: Op::Set(key.into()),
        body: json!({ "meta": { key: value } }).to_string().into_bytes(),
    }
}

fn delete(key: &str) -> Request {
    Request {
        op: Op::Delete(key.into()),
        body: Vec::new(),
    }
}

fn answer(status: u16, body: Option<Value>) -> Answer {
    Answer { status, body }
}

fn check(
    before: &World,
    requests: &[Request],
    answers: &[Answer],
    stored: &Metadata,
) -> Result<Vec<usize>, Unexplained> {
    let profile = nova();
    linearize(&History {
        profile: &profile,
        world: before,
        server: ServerPick::Own(0),
        requests,
        answers,
        stored,
    })
}

#[test]
fn the_order_that_explains_every_answer_is_found() {
    // The merge's body shows the set ran before it, the delete ran last.
    let before = world(&[("a", "1")]);
    let requests = [merge(&[("b", "2")]), set("c", "3"), delete("a")];
    let answers = [
        answer(
            200,
            Some(json!({"metadata": {"a": "1", "b": "2", "c": "3"}})),
        ),
        answer(200, Some(json!({"meta": {"c": "3"}}))),
        answer(204, None),
    ];
    let order = check(
        &before,
        &requests,
        &answers,
        &map(&[("b", "2"), ("c", "3")]),
    );
    assert_eq!(order, Ok(vec![1, 0, 2]));
}

#[test]
fn a_status_no_order_gives_is_unexplained() {
    // Deleting a key that neither existed nor was written is a 404 in
    // every order: a 204 is unexplained.
    let before = world(&[]);
    let requests = [set("a", "1"), delete("zz")];
    let answers = [
        answer(200, Some(json!({"meta": {"a": "1"}}))),
        answer(204, None),
    ];
    let got = check(&before, &requests, &answers, &map(&[("a", "1")]));
    assert!(matches!(got, Err(Unexplained::Statuses { .. })), "{got:?}");
}

#[test]
fn a_body_no_order_gives_is_unexplained() {
    let before = world(&[]);
    let requests = [merge(&[("a", "1")]), merge(&[("b", "2")])];
    // Each merge answers as if it ran alone: one of them saw the other's
    // key in no order, although the final map holds both.
    let answers = [
        answer(200, Some(json!({"metadata": {"a": "1"}}))),
        answer(200, Some(json!({"metadata": {"b": "2"}}))),
    ];
    let got = check(
        &before,
        &requests,
        &answers,
        &map(&[("a", "1"), ("b", "2")]),
    );
    assert!(matches!(got, Err(Unexplained::Bodies { .. })), "{got:?}");
}

#[test]
fn a_lost_acknowledged_write_is_named_with_the_final_map() {
    let before = world(&[]);
    let requests = [set("a", "1"), set("b", "2")];
    let answers = [
        answer(200, Some(json!({"meta": {"a": "1"}}))),
        answer(200, Some(json!({"meta": {"b": "2"}}))),
    ];
    let stored = map(&[("b", "2")]);
    let got = check(&before, &requests, &answers, &stored);
    let Err(Unexplained::FinalMap {
        acknowledged,
        stored: shown,
    }) = &got
    else {
        panic!("expected lost writes, got {got:?}");
    };
    assert_eq!(shown, &stored);
    assert_eq!(
        acknowledged,
        &vec![
            r#"set {"meta":{"a":"1"}}"#.to_string(),
            r#"set {"meta":{"b":"2"}}"#.to_string()
        ]
    );
    let message = got.unwrap_err().to_string();
    assert!(message.contains(r#"{"b":"2"}"#), "{message}");
    assert!(message.contains(r#"set {"meta":{"a":"1"}}"#), "{message}");
}

#[test]
fn a_delete_delete_race_is_explained_whichever_lost() {
    let before = world(&[("a", "1")]);
    let requests = [delete("a"), delete("a")];
    let empty = map(&[]);
    let first_won = [answer(204, None), answer(404, None)];
    assert_eq!(
        check(&before, &requests, &first_won, &empty),
        Ok(vec![0, 1])
    );
    let second_won = [answer(404, None), answer(204, None)];
    assert_eq!(
        check(&before, &requests, &second_won, &empty),
        Ok(vec![1, 0])
    );
    let both_won = [answer(204, None), answer(204, None)];
    let got = check(&before, &requests, &both_won, &empty);
    assert!(matches!(got, Err(Unexplained::Statuses { .. })), "{got:?}");
}

#[test]
fn a_write_then_delete_of_one_key_needs_the_order_the_map_shows() {
    let before = world(&[]);
    let requests = [set("a", "1"), delete("a")];
    let answers = [
        answer(200, Some(json!({"meta": {"a": "1"}}))),
        answer(204, None),
    ];
    // The delete found the key: the set ran first, so the map is empty.
    assert_eq!(
        check(&before, &requests, &answers, &map(&[])),
        Ok(vec![0, 1])
    );
    let got = check(&before, &requests, &answers, &map(&[("a", "1")]));
    assert!(matches!(got, Err(Unexplained::FinalMap { .. })), "{got:?}");
}

/// A random write on a small key pool.
fn request() -> impl Strategy<Value = Request> {
    let key = prop::sample::select(vec!["a", "b", "c"]);
    let value = prop::sample::select(vec!["1", "2", ""]);
    prop_oneof![
        prop::collection::vec((key.clone(), value.clone()), 0..3).prop_map(|e| merge(&e)),
        prop::collection::vec((key.clone(), value.clone()), 0..3).prop_map(|e| {
            let body = json!({ "metadata": map(&e) });
            Request {
                op: Op::Replace,
                body: body.to_string().into_bytes(),
            }
        }),
        (key.clone(), value).prop_map(|(k, v)| set(k, v)),
        key.prop_map(delete),
    ]
}

/// What an endpoint that runs `requests` in `order`, one at a time, through
/// the model answers (in request order) and stores.
fn run_sequentially(
    profile: &Profile,
    before: &World,
    requests: &[Request],
    order: &[usize],
) -> (Vec<Answer>, Metadata) {
    let mut world = before.clone();
    let mut answers = vec![answer(0, None); requests.len()];
    for &i in order {
        let r = &requests[i];
        let d = world.decide(
            &profile.rules,
            &r.op,
            Identity::Owner,
            ServerPick::Own(0),
            &r.body,
        );
        let status = profile.accepted(d.outcome.kind(), Some(&r.op))[0];
        let body = match &d.outcome {
            Outcome::Success(s) => oracle::success_body(s),
            Outcome::Refused { .. } => None,
        };
        answers[i] = answer(status, body);
        world.commit(ServerPick::Own(0), &d);
    }
    let stored = world
        .metadata(ServerPick::Own(0))
        .cloned()
        .unwrap_or_default();
    (answers, stored)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn every_sequential_execution_is_accepted(
        requests in prop::collection::vec(request(), 1..=MAX_REQUESTS),
        before in prop::collection::btree_map(
            prop::sample::select(vec!["a", "b", "x"]), prop::sample::select(vec!["0", "1"]), 0..3),
        shuffle in any::<prop::sample::Index>(),
    ) {
        let profile = nova();
        let pre: Vec<(&str, &str)> = before.iter().map(|(k, v)| (*k, *v)).collect();
        let start = world(&pre);
        // A permutation of the requests drawn from `shuffle`.
        let mut rest: Vec<usize> = (0..requests.len()).collect();
        let mut order = Vec::new();
        let mut seed = shuffle.index(usize::MAX);
        while !rest.is_empty() {
            order.push(rest.remove(seed % rest.len()));
            seed /= 7;
        }
        let (answers, stored) = run_sequentially(&profile, &start, &requests, &order);
        let got = linearize(&History {
            profile: &profile,
            world: &start,
            server: ServerPick::Own(0),
            requests: &requests,
            answers: &answers,
            stored: &stored,
        });
        prop_assert!(got.is_ok(), "order {:?} rejected: {:?}", order, got);
    }
}
