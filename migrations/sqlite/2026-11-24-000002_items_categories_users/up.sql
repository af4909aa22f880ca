-- Categories, items, users and API tokens (the runbook's planned models), and full-text search.

CREATE TABLE categories (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name VARCHAR(255) NOT NULL,
    description TEXT,
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP NOT NULL,
    updated_at DATETIME DEFAULT CURRENT_TIMESTAMP NOT NULL,
    CONSTRAINT ck_categories_name_not_blank CHECK (length(trim(name)) > 0)
);
CREATE UNIQUE INDEX ux_categories_name ON categories (lower(name));

CREATE TABLE items (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name VARCHAR(255) NOT NULL,
    description TEXT,
    quantity BIGINT NOT NULL DEFAULT 1,
    -- RESTRICT: deleting a location that holds items must say what happens to them.
    location_id BIGINT NOT NULL REFERENCES locations (id) ON DELETE RESTRICT,
    category_id BIGINT REFERENCES categories (id) ON DELETE SET NULL,
    serial_number VARCHAR(255),
    purchase_date DATE,
    purchase_price_cents BIGINT,
    currency VARCHAR(3),
    warranty_expires DATE,
    notes TEXT,
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP NOT NULL,
    updated_at DATETIME DEFAULT CURRENT_TIMESTAMP NOT NULL,
    CONSTRAINT ck_items_name_not_blank CHECK (length(trim(name)) > 0),
    CONSTRAINT ck_items_quantity CHECK (quantity >= 0),
    CONSTRAINT ck_items_price CHECK (purchase_price_cents IS NULL OR purchase_price_cents >= 0),
    CONSTRAINT ck_items_price_currency CHECK ((purchase_price_cents IS NULL) = (currency IS NULL))
);
CREATE INDEX ix_items_location_id ON items (location_id);
CREATE INDEX ix_items_category_id ON items (category_id);
CREATE INDEX ix_items_name ON items (name);
CREATE INDEX ix_items_serial_number ON items (serial_number);

-- Full-text search: one FTS5 index over items and locations, kept in sync by triggers.
-- rowid = 2 * id for items and 2 * id + 1 for locations, so a row's entry is found by key.
CREATE VIRTUAL TABLE search_fts USING fts5 (
    kind UNINDEXED,
    ref_id UNINDEXED,
    name,
    body,
    tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER trg_items_search_insert AFTER INSERT ON items BEGIN
    INSERT INTO search_fts (rowid, kind, ref_id, name, body) VALUES (
        2 * NEW.id, 'item', NEW.id, NEW.name,
        coalesce(NEW.description, '') || ' ' || coalesce(NEW.notes, '') || ' ' || coalesce(NEW.serial_number, ''));
END;
CREATE TRIGGER trg_items_search_update AFTER UPDATE OF name, description, notes, serial_number ON items BEGIN
    DELETE FROM search_fts WHERE rowid = 2 * OLD.id;
    INSERT INTO search_fts (rowid, kind, ref_id, name, body) VALUES (
        2 * NEW.id, 'item', NEW.id, NEW.name,
        coalesce(NEW.description, '') || ' ' || coalesce(NEW.notes, '') || ' ' || coalesce(NEW.serial_number, ''));
END;
CREATE TRIGGER trg_items_search_delete AFTER DELETE ON items BEGIN
    DELETE FROM search_fts WHERE rowid = 2 * OLD.id;
END;

CREATE TRIGGER trg_locations_search_insert AFTER INSERT ON locations BEGIN
    INSERT INTO search_fts (rowid, kind, ref_id, name, body)
    VALUES (2 * NEW.id + 1, 'location', NEW.id, NEW.name, coalesce(NEW.description, ''));
END;
CREATE TRIGGER trg_locations_search_update AFTER UPDATE OF name, description ON locations BEGIN
    DELETE FROM search_fts WHERE rowid = 2 * OLD.id + 1;
    INSERT INTO search_fts (rowid, kind, ref_id, name, body)
    VALUES (2 * NEW.id + 1, 'location', NEW.id, NEW.name, coalesce(NEW.description, ''));
END;
CREATE TRIGGER trg_locations_search_delete AFTER DELETE ON locations BEGIN
    DELETE FROM search_fts WHERE rowid = 2 * OLD.id + 1;
END;

INSERT INTO search_fts (rowid, kind, ref_id, name, body)
SELECT 2 * id + 1, 'location', id, name, coalesce(description, '') FROM locations;

CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username VARCHAR(64) NOT NULL,
    password_hash TEXT NOT NULL,
    role VARCHAR(6) NOT NULL,
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP NOT NULL,
    updated_at DATETIME DEFAULT CURRENT_TIMESTAMP NOT NULL,
    CONSTRAINT ck_users_role CHECK (role IN ('admin', 'member', 'viewer'))
);
CREATE UNIQUE INDEX ux_users_username ON users (lower(username));

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    label VARCHAR(255),
    -- SHA-256 of the token, hex; the token itself is shown once and never stored.
    token_hash VARCHAR(64) NOT NULL,
    prefix VARCHAR(16) NOT NULL,
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP NOT NULL,
    last_used_at DATETIME,
    revoked_at DATETIME
);
CREATE UNIQUE INDEX ux_api_tokens_token_hash ON api_tokens (token_hash);
CREATE INDEX ix_api_tokens_user_id ON api_tokens (user_id);
