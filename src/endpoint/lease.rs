//! A run's lease on the servers it changes, so two runs (or two shards of
//! one) never share a lent server: one would snapshot the other's half-way
//! state as "how the user left it" and restore that.
//!
//! The lease is a server tag, `metaconform-lease:<run>:<expires>` (Nova
//! server tags, microversion 2.26), never a metadata key: the metadata is
//! what cases write, replace and count against the quota. Before its
//! snapshot a run reads the server's tags; a lease of another run that has
//! not expired makes it refuse the server. Otherwise it adds its own and
//! reads the tags again: a run that then sees another run's lease withdraws
//! (when two added theirs at once, both may withdraw and refuse: safe, and
//! a retry settles it). The lease is removed once the server is restored
//! (by the run or by `metaconform restore`).
//!
//! Dialects without server tags (Huawei, legacy `/v2`) cannot be leased;
//! [`take`] says so and the run goes on with a warning.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::cases::format::Identity;
use crate::endpoint::http::{Exchange, RecordedRequest};
use crate::endpoint::servers::{Conversation, Purpose, SetupError};

/// What every lease tag starts with.
pub const LEASE_PREFIX: &str = "metaconform-lease:";

/// How long a lease holds when its run neither ends nor removes it (a
/// crashed run's lease stops blocking others after this). No run may last
/// longer: `fuzz` refuses a budget above [`LONGEST_RUN`].
pub const LEASE_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// The longest campaign a lease covers, with an hour to put servers back.
pub const LONGEST_RUN: Duration = Duration::from_secs(23 * 60 * 60);

/// The microversion the tag requests are sent at.
const TAGS_VERSION: &str = "2.26";

/// One lease tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub run: String,
    /// Seconds since the Unix epoch.
    pub expires: u64,
}

impl Lease {
    /// The lease of run `run` taken at `now`.
    pub fn new(run: &str, now: SystemTime) -> Lease {
        Lease {
            run: run.to_string(),
            expires: unix(now) + LEASE_TTL.as_secs(),
        }
    }

    /// Read a tag; `None` for tags that are not leases.
    pub fn parse(tag: &str) -> Option<Lease> {
        let (run, expires) = tag.strip_prefix(LEASE_PREFIX)?.rsplit_once(':')?;
        Some(Lease {
            run: run.to_string(),
            expires: expires.parse().ok()?,
        })
    }

    pub fn tag(&self) -> String {
        format!("{LEASE_PREFIX}{}:{}", self.run, self.expires)
    }

    pub fn is_live(&self, now: SystemTime) -> bool {
        self.expires > unix(now)
    }
}

fn unix(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// What taking a lease on one server gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Taken {
    /// The server carries this run's lease tag.
    Held(String),
    /// The server cannot be leased (the reason); the run goes on.
    Unleased(String),
}

/// Take run `run`'s lease on `server` as `identity`. `Err` when another
/// run holds a live lease (the server must not be used) or the endpoint
/// answers the tag requests in a way that says nothing.
pub async fn take<C: Conversation>(
    conversation: &mut C,
    server: &str,
    identity: Identity,
    run: &str,
) -> Result<Taken, SetupError> {
    if !conversation.target().profile.serves_tags() {
        let dialect = conversation.target().profile.id().to_string();
        return Ok(Taken::Unleased(format!(
            "{dialect} has no server tags to hold a lease with (Nova microversion 2.26)"
        )));
    }
    let now = SystemTime::now();
    if let Some(holder) = live_lease_of_other(conversation, server, identity, run, now).await? {
        return Err(held_by(server, &holder));
    }
    let mine = Lease::new(run, now);
    let added = send(conversation, "PUT", server, Some(&mine.tag()), identity).await;
    match status(&added) {
        Some(201 | 204) => {}
        Some(409) => {
            return Ok(Taken::Unleased(format!(
                "server {server} refuses tags in its current state (409)"
            )));
        }
        other => return Err(unexpected(server, "add the lease tag", other, &added)),
    }
    // Another run may have read "free" just before we added ours: whoever
    // sees a rival after adding its own withdraws (both may; then both
    // refuse, which is safe). The tag is given back on every way out.
    let rival = live_lease_of_other(conversation, server, identity, run, now).await;
    match rival {
        Ok(None) => Ok(Taken::Held(mine.tag())),
        Ok(Some(rival)) => {
            release(conversation, server, identity, &mine.tag()).await?;
            Err(held_by(server, &rival))
        }
        Err(e) => {
            let _ = release(conversation, server, identity, &mine.tag()).await;
            Err(e)
        }
    }
}

