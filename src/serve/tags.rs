//! Server tags (`/servers/{id}/tags[/{tag}]`, microversion 2.26): the
//! model's [`crate::model::tags`] rules over the mock's world. Runs lease
//! lent servers with a tag, so the mock serves them as Nova does.

use serde_json::json;

use crate::model::outcome::{Outcome, OutcomeKind};
use crate::model::tags::{self, TAGS_FROM, TagEffect, TagOp};

use super::app::Call;
use super::message::HttpResponse;
use super::routes::TagRoute;
use super::servers::{admit, answer, empty};

/// Answer one tag request.
pub fn handle(call: &Call<'_>, route: TagRoute) -> HttpResponse {
    let admitted = match admit(call, false) {
        Ok(a) => a,
        Err(response) => return response,
    };
    let version = admitted.version;
    if version.is_none_or(|v| v < TAGS_FROM) {
        // Nova: no method for this microversion (VersionNotFoundForAPIMethod).
        let outcome = Outcome::refused(
            OutcomeKind::ItemNotFound,
            "The resource could not be found.".to_string(),
        );
        return call.refuse(&outcome, version);
    }
    let id = call.captures.server.as_deref().unwrap_or_default();
    let tag = call.captures.key.clone().unwrap_or_default();
    let op = match route {
        TagRoute::List => TagOp::List,
        TagRoute::Add => TagOp::Add(tag),
        TagRoute::Remove => TagOp::Remove(tag),
    };
    let mut world = call.world();
    match tags::apply(world.get_mut(id), &admitted.caller, id, &op) {
        Ok(TagEffect::Listed(tags)) => answer(call, 200, &json!({ "tags": tags }), version),
        Ok(TagEffect::Added) => empty(call, 201, version),
        Ok(TagEffect::AlreadyThere | TagEffect::Removed) => empty(call, 204, version),
        Err(outcome) => call.refuse(&outcome, version),
    }
}
