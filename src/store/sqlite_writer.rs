//! Group commit for the SQLite store's state changes: webhooks handled at the same time are
//! queued to one writer task, which applies whatever is queued in one `BEGIN IMMEDIATE`
//! transaction and answers every caller once it has committed.
//!
//! Why: SQLite has one writer, and sqlx runs each connection on its own thread, so each
//! statement is a round trip between threads. One transaction per webhook (begin, three
//! statements, commit) made the writer, not the work, the limit. Here a batch costs a begin,
//! one command per chunk of changes (all their statements travel together) and a commit, and
//! the pages it touches are written to the WAL once.
//!
//! Each change keeps the meaning of [`Store::apply_change`](super::Store::apply_change):
//! its statements run in queue order inside the transaction, so a later change of the batch
//! sees the earlier ones exactly as if they had committed first, and no caller hears of its
//! change before the commit. If a command fails (a constraint refused a value), the batch is
//! rolled back and every change is applied again in its own transaction, so that only the
//! faulty one fails.

use super::rows::{db_error, parse_json_text, to_json, write_error};
use super::{ApplyResult, StateChange, StoreError};
use crate::domain::CallStatus;
use sqlx::sqlite::{SqlitePool, SqliteRow};
use sqlx::{Row, Sqlite, Transaction};
use std::sync::LazyLock;
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

/// Chunk sizes a batch is cut into, largest first: each size is one prepared command, so the
/// statement cache holds six of them whatever the batch sizes are.
const CHUNKS: [usize; 6] = [32, 16, 8, 4, 2, 1];
/// The most changes one transaction takes; the rest wait for the next one.
const MAX_BATCH: usize = 128;
/// Changes waiting for the writer; callers wait (backpressure) beyond this.
const QUEUE: usize = 1024;

/// A state change with every value already encoded the way the schema stores it, so that
/// the encoding (JSON text, timestamps) happens on the callers' tasks, in parallel.
pub(super) struct EncodedChange {
    pub call: Uuid,
    pub key: String,
    pub kind: &'static str,
    pub session_id: String,
    pub call_id: String,
    pub received_at: String,
    pub event: String,
    pub reply: Option<String>,
    pub status: &'static str,
    pub step: &'static str,
    pub prompts_played: i64,
    pub reprompts: i64,
    pub repeats: i64,
    pub digits: String,
    pub summary_received: bool,
    pub outcome: Option<String>,
    pub expected_version: i64,
    pub entry: Option<EncodedEntry>,
}

pub(super) struct EncodedEntry {
    pub at: String,
    pub from: Option<&'static str>,
    pub to: &'static str,
    pub event: String,
    pub effect: Option<String>,
    pub digits: Option<String>,
}

impl EncodedChange {
    /// `ts` is the store's timestamp encoding.
    pub fn of(
        change: &StateChange,
        ts: impl Fn(chrono::DateTime<chrono::Utc>) -> String,
    ) -> Result<EncodedChange, StoreError> {
        let hook = &change.webhook;
        let state = &change.state;
        let outcome = change
            .outcome
            .as_ref()
            .map(|outcome| to_json(outcome, "outcome"))
            .transpose()?;
        Ok(EncodedChange {
            call: change.call_id,
            key: hook.key.clone(),
            kind: hook.kind.as_str(),
            session_id: hook.session_id.clone(),
            call_id: change.call_id.to_string(),
            received_at: ts(hook.received_at),
            event: hook.event.to_string(),
            reply: hook.reply.as_ref().map(ToString::to_string),
            status: state.status.as_str(),
            step: state.step.as_str(),
            prompts_played: i64::from(state.prompts_played),
            reprompts: i64::from(state.reprompts),
            repeats: i64::from(state.repeats),
            digits: state.digits.clone(),
            summary_received: state.summary_received,
            outcome: outcome.as_ref().map(ToString::to_string),
            expected_version: change.expected_version,
            entry: change.timeline.as_ref().map(|entry| EncodedEntry {
                at: ts(entry.at),
                from: entry.from.map(CallStatus::as_str),
                to: entry.to.as_str(),
                event: entry.event.clone(),
                effect: entry.effect.clone(),
                digits: entry.digits.clone(),
            }),
        })
    }
}

type Answer = Result<ApplyResult, StoreError>;

struct Queued {
    change: EncodedChange,
    answer: oneshot::Sender<Answer>,
}

/// The queue to the writer task; the task ends when the last handle is dropped.
pub(super) struct ChangeWriter {
    queue: mpsc::Sender<Queued>,
}

impl ChangeWriter {
    /// Starts the writer task on the current runtime, writing through `writer`.
    pub fn start(writer: SqlitePool) -> ChangeWriter {
        let (queue, incoming) = mpsc::channel(QUEUE);
        tokio::spawn(run(writer, incoming));
        ChangeWriter { queue }
    }

