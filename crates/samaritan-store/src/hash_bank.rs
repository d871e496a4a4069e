//! Hash banks: lists of known image hashes (PDQ, MD5, SHA-256) a platform or a partner shares,
//! each with what it means. The image stage matches against them; the store keeps them.

use serde::Serialize;

use crate::{Result, Store, StoreError};

/// One known hash.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HashBankEntry {
    pub bank: String,
    /// `pdq`, `md5` or `sha256`.
    pub kind: String,
    /// Lowercase hex.
    pub hash: String,
    pub label: String,
    pub added_at: i64,
}

fn check(kind: &str, hash: &str) -> Result<String> {
    let len = match kind {
        "pdq" | "sha256" => 64,
        "md5" => 32,
        other => {
            return Err(StoreError::Invalid(format!(
                "hash kind `{other}` is not one of pdq, md5, sha256"
            )));
        }
    };
    let h = hash.trim().to_ascii_lowercase();
    if h.len() != len || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(StoreError::Invalid(format!(
            "a {kind} hash has {len} hex digits, got `{}`",
            hash.chars().take(80).collect::<String>()
        )));
    }
    Ok(h)
}

impl Store {
    /// Adds (or relabels) entries `(bank, kind, hash, label)`; all or nothing.
    pub async fn add_hash_bank_entries(&self, entries: &[(&str, &str, &str, &str)]) -> Result<()> {
        let mut rows = Vec::with_capacity(entries.len());
        for (bank, kind, hash, label) in entries {
            rows.push((*bank, *kind, check(kind, hash)?, *label));
        }
        let now = crate::now_ms();
        on_write!(&self.backend, |pool, dialect| {
            let mut tx = pool.begin_with(dialect.begin()).await?;
            for chunk in rows.chunks(crate::ingest::CHUNK) {
                let mut qb = sqlx::QueryBuilder::<DB>::new(
                    "INSERT INTO hash_bank (bank, kind, hash, label, added_at) ",
                );
                qb.push_values(chunk, |mut b, (bank, kind, hash, label)| {
                    b.push_bind(*bank)
                        .push_bind(*kind)
                        .push_bind(hash.as_str())
                        .push_bind(*label)
                        .push_bind(now);
                });
                qb.push(" ON CONFLICT (bank, kind, hash) DO UPDATE SET label = excluded.label");
                qb.build().execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// Entries of one bank (or all banks), in (bank, kind, hash) order.
    pub async fn hash_bank_entries(&self, bank: Option<&str>) -> Result<Vec<HashBankEntry>> {
        let rows: Vec<(String, String, String, String, i64)> = on_read!(self, |pool| {
            sqlx::query_as(
                "SELECT bank, kind, hash, label, added_at FROM hash_bank \
                 WHERE $1 IS NULL OR bank = $1 ORDER BY bank, kind, hash",
            )
            .bind(bank)
            .fetch_all(pool)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(|(bank, kind, hash, label, added_at)| HashBankEntry {
                bank,
                kind,
                hash,
                label,
                added_at,
            })
            .collect())
    }

    /// Removes one entry; returns whether it existed.
    pub async fn remove_hash_bank_entry(&self, bank: &str, kind: &str, hash: &str) -> Result<bool> {
        let hash = check(kind, hash)?;
        on_write!(&self.backend, |pool, dialect| {
            let mut tx = pool.begin_with(dialect.begin()).await?;
            let n =
                sqlx::query("DELETE FROM hash_bank WHERE bank = $1 AND kind = $2 AND hash = $3")
                    .bind(bank)
                    .bind(kind)
                    .bind(hash.as_str())
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            tx.commit().await?;
            Ok(n > 0)
        })
    }
}
