-- +goose Up

-- One row per stream: its current version. Appends with an expected version
-- update this row conditionally, so the row lock serialises concurrent
-- appenders of one stream and a stale expected version matches no row.
CREATE TABLE streams (
    stream_id   uuid        PRIMARY KEY,
    stream_type text        NOT NULL,
    version     bigint      NOT NULL CHECK (version > 0),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- The event log. position is the global order of INSERT; transaction_id is the
-- order of visibility that projections read by (see docs/architecture.md,
-- "Gap-free reads").
CREATE TABLE events (
    position       bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    transaction_id xid8        NOT NULL DEFAULT pg_current_xact_id(),
    event_id       uuid        NOT NULL UNIQUE,
    stream_id      uuid        NOT NULL,
    stream_type    text        NOT NULL,
    version        bigint      NOT NULL CHECK (version > 0),
    type           text        NOT NULL,
    schema_version int         NOT NULL DEFAULT 1,
    data           jsonb       NOT NULL,
    metadata       jsonb       NOT NULL DEFAULT '{}',
    recorded_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (stream_id, version)
);

CREATE INDEX events_transaction_position ON events (transaction_id, position);

-- Idempotency keys of handled commands and the result they produced. The row
-- is inserted first in the append transaction, so a concurrent duplicate waits
-- on it and then sees the original.
CREATE TABLE idempotency_keys (
    key            text        PRIMARY KEY,
    stream_id      uuid        NOT NULL,
    command        text        NOT NULL,
    from_version   bigint,
    to_version     bigint,
    first_position bigint,
    last_position  bigint,
    transaction_id xid8,
    created_at     timestamptz NOT NULL DEFAULT now()
);

-- One checkpoint per projection: the (transaction_id, position) pair of the
-- last event whose effect is in the read model.
CREATE TABLE projection_checkpoints (
    name           text        PRIMARY KEY,
    transaction_id xid8        NOT NULL DEFAULT '0',
    position       bigint      NOT NULL DEFAULT 0,
    updated_at     timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE projection_checkpoints;
DROP TABLE idempotency_keys;
DROP TABLE events;
DROP TABLE streams;
