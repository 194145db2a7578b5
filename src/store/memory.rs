//! The volatile store (`DATABASE_URL=memory:`): every call kept in this process's memory, as
//! the original service kept its sessions, and lost when the process stops.
//!
//! For trying callconfirm without a database file, for the test suites of systems that call
//! it, and for measuring the webhook path without a disk; never where an outcome must survive
//! a restart (README, "Storage"). It behaves as the database backends do (the store suite runs
//! on all three), including the limits their schemas enforce, which are checked here in code
//! before anything changes. It keeps what can be read back and what de-duplication needs: the
//! webhooks' keys and replies, not their bodies.
//!
//! Memory stays bounded: past `max_calls` calls, the oldest finished ones are forgotten (a
//! call being placed or still in progress on 8x8's side never is).

use super::rows::{MAX_FAILURE_CHARS, PlacementWrite, first_entry, micros, placing_state};
use super::*;
use std::collections::BTreeSet;
use std::sync::Mutex;

/// How many calls `memory:` keeps unless the URL says otherwise (`memory:?max_calls=N`).
pub const DEFAULT_MAX_CALLS: usize = 10_000;

/// The volatile store. Each operation takes one short lock and never awaits while holding it.
pub struct MemoryStore {
    calls: Mutex<Calls>,
    keys: Mutex<HashMap<String, KeyEntry>>,
}

struct Calls {
    by_id: HashMap<Uuid, StoredCall>,
    by_session: HashMap<Box<str>, Uuid>,
    /// Every call in the listing order, `(created_at, id)`; newest first is this backwards.
    by_created: BTreeSet<(DateTime<Utc>, Uuid)>,
    /// The calls that may be forgotten (see [`may_be_forgotten`]), oldest first.
    finished: BTreeSet<(DateTime<Utc>, Uuid)>,
    max_calls: usize,
}

struct StoredCall {
    record: CallRecord,
    placing_deadline: DateTime<Utc>,
    timeline: Vec<TimelineEntry>,
    /// The webhooks applied to this call (few per call): their keys and the replies given.
    webhooks: Vec<(Box<str>, Option<JsonText>)>,
}

struct KeyEntry {
    request_hash: String,
    call_id: Uuid,
    response: Option<StoredResponse>,
    expires_at: DateTime<Utc>,
}

/// A call no webhook or placement can still need: neither being placed nor in progress on
/// 8x8's side (or in progress, but 8x8's summary has already ended it).
fn may_be_forgotten(record: &CallRecord) -> bool {
    let status = record.state.status;
    status != CallStatus::Placing && (!status.is_live() || record.state.summary_received)
}

/// Why a value was refused: the same limits as the database schemas, named like their
/// constraints, never quoting the value (a phone number).
fn refused(operation: &str, constraint: &str, rule: &str) -> StoreError {
    StoreError::Database(format!("{operation}: {rule} (constraint {constraint})"))
}

fn chars_between(text: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&text.chars().count())
}

fn check_new_call(call: &NewCall) -> Result<(), StoreError> {
    let operation = "insert a call";
    if !chars_between(&call.order_id, 1, 255) {
        return Err(refused(operation, "calls.order_id", "1 to 255 characters"));
    }
    let phone = &call.customer_phone;
    if !(7..=15).contains(&phone.len()) || !phone.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(refused(operation, "calls.customer_phone", "7 to 15 digits"));
    }
    if !chars_between(&call.client_action_id, 1, 512) {
        return Err(refused(
            operation,
            "calls.client_action_id",
            "1 to 512 characters",
        ));
    }
    Ok(())
}

fn check_placement(write: &PlacementWrite) -> Result<(), StoreError> {
    let operation = "record a placement";
    let id_ok = |id: &Option<String>| id.as_deref().is_none_or(|id| chars_between(id, 1, 255));
    if !id_ok(&write.session_id) {
        return Err(refused(
            operation,
            "calls.session_id",
            "1 to 255 characters",
        ));
    }
    if !id_ok(&write.call_flow_request_id) {
        return Err(refused(
            operation,
            "calls.call_flow_request_id",
            "1 to 255 characters",
        ));
    }
    if write
        .failure
        .as_deref()
        .is_some_and(|failure| failure.chars().count() > MAX_FAILURE_CHARS)
    {
        return Err(refused(
            operation,
            "calls.failure",
            "at most 1000 characters",
        ));
    }
    Ok(())
}

const TIMELINE_EVENTS: [&str; 6] = ["placing", "placed", "not_placed", "in_doubt", "vca", "vss"];

