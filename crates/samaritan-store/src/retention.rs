//! Retention (issue 22): ads the platform has not sent for longer than the configured period
//! are removed — their revisions, analyses, identifiers, queue row, network membership and the
//! learned model's shadow scores (which quote the ad) — unless a hold covers them or a reviewer
//! still has them open. Decisions and the audit log stay (they hold no ad text). Preserved
//! evidence goes only with a released hold. Every purge is audited (`retention.purge`,
//! `retention.evidence`) with what it removed; the held checks are made again inside the purge's
//! transaction, and the store's triggers refuse a held row whatever the caller.

use serde::Serialize;

use crate::evidence::ReleasedEvidence;
use crate::{Result, Store};

/// An ad past the retention period, and whether it must stay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct RetentionCandidate {
    pub ad_id: String,
    pub updated_at: i64,
    /// A hold covers it, or a report on it is not held yet: kept.
    pub held: bool,
    /// Open or escalated in the review queue: kept.
    pub in_review: bool,
}

/// What a purge removed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Purged {
    pub ads: Vec<String>,
    pub revisions: u64,
    pub analyses: u64,
    /// Kept images (SHA-256) no remaining analysis names: the caller removes their files.
    pub images: Vec<String>,
}

/// Whether ad `a` must stay: a hold stands on it, or a report on it is not held yet (a case
/// not preserved, or a report decision with no case: the service's sweep will hold them).
const HELD: &str = "(EXISTS (SELECT 1 FROM holds h WHERE h.ad_id = a.id AND h.state = 'held') \
     OR EXISTS (SELECT 1 FROM reports r WHERE r.ad_id = a.id AND NOT EXISTS \
                (SELECT 1 FROM holds h2 WHERE h2.report_id = r.id)) \
     OR EXISTS (SELECT 1 FROM decisions d WHERE d.ad_id = a.id AND d.action = 'report' \
                AND NOT EXISTS (SELECT 1 FROM reports r2 WHERE r2.decision_seq = d.seq)))";

fn images_of(analysis: &str) -> Vec<String> {
    serde_json::from_str::<serde_json::Value>(analysis)
        .ok()
        .and_then(|v| v.get("images").cloned())
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|i| i.get("sha256").and_then(|s| s.as_str()).map(str::to_owned))
        .filter(|s| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()))
        .collect()
}

