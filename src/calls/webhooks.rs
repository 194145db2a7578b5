//! Answering 8x8's webhooks: a VCA gets the next callflow, a VSS records the session outcome.
//!
//! Each webhook is applied once: its key (`vca:{eventId}`, `vss:{sessionId}`) is recorded in
//! the same transaction as the transition, so a re-delivery, here or on another instance,
//! gets the stored answer and changes nothing.

use crate::calls::CallService;
use crate::domain::{JsonText, SessionOutcome, customer_answered};
use crate::error::ApiError;
use crate::ivr::machine::{self, Effect, SummaryFacts};
use crate::sessions::LiveSession;
use crate::store::{
    ApplyResult, StateChange, StoreError, TimelineEntry, WebhookKind, WebhookRecord,
};
use crate::voice::wire::{VcaEvent, VssEvent};
use chrono::Utc;
use sha2::{Digest, Sha256};

/// A conflicting concurrent update is retried with fresh state this many times.
const MAX_ATTEMPTS: usize = 5;

impl CallService {
    /// Decides the reply to a VCA and commits the transition before returning it.
    pub async fn answer_vca(&self, event: &VcaEvent, raw: JsonText) -> Result<JsonText, ApiError> {
        let payload = &event.payload;
        let session_id = payload.session_id.as_str();
        let key = match payload.event_id.as_deref().filter(|id| !id.is_empty()) {
            Some(event_id) => format!("vca:{event_id}"),
            // No eventId documented as missing, but a body hash still makes re-deliveries equal.
            None => format!("vca:{session_id}:{}", body_digest(&raw)),
        };
        let dtmf = payload.dtmf();

        let Some(mut live) = self.find_session(session_id).await? else {
            tracing::warn!(
                session_id,
                "VCA for a session we did not place: apologising"
            );
            return Ok(
                JsonText::of(&self.catalog.unknown_session_reply()).expect("a callflow serializes")
            );
        };
        // The event and the reply move into the change and back out of it, rather than
        // being cloned: they are the biggest values of the hot path.
        let mut event = raw;
        for _ in 0..MAX_ATTEMPTS {
            let decision = machine::on_keys(
                &live.script,
                &live.state,
                dtmf.as_deref(),
                payload.client_action_id.as_deref(),
            );
            let reply = JsonText::of(&decision.reply).expect("a callflow serializes");
            let now = Utc::now();
            let change = StateChange {
                call_id: live.call_id,
                expected_version: live.version,
                webhook: WebhookRecord {
                    key: key.clone(),
                    kind: WebhookKind::Vca,
                    session_id: session_id.to_owned(),
                    received_at: now,
                    event,
                    reply: Some(reply),
                },
                timeline: decision.effect.changes_state().then(|| TimelineEntry {
                    at: now,
                    from: Some(live.state.status),
                    to: decision.state.status,
                    event: "vca".into(),
                    effect: Some(decision.effect.as_str().into()),
                    digits: dtmf.clone(),
                }),
                state: decision.state,
                outcome: None,
            };
            match self.store.apply_change(&change).await? {
                ApplyResult::Applied { version } => {
                    tracing::info!(
                        session_id,
                        order_id = %live.order_id,
                        from = %live.state.status,
                        to = %change.state.status,
                        effect = decision.effect.as_str(),
                        "VCA applied"
                    );
                    let reply = change
                        .webhook
                        .reply
                        .unwrap_or_else(|| reply_for_lost_answer(&live));
                    let next = LiveSession {
                        version,
                        state: change.state,
                        ..live
                    };
                    self.sessions.remember(session_id, &next);
                    return Ok(reply);
                }
                ApplyResult::Duplicate { reply } => {
                    tracing::info!(session_id, "VCA re-delivered: answering as the first time");
                    return Ok(reply.unwrap_or_else(|| reply_for_lost_answer(&live)));
                }
                ApplyResult::Conflict => {
                    event = change.webhook.event;
                    live = match self.sessions.reload(session_id).await? {
                        Some(fresh) => fresh,
                        None => return Err(vanished(session_id)),
                    };
                }
            }
        }
        Err(too_contended(session_id))
    }

    /// Records 8x8's session summary. Never overwrites a customer's decision.
    pub async fn record_vss(&self, event: &VssEvent, raw: JsonText) -> Result<(), ApiError> {
        let payload = &event.payload;
        let session_id = payload.session_id.as_str();
        let Some(mut live) = self.find_session(session_id).await? else {
            tracing::warn!(
                session_id,
                "VSS for a session we did not place: acknowledged, not recorded"
            );
            return Ok(());
        };
        let facts = SummaryFacts {
            answered: customer_answered(payload),
        };
        let outcome = SessionOutcome::from_summary(payload);
        let mut event = raw;
        for _ in 0..MAX_ATTEMPTS {
            let state = machine::on_summary(&live.state, facts);
            let now = Utc::now();
            let change = StateChange {
                call_id: live.call_id,
                expected_version: live.version,
                webhook: WebhookRecord {
                    key: format!("vss:{session_id}"),
                    kind: WebhookKind::Vss,
                    session_id: session_id.to_owned(),
                    received_at: now,
                    event,
                    reply: None,
                },
                state: state.clone(),
                outcome: Some(outcome.clone()),
                timeline: Some(TimelineEntry {
                    at: now,
                    from: Some(live.state.status),
                    to: state.status,
                    event: "vss".into(),
                    effect: Some(Effect::SessionEnded.as_str().into()),
                    digits: None,
                }),
            };
            match self.store.apply_change(&change).await? {
                ApplyResult::Applied { version } => {
                    tracing::info!(
                        session_id,
                        order_id = %live.order_id,
                        session_status = %outcome.session_status,
                        from = %live.state.status,
                        to = %state.status,
                        "VSS applied"
                    );
                    self.sessions.remember(
                        session_id,
                        &LiveSession {
                            version,
                            state,
                            ..live
                        },
                    );
                    return Ok(());
                }
                ApplyResult::Duplicate { .. } => {
                    tracing::info!(session_id, "VSS re-delivered: already recorded");
                    return Ok(());
                }
                ApplyResult::Conflict => {
                    event = change.webhook.event;
                    live = match self.sessions.reload(session_id).await? {
                        Some(fresh) => fresh,
                        None => return Err(vanished(session_id)),
                    };
                }
            }
        }
        Err(too_contended(session_id))
    }
}

/// A VCA row always stores its reply, so this cannot happen; should it, hang up rather than
/// answer an empty callflow (undefined in 8x8's docs).
fn reply_for_lost_answer(live: &LiveSession) -> JsonText {
    JsonText::of(&serde_json::json!({
        "clientActionId": live.script.client_action_base,
        "callflow": [{"action": "hangup"}]
    }))
    .expect("a callflow serializes")
}

/// A digest of the event that does not depend on how 8x8 spelled it: of its tree, whose
/// keys are sorted, so a re-delivery with its keys in another order is the same event.
fn body_digest(raw: &JsonText) -> String {
    let bytes = serde_json::to_vec(&raw.to_value()).unwrap_or_default();
    Sha256::digest(&bytes)
        .iter()
        .take(16)
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

fn vanished(session_id: &str) -> ApiError {
    ApiError::Store(StoreError::Database(format!(
        "session {session_id} disappeared while being updated"
    )))
}

fn too_contended(session_id: &str) -> ApiError {
    ApiError::Store(StoreError::Database(format!(
        "session {session_id} kept changing concurrently"
    )))
}
