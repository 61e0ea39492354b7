//! Handlers of the Huawei v1 routes Nova has no counterpart for: limits,
//! batch stop/start with their jobs, and automatic recovery (spec §4.2, §9).
//!
//! Each runs the model's common stages first
//! ([`crate::model::pipeline::admit`], through the shared server-route
//! admission), then the model's rules: batch bodies
//! ([`crate::model::batch`]), state changes
//! ([`crate::model::server::apply_action`]), recovery values
//! ([`crate::model::autorecovery`]). Refusals are outcomes the profile
//! renders.

use serde_json::json;

use crate::endpoint::sign::SdkDate;
use crate::model::outcome::{Outcome, OutcomeKind};
use crate::model::pipeline::{self, policy_denied, visible_server};
use crate::model::server::{Actor, apply_action};
use crate::model::{autorecovery, batch};
use crate::serve::app::Call;
use crate::serve::message::HttpResponse;
use crate::serve::servers::{admit, answer, empty};

use super::V1Route;
use super::jobs::{self, SubJobError};
use super::render;

/// Answer one v1 request.
pub fn handle(call: &Call<'_>, route: V1Route) -> HttpResponse {
    let result = match route {
        V1Route::Limits => limits(call),
        V1Route::BatchAction => batch_action(call),
        V1Route::ShowJob => show_job(call),
        V1Route::ShowAutoRecovery => show_autorecovery(call),
        V1Route::UpdateAutoRecovery => update_autorecovery(call),
    };
    result.unwrap_or_else(|response| response)
}

type Answer = Result<HttpResponse, HttpResponse>;

/// `GET …/limits`: `{"absolute": {"maxServerMeta": …}}` from the profile.
fn limits(call: &Call<'_>) -> Answer {
    let admitted = admit(call, false)?;
    let quota = call.profile().rules.metadata.quota;
    Ok(answer(call, 200, &render::limits(quota), admitted.version))
}

/// `POST …/action`: every named server must be visible (else the whole
/// request is refused); each is then stopped or started on its own, and the
/// job records which succeeded.
fn batch_action(call: &Call<'_>) -> Answer {
    let admitted = admit(call, true)?;
    let version = admitted.version;
    let caller = &admitted.caller;
    let request =
        batch::parse(&call.request.body).map_err(|outcome| call.refuse(&outcome, version))?;
    let job_type = jobs::job_type(&request.action).ok_or_else(|| {
        let outcome = Outcome::refused(OutcomeKind::InvalidInput, "unsupported batch action");
        call.refuse(&outcome, version)
    })?;
    let mut world = call.world();
    for id in &request.servers {
        let seen = world.get(id).map(|s| call.faults().server(s, Some(caller)));
        visible_server(seen.as_deref(), caller, id).map_err(|o| call.refuse(&o, version))?;
    }
    if !caller.may_write() {
        return Err(call.refuse(&policy_denied(request.action.name()), version));
    }
    let results = request
        .servers
        .iter()
        .map(|id| {
            let refusal = match world.get_mut(id) {
                Some(server) => {
                    let actor = Actor::of(caller, &server.project_id);
                    apply_action(server, &request.action, actor)
                }
                .err()
                .map(|e| e.outcome(request.action.name(), id)),
                None => Some(pipeline::server_not_found(id)),
            };
            (id.clone(), refusal.map(|o| sub_job_error(call, &o)))
        })
        .collect();
    drop(world);
    let job_id =
        call.app
            .huawei()
            .jobs()
            .record(&caller.project, job_type, results, SdkDate::now());
    Ok(answer(call, 200, &json!({ "job_id": job_id }), version))
}

/// A failed sub-job carries the code the profile emits for the outcome.
fn sub_job_error(call: &Call<'_>, outcome: &Outcome) -> SubJobError {
    let (code, reason) = match outcome {
        Outcome::Refused { kind, message } => (call.profile().emit(*kind).1, message.clone()),
        Outcome::Success(_) => (None, String::new()),
    };
    SubJobError {
        code: code.unwrap_or("Ecs.0000").to_string(),
        reason,
    }
}

