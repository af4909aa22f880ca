#![doc = include_str!("../README.md")]

pub mod config;
pub mod conn;
pub mod error;
pub mod files;
pub mod logging;
pub mod models;
pub mod ops;
mod pool;
mod schema;
mod secret;
mod set_aside;
#[cfg(feature = "testing")]
pub mod testing;

pub use config::{redact_url, Backend, DatabaseUrl, DEFAULT_SQLITE_PATH};
pub use conn::{Conn, TxMode, TREE_LOCK_KEY};
pub use error::{ConflictKind, DbError, Entity, ErrorKind, FileKind, Key, OverwriteRefusal};
pub use files::Overwrite;
pub use models::api_token::{ApiToken, Authenticated, CreatedToken};
pub use models::category::{Category, CategoryWithCount};
pub use models::item::{
    CurrencyTotal, Item, ItemChanges, ItemFilter, ItemSummary, ItemsOnDelete, NewItem, SearchHit,
};
pub use models::location::{
    DeleteOutcome, Location, LocationChanges, LocationDetail, LocationFilter, LocationSummary,
    NewLocation, Outline, OutlineNode, TreeNode,
};
pub use models::user::User;
pub use models::{Page, PageRequest};
pub use ops::reports::{InventoryReport, PlaceTotals};
pub use ops::users::{HashedPassword, TokenSpec, TOKEN_PREFIX};
pub use ops::versions::Versioned;
pub use ops::{admin, backup, bulk, csv_io, migrations, verify};
pub use pool::{Database, PoolOptions, SqliteConn};

/// Called with (rows done, rows total) as long operations progress; the CLI drives a
/// progress bar with it.
pub type Progress<'a> = &'a (dyn Fn(u64, u64) + Send + Sync);
