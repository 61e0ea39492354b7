//! Classes of answers, and the bias of the random phase toward new ones.
//!
//! An [`AnswerClass`] is what a user would call "a different answer": the
//! step kind, the status, the error's fault name (Nova's top-level member,
//! Huawei's `error_code`) and its message template (the message with the
//! parts that echo the request blanked: quoted text, numbers). A sequence
//! that drew an answer class never seen before in the campaign goes into
//! the [`Corpus`]; later random sequences start, half of the time, from
//! such a sequence's prefix (up to its last new answer) and continue with
//! fresh random steps, so the budget goes where the endpoint was last seen
//! doing something new.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::endpoint::error_body;
use crate::endpoint::http::Exchange;

use super::campaign::derive_seed;
use super::step::Step;

/// Characters of a message template kept (long messages quote whole
/// bodies; their opening says what kind of error they are).
const TEMPLATE_CHARS: usize = 160;

/// Sequences kept as starting points.
const CORPUS_LIMIT: usize = 256;

/// One class of answer.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AnswerClass {
    pub step_kind: String,
    /// 0 when there was no HTTP answer.
    pub status: u16,
    pub fault: String,
    pub template: String,
}

/// The fault name (the most specific one) and message of an error body
/// ([`crate::endpoint::error_body`]); `None` for a body that is not an
/// error.
pub fn fault_and_message(body: &Value) -> Option<(String, String)> {
    let fault = error_body::fault_name(body)?;
    Some((fault, error_body::message(body).unwrap_or_default()))
}

/// `message` with what echoes the request blanked: quoted text becomes
/// `'…'`, digit runs `#`. Python class names in `<class '…'>` are kept:
/// they name the bug behind a 500.
pub fn template(message: &str) -> String {
    let mut out = String::new();
    let mut chars = message.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' if !out.ends_with("<class ") => {
                for inner in chars.by_ref() {
                    if inner == c {
                        break;
                    }
                }
                out.push(c);
                out.push('…');
                out.push(c);
            }
            d if d.is_ascii_digit() => {
                while chars.peek().is_some_and(char::is_ascii_digit) {
                    chars.next();
                }
                out.push('#');
            }
            other => out.push(other),
        }
        if out.chars().count() >= TEMPLATE_CHARS {
            break;
        }
    }
    out
}

/// The class of one exchange made by a step of kind `step_kind`.
pub fn classify(step_kind: &str, exchange: &Exchange) -> AnswerClass {
    let Some(response) = &exchange.response else {
        return AnswerClass {
            step_kind: step_kind.to_string(),
            status: 0,
            fault: "no-answer".into(),
            template: String::new(),
        };
    };
    let (fault, message) = response
        .json()
        .as_ref()
        .and_then(fault_and_message)
        .unwrap_or_default();
    AnswerClass {
        step_kind: step_kind.to_string(),
        status: response.status,
        fault,
        template: template(&message),
    }
}

/// Answer classes seen so far, and the sequences that found new ones.
#[derive(Debug, Default)]
pub struct Corpus {
    seen: BTreeSet<AnswerClass>,
    starts: Vec<Vec<Step>>,
}

impl Corpus {
    /// Note every answer of a sequence run (`exchanges` tagged with their
    /// step index); a sequence with a new class is kept up to its last new
    /// answer. Returns how many classes were new.
    pub fn observe(&mut self, steps: &[Step], exchanges: &[(usize, Exchange)]) -> usize {
        let mut new = 0;
        let mut last_new = None;
        for (index, exchange) in exchanges {
            let Some(step) = steps.get(*index) else {
                continue;
            };
            if self.seen.insert(classify(&step.kind(), exchange)) {
                new += 1;
                last_new = Some(*index);
            }
        }
        if let Some(last) = last_new
            && self.starts.len() < CORPUS_LIMIT
        {
            self.starts.push(steps[..=last].to_vec());
        }
        new
    }

