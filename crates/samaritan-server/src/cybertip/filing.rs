//! Filing one approved case, step by step, each step persisted before the next call:
//!
//! ```text
//! approved|failed ─▶ submitting ─submit─▶ submitted(id) ─upload, fileinfo per file─▶ uploaded ─finish─▶ finished
//!                        └ refused ─▶ failed      └ refused ─▶ failed, retracted        └ refused ─▶ failed, retracted
//! ```
//!
//! A crash (or a lost answer) leaves the case `submitting`, `submitted` or `uploaded`, and
//! filing it again resumes: from `submitting` it submits again (a report NCMEC received but
//! that was never finished is deleted on its side within a day); from `submitted` with files
//! still to send it retracts that report and files afresh (whether the last upload arrived is
//! unknown, and a report must not carry a file twice); from `uploaded` it finishes the known
//! report, and a `finish` answered "already finished" (5102) counts as finished. So NCMEC ends
//! with exactly one finished report per case, whatever step the crash hit. Each step is audited
//! (`report.filing`, `report.file`) with NCMEC's ids and any error, never with credentials. A
//! `submitting` or `submitted` step holds a lease (its client's timeout and a margin): a second
//! filer leaves the case alone until the lease has run out. An `uploaded` case is finished by
//! whoever comes (finishing twice is answered "already finished"; a refusal whose retract says
//! "already finished" also counts as finished).

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
    /// A kept image could not be read, or did not match its SHA-256: never sent.
    #[error(transparent)]
    Blob(#[from] samaritan_media::BlobError),
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

/// Until when a step taken now may still be in flight: the client's timeout and a margin.
fn lease(client: &Client) -> i64 {
    now_ms() + i64::try_from(client.timeout().as_millis()).unwrap_or(i64::MAX / 4) + 30_000
}

/// Records one step (`from` → `to`) of case `id`.
#[allow(clippy::too_many_arguments)]
async fn step(
    store: &Store,
    id: i64,
    from: &[&str],
    to: &str,
    ncmec_report_id: Option<&str>,
    error: Option<&str>,
    lease_until: Option<i64>,
    actor: &str,
) -> Result<Report, StoreError> {
    store
        .report_filing(
            id,
            FilingStep {
                from,
                to,
                ncmec_report_id,
                error,
                lease_until,
            },
            actor,
            now_ms(),
        )
        .await
}

/// Retracts NCMEC report `ncmec` (a filing left unfinished); what went wrong, if anything, as
/// text for the case's error. "Already retracted" is success.
async fn retract_quietly(client: &Arc<Client>, ncmec: &str) -> Option<String> {
    let c = client.clone();
    let n = ncmec.to_owned();
    match blocking(move || c.retract(&n)).await {
        Ok(Ok(())) | Ok(Err(CyberTipError::Code { code: 5101, .. })) => None,
        Ok(Err(r)) => {
            tracing::warn!(ncmec = %ncmec, error = %r, "retracting an unfinished report failed");
            Some(format!("retracting report {ncmec} failed: {r}"))
        }
        Err(t) => Some(format!("retracting report {ncmec} stopped: {t}")),
    }
}

/// Files case `id` as `actor` (resuming where a stop left it); returns the case as it ends.
/// `blobs` holds the kept images the case's files are read from (none: a text-only filing).
pub async fn file(
    store: &Store,
    client: Arc<Client>,
    blobs: Option<&samaritan_media::BlobStore>,
    id: i64,
    actor: &str,
) -> Result<Report, FilingError> {
    let case = store.report(id).await?.ok_or(FilingError::NotFound(id))?;
    // Another filer may still be at a step: resume only one left long enough ago that its call
    // has surely ended (the lease is its client's timeout and a margin).
    let in_flight = case.lease_until.unwrap_or(case.updated_at + IN_FLIGHT_MS) > now_ms();
    let files = super::files::files_of(&case.draft);
    match case.state.as_str() {
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
        "submitting" | "submitted" if in_flight => {
            return Err(FilingError::State {
                id,
                state: case.state,
                why: "another filer is at it right now; try again in a few minutes",
            });
        }
        "uploaded" => {
            let n = known_id(&case)?;
            return finish(store, &client, id, &n, actor).await;
        }
        "submitted" => {
            let n = known_id(&case)?;
            let done = store.report_files(id).await?;
            let mut pending = false;
            for f in &files {
                let described = done.iter().any(|d| {
                    d.ncmec_report_id == n && d.sha256 == f.sha256 && d.described_at.is_some()
                });
                if !described
                    && let Some(b) = blobs
                    && b.has(&samaritan_media::BlobKey::image(&f.sha256)?).await?
                {
                    pending = true;
                    break;
                }
            }
            if !pending {
                step(
                    store,
                    id,
                    &["submitted"],
                    "uploaded",
                    None,
                    None,
                    Some(lease(&client)),
                    actor,
                )
                .await?;
                return finish(store, &client, id, &n, actor).await;
            }
            // A stop while its files were being sent: whether the last upload reached NCMEC is
            // unknown, so that report is retracted and the case filed afresh.
            let mut error = format!(
                "filing stopped while sending the files of report {n}; it was retracted and the case filed again"
            );
            if let Some(e) = retract_quietly(&client, &n).await {
                error = format!("{error} ({e}; unfinished, NCMEC deletes it within a day)");
            }
            step(
                store,
                id,
                &["submitted"],
                "failed",
                None,
                Some(&error),
                None,
                actor,
            )
            .await?;
        }
        // approved, failed, or submitting (a stop before the answer was recorded).
        _ => {}
    }
    let case = store.report(id).await?.ok_or(FilingError::NotFound(id))?;
    let prior = prior_ids(store, &case).await?;
    let document = match xml::report(&case.draft, &prior) {
        Ok(x) => x,
        Err(e) => {
            step(
                store,
                id,
                &["approved", "failed", "submitting"],
                "failed",
                None,
                Some(&e.to_string()),
                None,
                actor,
            )
            .await?;
            return Err(e.into());
        }
    };
    step(
        store,
        id,
        &["approved", "failed", "submitting"],
        "submitting",
        None,
        None,
        Some(lease(&client)),
        actor,
    )
    .await?;
    let c = client.clone();
    let n = match blocking(move || c.submit(&document)).await? {
        Ok(n) => n,
        Err(e) => {
            step(
                store,
                id,
                &["submitting"],
                "failed",
                None,
                Some(&e.to_string()),
                None,
                actor,
            )
            .await?;
            return Err(e.into());
        }
    };
    step(
        store,
        id,
        &["submitting"],
        "submitted",
        Some(&n),
        None,
        Some(lease(&client)),
        actor,
    )
    .await?;
    if let Err(e) = send_files(store, &client, blobs, id, &n, &files, actor).await {
        // The report holds only some of its files: retract it, and fail so that the next
        // attempt files the case afresh.
        let mut error = e.to_string();
        if let Some(r) = retract_quietly(&client, &n).await {
            error = format!("{error}; {r}");
        }
        step(
            store,
            id,
            &["submitted"],
            "failed",
            None,
            Some(&error),
            None,
            actor,
        )
        .await?;
        return Err(e);
    }
    step(
        store,
        id,
        &["submitted"],
        "uploaded",
        None,
        None,
        Some(lease(&client)),
        actor,
    )
    .await?;
    finish(store, &client, id, &n, actor).await
}

fn known_id(case: &Report) -> Result<String, FilingError> {
    case.ncmec_report_id
        .clone()
        .ok_or_else(|| FilingError::State {
            id: case.id,
            state: case.state.clone(),
            why: "no NCMEC report id is recorded",
        })
}

/// Uploads and describes each kept image of the case to report `ncmec`, recording each step.
/// Images not kept (taken in before images were kept, or refused) are left out; the evidence
/// bundle names them.
async fn send_files(
    store: &Store,
    client: &Arc<Client>,
    blobs: Option<&samaritan_media::BlobStore>,
    id: i64,
    ncmec: &str,
    files: &[super::files::FileToSend],
    actor: &str,
) -> Result<(), FilingError> {
    let Some(blobs) = blobs else {
        return Ok(());
    };
    for f in files {
        let Some(bytes) = blobs
            .get(&samaritan_media::BlobKey::image(&f.sha256)?)
            .await?
        else {
            tracing::warn!(report = id, sha256 = %f.sha256, "an image of the case is not kept; filed without it");
            continue;
        };
        let c = client.clone();
        let (n, name) = (ncmec.to_owned(), f.file_name());
        let (file_id, md5) = blocking(move || c.upload(&n, &name, &bytes)).await??;
        store
            .report_file_step(
                id,
                ncmec,
                &f.sha256,
                &file_id,
                md5.as_deref(),
                false,
                lease(client),
                actor,
                now_ms(),
            )
            .await?;
        let details = super::files::file_details(ncmec, &file_id, f);
        let c = client.clone();
        blocking(move || c.fileinfo(&details)).await??;
        store
            .report_file_step(
                id,
                ncmec,
                &f.sha256,
                &file_id,
                md5.as_deref(),
                true,
                lease(client),
                actor,
                now_ms(),
            )
            .await?;
    }
    Ok(())
}

/// Finishes report `ncmec` of case `id` (state `uploaded`).
async fn finish(
    store: &Store,
    client: &Arc<Client>,
    id: i64,
    ncmec: &str,
    actor: &str,
) -> Result<Report, FilingError> {
    let c = client.clone();
    let n = ncmec.to_owned();
    match blocking(move || c.finish(&n)).await? {
        Ok(()) | Err(CyberTipError::Code { code: 5102, .. }) => finished(store, id, actor).await,
        Err(e) if e.uncertain() => {
            // Left `uploaded`: filing again finishes the same report.
            Err(e.into())
        }
        Err(e) => {
            // Refused for good (expired, invalid): retract what is left, and fail so that the
            // next attempt submits a new report — unless the retract says the report is
            // finished after all (another filer finished it): then the case is finished.
            let c = client.clone();
            let n = ncmec.to_owned();
            let mut error = e.to_string();
            match blocking(move || c.retract(&n)).await {
                Ok(Err(CyberTipError::Code { code: 5102, .. })) => {
                    return finished(store, id, actor).await;
                }
                Ok(Ok(())) | Ok(Err(CyberTipError::Code { code: 5101, .. })) => {}
                Ok(Err(r)) => error = format!("{error}; retracting report {ncmec} failed: {r}"),
                Err(t) => error = format!("{error}; retracting report {ncmec} stopped: {t}"),
            }
            step(
                store,
                id,
                &["uploaded"],
                "failed",
                None,
                Some(&error),
                None,
                actor,
            )
            .await?;
            Err(e.into())
        }
    }
}

/// Records case `id` finished; a case another filer recorded finished first is returned as it
/// is (two filers finishing one report is no error).
async fn finished(store: &Store, id: i64, actor: &str) -> Result<Report, FilingError> {
    match step(
        store,
        id,
        &["uploaded"],
        "finished",
        None,
        None,
        None,
        actor,
    )
    .await
    {
        Ok(r) => Ok(r),
        Err(StoreError::Refused { .. }) => match store.report(id).await? {
            Some(r) if r.state == "finished" => Ok(r),
            _ => Err(FilingError::State {
                id,
                state: "unknown".into(),
                why: "its state changed while it was being finished",
            }),
        },
        Err(e) => Err(e.into()),
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
    let (Some(ncmec), "submitted" | "uploaded") =
        (case.ncmec_report_id.clone(), case.state.as_str())
    else {
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
                    from: &["submitted", "uploaded"],
                    to: "retracted",
                    ncmec_report_id: None,
                    error: None,
                    lease_until: None,
                },
                actor,
                now_ms(),
            )
            .await?),
        Err(e) => Err(e.into()),
    }
}
