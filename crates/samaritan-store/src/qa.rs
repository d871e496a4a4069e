//! Quality assurance of review: golden items and sampled second reviews.
//!
//! Both measure how far reviewers agree without touching what was decided:
//!
//! - A **golden item** is a decided ad whose right answer a lead has set. The console mixes
//!   golden items into reviewers' queues at a configured rate; the reviewer sees the ad as any
//!   claimed item, without its earlier decisions, and answers. The answer is compared with the
//!   golden one.
//! - A **second review** is a decision sampled at a configured rate: another reviewer (never the
//!   one who decided) judges the same revision blind. A disagreement waits for a lead, who looks
//!   at both and resolves it (overriding the decision on the ad page when it was wrong).
//!
//! Each assignment is a `qa_tasks` row: assigned with a lease like a queue claim, answered once,
//! never a decision on the ad (the `decisions` table and the queue are not touched). Setting a
//! golden item, sampling, assigning, answering and resolving are audited (`qa.*`). Every write
//! takes the audit lock first, so concurrent assignments of one task cannot both succeed.

use serde::Serialize;

use crate::{Decision, DecisionAction, Result, Store, StoreError};

/// A golden item: a decided ad with the answer a lead set.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct GoldenItem {
    pub ad_id: String,
    /// The revision the answer is for; the item is not served once the ad changed.
    pub revision: i64,
    pub expected_action: String,
    pub expected_reason: String,
    pub note: String,
    pub added_by: String,
    pub added_at: i64,
}

/// One QA assignment (golden or second review) and its answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QaTask {
    pub id: i64,
    /// `golden` or `second`.
    pub kind: String,
    pub ad_id: String,
    pub revision: i64,
    /// The golden answer, or the action of the decision under second review.
    pub expected_action: String,
    /// The lead who set the golden answer, or the reviewer whose decision is checked.
    pub first_actor: String,
    /// Second review: the decision checked.
    pub decision_seq: Option<i64>,
    pub assigned_to: Option<String>,
    pub lease_until: Option<i64>,
    pub answer_action: Option<String>,
    pub answer_reason: Option<String>,
    pub answer_note: Option<String>,
    pub answered_at: Option<i64>,
    pub agreed: Option<bool>,
    pub resolved_by: Option<String>,
    pub resolved_at: Option<i64>,
    pub resolution: Option<String>,
    pub created_at: i64,
}

/// One person's agreement figures.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Agreement {
    pub person: String,
    /// Golden items answered, and of those the ones matching the golden answer.
    pub golden_answered: i64,
    pub golden_agreed: i64,
    /// Second reviews this person gave, and of those the ones agreeing with the first decision.
    pub second_given: i64,
    pub second_given_agreed: i64,
    /// This person's decisions that were second-reviewed, and of those the ones confirmed.
    pub decisions_checked: i64,
    pub decisions_confirmed: i64,
}

/// Answers per (person, kind): count and how many agreed.
type AnswerCount = (String, String, i64, i64);
/// Second reviews per first decider: count and how many confirmed.
type FirstCount = (String, i64, i64);

const TASK_COLUMNS: &str = "id, kind, ad_id, revision, expected_action, first_actor, decision_seq, \
     assigned_to, lease_until, answer_action, answer_reason, answer_note, answered_at, agreed, \
     resolved_by, resolved_at, resolution, created_at";

#[derive(sqlx::FromRow)]
struct TaskRow {
    id: i64,
    kind: String,
    ad_id: String,
    revision: i64,
    expected_action: String,
    first_actor: String,
    decision_seq: Option<i64>,
    assigned_to: Option<String>,
    lease_until: Option<i64>,
    answer_action: Option<String>,
    answer_reason: Option<String>,
    answer_note: Option<String>,
    answered_at: Option<i64>,
    agreed: Option<i64>,
    resolved_by: Option<String>,
    resolved_at: Option<i64>,
    resolution: Option<String>,
    created_at: i64,
}

