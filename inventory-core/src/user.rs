//! Users and roles: who may read, write, and manage users.

use serde::{Deserialize, Serialize};

use crate::validate::ValidationError;

/// The primary key of a user.
pub type UserId = i64;

/// Shortest password accepted.
pub const PASSWORD_MIN_CHARS: usize = 8;
/// Longest password accepted (hashing cost stays bounded).
pub const PASSWORD_MAX_CHARS: usize = 1024;
/// Longest user name.
pub const USERNAME_MAX_CHARS: usize = 64;

/// What a user may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything, users and tokens included.
    Admin,
    /// Read and write the inventory.
    Member,
    /// Read only.
    Viewer,
}

impl Role {
    /// Every role, most powerful first.
    pub const ALL: [Role; 3] = [Role::Admin, Role::Member, Role::Viewer];

    /// `admin`, `member` or `viewer`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Member => "member",
            Role::Viewer => "viewer",
        }
    }

    /// May change the inventory.
    pub fn can_write(self) -> bool {
        matches!(self, Role::Admin | Role::Member)
    }

    /// May manage users and their tokens.
    pub fn can_manage_users(self) -> bool {
        self == Role::Admin
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Role {
    type Err = ValidationError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "admin" => Ok(Role::Admin),
            "member" => Ok(Role::Member),
            "viewer" => Ok(Role::Viewer),
            other => Err(ValidationError::invalid(
                "role",
                format!("\"{other}\" is not one of admin, member, viewer"),
            )),
        }
    }
}

/// What an API token may do, on top of what its user's role allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Only read (GET).
    Read,
    /// Everything the user's role allows.
    Write,
}

impl Scope {
    /// `read` or `write`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
        }
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Scope {
    type Err = ValidationError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "read" => Ok(Scope::Read),
            "write" => Ok(Scope::Write),
            other => Err(ValidationError::invalid(
                "scope",
                format!("\"{other}\" is not one of read, write"),
            )),
        }
    }
}

/// What a caller may do: the intersection of a user's role and a token's scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Permission {
    /// Read the inventory.
    Read,
    /// Read and change the inventory.
    Write,
    /// Also manage users and everyone's tokens.
    Admin,
}

impl Permission {
    /// Role ∩ scope: a viewer, or a `read` token, may only read; a member may write; an
    /// admin may also manage users.
    pub fn effective(role: Role, scope: Scope) -> Permission {
        match (role, scope) {
            (Role::Viewer, _) | (_, Scope::Read) => Permission::Read,
            (Role::Member, Scope::Write) => Permission::Write,
            (Role::Admin, Scope::Write) => Permission::Admin,
        }
    }

    /// Whether this permission includes `needed`.
    pub fn allows(self, needed: Permission) -> bool {
        self >= needed
    }
}

/// A user name: 1–64 characters of letters, digits, `.`, `_`, `-`; compared case-insensitively.
pub fn validate_username(raw: &str) -> Result<String, ValidationError> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(ValidationError::Empty {
            field: "username".into(),
        });
    }
    let actual = name.chars().count();
    if actual > USERNAME_MAX_CHARS {
        return Err(ValidationError::TooLong {
            field: "username".into(),
            max: USERNAME_MAX_CHARS,
            actual,
        });
    }
    if !name
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        return Err(ValidationError::invalid(
            "username",
            "may hold only letters, digits, '.', '_' and '-'",
        ));
    }
    Ok(name.to_owned())
}

/// A password: 8 to 1024 characters. Not trimmed: spaces are part of it.
pub fn validate_password(password: &str) -> Result<(), ValidationError> {
    let n = password.chars().count();
    if n < PASSWORD_MIN_CHARS {
        return Err(ValidationError::invalid(
            "password",
            format!("must be at least {PASSWORD_MIN_CHARS} characters long"),
        ));
    }
    if n > PASSWORD_MAX_CHARS {
        return Err(ValidationError::TooLong {
            field: "password".into(),
            max: PASSWORD_MAX_CHARS,
            actual: n,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_parse_case_insensitively_and_grant_what_they_say() {
        assert_eq!("Admin".parse::<Role>(), Ok(Role::Admin));
        assert!("owner".parse::<Role>().is_err());
        assert!(Role::Member.can_write() && !Role::Member.can_manage_users());
        assert!(!Role::Viewer.can_write());
    }

    #[test]
    fn usernames_are_checked() {
        assert_eq!(validate_username(" alice.b "), Ok("alice.b".into()));
        for bad in ["", "a b", "x/y", &"a".repeat(65)] {
            assert!(validate_username(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(validate_password("1234567").is_err());
        assert!(validate_password("correct horse").is_ok());
    }
}
