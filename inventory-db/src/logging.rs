//! SQL logging through tracing (target `sql`), for `-v` in the binaries.

use diesel::connection::{set_default_instrumentation, Instrumentation, InstrumentationEvent};

/// Logs every statement run on connections opened from now on, on both backends, at debug
/// level under the tracing target `sql`, with secrets redacted ([`redact_secrets`]).
/// Connection events are left out on purpose: they carry the URL, password included.
pub fn install_sql_logging() {
    let _ = set_default_instrumentation(sql_logger);
}

fn sql_logger() -> Option<Box<dyn Instrumentation>> {
    Some(Box::new(|event: InstrumentationEvent<'_>| match event {
        InstrumentationEvent::StartQuery { query, .. } => {
            tracing::debug!(target: "sql", "{}", redact_secrets(&query.to_string()));
        }
        InstrumentationEvent::FinishQuery {
            query,
            error: Some(error),
            ..
        } => {
            tracing::debug!(target: "sql", "failed: {error}: {}", redact_secrets(&query.to_string()));
        }
        _ => {}
    }))
}

/// `text` with every password hash (an argon2 PHC string, `$argon2…`) and every SHA-256
/// digest in hex (what a token is stored as) replaced by `<redacted>`.
///
/// Secret binds are `Secret`s, whose `Debug` is `<redacted>`, but not every log goes
/// through it: on SQLite, diesel-async's connection wrapper logs the bind values it has
/// already converted, and a restore binds whole rows (hashes included) as one JSON text on
/// both engines. This pass over what is about to be logged covers them all.
fn redact_secrets(text: &str) -> String {
    const REDACTED: &str = "<redacted>";
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let (mut copied, mut i) = (0, 0);
    // Only ASCII positions are ever sliced at, so every slice is on a char boundary.
    while i < bytes.len() {
        if bytes[i] == b'$' && text[i..].starts_with("$argon2") {
            let phc = text[i..]
                .find(|c: char| !(c.is_ascii_alphanumeric() || "$=,+/.-".contains(c)))
                .unwrap_or(text.len() - i);
            out.push_str(&text[copied..i]);
            out.push_str(REDACTED);
            i += phc;
            copied = i;
            continue;
        }
        if bytes[i].is_ascii_hexdigit() && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric()) {
            let run = bytes[i..]
                .iter()
                .take_while(|b| b.is_ascii_hexdigit())
                .count();
            let ends_word = bytes
                .get(i + run)
                .is_none_or(|b| !b.is_ascii_alphanumeric());
            if run == 64 && ends_word {
                out.push_str(&text[copied..i]);
                out.push_str(REDACTED);
                copied = i + run;
            }
            i += run;
            continue;
        }
        i += 1;
    }
    out.push_str(&text[copied..]);
    out
}

#[cfg(test)]
mod tests {
    use super::redact_secrets;

    #[test]
    fn hashes_and_digests_are_redacted_and_other_text_is_kept() {
        let digest = "a".repeat(63) + "f";
        let text = format!(
            "INSERT INTO `users` VALUES (?, ?) -- binds: [String(\"ü$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA\"), \
             String(\"{digest}\"), String(\"{digest}0\"), I64(12)]"
        );
        assert_eq!(
            redact_secrets(&text),
            format!(
                "INSERT INTO `users` VALUES (?, ?) -- binds: [String(\"ü<redacted>\"), \
                 String(\"<redacted>\"), String(\"{digest}0\"), I64(12)]"
            )
        );
        assert_eq!(redact_secrets("SELECT 1 -- ß"), "SELECT 1 -- ß");
    }
}
