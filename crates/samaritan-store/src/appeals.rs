//! Appeals (issue 23): the platform files one for its user against the latest `remove` or
//! `report` decision on an ad, with the user's statement (EU DSA Art. 20 asks platforms to
//! offer it). An appeal goes to a reviewer other than the one who made the decision: claimed
//! under a lease, then answered `upheld` or `reversed` with a reason. Filing and answering are
//! audited (`appeal.create`, `appeal.claim`, `appeal.decide`) and sent as webhook events
//! (`appeal.created`, `appeal.decided`) in the same transaction.

use serde::Serialize;

use crate::{Result, Store, StoreError};

/// An appeal.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Appeal {
    pub id: i64,
    pub ad_id: String,
    /// The decision appealed.
    pub decision_seq: i64,
    /// Who made that decision (never the one who answers).
    pub decided_by: String,
    /// The user's statement, as the platform sent it.
    pub statement: String,
    /// `open` or `decided`.
    pub state: String,
    pub claimed_by: Option<String>,
    pub lease_until: Option<i64>,
    /// `upheld` or `reversed`.
    pub outcome: Option<String>,
    pub reason: Option<String>,
    pub note: Option<String>,
    pub answered_by: Option<String>,
    pub created_by: String,
    pub created_at: i64,
    pub answered_at: Option<i64>,
}

const COLUMNS: &str = "id, ad_id, decision_seq, decided_by, statement, state, claimed_by, \
     lease_until, outcome, reason, note, answered_by, created_by, created_at, answered_at";

/// Longest statement (characters).
pub const MAX_STATEMENT: usize = 5000;
/// Longest note on an answer (characters).
const MAX_NOTE: usize = 2000;

/// The states an appeal can be in.
pub const APPEAL_STATES: [&str; 2] = ["open", "decided"];

fn check_text(what: &str, s: &str, max: usize, required: bool) -> Result<()> {
    if required && s.trim().is_empty() {
        return Err(StoreError::Invalid(format!("{what} is empty")));
    }
    if s.chars().count() > max {
        return Err(StoreError::Invalid(format!(
            "{what} is longer than {max} characters"
        )));
    }
    if s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(StoreError::Invalid(format!(
            "{what} holds control characters"
        )));
    }
    Ok(())
}

