#![doc = include_str!("../README.md")]

pub mod admin;
pub mod backup;
pub mod config;
pub mod csv_io;
pub mod error;
mod items;
mod locations;
pub mod logging;
pub mod migrations;
pub mod models;
mod pool;
mod schema;
mod store;
#[cfg(feature = "testing")]
pub mod testing;
pub mod users;
pub mod verify;

pub use config::{redact_url, Backend, DatabaseUrl, DEFAULT_SQLITE_PATH};
pub use error::{DbError, ErrorKind};
pub use items::CategoryWithCount;
pub use models::item::{
    Category, CurrencyTotal, Item, ItemChanges, ItemFilter, ItemSummary, ItemsOnDelete, NewItem,
    SearchHit,
};
pub use models::location::{
    DeleteOutcome, Location, LocationChanges, LocationDetail, LocationFilter, LocationSummary,
    NewLocation, TreeNode,
};
pub use models::user::{ApiToken, CreatedToken, User};
pub use models::{Page, PageRequest};
pub use pool::{Database, PoolOptions, SqliteConn};
