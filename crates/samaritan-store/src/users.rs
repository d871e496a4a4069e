//! People who sign in (the console of issue 21): accounts with a role, passwords kept only as
//! Argon2id PHC strings, and a per-account throttle with lockout.
//!
//! Why a slow hash here when API keys use SHA-256: a key is 256 random bits, a password is what a
//! person can remember, so a stolen table must cost an attacker Argon2's memory and time per guess
//! (RustCrypto's defaults, Argon2id v19, m = 19 MiB, t = 2, p = 1: OWASP's recommendation).
//!
//! Signing in never tells a caller whether a name exists: an unknown name, a wrong password, a
//! disabled and a locked account all give the same [`LoginError::Refused`], and each spends the
//! same Argon2 work (against a dummy hash when there is no real one to check).
//!
//! Every change to an account (create, disable, password reset, lockout) appends an audit entry
//! in the same transaction. The entry never holds the password or the PHC string; it holds the
//! SHA-256 of the PHC string (`credential_sha256`), which lets `audit verify` notice a hash
//! swapped in directly and reveals nothing a guess could be tested against (the 128-bit salt is
//! not in it). `failed_logins` and `locked_until` are throttle state and are not cross-checked.

use std::sync::OnceLock;

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use serde::Serialize;

use crate::{Result, Store, StoreError, hex, sha256_hex};

/// Failed attempts in a row that lock an account.
pub const MAX_FAILED_LOGINS: i64 = 5;
/// How long a lockout lasts, in milliseconds (15 minutes).
pub const LOCKOUT_MS: i64 = 15 * 60 * 1000;
/// The shortest password accepted, in characters.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// The longest password accepted, in bytes (bounds the work a request can ask for).
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// What a person may do in the console.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Works the queue.
    Reviewer,
    /// Escalations, reassignment, QA, exposure overview.
    Lead,
    /// Users, keys, policy.
    Admin,
    /// The audit log and its verification.
    Auditor,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Reviewer, Role::Lead, Role::Admin, Role::Auditor];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Reviewer => "reviewer",
            Role::Lead => "lead",
            Role::Admin => "admin",
            Role::Auditor => "auditor",
        }
    }

    /// Parses a role name; the error lists the roles.
    pub fn parse(s: &str) -> Result<Role> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                StoreError::Invalid(format!(
                    "unknown role `{s}`; roles are reviewer, lead, admin, auditor"
                ))
            })
    }
}

/// An account as shown (never its password hash).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct User {
    pub id: String,
    pub name: String,
    pub role: Role,
    /// Milliseconds since the Unix epoch, like every time below.
    pub created_at: i64,
    pub disabled_at: Option<i64>,
    pub password_changed_at: i64,
    /// Failed sign-ins since the last success or lockout.
    pub failed_logins: i64,
    pub locked_until: Option<i64>,
}

impl User {
    /// The name this person's actions are recorded under: `user:<name>`.
    pub fn actor(&self) -> String {
        format!("user:{}", self.name)
    }
}

/// Why a sign-in failed. One variant for every credential failure, on purpose (module docs).
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// Unknown name, wrong password, disabled or locked account: the caller is not told which.
    #[error("wrong name or password, or the account cannot sign in now")]
    Refused,
    /// The store failed; nothing was decided about the credentials.
    #[error(transparent)]
    Store(#[from] StoreError),
}

const USER_COLUMNS: &str = "id, name, role, password_hash, created_at, disabled_at, \
                            password_changed_at, failed_logins, locked_until";

/// [`USER_COLUMNS`] for a query that aliases `users u`.
pub(crate) const USER_COLUMNS_OF_U: &str = "u.id, u.name, u.role, u.password_hash, u.created_at, \
     u.disabled_at, u.password_changed_at, u.failed_logins, u.locked_until";

pub(crate) type UserRow = (
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

/// A user row as stored, for the audit cross-check (role as the stored text).
pub(crate) struct UserAuditRow {
    pub id: String,
    pub name: String,
    pub role: String,
    pub hash: String,
    pub created_at: i64,
    pub disabled_at: Option<i64>,
    pub password_changed_at: i64,
}

pub(crate) fn user(row: &UserRow) -> Result<User> {
    let (id, name, role, _, created_at, disabled_at, changed, failed, locked) = row;
    let role =
        Role::parse(role).map_err(|e| StoreError::Corrupt(format!("user `{name}` role: {e}")))?;
    Ok(User {
        id: id.clone(),
        name: name.clone(),
        role,
        created_at: *created_at,
        disabled_at: *disabled_at,
        password_changed_at: *changed,
        failed_logins: *failed,
        locked_until: *locked,
    })
}

/// Checks a name: 1 to 64 of `a-z 0-9 . _ - @`. Lower case only, so `Alice` and `alice` cannot
/// be two people.
pub fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-@".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!(
            "a user name is 1 to 64 of a-z, 0-9, `.`, `_`, `-`, `@` (got {} bytes{})",
            name.len(),
            if name.bytes().any(|b| b.is_ascii_uppercase()) {
                ", with upper case"
            } else {
                ""
            }
        )))
    }
}

