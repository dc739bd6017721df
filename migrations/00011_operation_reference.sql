-- +goose Up

-- Credits and debits gained a reference and an optional counterparty
-- (AccountCredited / AccountDebited schema version 2; version 1 events are
-- upcast with an empty reference and no counterparty).
ALTER TABLE account_operations
    ADD COLUMN reference text NOT NULL DEFAULT '',
    ADD COLUMN counterparty_name text,
    ADD COLUMN counterparty_account text;

-- +goose Down
ALTER TABLE account_operations
    DROP COLUMN counterparty_account,
    DROP COLUMN counterparty_name,
    DROP COLUMN reference;
