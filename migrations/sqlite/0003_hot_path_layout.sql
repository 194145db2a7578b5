-- The layout of the webhook hot path: each VCA rewrites its call's row and adds a webhook
-- and a timeline entry, committed before the answer is sent (bench/README.md). Three
-- changes, same data and same guarantees:
--
-- 1. The appointment as requested and the rendered script, written once, move from `calls`
--    to `call_scripts`: a `calls` row is then about 300 bytes instead of 1,300, so the rows
--    every webhook rewrites take a quarter of the pages.
-- 2. A webhook is de-duplicated within its call: the primary key of `webhook_events` becomes
--    (call_id, key). 8x8's eventIds are random, so a unique index on `key` alone put every
--    webhook at a random page of an ever-growing index; by call first (call ids are UUIDv7,
--    in creation order), the webhooks of calls made together share pages. A re-delivered
--    event carries the same sessionId, so it reaches the same call, and every key names one
--    session (`vca:{eventId}`, `vss:{sessionId}`): exactly the same events are duplicates.
-- 3. The CHECK constraints that list allowed values are written as OR chains (and named,
--    so that a refusal names the constraint rather than quoting the chain) instead of
--    `IN (...)`: SQLite evaluates an IN list of more than two values by building a temporary
--    index, for every row written (about 4 µs each, six per webhook); the OR chain allows
--    exactly the same values at the cost of a few comparisons.
--
-- SQLite can change neither a primary key nor a CHECK constraint in place, so the three
-- tables are rebuilt, rows in their order, in this migration's transaction. The old tables
-- are renamed first: renaming `calls` makes the old child tables refer to `calls_0002`, so
-- dropping them afterwards cascades nothing into the new tables.

ALTER TABLE calls RENAME TO calls_0002;
ALTER TABLE call_timeline RENAME TO call_timeline_0002;
ALTER TABLE webhook_events RENAME TO webhook_events_0002;
DROP INDEX calls_created;
DROP INDEX calls_status_created;
DROP INDEX calls_order_created;
DROP INDEX calls_placing_deadline;
DROP INDEX call_timeline_call;

CREATE TABLE calls (
    id                   TEXT    NOT NULL PRIMARY KEY
                                 CHECK (length(id) = 36 AND id = lower(id)),
    order_id             TEXT    NOT NULL CHECK (length(order_id) BETWEEN 1 AND 255),
    customer_phone       TEXT    NOT NULL CHECK (length(customer_phone) BETWEEN 7 AND 15
                                                 AND customer_phone NOT GLOB '*[^0-9]*'),
    client_action_id     TEXT    NOT NULL CHECK (length(client_action_id) BETWEEN 1 AND 512),
    session_id           TEXT    UNIQUE CHECK (length(session_id) BETWEEN 1 AND 255),
    call_flow_request_id TEXT    CHECK (length(call_flow_request_id) BETWEEN 1 AND 255),
    status               TEXT    NOT NULL CONSTRAINT calls_status
                                 CHECK (status = 'placing' OR status = 'not_placed' OR status = 'unknown'
                                        OR status = 'pending' OR status = 'confirmed' OR status = 'cancelled'
                                        OR status = 'transferred' OR status = 'no_response' OR status = 'unreachable'),
    step                 TEXT    NOT NULL CONSTRAINT calls_step
                                 CHECK (step = 'main' OR step = 'confirm_cancel'
                                        OR step = 'done'),
    prompts_played       INTEGER NOT NULL CHECK (prompts_played BETWEEN 0 AND 65535),
    reprompts            INTEGER NOT NULL CHECK (reprompts BETWEEN 0 AND 255),
    repeats              INTEGER NOT NULL CHECK (repeats BETWEEN 0 AND 255),
    digits               TEXT    NOT NULL CHECK (length(digits) <= 1024),
    summary_received     INTEGER NOT NULL CHECK (summary_received IN (0, 1)),
    outcome              TEXT    CHECK (json_valid(outcome) AND json_type(outcome) = 'object'),
    failure              TEXT    CHECK (length(failure) <= 1000),
    version              INTEGER NOT NULL CHECK (version >= 1),
    created_at           TEXT    NOT NULL CHECK (created_at GLOB
        '[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    updated_at           TEXT    NOT NULL CHECK (updated_at GLOB
        '[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    placing_deadline     TEXT    NOT NULL CHECK (placing_deadline GLOB
        '[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    -- Once 8x8 has accepted a call it has a session; only the three "no call exists (yet, or
    -- as far as we know)" statuses may lack one.
    CONSTRAINT calls_session_when_placed
        CHECK (session_id IS NOT NULL
               OR status = 'placing' OR status = 'not_placed' OR status = 'unknown')
) STRICT;

