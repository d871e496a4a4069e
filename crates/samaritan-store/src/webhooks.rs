//! Webhook endpoints and their deliveries (issue 23). An endpoint is a URL, the event patterns
//! it wants, and its signing secret (during a rotation also the previous one, until a time);
//! secrets are read only by the delivering service ([`Store::webhook_due`]) and shown to an
//! admin once, at creation or rotation. A delivery is one event for one endpoint: pending until
//! delivered, or dead after its last attempt (visible, and redelivered by hand). Deliveries are
//! handed out in event order per endpoint and ad: an event waits while an earlier one for the
//! same ad is still pending. Creating, disabling, rotating and redelivering are audited.

use serde::Serialize;

use crate::{Result, Store, StoreError};

/// An endpoint as listed (never its secret).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct WebhookEndpoint {
    pub id: i64,
    pub url: String,
    /// The event patterns it wants, as a JSON array.
    #[serde(skip)]
    pub events_json: String,
    pub created_by: String,
    pub created_at: i64,
    pub disabled_at: Option<i64>,
    /// Until when the previous secret still signs (a rotation's overlap).
    pub previous_until: Option<i64>,
}

impl WebhookEndpoint {
    /// The event patterns it wants.
    pub fn events(&self) -> Vec<String> {
        serde_json::from_str(&self.events_json).unwrap_or_default()
    }
}

/// A delivery due now, with what sending it needs.
#[derive(Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DueDelivery {
    pub endpoint_id: i64,
    pub url: String,
    pub secret: String,
    /// Signs too while a rotation's overlap runs.
    pub previous_secret: Option<String>,
    pub event_seq: i64,
    pub event_id: String,
    pub body: String,
    pub created_at: i64,
    pub attempts: i64,
}

impl std::fmt::Debug for DueDelivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "DueDelivery {{ endpoint: {}, event: {} ({}), attempts: {} }}",
            self.endpoint_id, self.event_seq, self.event_id, self.attempts
        )
    }
}

/// One delivery as the API lists it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Delivery {
    pub endpoint_id: i64,
    pub event_seq: i64,
    pub event_id: String,
    pub event_type: String,
    pub ad_id: Option<String>,
    /// `pending`, `delivered` or `dead`.
    pub state: String,
    pub attempts: i64,
    pub next_at: i64,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub delivered_at: Option<i64>,
    pub created_at: i64,
}

/// Delivery counts by state, and the oldest pending event's age.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DeliveryCounts {
    pub pending: i64,
    pub delivered: i64,
    pub dead: i64,
    pub oldest_pending_at: Option<i64>,
}

/// The states a delivery can be in.
pub const DELIVERY_STATES: [&str; 3] = ["pending", "delivered", "dead"];

const ENDPOINT_COLUMNS: &str =
    "id, url, events AS events_json, created_by, created_at, disabled_at, previous_until";

const DELIVERY_COLUMNS: &str = "d.endpoint_id, d.event_seq, o.event_id, o.event_type, d.ad_id, \
     d.state, d.attempts, d.next_at, d.last_status, d.last_error, d.delivered_at, o.created_at";

