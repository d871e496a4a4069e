//! Search by identifier: the ads that share a phone, email, handle, payment id, account or image
//! hash. PDQ hashes also match within a Hamming distance.

use serde::Serialize;

use crate::{Result, Store, StoreError};

/// The kinds of identifier ads are indexed by.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum IdentifierKind {
    Phone,
    Email,
    Handle,
    Payment,
    Account,
    Pdq,
    Sha256,
}

impl IdentifierKind {
    pub const ALL: [IdentifierKind; 7] = [
        IdentifierKind::Phone,
        IdentifierKind::Email,
        IdentifierKind::Handle,
        IdentifierKind::Payment,
        IdentifierKind::Account,
        IdentifierKind::Pdq,
        IdentifierKind::Sha256,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            IdentifierKind::Phone => "phone",
            IdentifierKind::Email => "email",
            IdentifierKind::Handle => "handle",
            IdentifierKind::Payment => "payment",
            IdentifierKind::Account => "account",
            IdentifierKind::Pdq => "pdq",
            IdentifierKind::Sha256 => "sha256",
        }
    }

    pub fn parse(s: &str) -> Option<IdentifierKind> {
        IdentifierKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Brings a searched value into the form ads are indexed by, or explains why it cannot be.
    ///
    /// Phones: digits only; an 11-digit number starting with 1 is North American and loses the 1
    /// (the engine's convention). Emails and handles: lowercase. Hashes: lowercase hex of the
    /// right length.
    pub fn normalize(self, value: &str) -> Result<String> {
        let value = value.trim();
        if value.is_empty() {
            return Err(StoreError::Invalid(format!("`{}` is empty", self.as_str())));
        }
        if value.len() > 512 {
            return Err(StoreError::Invalid(format!(
                "`{}` is longer than 512 bytes",
                self.as_str()
            )));
        }
        match self {
            IdentifierKind::Phone => {
                let digits: String = value.chars().filter(char::is_ascii_digit).collect();
                if digits.len() < 7 || digits.len() > 15 {
                    return Err(StoreError::Invalid(
                        "`phone` must have 7 to 15 digits".to_owned(),
                    ));
                }
                Ok(match digits.strip_prefix('1') {
                    Some(rest) if digits.len() == 11 => rest.to_owned(),
                    _ => digits,
                })
            }
            IdentifierKind::Email | IdentifierKind::Handle => Ok(value.to_lowercase()),
            IdentifierKind::Payment | IdentifierKind::Account => Ok(value.to_owned()),
            IdentifierKind::Pdq | IdentifierKind::Sha256 => {
                let v = value.to_ascii_lowercase();
                if v.len() != 64 || !v.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(StoreError::Invalid(format!(
                        "`{}` must be 64 hexadecimal digits",
                        self.as_str()
                    )));
                }
                Ok(v)
            }
        }
    }
}

/// One ad found by a search.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchHit {
    pub ad_id: String,
    /// The identifier value that matched (for PDQ, the stored hash, which may differ).
    pub value: String,
    /// Hamming distance for PDQ matches; absent for exact matches.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distance: Option<u32>,
    pub verdict: String,
    pub score: f64,
    pub priority: i64,
    pub network_id: Option<String>,
}

type HitRow = (String, String, String, f64, i64, Option<String>);

impl Store {
    /// The ads indexed under `kind` = `value` (normalised first), highest priority first.
    pub async fn search(
        &self,
        kind: IdentifierKind,
        value: &str,
        limit: i64,
    ) -> Result<Vec<SearchHit>> {
        let value = kind.normalize(value)?;
        let rows = self.hits(kind, &[value.as_str()], limit).await?;
        Ok(rows.into_iter().map(|r| hit(r, None)).collect())
    }

    /// Ads with a PDQ hash within `max_distance` bits of `pdq`, nearest first.
    ///
    /// Compares against every distinct stored PDQ hash (exact and simple; ~32 bytes per hash).
    /// The image issue's PDQ index replaces the scan when hash counts grow large.
    pub async fn search_pdq(
        &self,
        pdq: &str,
        max_distance: u32,
        limit: i64,
    ) -> Result<Vec<SearchHit>> {
        let wanted = parse_hash256(&IdentifierKind::Pdq.normalize(pdq)?)?;
        let stored: Vec<(String,)> = on_read!(self, |pool| {
            sqlx::query_as("SELECT DISTINCT value FROM identifiers WHERE kind = 'pdq'")
                .fetch_all(pool)
                .await?
        });
        let mut near: Vec<(u32, String)> = stored
            .into_iter()
            .filter_map(|(v,)| {
                let h = parse_hash256(&v).ok()?;
                let d: u32 = h
                    .iter()
                    .zip(&wanted)
                    .map(|(a, b)| (a ^ b).count_ones())
                    .sum();
                (d <= max_distance).then_some((d, v))
            })
            .collect();
        near.sort();
        self.search_pdq_values(&near, limit).await
    }

