-- callconfirm schema, PostgreSQL flavour. Kept column-for-column identical to
-- migrations/sqlite/0001_initial.sql: uuid ids, TIMESTAMPTZ (microseconds), JSONB.
-- The CHECK constraints repeat the Rust enums: even a bug cannot store an unknown status.

CREATE TABLE calls (
    id                   UUID        PRIMARY KEY,
    order_id             TEXT        NOT NULL CHECK (length(order_id) BETWEEN 1 AND 255),
    customer_phone       TEXT        NOT NULL CHECK (customer_phone ~ '^[0-9]{7,15}$'),
    client_action_id     TEXT        NOT NULL CHECK (length(client_action_id) BETWEEN 1 AND 512),
    session_id           TEXT        UNIQUE CHECK (length(session_id) BETWEEN 1 AND 255),
    call_flow_request_id TEXT        CHECK (length(call_flow_request_id) BETWEEN 1 AND 255),
    request              JSONB       NOT NULL,
    script               JSONB       NOT NULL CHECK (jsonb_typeof(script) = 'object'),
    status               TEXT        NOT NULL CHECK (status IN ('placing', 'not_placed', 'unknown',
                                                     'pending', 'confirmed', 'cancelled',
                                                     'transferred', 'no_response', 'unreachable')),
    step                 TEXT        NOT NULL CHECK (step IN ('main', 'confirm_cancel', 'done')),
    prompts_played       INTEGER     NOT NULL CHECK (prompts_played BETWEEN 0 AND 65535),
    reprompts            SMALLINT    NOT NULL CHECK (reprompts BETWEEN 0 AND 255),
    repeats              SMALLINT    NOT NULL CHECK (repeats BETWEEN 0 AND 255),
    digits               TEXT        NOT NULL CHECK (length(digits) <= 1024),
    summary_received     BOOLEAN     NOT NULL,
    outcome              JSONB       CHECK (jsonb_typeof(outcome) = 'object'),
    failure              TEXT        CHECK (length(failure) <= 1000),
    version              BIGINT      NOT NULL CHECK (version >= 1),
    created_at           TIMESTAMPTZ NOT NULL,
    updated_at           TIMESTAMPTZ NOT NULL,
    placing_deadline     TIMESTAMPTZ NOT NULL,
    -- Once 8x8 has accepted a call it has a session; only the three "no call exists (yet, or
    -- as far as we know)" statuses may lack one.
    CONSTRAINT calls_session_when_placed
        CHECK (session_id IS NOT NULL OR status IN ('placing', 'not_placed', 'unknown'))
);

-- Newest first, ties broken by id: the list order and its (created_at, id) cursor.
CREATE INDEX calls_created ON calls (created_at DESC, id DESC);
CREATE INDEX calls_status_created ON calls (status, created_at DESC, id DESC);
CREATE INDEX calls_order_created ON calls (order_id, created_at DESC, id DESC);
-- The sweep only ever looks at calls still `placing`: a tiny partial index.
CREATE INDEX calls_placing_deadline ON calls (placing_deadline) WHERE status = 'placing';

CREATE TABLE call_timeline (
    -- Insertion order is the timeline order: every writer updates (and so locks) the call row
    -- in the same transaction, so one call's entries get increasing seq in commit order.
    seq         BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    call_id     UUID        NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    at          TIMESTAMPTZ NOT NULL,
    from_status TEXT        CHECK (from_status IN ('placing', 'not_placed', 'unknown', 'pending',
                                    'confirmed', 'cancelled', 'transferred', 'no_response',
                                    'unreachable')),
    to_status   TEXT        NOT NULL CHECK (to_status IN ('placing', 'not_placed', 'unknown',
                                    'pending', 'confirmed', 'cancelled', 'transferred',
                                    'no_response', 'unreachable')),
    event       TEXT        NOT NULL CHECK (event IN ('placing', 'placed', 'not_placed',
                                    'in_doubt', 'vca', 'vss')),
    effect      TEXT        CHECK (length(effect) BETWEEN 1 AND 64),
    digits      TEXT        CHECK (length(digits) <= 64)
);

CREATE INDEX call_timeline_call ON call_timeline (call_id, seq);

CREATE TABLE webhook_events (
    -- `vca:{eventId}` or `vss:{sessionId}`: the primary key is the deduplication.
    key         TEXT        PRIMARY KEY CHECK (length(key) BETWEEN 1 AND 300),
    kind        TEXT        NOT NULL CHECK (kind IN ('vca', 'vss')),
    session_id  TEXT        NOT NULL CHECK (length(session_id) BETWEEN 1 AND 255),
    call_id     UUID        NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    received_at TIMESTAMPTZ NOT NULL,
    event       JSONB       NOT NULL,
    reply       JSONB
);

CREATE INDEX webhook_events_call ON webhook_events (call_id);

CREATE TABLE idempotency_keys (
    key             TEXT        PRIMARY KEY CHECK (length(key) BETWEEN 1 AND 255),
    request_hash    TEXT        NOT NULL CHECK (length(request_hash) BETWEEN 1 AND 128),
    -- No foreign key: the key is claimed before the call row is written.
    call_id         UUID        NOT NULL,
    status          TEXT        NOT NULL CHECK (status IN ('in_progress', 'completed')),
    response_status INTEGER     CHECK (response_status BETWEEN 100 AND 599),
    response_body   JSONB,
    created_at      TIMESTAMPTZ NOT NULL,
    expires_at      TIMESTAMPTZ NOT NULL,
    -- A completed key has its response, an in-progress one has none.
    CONSTRAINT idempotency_keys_response_when_completed
        CHECK ((status = 'completed') = (response_status IS NOT NULL AND response_body IS NOT NULL))
);

CREATE INDEX idempotency_keys_expires ON idempotency_keys (expires_at);