impl From<TaskRow> for QaTask {
    fn from(r: TaskRow) -> QaTask {
        QaTask {
            id: r.id,
            kind: r.kind,
            ad_id: r.ad_id,
            revision: r.revision,
            expected_action: r.expected_action,
            first_actor: r.first_actor,
            decision_seq: r.decision_seq,
            assigned_to: r.assigned_to,
            lease_until: r.lease_until,
            answer_action: r.answer_action,
            answer_reason: r.answer_reason,
            answer_note: r.answer_note,
            answered_at: r.answered_at,
            agreed: r.agreed.map(|a| a != 0),
            resolved_by: r.resolved_by,
            resolved_at: r.resolved_at,
            resolution: r.resolution,
            created_at: r.created_at,
        }
    }
}

fn refused(code: &'static str, message: String) -> StoreError {
    StoreError::Refused { code, message }
}

/// What an answer to a QA task says.
#[derive(Debug, Clone)]
pub struct QaAnswer {
    pub ad_id: String,
    /// The revision the person was shown.
    pub revision: i64,
    pub action: DecisionAction,
    pub reason: String,
    pub note: String,
}

impl Store {
    /// Makes `ad_id` (at its current revision) a golden item with `action` and `reason` as its
    /// answer, or replaces the answer. Only decided ads qualify: a golden item is served as an
    /// item already out of the queue. Audited as `qa.golden_add`.
    pub async fn golden_add(
        &self,
        ad_id: &str,
        action: DecisionAction,
        reason: &str,
        note: &str,
        by: &str,
        now: i64,
    ) -> Result<GoldenItem> {
        if note.len() > crate::decisions::MAX_NOTE {
            return Err(StoreError::Invalid(format!(
                "`note` is longer than {} bytes",
                crate::decisions::MAX_NOTE
            )));
        }
        on_write!(&self.backend, |pool, dialect| {
            let mut tx = pool.begin_with(dialect.begin()).await?;
            if let Some(lock) = dialect.audit_lock_sql() {
                sqlx::query(lock).execute(&mut *tx).await?;
            }
            let ad: Option<(i64, Option<String>)> = sqlx::query_as(
                "SELECT a.revision, q.state FROM ads a LEFT JOIN queue q ON q.ad_id = a.id \
                 WHERE a.id = $1",
            )
            .bind(ad_id)
            .fetch_optional(&mut *tx)
            .await?;
            let revision = match ad {
                None => {
                    tx.rollback().await?;
                    return Err(StoreError::NotFound(format!("ad `{ad_id}`")));
                }
                Some((_, state)) if state.as_deref() != Some("decided") => {
                    tx.rollback().await?;
                    return Err(refused(
                        "not_decided",
                        format!(
                            "`{ad_id}` is not decided: a golden item is an ad already out of the \
                             queue (decide it first)"
                        ),
                    ));
                }
                Some((revision, _)) => revision,
            };
            sqlx::query(
                "INSERT INTO golden_items (ad_id, revision, expected_action, expected_reason, \
                 note, added_by, added_at, active) VALUES ($1, $2, $3, $4, $5, $6, $7, 1) \
                 ON CONFLICT (ad_id) DO UPDATE SET revision = excluded.revision, \
                 expected_action = excluded.expected_action, \
                 expected_reason = excluded.expected_reason, note = excluded.note, \
                 added_by = excluded.added_by, added_at = excluded.added_at, active = 1",
            )
            .bind(ad_id)
            .bind(revision)
            .bind(action.as_str())
            .bind(reason)
            .bind(note)
            .bind(by)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            let detail = serde_json::json!({
                "revision": revision,
                "action": action.as_str(),
                "reason": reason,
                "note_sha256": crate::sha256_hex(note.as_bytes()),
            });
            append_audit!(tx, dialect, by, "qa.golden_add", ad_id, detail, now);
            tx.commit().await?;
            Ok(GoldenItem {
                ad_id: ad_id.to_owned(),
                revision,
                expected_action: action.as_str().to_owned(),
                expected_reason: reason.to_owned(),
                note: note.to_owned(),
                added_by: by.to_owned(),
                added_at: now,
            })
        })
    }

