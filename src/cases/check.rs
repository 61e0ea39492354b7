//! Semantic checks on a parsed case: what serde cannot say (a step's fields
//! must fit its `op`, an expectation must state something, names must be
//! known). Each problem is an [`Issue`] located at the case or the step.

use serde_saphyr::Location;

use super::coverage::is_known_section;
use super::format::{
    Case, Concurrent, Expect, Identity, RawRequest, Requirement, ServerRef, Step, StepOp,
};
use crate::model::outcome::OutcomeKind;
use crate::model::server::{ServerAction, VmState};
use crate::profile;

/// One problem in a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    pub at: Location,
    pub message: String,
    pub help: String,
}

impl Issue {
    fn new(at: Location, message: impl Into<String>, help: impl Into<String>) -> Self {
        Issue {
            at,
            message: message.into(),
            help: help.into(),
        }
    }
}

/// Actions a step may name besides the model's server actions: `rebuild`,
/// and `os-resetState` spelled with its target state (admin only), as the
/// runner reads them (`endpoint::requests::case_action`) and the fuzzer
/// saves its repros.
const EXTRA_ACTIONS: &[&str] = &["rebuild", "reset-state-error", "reset-state-active"];

/// The action names a step may use: the model's `ServerAction` names
/// (`os-stop`, `pause`, `lock`, ...), `rebuild`, and `reset-state-error` /
/// `reset-state-active` (`os-resetState` needs a target state; cases that
/// only start in `error` say so with `given.vm_state`).
pub fn known_actions() -> Vec<&'static str> {
    use ServerAction as A;
    let model = [
        A::Stop,
        A::Start,
        A::Reboot,
        A::Pause,
        A::Unpause,
        A::Suspend,
        A::Resume,
        A::Lock { reason: None },
        A::Unlock,
        A::Shelve,
        A::Unshelve,
        A::Rescue,
        A::Unrescue,
        A::Resize,
        A::ConfirmResize,
        A::RevertResize,
        A::Restore,
    ];
    model
        .iter()
        .map(ServerAction::name)
        .chain(EXTRA_ACTIONS.iter().copied())
        .collect()
}

/// Whether `id` is `[a-z0-9][a-z0-9.-]*`.
pub fn valid_id(id: &str) -> bool {
    let mut chars = id.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    first_ok && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-')
}

/// Whether `spec` looks like `N.M` (or `N`, for an appendix without
/// subsections) and names a section of the spec.
fn valid_section(spec: &str) -> bool {
    let shaped = match spec.split_once('.') {
        Some((a, b)) => digits(a) && digits(b),
        None => digits(spec),
    };
    shaped && is_known_section(spec)
}

fn digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Every issue of `case`, whose mapping starts at `at`.
pub fn check_case(case: &Case, at: Location) -> Vec<Issue> {
    let mut issues = Vec::new();
    check_header(case, at, &mut issues);
    check_requirements(case, at, &mut issues);
    if case.steps.is_empty() {
        issues.push(Issue::new(
            at,
            format!("case '{}' has no steps", case.id),
            "add at least one step with an `expect`",
        ));
    }
    for step in &case.steps {
        check_step(&step.value, step.referenced, case, &mut issues);
    }
    issues
}

fn check_header(case: &Case, at: Location, issues: &mut Vec<Issue>) {
    if !valid_id(&case.id) {
        issues.push(Issue::new(
            at,
            format!("id '{}' is not of the form [a-z0-9][a-z0-9.-]*", case.id),
            "use lower-case letters, digits, '.' and '-', e.g. `charset.alone.2d`",
        ));
    }
    if !valid_section(&case.spec) {
        issues.push(Issue::new(
            at,
            format!(
                "spec '{}' is not a section of metadata-api.md §1-§6",
                case.spec
            ),
            "name the section the case checks, quoted: `spec: \"4.4\"`",
        ));
    }
    if let Some(dialects) = &case.dialects {
        if dialects.is_empty() {
            issues.push(Issue::new(
                at,
                "`dialects: []` makes the case run nowhere",
                "list at least one dialect, or drop `dialects` to run everywhere",
            ));
        }
        for d in dialects {
            check_dialect(d, "dialects", at, issues);
        }
    }
    if let (Some(min), Some(max)) = (case.min_microversion, case.max_microversion)
        && min > max
    {
        issues.push(Issue::new(
            at,
            format!("min_microversion {min} is above max_microversion {max}"),
            "swap them or drop one",
        ));
    }
    if case.given.locked_by.is_some() && !case.given.locked {
        issues.push(Issue::new(
            at,
            "`given.locked_by` without `given.locked: true`",
            "add `locked: true` or drop `locked_by`",
        ));
    }
}

