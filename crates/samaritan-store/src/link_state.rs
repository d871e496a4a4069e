//! Opaque records the linker saves and restores (LSH bands, union-find parents, template state),
//! keyed by `kind` + `key`. The store does not interpret them; it only keeps them durable and
//! gives them back in key order, so the engine's indexes come back after a restart and can be
//! shared by several workers on PostgreSQL.

use crate::{Result, Store};

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
