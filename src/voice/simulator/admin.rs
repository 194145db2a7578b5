//! The simulator's own endpoints under `/_simulator`: session records, counters, injected faults and scripted customers.
//!
//! They are not 8x8's API and need no key: they are for tests and for people trying the
//! product. Errors are `{"error": "..."}` with a 4xx status.

use crate::voice::simulator::customer::{CustomerScript, destination_key};
use crate::voice::simulator::faults::Fault;
use crate::voice::simulator::state::Shared;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// The longest a `GET /_simulator/sessions/{id}?waitMs=` may wait for the session to end.
const MAX_WAIT: Duration = Duration::from_secs(60);

pub fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/_simulator", get(overview))
        .route("/_simulator/sessions", get(sessions))
        .route("/_simulator/sessions/{session_id}", get(session))
        .route("/_simulator/stats", get(stats))
        .route("/_simulator/faults", post(arm_fault).delete(clear_faults))
        .route(
            "/_simulator/customers/{destination}",
            put(set_customer).delete(remove_customer),
        )
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, axum::Json(json!({ "error": message.into() }))).into_response()
}

/// `GET /_simulator`: what this simulator is and how its customers behave.
async fn overview(State(shared): State<Arc<Shared>>) -> Response {
    axum::Json(json!({
        "simulator": "8x8 Voice API",
        "subAccountId": shared.config.subaccount_id,
        "voiceProfiles": shared.config.voice_profiles,
        "customersByLastDigit": {
            "1": "presses 1",
            "0": "presses 0",
            "2": "never answers (NO_ANSWER)",
            "3": "busy (BUSY)",
            "4": "answers and presses nothing",
            "5": "presses 7, then 1",
            "6": "the call fails (FAILED)",
            "7": "answers and hangs up during the first prompt",
            "8": "no coverage (ERROR -2004)",
            "9": "presses 1; every webhook is delivered twice",
        },
        "endpoints": [
            "GET /_simulator/sessions",
            "GET /_simulator/sessions/{sessionId}?waitMs=5000",
            "GET /_simulator/stats",
            "POST /_simulator/faults {\"times\":1,\"status\":500} | {\"garbage\":true} | {\"delayMs\":3000}",
            "DELETE /_simulator/faults",
            "PUT /_simulator/customers/{destination} {\"keys\":\"9,1\"}",
            "DELETE /_simulator/customers/{destination}",
        ],
    }))
    .into_response()
}

/// `GET /_simulator/sessions`: summaries, newest first.
async fn sessions(State(shared): State<Arc<Shared>>) -> Response {
    let sessions = shared.records.summaries();
    axum::Json(json!({ "count": sessions.len(), "sessions": sessions })).into_response()
}

/// `GET /_simulator/sessions/{id}`; with `?waitMs=N` it first waits (at most N ms) for the
/// session to end, so that a test or a script need not poll.
async fn session(
    State(shared): State<Arc<Shared>>,
    Path(session_id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if let Some(wait) = query.get("waitMs") {
        let Ok(millis) = wait.parse::<u64>() else {
            return error(
                StatusCode::BAD_REQUEST,
                "waitMs must be a number of milliseconds",
            );
        };
        let limit = Duration::from_millis(millis).min(MAX_WAIT);
        shared
            .records
            .wait_until_ended(&session_id, limit, &shared.shutdown)
            .await;
    }
    match shared.records.detail(&session_id) {
        Some(detail) => axum::Json(detail).into_response(),
        None => error(StatusCode::NOT_FOUND, "no session with this id"),
    }
}

/// `GET /_simulator/stats`.
async fn stats(State(shared): State<Arc<Shared>>) -> Response {
    axum::Json(shared.stats.to_json(shared.records.active_count())).into_response()
}

/// `POST /_simulator/faults`: the next N Send Callflow requests fail as described.
async fn arm_fault(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    match Fault::parse(&body) {
        Ok(fault) => {
            let view = fault.to_json();
            tracing::info!(times = fault.times, "simulator: Send Callflow fault armed");
            shared.faults.arm(fault);
            axum::Json(view).into_response()
        }
        Err(message) => error(StatusCode::BAD_REQUEST, message),
    }
}

/// `DELETE /_simulator/faults`.
async fn clear_faults(State(shared): State<Arc<Shared>>) -> StatusCode {
    shared.faults.clear();
    StatusCode::NO_CONTENT
}

/// `PUT /_simulator/customers/{destination}` with `{"keys": "9,0,0"}`.
async fn set_customer(
    State(shared): State<Arc<Shared>>,
    Path(destination): Path<String>,
    body: Bytes,
) -> Response {
    let Some(digits) = destination_key(&destination) else {
        return error(
            StatusCode::BAD_REQUEST,
            "the destination must be a phone number of 7 to 15 digits",
        );
    };
    let keys = match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Object(map)) => match map.get("keys") {
            Some(Value::String(keys)) => keys.clone(),
            _ => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "keys must be a string like \"9,1\"",
                );
            }
        },
        _ => {
            return error(
                StatusCode::BAD_REQUEST,
                "the body must be a JSON object like {\"keys\": \"9,1\"}",
            );
        }
    };
    match CustomerScript::parse(&keys) {
        Ok(script) => {
            tracing::info!(
                destination = %crate::domain::mask_digits(&digits),
                script = %script,
                "simulator: scripted customer set"
            );
            shared.set_customer(digits, script);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(message) => error(StatusCode::BAD_REQUEST, message),
    }
}

/// `DELETE /_simulator/customers/{destination}`: back to the last-digit behaviour.
async fn remove_customer(
    State(shared): State<Arc<Shared>>,
    Path(destination): Path<String>,
) -> Response {
    let Some(digits) = destination_key(&destination) else {
        return error(
            StatusCode::BAD_REQUEST,
            "the destination must be a phone number of 7 to 15 digits",
        );
    };
    if shared.remove_customer(&digits) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        error(
            StatusCode::NOT_FOUND,
            "no scripted customer for this destination",
        )
    }
}
