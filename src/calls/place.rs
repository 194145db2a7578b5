//! Placing a call: validate, render the script, honour the Idempotency-Key, write the call
//! row, ask 8x8, record its answer. A call is never placed twice for one request.

use crate::calls::CallService;
use crate::domain::MakeCallRequest;
use crate::error::ApiError;
use crate::ivr::{CallScript, ScriptRequest, callflow};
use crate::sessions::LiveSession;
use crate::store::{IdempotencyClaim, NewCall, Placement, StoredResponse};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

/// How long an Idempotency-Key is remembered.
pub const IDEMPOTENCY_TTL: chrono::Duration = chrono::Duration::hours(24);
/// How often a request waits for the first request with its key to finish.
const IDEMPOTENCY_POLL: Duration = Duration::from_millis(25);

/// The answer to a make-call request: its status and JSON body (also what a replay gives).
#[derive(Debug, Clone, PartialEq)]
pub struct CallAnswer {
    pub status: StatusCode,
    pub body: Value,
}

impl From<ApiError> for CallAnswer {
    fn from(error: ApiError) -> Self {
        CallAnswer {
            status: error.status(),
            body: serde_json::to_value(error.body()).unwrap_or(Value::Null),
        }
    }
}

/// A validated request with its rendered script, ready to be placed.
struct Prepared {
    request: MakeCallRequest,
    /// Shared by the call's record (in a volatile store) and its cached live session.
    script: Arc<CallScript>,
    body: Map<String, Value>,
}

impl CallService {
    /// Handles `POST /api/make-call` after authentication and JSON parsing.
    ///
    /// Bad input is refused (422) before anything is written or claimed. The placement runs in
    /// its own task so that a client hanging up mid-request cannot leave 8x8's answer unrecorded.
    pub async fn make_call(
        self: &Arc<Self>,
        body: Map<String, Value>,
        idempotency_key: Option<String>,
    ) -> Result<CallAnswer, ApiError> {
        let prepared = self.prepare(body)?;
        let service = Arc::clone(self);
        tokio::spawn(async move {
            match idempotency_key {
                None => {
                    let (call_id, now) = (Uuid::now_v7(), Utc::now());
                    service.write_call(call_id, &prepared, now).await?;
                    service.dial(call_id, prepared, now).await
                }
                Some(key) => service.place_once(key, prepared).await,
            }
        })
        .await
        .unwrap_or_else(|join_error| {
            Err(ApiError::Internal(format!(
                "the placement task failed: {join_error}"
            )))
        })
    }

    fn prepare(&self, body: Map<String, Value>) -> Result<Prepared, ApiError> {
        let request = MakeCallRequest::parse(&body).map_err(ApiError::Validation)?;
        let staff_phone = request
            .staff_phone
            .as_ref()
            .or(self.defaults.staff_phone.as_ref());
        let callback_phone = request
            .callback_phone
            .as_ref()
            .or(self.defaults.callback_phone.as_ref());
        let script = self
            .catalog
            .render(&ScriptRequest {
                order_id: &request.order_id,
                template: request.template.as_deref(),
                language: request.language.as_deref(),
                time_zone: request.time_zone.as_deref(),
                appointment: request.appointment,
                business_name: &request.business_name,
                customer_name: request.customer_name.as_deref(),
                staff_name: request.staff_name.as_deref(),
                callback_phone,
                staff_phone,
                source: &self.outbound,
            })
            .map_err(ApiError::Validation)?;
        Ok(Prepared {
            request,
            script: Arc::new(script),
            body,
        })
    }

