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
//! that, record the head (`seq` and hash, printed by `samaritan audit verify`) somewhere else and
//! compare (`--expect-head`).

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
    /// `altered`, `missing`, `broken_link` or `unreadable`.
    pub kind: String,
    pub message: String,
}

/// The outcome of verifying the whole chain.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditReport {
    /// Entries read.
    pub entries: u64,
    /// `seq` and hash of the last entry (anchor these elsewhere to detect truncation).
    pub head_seq: i64,
    pub head_hash: String,
    /// Empty when the chain is intact.
    pub problems: Vec<AuditProblem>,
}

impl AuditReport {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// A stored row, before checking.
type Row = (i64, i64, String, String, String, String, String, String);

/// Checks rows in `seq` order, carrying the chain state between pages.
struct Verifier {
    expected_seq: i64,
    prev_hash: String,
    report: AuditReport,
}

const MAX_PROBLEMS: usize = 1000;

impl Verifier {
    fn new() -> Verifier {
        Verifier {
            expected_seq: 1,
            prev_hash: GENESIS_HASH.to_owned(),
            report: AuditReport {
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
        if entry.compute_hash(&detail_text) != hash {
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
        Ok(verifier.report)
    }
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
