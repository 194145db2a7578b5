//! PostgreSQL implementation of the store: a `PgPool`, the schema in `migrations/postgres`
//! (applied at connect under sqlx's advisory lock, so instances starting together are safe),
//! and multi-row writes as single statements with data-modifying CTEs where that saves
//! round trips.
//!
//! Every statement runs at the default READ COMMITTED isolation. Races between instances are
//! settled by row locks and unique keys, not by isolation level: a versioned `UPDATE` waits for
//! a concurrent writer and then re-checks its `WHERE` against the committed row, an
//! `INSERT .. ON CONFLICT` waits for a concurrent inserter of the same key to commit or roll
//! back before deciding, and a plain `INSERT` of a recorded key fails its whole statement.

use super::rows::{
    CallColumns, KeyColumns, PlacementWrite, TimelineColumns, call_columns, calls_joined, db_error,
    duplicate_with_reply, first_entry, is_duplicate_key, micros, placing_state, timeline_columns,
    to_json, write_error,
};
use super::*;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::{Postgres, QueryBuilder};
use std::time::Duration;

/// Connections per instance; the server's default limit is 100.
const MAX_CONNECTIONS: u32 = 10;
/// How long a query waits for a free connection before the store reports itself unavailable.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);
/// How often a claim retries when the key it collided with vanished before it could be read.
const CLAIM_ATTEMPTS: usize = 3;

/// The PostgreSQL store.
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connects to a `postgres://` URL and applies `migrations/postgres`.
    pub async fn connect(database_url: &str) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            // sqlx pings each connection before handing it out (`test_before_acquire`, on by
            // default): a round trip per query, kept on purpose. Without it, every connection
            // a restart or failover of the server dropped fails the next request it serves,
            // however recently it was used (tests/api/store.rs,
            // `connections_the_postgres_server_dropped_cost_no_failed_request`).
            .connect(database_url)
            .await
            .map_err(db_error("connect to PostgreSQL"))?;
        // sqlx's migrator holds a session advisory lock while it runs, so two instances
        // starting at once apply each migration exactly once.
        sqlx::migrate!("./migrations/postgres")
            .run(&pool)
            .await
            .map_err(|e| StoreError::Database(format!("PostgreSQL migrations failed: {e}")))?;
        Ok(PgStore { pool })
    }
}