fn check_dialect(id: &str, field: &str, at: Location, issues: &mut Vec<Issue>) {
    if !profile::builtin_ids().any(|known| known == id) {
        let known: Vec<&str> = profile::builtin_ids().collect();
        issues.push(Issue::new(
            at,
            format!("unknown dialect '{id}' in `{field}`"),
            format!("use one of: {}", known.join(", ")),
        ));
    }
}

/// The requirements a case's contents imply, with the reason for each.
fn implied_requirements(case: &Case) -> Vec<(Requirement, String)> {
    let mut needs = Vec::new();
    let given = &case.given;
    if given.vm_state.is_some_and(|s| s != VmState::Active) {
        needs.push((Requirement::StateChanges, "`given.vm_state`".to_string()));
    }
    if given.vm_state == Some(VmState::Error) {
        needs.push((
            Requirement::Admin,
            "`given.vm_state: error` (os-resetState is admin-only)".to_string(),
        ));
    }
    if given.locked {
        needs.push((Requirement::Lock, "`given.locked`".to_string()));
    }
    if given.locked_by == Some(Identity::Admin) {
        needs.push((Requirement::Admin, "`given.locked_by: admin`".to_string()));
    }
    for step in &case.steps {
        let step = &step.value;
        match step.identity {
            Identity::Admin => needs.push((Requirement::Admin, "`as: admin`".into())),
            Identity::Reader => needs.push((Requirement::Reader, "`as: reader`".into())),
            Identity::Alt => needs.push((Requirement::Alt, "`as: alt`".into())),
            Identity::Owner | Identity::None => {}
        }
        if step.server == ServerRef::Alt {
            needs.push((Requirement::Alt, "`server: alt`".into()));
        }
        if step.op == StepOp::Create {
            needs.push((Requirement::Create, "`op: create`".into()));
        }
        if step.op == StepOp::Action {
            let name = step.action.as_deref().unwrap_or("");
            let req = if name == "lock" || name == "unlock" {
                Requirement::Lock
            } else {
                Requirement::StateChanges
            };
            needs.push((req, format!("`action: {name}`")));
        }
    }
    needs
}

fn check_requirements(case: &Case, at: Location, issues: &mut Vec<Issue>) {
    let mut reported = Vec::new();
    for (req, why) in implied_requirements(case) {
        if case.requires.contains(&req) || reported.contains(&req) {
            continue;
        }
        reported.push(req);
        let name = requirement_name(req);
        issues.push(Issue::new(
            at,
            format!("the case uses {why} but does not list `requires: [{name}]`"),
            format!("add `{name}` to `requires` so targets without it skip the case"),
        ));
    }
}

fn requirement_name(req: Requirement) -> &'static str {
    match req {
        Requirement::Admin => "admin",
        Requirement::Reader => "reader",
        Requirement::Alt => "alt",
        Requirement::StateChanges => "state-changes",
        Requirement::Lock => "lock",
        Requirement::Create => "create",
    }
}

/// Which optional step fields are present, by name.
fn present_fields(step: &Step) -> Vec<&'static str> {
    let mut fields = Vec::new();
    let mut add = |on: bool, name| {
        if on {
            fields.push(name);
        }
    };
    add(step.metadata.is_some(), "metadata");
    add(step.generated_items.is_some(), "generated_items");
    add(step.key.is_some(), "key");
    add(step.value.is_some(), "value");
    add(step.meta.is_some(), "meta");
    add(step.action.is_some(), "action");
    add(step.raw.is_some(), "raw");
    add(step.server_fields.is_some(), "server_fields");
    add(step.concurrent.is_some(), "concurrent");
    add(step.query.is_some(), "query");
    add(!step.headers.is_empty(), "headers");
    fields
}

