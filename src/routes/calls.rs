//! `GET /api/calls/{id}` and `GET /api/calls`: calls and their outcomes, read from the store
//! (so they survive restarts and are the same on every instance).

use crate::auth::ApiCaller;
use crate::domain::{CallStatus, MenuStep, SessionOutcome, mask_digits};
use crate::error::{ApiError, ErrorBody, FieldError};
use crate::state::AppState;
use crate::store::{CallQuery, CallRecord, Cursor, TimelineEntry};
use axum::Json;
use axum::extract::{Path, Query, State};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Datelike, Utc};
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;
use utoipa::ToSchema;
use uuid::Uuid;

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 500;

/// One call and what became of it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CallView {
    /// Our id of the call.
    pub call_id: Uuid,
    /// 8x8's session id; null when the call was not placed.
    pub session_id: Option<String>,
    pub order_id: String,
    pub status: CallStatus,
    /// Every key the customer pressed, in order; null if none.
    pub digits: Option<String>,
    /// 8x8's session summary; null until it arrives.
    pub session: Option<SessionOutcome>,
    /// Masked: `+65****4567`.
    pub customer_phone: String,
    pub client_action_id: String,
    pub call_flow_request_id: Option<String>,
    pub template: String,
    pub language: String,
    /// Where the customer is in the menu.
    pub step: MenuStep,
    pub prompts_played: u16,
    /// The appointment time as requested.
    pub appointment_time: Option<String>,
    pub business_name: Option<String>,
    /// Why the call was not placed or its placement is in doubt.
    pub failure: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Every transition, oldest first.
    pub timeline: Vec<TimelineEntry>,
}

impl CallView {
    fn new(record: CallRecord, timeline: Vec<TimelineEntry>) -> Self {
        let requested = |field: &str| {
            record
                .request
                .get(field)
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        CallView {
            call_id: record.id,
            session_id: record.session_id.clone(),
            order_id: record.order_id.clone(),
            status: record.state.status,
            digits: (!record.state.digits.is_empty()).then(|| record.state.digits.clone()),
            session: record.outcome.clone(),
            customer_phone: mask_digits(&record.customer_phone),
            client_action_id: record.client_action_id.clone(),
            call_flow_request_id: record.call_flow_request_id.clone(),
            template: record.script.template.to_string(),
            language: record.script.language.to_string(),
            step: record.state.step,
            prompts_played: record.state.prompts_played,
            appointment_time: requested("appointmentTime"),
            business_name: requested("businessName"),
            failure: record.failure.clone(),
            created_at: record.created_at,
            updated_at: record.updated_at,
            timeline,
        }
    }
}

/// A page of calls, newest first.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CallPage {
    pub calls: Vec<CallView>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// One call by 8x8's sessionId (or by our callId).
#[utoipa::path(
    get,
    path = "/api/calls/{id}",
    tag = "calls",
    params(("id" = String, Path, description = "8x8's sessionId, or the callId make-call returned")),
    responses(
        (status = 200, description = "The call", body = CallView),
        (status = 401, description = "Missing or wrong Basic credentials", body = ErrorBody),
        (status = 404, description = "No such call", body = ErrorBody),
        (status = 503, description = "The call store is unavailable", body = ErrorBody),
    ),
    security(("basic" = []))
)]
pub async fn get_call(
    State(state): State<AppState>,
    _caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<Json<CallView>, ApiError> {
    let store = &state.calls.store;
    // No call has a NUL in its ids, and PostgreSQL fails a query that compares one.
    if id.contains('\0') {
        return Err(ApiError::NotFound(format!("call {}", id.escape_default())));
    }
    let mut record = store.call_by_session(&id).await?;
    if record.is_none()
        && let Ok(call_id) = id.parse::<Uuid>()
    {
        record = store.call_by_id(call_id).await?;
    }
    let record = record.ok_or_else(|| ApiError::NotFound(format!("call {id}")))?;
    let mut timelines = store.timelines(&[record.id]).await?;
    let timeline = timelines.remove(&record.id).unwrap_or_default();
    Ok(Json(CallView::new(record, timeline)))
}

/// Calls newest first, filtered and paginated.
#[utoipa::path(
    get,
    path = "/api/calls",
    tag = "calls",
    params(
        ("status" = Option<CallStatus>, Query, description = "Only calls in this status"),
        ("orderId" = Option<String>, Query, description = "Only calls for this order"),
        ("from" = Option<String>, Query, description = "Created at or after (RFC 3339)"),
        ("to" = Option<String>, Query, description = "Created before (RFC 3339)"),
        ("limit" = Option<u32>, Query, description = "1 to 500, default 50"),
        ("cursor" = Option<String>, Query, description = "nextCursor of the previous page"),
    ),
    responses(
        (status = 200, description = "A page of calls", body = CallPage),
        (status = 401, description = "Missing or wrong Basic credentials", body = ErrorBody),
        (status = 422, description = "A query parameter is invalid (named)", body = ErrorBody),
        (status = 503, description = "The call store is unavailable", body = ErrorBody),
    ),
    security(("basic" = []))
)]
pub async fn list_calls(
    State(state): State<AppState>,
    _caller: ApiCaller,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<CallPage>, ApiError> {
    let query = parse_query(&params).map_err(ApiError::Validation)?;
    let store = &state.calls.store;
    let records = store.list_calls(&query).await?;
    let ids: Vec<Uuid> = records.iter().map(|record| record.id).collect();
    let mut timelines = store.timelines(&ids).await?;
    let next_cursor = (records.len() == query.limit as usize)
        .then(|| {
            records
                .last()
                .map(|last| encode_cursor(last.created_at, last.id))
        })
        .flatten();
    let calls = records
        .into_iter()
        .map(|record| {
            let timeline = timelines.remove(&record.id).unwrap_or_default();
            CallView::new(record, timeline)
        })
        .collect();
    Ok(Json(CallPage { calls, next_cursor }))
}

fn parse_query(params: &HashMap<String, String>) -> Result<CallQuery, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut query = CallQuery {
        limit: DEFAULT_LIMIT,
        ..CallQuery::default()
    };
    for (name, value) in params {
        match name.as_str() {
            "status" => match value.parse::<CallStatus>() {
                Ok(status) => query.status = Some(status),
                Err(_) => errors.push(FieldError::new(
                    "status",
                    format!(
                        "must be one of {}",
                        CallStatus::ALL.map(CallStatus::as_str).join(", ")
                    ),
                )),
            },
            // PostgreSQL cannot compare text holding NUL (it fails the query): refuse it here.
            "orderId" if value.contains('\0') => errors.push(FieldError::new(
                "orderId",
                "must not contain NUL characters",
            )),
            "orderId" => query.order_id = Some(value.clone()),
            "from" | "to" => match DateTime::parse_from_rfc3339(value) {
                Ok(at) if name == "from" => query.created_from = Some(at.to_utc()),
                Ok(at) => query.created_to = Some(at.to_utc()),
                Err(_) => errors.push(FieldError::new(
                    name.as_str(),
                    "must be an RFC 3339 date and time, e.g. 2025-04-20T00:00:00Z",
                )),
            },
            "limit" => match value.parse::<u32>() {
                Ok(limit) if (1..=MAX_LIMIT).contains(&limit) => query.limit = limit,
                _ => errors.push(FieldError::new(
                    "limit",
                    format!("must be a number from 1 to {MAX_LIMIT}"),
                )),
            },
            "cursor" => match decode_cursor(value) {
                Some(cursor) => query.before = Some(cursor),
                None => errors.push(FieldError::new(
                    "cursor",
                    "is not a nextCursor this service returned",
                )),
            },
            other => errors.push(FieldError::new(
                other,
                "is not a known parameter (status, orderId, from, to, limit, cursor)",
            )),
        }
    }
    errors.sort_by(|a, b| a.field.cmp(&b.field));
    if errors.is_empty() {
        Ok(query)
    } else {
        Err(errors)
    }
}

