//! Blob storage: the bytes the database does not hold — images taken in for review and the
//! sealed files of preserved evidence — behind the `object_store` crate, so one deployment
//! keeps them in a local directory (the default, where they always were) and another in
//! S3-compatible storage shared by several machines.
//!
//! Every object is named by the SHA-256 of its bytes ([`BlobKey`]); a caller-chosen text never
//! becomes a path. Writes are idempotent (the same name always means the same bytes, so a
//! second writer changes nothing); every read hashes what came back and refuses an object whose
//! SHA-256 or size is not the expected one ([`BlobError::Tampered`], [`BlobError::WrongSize`])
//! instead of serving it; objects larger than the store's limit are neither written nor read.
//!
//! `object_store` is async; [`BlobStore`] runs it on a small runtime of its own, so async
//! callers (the service, the CLI) and blocking ones (the image intake, on rayon threads) use
//! the same store without caring which runtime, if any, they are on.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt as _, PutPayload};
use sha2::{Digest as _, Sha256};

/// Largest object written or read by default (a kept image is at most the intake's byte limit,
/// 50 MiB by default; a sealed evidence file is one file of a case).
pub const DEFAULT_MAX_BLOB_BYTES: u64 = 256 << 20;

/// What can go wrong with blob storage.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("`{0}` is not a blob name (a lowercase hexadecimal SHA-256)")]
    InvalidKey(String),
    #[error("blob storage `{0}` is not a directory or an s3://BUCKET[/PREFIX] URL")]
    InvalidLocation(String),
    #[error("the blob {key} is not in {store}")]
    Missing { key: String, store: String },
    #[error(
        "the blob {key} in {store} does not match its name: its bytes hash to {found} \
         (tampered or damaged; not served)"
    )]
    Tampered {
        key: String,
        store: String,
        found: String,
    },
    #[error(
        "the blob {key} in {store} has {found} bytes, not the {expected} expected (not served)"
    )]
    WrongSize {
        key: String,
        store: String,
        expected: u64,
        found: u64,
    },
    #[error("the blob {key} has {bytes} bytes, more than the limit of {limit}")]
    TooLarge { key: String, bytes: u64, limit: u64 },
    #[error("blob storage {store}: {message}")]
    Storage { store: String, message: String },
}

/// Which shelf of the store an object is on: images by the SHA-256 of the file taken in,
/// sealed evidence by the SHA-256 of its ciphertext.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shelf {
    /// `ab/cd/abcd…` (where the image files always were).
    Images,
    /// `sealed/ab/cd/abcd…`.
    Sealed,
}

/// The name of one object: a shelf and a SHA-256, checked when made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobKey {
    shelf: Shelf,
    sha256: String,
}

/// Whether `text` is a lowercase hexadecimal SHA-256.
pub fn is_sha256(text: &str) -> bool {
    text.len() == 64
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl BlobKey {
    pub fn new(shelf: Shelf, sha256: &str) -> Result<BlobKey, BlobError> {
        if !is_sha256(sha256) {
            return Err(BlobError::InvalidKey(sha256.chars().take(80).collect()));
        }
        Ok(BlobKey {
            shelf,
            sha256: sha256.to_owned(),
        })
    }

    /// A kept image.
    pub fn image(sha256: &str) -> Result<BlobKey, BlobError> {
        BlobKey::new(Shelf::Images, sha256)
    }

    /// A sealed evidence file, by the SHA-256 of its sealed bytes.
    pub fn sealed(sha256: &str) -> Result<BlobKey, BlobError> {
        BlobKey::new(Shelf::Sealed, sha256)
    }

    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    fn relative(&self) -> [&str; 4] {
        let s = self.sha256.as_str();
        let shelf = match self.shelf {
            Shelf::Images => "",
            Shelf::Sealed => "sealed",
        };
        [shelf, &s[..2], &s[2..4], s]
    }
}

impl std::fmt::Display for BlobKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts = self.relative();
        let shown: Vec<&str> = parts.into_iter().filter(|p| !p.is_empty()).collect();
        f.write_str(&shown.join("/"))
    }
}

/// Where blobs live, as configured (`--blobs`).
#[derive(Clone, PartialEq, Eq)]
pub enum BlobLocation {
    /// A local directory.
    Dir(PathBuf),
    /// A bucket of S3-compatible storage, with a key prefix (may be empty).
    S3 { bucket: String, prefix: String },
}

