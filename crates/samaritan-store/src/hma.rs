//! Banks in the shape of Meta's Hasher-Matcher-Actioner (HMA 2.0) API, so that platforms whose
//! console speaks HMA can curate them in Samaritan: named banks with a matching ratio, banked
//! content with an integer id, and each content's PDQ signal. Every change is one transaction
//! and one audit entry (`hma.bank.create|update|delete`, `hma.content.add|update|delete`). The
//! enabled signals also feed the engine's own image matching ([`Store::hma_engine_signals`]).

use serde::Serialize;

use crate::{Result, Store, StoreError};

/// The longest note on banked content, in characters (HMA's limit).
pub const MAX_NOTE_CHARS: usize = 255;

/// The signal types banks hold.
pub const SIGNAL_TYPES: [&str; 1] = ["pdq"];

/// A bank as HMA shows it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct HmaBank {
    pub name: String,
    /// 0 (never matches) to 1 (always matches).
    pub matching_enabled_ratio: f64,
    #[serde(skip)]
    pub created_at: i64,
}

/// What the caller may say about banked content (all optional).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HmaContentMeta {
    /// The caller's own id for the content.
    pub content_id: Option<String>,
    pub content_uri: Option<String>,
    /// A JSON object, as text.
    pub json: Option<String>,
    /// At most [`MAX_NOTE_CHARS`] characters.
    pub note: Option<String>,
}

/// One banked content with its signals.
#[derive(Debug, Clone, PartialEq)]
pub struct HmaContent {
    pub id: i64,
    pub bank: HmaBank,
    pub meta: HmaContentMeta,
    /// Seconds since the epoch; the content is enabled when this is at or before now.
    pub disable_until_ts: i64,
    pub created_at: i64,
    /// (signal type, lowercase hex).
    pub signals: Vec<(String, String)>,
}

/// One signal as the matcher indexes it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct HmaSignal {
    pub content_id: i64,
    pub bank: String,
    pub signal_type: String,
    pub signal: String,
    pub disable_until_ts: i64,
    pub matching_enabled_ratio: f64,
}

/// The longest bank name: the engine's bank names hold 64 characters, and these are loaded
/// there as `hma.<NAME>`.
pub const MAX_BANK_NAME: usize = 60;

/// Checks a bank name against HMA's rule `^[A-Z0-9_]+$` and [`MAX_BANK_NAME`].
pub fn check_bank_name(name: &str) -> Result<()> {
    if name.is_empty()
        || name.len() > MAX_BANK_NAME
        || !name
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
    {
        return Err(StoreError::Invalid(format!(
            "bank name `{}` must match ^[A-Z0-9_]+$ (at most {MAX_BANK_NAME} characters)",
            name.chars().take(80).collect::<String>()
        )));
    }
    Ok(())
}

/// Checks a matching ratio: a number from 0 to 1.
pub fn check_ratio(ratio: f64) -> Result<()> {
    if !(0.0..=1.0).contains(&ratio) {
        return Err(StoreError::Invalid(format!(
            "enabled_ratio must be between 0 and 1, got {ratio}"
        )));
    }
    Ok(())
}

/// Checks one signal and returns it normalised (lowercase hex).
pub fn check_signal(signal_type: &str, value: &str) -> Result<String> {
    if !SIGNAL_TYPES.contains(&signal_type) {
        return Err(StoreError::Invalid(format!(
            "No such signal type `{}` (banks hold: pdq)",
            signal_type.chars().take(40).collect::<String>()
        )));
    }
    let h = value.trim().to_ascii_lowercase();
    if h.len() != 64 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(StoreError::Invalid(format!(
            "Invalid pdq signal: a pdq hash is 64 hex digits, got `{}`",
            value.chars().take(80).collect::<String>()
        )));
    }
    Ok(h)
}

fn check_meta(meta: &HmaContentMeta) -> Result<()> {
    if let Some(note) = &meta.note
        && note.chars().count() > MAX_NOTE_CHARS
    {
        return Err(StoreError::Invalid(format!(
            "note is {} characters; the limit is {MAX_NOTE_CHARS}",
            note.chars().count()
        )));
    }
    for (field, v) in [
        ("content_id", &meta.content_id),
        ("content_uri", &meta.content_uri),
    ] {
        if v.as_ref().is_some_and(|v| v.len() > 2048) {
            return Err(StoreError::Invalid(format!(
                "metadata.{field} is longer than 2048 bytes"
            )));
        }
    }
    Ok(())
}

