//! Bringing a server to a case's `given` state, through the one
//! [`Housekeeping`] every user of the endpoint shares.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::cases::format::{Given, Identity};
use crate::model::server::{ServerAction, VmState};

pub use crate::endpoint::servers::{Goal, Housekeeping, ServerView, SetupError};

use super::execute::Session;
use super::requests;
use super::results::Purpose;

impl Session<'_> {
    /// The arguments of a `rebuild` step: the server's own image (a real
    /// cloud needs one it has) and the step's `metadata`, if any.
    pub async fn rebuild_args(
        &mut self,
        server: &str,
        step: &crate::cases::format::Step,
        number: usize,
    ) -> Value {
        let identity = self.housekeeper();
        let sender = self.sender(identity, None);
        let request = requests::show_request(self.target, server, sender);
        let exchange = self
            .send(request, Purpose::Step, Some(number), identity)
            .await;
        let image = exchange
            .response
            .and_then(|r| r.json())
            .and_then(|b| b["server"]["image"]["id"].as_str().map(str::to_string))
            .unwrap_or_else(|| requests::PLACEHOLDER_IMAGE.to_string());
        let mut args = json!({ "imageRef": image });
        if let Some(metadata) = &step.metadata {
            args["metadata"] = json!(metadata);
        }
        args
    }

    /// Bring the server to `given` (metadata first, while it is writable).
    pub async fn prepare(&mut self, server: &str, given: &Given) -> Result<(), SetupError> {
        self.reset_to(server, &seed_map(given)).await?;
        if let Some(state) = given.vm_state.filter(|s| *s != VmState::Active) {
            let action = ServerAction::reaching(state)
                .ok_or_else(|| SetupError(format!("no action leads to {state}")))?;
            self.act(server, &action, Identity::Owner, Purpose::Setup)
                .await?;
            self.wait_for(server, Some(state), Purpose::Setup).await?;
        }
        if given.locked {
            let by = given.locked_by.unwrap_or(Identity::Owner);
            self.act(
                server,
                &ServerAction::Lock { reason: None },
                by,
                Purpose::Setup,
            )
            .await?;
        }
        Ok(())
    }
}

/// The starting map of `given`: explicit items plus generated `gNNN` = `v`.
pub fn seed_map(given: &Given) -> BTreeMap<String, String> {
    let mut map = given.metadata.clone();
    for i in 0..given.generated_items {
        map.insert(format!("g{i:03}"), "v".to_string());
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn view_settles_only_without_task() {
        let body = json!({"server": {"OS-EXT-STS:vm_state": "paused", "OS-EXT-STS:task_state": null, "locked": true}});
        let view = ServerView::from_body(&body).unwrap();
        assert!(view.locked == Some(true) && Goal::In(VmState::Paused).met_by(&view));
        assert!(!Goal::In(VmState::Active).met_by(&view));
        let busy = json!({"server": {"OS-EXT-STS:vm_state": "active", "OS-EXT-STS:task_state": "pausing"}});
        assert!(!Goal::Settled.met_by(&ServerView::from_body(&busy).unwrap()));
    }

    #[test]
    fn confirm_resize_waits_until_the_server_leaves_resized() {
        // Nova answers 204 while the server is still `resized`, no task set.
        let still =
            json!({"server": {"OS-EXT-STS:vm_state": "resized", "OS-EXT-STS:task_state": null}});
        let still = ServerView::from_body(&still).unwrap();
        let goal = Goal::after(&ServerAction::ConfirmResize);
        assert!(Goal::Settled.met_by(&still) && !goal.met_by(&still));
        let done =
            json!({"server": {"OS-EXT-STS:vm_state": "active", "OS-EXT-STS:task_state": null}});
        assert!(goal.met_by(&ServerView::from_body(&done).unwrap()));
    }

    #[test]
    fn seed_adds_generated_items() {
        let given = Given {
            metadata: [("a".to_string(), "1".to_string())].into(),
            generated_items: 2,
            ..Given::default()
        };
        let map = seed_map(&given);
        assert_eq!(map.len(), 3);
        assert_eq!(map["g001"], "v");
    }
}
