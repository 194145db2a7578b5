//! What both backends share: the column lists, the backend-neutral row shapes and their
//! checked conversion into records, the values a placement writes, a duplicate webhook's
//! stored reply, and error mapping that never leaks a bound parameter (a phone number) into
//! a message.

use super::{
    ApplyResult, CallRecord, IdempotencyClaim, NewCall, Placement, StoreError, StoredResponse,
    TimelineEntry,
};
use crate::domain::{CallStatus, JsonText, MenuStep, SessionOutcome};
use crate::ivr::{CallScript, IvrState};
use chrono::{DateTime, SubsecRound, Utc};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::sync::Arc;
use uuid::Uuid;

/// The columns of a call every query selects, in the order the row types expect: `calls`
/// as `c` joined with its `call_scripts` row as `s` (see [`calls_joined`]).
/// A macro rather than a `const` so that it can be spliced into `concat!` and the SQL stays
/// a `&'static str` (sqlx 0.9's `SqlSafeStr`).
macro_rules! call_columns {
    () => {
        "c.id, c.order_id, c.customer_phone, c.client_action_id, c.session_id, \
         c.call_flow_request_id, s.request, s.script, c.status, c.step, c.prompts_played, \
         c.reprompts, c.repeats, c.digits, c.summary_received, c.outcome, c.failure, \
         c.version, c.created_at, c.updated_at"
    };
}
pub(crate) use call_columns;

/// A call is its `calls` row (the state every webhook rewrites) and its `call_scripts` row
/// (the request and the rendered script, written once): kept apart so that the row rewritten
/// on the hot path stays small (migration 0003).
macro_rules! calls_joined {
    () => {
        "calls c JOIN call_scripts s ON s.call_id = c.id"
    };
}
pub(crate) use calls_joined;

/// The columns of `call_timeline` the timeline queries select.
macro_rules! timeline_columns {
    () => {
        "call_id, at, from_status, to_status, event, effect, digits"
    };
}
pub(crate) use timeline_columns;

/// The longest `failure` text stored (the schema refuses longer): 8x8's error bodies can be
/// long, and a refused write would leave the call `placing`, which is worse than a cut reason.
pub(crate) const MAX_FAILURE_CHARS: usize = 1000;

/// Timestamps are kept to the microsecond on both backends (PostgreSQL's `TIMESTAMPTZ`
/// resolution); finer parts are truncated before writing so both backends store the same.
pub(crate) fn micros(at: DateTime<Utc>) -> DateTime<Utc> {
    at.trunc_subsecs(6)
}

/// Cuts a failure reason to what the schema accepts, on a character boundary.
pub(crate) fn bounded_failure(reason: &str) -> String {
    reason.chars().take(MAX_FAILURE_CHARS).collect()
}

/// The IVR state of a call that is being placed: nothing played, nothing pressed.
pub(crate) fn placing_state() -> IvrState {
    IvrState {
        status: CallStatus::Placing,
        step: MenuStep::Main,
        prompts_played: 0,
        reprompts: 0,
        repeats: 0,
        digits: String::new(),
        summary_received: false,
    }
}

/// Everything [`Placement`] writes to a call still `placing`.
pub(crate) struct PlacementWrite {
    pub state: IvrState,
    pub session_id: Option<String>,
    pub call_flow_request_id: Option<String>,
    pub failure: Option<String>,
    /// The timeline event: `placed`, `not_placed` or `in_doubt`.
    pub event: &'static str,
}

impl PlacementWrite {
    /// Created: [`IvrState::placed`]. Not placed / in doubt: only the status and the failure
    /// change; the IVR fields keep their `placing` values (nothing was played).
    pub fn of(placement: &Placement) -> Self {
        let failed = |status, reason: &str, event| PlacementWrite {
            state: IvrState {
                status,
                ..placing_state()
            },
            session_id: None,
            call_flow_request_id: None,
            failure: Some(bounded_failure(reason)),
            event,
        };
        match placement {
            Placement::Created {
                session_id,
                call_flow_request_id,
            } => PlacementWrite {
                state: IvrState::placed(),
                session_id: Some(session_id.clone()),
                call_flow_request_id: call_flow_request_id.clone(),
                failure: None,
                event: "placed",
            },
            Placement::NotPlaced { reason } => failed(CallStatus::NotPlaced, reason, "not_placed"),
            Placement::InDoubt { reason } => failed(CallStatus::Unknown, reason, "in_doubt"),
        }
    }
}

