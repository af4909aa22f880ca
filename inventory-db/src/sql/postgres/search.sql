-- Ranked full-text hits over items and locations. The to_tsvector expressions repeat those
-- of ix_items_search and ix_locations_search exactly, so the GIN indexes serve them.
-- A hit in the name ranks above a hit in description, notes or serial number.
SELECT kind, id, rank FROM (
    SELECT 'item'::text AS kind, i.id,
           (ts_rank(to_tsvector('simple', regexp_replace(i.name || ' ' || coalesce(i.description, '') || ' ' || coalesce(i.notes, '') || ' ' || coalesce(i.serial_number, ''), '[^[:alnum:]]+', ' ', 'g')), q)
            + CASE WHEN to_tsvector('simple', regexp_replace(i.name, '[^[:alnum:]]+', ' ', 'g')) @@ q THEN 1 ELSE 0 END)::float8 AS rank
    FROM items i, to_tsquery('simple', $1) q
    WHERE to_tsvector('simple', regexp_replace(i.name || ' ' || coalesce(i.description, '') || ' ' || coalesce(i.notes, '') || ' ' || coalesce(i.serial_number, ''), '[^[:alnum:]]+', ' ', 'g')) @@ q
    UNION ALL
    SELECT 'location'::text, l.id,
           (ts_rank(to_tsvector('simple', regexp_replace(l.name || ' ' || coalesce(l.description, ''), '[^[:alnum:]]+', ' ', 'g')), q)
            + CASE WHEN to_tsvector('simple', regexp_replace(l.name, '[^[:alnum:]]+', ' ', 'g')) @@ q THEN 1 ELSE 0 END)::float8
    FROM locations l, to_tsquery('simple', $1) q
    WHERE to_tsvector('simple', regexp_replace(l.name || ' ' || coalesce(l.description, ''), '[^[:alnum:]]+', ' ', 'g')) @@ q
) hits
ORDER BY rank DESC, kind, id
LIMIT $2
