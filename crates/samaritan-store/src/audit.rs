//! The append-only, hash-chained audit log, and its verification.
//!
//! Every decision, policy change, key change and evidence read is an entry. Each entry's hash
//! covers its own fields and the previous entry's hash, so altering, deleting, inserting or
//! reordering an entry breaks the chain from that point on.
//!
//! # Canonical form (version 1)
//!
//! `hash = SHA-256(canonical)`, written as 64 lowercase hex digits, where `canonical` is the byte
//! string
//!
//! ```text
//! "samaritan-audit-v1" ‖ field(seq) ‖ field(ts) ‖ field(actor) ‖ field(action) ‖ field(subject)
//!                      ‖ field(detail) ‖ field(prev_hash)
//! field(x) = u64 big-endian byte length of x ‖ the UTF-8 bytes of x
//! ```
//!
//! `seq` and `ts` (milliseconds since the Unix epoch) are written in decimal ASCII; `detail` is
//! the JSON text exactly as stored (compact, object keys sorted); `prev_hash` is the previous
//! entry's hash, or 64 zeros for the first entry (`seq = 1`). The length prefixes make the
//! encoding unambiguous without any escaping rules, so an auditor can recompute the chain in any
//! language from a database dump (Python: `struct.pack(">Q", len(b)) + b` per field).
//!
//! # What verification proves
//!
//! `verify` recomputes every hash in `seq` order and reports an entry whose fields were altered
//! (its hash no longer matches), a gap in `seq` (deleted entries), and an entry that does not
//! chain to its predecessor (inserted, deleted or reordered entries). A chain cannot by itself
//! reveal that its newest entries were cut off or rewritten together with every later hash: for
//! that, record the head (`seq` and hash, printed by `samaritan audit verify` and `audit head`, and
//! logged by the server as a checkpoint at start and after every periodic verification)
//! somewhere else and compare (`--expect-head`).
//!
//! # State cross-checked against the chain
//!
//! The `decisions` table the API serves is not trusted on its own: every decision's audit entry
//! repeats the whole row (`decisions::audit_detail`), so `verify` also reports a decision row
//! that was edited (`decision_altered`), deleted (`decision_missing`), inserted or pointed at
//! another entry (`decision_inserted`), or renumbered out of order (`decision_reordered`).
//!
//! The `api_keys` and `policies` tables are checked the same way, because a row written there
//! directly would grant access or change what the engine flags: every key must match its
//! `key.create` entry (name, scopes, creation time and, for keys made since the check existed,
//! the SHA-256 of the key) and be revoked exactly when a `key.revoke` entry says so
//! (`key_inserted`, `key_altered`, `key_unrevoked`, `key_missing`); every stored policy must
//! match its `policy.update` entry (version, label, SHA-256 of the text, actor, time:
//! `policy_inserted`, `policy_altered`, `policy_missing`). Model versions likewise: every stored
//! model must match its `model.update` / `model.rollback` entry (version, SHA-256 of the model,
//! what made it, the decisions it accounts for, actor, time) and its text must still hash to
//! that SHA-256 (`model_inserted`, `model_altered`, `model_missing`).
//!
//! The `users` table likewise, because a row written there directly would let someone sign in
//! (a known password hash swapped in) or act with more rights (role changed to admin): every
//! account must match its `user.create` entry (name, role, creation time), its password hash
//! must be the one the latest `user.create` or `user.reset_password` entry names (by SHA-256,
//! at that entry's time), and it is disabled exactly when a `user.disable` entry says so
//! (`user_inserted`, `user_altered`, `user_missing`). The throttle columns (`failed_logins`,
//! `locked_until`) are not checked: they change on every failed sign-in.

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::{Result, Store, StoreError, hex};

/// `prev_hash` of the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

const DOMAIN: &[u8] = b"samaritan-audit-v1";

