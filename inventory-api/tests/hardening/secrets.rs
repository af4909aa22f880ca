//! Secrets never shown: a scripted session against the real binary logging at debug level —
//! API logins (failed and good), a token made, users made and given new passwords, a
//! refused weak password, web logins (failed and good), the token page and a token made
//! there — and then every log line and every answer (status line, headers, body) is
//! searched for every password, every token secret, every password hash and token hash
//! (read back from the database afterwards) and the database password. The only place a
//! secret may appear is the one answer that hands a new token over.

use std::collections::BTreeMap;

use inventory_core::Role;
use serde_json::json;

use crate::harness::{http, start, Response};

const ADMIN_PW: &str = "admin-pass-Qx7-unique";
const EVE_PW: &str = "eve-pass-Wz3-unique";
const EVE_NEW_PW: &str = "eve-newpass-Rt5-unique";
const WRONG_PW: &str = "wrong-pass-Kd2-unique";
const SHORT_PW: &str = "Sh0rt!";

/// Every answer of the session, by a label saying which request it was.
struct Session {
    addr: std::net::SocketAddr,
    answers: Vec<(String, Response)>,
}

impl Session {
    async fn send(
        &mut self,
        label: &str,
        method: &str,
        path: &str,
        headers: &[&str],
        body: &str,
    ) -> &Response {
        let r = http(self.addr, method, path, headers, body).await;
        self.answers.push((label.to_string(), r));
        &self.answers.last().unwrap().1
    }

    async fn json(
        &mut self,
        label: &str,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: &serde_json::Value,
    ) -> &Response {
        let auth = token.map(|t| format!("Authorization: Bearer {t}"));
        let mut headers = vec!["Content-Type: application/json"];
        headers.extend(auth.as_deref());
        let body = if body.is_null() {
            String::new()
        } else {
            body.to_string()
        };
        self.send(label, method, path, &headers, &body).await
    }

    /// `GET /login`, then the form posted; the answer.
    async fn web_login(&mut self, label: &str, username: &str, password: &str) -> &Response {
        let form = self
            .send(
                &format!("{label}: form"),
                "GET",
                "/login",
                &["Accept: text/html"],
                "",
            )
            .await;
        let pre = form.cookie("hinv_login").expect("a login-form cookie");
        let csrf = csrf_of(&form.body);
        let body = format!("_csrf={csrf}&username={username}&password={password}&next=%2F");
        let cookie = format!("Cookie: hinv_login={pre}");
        let headers = [
            "Content-Type: application/x-www-form-urlencoded",
            "Origin: http://localhost",
            &cookie,
        ];
        self.send(label, "POST", "/login", &headers, &body).await
    }
}

fn csrf_of(html: &str) -> String {
    let marker = "name=\"_csrf\" value=\"";
    let start = html.find(marker).expect("a _csrf field") + marker.len();
    html[start..start + html[start..].find('"').unwrap()].to_string()
}

/// Every argon2 PHC string and every SHA-256 hex digest in `text`.
fn hashes_in(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (i, _) in text.match_indices("$argon2") {
        let end = text[i..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || "$=,+/.-".contains(c)))
            .map_or(text.len(), |e| i + e);
        found.push(text[i..end].to_string());
    }
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let run = bytes[i..]
            .iter()
            .take_while(|b| b.is_ascii_hexdigit())
            .count();
        let bounded = (i == 0 || !bytes[i - 1].is_ascii_alphanumeric())
            && bytes
                .get(i + run)
                .is_none_or(|b| !b.is_ascii_alphanumeric());
        if run == 64 && bounded {
            found.push(text[i..i + run].to_string());
        }
        i += run.max(1);
    }
    found
}

/// A PostgreSQL role with a password, allowed to use the test database; the URL that
/// logs in as it.
async fn role_with_password(test_db: &inventory_db::testing::TestDb) -> (String, String, String) {
    let role = format!("inv_secret_role_{}", std::process::id());
    let password = format!("db-pass-{}-Vb8-unique", std::process::id());
    let sql = format!(
        "DROP ROLE IF EXISTS {role}; CREATE ROLE {role} LOGIN PASSWORD '{password}'; \
         GRANT USAGE ON SCHEMA public TO {role}; \
         GRANT ALL ON ALL TABLES IN SCHEMA public TO {role}; \
         GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO {role};"
    );
    test_db.db.execute_raw_for_tests(&sql).await.unwrap();
    let url = &test_db.url;
    let start = url.find("://").unwrap() + 3;
    let host = start + url[start..].find('@').map_or(0, |at| at + 1);
    let url = format!("{}{role}:{password}@{}", &url[..start], &url[host..]);
    (role, password, url)
}

