//! Persistence behind one small trait: calls, their timelines, the webhooks received and
//! make-call idempotency keys, with a SQLite (embedded default) and a PostgreSQL
//! implementation, plus a volatile one kept in memory (`memory:`, nothing survives a restart).
//!
//! The two databases have the same schema (migrations embedded per backend), and all three
//! the same behaviour, which one test suite checks against each (`tests/api/store.rs`).
//!
//! Timestamps are stored to the microsecond on both backends: finer parts are truncated on
//! write, so a record read back carries `trunc_subsecs(6)` of what was written.

use crate::domain::{CallStatus, JsonText, SessionOutcome};
use crate::ivr::{CallScript, IvrState};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use uuid::Uuid;

pub mod memory;
pub mod postgres;
mod rows;
pub mod sqlite;
mod sqlite_wal;
mod sqlite_writer;

/// The failure [`Store::mark_in_doubt`] records on a call whose placing was interrupted.
pub const STOPPED_BEFORE_ANSWER: &str = "the process stopped before 8x8's answer was stored";

/// The store could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(String),
    #[error("stored data could not be read: {0}")]
    Corrupt(String),
    #[error("no call with id {0}")]
    MissingCall(Uuid),
}

/// A call about to be placed: written (status `placing`) before 8x8 is asked.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCall {
    pub id: Uuid,
    pub order_id: String,
    /// Digits only; never logged.
    pub customer_phone: String,
    pub client_action_id: String,
    /// The appointment as requested (the make-call body as the client sent it, validated).
    pub request: Value,
    /// As rendered; a store that keeps calls in memory keeps this very copy.
    pub script: Arc<CallScript>,
    pub created_at: DateTime<Utc>,
    /// After this instant a call still `placing` can only belong to a dead process.
    pub placing_deadline: DateTime<Utc>,
}

/// A call as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct CallRecord {
    pub id: Uuid,
    pub order_id: String,
    pub customer_phone: String,
    pub client_action_id: String,
    pub session_id: Option<String>,
    pub call_flow_request_id: Option<String>,
    pub request: Value,
    /// Shared with the session cache, which keeps it for the call's life.
    pub script: Arc<CallScript>,
    pub state: IvrState,
    pub outcome: Option<SessionOutcome>,
    /// Why the call was not placed or is in doubt.
    pub failure: Option<String>,
    /// Bumped by every change: the optimistic lock that keeps instances from racing.
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One entry of a call's timeline: a change of status or of the IVR's position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TimelineEntry {
    pub at: DateTime<Utc>,
    /// `None` for the first entry.
    pub from: Option<CallStatus>,
    pub to: CallStatus,
    /// What caused it: `placing`, `placed`, `not_placed`, `in_doubt`, `vca` or `vss`.
    pub event: String,
    /// For webhooks: what the IVR did (`confirmed`, `reprompted`, `session_ended`...).
    pub effect: Option<String>,
    /// The key pressed, for VCA entries.
    pub digits: Option<String>,
}

/// What 8x8 said when asked to place the call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    Created {
        session_id: String,
        call_flow_request_id: Option<String>,
    },
    /// 8x8 refused, or could not be reached at all: no call exists.
    NotPlaced { reason: String },
    /// No usable answer: 8x8 may have placed the call.
    InDoubt { reason: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WebhookKind {
    Vca,
    Vss,
}

impl WebhookKind {
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookKind::Vca => "vca",
            WebhookKind::Vss => "vss",
        }
    }
}

/// A webhook received from 8x8, recorded with the reply we gave.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookRecord {
    /// The idempotency key: `vca:{eventId}` or `vss:{sessionId}`.
    pub key: String,
    pub kind: WebhookKind,
    pub session_id: String,
    pub received_at: DateTime<Utc>,
    /// The event: the whole JSON body, as 8x8 sent it.
    pub event: JsonText,
    /// The callflow we answered (VCA), stored so that a re-delivery gets the same answer.
    pub reply: Option<JsonText>,
}

