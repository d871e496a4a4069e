//! Ingest: ads and their analyses into the store in one transaction, idempotent by ad id.
//!
//! Re-sending an ad with the same content (same canonical digest) changes nothing and returns the
//! stored analysis; re-sending it with changed content keeps the earlier revision in `ad_history`
//! and stores the new one with its new analysis. In the same transaction the analysis is appended
//! to the history, the identifiers are indexed for search, the ad enters (or leaves) the review
//! queue, and its network membership is recorded. A caller that got `Ok` has its ads on disk.

use std::collections::{HashMap, HashSet};

use samaritan_engine::model::{Ad, Analysis, ImageRef, Verdict};
use serde::Serialize;

use crate::search::IdentifierKind;
use crate::{Result, Store, StoreError, sha256_hex};

/// One ad to store with the analysis the engine made of it.
#[derive(Debug, Clone)]
pub struct IngestItem {
    pub ad: Ad,
    /// The ad's JSON exactly as the platform sent it.
    pub raw: String,
    /// [`ad_digest`] of `ad`.
    pub digest: String,
    pub analysis: Analysis,
    /// Link-state records `(kind, key, value)` written in the same transaction as the ad (the
    /// linker's input for this ad, so that a restart can replay exactly what was acknowledged).
    pub link_state: Vec<(String, String, Vec<u8>)>,
    /// `analysis` as stored (JSON), made by the constructors so that it always matches; made
    /// before the ad reaches the store's single writer, which then only copies it.
    pub(crate) analysis_json: String,
    /// The learned model's shadow score of this ad, recorded in `model_scores` under the
    /// revision stored, in the same transaction (nothing reads it to decide).
    pub shadow: Option<ShadowInput>,
}

/// A shadow score to record with an ingested ad (see [`crate::ShadowScore`]).
#[derive(Debug, Clone)]
pub struct ShadowInput {
    pub model_version: i64,
    pub probability: f64,
    pub severe: f64,
    pub raised: bool,
    /// JSON: the score and its top features with spans.
    pub detail: String,
    /// How unsure the model is (the engine's `Model::margin`); an ad the policy
    /// allowed with a margin of at most [`LEARNING_BAND`] waits in the active-learning pool.
    pub margin: f64,
}

/// Widest margin at which an allowed ad enters the active-learning pool (probability units): the
/// pool holds the ads a decision would teach most, not every allowed ad.
pub const LEARNING_BAND: f64 = 0.25;

impl IngestItem {
    /// Builds an item, computing the digest.
    pub fn new(ad: Ad, raw: String, analysis: Analysis) -> Result<IngestItem> {
        let digest = ad_digest(&ad);
        IngestItem::analysed(ad, raw, digest, analysis, Vec::new())
    }

    /// Builds an item whose digest ([`ad_digest`]) is known, with the linker's records for it.
    pub fn analysed(
        ad: Ad,
        raw: String,
        digest: String,
        analysis: Analysis,
        link_state: Vec<(String, String, Vec<u8>)>,
    ) -> Result<IngestItem> {
        let analysis_json = analysis_json(&analysis)?;
        Ok(IngestItem {
            ad,
            raw,
            digest,
            analysis,
            link_state,
            analysis_json,
            shadow: None,
        })
    }
}

/// What ingest did with one ad.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum IngestStatus {
    /// First time this id was seen.
    Created,
    /// The id was known with different content; the new revision is stored.
    Updated,
    /// The id was known with the same content; nothing changed.
    Unchanged,
}

/// The outcome for one ad: what happened and the analysis now stored for it.
#[derive(Debug, Clone)]
pub struct IngestResult {
    pub id: String,
    pub status: IngestStatus,
    pub revision: i64,
    pub analysis: Analysis,
    /// `analysis` as stored (JSON), so that answers need not serialise it again.
    pub analysis_json: String,
}

/// SHA-256 (hex) of the ad's canonical JSON: the parsed ad serialised again, so whitespace and
/// key order in what the platform sent do not make a re-send look like a change.
pub fn ad_digest(ad: &Ad) -> String {
    let canonical = serde_json::to_vec(ad).unwrap_or_default();
    sha256_hex(&canonical)
}