fn check_change(change: &StateChange) -> Result<(), StoreError> {
    let operation = "apply a state change";
    let hook = &change.webhook;
    if !chars_between(&hook.key, 1, 300) {
        return Err(refused(
            operation,
            "webhook_events.key",
            "1 to 300 characters",
        ));
    }
    if !chars_between(&hook.session_id, 1, 255) {
        return Err(refused(
            operation,
            "webhook_events.session_id",
            "1 to 255 characters",
        ));
    }
    if change.state.digits.chars().count() > 1024 {
        return Err(refused(
            operation,
            "calls.digits",
            "at most 1024 characters",
        ));
    }
    if let Some(entry) = &change.timeline {
        if !TIMELINE_EVENTS.contains(&entry.event.as_str()) {
            return Err(refused(operation, "call_timeline_event", "a known event"));
        }
        if entry
            .effect
            .as_deref()
            .is_some_and(|effect| !chars_between(effect, 1, 64))
        {
            return Err(refused(
                operation,
                "call_timeline.effect",
                "1 to 64 characters",
            ));
        }
        if entry
            .digits
            .as_deref()
            .is_some_and(|digits| digits.chars().count() > 64)
        {
            return Err(refused(
                operation,
                "call_timeline.digits",
                "at most 64 characters",
            ));
        }
    }
    Ok(())
}

fn check_key(key: &str, request_hash: &str) -> Result<(), StoreError> {
    let operation = "claim an idempotency key";
    if !chars_between(key, 1, 255) {
        return Err(refused(
            operation,
            "idempotency_keys.key",
            "1 to 255 characters",
        ));
    }
    if !chars_between(request_hash, 1, 128) {
        return Err(refused(
            operation,
            "idempotency_keys.request_hash",
            "1 to 128 characters",
        ));
    }
    Ok(())
}

impl MemoryStore {
    /// Opens an empty store from a `memory:` URL: `memory:` or `memory:?max_calls=N` (N ≥ 1).
    pub fn connect(database_url: &str) -> Result<Self, StoreError> {
        let invalid = || {
            StoreError::Database(format!(
                "DATABASE_URL: a volatile store is `memory:` or `memory:?max_calls=N` with N at \
                 least 1 (the default keeps {DEFAULT_MAX_CALLS} calls)"
            ))
        };
        let options = database_url.strip_prefix("memory:").ok_or_else(invalid)?;
        let max_calls = match options {
            "" => DEFAULT_MAX_CALLS,
            _ => options
                .strip_prefix("?max_calls=")
                .and_then(|n| n.parse::<usize>().ok())
                .filter(|&n| n >= 1)
                .ok_or_else(invalid)?,
        };
        Ok(MemoryStore::with_max_calls(max_calls))
    }

    /// An empty store that keeps at most `max_calls` calls (more while that many are still
    /// being placed or in progress).
    pub fn with_max_calls(max_calls: usize) -> Self {
        MemoryStore {
            calls: Mutex::new(Calls {
                by_id: HashMap::new(),
                by_session: HashMap::new(),
                by_created: BTreeSet::new(),
                finished: BTreeSet::new(),
                max_calls,
            }),
            keys: Mutex::new(HashMap::new()),
        }
    }

    fn calls(&self) -> std::sync::MutexGuard<'_, Calls> {
        // A panic while holding the lock cannot leave a call half-changed: every operation
        // checks first and changes last, so the data stays usable.
        self.calls
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn keys(&self) -> std::sync::MutexGuard<'_, HashMap<String, KeyEntry>> {
        self.keys
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Calls {
    fn insert(&mut self, call: StoredCall) {
        let order = (call.record.created_at, call.record.id);
        self.by_created.insert(order);
        self.by_id.insert(call.record.id, call);
        self.forget_oldest_finished();
    }

    /// Keeps the `finished` set in step with a call whose state just changed.
    fn note_state(&mut self, id: Uuid) {
        let Some(call) = self.by_id.get(&id) else {
            return;
        };
        let order = (call.record.created_at, id);
        if may_be_forgotten(&call.record) {
            self.finished.insert(order);
        } else {
            self.finished.remove(&order);
        }
        self.forget_oldest_finished();
    }

    fn forget_oldest_finished(&mut self) {
        while self.by_id.len() > self.max_calls {
            let Some(oldest) = self.finished.pop_first() else {
                return;
            };
            self.by_created.remove(&oldest);
            if let Some(call) = self.by_id.remove(&oldest.1)
                && let Some(session_id) = &call.record.session_id
            {
                self.by_session.remove(session_id.as_str());
            }
        }
    }
}

#[async_trait]
impl Store for MemoryStore {
    async fn insert_call(&self, call: &NewCall) -> Result<(), StoreError> {
        check_new_call(call)?;
        let created_at = micros(call.created_at);
        let mut calls = self.calls();
        if calls.by_id.contains_key(&call.id) {
            return Err(refused(
                "insert a call",
                "calls.id",
                "a call with this id exists",
            ));
        }
        calls.insert(StoredCall {
            record: CallRecord {
                id: call.id,
                order_id: call.order_id.clone(),
                customer_phone: call.customer_phone.clone(),
                client_action_id: call.client_action_id.clone(),
                session_id: None,
                call_flow_request_id: None,
                request: call.request.clone(),
                script: Arc::new(call.script.clone()),
                state: placing_state(),
                outcome: None,
                failure: None,
                version: 1,
                created_at,
                updated_at: created_at,
            },
            placing_deadline: micros(call.placing_deadline),
            timeline: vec![first_entry(call)],
            webhooks: Vec::new(),
        });
        Ok(())
    }