    /// Takes `ad_id` out of the golden set (answers given so far are kept). Audited as
    /// `qa.golden_remove`.
    pub async fn golden_remove(&self, ad_id: &str, by: &str, now: i64) -> Result<()> {
        on_write!(&self.backend, |pool, dialect| {
            let mut tx = pool.begin_with(dialect.begin()).await?;
            let done =
                sqlx::query("UPDATE golden_items SET active = 0 WHERE ad_id = $1 AND active = 1")
                    .bind(ad_id)
                    .execute(&mut *tx)
                    .await?;
            if done.rows_affected() == 0 {
                tx.rollback().await?;
                return Err(StoreError::NotFound(format!("golden item `{ad_id}`")));
            }
            append_audit!(
                tx,
                dialect,
                by,
                "qa.golden_remove",
                ad_id,
                serde_json::json!({}),
                now
            );
            tx.commit().await?;
            Ok(())
        })
    }

    /// The golden set (active items), newest first.
    pub async fn golden_list(&self, limit: i64) -> Result<Vec<GoldenItem>> {
        Ok(on_read!(self, |pool| {
            sqlx::query_as(
                "SELECT ad_id, revision, expected_action, expected_reason, note, added_by, \
                 added_at FROM golden_items WHERE active = 1 ORDER BY added_at DESC, ad_id \
                 LIMIT $1",
            )
            .bind(limit)
            .fetch_all(pool)
            .await?
        }))
    }