/// Checks a new password's length (never shown in the error).
pub fn check_password(password: &str) -> Result<()> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(StoreError::Invalid(format!(
            "a password needs at least {MIN_PASSWORD_CHARS} characters (this one has {chars})"
        )));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(StoreError::Invalid(format!(
            "a password may be at most {MAX_PASSWORD_BYTES} bytes (this one has {})",
            password.len()
        )));
    }
    Ok(())
}

pub fn random_bytes<const N: usize>() -> Result<[u8; N]> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf)
        .map_err(|e| StoreError::Invalid(format!("no randomness from the system: {e}")))?;
    Ok(buf)
}

/// 256 random bits as 64 lowercase hex digits (session, CSRF and sign-in form tokens).
pub fn random_token() -> Result<String> {
    Ok(hex(&random_bytes::<32>()?))
}

/// A uniformly random number in `[0, 1)` (53 random bits), for sampling.
pub fn random_fraction() -> Result<f64> {
    let b = random_bytes::<8>()?;
    Ok((u64::from_le_bytes(b) >> 11) as f64 / (1u64 << 53) as f64)
}

/// A new random password: 24 characters from 55 unambiguous letters and digits (~138 bits).
pub fn generate_password() -> Result<String> {
    const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut out = String::with_capacity(24);
    while out.len() < 24 {
        for b in random_bytes::<32>()? {
            // Rejection sampling keeps every character equally likely.
            let limit = 256 - 256 % ALPHABET.len();
            if usize::from(b) < limit && out.len() < 24 {
                out.push(char::from(ALPHABET[usize::from(b) % ALPHABET.len()]));
            }
        }
    }
    Ok(out)
}

/// Hashes a password to an Argon2id PHC string with a fresh 16-byte salt.
fn hash_password(password: &str) -> Result<String> {
    let salt = random_bytes::<16>()?;
    Argon2::default()
        .hash_password_with_salt(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| StoreError::Invalid(format!("cannot hash the password: {e}")))
}

/// Whether `password` matches the PHC string (false for a malformed string).
fn password_matches(password: &str, phc: &str) -> bool {
    Argon2::default()
        .verify_password(password.as_bytes(), phc)
        .is_ok()
}

/// A hash no password is known for, checked when there is no real one so that every refusal
/// costs the same Argon2 work.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let secret = random_bytes::<32>().map(|b| hex(&b)).unwrap_or_default();
        // Fixed parameters of the defaults; if hashing itself failed, verification of the
        // fallback fails at once, which still never lets anyone in.
        hash_password(&format!("dummy-{secret}")).unwrap_or_default()
    })
}

/// Runs Argon2 off the async threads (it takes tens of milliseconds of CPU on purpose).
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| StoreError::Invalid(format!("password hashing stopped: {e}")))
}

fn conflict(e: sqlx::Error, name: &str) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::Conflict(format!("a user named `{name}` already exists"))
        }
        _ => StoreError::Db(e),
    }
}

impl Store {
    /// Makes an account; audited as `user.create`. A name already taken (also by a concurrent
    /// call) is a [`StoreError::Conflict`].
    pub async fn create_user(
        &self,
        name: &str,
        role: Role,
        password: &str,
        actor: &str,
    ) -> Result<User> {
        check_name(name)?;
        check_password(password)?;
        let pw = password.to_owned();
        let phc = blocking(move || hash_password(&pw)).await??;
        let id = hex(&random_bytes::<6>()?);
        let now = crate::now_ms();
        on_write!(&self.backend, |pool, dialect| {
            let mut tx = pool.begin_with(dialect.begin()).await?;
            sqlx::query(
                "INSERT INTO users (id, name, role, password_hash, created_at, disabled_at, \
                 password_changed_at, failed_logins, locked_until) \
                 VALUES ($1, $2, $3, $4, $5, NULL, $5, 0, NULL)",
            )
            .bind(&id)
            .bind(name)
            .bind(role.as_str())
            .bind(&phc)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(|e| conflict(e, name))?;
            let detail = serde_json::json!({
                "name": name,
                "role": role.as_str(),
                "credential_sha256": sha256_hex(phc.as_bytes()),
            });
            append_audit!(tx, dialect, actor, "user.create", id.as_str(), detail, now);
            tx.commit().await?;
            Ok::<(), StoreError>(())
        })?;
        Ok(User {
            id,
            name: name.to_owned(),
            role,
            created_at: now,
            disabled_at: None,
            password_changed_at: now,
            failed_logins: 0,
            locked_until: None,
        })
    }

