//! Preserved evidence (issue 22): the files a report case rests on, kept as content-addressed
//! blobs the service encrypted before they reach the store, listed per case, under a hold
//! ([`crate::holds`]). The store never sees a key or a plaintext: it keeps what it is given and
//! refuses (with triggers, whatever the caller) any change that would remove held evidence.
//!
//! Preserving is one transaction: the blobs (a blob already kept is shared, never rewritten),
//! the case's file list, the hold, and an audit entry (`evidence.preserve`) naming every file
//! with its SHA-256 — so the audit chain commits to what was preserved.
//!
//! The sealed bytes themselves live in blob storage (issue 24): a row names its object by the
//! SHA-256 of the ciphertext (`object_sha256`, also in the audit entry) and keeps an empty
//! `ciphertext`; the service writes the object before it calls [`Store::preserve`], so no row
//! ever names an object that was not written. Rows preserved before that keep their ciphertext
//! here (no object) and are read as they are.

use serde::Serialize;

use crate::holds::{HOLD_COLUMNS, Hold, HoldRow};
use crate::{Result, Store, StoreError};

/// One blob as the service sealed it.
#[derive(Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SealedBlob {
    /// SHA-256 (hex) of the plaintext.
    pub sha256: String,
    /// Which key sealed it.
    pub key_id: String,
    pub nonce: Vec<u8>,
    /// The ciphertext, when kept in the database (rows preserved before blob storage, or
    /// preserved with none configured); empty when it is in blob storage.
    pub ciphertext: Vec<u8>,
    /// Length of the plaintext.
    pub bytes: i64,
    /// SHA-256 (hex) of the ciphertext, which is kept in blob storage under this name; `None`
    /// when the ciphertext is in the database.
    pub object_sha256: Option<String>,
}

/// The blob-storage objects of preserved evidence: what `audit verify --blobs` checks.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PreservedObject {
    /// SHA-256 of the plaintext.
    pub sha256: String,
    /// SHA-256 of the ciphertext (the object's name).
    pub object_sha256: String,
    /// Length of the plaintext (the object has 16 bytes more: the AEAD tag).
    pub bytes: i64,
}

/// What [`Store::purge_released_evidence`] removed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReleasedEvidence {
    /// File-list rows of released cases.
    pub files: u64,
    /// Sealed blobs no held case shares any more.
    pub blobs: u64,
    /// The blob-storage objects of those blobs (SHA-256 of the ciphertext): the caller removes
    /// them from blob storage once this has committed.
    pub objects: Vec<String>,
}

impl std::fmt::Debug for SealedBlob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "SealedBlob {{ sha256: {}, key_id: {}, bytes: {}, object: {:?} }}",
            self.sha256, self.key_id, self.bytes, self.object_sha256
        )
    }
}

/// One preserved file of a case.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct PreservedFile {
    pub path: String,
    pub sha256: String,
    pub preserved_at: i64,
}

/// Longest path of a preserved file.
const MAX_PATH: usize = 512;

