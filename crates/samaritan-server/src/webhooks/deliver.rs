//! The delivery worker: takes the deliveries due from the store (in event order, one pending
//! event per ad and endpoint at a time), POSTs each event's exact body with the Standard
//! Webhooks headers (`webhook-id`, `webhook-timestamp`, `webhook-signature`), and records the
//! outcome: delivered on a 2xx answer; otherwise tried again after an exponential backoff with
//! jitter (capped), and dead after the last attempt (listed by the API, redelivered by hand).
//!
//! At least once: an event is marked delivered only after the receiver answered 2xx, so a stop
//! between the answer and the record sends it again, with the same `webhook-id` for the
//! receiver to drop. Destinations pass the image-fetch address rules at every attempt.

use std::time::Duration;

use samaritan_store::{DueDelivery, Store, now_ms};
use ureq::unversioned::transport::DefaultConnector;

use super::sign;

/// How deliveries are made and retried.
#[derive(Debug, Clone)]
pub struct DeliveryConfig {
    /// First retry after about this long; each next one after twice as long, up to `cap`.
    pub retry_base: Duration,
    pub retry_cap: Duration,
    /// Attempts before a delivery is dead.
    pub max_attempts: u32,
    /// Longest one attempt may take.
    pub timeout: Duration,
    /// Send to private, loopback and link-local addresses too (internal receivers, tests).
    pub allow_private: bool,
    /// How often the outbox is looked at when idle.
    pub poll: Duration,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        DeliveryConfig {
            retry_base: Duration::from_secs(5),
            retry_cap: Duration::from_secs(3600),
            max_attempts: 12,
            timeout: Duration::from_secs(10),
            allow_private: false,
            poll: Duration::from_millis(250),
        }
    }
}

impl DeliveryConfig {
    /// When to try again after attempt number `attempts` (1 for the first) failed, in
    /// milliseconds from now: base × 2^(attempts−1), capped, then a random half to all of it
    /// (so receivers that failed together are not retried together).
    pub fn backoff_ms(&self, attempts: u32) -> i64 {
        let base = self.retry_base.as_millis() as f64;
        let cap = self.retry_cap.as_millis() as f64;
        let full = (base * 2f64.powi(attempts.saturating_sub(1).min(40) as i32)).min(cap);
        let r = samaritan_store::users::random_bytes::<2>()
            .map(|b| f64::from(u16::from_le_bytes(b)) / f64::from(u16::MAX))
            .unwrap_or(1.0);
        (full * (0.5 + 0.5 * r)) as i64
    }
}

/// What one attempt ended in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Delivered(u16),
    /// The receiver answered, not 2xx.
    Status(u16),
    /// No answer: refused address, connection failed, timed out.
    Failed(String),
}

/// Sends `d` once.
pub fn attempt(d: &DueDelivery, cfg: &DeliveryConfig) -> Outcome {
    let uri = match super::destination::check(&d.url, cfg.allow_private) {
        Ok(u) => u,
        Err(e) => return Outcome::Failed(format!("destination refused: {e}")),
    };
    let timestamp = now_ms() / 1000;
    let mut secrets = vec![d.secret.as_str()];
    if let Some(p) = &d.previous_secret {
        secrets.push(p.as_str());
    }
    let Some(signature) = sign::header(&secrets, &d.event_id, timestamp, &d.body) else {
        return Outcome::Failed("the endpoint's secret does not decode".into());
    };
    let config = ureq::Agent::config_builder()
        .proxy(None)
        .http_status_as_error(false)
        .timeout_global(Some(cfg.timeout))
        .max_redirects(0)
        .user_agent("samaritan-webhooks/1")
        .build();
    let agent = ureq::Agent::with_parts(
        config,
        DefaultConnector::new(),
        samaritan_media::fetch::GuardedResolver::system(cfg.allow_private),
    );
    match agent
        .post(uri)
        .header("content-type", "application/json")
        .header("webhook-id", &d.event_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .send(d.body.as_bytes())
    {
        Ok(mut resp) => {
            let status = resp.status().as_u16();
            // Read (a bounded amount of) the answer so the connection ends cleanly.
            let _ = resp.body_mut().with_config().limit(64 * 1024).read_to_vec();
            if (200..300).contains(&status) {
                Outcome::Delivered(status)
            } else {
                Outcome::Status(status)
            }
        }
        Err(e) => Outcome::Failed(e.to_string()),
    }
}

/// Works off every delivery due now; how many attempts were made.
pub async fn run_once(
    store: &Store,
    cfg: &DeliveryConfig,
) -> Result<usize, samaritan_store::StoreError> {
    let due = store.webhook_due(now_ms(), 64).await?;
    let n = due.len();
    for d in due {
        let c = cfg.clone();
        let sent = d.clone();
        let outcome = tokio::task::spawn_blocking(move || attempt(&sent, &c))
            .await
            .unwrap_or_else(|e| Outcome::Failed(format!("the attempt stopped: {e}")));
        let attempts = u32::try_from(d.attempts)
            .unwrap_or(u32::MAX)
            .saturating_add(1);
        let now = now_ms();
        let (status, error) = match &outcome {
            Outcome::Delivered(s) => (Some(*s), None),
            Outcome::Status(s) => (Some(*s), Some(format!("HTTP {s}"))),
            Outcome::Failed(e) => (None, Some(e.clone())),
        };
        let retry_at = (error.is_some() && attempts < cfg.max_attempts)
            .then(|| now + cfg.backoff_ms(attempts));
        if let Some(e) = &error {
            if retry_at.is_none() {
                tracing::warn!(webhook = d.endpoint_id, event = %d.event_id, attempts, error = %e, "webhook delivery dead after its last attempt");
            } else {
                tracing::info!(webhook = d.endpoint_id, event = %d.event_id, attempts, error = %e, "webhook delivery failed; retrying");
            }
        }
        store
            .webhook_attempted(
                d.endpoint_id,
                d.event_seq,
                status,
                error.as_deref(),
                retry_at,
                now,
            )
            .await?;
    }
    Ok(n)
}

/// Runs the worker until the runtime stops or the store is closed: deliveries due are worked off at once, then the
/// outbox is looked at again when `wake` is notified (the service does after each change that
/// writes an event) or after `cfg.poll` (events written by another process, retries coming due).
pub fn spawn(store: Store, cfg: DeliveryConfig, wake: std::sync::Arc<tokio::sync::Notify>) {
    tokio::spawn(async move {
        while !store.is_closed() {
            match run_once(&store, &cfg).await {
                Ok(n) if n > 0 => continue,
                Ok(_) => {}
                Err(samaritan_store::StoreError::Closed) => return,
                Err(e) => {
                    tracing::warn!(error = %e, "the webhook worker could not read the outbox")
                }
            }
            let _ = tokio::time::timeout(cfg.poll, wake.notified()).await;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_up_to_the_cap() {
        let cfg = DeliveryConfig {
            retry_base: Duration::from_millis(1000),
            retry_cap: Duration::from_millis(10_000),
            ..DeliveryConfig::default()
        };
        for _ in 0..50 {
            let a = cfg.backoff_ms(1);
            assert!((500..=1000).contains(&a), "{a}");
            let c = cfg.backoff_ms(3);
            assert!((2000..=4000).contains(&c), "{c}");
            let capped = cfg.backoff_ms(30);
            assert!((5000..=10_000).contains(&capped), "{capped}");
        }
    }
}