impl Store {
    /// Ads last sent before `cutoff_ms`, oldest first, at most `limit`.
    pub async fn retention_candidates(
        &self,
        cutoff_ms: i64,
        limit: i64,
    ) -> Result<Vec<RetentionCandidate>> {
        let rows: Vec<RetentionCandidate> = on_read!(self, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT a.id AS ad_id, a.updated_at, {HELD} AS held, \
                 EXISTS (SELECT 1 FROM queue q WHERE q.ad_id = a.id \
                         AND q.state IN ('open', 'escalated')) AS in_review \
                 FROM ads a WHERE a.updated_at < $1 ORDER BY a.updated_at, a.id LIMIT $2"
            )))
            .bind(cutoff_ms)
            .bind(limit)
            .fetch_all(pool)
            .await
        })?;
        Ok(rows)
    }

    /// Removes ads `ids` that are still past `cutoff_ms`, unheld and out of review (checked
    /// again here, in the transaction); audited with what was removed.
    pub async fn purge_ads(
        &self,
        ids: &[String],
        cutoff_ms: i64,
        actor: &str,
        now: i64,
    ) -> Result<Purged> {
        if ids.is_empty() {
            return Ok(Purged::default());
        }
        on_write!(&self.backend, |pool, dialect| {
            let mut tx = pool.begin_with(dialect.begin()).await?;
            let mut out = Purged::default();
            let mut images: Vec<String> = Vec::new();
            for id in ids {
                let ok: Option<(i64,)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT CAST(1 AS BIGINT) FROM ads a WHERE a.id = $1 AND a.updated_at < $2 \
                     AND NOT {HELD} \
                     AND NOT EXISTS (SELECT 1 FROM queue q WHERE q.ad_id = a.id \
                                     AND q.state IN ('open', 'escalated'))"
                )))
                .bind(id)
                .bind(cutoff_ms)
                .fetch_optional(&mut *tx)
                .await?;
                if ok.is_none() {
                    continue;
                }
                let analyses: Vec<(String,)> =
                    sqlx::query_as("SELECT analysis FROM analyses WHERE ad_id = $1")
                        .bind(id)
                        .fetch_all(&mut *tx)
                        .await?;
                for (a,) in &analyses {
                    images.extend(images_of(a));
                }
                out.revisions += sqlx::query("DELETE FROM ad_history WHERE ad_id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                out.analyses += sqlx::query("DELETE FROM analyses WHERE ad_id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                for table in [
                    "identifiers",
                    "queue",
                    "network_members",
                    "model_scores",
                    "learning_pool",
                    "audit_sample",
                ] {
                    sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DELETE FROM {table} WHERE ad_id = $1"
                    )))
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                }
                sqlx::query("DELETE FROM ads WHERE id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                out.ads.push(id.clone());
            }
            images.sort();
            images.dedup();
            for sha in images {
                let pattern = format!("%{sha}%");
                let still: Option<(i64,)> = sqlx::query_as(
                    "SELECT CAST(1 AS BIGINT) FROM analyses WHERE analysis LIKE $1 LIMIT 1",
                )
                .bind(&pattern)
                .fetch_optional(&mut *tx)
                .await?;
                let latest: Option<(i64,)> = sqlx::query_as(
                    "SELECT CAST(1 AS BIGINT) FROM ads WHERE analysis LIKE $1 LIMIT 1",
                )
                .bind(&pattern)
                .fetch_optional(&mut *tx)
                .await?;
                if still.is_none() && latest.is_none() {
                    out.images.push(sha);
                }
            }
            if !out.ads.is_empty() {
                let detail = serde_json::json!({
                    "cutoff": cutoff_ms,
                    "ads": out.ads,
                    "revisions": out.revisions,
                    "analyses": out.analyses,
                    "images": out.images.len(),
                });
                append_audit!(
                    tx,
                    dialect,
                    actor,
                    "retention.purge",
                    "retention",
                    detail,
                    now
                );
            }
            tx.commit().await?;
            Ok(out)
        })
    }

    /// Removes the preserved evidence of released holds (their file lists, and the blobs no
    /// held case shares); audited. The blob-storage objects of the removed blobs are returned
    /// for the caller to delete once this has committed (a held blob's row cannot be removed:
    /// the store's triggers refuse it, so its object is never named here).
    pub async fn purge_released_evidence(&self, actor: &str, now: i64) -> Result<ReleasedEvidence> {
        on_write!(&self.backend, |pool, dialect| {
            let mut tx = pool.begin_with(dialect.begin()).await?;
            let files = sqlx::query(
                "DELETE FROM evidence_files WHERE report_id IN \
                 (SELECT report_id FROM holds WHERE state = 'released')",
            )
            .execute(&mut *tx)
            .await?
            .rows_affected();
            let removed: Vec<(Option<String>,)> = sqlx::query_as(
                "DELETE FROM evidence_blobs WHERE NOT EXISTS \
                 (SELECT 1 FROM evidence_files f WHERE f.sha256 = evidence_blobs.sha256) \
                 RETURNING object_sha256",
            )
            .fetch_all(&mut *tx)
            .await?;
            let blobs = removed.len() as u64;
            let mut objects: Vec<String> = removed.into_iter().filter_map(|(o,)| o).collect();
            objects.sort();
            if files + blobs > 0 {
                let detail =
                    serde_json::json!({"files": files, "blobs": blobs, "objects": objects});
                append_audit!(
                    tx,
                    dialect,
                    actor,
                    "retention.evidence",
                    "retention",
                    detail,
                    now
                );
            }
            tx.commit().await?;
            Ok(ReleasedEvidence {
                files,
                blobs,
                objects,
            })
        })
    }
}