CREATE TABLE call_scripts (
    call_id TEXT NOT NULL PRIMARY KEY REFERENCES calls (id) ON DELETE CASCADE,
    request TEXT NOT NULL CHECK (json_valid(request)),
    script  TEXT NOT NULL CHECK (json_valid(script) AND json_type(script) = 'object')
) STRICT;

CREATE TABLE call_timeline (
    -- Insertion order is the timeline order: the call row is locked (version check) by every
    -- writer, so one call's entries are inserted in the order its changes committed.
    seq         INTEGER NOT NULL PRIMARY KEY,
    call_id     TEXT    NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    at          TEXT    NOT NULL CHECK (at GLOB
        '[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    from_status TEXT    CONSTRAINT call_timeline_from_status
                        CHECK (from_status = 'placing' OR from_status = 'not_placed' OR from_status = 'unknown'
                               OR from_status = 'pending' OR from_status = 'confirmed' OR from_status = 'cancelled'
                               OR from_status = 'transferred' OR from_status = 'no_response' OR from_status = 'unreachable'),
    to_status   TEXT    NOT NULL CONSTRAINT call_timeline_to_status
                        CHECK (to_status = 'placing' OR to_status = 'not_placed' OR to_status = 'unknown'
                               OR to_status = 'pending' OR to_status = 'confirmed' OR to_status = 'cancelled'
                               OR to_status = 'transferred' OR to_status = 'no_response' OR to_status = 'unreachable'),
    event       TEXT    NOT NULL CONSTRAINT call_timeline_event
                        CHECK (event = 'placing' OR event = 'placed'
                               OR event = 'not_placed' OR event = 'in_doubt'
                               OR event = 'vca' OR event = 'vss'),
    effect      TEXT    CHECK (length(effect) BETWEEN 1 AND 64),
    digits      TEXT    CHECK (length(digits) <= 64)
) STRICT;

CREATE TABLE webhook_events (
    -- `vca:{eventId}` or `vss:{sessionId}`, unique within the call: the de-duplication.
    key         TEXT NOT NULL CHECK (length(key) BETWEEN 1 AND 300),
    kind        TEXT NOT NULL CHECK (kind = 'vca' OR kind = 'vss'),
    session_id  TEXT NOT NULL CHECK (length(session_id) BETWEEN 1 AND 255),
    call_id     TEXT NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    received_at TEXT NOT NULL CHECK (received_at GLOB
        '[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    event       TEXT NOT NULL CHECK (json_valid(event)),
    reply       TEXT CHECK (json_valid(reply)),
    PRIMARY KEY (call_id, key)
) STRICT;

INSERT INTO calls (id, order_id, customer_phone, client_action_id, session_id,
                   call_flow_request_id, status, step, prompts_played, reprompts, repeats,
                   digits, summary_received, outcome, failure, version, created_at,
                   updated_at, placing_deadline)
    SELECT id, order_id, customer_phone, client_action_id, session_id, call_flow_request_id,
           status, step, prompts_played, reprompts, repeats, digits, summary_received,
           outcome, failure, version, created_at, updated_at, placing_deadline
    FROM calls_0002 ORDER BY rowid;
INSERT INTO call_scripts (call_id, request, script)
    SELECT id, request, script FROM calls_0002 ORDER BY rowid;
INSERT INTO call_timeline (seq, call_id, at, from_status, to_status, event, effect, digits)
    SELECT seq, call_id, at, from_status, to_status, event, effect, digits
    FROM call_timeline_0002 ORDER BY seq;
INSERT INTO webhook_events (key, kind, session_id, call_id, received_at, event, reply)
    SELECT key, kind, session_id, call_id, received_at, event, reply
    FROM webhook_events_0002 ORDER BY rowid;

DROP TABLE webhook_events_0002;
DROP TABLE call_timeline_0002;
DROP TABLE calls_0002;

-- The indexes of 0001, unchanged (0002 dropped webhook_events(call_id)).
CREATE INDEX calls_created ON calls (created_at DESC, id DESC);
CREATE INDEX calls_status_created ON calls (status, created_at DESC, id DESC);
CREATE INDEX calls_order_created ON calls (order_id, created_at DESC, id DESC);
CREATE INDEX calls_placing_deadline ON calls (placing_deadline) WHERE status = 'placing';
CREATE INDEX call_timeline_call ON call_timeline (call_id, seq);