    /// The ads indexed under the given PDQ values (`(distance, lowercase hex)`, as an in-memory
    /// index found them), nearest first, then highest priority. An indexed lookup per value, no
    /// scan.
    pub async fn search_pdq_values(
        &self,
        near: &[(u32, String)],
        limit: i64,
    ) -> Result<Vec<SearchHit>> {
        let values: Vec<&str> = near.iter().map(|(_, v)| v.as_str()).collect();
        let distance: std::collections::HashMap<&str, u32> =
            near.iter().map(|(d, v)| (v.as_str(), *d)).collect();
        let rows = self.hits(IdentifierKind::Pdq, &values, limit).await?;
        let mut hits: Vec<SearchHit> = rows
            .into_iter()
            .map(|r| {
                let d = distance.get(r.1.as_str()).copied();
                hit(r, d)
            })
            .collect();
        hits.sort_by(|a, b| {
            a.distance
                .cmp(&b.distance)
                .then(b.priority.cmp(&a.priority))
                .then(a.ad_id.cmp(&b.ad_id))
        });
        hits.truncate(usize::try_from(limit).unwrap_or(0));
        Ok(hits)
    }

    async fn hits(&self, kind: IdentifierKind, values: &[&str], limit: i64) -> Result<Vec<HitRow>> {
        let mut out = Vec::new();
        for chunk in values.chunks(crate::ingest::CHUNK) {
            let rows: Vec<HitRow> = on_read!(self, |pool| {
                let mut qb = sqlx::QueryBuilder::<DB>::new(
                    "SELECT i.ad_id, i.value, a.verdict, a.score, a.priority, m.network_id \
                     FROM identifiers i JOIN ads a ON a.id = i.ad_id \
                     LEFT JOIN network_members m ON m.ad_id = i.ad_id WHERE i.kind = ",
                );
                qb.push_bind(kind.as_str()).push(" AND i.value IN (");
                let mut sep = qb.separated(", ");
                for v in chunk {
                    sep.push_bind(*v);
                }
                sep.push_unseparated(") ORDER BY a.priority DESC, i.ad_id LIMIT ");
                qb.push_bind(limit);
                qb.build_query_as().fetch_all(pool).await?
            });
            out.extend(rows);
        }
        Ok(out)
    }
}

fn hit(r: HitRow, distance: Option<u32>) -> SearchHit {
    SearchHit {
        ad_id: r.0,
        value: r.1,
        distance,
        verdict: r.2,
        score: r.3,
        priority: r.4,
        network_id: r.5,
    }
}

fn parse_hash256(hex: &str) -> Result<[u8; 32]> {
    let bytes = hex.as_bytes();
    if bytes.len() != 64 {
        return Err(StoreError::Invalid(
            "a 256-bit hash has 64 hex digits".into(),
        ));
    }
    let mut out = [0u8; 32];
    for (i, pair) in bytes.chunks(2).enumerate() {
        let s = std::str::from_utf8(pair).map_err(|_| StoreError::Invalid("not hex".into()))?;
        out[i] = u8::from_str_radix(s, 16).map_err(|_| StoreError::Invalid("not hex".into()))?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_queries_normalise_like_the_engine() {
        let k = IdentifierKind::Phone;
        assert_eq!(k.normalize("(775) 555-0142").unwrap(), "7755550142");
        assert_eq!(k.normalize("+1 775 555 0142").unwrap(), "7755550142");
        assert_eq!(k.normalize("+44 20 7946 0958").unwrap(), "442079460958");
        assert!(k.normalize("12").is_err());
        assert!(k.normalize("").is_err());
    }

    #[test]
    fn hashes_must_be_hex() {
        assert!(IdentifierKind::Pdq.normalize(&"z".repeat(64)).is_err());
        assert!(IdentifierKind::Sha256.normalize("abc").is_err());
        assert_eq!(
            IdentifierKind::Pdq.normalize(&"AB".repeat(32)).unwrap(),
            "ab".repeat(32)
        );
    }
}