type ContentRow = (
    i64,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    i64,
    i64,
    f64,
    i64,
);

impl Store {
    /// Creates bank `name`; a bank of that name already existing (also one created at the same
    /// moment by someone else) is a [`StoreError::Conflict`].
    pub async fn hma_bank_create(
        &self,
        name: &str,
        ratio: f64,
        actor: &str,
        now: i64,
    ) -> Result<HmaBank> {
        check_bank_name(name)?;
        check_ratio(ratio)?;
        on_write!(&self.backend, |pool, dialect| {
            let mut tx = pool.begin_with(dialect.begin()).await?;
            let row: Option<HmaBank> = sqlx::query_as(
                "INSERT INTO hma_banks (name, matching_enabled_ratio, created_at) \
                 VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING \
                 RETURNING name, matching_enabled_ratio, created_at",
            )
            .bind(name)
            .bind(ratio)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(row) = row else {
                tx.rollback().await?;
                return Err(StoreError::Conflict(format!(
                    "bank `{name}` already exists"
                )));
            };
            let detail = serde_json::json!({"bank": name, "matching_enabled_ratio": ratio});
            append_audit!(tx, dialect, actor, "hma.bank.create", name, detail, now);
            tx.commit().await?;
            Ok(row)
        })
    }

    /// Every bank, by name.
    pub async fn hma_banks(&self) -> Result<Vec<HmaBank>> {
        let rows: Vec<HmaBank> = on_read!(self, |pool| {
            sqlx::query_as(
                "SELECT name, matching_enabled_ratio, created_at FROM hma_banks ORDER BY name",
            )
            .fetch_all(pool)
            .await?
        });
        Ok(rows)
    }

    /// Bank `name`.
    pub async fn hma_bank(&self, name: &str) -> Result<Option<HmaBank>> {
        let row: Option<HmaBank> = on_read!(self, |pool| {
            sqlx::query_as(
                "SELECT name, matching_enabled_ratio, created_at FROM hma_banks WHERE name = $1",
            )
            .bind(name)
            .fetch_optional(pool)
            .await?
        });
        Ok(row)
    }

    /// Renames bank `name` (its content goes with it) and/or sets its ratio. Unknown bank:
    /// [`StoreError::NotFound`]; a new name already taken: [`StoreError::Conflict`].
    pub async fn hma_bank_update(
        &self,
        name: &str,
        new_name: Option<&str>,
        ratio: Option<f64>,
        actor: &str,
        now: i64,
    ) -> Result<HmaBank> {
        if let Some(n) = new_name {
            check_bank_name(n)?;
        }
        if let Some(r) = ratio {
            check_ratio(r)?;
        }
        on_write!(&self.backend, |pool, dialect| {
            let mut tx = pool.begin_with(dialect.begin()).await?;
            let old: Option<HmaBank> = sqlx::query_as(
                "SELECT name, matching_enabled_ratio, created_at FROM hma_banks WHERE name = $1",
            )
            .bind(name)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(old) = old else {
                tx.rollback().await?;
                return Err(StoreError::NotFound(format!("bank `{name}`")));
            };
            let target = new_name.unwrap_or(name);
            let ratio = ratio.unwrap_or(old.matching_enabled_ratio);
            if target != name {
                let taken: Option<(String,)> =
                    sqlx::query_as("SELECT name FROM hma_banks WHERE name = $1")
                        .bind(target)
                        .fetch_optional(&mut *tx)
                        .await?;
                if taken.is_some() {
                    tx.rollback().await?;
                    return Err(StoreError::Conflict(format!(
                        "bank `{target}` already exists"
                    )));
                }
            }
            let row: HmaBank = sqlx::query_as(
                "UPDATE hma_banks SET name = $1, matching_enabled_ratio = $2 WHERE name = $3 \
                 RETURNING name, matching_enabled_ratio, created_at",
            )
            .bind(target)
            .bind(ratio)
            .bind(name)
            .fetch_one(&mut *tx)
            .await?;
            if target != name {
                sqlx::query("UPDATE hma_content SET bank = $1 WHERE bank = $2")
                    .bind(target)
                    .bind(name)
                    .execute(&mut *tx)
                    .await?;
            }
            let detail = serde_json::json!({
                "bank": name, "name": target, "matching_enabled_ratio": ratio
            });
            append_audit!(tx, dialect, actor, "hma.bank.update", name, detail, now);
            tx.commit().await?;
            Ok(row)
        })
    }

