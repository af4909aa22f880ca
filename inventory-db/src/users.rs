//! Users and API tokens: argon2 password hashes; tokens random, stored only as SHA-256.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use inventory_core::{name_key, validate_password, validate_username, Role};
use sha2::{Digest, Sha256};

use crate::error::DbError;
use crate::models::now;
use crate::models::user::{ApiToken, CreatedToken, User, UserRecord};
use crate::pool::{db_run, Database};
use crate::schema::api_tokens::dsl as tok;
use crate::schema::users::dsl as u;

/// Every token starts with this, so that a leaked one is recognisable.
pub const TOKEN_PREFIX: &str = "hinv_";

fn random_bytes<const N: usize>() -> Result<[u8; N], DbError> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf)
        .map_err(|e| DbError::Query(format!("no randomness available: {e}")))?;
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
            .map_err(|e| DbError::Query(format!("salt: {e}")))?;
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| DbError::Query(format!("password hashing failed: {e}")))
    })
    .await
    .map_err(|e| DbError::Query(e.to_string()))?
}

async fn password_matches(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash).is_ok_and(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
    })
    .await
    .unwrap_or(false)
}

/// SHA-256 of a token, hex: what the database keeps.
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.trim().as_bytes()))
}

fn unique_clash(e: diesel::result::Error, what: String) -> DbError {
    match e {
        diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        ) => DbError::Conflict(what),
        other => other.into(),
    }
}

impl Database {
    async fn user_record(&self, username: &str) -> Result<UserRecord, DbError> {
        let key = name_key(username);
        let rows: Vec<UserRecord> = db_run!(self, |conn| u::users
            .select(UserRecord::as_select())
            .order(u::id)
            .load(conn)
            .await)?;
        rows.into_iter()
            .find(|r| name_key(&r.username) == key)
            .ok_or_else(|| DbError::NotFound {
                what: "user",
                key: format!("\"{}\"", username.trim()),
            })
    }

    /// Creates a user with an argon2 password hash.
    pub async fn create_user(
        &self,
        username: &str,
        password: &str,
        role: Role,
    ) -> Result<User, DbError> {
        let username = validate_username(username)?;
        validate_password(password)?;
        if self.user_record(&username).await.is_ok() {
            return Err(DbError::Conflict(format!(
                "a user named \"{username}\" already exists"
            )));
        }
        let hash = hash_password(password.to_string()).await?;
        let at = now();
        let record: UserRecord = db_run!(self, |conn| diesel::insert_into(u::users)
            .values((
                u::username.eq(&username),
                u::password_hash.eq(&hash),
                u::role.eq(role.as_str()),
                u::created_at.eq(at),
                u::updated_at.eq(at),
            ))
            .returning(UserRecord::as_returning())
            .get_result(conn)
            .await)
        .map_err(|e| unique_clash(e, format!("a user named \"{username}\" already exists")))?;
        record.into_user()
    }

    /// Every user, by name.
    pub async fn list_users(&self) -> Result<Vec<User>, DbError> {
        let rows: Vec<UserRecord> = db_run!(self, |conn| u::users
            .select(UserRecord::as_select())
            .order(u::username)
            .load(conn)
            .await)?;
        rows.into_iter().map(UserRecord::into_user).collect()
    }

    /// One user by name (case-insensitive).
    pub async fn get_user(&self, username: &str) -> Result<User, DbError> {
        self.user_record(username).await?.into_user()
    }

    /// Sets a new password.
    pub async fn set_password(&self, username: &str, password: &str) -> Result<User, DbError> {
        validate_password(password)?;
        let record = self.user_record(username).await?;
        let hash = hash_password(password.to_string()).await?;
        let updated: UserRecord = db_run!(self, |conn| diesel::update(u::users.find(record.id))
            .set((u::password_hash.eq(&hash), u::updated_at.eq(now())))
            .returning(UserRecord::as_returning())
            .get_result(conn)
            .await)?;
        updated.into_user()
    }

    /// Deletes a user and their tokens.
    pub async fn delete_user(&self, username: &str) -> Result<User, DbError> {
        let record = self.user_record(username).await?;
        db_run!(self, |conn| diesel::delete(u::users.find(record.id))
            .execute(conn)
            .await)?;
        record.into_user()
    }

    /// The user, when name and password match (for logins).
    pub async fn authenticate_password(
        &self,
        username: &str,
        password: &str,
    ) -> Result<Option<User>, DbError> {
        let record = match self.user_record(username).await {
            Ok(r) => r,
            Err(DbError::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        if password_matches(password.to_string(), record.password_hash.clone()).await {
            Ok(Some(record.into_user()?))
        } else {
            Ok(None)
        }
    }

    /// Creates an API token for a user; the secret is in the result and nowhere else.
    pub async fn create_token(
        &self,
        username: &str,
        label: Option<&str>,
    ) -> Result<CreatedToken, DbError> {
        let user = self.user_record(username).await?;
        let label = inventory_core::validate_description("label", label)?;
        let secret = format!("{TOKEN_PREFIX}{}", hex(&random_bytes::<32>()?));
        let prefix: String = secret.chars().take(TOKEN_PREFIX.len() + 6).collect();
        let hash = token_hash(&secret);
        let token: ApiToken = db_run!(self, |conn| diesel::insert_into(tok::api_tokens)
            .values((
                tok::user_id.eq(user.id),
                tok::label.eq(label.as_deref()),
                tok::token_hash.eq(&hash),
                tok::prefix.eq(&prefix),
                tok::created_at.eq(now()),
            ))
            .returning(ApiToken::as_returning())
            .get_result(conn)
            .await)?;
        Ok(CreatedToken { token, secret })
    }

    /// Tokens, of one user or of everyone, newest first.
    pub async fn list_tokens(&self, username: Option<&str>) -> Result<Vec<ApiToken>, DbError> {
        let owner = match username {
            Some(name) => Some(self.user_record(name).await?.id),
            None => None,
        };
        db_run!(self, |conn| {
            let mut q = tok::api_tokens.select(ApiToken::as_select()).into_boxed();
            if let Some(id) = owner {
                q = q.filter(tok::user_id.eq(id));
            }
            Ok(q.order(tok::id.desc()).load(conn).await?)
        })
    }

    /// Revokes a token; it authenticates nobody afterwards.
    pub async fn revoke_token(&self, id: i64) -> Result<ApiToken, DbError> {
        let at = now();
        let found: Option<ApiToken> =
            db_run!(self, |conn| diesel::update(tok::api_tokens.find(id))
                .set(tok::revoked_at.eq(Some(at)))
                .returning(ApiToken::as_returning())
                .get_result(conn)
                .await
                .optional())?;
        found.ok_or_else(|| DbError::NotFound {
            what: "token with id",
            key: id.to_string(),
        })
    }

    /// The user a live (not revoked) token belongs to; records its use.
    pub async fn authenticate_token(&self, secret: &str) -> Result<Option<User>, DbError> {
        let hash = token_hash(secret);
        let found: Option<(i64, UserRecord)> = db_run!(self, |conn| tok::api_tokens
            .inner_join(u::users)
            .filter(tok::token_hash.eq(&hash))
            .filter(tok::revoked_at.is_null())
            .select((tok::id, UserRecord::as_select()))
            .first(conn)
            .await
            .optional())?;
        let Some((token_id, record)) = found else {
            return Ok(None);
        };
        db_run!(self, |conn| diesel::update(tok::api_tokens.find(token_id))
            .set(tok::last_used_at.eq(Some(now())))
            .execute(conn)
            .await)?;
        Ok(Some(record.into_user()?))
    }
}
