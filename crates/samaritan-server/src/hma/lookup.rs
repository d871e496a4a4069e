//! `/hma/m/…`: matching PDQ signals against the HMA banks. The index is an in-memory list of
//! every banked signal scanned exactly (XOR and popcount over 256 bits; a few hundred thousand
//! signals take well under a millisecond per 100k). It is rebuilt from the store after a change
//! through this process, and after [`super::HmaConfig::refresh_secs`] otherwise. `lookup`
//! answers only enabled content of banks that pass HMA's coin flip against their
//! `matching_enabled_ratio`; `raw_lookup`, like HMA's, checks neither.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use axum::Json;
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use samaritan_engine::pdq::PdqHash;
use samaritan_store::Scope;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::hash::{Hashes, hash_url, upload};
use super::{HmaError, HmaResult, authorise, boolean};
use crate::auth::Caller;
use crate::{ApiError, AppState};

struct Entry {
    hash: PdqHash,
    content_id: i64,
    bank: Arc<str>,
    disable_until_ts: i64,
    ratio: f64,
}

/// Every banked signal, as read at one moment.
pub(crate) struct Index {
    entries: Vec<Entry>,
    built_ms: i64,
    at: Instant,
}

/// The current index, shared by the requests of one process.
#[derive(Default)]
pub(crate) struct IndexCache {
    current: std::sync::Mutex<Option<Arc<Index>>>,
    rebuild: tokio::sync::Mutex<()>,
}

impl IndexCache {
    fn get(&self) -> Option<Arc<Index>> {
        match self.current.lock() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    fn set(&self, index: Option<Arc<Index>>) {
        match self.current.lock() {
            Ok(mut g) => *g = index,
            Err(p) => *p.into_inner() = index,
        }
    }

    /// Forgets the index: the next lookup reads the store again.
    pub(crate) fn invalidate(&self) {
        self.set(None);
    }
}

/// The index, rebuilt when changed or older than the refresh interval.
async fn index(state: &AppState) -> HmaResult<Arc<Index>> {
    let fresh = |i: &Index| i.at.elapsed().as_secs() < state.hma_config().refresh_secs;
    let cache = state.hma_index();
    if let Some(i) = cache.get().filter(|i| fresh(i)) {
        return Ok(i);
    }
    let _one = cache.rebuild.lock().await;
    if let Some(i) = cache.get().filter(|i| fresh(i)) {
        return Ok(i);
    }
    let built_ms = samaritan_store::now_ms();
    let rows = state.store().hma_signals().await?;
    let mut banks: BTreeMap<String, Arc<str>> = BTreeMap::new();
    let mut entries = Vec::with_capacity(rows.len());
    for r in rows.into_iter().filter(|r| r.signal_type == "pdq") {
        let Ok(hash) = PdqHash::from_hex(&r.signal) else {
            tracing::error!(
                content = r.content_id,
                "a stored HMA signal is not a pdq hash"
            );
            continue;
        };
        let bank = banks
            .entry(r.bank.clone())
            .or_insert_with(|| Arc::from(r.bank.as_str()))
            .clone();
        entries.push(Entry {
            hash,
            content_id: r.content_id,
            bank,
            disable_until_ts: r.disable_until_ts,
            ratio: r.matching_enabled_ratio,
        });
    }
    let index = Arc::new(Index {
        entries,
        built_ms,
        at: Instant::now(),
    });
    cache.set(Some(index.clone()));
    Ok(index)
}

/// HMA's coin flip, made deterministic: a number in (0, 1] from SHA-256 of the `seed` (HMA
/// seeds its generator with the caller's `seed`, the platform's content id); without a seed,
/// of the signal itself, so that the same signal always gets the same answer. A bank answers
/// when its ratio is at least the flip: ratio 1 always, ratio 0 never.
pub(crate) fn coin(seed: &str) -> f64 {
    let d = Sha256::digest(seed.as_bytes());
    let mut b = [0u8; 8];
    b.copy_from_slice(&d[..8]);
    ((u64::from_be_bytes(b) >> 11) + 1) as f64 / (1u64 << 53) as f64
}

/// Parses a signal of `signal_type` (only `pdq` is known).
fn parse_signal(signal_type: &str, signal: &str) -> HmaResult<PdqHash> {
    if signal_type != "pdq" {
        return Err(HmaError::bad(format!(
            "No such SignalType '{}'",
            signal_type.chars().take(40).collect::<String>()
        )));
    }
    PdqHash::from_hex(signal.trim()).map_err(|e| HmaError::bad(format!("invalid signal: {e}")))
}

/// One match as HMA shows it (the distance is a string, as HMA sends it).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Match {
    bank_content_id: i64,
    distance: String,
}

/// Bank name → its matches.
type ByBank = BTreeMap<String, Vec<Match>>;

fn bank_set(banks: Option<&str>) -> Option<Vec<String>> {
    banks
        .filter(|b| !b.is_empty())
        .map(|b| b.split(',').map(|s| s.trim().to_owned()).collect())
}