/// One entry of the audit log.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEntry {
    /// Position in the chain, from 1 without gaps.
    pub seq: i64,
    /// Milliseconds since the Unix epoch.
    pub ts: i64,
    /// Who did it: an API key id (`key:…`), `cli`, or `system`.
    pub actor: String,
    /// What was done, e.g. `decision`, `policy.update`, `key.create`, `ad.read`.
    pub action: String,
    /// What it was done to, e.g. an ad id or a key id.
    pub subject: String,
    /// Particulars (JSON object); never ad text or secrets.
    pub detail: serde_json::Value,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditEntry {
    /// Builds the entry that follows `prev_hash` and computes its hash.
    pub fn new(
        seq: i64,
        ts: i64,
        actor: impl Into<String>,
        action: impl Into<String>,
        subject: impl Into<String>,
        detail: serde_json::Value,
        prev_hash: String,
    ) -> AuditEntry {
        let mut entry = AuditEntry {
            seq,
            ts,
            actor: actor.into(),
            action: action.into(),
            subject: subject.into(),
            detail: canonical_json(detail),
            prev_hash,
            hash: String::new(),
        };
        entry.hash = entry.compute_hash(&entry.detail_json());
        entry
    }

    /// The detail as stored: compact JSON with sorted object keys.
    pub fn detail_json(&self) -> String {
        serde_json::to_string(&canonical_json(self.detail.clone()))
            .unwrap_or_else(|_| "{}".to_owned())
    }

    /// SHA-256 over the canonical form (module docs), given the stored detail text.
    pub fn compute_hash(&self, detail_text: &str) -> String {
        let mut h = Sha256::new();
        h.update(DOMAIN);
        let seq = self.seq.to_string();
        let ts = self.ts.to_string();
        for field in [
            seq.as_bytes(),
            ts.as_bytes(),
            self.actor.as_bytes(),
            self.action.as_bytes(),
            self.subject.as_bytes(),
            detail_text.as_bytes(),
            self.prev_hash.as_bytes(),
        ] {
            h.update((field.len() as u64).to_be_bytes());
            h.update(field);
        }
        hex(&h.finalize())
    }
}

/// Rebuilds a JSON value with every object's keys in sorted order, whatever map type serde_json
/// was compiled with.
fn canonical_json(v: serde_json::Value) -> serde_json::Value {
    match v {
        serde_json::Value::Object(map) => {
            let mut pairs: Vec<_> = map.into_iter().collect();
            pairs.sort_by(|a, b| a.0.cmp(&b.0));
            serde_json::Value::Object(
                pairs
                    .into_iter()
                    .map(|(k, v)| (k, canonical_json(v)))
                    .collect(),
            )
        }
        serde_json::Value::Array(items) => {
            serde_json::Value::Array(items.into_iter().map(canonical_json).collect())
        }
        other => other,
    }
}

/// One thing wrong with the chain.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditProblem {
    /// The entry where the problem shows.
    pub seq: i64,
    /// `altered`, `missing`, `broken_link`; for the decisions table `decision_altered`,
    /// `decision_missing`, `decision_inserted`, `decision_reordered`; for keys `key_inserted`,
    /// `key_altered`, `key_unrevoked`, `key_missing`; for policies `policy_inserted`,
    /// `policy_altered`, `policy_missing`; for model versions `model_inserted`,
    /// `model_altered`, `model_missing`; for accounts `user_inserted`, `user_altered`,
    /// `user_missing`.
    pub kind: String,
    pub message: String,
}

/// The outcome of verifying the whole chain.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditReport {
    /// True when the chain and the state checked against it are intact.
    pub ok: bool,
    /// Entries read.
    pub entries: u64,
    /// `seq` and hash of the last entry (anchor these elsewhere to detect truncation).
    pub head_seq: i64,
    pub head_hash: String,
    /// Decision rows checked against their entries.
    pub decisions: u64,
    /// Key rows checked against their entries.
    pub keys: u64,
    /// Stored policies checked against their entries.
    pub policies: u64,
    /// Stored model versions checked against their entries.
    pub models: u64,
    /// Accounts checked against their entries.
    pub users: u64,
    /// Empty when the chain is intact.
    pub problems: Vec<AuditProblem>,
}

