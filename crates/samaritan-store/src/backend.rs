//! Opening the two backends: pools, pragmas, migrations, and the dialect differences.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::{SQLITE_FILE, StoreError};

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// The two places a store can live.
#[derive(Clone)]
pub(crate) enum Backend {
    /// One writer connection (SQLite has one writer at a time; a single connection makes that
    /// explicit and avoids busy retries inside the process) and a pool of read-only readers,
    /// which WAL lets run beside the writer.
    Sqlite {
        write: SqlitePool,
        read: SqlitePool,
    },
    Postgres {
        pool: PgPool,
    },
}

/// The SQL dialect of a backend, for the few statements that differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// How a writing transaction starts. SQLite takes the write lock up front (`IMMEDIATE`) so a
    /// second process (the CLI creating a key while the server runs) waits instead of failing
    /// with a stale snapshot.
    pub(crate) fn begin(self) -> &'static str {
        match self {
            Dialect::Sqlite => "BEGIN IMMEDIATE",
            Dialect::Postgres => "BEGIN",
        }
    }

    /// A statement serialising audit appends across connections, where needed. SQLite already
    /// has one writer; PostgreSQL takes a transaction-scoped advisory lock.
    pub(crate) fn audit_lock_sql(self) -> Option<&'static str> {
        match self {
            Dialect::Sqlite => None,
            Dialect::Postgres => Some("SELECT pg_advisory_xact_lock(7207001)"),
        }
    }

    /// Suffix for a sub-select that claims queue rows: PostgreSQL skips rows another reviewer's
    /// transaction is claiming right now; SQLite's single writer needs nothing.
    pub(crate) fn skip_locked(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE SKIP LOCKED",
        }
    }

    /// Name for messages.
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Sqlite => "sqlite",
            Dialect::Postgres => "postgres",
        }
    }
}

impl Backend {
    pub(crate) fn dialect(&self) -> Dialect {
        match self {
            Backend::Sqlite { .. } => Dialect::Sqlite,
            Backend::Postgres { .. } => Dialect::Postgres,
        }
    }

    pub(crate) async fn open_sqlite(dir: &Path) -> Result<Backend, StoreError> {
        let location = dir.display().to_string();
        std::fs::create_dir_all(dir).map_err(|e| StoreError::Open {
            location: location.clone(),
            reason: format!("cannot create the data directory: {e}"),
        })?;
        let options = SqliteConnectOptions::new()
            .filename(dir.join(SQLITE_FILE))
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(30))
            .statement_cache_capacity(512)
            .pragma("temp_store", "memory")
            .pragma("cache_size", "-65536");
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(60))
            .connect_with(options.clone())
            .await
            .map_err(|e| StoreError::Open {
                location: location.clone(),
                reason: e.to_string(),
            })?;
        SQLITE_MIGRATIONS.run(&write).await?;
        let read = SqlitePoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(60))
            .connect_with(options.read_only(true))
            .await
            .map_err(|e| StoreError::Open {
                location,
                reason: e.to_string(),
            })?;
        Ok(Backend::Sqlite { write, read })
    }

    pub(crate) async fn open_postgres(
        url: &str,
        schema: Option<&str>,
    ) -> Result<Backend, StoreError> {
        let shown = redact_url(url);
        let mut options = PgConnectOptions::from_str(url).map_err(|e| StoreError::Open {
            location: shown.clone(),
            reason: e.to_string(),
        })?;
        if let Some(schema) = schema {
            if !schema
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
                || schema.is_empty()
            {
                return Err(StoreError::Invalid(format!(
                    "schema name `{schema}` must be ASCII letters, digits and `_`"
                )));
            }
            let admin = PgPoolOptions::new()
                .max_connections(1)
                .connect_with(options.clone())
                .await
                .map_err(|e| StoreError::Open {
                    location: shown.clone(),
                    reason: e.to_string(),
                })?;
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "CREATE SCHEMA IF NOT EXISTS \"{schema}\""
            )))
            .execute(&admin)
            .await?;
            admin.close().await;
            options = options.options([("search_path", schema)]);
        }
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(60))
            .connect_with(options)
            .await
            .map_err(|e| StoreError::Open {
                location: shown,
                reason: e.to_string(),
            })?;
        POSTGRES_MIGRATIONS.run(&pool).await?;
        Ok(Backend::Postgres { pool })
    }

    pub(crate) fn is_closed(&self) -> bool {
        match self {
            Backend::Sqlite { write, .. } => write.is_closed(),
            Backend::Postgres { pool } => pool.is_closed(),
        }
    }

    pub(crate) async fn close(&self) {
        match self {
            Backend::Sqlite { write, read } => {
                read.close().await;
                write.close().await;
            }
            Backend::Postgres { pool } => pool.close().await,
        }
    }
}

/// The URL without its password, for messages and logs.
pub(crate) fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{}:***{}", &url[..scheme + 3], user, &url[at..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_never_shown() {
        assert_eq!(
            redact_url("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact_url("postgres://h/db"), "postgres://h/db");
    }
}