/// One webhook's effect on one call, committed atomically: the webhook row (unique on its
/// key), the new state (only if `expected_version` still holds) and the timeline entry.
#[derive(Debug, Clone, PartialEq)]
pub struct StateChange {
    pub call_id: Uuid,
    pub expected_version: i64,
    pub webhook: WebhookRecord,
    pub state: IvrState,
    /// Set by a VSS: 8x8's verdict on the session.
    pub outcome: Option<SessionOutcome>,
    /// `None` when the webhook changed nothing (a key after the end, a stale prompt).
    pub timeline: Option<TimelineEntry>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ApplyResult {
    /// Committed; the call's new version.
    Applied { version: i64 },
    /// A webhook with this key was already recorded; nothing was written. Its stored reply.
    Duplicate { reply: Option<JsonText> },
    /// The call changed since it was read (another instance, or a stale cache): nothing was
    /// written; reload and decide again.
    Conflict,
}

/// Filters for listing calls, newest first.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CallQuery {
    pub status: Option<CallStatus>,
    pub order_id: Option<String>,
    /// Inclusive lower bound on `created_at`.
    pub created_from: Option<DateTime<Utc>>,
    /// Exclusive upper bound on `created_at`.
    pub created_to: Option<DateTime<Utc>>,
    /// Only calls strictly older than this position (the previous page's last call).
    pub before: Option<Cursor>,
    /// At most this many (the API caps it at 500).
    pub limit: u32,
}

/// A position in the newest-first order: `(created_at, id)` descending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub created_at: DateTime<Utc>,
    pub id: Uuid,
}

/// A response remembered for an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredResponse {
    pub status: u16,
    pub body: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub enum IdempotencyClaim {
    /// The key was free (or expired): the caller owns it and must complete or release it.
    Claimed,
    /// The first request finished; its response is to be replayed if the hash matches.
    Completed {
        request_hash: String,
        response: StoredResponse,
    },
    /// The first request is still running (here or on another instance).
    InProgress {
        request_hash: String,
        call_id: Option<Uuid>,
    },
}

