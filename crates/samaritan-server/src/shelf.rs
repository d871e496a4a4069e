//! Sealed evidence in blob storage (issue 24): the ciphertext of a preserved file goes to blob
//! storage under the SHA-256 of the ciphertext, and the store keeps the reference, the nonce,
//! the key id and the plaintext's SHA-256 and length. The audit entry of the preservation names
//! the object, so the chain commits to it; reading it back checks its size and SHA-256
//! ([`samaritan_media::BlobStore::get_exact`]) before the vault opens it (which checks the
//! plaintext's SHA-256 again).

use samaritan_media::{BlobError, BlobKey, BlobStore};
use samaritan_store::{SealedBlob, sha256_hex};

/// Bytes the AEAD adds to a plaintext (XChaCha20-Poly1305's tag).
pub const SEAL_OVERHEAD: u64 = 16;

/// Why a sealed blob could not be read back.
#[derive(Debug, thiserror::Error)]
pub enum ShelfError {
    #[error("its ciphertext is in blob storage ({0}), and no blob storage is configured (--blobs)")]
    NoStorage(String),
    #[error(transparent)]
    Blob(#[from] BlobError),
    #[error("the store: {0}")]
    Store(String),
}

/// Writes `sealed`'s ciphertext to `blobs` and returns it as the store keeps it: the object's
/// name, no ciphertext. Idempotent (the object's name is its content's hash).
pub async fn shelve(blobs: &BlobStore, mut sealed: SealedBlob) -> Result<SealedBlob, BlobError> {
    let object = sha256_hex(&sealed.ciphertext);
    let key = BlobKey::sealed(&object)?;
    blobs
        .put(&key, std::mem::take(&mut sealed.ciphertext))
        .await?;
    sealed.object_sha256 = Some(object);
    Ok(sealed)
}

/// The sealed blob with its ciphertext, read from `blobs` when the store keeps only its
/// reference: the object must be there, be the plaintext's length and the tag, and hash to its
/// name (a missing, truncated or tampered object is an error, never opened).
pub async fn fetch(
    blobs: Option<&BlobStore>,
    mut sealed: SealedBlob,
) -> Result<SealedBlob, ShelfError> {
    let Some(object) = sealed.object_sha256.clone() else {
        return Ok(sealed);
    };
    let key = BlobKey::sealed(&object)?;
    let blobs = blobs.ok_or_else(|| ShelfError::NoStorage(key.to_string()))?;
    let expected = u64::try_from(sealed.bytes)
        .unwrap_or(u64::MAX)
        .saturating_add(SEAL_OVERHEAD);
    sealed.ciphertext = blobs.get_exact(&key, expected).await?;
    Ok(sealed)
}

/// What [`verify_objects`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ObjectsReport {
    /// Objects read back and checked.
    pub checked: u64,
    /// Objects the store names that blob storage does not have.
    pub missing: Vec<String>,
    /// Objects that are there but are not what their name says (size or SHA-256): `object:
    /// error`.
    pub damaged: Vec<String>,
    /// Blobs whose object is not the one the audit chain recorded when they were preserved
    /// (`sha256: stored object / audited object`): the row was rewritten behind the store.
    pub unaudited: Vec<String>,
}

impl ObjectsReport {
    pub fn ok(&self) -> bool {
        self.missing.is_empty() && self.damaged.is_empty() && self.unaudited.is_empty()
    }
}

