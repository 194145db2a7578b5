//! SQLite implementation of the store (the embedded default): a few reader connections (WAL
//! lets them read while a writer writes), one writer connection for calls and idempotency
//! keys, one writer thread that commits webhooks' state changes in batches (`sqlite_writer`,
//! group commit), one thread that checkpoints and restarts the WAL (`sqlite_wal`), and the
//! schema in `migrations/sqlite`.
//!
//! Encodings (see the migration): ids are lower-case hyphenated UUID text, timestamps are
//! fixed-width ISO-8601 UTC text with microseconds (`2026-11-25T09:30:00.123456Z`, so text
//! order is time order), JSON is text.

use super::rows::{
    CallColumns, KeyColumns, PlacementWrite, TimelineColumns, call_columns, calls_joined, db_error,
    first_entry, micros, parse_json_text, placing_state, timeline_columns, to_json, write_error,
};
use super::sqlite_wal::{WalKeeper, WalTurn};
use super::sqlite_writer::{ChangeWriter, EncodedChange};
use super::*;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use sqlx::{QueryBuilder, Sqlite, Transaction};
use std::str::FromStr;
use std::time::Duration;

/// How long a connection waits for another process's write lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Readers for a file database; writes never use them.
const READERS: u32 = 4;

/// The SQLite store.
///
/// Writes other than webhooks' state changes are funnelled through a pool of exactly one
/// connection, so within one process they queue in the pool instead of fighting for the lock;
/// state changes, the hot path, go to the group-commit writer thread (`sqlite_writer`). Every
/// write starts with `BEGIN IMMEDIATE`, which takes the write lock up front: the two writers
/// (and a second process on the same file) then wait (busy timeout) at `BEGIN` instead of
/// failing with `SQLITE_BUSY` when a read transaction tries to upgrade.
pub struct SqliteStore {
    reader: SqlitePool,
    writer: SqlitePool,
    /// State changes go through this queue to one thread that writes them in batches.
    changes: ChangeWriter,
    /// The thread that checkpoints and restarts the WAL (`sqlite_wal`), stopped when the
    /// store is dropped.
    _wal: WalKeeper,
}

impl SqliteStore {
    /// Opens (creating it if missing) the database named by a `sqlite:` URL, e.g.
    /// `sqlite:callconfirm.db`, and applies `migrations/sqlite`. In-memory databases are refused.
    pub async fn connect(database_url: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(database_url)
            .map_err(db_error("parse the SQLite URL"))?
            .create_if_missing(true)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);

        if database_url.contains(":memory:") || database_url.contains("mode=memory") {
            // The writer of state changes has a connection of its own (see `sqlite_writer`),
            // and a second connection to an in-memory database would open another, empty one.
            return Err(StoreError::Database(
                "an in-memory SQLite database is not supported: name a file, e.g. \
                 sqlite:callconfirm.db"
                    .to_owned(),
            ));
        }
        let options = options
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal);
        // The writers leave checkpoints (copying the WAL back into the database, with an
        // fsync) to the WAL keeper (`sqlite_wal`), so that a commit never waits for the disk;
        // their own automatic checkpoint is only a safety net, should the log ever grow four
        // times longer than the keeper lets it.
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone().pragma(
                "wal_autocheckpoint",
                WRITER_AUTOCHECKPOINT_PAGES.to_string(),
            ))
            .await
            .map_err(db_error("open the SQLite database"))?;
        // Migrate before any reader opens, so that readers see the final schema.
        migrate(&writer).await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(READERS)
            .connect_with(options.clone())
            .await
            .map_err(db_error("open the SQLite database"))?;
        let turn = WalTurn::default();
        let changes = ChangeWriter::start(
            options.get_filename(),
            WRITER_AUTOCHECKPOINT_PAGES,
            turn.clone(),
        )?;
        let wal = WalKeeper::start(options.get_filename(), turn).map_err(StoreError::Database)?;
        Ok(SqliteStore {
            reader,
            changes,
            writer,
            _wal: wal,
        })
    }

    /// A write transaction holding SQLite's write lock from its first statement.
    async fn write(&self) -> Result<Transaction<'static, Sqlite>, StoreError> {
        self.writer
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(db_error("begin a write transaction"))
    }
}