impl std::fmt::Debug for BlobLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_string())
    }
}

impl std::fmt::Display for BlobLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BlobLocation::Dir(d) => write!(f, "{}", d.display()),
            BlobLocation::S3 { bucket, prefix } if prefix.is_empty() => {
                write!(f, "s3://{bucket}")
            }
            BlobLocation::S3 { bucket, prefix } => write!(f, "s3://{bucket}/{prefix}"),
        }
    }
}

impl BlobLocation {
    /// `s3://BUCKET[/PREFIX]` or a directory. Credentials are never part of it (they come from
    /// the standard AWS environment variables), and a URL carrying any is refused.
    pub fn parse(text: &str) -> Result<BlobLocation, BlobError> {
        let bad = || BlobError::InvalidLocation(text.chars().take(200).collect());
        if text.is_empty() {
            return Err(bad());
        }
        let Some(rest) = text.strip_prefix("s3://") else {
            if text.contains("://") {
                return Err(bad());
            }
            return Ok(BlobLocation::Dir(PathBuf::from(text)));
        };
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let bucket_ok = (3..=63).contains(&bucket.len())
            && bucket
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
        let prefix = prefix.trim_matches('/');
        let prefix_ok = prefix.len() <= 512
            && prefix.split('/').all(|p| {
                !p.is_empty()
                    && p != "."
                    && p != ".."
                    && p.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
            });
        if !bucket_ok || !(prefix.is_empty() || prefix_ok) {
            return Err(bad());
        }
        Ok(BlobLocation::S3 {
            bucket: bucket.to_owned(),
            prefix: prefix.to_owned(),
        })
    }
}

/// How to reach S3-compatible storage beyond the bucket. Anything not set comes from the
/// standard AWS environment variables.
#[derive(Clone, Default)]
pub struct S3Options {
    /// An S3-compatible server instead of AWS (`http://` allowed only here).
    pub endpoint: Option<String>,
    pub region: Option<String>,
    /// Access key id and secret (tests; the CLI takes them from the environment only).
    pub credentials: Option<(String, String)>,
}

impl std::fmt::Debug for S3Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Options")
            .field("endpoint", &self.endpoint.as_deref().map(endpoint_shown))
            .field("region", &self.region)
            .field(
                "credentials",
                &self.credentials.as_ref().map(|_| "(hidden)"),
            )
            .finish()
    }
}

/// The runtime the store's futures run on, shut down without blocking when the last clone of
/// the store goes (which may be inside another runtime's task).
struct OwnRuntime(Option<tokio::runtime::Runtime>);

impl Drop for OwnRuntime {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

struct Inner {
    store: Arc<dyn ObjectStore>,
    prefix: Vec<String>,
    /// Shown in errors and logs: the location, never a credential.
    describe: String,
    root: Option<PathBuf>,
    runtime: OwnRuntime,
}

/// Content-addressed blob storage (see the module's documentation). Cheap to clone.
#[derive(Clone)]
pub struct BlobStore {
    inner: Arc<Inner>,
    max_bytes: u64,
}

impl std::fmt::Debug for BlobStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BlobStore({})", self.inner.describe)
    }
}

fn runtime() -> Result<OwnRuntime, BlobError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .max_blocking_threads(8)
        .thread_name("samaritan-blobs")
        .enable_all()
        .build()
        .map(|rt| OwnRuntime(Some(rt)))
        .map_err(|e| BlobError::Storage {
            store: "blob storage".into(),
            message: format!("cannot start its runtime: {e}"),
        })
}

impl BlobStore {
    /// A local directory (created if missing): files at `ab/cd/abcd…` and
    /// `sealed/ab/cd/abcd…`, written to a temporary file, synced and renamed.
    pub fn local(root: impl Into<PathBuf>) -> Result<BlobStore, BlobError> {
        let root: PathBuf = root.into();
        let describe = root.display().to_string();
        let fail = |message: String| BlobError::Storage {
            store: describe.clone(),
            message,
        };
        std::fs::create_dir_all(&root).map_err(|e| fail(format!("cannot create it: {e}")))?;
        let fs = object_store::local::LocalFileSystem::new_with_prefix(&root)
            .map_err(|e| fail(e.to_string()))?
            .with_fsync(true);
        Ok(BlobStore {
            inner: Arc::new(Inner {
                store: Arc::new(fs),
                prefix: Vec::new(),
                describe,
                root: Some(root),
                runtime: runtime()?,
            }),
            max_bytes: DEFAULT_MAX_BLOB_BYTES,
        })
    }

