-- +goose Up

-- Read model of the "payments" projection: one row per payment.
CREATE TABLE payments (
    id             uuid        PRIMARY KEY,
    organization   text        NOT NULL,
    customer_name  text        NOT NULL,
    customer_email text        NOT NULL,
    currency       char(3)     NOT NULL,
    amount         bigint      NOT NULL, -- minor units of currency
    refunded       bigint      NOT NULL, -- minor units, 0..amount
    status         text        NOT NULL,
    failure_reason text,
    initiated_by   text        NOT NULL,
    processed_by   text,
    failed_by      text,
    refunded_by    text,                 -- of the last refund
    version        bigint      NOT NULL, -- stream version of the last projected event
    initiated_at   timestamptz NOT NULL,
    processed_at   timestamptz,
    failed_at      timestamptz,
    refunded_at    timestamptz,          -- of the last refund
    updated_at     timestamptz NOT NULL
);

-- payments(status, from, to, first, after): newest first within one
-- organization, optionally one status.
CREATE INDEX payments_org_initiated ON payments (organization, initiated_at DESC, id DESC);
CREATE INDEX payments_org_status_initiated ON payments (organization, status, initiated_at DESC, id DESC);

-- One row per refund.
CREATE TABLE payment_refunds (
    payment_id  uuid        NOT NULL,
    version     bigint      NOT NULL,
    amount      bigint      NOT NULL, -- minor units, > 0
    reason      text        NOT NULL,
    refunded_by text        NOT NULL,
    refunded_at timestamptz NOT NULL,
    PRIMARY KEY (payment_id, version)
);

-- Analytics: payments grouped by the hour they were initiated in (UTC),
-- currency and current status. A payment's row moves from one status to
-- another as it changes, so every sum is over the payments' current state.
CREATE TABLE payment_stats_hourly (
    organization text        NOT NULL,
    hour         timestamptz NOT NULL,
    currency     char(3)     NOT NULL,
    status       text        NOT NULL,
    payments     bigint      NOT NULL, -- how many
    amount       bigint      NOT NULL, -- sum of their amounts, minor units
    refunded     bigint      NOT NULL, -- sum of what was refunded of them
    PRIMARY KEY (organization, hour, currency, status)
);

-- +goose Down
DROP TABLE payment_stats_hourly;
DROP TABLE payment_refunds;
DROP TABLE payments;