/// The writers checkpoint by themselves only past this many WAL pages (256 MiB of 4 KiB
/// pages): a safety net, four times what the WAL keeper lets the log grow to.
pub(super) const WRITER_AUTOCHECKPOINT_PAGES: u32 = 65_536;

async fn migrate(pool: &SqlitePool) -> Result<(), StoreError> {
    sqlx::migrate!("./migrations/sqlite")
        .run(pool)
        .await
        .map_err(|e| StoreError::Database(format!("SQLite migrations failed: {e}")))
}

/// The text form of a timestamp: fixed width, UTC, microseconds (finer parts truncated).
///
/// Only years 0000 to 9999 are fixed width: `%Y` writes others with a sign and more digits
/// (`+262142-...`), which sorts before `2026-...` and would turn every comparison around. Such
/// instants only ever arrive as bounds (the startup sweep's "any deadline" is
/// `DateTime::MAX_UTC`, a filter's `to` may be past 9999 once converted to UTC), so they are
/// clamped to the ends of that range, where they compare the same against every stored time.
fn ts(at: DateTime<Utc>) -> String {
    match chrono::Datelike::year(&at) {
        ..0 => "0000-01-01T00:00:00.000000Z".to_owned(),
        10_000.. => "9999-12-31T23:59:59.999999Z".to_owned(),
        _ => fixed_width(at),
    }
}

/// `YYYY-MM-DDTHH:MM:SS.ffffffZ` of a year within 0000 to 9999, finer parts truncated
/// (the integer division of the nanoseconds, as `micros` would). Written field by field
/// rather than with a `format` pattern: every webhook stores two timestamps, and parsing the
/// pattern each time cost more than the rest of the encoding.
fn fixed_width(at: DateTime<Utc>) -> String {
    use chrono::{Datelike, Timelike};
    use std::fmt::Write;
    // chrono carries a leap second as a nanosecond count of a second or more (`%S` shows 60).
    let (second, nanos) = match at.nanosecond() {
        leap @ 1_000_000_000.. => (60, leap - 1_000_000_000),
        nanos => (at.second(), nanos),
    };
    let mut text = String::with_capacity(27);
    let _ = write!(
        text,
        "{:04}-{:02}-{:02}T{:02}:{:02}:{second:02}.{:06}Z",
        at.year(),
        at.month(),
        at.day(),
        at.hour(),
        at.minute(),
        nanos / 1_000
    );
    text
}

fn parse_ts(text: &str, column: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|at| at.with_timezone(&Utc))
        .map_err(|_| format!("{column} is not a timestamp"))
}

fn parse_id(text: &str, column: &str) -> Result<Uuid, String> {
    Uuid::parse_str(text).map_err(|_| format!("{column} is not a UUID"))
}

fn json_text(value: &Value) -> String {
    value.to_string()
}

/// A `calls` row as SQLite returns it (all text and integers).
#[derive(sqlx::FromRow)]
struct CallRow {
    id: String,
    order_id: String,
    customer_phone: String,
    client_action_id: String,
    session_id: Option<String>,
    call_flow_request_id: Option<String>,
    request: String,
    script: String,
    status: String,
    step: String,
    prompts_played: i64,
    reprompts: i64,
    repeats: i64,
    digits: String,
    summary_received: bool,
    outcome: Option<String>,
    failure: Option<String>,
    version: i64,
    created_at: String,
    updated_at: String,
}

impl CallRow {
    fn into_record(self) -> Result<CallRecord, StoreError> {
        let id_text = self.id.clone();
        let corrupt = |what: String| StoreError::Corrupt(format!("call {id_text}: {what}"));
        CallColumns {
            id: parse_id(&self.id, "id").map_err(corrupt)?,
            request: parse_json_text(&self.request, "request").map_err(corrupt)?,
            script: parse_json_text(&self.script, "script").map_err(corrupt)?,
            outcome: self
                .outcome
                .as_deref()
                .map(|text| parse_json_text(text, "outcome"))
                .transpose()
                .map_err(corrupt)?,
            created_at: parse_ts(&self.created_at, "created_at").map_err(corrupt)?,
            updated_at: parse_ts(&self.updated_at, "updated_at").map_err(corrupt)?,
            order_id: self.order_id,
            customer_phone: self.customer_phone,
            client_action_id: self.client_action_id,
            session_id: self.session_id,
            call_flow_request_id: self.call_flow_request_id,
            status: self.status,
            step: self.step,
            prompts_played: self.prompts_played,
            reprompts: self.reprompts,
            repeats: self.repeats,
            digits: self.digits,
            summary_received: self.summary_received,
            failure: self.failure,
            version: self.version,
        }
        .into_record()
    }
}

