//! Opaque records the linker saves and restores (LSH bands, union-find parents, template state),
//! keyed by `kind` + `key`. The store does not interpret them; it only keeps them durable and
//! gives them back in key order, so the engine's indexes come back after a restart and can be
//! shared by several workers on PostgreSQL.

use sha2::Digest;

use crate::{Result, Store, StoreError};

/// Largest part of a snapshot in one row.
pub const SNAPSHOT_PART: usize = 8 << 20;

impl Store {
    /// Inserts or replaces records `(kind, key, value)` in one transaction.
    pub async fn put_link_state(&self, records: &[(&str, &str, &[u8])]) -> Result<()> {
        let now = crate::now_ms();
        on_write!(&self.backend, |pool, dialect| {
            let mut tx = pool.begin_with(dialect.begin()).await?;
            for chunk in records.chunks(crate::ingest::CHUNK) {
                let mut qb = sqlx::QueryBuilder::<DB>::new(
                    "INSERT INTO link_state (kind, key, value, updated_at) ",
                );
                qb.push_values(chunk, |mut b, (kind, key, value)| {
                    b.push_bind(*kind)
                        .push_bind(*key)
                        .push_bind(*value)
                        .push_bind(now);
                });
                qb.push(
                    " ON CONFLICT (kind, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                );
                qb.build().execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// One record.
    pub async fn get_link_state(&self, kind: &str, key: &str) -> Result<Option<Vec<u8>>> {
        let row: Option<(Vec<u8>,)> = on_read!(self, |pool| {
            sqlx::query_as("SELECT value FROM link_state WHERE kind = $1 AND key = $2")
                .bind(kind)
                .bind(key)
                .fetch_optional(pool)
                .await?
        });
        Ok(row.map(|(v,)| v))
    }

    /// Records of `kind` with key greater than `after`, in key order, at most `limit`.
    pub async fn scan_link_state(
        &self,
        kind: &str,
        after: &str,
        limit: i64,
    ) -> Result<Vec<(String, Vec<u8>)>> {
        let rows: Vec<(String, Vec<u8>)> = on_read!(self, |pool| {
            sqlx::query_as(
                "SELECT key, value FROM link_state WHERE kind = $1 AND key > $2 ORDER BY key LIMIT $3",
            )
            .bind(kind)
            .bind(after)
            .bind(limit)
            .fetch_all(pool)
            .await?
        });
        Ok(rows)
    }

    /// The keys of a snapshot's parts (`part-…`) kept under `kind`, in key order.
    async fn snapshot_part_keys(&self, kind: &str) -> Result<Vec<String>> {
        let rows: Vec<(String,)> = on_read!(self, |pool| {
            sqlx::query_as(
                "SELECT key FROM link_state WHERE kind = $1 AND key LIKE 'part-%' ORDER BY key",
            )
            .bind(kind)
            .fetch_all(pool)
            .await?
        });
        Ok(rows.into_iter().map(|(k,)| k).collect())
    }

    /// How many records of `kind` have a key less than `before`.
    pub async fn count_link_state_before(&self, kind: &str, before: &str) -> Result<u64> {
        let (n,): (i64,) = on_read!(self, |pool| {
            sqlx::query_as("SELECT COUNT(*) FROM link_state WHERE kind = $1 AND key < $2")
                .bind(kind)
                .bind(before)
                .fetch_one(pool)
                .await?
        });
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Replaces the snapshot kept under `kind` by `bytes`, taken when `seq` records had been
    /// made, in one transaction: the bytes in parts of [`SNAPSHOT_PART`] (no row near a
    /// database's value limit) and a `meta` row with the sequence, length and SHA-256, which
    /// [`Store::link_snapshot`] checks.
    pub async fn put_link_snapshot(&self, kind: &str, seq: u64, bytes: &[u8]) -> Result<()> {
        let meta = serde_json::json!({
            "seq": seq,
            "len": bytes.len(),
            "sha256": crate::hex(&sha2::Sha256::digest(bytes)),
        })
        .to_string();
        let now = crate::now_ms();
        on_write!(&self.backend, |pool, dialect| {
            let mut tx = pool.begin_with(dialect.begin()).await?;
            sqlx::query("DELETE FROM link_state WHERE kind = $1")
                .bind(kind)
                .execute(&mut *tx)
                .await?;
            for (i, part) in bytes.chunks(SNAPSHOT_PART).enumerate() {
                sqlx::query(
                    "INSERT INTO link_state (kind, key, value, updated_at) VALUES ($1, $2, $3, $4)",
                )
                .bind(kind)
                .bind(format!("part-{i:08}"))
                .bind(part)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            sqlx::query(
                "INSERT INTO link_state (kind, key, value, updated_at) VALUES ($1, 'meta', $2, $3)",
            )
            .bind(kind)
            .bind(meta.as_bytes())
            .bind(now)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// The snapshot kept under `kind` and its sequence, if there is one; `Corrupt` when its
    /// parts do not add up to what its `meta` row says.
    pub async fn link_snapshot(&self, kind: &str) -> Result<Option<(u64, Vec<u8>)>> {
        let Some(meta) = self.get_link_state(kind, "meta").await? else {
            return Ok(None);
        };
        let meta: serde_json::Value = serde_json::from_slice(&meta)
            .map_err(|e| StoreError::Corrupt(format!("snapshot meta: {e}")))?;
        let (Some(seq), Some(len), Some(sha)) = (
            meta["seq"].as_u64(),
            meta["len"].as_u64(),
            meta["sha256"].as_str(),
        ) else {
            return Err(StoreError::Corrupt(
                "snapshot meta lacks seq, len or sha256".into(),
            ));
        };
        // The parts are read at once, each on a connection of its own (as many as the pool
        // has): a part's pages lie wherever the database put them, so from a cold disk one
        // reader waits on one page after another, and several keep the disk busy (measured at
        // 100 000 ads, 71 MiB cold: 0.75 s one part after another, 0.26 s four at a time;
        // `scripts/bench/snapshot-read.py`).
        let keys = self.snapshot_part_keys(kind).await?;
        let mut reads = tokio::task::JoinSet::new();
        for (i, key) in keys.iter().enumerate() {
            let (store, kind, key) = (self.clone(), kind.to_owned(), key.clone());
            reads.spawn(async move { (i, store.get_link_state(&kind, &key).await) });
        }
        let mut parts: Vec<Option<Vec<u8>>> = vec![None; keys.len()];
        while let Some(done) = reads.join_next().await {
            let (i, part) = done.map_err(|e| StoreError::Corrupt(format!("snapshot read: {e}")))?;
            if let Some(slot) = parts.get_mut(i) {
                *slot = part?;
            }
        }
        let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
        for (key, part) in keys.iter().zip(parts) {
            let part = part.ok_or_else(|| {
                StoreError::Corrupt(format!("snapshot `{kind}`: part {key} vanished while read"))
            })?;
            bytes.extend_from_slice(&part);
        }
        if bytes.len() as u64 != len || crate::hex(&sha2::Sha256::digest(&bytes)) != sha {
            return Err(StoreError::Corrupt(format!(
                "snapshot `{kind}`: its parts ({} bytes) are not what its meta row says ({len} bytes)",
                bytes.len()
            )));
        }
        Ok(Some((seq, bytes)))
    }

    /// Removes records; returns how many existed.
    pub async fn delete_link_state(&self, kind: &str, keys: &[&str]) -> Result<u64> {
        on_write!(&self.backend, |pool, dialect| {
            let mut tx = pool.begin_with(dialect.begin()).await?;
            let mut n = 0;
            for chunk in keys.chunks(crate::ingest::CHUNK) {
                let mut qb = sqlx::QueryBuilder::<DB>::new("DELETE FROM link_state WHERE kind = ");
                qb.push_bind(kind).push(" AND key IN (");
                let mut sep = qb.separated(", ");
                for k in chunk {
                    sep.push_bind(*k);
                }
                sep.push_unseparated(")");
                n += qb.build().execute(&mut *tx).await?.rows_affected();
            }
            tx.commit().await?;
            Ok(n)
        })
    }
}
