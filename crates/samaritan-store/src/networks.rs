//! Networks: the groups of ads the linker joined, with their members, for `/v1/networks/{id}`.
//!
//! Ingest records each ad's `network` from its analysis; the linker may also save a network
//! directly with richer detail (features, evidence) when it recomputes one.

use serde::Serialize;

use crate::{Result, Store};

/// One member ad of a network.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NetworkMember {
    pub ad_id: String,
    pub verdict: String,
    pub score: f64,
    pub priority: i64,
}

/// A network and its members.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NetworkRecord {
    pub id: String,
    pub size: i64,
    pub cities: i64,
    pub reasons: Vec<String>,
    /// Whatever the linker keeps about the network (features, evidence); `{}` when nothing.
    pub detail: serde_json::Value,
    pub updated_at: i64,
    pub members: Vec<NetworkMember>,
}

/// One member of a network as a case review shows it.
#[derive(Debug, Clone)]
pub struct CaseMember {
    pub ad_id: String,
    pub revision: i64,
    /// The ad's JSON as the platform last sent it.
    pub raw: String,
    pub analysis: samaritan_engine::model::Analysis,
    /// `open`, `claimed`, `escalated`, `decided`, or `None` when it never entered the queue.
    pub queue: Option<String>,
    /// Who holds a live lease on it.
    pub claimed_by: Option<String>,
    /// The latest decision on it.
    pub decision: Option<crate::Decision>,
}

type CaseRow = (
    String,
    i64,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<i64>,
);

/// One network as the linker sees it now.
#[derive(Debug, Clone, PartialEq)]
pub struct NetworkSave {
    pub id: String,
    pub size: i64,
    pub cities: i64,
    pub reasons: Vec<String>,
    /// Evidence and features, kept as the network's `detail`.
    pub detail: serde_json::Value,
}

/// What changed in the linker's networks since the last save: rows to write, ads whose
/// network changed (`None`: no longer in any network), networks that no longer exist (merged
/// into an older one, or split by the hub guard).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NetworkChanges {
    pub save: Vec<NetworkSave>,
    pub members: Vec<(String, Option<String>)>,
    pub removed: Vec<String>,
}

impl NetworkChanges {
    pub fn is_empty(&self) -> bool {
        self.save.is_empty() && self.members.is_empty() && self.removed.is_empty()
    }
}

/// Writes `$changes` (a `&NetworkChanges`) inside transaction `$tx`: network rows upserted (with
/// `detail`), memberships set or removed, vanished networks deleted.
macro_rules! apply_network_changes_in_tx {
    ($tx:ident, $changes:expr, $now:expr) => {{
        let changes: &$crate::networks::NetworkChanges = $changes;
        let now: i64 = $now;
        let rows: Vec<(&$crate::networks::NetworkSave, String, String)> = changes
            .save
            .iter()
            .map(|n| {
                (
                    n,
                    serde_json::to_string(&n.reasons).unwrap_or_else(|_| "[]".into()),
                    serde_json::to_string(&n.detail).unwrap_or_else(|_| "{}".into()),
                )
            })
            .collect();
        let joined: Vec<(&str, &str)> = changes
            .members
            .iter()
            .filter_map(|(ad, n)| n.as_deref().map(|n| (ad.as_str(), n)))
            .collect();
        let left: Vec<&str> = changes
            .members
            .iter()
            .filter(|(_, n)| n.is_none())
            .map(|(ad, _)| ad.as_str())
            .collect();
        for chunk in changes.removed.chunks(crate::ingest::CHUNK) {
            let mut qb = sqlx::QueryBuilder::<DB>::new("DELETE FROM networks WHERE id IN (");
            let mut sep = qb.separated(", ");
            for id in chunk {
                sep.push_bind(id.as_str());
            }
            sep.push_unseparated(")");
            qb.build().execute(&mut *$tx).await?;
        }
        for chunk in rows.chunks(crate::ingest::CHUNK) {
            let mut qb = sqlx::QueryBuilder::<DB>::new(
                "INSERT INTO networks (id, size, cities, reasons, detail, updated_at) ",
            );
            qb.push_values(chunk, |mut b, (n, reasons, detail)| {
                b.push_bind(n.id.as_str())
                    .push_bind(n.size)
                    .push_bind(n.cities)
                    .push_bind(reasons.as_str())
                    .push_bind(detail.as_str())
                    .push_bind(now);
            });
            qb.push(
                " ON CONFLICT (id) DO UPDATE SET size = excluded.size, \
                 cities = excluded.cities, reasons = excluded.reasons, detail = excluded.detail, \
                 updated_at = excluded.updated_at",
            );
            qb.build().execute(&mut *$tx).await?;
        }
        for chunk in joined.chunks(crate::ingest::CHUNK) {
            let mut qb =
                sqlx::QueryBuilder::<DB>::new("INSERT INTO network_members (ad_id, network_id) ");
            qb.push_values(chunk, |mut b, (ad, net)| {
                b.push_bind(*ad).push_bind(*net);
            });
            qb.push(" ON CONFLICT (ad_id) DO UPDATE SET network_id = excluded.network_id");
            qb.build().execute(&mut *$tx).await?;
        }
        for chunk in left.chunks(crate::ingest::CHUNK) {
            let mut qb =
                sqlx::QueryBuilder::<DB>::new("DELETE FROM network_members WHERE ad_id IN (");
            let mut sep = qb.separated(", ");
            for id in chunk {
                sep.push_bind(*id);
            }
            sep.push_unseparated(")");
            qb.build().execute(&mut *$tx).await?;
        }
    }};
}

