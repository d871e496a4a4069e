//! The quality audit: a uniform random sample of the ad revisions the policy allowed.
//!
//! Reviewers see what the policy queues, and what active learning draws near the model's
//! decision point; neither shows what the allowed ads are as a whole. The audit does: at ingest,
//! each new allowed revision is sampled with probability `rate` (drawn from the operating
//! system's random source, so an ad's author cannot steer an ad in or out), and a share of the
//! items reviewers claim is drawn from the sample, oldest first (`Store::queue_claim_drawing`),
//! as `source = audit`. Their answers estimate how much the policy lets through, and they are the
//! only decisions on which the learned model's calibration and raise threshold can be fitted
//! without the queue's selection bias (the service's `calibration::recalibrate`).
//!
//! A sampled row lives until the ad is purged: an updated ad's rows neither drawn nor decided
//! leave (the sample is of what is live), a drawn row stays with who drew it and when, and a
//! row's answer is the latest decision on its revision (a lead's override included), whether
//! the audit drew it or it was decided another way.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

use crate::{Result, Store, StoreError};

const PPM: u64 = 1_000_000;

/// The sampling rate, in millionths, shared by the store's handles and its writer.
#[derive(Debug, Clone, Default)]
pub(crate) struct AuditRate(Arc<AtomicU64>);

impl AuditRate {
    pub(crate) fn ppm(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Whether to sample one revision at `ppm` millionths: a fresh draw from the OS's random source
/// (an error of the source samples nothing rather than failing the ingest).
pub(crate) fn sampled(ppm: u64) -> bool {
    ppm > 0 && getrandom::u64().is_ok_and(|r| r % PPM < ppm)
}

/// Joins a sample `s` to `d`, the latest decision on its revision.
const LATEST: &str = "d.ad_id = s.ad_id AND d.revision = s.revision \
     AND d.seq = (SELECT MAX(e.seq) FROM decisions e WHERE e.ad_id = s.ad_id \
     AND e.revision = s.revision)";

/// `d` removed or reported the ad for something the learned model learns from.
const REMOVED: &str =
    "(d.action = 'report' OR (d.action = 'remove' AND d.reason NOT IN ('spam', 'other_policy')))";

/// One answered audit item: the latest decision on a sampled revision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct AuditAnswer {
    pub ad_id: String,
    pub revision: i64,
    pub decision_seq: i64,
    pub action: String,
    pub reason: String,
    pub actor: String,
}

/// Where the audit stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct AuditCounts {
    /// Revisions sampled (every row, drawn or not).
    pub sampled: i64,
    /// Sampled, neither drawn nor decided.
    pub waiting: i64,
    /// Drawn into the queue.
    pub drawn: i64,
    /// Decided with `allow`, `report` or a `remove` the model learns from (drawn or not).
    pub answered: i64,
    /// Of those, removed or reported: what the policy let through.
    pub removed: i64,
}

impl Store {
    /// Sets the share (0..=1) of allowed ad revisions sampled for the audit from now on (0, the
    /// default of a store just opened, samples nothing).
    pub fn set_audit_sample_rate(&self, rate: f64) -> Result<()> {
        if !(rate.is_finite() && (0.0..=1.0).contains(&rate)) {
            return Err(StoreError::Invalid(
                "the audit sample rate is between 0 and 1".into(),
            ));
        }
        // 0..=1 times a million fits a u64.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let ppm = (rate * PPM as f64).round() as u64;
        self.audit.0.store(ppm, Ordering::Relaxed);
        Ok(())
    }

    pub fn audit_sample_rate(&self) -> f64 {
        self.audit.ppm() as f64 / PPM as f64
    }

    /// The `limit` most recent answers of the audit (the latest decision on each sampled
    /// revision, drawn or decided through another way: both are labels of a uniform sample),
    /// newest decision first.
    pub async fn audit_answers(&self, limit: i64) -> Result<Vec<AuditAnswer>> {
        let rows: Vec<AuditAnswer> = on_read!(self, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT s.ad_id, s.revision, d.seq AS decision_seq, d.action, d.reason, d.actor \
                 FROM audit_sample s JOIN decisions d ON {LATEST} \
                 ORDER BY d.seq DESC LIMIT $1"
            )))
            .bind(limit.max(0))
            .fetch_all(pool)
            .await?
        });
        Ok(rows)
    }

    /// Where the audit stands (for the lead's report). `answered` and `removed` count what the
    /// learned model's fit counts: `allow`, `report`, and `remove` except for spam or another
    /// platform rule.
    pub async fn audit_counts(&self) -> Result<AuditCounts> {
        let row: (i64, i64, i64, i64, i64) = on_read!(self, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT CAST(COUNT(*) AS BIGINT), \
                   CAST(COALESCE(SUM(CASE WHEN s.drawn_at IS NULL AND d.seq IS NULL \
                     THEN 1 ELSE 0 END), 0) AS BIGINT), \
                   CAST(COALESCE(SUM(CASE WHEN s.drawn_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS BIGINT), \
                   CAST(COALESCE(SUM(CASE WHEN d.action = 'allow' OR {REMOVED} \
                     THEN 1 ELSE 0 END), 0) AS BIGINT), \
                   CAST(COALESCE(SUM(CASE WHEN {REMOVED} THEN 1 ELSE 0 END), 0) AS BIGINT) \
                 FROM audit_sample s LEFT JOIN decisions d ON {LATEST}"
            )))
            .fetch_one(pool)
            .await?
        });
        Ok(AuditCounts {
            sampled: row.0,
            waiting: row.1,
            drawn: row.2,
            answered: row.3,
            removed: row.4,
        })
    }
}