/// A `calls` row as PostgreSQL returns it.
#[derive(sqlx::FromRow)]
struct CallRow {
    id: Uuid,
    order_id: String,
    customer_phone: String,
    client_action_id: String,
    session_id: Option<String>,
    call_flow_request_id: Option<String>,
    request: Value,
    script: Value,
    status: String,
    step: String,
    prompts_played: i32,
    reprompts: i16,
    repeats: i16,
    digits: String,
    summary_received: bool,
    outcome: Option<Value>,
    failure: Option<String>,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl CallRow {
    fn into_record(self) -> Result<CallRecord, StoreError> {
        CallColumns {
            id: self.id,
            order_id: self.order_id,
            customer_phone: self.customer_phone,
            client_action_id: self.client_action_id,
            session_id: self.session_id,
            call_flow_request_id: self.call_flow_request_id,
            request: self.request,
            script: self.script,
            status: self.status,
            step: self.step,
            prompts_played: i64::from(self.prompts_played),
            reprompts: i64::from(self.reprompts),
            repeats: i64::from(self.repeats),
            digits: self.digits,
            summary_received: self.summary_received,
            outcome: self.outcome,
            failure: self.failure,
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
        .into_record()
    }
}

#[derive(sqlx::FromRow)]
struct TimelineRow {
    call_id: Uuid,
    at: DateTime<Utc>,
    from_status: Option<String>,
    to_status: String,
    event: String,
    effect: Option<String>,
    digits: Option<String>,
}

impl TimelineRow {
    fn into_entry(self) -> Result<(Uuid, TimelineEntry), StoreError> {
        TimelineColumns {
            call_id: self.call_id,
            at: self.at,
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
    call_id: Uuid,
    status: String,
    response_status: Option<i32>,
    response_body: Option<Value>,
}

/// The IVR counters in the column types (`INTEGER`, `SMALLINT`).
fn counters(state: &IvrState) -> (i32, i16, i16) {
    (
        i32::from(state.prompts_played),
        i16::from(state.reprompts),
        i16::from(state.repeats),
    )
}

#[async_trait]
impl Store for PgStore {
    /// One statement: the call row, its script, and its first timeline entry, the last two
    /// fed from `RETURNING`.
    async fn insert_call(&self, call: &NewCall) -> Result<(), StoreError> {
        let state = placing_state();
        let (prompts_played, reprompts, repeats) = counters(&state);
        let script = to_json(&call.script, "script")?;
        let entry = first_entry(call);
        sqlx::query(
            "WITH new_call AS ( \
               INSERT INTO calls (id, order_id, customer_phone, client_action_id, status, \
                 step, prompts_played, reprompts, repeats, digits, summary_received, version, \
                 created_at, updated_at, placing_deadline) \
               VALUES ($1, $2, $3, $4, $7, $8, $9, $10, $11, $12, $13, 1, $14, $14, $15) \
               RETURNING id, status), \
             script AS ( \
               INSERT INTO call_scripts (call_id, request, script) \
               SELECT id, $5, $6 FROM new_call) \
             INSERT INTO call_timeline (call_id, at, from_status, to_status, event) \
             SELECT id, $16, NULL, status, $17 FROM new_call",
        )
        .bind(call.id)
        .bind(&call.order_id)
        .bind(&call.customer_phone)
        .bind(&call.client_action_id)
        .bind(&call.request)
        .bind(&script)
        .bind(state.status.as_str())
        .bind(state.step.as_str())
        .bind(prompts_played)
        .bind(reprompts)
        .bind(repeats)
        .bind(&state.digits)
        .bind(state.summary_received)
        .bind(micros(call.created_at))
        .bind(micros(call.placing_deadline))
        .bind(entry.at)
        .bind(&entry.event)
        .execute(&self.pool)
        .await
        .map_err(db_error("insert a call"))?;
        Ok(())
    }

    /// One statement: the update (only while the call is still `placing`) and the timeline
    /// entry fed from its `RETURNING`; if the call had moved on, its current row is returned.
    async fn record_placement(
        &self,
        call_id: Uuid,
        placement: &Placement,
        at: DateTime<Utc>,
    ) -> Result<CallRecord, StoreError> {
        let write = PlacementWrite::of(placement);
        let state = &write.state;
        let (prompts_played, reprompts, repeats) = counters(state);
        let updated = sqlx::query_as::<_, CallRow>(concat!(
            "WITH placed AS ( \
               UPDATE calls SET status = $1, step = $2, prompts_played = $3, reprompts = $4, \
                 repeats = $5, digits = $6, summary_received = $7, session_id = $8, \
                 call_flow_request_id = $9, failure = $10, version = version + 1, \
                 updated_at = $11 \
               WHERE id = $12 AND status = 'placing' \
               RETURNING *), \
             entry AS ( \
               INSERT INTO call_timeline (call_id, at, from_status, to_status, event) \
               SELECT id, $11, 'placing', status, $13 FROM placed) \
             SELECT ",
            call_columns!(),
            " FROM placed c JOIN call_scripts s ON s.call_id = c.id"
        ))
        .bind(state.status.as_str())
        .bind(state.step.as_str())
        .bind(prompts_played)
        .bind(reprompts)
        .bind(repeats)
        .bind(&state.digits)
        .bind(state.summary_received)
        .bind(&write.session_id)
        .bind(&write.call_flow_request_id)
        .bind(&write.failure)
        .bind(micros(at))
        .bind(call_id)
        .bind(write.event)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_error("record a placement"))?;
        match updated {
            Some(row) => row.into_record(),
            None => self
                .call_by_id(call_id)
                .await?
                .ok_or(StoreError::MissingCall(call_id)),
        }
    }

    async fn call_by_id(&self, id: Uuid) -> Result<Option<CallRecord>, StoreError> {
        sqlx::query_as::<_, CallRow>(concat!(
            "SELECT ",
            call_columns!(),
            " FROM ",
            calls_joined!(),
            " WHERE c.id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_error("read a call"))?
        .map(CallRow::into_record)
        .transpose()
    }

    async fn call_by_session(&self, session_id: &str) -> Result<Option<CallRecord>, StoreError> {
        sqlx::query_as::<_, CallRow>(concat!(
            "SELECT ",
            call_columns!(),
            " FROM ",
            calls_joined!(),
            " WHERE c.session_id = $1"
        ))
        .bind(session_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_error("read a call by session"))?
        .map(CallRow::into_record)
        .transpose()
    }

    async fn list_calls(&self, query: &CallQuery) -> Result<Vec<CallRecord>, StoreError> {
        // Only fixed SQL fragments are pushed; every value is a bound parameter. Building the
        // WHERE clause (rather than `$1 IS NULL OR status = $1`) lets the planner use the
        // matching index for each combination of filters.
        let mut sql = QueryBuilder::<Postgres>::new(concat!(
            "SELECT ",
            call_columns!(),
            " FROM ",
            calls_joined!(),
            " WHERE TRUE"
        ));
        if let Some(status) = query.status {
            sql.push(" AND c.status = ").push_bind(status.as_str());
        }
        if let Some(order_id) = &query.order_id {
            sql.push(" AND c.order_id = ").push_bind(order_id.clone());
        }
        if let Some(from) = query.created_from {
            sql.push(" AND c.created_at >= ").push_bind(micros(from));
        }
        if let Some(to) = query.created_to {
            sql.push(" AND c.created_at < ").push_bind(micros(to));
        }
        if let Some(cursor) = query.before {
            // Row comparison: strictly after the cursor in (created_at, id) DESC order; it
            // matches the (created_at, id) index, walked backwards.
            sql.push(" AND (c.created_at, c.id) < (")
                .push_bind(micros(cursor.created_at))
                .push(", ")
                .push_bind(cursor.id)
                .push(")");
        }
        sql.push(" ORDER BY c.created_at DESC, c.id DESC LIMIT ")
            .push_bind(i64::from(query.limit));
        sql.build_query_as::<CallRow>()
            .fetch_all(&self.pool)
            .await
            .map_err(db_error("list calls"))?
            .into_iter()
            .map(CallRow::into_record)
            .collect()
    }

    /// One query for all ids (`= ANY($1)` with a `uuid[]` parameter). Every requested id is a
    /// key of the result, with an empty list if it has no entries (or no call).
    async fn timelines(
        &self,
        call_ids: &[Uuid],
    ) -> Result<HashMap<Uuid, Vec<TimelineEntry>>, StoreError> {
        let mut timelines: HashMap<Uuid, Vec<TimelineEntry>> =
            call_ids.iter().map(|id| (*id, Vec::new())).collect();
        if call_ids.is_empty() {
            return Ok(timelines);
        }
        let rows = sqlx::query_as::<_, TimelineRow>(concat!(
            "SELECT ",
            timeline_columns!(),
            " FROM call_timeline WHERE call_id = ANY($1) ORDER BY call_id, seq"
        ))
        .bind(call_ids)
        .fetch_all(&self.pool)
        .await
        .map_err(db_error("read timelines"))?;
        for row in rows {
            let (call_id, entry) = row.into_entry()?;
            timelines.entry(call_id).or_default().push(entry);
        }
        Ok(timelines)
    }

    /// The hot path: one statement in its own transaction when the change applies, which is
    /// nearly always (with the pool's check of the connection, two round trips instead of
    /// the four of `BEGIN`, statement, `COMMIT`); a second, read-only statement otherwise.
    ///
    /// - `moved`: the versioned update. A concurrent writer of the same call makes it wait,
    ///   then re-check `version` against the committed row.
    /// - `hook`: the webhook row, fed from `moved`, so it is written only if the call moved.
    ///   A plain `INSERT` (no `ON CONFLICT`): a key already recorded fails the statement, and
    ///   with it the update, so no event is ever applied twice.
    /// - `entry`: the timeline entry, also fed from `moved`, only when the change has one
    ///   (`$23`).
    ///
    /// Why this is exact without an explicit transaction: a webhook row is only ever written
    /// together with a version bump of its call, under the call's row lock. So if the update
    /// found the expected version, no other transaction has recorded or is recording this
    /// key, except one that already committed it at this very version (a re-delivery after
    /// the cache moved on), which the key's uniqueness refuses. Two instances receiving one
    /// event concurrently: one updates, the other waits for its row lock and then finds the
    /// version changed. Every case but "applied" then runs [`Self::settle_unapplied`] in a
    /// fresh READ COMMITTED snapshot, which sees the winner's commit. (The refused insert
    /// leaves an `ERROR: duplicate key` line, naming the call id and the event key, in the
    /// server's log: re-deliveries are rare, round trips are on every webhook.)
    async fn apply_change(&self, change: &StateChange) -> Result<ApplyResult, StoreError> {
        let hook = &change.webhook;
        let state = &change.state;
        let (prompts_played, reprompts, repeats) = counters(state);
        let outcome = change
            .outcome
            .as_ref()
            .map(|outcome| to_json(outcome, "outcome"))
            .transpose()?;
        let entry = change.timeline.as_ref();
        let applied: Result<Option<i64>, sqlx::Error> = sqlx::query_scalar(
            "WITH moved AS ( \
               UPDATE calls SET status = $8, step = $9, prompts_played = $10, reprompts = $11, \
                 repeats = $12, digits = $13, summary_received = $14, \
                 outcome = COALESCE($15, outcome), version = version + 1, updated_at = $5 \
               WHERE id = $4 AND version = $16 \
               RETURNING id, version), \
             hook AS ( \
               INSERT INTO webhook_events (key, kind, session_id, call_id, received_at, event, reply) \
               SELECT $1, $2, $3, id, $5, $6, $7 FROM moved), \
             entry AS ( \
               INSERT INTO call_timeline (call_id, at, from_status, to_status, event, effect, digits) \
               SELECT id, $17, $18, $19, $20, $21, $22 FROM moved WHERE $23) \
             SELECT (SELECT version FROM moved)",
        )
        .bind(&hook.key)
        .bind(hook.kind.as_str())
        .bind(&hook.session_id)
        .bind(change.call_id)
        .bind(micros(hook.received_at))
        .bind(sqlx::types::Json(&hook.event))
        .bind(hook.reply.as_ref().map(sqlx::types::Json))
        .bind(state.status.as_str())
        .bind(state.step.as_str())
        .bind(prompts_played)
        .bind(reprompts)
        .bind(repeats)
        .bind(&state.digits)
        .bind(state.summary_received)
        .bind(&outcome)
        .bind(change.expected_version)
        .bind(entry.map(|e| micros(e.at)))
        .bind(entry.and_then(|e| e.from).map(CallStatus::as_str))
        .bind(entry.map(|e| e.to.as_str()))
        .bind(entry.map(|e| e.event.as_str()))
        .bind(entry.and_then(|e| e.effect.as_deref()))
        .bind(entry.and_then(|e| e.digits.as_deref()))
        .bind(entry.is_some())
        .fetch_one(&self.pool)
        .await;

        match applied {
            Ok(Some(version)) => Ok(ApplyResult::Applied { version }),
            Ok(None) => self.settle_unapplied(change).await,
            // Only the webhook's key is unique among the rows this statement writes.
            Err(error) if is_duplicate_key(&error) => self.settle_unapplied(change).await,
            Err(error) => Err(write_error("apply a state change", change.call_id)(error)),
        }
    }

    /// One statement: the update moves every overdue `placing` call to `unknown`, and the
    /// insert fed from its `RETURNING` writes one timeline entry per call moved. A concurrent
    /// `record_placement` or sweep is settled by the row lock: whoever comes second re-checks
    /// `status = 'placing'` and skips the row.
    async fn mark_in_doubt(
        &self,
        deadline_before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let marked = sqlx::query(
            "WITH doubted AS ( \
               UPDATE calls SET status = 'unknown', failure = $1, version = version + 1, \
                 updated_at = $2 \
               WHERE status = 'placing' AND placing_deadline < $3 \
               RETURNING id) \
             INSERT INTO call_timeline (call_id, at, from_status, to_status, event) \
             SELECT id, $2, 'placing', 'unknown', 'in_doubt' FROM doubted",
        )
        .bind(STOPPED_BEFORE_ANSWER)
        .bind(micros(now))
        .bind(micros(deadline_before))
        .execute(&self.pool)
        .await
        .map_err(db_error("mark calls in doubt"))?
        .rows_affected();
        Ok(marked)
    }

    /// An upsert that only overwrites an expired key (`DO UPDATE .. WHERE`), returning a row
    /// only if it claimed. Concurrent claims of one key queue on the key's index entry; the
    /// first inserts, every later one finds it live and returns nothing, then reads it (a new
    /// statement, so a new snapshot that sees the first claim). If the key vanished in between
    /// (released or purged), the claim is simply tried again.
    async fn claim_idempotency_key(
        &self,
        key: &str,
        request_hash: &str,
        call_id: Uuid,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<IdempotencyClaim, StoreError> {
        for _ in 0..CLAIM_ATTEMPTS {
            let claimed: Option<String> = sqlx::query_scalar(
                "INSERT INTO idempotency_keys (key, request_hash, call_id, status, created_at, expires_at) \
                 VALUES ($1, $2, $3, 'in_progress', $4, $5) \
                 ON CONFLICT (key) DO UPDATE SET request_hash = excluded.request_hash, \
                   call_id = excluded.call_id, status = 'in_progress', response_status = NULL, \
                   response_body = NULL, created_at = excluded.created_at, \
                   expires_at = excluded.expires_at \
                 WHERE idempotency_keys.expires_at <= excluded.created_at \
                 RETURNING key",
            )
            .bind(key)
            .bind(request_hash)
            .bind(call_id)
            .bind(micros(now))
            .bind(micros(expires_at))
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error("claim an idempotency key"))?;
            if claimed.is_some() {
                return Ok(IdempotencyClaim::Claimed);
            }
            let row = sqlx::query_as::<_, KeyRow>(
                "SELECT request_hash, call_id, status, response_status, response_body \
                 FROM idempotency_keys WHERE key = $1",
            )
            .bind(key)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error("read an idempotency key"))?;
            if let Some(row) = row {
                return KeyColumns {
                    request_hash: row.request_hash,
                    call_id: row.call_id,
                    status: row.status,
                    response_status: row.response_status.map(i64::from),
                    response_body: row.response_body,
                }
                .into_claim();
            }
        }
        Err(StoreError::Database(
            "claim an idempotency key: the key kept changing under concurrent requests".into(),
        ))
    }

    /// Only an `in_progress` key is completed; completing a key that was released, purged or
    /// already completed changes nothing.
    async fn complete_idempotency_key(
        &self,
        key: &str,
        response: &StoredResponse,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE idempotency_keys SET status = 'completed', response_status = $1, \
             response_body = $2 WHERE key = $3 AND status = 'in_progress'",
        )
        .bind(i32::from(response.status))
        .bind(&response.body)
        .bind(key)
        .execute(&self.pool)
        .await
        .map_err(db_error("complete an idempotency key"))?;
        Ok(())
    }

    /// Only an `in_progress` key is released: a completed response is never forgotten early.
    async fn release_idempotency_key(&self, key: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM idempotency_keys WHERE key = $1 AND status = 'in_progress'")
            .bind(key)
            .execute(&self.pool)
            .await
            .map_err(db_error("release an idempotency key"))?;
        Ok(())
    }

    async fn purge_expired_idempotency_keys(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        Ok(
            sqlx::query("DELETE FROM idempotency_keys WHERE expires_at <= $1")
                .bind(micros(now))
                .execute(&self.pool)
                .await
                .map_err(db_error("purge idempotency keys"))?
                .rows_affected(),
        )
    }
}

impl PgStore {
    /// Why a change did not apply, read in one statement after the fact: its key is recorded
    /// (a duplicate, answered with the stored reply), or the call moved on (a conflict), or
    /// there is no such call.
    async fn settle_unapplied(&self, change: &StateChange) -> Result<ApplyResult, StoreError> {
        let (call_exists, recorded, reply): (bool, bool, Option<String>) = sqlx::query_as(
            "SELECT EXISTS (SELECT 1 FROM calls WHERE id = $1), \
                    EXISTS (SELECT 1 FROM webhook_events WHERE call_id = $1 AND key = $2), \
                    (SELECT reply::text FROM webhook_events WHERE call_id = $1 AND key = $2)",
        )
        .bind(change.call_id)
        .bind(&change.webhook.key)
        .fetch_one(&self.pool)
        .await
        .map_err(db_error("read a webhook's reply"))?;
        match (call_exists, recorded) {
            (false, _) => Err(StoreError::MissingCall(change.call_id)),
            (true, false) => Ok(ApplyResult::Conflict),
            (true, true) => duplicate_with_reply(reply),
        }
    }
}
