-- Count, quantity and value of the items where $CONDITION holds, per currency (NULL:
-- items without a price). The value is summed exactly as numeric, in two parts that the
-- program joins (hi * 2^20 + lo), as the SQLite version has to.
SELECT currency,
       count(*) AS items,
       CAST(coalesce(sum(quantity), 0) AS BIGINT) AS quantity,
       CAST(coalesce(sum((purchase_price_cents >> 20)::numeric * quantity), 0) AS TEXT) AS hi,
       CAST(coalesce(sum((purchase_price_cents & 1048575)::numeric * quantity), 0) AS TEXT) AS lo
FROM items
WHERE $CONDITION
GROUP BY currency
