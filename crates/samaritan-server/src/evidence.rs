//! Evidence bundles for investigators (issue 22): one report case and everything it rests on,
//! in a zip whose manifest lists every file with its SHA-256 and is signed with Ed25519.
//!
//! A bundle holds the evidence preserved when the case opened ([`crate::preserve`]): the case
//! (`case.json`, with its draft), the ad at every revision (`ad/revision-N.json`, exactly as
//! the platform sent it), the latest analysis of each revision (`analysis/revision-N.json`),
//! the decisions on the ad, its network, the kept image files (`images/SHA256`) and the audit
//! entries about the ad and the case; then, under `current/`, the case, its filing, its hold
//! and the audit entries as they are at export, and the audit chain's head. `manifest.json` names each file with its SHA-256 and size; `manifest.sig` is the
//! Ed25519 signature of `manifest.json`'s bytes. [`verify`] reports every changed, added or
//! missing file and a signature that does not check against the exporter's public key.
//!
//! Keys are 32-byte Ed25519 seeds in hex ([`keygen`]); the public half is shared with whoever
//! verifies. Building the bundle is pure ([`Bundle`]); reading the store is [`collect`].

use std::collections::BTreeMap;
use std::io::{Read, Seek, Write};

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};

use samaritan_store::{Store, StoreError, now_ms, sha256_hex};

/// The bundle format this code writes and reads.
pub const BUNDLE_FORMAT: u32 = 1;

/// What can go wrong with keys and bundles.
#[derive(Debug, thiserror::Error)]
pub enum EvidenceError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("report {0} not found")]
    NoCase(i64),
    #[error("the key is not 64 hexadecimal digits (a 32-byte Ed25519 key)")]
    BadKey,
    #[error("the bundle cannot be read as a zip: {0}")]
    Zip(#[from] zip::result::ZipError),
    #[error("reading or writing the bundle: {0}")]
    Io(#[from] std::io::Error),
    #[error("the bundle's manifest does not read: {0}")]
    Manifest(String),
    #[error(
        "the case's evidence is preserved encrypted: the evidence key is needed (--evidence-key)"
    )]
    NoVault,
    #[error("preserved evidence does not read: {0}")]
    Preserved(String),
    #[error(transparent)]
    Blob(#[from] samaritan_media::BlobError),
}

/// A key pair: the signing seed and its public half, both as hex.
pub struct KeyPair {
    pub secret_hex: String,
    pub public_hex: String,
}

/// A new random signing key.
pub fn keygen() -> Result<KeyPair, EvidenceError> {
    let seed = samaritan_store::users::random_bytes::<32>()?;
    let key = SigningKey::from_bytes(&seed);
    Ok(KeyPair {
        secret_hex: samaritan_store::hex(&seed),
        public_hex: samaritan_store::hex(key.verifying_key().as_bytes()),
    })
}

fn unhex32(text: &str) -> Result<[u8; 32], EvidenceError> {
    let t = text.trim();
    if t.len() != 64 || !t.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(EvidenceError::BadKey);
    }
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(&t[2 * i..2 * i + 2], 16).map_err(|_| EvidenceError::BadKey)?;
    }
    Ok(out)
}

/// The signing key from its hex text (a key file's content).
pub fn signing_key(hex: &str) -> Result<SigningKey, EvidenceError> {
    Ok(SigningKey::from_bytes(&unhex32(hex)?))
}

/// A public key from its hex text.
pub fn public_key(hex: &str) -> Result<VerifyingKey, EvidenceError> {
    VerifyingKey::from_bytes(&unhex32(hex)?).map_err(|_| EvidenceError::BadKey)
}

/// One file of a bundle as the manifest lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestFile {
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
}

