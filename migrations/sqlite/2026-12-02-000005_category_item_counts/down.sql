DROP TRIGGER trg_items_count_update;
DROP TRIGGER trg_items_count_delete;
DROP TRIGGER trg_items_count_insert;
ALTER TABLE categories DROP COLUMN item_count;
