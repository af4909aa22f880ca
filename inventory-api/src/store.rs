//! Every call from the API into inventory-db, as thin functions: when the database crate
//! changes shape, this file is the one to adapt. Where inventory-db does not offer what the
//! API needs yet, the function here does the best it can with what exists, and a comment
//! starting `db-api:` names the method it wants instead.

use std::sync::LazyLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use inventory_core::user::{PASSWORD_MAX_CHARS, USERNAME_MAX_CHARS};
use inventory_db::{ApiToken, Database, DatabaseUrl, DbError, PoolOptions, User};

use crate::auth::Scope;

/// The label of the tokens `POST /api/v1/auth/login` creates; they expire `--session-days`
/// after their creation.
pub const SESSION_LABEL: &str = "login session";

/// The database to open: `raw` (`--database-url`/`DATABASE_URL`), else the `POSTGRES_*`
/// variables, else `./data/inventory.db` — the CLI's rules (PRODUCT §2).
pub fn database_url(raw: Option<&str>) -> Result<DatabaseUrl, DbError> {
    match raw {
        Some(raw) => DatabaseUrl::parse(raw),
        None => DatabaseUrl::from_env(),
    }
}

/// `text` with any database password in it replaced by `***`.
pub fn redact(text: &str) -> String {
    inventory_db::redact_url(text)
}

/// Opens the database (fails fast when it cannot be reached).
pub async fn connect(url: &DatabaseUrl) -> Result<Database, DbError> {
    Database::connect_with(url, PoolOptions::default()).await
}

/// Applies pending migrations; returns the versions applied.
pub async fn migrate(db: &Database) -> Result<Vec<String>, DbError> {
    db.migrate().await
}

/// Ok when the schema is current (`SchemaNotCurrent` / `SchemaTooNew` otherwise).
pub async fn ensure_schema_current(db: &Database) -> Result<(), DbError> {
    db.ensure_schema_current().await
}

/// Reachable and current: what `GET /readyz` reports.
pub async fn readiness(db: &Database) -> Result<(), DbError> {
    db.check().await?;
    // db-api: `Database::pending_migrations(&self) -> Result<usize, DbError>` over a pooled
    // connection; `ensure_schema_current` opens a connection of its own on every probe.
    db.ensure_schema_current().await
}

/// Closes the database after the server stopped. On SQLite the WAL must end up in the main
/// file so that a plain copy taken afterwards is complete.
pub async fn close(db: Database) {
    // db-api: `Database::checkpoint(&self) -> Result<(), DbError>` running
    // `PRAGMA wal_checkpoint(TRUNCATE)` on SQLite (and nothing on PostgreSQL), then
    // `Database::close(self)`. Until then: SQLite checkpoints the WAL and removes it when
    // its last connection closes, which dropping the last handle of the pool does.
    let wal = db.url().sqlite_path().map(|path| {
        let mut name = path.as_os_str().to_owned();
        name.push("-wal");
        std::path::PathBuf::from(name)
    });
    drop(db);
    if let Some(wal) = wal {
        match std::fs::metadata(&wal) {
            Ok(meta) if meta.len() > 0 => tracing::warn!(
                wal = %wal.display(),
                bytes = meta.len(),
                "the SQLite WAL is not checkpointed yet (a connection is still open); \
                 copy the database with `inventory db backup`, not cp"
            ),
            _ => tracing::info!("SQLite WAL checkpointed; the database file is complete"),
        }
    }
}

