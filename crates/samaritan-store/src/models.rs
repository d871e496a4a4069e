//! The learned model's versions (issue 25): every model put in force, the newest being current,
//! and the model's shadow scores.
//!
//! A model changes what reaches reviewers once it is enabled, so it is kept like a policy: each
//! version is a row written in one transaction with its audit entry (`model.update` for an
//! import or a batch of decisions, `model.rollback` for a copy of an older version), the entry
//! repeating the version, the SHA-256 of the model, what made it, the actor and the time, so
//! `audit verify` reports a row edited, inserted or deleted behind the store's back
//! (`model_altered`, `model_inserted`, `model_missing`).
//!
//! Writers name the version they built on (`expected`): when another writer put a version in
//! force meanwhile (a rollback while the service was learning, two imports at once) the write is
//! a [`StoreError::Conflict`] and nothing is written, so no version silently replaces another.

use serde::Serialize;

use crate::{Result, Store, StoreError};

/// What made a model version.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum ModelSource {
    /// A model file put in the store (`samaritan model import`), named for the record.
    Import { file: String },
    /// A batch of reviewers' decisions learned on top of the previous version.
    Decisions {
        /// Decision `seq`s in the batch, in the order they were applied, with what each taught
        /// (`benign`, `commercial`, `severe`, or `none` for a decision that teaches nothing).
        applied: Vec<BatchDecision>,
        /// The calibration and raise point fitted on the quality audit after learning.
        #[serde(skip_serializing_if = "Option::is_none")]
        recalibrated: Option<Recalibration>,
    },
    /// The calibration and raise point fitted again on the quality audit's answers, the
    /// weights unchanged (new answers arrived, or a model was imported or rolled back).
    Recalibration { fit: Recalibration },
    /// A copy of an older version.
    Rollback { to: i64 },
}

/// How a version's calibration and raise point were fitted on the quality audit (the service's
/// `calibration::recalibrate`).
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Recalibration {
    /// Audit answers that teach something (decided allow, remove or report), of which benign.
    pub answers: u64,
    pub benign: u64,
    /// Benign answers needed before a raise point is fitted.
    pub min_benign: u64,
    /// Platt scaling fitted on the answers (`None`: kept, the answers held one class only).
    pub platt: Option<(f64, f64)>,
    /// The raise threshold as a calibrated probability (`None`: the model raises nothing).
    pub raise_probability: Option<f64>,
    /// The share of the audited benign ads the model may raise.
    pub benign_rate: f64,
    /// The newest answer fitted on (its decision's `seq`; 0 for none): a later fit is due once
    /// enough answers are newer.
    pub through_answer: i64,
}

/// One decision of a learned batch.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct BatchDecision {
    pub seq: i64,
    /// `benign`, `commercial`, `severe` or `none`.
    pub label: String,
    /// The weight it was learned with after the per-reviewer cap (0 for `none`).
    pub weight: f64,
}

impl ModelSource {
    fn kind(&self) -> &'static str {
        match self {
            ModelSource::Import { .. } => "import",
            ModelSource::Decisions { .. } => "decisions",
            ModelSource::Recalibration { .. } => "recalibration",
            ModelSource::Rollback { .. } => "rollback",
        }
    }

    fn detail(&self) -> serde_json::Value {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(mut m)) => {
                m.remove("kind");
                serde_json::Value::Object(m)
            }
            _ => serde_json::Value::Null,
        }
    }
}

/// A stored model version without the model itself (for listings).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelVersion {
    /// 1, 2, 3… in the order they were put in force; the highest is current.
    pub version: i64,
    /// SHA-256 of the model JSON.
    pub sha256: String,
    /// `import`, `decisions`, `recalibration` or `rollback`.
    pub source: String,
    /// What made it: `{file}` for an import, `{applied: [{seq, label, weight}]}` for a batch,
    /// `{to}` for a rollback.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub source_detail: serde_json::Value,
    /// Every decision up to this `seq` was learned or passed over by this version.
    pub through_decision: i64,
    pub actor: String,
    pub created_at: i64,
    /// Bytes of the model JSON.
    pub bytes: i64,
}

/// A stored model version with the model JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredModel {
    pub meta: ModelVersion,
    pub model: String,
}

