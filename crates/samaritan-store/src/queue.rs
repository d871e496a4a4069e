//! The review queue: listing, claims with leases, release.
//!
//! Ads whose verdict is `review` or `block` wait in the queue, highest priority first. A reviewer
//! *claims* items, which gives them a lease: until it runs out nobody else can claim the item,
//! and only the holder may decide it (`decisions.rs`), so two reviewers never work the same ad
//! and a stale reviewer cannot overwrite a fresh decision. Claims and releases are audited.
//!
//! A queue item carries what a reviewer needs to triage without opening the ad (title, snippet,
//! top signals, network, city, times); opening it (`GET /v1/ads/{id}`) is the audited evidence
//! read.

use serde::Serialize;

use crate::{Result, Store, StoreError};

/// Items drawn into a claim from outside the policy's queue (`Store::queue_claim_drawing`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Draws {
    /// From the quality audit (`audit_sample`).
    pub audit: i64,
    /// From the active-learning pool (`learning_pool`).
    pub learning: i64,
}

/// Puts drawn ads in the queue as `source`, claimed by `actor`; an ad already in the queue keeps
/// its item unless `$conflict` (an `ON CONFLICT` action) says otherwise. The ids put in, sorted.
macro_rules! enqueue_drawn {
    ($tx:ident, $taken:expr, $source:expr, $actor:expr, $until:expr, $now:expr) => {
        enqueue_drawn!($tx, $taken, $source, $actor, $until, $now, " DO NOTHING")
    };
    ($tx:ident, $taken:expr, $source:expr, $actor:expr, $until:expr, $now:expr, $conflict:expr) => {{
        let mut out: Vec<String> = Vec::new();
        for chunk in $taken.chunks(crate::ingest::CHUNK) {
            let mut qb = sqlx::QueryBuilder::<DB>::new(
                "INSERT INTO queue (ad_id, priority, state, claimed_by, lease_until, \
                 enqueued_at, updated_at, source) ",
            );
            qb.push_values(chunk, |mut b, (id,)| {
                b.push_bind(id.as_str())
                    .push_bind(0_i64)
                    .push_bind("open")
                    .push_bind($actor)
                    .push_bind($until)
                    .push_bind($now)
                    .push_bind($now)
                    .push_bind($source);
            });
            qb.push(" ON CONFLICT (ad_id)");
            qb.push($conflict);
            qb.push(" RETURNING ad_id");
            let inserted: Vec<(String,)> = qb.build_query_as().fetch_all(&mut *$tx).await?;
            out.extend(inserted.into_iter().map(|(id,)| id));
        }
        out.sort_unstable();
        out
    }};
}

/// Where a queue item is. `claimed` is an `open` item under a live lease (shown, and listed,
/// apart); the database keeps `open`, `escalated` and `decided`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum QueueState {
    Open,
    Claimed,
    Escalated,
    Decided,
}

impl QueueState {
    pub const ALL: [QueueState; 4] = [
        QueueState::Open,
        QueueState::Claimed,
        QueueState::Escalated,
        QueueState::Decided,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            QueueState::Open => "open",
            QueueState::Claimed => "claimed",
            QueueState::Escalated => "escalated",
            QueueState::Decided => "decided",
        }
    }

    pub fn parse(s: &str) -> Option<QueueState> {
        QueueState::ALL.into_iter().find(|q| q.as_str() == s)
    }

    /// The state as stored (`claimed` is stored as `open`).
    fn stored(self) -> &'static str {
        match self {
            QueueState::Claimed => "open",
            other => other.as_str(),
        }
    }
}

/// A signal as the queue shows it: which indicator, its category, its weight and a short quote.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SignalSummary {
    pub indicator: String,
    pub category: String,
    pub weight: f64,
    /// The matched text, cut to 80 characters (empty for signals without text).
    pub text: String,
}

/// The network an item belongs to, as the queue shows it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NetworkSummary {
    pub id: String,
    pub size: i64,
    pub cities: i64,
}

