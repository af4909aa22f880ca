-- Each category's number of items, kept by statement triggers on items: listing the
-- categories with their counts reads one row per category instead of counting every item.
-- A statement changes each count once (a bulk insert of 5,000 items is one UPDATE per
-- category), and takes the category rows' locks in id order, so that two concurrent
-- statements never wait for each other in a cycle. The lock is FOR NO KEY UPDATE, the one
-- the UPDATE itself takes: it does not conflict with the FOR KEY SHARE lock that the
-- foreign key check of the same insert holds on the row (FOR UPDATE would, and two inserts
-- into one category would each wait for the other).
ALTER TABLE categories ADD COLUMN item_count BIGINT NOT NULL DEFAULT 0;
UPDATE categories
SET item_count = counted.n
FROM (
    SELECT category_id, count(*) AS n FROM items
    WHERE category_id IS NOT NULL GROUP BY category_id
) AS counted
WHERE categories.id = counted.category_id;

-- Adds each (category_id, n) of `changes` to the category's count.
CREATE OR REPLACE FUNCTION add_category_item_counts(changes jsonb) RETURNS void
LANGUAGE sql AS $$
    SELECT 1 FROM categories
    WHERE id IN (SELECT (c ->> 0)::bigint FROM jsonb_array_elements(changes) AS c)
    ORDER BY id
    FOR NO KEY UPDATE;
    UPDATE categories
    SET item_count = item_count + (c ->> 1)::bigint
    FROM jsonb_array_elements(changes) AS c
    WHERE categories.id = (c ->> 0)::bigint;
$$;

CREATE OR REPLACE FUNCTION items_count_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM add_category_item_counts(coalesce(jsonb_agg(jsonb_build_array(category_id, n)), '[]'))
    FROM (
        SELECT category_id, count(*) AS n FROM new_rows
        WHERE category_id IS NOT NULL GROUP BY category_id
    ) AS changes;
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION items_count_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM add_category_item_counts(coalesce(jsonb_agg(jsonb_build_array(category_id, -n)), '[]'))
    FROM (
        SELECT category_id, count(*) AS n FROM old_rows
        WHERE category_id IS NOT NULL GROUP BY category_id
    ) AS changes;
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION items_count_updated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM add_category_item_counts(coalesce(jsonb_agg(jsonb_build_array(category_id, n)), '[]'))
    FROM (
        SELECT category_id, sum(n) AS n FROM (
            SELECT category_id, -1 AS n FROM old_rows WHERE category_id IS NOT NULL
            UNION ALL
            SELECT category_id, 1 AS n FROM new_rows WHERE category_id IS NOT NULL
        ) AS each_row
        GROUP BY category_id
        HAVING sum(n) <> 0
    ) AS changes;
    RETURN NULL;
END;
$$;

CREATE TRIGGER trg_items_count_insert AFTER INSERT ON items
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION items_count_inserted();
CREATE TRIGGER trg_items_count_delete AFTER DELETE ON items
REFERENCING OLD TABLE AS old_rows
FOR EACH STATEMENT EXECUTE FUNCTION items_count_deleted();
CREATE TRIGGER trg_items_count_update AFTER UPDATE ON items
REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION items_count_updated();
