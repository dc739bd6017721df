-- +goose Up

-- The order a payment pays for (PaymentInitiated.orderId), when the
-- fulfilment process initiated it.
ALTER TABLE payments ADD COLUMN order_id uuid;

-- +goose Down
ALTER TABLE payments DROP COLUMN order_id;
