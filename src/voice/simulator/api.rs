//! The 8x8 Voice API endpoints the simulator serves: Send Callflow, speech profiles and the Webhooks API (CONTRACT §1-§6).

use crate::voice::simulator::customer::destination_key;
use crate::voice::simulator::faults::Fault;
use crate::voice::simulator::payloads::{self, timestamp_seconds};
use crate::voice::simulator::platform::{self, NewSession};
use crate::voice::simulator::record::{Event, NewSession as NewRecord, Stats};
use crate::voice::simulator::state::Shared;
use crate::voice::simulator::validate::{self, Step};
use crate::voice::simulator::webhooks::{parse_registration, parse_type};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use chrono::Utc;
use serde_json::{Value, json};
use std::sync::Arc;
use subtle::ConstantTimeEq;
use uuid::Uuid;

pub fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route(
            "/api/v1/subaccounts/{subaccount}/callflows",
            post(send_callflow),
        )
        .route(
            "/api/v1/subaccounts/{subaccount}/speech-profiles",
            get(speech_profiles),
        )
        .route(
            "/api/v1/subaccounts/{subaccount}/webhooks",
            get(list_webhooks).post(create_webhook),
        )
        .route(
            "/api/v1/subaccounts/{subaccount}/webhooks/{kind}",
            delete(delete_webhook),
        )
}

/// `Authorization: Bearer <api key>`, compared in constant time.
fn is_authorized(headers: &HeaderMap, api_key: &str) -> bool {
    let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
    else {
        return false;
    };
    let Some((scheme, token)) = value.split_once(' ') else {
        return false;
    };
    scheme.eq_ignore_ascii_case("Bearer")
        && bool::from(token.trim().as_bytes().ct_eq(api_key.as_bytes()))
}

