-- callconfirm schema, SQLite flavour. Kept column-for-column identical to
-- migrations/postgres/0001_initial.sql; only the types differ:
--   * ids are lower-case hyphenated UUID text (36 chars), so they sort like Postgres's uuid;
--   * timestamps are fixed-width ISO-8601 UTC text with microseconds,
--     'YYYY-MM-DDTHH:MM:SS.ffffffZ', so text order is time order and range filters work;
--   * JSON is text checked by json_valid();
--   * tables are STRICT, so a value of the wrong type is refused rather than coerced.
-- The CHECK constraints repeat the Rust enums: even a bug cannot store an unknown status.

CREATE TABLE calls (
    id                   TEXT    NOT NULL PRIMARY KEY
                                 CHECK (length(id) = 36 AND id = lower(id)),
    order_id             TEXT    NOT NULL CHECK (length(order_id) BETWEEN 1 AND 255),
    customer_phone       TEXT    NOT NULL CHECK (length(customer_phone) BETWEEN 7 AND 15
                                                 AND customer_phone NOT GLOB '*[^0-9]*'),
    client_action_id     TEXT    NOT NULL CHECK (length(client_action_id) BETWEEN 1 AND 512),
    session_id           TEXT    UNIQUE CHECK (length(session_id) BETWEEN 1 AND 255),
    call_flow_request_id TEXT    CHECK (length(call_flow_request_id) BETWEEN 1 AND 255),
    request              TEXT    NOT NULL CHECK (json_valid(request)),
    script               TEXT    NOT NULL CHECK (json_valid(script) AND json_type(script) = 'object'),
    status               TEXT    NOT NULL CHECK (status IN ('placing', 'not_placed', 'unknown',
                                                 'pending', 'confirmed', 'cancelled',
                                                 'transferred', 'no_response', 'unreachable')),
    step                 TEXT    NOT NULL CHECK (step IN ('main', 'confirm_cancel', 'done')),
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
        CHECK (session_id IS NOT NULL OR status IN ('placing', 'not_placed', 'unknown'))
) STRICT;

-- Newest first, ties broken by id: the list order and its (created_at, id) cursor.
CREATE INDEX calls_created ON calls (created_at DESC, id DESC);
CREATE INDEX calls_status_created ON calls (status, created_at DESC, id DESC);
CREATE INDEX calls_order_created ON calls (order_id, created_at DESC, id DESC);
-- The sweep only ever looks at calls still `placing`: a tiny partial index.
CREATE INDEX calls_placing_deadline ON calls (placing_deadline) WHERE status = 'placing';

CREATE TABLE call_timeline (
    -- Insertion order is the timeline order: the call row is locked (version check) by every
    -- writer, so one call's entries are inserted in the order its changes committed.
    seq         INTEGER NOT NULL PRIMARY KEY,
    call_id     TEXT    NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    at          TEXT    NOT NULL CHECK (at GLOB
        '[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    from_status TEXT    CHECK (from_status IN ('placing', 'not_placed', 'unknown', 'pending',
                                'confirmed', 'cancelled', 'transferred', 'no_response',
                                'unreachable')),
    to_status   TEXT    NOT NULL CHECK (to_status IN ('placing', 'not_placed', 'unknown',
                                'pending', 'confirmed', 'cancelled', 'transferred',
                                'no_response', 'unreachable')),
    event       TEXT    NOT NULL CHECK (event IN ('placing', 'placed', 'not_placed',
                                'in_doubt', 'vca', 'vss')),
    effect      TEXT    CHECK (length(effect) BETWEEN 1 AND 64),
    digits      TEXT    CHECK (length(digits) <= 64)
) STRICT;

CREATE INDEX call_timeline_call ON call_timeline (call_id, seq);

CREATE TABLE webhook_events (
    -- `vca:{eventId}` or `vss:{sessionId}`: the primary key is the deduplication.
    key         TEXT NOT NULL PRIMARY KEY CHECK (length(key) BETWEEN 1 AND 300),
    kind        TEXT NOT NULL CHECK (kind IN ('vca', 'vss')),
    session_id  TEXT NOT NULL CHECK (length(session_id) BETWEEN 1 AND 255),
    call_id     TEXT NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    received_at TEXT NOT NULL CHECK (received_at GLOB
        '[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    event       TEXT NOT NULL CHECK (json_valid(event)),
    reply       TEXT CHECK (json_valid(reply))
) STRICT;

CREATE INDEX webhook_events_call ON webhook_events (call_id);

CREATE TABLE idempotency_keys (
    key             TEXT    NOT NULL PRIMARY KEY CHECK (length(key) BETWEEN 1 AND 255),
    request_hash    TEXT    NOT NULL CHECK (length(request_hash) BETWEEN 1 AND 128),
    -- No foreign key: the key is claimed before the call row is written.
    call_id         TEXT    NOT NULL CHECK (length(call_id) = 36 AND call_id = lower(call_id)),
    status          TEXT    NOT NULL CHECK (status IN ('in_progress', 'completed')),
    response_status INTEGER CHECK (response_status BETWEEN 100 AND 599),
    response_body   TEXT    CHECK (json_valid(response_body)),
    created_at      TEXT    NOT NULL CHECK (created_at GLOB
        '[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    expires_at      TEXT    NOT NULL CHECK (expires_at GLOB
        '[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'),
    -- A completed key has its response, an in-progress one has none.
    CONSTRAINT idempotency_keys_response_when_completed
        CHECK ((status = 'completed') = (response_status IS NOT NULL AND response_body IS NOT NULL))
) STRICT;

CREATE INDEX idempotency_keys_expires ON idempotency_keys (expires_at);
