//! Backend dispatch: the same SQL body compiled once per database type.
//!
//! sqlx's generic bounds over "any database" are long and brittle; instead each store method
//! writes its body once inside one of these macros, which expands it in a `match` arm per backend
//! with `DB` bound to that backend's database type and `pool` to its pool. Dialect differences are
//! explicit through the `Dialect` value the macros also bind.

/// Runs `$body` with `$pool` bound to a pool that may serve reads (SQLite: the read-only pool).
macro_rules! on_read {
    ($store:expr, |$pool:ident| $body:block) => {
        match &$store.backend {
            $crate::backend::Backend::Sqlite { read: $pool, .. } => {
                #[allow(dead_code)]
                type DB = sqlx::Sqlite;
                $body
            }
            $crate::backend::Backend::Postgres { pool: $pool } => {
                #[allow(dead_code)]
                type DB = sqlx::Postgres;
                $body
            }
        }
    };
}

/// Runs `$body` with `$pool` bound to the pool that writes (SQLite: the single writer
/// connection) and `$dialect` to the backend's [`Dialect`](crate::Dialect).
macro_rules! on_write {
    ($backend:expr, |$pool:ident, $dialect:ident| $body:block) => {
        match $backend {
            $crate::backend::Backend::Sqlite { write: $pool, .. } => {
                #[allow(dead_code)]
                type DB = sqlx::Sqlite;
                #[allow(unused_variables)]
                let $dialect = $crate::backend::Dialect::Sqlite;
                $body
            }
            $crate::backend::Backend::Postgres { pool: $pool } => {
                #[allow(dead_code)]
                type DB = sqlx::Postgres;
                #[allow(unused_variables)]
                let $dialect = $crate::backend::Dialect::Postgres;
                $body
            }
        }
    };
}

/// Appends one audit entry inside the open transaction `$tx` and evaluates to the new
/// [`AuditEntry`](crate::AuditEntry). See `audit.rs` for the canonical form.
macro_rules! append_audit {
    ($tx:ident, $dialect:expr, $actor:expr, $action:expr, $subject:expr, $detail:expr, $now:expr) => {{
        if let Some(lock) = $dialect.audit_lock_sql() {
            sqlx::query(lock).execute(&mut *$tx).await?;
        }
        let head: Option<(i64, String)> =
            sqlx::query_as("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
                .fetch_optional(&mut *$tx)
                .await?;
        let (prev_seq, prev_hash) = head.unwrap_or((0, $crate::audit::GENESIS_HASH.to_owned()));
        let entry = $crate::audit::AuditEntry::new(
            prev_seq + 1,
            $now,
            $actor,
            $action,
            $subject,
            $detail,
            prev_hash,
        );
        sqlx::query(
            "INSERT INTO audit_log (seq, ts, actor, action, subject, detail, prev_hash, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(entry.seq)
        .bind(entry.ts)
        .bind(&entry.actor)
        .bind(&entry.action)
        .bind(&entry.subject)
        .bind(entry.detail_json())
        .bind(&entry.prev_hash)
        .bind(&entry.hash)
        .execute(&mut *$tx)
        .await?;
        entry
    }};
}

/// Writes webhook event `$event_type` about `$ad_id` (an `Option<&str>`) with `$data` (JSON,
/// never ad text) to the outbox inside the caller's transaction, and a pending delivery for
/// each enabled endpoint that wants it; evaluates to the event's `seq`. So an event exists if
/// and only if the change that caused it committed.
macro_rules! emit_event {
    ($tx:ident, $event_type:expr, $ad_id:expr, $data:expr, $now:expr) => {{
        let event_type: &str = $event_type;
        let ad_id: Option<&str> = $ad_id;
        let event_id = format!("msg_{}", $crate::hex(&$crate::users::random_bytes::<16>()?));
        let body = $crate::outbox::event_body(event_type, $now, $data);
        let (seq,): (i64,) = sqlx::query_as(
            "INSERT INTO webhook_outbox (event_id, event_type, ad_id, body, created_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING seq",
        )
        .bind(&event_id)
        .bind(event_type)
        .bind(ad_id)
        .bind(&body)
        .bind($now)
        .fetch_one(&mut *$tx)
        .await?;
        let endpoints: Vec<(i64, String)> =
            sqlx::query_as("SELECT id, events FROM webhook_endpoints WHERE disabled_at IS NULL")
                .fetch_all(&mut *$tx)
                .await?;
        for (endpoint, events) in endpoints {
            if $crate::outbox::wants(&events, event_type) {
                sqlx::query(
                    "INSERT INTO webhook_deliveries (endpoint_id, event_seq, ad_id, state, \
                     attempts, next_at) VALUES ($1, $2, $3, 'pending', 0, $4)",
                )
                .bind(endpoint)
                .bind(seq)
                .bind(ad_id)
                .bind($now)
                .execute(&mut *$tx)
                .await?;
            }
        }
        seq
    }};
}
