-- Each location's totals of the items in its whole subtree (itself and every location
-- below it), one row per currency ('' for items without a price), kept by inventory-db on
-- every write of items and every move or delete of a location: the location page reads
-- one row per currency instead of walking a subtree of any size. A location whose subtree
-- holds no item has no row. The value is kept in two parts, as the totals are summed
-- (value_hi * 2^20 + value_lo cents), exactly as numeric.
CREATE TABLE location_totals (
    location_id BIGINT NOT NULL REFERENCES locations (id) ON DELETE CASCADE,
    currency VARCHAR(3) NOT NULL,
    items BIGINT NOT NULL,
    quantity BIGINT NOT NULL,
    value_hi NUMERIC NOT NULL,
    value_lo NUMERIC NOT NULL,
    PRIMARY KEY (location_id, currency)
);

-- Each location's own items per currency, carried up the chain of its ancestors.
WITH RECURSIVE direct (location_id, currency, items, quantity, hi, lo) AS (
    SELECT location_id, coalesce(currency, ''), count(*), sum(quantity),
           coalesce(sum(((purchase_price_cents >> 20) * quantity)::numeric), 0),
           coalesce(sum(((purchase_price_cents & 1048575) * quantity)::numeric), 0)
    FROM items
    GROUP BY location_id, coalesce(currency, '')
),
up (location_id, currency, items, quantity, hi, lo, depth) AS (
    SELECT location_id, currency, items, quantity, hi, lo, 0 FROM direct
    UNION ALL
    SELECT l.parent_id, u.currency, u.items, u.quantity, u.hi, u.lo, u.depth + 1
    FROM up u JOIN locations l ON l.id = u.location_id
    WHERE l.parent_id IS NOT NULL AND u.depth < 100000
)
INSERT INTO location_totals (location_id, currency, items, quantity, value_hi, value_lo)
SELECT location_id, currency, sum(items), sum(quantity), sum(hi), sum(lo)
FROM up
GROUP BY location_id, currency;