    /// Deletes bank `name` with its content and signals; whether it existed. Deleting a bank
    /// that does not exist changes nothing and is not audited.
    pub async fn hma_bank_delete(&self, name: &str, actor: &str, now: i64) -> Result<bool> {
        on_write!(&self.backend, |pool, dialect| {
            let mut tx = pool.begin_with(dialect.begin()).await?;
            sqlx::query(
                "DELETE FROM hma_signals WHERE content_id IN \
                 (SELECT id FROM hma_content WHERE bank = $1)",
            )
            .bind(name)
            .execute(&mut *tx)
            .await?;
            let contents = sqlx::query("DELETE FROM hma_content WHERE bank = $1")
                .bind(name)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            let n = sqlx::query("DELETE FROM hma_banks WHERE name = $1")
                .bind(name)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if n == 0 {
                tx.rollback().await?;
                return Ok(false);
            }
            let detail = serde_json::json!({"bank": name, "contents": contents});
            append_audit!(tx, dialect, actor, "hma.bank.delete", name, detail, now);
            tx.commit().await?;
            Ok(true)
        })
    }

    /// Banks content with its `signals` (type, hex; at least one) in bank `bank`; the new
    /// content id.
    pub async fn hma_content_add(
        &self,
        bank: &str,
        signals: &[(String, String)],
        meta: &HmaContentMeta,
        actor: &str,
        now: i64,
    ) -> Result<i64> {
        if signals.is_empty() {
            return Err(StoreError::Invalid("No signals given".into()));
        }
        let mut checked = Vec::with_capacity(signals.len());
        for (t, v) in signals {
            checked.push((t.clone(), check_signal(t, v)?));
        }
        check_meta(meta)?;
        on_write!(&self.backend, |pool, dialect| {
            let mut tx = pool.begin_with(dialect.begin()).await?;
            let exists: Option<(String,)> =
                sqlx::query_as("SELECT name FROM hma_banks WHERE name = $1")
                    .bind(bank)
                    .fetch_optional(&mut *tx)
                    .await?;
            if exists.is_none() {
                tx.rollback().await?;
                return Err(StoreError::NotFound(format!("bank `{bank}`")));
            }
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO hma_content \
                 (bank, content_id, content_uri, metadata_json, note, disable_until_ts, created_at) \
                 VALUES ($1, $2, $3, $4, $5, 0, $6) RETURNING id",
            )
            .bind(bank)
            .bind(meta.content_id.as_deref())
            .bind(meta.content_uri.as_deref())
            .bind(meta.json.as_deref())
            .bind(meta.note.as_deref())
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            for (t, v) in &checked {
                sqlx::query(
                    "INSERT INTO hma_signals (content_id, signal_type, signal) VALUES ($1, $2, $3) \
                     ON CONFLICT (content_id, signal_type) DO UPDATE SET signal = excluded.signal",
                )
                .bind(id)
                .bind(t.as_str())
                .bind(v.as_str())
                .execute(&mut *tx)
                .await?;
            }
            let sig: serde_json::Map<String, serde_json::Value> = checked
                .iter()
                .map(|(t, v)| (t.clone(), serde_json::Value::String(v.clone())))
                .collect();
            let detail = serde_json::json!({"bank": bank, "content": id, "signals": sig});
            append_audit!(tx, dialect, actor, "hma.content.add", bank, detail, now);
            tx.commit().await?;
            Ok(id)
        })
    }

    /// Content `id` of bank `bank`, with its signals.
    pub async fn hma_content(&self, bank: &str, id: i64) -> Result<Option<HmaContent>> {
        let row: Option<ContentRow> = on_read!(self, |pool| {
            sqlx::query_as(
                "SELECT c.id, c.bank, c.content_id, c.content_uri, c.metadata_json, c.note, \
                 c.disable_until_ts, c.created_at, b.matching_enabled_ratio, b.created_at \
                 FROM hma_content c JOIN hma_banks b ON b.name = c.bank \
                 WHERE c.id = $1 AND c.bank = $2",
            )
            .bind(id)
            .bind(bank)
            .fetch_optional(pool)
            .await?
        });
        let Some((id, bank, content_id, content_uri, json, note, until, created, ratio, bcreated)) =
            row
        else {
            return Ok(None);
        };
        let signals: Vec<(String, String)> = on_read!(self, |pool| {
            sqlx::query_as(
                "SELECT signal_type, signal FROM hma_signals WHERE content_id = $1 \
                 ORDER BY signal_type",
            )
            .bind(id)
            .fetch_all(pool)
            .await?
        });
        Ok(Some(HmaContent {
            id,
            bank: HmaBank {
                name: bank,
                matching_enabled_ratio: ratio,
                created_at: bcreated,
            },
            meta: HmaContentMeta {
                content_id,
                content_uri,
                json,
                note,
            },
            disable_until_ts: until,
            created_at: created,
            signals,
        }))
    }

    /// Disables content `id` of bank `bank` until `until` (seconds; 0 enables it again).
    pub async fn hma_content_disable_until(
        &self,
        bank: &str,
        id: i64,
        until: i64,
        actor: &str,
        now: i64,
    ) -> Result<()> {
        if until < 0 {
            return Err(StoreError::Invalid(
                "disable_until_ts must be a non-negative integer".into(),
            ));
        }
        on_write!(&self.backend, |pool, dialect| {
            let mut tx = pool.begin_with(dialect.begin()).await?;
            let n = sqlx::query(
                "UPDATE hma_content SET disable_until_ts = $1 WHERE id = $2 AND bank = $3",
            )
            .bind(until)
            .bind(id)
            .bind(bank)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 0 {
                tx.rollback().await?;
                return Err(StoreError::NotFound(format!(
                    "content {id} in bank `{bank}`"
                )));
            }
            let detail =
                serde_json::json!({"bank": bank, "content": id, "disable_until_ts": until});
            append_audit!(tx, dialect, actor, "hma.content.update", bank, detail, now);
            tx.commit().await?;
            Ok(())
        })
    }

    /// Removes content `id` (and its signals) from bank `bank`; how many were removed (0 or 1).
    pub async fn hma_content_delete(
        &self,
        bank: &str,
        id: i64,
        actor: &str,
        now: i64,
    ) -> Result<u64> {
        on_write!(&self.backend, |pool, dialect| {
            let mut tx = pool.begin_with(dialect.begin()).await?;
            let n = sqlx::query("DELETE FROM hma_content WHERE id = $1 AND bank = $2")
                .bind(id)
                .bind(bank)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if n == 0 {
                tx.rollback().await?;
                return Ok(0);
            }
            sqlx::query("DELETE FROM hma_signals WHERE content_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            let detail = serde_json::json!({"bank": bank, "content": id});
            append_audit!(tx, dialect, actor, "hma.content.delete", bank, detail, now);
            tx.commit().await?;
            Ok(n)
        })
    }

    /// Every signal with its content's state and its bank's ratio, for the matcher's index.
    pub async fn hma_signals(&self) -> Result<Vec<HmaSignal>> {
        let rows: Vec<HmaSignal> = on_read!(self, |pool| {
            sqlx::query_as(
                "SELECT s.content_id, c.bank, s.signal_type, s.signal, c.disable_until_ts, \
                 b.matching_enabled_ratio FROM hma_signals s \
                 JOIN hma_content c ON c.id = s.content_id \
                 JOIN hma_banks b ON b.name = c.bank ORDER BY s.content_id, s.signal_type",
            )
            .fetch_all(pool)
            .await?
        });
        Ok(rows)
    }

    /// The PDQ signals the engine's image stage should match too: enabled content (disabled
    /// until at or before `now_secs`) in banks with a ratio above 0, as (`hma.<BANK>`, hex).
    pub async fn hma_engine_signals(&self, now_secs: i64) -> Result<Vec<(String, String)>> {
        Ok(self
            .hma_signals()
            .await?
            .into_iter()
            .filter(|s| {
                s.signal_type == "pdq"
                    && s.disable_until_ts <= now_secs
                    && s.matching_enabled_ratio > 0.0
            })
            .map(|s| (format!("hma.{}", s.bank), s.signal))
            .collect())
    }
}
