//! Report cases: what a `report` decision opens, on its way to NCMEC's CyberTipline.
//!
//! One case per report decision (`decision_seq` is unique, so opening is idempotent: a retry or
//! the start-up sweep never makes a second case). The case keeps the draft the server built from
//! the ad, its analysis, its network and the evidence, and the earlier cases on the same account
//! or phone (`follow_up_of`), so a follow-up report can name them. A lead other than the person
//! who decided approves the draft (the two-person rule). Opening and approving are audited.

use serde::Serialize;

use crate::{Decision, Result, Store, StoreError};

/// One filing step: from which states, to which, with NCMEC's report id and the error.
#[derive(Debug, Clone, Copy)]
pub struct FilingStep<'a> {
    pub from: &'a [&'a str],
    pub to: &'a str,
    /// Recorded when given; kept otherwise.
    pub ncmec_report_id: Option<&'a str>,
    /// Recorded as the case's error; `None` clears it.
    pub error: Option<&'a str>,
    /// Until when the filer taking this step may still be at it (its call's timeout): another
    /// filer leaves the case alone before then. `None` for a step that ends filing.
    pub lease_until: Option<i64>,
}

/// Every state a case can be in.
pub const REPORT_STATES: [&str; 8] = [
    "draft",
    "approved",
    "submitting",
    "submitted",
    "uploaded",
    "finished",
    "failed",
    "retracted",
];

/// A report case.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub id: i64,
    pub ad_id: String,
    /// The ad revision the report decision judged.
    pub revision: i64,
    pub decision_seq: i64,
    /// The CyberTipline incident type, e.g. "Child Sex Trafficking".
    pub incident_type: String,
    /// `draft`, `approved`, then while filing `submitting`, `submitted` (NCMEC's id known),
    /// `uploaded` (every file sent and described), `finished`, `failed` or `retracted`.
    pub state: String,
    /// The reported user's account on the platform, when the ad names one.
    pub account: Option<String>,
    /// Earlier cases on the same account or phone, oldest first.
    pub follow_up_of: Vec<i64>,
    /// The case as built: incident, web page, phones, reported user, network, evidence.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub draft: serde_json::Value,
    pub created_by: String,
    pub created_at: i64,
    pub approved_by: Option<String>,
    pub approved_at: Option<i64>,
    pub updated_at: i64,
    /// The CyberTipline's id of the filed report, once submitted.
    pub ncmec_report_id: Option<String>,
    /// Why the last filing attempt failed.
    pub filing_error: Option<String>,
    pub finished_at: Option<i64>,
    /// Until when the filer of the last step may still be at it (milliseconds).
    pub lease_until: Option<i64>,
}

/// A file sent with a CyberTipline report.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct ReportFile {
    pub ncmec_report_id: String,
    pub sha256: String,
    /// NCMEC's id of the uploaded file.
    pub file_id: String,
    /// The MD5 NCMEC computed of what it received.
    pub md5: Option<String>,
    pub uploaded_at: i64,
    /// When its `fileDetails` were accepted; `None` while only uploaded.
    pub described_at: Option<i64>,
}

/// What opening a case needs.
#[derive(Debug, Clone)]
pub struct ReportOpen {
    pub decision: Decision,
    pub incident_type: String,
    pub account: Option<String>,
    /// The ad's phones (digits), to find earlier cases on the same phone.
    pub phones: Vec<String>,
    pub draft: serde_json::Value,
}

const REPORT_COLUMNS: &str = "id, ad_id, revision, decision_seq, incident_type, state, account, \
     follow_up_of, draft, created_by, created_at, approved_by, approved_at, updated_at, \
     ncmec_report_id, filing_error, finished_at, lease_until";

#[derive(sqlx::FromRow)]
struct ReportRow {
    id: i64,
    ad_id: String,
    revision: i64,
    decision_seq: i64,
    incident_type: String,
    state: String,
    account: Option<String>,
    follow_up_of: String,
    draft: String,
    created_by: String,
    created_at: i64,
    approved_by: Option<String>,
    approved_at: Option<i64>,
    updated_at: i64,
    ncmec_report_id: Option<String>,
    filing_error: Option<String>,
    finished_at: Option<i64>,
    lease_until: Option<i64>,
}