/// `GET /v1/{p}/jobs/{job}`: the caller's project's job.
fn show_job(call: &Call<'_>) -> Answer {
    let admitted = admit(call, false)?;
    let id = call.captures.job.as_deref().unwrap_or_default();
    let book = call.app.huawei().jobs();
    match book.get(&admitted.caller.project, id) {
        Some(job) => Ok(answer(call, 200, &job.to_json(), admitted.version)),
        None => {
            let outcome = Outcome::refused(
                OutcomeKind::ItemNotFound,
                format!("Job {id} could not be found."),
            );
            Err(call.refuse(&outcome, admitted.version))
        }
    }
}

/// `GET …/autorecovery`: `{"support_auto_recovery": "true" | "false"}`.
fn show_autorecovery(call: &Call<'_>) -> Answer {
    let admitted = admit(call, false)?;
    let caller = &admitted.caller;
    let id = call.captures.server.as_deref().unwrap_or_default();
    let world = call.world();
    let seen = world.get(id).map(|s| call.faults().server(s, Some(caller)));
    let server = visible_server(seen.as_deref(), caller, id)
        .map_err(|o| call.refuse(&o, admitted.version))?;
    let shown = autorecovery::show(server.auto_recovery);
    Ok(answer(call, 200, &shown, admitted.version))
}

