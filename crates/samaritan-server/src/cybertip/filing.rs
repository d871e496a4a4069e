//! Filing one approved case, step by step, each step persisted before the next call:
//!
//! ```text
//! approved | failed ──▶ submitting ──submit──▶ submitted(id) ──finish──▶ finished
//!                           │                       │
//!                           └─ refused ─▶ failed    └─ refused ─▶ failed (the report retracted)
//! ```
//!
//! A crash (or a lost answer) leaves the case `submitting` or `submitted`, and filing it again
//! resumes: from `submitting` it submits again (a report NCMEC received but that was never
//! finished is deleted on its side within a day), from `submitted` it finishes the known report,
//! and a `finish` answered "already finished" (5102) counts as finished. So NCMEC ends with
//! exactly one finished report per case, whatever step the crash hit. Each step is audited
//! (`report.filing`) with NCMEC's report id and any error, never with credentials.

use std::sync::Arc;

use samaritan_store::{FilingStep, Report, Store, StoreError, now_ms};

use super::client::{Client, CyberTipError};
use super::xml;

/// How long a `submitting` step is taken as someone else's call in flight (longer than any
/// client timeout the service or the CLI uses).
pub const IN_FLIGHT_MS: i64 = 11 * 60 * 1000;

/// Why a case was not filed.
#[derive(Debug, thiserror::Error)]
pub enum FilingError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("report {0} not found")]
    NotFound(i64),
    #[error("report {id} is {state}: {why}")]
    State {
        id: i64,
        state: String,
        why: &'static str,
    },
    #[error(transparent)]
    NotFileable(#[from] xml::NotFileable),
    #[error(transparent)]
    CyberTip(#[from] CyberTipError),
    #[error("the filing task stopped: {0}")]
    Task(String),
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, CyberTipError> + Send + 'static,
) -> Result<Result<T, CyberTipError>, FilingError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| FilingError::Task(e.to_string()))
}

/// The CyberTipline ids of the finished earlier cases a follow-up names.
async fn prior_ids(store: &Store, case: &Report) -> Result<Vec<String>, StoreError> {
    let mut out = Vec::new();
    for id in &case.follow_up_of {
        if let Some(r) = store.report(*id).await?
            && r.state == "finished"
            && let Some(n) = r.ncmec_report_id
        {
            out.push(n);
        }
    }
    Ok(out)
}

