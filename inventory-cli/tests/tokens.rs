//! `inventory token create --scope --expires` and `token list`, on SQLite and PostgreSQL.

#[macro_use]
#[allow(dead_code, unused_macros)]
mod common;

use common::*;

const PASSWORD: &str = "correct horse battery";

fn add_user(env: &Env, name: &str, role: &str) {
    let out = env.run_with_stdin(
        &["user", "add", name, "--role", role],
        &format!("{PASSWORD}\n"),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

cli_tests! {
    migrated = true;

    fn token_create_takes_a_scope_and_an_expiry(env: &Env) {
        add_user(env, "alice", "admin");
        let created = env.json(&["token", "create", "--user", "alice", "--label", "backup", "--scope", "read", "--expires", "7"]);
        assert_eq!(created["scope"], "read");
        let expires: chrono::DateTime<chrono::Utc> = created["expires_at"].as_str().expect("expiry").parse().expect("RFC 3339");
        let days = (expires - chrono::Utc::now()).num_minutes() as f64 / 1440.0;
        assert!((6.99..=7.01).contains(&days), "{days}");
        let secret = created["secret"].as_str().expect("secret").to_string();
        let found = env.rt.block_on(env.test_db.db.authenticate(&secret)).expect("auth").expect("live");
        assert_eq!(found.token.scope, inventory_core::Scope::Read);
        assert_eq!(
            inventory_core::Permission::effective(found.user.role, found.token.scope),
            inventory_core::Permission::Read
        );

        // The defaults: write scope, no expiry.
        let plain = env.json(&["token", "create", "--user", "alice"]);
        assert_eq!(plain["scope"], "write");
        assert!(plain["expires_at"].is_null());

        let out = env.ok(&["token", "create", "--user", "alice", "--scope", "READ", "--expires", "30"]);
        assert!(out.contains("read scope") && out.contains("expires 20"), "{out}");
        assert!(out.contains("will not be shown again"), "{out}");
    }

    fn token_list_shows_scope_and_expiry_never_secrets(env: &Env) {
        add_user(env, "alice", "member");
        let created = env.json(&["token", "create", "--user", "alice", "--scope", "read", "--expires", "1"]);
        env.ok(&["token", "create", "--user", "alice", "--label", "laptop"]);
        let table = env.ok(&["token", "list"]);
        let header = table.lines().next().expect("header");
        for column in ["SCOPE", "EXPIRES", "LABEL"] {
            assert!(header.contains(column), "{table}");
        }
        assert!(table.contains("read") && table.contains("write"), "{table}");
        assert!(!table.contains(created["secret"].as_str().expect("secret")), "{table}");
        let listed = env.json(&["token", "list", "--user", "alice"]);
        let listed = listed.as_array().expect("array");
        assert_eq!(listed.len(), 2);
        let read = listed.iter().find(|t| t["id"] == created["id"]).expect("listed");
        assert_eq!(read["scope"], "read");
        assert_eq!(read["expires_at"], created["expires_at"]);
        assert!(listed.iter().all(|t| t.get("secret").is_none()));
    }

    fn token_create_refuses_a_bad_scope_or_expiry(env: &Env) {
        add_user(env, "alice", "member");
        for args in [
            &["token", "create", "--user", "alice", "--scope", "admin"][..],
            &["token", "create", "--user", "alice", "--expires", "0"][..],
            &["token", "create", "--user", "alice", "--expires", "-3"][..],
            &["token", "create", "--user", "alice", "--expires", "soon"][..],
            &["token", "create", "--user", "alice", "--expires", "3651"][..],
        ] {
            let out = env.run(args);
            assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out.stderr));
        }
        assert_eq!(env.json(&["token", "list"]), serde_json::json!([]));
        env.fails(&["token", "create", "--user", "nobody", "--scope", "read"], 4, "nobody");
    }
}
