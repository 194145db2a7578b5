//! The volatile store (`DATABASE_URL=memory:`): every call kept in this process's memory, as
//! the original service kept its sessions, and lost when the process stops.
//!
//! For trying callconfirm without a database file, for the test suites of systems that call
//! it, and for measuring the webhook path without a disk; never where an outcome must survive
//! a restart (README, "Storage"). It behaves as the database backends do (the store suite runs
//! on all three), including the limits their schemas enforce (`limits`), which are checked
//! before anything changes. It keeps what can be read back and what de-duplication needs: the
//! webhooks' keys and replies, not their bodies; and it keeps them compactly (`stored`).
//!
//! Memory stays bounded: past `max_calls` calls, the oldest finished ones are forgotten (a
//! call being placed or still in progress on 8x8's side never is).

mod limits;
mod stored;

use super::rows::{PlacementWrite, micros};
use super::*;
use crate::domain::CallStatus;
use limits::{TimelineEvent, check_change, check_key, check_new_call, check_placement, refused};
use std::collections::BTreeSet;
use std::sync::{Mutex, MutexGuard};
use stored::{StoredCall, StoredEntry};

/// How many calls `memory:` keeps unless the URL says otherwise (`memory:?max_calls=N`).
pub const DEFAULT_MAX_CALLS: usize = 10_000;

/// The volatile store. Each operation takes one short lock and never awaits while holding it.
pub struct MemoryStore {
    calls: Mutex<Calls>,
    keys: Mutex<HashMap<String, KeyEntry>>,
}

/// A position in time order: `(created_at, id)` for listing, `(deadline, id)` for the sweep.
type Order = (DateTime<Utc>, Uuid);

struct Calls {
    /// Boxed, so that the map's spare capacity costs a pointer per slot, not a whole call.
    by_id: HashMap<Uuid, Box<StoredCall>>,
    by_session: HashMap<Arc<str>, Uuid>,
    /// Every call in the listing order; newest first is this backwards.
    by_created: BTreeSet<Order>,
    /// The calls still `placing`, by deadline: what the sweep looks at.
    placing: BTreeSet<Order>,
    /// The calls that may be forgotten ([`StoredCall::may_be_forgotten`]), oldest first.
    finished: BTreeSet<Order>,
    max_calls: usize,
}

struct KeyEntry {
    request_hash: String,
    call_id: Uuid,
    response: Option<StoredResponse>,
    expires_at: DateTime<Utc>,
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
                placing: BTreeSet::new(),
                finished: BTreeSet::new(),
                max_calls,
            }),
            keys: Mutex::new(HashMap::new()),
        }
    }

    fn calls(&self) -> MutexGuard<'_, Calls> {
        // A panic while holding the lock cannot leave a call half-changed: every operation
        // checks first and changes last, so the data stays usable.
        self.calls
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn keys(&self) -> MutexGuard<'_, HashMap<String, KeyEntry>> {
        self.keys
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Calls {
    fn insert(&mut self, id: Uuid, call: StoredCall) {
        self.by_created.insert((call.created_at, id));
        self.placing.insert((call.placing_deadline, id));
        self.by_id.insert(id, Box::new(call));
        self.forget_oldest_finished();
    }

    /// Keeps the sweep's and the bound's sets in step with a call whose status just changed.
    fn note_state(&mut self, id: Uuid) {
        let Some(call) = self.by_id.get(&id) else {
            return;
        };
        if call.state.status != CallStatus::Placing {
            self.placing.remove(&(call.placing_deadline, id));
        }
        let order = (call.created_at, id);
        if call.may_be_forgotten() {
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
                && let Some(session_id) = &call.session_id
            {
                self.by_session.remove(session_id);
            }
        }
    }

    fn record(&self, id: Uuid) -> Result<Option<CallRecord>, StoreError> {
        self.by_id
            .get(&id)
            .map(|call| call.to_record(id))
            .transpose()
    }
}

/// The refusal of a timeline event the schemas do not allow.
fn unknown_event(operation: &str) -> StoreError {
    refused(operation, "call_timeline_event", "a known event")
}

