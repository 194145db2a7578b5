//! Group commit for the SQLite store's state changes: webhooks handled at the same time are
//! queued to one writer thread, which applies whatever is queued in one `BEGIN IMMEDIATE`
//! transaction and answers every caller once it has committed.
//!
//! Why a thread of its own with a plain (rusqlite) connection: a change is four small
//! statements, and SQLite does them in tens of microseconds; through sqlx each statement and
//! each returned row is a message between the connection's thread and the async task, which
//! cost more than the statements themselves and left the writer waiting half the time. Here
//! a batch runs start to finish on one thread; the only hand-offs are the queue in and one
//! answer out per change. Reads and the other writes stay on sqlx; both write through
//! `BEGIN IMMEDIATE`, so they queue for SQLite's write lock instead of failing.
//!
//! Each change keeps the meaning of [`Store::apply_change`](super::Store::apply_change):
//! changes run in queue order inside the transaction, so a later change of the batch sees
//! the earlier ones exactly as if they had committed first, and no caller hears of its change
//! before the commit. If a statement fails (a constraint refused a value), the batch is rolled
//! back and every change is applied again in its own transaction, so that only the faulty one
//! fails.

use super::rows::{duplicate_with_reply, to_json};
use super::sqlite_wal::{ForeignKeys, WalTurn, open_connection};
use super::{ApplyResult, StateChange, StoreError};
use crate::domain::CallStatus;
use rusqlite::{
    Connection, OptionalExtension, Statement, Transaction, TransactionBehavior, params,
};
use std::path::Path;
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

/// The most changes one transaction takes; the rest wait for the next one.
const MAX_BATCH: usize = 256;
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
    /// Whether the change says it keeps the call's status (its timeline entry goes from a
    /// status to the same one, or it has none): then the row is first updated without
    /// assigning `status` (see [`Statements::update_call_same_status`]).
    pub keeps_status: bool,
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
            event: hook.event.as_str().to_owned(),
            reply: hook.reply.as_ref().map(|reply| reply.as_str().to_owned()),
            status: state.status.as_str(),
            keeps_status: change
                .timeline
                .as_ref()
                .is_none_or(|entry| entry.from == Some(entry.to)),
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
    /// The answer, and the change handed back so that the caller frees it: its strings were
    /// allocated on the caller's thread, and mimalloc frees memory of another thread through
    /// a queue that its owner must later collect (measured: 5 % of the workers' time).
    answer: oneshot::Sender<(Answer, EncodedChange)>,
}

/// The queue to the writer thread; the thread ends when the last handle is dropped.
pub(super) struct ChangeWriter {
    queue: mpsc::Sender<Queued>,
}

impl ChangeWriter {
    /// Opens the writer's own connection to the database file and starts its thread, which
    /// gives way to the WAL keeper (`turn`) before each batch. The schema must be migrated:
    /// the thread prepares its statements first and `start` waits for that, so that a
    /// mismatch stops startup.
    pub fn start(
        path: &Path,
        autocheckpoint_pages: u32,
        turn: WalTurn,
    ) -> Result<ChangeWriter, StoreError> {
        let opening_failed =
            |error| StoreError::Database(format!("could not open the SQLite writer: {error}"));
        // No foreign-key checks on this connection: every change first updates its call's
        // row, and inserts its webhook and timeline entry only if that update found the row,
        // in the same transaction, on the only connection that applies changes (nothing
        // deletes calls). The checks would look the call up twice more per change to learn
        // what the update already told. The schema keeps its foreign keys, and every other
        // connection enforces them.
        let connection = open_connection(path, autocheckpoint_pages, ForeignKeys::Unchecked)
            .map_err(opening_failed)?;
        let (queue, incoming) = mpsc::channel(QUEUE);
        let (prepared, preparing) = std::sync::mpsc::sync_channel(1);
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || match Statements::prepare(&connection) {
                Ok(statements) => {
                    let _ = prepared.send(Ok(()));
                    run(&connection, statements, incoming, &turn);
                }
                Err(error) => {
                    let _ = prepared.send(Err(error));
                }
            })
            .map_err(|error| {
                StoreError::Database(format!("could not start the SQLite writer: {error}"))
            })?;
        // Preparing six statements takes microseconds: a short block of the opening task.
        match preparing.recv() {
            Ok(Ok(())) => Ok(ChangeWriter { queue }),
            Ok(Err(error)) => Err(opening_failed(error)),
            Err(_) => Err(stopped()),
        }
    }

    /// Queues the change and waits until its batch has committed (or failed).
    pub async fn apply(&self, change: EncodedChange) -> Answer {
        let (answer, answered) = oneshot::channel();
        self.queue
            .send(Queued { change, answer })
            .await
            .map_err(|_| stopped())?;
        let (answer, _change) = answered.await.map_err(|_| stopped())?;
        answer
    }
}

