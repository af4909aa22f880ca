-- The search prefix index is SQLite's (its FTS5 table). PostgreSQL's search reads the
-- GIN indexes over `to_tsvector`, which answer prefix queries (`:*`) as it is; the
-- migration exists here so that both backends have the same schema versions.
SELECT 1;
