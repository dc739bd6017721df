-- +goose Up

-- Read model of the "stock" projection: one row per product's stock stream
-- (id is the stream's, derived from the organization and the product id).
CREATE TABLE stock (
    id           uuid        PRIMARY KEY,
    organization text        NOT NULL,
    product_id   uuid        NOT NULL,
    on_hand      bigint      NOT NULL, -- units, reserved ones included
    reserved     bigint      NOT NULL, -- units held for orders, 0..on_hand
    version      bigint      NOT NULL, -- stream version of the last projected event
    updated_at   timestamptz NOT NULL,
    UNIQUE (organization, product_id)
);

-- +goose Down
DROP TABLE stock;
