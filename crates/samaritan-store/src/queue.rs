//! The review queue and decisions.
//!
//! Ads whose verdict is `review` or `block` wait in the queue, highest priority first. A reviewer
//! *claims* items, which gives them a lease: until it runs out nobody else can claim the item or
//! decide on it, so two reviewers never work the same ad. A decision (remove, allow, report,
//! escalate) is stored with its reason and note, recorded in the audit log in the same
//! transaction, and moves the item out of the open queue (escalated items wait in their own
//! queue for a lead).

use serde::Serialize;

use crate::{Result, Store, StoreError};

/// Where a queue item is.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum QueueState {
    Open,
    Escalated,
    Decided,
}

impl QueueState {
    pub fn as_str(self) -> &'static str {
        match self {
            QueueState::Open => "open",
            QueueState::Escalated => "escalated",
            QueueState::Decided => "decided",
        }
    }

    pub fn parse(s: &str) -> Option<QueueState> {
        [QueueState::Open, QueueState::Escalated, QueueState::Decided]
            .into_iter()
            .find(|q| q.as_str() == s)
    }
}

/// One ad in the queue.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueueItem {
    pub ad_id: String,
    pub priority: i64,
    pub state: QueueState,
    /// Actor holding the lease, if any (expired leases are shown as none).
    pub claimed_by: Option<String>,
    pub lease_until: Option<i64>,
    pub enqueued_at: i64,
    pub verdict: String,
    pub score: f64,
}

/// What a reviewer decided.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DecisionAction {
    Remove,
    Allow,
    Report,
    Escalate,
}

impl DecisionAction {
    pub fn as_str(self) -> &'static str {
        match self {
            DecisionAction::Remove => "remove",
            DecisionAction::Allow => "allow",
            DecisionAction::Report => "report",
            DecisionAction::Escalate => "escalate",
        }
    }

    pub fn parse(s: &str) -> Option<DecisionAction> {
        [
            DecisionAction::Remove,
            DecisionAction::Allow,
            DecisionAction::Report,
            DecisionAction::Escalate,
        ]
        .into_iter()
        .find(|a| a.as_str() == s)
    }
}

/// A decision to record.
#[derive(Debug, Clone)]
pub struct DecisionInput {
    pub ad_id: String,
    pub action: DecisionAction,
    /// A reason code from the platform's list, e.g. `minor_indicators`.
    pub reason: String,
    pub note: String,
}

/// A recorded decision.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    pub seq: i64,
    pub ad_id: String,
    pub action: String,
    pub reason: String,
    pub note: String,
    pub actor: String,
    pub created_at: i64,
    /// The audit entry that records it.
    pub audit_seq: i64,
}

pub(crate) type QueueRow = (
    String,
    i64,
    String,
    Option<String>,
    Option<i64>,
    i64,
    String,
    f64,
);

pub(crate) fn queue_item(row: QueueRow, now: i64) -> Result<QueueItem> {
    let (ad_id, priority, state, claimed_by, lease_until, enqueued_at, verdict, score) = row;
    let state = QueueState::parse(&state)
        .ok_or_else(|| StoreError::Corrupt(format!("queue state `{state}` of `{ad_id}`")))?;
    let live = lease_until.is_some_and(|t| t > now);
    Ok(QueueItem {
        ad_id,
        priority,
        state,
        claimed_by: if live { claimed_by } else { None },
        lease_until: if live { lease_until } else { None },
        enqueued_at,
        verdict,
        score,
    })
}

pub(crate) const QUEUE_COLUMNS: &str = "q.ad_id, q.priority, q.state, q.claimed_by, q.lease_until, \
     q.enqueued_at, a.verdict, a.score";

/// Longest reason code and note accepted.
pub const MAX_REASON: usize = 100;
pub const MAX_NOTE: usize = 10_000;