    /// Places the call at most once per key: the first request claims the key, concurrent
    /// ones wait for its answer, later ones replay it.
    async fn place_once(&self, key: String, prepared: Prepared) -> Result<CallAnswer, ApiError> {
        let request_hash = request_hash(&prepared.body);
        let call_id = Uuid::now_v7();
        let give_up_at = tokio::time::Instant::now() + self.placing_budget();
        loop {
            let now = Utc::now();
            let claim = self
                .store
                .claim_idempotency_key(&key, &request_hash, call_id, now, now + IDEMPOTENCY_TTL)
                .await?;
            match claim {
                IdempotencyClaim::Claimed => {
                    // Nothing can reach 8x8 before the call row is written: if that fails,
                    // the key is freed so that the client may simply retry.
                    if let Err(error) = self.write_call(call_id, &prepared, now).await {
                        self.store.release_idempotency_key(&key).await.ok();
                        return Err(error);
                    }
                    // From here on 8x8 may have been asked: whatever happens, the key keeps
                    // this answer, so that a retry can never dial a second time.
                    let answer = self
                        .dial(call_id, prepared, now)
                        .await
                        .unwrap_or_else(CallAnswer::from);
                    self.store
                        .complete_idempotency_key(
                            &key,
                            &StoredResponse {
                                status: answer.status.as_u16(),
                                body: answer.body.clone(),
                            },
                        )
                        .await?;
                    return Ok(answer);
                }
                IdempotencyClaim::Completed {
                    request_hash: first_hash,
                    response,
                } => {
                    if first_hash != request_hash {
                        return Err(ApiError::IdempotencyKeyReused);
                    }
                    tracing::info!(
                        "replaying the answer of an earlier request with this Idempotency-Key"
                    );
                    return Ok(CallAnswer {
                        status: StatusCode::from_u16(response.status).unwrap_or(StatusCode::OK),
                        body: response.body,
                    });
                }
                IdempotencyClaim::InProgress {
                    request_hash: first_hash,
                    ..
                } => {
                    if first_hash != request_hash {
                        return Err(ApiError::IdempotencyKeyReused);
                    }
                    if tokio::time::Instant::now() >= give_up_at {
                        return Err(ApiError::IdempotencyKeyInProgress);
                    }
                    tokio::time::sleep(IDEMPOTENCY_POLL).await;
                }
            }
        }
    }

    /// Writes the call row in status `placing`, before 8x8 is asked.
    async fn write_call(
        &self,
        call_id: Uuid,
        prepared: &Prepared,
        now: DateTime<Utc>,
    ) -> Result<(), ApiError> {
        let Prepared {
            request, script, ..
        } = prepared;
        let budget = chrono::Duration::from_std(self.placing_budget())
            .unwrap_or(chrono::Duration::seconds(60));
        self.store
            .insert_call(&NewCall {
                id: call_id,
                order_id: request.order_id.clone(),
                customer_phone: request.customer_phone.digits().to_owned(),
                client_action_id: script.client_action_base.clone(),
                request: request.to_record(),
                script: Arc::clone(script),
                created_at: now,
                placing_deadline: now + budget,
            })
            .await?;
        Ok(())
    }

    /// Asks 8x8 to place the written call, records its answer, caches the live session.
    async fn dial(
        &self,
        call_id: Uuid,
        prepared: Prepared,
        now: DateTime<Utc>,
    ) -> Result<CallAnswer, ApiError> {
        let Prepared {
            request, script, ..
        } = prepared;
        tracing::info!(
            call_id = %call_id,
            order_id = %request.order_id,
            customer = %request.customer_phone,
            template = %script.template,
            language = %script.language,
            "placing call"
        );

        let callflow_request =
            callflow::initial_request(&script, request.customer_phone.digits(), now);
        let _in_flight = self.placement_started();
        let outcome = self.voice.send_callflow(&callflow_request).await;
        let placement = match &outcome {
            Ok(created) => Placement::Created {
                session_id: created.session_id.clone(),
                call_flow_request_id: created.response.call_flow_request_id.clone(),
            },
            Err(error) if error.is_in_doubt() => Placement::InDoubt {
                reason: error.to_string(),
            },
            Err(error) => Placement::NotPlaced {
                reason: error.to_string(),
            },
        };
        let record = self
            .store
            .record_placement(call_id, &placement, Utc::now())
            .await?;
        tracing::info!(
            call_id = %call_id,
            order_id = %request.order_id,
            session_id = record.session_id.as_deref().unwrap_or(""),
            status = %record.state.status,
            "call placement recorded"
        );

        match outcome {
            Ok(created) => {
                // The script as rendered, rather than the store's copy of it: the same text,
                // and sentences without placeholders stay shared with every other call.
                let live = LiveSession {
                    script,
                    ..LiveSession::from_record(record)
                };
                self.sessions.remember(&created.session_id, &live);
                Ok(CallAnswer {
                    status: StatusCode::OK,
                    body: json!({"success": true, "data": created.body, "callId": call_id}),
                })
            }
            Err(error) => Err(ApiError::Voice(error)),
        }
    }
}

/// A stable hash of the request body: serde_json's maps are ordered, so equal JSON objects
/// hash equally whatever the order their keys were sent in.
pub fn request_hash(body: &Map<String, Value>) -> String {
    let canonical = serde_json::to_vec(body).unwrap_or_default();
    Sha256::digest(&canonical)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}
