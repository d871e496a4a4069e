//! Legal holds on preserved evidence (issue 22). A report case's evidence is held from the
//! moment it is preserved until an admin releases it with a reason. The hold says until when
//! it must stand at least (`until_ms`: the report + 365 days, or longer by configuration, or
//! later still when a law-enforcement request extends it). Release is refused while a filed
//! report's hold has not run to `until_ms`, and while a recorded law-enforcement extension
//! runs; a case never filed (opened by mistake, retracted) may be released early, with the
//! reason recorded. Extending and releasing are audited (`hold.extend`, `hold.release`), and
//! the store's triggers refuse deleting a hold or shortening it, whatever the caller.

use serde::Serialize;

use crate::{Result, Store, StoreError};

/// A recorded law-enforcement request that lengthened a hold.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct HoldExtension {
    pub until_ms: i64,
    /// The request's number or docket.
    pub reference: String,
    pub agency: String,
    pub recorded_by: String,
    pub recorded_at: i64,
}

/// A hold on one case's preserved evidence.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hold {
    pub id: i64,
    pub report_id: i64,
    pub ad_id: String,
    /// `held` or `released`.
    pub state: String,
    pub created_at: i64,
    /// The earliest the hold may be released (milliseconds since the epoch).
    pub until_ms: i64,
    pub released_at: Option<i64>,
    pub released_by: Option<String>,
    pub release_reason: Option<String>,
    pub extensions: Vec<HoldExtension>,
}

pub(crate) const HOLD_COLUMNS: &str =
    "id, report_id, ad_id, state, created_at, until_ms, released_at, released_by, release_reason";

#[derive(sqlx::FromRow)]
pub(crate) struct HoldRow {
    pub(crate) id: i64,
    report_id: i64,
    ad_id: String,
    state: String,
    created_at: i64,
    pub(crate) until_ms: i64,
    released_at: Option<i64>,
    released_by: Option<String>,
    release_reason: Option<String>,
}

impl HoldRow {
    pub(crate) fn into_hold(self, extensions: Vec<HoldExtension>) -> Hold {
        Hold {
            id: self.id,
            report_id: self.report_id,
            ad_id: self.ad_id,
            state: self.state,
            created_at: self.created_at,
            until_ms: self.until_ms,
            released_at: self.released_at,
            released_by: self.released_by,
            release_reason: self.release_reason,
            extensions,
        }
    }
}

/// The states a hold can be in.
pub const HOLD_STATES: [&str; 2] = ["held", "released"];

/// Longest reason, reference or agency text.
const MAX_TEXT: usize = 2000;

fn text(what: &str, s: &str) -> Result<String> {
    let t = s.trim();
    if t.is_empty() || t.chars().count() > MAX_TEXT || t.chars().any(char::is_control) {
        return Err(StoreError::Invalid(format!(
            "{what} is 1 to {MAX_TEXT} characters without control characters"
        )));
    }
    Ok(t.to_owned())
}

impl Store {
    async fn extensions_of(&self, hold: i64) -> Result<Vec<HoldExtension>> {
        let rows: Vec<HoldExtension> = on_read!(self, |pool| {
            sqlx::query_as(
                "SELECT until_ms, reference, agency, recorded_by, recorded_at \
                 FROM hold_extensions WHERE hold_id = $1 ORDER BY recorded_at, until_ms",
            )
            .bind(hold)
            .fetch_all(pool)
            .await
        })?;
        Ok(rows)
    }