/// The identifiers an ad is searchable by: what the engine extracted, the poster account, and the
/// image hashes the platform supplied or the engine computed. Distinct `(kind, value)` pairs.
pub fn identifiers_of(ad: &Ad, analysis: &Analysis) -> Vec<(IdentifierKind, String)> {
    let mut out = Vec::new();
    let x = &analysis.extracted;
    out.extend(x.phones.iter().map(|v| (IdentifierKind::Phone, v.clone())));
    out.extend(
        x.emails
            .iter()
            .map(|v| (IdentifierKind::Email, v.to_lowercase())),
    );
    out.extend(
        x.handles
            .iter()
            .map(|v| (IdentifierKind::Handle, v.to_lowercase())),
    );
    out.extend(
        x.payments
            .iter()
            .map(|v| (IdentifierKind::Payment, v.clone())),
    );
    if let Some(account) = &ad.account {
        out.push((IdentifierKind::Account, account.clone()));
    }
    for image in &ad.images {
        if let ImageRef::Hashes { sha256, pdq } = image {
            if let Some(h) = sha256 {
                out.push((IdentifierKind::Sha256, h.to_ascii_lowercase()));
            }
            if let Some(h) = pdq {
                out.push((IdentifierKind::Pdq, h.to_ascii_lowercase()));
            }
        }
    }
    // Hashes the engine computed from the image files themselves.
    for image in &analysis.images {
        if let Some(h) = &image.sha256 {
            out.push((IdentifierKind::Sha256, h.to_ascii_lowercase()));
        }
        if let Some(h) = &image.pdq {
            out.push((IdentifierKind::Pdq, h.to_ascii_lowercase()));
        }
    }
    let mut seen = HashSet::new();
    out.retain(|(k, v)| !v.is_empty() && seen.insert((*k, v.clone())));
    out
}

/// Rows per multi-row statement: well under SQLite's 32 766 bound parameters.
pub(crate) const CHUNK: usize = 400;

pub(crate) fn check_batch(items: &[IngestItem]) -> Result<()> {
    let mut ids = HashSet::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        if item.analysis.id != item.ad.id {
            return Err(StoreError::Invalid(format!(
                "item {i}: analysis is for `{}` but the ad is `{}`",
                item.analysis.id, item.ad.id
            )));
        }
        if !ids.insert(item.ad.id.as_str()) {
            return Err(StoreError::Invalid(format!(
                "item {i}: ad id `{}` appears twice in one batch",
                item.ad.id
            )));
        }
    }
    Ok(())
}

pub(crate) fn analysis_json(a: &Analysis) -> Result<String> {
    serde_json::to_string(a)
        .map_err(|e| StoreError::Invalid(format!("analysis of `{}` does not serialise: {e}", a.id)))
}

pub(crate) fn parse_analysis(id: &str, text: &str) -> Result<Analysis> {
    serde_json::from_str(text)
        .map_err(|e| StoreError::Corrupt(format!("stored analysis of `{id}` does not parse: {e}")))
}

/// Whether a verdict puts the ad in front of a reviewer.
pub(crate) fn needs_review(v: Verdict) -> bool {
    !matches!(v, Verdict::Allow)
}

/// Everything `apply_analyses!` writes for one analysed ad.
pub(crate) struct Applied<'a> {
    pub id: &'a str,
    pub revision: i64,
    pub analysis: &'a Analysis,
    pub json: std::borrow::Cow<'a, str>,
    pub identifiers: Vec<(IdentifierKind, String)>,
    /// True when the ad was already stored before this transaction (old rows must be replaced).
    pub existed: bool,
    /// True when this is a new revision of a stored ad (not a re-analysis of the same one).
    pub new_revision: bool,
}