impl TryFrom<ReportRow> for Report {
    type Error = StoreError;

    fn try_from(r: ReportRow) -> Result<Report> {
        let corrupt = |what: &str, e: serde_json::Error| {
            StoreError::Corrupt(format!("report {}: {what} does not read: {e}", r.id))
        };
        Ok(Report {
            follow_up_of: serde_json::from_str(&r.follow_up_of)
                .map_err(|e| corrupt("follow_up_of", e))?,
            draft: serde_json::from_str(&r.draft).map_err(|e| corrupt("draft", e))?,
            id: r.id,
            ad_id: r.ad_id,
            revision: r.revision,
            decision_seq: r.decision_seq,
            incident_type: r.incident_type,
            state: r.state,
            account: r.account,
            created_by: r.created_by,
            created_at: r.created_at,
            approved_by: r.approved_by,
            approved_at: r.approved_at,
            updated_at: r.updated_at,
            ncmec_report_id: r.ncmec_report_id,
            filing_error: r.filing_error,
            finished_at: r.finished_at,
            lease_until: r.lease_until,
        })
    }
}

/// Time from an ad's first flag to its finished report.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ReportTimes {
    pub finished: usize,
    pub p50_secs: Option<f64>,
    pub p90_secs: Option<f64>,
}

/// Cases by state, for the dashboard and `/metrics`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReportCounts {
    pub draft: i64,
    pub approved: i64,
    /// Being filed (`submitting` or `submitted`).
    pub filing: i64,
    pub finished: i64,
    pub failed: i64,
    pub retracted: i64,
}