impl Store {
    /// Files an appeal against the latest `remove` or `report` decision on `ad_id`, with the
    /// user's `statement`, as `actor` (the platform's key). Refused (`not_appealable`) when the
    /// ad has no such decision, and (`exists`) when that decision already has an open appeal.
    pub async fn appeal_create(
        &self,
        ad_id: &str,
        statement: &str,
        actor: &str,
        now: i64,
    ) -> Result<Appeal> {
        check_text("the statement", statement, MAX_STATEMENT, true)?;
        on_write!(&self.backend, |pool, dialect| {
            let mut tx = pool.begin_with(dialect.begin()).await?;
            if let Some(lock) = dialect.audit_lock_sql() {
                sqlx::query(lock).execute(&mut *tx).await?;
            }
            let latest: Option<(i64, String, String)> = sqlx::query_as(
                "SELECT seq, action, actor FROM decisions WHERE ad_id = $1 AND action <> 'escalate' \
                 ORDER BY seq DESC LIMIT 1",
            )
            .bind(ad_id)
            .fetch_optional(&mut *tx)
            .await?;
            let Some((seq, action, decided_by)) =
                latest.filter(|(_, a, _)| a == "remove" || a == "report")
            else {
                tx.rollback().await?;
                return Err(StoreError::Refused {
                    code: "not_appealable",
                    message: format!(
                        "`{ad_id}` has no remove or report decision in force to appeal"
                    ),
                });
            };
            let open: Option<(i64,)> =
                sqlx::query_as("SELECT id FROM appeals WHERE decision_seq = $1 AND state = 'open'")
                    .bind(seq)
                    .fetch_optional(&mut *tx)
                    .await?;
            if let Some((id,)) = open {
                tx.rollback().await?;
                return Err(StoreError::Refused {
                    code: "exists",
                    message: format!("appeal {id} against decision {seq} is open"),
                });
            }
            let row: Appeal = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "INSERT INTO appeals (ad_id, decision_seq, decided_by, statement, state, \
                 created_by, created_at) VALUES ($1, $2, $3, $4, 'open', $5, $6) \
                 RETURNING {COLUMNS}"
            )))
            .bind(ad_id)
            .bind(seq)
            .bind(&decided_by)
            .bind(statement)
            .bind(actor)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            let detail =
                serde_json::json!({"appeal": row.id, "decision_seq": seq, "action": action});
            append_audit!(tx, dialect, actor, "appeal.create", ad_id, detail, now);
            let data = serde_json::json!({
                "appeal_id": row.id, "ad_id": ad_id, "decision_seq": seq, "action": action,
            });
            emit_event!(tx, "appeal.created", Some(ad_id), data, now);
            tx.commit().await?;
            Ok(row)
        })
    }

    /// Appeal `id`.
    pub async fn appeal(&self, id: i64) -> Result<Option<Appeal>> {
        let row: Option<Appeal> = on_read!(self, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM appeals WHERE id = $1"
            )))
            .bind(id)
            .fetch_optional(pool)
            .await
        })?;
        Ok(row)
    }

    /// Appeals in `state` (all when `None`), oldest first, at most `limit`.
    pub async fn appeals(&self, state: Option<&str>, limit: i64) -> Result<Vec<Appeal>> {
        let rows: Vec<Appeal> = on_read!(self, |pool| {
            let mut qb = sqlx::QueryBuilder::<DB>::new(format!("SELECT {COLUMNS} FROM appeals"));
            if let Some(s) = state {
                qb.push(" WHERE state = ").push_bind(s);
            }
            qb.push(" ORDER BY created_at, id LIMIT ").push_bind(limit);
            qb.build_query_as().fetch_all(pool).await
        })?;
        Ok(rows)
    }

    /// Claims the oldest open appeal `actor` may answer (not their own decision; unclaimed or
    /// its lease run out) for `lease_ms`; `None` when there is none. Audited.
    pub async fn appeal_claim(
        &self,
        actor: &str,
        lease_ms: i64,
        now: i64,
    ) -> Result<Option<Appeal>> {
        on_write!(&self.backend, |pool, dialect| {
            let mut tx = pool.begin_with(dialect.begin()).await?;
            if let Some(lock) = dialect.audit_lock_sql() {
                sqlx::query(lock).execute(&mut *tx).await?;
            }
            let next: Option<(i64, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT id, ad_id FROM appeals WHERE state = 'open' AND {} <> {} \
                 AND (claimed_by IS NULL OR lease_until <= $2 OR claimed_by = $1) \
                 ORDER BY created_at, id LIMIT 1",
                crate::keys::person_sql("decided_by"),
                crate::keys::person_sql("$1"),
            )))
            .bind(actor)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
            let Some((id, ad_id)) = next else {
                tx.rollback().await?;
                return Ok(None);
            };
            let row: Appeal = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "UPDATE appeals SET claimed_by = $1, lease_until = $2 WHERE id = $3 \
                 RETURNING {COLUMNS}"
            )))
            .bind(actor)
            .bind(now + lease_ms)
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
            let detail = serde_json::json!({"appeal": id, "lease_until": now + lease_ms});
            append_audit!(tx, dialect, actor, "appeal.claim", &ad_id, detail, now);
            tx.commit().await?;
            Ok(Some(row))
        })
    }

    /// Answers appeal `id` as `actor`, who holds its live claim and did not make the decision
    /// appealed: `outcome` `upheld` or `reversed`, a reason code and a note. Audited and sent
    /// (`appeal.decided`); refused (`not_claimed`, `own_decision`, `state`) otherwise.
    #[allow(clippy::too_many_arguments)]
    pub async fn appeal_answer(
        &self,
        id: i64,
        outcome: &str,
        reason: &str,
        note: &str,
        actor: &str,
        now: i64,
    ) -> Result<Appeal> {
        if outcome != "upheld" && outcome != "reversed" {
            return Err(StoreError::Invalid(format!(
                "unknown outcome `{outcome}`; outcomes are upheld, reversed"
            )));
        }
        check_text("the reason", reason, 64, true)?;
        check_text("the note", note, MAX_NOTE, false)?;
        on_write!(&self.backend, |pool, dialect| {
            let mut tx = pool.begin_with(dialect.begin()).await?;
            if let Some(lock) = dialect.audit_lock_sql() {
                sqlx::query(lock).execute(&mut *tx).await?;
            }
            let cur: Option<Appeal> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM appeals WHERE id = $1"
            )))
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(cur) = cur else {
                tx.rollback().await?;
                return Err(StoreError::NotFound(format!("appeal {id}")));
            };
            // People, not keys: the decider's other key or console session is the decider.
            let (decider, me): (String, String) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {}, {}",
                crate::keys::person_sql("$1"),
                crate::keys::person_sql("$2"),
            )))
            .bind(&cur.decided_by)
            .bind(actor)
            .fetch_one(&mut *tx)
            .await?;
            let refuse =
                |code: &'static str, message: String| StoreError::Refused { code, message };
            let refusal = if cur.state != "open" {
                Some(refuse(
                    "state",
                    format!("appeal {id} is already {}", cur.state),
                ))
            } else if decider == me {
                Some(refuse(
                    "own_decision",
                    format!(
                        "appeal {id} is against your own decision; another reviewer answers it"
                    ),
                ))
            } else if cur.claimed_by.as_deref() != Some(actor)
                || cur.lease_until.is_none_or(|l| l <= now)
            {
                Some(refuse(
                    "not_claimed",
                    format!("you hold no live claim on appeal {id}"),
                ))
            } else {
                None
            };
            if let Some(e) = refusal {
                tx.rollback().await?;
                return Err(e);
            }
            let row: Appeal = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "UPDATE appeals SET state = 'decided', outcome = $1, reason = $2, note = $3, \
                 answered_by = $4, answered_at = $5, claimed_by = NULL, lease_until = NULL \
                 WHERE id = $6 RETURNING {COLUMNS}"
            )))
            .bind(outcome)
            .bind(reason)
            .bind(note)
            .bind(actor)
            .bind(now)
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
            let detail = serde_json::json!({
                "appeal": id, "decision_seq": row.decision_seq, "outcome": outcome,
                "reason": reason, "note": note,
            });
            append_audit!(tx, dialect, actor, "appeal.decide", &row.ad_id, detail, now);
            let data = serde_json::json!({
                "appeal_id": id, "ad_id": row.ad_id, "decision_seq": row.decision_seq,
                "outcome": outcome, "reason": reason,
            });
            emit_event!(tx, "appeal.decided", Some(row.ad_id.as_str()), data, now);
            tx.commit().await?;
            Ok(row)
        })
    }
}