    async fn record_placement(
        &self,
        call_id: Uuid,
        placement: &Placement,
        at: DateTime<Utc>,
    ) -> Result<CallRecord, StoreError> {
        let write = PlacementWrite::of(placement);
        check_placement(&write)?;
        let mut calls = self.calls();
        let Some(call) = calls.by_id.get(&call_id) else {
            return Err(StoreError::MissingCall(call_id));
        };
        // Only a call still `placing` takes the answer: the sweep may have given up on it.
        if call.record.state.status != CallStatus::Placing {
            return Ok(call.record.clone());
        }
        if let Some(session_id) = &write.session_id
            && calls
                .by_session
                .get(session_id.as_str())
                .is_some_and(|owner| *owner != call_id)
        {
            return Err(refused(
                "record a placement",
                "calls.session_id",
                "the session belongs to another call",
            ));
        }
        if let Some(session_id) = &write.session_id {
            calls.by_session.insert(session_id.as_str().into(), call_id);
        }
        let at = micros(at);
        let call = calls
            .by_id
            .get_mut(&call_id)
            .ok_or(StoreError::MissingCall(call_id))?;
        let record = &mut call.record;
        record.state = write.state;
        record.session_id = write.session_id;
        record.call_flow_request_id = write.call_flow_request_id;
        record.failure = write.failure;
        record.version += 1;
        record.updated_at = at;
        call.timeline.push(TimelineEntry {
            at,
            from: Some(CallStatus::Placing),
            to: record.state.status,
            event: write.event.to_owned(),
            effect: None,
            digits: None,
        });
        let updated = record.clone();
        calls.note_state(call_id);
        Ok(updated)
    }

    async fn call_by_id(&self, id: Uuid) -> Result<Option<CallRecord>, StoreError> {
        Ok(self.calls().by_id.get(&id).map(|call| call.record.clone()))
    }

    async fn call_by_session(&self, session_id: &str) -> Result<Option<CallRecord>, StoreError> {
        let calls = self.calls();
        Ok(calls
            .by_session
            .get(session_id)
            .and_then(|id| calls.by_id.get(id))
            .map(|call| call.record.clone()))
    }

    async fn list_calls(&self, query: &CallQuery) -> Result<Vec<CallRecord>, StoreError> {
        let from = query.created_from.map(micros);
        let to = query.created_to.map(micros);
        let calls = self.calls();
        let newest_first: Box<dyn Iterator<Item = &(DateTime<Utc>, Uuid)>> = match query.before {
            Some(cursor) => Box::new(
                calls
                    .by_created
                    .range(..(micros(cursor.created_at), cursor.id))
                    .rev(),
            ),
            None => Box::new(calls.by_created.iter().rev()),
        };
        Ok(newest_first
            // Newest first: once older than the range, every later call is too.
            .take_while(|(created_at, _)| from.is_none_or(|from| *created_at >= from))
            .filter(|(created_at, _)| to.is_none_or(|to| *created_at < to))
            .filter_map(|(_, id)| calls.by_id.get(id))
            .map(|call| &call.record)
            .filter(|record| {
                query
                    .status
                    .is_none_or(|status| record.state.status == status)
            })
            .filter(|record| {
                query
                    .order_id
                    .as_deref()
                    .is_none_or(|order_id| record.order_id == order_id)
            })
            .take(query.limit as usize)
            .cloned()
            .collect())
    }