/// A new version to put in force.
pub struct ModelSave<'a> {
    /// The model JSON (validated by the caller: `Model::from_json`).
    pub model: &'a str,
    pub source: ModelSource,
    /// The decisions this version accounts for (see [`ModelVersion::through_decision`]); `None`
    /// for an import or a rollback: the newest decision at that moment (decisions made before
    /// a model was put in force are not learned by it).
    pub through_decision: Option<i64>,
    /// The current version the writer built on (`None`: there is none yet).
    pub expected: Option<i64>,
    pub actor: &'a str,
    pub now: i64,
}

type MetaRow = (i64, String, String, String, i64, String, i64, i64);

const META: &str = "version, sha256, source, source_detail, through_decision, actor, created_at, \
                    CAST(LENGTH(model) AS BIGINT)";
const FULL: &str = "version, sha256, source, source_detail, through_decision, actor, created_at, \
                    CAST(LENGTH(model) AS BIGINT), model";

fn meta(r: MetaRow) -> Result<ModelVersion> {
    let source_detail = serde_json::from_str(&r.3)
        .map_err(|e| StoreError::Corrupt(format!("model version {} source_detail: {e}", r.0)))?;
    Ok(ModelVersion {
        version: r.0,
        sha256: r.1,
        source: r.2,
        source_detail,
        through_decision: r.4,
        actor: r.5,
        created_at: r.6,
        bytes: r.7,
    })
}

type FullRow = (i64, String, String, String, i64, String, i64, i64, String);

fn full(r: FullRow) -> Result<StoredModel> {
    let model = r.8;
    let meta = meta((r.0, r.1, r.2, r.3, r.4, r.5, r.6, r.7))?;
    Ok(StoredModel { meta, model })
}

/// The audit entry's detail for a stored version (what `audit verify` compares the row with).
pub(crate) fn audit_detail(v: &ModelVersion) -> serde_json::Value {
    serde_json::json!({
        "version": v.version,
        "sha256": v.sha256,
        "source": v.source,
        "source_detail": v.source_detail,
        "through_decision": v.through_decision,
    })
}

/// A model's shadow score of one ad revision.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShadowScore {
    pub ad_id: String,
    pub revision: i64,
    pub model_version: i64,
    /// Calibrated probability of commercial sex (the commercial head).
    pub probability: f64,
    /// The severe head's probability.
    pub severe: f64,
    /// The probability reached the model's raise threshold.
    pub raised: bool,
    /// The score and its top features with their spans in the original text.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub detail: serde_json::Value,
    pub created_at: i64,
}

impl Store {
    /// Puts a new model version in force with its audit entry (`model.update`, or
    /// `model.rollback` for a rollback). Refused with [`StoreError::Conflict`] when the current
    /// version is not `save.expected`.
    pub async fn save_model(&self, save: ModelSave<'_>) -> Result<ModelVersion> {
        let action = match save.source {
            ModelSource::Rollback { .. } => "model.rollback",
            _ => "model.update",
        };
        let sha256 = crate::sha256_hex(save.model.as_bytes());
        let source_detail = save.source.detail();
        let now = save.now;
        on_write!(&self.backend, |pool, dialect| {
            let mut tx = pool.begin_with(dialect.begin()).await?;
            let (current, last_decision): (Option<i64>, Option<i64>) = sqlx::query_as(
                "SELECT (SELECT MAX(version) FROM models), (SELECT MAX(seq) FROM decisions)",
            )
            .fetch_one(&mut *tx)
            .await?;
            if current != save.expected {
                tx.rollback().await?;
                return Err(conflict(current, save.expected));
            }
            let version = current.unwrap_or(0) + 1;
            let through = save
                .through_decision
                .unwrap_or_else(|| last_decision.unwrap_or(0));
            let v = ModelVersion {
                version,
                sha256: sha256.clone(),
                source: save.source.kind().to_owned(),
                source_detail: source_detail.clone(),
                through_decision: through,
                actor: save.actor.to_owned(),
                created_at: now,
                bytes: i64::try_from(save.model.len()).unwrap_or(i64::MAX),
            };
            let inserted: Option<(i64,)> = sqlx::query_as(
                "INSERT INTO models (version, model, sha256, source, source_detail, \
                 through_decision, actor, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                 ON CONFLICT (version) DO NOTHING RETURNING version",
            )
            .bind(version)
            .bind(save.model)
            .bind(&sha256)
            .bind(&v.source)
            .bind(source_detail.to_string())
            .bind(through)
            .bind(save.actor)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
            if inserted.is_none() {
                // Another writer took this version number between our read and our insert.
                tx.rollback().await?;
                return Err(conflict(Some(version), save.expected));
            }
            let detail = audit_detail(&v);
            let subject = format!("model/{version}");
            append_audit!(tx, dialect, save.actor, action, &subject, detail, now);
            tx.commit().await?;
            Ok(v)
        })
    }

