//! How the volatile store keeps a call: compactly, since every call it holds is resident
//! memory. Boxed strings instead of `String`, the appointment as its JSON text instead of a
//! `serde_json::Value` tree (several times larger), the rarely set outcome boxed, timeline
//! entries with their event as static text; a call reads back as a [`CallRecord`].

use super::super::rows::{micros, placing_state};
use super::super::{CallRecord, NewCall, StoreError, TimelineEntry};
use super::limits::TimelineEvent;
use crate::domain::{CallStatus, JsonText, SessionOutcome};
use crate::ivr::{CallScript, IvrState};
use chrono::{DateTime, Utc};
use std::sync::Arc;
use uuid::Uuid;

/// One call as the volatile store keeps it (its id is its key in the store's map).
pub(super) struct StoredCall {
    pub order_id: Box<str>,
    pub customer_phone: Box<str>,
    /// Only when it is not the script's `client_action_base`, which it always is when
    /// callconfirm places the call (one copy fewer per call).
    pub client_action_id: Option<Box<str>>,
    /// Shared with the store's index by session.
    pub session_id: Option<Arc<str>>,
    pub call_flow_request_id: Option<Box<str>>,
    /// The appointment as requested, as JSON text.
    pub request: Box<str>,
    /// Shared with the session cache.
    pub script: Arc<CallScript>,
    pub state: IvrState,
    pub outcome: Option<Box<SessionOutcome>>,
    pub failure: Option<Box<str>>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub placing_deadline: DateTime<Utc>,
    pub timeline: Vec<StoredEntry>,
    /// The webhooks applied to this call (few per call): their keys and the replies given.
    pub webhooks: Vec<(Box<str>, Option<JsonText>)>,
}

/// A timeline entry; its event is one of the schemas' (checked before it is kept).
pub(super) struct StoredEntry {
    at: DateTime<Utc>,
    from: Option<CallStatus>,
    to: CallStatus,
    event: TimelineEvent,
    effect: Option<Box<str>>,
    digits: Option<Box<str>>,
}

impl StoredEntry {
    /// `None` if the event is not one the schemas allow.
    pub fn of(entry: &TimelineEntry) -> Option<StoredEntry> {
        Some(StoredEntry {
            at: micros(entry.at),
            from: entry.from,
            to: entry.to,
            event: TimelineEvent::named(&entry.event)?,
            effect: entry.effect.as_deref().map(Box::from),
            digits: entry.digits.as_deref().map(Box::from),
        })
    }

    /// A transition the store itself records (a placement, the sweep): no key, no effect.
    pub fn transition(
        at: DateTime<Utc>,
        from: Option<CallStatus>,
        to: CallStatus,
        event: TimelineEvent,
    ) -> StoredEntry {
        StoredEntry {
            at: micros(at),
            from,
            to,
            event,
            effect: None,
            digits: None,
        }
    }

    pub fn to_entry(&self) -> TimelineEntry {
        TimelineEntry {
            at: self.at,
            from: self.from,
            to: self.to,
            event: self.event.name().to_owned(),
            effect: self.effect.as_deref().map(str::to_owned),
            digits: self.digits.as_deref().map(str::to_owned),
        }
    }
}

impl StoredCall {
    /// A new call in status `placing`, its first timeline entry written.
    pub fn placing(call: &NewCall) -> Result<StoredCall, StoreError> {
        let created_at = micros(call.created_at);
        let request = serde_json::to_string(&call.request).map_err(|error| {
            StoreError::Database(format!("request could not be serialised: {error}"))
        })?;
        Ok(StoredCall {
            order_id: call.order_id.as_str().into(),
            customer_phone: call.customer_phone.as_str().into(),
            client_action_id: (call.client_action_id != call.script.client_action_base)
                .then(|| call.client_action_id.as_str().into()),
            session_id: None,
            call_flow_request_id: None,
            request: request.into(),
            script: Arc::clone(&call.script),
            state: placing_state(),
            outcome: None,
            failure: None,
            version: 1,
            created_at,
            updated_at: created_at,
            placing_deadline: micros(call.placing_deadline),
            timeline: vec![StoredEntry::transition(
                created_at,
                None,
                CallStatus::Placing,
                TimelineEvent::Placing,
            )],
            webhooks: Vec::new(),
        })
    }

    /// Appends to the timeline, growing it by exactly one entry (a call has a handful).
    pub fn push_entry(&mut self, entry: StoredEntry) {
        self.timeline.reserve_exact(1);
        self.timeline.push(entry);
    }

    pub fn to_record(&self, id: Uuid) -> Result<CallRecord, StoreError> {
        let request = serde_json::from_str(&self.request)
            .map_err(|_| StoreError::Corrupt(format!("call {id}: request is not JSON")))?;
        Ok(CallRecord {
            id,
            order_id: self.order_id.to_string(),
            customer_phone: self.customer_phone.to_string(),
            client_action_id: self
                .client_action_id
                .as_deref()
                .unwrap_or(&self.script.client_action_base)
                .to_owned(),
            session_id: self.session_id.as_deref().map(str::to_owned),
            call_flow_request_id: self.call_flow_request_id.as_deref().map(str::to_owned),
            request,
            script: Arc::clone(&self.script),
            state: self.state.clone(),
            outcome: self.outcome.as_deref().cloned(),
            failure: self.failure.as_deref().map(str::to_owned),
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }

    pub fn timeline(&self) -> Vec<TimelineEntry> {
        self.timeline.iter().map(StoredEntry::to_entry).collect()
    }

    /// A call no webhook or placement can still need: neither being placed nor in progress
    /// on 8x8's side (or in progress, but 8x8's summary has already ended it).
    pub fn may_be_forgotten(&self) -> bool {
        let status = self.state.status;
        status != CallStatus::Placing && (!status.is_live() || self.state.summary_received)
    }
}
