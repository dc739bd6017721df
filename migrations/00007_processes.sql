-- +goose Up

-- State of each process of a process manager (internal/process): one row per
-- (process manager, process), the handler's state as JSON, and a version
-- that grows with every change.
CREATE TABLE process_states (
    name       text        NOT NULL,
    process_id text        NOT NULL,
    state      jsonb       NOT NULL,
    version    bigint      NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (name, process_id)
);

-- Commands a process manager decided and has not sent yet (the transactional
-- outbox): written in the batch transaction that advances its checkpoint,
-- deleted once sent. key is the command's idempotency key: (process manager,
-- triggering event or deadline, step).
CREATE TABLE process_outbox (
    seq            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name           text        NOT NULL,
    key            text        NOT NULL UNIQUE,
    process_id     text        NOT NULL,
    command        text        NOT NULL,
    payload        jsonb       NOT NULL,
    causation_id   text        NOT NULL,
    correlation_id text        NOT NULL,
    tenant         text        NOT NULL,
    attempts       int         NOT NULL DEFAULT 0,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX process_outbox_name_seq ON process_outbox (name, seq);

-- Deadlines of processes: fired by the active instance of the process
-- manager once due_at has passed (its clock), which runs the handler's
-- OnDeadline. One per (process manager, process, kind); setting it again
-- moves it.
CREATE TABLE process_deadlines (
    name           text        NOT NULL,
    process_id     text        NOT NULL,
    kind           text        NOT NULL,
    due_at         timestamptz NOT NULL,
    deadline_id    uuid        NOT NULL,
    causation_id   text        NOT NULL,
    correlation_id text        NOT NULL,
    tenant         text        NOT NULL,
    PRIMARY KEY (name, process_id, kind)
);
CREATE INDEX process_deadlines_due ON process_deadlines (name, due_at);

-- +goose Down
DROP TABLE process_deadlines;
DROP TABLE process_outbox;
DROP TABLE process_states;