/// Runs the session against `url`; `db_password` is the one in the URL, if any.
async fn session_shows_no_secret(
    test_db: &inventory_db::testing::TestDb,
    url: &str,
    db_password: Option<&str>,
) {
    test_db
        .db
        .create_user("root", ADMIN_PW, Role::Admin)
        .await
        .unwrap();
    let server = start(&["--database-url", url], "debug", false).await;
    let mut s = Session {
        addr: server.addr,
        answers: Vec::new(),
    };
    // Which answer may show which secret: the one that hands it over.
    let mut handed_over: BTreeMap<String, String> = BTreeMap::new();

    for (who, pw) in [("root", WRONG_PW), ("nobody", ADMIN_PW), ("root", EVE_PW)] {
        let r = s
            .json(
                "failed API login",
                "POST",
                "/api/v1/auth/login",
                None,
                &json!({"username": who, "password": pw}),
            )
            .await;
        assert_eq!(r.status, 401, "{r:?}");
    }
    let r = s
        .json(
            "API login",
            "POST",
            "/api/v1/auth/login",
            None,
            &json!({"username": "root", "password": ADMIN_PW}),
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    let login = r.json()["token"].as_str().unwrap().to_string();
    handed_over.insert(login.clone(), "API login".into());
    let r = s
        .json(
            "token create",
            "POST",
            "/api/v1/tokens",
            Some(&login),
            &json!({"label": "script"}),
        )
        .await;
    assert_eq!(r.status, 201, "{r:?}");
    let made = r.json()["secret"].as_str().unwrap().to_string();
    handed_over.insert(made.clone(), "token create".into());
    let r = s
        .json(
            "weak password",
            "POST",
            "/api/v1/users",
            Some(&made),
            &json!({"username": "eve", "password": SHORT_PW, "role": "member"}),
        )
        .await;
    assert_eq!(r.status, 422, "{r:?}");
    let r = s
        .json(
            "user create",
            "POST",
            "/api/v1/users",
            Some(&made),
            &json!({"username": "eve", "password": EVE_PW, "role": "member"}),
        )
        .await;
    assert_eq!(r.status, 201, "{r:?}");
    let eve = r.json()["id"].as_i64().unwrap();
    for (label, path) in [
        ("users", "/api/v1/users".to_string()),
        ("user", format!("/api/v1/users/{eve}")),
        ("tokens", "/api/v1/tokens".into()),
        ("me", "/api/v1/auth/me".into()),
    ] {
        let r = s
            .json(label, "GET", &path, Some(&made), &serde_json::Value::Null)
            .await;
        assert_eq!(r.status, 200, "{label}: {r:?}");
    }
    let r = s
        .json(
            "bad bearer",
            "GET",
            "/api/v1/auth/me",
            Some(&format!("{made}x")),
            &serde_json::Value::Null,
        )
        .await;
    assert_eq!(r.status, 401, "{r:?}");
    let r = s
        .json(
            "weak new password",
            "PATCH",
            &format!("/api/v1/users/{eve}"),
            Some(&made),
            &json!({"password": SHORT_PW}),
        )
        .await;
    assert_eq!(r.status, 422, "{r:?}");
    let r = s
        .json(
            "new password",
            "PATCH",
            &format!("/api/v1/users/{eve}"),
            Some(&made),
            &json!({"password": EVE_NEW_PW}),
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");

    let r = s.web_login("failed web login", "eve", EVE_PW).await;
    assert_eq!(r.status, 401, "{r:?}");
    let r = s.web_login("web login", "eve", EVE_NEW_PW).await;
    assert_eq!(r.status, 303, "{r:?}");
    let session = r.cookie("hinv_session").expect("a session cookie");
    handed_over.insert(session.clone(), "web login".into());
    let cookie = format!("Cookie: hinv_session={session}");
    let page = s
        .send(
            "token page",
            "GET",
            "/tokens",
            &["Accept: text/html", &cookie],
            "",
        )
        .await;
    assert_eq!(page.status, 200, "{page:?}");
    let csrf = csrf_of(&page.body);
    let r = s
        .send(
            "web token create",
            "POST",
            "/tokens",
            &[
                "Content-Type: application/x-www-form-urlencoded",
                "Origin: http://localhost",
                &cookie,
            ],
            &format!("_csrf={csrf}&label=web&scope=read"),
        )
        .await;
    assert_eq!(r.status, 201, "{r:?}");
    let shown = r
        .body
        .match_indices("hinv_")
        .map(|(i, _)| {
            let rest = &r.body[i + 5..];
            let len = rest
                .find(|c: char| !c.is_ascii_alphanumeric())
                .unwrap_or(rest.len());
            format!("hinv_{}", &rest[..len])
        })
        .find(|t| t.len() >= 37)
        .expect("the new token on the page");
    handed_over.insert(shown, "web token create".into());
    let r = s
        .send(
            "token page again",
            "GET",
            "/tokens",
            &["Accept: text/html", &cookie],
            "",
        )
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    let r = s
        .send(
            "logout",
            "POST",
            "/logout",
            &[
                "Content-Type: application/x-www-form-urlencoded",
                "Origin: http://localhost",
                &cookie,
            ],
            &format!("_csrf={csrf}"),
        )
        .await;
    assert_eq!(r.status, 303, "{r:?}");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;

    // What the database holds, read back: every password hash and token hash.
    let mut dump = Vec::new();
    test_db
        .db
        .write_backup(&mut dump, &|_, _| {})
        .await
        .unwrap();
    let dump = String::from_utf8(dump).unwrap();
    let stored = hashes_in(&dump);
    let argon = stored.iter().filter(|h| h.starts_with("$argon2")).count();
    assert_eq!(
        argon, 2,
        "root's and eve's password hashes are in the database"
    );
    assert!(
        stored.len() >= 2 + 4,
        "the token hashes are in the database: {stored:?}"
    );

    let mut secrets: Vec<(String, &str)> = vec![
        (ADMIN_PW.into(), "a password"),
        (EVE_PW.into(), "a password"),
        (EVE_NEW_PW.into(), "a password"),
        (WRONG_PW.into(), "a wrong password"),
        (SHORT_PW.into(), "a refused password"),
    ];
    secrets.extend(handed_over.keys().map(|t| (t.clone(), "a token secret")));
    secrets.extend(stored.iter().map(|h| (h.clone(), "a stored hash")));
    secrets.extend(db_password.map(|p| (p.to_string(), "the database password")));

    let log = server.log();
    assert!(
        log.lines().count() > 20,
        "the server logged at debug level: {log}"
    );
    for (secret, what) in &secrets {
        assert!(
            !log.contains(secret.as_str()),
            "{what} ({secret}) in the log:\n{log}"
        );
        for (label, r) in &s.answers {
            let allowed = handed_over.get(secret).is_some_and(|at| at == label);
            let all = format!("{}\r\n\r\n{}", r.head, r.body);
            assert!(
                allowed || !all.contains(secret.as_str()),
                "{what} ({secret}) in the answer to {label}: {all}"
            );
        }
    }
    eprintln!(
        "secrets: {} secrets × ({} answers + {} log lines) searched",
        secrets.len(),
        s.answers.len(),
        log.lines().count()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_in_any_log_line_or_answer_sqlite() {
    let test_db = inventory_db::testing::sqlite().await;
    let url = test_db.url.clone();
    session_shows_no_secret(&test_db, &url, None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_in_any_log_line_or_answer_postgres() {
    let test_db = inventory_db::testing::postgres().await;
    let (role, password, url) = role_with_password(&test_db).await;
    session_shows_no_secret(&test_db, &url, Some(&password)).await;
    test_db
        .db
        .execute_raw_for_tests(&format!("DROP OWNED BY {role}"))
        .await
        .unwrap();
    drop(test_db);
    let admin = inventory_db::Database::connect(
        &inventory_db::DatabaseUrl::parse(&inventory_db::testing::pg_admin_url()).unwrap(),
    )
    .await
    .unwrap();
    admin
        .execute_raw_for_tests(&format!("DROP ROLE IF EXISTS {role}"))
        .await
        .unwrap();
}
