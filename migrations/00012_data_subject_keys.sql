-- +goose Up

-- Crypto-shredding (package datasubject). One data key per data subject of
-- an organization, wrapped (AES-256-GCM) by the master key
-- (CHRONICLE_MASTER_KEY). The subject itself (an e-mail address, an owner's
-- name) is personal data, so it is not stored: subject_index is a keyed
-- hash (HMAC-SHA-256 under a key derived from the master key) of the
-- organization and the subject, and the events refer to the key by its
-- random key_id. Erasing a subject deletes its row: what was sealed with it
-- can no longer be opened.
CREATE TABLE data_subject_keys (
    key_id        uuid PRIMARY KEY,
    organization  text NOT NULL,
    subject_index bytea NOT NULL,
    wrapped_key   bytea NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (organization, subject_index)
);

-- The streams holding values sealed with a key: the erasure names them in
-- its event, so that each read model scrubs its rows. Written in the
-- append's transaction; deleted with the key.
CREATE TABLE data_subject_streams (
    key_id      uuid NOT NULL REFERENCES data_subject_keys (key_id) ON DELETE CASCADE,
    stream_id   uuid NOT NULL,
    stream_type text NOT NULL,
    PRIMARY KEY (key_id, stream_id)
);

-- +goose Down
DROP TABLE data_subject_streams;
DROP TABLE data_subject_keys;