struct Ask<'a> {
    bypass_coinflip: bool,
    banks: Option<Vec<String>>,
    seed: Option<&'a str>,
}

impl<'a> Ask<'a> {
    /// The look-up options of a query (`bypass_coinflip`, `banks`, `seed`).
    fn of(
        bypass_coinflip: Option<&str>,
        banks: Option<&str>,
        seed: Option<&'a str>,
    ) -> Result<Ask<'a>, HmaError> {
        Ok(Ask {
            bypass_coinflip: boolean("bypass_coinflip", bypass_coinflip)?,
            banks: bank_set(banks),
            seed,
        })
    }
}

/// The matches of each hash of an image, by signal type.
async fn lookup_each(
    state: &AppState,
    hashes: &Hashes,
    ask: &Ask<'_>,
) -> HmaResult<BTreeMap<String, ByBank>> {
    let mut out = BTreeMap::new();
    for (t, hex) in hashes {
        out.insert(t.clone(), lookup(state, t, hex, ask).await?);
    }
    Ok(out)
}

/// The enabled matches of `hex`, by bank, for the banks that pass the coin flip.
async fn lookup(
    state: &AppState,
    signal_type: &str,
    hex: &str,
    ask: &Ask<'_>,
) -> HmaResult<ByBank> {
    let query = parse_signal(signal_type, hex)?;
    let index = index(state).await?;
    let threshold = state.hma_config().threshold;
    let now_secs = samaritan_store::now_ms() / 1000;
    let flip = if ask.bypass_coinflip {
        0.0
    } else {
        coin(ask.seed.unwrap_or(&query.to_hex()))
    };
    let mut out = ByBank::new();
    for e in &index.entries {
        let d = e.hash.distance(&query);
        if d > threshold || e.disable_until_ts > now_secs || e.ratio < flip {
            continue;
        }
        if let Some(b) = &ask.banks
            && !b.iter().any(|b| **b == *e.bank)
        {
            continue;
        }
        out.entry(e.bank.to_string()).or_default().push(Match {
            bank_content_id: e.content_id,
            distance: d.to_string(),
        });
    }
    Ok(out)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LookupQuery {
    signal_type: Option<String>,
    signal: Option<String>,
    url: Option<String>,
    content_type: Option<String>,
    types: Option<String>,
    banks: Option<String>,
    seed: Option<String>,
    bypass_coinflip: Option<String>,
}

/// `GET /hma/m/lookup?signal_type=pdq&signal=<hex>` → `{"BANK": [{bank_content_id, distance}]}`;
/// with `url=` the matches are keyed by signal type first (`{"pdq": {"BANK": […]}}`), unless
/// `signal_type` names one.
pub(crate) async fn lookup_get(
    State(state): State<AppState>,
    caller: Result<Caller, ApiError>,
    q: Result<Query<LookupQuery>, QueryRejection>,
) -> HmaResult<Json<serde_json::Value>> {
    authorise(caller, Scope::Review)?;
    let Query(q) = q.map_err(super::query_error)?;
    let ask = Ask::of(
        q.bypass_coinflip.as_deref(),
        q.banks.as_deref(),
        q.seed.as_deref(),
    )?;
    if let Some(url) = q.url.as_deref().filter(|u| !u.is_empty()) {
        let hashes = hash_url(&state, url, q.content_type.as_deref(), q.types.as_deref()).await?;
        let mut by_type = lookup_each(&state, &hashes, &ask).await?;
        if let Some(st) = q.signal_type.as_deref() {
            let one = by_type.remove(st).unwrap_or_default();
            return Ok(Json(serde_json::to_value(&one).map_err(json_error)?));
        }
        return Ok(Json(serde_json::to_value(&by_type).map_err(json_error)?));
    }
    let (Some(signal), Some(signal_type)) = (q.signal.as_deref(), q.signal_type.as_deref()) else {
        return Err(HmaError::bad(
            "Either url or both signal and signal_type are required",
        ));
    };
    let found = lookup(&state, signal_type, signal, &ask).await?;
    Ok(Json(serde_json::to_value(&found).map_err(json_error)?))
}

fn json_error(e: serde_json::Error) -> HmaError {
    ApiError::internal(format!("the answer could not be written: {e}")).into()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PostLookupQuery {
    banks: Option<String>,
    seed: Option<String>,
    bypass_coinflip: Option<String>,
}

/// `POST /hma/m/lookup` with one multipart file → `{"pdq": {"BANK": […]}}`.
pub(crate) async fn lookup_post(
    State(state): State<AppState>,
    caller: Result<Caller, ApiError>,
    q: Result<Query<PostLookupQuery>, QueryRejection>,
    req: axum::http::Request<Body>,
) -> HmaResult<Json<BTreeMap<String, ByBank>>> {
    authorise(caller, Scope::Review)?;
    let Query(q) = q.map_err(super::query_error)?;
    let ask = Ask::of(
        q.bypass_coinflip.as_deref(),
        q.banks.as_deref(),
        q.seed.as_deref(),
    )?;
    let hashes: Hashes = upload(&state, req, &[]).await?.hashes;
    Ok(Json(lookup_each(&state, &hashes, &ask).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawQuery {
    signal_type: Option<String>,
    signal: Option<String>,
    banks: Option<String>,
    include_distance: Option<String>,
}

/// `GET /hma/m/raw_lookup?signal_type=pdq&signal=<hex>[&banks=][&include_distance=true]` →
/// `{"matches": [content ids]}` or, with distances, `{"matches": [{bank_content_id, distance}]}`.
/// Disabled content and bank ratios are not applied (as in HMA).
pub(crate) async fn raw_lookup(
    State(state): State<AppState>,
    caller: Result<Caller, ApiError>,
    q: Result<Query<RawQuery>, QueryRejection>,
) -> HmaResult<Json<serde_json::Value>> {
    authorise(caller, Scope::Review)?;
    let Query(q) = q.map_err(super::query_error)?;
    let signal = q
        .signal
        .ok_or_else(|| HmaError::bad("signal is required"))?;
    let signal_type = q
        .signal_type
        .ok_or_else(|| HmaError::bad("signal_type is required"))?;
    let with_distance = boolean("include_distance", q.include_distance.as_deref())?;
    let banks = bank_set(q.banks.as_deref());
    let query = parse_signal(&signal_type, &signal)?;
    let index = index(&state).await?;
    let threshold = state.hma_config().threshold;
    let mut matches = Vec::new();
    for e in &index.entries {
        let d = e.hash.distance(&query);
        if d > threshold
            || banks
                .as_ref()
                .is_some_and(|b| !b.iter().any(|b| **b == *e.bank))
        {
            continue;
        }
        matches.push(if with_distance {
            serde_json::json!({"bank_content_id": e.content_id, "distance": d.to_string()})
        } else {
            serde_json::json!(e.content_id)
        });
    }
    Ok(Json(serde_json::json!({ "matches": matches })))
}

/// `POST /hma/m/compare` `{"pdq": [h1, h2]}` → `{"pdq": [matched, {"distance": d}]}`.
pub(crate) async fn compare(
    State(state): State<AppState>,
    caller: Result<Caller, ApiError>,
    headers: HeaderMap,
    body: Body,
) -> HmaResult<Json<serde_json::Value>> {
    authorise(caller, Scope::Review)?;
    let bytes = crate::body::read(body, &headers, crate::routes::SMALL_BODY).await?;
    let value: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|e| HmaError::bad(format!("the body is not JSON: {e}")))?;
    let serde_json::Value::Object(pairs) = value else {
        return Err(HmaError::bad("Request input was not a dict"));
    };
    let threshold = state.hma_config().threshold;
    let mut out = serde_json::Map::new();
    for (signal_type, hashes) in pairs {
        let serde_json::Value::Array(hashes) = hashes else {
            return Err(HmaError::bad(format!(
                "Comparison hashes for {signal_type} was not a list"
            )));
        };
        if hashes.len() != 2 {
            return Err(HmaError::bad(
                "Comparison hash list length must be exactly 2",
            ));
        }
        let mut parsed = Vec::with_capacity(2);
        for h in &hashes {
            let s = h.as_str().ok_or_else(|| {
                HmaError::bad(format!("Invalid {signal_type} hash: not a string"))
            })?;
            parsed.push(parse_signal(&signal_type, s).map_err(|e| {
                HmaError::bad(format!("Invalid {signal_type} hash: {}", e.message))
            })?);
        }
        let d = parsed[0].distance(&parsed[1]);
        out.insert(
            signal_type,
            serde_json::json!([d <= threshold, {"distance": d}]),
        );
    }
    Ok(Json(serde_json::Value::Object(out)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StatusQuery {
    signal_type: Option<String>,
}

/// `GET /hma/m/index/status` → `{"pdq": {"present", "built_to", "size"}}` (`built_to` in
/// seconds: the index holds every change made before then).
pub(crate) async fn index_status(
    State(state): State<AppState>,
    caller: Result<Caller, ApiError>,
    q: Result<Query<StatusQuery>, QueryRejection>,
) -> HmaResult<Json<serde_json::Value>> {
    authorise(caller, Scope::Review)?;
    let Query(q) = q.map_err(super::query_error)?;
    if let Some(t) = q.signal_type.as_deref().filter(|t| *t != "pdq") {
        return Err(HmaError::bad(format!(
            "No such signal type '{}'",
            t.chars().take(40).collect::<String>()
        )));
    }
    let index = index(&state).await?;
    Ok(Json(serde_json::json!({
        "pdq": {
            "present": true,
            "built_to": index.built_ms / 1000,
            "size": index.entries.len(),
        }
    })))
}
