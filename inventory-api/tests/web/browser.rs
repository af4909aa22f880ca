//! A browser of sorts over [`TestApp`]: keeps the session cookie, reads the CSRF token off
//! the pages and sends forms the way a browser does (same-origin headers, urlencoded).

use axum::body::Body;
use axum::http::{header, Method};
use inventory_core::Role;

use crate::common::{request, TestApp, TestResponse, PASSWORD};

/// The host the tests' requests are addressed to.
pub const HOST: &str = "inventory.test";
/// Our own origin.
pub const ORIGIN: &str = "http://inventory.test";

/// A signed-in session.
pub struct Browser<'a> {
    pub t: &'a TestApp,
    pub cookie: String,
    pub csrf: String,
}

impl TestResponse {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The `Location` of a redirect.
    pub fn location(&self) -> &str {
        self.header("location").unwrap_or_default()
    }

    /// Every `Set-Cookie`.
    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect()
    }

    /// The value a `Set-Cookie` gives cookie `name`.
    pub fn cookie_value(&self, name: &str) -> Option<String> {
        self.set_cookies().iter().find_map(|c| {
            c.strip_prefix(&format!("{name}="))
                .map(|rest| rest.split(';').next().unwrap_or_default().to_string())
        })
    }
}

/// The value of the first hidden `_csrf` field of a page.
pub fn csrf_of(html: &str) -> String {
    let marker = "name=\"_csrf\" value=\"";
    let start = html.find(marker).expect("a _csrf field") + marker.len();
    html[start..start + html[start..].find('"').unwrap()].to_string()
}

/// `application/x-www-form-urlencoded` of these fields.
pub fn encode(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else if b == b' ' {
            out.push('+');
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl TestApp {
    /// `GET` as a browser without a session.
    pub async fn page(&self, path: &str) -> TestResponse {
        self.send(
            request(Method::GET, path)
                .header(header::HOST, HOST)
                .header(header::ACCEPT, "text/html")
                .body(Body::empty())
                .unwrap(),
        )
        .await
    }

    /// Fetches the login form and posts it; the response.
    pub async fn web_login(&self, username: &str, password: &str, next: &str) -> TestResponse {
        let form = self.page("/login").await;
        let pre = form
            .cookie_value("hinv_login")
            .expect("a login-form cookie");
        let csrf = csrf_of(&form.text());
        self.send(
            request(Method::POST, "/login")
                .header(header::HOST, HOST)
                .header(header::ORIGIN, ORIGIN)
                .header("sec-fetch-site", "same-origin")
                .header(header::COOKIE, format!("hinv_login={pre}"))
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(encode(&[
                    ("_csrf", &csrf),
                    ("username", username),
                    ("password", password),
                    ("next", next),
                ])))
                .unwrap(),
        )
        .await
    }

    /// A new user of `role`, signed in through the login form.
    pub async fn browser(&self, name: &str, role: Role) -> Browser<'_> {
        self.user(name, role).await;
        self.signed_in(name).await
    }

    /// An existing user (password [`PASSWORD`]) signed in through the login form.
    pub async fn signed_in(&self, name: &str) -> Browser<'_> {
        let r = self.web_login(name, PASSWORD, "/").await;
        assert_eq!(r.status, 303, "login of {name}: {}", r.text());
        let secret = r.cookie_value("hinv_session").expect("a session cookie");
        let mut b = Browser {
            t: self,
            cookie: format!("hinv_session={secret}"),
            csrf: String::new(),
        };
        b.csrf = csrf_of(&b.get("/").await.text());
        b
    }

    /// A session made of an existing token secret (a read-scope one, say).
    pub async fn browser_with_secret(&self, secret: &str) -> Browser<'_> {
        let mut b = Browser {
            t: self,
            cookie: format!("hinv_session={secret}"),
            csrf: String::new(),
        };
        b.csrf = csrf_of(&b.get("/").await.text());
        b
    }
}

impl Browser<'_> {
    /// The session's secret (the cookie's value).
    pub fn secret(&self) -> &str {
        self.cookie.split_once('=').unwrap().1
    }

    pub async fn get(&self, path: &str) -> TestResponse {
        self.t
            .send(
                request(Method::GET, path)
                    .header(header::HOST, HOST)
                    .header(header::ACCEPT, "text/html")
                    .header(header::COOKIE, &self.cookie)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
    }

    /// `GET` that must answer 200; the HTML.
    pub async fn html(&self, path: &str) -> String {
        let r = self.get(path).await;
        assert_eq!(r.status, 200, "GET {path}: {}", r.text());
        r.text()
    }

    /// A form post as our pages send it: same origin, the session's CSRF token first.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> TestResponse {
        let mut all = vec![("_csrf", self.csrf.as_str())];
        all.extend_from_slice(fields);
        self.post_raw(
            path,
            &encode(&all),
            &[("origin", ORIGIN), ("sec-fetch-site", "same-origin")],
        )
        .await
    }

    /// A post with exactly this body and these extra headers (for forgeries).
    pub async fn post_raw(&self, path: &str, body: &str, headers: &[(&str, &str)]) -> TestResponse {
        let mut builder = request(Method::POST, path)
            .header(header::HOST, HOST)
            .header(header::COOKIE, &self.cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        for (k, v) in headers {
            builder = builder.header(*k, *v);
        }
        self.t
            .send(builder.body(Body::from(body.to_string())).unwrap())
            .await
    }

    /// A `multipart/form-data` post of text fields and one file.
    pub async fn post_multipart(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        file: (&str, &[u8]),
    ) -> TestResponse {
        let boundary = "----hinvtestboundary7MA4YWxkTrZu0gW";
        let mut body = Vec::new();
        for (k, v) in fields {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
                )
                .as_bytes(),
            );
        }
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{}\"; filename=\"items.csv\"\r\nContent-Type: text/csv\r\n\r\n",
                file.0
            )
            .as_bytes(),
        );
        body.extend_from_slice(file.1);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        self.t
            .send(
                request(Method::POST, path)
                    .header(header::HOST, HOST)
                    .header(header::ORIGIN, ORIGIN)
                    .header(header::COOKIE, &self.cookie)
                    .header(
                        header::CONTENT_TYPE,
                        format!("multipart/form-data; boundary={boundary}"),
                    )
                    .body(Body::from(body))
                    .unwrap(),
            )
            .await
    }
}

/// Asserts a redirect (303) to a location starting with `to`.
#[track_caller]
pub fn assert_redirect(r: &TestResponse, to: &str) {
    assert_eq!(r.status, 303, "expected a redirect to {to}: {}", r.text());
    assert!(
        r.location().starts_with(to),
        "redirect to {} instead of {to}",
        r.location()
    );
}
