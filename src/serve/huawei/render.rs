//! Huawei v1 response bodies: `ShowServer`, the server limits, the
//! gateway's error body. Plain JSON values; the handlers add status and
//! headers.

use serde_json::{Value, json};

use crate::model::server::ServerRecord;

/// `GET /v1/{p}/cloudservers/{s}`: `{"server": {...}}` with the fields a
/// client polls (`status`, `OS-EXT-STS:vm_state`, `OS-EXT-STS:task_state`)
/// and the metadata map (spec §1.4).
pub fn show_server(server: &ServerRecord) -> Value {
    json!({"server": {
        "id": server.id,
        "name": server.name,
        "tenant_id": server.project_id,
        "status": server.vm_state.status(),
        "OS-EXT-STS:vm_state": server.vm_state.as_str(),
        "OS-EXT-STS:task_state": Value::Null,
        "locked": server.locked,
        "metadata": server.metadata,
    }})
}

/// `GET /v1/{p}/cloudservers/limits`: `{"absolute": {...}}`, where
/// `maxServerMeta` is the metadata quota (`-1`: unlimited, the OpenStack
/// convention).
pub fn limits(quota: Option<usize>) -> Value {
    let max_meta = quota.map_or(-1, |q| i64::try_from(q).unwrap_or(i64::MAX));
    json!({"absolute": {
        "maxServerMeta": max_meta,
        "maxPersonality": 5,
        "maxPersonalitySize": 10240,
    }})
}

/// The API gateway's error body (spec §5.5).
pub fn gateway_error(code: &str, message: &str, request_id: &str) -> Value {
    json!({"error_code": code, "error_msg": message, "request_id": request_id})
}

/// A service error body (spec §5.5), e.g. `Ecs.0114`.
pub fn service_error(code: &str, message: &str) -> Value {
    json!({"error": {"code": code, "message": message}})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Metadata;
    use crate::model::server::{ServerAction, apply_action};

    #[test]
    fn show_server_reflects_state_and_metadata() {
        let mut metadata = Metadata::new();
        metadata.insert("k".into(), "v".into());
        let mut server = ServerRecord::new("s1", "p1", "one", metadata);
        let body = show_server(&server);
        assert_eq!(body["server"]["id"], "s1");
        assert_eq!(body["server"]["status"], "ACTIVE");
        assert_eq!(body["server"]["OS-EXT-STS:vm_state"], "active");
        assert_eq!(body["server"]["metadata"], json!({"k": "v"}));
        apply_action(&mut server, &ServerAction::Stop, false).unwrap();
        let body = show_server(&server);
        assert_eq!(body["server"]["status"], "SHUTOFF");
        assert_eq!(body["server"]["OS-EXT-STS:vm_state"], "stopped");
    }

    #[test]
    fn limits_and_error_shapes() {
        assert_eq!(limits(Some(128))["absolute"]["maxServerMeta"], 128);
        assert_eq!(limits(None)["absolute"]["maxServerMeta"], -1);
        assert_eq!(
            gateway_error("APIGW.0301", "bad", "r1"),
            json!({"error_code": "APIGW.0301", "error_msg": "bad", "request_id": "r1"})
        );
        assert_eq!(
            service_error("Ecs.0114", "Instance[x] could not be found."),
            json!({"error": {"code": "Ecs.0114", "message": "Instance[x] could not be found."}})
        );
    }
}
