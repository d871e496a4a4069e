//! `/hma/c/…`: curating the HMA banks (admin keys; listing and reading take review keys).
//! Banks are named `^[A-Z0-9_]+$` and carry a matching ratio; content is banked from a URL,
//! an uploaded photo or a PDQ signal given directly, with optional metadata and a note, and
//! can be disabled until a time or removed. Every change is audited by the store and makes
//! the next lookup rebuild its index.

use axum::Json;
use axum::body::Body;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use samaritan_store::hma::check_bank_name;
use samaritan_store::{HmaBank, HmaContent, HmaContentMeta, Scope, now_ms};
use serde::Deserialize;

use super::hash::{hash_url, upload};
use super::{HmaError, HmaResult, authorise, boolean};
use crate::auth::Caller;
use crate::{ApiError, AppState};

/// Seconds in five years: HMA refuses to disable content for longer.
const FIVE_YEARS_SECS: i64 = 5 * 365 * 24 * 3600;

fn bank_json(b: &HmaBank) -> serde_json::Value {
    serde_json::json!({"name": b.name, "matching_enabled_ratio": b.matching_enabled_ratio})
}

fn name_of(p: Result<Path<String>, PathRejection>) -> HmaResult<String> {
    let Path(name) = p.map_err(|e| HmaError::bad(e.body_text()))?;
    check_bank_name(&name)?;
    Ok(name)
}

fn name_and_id(p: Result<Path<(String, String)>, PathRejection>) -> HmaResult<(String, i64)> {
    let Path((name, id)) = p.map_err(|e| HmaError::bad(e.body_text()))?;
    check_bank_name(&name)?;
    let id = id.parse::<i64>().map_err(|_| {
        HmaError::not_found(format!(
            "content '{}' not found",
            id.chars().take(40).collect::<String>()
        ))
    })?;
    Ok((name, id))
}

async fn bank(state: &AppState, name: &str) -> HmaResult<HmaBank> {
    state
        .store()
        .hma_bank(name)
        .await?
        .ok_or_else(|| HmaError::not_found(format!("bank '{name}' not found")))
}

/// The small JSON body of a curation request (`None` when empty).
async fn json_body<T: serde::de::DeserializeOwned>(
    headers: &HeaderMap,
    body: Body,
) -> HmaResult<Option<T>> {
    let bytes = crate::body::read(body, headers, crate::routes::SMALL_BODY).await?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let mut de = serde_json::Deserializer::from_slice(&bytes);
    let v = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." {
            HmaError::bad(format!("invalid JSON body: {inner}"))
        } else {
            HmaError::bad(format!("invalid JSON body at `{path}`: {inner}"))
        }
    })?;
    Ok(Some(v))
}

/// A number or a numeric string (Coop sends the ratio as a string).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Num {
    N(f64),
    S(String),
}

impl Num {
    fn value(&self, field: &str) -> HmaResult<f64> {
        match self {
            Num::N(n) => Ok(*n),
            Num::S(s) => s
                .trim()
                .parse::<f64>()
                .map_err(|_| HmaError::bad(format!("Invalid float for `{field}`: '{s}'"))),
        }
    }
}

/// A boolean or `true`/`false`/`1`/`0` as a string.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Flag {
    B(bool),
    S(String),
}