/// `manifest.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub report: i64,
    pub ad_id: String,
    /// Milliseconds since the Unix epoch.
    pub exported_at: i64,
    pub exported_by: String,
    /// The audit chain's head when the bundle was made: `seq` and hash.
    pub chain_head: (i64, String),
    /// The exporter's public key (hex), for reference: verify against the key you were given.
    pub public_key: String,
    /// When the evidence in the bundle was preserved (the case's opening); absent when it was
    /// gathered at export (a case opened before preservation existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preserved_at: Option<i64>,
    pub files: Vec<ManifestFile>,
}

/// A bundle being assembled: files by path.
#[derive(Default)]
pub struct Bundle {
    files: BTreeMap<String, Vec<u8>>,
}

impl Bundle {
    pub fn add(&mut self, path: impl Into<String>, bytes: Vec<u8>) {
        self.files.insert(path.into(), bytes);
    }

    /// How many files it holds.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Its files by path.
    pub fn files(&self) -> impl Iterator<Item = (&String, &Vec<u8>)> {
        self.files.iter()
    }

    pub fn add_json(&mut self, path: impl Into<String>, value: &impl Serialize) {
        let bytes = serde_json::to_vec_pretty(value).unwrap_or_default();
        self.add(path, bytes);
    }

    /// Writes the zip: every file, `manifest.json` and `manifest.sig`. Returns the manifest.
    pub fn write<W: Write + Seek>(
        self,
        out: W,
        head: Manifest,
        key: &SigningKey,
    ) -> Result<Manifest, EvidenceError> {
        let mut manifest = head;
        manifest.public_key = samaritan_store::hex(key.verifying_key().as_bytes());
        manifest.files = self
            .files
            .iter()
            .map(|(path, bytes)| ManifestFile {
                path: path.clone(),
                sha256: sha256_hex(bytes),
                bytes: bytes.len() as u64,
            })
            .collect();
        let manifest_bytes = serde_json::to_vec_pretty(&manifest)
            .map_err(|e| EvidenceError::Manifest(e.to_string()))?;
        let signature = key.sign(&manifest_bytes);
        let mut zip = zip::ZipWriter::new(out);
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (path, bytes) in &self.files {
            zip.start_file(path.as_str(), options)?;
            zip.write_all(bytes)?;
        }
        zip.start_file("manifest.json", options)?;
        zip.write_all(&manifest_bytes)?;
        zip.start_file("manifest.sig", options)?;
        zip.write_all(samaritan_store::hex(&signature.to_bytes()).as_bytes())?;
        // Flushed here: an error writing the last bytes (a full disk) must fail the export,
        // not vanish when the writer is dropped.
        let mut inner = zip.finish()?;
        inner.flush()?;
        Ok(manifest)
    }
}

