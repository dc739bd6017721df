-- +goose Up

-- Moves a projection's checkpoint from (from_tx, from_pos) to (to_tx,
-- to_pos), or raises SQLSTATE CK001 when it is not at `from` (another
-- runner advanced it: the batch is fenced off). Raising, rather than
-- reporting no row changed, lets a runner send the advance and the COMMIT
-- in one round trip: an error skips the COMMIT that follows it in the
-- pipeline, so a fenced batch never commits.
-- +goose StatementBegin
CREATE FUNCTION chronicle_advance_checkpoint(p_name text, from_tx xid8, from_pos bigint, to_tx xid8, to_pos bigint)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    UPDATE projection_checkpoints
    SET transaction_id = to_tx, position = to_pos, updated_at = now()
    WHERE name = p_name AND transaction_id = from_tx AND position = from_pos;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'checkpoint of projection % moved by another runner', p_name USING ERRCODE = 'CK001';
    END IF;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION chronicle_advance_checkpoint(text, xid8, bigint, xid8, bigint);
