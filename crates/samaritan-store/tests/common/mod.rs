//! Stores for the shared suite: a fresh SQLite directory, or a fresh PostgreSQL schema that is
//! dropped afterwards (so runs can go in parallel and leave nothing behind).

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // tests may unwrap (CONTRIBUTING.md)

use std::sync::atomic::{AtomicU64, Ordering};

use samaritan_engine::model::{Ad, Analysis, Extracted, NetworkRef, Verdict};
use samaritan_store::Store;

pub struct Fixture {
    pub store: Store,
    /// Where the store lives, for opening it again or tampering with it directly.
    pub location: Location,
    _dir: Option<tempfile::TempDir>,
}

pub enum Location {
    Sqlite(std::path::PathBuf),
    Postgres { url: String, schema: String },
}

impl Fixture {
    pub async fn reopen(&self) -> Store {
        match &self.location {
            Location::Sqlite(dir) => Store::open_sqlite(dir).await.unwrap(),
            Location::Postgres { url, schema } => Store::open_postgres_in_schema(url, Some(schema))
                .await
                .unwrap(),
        }
    }

    /// Runs raw SQL against the database, bypassing the store (to tamper with it).
    pub async fn raw(&self, sql: &str) {
        match &self.location {
            Location::Sqlite(dir) => {
                let url = format!(
                    "sqlite://{}",
                    dir.join(samaritan_store::SQLITE_FILE).display()
                );
                let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
                sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
                    .execute(&pool)
                    .await
                    .unwrap();
                pool.close().await;
            }
            Location::Postgres { url, schema } => {
                let pool = sqlx::PgPool::connect(url).await.unwrap();
                let sql = format!("SET search_path TO \"{schema}\"; {sql}");
                sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                    .execute(&pool)
                    .await
                    .unwrap();
                pool.close().await;
            }
        }
    }
}

impl Fixture {
    /// Runs raw SQL bypassing the store; its error as text (to show what the store refuses).
    pub async fn raw_result(&self, sql: &str) -> Result<(), String> {
        match &self.location {
            Location::Sqlite(dir) => {
                let url = format!(
                    "sqlite://{}",
                    dir.join(samaritan_store::SQLITE_FILE).display()
                );
                let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
                let r = sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
                    .execute(&pool)
                    .await;
                pool.close().await;
                r.map(|_| ()).map_err(|e| e.to_string())
            }
            Location::Postgres { url, schema } => {
                let pool = sqlx::PgPool::connect(url).await.unwrap();
                let sql = format!("SET search_path TO \"{schema}\"; {sql}");
                let r = sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&pool).await;
                pool.close().await;
                r.map(|_| ()).map_err(|e| e.to_string())
            }
        }
    }
}

impl Fixture {
    /// The first column of every row `sql` returns, as text, read directly from the database.
    pub async fn raw_strings(&self, sql: &str) -> Vec<String> {
        match &self.location {
            Location::Sqlite(dir) => {
                let url = format!(
                    "sqlite://{}",
                    dir.join(samaritan_store::SQLITE_FILE).display()
                );
                let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
                let rows: Vec<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(sql.to_owned()))
                    .fetch_all(&pool)
                    .await
                    .unwrap();
                pool.close().await;
                rows.into_iter().map(|r| r.0).collect()
            }
            Location::Postgres { url, schema } => {
                let pool = sqlx::PgPool::connect(url).await.unwrap();
                let mut conn = pool.acquire().await.unwrap();
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                    "SET search_path TO \"{schema}\""
                )))
                .execute(&mut *conn)
                .await
                .unwrap();
                let rows: Vec<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(sql.to_owned()))
                    .fetch_all(&mut *conn)
                    .await
                    .unwrap();
                drop(conn);
                pool.close().await;
                rows.into_iter().map(|r| r.0).collect()
            }
        }
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        if let Location::Postgres { url, schema } = &self.location {
            let (url, schema) = (url.clone(), schema.clone());
            // Drop the schema on a fresh runtime: Drop cannot await.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async {
                    if let Ok(pool) = sqlx::PgPool::connect(&url).await {
                        let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                            "DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"
                        )))
                        .execute(&pool)
                        .await;
                        pool.close().await;
                    }
                });
            })
            .join();
        }
    }
}

pub async fn sqlite() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_sqlite(dir.path()).await.unwrap();
    Fixture {
        store,
        location: Location::Sqlite(dir.path().to_owned()),
        _dir: Some(dir),
    }
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

pub async fn postgres(test: &str) -> Option<Fixture> {
    let url = samaritan_testkit::postgres_url(test)?;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let schema = format!(
        "samaritan_test_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        nanos
    );
    let store = Store::open_postgres_in_schema(&url, Some(&schema))
        .await
        .unwrap();
    Some(Fixture {
        store,
        location: Location::Postgres { url, schema },
        _dir: None,
    })
}

/// A clinical synthetic ad with a fictional 555-01xx phone.
pub fn ad(id: &str, body: &str) -> Ad {
    let mut ad = Ad::text(id, Some("Listing"), Some(body));
    ad.account = Some(format!("acct-{}", id.len()));
    ad
}

/// An analysis as the engine would shape it.
pub fn analysis(id: &str, verdict: Verdict, priority: u32, phones: &[&str]) -> Analysis {
    Analysis {
        schema: samaritan_engine::model::ANALYSIS_SCHEMA,
        id: id.to_owned(),
        verdict,
        score: match verdict {
            Verdict::Allow => 0.05,
            Verdict::Review => 0.5,
            Verdict::Block => 0.9,
        },
        priority,
        report_candidate: false,
        signals: Vec::new(),
        extracted: Extracted {
            phones: phones.iter().map(|p| p.to_string()).collect(),
            ..Extracted::default()
        },
        mentions: Vec::new(),
        network: None,
        template: None,
        policy: "test@1".to_owned(),
        images: Vec::new(),
    }
}

pub fn with_network(mut a: Analysis, id: &str, size: u32) -> Analysis {
    a.network = Some(NetworkRef {
        id: id.to_owned(),
        size,
        cities: 2,
        reasons: vec!["phone".to_owned()],
    });
    a
}

pub fn item(ad: Ad, analysis: Analysis) -> samaritan_store::IngestItem {
    let raw = serde_json::to_string(&ad).unwrap();
    samaritan_store::IngestItem::new(ad, raw, analysis).unwrap()
}
