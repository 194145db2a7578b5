//! `POST /api/webhooks/vca` and `/vss`: 8x8's callbacks, routed by their `eventType` so that
//! a misdirected event (all types may share one URL, CONTRACT A-26) is still handled right.

use crate::auth::WebhookCaller;
use crate::domain::JsonText;
use crate::error::{ApiError, ErrorBody};
use crate::routes::extract::{JsonObjectText, typed_text};
use crate::state::AppState;
use crate::voice::wire::{VcaEvent, VcaPayload, VcaReply, VssEvent, extract_dtmf};
use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// The acknowledgement of a VSS (and of events we do not act on).
#[derive(Debug, Serialize, ToSchema)]
pub struct Ack {
    /// Always `ok`.
    #[schema(example = "ok")]
    status: &'static str,
}

impl Ack {
    fn ok() -> Response {
        Json(Ack { status: "ok" }).into_response()
    }
}

/// What an event is, by its `eventType`, or by the URL it reached when it has none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EventKind {
    CallAction,
    SessionSummary,
    Other,
}

/// Only the `eventType` of an event, read before the whole of it.
#[derive(Deserialize)]
struct Envelope {
    #[serde(rename = "eventType", default)]
    event_type: Value,
}

/// The event's kind, and its `eventType` when it is a string.
fn kind_of(body: &JsonText, default: EventKind) -> (EventKind, Option<String>) {
    let event_type = serde_json::from_str::<Envelope>(body.as_str())
        .ok()
        .and_then(|envelope| match envelope.event_type {
            Value::String(event_type) => Some(event_type),
            _ => None,
        });
    let kind = match event_type.as_deref() {
        Some("CALL_ACTION") => EventKind::CallAction,
        Some("SESSION_SUMMARY") => EventKind::SessionSummary,
        Some(_) => EventKind::Other,
        None => default,
    };
    (kind, event_type)
}

/// Voice Call Action: the customer pressed a key (or nothing); answers the next callflow.
///
/// The `Authorization` header must be the token itself, `Bearer {token}` or Basic
/// `admin:{token}`. A re-delivered event (same `eventId`) gets the same answer and changes
/// nothing. A session we never placed gets a short apology and a hangup.
#[utoipa::path(
    post,
    path = "/api/webhooks/vca",
    tag = "webhooks",
    request_body(content = VcaEvent, description = "8x8's Voice Call Action event. The key may come as `eventData.dtmf`, `eventData` as a bare string, or a top-level `payload.dtmf`; null or absent means no input. Unknown fields are ignored."),
    responses(
        (status = 200, description = "The next callflow, with the clientActionId 8x8 echoes back on the next VCA", body = VcaReply),
        (status = 400, description = "Malformed or non-object JSON", body = ErrorBody),
        (status = 401, description = "Missing or wrong Authorization", body = ErrorBody),
        (status = 413, description = "Body larger than 1 MiB", body = ErrorBody),
        (status = 422, description = "A required field is missing or mistyped (named)", body = ErrorBody),
        (status = 503, description = "The call store is unavailable", body = ErrorBody),
    ),
    security(("webhook_token" = []))
)]
pub async fn vca(
    State(state): State<AppState>,
    _caller: WebhookCaller,
    JsonObjectText(body): JsonObjectText,
) -> Result<Response, ApiError> {
    dispatch(&state, body, EventKind::CallAction).await
}

/// Voice Session Summary: 8x8's final verdict on the session; recorded, acknowledged.
///
/// Never overwrites a customer's decision; duplicates are harmless.
#[utoipa::path(
    post,
    path = "/api/webhooks/vss",
    tag = "webhooks",
    request_body(content = VssEvent, description = "8x8's Voice Session Summary event. Status spellings are normalised (NO ANSWER, CANCELLED); leg keys may be callA or CallA. Unknown fields are ignored."),
    responses(
        (status = 200, description = "Recorded", body = Ack),
        (status = 400, description = "Malformed or non-object JSON", body = ErrorBody),
        (status = 401, description = "Missing or wrong Authorization", body = ErrorBody),
        (status = 413, description = "Body larger than 1 MiB", body = ErrorBody),
        (status = 422, description = "A required field is missing or mistyped (named)", body = ErrorBody),
        (status = 503, description = "The call store is unavailable", body = ErrorBody),
    ),
    security(("webhook_token" = []))
)]
pub async fn vss(
    State(state): State<AppState>,
    _caller: WebhookCaller,
    JsonObjectText(body): JsonObjectText,
) -> Result<Response, ApiError> {
    dispatch(&state, body, EventKind::SessionSummary).await
}

/// 8x8's ids are UUIDs; anything empty or longer than this is not one of theirs.
const MAX_ID: usize = 255;

/// Ids become keys in the store: refuse what it could not hold, before any write.
fn bounded(field: &str, id: &str) -> Result<(), ApiError> {
    if id.trim().is_empty() || id.len() > MAX_ID {
        return Err(ApiError::invalid(
            field,
            format!("must be 1 to {MAX_ID} characters"),
        ));
    }
    Ok(())
}

/// The most keys one VCA may carry. Our captures ask for one key at a time (`maxDigits` 1);
/// the store keeps at most this many per timeline entry, and refuses more with an error that
/// would otherwise surface as a 503 for what is bad input.
const MAX_DTMF: usize = 64;

fn bounded_dtmf(payload: &VcaPayload) -> Result<(), ApiError> {
    let Some(keys) = payload.dtmf() else {
        return Ok(());
    };
    if keys.chars().count() <= MAX_DTMF {
        return Ok(());
    }
    // Name the field the keys were read from (CONTRACT §3.4: three shapes).
    let field = if extract_dtmf(&payload.event_data, &Value::Null).is_none() {
        "payload.dtmf"
    } else if payload.event_data.is_object() {
        "payload.eventData.dtmf"
    } else {
        "payload.eventData"
    };
    Err(ApiError::invalid(
        field,
        format!("must be at most {MAX_DTMF} keys"),
    ))
}

async fn dispatch(
    state: &AppState,
    body: JsonText,
    default: EventKind,
) -> Result<Response, ApiError> {
    match kind_of(&body, default) {
        (EventKind::CallAction, _) => {
            let event: VcaEvent = typed_text(&body)?;
            bounded("payload.sessionId", &event.payload.session_id)?;
            if let Some(event_id) = &event.payload.event_id {
                bounded("payload.eventId", event_id)?;
            }
            bounded_dtmf(&event.payload)?;
            let reply = state.calls.answer_vca(&event, body).await?;
            Ok(Json(reply).into_response())
        }
        (EventKind::SessionSummary, _) => {
            let event: VssEvent = typed_text(&body)?;
            bounded("payload.sessionId", &event.payload.session_id)?;
            state.calls.record_vss(&event, body).await?;
            Ok(Ack::ok())
        }
        (EventKind::Other, event_type) => {
            let event_type = event_type.unwrap_or_default();
            tracing::info!(event_type, "webhook event acknowledged without action");
            Ok(Ack::ok())
        }
    }
}
