DROP TRIGGER trg_items_count_update ON items;
DROP TRIGGER trg_items_count_delete ON items;
DROP TRIGGER trg_items_count_insert ON items;
DROP FUNCTION items_count_updated();
DROP FUNCTION items_count_deleted();
DROP FUNCTION items_count_inserted();
DROP FUNCTION add_category_item_counts(jsonb);
ALTER TABLE categories DROP COLUMN item_count;
