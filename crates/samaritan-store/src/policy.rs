//! Policy versions: every policy text ever put in force, so a restart comes back with the policy
//! that was running and an auditor can see which policy produced which analysis.

use serde::Serialize;

use crate::{Result, Store};

/// A stored policy.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PolicyVersion {
    /// 1, 2, 3… in the order they were put in force.
    pub version: i64,
    /// `name@version` as the engine reports it.
    pub label: String,
    pub text: String,
    pub actor: String,
    pub created_at: i64,
}

type PolicyRow = (i64, String, String, String, i64);

fn version(r: PolicyRow) -> PolicyVersion {
    PolicyVersion {
        version: r.0,
        label: r.1,
        text: r.2,
        actor: r.3,
        created_at: r.4,
    }
}

impl Store {
    /// Stores a policy the caller has already validated, with its audit entry.
    pub async fn save_policy(&self, label: &str, text: &str, actor: &str) -> Result<PolicyVersion> {
        let now = crate::now_ms();
        on_write!(&self.backend, |pool, dialect| {
            let mut tx = pool.begin_with(dialect.begin()).await?;
            let (last,): (Option<i64>,) = sqlx::query_as("SELECT MAX(version) FROM policies")
                .fetch_one(&mut *tx)
                .await?;
            let v = last.unwrap_or(0) + 1;
            sqlx::query(
                "INSERT INTO policies (version, label, text, actor, created_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(v)
            .bind(label)
            .bind(text)
            .bind(actor)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            let detail = serde_json::json!({
                "version": v,
                "label": label,
                "sha256": crate::sha256_hex(text.as_bytes()),
            });
            append_audit!(tx, dialect, actor, "policy.update", label, detail, now);
            tx.commit().await?;
            Ok(PolicyVersion {
                version: v,
                label: label.to_owned(),
                text: text.to_owned(),
                actor: actor.to_owned(),
                created_at: now,
            })
        })
    }

    /// The policy in force (the newest), if one was ever stored.
    pub async fn current_policy(&self) -> Result<Option<PolicyVersion>> {
        let row: Option<PolicyRow> = on_read!(self, |pool| {
            sqlx::query_as(
                "SELECT version, label, text, actor, created_at FROM policies ORDER BY version DESC LIMIT 1",
            )
            .fetch_optional(pool)
            .await?
        });
        Ok(row.map(version))
    }

    /// Every stored policy, newest first.
    pub async fn policy_history(&self) -> Result<Vec<PolicyVersion>> {
        let rows: Vec<PolicyRow> = on_read!(self, |pool| {
            sqlx::query_as(
                "SELECT version, label, text, actor, created_at FROM policies ORDER BY version DESC",
            )
            .fetch_all(pool)
            .await?
        });
        Ok(rows.into_iter().map(version).collect())
    }
}