/// `{created_at in microseconds}.{id}`, base64url: opaque to clients, exact for the store.
pub fn encode_cursor(created_at: DateTime<Utc>, id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}.{}", created_at.timestamp_micros(), id))
}

/// The cursor, if it could be one of ours: calls are created in years 0 to 9999, and a forged
/// instant outside them would reach PostgreSQL, which cannot hold every one (a 5xx).
pub fn decode_cursor(raw: &str) -> Option<Cursor> {
    let decoded = String::from_utf8(URL_SAFE_NO_PAD.decode(raw).ok()?).ok()?;
    let (micros, id) = decoded.split_once('.')?;
    let created_at = DateTime::from_timestamp_micros(micros.parse().ok()?)
        .filter(|at| (0..=9999).contains(&at.year()))?;
    Some(Cursor {
        created_at,
        id: id.parse().ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let at = DateTime::from_timestamp_micros(1_745_177_400_123_456).unwrap();
        let id = Uuid::now_v7();
        assert_eq!(
            decode_cursor(&encode_cursor(at, id)),
            Some(Cursor { created_at: at, id })
        );
        assert_eq!(decode_cursor("not-a-cursor"), None);
        let year_10000 = DateTime::from_timestamp(253_402_300_800, 0).unwrap();
        assert_eq!(decode_cursor(&encode_cursor(year_10000, id)), None);
    }

    #[test]
    fn every_bad_parameter_is_named() {
        let params: HashMap<String, String> = [
            ("status", "done"),
            ("limit", "501"),
            ("from", "yesterday"),
            ("colour", "red"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let fields: Vec<String> = parse_query(&params)
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, vec!["colour", "from", "limit", "status"]);
    }
}