fn stopped() -> StoreError {
    StoreError::Database("the SQLite writer has stopped".into())
}

fn run(
    connection: &Connection,
    mut statements: Statements<'_>,
    mut incoming: mpsc::Receiver<Queued>,
    turn: &WalTurn,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = incoming.blocking_recv() {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match incoming.try_recv() {
                Ok(queued) => batch.push(queued),
                Err(_) => break,
            }
        }
        turn.give_way();
        let (changes, answers): (Vec<EncodedChange>, Vec<_>) = batch
            .drain(..)
            .map(|queued| (queued.change, queued.answer))
            .unzip();
        let results = apply_all(connection, &mut statements, &changes);
        for ((answer, result), change) in answers.into_iter().zip(results).zip(changes) {
            // A caller that went away (its request was cancelled) needs no answer.
            let _ = answer.send((result, change));
        }
    }
}

/// The writer's statements, prepared once for its connection's life. (rusqlite's statement
/// cache would keep them too, but every statement taken from it and given back costs a few
/// allocations: it is filed again under a fresh copy of its SQL text.)
struct Statements<'c> {
    find_webhook: Statement<'c>,
    update_call: Statement<'c>,
    update_call_same_status: Statement<'c>,
    call_exists: Statement<'c>,
    insert_webhook: Statement<'c>,
    insert_entry: Statement<'c>,
}

/// The state change's update of its call, only at the version it was read at: one text for
/// both statements, which differ only in whether `status` (`?1`) is assigned or checked.
macro_rules! update_call_sql {
    ($set_status:literal, $check_status:literal) => {
        concat!(
            "UPDATE calls SET ",
            $set_status,
            "step = ?2, prompts_played = ?3, reprompts = ?4, repeats = ?5, digits = ?6, \
             summary_received = ?7, outcome = COALESCE(?8, outcome), version = version + 1, \
             updated_at = ?9 WHERE id = ?10 AND version = ?11",
            $check_status
        )
    };
}