impl AuditReport {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// A decision's audit entry, kept while the chain is read.
struct DecisionEntry {
    ts: i64,
    actor: String,
    subject: String,
    detail: String,
}

/// A `key.create`, `key.revoke` or `policy.update` entry, kept while the chain is read.
struct StateEntry {
    seq: i64,
    ts: i64,
    actor: String,
    detail: serde_json::Value,
}

/// A stored row, before checking.
type Row = (i64, i64, String, String, String, String, String, String);

/// Checks rows in `seq` order, carrying the chain state between pages.
struct Verifier {
    expected_seq: i64,
    prev_hash: String,
    report: AuditReport,
    /// Audit seq → the decision entry, for the cross-check of the decisions table.
    decisions: std::collections::BTreeMap<i64, DecisionEntry>,
    /// The highest `audit_seq` of the decision rows checked so far.
    last_decision_audit: i64,
    /// Key id → its `key.create` entry; key id → its `key.revoke` entry.
    key_creates: std::collections::BTreeMap<String, StateEntry>,
    key_revokes: std::collections::BTreeMap<String, StateEntry>,
    /// Policy version → its `policy.update` entry.
    policies: std::collections::BTreeMap<i64, StateEntry>,
    /// Model version → its `model.update` or `model.rollback` entry.
    models: std::collections::BTreeMap<i64, StateEntry>,
    /// User id → its `user.create` entry; → its latest credential entry (`user.create` or
    /// `user.reset_password`); → its `user.disable` entry.
    user_creates: std::collections::BTreeMap<String, StateEntry>,
    user_credentials: std::collections::BTreeMap<String, StateEntry>,
    user_disables: std::collections::BTreeMap<String, StateEntry>,
}

const MAX_PROBLEMS: usize = 1000;

impl Verifier {
    fn new() -> Verifier {
        Verifier {
            expected_seq: 1,
            prev_hash: GENESIS_HASH.to_owned(),
            decisions: std::collections::BTreeMap::new(),
            last_decision_audit: 0,
            key_creates: std::collections::BTreeMap::new(),
            key_revokes: std::collections::BTreeMap::new(),
            policies: std::collections::BTreeMap::new(),
            models: std::collections::BTreeMap::new(),
            user_creates: std::collections::BTreeMap::new(),
            user_credentials: std::collections::BTreeMap::new(),
            user_disables: std::collections::BTreeMap::new(),
            report: AuditReport {
                ok: true,
                decisions: 0,
                keys: 0,
                policies: 0,
                models: 0,
                users: 0,
                entries: 0,
                head_seq: 0,
                head_hash: GENESIS_HASH.to_owned(),
                problems: Vec::new(),
            },
        }
    }

    fn problem(&mut self, seq: i64, kind: &str, message: String) {
        if self.report.problems.len() < MAX_PROBLEMS {
            self.report.problems.push(AuditProblem {
                seq,
                kind: kind.to_owned(),
                message,
            });
        }
    }

