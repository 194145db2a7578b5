//! Playing 8x8 against a server: placing calls through the real API, sending VCAs and VSSs,
//! and checking every answer (any failed check is counted as an error).

use crate::BenchResult;
use crate::http::{Answer, Connection, Summary, Tally, open_many, run_workers};
use crate::payloads;
use crate::processes::TOKEN;
use hyper::StatusCode;
use hyper::header::HeaderValue;
use serde_json::Value;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

pub const VCA_PATH: &str = "/api/webhooks/vca";
pub const VSS_PATH: &str = "/api/webhooks/vss";
pub const MAKE_CALL_PATH: &str = "/api/make-call";

/// What 8x8 sends: the token itself, as registered in the webhook's `httpAuthHeader`.
pub fn webhook_auth() -> HeaderValue {
    HeaderValue::from_static(TOKEN)
}

/// What the API requires: Basic `admin:{token}`.
pub fn api_auth() -> HeaderValue {
    HeaderValue::from_str(&callconfirm::auth::basic_header("admin", TOKEN))
        .expect("a Basic header is ASCII")
}

/// What a VCA's answer must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// The app, after a wrong key: the main prompt again, alone.
    Reprompt,
    /// The app, after 1: a closing sentence, then hangup.
    Closing,
    /// The bare handler: any non-empty callflow.
    AnyCallflow,
}

impl Expect {
    /// What the two VCAs of a session (a wrong key, then 1) must be answered with.
    pub fn wrong_key_then_confirm(is_app: bool) -> (Expect, Expect) {
        if is_app {
            (Expect::Reprompt, Expect::Closing)
        } else {
            (Expect::AnyCallflow, Expect::AnyCallflow)
        }
    }
}

/// Checks a VCA answer: 200 and the expected callflow. Returns its `clientActionId`.
pub fn check_vca(answer: &Answer, expect: Expect) -> Result<String, String> {
    if answer.status != StatusCode::OK {
        return Err(format!(
            "VCA answered {}: {}",
            answer.status,
            String::from_utf8_lossy(&answer.body)
        ));
    }
    let reply: Value = serde_json::from_slice(&answer.body)
        .map_err(|error| format!("VCA answer is not JSON: {error}"))?;
    let actions: Vec<&str> = reply["callflow"]
        .as_array()
        .map(|callflow| {
            callflow
                .iter()
                .map(|action| action["action"].as_str().unwrap_or(""))
                .collect()
        })
        .unwrap_or_default();
    let fits = match expect {
        Expect::Reprompt => actions == ["sayAndCapture"],
        Expect::Closing => actions == ["say", "hangup"],
        Expect::AnyCallflow => !actions.is_empty(),
    };
    if !fits {
        return Err(format!("VCA answer is not a {expect:?}: {reply}"));
    }
    Ok(reply["clientActionId"].as_str().unwrap_or("").to_owned())
}

/// Places one call; its 8x8 session id, or why not.
pub async fn place(
    connection: &mut Connection,
    auth: &HeaderValue,
    run: &str,
    n: usize,
    tally: &mut Tally,
) -> BenchResult<Option<String>> {
    let answer = connection
        .post(MAKE_CALL_PATH, auth, payloads::make_call(run, n))
        .await?;
    tally.record(&answer);
    let body: Value = serde_json::from_slice(&answer.body).unwrap_or(Value::Null);
    match body["data"]["sessionId"].as_str() {
        Some(session_id) if answer.status == StatusCode::OK => Ok(Some(session_id.to_owned())),
        _ => {
            tally.fail(format!("make-call answered {}: {body}", answer.status));
            Ok(None)
        }
    }
}

/// Presses 1 (confirmed: the app finishes the session) then sends 8x8's summary.
pub async fn complete(
    connection: &mut Connection,
    auth: &HeaderValue,
    session_id: &str,
    tally: &mut Tally,
) -> BenchResult<()> {
    let answer = connection
        .post(
            VCA_PATH,
            auth,
            payloads::vca(session_id, payloads::CONFIRM_KEY, None),
        )
        .await?;
    tally.record(&answer);
    if let Err(error) = check_vca(&answer, Expect::Closing) {
        tally.fail(error);
        return Ok(());
    }
    let answer = connection
        .post(VSS_PATH, auth, payloads::vss(session_id))
        .await?;
    tally.record(&answer);
    if answer.status != StatusCode::OK || answer.body.as_ref() != br#"{"status":"ok"}"# {
        tally.fail(format!(
            "VSS answered {}: {}",
            answer.status,
            String::from_utf8_lossy(&answer.body)
        ));
    }
    Ok(())
}

/// Places `count` calls (numbered from `first`) over `concurrency` connections; the session
/// ids in placing order, and the make-call figures.
pub async fn place_many(
    app_url: &str,
    run: &str,
    first: usize,
    count: usize,
    concurrency: usize,
) -> BenchResult<(Vec<String>, Summary)> {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let results = run_workers(
        open_many(app_url, concurrency).await?,
        |_, mut connection| {
            let next = Arc::clone(&next);
            let run = run.to_owned();
            async move {
                let auth = api_auth();
                let mut tally = Tally::default();
                let mut placed = Vec::new();
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= count {
                        break;
                    }
                    if let Some(session_id) =
                        place(&mut connection, &auth, &run, first + n, &mut tally).await?
                    {
                        placed.push((n, session_id));
                    }
                }
                Ok((placed, tally))
            }
        },
    )
    .await?;
    let elapsed = started.elapsed();
    let mut placed = Vec::with_capacity(count);
    let mut tallies = Vec::new();
    for (sessions, tally) in results {
        placed.extend(sessions);
        tallies.push(tally);
    }
    placed.sort_unstable_by_key(|(n, _)| *n);
    let summary = Summary::of(Tally::merge(tallies), elapsed);
    Ok((placed.into_iter().map(|(_, id)| id).collect(), summary))
}

/// Completes every session (VCA 1 then VSS) over `concurrency` connections.
pub async fn complete_many(
    app_url: &str,
    sessions: Arc<Vec<String>>,
    concurrency: usize,
) -> BenchResult<Summary> {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let tallies = run_workers(
        open_many(app_url, concurrency).await?,
        |_, mut connection| {
            let next = Arc::clone(&next);
            let sessions = Arc::clone(&sessions);
            async move {
                let auth = webhook_auth();
                let mut tally = Tally::default();
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    let Some(session_id) = sessions.get(n) else {
                        break;
                    };
                    complete(&mut connection, &auth, session_id, &mut tally).await?;
                }
                Ok(tally)
            }
        },
    )
    .await?;
    Ok(Summary::of(Tally::merge(tallies), started.elapsed()))
}

/// The app's record of a call, by session id (`GET /api/calls/{id}`).
pub async fn call_status(app_url: &str, session_id: &str) -> BenchResult<String> {
    let mut connection = Connection::open(app_url).await?;
    let answer = connection
        .get(&format!("/api/calls/{session_id}"), &api_auth())
        .await?;
    let call: Value = serde_json::from_slice(&answer.body)?;
    Ok(call["status"].as_str().unwrap_or("?").to_owned())
}

/// What the app's API says of the first, middle and last of `sessions`.
pub async fn sample_statuses(app_url: &str, sessions: &[String]) -> BenchResult<Vec<String>> {
    let mut statuses = Vec::new();
    for index in [0, sessions.len() / 2, sessions.len().saturating_sub(1)] {
        if let Some(session_id) = sessions.get(index) {
            statuses.push(call_status(app_url, session_id).await?);
        }
    }
    Ok(statuses)
}