#[derive(sqlx::FromRow)]
struct TimelineRow {
    call_id: String,
    at: String,
    from_status: Option<String>,
    to_status: String,
    event: String,
    effect: Option<String>,
    digits: Option<String>,
}

impl TimelineRow {
    fn into_entry(self) -> Result<(Uuid, TimelineEntry), StoreError> {
        let corrupt = |what: String| StoreError::Corrupt(format!("timeline: {what}"));
        TimelineColumns {
            call_id: parse_id(&self.call_id, "call_id").map_err(corrupt)?,
            at: parse_ts(&self.at, "at").map_err(corrupt)?,
            from_status: self.from_status,
            to_status: self.to_status,
            event: self.event,
            effect: self.effect,
            digits: self.digits,
        }
        .into_entry()
    }
}

#[derive(sqlx::FromRow)]
struct KeyRow {
    request_hash: String,
    call_id: String,
    status: String,
    response_status: Option<i64>,
    response_body: Option<String>,
}

impl KeyRow {
    fn into_claim(self) -> Result<IdempotencyClaim, StoreError> {
        let corrupt = |what: String| StoreError::Corrupt(format!("idempotency key: {what}"));
        KeyColumns {
            call_id: parse_id(&self.call_id, "call_id").map_err(corrupt)?,
            response_body: self
                .response_body
                .as_deref()
                .map(|text| parse_json_text(text, "response_body"))
                .transpose()
                .map_err(corrupt)?,
            request_hash: self.request_hash,
            status: self.status,
            response_status: self.response_status,
        }
        .into_claim()
    }
}

async fn insert_entry(
    conn: &mut SqliteConnection,
    call_id: Uuid,
    entry: &TimelineEntry,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO call_timeline (call_id, at, from_status, to_status, event, effect, digits) \
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(call_id.to_string())
    .bind(ts(entry.at))
    .bind(entry.from.map(CallStatus::as_str))
    .bind(entry.to.as_str())
    .bind(&entry.event)
    .bind(&entry.effect)
    .bind(&entry.digits)
    .execute(conn)
    .await
    .map_err(write_error("insert a timeline entry", call_id))?;
    Ok(())
}

async fn fetch_call(
    conn: &mut SqliteConnection,
    id: Uuid,
) -> Result<Option<CallRecord>, StoreError> {
    sqlx::query_as::<_, CallRow>(concat!(
        "SELECT ",
        call_columns!(),
        " FROM ",
        calls_joined!(),
        " WHERE c.id = ?"
    ))
    .bind(id.to_string())
    .fetch_optional(conn)
    .await
    .map_err(db_error("read a call"))?
    .map(CallRow::into_record)
    .transpose()
}

#[async_trait]
impl Store for SqliteStore {
    async fn insert_call(&self, call: &NewCall) -> Result<(), StoreError> {
        let state = placing_state();
        let script = to_json(&call.script, "script")?;
        let mut tx = self.write().await?;
        sqlx::query(
            "INSERT INTO calls (id, order_id, customer_phone, client_action_id, session_id, \
             call_flow_request_id, status, step, prompts_played, reprompts, repeats, digits, \
             summary_received, outcome, failure, version, created_at, updated_at, \
             placing_deadline) \
             VALUES (?, ?, ?, ?, NULL, NULL, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, 1, ?, ?, ?)",
        )
        .bind(call.id.to_string())
        .bind(&call.order_id)
        .bind(&call.customer_phone)
        .bind(&call.client_action_id)
        .bind(state.status.as_str())
        .bind(state.step.as_str())
        .bind(i64::from(state.prompts_played))
        .bind(i64::from(state.reprompts))
        .bind(i64::from(state.repeats))
        .bind(&state.digits)
        .bind(state.summary_received)
        .bind(ts(call.created_at))
        .bind(ts(call.created_at))
        .bind(ts(call.placing_deadline))
        .execute(&mut *tx)
        .await
        .map_err(db_error("insert a call"))?;
        sqlx::query("INSERT INTO call_scripts (call_id, request, script) VALUES (?, ?, ?)")
            .bind(call.id.to_string())
            .bind(json_text(&call.request))
            .bind(json_text(&script))
            .execute(&mut *tx)
            .await
            .map_err(db_error("insert a call's script"))?;
        insert_entry(&mut tx, call.id, &first_entry(call)).await?;
        tx.commit().await.map_err(db_error("commit a new call"))
    }