    /// Makes a new version equal to version `to` (audited `model.rollback`). Decisions already
    /// accounted for stay accounted for: the rolled-back model does not learn them again.
    pub async fn rollback_model(
        &self,
        to: i64,
        expected: Option<i64>,
        actor: &str,
        now: i64,
    ) -> Result<ModelVersion> {
        let Some(old) = self.model_version(to).await? else {
            return Err(StoreError::NotFound(format!("model version {to}")));
        };
        let current = self.model_history().await?.into_iter().next();
        self.save_model(ModelSave {
            model: &old.model,
            source: ModelSource::Rollback { to },
            through_decision: current.map(|c| c.through_decision),
            expected,
            actor,
            now,
        })
        .await
    }

    /// The current (newest) version with its model, if one was ever stored.
    pub async fn current_model(&self) -> Result<Option<StoredModel>> {
        let row: Option<FullRow> = on_read!(self, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {FULL} FROM models ORDER BY version DESC LIMIT 1"
            )))
            .fetch_optional(pool)
            .await?
        });
        row.map(full).transpose()
    }

    /// The current version's number (one indexed read), if any.
    pub async fn current_model_version(&self) -> Result<Option<i64>> {
        let (v,): (Option<i64>,) = on_read!(self, |pool| {
            sqlx::query_as("SELECT MAX(version) FROM models")
                .fetch_one(pool)
                .await?
        });
        Ok(v)
    }

    /// Version `version` with its model.
    pub async fn model_version(&self, version: i64) -> Result<Option<StoredModel>> {
        let row: Option<FullRow> = on_read!(self, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {FULL} FROM models WHERE version = $1"
            )))
            .bind(version)
            .fetch_optional(pool)
            .await?
        });
        row.map(full).transpose()
    }

    /// Every version without the models, newest first.
    pub async fn model_history(&self) -> Result<Vec<ModelVersion>> {
        let rows: Vec<MetaRow> = on_read!(self, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {META} FROM models ORDER BY version DESC"
            )))
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(meta).collect()
    }

    /// Records shadow scores (a score already recorded for the same ad revision and model
    /// version is kept).
    pub async fn save_shadow_scores(&self, scores: &[ShadowScore]) -> Result<()> {
        if scores.is_empty() {
            return Ok(());
        }
        on_write!(&self.backend, |pool, dialect| {
            let mut tx = pool.begin_with(dialect.begin()).await?;
            for chunk in scores.chunks(500) {
                let mut qb = sqlx::QueryBuilder::<DB>::new(
                    "INSERT INTO model_scores (ad_id, revision, model_version, probability, \
                     severe, raised, detail, created_at) ",
                );
                qb.push_values(chunk, |mut b, s| {
                    b.push_bind(&s.ad_id)
                        .push_bind(s.revision)
                        .push_bind(s.model_version)
                        .push_bind(s.probability)
                        .push_bind(s.severe)
                        .push_bind(i64::from(s.raised))
                        .push_bind(s.detail.to_string())
                        .push_bind(s.created_at);
                });
                qb.push(" ON CONFLICT (ad_id, revision, model_version) DO NOTHING");
                qb.build().execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// The shadow scores of an ad, newest revision and model version first.
    pub async fn shadow_scores_of(&self, ad_id: &str) -> Result<Vec<ShadowScore>> {
        type ScoreRow = (String, i64, i64, f64, f64, i64, String, i64);
        let rows: Vec<ScoreRow> = on_read!(self, |pool| {
            sqlx::query_as(
                "SELECT ad_id, revision, model_version, probability, severe, raised, detail, \
                 created_at FROM model_scores WHERE ad_id = $1 \
                 ORDER BY revision DESC, model_version DESC",
            )
            .bind(ad_id)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter()
            .map(|r| {
                let detail = serde_json::from_str(&r.6)
                    .map_err(|e| StoreError::Corrupt(format!("shadow score of `{}`: {e}", r.0)))?;
                Ok(ShadowScore {
                    ad_id: r.0,
                    revision: r.1,
                    model_version: r.2,
                    probability: r.3,
                    severe: r.4,
                    raised: r.5 != 0,
                    detail,
                    created_at: r.7,
                })
            })
            .collect()
    }
}

impl Store {
    /// Decisions with `seq > after`, in `seq` order, at most `limit` (what the service's model
    /// has not learned yet).
    pub async fn decisions_after(&self, after: i64, limit: i64) -> Result<Vec<crate::Decision>> {
        let rows: Vec<crate::decisions::DecisionRow> = on_read!(self, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {} FROM decisions WHERE seq > $1 ORDER BY seq LIMIT $2",
                crate::decisions::DECISION_COLUMNS
            )))
            .bind(after)
            .bind(limit)
            .fetch_all(pool)
            .await?
        });
        Ok(rows.into_iter().map(crate::Decision::from).collect())
    }

    /// The ad `id` exactly as received at `revision` (raw JSON), if still stored.
    pub async fn ad_at_revision(&self, id: &str, revision: i64) -> Result<Option<String>> {
        let row: Option<(String,)> = on_read!(self, |pool| {
            sqlx::query_as(
                "SELECT raw FROM ads WHERE id = $1 AND revision = $2 UNION ALL \
                 SELECT raw FROM ad_history WHERE ad_id = $1 AND revision = $2",
            )
            .bind(id)
            .bind(revision)
            .fetch_optional(pool)
            .await?
        });
        Ok(row.map(|(r,)| r))
    }
}

/// A decided ad beside the model's shadow score and the policy's verdict of the revision decided
/// (for the shadow report).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShadowDecided {
    pub ad_id: String,
    pub revision: i64,
    /// The ad's latest decision.
    pub decision_seq: i64,
    pub action: String,
    pub reason: String,
    /// The policy's verdict of that revision (`allow`, `review`, `block`).
    pub verdict: String,
    /// The newest model version that scored that revision, and its score.
    pub model_version: i64,
    pub probability: f64,
    pub raised: bool,
}

