//! Users and API tokens: argon2 password hashes; tokens random, stored only as SHA-256.
//!
//! User names are unique by name key (the database's unique index decides, so two
//! concurrent creations of `Ärger` and `ärger` cannot both succeed) and are looked up by
//! that key with one indexed query. A login for an unknown user costs the same argon2
//! verification as a wrong password.

use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use chrono::{DateTime, Timelike, Utc};
use inventory_core::{name_key, validate_password, validate_username, Role, Scope, UserId};
use sha2::{Digest, Sha256};

use crate::conn::{Conn, TxMode};
use crate::error::{DbError, Entity};
use crate::models::api_token::{
    ApiToken, ApiTokenRecord, Authenticated, CreatedToken, NewApiToken,
};
use crate::models::now;
use crate::models::user::{User, UserRecord};
use crate::pool::Database;
use crate::secret::Secret;

/// Every token starts with this, so that a leaked one is recognisable.
pub const TOKEN_PREFIX: &str = "hinv_";

/// What a new token may do and for how long.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenSpec {
    /// What it is for.
    pub label: Option<String>,
    /// `read` or `write`.
    pub scope: Scope,
    /// When it stops working; `None`: never.
    pub expires_at: Option<DateTime<Utc>>,
}

impl Default for TokenSpec {
    fn default() -> Self {
        TokenSpec {
            label: None,
            scope: Scope::Write,
            expires_at: None,
        }
    }
}

fn random_bytes<const N: usize>() -> Result<[u8; N], DbError> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf)
        .map_err(|e| DbError::internal(format!("no randomness available: {e}"), None))?;
    Ok(buf)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Argon2id hash in PHC form; runs on the blocking pool (it is deliberately slow).
async fn hash_password(password: String) -> Result<String, DbError> {
    let salt_bytes = random_bytes::<16>()?;
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::encode_b64(&salt_bytes)
            .map_err(|e| DbError::internal(format!("cannot encode a salt: {e}"), None))?;
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| DbError::internal(format!("password hashing failed: {e}"), None))
    })
    .await
    .map_err(|e| DbError::internal("the hashing task failed", Some(Box::new(e) as _)))?
}

/// A hash of a random password made with the same parameters as real ones, so that
/// checking a password against it costs what checking a real one does.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let mut salt = [0u8; 16];
        let mut password = [0u8; 24];
        let _ = getrandom::fill(&mut salt);
        let _ = getrandom::fill(&mut password);
        let Ok(salt) = SaltString::encode_b64(&salt) else {
            return String::new();
        };
        Argon2::default()
            .hash_password(&password, &salt)
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}

/// Whether `password` matches `hash` (`None`: an unknown user, checked against the dummy).
async fn password_matches(password: String, hash: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || {
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| dummy_hash().to_string());
        let matches = PasswordHash::new(&hash).is_ok_and(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        });
        known && matches
    })
    .await
    .unwrap_or(false)
}

/// SHA-256 of a token, hex: what the database keeps.
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.trim().as_bytes()))
}

/// Creates a user whose password is already hashed.
pub async fn create_user(
    conn: &mut Conn,
    username: &str,
    password_hash: String,
    role: Role,
) -> Result<User, DbError> {
    let username = validate_username(username)?;
    if UserRecord::by_key(conn, &name_key(&username))
        .await?
        .is_some()
    {
        return Err(DbError::duplicate(Entity::User, &username));
    }
    UserRecord::insert(conn, &username, password_hash, role, now())
        .await?
        .to_user()
}

/// Longest token label, in characters: the column is `VARCHAR(255)` on both backends.
pub const TOKEN_LABEL_MAX_CHARS: usize = 255;