    async fn record_placement(
        &self,
        call_id: Uuid,
        placement: &Placement,
        at: DateTime<Utc>,
    ) -> Result<CallRecord, StoreError> {
        let write = PlacementWrite::of(placement);
        let state = &write.state;
        let mut tx = self.write().await?;
        // Only a call still `placing` takes the answer: the sweep may have given up on it.
        let updated = sqlx::query(
            "UPDATE calls SET status = ?, step = ?, prompts_played = ?, reprompts = ?, \
             repeats = ?, digits = ?, summary_received = ?, session_id = ?, \
             call_flow_request_id = ?, failure = ?, version = version + 1, updated_at = ? \
             WHERE id = ? AND status = 'placing'",
        )
        .bind(state.status.as_str())
        .bind(state.step.as_str())
        .bind(i64::from(state.prompts_played))
        .bind(i64::from(state.reprompts))
        .bind(i64::from(state.repeats))
        .bind(&state.digits)
        .bind(state.summary_received)
        .bind(&write.session_id)
        .bind(&write.call_flow_request_id)
        .bind(&write.failure)
        .bind(ts(at))
        .bind(call_id.to_string())
        .execute(&mut *tx)
        .await
        .map_err(db_error("record a placement"))?
        .rows_affected();

        if updated == 0 {
            let current = fetch_call(&mut tx, call_id).await?;
            tx.rollback().await.map_err(db_error("roll back"))?;
            return current.ok_or(StoreError::MissingCall(call_id));
        }
        let entry = TimelineEntry {
            at: micros(at),
            from: Some(CallStatus::Placing),
            to: state.status,
            event: write.event.to_owned(),
            effect: None,
            digits: None,
        };
        insert_entry(&mut tx, call_id, &entry).await?;
        let updated = fetch_call(&mut tx, call_id)
            .await?
            .ok_or(StoreError::MissingCall(call_id))?;
        tx.commit().await.map_err(db_error("commit a placement"))?;
        Ok(updated)
    }

    async fn call_by_id(&self, id: Uuid) -> Result<Option<CallRecord>, StoreError> {
        let mut conn = self
            .reader
            .acquire()
            .await
            .map_err(db_error("read a call"))?;
        fetch_call(&mut conn, id).await
    }

    async fn call_by_session(&self, session_id: &str) -> Result<Option<CallRecord>, StoreError> {
        sqlx::query_as::<_, CallRow>(concat!(
            "SELECT ",
            call_columns!(),
            " FROM ",
            calls_joined!(),
            " WHERE c.session_id = ?"
        ))
        .bind(session_id)
        .fetch_optional(&self.reader)
        .await
        .map_err(db_error("read a call by session"))?
        .map(CallRow::into_record)
        .transpose()
    }

    async fn list_calls(&self, query: &CallQuery) -> Result<Vec<CallRecord>, StoreError> {
        // Only fixed SQL fragments are pushed; every value is a bound parameter.
        let mut sql = QueryBuilder::<Sqlite>::new(concat!(
            "SELECT ",
            call_columns!(),
            " FROM ",
            calls_joined!(),
            " WHERE 1 = 1"
        ));
        if let Some(status) = query.status {
            sql.push(" AND c.status = ").push_bind(status.as_str());
        }
        if let Some(order_id) = &query.order_id {
            sql.push(" AND c.order_id = ").push_bind(order_id.clone());
        }
        if let Some(from) = query.created_from {
            sql.push(" AND c.created_at >= ").push_bind(ts(from));
        }
        if let Some(to) = query.created_to {
            sql.push(" AND c.created_at < ").push_bind(ts(to));
        }
        if let Some(cursor) = query.before {
            // Row-value comparison: strictly after the cursor in (created_at, id) DESC order.
            sql.push(" AND (c.created_at, c.id) < (")
                .push_bind(ts(cursor.created_at))
                .push(", ")
                .push_bind(cursor.id.to_string())
                .push(")");
        }
        sql.push(" ORDER BY c.created_at DESC, c.id DESC LIMIT ")
            .push_bind(i64::from(query.limit));
        sql.build_query_as::<CallRow>()
            .fetch_all(&self.reader)
            .await
            .map_err(db_error("list calls"))?
            .into_iter()
            .map(CallRow::into_record)
            .collect()
    }

