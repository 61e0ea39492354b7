//! What the model decides a request deserves, before any dialect turns it
//! into a status code and an error body.

use std::fmt;

use super::Metadata;

/// The kinds of answer. Profiles key their `emit`/`accept` tables on the
/// kebab-case name of each kind, so adding a kind here is adding a name that
/// every profile must map (the profile loader refuses a profile that misses
/// one).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Deserialize,
    schemars::JsonSchema,
    serde::Serialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum OutcomeKind {
    /// The operation succeeded.
    Ok,
    /// Body larger than the limit (spec §2.6).
    TooLarge,
    /// No or unusable credentials.
    Unauthorized,
    /// Microversion header not `2.N`.
    BadMicroversion,
    /// Microversion outside the served range.
    UnsupportedMicroversion,
    /// Content-Type other than JSON (spec §5.4).
    BadMediaType,
    /// Body is not JSON.
    MalformedBody,
    /// URL project differs from the token's.
    ProjectMismatch,
    /// Body or query breaks the schema, or a key/value breaks the rules.
    InvalidInput,
    /// Server missing, not a UUID, or another project's.
    ServerNotFound,
    /// Policy refuses the caller (e.g. a reader writing).
    Forbidden,
    /// Set-one-key with a body key different from the URL key.
    UriBodyMismatch,
    /// Get or delete of a key that is not there.
    ItemNotFound,
    /// Server locked and the caller is not an admin.
    Locked,
    /// vm_state does not allow writes, or the server never launched.
    StateConflict,
    /// More items than the quota.
    OverQuota,
}

impl OutcomeKind {
    pub const ALL: [OutcomeKind; 16] = [
        OutcomeKind::Ok,
        OutcomeKind::TooLarge,
        OutcomeKind::Unauthorized,
        OutcomeKind::BadMicroversion,
        OutcomeKind::UnsupportedMicroversion,
        OutcomeKind::BadMediaType,
        OutcomeKind::MalformedBody,
        OutcomeKind::ProjectMismatch,
        OutcomeKind::InvalidInput,
        OutcomeKind::ServerNotFound,
        OutcomeKind::Forbidden,
        OutcomeKind::UriBodyMismatch,
        OutcomeKind::ItemNotFound,
        OutcomeKind::Locked,
        OutcomeKind::StateConflict,
        OutcomeKind::OverQuota,
    ];

    /// The kebab-case name used in profiles and case files.
    pub fn name(self) -> &'static str {
        match self {
            OutcomeKind::Ok => "ok",
            OutcomeKind::TooLarge => "too-large",
            OutcomeKind::Unauthorized => "unauthorized",
            OutcomeKind::BadMicroversion => "bad-microversion",
            OutcomeKind::UnsupportedMicroversion => "unsupported-microversion",
            OutcomeKind::BadMediaType => "bad-media-type",
            OutcomeKind::MalformedBody => "malformed-body",
            OutcomeKind::ProjectMismatch => "project-mismatch",
            OutcomeKind::InvalidInput => "invalid-input",
            OutcomeKind::ServerNotFound => "server-not-found",
            OutcomeKind::Forbidden => "forbidden",
            OutcomeKind::UriBodyMismatch => "uri-body-mismatch",
            OutcomeKind::ItemNotFound => "item-not-found",
            OutcomeKind::Locked => "locked",
            OutcomeKind::StateConflict => "state-conflict",
            OutcomeKind::OverQuota => "over-quota",
        }
    }

    pub fn parse(name: &str) -> Option<OutcomeKind> {
        OutcomeKind::ALL.into_iter().find(|k| k.name() == name)
    }
}

impl fmt::Display for OutcomeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a successful operation answers with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Success {
    /// `{"metadata": {...}}` (list, merge, replace).
    Metadata(Metadata),
    /// `{"meta": {k: v}}` (get, set).
    Meta(String, String),
    /// No body (delete).
    Empty,
}

/// The decided answer: success with a body, or a refusal with Nova's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Success(Success),
    Refused { kind: OutcomeKind, message: String },
}

impl Outcome {
    pub fn refused(kind: OutcomeKind, message: impl Into<String>) -> Outcome {
        Outcome::Refused {
            kind,
            message: message.into(),
        }
    }

    pub fn kind(&self) -> OutcomeKind {
        match self {
            Outcome::Success(_) => OutcomeKind::Ok,
            Outcome::Refused { kind, .. } => *kind,
        }
    }
}
