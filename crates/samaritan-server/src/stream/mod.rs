//! The ads stream on NATS JetStream (issue 24): where `serve --stream` and `ingest --stream`
//! put accepted ads, and where the linker worker takes them from.
//!
//! **Layout.** One stream (default [`DEFAULT_STREAM`]) with work-queue retention, file storage
//! and a duplicate window, over the subjects `samaritan.ads.<source>` ([`StreamSpec`]): the
//! source names who put the ad there (`api` for `serve`, the `--source` of `ingest`), so an
//! operator sees per source what waits. Each message is one ad exactly as the client sent it,
//! with `Nats-Msg-Id` = `<ad id>:<content digest>` ([`msg_id`]): a retried publish of the same
//! content within the window is stored once; a changed ad is a new message (a new revision).
//! The linker reads every subject (`samaritan.ads.>`; another deployment or test on the same NATS takes another name and
//! prefix) in stream order through one durable pull
//! consumer ([`LINKER_CONSUMER`]). In the fan-out layout, prepare workers take the ads instead
//! ([`PREPARE_CONSUMER`]) and the linker takes their results from a second stream, in the ads
//! stream's order (ARCHITECTURE.md, *The ads stream*).
//!
//! - [`publish`]: [`Publisher`], publishes ads and answers only once JetStream acknowledged
//!   each one (stored on the server's disk, with its sequence).
//! - [`linker`]: the stateful stage: elected through PostgreSQL, restores its linker from the
//!   store, consumes in order, commits, then acknowledges; parks what keeps failing.
//! - [`prepare`]: the stateless stage of the fan-out layout, any number of workers.
//! - [`prepared`]: the results stream between them and its messages.
//! - [`reorder`]: the linker's buffer putting results back in the ads stream's order.

pub mod linker;
pub mod prepare;
pub mod prepared;
pub mod publish;
pub mod reorder;

use std::time::Duration;

use async_nats::jetstream;

pub use linker::{LinkerConfig, LinkerStop, POSITION_KIND, run_linker};
pub use prepare::{PrepareConfig, PrepareCounts, run_prepare};
pub use publish::{Accepted, Publisher};

/// The stream's name unless configured.
pub const DEFAULT_STREAM: &str = "SAMARITAN_ADS";
/// Subjects are `samaritan.ads.<source>`.
pub const SUBJECT_PREFIX: &str = "samaritan.ads";
/// The linker's durable consumer (on the ads stream, single-process layout).
pub const LINKER_CONSUMER: &str = "samaritan-linker";
/// The prepare workers' shared durable consumer (on the ads stream, fan-out layout).
pub const PREPARE_CONSUMER: &str = "samaritan-prepare";
/// The linker's durable consumer on the prepared-results stream (fan-out layout).
pub const PREPARED_LINKER_CONSUMER: &str = "samaritan-linker";
/// How long JetStream remembers a `Nats-Msg-Id` to drop a repeated publish.
pub const DUPLICATE_WINDOW: Duration = Duration::from_secs(120);

/// Why the stream could not be used.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    #[error("cannot connect to NATS at {url}: {reason}")]
    Connect { url: String, reason: String },
    #[error("JetStream: {0}")]
    JetStream(String),
    #[error("{0}")]
    Invalid(String),
}

impl StreamError {
    pub(crate) fn js(e: impl std::fmt::Display) -> StreamError {
        StreamError::JetStream(e.to_string())
    }
}

/// Which stream, and the subjects under it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamSpec {
    /// The JetStream stream (default [`DEFAULT_STREAM`]).
    pub name: String,
    /// Subjects are `<prefix>.<source>` (default [`SUBJECT_PREFIX`]); the stream holds
    /// `<prefix>.>`. Two streams cannot share subjects, so a second deployment (or a test) on
    /// the same NATS takes another prefix with another name.
    pub prefix: String,
}

impl Default for StreamSpec {
    fn default() -> StreamSpec {
        StreamSpec {
            name: DEFAULT_STREAM.to_owned(),
            prefix: SUBJECT_PREFIX.to_owned(),
        }
    }
}

/// ASCII letters, digits, `_` and `-`, 1 to 64 characters (`.` too where `dots`).
fn plain(s: &str, dots: bool) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || (dots && c == '.'))
        && !(dots && (s.starts_with('.') || s.ends_with('.') || s.contains("..")))
}

impl StreamSpec {
    /// A spec after checking the name (a JetStream stream name) and the prefix (subject tokens).
    pub fn new(name: &str, prefix: &str) -> Result<StreamSpec, StreamError> {
        if !plain(name, false) {
            return Err(StreamError::Invalid(format!(
                "stream name `{name}` must be 1 to 64 ASCII letters, digits, `_` or `-`"
            )));
        }
        if !plain(prefix, true) {
            return Err(StreamError::Invalid(format!(
                "subject prefix `{prefix}` must be dot-separated tokens of ASCII letters, digits, `_` or `-`"
            )));
        }
        Ok(StreamSpec {
            name: name.to_owned(),
            prefix: prefix.to_owned(),
        })
    }

    /// The subject of ads from `source` (one token: ASCII letters, digits, `_` or `-`).
    pub fn subject_for(&self, source: &str) -> Result<String, StreamError> {
        if !plain(source, false) {
            return Err(StreamError::Invalid(format!(
                "source `{source}` must be 1 to 64 ASCII letters, digits, `_` or `-` (it is a subject token)"
            )));
        }
        Ok(format!("{}.{source}", self.prefix))
    }

    /// Every subject of the stream.
    pub fn all_subjects(&self) -> String {
        format!("{}.>", self.prefix)
    }
}

/// `Nats-Msg-Id` of an ad: its id and content digest, so only a repeat of the same content is
/// dropped as a duplicate.
pub fn msg_id(ad_id: &str, digest: &str) -> String {
    format!("{ad_id}:{digest}")
}

/// Connects to NATS at `url` (`nats://host:port`) and opens JetStream.
pub async fn connect(url: &str) -> Result<jetstream::Context, StreamError> {
    let client = async_nats::ConnectOptions::new()
        .name("samaritan")
        .connection_timeout(Duration::from_secs(5))
        .connect(url)
        .await
        .map_err(|e| StreamError::Connect {
            url: url.to_owned(),
            reason: e.to_string(),
        })?;
    Ok(jetstream::new(client))
}

/// The ads stream of `spec`, created when absent (work queue, file storage, the duplicate
/// window, subjects `<prefix>.>`). An existing stream of that name is used as it is, after
/// checking that it is a work queue over those subjects.
pub async fn ensure_stream(
    js: &jetstream::Context,
    spec: &StreamSpec,
) -> Result<jetstream::stream::Stream, StreamError> {
    let config = jetstream::stream::Config {
        name: spec.name.clone(),
        subjects: vec![spec.all_subjects()],
        retention: jetstream::stream::RetentionPolicy::WorkQueue,
        storage: jetstream::stream::StorageType::File,
        duplicate_window: DUPLICATE_WINDOW,
        ..Default::default()
    };
    let mut stream = js
        .get_or_create_stream(config)
        .await
        .map_err(StreamError::js)?;
    let info = stream.info().await.map_err(StreamError::js)?;
    if info.config.retention != jetstream::stream::RetentionPolicy::WorkQueue
        || !info.config.subjects.contains(&spec.all_subjects())
    {
        return Err(StreamError::Invalid(format!(
            "the stream `{}` exists but is not a work queue over `{}`",
            spec.name,
            spec.all_subjects()
        )));
    }
    Ok(stream)
}