    /// One query for all ids: they travel as one JSON array parameter that `json_each`
    /// unnests (SQLite has no array parameters). Every requested id is a key of the result,
    /// with an empty list if it has no entries (or no call).
    async fn timelines(
        &self,
        call_ids: &[Uuid],
    ) -> Result<HashMap<Uuid, Vec<TimelineEntry>>, StoreError> {
        let mut timelines: HashMap<Uuid, Vec<TimelineEntry>> =
            call_ids.iter().map(|id| (*id, Vec::new())).collect();
        if call_ids.is_empty() {
            return Ok(timelines);
        }
        let ids = Value::from(call_ids.iter().map(Uuid::to_string).collect::<Vec<_>>());
        let rows = sqlx::query_as::<_, TimelineRow>(concat!(
            "SELECT ",
            timeline_columns!(),
            " FROM call_timeline WHERE call_id IN (SELECT value FROM json_each(?)) \
              ORDER BY call_id, seq"
        ))
        .bind(json_text(&ids))
        .fetch_all(&self.reader)
        .await
        .map_err(db_error("read timelines"))?;
        for row in rows {
            let (call_id, entry) = row.into_entry()?;
            timelines.entry(call_id).or_default().push(entry);
        }
        Ok(timelines)
    }

    /// Queued to the writer task, which commits concurrent changes together (group commit,
    /// see [`super::sqlite_writer`]); answers once the change's transaction has committed.
    async fn apply_change(&self, change: &StateChange) -> Result<ApplyResult, StoreError> {
        self.changes.apply(EncodedChange::of(change, ts)?).await
    }

    /// Two statements in one write transaction, each over the same set (the write lock keeps
    /// it stable): the timeline entries first, then the update that moves the calls on.
    async fn mark_in_doubt(
        &self,
        deadline_before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let (before, now) = (ts(deadline_before), ts(now));
        let mut tx = self.write().await?;
        sqlx::query(
            "INSERT INTO call_timeline (call_id, at, from_status, to_status, event) \
             SELECT id, ?, 'placing', 'unknown', 'in_doubt' FROM calls \
             WHERE status = 'placing' AND placing_deadline < ? ORDER BY placing_deadline",
        )
        .bind(&now)
        .bind(&before)
        .execute(&mut *tx)
        .await
        .map_err(db_error("record calls in doubt"))?;
        let marked = sqlx::query(
            "UPDATE calls SET status = 'unknown', failure = ?, version = version + 1, \
             updated_at = ? WHERE status = 'placing' AND placing_deadline < ?",
        )
        .bind(STOPPED_BEFORE_ANSWER)
        .bind(&now)
        .bind(&before)
        .execute(&mut *tx)
        .await
        .map_err(db_error("mark calls in doubt"))?
        .rows_affected();
        tx.commit()
            .await
            .map_err(db_error("commit calls in doubt"))?;
        Ok(marked)
    }

    /// An upsert that only overwrites an expired key, then (if it did not claim) a read of
    /// the live key, both under the write lock so no other claim can slip in between.
    async fn claim_idempotency_key(
        &self,
        key: &str,
        request_hash: &str,
        call_id: Uuid,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<IdempotencyClaim, StoreError> {
        let mut tx = self.write().await?;
        let claimed: Option<String> = sqlx::query_scalar(
            "INSERT INTO idempotency_keys (key, request_hash, call_id, status, created_at, expires_at) \
             VALUES (?, ?, ?, 'in_progress', ?, ?) \
             ON CONFLICT (key) DO UPDATE SET request_hash = excluded.request_hash, \
               call_id = excluded.call_id, status = 'in_progress', response_status = NULL, \
               response_body = NULL, created_at = excluded.created_at, \
               expires_at = excluded.expires_at \
             WHERE idempotency_keys.expires_at <= excluded.created_at \
             RETURNING key",
        )
        .bind(key)
        .bind(request_hash)
        .bind(call_id.to_string())
        .bind(ts(now))
        .bind(ts(expires_at))
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_error("claim an idempotency key"))?;
        if claimed.is_some() {
            tx.commit()
                .await
                .map_err(db_error("commit an idempotency key"))?;
            return Ok(IdempotencyClaim::Claimed);
        }
        let row = sqlx::query_as::<_, KeyRow>(
            "SELECT request_hash, call_id, status, response_status, response_body \
             FROM idempotency_keys WHERE key = ?",
        )
        .bind(key)
        .fetch_one(&mut *tx)
        .await
        .map_err(db_error("read an idempotency key"))?;
        tx.rollback().await.map_err(db_error("roll back"))?;
        row.into_claim()
    }

