//! Publishing accepted ads to the stream and waiting for JetStream's acknowledgements.
//!
//! Every publish of a call is sent first, then every acknowledgement awaited: a call returns
//! `Ok` only when JetStream stored each ad (on its disk, with its stream sequence). A duplicate
//! (the same `Nats-Msg-Id` within the stream's duplicate window) is acknowledged with the
//! sequence of the copy already stored, marked `duplicate`.

use async_nats::jetstream::{self, message::PublishMessage as Publish};
use serde::Serialize;

use super::{StreamError, StreamSpec, ensure_stream, msg_id};

/// One ad the stream holds, as the publisher was told.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Accepted {
    pub id: String,
    /// The ad's content digest (SHA-256 of its canonical JSON), part of its `Nats-Msg-Id`.
    pub digest: String,
    /// The stream's sequence of the stored message.
    pub seq: u64,
    /// True when this exact content was already on the stream (published again within the
    /// duplicate window): `seq` is the earlier copy's.
    pub duplicate: bool,
}

/// Puts ads on the stream of a [`StreamSpec`] under one source's subject.
#[derive(Clone)]
pub struct Publisher {
    js: jetstream::Context,
    spec: StreamSpec,
    subject: String,
}

impl Publisher {
    /// Connects, creates the stream when absent and checks it.
    pub async fn connect(
        url: &str,
        spec: StreamSpec,
        source: &str,
    ) -> Result<Publisher, StreamError> {
        let subject = spec.subject_for(source)?;
        let js = super::connect(url).await?;
        ensure_stream(&js, &spec).await?;
        Ok(Publisher { js, spec, subject })
    }

    /// The stream's name.
    pub fn stream(&self) -> &str {
        &self.spec.name
    }

    /// The subject ads go to.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// Publishes `(id, digest, raw JSON)` in order and waits for every acknowledgement. On an
    /// error some ads may be on the stream already: publishing them again is safe (deduplicated
    /// within the window; after it, the store answers the same content as unchanged).
    pub async fn publish(&self, ads: &[(&str, &str, &str)]) -> Result<Vec<Accepted>, StreamError> {
        let mut pending = Vec::with_capacity(ads.len());
        for (id, digest, raw) in ads {
            let message = Publish::build()
                .payload(bytes::Bytes::copy_from_slice(raw.as_bytes()))
                .message_id(msg_id(id, digest))
                .expected_stream(&self.spec.name);
            let ack = self
                .js
                .send_publish(self.subject.clone(), message)
                .await
                .map_err(|e| StreamError::JetStream(format!("publishing ad `{id}`: {e}")))?;
            pending.push(ack);
        }
        let mut accepted = Vec::with_capacity(ads.len());
        for ((id, digest, _), ack) in ads.iter().zip(pending) {
            let ack = ack.await.map_err(|e| {
                StreamError::JetStream(format!("JetStream did not acknowledge ad `{id}`: {e}"))
            })?;
            accepted.push(Accepted {
                id: (*id).to_owned(),
                digest: (*digest).to_owned(),
                seq: ack.sequence,
                duplicate: ack.duplicate,
            });
        }
        Ok(accepted)
    }
}