    /// Assigns `person` a golden item they have not been given before, did not set and never
    /// decided themselves, whose ad is still at the golden revision; `None` when there is none.
    /// Audited as `qa.assign`.
    pub async fn qa_assign_golden(
        &self,
        person: &str,
        lease_ms: i64,
        now: i64,
    ) -> Result<Option<QaTask>> {
        on_write!(&self.backend, |pool, dialect| {
            let mut tx = pool.begin_with(dialect.begin()).await?;
            if let Some(lock) = dialect.audit_lock_sql() {
                sqlx::query(lock).execute(&mut *tx).await?;
            }
            let pick: Option<(String, i64, String, String)> = sqlx::query_as(
                "SELECT g.ad_id, g.revision, g.expected_action, g.added_by FROM golden_items g \
                 JOIN ads a ON a.id = g.ad_id AND a.revision = g.revision \
                 JOIN queue q ON q.ad_id = g.ad_id AND q.state = 'decided' \
                 WHERE g.active = 1 AND g.added_by <> $1 \
                 AND NOT EXISTS (SELECT 1 FROM qa_tasks t WHERE t.ad_id = g.ad_id \
                     AND t.assigned_to = $1) \
                 AND NOT EXISTS (SELECT 1 FROM decisions d WHERE d.ad_id = g.ad_id \
                     AND d.actor = $1) \
                 ORDER BY random() LIMIT 1",
            )
            .bind(person)
            .fetch_optional(&mut *tx)
            .await?;
            let Some((ad_id, revision, expected, added_by)) = pick else {
                tx.rollback().await?;
                return Ok(None);
            };
            let until = now.saturating_add(lease_ms);
            let row: TaskRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "INSERT INTO qa_tasks (kind, ad_id, revision, expected_action, first_actor, \
                 assigned_to, lease_until, created_at) \
                 VALUES ('golden', $1, $2, $3, $4, $5, $6, $7) RETURNING {TASK_COLUMNS}"
            )))
            .bind(&ad_id)
            .bind(revision)
            .bind(&expected)
            .bind(&added_by)
            .bind(person)
            .bind(until)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            let detail =
                serde_json::json!({"task": row.id, "kind": "golden", "lease_until": until});
            append_audit!(tx, dialect, person, "qa.assign", &ad_id, detail, now);
            tx.commit().await?;
            Ok(Some(row.into()))
        })
    }

    /// Puts `decision` up for a second review (the caller samples which). Escalations are not
    /// sampled: they are not an answer. Audited as `qa.sample`.
    pub async fn qa_sample_second(&self, decision: &Decision, now: i64) -> Result<QaTask> {
        if decision.action == DecisionAction::Escalate.as_str() {
            return Err(StoreError::Invalid(
                "an escalation is not sampled for second review".into(),
            ));
        }
        on_write!(&self.backend, |pool, dialect| {
            let mut tx = pool.begin_with(dialect.begin()).await?;
            if let Some(lock) = dialect.audit_lock_sql() {
                sqlx::query(lock).execute(&mut *tx).await?;
            }
            let row: TaskRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "INSERT INTO qa_tasks (kind, ad_id, revision, expected_action, first_actor, \
                 decision_seq, created_at) VALUES ('second', $1, $2, $3, $4, $5, $6) \
                 RETURNING {TASK_COLUMNS}"
            )))
            .bind(&decision.ad_id)
            .bind(decision.revision)
            .bind(&decision.action)
            .bind(&decision.actor)
            .bind(decision.seq)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            let detail = serde_json::json!({"task": row.id, "decision_seq": decision.seq});
            append_audit!(
                tx,
                dialect,
                "system",
                "qa.sample",
                &decision.ad_id,
                detail,
                now
            );
            tx.commit().await?;
            Ok(row.into())
        })
    }

    /// Assigns `person` the oldest waiting second review of a decision they did not make (nor
    /// any other decision on that ad), whose ad is still at the judged revision; `None` when
    /// there is none. A task whose lease ran out unanswered waits again. Audited as `qa.assign`.
    pub async fn qa_claim_second(
        &self,
        person: &str,
        lease_ms: i64,
        now: i64,
    ) -> Result<Option<QaTask>> {
        let until = now.saturating_add(lease_ms);
        on_write!(&self.backend, |pool, dialect| {
            let mut tx = pool.begin_with(dialect.begin()).await?;
            if let Some(lock) = dialect.audit_lock_sql() {
                sqlx::query(lock).execute(&mut *tx).await?;
            }
            let row: Option<TaskRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "UPDATE qa_tasks SET assigned_to = $1, lease_until = $2 WHERE id = (\
                 SELECT t.id FROM qa_tasks t JOIN ads a ON a.id = t.ad_id \
                 AND a.revision = t.revision WHERE t.kind = 'second' AND t.answered_at IS NULL \
                 AND (t.assigned_to IS NULL OR t.lease_until <= $3) AND {first} <> {me} \
                 AND NOT EXISTS (SELECT 1 FROM decisions d WHERE d.ad_id = t.ad_id \
                     AND {decider} = {me}) \
                 ORDER BY t.created_at, t.id LIMIT 1) RETURNING {TASK_COLUMNS}",
                first = crate::keys::person_sql("t.first_actor"),
                decider = crate::keys::person_sql("d.actor"),
                me = crate::keys::person_sql("$1"),
            )))
            .bind(person)
            .bind(until)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(row) = row else {
                tx.rollback().await?;
                return Ok(None);
            };
            let detail =
                serde_json::json!({"task": row.id, "kind": "second", "lease_until": until});
            append_audit!(tx, dialect, person, "qa.assign", &row.ad_id, detail, now);
            tx.commit().await?;
            Ok(Some(row.into()))
        })
    }

    /// The QA tasks `person` holds under a live lease, oldest first.
    pub async fn qa_open_of(&self, person: &str, now: i64) -> Result<Vec<QaTask>> {
        let rows: Vec<TaskRow> = on_read!(self, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {TASK_COLUMNS} FROM qa_tasks WHERE assigned_to = $1 \
                 AND answered_at IS NULL AND lease_until > $2 ORDER BY created_at, id"
            )))
            .bind(person)
            .bind(now)
            .fetch_all(pool)
            .await?
        });
        Ok(rows.into_iter().map(QaTask::from).collect())
    }

    /// Extends `person`'s lease on their open task for `ad_id`; `false` when they hold none.
    pub async fn qa_renew(
        &self,
        person: &str,
        ad_id: &str,
        lease_ms: i64,
        now: i64,
    ) -> Result<bool> {
        on_write!(&self.backend, |pool, _dialect| {
            let done = sqlx::query(
                "UPDATE qa_tasks SET lease_until = $1 WHERE assigned_to = $2 AND ad_id = $3 \
                 AND answered_at IS NULL AND lease_until > $4",
            )
            .bind(now.saturating_add(lease_ms))
            .bind(person)
            .bind(ad_id)
            .bind(now)
            .execute(pool)
            .await?;
            Ok(done.rows_affected() > 0)
        })
    }

    /// Records `person`'s answer to the task they hold on `answer.ad_id`. Refused with
    /// `not_claimed` when they hold none (or its lease ran out), `stale_revision` when the
    /// answer names another revision or the ad changed since. Audited as `qa.answer` with the
    /// expected action and whether they agree (the note as its SHA-256).
    pub async fn qa_answer(&self, person: &str, answer: &QaAnswer, now: i64) -> Result<QaTask> {
        crate::decisions::check_reason_and_note(&answer.reason, &answer.note)?;
        on_write!(&self.backend, |pool, dialect| {
            let mut tx = pool.begin_with(dialect.begin()).await?;
            if let Some(lock) = dialect.audit_lock_sql() {
                sqlx::query(lock).execute(&mut *tx).await?;
            }
            let held: Option<(i64, i64, String, Option<i64>)> = sqlx::query_as(
                "SELECT t.id, t.revision, t.expected_action, a.revision FROM qa_tasks t \
                 LEFT JOIN ads a ON a.id = t.ad_id WHERE t.assigned_to = $1 AND t.ad_id = $2 \
                 AND t.answered_at IS NULL AND t.lease_until > $3 ORDER BY t.id LIMIT 1",
            )
            .bind(person)
            .bind(answer.ad_id.as_str())
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
            let Some((id, revision, expected, current)) = held else {
                tx.rollback().await?;
                return Err(refused(
                    "not_claimed",
                    format!("you hold no live review task on `{}`", answer.ad_id),
                ));
            };
            if answer.revision != revision || current != Some(revision) {
                tx.rollback().await?;
                return Err(refused(
                    "stale_revision",
                    format!(
                        "`{}` changed since this review was set (revision {revision}); \
                         the task no longer applies",
                        answer.ad_id
                    ),
                ));
            }
            let agreed = answer.action.as_str() == expected;
            let row: TaskRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "UPDATE qa_tasks SET answer_action = $1, answer_reason = $2, answer_note = $3, \
                 answered_at = $4, agreed = $5 WHERE id = $6 RETURNING {TASK_COLUMNS}"
            )))
            .bind(answer.action.as_str())
            .bind(answer.reason.as_str())
            .bind(answer.note.as_str())
            .bind(now)
            .bind(i64::from(agreed))
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
            let detail = serde_json::json!({
                "task": id,
                "kind": row.kind,
                "revision": revision,
                "action": answer.action.as_str(),
                "reason": answer.reason,
                "note_sha256": crate::sha256_hex(answer.note.as_bytes()),
                "expected": expected,
                "agreed": agreed,
            });
            append_audit!(
                tx,
                dialect,
                person,
                "qa.answer",
                answer.ad_id.as_str(),
                detail,
                now
            );
            tx.commit().await?;
            Ok(row.into())
        })
    }

    /// Second reviews that disagreed with the decision and wait for a lead, oldest first.
    pub async fn qa_disagreements(&self, limit: i64) -> Result<Vec<QaTask>> {
        let rows: Vec<TaskRow> = on_read!(self, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {TASK_COLUMNS} FROM qa_tasks WHERE kind = 'second' AND agreed = 0 \
                 AND resolved_at IS NULL ORDER BY answered_at, id LIMIT $1"
            )))
            .bind(limit)
            .fetch_all(pool)
            .await?
        });
        Ok(rows.into_iter().map(QaTask::from).collect())
    }

    /// A lead closes a disagreement, saying what they did (`resolution`: e.g. "decision
    /// overridden" or "first decision stands"). Refused with `resolved` when it was closed
    /// already. Audited as `qa.resolve`.
    pub async fn qa_resolve(
        &self,
        task_id: i64,
        lead: &str,
        resolution: &str,
        now: i64,
    ) -> Result<QaTask> {
        if resolution.trim().is_empty() || resolution.len() > crate::decisions::MAX_NOTE {
            return Err(StoreError::Invalid(format!(
                "the resolution says what was done, in 1 to {} bytes",
                crate::decisions::MAX_NOTE
            )));
        }
        on_write!(&self.backend, |pool, dialect| {
            let mut tx = pool.begin_with(dialect.begin()).await?;
            if let Some(lock) = dialect.audit_lock_sql() {
                sqlx::query(lock).execute(&mut *tx).await?;
            }
            let row: Option<TaskRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "UPDATE qa_tasks SET resolved_by = $1, resolved_at = $2, resolution = $3 \
                 WHERE id = $4 AND kind = 'second' AND agreed = 0 AND resolved_at IS NULL \
                 RETURNING {TASK_COLUMNS}"
            )))
            .bind(lead)
            .bind(now)
            .bind(resolution)
            .bind(task_id)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(row) = row else {
                tx.rollback().await?;
                return Err(refused(
                    "resolved",
                    format!("second review {task_id} is not a disagreement waiting for a lead"),
                ));
            };
            let detail = serde_json::json!({
                "task": task_id,
                "resolution_sha256": crate::sha256_hex(resolution.as_bytes()),
            });
            append_audit!(tx, dialect, lead, "qa.resolve", &row.ad_id, detail, now);
            tx.commit().await?;
            Ok(row.into())
        })
    }

    /// Agreement per person over every answered task, by name.
    pub async fn qa_agreement(&self) -> Result<Vec<Agreement>> {
        let (by_answerer, by_first): (Vec<AnswerCount>, Vec<FirstCount>) = on_read!(self, |pool| {
            let a = sqlx::query_as(
                "SELECT assigned_to, kind, COUNT(*), CAST(SUM(agreed) AS BIGINT) FROM qa_tasks \
                     WHERE answered_at IS NOT NULL GROUP BY assigned_to, kind",
            )
            .fetch_all(pool)
            .await?;
            let b = sqlx::query_as(
                "SELECT first_actor, COUNT(*), CAST(SUM(agreed) AS BIGINT) FROM qa_tasks \
                     WHERE kind = 'second' AND answered_at IS NOT NULL GROUP BY first_actor",
            )
            .fetch_all(pool)
            .await?;
            (a, b)
        });
        let mut people: std::collections::BTreeMap<String, Agreement> = Default::default();
        for (person, kind, n, agreed) in by_answerer {
            let a = people.entry(person.clone()).or_insert_with(|| Agreement {
                person,
                ..Agreement::default()
            });
            if kind == "golden" {
                a.golden_answered += n;
                a.golden_agreed += agreed;
            } else {
                a.second_given += n;
                a.second_given_agreed += agreed;
            }
        }
        for (person, n, agreed) in by_first {
            let a = people.entry(person.clone()).or_insert_with(|| Agreement {
                person,
                ..Agreement::default()
            });
            a.decisions_checked += n;
            a.decisions_confirmed += agreed;
        }
        Ok(people.into_values().collect())
    }
}
