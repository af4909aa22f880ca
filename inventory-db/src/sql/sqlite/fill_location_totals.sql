-- Every location's totals (see migration 000006), computed from the items: each location's
-- own items per currency, carried up the chain of its ancestors.
WITH RECURSIVE direct (location_id, currency, items, quantity, hi, lo) AS (
    SELECT location_id, coalesce(currency, ''), count(*), sum(quantity),
           total((purchase_price_cents >> 20) * quantity),
           total((purchase_price_cents & 1048575) * quantity)
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
SELECT location_id, currency, sum(items), sum(quantity),
       CASE WHEN total(hi) < 9.0e15 THEN CAST(total(hi) AS INTEGER) ELSE total(hi) END,
       CASE WHEN total(lo) < 9.0e15 THEN CAST(total(lo) AS INTEGER) ELSE total(lo) END
FROM up
GROUP BY location_id, currency;
