//! Who is calling and what they may do: the bearer-token extractor [`Caller`], the
//! effective [`Permission`] (role ∩ token scope), and the extractors routes name to state
//! what they need: [`Reader`], [`Writer`], [`Admin`].

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use chrono::{DateTime, Utc};
pub use inventory_core::{Permission, Scope};
use inventory_core::{Role, UserId};

use crate::error::ApiError;
use crate::AppState;

/// The authenticated caller of a request (`Authorization: Bearer TOKEN`).
#[derive(Clone, Debug)]
pub struct Caller {
    /// The user's id.
    pub user_id: UserId,
    /// The user's name.
    pub username: String,
    /// The user's role.
    pub role: Role,
    /// The token's scope.
    pub scope: Scope,
    /// The token's id (what logout revokes).
    pub token_id: i64,
    /// When the token expires, if it does.
    pub expires_at: Option<DateTime<Utc>>,
}

impl Caller {
    /// What this request may do: role ∩ scope (inventory-core's rule).
    pub fn permission(&self) -> Permission {
        Permission::effective(self.role, self.scope)
    }

    /// 403 unless the caller has at least `needed`.
    pub fn require(&self, needed: Permission) -> Result<(), ApiError> {
        let has = self.permission();
        if has.allows(needed) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "this needs {} permission; this token of {} ({}, {} scope) has {} permission",
                name(needed),
                self.username,
                self.role,
                self.scope,
                name(has)
            )))
        }
    }

    /// 403 for a `read` token: it may only read, whatever it would change (its own
    /// tokens included).
    pub fn require_write_scope(&self) -> Result<(), ApiError> {
        match self.scope {
            Scope::Write => Ok(()),
            Scope::Read => Err(ApiError::forbidden(
                "this token has the read scope: it may only read",
            )),
        }
    }

    /// Whether the caller may act on everyone's records (users, tokens).
    pub fn is_admin(&self) -> bool {
        self.permission().allows(Permission::Admin)
    }
}

fn name(p: Permission) -> &'static str {
    match p {
        Permission::Read => "read",
        Permission::Write => "write",
        Permission::Admin => "admin",
    }
}

/// Longest token accepted before asking the database (ours are 69 characters).
const MAX_TOKEN_LEN: usize = 256;

/// The token of `Authorization: Bearer TOKEN`, checked for form only.
fn bearer_token(parts: &Parts) -> Result<&str, ApiError> {
    let header = parts
        .headers
        .get(AUTHORIZATION)
        .ok_or_else(|| ApiError::unauthorized("send Authorization: Bearer TOKEN"))?;
    let value = header
        .to_str()
        .map_err(|_| ApiError::unauthorized("the Authorization header is not a bearer token"))?;
    let (scheme, token) = value
        .trim()
        .split_once(' ')
        .ok_or_else(|| ApiError::unauthorized("the Authorization header is not a bearer token"))?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(ApiError::unauthorized(
            "the Authorization header is not a bearer token",
        ));
    }
    if token.is_empty()
        || token.len() > MAX_TOKEN_LEN
        || !token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/=".contains(&b))
    {
        return Err(invalid_token());
    }
    Ok(token)
}

fn invalid_token() -> ApiError {
    ApiError::unauthorized("the token is invalid, expired or revoked")
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(caller) = parts.extensions.get::<Caller>() {
            return Ok(caller.clone());
        }
        let token = bearer_token(parts)?;
        let found = state
            .db()
            .authenticate(token)
            .await?
            .ok_or_else(invalid_token)?;
        let caller = Caller {
            user_id: found.user.id,
            username: found.user.username,
            role: found.user.role,
            scope: found.token.scope,
            token_id: found.token.id,
            expires_at: found.token.expires_at.map(|at| at.and_utc()),
        };
        parts.extensions.insert(caller.clone());
        Ok(caller)
    }
}

macro_rules! permission_extractor {
    ($(#[$doc:meta])* $name:ident, $needed:expr) => {
        $(#[$doc])*
        #[derive(Clone, Debug)]
        pub struct $name(pub Caller);

        impl FromRequestParts<AppState> for $name {
            type Rejection = ApiError;

            async fn from_request_parts(
                parts: &mut Parts,
                state: &AppState,
            ) -> Result<Self, ApiError> {
                let caller = Caller::from_request_parts(parts, state).await?;
                caller.require($needed)?;
                Ok($name(caller))
            }
        }
    };
}

permission_extractor!(
    /// Any authenticated caller: may read the inventory.
    Reader,
    Permission::Read
);
permission_extractor!(
    /// A caller who may write the inventory (member or admin, `write` token).
    Writer,
    Permission::Write
);
permission_extractor!(
    /// A caller who may manage users and everyone's tokens (admin, `write` token).
    Admin,
    Permission::Admin
);

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(role: Role, scope: Scope) -> Caller {
        Caller {
            user_id: 1,
            username: "ann".into(),
            role,
            scope,
            token_id: 1,
            expires_at: None,
        }
    }

    #[test]
    fn permission_is_role_intersected_with_scope() {
        use Permission as P;
        let cases = [
            (Role::Viewer, Scope::Write, P::Read),
            (Role::Viewer, Scope::Read, P::Read),
            (Role::Member, Scope::Write, P::Write),
            (Role::Member, Scope::Read, P::Read),
            (Role::Admin, Scope::Write, P::Admin),
            (Role::Admin, Scope::Read, P::Read),
        ];
        for (role, scope, expected) in cases {
            assert_eq!(
                caller(role, scope).permission(),
                expected,
                "{role:?} {scope:?}"
            );
        }
    }

    #[test]
    fn lacking_permission_is_403() {
        let viewer = caller(Role::Viewer, Scope::Write);
        assert!(viewer.require(Permission::Read).is_ok());
        assert_eq!(viewer.require(Permission::Write).unwrap_err().status(), 403);
        let member = caller(Role::Member, Scope::Write);
        assert!(member.require(Permission::Write).is_ok());
        assert_eq!(member.require(Permission::Admin).unwrap_err().status(), 403);
        let read_admin = caller(Role::Admin, Scope::Read);
        assert!(!read_admin.is_admin());
        assert_eq!(read_admin.require_write_scope().unwrap_err().status(), 403);
    }

    #[test]
    fn bearer_tokens_are_checked_for_form() {
        let parts = |value: Option<&str>| {
            let mut b = axum::http::Request::builder();
            if let Some(v) = value {
                b = b.header(AUTHORIZATION, v);
            }
            b.body(()).unwrap().into_parts().0
        };
        assert_eq!(
            bearer_token(&parts(Some("Bearer hinv_abc"))).unwrap(),
            "hinv_abc"
        );
        assert_eq!(
            bearer_token(&parts(Some("bearer  hinv_abc "))).unwrap(),
            "hinv_abc"
        );
        for bad in [
            None,
            Some("Basic YTpi"),
            Some("Bearer"),
            Some("Bearer a b"),
            Some("Bearer "),
        ] {
            let e = bearer_token(&parts(bad)).unwrap_err();
            assert_eq!(e.status(), 401, "{bad:?}");
        }
        let long = format!("Bearer {}", "a".repeat(MAX_TOKEN_LEN + 1));
        assert_eq!(bearer_token(&parts(Some(&long))).unwrap_err().status(), 401);
    }
}