/// Files case `id` as `actor` (resuming where a stop left it); returns the case as it ends.
pub async fn file(
    store: &Store,
    client: Arc<Client>,
    id: i64,
    actor: &str,
) -> Result<Report, FilingError> {
    let case = store.report(id).await?.ok_or(FilingError::NotFound(id))?;
    let ncmec_id = match case.state.as_str() {
        "finished" => return Ok(case),
        "draft" => {
            return Err(FilingError::State {
                id,
                state: case.state,
                why: "a lead other than the decider approves it first",
            });
        }
        "retracted" => {
            return Err(FilingError::State {
                id,
                state: case.state,
                why: "a retracted report is not filed again",
            });
        }
        "submitted" => case
            .ncmec_report_id
            .clone()
            .ok_or_else(|| FilingError::State {
                id,
                state: "submitted".into(),
                why: "no NCMEC report id is recorded",
            })?,
        // Another filer's submit may still be in flight: resume only a step left long enough
        // ago that its call has surely ended (the client's timeout is far below this).
        "submitting" if now_ms() - case.updated_at < IN_FLIGHT_MS => {
            return Err(FilingError::State {
                id,
                state: case.state,
                why: "it is being submitted right now; try again in a few minutes",
            });
        }
        // approved, failed, or submitting (a stop before the answer was recorded).
        _ => {
            let prior = prior_ids(store, &case).await?;
            let document = match xml::report(&case.draft, &prior) {
                Ok(x) => x,
                Err(e) => {
                    store
                        .report_filing(
                            id,
                            FilingStep {
                                from: &["approved", "failed", "submitting"],
                                to: "failed",
                                ncmec_report_id: None,
                                error: Some(&e.to_string()),
                            },
                            actor,
                            now_ms(),
                        )
                        .await?;
                    return Err(e.into());
                }
            };
            store
                .report_filing(
                    id,
                    FilingStep {
                        from: &["approved", "failed", "submitting"],
                        to: "submitting",
                        ncmec_report_id: None,
                        error: None,
                    },
                    actor,
                    now_ms(),
                )
                .await?;
            let c = client.clone();
            match blocking(move || c.submit(&document)).await? {
                Ok(n) => {
                    store
                        .report_filing(
                            id,
                            FilingStep {
                                from: &["submitting"],
                                to: "submitted",
                                ncmec_report_id: Some(&n),
                                error: None,
                            },
                            actor,
                            now_ms(),
                        )
                        .await?;
                    n
                }
                Err(e) => {
                    store
                        .report_filing(
                            id,
                            FilingStep {
                                from: &["submitting"],
                                to: "failed",
                                ncmec_report_id: None,
                                error: Some(&e.to_string()),
                            },
                            actor,
                            now_ms(),
                        )
                        .await?;
                    return Err(e.into());
                }
            }
        }
    };
    let c = client.clone();
    let n = ncmec_id.clone();
    match blocking(move || c.finish(&n)).await? {
        Ok(()) | Err(CyberTipError::Code { code: 5102, .. }) => Ok(store
            .report_filing(
                id,
                FilingStep {
                    from: &["submitted"],
                    to: "finished",
                    ncmec_report_id: None,
                    error: None,
                },
                actor,
                now_ms(),
            )
            .await?),
        Err(e) if e.uncertain() => {
            // Left `submitted`: filing again finishes the same report.
            Err(e.into())
        }
        Err(e) => {
            // Refused for good (expired, invalid): retract what is left, and fail so that the
            // next attempt submits a new report.
            let c = client.clone();
            let n = ncmec_id.clone();
            let mut error = e.to_string();
            match blocking(move || c.retract(&n)).await {
                Ok(Ok(())) => {}
                Ok(Err(r)) => {
                    tracing::warn!(report = id, ncmec = %ncmec_id, error = %r, "retracting a refused report failed");
                    error = format!("{error}; retracting report {ncmec_id} also failed: {r}");
                }
                Err(t) => {
                    error = format!("{error}; retracting report {ncmec_id} stopped: {t}");
                }
            }
            store
                .report_filing(
                    id,
                    FilingStep {
                        from: &["submitted"],
                        to: "failed",
                        ncmec_report_id: None,
                        error: Some(&error),
                    },
                    actor,
                    now_ms(),
                )
                .await?;
            Err(e.into())
        }
    }
}

/// Retracts case `id`'s unfinished CyberTipline report (a case `submitted` and not finished),
/// as `actor`; the case ends `retracted`.
pub async fn retract(
    store: &Store,
    client: Arc<Client>,
    id: i64,
    actor: &str,
) -> Result<Report, FilingError> {
    let case = store.report(id).await?.ok_or(FilingError::NotFound(id))?;
    let (Some(ncmec), "submitted") = (case.ncmec_report_id.clone(), case.state.as_str()) else {
        return Err(FilingError::State {
            id,
            state: case.state,
            why: "only a submitted, unfinished report can be retracted",
        });
    };
    let n = ncmec.clone();
    match blocking(move || client.retract(&n)).await? {
        Ok(()) | Err(CyberTipError::Code { code: 5101, .. }) => Ok(store
            .report_filing(
                id,
                FilingStep {
                    from: &["submitted"],
                    to: "retracted",
                    ncmec_report_id: None,
                    error: None,
                },
                actor,
                now_ms(),
            )
            .await?),
        Err(e) => Err(e.into()),
    }
}