impl<'c> Statements<'c> {
    fn prepare(connection: &'c Connection) -> rusqlite::Result<Statements<'c>> {
        Ok(Statements {
            find_webhook: connection
                .prepare("SELECT reply FROM webhook_events WHERE call_id = ?1 AND key = ?2")?,
            // No `RETURNING`: SQLite collects returned rows in a temporary table, one per
            // statement, and the new version is known anyway: the one expected, plus one.
            update_call: connection.prepare(update_call_sql!("status = ?1, ", ""))?,
            // The same without assigning `status`, for a call whose status is already the
            // new one (checked: `status = ?1`). SQLite rewrites an index whenever a column
            // of it is assigned, even to its own value, and `calls_status_created` is the
            // only index a webhook's update could touch: a re-prompt or a VSS after the
            // customer's answer changes the row and not the status.
            update_call_same_status: connection
                .prepare(update_call_sql!("", " AND status = ?1"))?,
            call_exists: connection.prepare("SELECT EXISTS (SELECT 1 FROM calls WHERE id = ?1)")?,
            insert_webhook: connection.prepare(
                "INSERT INTO webhook_events (key, kind, session_id, call_id, received_at, event, reply) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?,
            insert_entry: connection.prepare(
                "INSERT INTO call_timeline (call_id, at, from_status, to_status, event, effect, digits) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?,
        })
    }
}

/// One answer per change, in order.
fn apply_all(
    connection: &Connection,
    statements: &mut Statements<'_>,
    changes: &[EncodedChange],
) -> Vec<Answer> {
    match apply_in_one_transaction(connection, statements, changes) {
        Ok(answers) => answers,
        Err(Failure::Change(error)) if changes.len() > 1 => {
            tracing::warn!(
                changes = changes.len(),
                error = %error,
                "a batched state change failed: applying the batch's changes one by one"
            );
            changes
                .iter()
                .map(|change| {
                    match apply_in_one_transaction(
                        connection,
                        statements,
                        std::slice::from_ref(change),
                    ) {
                        Ok(mut single) => single.pop().unwrap_or_else(|| Err(lost())),
                        Err(failure) => Err(failure.into_store_error()),
                    }
                })
                .collect()
        }
        Err(failure) if changes.len() == 1 => vec![Err(failure.into_store_error())],
        Err(failure) => {
            // The transaction itself failed: every change of the batch shares that failure.
            let text = failure.into_store_error().to_string();
            changes
                .iter()
                .map(|_| Err(StoreError::Database(text.clone())))
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
    Transaction(rusqlite::Error),
    /// A statement of one change failed: that change was refused.
    Change(rusqlite::Error),
}

impl Failure {
    fn into_store_error(self) -> StoreError {
        match self {
            Failure::Transaction(error) => {
                StoreError::Database(format!("could not commit a state change: {error}"))
            }
            Failure::Change(error) => {
                StoreError::Database(format!("could not apply a state change: {error}"))
            }
        }
    }
}

fn apply_in_one_transaction(
    connection: &Connection,
    statements: &mut Statements<'_>,
    changes: &[EncodedChange],
) -> Result<Vec<Answer>, Failure> {
    // Rolled back when dropped without a commit. (`new_unchecked`: the statements borrow
    // the connection, so the transaction cannot take it mutably; nothing else uses it.)
    let transaction = Transaction::new_unchecked(connection, TransactionBehavior::Immediate)
        .map_err(Failure::Transaction)?;
    let answers = changes
        .iter()
        .map(|change| apply_one(statements, change))
        .collect::<Result<Vec<Answer>, rusqlite::Error>>()
        .map_err(Failure::Change)?;
    transaction.commit().map_err(Failure::Transaction)?;
    Ok(answers)
}

/// The statements of one change, in the transaction of its batch.
fn apply_one(statements: &mut Statements<'_>, change: &EncodedChange) -> rusqlite::Result<Answer> {
    // 1. A webhook recorded before: its stored reply, and nothing written.
    let known: Option<Option<String>> = statements
        .find_webhook
        .query_row([&change.call_id, &change.key], |row| row.get(0))
        .optional()?;
    if let Some(reply) = known {
        return Ok(duplicate_with_reply(reply));
    }
    // 2. The new state, only if the call is still at the version it was read at.
    let values = params![
        change.status,
        change.step,
        change.prompts_played,
        change.reprompts,
        change.repeats,
        change.digits,
        change.summary_received,
        change.outcome,
        change.received_at,
        change.call_id,
        change.expected_version,
    ];
    let mut updated = 0;
    if change.keeps_status {
        updated = statements.update_call_same_status.execute(values)?;
    }
    if updated == 0 {
        // The status changes, or the call is not where the change expected it: the full
        // update, whose version check tells which.
        updated = statements.update_call.execute(values)?;
    }
    let version = (updated == 1).then_some(change.expected_version + 1);
    let Some(version) = version else {
        let exists: bool = statements
            .call_exists
            .query_row([&change.call_id], |row| row.get(0))?;
        return Ok(if exists {
            Ok(ApplyResult::Conflict)
        } else {
            Err(StoreError::MissingCall(change.call))
        });
    };
    // 3. The webhook, with the reply given, so that a re-delivery gets the same answer.
    statements.insert_webhook.execute(params![
        change.key,
        change.kind,
        change.session_id,
        change.call_id,
        change.received_at,
        change.event,
        change.reply,
    ])?;
    // 4. The timeline entry, when the webhook changed something.
    if let Some(entry) = &change.entry {
        statements.insert_entry.execute(params![
            change.call_id,
            entry.at,
            entry.from,
            entry.to,
            entry.event,
            entry.effect,
            entry.digits,
        ])?;
    }
    Ok(Ok(ApplyResult::Applied { version }))
}