/// Creates a token for a user; the secret is in the result and nowhere else.
pub async fn create_token(
    conn: &mut Conn,
    user_id: UserId,
    spec: &TokenSpec,
) -> Result<CreatedToken, DbError> {
    let label = inventory_core::validate_description("label", spec.label.as_deref())?;
    if let Some(actual) = label
        .as_deref()
        .map(|l| l.chars().count())
        .filter(|n| *n > TOKEN_LABEL_MAX_CHARS)
    {
        return Err(inventory_core::ValidationError::TooLong {
            field: "label".to_string(),
            max: TOKEN_LABEL_MAX_CHARS,
            actual,
        }
        .into());
    }
    if UserRecord::find(conn, user_id).await?.is_none() {
        return Err(DbError::not_found(Entity::User, user_id));
    }
    let secret = format!("{TOKEN_PREFIX}{}", hex(&random_bytes::<32>()?));
    let prefix: String = secret.chars().take(TOKEN_PREFIX.len() + 6).collect();
    let record = ApiTokenRecord::insert(
        conn,
        NewApiToken {
            user_id,
            label,
            token_hash: Secret(token_hash(&secret)),
            prefix,
            scope: spec.scope.as_str().to_string(),
            // Microseconds, as every stored timestamp (SQLite would keep nanoseconds).
            expires_at: spec.expires_at.map(|t| {
                let t = t.naive_utc();
                t.with_nanosecond(t.nanosecond() / 1_000 * 1_000)
                    .unwrap_or(t)
            }),
            created_at: now(),
        },
    )
    .await?;
    Ok(CreatedToken {
        token: record.to_token()?,
        secret,
    })
}

/// The user and token a live secret (not revoked, not expired) belongs to; records its
/// use at most once a minute.
pub async fn authenticate(conn: &mut Conn, secret: &str) -> Result<Option<Authenticated>, DbError> {
    let at = now();
    let Some((token, user)) = ApiTokenRecord::live_by_hash(conn, token_hash(secret), at).await?
    else {
        return Ok(None);
    };
    // Most requests come within a minute of the last: their read stays a read. When it was
    // last used is bookkeeping: a database that cannot take the write (a read-only file,
    // another writer holding the lock) still lets the token read.
    if token.touch_due(at) {
        if let Err(e) = ApiTokenRecord::touch(conn, token.id, at).await {
            tracing::debug!(token_id = token.id, error = %e, "token use not recorded");
        }
    }
    Ok(Some(Authenticated {
        user: user.to_user()?,
        token: token.to_token()?,
    }))
}

/// A password checked against the core's rules and hashed for storage (argon2id, PHC
/// string), ready for [`update_user`]. Hashing is slow by design: do it before the
/// transaction that stores it. Its `Debug` hides the hash.
pub struct HashedPassword(String);

impl HashedPassword {
    /// Validates and hashes `password` (on the blocking pool).
    pub async fn new(password: &str) -> Result<Self, DbError> {
        validate_password(password)?;
        Ok(HashedPassword(hash_password(password.to_string()).await?))
    }
}

impl std::fmt::Debug for HashedPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HashedPassword(<redacted>)")
    }
}

/// Changes a user's role and/or password, by id.
pub async fn update_user(
    conn: &mut Conn,
    id: UserId,
    role: Option<Role>,
    password: Option<HashedPassword>,
) -> Result<User, DbError> {
    let mut record = UserRecord::find(conn, id)
        .await?
        .ok_or_else(|| DbError::not_found(Entity::User, id))?;
    if let Some(role) = role {
        record = UserRecord::set_role(conn, id, role, now()).await?;
    }
    if let Some(HashedPassword(hash)) = password {
        record = UserRecord::set_password_hash(conn, id, hash, now()).await?;
    }
    record.to_user()
}

/// Deletes a user and, by `ON DELETE CASCADE`, their tokens, by id.
pub async fn delete_user(conn: &mut Conn, id: UserId) -> Result<User, DbError> {
    let record = UserRecord::find(conn, id)
        .await?
        .ok_or_else(|| DbError::not_found(Entity::User, id))?;
    UserRecord::delete(conn, id).await?;
    record.to_user()
}

