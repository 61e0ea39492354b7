//! The startup contract of `metaconform serve`: the one JSON line printed on
//! stdout once the server accepts connections. Other tools (and
//! `metaconform run`) build their target from exactly these values.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartupInfo {
    /// What a user would find in the service catalog for the dialect: for
    /// `nova`, `http://127.0.0.1:PORT/v2.1/PROJECT_ID`; for Huawei v1 the
    /// host root.
    pub endpoint: String,
    pub project_id: String,
    /// Member of `project_id`.
    pub token: String,
    pub admin_token: String,
    /// Read-only member of `project_id`.
    pub reader_token: String,
    /// Member of the second project.
    pub alt_token: String,
    pub alt_project_id: String,
    /// Servers of `project_id`.
    pub servers: Vec<String>,
    /// Servers of the alt project.
    pub alt_servers: Vec<String>,
    pub dialect: String,
    /// Huawei dialects: an AK/SK pair the mock verifies `SDK-HMAC-SHA256`
    /// signatures with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ak: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sk: Option<String>,
}
