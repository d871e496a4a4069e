//! API keys: made once, shown once, stored as a SHA-256 hash, compared in constant time.
//!
//! A key reads `sam_<id>_<secret>`: `id` (12 hex digits) names the key in logs, the audit log
//! and the key list; `secret` is 32 random bytes (64 hex digits). Only SHA-256 of the whole key is
//! stored; a high-entropy key needs no slow KDF. Checking a presented key finds the record by id
//! and compares hashes with `subtle`'s constant-time equality.

use serde::Serialize;
use subtle::ConstantTimeEq;

use crate::{Result, Store, StoreError, hex, sha256_hex};

/// What a key may do.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Send ads.
    Ingest,
    /// Work the review queue, read evidence, decide, search.
    Review,
    /// What a reviewer does, plus the escalated queue and decisions without a claim
    /// (overrides, audited as such).
    Lead,
    /// Manage policy and keys.
    Admin,
    /// Read and verify the audit log.
    Audit,
}

impl Scope {
    pub const ALL: [Scope; 5] = [
        Scope::Ingest,
        Scope::Review,
        Scope::Lead,
        Scope::Admin,
        Scope::Audit,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Ingest => "ingest",
            Scope::Review => "review",
            Scope::Lead => "lead",
            Scope::Admin => "admin",
            Scope::Audit => "audit",
        }
    }

    pub fn parse(s: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Parses `ingest,review`; names the unknown scope on error.
    pub fn parse_list(s: &str) -> Result<Vec<Scope>> {
        let mut out = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let scope = Scope::parse(part).ok_or_else(|| {
                StoreError::Invalid(format!(
                    "unknown scope `{part}`; scopes are ingest, review, lead, admin, audit"
                ))
            })?;
            if !out.contains(&scope) {
                out.push(scope);
            }
        }
        if out.is_empty() {
            return Err(StoreError::Invalid("a key needs at least one scope".into()));
        }
        out.sort();
        Ok(out)
    }

    fn join(scopes: &[Scope]) -> String {
        scopes
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// A stored key (never the secret).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeyRecord {
    pub id: String,
    pub name: String,
    pub scopes: Vec<Scope>,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
    /// The console user who holds the key (their actions with it are theirs for the
    /// two-person rule); `None` for a service key.
    pub person: Option<String>,
    #[serde(skip)]
    hash: String,
}

impl KeyRecord {
    /// Whether the key may act in `scope` (a lead may do what a reviewer does).
    pub fn has(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope)
            || (scope == Scope::Review && self.scopes.contains(&Scope::Lead))
    }

    /// Whether `presented` (the whole key) is this key, in constant time over the hashes.
    pub fn matches(&self, presented: &str) -> bool {
        let h = sha256_hex(presented.as_bytes());
        bool::from(h.as_bytes().ct_eq(self.hash.as_bytes())) && self.revoked_at.is_none()
    }

    /// The name actions are recorded under: `key:<id>`.
    pub fn actor(&self) -> String {
        format!("key:{}", self.id)
    }
}

/// A newly made key: the only time the secret exists outside its holder.
#[derive(Debug, Clone)]
pub struct ApiKey {
    pub record: KeyRecord,
    pub secret: String,
}

/// The id part of a presented key, if it has the key shape.
pub fn key_id(presented: &str) -> Option<&str> {
    let rest = presented.strip_prefix("sam_")?;
    let (id, secret) = rest.split_once('_')?;
    let ok = id.len() == 12
        && secret.len() == 64
        && id
            .bytes()
            .chain(secret.bytes())
            .all(|b| b.is_ascii_hexdigit());
    ok.then_some(id)
}

fn random_hex(n: usize) -> Result<String> {
    let mut buf = vec![0u8; n];
    getrandom::fill(&mut buf)
        .map_err(|e| StoreError::Invalid(format!("no randomness for a key: {e}")))?;
    Ok(hex(&buf))
}

type KeyRow = (
    String,
    String,
    String,
    String,
    i64,
    Option<i64>,
    Option<String>,
);

const KEY_COLUMNS: &str = "id, name, hash, scopes, created_at, revoked_at, person";

/// SQL for the person behind an actor expression `actor` (a column or a bind): a key bound to a
/// person is `user:<person>`, as the person's console actions are; any other actor is itself.
/// The two-person rules compare these, so that one person's two keys (or a key and their
/// console session) never count as two people.
pub(crate) fn person_sql(actor: &str) -> String {
    format!(
        "(CASE WHEN {actor} LIKE 'key:%' THEN COALESCE((SELECT 'user:' || k.person FROM \
         api_keys k WHERE k.id = substr({actor}, 5) AND k.person IS NOT NULL), {actor}) \
         ELSE {actor} END)"
    )
}

/// A key row as stored, for the audit cross-check (scopes as the stored text).
pub(crate) struct KeyAuditRow {
    pub id: String,
    pub name: String,
    pub hash: String,
    pub scopes: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
    pub person: Option<String>,
}

fn record(row: KeyRow) -> Result<KeyRecord> {
    let (id, name, hash, scopes, created_at, revoked_at, person) = row;
    let scopes = Scope::parse_list(&scopes)
        .map_err(|e| StoreError::Corrupt(format!("key {id} scopes: {e}")))?;
    Ok(KeyRecord {
        id,
        name,
        scopes,
        created_at,
        revoked_at,
        person,
        hash,
    })
}

impl Store {
    /// Makes a service key (held by no person) with `scopes`; see [`Store::create_key_for`].
    pub async fn create_key(&self, name: &str, scopes: &[Scope], actor: &str) -> Result<ApiKey> {
        self.create_key_for(name, scopes, None, actor).await
    }

