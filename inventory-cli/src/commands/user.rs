//! `inventory user …` and `token …`. Passwords come from a no-echo prompt on a terminal,
//! or the first line of stdin when piped; never from argv, never printed. Token secrets are
//! printed once, at creation.

use std::collections::HashMap;
use std::io::{BufRead, IsTerminal};

use inventory_db::{TokenSpec, User};

use super::{confirm, Ctx};
use crate::cli::{TokenCommand, UserCommand};
use crate::error::{CliError, CmdResult, EXIT_OK};
use crate::output;

/// Runs one `user` subcommand.
pub async fn run(ctx: &Ctx, cmd: UserCommand) -> CmdResult {
    let db = ctx.open_current().await?;
    match cmd {
        UserCommand::Add { name, role } => {
            let username =
                inventory_core::validate_username(&name).map_err(inventory_db::DbError::from)?;
            let password = read_password(&format!("Password for {username}"))?;
            let user = db.create_user(&username, &password, role).await?;
            print_user(ctx, "Created user", &user)
        }
        UserCommand::List => {
            let users = db.list_users().await?;
            if ctx.json() {
                output::json(&users)?;
            } else if users.is_empty() {
                println!("(no users; create one with `inventory user add NAME --role admin`)");
            } else {
                let rows: Vec<Vec<String>> = users
                    .iter()
                    .map(|u| {
                        vec![
                            u.id.to_string(),
                            u.username.clone(),
                            u.role.to_string(),
                            u.created_at.and_utc().to_rfc3339(),
                        ]
                    })
                    .collect();
                output::table(&["ID", "USERNAME", "ROLE", "CREATED"], &rows)?;
            }
            Ok(EXIT_OK)
        }
        UserCommand::Passwd { name } => {
            // Say "no such user" before asking for a password.
            let user = db.get_user(&name).await?;
            let password = read_password(&format!("New password for {}", user.username))?;
            let user = db.set_password(&user.username, &password).await?;
            print_user(ctx, "Changed the password of user", &user)
        }
        UserCommand::Rm { name, yes } => {
            let user = db.get_user(&name).await?;
            confirm(
                yes,
                &format!("delete user \"{}\" and their tokens", user.username),
            )?;
            let user = db.delete_user(&user.username).await?;
            print_user(ctx, "Removed user", &user)
        }
    }
}

/// `Created user #1 alice (admin)`, or the user as JSON (never a hash).
fn print_user(ctx: &Ctx, verb: &str, u: &User) -> CmdResult {
    if ctx.json() {
        output::json(u)?;
    } else {
        println!("{verb} #{} {} ({})", u.id, u.username, u.role);
    }
    Ok(EXIT_OK)
}

/// A password: asked twice without echo on a terminal, else the first line of stdin.
fn read_password(prompt: &str) -> Result<String, CliError> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password(format!("{prompt}: "))
            .map_err(|e| CliError::usage(format!("cannot read the password: {e}")))?;
        let second = rpassword::prompt_password("Again: ")
            .map_err(|e| CliError::usage(format!("cannot read the password: {e}")))?;
        if first != second {
            return Err(CliError::usage("the two passwords differ; nothing changed"));
        }
        return Ok(first);
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| CliError::usage(format!("cannot read the password from stdin: {e}")))?;
    let password = line.trim_end_matches(['\n', '\r']).to_string();
    if password.is_empty() {
        return Err(CliError::usage(
            "no password: type it at the prompt, or pipe it as the first line of stdin",
        ));
    }
    Ok(password)
}

/// Runs one `token` subcommand.
pub async fn token(ctx: &Ctx, cmd: TokenCommand) -> CmdResult {
    let db = ctx.open_current().await?;
    match cmd {
        TokenCommand::Create {
            user,
            label,
            scope,
            expires,
        } => {
            let owner = db.get_user(&user).await?;
            let spec = TokenSpec {
                label,
                scope,
                expires_at: expires
                    .map(|days| chrono::Utc::now() + chrono::TimeDelta::days(i64::from(days))),
            };
            let created = db.create_token_for(&owner.username, &spec).await?;
            if ctx.json() {
                output::json(&created)?;
            } else {
                println!(
                    "Created token #{} for {}{}, {} scope, {}:",
                    created.token.id,
                    owner.username,
                    created
                        .token
                        .label
                        .as_deref()
                        .map(|l| format!(" ({l})"))
                        .unwrap_or_default(),
                    created.token.scope,
                    created.token.expires_at.map_or_else(
                        || "no expiry".to_string(),
                        |t| format!("expires {}", t.and_utc().to_rfc3339())
                    )
                );
                println!();
                println!("    {}", created.secret);
                println!();
                println!("Copy it now: it is stored only as a hash and will not be shown again.");
            }
        }
        TokenCommand::List { user } => {
            let tokens = db.list_tokens(user.as_deref()).await?;
            if ctx.json() {
                output::json(&tokens)?;
            } else if tokens.is_empty() {
                println!("(no tokens)");
            } else {
                let names: HashMap<i64, String> = db
                    .list_users()
                    .await?
                    .into_iter()
                    .map(|u| (u.id, u.username))
                    .collect();
                let time = |t: Option<chrono::NaiveDateTime>| {
                    t.map_or_else(|| "-".into(), |t| t.and_utc().to_rfc3339())
                };
                let rows: Vec<Vec<String>> = tokens
                    .iter()
                    .map(|t| {
                        vec![
                            t.id.to_string(),
                            names.get(&t.user_id).cloned().unwrap_or_default(),
                            format!("{}…", t.prefix),
                            t.label.clone().unwrap_or_else(|| "-".into()),
                            t.scope.to_string(),
                            time(Some(t.created_at)),
                            time(t.expires_at),
                            time(t.last_used_at),
                            time(t.revoked_at),
                        ]
                    })
                    .collect();
                output::table(
                    &[
                        "ID",
                        "USER",
                        "PREFIX",
                        "LABEL",
                        "SCOPE",
                        "CREATED",
                        "EXPIRES",
                        "LAST USED",
                        "REVOKED",
                    ],
                    &rows,
                )?;
            }
        }
        TokenCommand::Revoke { id } => {
            let t = db.revoke_token(id).await?;
            if ctx.json() {
                output::json(&t)?;
            } else {
                println!("Revoked token #{} ({}…)", t.id, t.prefix);
            }
        }
    }
    Ok(EXIT_OK)
}
