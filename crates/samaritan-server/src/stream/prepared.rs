//! The prepared-results stream of the fan-out layout: what prepare workers publish and the
//! linker takes, one message per message of the ads stream.
//!
//! **Layout.** Stream `<ads stream>_PREPARED` (work queue, file storage, the duplicate window)
//! over `<ads prefix>-prepared.<source>` ([`prepared_spec`]). Every message carries, in
//! headers, the ad message's stream sequence ([`H_SEQ`]), subject and `Nats-Msg-Id`;
//! its own `Nats-Msg-Id` is that sequence, so a result published twice within the window
//! is stored once. Two kinds:
//! - a result ([`Body`]): the ad exactly as it came, and what preparing it made
//!   ([`PreparedAd`], JSON);
//! - a marker ([`H_FAILED`] holds the error, [`H_ATTEMPTS`] the deliveries): the ad's payload
//!   as it came, for the linker to park at its turn (never lost, and never waited for).

use async_nats::HeaderMap;
use async_nats::jetstream::{self, message::PublishMessage as Publish};
use samaritan_engine::linked::PreparedAd;
use serde::{Deserialize, Serialize};

use super::{StreamError, StreamSpec};

/// The ad message's sequence on the ads stream.
pub const H_SEQ: &str = "Samaritan-Seq";
/// The ad message's subject.
pub const H_SUBJECT: &str = "Samaritan-Subject";
/// The ad message's `Nats-Msg-Id`.
pub const H_MSG_ID: &str = "Samaritan-Msg-Id";
/// Set on a marker: why the ad could not be prepared.
pub const H_FAILED: &str = "Samaritan-Failed";
/// Set on a marker: deliveries of the ad message to prepare workers.
pub const H_ATTEMPTS: &str = "Samaritan-Attempts";

/// A result's payload.
#[derive(Debug, Serialize, Deserialize)]
pub struct Body {
    /// The ad's JSON exactly as it came.
    pub ad: String,
    pub prepared: PreparedAd,
}

/// The results stream of the ads stream `ads`: name `<name>_PREPARED`, prefix
/// `<prefix>-prepared`.
pub fn prepared_spec(ads: &StreamSpec) -> Result<StreamSpec, StreamError> {
    StreamSpec::new(
        &format!("{}_PREPARED", ads.name),
        &format!("{}-prepared", ads.prefix),
    )
}

/// The results stream of `ads`, created when absent, checked when present.
pub async fn ensure_prepared_stream(
    js: &jetstream::Context,
    ads: &StreamSpec,
) -> Result<jetstream::stream::Stream, StreamError> {
    super::ensure_stream(js, &prepared_spec(ads)?).await
}

/// The ad message a result or marker stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub seq: u64,
    pub subject: String,
    pub msg_id: Option<String>,
}

/// What a message of the results stream says.
pub enum Reading {
    Prepared {
        raw: String,
        prepared: Box<PreparedAd>,
    },
    Failed {
        error: String,
        attempts: u32,
        payload: bytes::Bytes,
    },
}

/// A header value: one line, at most 2 000 bytes (a cut error keeps its start).
fn header_text(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if out.len() > 2000 {
        let mut cut = 2000;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
    }
    out
}

fn origin_headers(origin: &Origin) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(H_SEQ, origin.seq.to_string().as_str());
    h.insert(H_SUBJECT, header_text(&origin.subject).as_str());
    if let Some(id) = &origin.msg_id {
        h.insert(H_MSG_ID, header_text(id).as_str());
    }
    h
}

/// A result to publish for `origin` (`None`: it does not serialise, which a marker reports).
pub fn result_message(origin: &Origin, raw: &str, prepared: PreparedAd) -> Result<Publish, String> {
    let body = Body {
        ad: raw.to_owned(),
        prepared,
    };
    let payload = serde_json::to_vec(&body)
        .map_err(|e| format!("the prepared ad does not serialise: {e}"))?;
    Ok(Publish::build()
        .payload(payload.into())
        .headers(origin_headers(origin))
        .message_id(origin.seq.to_string()))
}

/// A marker to publish for `origin`: `payload` (the ad message's) to be parked with `error`.
pub fn marker_message(
    origin: &Origin,
    payload: bytes::Bytes,
    error: &str,
    attempts: u32,
) -> Publish {
    let mut h = origin_headers(origin);
    h.insert(H_FAILED, header_text(error).as_str());
    h.insert(H_ATTEMPTS, attempts.to_string().as_str());
    Publish::build()
        .payload(payload)
        .headers(h)
        .message_id(origin.seq.to_string())
}

/// Reads a message of the results stream: its origin and what it says (a result that does not
/// read is a failure to park at its turn), or why it is not one of ours (no origin).
pub fn read(message: &jetstream::Message) -> Result<(Origin, Reading), String> {
    let h = message
        .headers
        .as_ref()
        .ok_or("no headers: not a prepared result")?;
    let seq = h
        .get(H_SEQ)
        .and_then(|v| v.as_str().parse::<u64>().ok())
        .ok_or_else(|| format!("header {H_SEQ} is missing or not a number"))?;
    let origin = Origin {
        seq,
        subject: h
            .get(H_SUBJECT)
            .map(|v| v.as_str().to_owned())
            .unwrap_or_default(),
        msg_id: h.get(H_MSG_ID).map(|v| v.as_str().to_owned()),
    };
    if let Some(error) = h.get(H_FAILED) {
        let attempts = h
            .get(H_ATTEMPTS)
            .and_then(|v| v.as_str().parse().ok())
            .unwrap_or(1);
        return Ok((
            origin,
            Reading::Failed {
                error: error.as_str().to_owned(),
                attempts,
                payload: message.payload.clone(),
            },
        ));
    }
    let unreadable = |error: String| Reading::Failed {
        error,
        attempts: 1,
        payload: message.payload.clone(),
    };
    let reading = match serde_json::from_slice::<Body>(&message.payload) {
        Ok(b) if b.prepared.format == samaritan_engine::linked::PREPARED_FORMAT => {
            Reading::Prepared {
                raw: b.ad,
                prepared: Box::new(b.prepared),
            }
        }
        Ok(b) => unreadable(format!(
            "the prepared result has format {} (this build reads {})",
            b.prepared.format,
            samaritan_engine::linked::PREPARED_FORMAT
        )),
        Err(e) => unreadable(format!(
            "not a prepared result (line {}, column {})",
            e.line(),
            e.column()
        )),
    };
    Ok((origin, reading))
}
