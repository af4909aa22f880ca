-- Ranked full-text hits from the FTS5 index (bm25: lower is better, so negated).
-- Column weights: kind 0, ref_id 0, name 10, body (description, notes, serial) 1.
SELECT kind, CAST(ref_id AS INTEGER) AS id, -bm25(search_fts, 0.0, 0.0, 10.0, 1.0) AS rank
FROM search_fts
WHERE search_fts MATCH $1
ORDER BY rank DESC, kind, id
LIMIT $2