    async fn timelines(
        &self,
        call_ids: &[Uuid],
    ) -> Result<HashMap<Uuid, Vec<TimelineEntry>>, StoreError> {
        let calls = self.calls();
        Ok(call_ids
            .iter()
            .map(|id| {
                let timeline = calls
                    .by_id
                    .get(id)
                    .map(|call| call.timeline.clone())
                    .unwrap_or_default();
                (*id, timeline)
            })
            .collect())
    }

    async fn apply_change(&self, change: &StateChange) -> Result<ApplyResult, StoreError> {
        check_change(change)?;
        let hook = &change.webhook;
        let mut calls = self.calls();
        let Some(call) = calls.by_id.get_mut(&change.call_id) else {
            return Err(StoreError::MissingCall(change.call_id));
        };
        if let Some((_, reply)) = call.webhooks.iter().find(|(key, _)| **key == *hook.key) {
            return Ok(ApplyResult::Duplicate {
                reply: reply.clone(),
            });
        }
        if call.record.version != change.expected_version {
            return Ok(ApplyResult::Conflict);
        }
        let record = &mut call.record;
        record.state = change.state.clone();
        if let Some(outcome) = &change.outcome {
            record.outcome = Some(outcome.clone());
        }
        record.version += 1;
        record.updated_at = micros(hook.received_at);
        let version = record.version;
        call.webhooks
            .push((hook.key.as_str().into(), hook.reply.clone()));
        if let Some(entry) = &change.timeline {
            call.timeline.push(TimelineEntry {
                at: micros(entry.at),
                ..entry.clone()
            });
        }
        calls.note_state(change.call_id);
        Ok(ApplyResult::Applied { version })
    }

    async fn mark_in_doubt(
        &self,
        deadline_before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let (before, now) = (micros(deadline_before), micros(now));
        let mut calls = self.calls();
        let overdue: Vec<Uuid> = calls
            .by_id
            .values()
            .filter(|call| {
                call.record.state.status == CallStatus::Placing && call.placing_deadline < before
            })
            .map(|call| call.record.id)
            .collect();
        for id in &overdue {
            if let Some(call) = calls.by_id.get_mut(id) {
                let record = &mut call.record;
                record.state.status = CallStatus::Unknown;
                record.failure = Some(STOPPED_BEFORE_ANSWER.to_owned());
                record.version += 1;
                record.updated_at = now;
                call.timeline.push(TimelineEntry {
                    at: now,
                    from: Some(CallStatus::Placing),
                    to: CallStatus::Unknown,
                    event: "in_doubt".to_owned(),
                    effect: None,
                    digits: None,
                });
            }
            calls.note_state(*id);
        }
        Ok(overdue.len() as u64)
    }

    async fn claim_idempotency_key(
        &self,
        key: &str,
        request_hash: &str,
        call_id: Uuid,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<IdempotencyClaim, StoreError> {
        check_key(key, request_hash)?;
        let now = micros(now);
        let mut keys = self.keys();
        if let Some(entry) = keys.get(key).filter(|entry| now < entry.expires_at) {
            return Ok(match &entry.response {
                None => IdempotencyClaim::InProgress {
                    request_hash: entry.request_hash.clone(),
                    call_id: Some(entry.call_id),
                },
                Some(response) => IdempotencyClaim::Completed {
                    request_hash: entry.request_hash.clone(),
                    response: response.clone(),
                },
            });
        }
        keys.insert(
            key.to_owned(),
            KeyEntry {
                request_hash: request_hash.to_owned(),
                call_id,
                response: None,
                expires_at: micros(expires_at),
            },
        );
        Ok(IdempotencyClaim::Claimed)
    }

    async fn complete_idempotency_key(
        &self,
        key: &str,
        response: &StoredResponse,
    ) -> Result<(), StoreError> {
        if !(100..=599).contains(&response.status) {
            return Err(refused(
                "complete an idempotency key",
                "idempotency_keys.response_status",
                "an HTTP status",
            ));
        }
        if let Some(entry) = self
            .keys()
            .get_mut(key)
            .filter(|entry| entry.response.is_none())
        {
            entry.response = Some(response.clone());
        }
        Ok(())
    }

    async fn release_idempotency_key(&self, key: &str) -> Result<(), StoreError> {
        let mut keys = self.keys();
        if keys.get(key).is_some_and(|entry| entry.response.is_none()) {
            keys.remove(key);
        }
        Ok(())
    }

    async fn purge_expired_idempotency_keys(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let now = micros(now);
        let mut keys = self.keys();
        let before = keys.len();
        keys.retain(|_, entry| entry.expires_at > now);
        Ok((before - keys.len()) as u64)
    }
}