    /// Every account, by name.
    pub async fn list_users(&self) -> Result<Vec<User>> {
        let rows: Vec<UserRow> = on_read!(self, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {USER_COLUMNS} FROM users ORDER BY name"
            )))
            .fetch_all(pool)
            .await?
        });
        rows.iter().map(user).collect()
    }

    /// One account by name.
    pub async fn get_user(&self, name: &str) -> Result<Option<User>> {
        self.user_row(name).await?.as_ref().map(user).transpose()
    }

    async fn user_row(&self, name: &str) -> Result<Option<UserRow>> {
        Ok(on_read!(self, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {USER_COLUMNS} FROM users WHERE name = $1"
            )))
            .bind(name)
            .fetch_optional(pool)
            .await?
        }))
    }

    /// Disables an account for good (it never signs in again); audited as `user.disable`.
    pub async fn disable_user(&self, name: &str, actor: &str) -> Result<()> {
        let now = crate::now_ms();
        on_write!(&self.backend, |pool, dialect| {
            let mut tx = pool.begin_with(dialect.begin()).await?;
            let id: Option<(String,)> = sqlx::query_as(
                "UPDATE users SET disabled_at = $2 WHERE name = $1 AND disabled_at IS NULL \
                 RETURNING id",
            )
            .bind(name)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
            let Some((id,)) = id else {
                return Err(StoreError::NotFound(format!("active user `{name}`")));
            };
            let detail = serde_json::json!({ "name": name });
            append_audit!(tx, dialect, actor, "user.disable", id.as_str(), detail, now);
            tx.commit().await?;
            Ok(())
        })
    }

    /// Sets a new password, clears the throttle; audited as `user.reset_password`. A disabled
    /// account stays disabled.
    pub async fn reset_password(&self, name: &str, new_password: &str, actor: &str) -> Result<()> {
        check_password(new_password)?;
        let pw = new_password.to_owned();
        let phc = blocking(move || hash_password(&pw)).await??;
        let now = crate::now_ms();
        on_write!(&self.backend, |pool, dialect| {
            let mut tx = pool.begin_with(dialect.begin()).await?;
            let id: Option<(String,)> = sqlx::query_as(
                "UPDATE users SET password_hash = $2, password_changed_at = $3, \
                 failed_logins = 0, locked_until = NULL WHERE name = $1 RETURNING id",
            )
            .bind(name)
            .bind(&phc)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
            let Some((id,)) = id else {
                return Err(StoreError::NotFound(format!("user `{name}`")));
            };
            let detail = serde_json::json!({
                "name": name,
                "credential_sha256": sha256_hex(phc.as_bytes()),
            });
            append_audit!(
                tx,
                dialect,
                actor,
                "user.reset_password",
                id.as_str(),
                detail,
                now
            );
            tx.commit().await?;
            Ok(())
        })
    }

    /// Checks a sign-in at time `now` (ms). Success clears the failure count; the
    /// [`MAX_FAILED_LOGINS`]th failure in a row locks the account for [`LOCKOUT_MS`] (audited as
    /// `user.lockout`). Failures while locked are not counted and never verify.
    pub async fn verify_login(
        &self,
        name: &str,
        password: &str,
        now: i64,
    ) -> Result<User, LoginError> {
        let row = if check_name(name).is_ok() {
            self.user_row(name).await?
        } else {
            None
        };
        // Too long a password is refused after the same work as any other refusal.
        let usable = password.len() <= MAX_PASSWORD_BYTES;
        let live = row.filter(|r| r.5.is_none() && r.8.is_none_or(|until| until <= now));
        let phc = match &live {
            Some(r) if usable => r.3.clone(),
            _ => dummy_hash().to_owned(),
        };
        let pw = if usable {
            password.to_owned()
        } else {
            String::new()
        };
        let matched = blocking(move || password_matches(&pw, &phc)).await?;
        let Some(row) = live else {
            return Err(LoginError::Refused);
        };
        if matched && usable && self.login_succeeded(&row, now).await? {
            let mut u = user(&row)?;
            u.failed_logins = 0;
            u.locked_until = None;
            return Ok(u);
        }
        if matched && usable {
            // The account changed while the password was checked (module docs).
            return Err(LoginError::Refused);
        }
        self.login_failed(&row, now).await?;
        Err(LoginError::Refused)
    }

    /// Clears the throttle, unless the account changed since it was read (disabled, locked by a
    /// concurrent attempt, password reset): then the sign-in is refused.
    async fn login_succeeded(&self, row: &UserRow, now: i64) -> Result<bool> {
        let affected = on_write!(&self.backend, |pool, dialect| {
            sqlx::query(
                "UPDATE users SET failed_logins = 0, locked_until = NULL \
                 WHERE id = $1 AND password_hash = $2 AND disabled_at IS NULL \
                 AND (locked_until IS NULL OR locked_until <= $3)",
            )
            .bind(&row.0)
            .bind(&row.3)
            .bind(now)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(affected == 1)
    }

    /// Counts a failure; the one that reaches the limit locks the account and is audited.
    async fn login_failed(&self, row: &UserRow, now: i64) -> Result<()> {
        on_write!(&self.backend, |pool, dialect| {
            let mut tx = pool.begin_with(dialect.begin()).await?;
            let count: Option<(i64,)> = sqlx::query_as(
                "UPDATE users SET failed_logins = failed_logins + 1 \
                 WHERE id = $1 AND (locked_until IS NULL OR locked_until <= $2) \
                 RETURNING failed_logins",
            )
            .bind(&row.0)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some((n,)) = count
                && n >= MAX_FAILED_LOGINS
            {
                let until = now.saturating_add(LOCKOUT_MS);
                sqlx::query("UPDATE users SET failed_logins = 0, locked_until = $2 WHERE id = $1")
                    .bind(&row.0)
                    .bind(until)
                    .execute(&mut *tx)
                    .await?;
                let detail = serde_json::json!({
                    "name": row.1,
                    "failures": n,
                    "locked_until": until,
                });
                append_audit!(
                    tx,
                    dialect,
                    "system",
                    "user.lockout",
                    row.0.as_str(),
                    detail,
                    now
                );
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// Every user row as stored, for `audit_verify`.
    pub(crate) async fn user_audit_rows(&self) -> Result<Vec<UserAuditRow>> {
        let rows: Vec<UserRow> = on_read!(self, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {USER_COLUMNS} FROM users ORDER BY id"
            )))
            .fetch_all(pool)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(
                |(id, name, role, hash, created_at, disabled_at, changed, _, _)| UserAuditRow {
                    id,
                    name,
                    role,
                    hash,
                    created_at,
                    disabled_at,
                    password_changed_at: changed,
                },
            )
            .collect())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn names_roles_and_passwords_are_checked() {
        assert!(check_name("ana.lopez@example.org").is_ok());
        for bad in ["", "Alice", "a b", &"a".repeat(65), "é"] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
        assert_eq!(Role::parse("lead").unwrap(), Role::Lead);
        assert!(
            Role::parse("root")
                .unwrap_err()
                .to_string()
                .contains("`root`")
        );
        let short = check_password("elevenchars").unwrap_err().to_string();
        assert!(
            short.contains("12") && !short.contains("elevenchars"),
            "{short}"
        );
        assert!(check_password("twelve chars").is_ok());
        assert!(check_password(&"x".repeat(1025)).is_err());
    }

    #[test]
    fn hashes_are_argon2id_salted_and_verify() {
        let a = hash_password("correct horse battery").unwrap();
        let b = hash_password("correct horse battery").unwrap();
        assert!(a.starts_with("$argon2id$v=19$"), "{a}");
        assert_ne!(a, b, "a fresh salt each time");
        assert!(password_matches("correct horse battery", &a));
        assert!(!password_matches("correct horse batterz", &a));
        assert!(!password_matches("anything", "not a phc string"));
        assert!(!password_matches("", dummy_hash()));
    }

    #[test]
    fn generated_passwords_are_long_and_differ() {
        let a = generate_password().unwrap();
        assert_eq!(a.chars().count(), 24);
        assert!(check_password(&a).is_ok());
        assert_ne!(a, generate_password().unwrap());
    }
}