/// A `calls` row with the backend's encodings already undone (ids parsed, timestamps parsed,
/// JSON parsed); [`CallColumns::into_record`] does the checked domain conversion.
pub(crate) struct CallColumns {
    pub id: Uuid,
    pub order_id: String,
    pub customer_phone: String,
    pub client_action_id: String,
    pub session_id: Option<String>,
    pub call_flow_request_id: Option<String>,
    pub request: Value,
    pub script: Value,
    pub status: String,
    pub step: String,
    pub prompts_played: i64,
    pub reprompts: i64,
    pub repeats: i64,
    pub digits: String,
    pub summary_received: bool,
    pub outcome: Option<Value>,
    pub failure: Option<String>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl CallColumns {
    pub fn into_record(self) -> Result<CallRecord, StoreError> {
        let id = self.id;
        let corrupt = |what: String| StoreError::Corrupt(format!("call {id}: {what}"));
        let script: CallScript = from_json(self.script, "script").map_err(corrupt)?;
        let outcome: Option<SessionOutcome> = self
            .outcome
            .map(|value| from_json(value, "outcome"))
            .transpose()
            .map_err(corrupt)?;
        let state = IvrState {
            status: parse_status(&self.status).map_err(corrupt)?,
            step: self
                .step
                .parse::<MenuStep>()
                .map_err(|_| corrupt(format!("unknown step {:?}", self.step)))?,
            prompts_played: in_range(self.prompts_played, "prompts_played").map_err(corrupt)?,
            reprompts: in_range(self.reprompts, "reprompts").map_err(corrupt)?,
            repeats: in_range(self.repeats, "repeats").map_err(corrupt)?,
            digits: self.digits,
            summary_received: self.summary_received,
        };
        Ok(CallRecord {
            id,
            order_id: self.order_id,
            customer_phone: self.customer_phone,
            client_action_id: self.client_action_id,
            session_id: self.session_id,
            call_flow_request_id: self.call_flow_request_id,
            request: self.request,
            script: Arc::new(script),
            state,
            outcome,
            failure: self.failure,
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

/// A `call_timeline` row with the backend's encodings undone.
pub(crate) struct TimelineColumns {
    pub call_id: Uuid,
    pub at: DateTime<Utc>,
    pub from_status: Option<String>,
    pub to_status: String,
    pub event: String,
    pub effect: Option<String>,
    pub digits: Option<String>,
}

impl TimelineColumns {
    pub fn into_entry(self) -> Result<(Uuid, TimelineEntry), StoreError> {
        let call_id = self.call_id;
        let corrupt =
            |what: String| StoreError::Corrupt(format!("timeline of call {call_id}: {what}"));
        let entry = TimelineEntry {
            at: self.at,
            from: self
                .from_status
                .as_deref()
                .map(parse_status)
                .transpose()
                .map_err(corrupt)?,
            to: parse_status(&self.to_status).map_err(corrupt)?,
            event: self.event,
            effect: self.effect,
            digits: self.digits,
        };
        Ok((call_id, entry))
    }
}

/// An `idempotency_keys` row that was found taken (not claimable).
pub(crate) struct KeyColumns {
    pub request_hash: String,
    pub call_id: Uuid,
    pub status: String,
    pub response_status: Option<i64>,
    pub response_body: Option<Value>,
}

impl KeyColumns {
    pub fn into_claim(self) -> Result<IdempotencyClaim, StoreError> {
        let corrupt = |what: &str| StoreError::Corrupt(format!("idempotency key: {what}"));
        match (
            self.status.as_str(),
            self.response_status,
            self.response_body,
        ) {
            ("in_progress", _, _) => Ok(IdempotencyClaim::InProgress {
                request_hash: self.request_hash,
                call_id: Some(self.call_id),
            }),
            ("completed", Some(status), Some(body)) => Ok(IdempotencyClaim::Completed {
                request_hash: self.request_hash,
                response: StoredResponse {
                    status: u16::try_from(status)
                        .map_err(|_| corrupt("response status out of range"))?,
                    body,
                },
            }),
            ("completed", _, _) => Err(corrupt("completed without a response")),
            _ => Err(corrupt("unknown status")),
        }
    }
}

fn parse_status(text: &str) -> Result<CallStatus, String> {
    text.parse::<CallStatus>()
        .map_err(|_| format!("unknown status {text:?}"))
}

fn in_range<T: TryFrom<i64>>(value: i64, column: &str) -> Result<T, String> {
    T::try_from(value).map_err(|_| format!("{column} {value} is out of range"))
}

/// Reads a JSON column into its type. The message names the column and where the JSON broke,
/// never the offending value (a script holds phone numbers).
fn from_json<T: DeserializeOwned>(value: Value, column: &str) -> Result<T, String> {
    serde_json::from_value(value).map_err(|e| json_problem(column, &e))
}

/// A column that should hold JSON text but does not parse (SQLite stores JSON as text).
pub(crate) fn parse_json_text(text: &str, column: &str) -> Result<Value, String> {
    serde_json::from_str(text).map_err(|e| json_problem(column, &e))
}

fn json_problem(column: &str, error: &serde_json::Error) -> String {
    format!(
        "{column} does not match its type ({:?} error at line {} column {})",
        error.classify(),
        error.line(),
        error.column()
    )
}

/// Serialises a value for a JSON column; only fails for types that cannot be JSON.
pub(crate) fn to_json<T: serde::Serialize>(value: &T, column: &str) -> Result<Value, StoreError> {
    serde_json::to_value(value)
        .map_err(|e| StoreError::Database(format!("{column} could not be serialised: {e}")))
}

/// Turns a sqlx error into [`StoreError::Database`] naming the operation, the kind of failure
/// and, for constraint violations, the constraint, but never a bound value: PostgreSQL's
/// `DETAIL` (which quotes the row, phone number included) is never read, and its data
/// exceptions (SQLSTATE class 22, whose messages quote the input) are reported by code only.
pub(crate) fn db_error(operation: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |error| StoreError::Database(describe(operation, &error))
}

fn describe(operation: &str, error: &sqlx::Error) -> String {
    match error {
        sqlx::Error::Database(db) => {
            let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
            let message = if code.starts_with("22") {
                "invalid data"
            } else {
                db.message()
            };
            match db.constraint() {
                Some(constraint) => {
                    format!("{operation}: {message} (code {code}, constraint {constraint})")
                }
                None => format!("{operation}: {message} (code {code})"),
            }
        }
        // Decoding errors can quote the value that failed to decode: name the column only.
        sqlx::Error::ColumnDecode { index, .. } => {
            format!("{operation}: column {index} could not be decoded")
        }
        // Pool timeouts, I/O, protocol and configuration errors quote no row data.
        other => format!("{operation}: {other}"),
    }
}

/// Whether a sqlx error is a foreign-key violation: a write named a call that does not exist.
pub(crate) fn is_missing_parent(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .is_some_and(|db| db.kind() == sqlx::error::ErrorKind::ForeignKeyViolation)
}

/// Whether a sqlx error is a unique-key violation: a row with that key is already recorded.
pub(crate) fn is_duplicate_key(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .is_some_and(|db| db.kind() == sqlx::error::ErrorKind::UniqueViolation)
}

/// A re-delivered webhook's answer: [`ApplyResult::Duplicate`] with the reply stored with the
/// first delivery (JSON text), or [`StoreError::Corrupt`] if that no longer parses.
pub(crate) fn duplicate_with_reply(reply: Option<String>) -> Result<ApplyResult, StoreError> {
    let reply = reply
        .map(JsonText::parse)
        .transpose()
        .map_err(|_| StoreError::Corrupt("webhook: reply is not JSON".into()))?;
    Ok(ApplyResult::Duplicate { reply })
}

/// Maps a write's error: a foreign-key violation means the call does not exist.
pub(crate) fn write_error(
    operation: &'static str,
    call_id: Uuid,
) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |error| {
        if is_missing_parent(&error) {
            StoreError::MissingCall(call_id)
        } else {
            db_error(operation)(error)
        }
    }
}

/// The first timeline entry of a new call.
pub(crate) fn first_entry(call: &NewCall) -> TimelineEntry {
    TimelineEntry {
        at: micros(call.created_at),
        from: None,
        to: CallStatus::Placing,
        event: "placing".to_owned(),
        effect: None,
        digits: None,
    }
}
