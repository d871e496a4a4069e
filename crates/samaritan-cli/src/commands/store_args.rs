//! Where the store lives, as every service command takes it.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use samaritan_store::Store;

#[derive(Args, Debug, Clone)]
pub struct StoreArgs {
    /// Data directory: the embedded SQLite store (created if missing) and the hash banks in its
    /// `banks/` (as `samaritan bank import` writes them and `scan` reads them).
    #[arg(long, env = "SAMARITAN_DATA_DIR", default_value = "samaritan-data")]
    pub data_dir: PathBuf,
    /// PostgreSQL URL (`postgres://user@host/db`) instead of the embedded store.
    #[arg(long, env = "SAMARITAN_DATABASE")]
    pub database: Option<String>,
}

impl StoreArgs {
    /// Opens the store (running migrations).
    pub async fn open(&self) -> Result<Store> {
        match &self.database {
            Some(url) => Store::open_postgres(url)
                .await
                .context("cannot open the PostgreSQL store"),
            None => Store::open_sqlite(&self.data_dir)
                .await
                .with_context(|| format!("cannot open the store in {}", self.data_dir.display())),
        }
    }

    /// How to name the store to a person (never with a password).
    pub fn describe(&self) -> String {
        match &self.database {
            Some(url) => format!("postgres {}", redact(url)),
            None => format!(
                "sqlite {}",
                self.data_dir.join(samaritan_store::SQLITE_FILE).display()
            ),
        }
    }
}

fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}***{}", &url[..s + 3], &url[at..]),
        _ => url.to_owned(),
    }
}

/// A multi-threaded runtime for a command.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}
