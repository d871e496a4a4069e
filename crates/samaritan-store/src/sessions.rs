//! Console sessions: a person signed in from one browser.
//!
//! A session is a 256-bit random token in the browser's cookie; the store keeps only its SHA-256,
//! so a copy of the database cannot be used to act as anyone. Each session carries its own CSRF
//! token (sent back in every state-changing form) and ends on sign-out, after `idle_ms` without a
//! request, after `absolute_ms` whatever happens, or when its account is disabled or its password
//! reset. Opening and ending are audited (`session.open`, `session.close`) with the person as the
//! actor; the audit detail names a session by the first 12 hex digits of the token's hash, never
//! by the token.

use crate::users::{USER_COLUMNS_OF_U, UserRow, user};
use crate::{Result, Store, StoreError, User, sha256_hex};

/// How long a session lives.
#[derive(Debug, Clone, Copy)]
pub struct SessionLimits {
    /// Without a request for this long (ms), the session ends.
    pub idle_ms: i64,
    /// After this long (ms) from sign-in, the session ends whatever happens.
    pub absolute_ms: i64,
}

impl Default for SessionLimits {
    /// 30 minutes idle, 12 hours in all (a shift).
    fn default() -> SessionLimits {
        SessionLimits {
            idle_ms: 30 * 60 * 1000,
            absolute_ms: 12 * 60 * 60 * 1000,
        }
    }
}

/// A session just opened: the token goes in the cookie and is never seen again.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub token: String,
    pub csrf: String,
}

/// A live session and its person.
#[derive(Debug, Clone)]
pub struct Session {
    /// The first 12 hex digits of the token's SHA-256 (how the audit names it).
    pub id: String,
    pub user: User,
    pub csrf: String,
    pub created_at: i64,
    pub seen_at: i64,
    /// Ad pages opened in this session.
    pub items_seen: i64,
    /// Images revealed in this session.
    pub images_revealed: i64,
}

/// A session's own columns: csrf, created_at, seen_at, ended_at, items_seen, images_revealed.
type SessionCols = (String, i64, i64, Option<i64>, i64, i64);

/// A session row joined with its user's columns ([`USER_COLUMNS_OF_U`]).
type SessionUserRow = (
    String,
    i64,
    i64,
    Option<i64>,
    i64,
    i64,
    String,
    String,
    String,
    String,
    i64,
    Option<i64>,
    i64,
    i64,
    Option<i64>,
);

/// `seen_at` is written at most this often (ms), so reading pages does not write on every click.
const TOUCH_EVERY_MS: i64 = 30 * 1000;

fn session_id(token_sha256: &str) -> String {
    token_sha256.chars().take(12).collect()
}

impl Store {
    /// Opens a session for `user` (already verified) from `address`; audited as
    /// `session.open`.
    pub async fn open_session(&self, user: &User, address: &str, now: i64) -> Result<NewSession> {
        let token = crate::users::random_token()?;
        let csrf = crate::users::random_token()?;
        let digest = sha256_hex(token.as_bytes());
        let address: String = address.chars().take(64).collect();
        on_write!(&self.backend, |pool, dialect| {
            let mut tx = pool.begin_with(dialect.begin()).await?;
            sqlx::query(
                "INSERT INTO sessions (token_sha256, user_id, csrf, address, created_at, \
                 seen_at, ended_at) VALUES ($1, $2, $3, $4, $5, $5, NULL)",
            )
            .bind(&digest)
            .bind(&user.id)
            .bind(&csrf)
            .bind(&address)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            let detail = serde_json::json!({
                "session": session_id(&digest),
                "address": address,
                "role": user.role.as_str(),
            });
            append_audit!(
                tx,
                dialect,
                &user.actor(),
                "session.open",
                user.id.as_str(),
                detail,
                now
            );
            tx.commit().await?;
            Ok::<(), StoreError>(())
        })?;
        Ok(NewSession { token, csrf })
    }