    /// Distinct answer classes seen.
    pub fn classes(&self) -> usize {
        self.seen.len()
    }

    /// The sequence to run for case `case`: `fresh` itself, or (half of the
    /// time, once the corpus has a start) a kept start followed by `fresh`,
    /// cut to `max_steps`. Deterministic for `(seed, case)` and the corpus.
    pub fn next(&self, fresh: Vec<Step>, seed: u64, case: u64, max_steps: usize) -> Vec<Step> {
        let roll = derive_seed(seed ^ 0x6e6f_7665_6c74_7921, case);
        if self.starts.is_empty() || roll.is_multiple_of(2) {
            return fresh;
        }
        let start = &self.starts[(roll / 2) as usize % self.starts.len()];
        let mut steps = start.clone();
        steps.extend(fresh);
        steps.truncate(max_steps.max(start.len() + 1));
        steps
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn faults_and_messages_of_each_dialect() {
        let nova = json!({"badRequest": {"code": 400, "message": "Invalid input"}});
        assert_eq!(
            fault_and_message(&nova),
            Some(("badRequest".into(), "Invalid input".into()))
        );
        let ecs = json!({"error_code": "Ecs.0005", "error_msg": "bad"});
        assert_eq!(
            fault_and_message(&ecs),
            Some(("Ecs.0005".into(), "bad".into()))
        );
        let ecs_v1 = json!({"error": {"code": "Ecs.0114", "message": "locked"}});
        assert_eq!(
            fault_and_message(&ecs_v1),
            Some(("Ecs.0114".into(), "locked".into()))
        );
        assert_eq!(fault_and_message(&json!({"metadata": {}})), None);
    }

    #[test]
    fn templates_blank_echoed_input_but_keep_the_exception_class() {
        let a =
            "Invalid input for field/attribute metadata. Value: {'k1': 'v'}. 'k1' does not match";
        let b =
            "Invalid input for field/attribute metadata. Value: {'zz': 'w'}. 'zz' does not match";
        assert_eq!(template(a), template(b));
        assert_eq!(template("quota 128 exceeded"), template("quota 7 exceeded"));
        let recursion = "Unexpected API Error.\n<class 'RecursionError'>";
        let unicode = "Unexpected API Error.\n<class 'UnicodeDecodeError'>";
        assert_ne!(template(recursion), template(unicode));
        assert!(template(recursion).contains("RecursionError"));
    }

    #[test]
    fn a_sequence_with_a_new_answer_is_kept_up_to_that_answer_only() {
        use crate::cases::format::Identity;
        use crate::endpoint::http::{RecordedRequest, RecordedResponse};
        use crate::fuzz::step::ServerPick;
        use crate::model::pipeline::Op;
        let exchange = |status: u16| Exchange {
            request: RecordedRequest {
                method: "GET".into(),
                url: "http://x".into(),
                headers: vec![],
                body: vec![],
            },
            response: Some(RecordedResponse {
                status,
                headers: vec![],
                body: b"{}".to_vec(),
            }),
            error: None,
            elapsed: Default::default(),
        };
        let step = Step::meta(Identity::Owner, ServerPick::Own(0), Op::List, None);
        let steps = vec![step.clone(), step.clone(), step.clone()];
        let mut corpus = Corpus::default();
        let run = vec![(0, exchange(200)), (1, exchange(404)), (2, exchange(200))];
        assert_eq!(corpus.observe(&steps, &run), 2);
        assert_eq!(corpus.starts, vec![steps[..2].to_vec()]);
        // the same answers again: nothing new, nothing kept
        assert_eq!(corpus.observe(&steps, &run), 0);
        assert_eq!(corpus.starts.len(), 1);
        // some cases start from the kept prefix, some are fresh
        let fresh = vec![step.clone()];
        let lengths: BTreeSet<usize> = (0..20)
            .map(|case| corpus.next(fresh.clone(), 1, case, 12).len())
            .collect();
        assert_eq!(lengths, BTreeSet::from([1, 3]));
    }
}