    /// S3-compatible storage: `bucket` under `prefix`. Region, credentials and endpoint come
    /// from the standard AWS environment variables (`AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION`, `AWS_ENDPOINT_URL`, …)
    /// unless `options` sets them; an endpoint (an S3-compatible server such as MinIO, Ceph or
    /// moto) may be plain `http://` only when given in `options`.
    pub fn s3(bucket: &str, prefix: &str, options: &S3Options) -> Result<BlobStore, BlobError> {
        let endpoint = options.endpoint.as_deref();
        // reqwest's rustls is built without a provider; ring is the tree's (idempotent).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let describe = match endpoint {
            Some(e) => format!("s3://{bucket}/{prefix} at {}", endpoint_shown(e)),
            None => format!("s3://{bucket}/{prefix}"),
        };
        let mut builder = object_store::aws::AmazonS3Builder::from_env()
            .with_bucket_name(bucket)
            .with_retry(object_store::RetryConfig {
                max_retries: 3,
                retry_timeout: Duration::from_secs(30),
                ..object_store::RetryConfig::default()
            });
        if let Some(e) = endpoint {
            builder = builder
                .with_endpoint(e)
                .with_allow_http(e.starts_with("http://"));
        }
        if let Some(r) = &options.region {
            builder = builder.with_region(r);
        }
        if let Some((id, secret)) = &options.credentials {
            builder = builder
                .with_access_key_id(id)
                .with_secret_access_key(secret);
        }
        let s3 = builder.build().map_err(|e| BlobError::Storage {
            store: describe.clone(),
            message: format!("cannot be configured: {e}"),
        })?;
        Ok(BlobStore {
            inner: Arc::new(Inner {
                store: Arc::new(s3),
                prefix: prefix
                    .split('/')
                    .filter(|p| !p.is_empty())
                    .map(str::to_owned)
                    .collect(),
                describe,
                root: None,
                runtime: runtime()?,
            }),
            max_bytes: DEFAULT_MAX_BLOB_BYTES,
        })
    }

    /// The store at `location` (`s3` applies to S3 only).
    pub fn open(location: &BlobLocation, s3: &S3Options) -> Result<BlobStore, BlobError> {
        match location {
            BlobLocation::Dir(d) => BlobStore::local(d),
            BlobLocation::S3 { bucket, prefix } => BlobStore::s3(bucket, prefix, s3),
        }
    }

    /// The same store with another size limit.
    pub fn with_max_bytes(self, max_bytes: u64) -> BlobStore {
        BlobStore { max_bytes, ..self }
    }

    /// The directory of a local store.
    pub fn root(&self) -> Option<&Path> {
        self.inner.root.as_deref()
    }

    /// Where it is, for messages (never a credential).
    pub fn describe(&self) -> &str {
        &self.inner.describe
    }

    fn path(&self, key: &BlobKey) -> ObjectPath {
        ObjectPath::from_iter(
            self.inner
                .prefix
                .iter()
                .map(String::as_str)
                .chain(key.relative())
                .filter(|p| !p.is_empty()),
        )
    }

    fn storage(&self, e: impl std::fmt::Display) -> BlobError {
        BlobError::Storage {
            store: self.inner.describe.clone(),
            message: e.to_string(),
        }
    }

    /// Runs `f` on the store's own runtime.
    async fn run<T: Send + 'static>(
        &self,
        f: impl Future<Output = Result<T, BlobError>> + Send + 'static,
    ) -> Result<T, BlobError> {
        let Some(rt) = self.inner.runtime.0.as_ref() else {
            return Err(self.storage("its runtime has stopped"));
        };
        rt.spawn(f)
            .await
            .map_err(|e| self.storage(format!("the operation stopped: {e}")))?
    }

    /// Runs `f` on the store's own runtime and waits for it (for callers that are not async;
    /// safe on any thread, including another runtime's).
    fn wait<T: Send + 'static>(
        &self,
        f: impl Future<Output = Result<T, BlobError>> + Send + 'static,
    ) -> Result<T, BlobError> {
        let Some(rt) = self.inner.runtime.0.as_ref() else {
            return Err(self.storage("its runtime has stopped"));
        };
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        rt.spawn(async move {
            let _ = tx.send(f.await);
        });
        rx.recv()
            .map_err(|_| self.storage("the operation stopped"))?
    }

    /// Keeps `bytes` under `key` (whose SHA-256 the caller computed from them: checked here,
    /// so nothing is ever stored under a name that is not its content's). An object already
    /// there with the same size is left as it is; one of another size (a damaged copy) is
    /// replaced.
    pub async fn put(&self, key: &BlobKey, bytes: Vec<u8>) -> Result<(), BlobError> {
        let job = self.put_job(key, bytes)?;
        self.run(job).await
    }

    /// [`BlobStore::put`] for callers that are not async.
    pub fn put_blocking(&self, key: &BlobKey, bytes: Vec<u8>) -> Result<(), BlobError> {
        let job = self.put_job(key, bytes)?;
        self.wait(job)
    }

    fn put_job(
        &self,
        key: &BlobKey,
        bytes: Vec<u8>,
    ) -> Result<impl Future<Output = Result<(), BlobError>> + Send + 'static, BlobError> {
        let len = bytes.len() as u64;
        if len > self.max_bytes {
            return Err(BlobError::TooLarge {
                key: key.to_string(),
                bytes: len,
                limit: self.max_bytes,
            });
        }
        let found = hex(&Sha256::digest(&bytes));
        if found != key.sha256 {
            return Err(BlobError::Tampered {
                key: key.to_string(),
                store: "(not written)".into(),
                found,
            });
        }
        let (me, path) = (self.clone(), self.path(key));
        Ok(async move {
            // Already there whole: nothing to write. Any other answer (absent, another size,
            // or a HEAD the credentials may not make, as S3 answers 403 without ListBucket)
            // writes it: the same name always means the same bytes.
            if let Ok(meta) = me.inner.store.head(&path).await
                && meta.size == len
            {
                return Ok(());
            }
            me.inner
                .store
                .put(&path, PutPayload::from(bytes))
                .await
                .map_err(|e| me.storage(e))?;
            Ok(())
        })
    }

    /// The bytes of `key`, checked against its name; `None` when there is no such object.
    pub async fn get(&self, key: &BlobKey) -> Result<Option<Vec<u8>>, BlobError> {
        let job = self.get_job(key, None);
        self.run(job).await
    }

    /// The bytes of `key`, which must be `expected` bytes long (checked before they are read)
    /// and hash to its name; a missing object is [`BlobError::Missing`].
    pub async fn get_exact(&self, key: &BlobKey, expected: u64) -> Result<Vec<u8>, BlobError> {
        let job = self.get_job(key, Some(expected));
        self.run(job).await?.ok_or_else(|| BlobError::Missing {
            key: key.to_string(),
            store: self.inner.describe.clone(),
        })
    }

    fn get_job(
        &self,
        key: &BlobKey,
        expected: Option<u64>,
    ) -> impl Future<Output = Result<Option<Vec<u8>>, BlobError>> + Send + 'static {
        let (me, path, key) = (self.clone(), self.path(key), key.clone());
        async move {
            let got = match me.inner.store.get(&path).await {
                Ok(got) => got,
                Err(object_store::Error::NotFound { .. }) => return Ok(None),
                Err(e) => return Err(me.storage(e)),
            };
            let size = got.meta.size;
            if let Some(expected) = expected
                && size != expected
            {
                return Err(BlobError::WrongSize {
                    key: key.to_string(),
                    store: me.inner.describe.clone(),
                    expected,
                    found: size,
                });
            }
            if size > me.max_bytes {
                return Err(BlobError::TooLarge {
                    key: key.to_string(),
                    bytes: size,
                    limit: me.max_bytes,
                });
            }
            let bytes = got.bytes().await.map_err(|e| me.storage(e))?;
            // The length as read, not as announced: a body cut short is caught here too.
            if bytes.len() as u64 != size {
                return Err(BlobError::WrongSize {
                    key: key.to_string(),
                    store: me.inner.describe.clone(),
                    expected: size,
                    found: bytes.len() as u64,
                });
            }
            let found = hex(&Sha256::digest(&bytes));
            if found != key.sha256 {
                return Err(BlobError::Tampered {
                    key: key.to_string(),
                    store: me.inner.describe.clone(),
                    found,
                });
            }
            Ok(Some(bytes.to_vec()))
        }
    }

    /// Whether there is an object under `key` (its content is checked when it is read).
    pub async fn has(&self, key: &BlobKey) -> Result<bool, BlobError> {
        let (me, path) = (self.clone(), self.path(key));
        self.run(async move {
            match me.inner.store.head(&path).await {
                Ok(_) => Ok(true),
                Err(object_store::Error::NotFound { .. }) => Ok(false),
                Err(e) => Err(me.storage(e)),
            }
        })
        .await
    }

    /// Removes the object under `key` (retention); `Ok(false)` when there was none.
    pub async fn remove(&self, key: &BlobKey) -> Result<bool, BlobError> {
        let (me, path) = (self.clone(), self.path(key));
        self.run(async move {
            // Told apart from "absent" where the store says so; otherwise deleted all the same
            // (S3 answers a delete of a missing object with success).
            if let Err(object_store::Error::NotFound { .. }) = me.inner.store.head(&path).await {
                return Ok(false);
            }
            match me.inner.store.delete(&path).await {
                Ok(()) => Ok(true),
                Err(object_store::Error::NotFound { .. }) => Ok(false),
                Err(e) => Err(me.storage(e)),
            }
        })
        .await
    }

    /// Writes `bytes` under `key` as they are, with no check: for tests that play an attacker
    /// or a damaged disk.
    #[doc(hidden)]
    pub async fn put_unchecked(&self, key: &BlobKey, bytes: Vec<u8>) -> Result<(), BlobError> {
        let (me, path) = (self.clone(), self.path(key));
        self.run(async move {
            me.inner
                .store
                .put(&path, PutPayload::from(bytes))
                .await
                .map(|_| ())
                .map_err(|e| me.storage(e))
        })
        .await
    }
}