    /// Queues the change and waits until its batch has committed (or failed).
    pub async fn apply(&self, change: EncodedChange) -> Answer {
        let (answer, answered) = oneshot::channel();
        self.queue
            .send(Queued { change, answer })
            .await
            .map_err(|_| stopped())?;
        answered.await.map_err(|_| stopped())?
    }
}

fn stopped() -> StoreError {
    StoreError::Database("the SQLite writer has stopped".into())
}

async fn run(pool: SqlitePool, mut incoming: mpsc::Receiver<Queued>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while incoming.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let (changes, answers): (Vec<EncodedChange>, Vec<oneshot::Sender<Answer>>) = batch
            .drain(..)
            .map(|queued| (queued.change, queued.answer))
            .unzip();
        let answers_of_batch = apply_all(&pool, &changes).await;
        for (answer, result) in answers.into_iter().zip(answers_of_batch) {
            // A caller that went away (its request was cancelled) needs no answer.
            let _ = answer.send(result);
        }
    }
}

/// One answer per change, in order.
async fn apply_all(pool: &SqlitePool, changes: &[EncodedChange]) -> Vec<Answer> {
    match apply_in_one_transaction(pool, changes).await {
        Ok(answers) => answers,
        Err(Failure::Batch(error)) if changes.len() > 1 => {
            tracing::warn!(
                changes = changes.len(),
                error = %error,
                "a batched state change failed: applying the batch's changes one by one"
            );
            let mut answers = Vec::with_capacity(changes.len());
            for change in changes {
                answers.push(
                    match apply_in_one_transaction(pool, std::slice::from_ref(change)).await {
                        Ok(mut single) => single.pop().unwrap_or_else(|| Err(lost())),
                        Err(failure) => Err(failure.into_store_error(change.call)),
                    },
                );
            }
            answers
        }
        Err(failure) => {
            // Every change shares the failure; the first caller gets the error itself.
            let mut error = Some(failure.into_store_error(changes[0].call));
            let text = error.as_ref().map(ToString::to_string).unwrap_or_default();
            changes
                .iter()
                .map(|_| {
                    Err(error
                        .take()
                        .unwrap_or_else(|| StoreError::Database(text.clone())))
                })
                .collect()
        }
    }
}

fn lost() -> StoreError {
    StoreError::Database("a batched state change got no answer".into())
}

/// Why a batch did not commit.
enum Failure {
    /// The transaction could not begin or commit: every change shares this fate.
    Transaction(StoreError),
    /// A command of the batch failed: one of its changes was refused.
    Batch(sqlx::Error),
}

impl Failure {
    fn into_store_error(self, call: Uuid) -> StoreError {
        match self {
            Failure::Transaction(error) => error,
            Failure::Batch(error) => write_error("apply a state change", call)(error),
        }
    }
}

async fn apply_in_one_transaction(
    pool: &SqlitePool,
    changes: &[EncodedChange],
) -> Result<Vec<Answer>, Failure> {
    let mut tx = pool
        .begin_with("BEGIN IMMEDIATE")
        .await
        .map_err(|error| Failure::Transaction(db_error("begin a write transaction")(error)))?;
    let mut answers = Vec::with_capacity(changes.len());
    let mut rest = changes;
    while !rest.is_empty() {
        let size = CHUNKS
            .into_iter()
            .find(|&size| size <= rest.len())
            .unwrap_or(1);
        let (chunk, after) = rest.split_at(size);
        match apply_chunk(&mut tx, chunk).await {
            Ok(chunk_answers) => answers.extend(chunk_answers),
            Err(error) => {
                let _ = tx.rollback().await;
                return Err(Failure::Batch(error));
            }
        }
        rest = after;
    }
    tx.commit()
        .await
        .map_err(|error| Failure::Transaction(db_error("commit a state change")(error)))?;
    Ok(answers)
}

/// Runs one command for `chunk` (its size is one of [`CHUNKS`]) and reads each change's
/// fate from the rows it returned.
async fn apply_chunk(
    tx: &mut Transaction<'static, Sqlite>,
    chunk: &[EncodedChange],
) -> Result<Vec<Answer>, sqlx::Error> {
    let sql: &'static str = &CHUNK_SQL[CHUNKS
        .iter()
        .position(|&size| size == chunk.len())
        .unwrap_or(CHUNKS.len() - 1)];
    let mut query = sqlx::query(sql);
    for change in chunk {
        let entry = change.entry.as_ref();
        // In the order the `?` appear in `change_sql`.
        query = query
            // 1. known key? existing call?
            .bind(&change.call_id)
            .bind(&change.key)
            // 2. the versioned update
            .bind(change.status)
            .bind(change.step)
            .bind(change.prompts_played)
            .bind(change.reprompts)
            .bind(change.repeats)
            .bind(&change.digits)
            .bind(change.summary_received)
            .bind(&change.outcome)
            .bind(&change.received_at)
            .bind(&change.call_id)
            .bind(change.expected_version)
            .bind(&change.key)
            // 3. the webhook row
            .bind(&change.key)
            .bind(change.kind)
            .bind(&change.session_id)
            .bind(&change.call_id)
            .bind(&change.received_at)
            .bind(&change.event)
            .bind(&change.reply)
            // 4. the timeline entry
            .bind(&change.call_id)
            .bind(entry.map(|e| e.at.as_str()))
            .bind(entry.and_then(|e| e.from))
            .bind(entry.map(|e| e.to))
            .bind(entry.map(|e| e.event.as_str()))
            .bind(entry.and_then(|e| e.effect.as_deref()))
            .bind(entry.and_then(|e| e.digits.as_deref()))
            .bind(entry.is_some());
    }
    let rows = query.fetch_all(&mut **tx).await?;
    let mut fates: Vec<Fate> = chunk.iter().map(|_| Fate::default()).collect();
    for row in &rows {
        read_fate(row, &mut fates)?;
    }
    Ok(fates
        .into_iter()
        .zip(chunk)
        .map(|(fate, change)| fate.answer(change.call))
        .collect())
}