    fn check(&mut self, row: Row) {
        let (seq, ts, actor, action, subject, detail_text, prev_hash, hash) = row;
        self.report.entries += 1;
        if seq != self.expected_seq {
            if seq > self.expected_seq {
                self.problem(
                    seq,
                    "missing",
                    format!(
                        "entries {}..={} are missing (deleted)",
                        self.expected_seq,
                        seq - 1
                    ),
                );
            } else {
                self.problem(
                    seq,
                    "broken_link",
                    format!("entry {seq} appears after entry {}", self.expected_seq - 1),
                );
            }
        }
        if prev_hash != self.prev_hash {
            self.problem(
                seq,
                "broken_link",
                format!(
                    "entry {seq} does not chain to the entry before it \
                     (an entry was inserted, deleted or reordered here)"
                ),
            );
        }
        let entry = AuditEntry {
            seq,
            ts,
            actor,
            action,
            subject,
            detail: serde_json::Value::Null,
            prev_hash,
            hash: hash.clone(),
        };
        let altered = entry.compute_hash(&detail_text) != hash;
        if entry.action == "decision" {
            self.decisions.insert(
                seq,
                DecisionEntry {
                    ts: entry.ts,
                    actor: entry.actor.clone(),
                    subject: entry.subject.clone(),
                    detail: detail_text.clone(),
                },
            );
        }
        if matches!(
            entry.action.as_str(),
            "key.create"
                | "key.revoke"
                | "policy.update"
                | "model.update"
                | "model.rollback"
                | "user.create"
                | "user.reset_password"
                | "user.disable"
        ) {
            let detail = serde_json::from_str(&detail_text).unwrap_or(serde_json::Value::Null);
            let kept = StateEntry {
                seq,
                ts: entry.ts,
                actor: entry.actor.clone(),
                detail,
            };
            match entry.action.as_str() {
                "key.create" => {
                    self.key_creates.insert(entry.subject.clone(), kept);
                }
                "key.revoke" => {
                    self.key_revokes.insert(entry.subject.clone(), kept);
                }
                "user.create" => {
                    let credential = StateEntry {
                        seq: kept.seq,
                        ts: kept.ts,
                        actor: kept.actor.clone(),
                        detail: kept.detail.clone(),
                    };
                    self.user_credentials
                        .insert(entry.subject.clone(), credential);
                    self.user_creates.insert(entry.subject.clone(), kept);
                }
                "user.reset_password" => {
                    self.user_credentials.insert(entry.subject.clone(), kept);
                }
                "user.disable" => {
                    self.user_disables.insert(entry.subject.clone(), kept);
                }
                "model.update" | "model.rollback" => {
                    if let Some(v) = kept.detail["version"].as_i64() {
                        self.models.insert(v, kept);
                    }
                }
                _ => {
                    if let Some(v) = kept.detail["version"].as_i64() {
                        self.policies.insert(v, kept);
                    }
                }
            }
        }
        if altered {
            self.problem(
                seq,
                "altered",
                format!("entry {seq} was altered: its content no longer matches its hash"),
            );
        }
        self.expected_seq = seq + 1;
        self.report.head_seq = seq;
        self.report.head_hash = hash.clone();
        self.prev_hash = hash;
    }
}

impl Verifier {
    /// Checks one decision row (in `seq` order) against the entry it names.
    fn check_decision(&mut self, d: crate::Decision) {
        self.report.decisions += 1;
        let Some(entry) = self.decisions.remove(&d.audit_seq) else {
            self.problem(
                d.audit_seq,
                "decision_inserted",
                format!(
                    "decision {} on `{}` names audit entry {}, which records no such decision \
                     (the row was inserted or re-pointed)",
                    d.seq, d.ad_id, d.audit_seq
                ),
            );
            return;
        };
        if d.audit_seq <= self.last_decision_audit {
            self.problem(
                d.audit_seq,
                "decision_reordered",
                format!(
                    "decision {} is recorded by audit entry {}, before the decision numbered \
                     ahead of it (decisions were renumbered or reordered)",
                    d.seq, d.audit_seq
                ),
            );
        }
        self.last_decision_audit = self.last_decision_audit.max(d.audit_seq);
        let legacy = !entry.detail.contains("\"decision_seq\"");
        let detail_matches = if legacy {
            // Entries written before decisions were bound hold action, reason and note hash.
            serde_json::from_str::<serde_json::Value>(&entry.detail).is_ok_and(|v| {
                v["action"] == d.action.as_str()
                    && v["reason"] == d.reason.as_str()
                    && v["note_sha256"] == crate::sha256_hex(d.note.as_bytes()).as_str()
            })
        } else {
            let expected = AuditEntry::new(
                0,
                0,
                "",
                "",
                "",
                crate::decisions::audit_detail(&d),
                String::new(),
            );
            expected.detail_json() == entry.detail
        };
        if !detail_matches
            || entry.subject != d.ad_id
            || entry.actor != d.actor
            || entry.ts != d.created_at
        {
            self.problem(
                d.audit_seq,
                "decision_altered",
                format!(
                    "decision {} on `{}` no longer matches its audit entry {} (the row was edited)",
                    d.seq, d.ad_id, d.audit_seq
                ),
            );
        }
    }

