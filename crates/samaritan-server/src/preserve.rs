//! Preservation (issue 22): when a report case opens, everything it rests on is gathered
//! ([`crate::evidence::gather`]), each file sealed with the evidence key ([`crate::vault`]) and
//! handed to the store with a hold until the report + the configured days (365 at least, the
//! REPORT Act's year). A stop between opening a case and preserving it is caught by the sweep
//! ([`preserve_missing`]) at start and with each decision sweep, so no case stays unheld.

use samaritan_store::{Hold, Store, StoreError, now_ms};

use crate::evidence::{self, EvidenceError};
use crate::vault::{Keyring, VaultError};

/// The shortest hold: 18 U.S.C. § 2258A(h) as amended by the REPORT Act.
pub const MIN_HOLD_DAYS: u32 = 365;

/// What preserving needs: the key and how long to hold.
#[derive(Debug)]
pub struct Preservation {
    pub vault: Keyring,
    pub hold_days: u32,
}

impl Preservation {
    /// Refuses a hold shorter than the law's year.
    pub fn new(vault: Keyring, hold_days: u32) -> Result<Preservation, String> {
        if hold_days < MIN_HOLD_DAYS {
            return Err(format!(
                "evidence is held at least {MIN_HOLD_DAYS} days (the REPORT Act's year), not {hold_days}"
            ));
        }
        Ok(Preservation { vault, hold_days })
    }
}

/// Why a case was not preserved.
#[derive(Debug, thiserror::Error)]
pub enum PreserveError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Evidence(#[from] EvidenceError),
    #[error(transparent)]
    Vault(#[from] VaultError),
    #[error("report {0} not found")]
    NoCase(i64),
    #[error(transparent)]
    Blob(#[from] samaritan_media::BlobError),
}

/// Preserves case `id` (gathered now, sealed, held) as `actor`; its hold.
pub async fn preserve_case(
    store: &Store,
    preservation: &Preservation,
    blobs: Option<&samaritan_media::BlobStore>,
    id: i64,
    actor: &str,
) -> Result<Hold, PreserveError> {
    let case = store.report(id).await?.ok_or(PreserveError::NoCase(id))?;
    let bundle = evidence::gather(store, blobs, &case).await?;
    let mut sealed = Vec::with_capacity(bundle.len());
    for (path, bytes) in bundle.files() {
        let blob = preservation.vault.seal(bytes)?;
        // Into blob storage before the store names it (a file whose blob is already kept
        // shares that one: nothing new is written).
        let blob = match blobs {
            Some(b) if !store.preserved_blob_known(&blob.sha256).await? => {
                crate::shelf::shelve(b, blob).await?
            }
            _ => blob,
        };
        sealed.push((path.clone(), blob));
    }
    let now = now_ms();
    let until = now.saturating_add(i64::from(preservation.hold_days) * 86_400_000);
    Ok(store
        .preserve(id, &case.ad_id, &sealed, until, actor, now)
        .await?)
}

/// Preserves every case that has no hold yet; how many were preserved. Errors are logged per
/// case (the next sweep retries), except the store's.
pub async fn preserve_missing(
    store: &Store,
    preservation: &Preservation,
    blobs: Option<&samaritan_media::BlobStore>,
) -> Result<usize, StoreError> {
    let mut done = 0;
    let mut failed: Vec<i64> = Vec::new();
    loop {
        let batch: Vec<i64> = store
            .reports_without_hold(100 + failed.len() as i64)
            .await?
            .into_iter()
            .filter(|id| !failed.contains(id))
            .collect();
        if batch.is_empty() {
            return Ok(done);
        }
        for id in batch {
            match preserve_case(store, preservation, blobs, id, "service").await {
                Ok(_) => done += 1,
                Err(e) => {
                    tracing::error!(report = id, error = %e, "a report case's evidence was not preserved");
                    failed.push(id);
                }
            }
        }
    }
}