/// The optional fields each op may carry.
fn allowed_fields(op: StepOp, action: Option<&str>) -> &'static [&'static str] {
    match op {
        StepOp::List => &["query", "headers"],
        StepOp::Merge | StepOp::Replace => &["metadata", "generated_items", "query", "headers"],
        StepOp::Get | StepOp::Delete => &["key", "query", "headers"],
        StepOp::Set => &["key", "value", "meta", "query", "headers"],
        StepOp::Action if action == Some("rebuild") => &["action", "metadata"],
        StepOp::Action => &["action"],
        StepOp::Raw => &["raw"],
        StepOp::Concurrent => &["concurrent", "headers"],
        StepOp::Create => &["metadata", "generated_items", "server_fields"],
    }
}

fn op_name(op: StepOp) -> &'static str {
    match op {
        StepOp::List => "list",
        StepOp::Merge => "merge",
        StepOp::Replace => "replace",
        StepOp::Get => "get",
        StepOp::Set => "set",
        StepOp::Delete => "delete",
        StepOp::Action => "action",
        StepOp::Raw => "raw",
        StepOp::Concurrent => "concurrent",
        StepOp::Create => "create",
    }
}

fn check_step(step: &Step, at: Location, case: &Case, issues: &mut Vec<Issue>) {
    let op = op_name(step.op);
    let allowed = allowed_fields(step.op, step.action.as_deref());
    for field in present_fields(step) {
        if !allowed.contains(&field) {
            issues.push(Issue::new(
                at,
                format!("`{field}` does not apply to `op: {op}`"),
                format!("`op: {op}` takes: {}", allowed.join(", ")),
            ));
        }
    }
    check_op_arguments(step, at, issues);
    if step.op == StepOp::Create {
        check_create(step, at, issues);
    }
    let unmapped = matches!(step.op, StepOp::Raw | StepOp::Action | StepOp::Create);
    let says_ok = |e: &Expect| e.outcome == Some(OutcomeKind::Ok);
    if unmapped && (says_ok(&step.expect) || step.expect_for.values().any(says_ok)) {
        issues.push(Issue::new(
            at,
            format!("`outcome: ok` on `op: {op}`: success codes are per operation and this step has none"),
            "state the success code with `status:` (e.g. `status: 200`); refusal outcomes are fine",
        ));
    }
    check_expect(&step.expect, "expect", at, case, issues);
    check_tolerated(step, at, case, issues);
    for (dialect, expect) in &step.expect_for {
        check_dialect(dialect, "expect_for", at, issues);
        check_expect(expect, &format!("expect_for.{dialect}"), at, case, issues);
        if let Some(listed) = &case.dialects
            && !listed.contains(dialect)
        {
            issues.push(Issue::new(
                at,
                format!("`expect_for.{dialect}` names a dialect the case does not run on"),
                format!("add '{dialect}' to `dialects` or drop the entry"),
            ));
        }
    }
}

/// Every tolerated answer says why, states something, and is on a single
/// request (a concurrent step's expectations are about the whole fan-out).
fn check_tolerated(step: &Step, at: Location, case: &Case, issues: &mut Vec<Issue>) {
    if !step.tolerate.is_empty() && step.op == StepOp::Concurrent {
        issues.push(Issue::new(
            at,
            "`tolerate` on `op: concurrent`",
            "tolerate answers of single requests only",
        ));
    }
    for (i, tolerated) in step.tolerate.iter().enumerate() {
        let field = format!("tolerate[{i}]");
        if tolerated.why.trim().is_empty() {
            issues.push(Issue::new(
                at,
                format!("`{field}.why` is empty: a tolerated answer must say why"),
                "say whose behaviour it is, why it is arguably wrong and why it is not broken, with the source",
            ));
        }
        for dialect in tolerated.dialects.iter().flatten() {
            check_dialect(dialect, &format!("{field}.dialects"), at, issues);
        }
        check_expect(
            &tolerated.expect,
            &format!("{field}.expect"),
            at,
            case,
            issues,
        );
    }
}