    /// Checks one stored key against its `key.create` and `key.revoke` entries.
    fn check_key(&mut self, k: &crate::keys::KeyAuditRow) {
        self.report.keys += 1;
        let Some(created) = self.key_creates.remove(&k.id) else {
            self.problem(
                0,
                "key_inserted",
                format!(
                    "key `{}` has no `key.create` entry (the row was inserted directly)",
                    k.id
                ),
            );
            return;
        };
        let d = &created.detail;
        let hash_ok = d
            .get("key_sha256")
            .is_none_or(|h| h.as_str() == Some(k.hash.as_str()));
        if d["name"].as_str() != Some(k.name.as_str())
            || d["scopes"].as_str() != Some(k.scopes.as_str())
            || d.get("person").and_then(|p| p.as_str()) != k.person.as_deref()
            || created.ts != k.created_at
            || !hash_ok
        {
            self.problem(
                created.seq,
                "key_altered",
                format!(
                    "key `{}` no longer matches its `key.create` entry {} \
                     (name, scopes, person, time or secret hash were edited)",
                    k.id, created.seq
                ),
            );
        }
        match (self.key_revokes.remove(&k.id), k.revoked_at) {
            (Some(r), None) => self.problem(
                r.seq,
                "key_unrevoked",
                format!(
                    "key `{}` was revoked by entry {} but is active in the table",
                    k.id, r.seq
                ),
            ),
            (Some(r), Some(at)) if r.ts != at => self.problem(
                r.seq,
                "key_altered",
                format!(
                    "key `{}` revocation time differs from its `key.revoke` entry {}",
                    k.id, r.seq
                ),
            ),
            (None, Some(_)) => self.problem(
                created.seq,
                "key_altered",
                format!("key `{}` is revoked without a `key.revoke` entry", k.id),
            ),
            _ => {}
        }
    }

    /// Checks one stored policy against its `policy.update` entry.
    fn check_policy(&mut self, p: &crate::policy::PolicyVersion) {
        self.report.policies += 1;
        let Some(e) = self.policies.remove(&p.version) else {
            self.problem(
                0,
                "policy_inserted",
                format!(
                    "policy version {} has no `policy.update` entry (the row was inserted directly)",
                    p.version
                ),
            );
            return;
        };
        if e.detail["label"].as_str() != Some(p.label.as_str())
            || e.detail["sha256"].as_str() != Some(crate::sha256_hex(p.text.as_bytes()).as_str())
            || e.actor != p.actor
            || e.ts != p.created_at
        {
            self.problem(
                e.seq,
                "policy_altered",
                format!(
                    "policy version {} no longer matches its `policy.update` entry {} (its text,                      label, actor or time were edited)",
                    p.version, e.seq
                ),
            );
        }
    }