/// One user by id.
pub async fn get_user(conn: &mut Conn, id: UserId) -> Result<User, DbError> {
    UserRecord::find(conn, id)
        .await?
        .ok_or_else(|| DbError::not_found(Entity::User, id))?
        .to_user()
}

/// One token by id.
pub async fn get_token(conn: &mut Conn, id: i64) -> Result<ApiToken, DbError> {
    ApiTokenRecord::find(conn, id)
        .await?
        .ok_or_else(|| DbError::not_found(Entity::Token, id))?
        .to_token()
}

/// Revokes a token (kept, so that listings show it); it authenticates nobody afterwards.
pub async fn revoke_token(conn: &mut Conn, id: i64) -> Result<ApiToken, DbError> {
    ApiTokenRecord::revoke(conn, id, now())
        .await?
        .ok_or_else(|| DbError::not_found(Entity::Token, id))?
        .to_token()
}

impl Database {
    /// Creates a user with an argon2 password hash.
    pub async fn create_user(
        &self,
        username: &str,
        password: &str,
        role: Role,
    ) -> Result<User, DbError> {
        let username = validate_username(username)?;
        validate_password(password)?;
        let hash = hash_password(password.to_string()).await?;
        self.transaction(TxMode::Write, async |c| {
            create_user(c, &username, hash, role).await
        })
        .await
    }

    /// Every user, by name.
    pub async fn list_users(&self) -> Result<Vec<User>, DbError> {
        let rows = self.read(async |c| UserRecord::all(c).await).await?;
        rows.iter().map(UserRecord::to_user).collect()
    }

    /// One user by name (by name key).
    pub async fn get_user(&self, username: &str) -> Result<User, DbError> {
        self.read(async |c| UserRecord::get_by_name(c, username).await?.to_user())
            .await
    }

    /// One user by id.
    pub async fn get_user_by_id(&self, id: UserId) -> Result<User, DbError> {
        self.read(async |c| {
            UserRecord::find(c, id)
                .await?
                .ok_or_else(|| DbError::not_found(Entity::User, id))?
                .to_user()
        })
        .await
    }

    /// Sets a new password.
    pub async fn set_password(&self, username: &str, password: &str) -> Result<User, DbError> {
        validate_password(password)?;
        let hash = hash_password(password.to_string()).await?;
        self.transaction(TxMode::Write, async |c| {
            let record = UserRecord::get_by_name(c, username).await?;
            UserRecord::set_password_hash(c, record.id, hash, now())
                .await?
                .to_user()
        })
        .await
    }

    /// Changes a user's role and/or password, by id.
    pub async fn update_user(
        &self,
        id: UserId,
        role: Option<Role>,
        password: Option<&str>,
    ) -> Result<User, DbError> {
        let hash = match password {
            Some(p) => Some(HashedPassword::new(p).await?),
            None => None,
        };
        self.transaction(TxMode::Write, async |c| {
            update_user(c, id, role, hash).await
        })
        .await
    }

    /// Deletes a user and their tokens, by name (by name key): exactly that user or none.
    pub async fn delete_user(&self, username: &str) -> Result<User, DbError> {
        self.transaction(TxMode::Write, async |c| {
            let record = UserRecord::get_by_name(c, username).await?;
            UserRecord::delete(c, record.id).await?;
            record.to_user()
        })
        .await
    }

    /// Deletes a user and their tokens, by id.
    pub async fn delete_user_by_id(&self, id: UserId) -> Result<User, DbError> {
        self.transaction(TxMode::Write, async |c| delete_user(c, id).await)
            .await
    }

    /// The user, when name and password match (for logins). One indexed lookup; an
    /// unknown user costs the same argon2 verification as a wrong password.
    pub async fn authenticate_password(
        &self,
        username: &str,
        password: &str,
    ) -> Result<Option<User>, DbError> {
        let key = name_key(username);
        let record = self
            .read(async |c| UserRecord::by_key(c, &key).await)
            .await?;
        let hash = record.as_ref().map(|r| r.password_hash.clone());
        if password_matches(password.to_string(), hash).await {
            Ok(record.map(|r| r.to_user()).transpose()?)
        } else {
            Ok(None)
        }
    }