/// `PUT …/autorecovery` → 204. The body is checked before the server is
/// looked up, as the metadata pipeline checks schemas first.
fn update_autorecovery(call: &Call<'_>) -> Answer {
    let admitted = admit(call, true)?;
    let version = admitted.version;
    let caller = &admitted.caller;
    let enabled = autorecovery::parse_update(&call.request.body)
        .map_err(|outcome| call.refuse(&outcome, version))?;
    let id = call.captures.server.as_deref().unwrap_or_default();
    let mut world = call.world();
    let seen = world.get(id).map(|s| call.faults().server(s, Some(caller)));
    visible_server(seen.as_deref(), caller, id).map_err(|o| call.refuse(&o, version))?;
    if !caller.may_write() {
        return Err(call.refuse(&policy_denied("ecs:cloudServers:setAutoRecovery"), version));
    }
    let server = world
        .get_mut(id)
        .ok_or_else(|| call.refuse(&pipeline::server_not_found(id), version))?;
    server.auto_recovery = enabled;
    Ok(empty(call, 204, version))
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use crate::serve::App;
    use crate::serve::message::{HttpRequest, HttpResponse};

    struct V1 {
        app: App,
        project: String,
        server: String,
    }

    fn v1(dialect: &str) -> V1 {
        let profile = crate::profile::builtin(dialect).unwrap();
        let app = App::new(profile, 2, Vec::new(), 0).unwrap();
        let project = app.projects().main.clone();
        let server = app.server_ids(&project)[0].clone();
        V1 {
            app,
            project,
            server,
        }
    }

    impl V1 {
        fn send_as(
            &self,
            token: &str,
            method: &str,
            path: &str,
            body: Option<&str>,
        ) -> HttpResponse {
            let target = format!("/v1/{}{path}", self.project);
            let mut request = HttpRequest::new(method, &target).header("X-Auth-Token", token);
            if let Some(body) = body {
                request = request
                    .header("Content-Type", "application/json;charset=UTF-8")
                    .body(body.as_bytes().to_vec());
            }
            self.app.handle(request)
        }

        fn send(&self, method: &str, path: &str, body: Option<&str>) -> HttpResponse {
            let token = format!("demo:{}", self.project);
            self.send_as(&token, method, path, body)
        }

        fn stop_body(&self, ids: &[&str]) -> String {
            let servers: Vec<Value> = ids.iter().map(|id| json!({"id": id})).collect();
            json!({"os-stop": {"type": "SOFT", "servers": servers}}).to_string()
        }
    }

    fn body(r: &HttpResponse) -> Value {
        serde_json::from_slice(&r.body).unwrap_or(Value::Null)
    }

    #[test]
    fn limits_publish_the_profile_quota() {
        let t = v1("ecs-v1");
        let r = t.send("GET", "/cloudservers/limits", None);
        assert_eq!(r.status, 200);
        assert_eq!(body(&r)["absolute"]["maxServerMeta"], 128);
    }

    #[test]
    fn batch_stop_then_start_through_jobs() {
        let t = v1("ecs-v1");
        let s = t.server.clone();
        let r = t.send("POST", "/cloudservers/action", Some(&t.stop_body(&[&s])));
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
        let job = body(&r)["job_id"].as_str().unwrap().to_string();
        let shown = t.send("GET", &format!("/jobs/{job}"), None);
        assert_eq!(shown.status, 200);
        assert_eq!(body(&shown)["status"], "SUCCESS");
        let server = body(&t.send("GET", &format!("/cloudservers/{s}"), None));
        assert_eq!(server["server"]["OS-EXT-STS:vm_state"], "stopped");
        assert_eq!(server["server"]["status"], "SHUTOFF");

        // Stopping a stopped server fails in its sub-job, with the
        // profile's state-conflict code.
        let again = t.send("POST", "/cloudservers/action", Some(&t.stop_body(&[&s])));
        let job = body(&again)["job_id"].as_str().unwrap().to_string();
        let failed = body(&t.send("GET", &format!("/jobs/{job}"), None));
        assert_eq!(failed["status"], "FAIL");
        assert_eq!(failed["entities"]["sub_jobs"][0]["error_code"], "Ecs.0100");

        let start = json!({"os-start": {"servers": [{"id": s}]}}).to_string();
        let r = t.send("POST", "/cloudservers/action", Some(&start));
        assert_eq!(r.status, 200);
        let server = body(&t.send("GET", &format!("/cloudservers/{s}"), None));
        assert_eq!(server["server"]["OS-EXT-STS:vm_state"], "active");
    }

    #[test]
    fn batch_refusals() {
        let t = v1("ecs-v1");
        let s = t.server.clone();
        let unknown = t.send(
            "POST",
            "/cloudservers/action",
            Some(&t.stop_body(&[&s, "nope"])),
        );
        assert_eq!(unknown.status, 404);
        assert_eq!(body(&unknown)["error"]["code"], "Ecs.0114");
        // Nothing was stopped: the batch is refused as a whole.
        let server = body(&t.send("GET", &format!("/cloudservers/{s}"), None));
        assert_eq!(server["server"]["OS-EXT-STS:vm_state"], "active");

        let bad = t.send(
            "POST",
            "/cloudservers/action",
            Some(r#"{"os-stop": {"type": "soft", "servers": []}}"#),
        );
        assert_eq!(
            (bad.status, body(&bad)["error"]["code"].clone()),
            (400, json!("Ecs.0005"))
        );
        let blank = t.send("POST", "/cloudservers/action", Some(""));
        assert_eq!(
            (blank.status, body(&blank)["error"]["code"].clone()),
            (400, json!("Common.0002"))
        );

        let reader = format!("r:{}:reader", t.project);
        let denied = t.send_as(
            &reader,
            "POST",
            "/cloudservers/action",
            Some(&t.stop_body(&[&s])),
        );
        assert_eq!(
            (denied.status, body(&denied)["error"]["code"].clone()),
            (403, json!("Ecs.0003"))
        );

        let other = t.app.server_ids(&t.app.projects().alt.clone())[0].clone();
        let foreign = t.send(
            "POST",
            "/cloudservers/action",
            Some(&t.stop_body(&[&other])),
        );
        assert_eq!(foreign.status, 404);
    }

    #[test]
    fn jobs_are_private_to_the_project() {
        let t = v1("ecs-v1");
        let r = t.send(
            "POST",
            "/cloudservers/action",
            Some(&t.stop_body(&[&t.server])),
        );
        let job = body(&r)["job_id"].as_str().unwrap().to_string();
        let alt = t.app.projects().alt.clone();
        let request = HttpRequest::new("GET", &format!("/v1/{alt}/jobs/{job}"))
            .header("X-Auth-Token", &format!("alt:{alt}"));
        assert_eq!(t.app.handle(request).status, 404);
        assert_eq!(t.send("GET", "/jobs/ffffffff", None).status, 404);
    }

    #[test]
    fn stopped_servers_still_take_metadata_writes() {
        let t = v1("ecs-v1");
        let s = t.server.clone();
        t.send("POST", "/cloudservers/action", Some(&t.stop_body(&[&s])));
        let merged = t.send(
            "POST",
            &format!("/cloudservers/{s}/metadata"),
            Some(r#"{"metadata": {"k": "v"}}"#),
        );
        assert_eq!(merged.status, 200);
        let deleted = t.send("DELETE", &format!("/cloudservers/{s}/metadata/k"), None);
        assert_eq!(deleted.status, 204);
    }

    #[test]
    fn autorecovery_round_trip_and_refusals() {
        let t = v1("ecs-v1");
        let path = format!("/cloudservers/{}/autorecovery", t.server);
        let shown = t.send("GET", &path, None);
        assert_eq!(body(&shown), json!({"support_auto_recovery": "true"}));
        let set = t.send("PUT", &path, Some(r#"{"support_auto_recovery": "false"}"#));
        assert_eq!(set.status, 204);
        assert_eq!(
            body(&t.send("GET", &path, None)),
            json!({"support_auto_recovery": "false"})
        );
        for bad in [
            r#"{"support_auto_recovery": true}"#,
            r#"{"support_auto_recovery": "TRUE"}"#,
            r#"{"support_auto_recovery": ""}"#,
            r#"{}"#,
        ] {
            let r = t.send("PUT", &path, Some(bad));
            assert_eq!(r.status, 400, "{bad}");
        }
        assert_eq!(
            body(&t.send("GET", &path, None)),
            json!({"support_auto_recovery": "false"})
        );
        let missing = t.send("GET", "/cloudservers/nope/autorecovery", None);
        assert_eq!(
            (missing.status, body(&missing)["error"]["code"].clone()),
            (404, json!("Ecs.0114"))
        );
        let missing = t.send(
            "PUT",
            "/cloudservers/nope/autorecovery",
            Some(r#"{"support_auto_recovery": "true"}"#),
        );
        assert_eq!(missing.status, 404);
        let reader = format!("r:{}:reader", t.project);
        assert_eq!(t.send_as(&reader, "GET", &path, None).status, 200);
        let denied = t.send_as(
            &reader,
            "PUT",
            &path,
            Some(r#"{"support_auto_recovery": "true"}"#),
        );
        assert_eq!(denied.status, 403);
    }

    #[test]
    fn bms_v1_has_batch_actions_and_its_own_not_found() {
        let t = v1("bms-v1");
        let r = t.send(
            "POST",
            "/baremetalservers/action",
            Some(&t.stop_body(&[&t.server])),
        );
        assert_eq!(r.status, 200);
        let missing = t.send("GET", "/baremetalservers/nope", None);
        assert_eq!(
            (missing.status, body(&missing)["error"]["code"].clone()),
            (400, json!("BMS.0040"))
        );
        assert_eq!(
            t.send(
                "GET",
                &format!("/cloudservers/{}/autorecovery", t.server),
                None
            )
            .status,
            404
        );
    }

    #[test]
    fn no_credentials_is_the_gateway_401() {
        let t = v1("ecs-v1");
        let request = HttpRequest::new("GET", &format!("/v1/{}/cloudservers/limits", t.project));
        let r = t.app.handle(request);
        assert_eq!(r.status, 401);
        let b = body(&r);
        assert_eq!(b["error_code"], "APIGW.0301");
        assert!(b["request_id"].as_str().is_some_and(|id| !id.is_empty()));
    }
}