    /// The live session behind `token` at `now`, or `None` when there is none: unknown, ended,
    /// idle or too old, or its account disabled or its password changed since sign-in.
    pub async fn session(
        &self,
        token: &str,
        now: i64,
        limits: SessionLimits,
    ) -> Result<Option<Session>> {
        if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(None);
        }
        let digest = sha256_hex(token.as_bytes());
        let found: Option<(SessionCols, UserRow)> = on_read!(self, |pool| {
            let sql = format!(
                "SELECT s.csrf, s.created_at, s.seen_at, s.ended_at, s.items_seen, s.images_revealed, \
                 {USER_COLUMNS_OF_U} \
                 FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_sha256 = $1"
            );
            let r: Option<SessionUserRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(&digest)
                .fetch_optional(pool)
                .await?;
            r.map(|r| {
                (
                    (r.0, r.1, r.2, r.3, r.4, r.5),
                    (r.6, r.7, r.8, r.9, r.10, r.11, r.12, r.13, r.14),
                )
            })
        });
        let Some(((csrf, created_at, seen_at, ended_at, items_seen, images_revealed), urow)) =
            found
        else {
            return Ok(None);
        };
        let live = ended_at.is_none()
            && urow.5.is_none()
            && urow.6 <= created_at
            && now.saturating_sub(seen_at) <= limits.idle_ms
            && now.saturating_sub(created_at) <= limits.absolute_ms;
        if !live {
            return Ok(None);
        }
        let mut seen = seen_at;
        if now.saturating_sub(seen_at) >= TOUCH_EVERY_MS {
            on_write!(&self.backend, |pool, dialect| {
                sqlx::query(
                    "UPDATE sessions SET seen_at = $2 WHERE token_sha256 = $1 AND seen_at < $2",
                )
                .bind(&digest)
                .bind(now)
                .execute(pool)
                .await?;
            });
            seen = now;
        }
        Ok(Some(Session {
            id: session_id(&digest),
            user: user(&urow)?,
            csrf,
            created_at,
            seen_at: seen,
            items_seen,
            images_revealed,
        }))
    }

    /// Ends the session behind `token` (sign-out); audited as `session.close`. Ending one that
    /// is already over changes nothing and is not an error.
    pub async fn close_session(&self, token: &str, now: i64) -> Result<()> {
        let digest = sha256_hex(token.as_bytes());
        on_write!(&self.backend, |pool, dialect| {
            let mut tx = pool.begin_with(dialect.begin()).await?;
            let ended: Option<(String, String)> = sqlx::query_as(
                "UPDATE sessions SET ended_at = $2 WHERE token_sha256 = $1 AND ended_at IS NULL \
                 RETURNING user_id, (SELECT name FROM users WHERE users.id = sessions.user_id)",
            )
            .bind(&digest)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some((user_id, name)) = ended {
                let detail = serde_json::json!({ "session": session_id(&digest) });
                let actor = format!("user:{name}");
                append_audit!(
                    tx,
                    dialect,
                    &actor,
                    "session.close",
                    user_id.as_str(),
                    detail,
                    now
                );
            }
            tx.commit().await?;
            Ok::<(), StoreError>(())
        })
    }
}

impl Store {
    /// Counts what the session behind `token` was shown: ad pages opened, images revealed.
    pub async fn add_exposure(&self, token: &str, items: i64, images: i64) -> Result<()> {
        let digest = sha256_hex(token.as_bytes());
        on_write!(&self.backend, |pool, dialect| {
            sqlx::query(
                "UPDATE sessions SET items_seen = items_seen + $2, \
                 images_revealed = images_revealed + $3 WHERE token_sha256 = $1",
            )
            .bind(&digest)
            .bind(items)
            .bind(images)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Per person, what their sessions since `since` were shown (for leads: counts only, never
    /// which ads or images).
    pub async fn exposure_since(&self, since: i64) -> Result<Vec<Exposure>> {
        let rows: Vec<(String, String, i64, i64, i64, i64)> = on_read!(self, |pool| {
            sqlx::query_as(
                "SELECT u.name, u.role, COUNT(*), CAST(SUM(s.items_seen) AS BIGINT), \
                 CAST(SUM(s.images_revealed) AS BIGINT), MAX(s.seen_at) \
                 FROM sessions s JOIN users u ON u.id = s.user_id \
                 WHERE s.created_at >= $1 GROUP BY u.name, u.role ORDER BY u.name",
            )
            .bind(since)
            .fetch_all(pool)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(
                |(name, role, sessions, items_seen, images_revealed, last_seen)| Exposure {
                    name,
                    role,
                    sessions,
                    items_seen,
                    images_revealed,
                    last_seen,
                },
            )
            .collect())
    }
}

/// One person's exposure over a period.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Exposure {
    pub name: String,
    pub role: String,
    pub sessions: i64,
    pub items_seen: i64,
    pub images_revealed: i64,
    pub last_seen: i64,
}