/// The persistence the service needs; one implementation per backend.
///
/// Errors: a database failure is [`StoreError::Database`], whose message names the operation
/// and the failing constraint but never a bound value (no phone numbers); a row that no longer
/// decodes (unknown status, JSON that no longer matches its type) is [`StoreError::Corrupt`].
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Inserts a call in status `placing` (step `main`, no prompt played, version 1, updated at
    /// `created_at`), with its first timeline entry (`None` -> `placing`, event `placing`).
    /// Fails with [`StoreError::Database`] if the id exists or a value breaks the schema's
    /// limits (order id 1..=255 chars, phone 7..=15 digits, client action id 1..=512 chars).
    async fn insert_call(&self, call: &NewCall) -> Result<(), StoreError>;

    /// Records 8x8's answer to Send Callflow: `pending` with the session id and
    /// [`IvrState::placed`], `not_placed` or `unknown` with the reason as `failure` (cut to
    /// 1000 characters; the IVR fields keep their `placing` values); adds the timeline entry
    /// (event `placed`, `not_placed` or `in_doubt`), bumps the version, returns the updated call.
    ///
    /// Only a call still `placing` takes the answer. A call that has already moved on (the
    /// sweep marked it `unknown` because the answer came too late) is returned unchanged, so
    /// the caller can see its status is not the one it asked for. [`StoreError::MissingCall`]
    /// if there is no such call; [`StoreError::Database`] if the session id is another call's
    /// or longer than 255 characters (the call then stays `placing` until the sweep).
    async fn record_placement(
        &self,
        call_id: Uuid,
        placement: &Placement,
        at: DateTime<Utc>,
    ) -> Result<CallRecord, StoreError>;

    async fn call_by_id(&self, id: Uuid) -> Result<Option<CallRecord>, StoreError>;

    async fn call_by_session(&self, session_id: &str) -> Result<Option<CallRecord>, StoreError>;

    /// Calls matching `query`, newest first (`created_at` then `id`, both descending).
    async fn list_calls(&self, query: &CallQuery) -> Result<Vec<CallRecord>, StoreError>;

    /// The timelines of these calls, each oldest entry first (in the order written), in one
    /// query. Every requested id is a key of the map, with an empty list if nothing is stored.
    async fn timelines(
        &self,
        call_ids: &[Uuid],
    ) -> Result<HashMap<Uuid, Vec<TimelineEntry>>, StoreError>;

    /// Commits one webhook's effect atomically (see [`StateChange`]): the webhook row, the new
    /// state (`outcome` only replaces the stored one when `Some`; `updated_at` becomes the
    /// webhook's `received_at`) and the timeline entry. A key already recorded returns
    /// [`ApplyResult::Duplicate`] with its stored reply and writes nothing, also when the first
    /// delivery is still committing on another instance. A version that no longer holds returns
    /// [`ApplyResult::Conflict`] and writes nothing, not even the webhook row.
    /// [`StoreError::MissingCall`] if the call does not exist. The schema refuses a key over
    /// 300 characters and a session id over 255: validate webhooks before calling this.
    async fn apply_change(&self, change: &StateChange) -> Result<ApplyResult, StoreError>;

    /// Marks calls still `placing` whose deadline is before `deadline_before` as `unknown`
    /// with the failure [`STOPPED_BEFORE_ANSWER`], a timeline entry (event `in_doubt`, at
    /// `now`) and a version bump; returns how many.
    async fn mark_in_doubt(
        &self,
        deadline_before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError>;

    /// Claims an idempotency key for the request with this hash (see [`IdempotencyClaim`]).
    /// A key is live while `now < expires_at`; an expired key is taken over as if free. Of
    /// any number of concurrent claims of one free key, exactly one gets `Claimed`.
    async fn claim_idempotency_key(
        &self,
        key: &str,
        request_hash: &str,
        call_id: Uuid,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<IdempotencyClaim, StoreError>;

    /// Stores the response of the request that owns the key. Only an `in_progress` key is
    /// completed: a released, purged or already completed key is left as it is.
    async fn complete_idempotency_key(
        &self,
        key: &str,
        response: &StoredResponse,
    ) -> Result<(), StoreError>;

    /// Frees a key whose request ended before anything was attempted. A completed key is
    /// never released (its response must keep being replayed).
    async fn release_idempotency_key(&self, key: &str) -> Result<(), StoreError>;

    /// Deletes keys that have expired by `now` (`expires_at <= now`, in progress or not);
    /// returns how many.
    async fn purge_expired_idempotency_keys(&self, now: DateTime<Utc>) -> Result<u64, StoreError>;
}

/// The store the service runs on.
pub type SharedStore = Arc<dyn Store>;

/// Opens the store named by `DATABASE_URL` (`sqlite:...`, `postgres://...` or `memory:`) and
/// applies the embedded migrations.
pub async fn connect(database_url: &str) -> Result<SharedStore, StoreError> {
    if database_url.starts_with("postgres://") || database_url.starts_with("postgresql://") {
        Ok(Arc::new(postgres::PgStore::connect(database_url).await?))
    } else if database_url.starts_with("sqlite:") {
        Ok(Arc::new(sqlite::SqliteStore::connect(database_url).await?))
    } else if is_volatile(database_url) {
        Ok(Arc::new(memory::MemoryStore::connect(database_url)?))
    } else {
        Err(StoreError::Database(
            "DATABASE_URL must start with sqlite:, postgres:// or memory:".to_owned(),
        ))
    }
}

/// Whether `DATABASE_URL` names the volatile store, whose calls are lost when the process stops.
pub fn is_volatile(database_url: &str) -> bool {
    database_url.starts_with("memory:")
}
