-- (after place_walk.sql) Each item's house, room, currency, quantity and price, for adding
-- up totals that SQLite cannot hold in 64 bits. The same text on both engines.
SELECT w.house_id,
       w.room_id,
       i.currency,
       i.quantity,
       i.purchase_price_cents
FROM items i
LEFT JOIN walk w ON w.id = i.location_id