/// Everything case `case` rests on, read from the store now (and kept images from `blobs`):
/// the case, the ad at every revision, each revision's latest analysis, the decisions, the
/// network, the images, the audit entries about the ad and the cases. This is what is
/// preserved when a case opens, and what a bundle holds for a case preserved before
/// preservation existed.
pub async fn gather(
    store: &Store,
    blobs: Option<&samaritan_media::BlobStore>,
    case: &samaritan_store::Report,
) -> Result<Bundle, EvidenceError> {
    let mut b = Bundle::default();
    b.add_json("case.json", case);
    let rec = store.get_ad(&case.ad_id, now_ms()).await?;
    let mut revisions: Vec<(i64, String)> = store.ad_history(&case.ad_id).await?;
    if let Some(rec) = &rec
        && !revisions.iter().any(|(r, _)| *r == rec.revision)
    {
        revisions.push((rec.revision, rec.raw.clone()));
    }
    let mut images: Vec<String> = Vec::new();
    for (revision, raw) in &revisions {
        b.add(
            format!("ad/revision-{revision}.json"),
            raw.clone().into_bytes(),
        );
        if let Some(a) = store.analysis_of_revision(&case.ad_id, *revision).await? {
            images.extend(a.images.iter().filter_map(|i| i.sha256.clone()));
            b.add_json(format!("analysis/revision-{revision}.json"), &a);
        }
    }
    b.add_json("decisions.json", &store.decisions_of(&case.ad_id).await?);
    if let Some(nid) = rec.as_ref().and_then(|r| r.network_id.clone())
        && let Some(n) = store.network(&nid, 10_000).await?
    {
        b.add_json("network.json", &n);
    }
    images.sort();
    images.dedup();
    let mut absent = Vec::new();
    let mut damaged = Vec::new();
    for sha in images {
        let got = match (blobs, samaritan_media::BlobKey::image(&sha)) {
            (Some(bl), Ok(key)) => bl.get(&key).await,
            (None, _) => Ok(None),
            (Some(_), Err(e)) => Err(e),
        };
        match got {
            Ok(Some(bytes)) => b.add(format!("images/{sha}"), bytes),
            Ok(None) => absent.push(sha),
            // Storage that does not answer stops the gathering (the caller retries); a file
            // that is not what its name says is never taken in, and is named.
            Err(e @ samaritan_media::BlobError::Storage { .. }) => return Err(e.into()),
            Err(e) => damaged.push(serde_json::json!({"sha256": sha, "error": e.to_string()})),
        }
    }
    if !absent.is_empty() {
        // Said in the bundle rather than silently left out.
        b.add_json("images/NOT_KEPT.json", &absent);
    }
    if !damaged.is_empty() {
        tracing::error!(
            files = damaged.len(),
            "kept images do not match their SHA-256"
        );
        b.add_json("images/DAMAGED.json", &damaged);
    }
    let audit = store
        .audit_of_subjects(&[case.ad_id.as_str(), "reports"], 100_000)
        .await?;
    b.add_json("audit.json", &audit);
    Ok(b)
}

/// Collects case `id` into a bundle, with the manifest's head filled in: the evidence
/// preserved when the case opened (opened with `vault`), and under `current/` the case, its
/// filing and the audit entries as they are at export. A case with nothing preserved (opened
/// before preservation existed) is gathered from the store as it is now. The export itself is
/// audited by the caller once written.
pub async fn collect(
    store: &Store,
    blobs: Option<&samaritan_media::BlobStore>,
    vault: Option<&crate::vault::Keyring>,
    id: i64,
    exported_by: &str,
) -> Result<(Bundle, Manifest), EvidenceError> {
    let case = store.report(id).await?.ok_or(EvidenceError::NoCase(id))?;
    let preserved = store.preserved_files(id).await?;
    let (mut b, preserved_at) = if preserved.is_empty() {
        (gather(store, blobs, &case).await?, None)
    } else {
        let vault = vault.ok_or(EvidenceError::NoVault)?;
        let mut b = Bundle::default();
        for f in &preserved {
            let blob = store
                .preserved_blob(&f.sha256)
                .await?
                .ok_or_else(|| EvidenceError::Preserved(format!("{}: its blob is gone", f.path)))?;
            let blob = crate::shelf::fetch(blobs, blob)
                .await
                .map_err(|e| EvidenceError::Preserved(format!("{}: {e}", f.path)))?;
            let bytes = vault
                .open(&blob)
                .map_err(|e| EvidenceError::Preserved(format!("{}: {e}", f.path)))?;
            b.add(f.path.clone(), bytes);
        }
        (b, preserved.iter().map(|f| f.preserved_at).min())
    };
    b.add_json("current/case.json", &case);
    b.add_json("current/filing.json", &store.report_files(id).await?);
    if let Some(h) = store.hold_of_report(id).await? {
        b.add_json("current/hold.json", &h);
    }
    let audit = store
        .audit_of_subjects(&[case.ad_id.as_str(), "reports"], 100_000)
        .await?;
    b.add_json("current/audit.json", &audit);
    let head = store.audit_head().await?;
    let manifest = Manifest {
        format: BUNDLE_FORMAT,
        report: case.id,
        ad_id: case.ad_id.clone(),
        exported_at: now_ms(),
        exported_by: exported_by.to_owned(),
        chain_head: head,
        public_key: String::new(),
        preserved_at,
        files: Vec::new(),
    };
    Ok((b, manifest))
}