/// An endpoint as shown in messages: scheme, host and port only (no user information).
fn endpoint_shown(endpoint: &str) -> String {
    let (scheme, rest) = endpoint.split_once("://").unwrap_or(("", endpoint));
    let host = rest.split('/').next().unwrap_or("");
    let host = host.rsplit('@').next().unwrap_or(host);
    if scheme.is_empty() {
        host.to_owned()
    } else {
        format!("{scheme}://{host}")
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// The SHA-256 of `bytes`, as lowercase hex (the name their object gets).
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_sha256_names_become_keys() {
        assert!(BlobKey::image(&"a".repeat(64)).is_ok());
        for bad in [
            "../../etc/passwd",
            "",
            &"A".repeat(64),
            &"a".repeat(63),
            &"a".repeat(65),
            "ab/../cd",
        ] {
            assert!(
                matches!(BlobKey::image(bad), Err(BlobError::InvalidKey(_))),
                "{bad}"
            );
        }
        let k = BlobKey::sealed(&"ab".repeat(32)).unwrap();
        assert_eq!(k.to_string(), format!("sealed/ab/ab/{}", "ab".repeat(32)));
    }

    #[test]
    fn locations_parse_and_refuse_what_is_not_one() {
        assert_eq!(
            BlobLocation::parse("s3://evidence-bucket/samaritan/prod").unwrap(),
            BlobLocation::S3 {
                bucket: "evidence-bucket".into(),
                prefix: "samaritan/prod".into()
            }
        );
        assert_eq!(
            BlobLocation::parse("s3://bkt").unwrap(),
            BlobLocation::S3 {
                bucket: "bkt".into(),
                prefix: String::new()
            }
        );
        assert_eq!(
            BlobLocation::parse("data/blobs").unwrap(),
            BlobLocation::Dir("data/blobs".into())
        );
        for bad in [
            "",
            "s3://",
            "s3://UPPER",
            "s3://user:secret@bucket",
            "s3://bucket/../x",
            "s3://bucket/a//b/..",
            "gs://bucket",
            "http://host/x",
        ] {
            assert!(BlobLocation::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            endpoint_shown("http://key:secret@127.0.0.1:9000/path"),
            "http://127.0.0.1:9000"
        );
    }
}
