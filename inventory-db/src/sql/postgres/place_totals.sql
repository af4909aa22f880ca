-- (after place_walk.sql) Count, quantity and value of the items per house, room and
-- currency. Items of locations no walk reaches (damaged data) have a NULL house. The value
-- is summed exactly as numeric, in two parts that the program joins (hi * 2^20 + lo), as
-- the SQLite version has to.
SELECT w.house_id,
       w.room_id,
       i.currency,
       count(*) AS items,
       CAST(coalesce(sum(i.quantity), 0) AS BIGINT) AS quantity,
       CAST(coalesce(sum((i.purchase_price_cents >> 20)::numeric * i.quantity), 0) AS TEXT) AS hi,
       CAST(coalesce(sum((i.purchase_price_cents & 1048575)::numeric * i.quantity), 0) AS TEXT) AS lo
FROM items i
LEFT JOIN walk w ON w.id = i.location_id
GROUP BY w.house_id, w.room_id, i.currency
