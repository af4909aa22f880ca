-- Ranked full-text hits from the FTS5 index (bm25: lower is better, so negated), ranked
-- within a bounded candidate set, so that a common word costs no more than a rare one:
-- at most $2 rows matching anywhere ($1) and at most $4 whose name matches ($3). When
-- fewer rows match, every one of them is ranked.
-- Column weights: kind 0, ref_id 0, name 10, body (description, notes, serial) 1.
-- A row found by both gets two ranks (bm25 depends on the query): it is kept once, at
-- its better one.
SELECT kind, CAST(ref_id AS INTEGER) AS id, MAX(rank) AS rank FROM (
    SELECT * FROM (
        SELECT kind, ref_id, -bm25(search_fts, 0.0, 0.0, 10.0, 1.0) AS rank
        FROM search_fts
        WHERE search_fts MATCH $1
        LIMIT $2
    )
    UNION ALL
    SELECT * FROM (
        SELECT kind, ref_id, -bm25(search_fts, 0.0, 0.0, 10.0, 1.0) AS rank
        FROM search_fts
        WHERE search_fts MATCH $3
        LIMIT $4
    )
)
GROUP BY kind, ref_id
ORDER BY rank DESC, kind, id
LIMIT $5
