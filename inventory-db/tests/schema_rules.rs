//! Schema rules as tests: foreign keys, indexes and the runbook's `locations` table.
#![allow(clippy::unwrap_used)]

use inventory_db::{backend_tests, Backend};

/// The intended ON DELETE action of every foreign key: (table, column) → action.
const FOREIGN_KEYS: &[(&str, &str, &str)] = &[
    ("api_tokens", "user_id", "CASCADE"),
    ("items", "category_id", "SET NULL"),
    // Deleting a location that holds items must say what happens to them.
    ("items", "location_id", "RESTRICT"),
    // Derived subtree totals go with their location.
    ("location_totals", "location_id", "CASCADE"),
    ("locations", "parent_id", "CASCADE"),
];

backend_tests! {
    async fn every_foreign_key_has_its_intended_on_delete_and_an_index(db: &Database) {
        let fks = db.describe_foreign_keys().await.unwrap();
        assert_eq!(fks.len(), FOREIGN_KEYS.len(), "{fks:?}");
        for fk in &fks {
            let intended = FOREIGN_KEYS
                .iter()
                .find(|(t, c, _)| *t == fk.table_name && *c == fk.column_name)
                .unwrap_or_else(|| panic!("unlisted foreign key {fk:?}"));
            assert_eq!(fk.on_delete, intended.2, "{fk:?}");
            assert!(fk.indexed, "foreign key column {}.{} has no index", fk.table_name, fk.column_name);
        }
    }

    async fn locations_has_the_runbook_columns_and_indexes(db: &Database) {
        let columns: Vec<_> = db
            .describe_columns()
            .await
            .unwrap()
            .into_iter()
            .filter(|c| c.table_name == "locations")
            .map(|c| (c.column_name, c.nullable))
            .collect();
        let expected = [
            ("id", false), ("name", false), ("description", true), ("location_type", false),
            ("parent_id", true), ("created_at", false), ("updated_at", false),
            // The name key (inventory-core's), unique among siblings.
            ("name_key", false),
        ];
        let expected: Vec<_> = expected.iter().map(|(n, null)| (n.to_string(), *null)).collect();
        assert_eq!(columns, expected);
        let dump = db.schema_dump().await.unwrap();
        for index in ["ix_locations_name", "ix_locations_location_type", "ix_locations_parent_id", "ux_locations_sibling_name"] {
            assert!(dump.contains(index), "missing {index} in\n{dump}");
        }
        assert!(dump.contains("'HOUSE'") && dump.contains("'SHELF'"), "location_type CHECK missing");
    }

    async fn location_type_check_constraint_refuses_other_values(db: &Database) {
        let err = db
            .execute_raw_for_tests("INSERT INTO locations (name, name_key, location_type) VALUES ('X', 'x', 'GARAGE')")
            .await
            .unwrap_err();
        assert!(err.to_string().to_lowercase().contains("check"), "{err}");
    }
}

/// `sqlite3 FILE .schema locations` shows the runbook's table (plus the sibling-name index).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_schema_matches_the_runbook_table() {
    let t = inventory_db::testing::sqlite().await;
    assert_eq!(t.db.backend(), Backend::Sqlite);
    let dump = t.db.schema_dump().await.unwrap();
    for fragment in [
        "id INTEGER PRIMARY KEY",
        "name VARCHAR(255) NOT NULL",
        "description TEXT",
        "location_type VARCHAR(9) NOT NULL",
        "parent_id INTEGER REFERENCES locations (id) ON DELETE CASCADE",
        "created_at DATETIME DEFAULT CURRENT_TIMESTAMP NOT NULL",
        "updated_at DATETIME DEFAULT CURRENT_TIMESTAMP NOT NULL",
        "CHECK (location_type IN ('HOUSE', 'ROOM', 'CONTAINER', 'SHELF'))",
        "CREATE INDEX ix_locations_name ON locations (name)",
        "CREATE INDEX ix_locations_location_type ON locations (location_type)",
        "CREATE INDEX ix_locations_parent_id ON locations (parent_id)",
    ] {
        assert!(dump.contains(fragment), "missing `{fragment}` in\n{dump}");
    }
    let columns = t.db.describe_columns().await.unwrap();
    let types: Vec<_> = columns
        .iter()
        .filter(|c| c.table_name == "locations")
        .map(|c| c.data_type.as_str())
        .collect();
    assert_eq!(
        types,
        [
            "integer",
            "varchar(255)",
            "text",
            "varchar(9)",
            "integer",
            "datetime",
            "datetime",
            "text"
        ]
    );
}
