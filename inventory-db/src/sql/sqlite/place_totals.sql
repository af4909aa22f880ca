-- (after place_walk.sql) Count, quantity and value of the items per house, room and
-- currency. Items of locations no walk reaches (damaged data) have a NULL house. Each price
-- (below 2^40 cents) is cut at 2^20 so that no product with a quantity (below 2^30)
-- overflows 64 bits; the program joins hi * 2^20 + lo in 128 bits. A sum that still
-- overflows makes SQLite raise "integer overflow", and the program then adds up the rows
-- of place_items.sql itself.
SELECT w.house_id,
       w.room_id,
       i.currency,
       count(*) AS items,
       coalesce(sum(i.quantity), 0) AS quantity,
       CAST(coalesce(sum((i.purchase_price_cents >> 20) * i.quantity), 0) AS TEXT) AS hi,
       CAST(coalesce(sum((i.purchase_price_cents & 1048575) * i.quantity), 0) AS TEXT) AS lo
FROM items i
LEFT JOIN walk w ON w.id = i.location_id
GROUP BY w.house_id, w.room_id, i.currency