impl Store {
    /// Adds an endpoint for `url` wanting `events` (patterns checked by the caller), signed with
    /// `secret`. Audited without the secret.
    pub async fn webhook_create(
        &self,
        url: &str,
        events: &[String],
        secret: &str,
        actor: &str,
        now: i64,
    ) -> Result<WebhookEndpoint> {
        if let Some(bad) = events.iter().find(|e| !crate::outbox::valid_pattern(e)) {
            return Err(StoreError::Invalid(format!("unknown event `{bad}`")));
        }
        if events.is_empty() {
            return Err(StoreError::Invalid(
                "an endpoint wants at least one event".into(),
            ));
        }
        let events_json =
            serde_json::to_string(events).map_err(|e| StoreError::Invalid(e.to_string()))?;
        on_write!(&self.backend, |pool, dialect| {
            let mut tx = pool.begin_with(dialect.begin()).await?;
            let row: WebhookEndpoint = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "INSERT INTO webhook_endpoints (url, events, secret, created_by, created_at) \
                 VALUES ($1, $2, $3, $4, $5) RETURNING {ENDPOINT_COLUMNS}"
            )))
            .bind(url)
            .bind(&events_json)
            .bind(secret)
            .bind(actor)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            let detail = serde_json::json!({"webhook": row.id, "url": url, "events": events});
            append_audit!(
                tx,
                dialect,
                actor,
                "webhook.create",
                "webhooks",
                detail,
                now
            );
            tx.commit().await?;
            Ok(row)
        })
    }

    /// Every endpoint, enabled first, newest first.
    pub async fn webhooks(&self) -> Result<Vec<WebhookEndpoint>> {
        let rows: Vec<WebhookEndpoint> = on_read!(self, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints \
                 ORDER BY disabled_at IS NOT NULL, id DESC"
            )))
            .fetch_all(pool)
            .await
        })?;
        Ok(rows)
    }

    /// Endpoint `id`.
    pub async fn webhook(&self, id: i64) -> Result<Option<WebhookEndpoint>> {
        let row: Option<WebhookEndpoint> = on_read!(self, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = $1"
            )))
            .bind(id)
            .fetch_optional(pool)
            .await
        })?;
        Ok(row)
    }

    /// Disables endpoint `id`: no new deliveries; pending ones are left as they are (visible).
    pub async fn webhook_disable(&self, id: i64, actor: &str, now: i64) -> Result<WebhookEndpoint> {
        on_write!(&self.backend, |pool, dialect| {
            let mut tx = pool.begin_with(dialect.begin()).await?;
            let row: Option<WebhookEndpoint> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "UPDATE webhook_endpoints SET disabled_at = COALESCE(disabled_at, $1) \
                 WHERE id = $2 RETURNING {ENDPOINT_COLUMNS}"
            )))
            .bind(now)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(row) = row else {
                tx.rollback().await?;
                return Err(StoreError::NotFound(format!("webhook {id}")));
            };
            let detail = serde_json::json!({"webhook": id});
            append_audit!(
                tx,
                dialect,
                actor,
                "webhook.disable",
                "webhooks",
                detail,
                now
            );
            tx.commit().await?;
            Ok(row)
        })
    }

    /// Signs endpoint `id`'s deliveries with `secret` from now on; the previous secret signs
    /// too until `overlap_until`. Audited without either secret.
    pub async fn webhook_rotate(
        &self,
        id: i64,
        secret: &str,
        overlap_until: i64,
        actor: &str,
        now: i64,
    ) -> Result<WebhookEndpoint> {
        on_write!(&self.backend, |pool, dialect| {
            let mut tx = pool.begin_with(dialect.begin()).await?;
            let row: Option<WebhookEndpoint> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "UPDATE webhook_endpoints SET previous_secret = secret, previous_until = $1, \
                 secret = $2 WHERE id = $3 AND disabled_at IS NULL RETURNING {ENDPOINT_COLUMNS}"
            )))
            .bind(overlap_until)
            .bind(secret)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(row) = row else {
                tx.rollback().await?;
                return Err(StoreError::NotFound(format!("enabled webhook {id}")));
            };
            let detail = serde_json::json!({"webhook": id, "previous_until": overlap_until});
            append_audit!(
                tx,
                dialect,
                actor,
                "webhook.rotate",
                "webhooks",
                detail,
                now
            );
            tx.commit().await?;
            Ok(row)
        })
    }

    /// Deliveries due at `now` on enabled endpoints, at most `limit`, in event order; an event
    /// for an ad waits while an earlier one for that ad and endpoint is pending.
    pub async fn webhook_due(&self, now: i64, limit: i64) -> Result<Vec<DueDelivery>> {
        let rows: Vec<DueDelivery> = on_read!(self, |pool| {
            sqlx::query_as(
                "SELECT d.endpoint_id, e.url, e.secret, \
                 CASE WHEN e.previous_until > $1 THEN e.previous_secret END AS previous_secret, \
                 d.event_seq, o.event_id, o.body, o.created_at, d.attempts \
                 FROM webhook_deliveries d \
                 JOIN webhook_endpoints e ON e.id = d.endpoint_id \
                 JOIN webhook_outbox o ON o.seq = d.event_seq \
                 WHERE d.state = 'pending' AND d.next_at <= $1 AND e.disabled_at IS NULL \
                 AND (d.ad_id IS NULL OR NOT EXISTS (SELECT 1 FROM webhook_deliveries p \
                      WHERE p.endpoint_id = d.endpoint_id AND p.ad_id = d.ad_id \
                      AND p.state = 'pending' AND p.event_seq < d.event_seq)) \
                 ORDER BY d.event_seq, d.endpoint_id LIMIT $2",
            )
            .bind(now)
            .bind(limit)
            .fetch_all(pool)
            .await
        })?;
        Ok(rows)
    }

    /// Records the outcome of an attempt: delivered (`error` `None`), or failed with `error`,
    /// tried again at `retry_at` or, when `None`, dead.
    pub async fn webhook_attempted(
        &self,
        endpoint_id: i64,
        event_seq: i64,
        status: Option<u16>,
        error: Option<&str>,
        retry_at: Option<i64>,
        now: i64,
    ) -> Result<()> {
        let state = match (error, retry_at) {
            (None, _) => "delivered",
            (Some(_), Some(_)) => "pending",
            (Some(_), None) => "dead",
        };
        on_write!(&self.backend, |pool, _dialect| {
            sqlx::query(
                "UPDATE webhook_deliveries SET state = $1, attempts = attempts + 1, \
                 next_at = COALESCE($2, next_at), last_status = $3, last_error = $4, \
                 delivered_at = CASE WHEN $1 = 'delivered' THEN $5 ELSE delivered_at END \
                 WHERE endpoint_id = $6 AND event_seq = $7 AND state = 'pending'",
            )
            .bind(state)
            .bind(retry_at)
            .bind(status.map(i64::from))
            .bind(error)
            .bind(now)
            .bind(endpoint_id)
            .bind(event_seq)
            .execute(pool)
            .await?;
            Ok(())
        })
    }

    /// Endpoint `id`'s deliveries in `state` (all when `None`), newest first, at most `limit`.
    pub async fn webhook_deliveries(
        &self,
        id: i64,
        state: Option<&str>,
        limit: i64,
    ) -> Result<Vec<Delivery>> {
        let rows: Vec<Delivery> = on_read!(self, |pool| {
            let mut qb = sqlx::QueryBuilder::<DB>::new(format!(
                "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries d \
                 JOIN webhook_outbox o ON o.seq = d.event_seq WHERE d.endpoint_id = "
            ));
            qb.push_bind(id);
            if let Some(s) = state {
                qb.push(" AND d.state = ").push_bind(s);
            }
            qb.push(" ORDER BY d.event_seq DESC LIMIT ")
                .push_bind(limit);
            qb.build_query_as().fetch_all(pool).await
        })?;
        Ok(rows)
    }

    /// Sends delivery (`id`, `event_seq`) again from now, whatever its state (a dead one, or
    /// one the platform lost). Audited.
    pub async fn webhook_redeliver(
        &self,
        id: i64,
        event_seq: i64,
        actor: &str,
        now: i64,
    ) -> Result<()> {
        on_write!(&self.backend, |pool, dialect| {
            let mut tx = pool.begin_with(dialect.begin()).await?;
            let done = sqlx::query(
                "UPDATE webhook_deliveries SET state = 'pending', attempts = 0, next_at = $1, \
                 last_error = NULL WHERE endpoint_id = $2 AND event_seq = $3",
            )
            .bind(now)
            .bind(id)
            .bind(event_seq)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if done == 0 {
                tx.rollback().await?;
                return Err(StoreError::NotFound(format!(
                    "delivery of event {event_seq} to webhook {id}"
                )));
            }
            let detail = serde_json::json!({"webhook": id, "event_seq": event_seq});
            append_audit!(
                tx,
                dialect,
                actor,
                "webhook.redeliver",
                "webhooks",
                detail,
                now
            );
            tx.commit().await?;
            Ok(())
        })
    }

    /// Deliveries by state over every endpoint, and the oldest pending event's time.
    pub async fn webhook_counts(&self) -> Result<DeliveryCounts> {
        let rows: Vec<(String, i64, Option<i64>)> = on_read!(self, |pool| {
            sqlx::query_as(
                "SELECT d.state, COUNT(*), MIN(o.created_at) FROM webhook_deliveries d \
                 JOIN webhook_outbox o ON o.seq = d.event_seq GROUP BY d.state",
            )
            .fetch_all(pool)
            .await
        })?;
        let mut c = DeliveryCounts::default();
        for (state, n, oldest) in rows {
            match state.as_str() {
                "pending" => {
                    c.pending = n;
                    c.oldest_pending_at = oldest;
                }
                "delivered" => c.delivered = n,
                "dead" => c.dead = n,
                _ => {}
            }
        }
        Ok(c)
    }
}