impl Store {
    /// Opens the case of a report decision, or returns the one already open for it
    /// (`false`: it existed). Refused unless the decision is a `report`. Audited as
    /// `report.open` with the case, the incident type and the earlier cases it follows.
    pub async fn report_open(&self, open: &ReportOpen, now: i64) -> Result<(Report, bool)> {
        let d = &open.decision;
        if d.action != "report" {
            return Err(StoreError::Invalid(format!(
                "decision {} is `{}`, not `report`",
                d.seq, d.action
            )));
        }
        let draft = serde_json::to_string(&open.draft)
            .map_err(|e| StoreError::Invalid(format!("the draft does not serialise: {e}")))?;
        on_write!(&self.backend, |pool, dialect| {
            let mut tx = pool.begin_with(dialect.begin()).await?;
            if let Some(lock) = dialect.audit_lock_sql() {
                sqlx::query(lock).execute(&mut *tx).await?;
            }
            let existing: Option<ReportRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {REPORT_COLUMNS} FROM reports WHERE decision_seq = $1"
            )))
            .bind(d.seq)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(row) = existing {
                tx.rollback().await?;
                return Ok((row.try_into()?, false));
            }
            // Earlier cases on the same ad, account or phone.
            let mut qb = sqlx::QueryBuilder::<DB>::new(
                "SELECT DISTINCT r.id FROM reports r WHERE r.ad_id = ",
            );
            qb.push_bind(d.ad_id.as_str());
            if let Some(acc) = &open.account {
                qb.push(" OR r.account = ").push_bind(acc.as_str());
            }
            if !open.phones.is_empty() {
                qb.push(
                    " OR r.ad_id IN (SELECT i.ad_id FROM identifiers i WHERE i.kind = 'phone' \
                     AND i.value IN (",
                );
                let mut sep = qb.separated(", ");
                for p in open.phones.iter().take(100) {
                    sep.push_bind(p.as_str());
                }
                sep.push_unseparated("))");
            }
            qb.push(" ORDER BY r.id");
            let earlier: Vec<(i64,)> = qb.build_query_as().fetch_all(&mut *tx).await?;
            let earlier: Vec<i64> = earlier.into_iter().map(|(id,)| id).collect();
            let follow = serde_json::to_string(&earlier).unwrap_or_else(|_| "[]".to_owned());
            let row: ReportRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "INSERT INTO reports (ad_id, revision, decision_seq, incident_type, state, account, \
                 follow_up_of, draft, created_by, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, 'draft', $5, $6, $7, $8, $9, $9) RETURNING {REPORT_COLUMNS}"
            )))
            .bind(d.ad_id.as_str())
            .bind(d.revision)
            .bind(d.seq)
            .bind(open.incident_type.as_str())
            .bind(open.account.as_deref())
            .bind(&follow)
            .bind(&draft)
            .bind(d.actor.as_str())
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            let detail = serde_json::json!({
                "report": row.id,
                "decision_seq": d.seq,
                "revision": d.revision,
                "incident_type": open.incident_type,
                "follow_up_of": earlier,
                "draft_sha256": crate::sha256_hex(draft.as_bytes()),
            });
            append_audit!(tx, dialect, &d.actor, "report.open", &d.ad_id, detail, now);
            let data = serde_json::json!({
                "report_id": row.id, "ad_id": d.ad_id, "revision": d.revision,
                "decision_seq": d.seq, "state": "draft",
            });
            emit_event!(tx, "report.opened", Some(d.ad_id.as_str()), data, now);
            tx.commit().await?;
            Ok((row.try_into()?, true))
        })
    }

    /// One case.
    pub async fn report(&self, id: i64) -> Result<Option<Report>> {
        let row: Option<ReportRow> = on_read!(self, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {REPORT_COLUMNS} FROM reports WHERE id = $1"
            )))
            .bind(id)
            .fetch_optional(pool)
            .await?
        });
        row.map(Report::try_from).transpose()
    }

    /// Cases, newest first, in `state` when given.
    pub async fn reports(&self, state: Option<&str>, limit: i64) -> Result<Vec<Report>> {
        let rows: Vec<ReportRow> = on_read!(self, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {REPORT_COLUMNS} FROM reports WHERE ($1 IS NULL OR state = $1) \
                 ORDER BY id DESC LIMIT $2"
            )))
            .bind(state)
            .bind(limit)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(Report::try_from).collect()
    }

    /// A lead approves a draft for filing. Refused with `two_person` when the lead made the
    /// report decision, `state` when the case is no longer a draft. Audited as
    /// `report.approve`.
    pub async fn report_approve(&self, id: i64, lead: &str, now: i64) -> Result<Report> {
        on_write!(&self.backend, |pool, dialect| {
            let mut tx = pool.begin_with(dialect.begin()).await?;
            if let Some(lock) = dialect.audit_lock_sql() {
                sqlx::query(lock).execute(&mut *tx).await?;
            }
            // People, not keys: a lead's key bound to the person who decided is that person.
            let cur: Option<(String, String, String, String)> =
                sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT state, {}, ad_id, {} FROM reports WHERE id = $1",
                    crate::keys::person_sql("created_by"),
                    crate::keys::person_sql("$2"),
                )))
                .bind(id)
                .bind(lead)
                .fetch_optional(&mut *tx)
                .await?;
            let refusal = match &cur {
                None => Some(StoreError::NotFound(format!("report {id}"))),
                Some((_, by, _, me)) if by == me => Some(StoreError::Refused {
                    code: "two_person",
                    message: format!("report {id} was decided by {lead}: another lead approves it"),
                }),
                Some((state, _, _, _)) if state != "draft" => Some(StoreError::Refused {
                    code: "state",
                    message: format!("report {id} is {state}, not a draft"),
                }),
                _ => None,
            };
            if let Some(e) = refusal {
                tx.rollback().await?;
                return Err(e);
            }
            let row: ReportRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "UPDATE reports SET state = 'approved', approved_by = $1, approved_at = $2, \
                 updated_at = $2 WHERE id = $3 AND state = 'draft' RETURNING {REPORT_COLUMNS}"
            )))
            .bind(lead)
            .bind(now)
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
            let detail = serde_json::json!({"report": id});
            append_audit!(tx, dialect, lead, "report.approve", &row.ad_id, detail, now);
            let data = serde_json::json!({
                "report_id": row.id, "ad_id": row.ad_id, "state": "approved",
            });
            emit_event!(tx, "report.approved", Some(row.ad_id.as_str()), data, now);
            tx.commit().await?;
            row.try_into()
        })
    }

    /// Moves case `id` from one of `step.from` to `step.to`: records NCMEC's report id when
    /// given (kept otherwise), the error (cleared when `None`), and the finishing time.
    /// Refused with `state` when the case is in no state of `from` (another filer moved it).
    /// Audited as `report.filing` with both states, the id and the error.
    pub async fn report_filing(
        &self,
        id: i64,
        step: FilingStep<'_>,
        actor: &str,
        now: i64,
    ) -> Result<Report> {
        let FilingStep {
            from,
            to,
            ncmec_report_id,
            error,
            lease_until,
        } = step;
        on_write!(&self.backend, |pool, dialect| {
            let mut tx = pool.begin_with(dialect.begin()).await?;
            if let Some(lock) = dialect.audit_lock_sql() {
                sqlx::query(lock).execute(&mut *tx).await?;
            }
            let cur: Option<(String,)> = sqlx::query_as("SELECT state FROM reports WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
            let Some((state,)) = cur else {
                tx.rollback().await?;
                return Err(StoreError::NotFound(format!("report {id}")));
            };
            if !from.contains(&state.as_str()) {
                tx.rollback().await?;
                return Err(StoreError::Refused {
                    code: "state",
                    message: format!(
                        "report {id} is {state}; this step needs it {}",
                        from.join(" or ")
                    ),
                });
            }
            let row: ReportRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "UPDATE reports SET state = $1, ncmec_report_id = COALESCE($2, ncmec_report_id), \
                 filing_error = $3, finished_at = CASE WHEN $1 = 'finished' THEN $4 \
                 ELSE finished_at END, updated_at = $4, lease_until = $6 WHERE id = $5 \
                 RETURNING {REPORT_COLUMNS}"
            )))
            .bind(to)
            .bind(ncmec_report_id)
            .bind(error)
            .bind(now)
            .bind(id)
            .bind(lease_until)
            .fetch_one(&mut *tx)
            .await?;
            let detail = serde_json::json!({
                "report": id,
                "from": state,
                "to": to,
                "ncmec_report_id": ncmec_report_id,
                "error": error,
            });
            append_audit!(tx, dialect, actor, "report.filing", &row.ad_id, detail, now);
            let event = match to {
                "finished" => Some("report.finished"),
                "failed" => Some("report.failed"),
                "retracted" => Some("report.retracted"),
                _ => None,
            };
            if let Some(event) = event {
                let data = serde_json::json!({
                    "report_id": row.id, "ad_id": row.ad_id, "state": to,
                    "ncmec_report_id": row.ncmec_report_id,
                });
                emit_event!(tx, event, Some(row.ad_id.as_str()), data, now);
            }
            tx.commit().await?;
            row.try_into()
        })
    }

    /// Records a file step of case `id` while it is `submitted` as NCMEC report `ncmec`: the
    /// upload (`file_id`, `md5`) when `described` is false, its accepted `fileDetails` when
    /// true. Audited (`report.file`) with the file's SHA-256 and NCMEC's ids; the case's lease
    /// moves to `lease_until`.
    #[allow(clippy::too_many_arguments)]
    pub async fn report_file_step(
        &self,
        id: i64,
        ncmec: &str,
        sha256: &str,
        file_id: &str,
        md5: Option<&str>,
        described: bool,
        lease_until: i64,
        actor: &str,
        now: i64,
    ) -> Result<()> {
        on_write!(&self.backend, |pool, dialect| {
            let mut tx = pool.begin_with(dialect.begin()).await?;
            if let Some(lock) = dialect.audit_lock_sql() {
                sqlx::query(lock).execute(&mut *tx).await?;
            }
            let cur: Option<(String, String, Option<String>)> =
                sqlx::query_as("SELECT state, ad_id, ncmec_report_id FROM reports WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?;
            let Some((state, ad_id, current)) = cur else {
                tx.rollback().await?;
                return Err(StoreError::NotFound(format!("report {id}")));
            };
            if state != "submitted" || current.as_deref() != Some(ncmec) {
                tx.rollback().await?;
                return Err(StoreError::Refused {
                    code: "state",
                    message: format!(
                        "report {id} is {state}{}; a file is sent only with the submitted report {ncmec}",
                        current
                            .map(|c| format!(" as NCMEC report {c}"))
                            .unwrap_or_default()
                    ),
                });
            }
            if described {
                sqlx::query(
                    "UPDATE report_files SET described_at = $1 WHERE report_id = $2 \
                     AND ncmec_report_id = $3 AND sha256 = $4",
                )
                .bind(now)
                .bind(id)
                .bind(ncmec)
                .bind(sha256)
                .execute(&mut *tx)
                .await?;
            } else {
                sqlx::query(
                    "INSERT INTO report_files (report_id, ncmec_report_id, sha256, file_id, md5, \
                     uploaded_at) VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(id)
                .bind(ncmec)
                .bind(sha256)
                .bind(file_id)
                .bind(md5)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            sqlx::query("UPDATE reports SET updated_at = $1, lease_until = $2 WHERE id = $3")
                .bind(now)
                .bind(lease_until)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            let detail = serde_json::json!({
                "report": id,
                "ncmec_report_id": ncmec,
                "sha256": sha256,
                "file_id": file_id,
                "md5": md5,
                "step": if described { "described" } else { "uploaded" },
            });
            append_audit!(tx, dialect, actor, "report.file", &ad_id, detail, now);
            tx.commit().await?;
            Ok(())
        })
    }

    /// The files recorded for case `id`, every NCMEC report it was filed as, oldest first.
    pub async fn report_files(&self, id: i64) -> Result<Vec<ReportFile>> {
        let rows: Vec<ReportFile> = on_read!(self, |pool| {
            sqlx::query_as(
                "SELECT ncmec_report_id, sha256, file_id, md5, uploaded_at, described_at \
                 FROM report_files WHERE report_id = $1 ORDER BY uploaded_at, sha256",
            )
            .bind(id)
            .fetch_all(pool)
            .await
        })?;
        Ok(rows)
    }

    /// Report decisions that have no case yet (a crash between the decision and the case), at
    /// most `limit`, oldest first: the server opens their cases at start and periodically.
    pub async fn report_decisions_without_case(&self, limit: i64) -> Result<Vec<Decision>> {
        let rows: Vec<crate::decisions::DecisionRow> = on_read!(self, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {} FROM decisions d WHERE d.action = 'report' AND NOT EXISTS \
                 (SELECT 1 FROM reports r WHERE r.decision_seq = d.seq) ORDER BY d.seq LIMIT $1",
                crate::decisions::DECISION_COLUMNS
            )))
            .bind(limit)
            .fetch_all(pool)
            .await?
        });
        Ok(rows.into_iter().map(Decision::from).collect())
    }

    /// Seconds from an ad's first flag (its first analysis that was not `allow`) to its case's
    /// finished report, for every case finished at or after `since` (the figure a regulator
    /// asks for).
    pub async fn report_times(&self, since: i64) -> Result<ReportTimes> {
        let rows: Vec<(i64, Option<i64>)> = on_read!(self, |pool| {
            sqlx::query_as(
                "SELECT r.finished_at, (SELECT MIN(a.created_at) FROM analyses a \
                 WHERE a.ad_id = r.ad_id AND a.verdict <> 'allow') FROM reports r \
                 WHERE r.state = 'finished' AND r.finished_at >= $1",
            )
            .bind(since)
            .fetch_all(pool)
            .await?
        });
        let mut secs: Vec<f64> = rows
            .into_iter()
            .filter_map(|(done, flagged)| flagged.map(|f| (done - f).max(0) as f64 / 1000.0))
            .collect();
        secs.sort_by(f64::total_cmp);
        Ok(ReportTimes {
            finished: secs.len(),
            p50_secs: crate::dashboard::quantile(&secs, 0.5),
            p90_secs: crate::dashboard::quantile(&secs, 0.9),
        })
    }

    /// How many cases are in each state.
    pub async fn report_counts(&self) -> Result<ReportCounts> {
        let rows: Vec<(String, i64)> = on_read!(self, |pool| {
            sqlx::query_as("SELECT state, COUNT(*) FROM reports GROUP BY state")
                .fetch_all(pool)
                .await?
        });
        let mut c = ReportCounts::default();
        for (state, n) in rows {
            match state.as_str() {
                "draft" => c.draft = n,
                "approved" => c.approved = n,
                "submitting" | "submitted" => c.filing += n,
                "finished" => c.finished = n,
                "failed" => c.failed = n,
                "retracted" => c.retracted = n,
                _ => {}
            }
        }
        Ok(c)
    }
}
