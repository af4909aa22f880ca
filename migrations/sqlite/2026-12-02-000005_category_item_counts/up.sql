-- Each category's number of items, kept by triggers on items: listing the categories with
-- their counts reads one row per category instead of counting every item.
ALTER TABLE categories ADD COLUMN item_count BIGINT NOT NULL DEFAULT 0;
UPDATE categories
SET item_count = (SELECT count(*) FROM items WHERE items.category_id = categories.id);

CREATE TRIGGER trg_items_count_insert AFTER INSERT ON items
WHEN NEW.category_id IS NOT NULL BEGIN
    UPDATE categories SET item_count = item_count + 1 WHERE id = NEW.category_id;
END;
CREATE TRIGGER trg_items_count_delete AFTER DELETE ON items
WHEN OLD.category_id IS NOT NULL BEGIN
    UPDATE categories SET item_count = item_count - 1 WHERE id = OLD.category_id;
END;
CREATE TRIGGER trg_items_count_update AFTER UPDATE OF category_id ON items
WHEN OLD.category_id IS NOT NEW.category_id BEGIN
    UPDATE categories SET item_count = item_count - 1 WHERE id = OLD.category_id;
    UPDATE categories SET item_count = item_count + 1 WHERE id = NEW.category_id;
END;
