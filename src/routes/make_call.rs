//! `POST /api/make-call`: place one confirmation call.

use crate::auth::ApiCaller;
use crate::error::{ApiError, ErrorBody};
use crate::routes::extract::JsonObject;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

pub const IDEMPOTENCY_HEADER: &str = "idempotency-key";
const MAX_IDEMPOTENCY_KEY: usize = 255;

/// The appointment to confirm and the customer to call.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)] // Documentation of the body; it is parsed field by field by MakeCallRequest.
pub struct MakeCallBody {
    /// Your reference for the appointment: 1 to 64 characters of A-Z, a-z, 0-9, `_` and `-`.
    #[schema(example = "APT123")]
    order_id: String,
    /// The customer's number, international format; every non-digit is ignored; 7 to 15 digits.
    #[schema(example = "+6591234567")]
    customer_phone: String,
    /// Spoken in the prompt; made safe for text-to-speech; at most 100 characters.
    #[schema(example = "Bright Smile Dental")]
    business_name: String,
    /// ISO 8601 with a UTC offset (`2025-04-20T19:30:00Z`), or a local time with `timeZone`.
    #[schema(example = "2025-04-20T19:30:00Z")]
    appointment_time: String,
    /// A built-in template (`default`, `medical`, `restaurant`, `salon`, `vehicle_service`,
    /// `professional`) or one from TEMPLATES_FILE; DEFAULT_TEMPLATE when absent.
    template: Option<String>,
    /// BCP 47 language of the call, e.g. `en-US`, `es-ES`; the template's default when absent.
    language: Option<String>,
    /// IANA zone the time is spoken in, e.g. `America/Chicago`; the given offset when absent.
    time_zone: Option<String>,
    /// Used by templates that greet by name (never by `minimal` ones).
    customer_name: Option<String>,
    /// Used by templates that name the staff member.
    staff_name: Option<String>,
    /// The number 2 connects the customer to; STAFF_PHONE_NUMBER when absent.
    staff_phone: Option<String>,
    /// Read out at the end of every prompt; CALLBACK_PHONE_NUMBER when absent.
    callback_phone: Option<String>,
}

/// 8x8 accepted the call.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MakeCallSuccess {
    /// Always `true`.
    success: bool,
    /// 8x8's Send Callflow response, as it came: `sessionId`, `sessionStatus`,
    /// `callFlowRequestId`, `validUntil`, `statusCode`, `statusMessage`.
    #[schema(value_type = Object)]
    data: Value,
    /// Our id of the call, for `GET /api/calls/{id}`.
    call_id: Uuid,
}

/// Places a confirmation call.
///
/// Validates the request, renders the call script, writes the call, asks 8x8 to place it and
/// answers with 8x8's response. With an `Idempotency-Key`, a retry with the same key and body
/// answers the first response without calling 8x8 again.
#[utoipa::path(
    post,
    path = "/api/make-call",
    tag = "calls",
    request_body = MakeCallBody,
    params(
        ("Idempotency-Key" = Option<String>, Header,
         description = "Up to 255 printable characters; remembered 24 hours")
    ),
    responses(
        (status = 200, description = "8x8 created the call session", body = MakeCallSuccess),
        (status = 400, description = "The body is not a JSON object", body = ErrorBody),
        (status = 401, description = "Missing or wrong Basic credentials", body = ErrorBody),
        (status = 409, description = "The first request with this Idempotency-Key is still running", body = ErrorBody),
        (status = 413, description = "The body is larger than 1 MiB", body = ErrorBody),
        (status = 415, description = "The body is not sent as JSON", body = ErrorBody),
        (status = 422, description = "A field is invalid (each is named), or the Idempotency-Key was used with another body", body = ErrorBody),
        (status = 502, description = "8x8 refused the call or answered garbage", body = ErrorBody),
        (status = 503, description = "The call store is unavailable", body = ErrorBody),
        (status = 504, description = "8x8 did not answer in time: the call may have been placed", body = ErrorBody),
    ),
    security(("basic" = []))
)]
pub async fn make_call(
    State(state): State<AppState>,
    _caller: ApiCaller,
    headers: HeaderMap,
    body: JsonObject,
) -> Result<Response, ApiError> {
    let key = idempotency_key(&headers)?;
    let answer = state.calls.make_call(body.into_map(), key).await?;
    Ok((answer.status, Json(answer.body)).into_response())
}

fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get(IDEMPOTENCY_HEADER) else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|key| {
            !key.is_empty()
                && key.len() <= MAX_IDEMPOTENCY_KEY
                && key.bytes().all(|b| b.is_ascii_graphic())
        })
        .ok_or_else(|| {
            ApiError::invalid(
                "Idempotency-Key",
                format!("must be 1 to {MAX_IDEMPOTENCY_KEY} printable ASCII characters"),
            )
        })?;
    Ok(Some(key.to_owned()))
}