/// Remove the lease tag `tag` from `server` (gone already is fine).
pub async fn release<C: Conversation>(
    conversation: &mut C,
    server: &str,
    identity: Identity,
    tag: &str,
) -> Result<(), SetupError> {
    let removed = send(conversation, "DELETE", server, Some(tag), identity).await;
    match status(&removed) {
        Some(204 | 404) => Ok(()),
        other => Err(unexpected(server, "remove the lease tag", other, &removed)),
    }
}

async fn live_lease_of_other<C: Conversation>(
    conversation: &mut C,
    server: &str,
    identity: Identity,
    run: &str,
    now: SystemTime,
) -> Result<Option<Lease>, SetupError> {
    let listed = send(conversation, "GET", server, None, identity).await;
    let tags = listed
        .response
        .as_ref()
        .filter(|r| r.status == 200)
        .and_then(|r| r.json())
        .and_then(|body| body.get("tags").cloned())
        .and_then(|tags| serde_json::from_value::<Vec<String>>(tags).ok())
        .ok_or_else(|| unexpected(server, "list its tags", status(&listed), &listed))?;
    Ok(tags
        .iter()
        .filter_map(|t| Lease::parse(t))
        .filter(|lease| lease.run != run && lease.is_live(now))
        .min_by_key(Lease::tag))
}

async fn send<C: Conversation>(
    conversation: &mut C,
    method: &str,
    server: &str,
    tag: Option<&str>,
    identity: Identity,
) -> Exchange {
    let target = conversation.target();
    let show = target.server_url(&target.profile.file.servers.show, server);
    let url = match tag {
        Some(tag) => format!("{show}/tags/{}", crate::endpoint::encode_segment(tag)),
        None => format!("{show}/tags"),
    };
    let request = RecordedRequest {
        method: method.to_string(),
        url,
        headers: target.sender(identity, Some(TAGS_VERSION)).headers(false),
        body: Vec::new(),
    };
    conversation
        .exchange(request, Purpose::Setup, None, identity)
        .await
}

fn status(exchange: &Exchange) -> Option<u16> {
    exchange.response.as_ref().map(|r| r.status)
}

fn held_by(server: &str, holder: &Lease) -> SetupError {
    let until = time::OffsetDateTime::from_unix_timestamp(holder.expires as i64)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| holder.expires.to_string());
    SetupError(format!(
        "server {server} is leased by another metaconform run ({}, until {until}): wait for it to finish, pass another --server, or, if that run is gone, remove the tag (openstack server unset --tag {} {server})",
        holder.run,
        holder.tag()
    ))
}

fn unexpected(server: &str, what: &str, status: Option<u16>, exchange: &Exchange) -> SetupError {
    let answer = match status {
        Some(code) => format!("answered {code}"),
        None => exchange.error.clone().unwrap_or_else(|| "no answer".into()),
    };
    SetupError(format!(
        "server {server}: cannot {what} for the run's lease: {answer}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lease_tag_reads_back_and_fits_nova_tags() {
        let now = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let lease = Lease::new("0123456789ab", now);
        let tag = lease.tag();
        assert_eq!(Lease::parse(&tag), Some(lease.clone()));
        assert!(crate::model::tags::is_valid_tag(&tag), "{tag}");
        assert!(lease.is_live(now));
        assert!(!lease.is_live(now + LEASE_TTL));
        assert_eq!(Lease::parse("owner-team"), None);
        assert_eq!(Lease::parse("metaconform-lease:x:soon"), None);
    }
}
