//! `samaritan webhooks`: the endpoints that receive the platform's events (issue 23) — add
//! (the secret is printed once), list, remove (disable), rotate a secret, list an endpoint's
//! deliveries (`--state dead` for the dead-letter list) and redeliver one. The running service
//! delivers them; `serve`'s flags for it are [`WebhookArgs`].

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Result, bail};
use clap::{Args, Subcommand};
use samaritan_store::now_ms;

use super::store_args::{StoreArgs, runtime};

/// How `serve` delivers webhooks.
#[derive(Args, Debug, Clone)]
pub struct WebhookArgs {
    /// Let webhook endpoints be private, loopback or link-local addresses (an internal
    /// receiver). Off by default: destinations follow the image-fetch address rules.
    #[arg(long)]
    pub webhooks_allow_private: bool,
    /// Attempts before a delivery is dead (listed, redelivered by hand).
    #[arg(long, default_value_t = 12)]
    pub webhook_max_attempts: u32,
    /// The first retry after about this many milliseconds; each next one after twice as long.
    #[arg(long, default_value_t = 5000)]
    pub webhook_retry_base_ms: u64,
    /// The longest wait between attempts, in seconds.
    #[arg(long, default_value_t = 3600)]
    pub webhook_retry_cap_secs: u64,
    /// Seconds one attempt may take.
    #[arg(long, default_value_t = 10)]
    pub webhook_timeout_secs: u64,
}

impl WebhookArgs {
    pub fn config(&self) -> Result<samaritan_server::webhooks::DeliveryConfig> {
        if self.webhook_max_attempts == 0 || self.webhook_max_attempts > 100 {
            bail!("--webhook-max-attempts is 1 to 100");
        }
        if !(1..=600).contains(&self.webhook_timeout_secs) {
            bail!("--webhook-timeout-secs is 1 to 600");
        }
        Ok(samaritan_server::webhooks::DeliveryConfig {
            retry_base: Duration::from_millis(self.webhook_retry_base_ms.max(1)),
            retry_cap: Duration::from_secs(self.webhook_retry_cap_secs.max(1)),
            max_attempts: self.webhook_max_attempts,
            timeout: Duration::from_secs(self.webhook_timeout_secs),
            allow_private: self.webhooks_allow_private,
            ..samaritan_server::webhooks::DeliveryConfig::default()
        })
    }
}

#[derive(Args, Debug)]
pub struct WebhooksArgs {
    #[command(subcommand)]
    pub action: WebhooksAction,
}

#[derive(Subcommand, Debug)]
pub enum WebhooksAction {
    /// Add an endpoint; prints it with its signing secret (shown this once).
    Add {
        url: String,
        /// Comma-separated event types or families: `decision.*,report.*,appeal.*`, or `*`.
        #[arg(long, value_delimiter = ',', required = true)]
        events: Vec<String>,
        /// Allow a private, loopback or link-local destination (an internal receiver).
        #[arg(long)]
        allow_private: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Every endpoint (never their secrets), one JSON line each.
    List {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Disable an endpoint: nothing new is sent to it.
    Remove {
        id: i64,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// A new secret (printed once); the old one keeps signing for --overlap-hours.
    Rotate {
        id: i64,
        #[arg(long, default_value_t = 24)]
        overlap_hours: i64,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// An endpoint's deliveries, newest first (`--state dead`: the dead-letter list).
    Deliveries {
        id: i64,
        #[arg(long)]
        state: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: i64,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Send an event to an endpoint again, from now (same `webhook-id`).
    Redeliver {
        id: i64,
        /// The event number (`event_seq` in `deliveries`).
        seq: i64,
        #[command(flatten)]
        store: StoreArgs,
    },
}

fn view(e: &samaritan_store::WebhookEndpoint) -> serde_json::Value {
    serde_json::json!({
        "id": e.id, "url": e.url, "events": e.events(), "created_by": e.created_by,
        "created_at": e.created_at, "disabled_at": e.disabled_at,
        "previous_until": e.previous_until,
    })
}

pub fn run(args: WebhooksArgs) -> Result<ExitCode> {
    runtime()?.block_on(async {
        match args.action {
            WebhooksAction::Add {
                url,
                events,
                allow_private,
                store,
            } => {
                if let Some(bad) = events
                    .iter()
                    .find(|e| !samaritan_store::outbox::valid_pattern(e))
                {
                    bail!(
                        "unknown event `{bad}`; events are {} (or a family such as `decision.*`, or `*`)",
                        samaritan_store::outbox::EVENT_TYPES.join(", ")
                    );
                }
                samaritan_server::webhooks::destination::check(&url, allow_private)
                    .map_err(|e| anyhow::anyhow!("{url}: {e}"))?;
                let secret = samaritan_server::webhooks::sign::new_secret()?;
                let s = store.open().await?;
                let e = s.webhook_create(&url, &events, &secret, "cli", now_ms()).await;
                s.close().await;
                let e = e?;
                let mut v = view(&e);
                v["secret"] = serde_json::Value::String(secret);
                println!("{v}");
                eprintln!(
                    "webhook {} added; its secret is printed above and not shown again",
                    e.id
                );
                Ok(ExitCode::SUCCESS)
            }
            WebhooksAction::List { store } => {
                let s = store.open().await?;
                let all = s.webhooks().await;
                s.close().await;
                for e in all? {
                    println!("{}", view(&e));
                }
                Ok(ExitCode::SUCCESS)
            }
            WebhooksAction::Remove { id, store } => {
                let s = store.open().await?;
                let e = s.webhook_disable(id, "cli", now_ms()).await;
                s.close().await;
                println!("{}", view(&e?));
                Ok(ExitCode::SUCCESS)
            }
            WebhooksAction::Rotate {
                id,
                overlap_hours,
                store,
            } => {
                if !(0..=168).contains(&overlap_hours) {
                    bail!("--overlap-hours is 0 to 168");
                }
                let secret = samaritan_server::webhooks::sign::new_secret()?;
                let now = now_ms();
                let s = store.open().await?;
                let e = s
                    .webhook_rotate(id, &secret, now + overlap_hours * 3_600_000, "cli", now)
                    .await;
                s.close().await;
                let mut v = view(&e?);
                v["secret"] = serde_json::Value::String(secret);
                println!("{v}");
                Ok(ExitCode::SUCCESS)
            }
            WebhooksAction::Deliveries {
                id,
                state,
                limit,
                store,
            } => {
                if let Some(st) = state.as_deref()
                    && !samaritan_store::webhooks::DELIVERY_STATES.contains(&st)
                {
                    bail!("unknown state `{st}`; states are pending, delivered, dead");
                }
                if !(1..=10_000).contains(&limit) {
                    bail!("--limit is 1 to 10000");
                }
                let s = store.open().await?;
                let d = s.webhook_deliveries(id, state.as_deref(), limit).await;
                s.close().await;
                for d in d? {
                    println!("{}", serde_json::to_string(&d)?);
                }
                Ok(ExitCode::SUCCESS)
            }
            WebhooksAction::Redeliver { id, seq, store } => {
                let s = store.open().await?;
                let r = s.webhook_redeliver(id, seq, "cli", now_ms()).await;
                s.close().await;
                r?;
                eprintln!("event {seq} will be sent to webhook {id} again");
                Ok(ExitCode::SUCCESS)
            }
        }
    })
}