    /// Only an `in_progress` key is completed; completing a key that was released, purged or
    /// already completed changes nothing.
    async fn complete_idempotency_key(
        &self,
        key: &str,
        response: &StoredResponse,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        sqlx::query(
            "UPDATE idempotency_keys SET status = 'completed', response_status = ?, \
             response_body = ? WHERE key = ? AND status = 'in_progress'",
        )
        .bind(i64::from(response.status))
        .bind(json_text(&response.body))
        .bind(key)
        .execute(&mut *tx)
        .await
        .map_err(db_error("complete an idempotency key"))?;
        tx.commit()
            .await
            .map_err(db_error("commit an idempotency key"))
    }

    /// Only an `in_progress` key is released: a completed response is never forgotten early.
    async fn release_idempotency_key(&self, key: &str) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        sqlx::query("DELETE FROM idempotency_keys WHERE key = ? AND status = 'in_progress'")
            .bind(key)
            .execute(&mut *tx)
            .await
            .map_err(db_error("release an idempotency key"))?;
        tx.commit()
            .await
            .map_err(db_error("commit an idempotency key"))
    }

    async fn purge_expired_idempotency_keys(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let mut tx = self.write().await?;
        let purged = sqlx::query("DELETE FROM idempotency_keys WHERE expires_at <= ?")
            .bind(ts(now))
            .execute(&mut *tx)
            .await
            .map_err(db_error("purge idempotency keys"))?
            .rows_affected();
        tx.commit().await.map_err(db_error("commit the purge"))?;
        Ok(purged)
    }
}

#[cfg(test)]
mod tests {
    use super::ts;
    use chrono::{DateTime, NaiveDate, SubsecRound, TimeZone, Utc};

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32, nanos: u32) -> DateTime<Utc> {
        let date = NaiveDate::from_ymd_opt(y, mo, d).expect("a date");
        Utc.from_utc_datetime(&date.and_hms_nano_opt(h, mi, s, nanos).expect("a time"))
    }

    #[test]
    fn timestamps_are_fixed_width_microseconds() {
        let cases = [
            (
                at(2026, 11, 25, 9, 30, 0, 123_456_789),
                "2026-11-25T09:30:00.123456Z",
            ),
            (at(2026, 1, 2, 3, 4, 5, 0), "2026-01-02T03:04:05.000000Z"),
            (at(0, 1, 1, 0, 0, 0, 999), "0000-01-01T00:00:00.000000Z"),
            (
                at(9999, 12, 31, 23, 59, 59, 999_999_999),
                "9999-12-31T23:59:59.999999Z",
            ),
            // chrono's leap second, written as its 61st second, as `%S` would.
            (
                at(2016, 12, 31, 23, 59, 59, 1_000_250_000),
                "2016-12-31T23:59:60.000250Z",
            ),
            // Outside four-digit years: clamped to the ends of the range.
            (at(-1, 6, 1, 0, 0, 0, 0), "0000-01-01T00:00:00.000000Z"),
            (at(10_000, 1, 1, 0, 0, 0, 0), "9999-12-31T23:59:59.999999Z"),
            (DateTime::<Utc>::MAX_UTC, "9999-12-31T23:59:59.999999Z"),
            (DateTime::<Utc>::MIN_UTC, "0000-01-01T00:00:00.000000Z"),
        ];
        for (instant, expected) in cases {
            assert_eq!(ts(instant), expected, "{instant:?}");
        }
    }

    #[test]
    fn timestamps_agree_with_chrono_formatting() {
        let mut instant = at(2026, 2, 28, 22, 15, 7, 1);
        for _ in 0..1_000 {
            let expected = instant
                .trunc_subsecs(6)
                .format("%Y-%m-%dT%H:%M:%S%.6fZ")
                .to_string();
            assert_eq!(ts(instant), expected);
            instant += chrono::Duration::microseconds(3_700_123_457);
        }
    }
}
