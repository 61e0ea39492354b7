//! Huawei v1 response bodies: the server limits, the gateway's and the
//! service's error bodies. (`ShowServer` is the shared server document of
//! [`crate::serve::servers`].) Plain JSON values; the handlers add status and
//! headers.

use serde_json::{Value, json};

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
