-- Ranked full-text hits over items and locations, ranked within a bounded candidate set
-- (at most $2 items and $3 locations that the GIN indexes find), so that a common word
-- costs no more than a rare one; when fewer rows match, every one of them is ranked. The
-- to_tsvector expressions repeat those of ix_items_search and ix_locations_search exactly,
-- so the GIN indexes serve them. A hit in the name ranks above a hit in description,
-- notes or serial number.
WITH q AS (SELECT to_tsquery('simple', $1) AS q),
item_hits AS (
    SELECT i.id, i.name, i.description, i.notes, i.serial_number
    FROM items i, q
    WHERE to_tsvector('simple', regexp_replace(i.name || ' ' || coalesce(i.description, '') || ' ' || coalesce(i.notes, '') || ' ' || coalesce(i.serial_number, ''), '[^[:alnum:]]+', ' ', 'g')) @@ q.q
    LIMIT $2
),
location_hits AS (
    SELECT l.id, l.name, l.description
    FROM locations l, q
    WHERE to_tsvector('simple', regexp_replace(l.name || ' ' || coalesce(l.description, ''), '[^[:alnum:]]+', ' ', 'g')) @@ q.q
    LIMIT $3
)
SELECT kind, id, rank FROM (
    SELECT 'item'::text AS kind, i.id,
           (ts_rank(to_tsvector('simple', regexp_replace(i.name || ' ' || coalesce(i.description, '') || ' ' || coalesce(i.notes, '') || ' ' || coalesce(i.serial_number, ''), '[^[:alnum:]]+', ' ', 'g')), q.q)
            + CASE WHEN to_tsvector('simple', regexp_replace(i.name, '[^[:alnum:]]+', ' ', 'g')) @@ q.q THEN 1 ELSE 0 END)::float8 AS rank
    FROM item_hits i, q
    UNION ALL
    SELECT 'location'::text, l.id,
           (ts_rank(to_tsvector('simple', regexp_replace(l.name || ' ' || coalesce(l.description, ''), '[^[:alnum:]]+', ' ', 'g')), q.q)
            + CASE WHEN to_tsvector('simple', regexp_replace(l.name, '[^[:alnum:]]+', ' ', 'g')) @@ q.q THEN 1 ELSE 0 END)::float8
    FROM location_hits l, q
) hits
ORDER BY rank DESC, kind, id
LIMIT $4