/// Writes analyses history, identifiers, queue state and network membership for `$applied`
/// (a `&[Applied]`) inside transaction `$tx`.
macro_rules! apply_analyses {
    ($tx:ident, $applied:expr, $now:expr) => {{
        let applied: &[$crate::ingest::Applied<'_>] = $applied;
        let now: i64 = $now;
        for chunk in applied.chunks($crate::ingest::CHUNK) {
            let mut qb = sqlx::QueryBuilder::<DB>::new(
                "INSERT INTO analyses (ad_id, revision, created_at, verdict, score, priority, policy, analysis) ",
            );
            qb.push_values(chunk, |mut b, a| {
                b.push_bind(a.id)
                    .push_bind(a.revision)
                    .push_bind(now)
                    .push_bind(a.analysis.verdict.as_str())
                    .push_bind(a.analysis.score)
                    .push_bind(i64::from(a.analysis.priority))
                    .push_bind(a.analysis.policy.as_str())
                    .push_bind(a.json.as_ref());
            });
            qb.build().execute(&mut *$tx).await?;

            let replaced: Vec<&str> = chunk.iter().filter(|a| a.existed).map(|a| a.id).collect();
            if !replaced.is_empty() {
                let mut qb = sqlx::QueryBuilder::<DB>::new("DELETE FROM identifiers WHERE ad_id IN (");
                let mut sep = qb.separated(", ");
                for id in &replaced {
                    sep.push_bind(*id);
                }
                sep.push_unseparated(")");
                qb.build().execute(&mut *$tx).await?;
            }
            let idents: Vec<(&str, &str, &str)> = chunk
                .iter()
                .flat_map(|a| a.identifiers.iter().map(move |(k, v)| (k.as_str(), v.as_str(), a.id)))
                .collect();
            for part in idents.chunks($crate::ingest::CHUNK) {
                let mut qb = sqlx::QueryBuilder::<DB>::new("INSERT INTO identifiers (kind, value, ad_id) ");
                qb.push_values(part, |mut b, (k, v, id)| {
                    b.push_bind(*k).push_bind(*v).push_bind(*id);
                });
                qb.push(" ON CONFLICT DO NOTHING");
                qb.build().execute(&mut *$tx).await?;
            }

            let review: Vec<&$crate::ingest::Applied<'_>> = chunk
                .iter()
                .filter(|a| $crate::ingest::needs_review(a.analysis.verdict))
                .collect();
            if !review.is_empty() {
                let mut qb = sqlx::QueryBuilder::<DB>::new(
                    "INSERT INTO queue (ad_id, priority, state, claimed_by, lease_until, enqueued_at, updated_at) ",
                );
                qb.push_values(&review, |mut b, a| {
                    b.push_bind(a.id)
                        .push_bind(i64::from(a.analysis.priority))
                        .push_bind("open")
                        .push_bind(Option::<String>::None)
                        .push_bind(Option::<i64>::None)
                        .push_bind(now)
                        .push_bind(now);
                });
                // A decided item re-opens only for a new revision (below), not a re-analysis.
                qb.push(
                    " ON CONFLICT (ad_id) DO UPDATE SET priority = excluded.priority, \
                     updated_at = excluded.updated_at",
                );
                qb.build().execute(&mut *$tx).await?;
            }
            let cleared: Vec<&str> = chunk
                .iter()
                .filter(|a| a.existed && !$crate::ingest::needs_review(a.analysis.verdict))
                .map(|a| a.id)
                .collect();
            if !cleared.is_empty() {
                // Nothing left to review: drop it unless a reviewer holds it or decided it.
                let mut qb = sqlx::QueryBuilder::<DB>::new(
                    "DELETE FROM queue WHERE state = 'open' AND claimed_by IS NULL AND ad_id IN (",
                );
                let mut sep = qb.separated(", ");
                for id in &cleared {
                    sep.push_bind(*id);
                }
                sep.push_unseparated(")");
                qb.build().execute(&mut *$tx).await?;
            }
            let changed: Vec<&str> = chunk.iter().filter(|a| a.new_revision).map(|a| a.id).collect();
            if !changed.is_empty() {
                // A decision judged an earlier revision: whatever the new verdict, a human
                // looks again (the decision stays on record with the revision it judged).
                let mut qb = sqlx::QueryBuilder::<DB>::new("UPDATE queue SET state = 'open', updated_at = ");
                qb.push_bind(now);
                qb.push(" WHERE state = 'decided' AND ad_id IN (");
                let mut sep = qb.separated(", ");
                for id in &changed {
                    sep.push_bind(*id);
                }
                sep.push_unseparated(")");
                qb.build().execute(&mut *$tx).await?;
            }

            let mut networks: std::collections::BTreeMap<&str, &samaritan_engine::model::NetworkRef> =
                std::collections::BTreeMap::new();
            let mut members: Vec<(&str, &str)> = Vec::new();
            for a in chunk {
                if let Some(n) = &a.analysis.network {
                    networks.insert(n.id.as_str(), n);
                    members.push((a.id, n.id.as_str()));
                }
            }
            if !networks.is_empty() {
                let rows: Vec<(&str, &samaritan_engine::model::NetworkRef, String)> = networks
                    .into_iter()
                    .map(|(id, n)| (id, n, serde_json::to_string(&n.reasons).unwrap_or_else(|_| "[]".into())))
                    .collect();
                let mut qb = sqlx::QueryBuilder::<DB>::new(
                    "INSERT INTO networks (id, size, cities, reasons, detail, updated_at) ",
                );
                qb.push_values(&rows, |mut b, (id, n, reasons)| {
                    b.push_bind(*id)
                        .push_bind(i64::from(n.size))
                        .push_bind(i64::from(n.cities))
                        .push_bind(reasons.as_str())
                        .push_bind("{}")
                        .push_bind(now);
                });
                qb.push(
                    " ON CONFLICT (id) DO UPDATE SET size = excluded.size, cities = excluded.cities, \
                     reasons = excluded.reasons, updated_at = excluded.updated_at",
                );
                qb.build().execute(&mut *$tx).await?;
                let mut qb = sqlx::QueryBuilder::<DB>::new("INSERT INTO network_members (ad_id, network_id) ");
                qb.push_values(&members, |mut b, (ad, net)| {
                    b.push_bind(*ad).push_bind(*net);
                });
                qb.push(" ON CONFLICT (ad_id) DO UPDATE SET network_id = excluded.network_id");
                qb.build().execute(&mut *$tx).await?;
            }
            let unlinked: Vec<&str> = chunk
                .iter()
                .filter(|a| a.existed && a.analysis.network.is_none())
                .map(|a| a.id)
                .collect();
            if !unlinked.is_empty() {
                let mut qb = sqlx::QueryBuilder::<DB>::new("DELETE FROM network_members WHERE ad_id IN (");
                let mut sep = qb.separated(", ");
                for id in &unlinked {
                    sep.push_bind(*id);
                }
                sep.push_unseparated(")");
                qb.build().execute(&mut *$tx).await?;
            }
        }
    }};
}

/// What the transaction did with one item; the item's own analysis is not copied (`None`), the
/// stored one of an unchanged re-send is read back (`Some`).
pub(crate) struct Stored {
    pub status: IngestStatus,
    pub revision: i64,
    pub analysis: Option<(Analysis, String)>,
}

impl Stored {
    /// The caller's result, taking the analysis from the item when it was the one stored.
    pub(crate) fn into_result(self, item: IngestItem) -> IngestResult {
        let (analysis, analysis_json) =
            self.analysis.unwrap_or((item.analysis, item.analysis_json));
        IngestResult {
            id: item.ad.id,
            status: self.status,
            revision: self.revision,
            analysis,
            analysis_json,
        }
    }
}

/// Stores one request's items (a `&[&IngestItem]`) inside transaction `$tx`; evaluates to
/// `Vec<Stored>` in input order.
macro_rules! ingest_in_tx {
    ($tx:ident, $items:expr, $now:expr, $audit_ppm:expr) => {{
        let items: &[&$crate::ingest::IngestItem] = $items;
        let now: i64 = $now;
        let audit_ppm: u64 = $audit_ppm;
        // What is stored already: id -> (digest, revision).
        let mut existing: std::collections::HashMap<String, (String, i64)> =
            std::collections::HashMap::new();
        for chunk in items.chunks($crate::ingest::CHUNK) {
            let mut qb = sqlx::QueryBuilder::<DB>::new("SELECT id, digest, revision FROM ads WHERE id IN (");
            let mut sep = qb.separated(", ");
            for item in chunk {
                sep.push_bind(item.ad.id.as_str());
            }
            sep.push_unseparated(")");
            let rows: Vec<(String, String, i64)> = qb.build_query_as().fetch_all(&mut *$tx).await?;
            for (id, digest, revision) in rows {
                existing.insert(id, (digest, revision));
            }
        }
        let mut plan: Vec<($crate::ingest::IngestStatus, i64)> = Vec::with_capacity(items.len());
        for item in items {
            plan.push(match existing.get(&item.ad.id) {
                Some((digest, rev)) if *digest == item.digest => {
                    ($crate::ingest::IngestStatus::Unchanged, *rev)
                }
                Some((_, rev)) => ($crate::ingest::IngestStatus::Updated, rev + 1),
                None => ($crate::ingest::IngestStatus::Created, 1),
            });
        }
        // An updated ad leaves the active-learning pool and the audit's undrawn sample before
        // anything else is written: a claim drawing from them locks their rows and then the
        // queue's, so ingest takes the same order (the other way round, PostgreSQL found a
        // deadlock between an update and a draw of the same ad). Only an ad stored before can
        // have a place to leave (a first ingest costs no delete).
        let updated: Vec<&str> = items
            .iter()
            .zip(&plan)
            .filter(|(_, (s, _))| *s == $crate::ingest::IngestStatus::Updated)
            .map(|(i, _)| i.ad.id.as_str())
            .collect();
        for chunk in updated.chunks($crate::ingest::CHUNK) {
            let mut qb = sqlx::QueryBuilder::<DB>::new("DELETE FROM learning_pool WHERE ad_id IN (");
            let mut sep = qb.separated(", ");
            for id in chunk {
                sep.push_bind(*id);
            }
            sep.push_unseparated(")");
            qb.build().execute(&mut *$tx).await?;
            // The audit samples what is live: an earlier revision neither drawn nor decided
            // leaves (a decided one stays: its decision is its answer).
            let mut qb = sqlx::QueryBuilder::<DB>::new(
                "DELETE FROM audit_sample WHERE drawn_at IS NULL AND NOT EXISTS (SELECT 1 \
                 FROM decisions d WHERE d.ad_id = audit_sample.ad_id \
                 AND d.revision = audit_sample.revision) AND ad_id IN (",
            );
            let mut sep = qb.separated(", ");
            for id in chunk {
                sep.push_bind(*id);
            }
            sep.push_unseparated(")");
            qb.build().execute(&mut *$tx).await?;
        }
        // Keep earlier revisions as evidence before overwriting them.
        for (item, (status, _)) in items.iter().zip(&plan) {
            if *status == $crate::ingest::IngestStatus::Updated {
                sqlx::query(
                    "INSERT INTO ad_history (ad_id, revision, raw, digest, received_at) \
                     SELECT id, revision, raw, digest, updated_at FROM ads WHERE id = $1",
                )
                .bind(item.ad.id.as_str())
                .execute(&mut *$tx)
                .await?;
            }
        }
        let mut applied: Vec<$crate::ingest::Applied<'_>> = Vec::new();
        for (item, (status, revision)) in items.iter().zip(&plan) {
            if *status != $crate::ingest::IngestStatus::Unchanged {
                applied.push($crate::ingest::Applied {
                    id: item.ad.id.as_str(),
                    revision: *revision,
                    analysis: &item.analysis,
                    json: std::borrow::Cow::Borrowed(item.analysis_json.as_str()),
                    identifiers: $crate::ingest::identifiers_of(&item.ad, &item.analysis),
                    existed: *status == $crate::ingest::IngestStatus::Updated,
                    new_revision: *status == $crate::ingest::IngestStatus::Updated,
                });
            }
        }
        let by_id: std::collections::HashMap<&str, &$crate::ingest::IngestItem> =
            items.iter().map(|i| (i.ad.id.as_str(), *i)).collect();
        for chunk in applied.chunks($crate::ingest::CHUNK) {
            let mut qb = sqlx::QueryBuilder::<DB>::new(
                "INSERT INTO ads (id, raw, digest, revision, received_at, updated_at, verdict, score, priority, policy, analysis) ",
            );
            qb.push_values(chunk, |mut b, a| {
                let item = by_id.get(a.id).copied();
                b.push_bind(a.id)
                    .push_bind(item.map(|i| i.raw.as_str()).unwrap_or(""))
                    .push_bind(item.map(|i| i.digest.as_str()).unwrap_or(""))
                    .push_bind(a.revision)
                    .push_bind(now)
                    .push_bind(now)
                    .push_bind(a.analysis.verdict.as_str())
                    .push_bind(a.analysis.score)
                    .push_bind(i64::from(a.analysis.priority))
                    .push_bind(a.analysis.policy.as_str())
                    .push_bind(a.json.as_ref());
            });
            qb.push(
                " ON CONFLICT (id) DO UPDATE SET raw = excluded.raw, digest = excluded.digest, \
                 revision = excluded.revision, updated_at = excluded.updated_at, \
                 verdict = excluded.verdict, score = excluded.score, priority = excluded.priority, \
                 policy = excluded.policy, analysis = excluded.analysis",
            );
            qb.build().execute(&mut *$tx).await?;
        }
        apply_analyses!($tx, &applied, now);

        // The linker's records for these ads, durable exactly when the ads are.
        let link_rows: Vec<(&str, &str, &[u8])> = items
            .iter()
            .flat_map(|i| i.link_state.iter().map(|(k, key, v)| (k.as_str(), key.as_str(), v.as_slice())))
            .collect();
        for chunk in link_rows.chunks($crate::ingest::CHUNK) {
            let mut qb = sqlx::QueryBuilder::<DB>::new(
                "INSERT INTO link_state (kind, key, value, updated_at) ",
            );
            qb.push_values(chunk, |mut b, (kind, key, value)| {
                b.push_bind(*kind).push_bind(*key).push_bind(*value).push_bind(now);
            });
            qb.push(
                " ON CONFLICT (kind, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            );
            qb.build().execute(&mut *$tx).await?;
        }

        // The model's shadow scores of the revisions stored here.
        let shadow_rows: Vec<(&str, i64, &$crate::ingest::ShadowInput)> = items
            .iter()
            .zip(&plan)
            .filter(|(_, (s, _))| *s != $crate::ingest::IngestStatus::Unchanged)
            .filter_map(|(i, (_, revision))| i.shadow.as_ref().map(|sh| (i.ad.id.as_str(), *revision, sh)))
            .collect();
        for chunk in shadow_rows.chunks($crate::ingest::CHUNK) {
            let mut qb = sqlx::QueryBuilder::<DB>::new(
                "INSERT INTO model_scores (ad_id, revision, model_version, probability, severe, \
                 raised, detail, created_at) ",
            );
            qb.push_values(chunk, |mut b, (id, revision, sh)| {
                b.push_bind(*id)
                    .push_bind(*revision)
                    .push_bind(sh.model_version)
                    .push_bind(sh.probability)
                    .push_bind(sh.severe)
                    .push_bind(i64::from(sh.raised))
                    .push_bind(sh.detail.as_str())
                    .push_bind(now);
            });
            qb.push(" ON CONFLICT (ad_id, revision, model_version) DO NOTHING");
            qb.build().execute(&mut *$tx).await?;
        }

        // The active-learning pool: an allowed revision the model is unsure of waits there; a
        // new revision (or one the policy now queues) replaces or leaves what was there. Only
        // an ad stored before can have a place to leave (a first ingest costs no delete).
        // The quality audit: each new allowed revision is sampled at the store's rate.
        let audited: Vec<(&str, i64)> = items
            .iter()
            .zip(&plan)
            .filter(|(i, (s, _))| {
                *s != $crate::ingest::IngestStatus::Unchanged
                    && !$crate::ingest::needs_review(i.analysis.verdict)
                    && $crate::audit_sample::sampled(audit_ppm)
            })
            .map(|(i, (_, revision))| (i.ad.id.as_str(), *revision))
            .collect();
        for chunk in audited.chunks($crate::ingest::CHUNK) {
            let mut qb = sqlx::QueryBuilder::<DB>::new(
                "INSERT INTO audit_sample (ad_id, revision, sampled_at) ",
            );
            qb.push_values(chunk, |mut b, (id, revision)| {
                b.push_bind(*id).push_bind(*revision).push_bind(now);
            });
            qb.push(" ON CONFLICT (ad_id, revision) DO NOTHING");
            qb.build().execute(&mut *$tx).await?;
        }
        let pooled: Vec<(&str, i64, &$crate::ingest::ShadowInput)> = items
            .iter()
            .zip(&plan)
            .filter(|(i, (s, _))| {
                *s != $crate::ingest::IngestStatus::Unchanged
                    && !$crate::ingest::needs_review(i.analysis.verdict)
            })
            .filter_map(|(i, (_, revision))| {
                i.shadow
                    .as_ref()
                    .filter(|sh| sh.margin <= $crate::ingest::LEARNING_BAND)
                    .map(|sh| (i.ad.id.as_str(), *revision, sh))
            })
            .collect();
        for chunk in pooled.chunks($crate::ingest::CHUNK) {
            let mut qb = sqlx::QueryBuilder::<DB>::new(
                "INSERT INTO learning_pool (ad_id, revision, model_version, margin, created_at) ",
            );
            qb.push_values(chunk, |mut b, (id, revision, sh)| {
                b.push_bind(*id)
                    .push_bind(*revision)
                    .push_bind(sh.model_version)
                    .push_bind(sh.margin)
                    .push_bind(now);
            });
            qb.build().execute(&mut *$tx).await?;
        }

        // Unchanged ads answer with what is stored.
        let unchanged: Vec<&str> = items
            .iter()
            .zip(&plan)
            .filter(|(_, (s, _))| *s == $crate::ingest::IngestStatus::Unchanged)
            .map(|(i, _)| i.ad.id.as_str())
            .collect();
        let mut stored: std::collections::HashMap<String, String> = std::collections::HashMap::new();
        for chunk in unchanged.chunks($crate::ingest::CHUNK) {
            let mut qb = sqlx::QueryBuilder::<DB>::new("SELECT id, analysis FROM ads WHERE id IN (");
            let mut sep = qb.separated(", ");
            for id in chunk {
                sep.push_bind(*id);
            }
            sep.push_unseparated(")");
            let rows: Vec<(String, String)> = qb.build_query_as().fetch_all(&mut *$tx).await?;
            stored.extend(rows);
        }
        let mut results = Vec::with_capacity(items.len());
        for (item, (status, revision)) in items.iter().zip(plan) {
            let analysis = if status == $crate::ingest::IngestStatus::Unchanged {
                let text = stored.get(&item.ad.id).ok_or_else(|| {
                    $crate::StoreError::Corrupt(format!("ad `{}` vanished during ingest", item.ad.id))
                })?;
                Some(($crate::ingest::parse_analysis(&item.ad.id, text)?, text.clone()))
            } else {
                None
            };
            results.push($crate::ingest::Stored {
                status,
                revision,
                analysis,
            });
        }
        results
    }};
}

impl Store {
    /// Stores ads with their analyses; returns one result per item, in order, once committed.
    ///
    /// Concurrent calls are committed together (group commit: one transaction and one fsync for
    /// all requests waiting at that moment), and each caller still gets only its own results. A
    /// batch may not contain the same id twice.
    pub async fn ingest(&self, items: Vec<IngestItem>) -> Result<Vec<IngestResult>> {
        self.queue_ingest(items, crate::NetworkChanges::default())
            .await?
            .committed()
            .await
    }

    /// [`Store::ingest`] in two steps, with the linker's network changes made after these ads
    /// were linked written in the same transaction (after the ads). Requests are committed in
    /// the order they were queued, so a caller that makes its changes and queues them under
    /// one lock never has an earlier state of the linker overwrite a later one.
    pub async fn queue_ingest(
        &self,
        items: Vec<IngestItem>,
        networks: crate::NetworkChanges,
    ) -> Result<crate::Queued> {
        check_batch(&items)?;
        if items.is_empty() && networks.is_empty() {
            return Ok(crate::writer::Queued::done(Vec::new()));
        }
        self.writer.queue(items, networks).await
    }

    /// Several [`Store::queue_ingest`] requests (ads, then the network changes made after
    /// them, in order) as one: they commit together in one transaction or not at all, even when
    /// the group commit they share fails and is retried request by request. The stream's
    /// linker queues a run of ads, each with the changes its linking made, this way.
    pub async fn queue_ingest_steps(
        &self,
        steps: Vec<(Vec<IngestItem>, crate::NetworkChanges)>,
    ) -> Result<crate::Queued> {
        let mut ids = std::collections::HashSet::new();
        for (items, _) in &steps {
            check_batch(items)?;
            for i in items {
                if !ids.insert(i.ad.id.as_str()) {
                    return Err(StoreError::Invalid(format!(
                        "ad `{}` appears twice in one request",
                        i.ad.id
                    )));
                }
            }
        }
        if steps.iter().all(|(i, n)| i.is_empty() && n.is_empty()) {
            return Ok(crate::writer::Queued::done(Vec::new()));
        }
        self.writer.queue_steps(steps).await
    }

    /// The stored content digests of those of `ids` that exist (to skip analysing re-sends).
    pub async fn digests(&self, ids: &[&str]) -> Result<HashMap<String, String>> {
        let mut out = HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(CHUNK) {
            let rows: Vec<(String, String)> = on_read!(self, |pool| {
                let mut qb =
                    sqlx::QueryBuilder::<DB>::new("SELECT id, digest FROM ads WHERE id IN (");
                let mut sep = qb.separated(", ");
                for id in chunk {
                    sep.push_bind(*id);
                }
                sep.push_unseparated(")");
                qb.build_query_as().fetch_all(pool).await?
            });
            out.extend(rows);
        }
        Ok(out)
    }

    /// Replaces the latest analyses of stored ads (re-analysis after a policy change or when the
    /// linker grew a network), keeping the history. Each ad must exist.
    pub async fn record_analyses(&self, items: &[(Ad, Analysis)]) -> Result<()> {
        let now = crate::now_ms();
        on_write!(&self.backend, |pool, dialect| {
            let mut tx = pool.begin_with(dialect.begin()).await?;
            let mut applied = Vec::with_capacity(items.len());
            for (ad, analysis) in items {
                let json = analysis_json(analysis)?;
                let rev: Option<(i64,)> = sqlx::query_as(
                    "UPDATE ads SET verdict = $2, score = $3, priority = $4, policy = $5, analysis = $6 \
                     WHERE id = $1 RETURNING revision",
                )
                .bind(ad.id.as_str())
                .bind(analysis.verdict.as_str())
                .bind(analysis.score)
                .bind(i64::from(analysis.priority))
                .bind(analysis.policy.as_str())
                .bind(json.as_str())
                .fetch_optional(&mut *tx)
                .await?;
                let Some((revision,)) = rev else {
                    return Err(StoreError::NotFound(format!("ad `{}`", ad.id)));
                };
                applied.push(Applied {
                    id: ad.id.as_str(),
                    revision,
                    analysis,
                    json: std::borrow::Cow::Owned(json),
                    identifiers: identifiers_of(ad, analysis),
                    existed: true,
                    new_revision: false,
                });
            }
            apply_analyses!(tx, &applied, now);
            tx.commit().await?;
            Ok(())
        })
    }
}