    /// Makes a key with `scopes`, held by the console user `person` when given (an active user;
    /// refused otherwise), records it in the audit log, and returns it with its secret.
    pub async fn create_key_for(
        &self,
        name: &str,
        scopes: &[Scope],
        person: Option<&str>,
        actor: &str,
    ) -> Result<ApiKey> {
        if scopes.is_empty() {
            return Err(StoreError::Invalid("a key needs at least one scope".into()));
        }
        if name.len() > 200 || name.chars().any(char::is_control) {
            return Err(StoreError::Invalid(
                "key name must be at most 200 bytes without control characters".into(),
            ));
        }
        let id = random_hex(6)?;
        let secret = format!("sam_{id}_{}", random_hex(32)?);
        let hash = sha256_hex(secret.as_bytes());
        let mut scopes = scopes.to_vec();
        scopes.sort();
        scopes.dedup();
        let now = crate::now_ms();
        on_write!(&self.backend, |pool, dialect| {
            let mut tx = pool.begin_with(dialect.begin()).await?;
            if let Some(p) = person {
                let active: Option<(String,)> = sqlx::query_as(
                    "SELECT name FROM users WHERE name = $1 AND disabled_at IS NULL",
                )
                .bind(p)
                .fetch_optional(&mut *tx)
                .await?;
                if active.is_none() {
                    tx.rollback().await?;
                    return Err(StoreError::Invalid(format!(
                        "no active console user `{}` to hold the key",
                        p.chars().take(80).collect::<String>()
                    )));
                }
            }
            sqlx::query(
                "INSERT INTO api_keys (id, name, hash, scopes, created_at, revoked_at, person) \
                 VALUES ($1, $2, $3, $4, $5, NULL, $6)",
            )
            .bind(&id)
            .bind(name)
            .bind(&hash)
            .bind(Scope::join(&scopes))
            .bind(now)
            .bind(person)
            .execute(&mut *tx)
            .await?;
            // The key's SHA-256 (of 256 random bits: it reveals nothing) lets `audit verify`
            // notice a row whose hash was swapped for one of a key someone else holds.
            let mut detail = serde_json::json!({
                "name": name,
                "scopes": Scope::join(&scopes),
                "key_sha256": hash,
            });
            if let Some(p) = person {
                detail["person"] = serde_json::json!(p);
            }
            append_audit!(tx, dialect, actor, "key.create", id.as_str(), detail, now);
            tx.commit().await?;
            Ok::<(), StoreError>(())
        })?;
        Ok(ApiKey {
            record: KeyRecord {
                id,
                name: name.to_owned(),
                scopes,
                created_at: now,
                revoked_at: None,
                person: person.map(str::to_owned),
                hash,
            },
            secret,
        })
    }

    /// Revokes a key (it stops working at once for new lookups); audited.
    pub async fn revoke_key(&self, id: &str, actor: &str) -> Result<()> {
        let now = crate::now_ms();
        on_write!(&self.backend, |pool, dialect| {
            let mut tx = pool.begin_with(dialect.begin()).await?;
            let done = sqlx::query(
                "UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
            )
            .bind(id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound(format!("active key `{id}`")));
            }
            append_audit!(
                tx,
                dialect,
                actor,
                "key.revoke",
                id,
                serde_json::json!({}),
                now
            );
            tx.commit().await?;
            Ok(())
        })
    }

    /// Every key row as stored, for `audit_verify`.
    pub(crate) async fn key_audit_rows(&self) -> Result<Vec<KeyAuditRow>> {
        let rows: Vec<KeyRow> = on_read!(self, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {KEY_COLUMNS} FROM api_keys ORDER BY id"
            )))
            .fetch_all(pool)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(
                |(id, name, hash, scopes, created_at, revoked_at, person)| KeyAuditRow {
                    id,
                    name,
                    hash,
                    scopes,
                    created_at,
                    revoked_at,
                    person,
                },
            )
            .collect())
    }

    /// Every key, newest first.
    pub async fn list_keys(&self) -> Result<Vec<KeyRecord>> {
        let rows: Vec<KeyRow> = on_read!(self, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {KEY_COLUMNS} FROM api_keys ORDER BY created_at DESC, id"
            )))
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(record).collect()
    }

    /// The key a presented bearer token is, if it is a valid, unrevoked key.
    pub async fn authenticate(&self, presented: &str) -> Result<Option<KeyRecord>> {
        let Some(id) = key_id(presented) else {
            return Ok(None);
        };
        let row: Option<KeyRow> = on_read!(self, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {KEY_COLUMNS} FROM api_keys WHERE id = $1"
            )))
            .bind(id)
            .fetch_optional(pool)
            .await?
        });
        match row {
            Some(row) => {
                let rec = record(row)?;
                Ok(rec.matches(presented).then_some(rec))
            }
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse_and_name_the_unknown() {
        assert_eq!(
            Scope::parse_list("review, ingest,review").unwrap(),
            vec![Scope::Ingest, Scope::Review]
        );
        let e = Scope::parse_list("ingest,root").unwrap_err().to_string();
        assert!(e.contains("`root`"), "{e}");
        assert!(Scope::parse_list(" , ").is_err());
    }

    #[test]
    fn key_shape() {
        let good = format!("sam_{}_{}", "a1".repeat(6), "0f".repeat(32));
        assert_eq!(key_id(&good), Some("a1a1a1a1a1a1"));
        for bad in [
            "",
            "sam_",
            "sam_x_y",
            "Bearer",
            &good[..good.len() - 1],
            &format!("{good}0"),
        ] {
            assert_eq!(key_id(bad), None, "{bad}");
        }
    }
}