impl Store {
    /// The newest `limit` decided ads (each by its latest decision) whose decided revision has a
    /// shadow score, newest decision first.
    pub async fn shadow_decided(&self, limit: i64) -> Result<Vec<ShadowDecided>> {
        type R = (
            String,
            i64,
            i64,
            String,
            String,
            Option<String>,
            i64,
            f64,
            i64,
        );
        let rows: Vec<R> = on_read!(self, |pool| {
            sqlx::query_as(
                "SELECT d.ad_id, d.revision, d.seq, d.action, d.reason, \
                 (SELECT a.verdict FROM analyses a WHERE a.ad_id = d.ad_id \
                  AND a.revision = d.revision ORDER BY a.seq DESC LIMIT 1), \
                 s.model_version, s.probability, s.raised \
                 FROM decisions d JOIN model_scores s ON s.ad_id = d.ad_id \
                 AND s.revision = d.revision AND s.model_version = (SELECT MAX(s2.model_version) \
                 FROM model_scores s2 WHERE s2.ad_id = d.ad_id AND s2.revision = d.revision) \
                 WHERE d.seq = (SELECT MAX(d2.seq) FROM decisions d2 WHERE d2.ad_id = d.ad_id) \
                 ORDER BY d.seq DESC LIMIT $1",
            )
            .bind(limit)
            .fetch_all(pool)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(|r| ShadowDecided {
                ad_id: r.0,
                revision: r.1,
                decision_seq: r.2,
                action: r.3,
                reason: r.4,
                verdict: r.5.unwrap_or_default(),
                model_version: r.6,
                probability: r.7,
                raised: r.8 != 0,
            })
            .collect())
    }
}

fn conflict(current: Option<i64>, expected: Option<i64>) -> StoreError {
    let name = |v: Option<i64>| v.map_or_else(|| "none".to_owned(), |v| v.to_string());
    StoreError::Conflict(format!(
        "the current model version is {}, not {} as expected (another change was made \
         meanwhile; read the current version and try again)",
        name(current),
        name(expected)
    ))
}