/// One ad in the queue. Times are RFC 3339 (UTC).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueueItem {
    pub ad_id: String,
    /// The ad's current revision: a decision must name it.
    pub revision: i64,
    pub priority: i64,
    pub state: QueueState,
    /// Actor holding a live lease, if any.
    pub claimed_by: Option<String>,
    pub lease_until: Option<String>,
    pub enqueued_at: String,
    pub verdict: String,
    pub score: f64,
    /// The ad's title, cut to 200 characters.
    pub title: Option<String>,
    /// The start of the ad's body, whitespace collapsed, cut to 280 characters.
    pub snippet: String,
    /// The strongest signals (at most 5), highest weight first.
    pub top_signals: Vec<SignalSummary>,
    pub network: Option<NetworkSummary>,
    pub city: Option<String>,
    /// When the platform says the ad was posted.
    pub posted_at: Option<String>,
    /// Why the item is in the queue: `policy` (its verdict) or `learning` (the policy allowed
    /// it; active learning drew it because the model is unsure of it).
    pub source: String,
}

/// The columns [`QueueRow`] reads; the query must alias `queue q`, `ads a`, and left-join
/// `network_members m` and `networks n`.
pub(crate) const QUEUE_COLUMNS: &str = "q.ad_id, q.priority, q.state, q.claimed_by, q.lease_until, \
     q.enqueued_at, q.source, a.revision, a.verdict, a.score, a.raw, a.analysis, n.id AS network_id, \
     n.size AS network_size, n.cities AS network_cities";

/// The joins [`QUEUE_COLUMNS`] needs after `FROM queue q`.
pub(crate) const QUEUE_JOINS: &str = "JOIN ads a ON a.id = q.ad_id \
     LEFT JOIN network_members m ON m.ad_id = q.ad_id LEFT JOIN networks n ON n.id = m.network_id";

#[derive(sqlx::FromRow)]
pub(crate) struct QueueRow {
    ad_id: String,
    priority: i64,
    state: String,
    claimed_by: Option<String>,
    lease_until: Option<i64>,
    enqueued_at: i64,
    source: String,
    revision: i64,
    verdict: String,
    score: f64,
    raw: String,
    analysis: String,
    network_id: Option<String>,
    network_size: Option<i64>,
    network_cities: Option<i64>,
}

/// Milliseconds since the epoch as RFC 3339 (UTC, millisecond precision).
pub fn rfc3339_ms(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| ms.to_string())
}

