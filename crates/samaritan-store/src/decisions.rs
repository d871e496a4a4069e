//! Decisions: bound to a claim and to the version of the ad they judged.
//!
//! A decision is the record a lead, a court or a regulator reads first, so the store refuses
//! every decision that was not made on fresh state:
//!
//! - **Held.** The decider holds a live claim on the item (`basis: claim`), or is a lead
//!   overriding (`basis: override`) and names the decision they replace (`supersedes`, or none):
//!   if another decision landed meanwhile the override is refused. Of concurrent deciders exactly
//!   one wins; the others get `Refused`.
//! - **Current.** The decision names the ad revision it judged; when the ad changed since, it is
//!   refused (`stale_revision`) and the reviewer must look at the new version. The stored
//!   decision keeps that revision and the ad's content digest.
//! - **Audited.** The decision row and its audit entry are written in one transaction; the entry
//!   repeats every field (the note as its SHA-256) and the row's `seq`, so `audit verify` can
//!   detect an edited, deleted, inserted or reordered decision row (`audit.rs`).

use serde::Serialize;

use crate::{Result, Store, StoreError};

/// What a reviewer decided.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DecisionAction {
    Remove,
    Allow,
    Report,
    Escalate,
}

impl DecisionAction {
    pub const ALL: [DecisionAction; 4] = [
        DecisionAction::Remove,
        DecisionAction::Allow,
        DecisionAction::Report,
        DecisionAction::Escalate,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DecisionAction::Remove => "remove",
            DecisionAction::Allow => "allow",
            DecisionAction::Report => "report",
            DecisionAction::Escalate => "escalate",
        }
    }

    pub fn parse(s: &str) -> Option<DecisionAction> {
        DecisionAction::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// How the decider held the item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecisionBasis {
    /// The decider holds a live claim on the queue item.
    Claim,
    /// A lead or admin decides without a claim. `supersedes` is the latest decision on the ad
    /// as the lead saw it (`None`: there was none); refused when it is no longer the latest.
    Override { supersedes: Option<i64> },
}

impl DecisionBasis {
    pub fn as_str(self) -> &'static str {
        match self {
            DecisionBasis::Claim => "claim",
            DecisionBasis::Override { .. } => "override",
        }
    }
}

/// A decision to record.
#[derive(Debug, Clone)]
pub struct DecisionInput {
    pub ad_id: String,
    /// The ad revision the decider judged.
    pub revision: i64,
    pub action: DecisionAction,
    /// A reason code from the configured list (the server checks it; see `reasons.rs`).
    pub reason: String,
    pub note: String,
    pub basis: DecisionBasis,
}

/// A recorded decision.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    pub seq: i64,
    pub ad_id: String,
    /// The ad revision this decision judged (0: recorded before revisions were bound).
    pub revision: i64,
    /// SHA-256 of the ad's canonical JSON at that revision.
    pub digest: String,
    pub action: String,
    pub reason: String,
    pub note: String,
    pub actor: String,
    /// `claim` or `override`.
    pub basis: String,
    /// The decision on this ad that this one replaced, if any.
    pub supersedes: Option<i64>,
    /// Milliseconds since the Unix epoch.
    pub created_at: i64,
    /// The audit entry that records it.
    pub audit_seq: i64,
}

/// Longest reason code and note accepted.
pub const MAX_REASON: usize = 100;
pub const MAX_NOTE: usize = 10_000;

/// The columns [`DecisionRow`] reads, in order.
pub(crate) const DECISION_COLUMNS: &str = "seq, ad_id, revision, digest, action, reason, note, \
     actor, basis, supersedes, created_at, audit_seq";

#[derive(sqlx::FromRow)]
pub(crate) struct DecisionRow {
    seq: i64,
    ad_id: String,
    revision: i64,
    digest: String,
    action: String,
    reason: String,
    note: String,
    actor: String,
    basis: String,
    supersedes: Option<i64>,
    created_at: i64,
    audit_seq: i64,
}

impl From<DecisionRow> for Decision {
    fn from(r: DecisionRow) -> Decision {
        Decision {
            seq: r.seq,
            ad_id: r.ad_id,
            revision: r.revision,
            digest: r.digest,
            action: r.action,
            reason: r.reason,
            note: r.note,
            actor: r.actor,
            basis: r.basis,
            supersedes: r.supersedes,
            created_at: r.created_at,
            audit_seq: r.audit_seq,
        }
    }
}

