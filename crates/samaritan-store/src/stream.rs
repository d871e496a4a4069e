//! What the distributed linker (issue 24) keeps in the store besides ads: the messages of the
//! ads stream it parked after failing to take them in (`stream_parked`: whole, with the last
//! error, so nothing is lost and nothing loops), and its election (`Store::lead`: one active
//! linker at a time, through a PostgreSQL session advisory lock that dies with its connection).

use serde::Serialize;

use crate::{Result, Store, StoreError};

/// A message of the stream the linker gave up on, as an operator sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ParkedMessage {
    pub id: i64,
    /// The JetStream stream and the message's sequence in it.
    pub stream: String,
    pub seq: i64,
    pub subject: String,
    /// The publisher's `Nats-Msg-Id` (ad id and content digest), when it had one.
    pub msg_id: Option<String>,
    /// The message exactly as it was on the stream (for a fix and a re-publish).
    #[serde(skip)]
    pub payload: Vec<u8>,
    /// SHA-256 of `payload`.
    pub payload_sha256: String,
    /// Why the last attempt failed.
    pub error: String,
    /// Attempts made (deliveries and retries) before it was parked.
    pub attempts: i64,
    pub parked_at: i64,
}

/// What the linker parks.
#[derive(Debug, Clone)]
pub struct ParkInput<'a> {
    pub stream: &'a str,
    pub seq: u64,
    pub subject: &'a str,
    pub msg_id: Option<&'a str>,
    pub payload: &'a [u8],
    pub error: &'a str,
    pub attempts: u32,
}

type ParkedRow = (
    i64,
    String,
    i64,
    String,
    Option<String>,
    Vec<u8>,
    String,
    i64,
    i64,
);

fn parked(r: ParkedRow) -> ParkedMessage {
    let payload_sha256 = crate::sha256_hex(&r.5);
    ParkedMessage {
        id: r.0,
        stream: r.1,
        seq: r.2,
        subject: r.3,
        msg_id: r.4,
        payload: r.5,
        payload_sha256,
        error: r.6,
        attempts: r.7,
        parked_at: r.8,
    }
}

impl Store {
    /// Parks a message with its error, audited as `stream.park` (the audit entry names the
    /// stream, sequence, message id and the payload's SHA-256, never its text). Parking the same
    /// stream sequence again changes nothing; returns the row's id and whether it was new.
    pub async fn park_message(&self, m: &ParkInput<'_>, actor: &str) -> Result<(i64, bool)> {
        let seq = i64::try_from(m.seq)
            .map_err(|_| StoreError::Invalid(format!("stream sequence {} is too large", m.seq)))?;
        let now = crate::now_ms();
        on_write!(&self.backend, |pool, dialect| {
            let mut tx = pool.begin_with(dialect.begin()).await?;
            let existing: Option<(i64,)> =
                sqlx::query_as("SELECT id FROM stream_parked WHERE stream = $1 AND seq = $2")
                    .bind(m.stream)
                    .bind(seq)
                    .fetch_optional(&mut *tx)
                    .await?;
            if let Some((id,)) = existing {
                tx.rollback().await?;
                return Ok((id, false));
            }
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO stream_parked (stream, seq, subject, msg_id, payload, error, \
                 attempts, parked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            )
            .bind(m.stream)
            .bind(seq)
            .bind(m.subject)
            .bind(m.msg_id)
            .bind(m.payload)
            .bind(m.error)
            .bind(i64::from(m.attempts))
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            let detail = serde_json::json!({
                "id": id,
                "stream": m.stream,
                "seq": seq,
                "msg_id": m.msg_id,
                "attempts": m.attempts,
                "payload_sha256": crate::sha256_hex(m.payload),
            });
            let subject = format!("{}:{seq}", m.stream);
            append_audit!(tx, dialect, actor, "stream.park", &subject, detail, now);
            tx.commit().await?;
            Ok((id, true))
        })
    }

    /// Parked messages, oldest first, with id above `after`, at most `limit`.
    pub async fn parked_messages(&self, after: i64, limit: i64) -> Result<Vec<ParkedMessage>> {
        let rows: Vec<ParkedRow> = on_read!(self, |pool| {
            sqlx::query_as(
                "SELECT id, stream, seq, subject, msg_id, payload, error, attempts, parked_at \
                 FROM stream_parked WHERE id > $1 ORDER BY id LIMIT $2",
            )
            .bind(after)
            .bind(limit)
            .fetch_all(pool)
            .await?
        });
        Ok(rows.into_iter().map(parked).collect())
    }

    /// Waits until this process holds the leadership named `key` (a PostgreSQL session
    /// advisory lock on a connection of its own, taken out of the pool), trying every `poll`.
    /// The lock is released when the [`Leadership`] is dropped or its connection dies (the
    /// process was killed, the network cut): a standby waiting here then takes it within `poll`.
    /// Taking it is audited as `linker.lead`. SQLite has one writer on one machine and no one to
    /// elect: refused.
    pub async fn lead(
        &self,
        key: i64,
        actor: &str,
        poll: std::time::Duration,
    ) -> Result<Leadership> {
        let crate::backend::Backend::Postgres { pool } = &self.backend else {
            return Err(StoreError::Invalid(
                "electing a linker needs PostgreSQL (`--database postgres://…`)".to_owned(),
            ));
        };
        let mut conn = pool.acquire().await?.detach();
        loop {
            let (got,): (bool,) = sqlx::query_as("SELECT pg_try_advisory_lock($1)")
                .bind(key)
                .fetch_one(&mut conn)
                .await?;
            if got {
                break;
            }
            tokio::time::sleep(poll).await;
        }
        let (pid,): (i32,) = sqlx::query_as("SELECT pg_backend_pid()")
            .fetch_one(&mut conn)
            .await?;
        self.audit_append(
            actor,
            "linker.lead",
            "linker",
            serde_json::json!({"lock": key, "backend_pid": pid}),
        )
        .await?;
        Ok(Leadership { conn, key })
    }
}

/// The held leadership of [`Store::lead`]; released when dropped.
pub struct Leadership {
    conn: sqlx::PgConnection,
    key: i64,
}

impl Leadership {
    /// Whether the lock is still held, asked on the lock's own connection: an error (the
    /// connection is gone, and the lock with it) or a missing lock is `Err`. The active linker
    /// asks before each commit, so a linker that lost its lock stops instead of writing beside
    /// the next one.
    pub async fn check(&mut self) -> Result<()> {
        let (held,): (bool,) = sqlx::query_as(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' \
             AND objsubid = 1 AND pid = pg_backend_pid() AND granted \
             AND ((classid::bigint << 32) | objid::bigint) = $1)",
        )
        .bind(self.key)
        .fetch_one(&mut self.conn)
        .await?;
        if held {
            Ok(())
        } else {
            Err(StoreError::Conflict(
                "this linker no longer holds the leadership lock".to_owned(),
            ))
        }
    }

    /// Gives the leadership up now (a clean stop), so a standby takes over at once.
    pub async fn release(mut self) -> Result<()> {
        sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(self.key)
            .execute(&mut self.conn)
            .await?;
        Ok(())
    }
}