    /// Checks one stored model version against its `model.update` / `model.rollback` entry:
    /// the row's fields as the entry repeats them, and the model text against its SHA-256.
    fn check_model(&mut self, m: &crate::models::StoredModel) {
        self.report.models += 1;
        let v = &m.meta;
        let Some(e) = self.models.remove(&v.version) else {
            self.problem(
                0,
                "model_inserted",
                format!(
                    "model version {} has no `model.update` entry (the row was inserted directly)",
                    v.version
                ),
            );
            return;
        };
        if e.detail != crate::models::audit_detail(v)
            || crate::sha256_hex(m.model.as_bytes()) != v.sha256
            || e.actor != v.actor
            || e.ts != v.created_at
        {
            self.problem(
                e.seq,
                "model_altered",
                format!(
                    "model version {} no longer matches its audit entry {} (the model, what \
                     made it, the actor or the time were edited)",
                    v.version, e.seq
                ),
            );
        }
    }

    /// Checks one stored account against its `user.*` entries (module docs).
    fn check_user(&mut self, u: &crate::users::UserAuditRow) {
        self.report.users += 1;
        let Some(created) = self.user_creates.remove(&u.id) else {
            self.problem(
                0,
                "user_inserted",
                format!(
                    "user `{}` ({}) has no `user.create` entry (the row was inserted directly)",
                    u.name, u.id
                ),
            );
            return;
        };
        let d = &created.detail;
        if d["name"].as_str() != Some(u.name.as_str())
            || d["role"].as_str() != Some(u.role.as_str())
            || created.ts != u.created_at
        {
            self.problem(
                created.seq,
                "user_altered",
                format!(
                    "user `{}` no longer matches its `user.create` entry {} (name, role or \
                     creation time were edited)",
                    u.name, created.seq
                ),
            );
        }
        let hash = crate::sha256_hex(u.hash.as_bytes());
        if let Some(c) = self.user_credentials.remove(&u.id)
            && (c.detail["credential_sha256"].as_str() != Some(hash.as_str())
                || c.ts != u.password_changed_at)
        {
            self.problem(
                c.seq,
                "user_altered",
                format!(
                    "user `{}` password hash is not the one audit entry {} set (it was replaced \
                     directly)",
                    u.name, c.seq
                ),
            );
        }
        match (self.user_disables.remove(&u.id), u.disabled_at) {
            (Some(e), Some(at)) if e.ts == at => {}
            (None, None) => {}
            (Some(e), _) => self.problem(
                e.seq,
                "user_altered",
                format!(
                    "user `{}` was disabled by entry {} but the table says otherwise",
                    u.name, e.seq
                ),
            ),
            (None, Some(_)) => self.problem(
                created.seq,
                "user_altered",
                format!(
                    "user `{}` is disabled without a `user.disable` entry",
                    u.name
                ),
            ),
        }
    }

    /// Reports decision entries left without a row, and closes the report.
    fn finish(mut self) -> AuditReport {
        for (id, e) in std::mem::take(&mut self.key_creates) {
            self.problem(
                e.seq,
                "key_missing",
                format!(
                    "audit entry {} created key `{id}`, which is no longer stored",
                    e.seq
                ),
            );
        }
        for (id, e) in std::mem::take(&mut self.user_creates) {
            let name = e.detail["name"].as_str().unwrap_or("?").to_owned();
            self.problem(
                e.seq,
                "user_missing",
                format!(
                    "audit entry {} created user `{name}` ({id}), which is no longer stored",
                    e.seq
                ),
            );
        }
        for (v, e) in std::mem::take(&mut self.models) {
            self.problem(
                e.seq,
                "model_missing",
                format!(
                    "audit entry {} put model version {v} in force, which is no longer stored",
                    e.seq
                ),
            );
        }
        for (v, e) in std::mem::take(&mut self.policies) {
            self.problem(
                e.seq,
                "policy_missing",
                format!(
                    "audit entry {} put policy version {v} in force, which is no longer stored",
                    e.seq
                ),
            );
        }
        let orphans: Vec<(i64, DecisionEntry)> =
            std::mem::take(&mut self.decisions).into_iter().collect();
        for (seq, e) in orphans {
            let which = serde_json::from_str::<serde_json::Value>(&e.detail)
                .ok()
                .and_then(|v| v["decision_seq"].as_i64())
                .map_or_else(String::new, |s| format!(" {s}"));
            self.problem(
                seq,
                "decision_missing",
                format!(
                    "audit entry {seq} records decision{which} on `{}`, which is no longer in \
                     the decisions table (deleted)",
                    e.subject
                ),
            );
        }
        self.report.problems.sort_by_key(|p| p.seq);
        self.report.ok = self.report.problems.is_empty();
        self.report
    }
}

const PAGE: i64 = 5000;

impl Store {
    /// Appends an entry in its own transaction (for events that change nothing else, such as an
    /// evidence read). Decisions, key and policy changes append inside their own transaction.
    pub async fn audit_append(
        &self,
        actor: &str,
        action: &str,
        subject: &str,
        detail: serde_json::Value,
    ) -> Result<AuditEntry> {
        let now = crate::now_ms();
        on_write!(&self.backend, |pool, dialect| {
            let mut tx = pool.begin_with(dialect.begin()).await?;
            let entry = append_audit!(tx, dialect, actor, action, subject, detail, now);
            tx.commit().await?;
            Ok(entry)
        })
    }