    /// Creates an API token for a user (write scope, no expiry); the secret is in the
    /// result and nowhere else.
    pub async fn create_token(
        &self,
        username: &str,
        label: Option<&str>,
    ) -> Result<CreatedToken, DbError> {
        let spec = TokenSpec {
            label: label.map(str::to_string),
            ..TokenSpec::default()
        };
        self.create_token_for(username, &spec).await
    }

    /// Creates an API token for a user with a scope and an expiry.
    pub async fn create_token_for(
        &self,
        username: &str,
        spec: &TokenSpec,
    ) -> Result<CreatedToken, DbError> {
        self.transaction(TxMode::Write, async |c| {
            let user = UserRecord::get_by_name(c, username).await?;
            create_token(c, user.id, spec).await
        })
        .await
    }

    /// Creates an API token for the user with this id.
    pub async fn create_token_for_id(
        &self,
        user_id: UserId,
        spec: &TokenSpec,
    ) -> Result<CreatedToken, DbError> {
        self.transaction(TxMode::Write, async |c| {
            create_token(c, user_id, spec).await
        })
        .await
    }

    /// Tokens, of one user (by name) or of everyone, newest first.
    pub async fn list_tokens(&self, username: Option<&str>) -> Result<Vec<ApiToken>, DbError> {
        let records = self
            .read(async |c| {
                let owner = match username {
                    Some(name) => Some(UserRecord::get_by_name(c, name).await?.id),
                    None => None,
                };
                ApiTokenRecord::list(c, owner).await
            })
            .await?;
        records.iter().map(ApiTokenRecord::to_token).collect()
    }

    /// Tokens of the user with this id (or everyone's with `None`), newest first.
    pub async fn list_tokens_of(&self, user_id: Option<UserId>) -> Result<Vec<ApiToken>, DbError> {
        let records = self
            .read(async |c| ApiTokenRecord::list(c, user_id).await)
            .await?;
        records.iter().map(ApiTokenRecord::to_token).collect()
    }

    /// One token by id.
    pub async fn get_token(&self, id: i64) -> Result<ApiToken, DbError> {
        self.read(async |c| {
            ApiTokenRecord::find(c, id)
                .await?
                .ok_or_else(|| DbError::not_found(Entity::Token, id))?
                .to_token()
        })
        .await
    }

    /// Revokes a token; it authenticates nobody afterwards.
    pub async fn revoke_token(&self, id: i64) -> Result<ApiToken, DbError> {
        self.transaction(TxMode::Write, async |c| {
            ApiTokenRecord::revoke(c, id, now())
                .await?
                .ok_or_else(|| DbError::not_found(Entity::Token, id))?
                .to_token()
        })
        .await
    }

    /// The user and token a live secret belongs to (not revoked, not expired).
    pub async fn authenticate(&self, secret: &str) -> Result<Option<Authenticated>, DbError> {
        self.read(async |c| authenticate(c, secret).await).await
    }

    /// The user a live token belongs to; records its use.
    pub async fn authenticate_token(&self, secret: &str) -> Result<Option<User>, DbError> {
        Ok(self.authenticate(secret).await?.map(|a| a.user))
    }

    /// Checks name and password and, when they match, creates a login token (write scope,
    /// expiring at `expires_at`). `None` for an unknown user or a wrong password alike.
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<Option<(User, CreatedToken)>, DbError> {
        let Some(user) = self.authenticate_password(username, password).await? else {
            return Ok(None);
        };
        let spec = TokenSpec {
            label: Some("login".into()),
            scope: Scope::Write,
            expires_at: Some(expires_at),
        };
        let token = self.create_token_for_id(user.id, &spec).await?;
        Ok(Some((user, token)))
    }
}