impl Flag {
    fn value(&self, field: &str) -> HmaResult<bool> {
        match self {
            Flag::B(b) => Ok(*b),
            Flag::S(s) => boolean(field, Some(s)),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateBank {
    name: Option<String>,
    enabled_ratio: Option<Num>,
    enabled: Option<Flag>,
}

/// `GET /hma/c/banks` → `[{name, matching_enabled_ratio}]`.
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Result<Caller, ApiError>,
) -> HmaResult<Json<Vec<serde_json::Value>>> {
    authorise(caller, Scope::Review)?;
    let banks = state.store().hma_banks().await?;
    Ok(Json(banks.iter().map(bank_json).collect()))
}

/// `POST /hma/c/banks` `{name, enabled_ratio | enabled}` → 201 `{name, matching_enabled_ratio}`;
/// 403 when the name is taken.
pub(crate) async fn create(
    State(state): State<AppState>,
    caller: Result<Caller, ApiError>,
    headers: HeaderMap,
    body: Body,
) -> HmaResult<(StatusCode, Json<serde_json::Value>)> {
    let caller = authorise(caller, Scope::Admin)?;
    let req: CreateBank = json_body(&headers, body)
        .await?
        .ok_or_else(|| HmaError::bad("name is required"))?;
    let name = req.name.ok_or_else(|| HmaError::bad("name is required"))?;
    let ratio = match (&req.enabled_ratio, &req.enabled) {
        (Some(r), _) => r.value("enabled_ratio")?,
        (None, Some(e)) => f64::from(u8::from(e.value("enabled")?)),
        (None, None) => 1.0,
    };
    let bank = state
        .store()
        .hma_bank_create(&name, ratio, &caller.actor(), now_ms())
        .await?;
    state.hma_index().invalidate();
    Ok((StatusCode::CREATED, Json(bank_json(&bank))))
}

/// `GET /hma/c/bank/{NAME}`.
pub(crate) async fn show(
    State(state): State<AppState>,
    caller: Result<Caller, ApiError>,
    name: Result<Path<String>, PathRejection>,
) -> HmaResult<Json<serde_json::Value>> {
    authorise(caller, Scope::Review)?;
    let name = name_of(name)?;
    Ok(Json(bank_json(&bank(&state, &name).await?)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateBank {
    name: Option<String>,
    enabled_ratio: Option<Num>,
    enabled: Option<Flag>,
}

/// `PUT /hma/c/bank/{NAME}` `{name?, enabled?, enabled_ratio?}` → the bank; 404 unknown, 403
/// when renamed to a taken name.
pub(crate) async fn update(
    State(state): State<AppState>,
    caller: Result<Caller, ApiError>,
    name: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Body,
) -> HmaResult<Json<serde_json::Value>> {
    let caller = authorise(caller, Scope::Admin)?;
    let name = name_of(name)?;
    let req: UpdateBank = json_body(&headers, body)
        .await?
        .ok_or_else(|| HmaError::bad("the body must be a JSON object"))?;
    let mut ratio = match &req.enabled {
        Some(e) => Some(f64::from(u8::from(e.value("enabled")?))),
        None => None,
    };
    if let Some(r) = &req.enabled_ratio {
        ratio = Some(r.value("enabled_ratio")?);
    }
    let bank = state
        .store()
        .hma_bank_update(&name, req.name.as_deref(), ratio, &caller.actor(), now_ms())
        .await
        .map_err(|e| match e {
            samaritan_store::StoreError::NotFound(_) => HmaError::not_found("Bank not found"),
            other => other.into(),
        })?;
    state.hma_index().invalidate();
    Ok(Json(bank_json(&bank)))
}

/// `DELETE /hma/c/bank/{NAME}` → `{"message": "Done"}` (also when there was no such bank, as
/// in HMA).
pub(crate) async fn delete(
    State(state): State<AppState>,
    caller: Result<Caller, ApiError>,
    name: Result<Path<String>, PathRejection>,
) -> HmaResult<Json<serde_json::Value>> {
    let caller = authorise(caller, Scope::Admin)?;
    let name = name_of(name)?;
    state
        .store()
        .hma_bank_delete(&name, &caller.actor(), now_ms())
        .await?;
    state.hma_index().invalidate();
    Ok(Json(serde_json::json!({"message": "Done"})))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Metadata {
    content_id: Option<String>,
    content_uri: Option<String>,
    json: Option<serde_json::Map<String, serde_json::Value>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ContentBody {
    metadata: Option<Metadata>,
    note: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ContentQuery {
    url: Option<String>,
    content_type: Option<String>,
    types: Option<String>,
}

fn meta_of(m: Option<Metadata>, note: Option<String>) -> HmaResult<HmaContentMeta> {
    let m = m.unwrap_or_default();
    let json = match m.json {
        Some(j) => Some(serde_json::to_string(&j).map_err(|e| HmaError::bad(e.to_string()))?),
        None => None,
    };
    Ok(HmaContentMeta {
        content_id: m.content_id,
        content_uri: m.content_uri,
        json,
        note: note.filter(|n| !n.trim().is_empty()),
    })
}

fn added(id: i64, signals: &[(String, String)]) -> Json<serde_json::Value> {
    let signals: serde_json::Map<String, serde_json::Value> = signals
        .iter()
        .map(|(t, v)| (t.clone(), serde_json::Value::String(v.to_ascii_lowercase())))
        .collect();
    Json(serde_json::json!({"id": id, "signals": signals}))
}

/// `POST /hma/c/bank/{NAME}/content?url=…` (optional JSON body `{metadata, note}`) or with a
/// multipart photo (text fields `content_id`, `content_uri`, `metadata` (JSON), `note`) →
/// `{"id", "signals"}`.
pub(crate) async fn add_content(
    State(state): State<AppState>,
    caller: Result<Caller, ApiError>,
    name: Result<Path<String>, PathRejection>,
    q: Result<Query<ContentQuery>, QueryRejection>,
    req: axum::http::Request<Body>,
) -> HmaResult<Json<serde_json::Value>> {
    let caller = authorise(caller, Scope::Admin)?;
    let name = name_of(name)?;
    let Query(q) = q.map_err(super::query_error)?;
    bank(&state, &name).await?;
    let headers = req.headers().clone();
    let is_multipart = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"));
    let (hashes, meta) = if let Some(url) = q.url.as_deref().filter(|u| !u.is_empty()) {
        let extra: ContentBody = json_body(&headers, req.into_body())
            .await?
            .unwrap_or_default();
        let meta = meta_of(extra.metadata, extra.note)?;
        let hashes = hash_url(&state, url, q.content_type.as_deref(), q.types.as_deref()).await?;
        (hashes, meta)
    } else if is_multipart {
        let up = upload(
            &state,
            req,
            &["content_id", "content_uri", "metadata", "note"],
        )
        .await?;
        let mut f = up.fields;
        let json = match f.remove("metadata") {
            Some(text) => match serde_json::from_str::<serde_json::Value>(&text) {
                Ok(serde_json::Value::Object(o)) => Some(o),
                _ => return Err(HmaError::bad("metadata should be a json object")),
            },
            None => None,
        };
        let meta = meta_of(
            Some(Metadata {
                content_id: f.remove("content_id"),
                content_uri: f.remove("content_uri"),
                json,
            }),
            f.remove("note"),
        )?;
        (up.hashes, meta)
    } else {
        return Err(HmaError::bad(
            "Neither `url` nor multipart file upload was received",
        ));
    };
    let signals: Vec<(String, String)> = hashes.into_iter().collect();
    let id = state
        .store()
        .hma_content_add(&name, &signals, &meta, &caller.actor(), now_ms())
        .await?;
    state.hma_index().invalidate();
    Ok(added(id, &signals))
}

/// `POST /hma/c/bank/{NAME}/signal` `{"pdq": "<hex>", "note": …}` → `{"id", "signals"}`.
pub(crate) async fn add_signal(
    State(state): State<AppState>,
    caller: Result<Caller, ApiError>,
    name: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Body,
) -> HmaResult<Json<serde_json::Value>> {
    let caller = authorise(caller, Scope::Admin)?;
    let name = name_of(name)?;
    bank(&state, &name).await?;
    let req: serde_json::Map<String, serde_json::Value> = json_body(&headers, body)
        .await?
        .ok_or_else(|| HmaError::bad("No signals given"))?;
    let mut note = None;
    let mut signals = Vec::new();
    for (k, v) in req {
        let serde_json::Value::String(s) = v else {
            return Err(HmaError::bad(format!("`{k}` must be a string")));
        };
        if k == "note" {
            note = Some(s);
        } else {
            signals.push((k, s));
        }
    }
    let meta = meta_of(None, note)?;
    let id = state
        .store()
        .hma_content_add(&name, &signals, &meta, &caller.actor(), now_ms())
        .await?;
    state.hma_index().invalidate();
    Ok(added(id, &signals))
}

/// Banked content as HMA's `BankContentResponse` shows it (`signals` only when asked for).
fn content_json(c: &HmaContent, with_signals: bool) -> serde_json::Value {
    let m = &c.meta;
    let metadata = if m.content_id.is_none() && m.content_uri.is_none() && m.json.is_none() {
        serde_json::Value::Null
    } else {
        let json = m
            .json
            .as_deref()
            .and_then(|j| serde_json::from_str::<serde_json::Value>(j).ok())
            .unwrap_or(serde_json::Value::Null);
        serde_json::json!({"content_id": m.content_id, "content_uri": m.content_uri, "json": json})
    };
    let mut v = serde_json::json!({
        "id": c.id,
        "disable_until_ts": c.disable_until_ts,
        "original_media_uri": null,
        "bank": bank_json(&c.bank),
        "metadata": metadata,
        "note": m.note,
    });
    if with_signals && let Some(o) = v.as_object_mut() {
        let signals: serde_json::Map<String, serde_json::Value> = c
            .signals
            .iter()
            .map(|(t, s)| (t.clone(), serde_json::Value::String(s.clone())))
            .collect();
        o.insert("signals".into(), serde_json::Value::Object(signals));
    }
    v
}

async fn content(state: &AppState, name: &str, id: i64) -> HmaResult<HmaContent> {
    bank(state, name).await?;
    state
        .store()
        .hma_content(name, id)
        .await?
        .ok_or_else(|| HmaError::not_found(format!("content '{id}' not found")))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct GetContentQuery {
    include_signals: Option<String>,
}

/// `GET /hma/c/bank/{NAME}/content/{id}[?include_signals=true]`.
pub(crate) async fn get_content(
    State(state): State<AppState>,
    caller: Result<Caller, ApiError>,
    p: Result<Path<(String, String)>, PathRejection>,
    q: Result<Query<GetContentQuery>, QueryRejection>,
) -> HmaResult<Json<serde_json::Value>> {
    authorise(caller, Scope::Review)?;
    let (name, id) = name_and_id(p)?;
    let Query(q) = q.map_err(super::query_error)?;
    let with = boolean("include_signals", q.include_signals.as_deref())?;
    Ok(Json(content_json(&content(&state, &name, id).await?, with)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateContent {
    disable_until_ts: Option<Num>,
}

/// `PUT /hma/c/bank/{NAME}/content/{id}` `{disable_until_ts}` (seconds, 0 to five years from
/// now) → the content.
pub(crate) async fn update_content(
    State(state): State<AppState>,
    caller: Result<Caller, ApiError>,
    p: Result<Path<(String, String)>, PathRejection>,
    headers: HeaderMap,
    body: Body,
) -> HmaResult<Json<serde_json::Value>> {
    let caller = authorise(caller, Scope::Admin)?;
    let (name, id) = name_and_id(p)?;
    let req: UpdateContent = json_body(&headers, body)
        .await?
        .ok_or_else(|| HmaError::bad("the body must be a JSON object"))?;
    let mut c = content(&state, &name, id).await?;
    if let Some(n) = &req.disable_until_ts {
        let v = n.value("disable_until_ts")?;
        if v.fract() != 0.0 || v < 0.0 {
            return Err(HmaError::bad(
                "disable_until_ts must be a non-negative integer",
            ));
        }
        if v > (now_ms() / 1000 + FIVE_YEARS_SECS) as f64 {
            return Err(HmaError::bad(
                "disable_until_ts must be less than 5 years in the future",
            ));
        }
        let until = v as i64;
        state
            .store()
            .hma_content_disable_until(&name, id, until, &caller.actor(), now_ms())
            .await?;
        state.hma_index().invalidate();
        c.disable_until_ts = until;
    }
    Ok(Json(content_json(&c, false)))
}

/// `DELETE /hma/c/bank/{NAME}/content/{id}` → `{"deleted": n}`.
pub(crate) async fn delete_content(
    State(state): State<AppState>,
    caller: Result<Caller, ApiError>,
    p: Result<Path<(String, String)>, PathRejection>,
) -> HmaResult<Json<serde_json::Value>> {
    let caller = authorise(caller, Scope::Admin)?;
    let (name, id) = name_and_id(p)?;
    bank(&state, &name).await?;
    let n = state
        .store()
        .hma_content_delete(&name, id, &caller.actor(), now_ms())
        .await?;
    state.hma_index().invalidate();
    Ok(Json(serde_json::json!({"deleted": n})))
}
