//! Reading an ad back as evidence: the ad as received, its analyses, its decisions and its place
//! in the queue; and the counts behind `/metrics`.

use samaritan_engine::model::Analysis;
use serde::Serialize;

use crate::decisions::{DECISION_COLUMNS, DecisionRow};
use crate::ingest::parse_analysis;
use crate::queue::{QUEUE_COLUMNS, QUEUE_JOINS, QueueItem, QueueRow, queue_item};
use crate::{Decision, Result, Store};

/// Everything stored about one ad.
#[derive(Debug, Clone, Serialize)]
pub struct AdRecord {
    pub id: String,
    /// The ad's JSON exactly as the platform last sent it.
    pub raw: String,
    pub revision: i64,
    pub received_at: i64,
    pub updated_at: i64,
    pub analysis: Analysis,
    pub decisions: Vec<Decision>,
    pub queue: Option<QueueItem>,
    pub network_id: Option<String>,
}

/// Counts for metrics and readiness.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    pub ads: i64,
    pub analyses: i64,
    pub queue_open: i64,
    pub queue_escalated: i64,
    pub decisions: i64,
    pub audit_entries: i64,
}

type AdRow = (String, String, i64, i64, i64, String, Option<String>);

impl Store {
    /// The ad, its latest analysis, decisions and queue state; `None` when unknown.
    pub async fn get_ad(&self, id: &str, now: i64) -> Result<Option<AdRecord>> {
        on_read!(self, |pool| {
            let row: Option<AdRow> = sqlx::query_as(
                "SELECT a.id, a.raw, a.revision, a.received_at, a.updated_at, a.analysis, m.network_id \
                 FROM ads a LEFT JOIN network_members m ON m.ad_id = a.id WHERE a.id = $1",
            )
            .bind(id)
            .fetch_optional(pool)
            .await?;
            let Some((id, raw, revision, received_at, updated_at, analysis, network_id)) = row
            else {
                return Ok(None);
            };
            let decisions: Vec<DecisionRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {DECISION_COLUMNS} FROM decisions WHERE ad_id = $1 ORDER BY seq"
            )))
            .bind(id.as_str())
            .fetch_all(pool)
            .await?;
            let queue: Option<QueueRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {QUEUE_COLUMNS} FROM queue q {QUEUE_JOINS} WHERE q.ad_id = $1"
            )))
            .bind(id.as_str())
            .fetch_optional(pool)
            .await?;
            Ok(Some(AdRecord {
                analysis: parse_analysis(&id, &analysis)?,
                decisions: decisions.into_iter().map(Decision::from).collect(),
                queue: queue.map(|q| queue_item(q, now)).transpose()?,
                id,
                raw,
                revision,
                received_at,
                updated_at,
                network_id,
            }))
        })
    }

    /// The stored revision and latest analysis of those of `ids` that exist.
    pub async fn latest_analyses(
        &self,
        ids: &[&str],
    ) -> Result<std::collections::HashMap<String, (i64, Analysis)>> {
        let mut out = std::collections::HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(crate::ingest::CHUNK) {
            let rows: Vec<(String, i64, String)> = on_read!(self, |pool| {
                let mut qb = sqlx::QueryBuilder::<DB>::new(
                    "SELECT id, revision, analysis FROM ads WHERE id IN (",
                );
                let mut sep = qb.separated(", ");
                for id in chunk {
                    sep.push_bind(*id);
                }
                sep.push_unseparated(")");
                qb.build_query_as().fetch_all(pool).await?
            });
            for (id, revision, text) in rows {
                let a = parse_analysis(&id, &text)?;
                out.insert(id, (revision, a));
            }
        }
        Ok(out)
    }

    /// Every analysis of the ad, oldest first, with the time it was made.
    pub async fn analysis_history(&self, id: &str) -> Result<Vec<(i64, Analysis)>> {
        let rows: Vec<(i64, String)> = on_read!(self, |pool| {
            sqlx::query_as(
                "SELECT created_at, analysis FROM analyses WHERE ad_id = $1 ORDER BY seq",
            )
            .bind(id)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter()
            .map(|(t, a)| Ok((t, parse_analysis(id, &a)?)))
            .collect()
    }

    /// The latest analysis made of revision `revision` of the ad.
    pub async fn analysis_of_revision(&self, id: &str, revision: i64) -> Result<Option<Analysis>> {
        let row: Option<(String,)> = on_read!(self, |pool| {
            sqlx::query_as(
                "SELECT analysis FROM analyses WHERE ad_id = $1 AND revision = $2 \
                 ORDER BY seq DESC LIMIT 1",
            )
            .bind(id)
            .bind(revision)
            .fetch_optional(pool)
            .await?
        });
        row.map(|(a,)| parse_analysis(id, &a)).transpose()
    }

    /// Earlier revisions of the ad (raw JSON), oldest first.
    pub async fn ad_history(&self, id: &str) -> Result<Vec<(i64, String)>> {
        let rows: Vec<(i64, String)> = on_read!(self, |pool| {
            sqlx::query_as(
                "SELECT revision, raw FROM ad_history WHERE ad_id = $1 ORDER BY revision",
            )
            .bind(id)
            .fetch_all(pool)
            .await?
        });
        Ok(rows)
    }

    /// Row counts (exact; cheap enough for a scrape every few seconds at millions of rows on
    /// PostgreSQL, and on SQLite thanks to the primary-key b-trees).
    pub async fn stats(&self) -> Result<Stats> {
        on_read!(self, |pool| {
            let (ads, analyses, queue_open, queue_escalated, decisions, audit_entries): (
                i64,
                i64,
                i64,
                i64,
                i64,
                i64,
            ) = sqlx::query_as(
                "SELECT (SELECT COUNT(*) FROM ads), (SELECT COUNT(*) FROM analyses), \
                 (SELECT COUNT(*) FROM queue WHERE state = 'open'), \
                 (SELECT COUNT(*) FROM queue WHERE state = 'escalated'), \
                 (SELECT COUNT(*) FROM decisions), (SELECT COUNT(*) FROM audit_log)",
            )
            .fetch_one(pool)
            .await?;
            Ok(Stats {
                ads,
                analyses,
                queue_open,
                queue_escalated,
                decisions,
                audit_entries,
            })
        })
    }

    /// The raw JSON of the `limit` ads received last, newest first (to backtest a policy on
    /// what the platform posts now).
    pub async fn recent_ads(&self, limit: i64) -> Result<Vec<String>> {
        let rows: Vec<(String,)> = on_read!(self, |pool| {
            sqlx::query_as("SELECT raw FROM ads ORDER BY received_at DESC, id LIMIT $1")
                .bind(limit)
                .fetch_all(pool)
                .await?
        });
        Ok(rows.into_iter().map(|(raw,)| raw).collect())
    }

    /// Every stored ad id with its raw JSON, in id order, `limit` at a time after `after`
    /// (for rebuilding the engine's indexes at start).
    pub async fn ads_page(&self, after: &str, limit: i64) -> Result<Vec<(String, String)>> {
        let rows: Vec<(String, String)> = on_read!(self, |pool| {
            sqlx::query_as("SELECT id, raw FROM ads WHERE id > $1 ORDER BY id LIMIT $2")
                .bind(after)
                .bind(limit)
                .fetch_all(pool)
                .await?
        });
        Ok(rows)
    }
}
