-- Adds the items with ids $1 to $2 to the kept totals (see migration 000006): each
-- location's items of that range per currency, carried up the chain of its ancestors and
-- added to the rows there, in location order. With every id, onto an empty table, it is the
-- fill after a load; with the ids an import wrote, that import's share. A value part past
-- 9·10^15 is summed as a REAL (which reads as inexact).
WITH RECURSIVE direct (location_id, currency, items, quantity, hi, lo) AS (
    SELECT location_id, coalesce(currency, ''), count(*), sum(quantity),
           total((purchase_price_cents >> 20) * quantity),
           total((purchase_price_cents & 1048575) * quantity)
    FROM items
    WHERE id BETWEEN $1 AND $2
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
WHERE true
GROUP BY location_id, currency
ORDER BY location_id, currency
ON CONFLICT (location_id, currency) DO UPDATE SET
    items = location_totals.items + excluded.items,
    quantity = location_totals.quantity + excluded.quantity,
    value_hi = location_totals.value_hi + excluded.value_hi,
    value_lo = location_totals.value_lo + excluded.value_lo
