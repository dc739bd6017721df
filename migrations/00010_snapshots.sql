-- +goose Up

-- Snapshots of aggregate state: the state folded from a stream up to
-- version, in the shape of the aggregate type's state schema version. A
-- repository loads the newest snapshot of the current schema version and
-- the events after it; snapshots of another schema version are ignored and
-- replaced. They are an optimisation only: deleting every row is always
-- safe.
CREATE TABLE snapshots (
    stream_id      uuid        NOT NULL,
    version        bigint      NOT NULL CHECK (version > 0),
    stream_type    text        NOT NULL,
    schema_version int         NOT NULL,
    state          jsonb       NOT NULL,
    taken_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (stream_id, version)
);

-- +goose Down
DROP TABLE snapshots;