fn check_op_arguments(step: &Step, at: Location, issues: &mut Vec<Issue>) {
    let mut need = |ok: bool, message: &str, help: &str| {
        if !ok {
            issues.push(Issue::new(at, message, help));
        }
    };
    match step.op {
        StepOp::Merge | StepOp::Replace => need(
            step.metadata.is_some() || step.generated_items.is_some(),
            "a merge/replace step needs `metadata` or `generated_items`",
            "add `metadata: {k: v}` (or `{}` for an empty map)",
        ),
        StepOp::Get | StepOp::Delete => need(
            step.key.is_some(),
            "a get/delete step needs `key`",
            "add `key: name` (the runner percent-encodes it)",
        ),
        StepOp::Set => {
            need(
                step.key.is_some(),
                "a set step needs `key`",
                "add `key: name` (the URL key)",
            );
            need(
                step.value.is_some() != step.meta.is_some(),
                "a set step needs exactly one of `value` and `meta`",
                "use `value: v` for {\"meta\": {key: v}}, or `meta: {...}` for any other map",
            );
        }
        StepOp::Action => check_action(step, at, issues),
        StepOp::Raw => match &step.raw {
            Some(raw) => check_raw(raw, at, issues),
            None => need(
                false,
                "a raw step needs `raw`",
                "add `raw: {method: POST, path: /metadata, body: '...'}`",
            ),
        },
        StepOp::Concurrent => match &step.concurrent {
            Some(c) => check_concurrent(c, at, issues),
            None => need(
                false,
                "a concurrent step needs `concurrent`",
                "add `concurrent: {op: set, count: 8}`",
            ),
        },
        StepOp::List | StepOp::Create => {}
    }
}

/// A create step makes a server of the case's own project, as the project
/// member, through the endpoint as configured: the runner deletes it as
/// that member when the case ends. Nothing addresses an existing server.
fn check_create(step: &Step, at: Location, issues: &mut Vec<Issue>) {
    let mut refuse = |on: bool, field: &str, help: &str| {
        if on {
            issues.push(Issue::new(
                at,
                format!("`{field}` does not apply to `op: create`"),
                help,
            ));
        }
    };
    refuse(
        step.identity != Identity::Owner,
        "as",
        "a created server is deleted by the project member: create as the owner (drop `as`)",
    );
    refuse(
        step.server != ServerRef::Own,
        "server",
        "a create step addresses no existing server: drop `server`",
    );
    refuse(
        step.url_project != super::format::UrlProject::Own,
        "url_project",
        "drop `url_project`: servers are created in the endpoint's project",
    );
    refuse(
        step.microversion.is_some(),
        "microversion",
        "servers are created at microversion 2.37 (the first that takes `\"networks\": \"none\"`): drop `microversion`",
    );
    // Members that make Nova create servers the answer does not name (it
    // names one id, or only a reservation): the runner could not delete them.
    for member in ["min_count", "max_count", "return_reservation_id"] {
        refuse(
            step.server_fields
                .as_ref()
                .is_some_and(|f| f.contains_key(member)),
            member,
            "a create step makes one server, whose id the answer names, so that the case can delete it: drop it from `server_fields`",
        );
    }
    if let Some(fields) = &step.server_fields
        && step.metadata.is_some()
        && fields.contains_key("metadata")
    {
        issues.push(Issue::new(
            at,
            "`metadata` and `server_fields.metadata` both set the created server's metadata",
            "keep one: `metadata` for a map, `server_fields.metadata` for anything else",
        ));
    }
}

fn check_action(step: &Step, at: Location, issues: &mut Vec<Issue>) {
    let known = known_actions();
    match step.action.as_deref() {
        None => issues.push(Issue::new(
            at,
            "an action step needs `action`",
            format!("add `action: pause` (one of: {})", known.join(", ")),
        )),
        Some(name) if !known.contains(&name) => issues.push(Issue::new(
            at,
            format!("unknown action '{name}'"),
            format!("use one of: {}", known.join(", ")),
        )),
        Some(_) => {}
    }
}

