//! Reading request bodies: bounded in size, UTF-8, JSON, every error naming where it is.

use axum::body::Body;
use axum::http::{HeaderMap, StatusCode, header};
use bytes::Bytes;
use samaritan_engine::model::{Ad, ImageRef};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::{ApiError, Limits};

fn too_large(limit: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
        format!("the request body exceeds {limit} bytes; send smaller batches"),
    )
}

/// The whole body, refused with 413 past `limit` bytes (before reading when the length is
/// declared, while reading otherwise).
pub(crate) async fn read(body: Body, headers: &HeaderMap, limit: usize) -> Result<Bytes, ApiError> {
    if let Some(len) = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        && len > limit as u64
    {
        return Err(too_large(limit));
    }
    axum::body::to_bytes(body, limit).await.map_err(|e| {
        let length_error = std::error::Error::source(&e)
            .is_some_and(|s| s.is::<http_body_util::LengthLimitError>())
            || e.to_string().contains("length limit");
        if length_error {
            too_large(limit)
        } else {
            ApiError::bad_request(
                "unreadable_body",
                format!("the request body could not be read: {e}"),
            )
        }
    })
}

/// The body as UTF-8 text.
pub(crate) fn text(bytes: &[u8]) -> Result<&str, ApiError> {
    std::str::from_utf8(bytes).map_err(|e| {
        ApiError::bad_request(
            "invalid_utf8",
            format!("the body is not valid UTF-8 (at byte {})", e.valid_up_to()),
        )
    })
}

/// Parses JSON into `T`, naming the field at fault (`reason`, `location.city`).
pub(crate) fn json<'de, T: Deserialize<'de>>(text: &'de str, prefix: &str) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_str(text);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let code = if inner.is_syntax() || inner.is_eof() {
            "invalid_json"
        } else {
            "invalid_field"
        };
        // serde names missing and unknown fields in the message, at the parent's path.
        let message = inner.to_string();
        let named = ["missing field `", "unknown field `"]
            .iter()
            .find_map(|p| message.strip_prefix(p))
            .and_then(|rest| rest.split('`').next())
            .map(str::to_owned);
        let path = match (named, path == ".") {
            (Some(name), true) => name,
            (Some(name), false) if !path.ends_with(&name) => format!("{path}.{name}"),
            _ => path,
        };
        // A syntax error has a line and column in its message, not a field.
        let field = match (prefix.is_empty(), path == "." || code == "invalid_json") {
            (true, true) => None,
            (true, false) => Some(path),
            (false, true) => Some(prefix.to_owned()),
            (false, false) => Some(format!("{prefix}.{path}")),
        };
        let mut err = ApiError::bad_request(code, message);
        err.field = field;
        err
    })?;
    de.end()
        .map_err(|e| ApiError::bad_request("invalid_json", e.to_string()))?;
    Ok(value)
}

/// One ad from a request, with its JSON exactly as sent.
pub(crate) struct IncomingAd {
    pub ad: Ad,
    pub raw: String,
}