impl Store {
    /// Preserves `files` (path and sealed blob) for case `report_id` on ad `ad_id` and puts the
    /// case under a hold until `until_ms` (a hold already there is kept as it is; files already
    /// preserved under the same path are kept). Returns the hold.
    pub async fn preserve(
        &self,
        report_id: i64,
        ad_id: &str,
        files: &[(String, SealedBlob)],
        until_ms: i64,
        actor: &str,
        now: i64,
    ) -> Result<Hold> {
        for (path, blob) in files {
            if path.is_empty() || path.len() > MAX_PATH || path.contains("..") {
                return Err(StoreError::Invalid(format!(
                    "`{path}` is not a preserved file's path"
                )));
            }
            let sha = |t: &str| t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit());
            if !sha(&blob.sha256) {
                return Err(StoreError::Invalid(format!(
                    "`{}` is not a SHA-256",
                    blob.sha256
                )));
            }
            if let Some(object) = &blob.object_sha256
                && (!sha(object) || !blob.ciphertext.is_empty())
            {
                return Err(StoreError::Invalid(format!(
                    "`{path}`: an object in blob storage is named by a SHA-256 and its \
                     ciphertext is not also given"
                )));
            }
        }
        on_write!(&self.backend, |pool, dialect| {
            let mut tx = pool.begin_with(dialect.begin()).await?;
            if let Some(lock) = dialect.audit_lock_sql() {
                sqlx::query(lock).execute(&mut *tx).await?;
            }
            let known: Option<(i64,)> = sqlx::query_as("SELECT id FROM reports WHERE id = $1")
                .bind(report_id)
                .fetch_optional(&mut *tx)
                .await?;
            if known.is_none() {
                tx.rollback().await?;
                return Err(StoreError::NotFound(format!("report {report_id}")));
            }
            let mut listed = Vec::with_capacity(files.len());
            for (path, blob) in files {
                // The file first: a blob is stored only for a file this call adds.
                let added = sqlx::query(
                    "INSERT INTO evidence_files (report_id, path, sha256, preserved_at) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (report_id, path) DO NOTHING",
                )
                .bind(report_id)
                .bind(path)
                .bind(&blob.sha256)
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if added > 0 {
                    sqlx::query(
                        "INSERT INTO evidence_blobs (sha256, key_id, nonce, ciphertext, bytes, \
                         created_at, object_sha256) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                         ON CONFLICT (sha256) DO NOTHING",
                    )
                    .bind(&blob.sha256)
                    .bind(&blob.key_id)
                    .bind(&blob.nonce)
                    .bind(&blob.ciphertext)
                    .bind(blob.bytes)
                    .bind(now)
                    .bind(&blob.object_sha256)
                    .execute(&mut *tx)
                    .await?;
                    // The object the blob kept for this SHA-256 names (an earlier one, when
                    // the blob was already kept), so the chain commits to what is stored.
                    let (object,): (Option<String>,) = sqlx::query_as(
                        "SELECT object_sha256 FROM evidence_blobs WHERE sha256 = $1",
                    )
                    .bind(&blob.sha256)
                    .fetch_one(&mut *tx)
                    .await?;
                    listed.push(match object {
                        Some(o) => {
                            serde_json::json!({"path": path, "sha256": blob.sha256, "object": o})
                        }
                        None => serde_json::json!({"path": path, "sha256": blob.sha256}),
                    });
                }
            }
            sqlx::query(
                "INSERT INTO holds (report_id, ad_id, state, created_at, until_ms) \
                 VALUES ($1, $2, 'held', $3, $4) ON CONFLICT (report_id) DO NOTHING",
            )
            .bind(report_id)
            .bind(ad_id)
            .bind(now)
            .bind(until_ms)
            .execute(&mut *tx)
            .await?;
            let row: HoldRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {HOLD_COLUMNS} FROM holds WHERE report_id = $1"
            )))
            .bind(report_id)
            .fetch_one(&mut *tx)
            .await?;
            if !listed.is_empty() {
                let detail = serde_json::json!({
                    "report": report_id,
                    "hold": row.id,
                    "until": row.until_ms,
                    "files": listed,
                });
                append_audit!(tx, dialect, actor, "evidence.preserve", ad_id, detail, now);
            }
            tx.commit().await?;
            Ok(row.into_hold(Vec::new()))
        })
    }

    /// The preserved files of case `report_id`, by path.
    pub async fn preserved_files(&self, report_id: i64) -> Result<Vec<PreservedFile>> {
        let rows: Vec<PreservedFile> = on_read!(self, |pool| {
            sqlx::query_as(
                "SELECT path, sha256, preserved_at FROM evidence_files WHERE report_id = $1 \
                 ORDER BY path",
            )
            .bind(report_id)
            .fetch_all(pool)
            .await
        })?;
        Ok(rows)
    }

    /// The sealed blob of `sha256`, if kept.
    pub async fn preserved_blob(&self, sha256: &str) -> Result<Option<SealedBlob>> {
        let row: Option<SealedBlob> = on_read!(self, |pool| {
            sqlx::query_as(
                "SELECT sha256, key_id, nonce, ciphertext, bytes, object_sha256 \
                 FROM evidence_blobs WHERE sha256 = $1",
            )
            .bind(sha256)
            .fetch_optional(pool)
            .await
        })?;
        Ok(row)
    }

    /// Whether a sealed blob of the plaintext `sha256` is kept (a file preserved again shares
    /// it: nothing new is sealed or written).
    pub async fn preserved_blob_known(&self, sha256: &str) -> Result<bool> {
        let row: Option<(i64,)> = on_read!(self, |pool| {
            sqlx::query_as("SELECT CAST(1 AS BIGINT) FROM evidence_blobs WHERE sha256 = $1")
                .bind(sha256)
                .fetch_optional(pool)
                .await
        })?;
        Ok(row.is_some())
    }

    /// Preserved blobs kept in blob storage, in order of their plaintext's SHA-256, at most
    /// `limit` after `after` (paging).
    pub async fn preserved_objects(&self, after: &str, limit: i64) -> Result<Vec<PreservedObject>> {
        let rows: Vec<PreservedObject> = on_read!(self, |pool| {
            sqlx::query_as(
                "SELECT sha256, object_sha256, bytes FROM evidence_blobs \
                 WHERE object_sha256 IS NOT NULL AND sha256 > $1 ORDER BY sha256 LIMIT $2",
            )
            .bind(after)
            .bind(limit)
            .fetch_all(pool)
            .await
        })?;
        Ok(rows)
    }

    /// Cases with no hold yet (a stop between opening a case and preserving it), oldest first.
    pub async fn reports_without_hold(&self, limit: i64) -> Result<Vec<i64>> {
        let rows: Vec<(i64,)> = on_read!(self, |pool| {
            sqlx::query_as(
                "SELECT r.id FROM reports r WHERE NOT EXISTS \
                 (SELECT 1 FROM holds h WHERE h.report_id = r.id) ORDER BY r.id LIMIT $1",
            )
            .bind(limit)
            .fetch_all(pool)
            .await
        })?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }
}