    /// Hold `id`, with its extensions.
    pub async fn hold(&self, id: i64) -> Result<Option<Hold>> {
        let row: Option<HoldRow> = on_read!(self, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {HOLD_COLUMNS} FROM holds WHERE id = $1"
            )))
            .bind(id)
            .fetch_optional(pool)
            .await
        })?;
        match row {
            Some(r) => {
                let ext = self.extensions_of(r.id).await?;
                Ok(Some(r.into_hold(ext)))
            }
            None => Ok(None),
        }
    }

    /// The hold of case `report_id`.
    pub async fn hold_of_report(&self, report_id: i64) -> Result<Option<Hold>> {
        let row: Option<(i64,)> = on_read!(self, |pool| {
            sqlx::query_as("SELECT id FROM holds WHERE report_id = $1")
                .bind(report_id)
                .fetch_optional(pool)
                .await
        })?;
        match row {
            Some((id,)) => self.hold(id).await,
            None => Ok(None),
        }
    }

    /// Holds, newest first, in `state` when given, at most `limit`.
    pub async fn holds(&self, state: Option<&str>, limit: i64) -> Result<Vec<Hold>> {
        let rows: Vec<HoldRow> = on_read!(self, |pool| {
            let mut qb = sqlx::QueryBuilder::<DB>::new(format!("SELECT {HOLD_COLUMNS} FROM holds"));
            if let Some(s) = state {
                qb.push(" WHERE state = ").push_bind(s);
            }
            qb.push(" ORDER BY id DESC LIMIT ").push_bind(limit);
            qb.build_query_as().fetch_all(pool).await
        })?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let ext = self.extensions_of(r.id).await?;
            out.push(r.into_hold(ext));
        }
        Ok(out)
    }

    /// Records a law-enforcement request (`reference`, `agency`) that keeps hold `id` at least
    /// until `until_ms`; the hold's own date moves there when it is later. Audited.
    #[allow(clippy::too_many_arguments)]
    pub async fn hold_extend(
        &self,
        id: i64,
        until_ms: i64,
        reference: &str,
        agency: &str,
        actor: &str,
        now: i64,
    ) -> Result<Hold> {
        let reference = text("the request's reference", reference)?;
        let agency = text("the agency", agency)?;
        if until_ms <= now {
            return Err(StoreError::Invalid(
                "an extension runs until a time in the future".into(),
            ));
        }
        on_write!(&self.backend, |pool, dialect| {
            let mut tx = pool.begin_with(dialect.begin()).await?;
            if let Some(lock) = dialect.audit_lock_sql() {
                sqlx::query(lock).execute(&mut *tx).await?;
            }
            let row: Option<HoldRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {HOLD_COLUMNS} FROM holds WHERE id = $1"
            )))
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(row) = row else {
                tx.rollback().await?;
                return Err(StoreError::NotFound(format!("hold {id}")));
            };
            if row.state != "held" {
                tx.rollback().await?;
                return Err(StoreError::Refused {
                    code: "state",
                    message: format!("hold {id} was released; its evidence may be gone"),
                });
            }
            sqlx::query(
                "INSERT INTO hold_extensions (hold_id, until_ms, reference, agency, recorded_by, \
                 recorded_at) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(id)
            .bind(until_ms)
            .bind(&reference)
            .bind(&agency)
            .bind(actor)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            if until_ms > row.until_ms {
                sqlx::query("UPDATE holds SET until_ms = $1 WHERE id = $2")
                    .bind(until_ms)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            let detail = serde_json::json!({
                "hold": id,
                "report": row.report_id,
                "until": until_ms,
                "reference": reference,
                "agency": agency,
            });
            append_audit!(tx, dialect, actor, "hold.extend", &row.ad_id, detail, now);
            tx.commit().await?;
            Ok::<(), StoreError>(())
        })?;
        self.hold(id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("hold {id}")))
    }

    /// Releases hold `id` with `reason`, as an admin `actor`. Refused while a law-enforcement
    /// extension runs, and while the hold of a report that was filed (submitted or finished)
    /// has not reached its date. Audited.
    pub async fn hold_release(&self, id: i64, reason: &str, actor: &str, now: i64) -> Result<Hold> {
        let reason = text("the reason", reason)?;
        on_write!(&self.backend, |pool, dialect| {
            let mut tx = pool.begin_with(dialect.begin()).await?;
            if let Some(lock) = dialect.audit_lock_sql() {
                sqlx::query(lock).execute(&mut *tx).await?;
            }
            let row: Option<HoldRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {HOLD_COLUMNS} FROM holds WHERE id = $1"
            )))
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(row) = row else {
                tx.rollback().await?;
                return Err(StoreError::NotFound(format!("hold {id}")));
            };
            if row.state != "held" {
                tx.rollback().await?;
                return Err(StoreError::Refused {
                    code: "state",
                    message: format!("hold {id} is already released"),
                });
            }
            let running: Option<(String, String, i64)> = sqlx::query_as(
                "SELECT reference, agency, until_ms FROM hold_extensions WHERE hold_id = $1 \
                 AND until_ms > $2 ORDER BY until_ms DESC LIMIT 1",
            )
            .bind(id)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some((reference, agency, until)) = running {
                tx.rollback().await?;
                return Err(StoreError::Refused {
                    code: "law_enforcement",
                    message: format!(
                        "hold {id} is extended by {agency}'s request {reference} until {}",
                        crate::queue::rfc3339_ms(until)
                    ),
                });
            }
            let (case_state,): (String,) =
                sqlx::query_as("SELECT state FROM reports WHERE id = $1")
                    .bind(row.report_id)
                    .fetch_one(&mut *tx)
                    .await?;
            let filed = matches!(
                case_state.as_str(),
                "submitting" | "submitted" | "uploaded" | "finished"
            );
            if filed && now < row.until_ms {
                tx.rollback().await?;
                return Err(StoreError::Refused {
                    code: "held",
                    message: format!(
                        "report {} was filed ({case_state}); its evidence is held until {}",
                        row.report_id,
                        crate::queue::rfc3339_ms(row.until_ms)
                    ),
                });
            }
            sqlx::query(
                "UPDATE holds SET state = 'released', released_at = $1, released_by = $2, \
                 release_reason = $3 WHERE id = $4",
            )
            .bind(now)
            .bind(actor)
            .bind(&reason)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            let detail = serde_json::json!({
                "hold": id,
                "report": row.report_id,
                "report_state": case_state,
                "reason": reason,
            });
            append_audit!(tx, dialect, actor, "hold.release", &row.ad_id, detail, now);
            tx.commit().await?;
            Ok::<(), StoreError>(())
        })?;
        self.hold(id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("hold {id}")))
    }
}