/// The audit detail of a decision: every field of the row, the note as its hash.
pub(crate) fn audit_detail(d: &Decision) -> serde_json::Value {
    serde_json::json!({
        "decision_seq": d.seq,
        "revision": d.revision,
        "digest": d.digest,
        "action": d.action,
        "reason": d.reason,
        "note_sha256": crate::sha256_hex(d.note.as_bytes()),
        "basis": d.basis,
        "supersedes": d.supersedes,
    })
}

/// The bounds on a reason code and a note, for decisions and QA answers alike.
pub(crate) fn check_reason_and_note(reason: &str, note: &str) -> Result<()> {
    if reason.trim().is_empty() || reason.len() > MAX_REASON {
        return Err(StoreError::Invalid(format!(
            "`reason` must be a code of 1 to {MAX_REASON} bytes"
        )));
    }
    if note.len() > MAX_NOTE {
        return Err(StoreError::Invalid(format!(
            "`note` is longer than {MAX_NOTE} bytes"
        )));
    }
    Ok(())
}

fn refused(code: &'static str, message: String) -> StoreError {
    StoreError::Refused { code, message }
}

impl Store {
    /// Records a decision by `actor` at `now`, with its audit entry, and moves the queue item
    /// (escalations to the escalated queue, everything else out of the queue). Refused
    /// (`StoreError::Refused`) unless held and current as the module docs say.
    pub async fn decide(&self, input: &DecisionInput, actor: &str, now: i64) -> Result<Decision> {
        check_reason_and_note(&input.reason, &input.note)?;
        let next_state = match input.action {
            DecisionAction::Escalate => "escalated",
            _ => "decided",
        };
        on_write!(&self.backend, |pool, dialect| {
            let mut tx = pool.begin_with(dialect.begin()).await?;
            // PostgreSQL: lock the ad row, so ingest of a new revision and other deciders wait
            // for this transaction (SQLite's single writer already serialises them).
            let lock = if dialect == crate::Dialect::Postgres {
                " FOR UPDATE"
            } else {
                ""
            };
            // Refusals roll back explicitly: a dropped transaction is rolled back later, and
            // until then its row locks would make concurrent claims skip the item.
            let checked: Result<(i64, String, Option<i64>)> = async {
                let ad: Option<(i64, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT revision, digest FROM ads WHERE id = $1{lock}"
                )))
                .bind(input.ad_id.as_str())
                .fetch_optional(&mut *tx)
                .await?;
                let Some((revision, digest)) = ad else {
                    return Err(StoreError::NotFound(format!("ad `{}`", input.ad_id)));
                };
                if input.revision != revision {
                    return Err(refused(
                        "stale_revision",
                        format!(
                            "`{}` is now at revision {revision}; you judged revision {}: \
                             read the new version before deciding",
                            input.ad_id, input.revision
                        ),
                    ));
                }
                let item: Option<(String, Option<String>, Option<i64>)> =
                    sqlx::query_as(sqlx::AssertSqlSafe(format!(
                        "SELECT state, claimed_by, lease_until FROM queue WHERE ad_id = $1{lock}"
                    )))
                    .bind(input.ad_id.as_str())
                    .fetch_optional(&mut *tx)
                    .await?;
                let latest: Option<(i64,)> =
                    sqlx::query_as("SELECT seq FROM decisions WHERE ad_id = $1 ORDER BY seq DESC LIMIT 1")
                        .bind(input.ad_id.as_str())
                        .fetch_optional(&mut *tx)
                        .await?;
                let latest = latest.map(|(s,)| s);
                match input.basis {
                    DecisionBasis::Claim => {
                        let holder = item.as_ref().and_then(|(state, by, until)| {
                            let live = until.is_some_and(|t| t > now);
                            (state != "decided" && live).then_some(by.as_deref()).flatten()
                        });
                        match holder {
                            Some(h) if h == actor => {}
                            Some(h) => {
                                return Err(refused(
                                    "claimed",
                                    format!("`{}` is claimed by {h}", input.ad_id),
                                ));
                            }
                            None => {
                                let why = match (&item, latest) {
                                    (Some((state, _, _)), Some(seq)) if state == "decided" => {
                                        format!("it was decided (decision {seq}); a lead can override")
                                    }
                                    (None, _) => "it is not in the review queue".to_owned(),
                                    _ => "claim it first (POST /v1/queue/claim)".to_owned(),
                                };
                                return Err(refused(
                                    "not_claimed",
                                    format!("you hold no live claim on `{}`: {why}", input.ad_id),
                                ));
                            }
                        }
                    }
                    DecisionBasis::Override { supersedes } => {
                        if supersedes != latest {
                            let shown = |s: Option<i64>| {
                                s.map_or_else(|| "none".to_owned(), |s| format!("decision {s}"))
                            };
                            return Err(refused(
                                "decision_changed",
                                format!(
                                    "the latest decision on `{}` is {}, not {}: read it before overriding",
                                    input.ad_id,
                                    shown(latest),
                                    shown(supersedes)
                                ),
                            ));
                        }
                    }
                }
                Ok((revision, digest, latest))
            }
            .await;
            let (revision, digest, latest) = match checked {
                Ok(v) => v,
                Err(e) => {
                    tx.rollback().await?;
                    return Err(e);
                }
            };
            let (seq,): (i64,) = sqlx::query_as(
                "INSERT INTO decisions (ad_id, revision, digest, action, reason, note, actor, basis, \
                 supersedes, created_at, audit_seq) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 0) RETURNING seq",
            )
            .bind(input.ad_id.as_str())
            .bind(revision)
            .bind(digest.as_str())
            .bind(input.action.as_str())
            .bind(input.reason.as_str())
            .bind(input.note.as_str())
            .bind(actor)
            .bind(input.basis.as_str())
            .bind(latest)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            let mut decision = Decision {
                seq,
                ad_id: input.ad_id.clone(),
                revision,
                digest,
                action: input.action.as_str().to_owned(),
                reason: input.reason.clone(),
                note: input.note.clone(),
                actor: actor.to_owned(),
                basis: input.basis.as_str().to_owned(),
                supersedes: latest,
                created_at: now,
                audit_seq: 0,
            };
            let entry = append_audit!(
                tx,
                dialect,
                actor,
                "decision",
                input.ad_id.as_str(),
                audit_detail(&decision),
                now
            );
            decision.audit_seq = entry.seq;
            let data = serde_json::json!({
                "ad_id": decision.ad_id,
                "revision": decision.revision,
                "decision_seq": decision.seq,
                "action": decision.action,
                "reason": decision.reason,
                "actor": decision.actor,
                "basis": decision.basis,
                "supersedes": decision.supersedes,
            });
            emit_event!(
                tx,
                "decision.created",
                Some(decision.ad_id.as_str()),
                data,
                now
            );
            sqlx::query("UPDATE decisions SET audit_seq = $1 WHERE seq = $2")
                .bind(entry.seq)
                .bind(seq)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO queue (ad_id, priority, state, claimed_by, lease_until, enqueued_at, updated_at) \
                 SELECT id, priority, $2, NULL, NULL, $3, $3 FROM ads WHERE id = $1 \
                 ON CONFLICT (ad_id) DO UPDATE SET state = excluded.state, claimed_by = NULL, \
                 lease_until = NULL, updated_at = excluded.updated_at",
            )
            .bind(input.ad_id.as_str())
            .bind(next_state)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            // A decided ad has nothing left to teach by being drawn for learning.
            sqlx::query("DELETE FROM learning_pool WHERE ad_id = $1")
                .bind(input.ad_id.as_str())
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(decision)
        })
    }

    /// Every decision on `ad_id`, oldest first.
    pub async fn decisions_of(&self, ad_id: &str) -> Result<Vec<Decision>> {
        let rows: Vec<DecisionRow> = on_read!(self, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {DECISION_COLUMNS} FROM decisions WHERE ad_id = $1 ORDER BY seq"
            )))
            .bind(ad_id)
            .fetch_all(pool)
            .await?
        });
        Ok(rows.into_iter().map(Decision::from).collect())
    }
}