    /// The entries about any of `subjects` (an ad id, `reports`, …), oldest first, at most
    /// `limit` (for an evidence bundle: a case's own record).
    pub async fn audit_of_subjects(
        &self,
        subjects: &[&str],
        limit: i64,
    ) -> Result<Vec<AuditEntry>> {
        if subjects.is_empty() {
            return Ok(Vec::new());
        }
        let rows: Vec<Row> = on_read!(self, |pool| {
            let mut qb = sqlx::QueryBuilder::<DB>::new(
                "SELECT seq, ts, actor, action, subject, detail, prev_hash, hash FROM audit_log \
                 WHERE subject IN (",
            );
            let mut sep = qb.separated(", ");
            for s in subjects.iter().take(1000) {
                sep.push_bind(*s);
            }
            sep.push_unseparated(") ORDER BY seq LIMIT ");
            qb.push_bind(limit);
            qb.build_query_as().fetch_all(pool).await?
        });
        entries_of(rows)
    }

    /// Entries with `seq > after`, oldest first, at most `limit`.
    pub async fn audit_list(&self, after: i64, limit: i64) -> Result<Vec<AuditEntry>> {
        let rows: Vec<Row> = on_read!(self, |pool| {
            sqlx::query_as(
                "SELECT seq, ts, actor, action, subject, detail, prev_hash, hash \
                 FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2",
            )
            .bind(after)
            .bind(limit)
            .fetch_all(pool)
            .await?
        });
        entries_of(rows)
    }

    /// Recomputes the whole chain (module docs say what this detects).
    pub async fn audit_verify(&self) -> Result<AuditReport> {
        let mut verifier = Verifier::new();
        let mut after = i64::MIN;
        loop {
            let rows: Vec<Row> = on_read!(self, |pool| {
                sqlx::query_as(
                    "SELECT seq, ts, actor, action, subject, detail, prev_hash, hash \
                     FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2",
                )
                .bind(after)
                .bind(PAGE)
                .fetch_all(pool)
                .await?
            });
            let n = rows.len();
            for row in rows {
                after = row.0;
                verifier.check(row);
            }
            if (n as i64) < PAGE {
                break;
            }
        }
        let mut after = i64::MIN;
        loop {
            let rows: Vec<crate::decisions::DecisionRow> = on_read!(self, |pool| {
                sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT {} FROM decisions WHERE seq > $1 ORDER BY seq LIMIT $2",
                    crate::decisions::DECISION_COLUMNS
                )))
                .bind(after)
                .bind(PAGE)
                .fetch_all(pool)
                .await?
            });
            let n = rows.len();
            for row in rows {
                let d = crate::Decision::from(row);
                after = d.seq;
                verifier.check_decision(d);
            }
            if (n as i64) < PAGE {
                break;
            }
        }
        for k in self.key_audit_rows().await? {
            verifier.check_key(&k);
        }
        for p in self.policy_history().await? {
            verifier.check_policy(&p);
        }
        for v in self.model_history().await? {
            // One model at a time: versions can be megabytes each.
            if let Some(m) = self.model_version(v.version).await? {
                verifier.check_model(&m);
            }
        }
        for u in self.user_audit_rows().await? {
            verifier.check_user(&u);
        }
        Ok(verifier.finish())
    }

    /// `seq` and hash of the newest audit entry (0 and the genesis hash when empty), for
    /// operators to keep outside the database.
    pub async fn audit_head(&self) -> Result<(i64, String)> {
        let head: Option<(i64, String)> = on_read!(self, |pool| {
            sqlx::query_as("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
                .fetch_optional(pool)
                .await?
        });
        Ok(head.unwrap_or((0, GENESIS_HASH.to_owned())))
    }
}

