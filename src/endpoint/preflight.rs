//! Pre-flight: before any case or sequence, prove the endpoint is the API
//! the run thinks it is and every identity is who it claims to be, with
//! reads only (nothing a lent server holds is changed here).
//!
//! One [`Check`] line per thing verified: the endpoint answers like its
//! dialect (the first server's show is JSON with a `server` object), the
//! member reads that server's metadata (the dialect's read-back shape),
//! the reader reads the server, the admin sees a server of the second
//! project (what only an admin may; without `--alt-server` it is only
//! shown to read ours), and the second project's member sees its own
//! server (that it sees ours too is noted: a conformance failure the
//! isolation cases report, not a setup error). Writes are not tried: whether the member may write
//! and the reader may not is what the run's own primitives and cases check.

use std::time::Instant;

use serde_json::Value;

use crate::cases::format::Identity;

use super::http::Exchange;
use super::requests;
use super::servers::{Housekeeping, Purpose};

/// Why the run cannot start: the endpoint is not the dialect's API, or an
/// identity is not what it claims. Nothing was written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PreflightError(pub String);

/// One verified fact, for the terminal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check(pub String);

/// Run every check that applies to the target, in order, calling `seen`
/// with each passed check as it passes; the first failure stops.
pub async fn preflight<H: Housekeeping>(
    conversation: &mut H,
    seen: &mut dyn FnMut(Check),
) -> Result<(), PreflightError> {
    let started = Instant::now();
    let target = conversation.target().clone();
    let server = target.servers.first().cloned().ok_or_else(|| {
        PreflightError("no server to test: pass --server ID (a server of the project)".into())
    })?;
    seen(endpoint_answers(conversation, &server).await?);
    seen(member_reads_metadata(conversation, &server).await?);
    let creds = &target.credentials;
    if creds.reader_token.is_some() {
        let shown = show(conversation, &server, Identity::Reader).await;
        expect_server(&shown, "reader (--reader-token)")?;
        seen(Check(format!(
            "reader: reads server {server} (that it may not write is what the policy cases check; pre-flight writes nothing)"
        )));
    }
    let alt_server = target.alt_servers.first().cloned();
    if creds.admin_token.is_some() {
        seen(admin_is_admin(conversation, &server, alt_server.as_deref()).await?);
    }
    if creds.alt_token.is_some()
        && creds.alt_project_id.is_some()
        && let Some(alt_server) = &alt_server
    {
        seen(alt_is_isolated(conversation, &server, alt_server).await?);
    }
    seen(Check(format!(
        "pre-flight done in {} ms, nothing written",
        started.elapsed().as_millis()
    )));
    Ok(())
}

/// [`preflight`], each check printed on stderr as `pre-flight: ...` (not
/// for a disposable target, the embedded server, which is the dialect by
/// construction), secrets scrubbed from lines and error alike.
pub async fn announce<H: Housekeeping>(conversation: &mut H) -> Result<(), PreflightError> {
    let target = conversation.target();
    let scrubber = super::secrets::Scrubber::new(&target.credentials);
    let quiet = target.disposable;
    let mut print = |check: Check| {
        if !quiet {
            eprintln!("pre-flight: {}", scrubber.text(&check.0));
        }
    };
    preflight(conversation, &mut print)
        .await
        .map_err(|e| PreflightError(scrubber.text(&e.0)))
}

async fn show<H: Housekeeping>(conversation: &mut H, server: &str, who: Identity) -> Exchange {
    let target = conversation.target();
    let sender = requests::Sender {
        token: target.credentials.token_of(who).ok().flatten(),
        microversion: None,
        project_header: target
            .credentials
            .signing_key(who)
            .map(|_| target.project_id.as_str()),
    };
    let request = requests::show_request(target, server, sender);
    conversation
        .exchange(request, Purpose::Setup, None, who)
        .await
}

/// The owner's show of the first server: reachable, accepted, and a
/// `server` object, not a web page or another API.
async fn endpoint_answers<H: Housekeeping>(
    conversation: &mut H,
    server: &str,
) -> Result<Check, PreflightError> {
    let exchange = show(conversation, server, Identity::Owner).await;
    let target = conversation.target();
    let dialect = target.profile.id();
    let url = &exchange.request.url;
    let Some(response) = &exchange.response else {
        return Err(PreflightError(format!(
            "cannot reach {}: {}",
            target.endpoint,
            exchange.error.as_deref().unwrap_or("no response")
        )));
    };
    let signed = target.credentials.signing_key(Identity::Owner).is_some();
    match response.status {
        200 => {}
        401 if signed => {
            return Err(PreflightError(format!(
                "GET {url} answered 401 to an AK/SK-signed request: check --ak, --sk, --project-id and this machine's clock (X-Sdk-Date must be within 15 minutes)"
            )));
        }
        status => {
            return Err(PreflightError(format!(
                "GET {url} answered {status} {}: check --endpoint, --project-id, the token and --server",
                describe_body(response)
            )));
        }
    }
    if server_object(response).is_none() {
        return Err(PreflightError(format!(
            "GET {url} answered 200 {}: that is not the {dialect} compute API (its server show is JSON with a `server` object); check --endpoint and --dialect",
            describe_body(response)
        )));
    }
    Ok(Check(format!(
        "endpoint: {} answers as {dialect} (GET server {server}: 200, a `server` object)",
        target.endpoint
    )))
}