/// What the rows of one change said.
#[derive(Default)]
struct Fate {
    /// The key was recorded before: its stored reply (which may be NULL).
    duplicate: Option<Option<String>>,
    applied: Option<i64>,
    missing: bool,
}

impl Fate {
    fn answer(self, call: Uuid) -> Answer {
        match self {
            Fate {
                duplicate: Some(reply),
                ..
            } => {
                let reply = reply
                    .as_deref()
                    .map(|text| parse_json_text(text, "reply"))
                    .transpose()
                    .map_err(|what| StoreError::Corrupt(format!("webhook: {what}")))?;
                Ok(ApplyResult::Duplicate { reply })
            }
            Fate {
                applied: Some(version),
                ..
            } => Ok(ApplyResult::Applied { version }),
            Fate { missing: true, .. } => Err(StoreError::MissingCall(call)),
            _ => Ok(ApplyResult::Conflict),
        }
    }
}

fn read_fate(row: &SqliteRow, fates: &mut [Fate]) -> Result<(), sqlx::Error> {
    let index: i64 = row.try_get("change")?;
    let fate = usize::try_from(index)
        .ok()
        .and_then(|index| fates.get_mut(index))
        .ok_or_else(|| sqlx::Error::Protocol(format!("a row names change {index}")))?;
    match row.try_get::<&str, _>("fate")? {
        "seen" => {
            if row.try_get::<bool, _>("duplicate")? {
                fate.duplicate = Some(row.try_get("value")?);
            }
            fate.missing = !row.try_get::<bool, _>("call_exists")?;
        }
        "applied" => fate.applied = Some(row.try_get("value")?),
        other => return Err(sqlx::Error::Protocol(format!("unknown fate {other}"))),
    }
    Ok(())
}

/// One command per chunk size: the statements of [`change_sql`] for each change in turn.
static CHUNK_SQL: LazyLock<Vec<String>> = LazyLock::new(|| {
    CHUNKS
        .iter()
        .map(|&size| (0..size).map(change_sql).collect::<Vec<_>>().join(";\n"))
        .collect()
});

/// The statements of change `n` of a command; every row they return names the change:
/// 1. always one row (`seen`): whether the webhook's key was recorded before (`duplicate`,
///    with the stored reply as `value`) and whether the call exists (`call_exists`);
/// 2. the versioned update, only if the key is new: `applied` with the new version (no row
///    if the version no longer holds: a conflict, and nothing below writes);
/// 3. the webhook row, only if (2) updated the call (`changes()` counts the rows of the
///    statement completed just before);
/// 4. the timeline entry, if there is one and (3) inserted.
///
/// Parameters are positional `?`, bound in the order they appear (see [`apply_chunk`]):
/// sqlx numbers them across the statements of a command, and numbered `?NNN` parameters
/// would not survive that.
fn change_sql(n: usize) -> String {
    format!(
        "SELECT {n} AS change, 'seen' AS fate, known.reply AS value, \
           known.key IS NOT NULL AS duplicate, \
           EXISTS (SELECT 1 FROM calls WHERE id = ?) AS call_exists \
           FROM (SELECT 1) LEFT JOIN webhook_events AS known ON known.key = ?;\n\
         UPDATE calls SET status = ?, step = ?, prompts_played = ?, reprompts = ?, repeats = ?, \
           digits = ?, summary_received = ?, outcome = COALESCE(?, outcome), \
           version = version + 1, updated_at = ? \
           WHERE id = ? AND version = ? \
           AND NOT EXISTS (SELECT 1 FROM webhook_events WHERE key = ?) \
           RETURNING {n} AS change, 'applied' AS fate, version AS value;\n\
         INSERT INTO webhook_events (key, kind, session_id, call_id, received_at, event, reply) \
           SELECT ?, ?, ?, ?, ?, ?, ? WHERE changes() = 1;\n\
         INSERT INTO call_timeline (call_id, at, from_status, to_status, event, effect, digits) \
           SELECT ?, ?, ?, ?, ?, ?, ? WHERE ? AND changes() = 1"
    )
}