/// Audit rows as entries (the detail parsed).
fn entries_of(rows: Vec<Row>) -> Result<Vec<AuditEntry>> {
    rows.into_iter()
        .map(
            |(seq, ts, actor, action, subject, detail, prev_hash, hash)| {
                let detail = serde_json::from_str(&detail).map_err(|e| {
                    StoreError::Corrupt(format!("audit entry {seq} detail is not JSON: {e}"))
                })?;
                Ok(AuditEntry {
                    seq,
                    ts,
                    actor,
                    action,
                    subject,
                    detail,
                    prev_hash,
                    hash,
                })
            },
        )
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_covers_every_field_and_the_link() {
        let base = AuditEntry::new(
            1,
            10,
            "cli",
            "key.create",
            "k1",
            serde_json::json!({"b": 1, "a": [2, {"z": 0, "y": 1}]}),
            GENESIS_HASH.to_owned(),
        );
        assert_eq!(base.detail_json(), r#"{"a":[2,{"y":1,"z":0}],"b":1}"#);
        assert_eq!(base.hash, base.compute_hash(&base.detail_json()));
        let variants = [
            AuditEntry {
                seq: 2,
                ..base.clone()
            },
            AuditEntry {
                ts: 11,
                ..base.clone()
            },
            AuditEntry {
                actor: "clj".into(),
                ..base.clone()
            },
            AuditEntry {
                action: "key.revoke".into(),
                ..base.clone()
            },
            AuditEntry {
                subject: "k2".into(),
                ..base.clone()
            },
            AuditEntry {
                prev_hash: "1".repeat(64),
                ..base.clone()
            },
        ];
        for v in variants {
            assert_ne!(v.compute_hash(&v.detail_json()), base.hash, "{v:?}");
        }
        assert_ne!(base.compute_hash(r#"{"a":[2],"b":1}"#), base.hash);
    }

    #[test]
    fn length_prefixes_make_field_boundaries_unambiguous() {
        let a = AuditEntry::new(
            1,
            1,
            "ab",
            "c",
            "",
            serde_json::json!({}),
            GENESIS_HASH.into(),
        );
        let b = AuditEntry::new(
            1,
            1,
            "a",
            "bc",
            "",
            serde_json::json!({}),
            GENESIS_HASH.into(),
        );
        assert_ne!(a.hash, b.hash);
    }

    #[test]
    fn known_vector() {
        // Recomputable by hand: sha256(b"samaritan-audit-v1" + fields with u64 BE lengths).
        let e = AuditEntry::new(1, 0, "", "", "", serde_json::json!({}), GENESIS_HASH.into());
        let mut bytes = DOMAIN.to_vec();
        for f in ["1", "0", "", "", "", "{}", GENESIS_HASH] {
            bytes.extend_from_slice(&(f.len() as u64).to_be_bytes());
            bytes.extend_from_slice(f.as_bytes());
        }
        assert_eq!(e.hash, crate::sha256_hex(&bytes));
    }
}