#[async_trait]
impl Store for MemoryStore {
    async fn insert_call(&self, call: &NewCall) -> Result<(), StoreError> {
        check_new_call(call)?;
        let stored = StoredCall::placing(call)?;
        let mut calls = self.calls();
        if calls.by_id.contains_key(&call.id) {
            return Err(refused(
                "insert a call",
                "calls.id",
                "a call with this id exists",
            ));
        }
        calls.insert(call.id, stored);
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
        let event =
            TimelineEvent::named(write.event).ok_or_else(|| unknown_event("record a placement"))?;
        let mut calls = self.calls();
        let Some(call) = calls.by_id.get(&call_id) else {
            return Err(StoreError::MissingCall(call_id));
        };
        // Only a call still `placing` takes the answer: the sweep may have given up on it.
        if call.state.status != CallStatus::Placing {
            return call.to_record(call_id);
        }
        let session_id: Option<Arc<str>> = write.session_id.as_deref().map(Arc::from);
        if let Some(session_id) = &session_id {
            if calls
                .by_session
                .get(session_id)
                .is_some_and(|owner| *owner != call_id)
            {
                return Err(refused(
                    "record a placement",
                    "calls.session_id",
                    "the session belongs to another call",
                ));
            }
            calls.by_session.insert(Arc::clone(session_id), call_id);
        }
        let call = calls
            .by_id
            .get_mut(&call_id)
            .ok_or(StoreError::MissingCall(call_id))?;
        call.state = write.state;
        call.session_id = session_id;
        call.call_flow_request_id = write.call_flow_request_id.map(Box::from);
        call.failure = write.failure.map(Box::from);
        call.version += 1;
        call.updated_at = micros(at);
        let to = call.state.status;
        call.push_entry(StoredEntry::transition(
            at,
            Some(CallStatus::Placing),
            to,
            event,
        ));
        let updated = call.to_record(call_id);
        calls.note_state(call_id);
        updated
    }

    async fn call_by_id(&self, id: Uuid) -> Result<Option<CallRecord>, StoreError> {
        self.calls().record(id)
    }

    async fn call_by_session(&self, session_id: &str) -> Result<Option<CallRecord>, StoreError> {
        let calls = self.calls();
        match calls.by_session.get(session_id) {
            Some(id) => calls.record(*id),
            None => Ok(None),
        }
    }

    async fn list_calls(&self, query: &CallQuery) -> Result<Vec<CallRecord>, StoreError> {
        let from = query.created_from.map(micros);
        let to = query.created_to.map(micros);
        let calls = self.calls();
        let newest_first: Box<dyn Iterator<Item = &Order>> = match query.before {
            Some(cursor) => Box::new(
                calls
                    .by_created
                    .range(..(micros(cursor.created_at), cursor.id))
                    .rev(),
            ),
            None => Box::new(calls.by_created.iter().rev()),
        };
        newest_first
            // Newest first: once older than the range, every later call is too.
            .take_while(|(created_at, _)| from.is_none_or(|from| *created_at >= from))
            .filter(|(created_at, _)| to.is_none_or(|to| *created_at < to))
            .filter_map(|(_, id)| calls.by_id.get(id).map(|call| (*id, call)))
            .filter(|(_, call)| {
                query
                    .status
                    .is_none_or(|status| call.state.status == status)
            })
            .filter(|(_, call)| {
                query
                    .order_id
                    .as_deref()
                    .is_none_or(|order_id| &*call.order_id == order_id)
            })
            .take(query.limit as usize)
            .map(|(id, call)| call.to_record(id))
            .collect()
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
                    .map(|call| call.timeline())
                    .unwrap_or_default();
                (*id, timeline)
            })
            .collect())
    }

    async fn apply_change(&self, change: &StateChange) -> Result<ApplyResult, StoreError> {
        check_change(change)?;
        let entry = match &change.timeline {
            Some(entry) => {
                Some(StoredEntry::of(entry).ok_or_else(|| unknown_event("apply a state change"))?)
            }
            None => None,
        };
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
        if call.version != change.expected_version {
            return Ok(ApplyResult::Conflict);
        }
        call.state = change.state.clone();
        if let Some(outcome) = &change.outcome {
            call.outcome = Some(Box::new(outcome.clone()));
        }
        call.version += 1;
        call.updated_at = micros(hook.received_at);
        let version = call.version;
        call.webhooks.reserve_exact(1);
        call.webhooks
            .push((hook.key.as_str().into(), hook.reply.clone()));
        if let Some(entry) = entry {
            call.push_entry(entry);
        }
        calls.note_state(change.call_id);
        Ok(ApplyResult::Applied { version })
    }

    async fn mark_in_doubt(
        &self,
        deadline_before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let before = micros(deadline_before);
        let mut calls = self.calls();
        let overdue: Vec<Uuid> = calls
            .placing
            .range(..(before, Uuid::nil()))
            .map(|(_, id)| *id)
            .collect();
        for id in &overdue {
            if let Some(call) = calls.by_id.get_mut(id) {
                call.state.status = CallStatus::Unknown;
                call.failure = Some(STOPPED_BEFORE_ANSWER.into());
                call.version += 1;
                call.updated_at = micros(now);
                call.push_entry(StoredEntry::transition(
                    now,
                    Some(CallStatus::Placing),
                    CallStatus::Unknown,
                    TimelineEvent::InDoubt,
                ));
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
