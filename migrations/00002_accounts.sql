-- +goose Up

-- Read model of the "accounts" projection: one row per account.
CREATE TABLE accounts (
    id         uuid        PRIMARY KEY,
    owner      text        NOT NULL,
    currency   char(3)     NOT NULL,
    balance    bigint      NOT NULL, -- minor units of currency
    status     text        NOT NULL,
    version    bigint      NOT NULL, -- stream version of the last projected event
    opened_at  timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);

CREATE INDEX accounts_owner_id ON accounts (owner, id);
CREATE INDEX accounts_status_id ON accounts (status, id);

-- One row per credit or debit, with the balance after it.
CREATE TABLE account_operations (
    account_id    uuid        NOT NULL REFERENCES accounts (id),
    version       bigint      NOT NULL,
    event_id      uuid        NOT NULL UNIQUE,
    position      bigint      NOT NULL,
    kind          text        NOT NULL, -- CREDIT | DEBIT
    amount        bigint      NOT NULL, -- minor units, always positive
    balance_after bigint      NOT NULL,
    description   text        NOT NULL,
    recorded_at   timestamptz NOT NULL,
    PRIMARY KEY (account_id, version)
);

-- +goose Down
DROP TABLE account_operations;
DROP TABLE accounts;
