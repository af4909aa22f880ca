//! Secret values bound into statements (password hashes, token hashes): written to the
//! database as text, shown as `<redacted>` wherever a statement is logged.

use diesel::expression::AsExpression;
use diesel::serialize::{Output, ToSql};
use diesel::sql_types::Text;

/// A text bind value whose `Debug` (what diesel's SQL log prints for binds) hides it.
#[derive(Clone, PartialEq, Eq, AsExpression)]
#[diesel(sql_type = Text)]
pub(crate) struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

impl ToSql<Text, diesel::pg::Pg> for Secret {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, diesel::pg::Pg>) -> diesel::serialize::Result {
        <str as ToSql<Text, diesel::pg::Pg>>::to_sql(self.0.as_str(), out)
    }
}

impl ToSql<Text, diesel::sqlite::Sqlite> for Secret {
    fn to_sql<'b>(
        &'b self,
        out: &mut Output<'b, '_, diesel::sqlite::Sqlite>,
    ) -> diesel::serialize::Result {
        <str as ToSql<Text, diesel::sqlite::Sqlite>>::to_sql(self.0.as_str(), out)
    }
}