impl Store {
    /// Items in `state`, highest priority first, then oldest first.
    pub async fn queue_list(
        &self,
        state: QueueState,
        limit: i64,
        now: i64,
    ) -> Result<Vec<QueueItem>> {
        let rows: Vec<QueueRow> = on_read!(self, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {QUEUE_COLUMNS} FROM queue q JOIN ads a ON a.id = q.ad_id \
                 WHERE q.state = $1 ORDER BY q.priority DESC, q.enqueued_at, q.ad_id LIMIT $2"
            )))
            .bind(state.as_str())
            .bind(limit)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(|r| queue_item(r, now)).collect()
    }

    /// Claims up to `n` items in `state` for `actor` until `now + lease_ms`: the actor's own live
    /// claims first (their leases are renewed), then unclaimed or expired items in queue order.
    /// No two actors ever hold a live lease on the same item.
    pub async fn queue_claim(
        &self,
        actor: &str,
        state: QueueState,
        n: i64,
        lease_ms: i64,
        now: i64,
    ) -> Result<Vec<QueueItem>> {
        if state == QueueState::Decided {
            return Err(StoreError::Invalid(
                "decided items cannot be claimed".into(),
            ));
        }
        let until = now.saturating_add(lease_ms);
        let rows: Vec<QueueRow> = on_write!(&self.backend, |pool, dialect| {
            let mut tx = pool.begin_with(dialect.begin()).await?;
            let claimed: Vec<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "UPDATE queue SET claimed_by = $1, lease_until = $2, updated_at = $3 \
                 WHERE ad_id IN (SELECT ad_id FROM queue WHERE state = $4 \
                   AND (claimed_by IS NULL OR lease_until IS NULL OR lease_until <= $3 OR claimed_by = $1) \
                   ORDER BY CASE WHEN claimed_by = $1 AND lease_until > $3 THEN 0 ELSE 1 END, \
                   priority DESC, enqueued_at, ad_id LIMIT $5{}) \
                 RETURNING ad_id",
                dialect.skip_locked()
            )))
            .bind(actor)
            .bind(until)
            .bind(now)
            .bind(state.as_str())
            .bind(n)
            .fetch_all(&mut *tx)
            .await?;
            let mut rows = Vec::with_capacity(claimed.len());
            for chunk in claimed.chunks(crate::ingest::CHUNK) {
                let mut qb = sqlx::QueryBuilder::<DB>::new(format!(
                    "SELECT {QUEUE_COLUMNS} FROM queue q JOIN ads a ON a.id = q.ad_id WHERE q.ad_id IN ("
                ));
                let mut sep = qb.separated(", ");
                for (id,) in chunk {
                    sep.push_bind(id.as_str());
                }
                sep.push_unseparated(")");
                let part: Vec<QueueRow> = qb.build_query_as().fetch_all(&mut *tx).await?;
                rows.extend(part);
            }
            tx.commit().await?;
            rows
        });
        let mut items = rows
            .into_iter()
            .map(|r| queue_item(r, now))
            .collect::<Result<Vec<_>>>()?;
        items.sort_by(|a, b| {
            b.priority
                .cmp(&a.priority)
                .then(a.enqueued_at.cmp(&b.enqueued_at))
                .then(a.ad_id.cmp(&b.ad_id))
        });
        Ok(items)
    }

    /// Gives a claimed item back before its lease runs out.
    pub async fn queue_release(&self, ad_id: &str, actor: &str, now: i64) -> Result<()> {
        on_write!(&self.backend, |pool, dialect| {
            let mut tx = pool.begin_with(dialect.begin()).await?;
            let done = sqlx::query(
                "UPDATE queue SET claimed_by = NULL, lease_until = NULL, updated_at = $3 \
                 WHERE ad_id = $1 AND claimed_by = $2 AND lease_until > $3",
            )
            .bind(ad_id)
            .bind(actor)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::Conflict(format!(
                    "you hold no live claim on `{ad_id}`"
                )));
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// Records a decision by `actor` at `now`, with its audit entry, and moves the queue item.
    /// Refused with `Conflict` while another actor holds a live lease on the ad.
    pub async fn decide(&self, input: &DecisionInput, actor: &str, now: i64) -> Result<Decision> {
        if input.reason.trim().is_empty() || input.reason.len() > MAX_REASON {
            return Err(StoreError::Invalid(format!(
                "`reason` must be a code of 1 to {MAX_REASON} bytes"
            )));
        }
        if input.note.len() > MAX_NOTE {
            return Err(StoreError::Invalid(format!(
                "`note` is longer than {MAX_NOTE} bytes"
            )));
        }
        let next_state = match input.action {
            DecisionAction::Escalate => QueueState::Escalated,
            _ => QueueState::Decided,
        };
        on_write!(&self.backend, |pool, dialect| {
            let mut tx = pool.begin_with(dialect.begin()).await?;
            let exists: Option<(i64,)> = sqlx::query_as("SELECT revision FROM ads WHERE id = $1")
                .bind(input.ad_id.as_str())
                .fetch_optional(&mut *tx)
                .await?;
            if exists.is_none() {
                return Err(StoreError::NotFound(format!("ad `{}`", input.ad_id)));
            }
            let lock = if dialect == crate::Dialect::Postgres {
                " FOR UPDATE"
            } else {
                ""
            };
            let claim: Option<(Option<String>, Option<i64>)> = sqlx::query_as(sqlx::AssertSqlSafe(
                format!("SELECT claimed_by, lease_until FROM queue WHERE ad_id = $1{lock}"),
            ))
            .bind(input.ad_id.as_str())
            .fetch_optional(&mut *tx)
            .await?;
            if let Some((Some(holder), Some(until))) = claim
                && holder != actor
                && until > now
            {
                return Err(StoreError::Conflict(format!(
                    "`{}` is claimed by {holder} until {until} (ms since epoch)",
                    input.ad_id
                )));
            }
            let detail = serde_json::json!({
                "action": input.action.as_str(),
                "reason": input.reason,
                "note_sha256": crate::sha256_hex(input.note.as_bytes()),
            });
            let entry = append_audit!(
                tx,
                dialect,
                actor,
                "decision",
                input.ad_id.as_str(),
                detail,
                now
            );
            let (seq,): (i64,) = sqlx::query_as(
                "INSERT INTO decisions (ad_id, action, reason, note, actor, created_at, audit_seq) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING seq",
            )
            .bind(input.ad_id.as_str())
            .bind(input.action.as_str())
            .bind(input.reason.as_str())
            .bind(input.note.as_str())
            .bind(actor)
            .bind(now)
            .bind(entry.seq)
            .fetch_one(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO queue (ad_id, priority, state, claimed_by, lease_until, enqueued_at, updated_at) \
                 SELECT id, priority, $2, NULL, NULL, $3, $3 FROM ads WHERE id = $1 \
                 ON CONFLICT (ad_id) DO UPDATE SET state = excluded.state, claimed_by = NULL, \
                 lease_until = NULL, updated_at = excluded.updated_at",
            )
            .bind(input.ad_id.as_str())
            .bind(next_state.as_str())
            .bind(now)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(Decision {
                seq,
                ad_id: input.ad_id.clone(),
                action: input.action.as_str().to_owned(),
                reason: input.reason.clone(),
                note: input.note.clone(),
                actor: actor.to_owned(),
                created_at: now,
                audit_seq: entry.seq,
            })
        })
    }
}
