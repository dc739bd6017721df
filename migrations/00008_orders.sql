-- +goose Up

-- Read model of the "orders" projection: one row per order.
CREATE TABLE orders (
    id             uuid        PRIMARY KEY,
    organization   text        NOT NULL,
    customer_name  text        NOT NULL,
    customer_email text        NOT NULL,
    lines          jsonb       NOT NULL, -- [{"productId","quantity","unitPrice"}]
    currency       char(3)     NOT NULL,
    total          bigint      NOT NULL, -- minor units of currency
    status         text        NOT NULL,
    reason         text,
    payment_id     uuid,
    version        bigint      NOT NULL, -- stream version of the last projected event
    placed_at      timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL
);

-- orders(status, first, after): newest first (ids are UUIDv7) within one
-- organization, optionally one status.
CREATE INDEX orders_org_id ON orders (organization, id DESC);
CREATE INDEX orders_org_status_id ON orders (organization, status, id DESC);

-- Each version of each order: what orderUpdated sends, every change once.
CREATE TABLE order_history (
    order_id   uuid        NOT NULL,
    version    bigint      NOT NULL,
    status     text        NOT NULL,
    reason     text,
    payment_id uuid,
    at         timestamptz NOT NULL,
    PRIMARY KEY (order_id, version)
);

-- +goose Down
DROP TABLE order_history;
DROP TABLE orders;