/// The member reads the server's metadata through the dialect's read-back.
async fn member_reads_metadata<H: Housekeeping>(
    conversation: &mut H,
    server: &str,
) -> Result<Check, PreflightError> {
    let stored = conversation
        .read_stored(server, Identity::Owner, Purpose::Setup, None)
        .await
        .map_err(|e| {
            PreflightError(format!(
                "member: cannot read the metadata of server {server}: {e}"
            ))
        })?;
    let how = match conversation.target().credentials.access_key {
        Some(_) => "signing with --ak/--sk",
        None => "with its token",
    };
    Ok(Check(format!(
        "member: reads server {server} and its metadata ({} key(s)) {how}",
        stored.len()
    )))
}

/// The admin reads a server of the second project, which only an admin may
/// (a member gets 404); without one, only that it reads ours.
async fn admin_is_admin<H: Housekeeping>(
    conversation: &mut H,
    server: &str,
    alt_server: Option<&str>,
) -> Result<Check, PreflightError> {
    let shown = show(conversation, server, Identity::Admin).await;
    expect_server(&shown, "admin (--admin-token)")?;
    let Some(alt_server) = alt_server else {
        return Ok(Check(format!(
            "admin: reads server {server} (admin rights not verified: pass --alt-server to check it sees another project's server)"
        )));
    };
    let shown = show(conversation, alt_server, Identity::Admin).await;
    match shown.response.as_ref().map(|r| r.status) {
        Some(200) => Ok(Check(format!(
            "admin: reads server {server} and the second project's server {alt_server}, as only an admin may"
        ))),
        Some(status) => Err(PreflightError(format!(
            "admin (--admin-token) is not an admin: GET {} (a server of the second project) answered {status}, where an admin reads it; pass an admin token of this project",
            shown.request.url
        ))),
        None => Err(transport(&shown, "admin (--admin-token)")),
    }
}

/// The second project's member sees its own server (its token belongs to
/// `--alt-project-id`); whether it also sees ours is noted, not fatal:
/// that is the endpoint breaking isolation, which the isolation cases
/// report as failures (stopping here would hide them behind exit 3).
async fn alt_is_isolated<H: Housekeeping>(
    conversation: &mut H,
    server: &str,
    alt_server: &str,
) -> Result<Check, PreflightError> {
    let own = show(conversation, alt_server, Identity::Alt).await;
    expect_server(
        &own,
        "second project (--alt-token, --alt-project-id, --alt-server)",
    )?;
    let ours = show(conversation, server, Identity::Alt).await;
    match ours.response.as_ref().map(|r| r.status) {
        Some(403 | 404) => Ok(Check(format!(
            "second project: reads its server {alt_server}, not server {server}"
        ))),
        Some(status) => Ok(Check(format!(
            "second project: reads its server {alt_server}, and GET of server {server}, which is not its own, answered {status}: the endpoint does not isolate projects (the isolation cases will fail)"
        ))),
        None => Err(transport(&ours, "second project (--alt-token)")),
    }
}

/// A 200 with a `server` object, else what `who` got.
fn expect_server(exchange: &Exchange, who: &str) -> Result<(), PreflightError> {
    let Some(response) = &exchange.response else {
        return Err(transport(exchange, who));
    };
    if response.status == 200 && server_object(response).is_some() {
        return Ok(());
    }
    Err(PreflightError(format!(
        "{who}: GET {} answered {} {}: check that token",
        exchange.request.url,
        response.status,
        describe_body(response)
    )))
}

fn transport(exchange: &Exchange, who: &str) -> PreflightError {
    PreflightError(format!(
        "{who}: GET {}: {}",
        exchange.request.url,
        exchange.error.as_deref().unwrap_or("no response")
    ))
}

fn server_object(response: &super::http::RecordedResponse) -> Option<Value> {
    let body = response.json()?;
    body.get("server").filter(|s| s.is_object()).cloned()
}

/// `text/html (42 bytes: "<html>…")`: what came back, briefly.
fn describe_body(response: &super::http::RecordedResponse) -> String {
    let kind = response.header("content-type").unwrap_or("no Content-Type");
    let text = String::from_utf8_lossy(&response.body);
    let mut start: String = text.chars().take(80).collect();
    if text.chars().count() > 80 {
        start.push('…');
    }
    format!("{kind} ({} bytes: {start:?})", response.body.len())
}
