//! Who is calling and what they may do: the bearer-token extractor [`Caller`], the
//! effective [`Permission`] (role ∩ token scope), and the extractors routes name to state
//! what they need: [`Reader`], [`Writer`], [`Admin`].

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use chrono::{DateTime, Utc};
use inventory_core::{Role, UserId};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::{store, AppState};

/// What a token may do, whatever its owner's role.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Read only (GET).
    Read,
    /// Everything the owner's role allows.
    Write,
}

/// What a request may do: the lesser of the role's and the token scope's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Permission {
    /// Read the inventory (viewers, `read` tokens).
    Read,
    /// Read and write the inventory (members).
    Write,
    /// Also manage users and everyone's tokens (admins).
    Admin,
}

impl Permission {
    /// The most a role may do.
    pub fn of_role(role: Role) -> Self {
        match role {
            Role::Admin => Permission::Admin,
            Role::Member => Permission::Write,
            Role::Viewer => Permission::Read,
        }
    }

    /// The most a token of this scope may do.
    pub fn of_scope(scope: Scope) -> Self {
        match scope {
            Scope::Read => Permission::Read,
            Scope::Write => Permission::Admin,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Permission::Read => "read",
            Permission::Write => "write",
            Permission::Admin => "admin",
        }
    }
}

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
    /// When the token expires, if it does.
    pub expires_at: Option<DateTime<Utc>>,
    token_ids: Vec<i64>,
}

impl Caller {
    /// What this request may do: role ∩ scope.
    pub fn permission(&self) -> Permission {
        Permission::of_role(self.role).min(Permission::of_scope(self.scope))
    }

    /// 403 unless the caller has at least `needed`.
    pub fn require(&self, needed: Permission) -> Result<(), ApiError> {
        let has = self.permission();
        if has >= needed {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "this needs {} permission; this token of {} ({}) has {} permission",
                needed.as_str(),
                self.username,
                self.role,
                has.as_str()
            )))
        }
    }

    /// The token rows this request authenticated with (what logout revokes).
    pub(crate) fn token_ids(&self) -> &[i64] {
        &self.token_ids
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
        let owner = store::authenticate(state.db(), token, state.settings().session_days)
            .await?
            .ok_or_else(invalid_token)?;
        let caller = Caller {
            user_id: owner.user.id,
            username: owner.user.username,
            role: owner.user.role,
            scope: owner.scope,
            expires_at: owner.expires_at,
            token_ids: owner.token_ids,
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
            expires_at: None,
            token_ids: vec![1],
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