impl Store {
    /// Every `(ad id, network id)` membership, in ad id order (to diff against the linker at
    /// start).
    pub async fn network_memberships(&self) -> Result<Vec<(String, String)>> {
        let rows: Vec<(String, String)> = on_read!(self, |pool| {
            sqlx::query_as("SELECT ad_id, network_id FROM network_members ORDER BY ad_id")
                .fetch_all(pool)
                .await?
        });
        Ok(rows)
    }

    /// Applies [`NetworkChanges`] in one transaction: network rows upserted (with `detail`),
    /// memberships set or removed, vanished networks deleted.
    pub async fn apply_network_changes(&self, changes: &NetworkChanges) -> Result<()> {
        if changes.is_empty() {
            return Ok(());
        }
        let now = crate::now_ms();
        on_write!(&self.backend, |pool, dialect| {
            let mut tx = pool.begin_with(dialect.begin()).await?;
            apply_network_changes_in_tx!(tx, changes, now);
            tx.commit().await?;
            Ok(())
        })
    }

    /// How many networks are stored.
    pub async fn network_count(&self) -> Result<i64> {
        Ok(on_read!(self, |pool| {
            let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM networks")
                .fetch_one(pool)
                .await?;
            n
        }))
    }

    /// The network with up to `member_limit` members, highest priority first.
    pub async fn network(&self, id: &str, member_limit: i64) -> Result<Option<NetworkRecord>> {
        on_read!(self, |pool| {
            let row: Option<(String, i64, i64, String, String, i64)> = sqlx::query_as(
                "SELECT id, size, cities, reasons, detail, updated_at FROM networks WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(pool)
            .await?;
            let Some((id, size, cities, reasons, detail, updated_at)) = row else {
                return Ok(None);
            };
            let members: Vec<(String, String, f64, i64)> = sqlx::query_as(
                "SELECT a.id, a.verdict, a.score, a.priority FROM network_members m \
                 JOIN ads a ON a.id = m.ad_id WHERE m.network_id = $1 \
                 ORDER BY a.priority DESC, a.id LIMIT $2",
            )
            .bind(id.as_str())
            .bind(member_limit)
            .fetch_all(pool)
            .await?;
            Ok(Some(NetworkRecord {
                reasons: serde_json::from_str(&reasons).map_err(|e| {
                    crate::StoreError::Corrupt(format!("network `{id}` reasons: {e}"))
                })?,
                detail: serde_json::from_str(&detail).map_err(|e| {
                    crate::StoreError::Corrupt(format!("network `{id}` detail: {e}"))
                })?,
                id,
                size,
                cities,
                updated_at,
                members: members
                    .into_iter()
                    .map(|(ad_id, verdict, score, priority)| NetworkMember {
                        ad_id,
                        verdict,
                        score,
                        priority,
                    })
                    .collect(),
            }))
        })
    }

    /// The members of network `id` (up to `limit`, by posting time) with what a case review
    /// needs: the ad as sent, its latest analysis, its queue state and its latest decision.
    /// Two queries whatever the size.
    pub async fn network_case(&self, id: &str, limit: i64, now: i64) -> Result<Vec<CaseMember>> {
        let rows: Vec<CaseRow> = on_read!(self, |pool| {
            sqlx::query_as(
                "SELECT a.id, a.revision, a.raw, a.analysis, q.state, q.claimed_by, q.lease_until \
                 FROM network_members m JOIN ads a ON a.id = m.ad_id \
                 LEFT JOIN queue q ON q.ad_id = a.id \
                 WHERE m.network_id = $1 ORDER BY a.received_at, a.id LIMIT $2",
            )
            .bind(id)
            .bind(limit)
            .fetch_all(pool)
            .await?
        });
        let mut latest: std::collections::HashMap<String, crate::Decision> =
            std::collections::HashMap::new();
        let ids: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
        for chunk in ids.chunks(crate::ingest::CHUNK) {
            let part: Vec<crate::decisions::DecisionRow> = on_read!(self, |pool| {
                let mut qb = sqlx::QueryBuilder::<DB>::new(format!(
                    "SELECT {} FROM decisions WHERE ad_id IN (",
                    crate::decisions::DECISION_COLUMNS
                ));
                let mut sep = qb.separated(", ");
                for id in chunk {
                    sep.push_bind(*id);
                }
                sep.push_unseparated(") ORDER BY seq");
                qb.build_query_as().fetch_all(pool).await?
            });
            for d in part {
                let d = crate::Decision::from(d);
                latest.insert(d.ad_id.clone(), d);
            }
        }
        rows.into_iter()
            .map(
                |(ad_id, revision, raw, analysis, state, claimed_by, lease_until)| {
                    let live = claimed_by.is_some() && lease_until.is_some_and(|t| t > now);
                    let queue = match state.as_deref() {
                        Some("open") if live => Some("claimed".to_owned()),
                        other => other.map(str::to_owned),
                    };
                    Ok(CaseMember {
                        analysis: crate::ingest::parse_analysis(&ad_id, &analysis)?,
                        decision: latest.remove(&ad_id),
                        claimed_by: if live { claimed_by } else { None },
                        ad_id,
                        revision,
                        raw,
                        queue,
                    })
                },
            )
            .collect()
    }

    /// Saves a network as the linker computed it and sets the membership of `members` (ads that
    /// were in another network move to this one).
    #[allow(clippy::too_many_arguments)]
    pub async fn save_network(
        &self,
        id: &str,
        size: i64,
        cities: i64,
        reasons: &[String],
        detail: &serde_json::Value,
        members: &[&str],
    ) -> Result<()> {
        let now = crate::now_ms();
        let reasons = serde_json::to_string(reasons).unwrap_or_else(|_| "[]".into());
        let detail = serde_json::to_string(detail).unwrap_or_else(|_| "{}".into());
        on_write!(&self.backend, |pool, dialect| {
            let mut tx = pool.begin_with(dialect.begin()).await?;
            sqlx::query(
                "INSERT INTO networks (id, size, cities, reasons, detail, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO UPDATE SET size = excluded.size, \
                 cities = excluded.cities, reasons = excluded.reasons, detail = excluded.detail, \
                 updated_at = excluded.updated_at",
            )
            .bind(id)
            .bind(size)
            .bind(cities)
            .bind(reasons.as_str())
            .bind(detail.as_str())
            .bind(now)
            .execute(&mut *tx)
            .await?;
            for chunk in members.chunks(crate::ingest::CHUNK) {
                let mut qb = sqlx::QueryBuilder::<DB>::new(
                    "INSERT INTO network_members (ad_id, network_id) ",
                );
                qb.push_values(chunk, |mut b, ad| {
                    b.push_bind(*ad).push_bind(id);
                });
                qb.push(" ON CONFLICT (ad_id) DO UPDATE SET network_id = excluded.network_id");
                qb.build().execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }
}