/// The first `max` characters of `s`, with `…` when cut.
fn cut(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

/// The parts of the stored ad JSON the queue shows (unknown fields ignored: the ad was
/// validated on ingest).
#[derive(serde::Deserialize, Default)]
struct AdPeek {
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    posted_at: Option<serde_json::Value>,
    #[serde(default)]
    location: Option<LocationPeek>,
}

#[derive(serde::Deserialize, Default)]
struct LocationPeek {
    #[serde(default)]
    city: Option<String>,
}

/// The parts of the stored analysis the queue shows.
#[derive(serde::Deserialize, Default)]
struct AnalysisPeek {
    #[serde(default)]
    signals: Vec<SignalPeek>,
}

#[derive(serde::Deserialize)]
struct SignalPeek {
    indicator: String,
    category: String,
    weight: f64,
    #[serde(default)]
    text: String,
}

pub(crate) fn queue_item(row: QueueRow, now: i64) -> Result<QueueItem> {
    let stored = QueueState::parse(&row.state)
        .filter(|s| *s != QueueState::Claimed)
        .ok_or_else(|| {
            StoreError::Corrupt(format!("queue state `{}` of `{}`", row.state, row.ad_id))
        })?;
    let live = row.lease_until.is_some_and(|t| t > now) && row.claimed_by.is_some();
    let state = if live && stored == QueueState::Open {
        QueueState::Claimed
    } else {
        stored
    };
    let ad: AdPeek = serde_json::from_str(&row.raw)
        .map_err(|e| StoreError::Corrupt(format!("stored ad `{}` is not an ad: {e}", row.ad_id)))?;
    let analysis: AnalysisPeek = serde_json::from_str(&row.analysis).map_err(|e| {
        StoreError::Corrupt(format!(
            "stored analysis of `{}` does not read: {e}",
            row.ad_id
        ))
    })?;
    let mut signals = analysis.signals;
    signals.sort_by(|a, b| b.weight.total_cmp(&a.weight));
    let top_signals = signals
        .into_iter()
        .take(5)
        .map(|s| SignalSummary {
            indicator: s.indicator,
            category: s.category,
            weight: s.weight,
            text: cut(&s.text, 80),
        })
        .collect();
    let body = ad.body.unwrap_or_default();
    let snippet = cut(&body.split_whitespace().collect::<Vec<_>>().join(" "), 280);
    let posted_at = match ad.posted_at {
        Some(serde_json::Value::Number(n)) => {
            n.as_i64().map(|secs| rfc3339_ms(secs.saturating_mul(1000)))
        }
        Some(serde_json::Value::String(s)) => Some(s),
        _ => None,
    };
    let network = match (row.network_id, row.network_size, row.network_cities) {
        (Some(id), Some(size), Some(cities)) => Some(NetworkSummary { id, size, cities }),
        _ => None,
    };
    Ok(QueueItem {
        ad_id: row.ad_id,
        revision: row.revision,
        priority: row.priority,
        state,
        claimed_by: if live { row.claimed_by } else { None },
        lease_until: if live {
            row.lease_until.map(rfc3339_ms)
        } else {
            None
        },
        enqueued_at: rfc3339_ms(row.enqueued_at),
        verdict: row.verdict,
        score: row.score,
        title: ad.title.map(|t| cut(&t, 200)),
        snippet,
        top_signals,
        network,
        city: ad.location.and_then(|l| l.city),
        posted_at,
        source: row.source,
    })
}

impl Store {
    /// Items in `state`, highest priority first, then oldest first. `open` lists the items
    /// nobody holds; `claimed` the open items under a live lease.
    pub async fn queue_list(
        &self,
        state: QueueState,
        limit: i64,
        now: i64,
    ) -> Result<Vec<QueueItem>> {
        let lease = match state {
            QueueState::Open => {
                " AND (claimed_by IS NULL OR lease_until IS NULL OR lease_until <= $3)"
            }
            QueueState::Claimed => " AND claimed_by IS NOT NULL AND lease_until > $3",
            _ => " AND $3 = $3",
        };
        // The page is chosen from the queue alone (its `queue_order` index), then joined: the
        // cost of the joins stays that of one page, whatever the planner thinks of the table
        // (stale statistics after a bulk load made PostgreSQL join all 32 000 open items first).
        let rows: Vec<QueueRow> = on_read!(self, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {QUEUE_COLUMNS} FROM (SELECT * FROM queue WHERE state = $1{lease} \
                 ORDER BY priority DESC, enqueued_at, ad_id LIMIT $2) q {QUEUE_JOINS} \
                 ORDER BY q.priority DESC, q.enqueued_at, q.ad_id"
            )))
            .bind(state.stored())
            .bind(limit)
            .bind(now)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(|r| queue_item(r, now)).collect()
    }

    /// The items `actor` holds under a live lease (open or escalated), highest priority first.
    pub async fn queue_claims_of(
        &self,
        actor: &str,
        limit: i64,
        now: i64,
    ) -> Result<Vec<QueueItem>> {
        let rows: Vec<QueueRow> = on_read!(self, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {QUEUE_COLUMNS} FROM (SELECT * FROM queue WHERE claimed_by = $1 \
                 AND lease_until > $2 AND state IN ('open', 'escalated') \
                 ORDER BY priority DESC, enqueued_at, ad_id LIMIT $3) q {QUEUE_JOINS} \
                 ORDER BY q.priority DESC, q.enqueued_at, q.ad_id"
            )))
            .bind(actor)
            .bind(now)
            .bind(limit)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(|r| queue_item(r, now)).collect()
    }

    /// The queue items of the listed ads, whatever their state, in queue order (at most 1000).
    pub async fn queue_items(&self, ids: &[&str], now: i64) -> Result<Vec<QueueItem>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        if ids.len() > 1000 {
            return Err(StoreError::Invalid(
                "at most 1000 queue items are read at once".into(),
            ));
        }
        let rows: Vec<QueueRow> = on_read!(self, |pool| {
            let mut qb = sqlx::QueryBuilder::<DB>::new(format!(
                "SELECT {QUEUE_COLUMNS} FROM queue q {QUEUE_JOINS} WHERE q.ad_id IN ("
            ));
            let mut sep = qb.separated(", ");
            for id in ids {
                sep.push_bind(*id);
            }
            sep.push_unseparated(") ORDER BY q.priority DESC, q.enqueued_at, q.ad_id");
            qb.build_query_as().fetch_all(pool).await?
        });
        rows.into_iter().map(|r| queue_item(r, now)).collect()
    }

    /// Claims up to `n` items in `state` (`open` or `escalated`) for `actor` until
    /// `now + lease_ms`: the actor's own live claims first (their leases are renewed), then
    /// unclaimed or expired items in queue order. No two actors ever hold a live lease on the
    /// same item. The claim is audited (`queue.claim`, with the ids and the lease end).
    pub async fn queue_claim(
        &self,
        actor: &str,
        state: QueueState,
        n: i64,
        lease_ms: i64,
        now: i64,
    ) -> Result<Vec<QueueItem>> {
        self.queue_claim_drawing(actor, state, n, Draws::default(), lease_ms, now)
            .await
    }

    /// [`Store::queue_claim`], first drawing open items from outside the policy's queue: up to
    /// `draws.audit` from the quality audit (`audit_sample`: a uniform sample of allowed
    /// revisions, oldest first, still the ad's current revision and undecided), then up to
    /// `draws.learning` from the active-learning pool (`learning_pool`: ads the policy allowed
    /// that the model is least sure of, smallest margin first), at most `n` in all. Each enters
    /// the queue as `source = audit` or `learning` at priority 0, claimed by `actor`, in the same
    /// transaction, so two reviewers never draw the same ad. An ad the policy queued meanwhile
    /// stays as the policy queued it. The audit entry names the drawn ids (`audit`, `learning`).
    pub async fn queue_claim_drawing(
        &self,
        actor: &str,
        state: QueueState,
        n: i64,
        draws: Draws,
        lease_ms: i64,
        now: i64,
    ) -> Result<Vec<QueueItem>> {
        if !matches!(state, QueueState::Open | QueueState::Escalated) {
            return Err(StoreError::Invalid(
                "only open or escalated items can be claimed".into(),
            ));
        }
        let until = now.saturating_add(lease_ms);
        let rows: Vec<QueueRow> = on_write!(&self.backend, |pool, dialect| {
            let mut tx = pool.begin_with(dialect.begin()).await?;
            // Draw no more than the claim returns after the actor's own live items (which come
            // first), so that nothing drawn is left claimed but unseen.
            let room = if state == QueueState::Open {
                let (held,): (i64,) = sqlx::query_as(
                    "SELECT CAST(COUNT(*) AS BIGINT) FROM queue WHERE claimed_by = $1 \
                     AND lease_until > $2 AND state = 'open'",
                )
                .bind(actor)
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
                (n.max(0) - held).max(0)
            } else {
                0
            };
            let audit_draw = draws.audit.clamp(0, room);
            let learning = draws.learning.clamp(0, room - audit_draw);
            let mut audited: Vec<String> = Vec::new();
            if audit_draw > 0 {
                // The oldest samples still current and undecided whose ad is not waiting in
                // the queue already (a decided item from an earlier revision is opened again).
                let taken: Vec<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "UPDATE audit_sample SET drawn_at = $2, drawn_by = $3 \
                     WHERE drawn_at IS NULL AND (ad_id, revision) IN (SELECT s.ad_id, s.revision \
                     FROM audit_sample s WHERE s.drawn_at IS NULL \
                     AND EXISTS (SELECT 1 FROM ads a WHERE a.id = s.ad_id AND a.revision = s.revision) \
                     AND NOT EXISTS (SELECT 1 FROM queue q WHERE q.ad_id = s.ad_id \
                       AND q.state IN ('open', 'escalated')) \
                     AND NOT EXISTS (SELECT 1 FROM decisions d WHERE d.ad_id = s.ad_id \
                       AND d.revision = s.revision) \
                     ORDER BY s.sampled_at, s.ad_id LIMIT $1{}) RETURNING ad_id",
                    dialect.skip_locked()
                )))
                .bind(audit_draw)
                .bind(now)
                .bind(actor)
                .fetch_all(&mut *tx)
                .await?;
                audited = enqueue_drawn!(
                    tx,
                    taken,
                    "audit",
                    actor,
                    until,
                    now,
                    " DO UPDATE SET priority = excluded.priority, state = excluded.state, \
                     claimed_by = excluded.claimed_by, lease_until = excluded.lease_until, \
                     enqueued_at = excluded.enqueued_at, updated_at = excluded.updated_at, \
                     source = excluded.source WHERE queue.state = 'decided'"
                );
            }
            let draw = learning.min(room - audited.len() as i64);
            let mut drawn: Vec<String> = Vec::new();
            if draw > 0 {
                let taken: Vec<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "DELETE FROM learning_pool WHERE ad_id IN (SELECT p.ad_id FROM learning_pool p \
                     WHERE NOT EXISTS (SELECT 1 FROM queue q WHERE q.ad_id = p.ad_id) \
                     ORDER BY p.margin, p.created_at, p.ad_id LIMIT $1{}) RETURNING ad_id",
                    dialect.skip_locked()
                )))
                .bind(draw)
                .fetch_all(&mut *tx)
                .await?;
                drawn = enqueue_drawn!(tx, taken, "learning", actor, until, now);
            }
            let claimed: Vec<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "UPDATE queue SET claimed_by = $1, lease_until = $2, updated_at = $3 \
                 WHERE ad_id IN (SELECT ad_id FROM queue WHERE state = $4 \
                   AND (claimed_by IS NULL OR lease_until IS NULL OR lease_until <= $3 OR claimed_by = $1) \
                   ORDER BY CASE WHEN claimed_by = $1 AND lease_until > $3 THEN 0 ELSE 1 END, \
                   CASE WHEN source IN ('audit', 'learning') AND enqueued_at = $3 THEN 0 ELSE 1 END, \
                   priority DESC, enqueued_at, ad_id LIMIT $5{}) \
                 RETURNING ad_id",
                dialect.skip_locked()
            )))
            .bind(actor)
            .bind(until)
            .bind(now)
            .bind(state.stored())
            .bind(n)
            .fetch_all(&mut *tx)
            .await?;
            let mut rows = Vec::with_capacity(claimed.len());
            for chunk in claimed.chunks(crate::ingest::CHUNK) {
                let mut qb = sqlx::QueryBuilder::<DB>::new(format!(
                    "SELECT {QUEUE_COLUMNS} FROM queue q {QUEUE_JOINS} WHERE q.ad_id IN ("
                ));
                let mut sep = qb.separated(", ");
                for (id,) in chunk {
                    sep.push_bind(id.as_str());
                }
                sep.push_unseparated(")");
                let part: Vec<QueueRow> = qb.build_query_as().fetch_all(&mut *tx).await?;
                rows.extend(part);
            }
            if !claimed.is_empty() {
                let mut ids: Vec<&str> = claimed.iter().map(|(id,)| id.as_str()).collect();
                ids.sort_unstable();
                let mut detail = serde_json::json!({
                    "ad_ids": ids,
                    "state": state.as_str(),
                    "lease_until": until,
                });
                if !audited.is_empty() {
                    detail["audit"] = serde_json::json!(audited);
                }
                if !drawn.is_empty() {
                    detail["learning"] = serde_json::json!(drawn);
                }
                append_audit!(tx, dialect, actor, "queue.claim", "queue", detail, now);
            }
            tx.commit().await?;
            rows
        });
        let mut items = rows
            .into_iter()
            .map(|r| queue_item(r, now))
            .collect::<Result<Vec<_>>>()?;
        items.sort_by(|a, b| {
            b.priority
                .cmp(&a.priority)
                .then(a.enqueued_at.cmp(&b.enqueued_at))
                .then(a.ad_id.cmp(&b.ad_id))
        });
        Ok(items)
    }

    /// Claims exactly the listed ads for `actor` until `now + lease_ms`, those of them that are
    /// in `state` (`open` or `escalated`) and not under someone else's live lease (the actor's
    /// own leases are renewed). Returns the ids claimed, sorted; the others are left as they
    /// are. Audited as `queue.claim` with the ids, like [`Store::queue_claim`].
    pub async fn queue_claim_ads(
        &self,
        actor: &str,
        state: QueueState,
        ids: &[&str],
        lease_ms: i64,
        now: i64,
    ) -> Result<Vec<String>> {
        if !matches!(state, QueueState::Open | QueueState::Escalated) {
            return Err(StoreError::Invalid(
                "only open or escalated items can be claimed".into(),
            ));
        }
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        if ids.len() > 1000 {
            return Err(StoreError::Invalid(
                "at most 1000 ads can be claimed at once".into(),
            ));
        }
        let until = now.saturating_add(lease_ms);
        on_write!(&self.backend, |pool, dialect| {
            let mut tx = pool.begin_with(dialect.begin()).await?;
            let mut qb = sqlx::QueryBuilder::<DB>::new("UPDATE queue SET claimed_by = ");
            qb.push_bind(actor)
                .push(", lease_until = ")
                .push_bind(until)
                .push(", updated_at = ")
                .push_bind(now)
                .push(" WHERE state = ")
                .push_bind(state.stored())
                .push(" AND (claimed_by IS NULL OR lease_until IS NULL OR lease_until <= ")
                .push_bind(now)
                .push(" OR claimed_by = ")
                .push_bind(actor)
                .push(") AND ad_id IN (");
            let mut sep = qb.separated(", ");
            for id in ids {
                sep.push_bind(*id);
            }
            sep.push_unseparated(") RETURNING ad_id");
            let claimed: Vec<(String,)> = qb.build_query_as().fetch_all(&mut *tx).await?;
            let mut out: Vec<String> = claimed.into_iter().map(|(id,)| id).collect();
            out.sort_unstable();
            if !out.is_empty() {
                let detail = serde_json::json!({
                    "ad_ids": out,
                    "state": state.as_str(),
                    "lease_until": until,
                });
                append_audit!(tx, dialect, actor, "queue.claim", "queue", detail, now);
            }
            tx.commit().await?;
            Ok(out)
        })
    }

    /// A lead takes a live claim away from its holder (they went home, or the item needs
    /// someone else): the item is open again for anyone, the former holder can no longer
    /// decide it, and the change is audited as `queue.reassign` with who held it.
    pub async fn queue_take_back(&self, ad_id: &str, lead: &str, now: i64) -> Result<String> {
        on_write!(&self.backend, |pool, dialect| {
            let mut tx = pool.begin_with(dialect.begin()).await?;
            // PostgreSQL: lock the row, so a second lead (or the holder's decision) waits and
            // then sees the item no longer held (SQLite's single writer already serialises).
            let lock = if dialect == crate::Dialect::Postgres {
                " FOR UPDATE"
            } else {
                ""
            };
            let held: Option<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT claimed_by FROM queue WHERE ad_id = $1 AND claimed_by IS NOT NULL \
                 AND lease_until > $2 AND state IN ('open', 'escalated'){lock}"
            )))
            .bind(ad_id)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
            let Some((holder,)) = held else {
                tx.rollback().await?;
                return Err(StoreError::Refused {
                    code: "not_claimed",
                    message: format!("nobody holds a live claim on `{ad_id}`"),
                });
            };
            sqlx::query(
                "UPDATE queue SET claimed_by = NULL, lease_until = NULL, updated_at = $2 \
                 WHERE ad_id = $1",
            )
            .bind(ad_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            let detail = serde_json::json!({ "from": holder });
            append_audit!(tx, dialect, lead, "queue.reassign", ad_id, detail, now);
            tx.commit().await?;
            Ok(holder)
        })
    }

    /// Gives a claimed item back before its lease runs out (audited as `queue.release`).
    pub async fn queue_release(&self, ad_id: &str, actor: &str, now: i64) -> Result<()> {
        on_write!(&self.backend, |pool, dialect| {
            let mut tx = pool.begin_with(dialect.begin()).await?;
            let done = sqlx::query(
                "UPDATE queue SET claimed_by = NULL, lease_until = NULL, updated_at = $3 \
                 WHERE ad_id = $1 AND claimed_by = $2 AND lease_until > $3",
            )
            .bind(ad_id)
            .bind(actor)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 0 {
                tx.rollback().await?;
                return Err(StoreError::Refused {
                    code: "not_claimed",
                    message: format!("you hold no live claim on `{ad_id}`"),
                });
            }
            append_audit!(
                tx,
                dialect,
                actor,
                "queue.release",
                ad_id,
                serde_json::json!({}),
                now
            );
            tx.commit().await?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_rfc3339() {
        assert_eq!(rfc3339_ms(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339_ms(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
    }

    #[test]
    fn cuts_on_characters() {
        assert_eq!(cut("héllo", 2), "hé…");
        assert_eq!(cut("hi", 2), "hi");
    }
}
