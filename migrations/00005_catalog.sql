-- +goose Up

-- Read model of the "catalog" projection: one row per product.
CREATE TABLE products (
    id             uuid        PRIMARY KEY,
    organization   text        NOT NULL,
    sku            text        NOT NULL,
    title          text        NOT NULL,
    category       text        NOT NULL,
    description    text        NOT NULL,
    price          bigint      NOT NULL, -- minor units of currency
    currency       char(3)     NOT NULL,
    attributes     jsonb       NOT NULL,
    status         text        NOT NULL, -- ACTIVE | DISCONTINUED
    version        bigint      NOT NULL, -- stream version of the last projected event
    -- Where ProductAdded is in the projection's read order (transaction id,
    -- position): the order products were projected in, the same in every
    -- rebuild. NEWEST sorts by it, productAdded follows it.
    added_tx       bigint      NOT NULL,
    added_position bigint      NOT NULL,
    added_at       timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    -- Full-text search over title (weight A) and description (weight B).
    search         tsvector    GENERATED ALWAYS AS (
        setweight(to_tsvector('english', title), 'A') || setweight(to_tsvector('english', description), 'B')
    ) STORED
);

-- products(category, orderBy, first, after): keyset pages per order.
CREATE INDEX products_org_added ON products (organization, added_tx DESC, added_position DESC);
CREATE INDEX products_org_category_added ON products (organization, category, added_tx DESC, added_position DESC);
CREATE INDEX products_org_price ON products (organization, price, id);
CREATE INDEX products_org_title ON products (organization, title, id);
-- products(search): websearch_to_tsquery('english', ...) @@ search.
CREATE INDEX products_search ON products USING gin (search);

-- +goose Down
DROP TABLE products;
