-- Count, quantity and value of the items where $CONDITION holds, per currency (NULL:
-- items without a price). Each price (below 2^40 cents) is cut at 2^20 so that no product
-- with a quantity (below 2^30) overflows 64 bits; the program joins hi * 2^20 + lo in 128
-- bits. A sum that still overflows makes SQLite raise "integer overflow", and the program
-- then adds the rows up itself.
SELECT currency,
       count(*) AS items,
       coalesce(sum(quantity), 0) AS quantity,
       CAST(coalesce(sum((purchase_price_cents >> 20) * quantity), 0) AS TEXT) AS hi,
       CAST(coalesce(sum((purchase_price_cents & 1048575) * quantity), 0) AS TEXT) AS lo
FROM items
WHERE $CONDITION
GROUP BY currency