fn check_raw(raw: &RawRequest, at: Location, issues: &mut Vec<Issue>) {
    let bodies = [
        raw.body.is_some(),
        raw.body_hex.is_some(),
        raw.body_size.is_some(),
    ];
    if bodies.iter().filter(|b| **b).count() > 1 {
        issues.push(Issue::new(
            at,
            "a raw request has more than one of `body`, `body_hex`, `body_size`",
            "keep one",
        ));
    }
    if let Some(h) = &raw.body_hex
        && hex::decode(h.replace(' ', "")).is_err()
    {
        issues.push(Issue::new(
            at,
            format!("`body_hex` '{h}' is not hex"),
            "write bytes as pairs of hex digits, e.g. `7b ff 7d`",
        ));
    }
    let method_ok = !raw.method.is_empty() && raw.method.bytes().all(|b| b.is_ascii_uppercase());
    if !method_ok {
        issues.push(Issue::new(
            at,
            format!(
                "raw method '{}' is not an upper-case HTTP method",
                raw.method
            ),
            "write it like `POST`",
        ));
    }
    if !(raw.path.is_empty() || raw.path.starts_with('/') || raw.path.starts_with('?')) {
        issues.push(Issue::new(
            at,
            format!(
                "raw path '{}' must start with '/' or '?' (it is appended to the server URL)",
                raw.path
            ),
            "write e.g. `/metadata/k`",
        ));
    }
}

fn check_concurrent(c: &Concurrent, at: Location, issues: &mut Vec<Issue>) {
    if !matches!(c.op, StepOp::Merge | StepOp::Set) {
        issues.push(Issue::new(
            at,
            format!("concurrent op '{}' is not supported", op_name(c.op)),
            "use `op: merge` or `op: set`",
        ));
    }
    if c.count < 2 {
        issues.push(Issue::new(
            at,
            format!("concurrent count {} sends nothing at once", c.count),
            "use a count of 2 or more",
        ));
    }
}

fn states_something(e: &Expect) -> bool {
    e.status.is_some()
        || e.outcome.is_some()
        || e.body.is_some()
        || e.body_contains.is_some()
        || !e.headers.is_empty()
        || e.stored.is_some()
        || e.stored_contains.is_some()
        || e.stored_count.is_some()
        || e.message_contains.is_some()
        || e.error_code.is_some()
}

fn check_expect(e: &Expect, field: &str, at: Location, case: &Case, issues: &mut Vec<Issue>) {
    if !states_something(e) {
        issues.push(Issue::new(
            at,
            format!("`{field}` states nothing, so the step cannot fail"),
            "add `outcome:`, `status:`, `body:` or `stored:`",
        ));
    }
    if e.status.is_some() && e.outcome.is_some() {
        issues.push(Issue::new(
            at,
            format!("`{field}` has both `status` and `outcome`"),
            "keep `outcome` (portable through the profile) or `status` (exact codes), not both",
        ));
    }
    let nova_detail = e.message_contains.is_some() || e.error_code.is_some();
    if field == "expect" && nova_detail && case.dialects.is_none() {
        issues.push(Issue::new(
            at,
            "`message_contains`/`error_code` are dialect-specific but the case runs on every dialect",
            "restrict the case with `dialects: [nova, nova-legacy]` or move them to `expect_for`",
        ));
    }
    for (name, value) in &e.headers {
        if name.trim().is_empty() || value.is_empty() {
            issues.push(Issue::new(
                at,
                format!("header expectation '{name}: {value}' is empty"),
                "write `Header-Name: present`, `absent` or the exact value",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        assert!(valid_id("charset.alone.2d"));
        assert!(valid_id("0-a"));
        assert!(!valid_id("Charset"));
        assert!(!valid_id(".x"));
        assert!(!valid_id("a_b"));
        assert!(!valid_id(""));
    }

    #[test]
    fn sections() {
        assert!(valid_section("2.1"));
        assert!(valid_section("4.4"));
        assert!(!valid_section("2"));
        assert!(!valid_section("§2.1"));
        assert!(!valid_section("2.1.3"));
        assert!(!valid_section("9.9"));
        assert!(valid_section("9"));
        assert!(!valid_section("8"));
    }

    #[test]
    fn actions_include_lock_and_model_names() {
        let known = known_actions();
        for name in ["lock", "unlock", "pause", "os-stop", "rebuild"] {
            assert!(known.contains(&name), "{name}");
        }
        assert!(!known.contains(&"os-resetState"));
    }
}