/// Largest `manifest.json` or `manifest.sig` [`verify`] reads (a manifest lists each file in
/// about 150 bytes: this is room for some hundred thousand files).
const MAX_MANIFEST: u64 = 64 << 20;

/// What [`verify`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    pub ok: bool,
    pub signature_ok: bool,
    pub files: usize,
    pub changed: Vec<String>,
    pub added: Vec<String>,
    pub missing: Vec<String>,
    pub report: Option<i64>,
}

/// Checks a bundle against the exporter's public key: the signature over `manifest.json`, and
/// every file against the manifest (changed, added, missing).
pub fn verify<R: Read + Seek>(
    bundle: R,
    key: &VerifyingKey,
) -> Result<VerifyReport, EvidenceError> {
    let mut zip = zip::ZipArchive::new(bundle)?;
    // Every entry is hashed as it streams (never held whole); only the manifest and its
    // signature, small by nature, are kept, and a larger one is refused.
    let mut contents: BTreeMap<String, (String, u64)> = BTreeMap::new();
    let (mut manifest_bytes, mut sig_hex) = (None, None);
    for i in 0..zip.len() {
        let mut f = zip.by_index(i)?;
        if f.is_dir() {
            continue;
        }
        let name = f.name()?.into_owned();
        if name == "manifest.json" || name == "manifest.sig" {
            let mut bytes = Vec::new();
            f.by_ref().take(MAX_MANIFEST + 1).read_to_end(&mut bytes)?;
            if bytes.len() as u64 > MAX_MANIFEST {
                return Err(EvidenceError::Manifest(format!(
                    "{name} is larger than {MAX_MANIFEST} bytes"
                )));
            }
            if name == "manifest.json" {
                manifest_bytes = Some(bytes);
            } else {
                sig_hex = Some(bytes);
            }
            continue;
        }
        let mut hasher = samaritan_store::Sha256Stream::default();
        std::io::copy(&mut f, &mut hasher)?;
        contents.insert(name, hasher.finish());
    }
    let manifest_bytes =
        manifest_bytes.ok_or_else(|| EvidenceError::Manifest("no manifest.json".into()))?;
    let sig_hex = sig_hex.ok_or_else(|| EvidenceError::Manifest("no manifest.sig".into()))?;
    let signature_ok = std::str::from_utf8(&sig_hex)
        .ok()
        .and_then(|h| {
            let h = h.trim();
            (h.len() == 128).then_some(h)
        })
        .and_then(|h| {
            let mut raw = [0u8; 64];
            for (i, o) in raw.iter_mut().enumerate() {
                *o = u8::from_str_radix(h.get(2 * i..2 * i + 2)?, 16).ok()?;
            }
            Some(Signature::from_bytes(&raw))
        })
        .is_some_and(|sig| key.verify(&manifest_bytes, &sig).is_ok());
    let manifest: Manifest = serde_json::from_slice(&manifest_bytes)
        .map_err(|e| EvidenceError::Manifest(e.to_string()))?;
    let mut report = VerifyReport {
        signature_ok,
        files: manifest.files.len(),
        report: Some(manifest.report),
        ..VerifyReport::default()
    };
    for f in &manifest.files {
        match contents.remove(&f.path) {
            None => report.missing.push(f.path.clone()),
            Some((sha, bytes)) if sha != f.sha256 || bytes != f.bytes => {
                report.changed.push(f.path.clone());
            }
            Some(_) => {}
        }
    }
    report.added = contents.into_keys().collect();
    report.ok = report.signature_ok
        && report.changed.is_empty()
        && report.added.is_empty()
        && report.missing.is_empty();
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bundle(key: &SigningKey) -> Vec<u8> {
        let mut b = Bundle::default();
        b.add("case.json", b"{\"id\":1}".to_vec());
        b.add(
            "ad/revision-1.json",
            b"{\"id\":\"a1\",\"body\":\"<b>&\"}".to_vec(),
        );
        let head = Manifest {
            format: BUNDLE_FORMAT,
            report: 1,
            ad_id: "a1".into(),
            exported_at: 0,
            exported_by: "test".into(),
            chain_head: (3, "ab".into()),
            public_key: String::new(),
            preserved_at: None,
            files: Vec::new(),
        };
        let mut out = std::io::Cursor::new(Vec::new());
        let m = b.write(&mut out, head, key).unwrap();
        assert_eq!(m.files.len(), 2);
        out.into_inner()
    }

    /// Rewrites a zip with `edit` applied to its entries.
    fn rezip(bytes: &[u8], edit: impl Fn(&mut BTreeMap<String, Vec<u8>>)) -> Vec<u8> {
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        let mut files = BTreeMap::new();
        for i in 0..zip.len() {
            let mut f = zip.by_index(i).unwrap();
            let name = f.name().unwrap().into_owned();
            let mut b = Vec::new();
            f.read_to_end(&mut b).unwrap();
            files.insert(name, b);
        }
        edit(&mut files);
        let mut out = std::io::Cursor::new(Vec::new());
        let mut w = zip::ZipWriter::new(&mut out);
        for (name, b) in files {
            w.start_file(name, zip::write::SimpleFileOptions::default())
                .unwrap();
            w.write_all(&b).unwrap();
        }
        w.finish().unwrap();
        out.into_inner()
    }

    #[test]
    fn a_bundle_verifies_and_every_tampering_is_named() {
        let pair = keygen().unwrap();
        let key = signing_key(&pair.secret_hex).unwrap();
        let public = public_key(&pair.public_hex).unwrap();
        let good = bundle(&key);
        let r = verify(std::io::Cursor::new(&good), &public).unwrap();
        assert!(r.ok, "{r:?}");
        assert_eq!(r.files, 2);

        let changed = rezip(&good, |f| {
            f.insert("ad/revision-1.json".into(), b"{}".to_vec());
        });
        let r = verify(std::io::Cursor::new(&changed), &public).unwrap();
        assert_eq!(
            (r.ok, r.changed.as_slice()),
            (false, ["ad/revision-1.json".to_owned()].as_slice())
        );
        let added = rezip(&good, |f| {
            f.insert("extra.txt".into(), b"x".to_vec());
        });
        let r = verify(std::io::Cursor::new(&added), &public).unwrap();
        assert_eq!(r.added, ["extra.txt"]);
        let missing = rezip(&good, |f| {
            f.remove("case.json");
        });
        let r = verify(std::io::Cursor::new(&missing), &public).unwrap();
        assert_eq!(r.missing, ["case.json"]);
        // A manifest edited to match an edited file fails the signature.
        let forged = rezip(&good, |f| {
            let m = String::from_utf8(f["manifest.json"].clone()).unwrap();
            f.insert(
                "manifest.json".into(),
                m.replace("\"report\": 1", "\"report\": 2").into_bytes(),
            );
        });
        let r = verify(std::io::Cursor::new(&forged), &public).unwrap();
        assert!(!r.signature_ok && !r.ok);
        // Another key does not verify it.
        let other = public_key(&keygen().unwrap().public_hex).unwrap();
        assert!(
            !verify(std::io::Cursor::new(&good), &other)
                .unwrap()
                .signature_ok
        );
        // Not a zip, bad keys: clear errors.
        assert!(verify(std::io::Cursor::new(b"not a zip".to_vec()), &public).is_err());
        assert!(matches!(signing_key("xyz"), Err(EvidenceError::BadKey)));
    }
}
