//! SQL logging through tracing (target `sql`), for `-v` in the binaries.

use diesel::connection::{set_default_instrumentation, Instrumentation, InstrumentationEvent};

/// Logs every statement run on connections opened from now on, on both backends, at debug
/// level under the tracing target `sql`. Connection events are left out on purpose: they
/// carry the URL, password included.
pub fn install_sql_logging() {
    let _ = set_default_instrumentation(sql_logger);
}

fn sql_logger() -> Option<Box<dyn Instrumentation>> {
    Some(Box::new(|event: InstrumentationEvent<'_>| match event {
        InstrumentationEvent::StartQuery { query, .. } => {
            tracing::debug!(target: "sql", "{query}");
        }
        InstrumentationEvent::FinishQuery {
            query,
            error: Some(error),
            ..
        } => {
            tracing::debug!(target: "sql", "failed: {error}: {query}");
        }
        _ => {}
    }))
}