fn json_response(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

/// `POST /api/v1/subaccounts/{id}/callflows`.
async fn send_callflow(
    State(shared): State<Arc<Shared>>,
    Path(subaccount): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    Stats::count(&shared.stats.callflow_requests);
    let call_flow_request_id = Uuid::new_v4().to_string();
    let fault = shared.faults.take_one();
    if let Some(fault) = fault.as_ref().filter(|f| f.status.is_some() || f.garbage) {
        sleep_unless_shutdown(&shared, fault.delay).await;
        tracing::info!(
            call_flow_request_id,
            "simulator: Send Callflow answered with an injected fault"
        );
        return fault_response(fault, &call_flow_request_id);
    }
    let response = accept_callflow(&shared, &subaccount, &headers, &body, &call_flow_request_id);
    if let Some(fault) = fault {
        // The request was handled; only the answer is late.
        sleep_unless_shutdown(&shared, fault.delay).await;
    }
    response
}

fn accept_callflow(
    shared: &Arc<Shared>,
    subaccount: &str,
    headers: &HeaderMap,
    body: &[u8],
    call_flow_request_id: &str,
) -> Response {
    if !is_authorized(headers, &shared.config.api_key) {
        tracing::info!(
            call_flow_request_id,
            "simulator: Send Callflow without a valid API key"
        );
        return json_response(
            StatusCode::UNAUTHORIZED,
            payloads::callflow_error(
                call_flow_request_id,
                401,
                "Authentication header not found or token invalid",
            ),
        );
    }
    if subaccount != shared.config.subaccount_id {
        return json_response(
            StatusCode::NOT_FOUND,
            payloads::callflow_error(
                call_flow_request_id,
                404,
                &format!("SubAccount not found by Id : {subaccount}"),
            ),
        );
    }
    let plan = match validate::send_callflow(body, &shared.rules(), Utc::now()) {
        Ok(plan) => plan,
        Err(rejection) => {
            tracing::info!(
                call_flow_request_id,
                status_code = rejection.code,
                "simulator: Send Callflow refused"
            );
            return json_response(
                rejection.http_status(),
                payloads::callflow_rejected(call_flow_request_id, &rejection),
            );
        }
    };
    // The validator guarantees the first action is makeCall.
    let destination = match plan.steps.first() {
        Some(Step::MakeCall(first_call)) => first_call.destination.clone(),
        _ => String::new(),
    };
    let behaviour = shared.behaviour_for(&destination_key(&destination).unwrap_or_default());
    let session_id = Uuid::new_v4().to_string();
    let created = payloads::callflow_created(&session_id, call_flow_request_id, plan.valid_until);
    shared.records.open(NewRecord {
        session_id: &session_id,
        call_flow_request_id,
        destination: &destination,
        behaviour: behaviour.describe(),
    });
    shared.records.push(
        &session_id,
        Event::CallflowRequest {
            body: serde_json::from_slice(body).unwrap_or(Value::Null),
        },
    );
    Stats::count(&shared.stats.sessions_created);
    platform::spawn(
        shared.clone(),
        NewSession {
            session_id,
            plan,
            behaviour,
        },
    );
    json_response(StatusCode::OK, created)
}

fn fault_response(fault: &Fault, call_flow_request_id: &str) -> Response {
    if fault.garbage {
        return (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/html")],
            "<html><body>upstream temporarily unavailable</body></html>",
        )
            .into_response();
    }
    let status = fault
        .status
        .and_then(|code| StatusCode::from_u16(code).ok())
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = fault.body.clone().unwrap_or_else(|| {
        // The documented 500 body, and the same shape for any other status.
        let message = if status == StatusCode::INTERNAL_SERVER_ERROR {
            "Internal server error"
        } else {
            status.canonical_reason().unwrap_or("Error")
        };
        payloads::callflow_error(call_flow_request_id, i64::from(status.as_u16()), message)
    });
    json_response(status, body)
}

async fn sleep_unless_shutdown(shared: &Shared, delay: std::time::Duration) {
    if delay.is_zero() {
        return;
    }
    tokio::select! {
        () = tokio::time::sleep(delay) => {}
        () = shared.shutdown.cancelled() => {}
    }
}

/// The checks every other voice endpoint makes: the answer when they fail. Those failures have
/// no documented body, so they answer a small JSON one.
fn access_refused(shared: &Shared, subaccount: &str, headers: &HeaderMap) -> Option<Response> {
    if !is_authorized(headers, &shared.config.api_key) {
        return Some(json_response(
            StatusCode::UNAUTHORIZED,
            json!({ "statusCode": 401, "statusMessage": "API key not found or invalid" }),
        ));
    }
    if subaccount != shared.config.subaccount_id {
        return Some(not_found());
    }
    None
}

fn not_found() -> Response {
    json_response(
        StatusCode::NOT_FOUND,
        json!({ "statusCode": 404, "statusMessage": "Resource not found" }),
    )
}

/// `GET /api/v1/subaccounts/{id}/speech-profiles`.
async fn speech_profiles(
    State(shared): State<Arc<Shared>>,
    Path(subaccount): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = access_refused(&shared, &subaccount, &headers) {
        return refused;
    }
    json_response(
        StatusCode::OK,
        crate::voice::simulator::profiles::speech_profiles(&shared.config.voice_profiles),
    )
}

/// The Webhooks API's 422 body (`statusCode` is a string there, A-19).
fn invalid_webhook_request() -> Response {
    json_response(
        StatusCode::UNPROCESSABLE_ENTITY,
        json!({
            "errorId": Uuid::new_v4().to_string(),
            "statusCode": "1001",
            "statusMessage": "Invalid JSON request body",
            "timestamp": timestamp_seconds(Utc::now()),
        }),
    )
}

/// `POST /api/v1/subaccounts/{id}/webhooks`: creates or replaces the webhook of a type.
async fn create_webhook(
    State(shared): State<Arc<Shared>>,
    Path(subaccount): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(refused) = access_refused(&shared, &subaccount, &headers) {
        return refused;
    }
    let Some(registration) = parse_registration(&body) else {
        return invalid_webhook_request();
    };
    tracing::info!(
        webhook_type = registration.kind.as_str(),
        enabled = registration.enabled,
        "simulator: webhook registered"
    );
    let view = registration.to_json();
    shared.webhooks.upsert(registration);
    json_response(
        StatusCode::OK,
        json!({
            "subAccountId": shared.config.subaccount_id,
            "count": 1,
            "webhooks": [view],
            "statusCode": 0,
            "statusMessage": "ok",
        }),
    )
}

/// `GET /api/v1/subaccounts/{id}/webhooks`.
async fn list_webhooks(
    State(shared): State<Arc<Shared>>,
    Path(subaccount): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = access_refused(&shared, &subaccount, &headers) {
        return refused;
    }
    let webhooks: Vec<Value> = shared
        .webhooks
        .list()
        .iter()
        .map(|registration| registration.to_json())
        .collect();
    json_response(
        StatusCode::OK,
        json!({
            "subAccountId": shared.config.subaccount_id,
            "count": webhooks.len(),
            "webhooks": webhooks,
            "statusCode": 0,
            "statusMessage": "ok",
        }),
    )
}

/// `DELETE /api/v1/subaccounts/{id}/webhooks/{type}`.
async fn delete_webhook(
    State(shared): State<Arc<Shared>>,
    Path((subaccount, kind)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = access_refused(&shared, &subaccount, &headers) {
        return refused;
    }
    let Some(kind) = parse_type(&kind) else {
        return invalid_webhook_request();
    };
    let Some(removed) = shared.webhooks.remove(kind) else {
        return not_found();
    };
    tracing::info!(webhook_type = kind.as_str(), "simulator: webhook deleted");
    let mut body = removed.to_json();
    body["subAccountId"] = json!(shared.config.subaccount_id);
    body["statusCode"] = json!(0);
    body["statusMessage"] = json!("deleted");
    json_response(StatusCode::OK, body)
}