/// The user, when name and password match. Unknown users cost one argon2 verification
/// like known ones, so that the answer time does not tell them apart.
pub async fn verify_login(
    db: &Database,
    username: &str,
    password: &str,
) -> Result<Option<User>, DbError> {
    // db-api: `Database::authenticate_password(&self, username: &str, password: &str)
    // -> Result<Option<User>, DbError>` spending one argon2 verification on an unknown user
    // too (and bounding the input lengths); then this is that one call.
    if username.chars().count() > USERNAME_MAX_CHARS
        || password.chars().count() > PASSWORD_MAX_CHARS
    {
        dummy_verification(password).await;
        return Ok(None);
    }
    match db.get_user(username).await {
        Ok(_) => db.authenticate_password(username, password).await,
        Err(DbError::NotFound { .. }) => {
            dummy_verification(password).await;
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// An argon2 hash of nothing in particular, made once, with the library's parameters.
static DUMMY_HASH: LazyLock<Option<String>> = LazyLock::new(|| {
    let salt = SaltString::encode_b64(&[0x5a; 16]).ok()?;
    Argon2::default()
        .hash_password(b"not a password of anyone", &salt)
        .ok()
        .map(|h| h.to_string())
});

async fn dummy_verification(password: &str) {
    let password: String = password.chars().take(PASSWORD_MAX_CHARS).collect();
    let _ = tokio::task::spawn_blocking(move || {
        if let Some(hash) = DUMMY_HASH
            .as_deref()
            .and_then(|h| PasswordHash::new(h).ok())
        {
            let _ = Argon2::default().verify_password(password.as_bytes(), &hash);
        }
    })
    .await;
}

/// Computes the dummy hash ahead of the first login, off the async threads.
pub async fn prepare_login() {
    let _ = tokio::task::spawn_blocking(|| DUMMY_HASH.is_some()).await;
}

/// A login token just created.
#[derive(Debug)]
pub struct Session {
    /// The secret, shown to the client once.
    pub token: String,
    /// When it stops authenticating.
    pub expires_at: DateTime<Utc>,
}

/// Creates a login token for `user`, valid for `days`.
pub async fn create_session(db: &Database, user: &User, days: u32) -> Result<Session, DbError> {
    // db-api: `Database::create_token_with(&self, username: &str, options: &NewToken)
    // -> Result<CreatedToken, DbError>` with `NewToken { label: Option<String>, scope:
    // TokenScope, expires_at: Option<NaiveDateTime> }`. Until then a login token is known by
    // its label, and expires `days` after its `created_at`.
    let created = db.create_token(&user.username, Some(SESSION_LABEL)).await?;
    let expires_at = session_expiry(&created.token, days)
        .ok_or_else(|| DbError::Query("session expiry out of range".into()))?;
    Ok(Session {
        token: created.secret,
        expires_at: expires_at.and_utc(),
    })
}

fn session_expiry(token: &ApiToken, days: u32) -> Option<NaiveDateTime> {
    if token.label.as_deref() != Some(SESSION_LABEL) {
        return None;
    }
    token
        .created_at
        .checked_add_signed(TimeDelta::try_days(i64::from(days))?)
}

/// Who a bearer token belongs to, and what it allows.
#[derive(Clone, Debug)]
pub struct TokenOwner {
    /// The user.
    pub user: User,
    /// What the token may do, whatever the user's role.
    pub scope: Scope,
    /// The token's row(s) (what logout revokes).
    pub token_ids: Vec<i64>,
    /// When the token expires, if it does.
    pub expires_at: Option<DateTime<Utc>>,
}

/// The owner of a live token: not revoked, not expired. `session_days` is the lifetime of
/// login tokens.
pub async fn authenticate(
    db: &Database,
    secret: &str,
    session_days: u32,
) -> Result<Option<TokenOwner>, DbError> {
    // db-api: `Database::authenticate_token(&self, secret: &str)
    // -> Result<Option<(User, ApiToken)>, DbError>`, where `ApiToken` carries `scope:
    // TokenScope` and `expires_at: Option<NaiveDateTime>` and expired tokens authenticate
    // nobody. Until then the token's row is found among its owner's tokens by its prefix
    // (the first characters of the secret, which the database keeps), all tokens have the
    // scope `write`, and login tokens expire by their label and age.
    let Some(user) = db.authenticate_token(secret).await? else {
        return Ok(None);
    };
    let prefix = token_prefix(secret);
    let candidates: Vec<ApiToken> = match db.list_tokens(Some(&user.username)).await {
        Ok(tokens) => tokens
            .into_iter()
            .filter(|t| t.revoked_at.is_none() && t.prefix == prefix)
            .collect(),
        // Deleted or renamed since the first query.
        Err(DbError::NotFound { .. }) => return Ok(None),
        Err(e) => return Err(e),
    };
    let now = Utc::now().naive_utc();
    let (expired, live): (Vec<ApiToken>, Vec<ApiToken>) = candidates
        .into_iter()
        .partition(|t| session_expiry(t, session_days).is_some_and(|at| at <= now));
    if !expired.is_empty() {
        // Two tokens of one user may share a prefix: revoke the expired ones, then ask
        // again whether the presented token still authenticates.
        for token in &expired {
            db.revoke_token(token.id).await?;
        }
        if db.authenticate_token(secret).await?.is_none() {
            return Ok(None);
        }
    }
    if live.is_empty() {
        return Ok(None);
    }
    Ok(Some(TokenOwner {
        expires_at: live
            .iter()
            .filter_map(|t| session_expiry(t, session_days))
            .min()
            .map(|at| at.and_utc()),
        token_ids: live.iter().map(|t| t.id).collect(),
        scope: Scope::Write,
        user,
    }))
}

/// What the database keeps of a secret to recognise it.
fn token_prefix(secret: &str) -> String {
    // db-api: the prefix length is inventory-db's rule (`TOKEN_PREFIX` plus 6 characters);
    // with `authenticate_token` returning the token's row this function goes away.
    secret
        .trim()
        .chars()
        .take(inventory_db::users::TOKEN_PREFIX.len() + 6)
        .collect()
}

/// Revokes tokens (logout).
pub async fn revoke_tokens(db: &Database, ids: &[i64]) -> Result<(), DbError> {
    for id in ids {
        match db.revoke_token(*id).await {
            Ok(_) | Err(DbError::NotFound { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