/// `POST /v1/ads` bodies: one ad object or an array of them. The whole request is refused when
/// any ad is malformed or over a limit (with the ad's index and field), so nothing is
/// half-stored.
pub(crate) fn ads(text: &str, limits: &Limits) -> Result<(Vec<IncomingAd>, bool), ApiError> {
    let max_batch = limits.max_batch;
    let first = text.trim_start().as_bytes().first().copied();
    let (raws, batch): (Vec<&RawValue>, bool) = match first {
        Some(b'[') => (json::<Vec<&RawValue>>(text, "")?, true),
        Some(b'{') => (vec![json::<&RawValue>(text, "")?], false),
        Some(_) => {
            return Err(ApiError::bad_request(
                "invalid_json",
                "the body must be an ad object or an array of ad objects",
            ));
        }
        None => return Err(ApiError::bad_request("empty_body", "the body is empty")),
    };
    if raws.is_empty() {
        return Err(ApiError::bad_request("empty_batch", "the batch holds no ads").field("ads"));
    }
    if raws.len() > max_batch {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "batch_too_large",
            format!(
                "{} ads in one request; the limit is {max_batch}",
                raws.len()
            ),
        )
        .field("ads"));
    }
    let mut seen = std::collections::HashSet::with_capacity(raws.len());
    let mut url_images = 0usize;
    let mut out = Vec::with_capacity(raws.len());
    for (i, raw) in raws.into_iter().enumerate() {
        let prefix = if batch {
            format!("ads[{i}]")
        } else {
            String::new()
        };
        let ad: Ad = json(raw.get(), &prefix)?;
        let named = |field: &str| {
            if prefix.is_empty() {
                field.to_owned()
            } else {
                format!("{prefix}.{field}")
            }
        };
        ad.check_limits(&limits.ad)
            .map_err(|e| ApiError::bad_request(e.code, e.message).field(named(&e.field)))?;
        for (j, image) in ad.images.iter().enumerate() {
            if matches!(image, ImageRef::Url { .. }) {
                url_images += 1;
                if url_images > limits.max_url_images {
                    return Err(ApiError::bad_request(
                        "too_many_image_urls",
                        format!(
                            "more than {} `url` images in one request; send them in smaller \
                             requests",
                            limits.max_url_images
                        ),
                    )
                    .field(named(&format!("images[{j}].url"))));
                }
            }
        }
        if !seen.insert(ad.id.clone()) {
            return Err(ApiError::bad_request(
                "duplicate_id",
                format!("ad id `{}` appears more than once in this batch", ad.id),
            )
            .field(format!("{prefix}.id")));
        }
        out.push(IncomingAd {
            ad,
            raw: raw.get().to_owned(),
        });
    }
    Ok((out, batch))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(max_batch: usize) -> Limits {
        Limits {
            max_batch,
            ..Limits::default()
        }
    }

    fn err(text: &str) -> ApiError {
        match ads(text, &limits(3)) {
            Ok(_) => panic!("accepted: {text}"),
            Err(e) => e,
        }
    }

    #[test]
    fn one_or_many() {
        let (one, batch) = ads(r#" {"id":"a","body":"x"} "#, &limits(3)).unwrap();
        assert!(!batch);
        assert_eq!(one[0].raw, r#"{"id":"a","body":"x"}"#);
        let (many, batch) = ads(r#"[{"id":"a"},{"id":"b"}]"#, &limits(3)).unwrap();
        assert!(batch);
        assert_eq!(many.len(), 2);
    }

    #[test]
    fn hostile_and_malformed_bodies_name_the_fault() {
        let e = err(r#"[{"id":"a"},{"id":"b","boddy":"x"}]"#);
        assert_eq!(
            (e.code, e.field.as_deref()),
            ("invalid_field", Some("ads[1].boddy"))
        );
        assert!(e.message.contains("boddy"), "{}", e.message);
        let e = err(r#"[{"id":"a"},{"id":"b","location":{"city":5}}]"#);
        assert_eq!(e.field.as_deref(), Some("ads[1].location.city"));
        let e = err(r#"{"id":"a","posted_at":"yesterday"}"#);
        assert_eq!(e.field.as_deref(), Some("posted_at"));
        let e = err(r#"{"id":"a""#);
        assert_eq!(e.code, "invalid_json");
        assert!(e.message.contains("line 1"), "{}", e.message);
        assert_eq!(err(r#"[{"id":"a"},{"id":"a"}]"#).code, "duplicate_id");
        assert_eq!(err("[]").code, "empty_batch");
        assert_eq!(err("   ").code, "empty_body");
        assert_eq!(err("42").code, "invalid_json");
        assert_eq!(err(r#"{"id":"a"} {"id":"b"}"#).code, "invalid_json");
        let e = err(r#"[{"id":"a"},{"id":"b"},{"id":"c"},{"id":"d"}]"#);
        assert_eq!(
            (e.status, e.code),
            (StatusCode::PAYLOAD_TOO_LARGE, "batch_too_large")
        );
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        // An error, not a stack overflow.
        assert!(matches!(err(&deep).code, "invalid_json" | "invalid_field"));
        let deep_object = format!("{}{}", "{\"a\":".repeat(10_000), "}".repeat(10_000));
        assert_eq!(err(&deep_object).code, "invalid_json");
        assert_eq!(text(b"{\"id\":\"\xff\"}").unwrap_err().code, "invalid_utf8");
    }
}