/// Reads back every object of preserved evidence from `blobs`, checking that it is there,
/// has the expected size and hashes to its name, and that the object each blob names is the
/// one its `evidence.preserve` audit entry recorded (so a rewritten row is caught even when
/// its new object is intact). Run after the chain itself verified. Storage that does not
/// answer is an error, not a finding.
pub async fn verify_objects(
    store: &samaritan_store::Store,
    blobs: &BlobStore,
) -> Result<ObjectsReport, ShelfError> {
    let mut report = ObjectsReport::default();
    // What the chain recorded: plaintext SHA-256 -> object.
    let mut audited = std::collections::HashMap::new();
    let mut after = 0;
    loop {
        let page = store
            .audit_list(after, 10_000)
            .await
            .map_err(|e| ShelfError::Store(e.to_string()))?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        for e in page.iter().filter(|e| e.action == "evidence.preserve") {
            for f in e.detail["files"].as_array().into_iter().flatten() {
                if let (Some(sha), Some(object)) = (f["sha256"].as_str(), f["object"].as_str()) {
                    // The latest: a blob purged and preserved again names a new object.
                    audited.insert(sha.to_owned(), object.to_owned());
                }
            }
        }
    }
    let mut from = String::new();
    loop {
        let page = store
            .preserved_objects(&from, 1_000)
            .await
            .map_err(|e| ShelfError::Store(e.to_string()))?;
        let Some(last) = page.last() else { break };
        from = last.sha256.clone();
        for o in page {
            match audited.get(&o.sha256) {
                Some(a) if *a == o.object_sha256 => {}
                a => report.unaudited.push(format!(
                    "{}: {} / {}",
                    o.sha256,
                    o.object_sha256,
                    a.map_or("none", String::as_str)
                )),
            }
            let expected = u64::try_from(o.bytes)
                .unwrap_or(u64::MAX)
                .saturating_add(SEAL_OVERHEAD);
            let key = match BlobKey::sealed(&o.object_sha256) {
                Ok(k) => k,
                Err(e) => {
                    report.damaged.push(format!("{}: {e}", o.object_sha256));
                    continue;
                }
            };
            report.checked += 1;
            match blobs.get_exact(&key, expected).await {
                Ok(_) => {}
                Err(BlobError::Missing { .. }) => report.missing.push(o.object_sha256),
                Err(e @ BlobError::Storage { .. }) => return Err(e.into()),
                Err(e) => report.damaged.push(format!("{}: {e}", o.object_sha256)),
            }
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealed(ciphertext: &[u8], object: Option<String>) -> SealedBlob {
        SealedBlob {
            sha256: "ab".repeat(32),
            key_id: "k1".into(),
            nonce: vec![0; 24],
            ciphertext: ciphertext.to_vec(),
            bytes: 4,
            object_sha256: object,
        }
    }

    #[tokio::test]
    async fn shelved_bytes_come_back_checked_and_old_rows_read_as_they_are() {
        // A row from before blob storage: its ciphertext is in the store; no storage needed.
        let legacy = sealed(b"0123456789abcdefWXYZ", None);
        assert_eq!(fetch(None, legacy.clone()).await.unwrap(), legacy);
        let dir = tempfile::tempdir().unwrap();
        let blobs = BlobStore::local(dir.path()).unwrap();
        let kept = shelve(&blobs, legacy.clone()).await.unwrap();
        assert!(kept.ciphertext.is_empty());
        assert_eq!(
            kept.object_sha256.as_deref(),
            Some(sha256_hex(b"0123456789abcdefWXYZ").as_str())
        );
        // Shelving again is idempotent; reading it back restores the ciphertext.
        assert_eq!(shelve(&blobs, legacy.clone()).await.unwrap(), kept);
        let back = fetch(Some(&blobs), kept.clone()).await.unwrap();
        assert_eq!(back.ciphertext, legacy.ciphertext);
        // Without storage configured, a shelved row says where its bytes are.
        let e = fetch(None, kept.clone()).await.unwrap_err();
        assert!(e.to_string().contains("--blobs"), "{e}");
        // A plaintext length that does not fit the object: the wrong size, never opened.
        let lying = SealedBlob {
            bytes: 5,
            ..kept.clone()
        };
        assert!(matches!(
            fetch(Some(&blobs), lying).await,
            Err(ShelfError::Blob(BlobError::WrongSize { .. }))
        ));
        // A name that is not a SHA-256.
        let bad = sealed(b"", Some("../../etc/passwd".into()));
        assert!(matches!(
            fetch(Some(&blobs), bad).await,
            Err(ShelfError::Blob(BlobError::InvalidKey(_)))
        ));
    }
}
