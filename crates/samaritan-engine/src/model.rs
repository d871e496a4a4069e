//! The contract: the ad that comes in and the analysis that goes out.
//!
//! These types are the JSON schemas of `DESIGN.md`. Input types reject unknown fields so that a
//! typo such as `"boddy"` is an error naming the field instead of an ad silently analysed without
//! its text; anything a platform wants to carry along goes into `meta`.

use serde::{Deserialize, Deserializer, Serialize};

/// Schema version of [`Analysis`]. Bumped on any incompatible change of the output.
pub const ANALYSIS_SCHEMA: u32 = 1;

/// Longest ad id accepted, in bytes. Ids are keys in stores and URLs; a megabyte id is an attack.
pub const MAX_ID_BYTES: usize = 256;

/// One ad as a platform sends it (input schema).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ad {
    /// Unique per platform; re-sending the same id is idempotent.
    #[serde(deserialize_with = "de_id")]
    pub id: String,
    /// Seconds since the Unix epoch (UTC). Accepts an integer or an RFC 3339 string on input.
    #[serde(
        default,
        deserialize_with = "de_timestamp",
        skip_serializing_if = "Option::is_none"
    )]
    pub posted_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// Poster account id on the platform.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// The poster as the platform shows them (a report names the reported user with it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poster: Option<Poster>,
    /// Where the ad is or was published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<ImageRef>,
    /// Anything else the platform wants kept with the ad; never interpreted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<serde_json::Value>,
}

impl Ad {
    /// A text-only ad, mostly for tests and examples.
    pub fn text(id: impl Into<String>, title: Option<&str>, body: Option<&str>) -> Self {
        Ad {
            id: id.into(),
            posted_at: None,
            title: title.map(str::to_owned),
            body: body.map(str::to_owned),
            location: None,
            account: None,
            poster: None,
            url: None,
            images: Vec::new(),
            meta: None,
        }
    }

    /// The document every span points into: `title + "\n" + body`, a missing part being empty.
    ///
    /// The separator is always present, so body offsets are always `title.len() + 1`.
    pub fn document(&self) -> String {
        let title = self.title.as_deref().unwrap_or("");
        let body = self.body.as_deref().unwrap_or("");
        let mut doc = String::with_capacity(title.len() + 1 + body.len());
        doc.push_str(title);
        doc.push('\n');
        doc.push_str(body);
        doc
    }
}

/// Caps on what an ad's author controls, checked by [`Ad::check_limits`] once an ad is parsed.
///
/// The request body limit alone would let one field be megabytes; these keep every field to what
/// an ad needs. Sizes are bytes of UTF-8 text (for `meta`, of its JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdLimits {
    /// Longest `title` (default 2 KiB).
    pub max_title_bytes: usize,
    /// Longest `body`, the ad's text (default 64 KiB).
    pub max_text_bytes: usize,
    /// Longest short field: `account`, `url`, `location.city`, `.region`, `.country`, and an
    /// image's `url`, `path`, `sha256` or `pdq` (default 2 KiB). Inline `base64` images are bound
    /// by the body and image byte limits instead.
    pub max_field_bytes: usize,
    /// Largest `meta`, as JSON (default 16 KiB).
    pub max_meta_bytes: usize,
    /// Most `images` in one ad (default 20).
    pub max_images: usize,
}

impl Default for AdLimits {
    fn default() -> Self {
        AdLimits {
            max_title_bytes: 2 * 1024,
            max_text_bytes: 64 * 1024,
            max_field_bytes: 2 * 1024,
            max_meta_bytes: 16 * 1024,
            max_images: 20,
        }
    }
}

/// An ad over one of its [`AdLimits`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct LimitError {
    /// The field at fault, as a path from the ad (`body`, `location.city`, `images`,
    /// `images[3].url`).
    pub field: String,
    /// `field_too_large` or `too_many_images`.
    pub code: &'static str,
    pub message: String,
}

impl Ad {
    /// Checks every author-controlled field against `limits`; the first one over is the error.
    pub fn check_limits(&self, limits: &AdLimits) -> Result<(), LimitError> {
        fn text(field: &str, value: Option<&str>, limit: usize) -> Result<(), LimitError> {
            match value {
                Some(v) if v.len() > limit => Err(LimitError {
                    field: field.to_owned(),
                    code: "field_too_large",
                    message: format!("`{field}` is {} bytes; the limit is {limit}", v.len()),
                }),
                _ => Ok(()),
            }
        }
        text("title", self.title.as_deref(), limits.max_title_bytes)?;
        text("body", self.body.as_deref(), limits.max_text_bytes)?;
        text("account", self.account.as_deref(), limits.max_field_bytes)?;
        if let Some(p) = &self.poster {
            text(
                "poster.display_name",
                p.display_name.as_deref(),
                limits.max_field_bytes,
            )?;
            text(
                "poster.profile_url",
                p.profile_url.as_deref(),
                limits.max_field_bytes,
            )?;
        }
        text("url", self.url.as_deref(), limits.max_field_bytes)?;
        if let Some(loc) = &self.location {
            text("location.city", loc.city.as_deref(), limits.max_field_bytes)?;
            text(
                "location.region",
                loc.region.as_deref(),
                limits.max_field_bytes,
            )?;
            text(
                "location.country",
                loc.country.as_deref(),
                limits.max_field_bytes,
            )?;
        }
        if let Some(meta) = &self.meta {
            let len = json_len(meta);
            if len > limits.max_meta_bytes {
                return Err(LimitError {
                    field: "meta".to_owned(),
                    code: "field_too_large",
                    message: format!(
                        "`meta` is {len} bytes of JSON; the limit is {}",
                        limits.max_meta_bytes
                    ),
                });
            }
        }
        if self.images.len() > limits.max_images {
            return Err(LimitError {
                field: "images".to_owned(),
                code: "too_many_images",
                message: format!(
                    "{} images in one ad; the limit is {}",
                    self.images.len(),
                    limits.max_images
                ),
            });
        }
        for (i, image) in self.images.iter().enumerate() {
            let (name, value, other) = match image {
                ImageRef::Path { path } => ("path", Some(path.as_str()), None),
                ImageRef::Url { url } => ("url", Some(url.as_str()), None),
                ImageRef::Base64 { .. } => continue,
                ImageRef::Hashes { sha256, pdq } => ("sha256", sha256.as_deref(), pdq.as_deref()),
            };
            text(
                &format!("images[{i}].{name}"),
                value,
                limits.max_field_bytes,
            )?;
            text(&format!("images[{i}].pdq"), other, limits.max_field_bytes)?;
        }
        Ok(())
    }
}

/// Bytes of `value` as compact JSON, counted without building the text.
fn json_len(value: &serde_json::Value) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    match serde_json::to_writer(&mut count, value) {
        Ok(()) => count.0,
        // A value that does not serialise cannot be stored either; treat it as over any limit.
        Err(_) => usize::MAX,
    }
}

/// Free-text location as the platform knows it.
/// Who posted an ad, as the platform shows them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Poster {
    /// The name the platform displays for the poster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// The poster's profile page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile_url: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Location {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

/// An image attached to an ad: a file, a URL, inline bytes, or hashes computed elsewhere.
///
/// Written as an object with exactly one of `path`, `url`, `base64`, or `sha256` and/or `pdq`.
/// Parsing names the offending key or combination (an untagged enum would only say that nothing
/// matched).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum ImageRef {
    Path {
        path: String,
    },
    Url {
        url: String,
    },
    Base64 {
        base64: String,
    },
    Hashes {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sha256: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pdq: Option<String>,
    },
}

/// The keys an image object may have, before the combination is checked.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ImageKeys {
    path: Option<String>,
    url: Option<String>,
    base64: Option<String>,
    sha256: Option<String>,
    pdq: Option<String>,
}

impl<'de> Deserialize<'de> for ImageRef {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let k = ImageKeys::deserialize(d)?;
        let mut given: Vec<&str> = Vec::new();
        for (name, present) in [
            ("path", k.path.is_some()),
            ("url", k.url.is_some()),
            ("base64", k.base64.is_some()),
            ("sha256", k.sha256.is_some()),
            ("pdq", k.pdq.is_some()),
        ] {
            if present {
                given.push(name);
            }
        }
        match (k.path, k.url, k.base64, k.sha256, k.pdq) {
            (Some(path), None, None, None, None) => Ok(ImageRef::Path { path }),
            (None, Some(url), None, None, None) => Ok(ImageRef::Url { url }),
            (None, None, Some(base64), None, None) => Ok(ImageRef::Base64 { base64 }),
            // An empty object parses; the media stage answers it with a per-image error.
            (None, None, None, sha256, pdq) => Ok(ImageRef::Hashes { sha256, pdq }),
            _ => Err(serde::de::Error::custom(format!(
                "an image has exactly one of `path`, `url`, `base64`, or `sha256` and/or `pdq`; \
                 this one has {}",
                given
                    .iter()
                    .map(|g| format!("`{g}`"))
                    .collect::<Vec<_>>()
                    .join(" and ")
            ))),
        }
    }
}

fn de_id<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    use serde::de::Error;
    let id = String::deserialize(d)?;
    if id.trim().is_empty() {
        return Err(D::Error::custom("`id` must be a non-empty string"));
    }
    if id.len() > MAX_ID_BYTES {
        return Err(D::Error::custom(format_args!(
            "`id` is {} bytes; the limit is {MAX_ID_BYTES}",
            id.len()
        )));
    }
    if id.chars().any(char::is_control) {
        return Err(D::Error::custom("`id` must not contain control characters"));
    }
    Ok(id)
}

fn de_timestamp<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    use serde::de::Error;
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Int(i64),
        Text(String),
    }
    match Option::<Raw>::deserialize(d)? {
        None => Ok(None),
        Some(Raw::Int(s)) => Ok(Some(s)),
        Some(Raw::Text(s)) => {
            let t = time::OffsetDateTime::parse(&s, &time::format_description::well_known::Rfc3339)
                .map_err(|e| {
                    D::Error::custom(format_args!(
                        "`posted_at` is neither epoch seconds nor RFC 3339: {e}"
                    ))
                })?;
            Ok(Some(t.unix_timestamp()))
        }
    }
}

/// The engine's decision for one ad.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Allow,
    Review,
    Block,
}

impl Verdict {
    pub const ALL: [Verdict; 3] = [Verdict::Allow, Verdict::Review, Verdict::Block];

    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Allow => "allow",
            Verdict::Review => "review",
            Verdict::Block => "block",
        }
    }
}

/// One piece of evidence behind a verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Signal {
    /// Policy indicator id, e.g. `youth_language`.
    pub indicator: String,
    /// Indicator category, e.g. `minor`, `control`, `obfuscation`, `network`.
    pub category: String,
    /// Contribution of this signal to the score (see the policy's combination rule).
    pub weight: f64,
    /// Byte span `[start, end)` in the original document, or `null` for signals without text
    /// (network, image).
    pub span: Option<[usize; 2]>,
    /// The original text at `span` (empty when there is no span).
    pub text: String,
    /// Why it fired, in words a reviewer reads.
    pub note: String,
}

/// What the extractors found, as distinct normalised values (for search and linking).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Extracted {
    /// Digits only; North American numbers as 10 digits, others with the country code.
    pub phones: Vec<String>,
    pub emails: Vec<String>,
    pub urls: Vec<String>,
    /// `platform:handle`, e.g. `instagram:some.name`.
    pub handles: Vec<String>,
    /// `kind:id`, e.g. `cashapp:$name`, `btc:1A1z…`.
    pub payments: Vec<String>,
    pub ages: Vec<u32>,
    pub prices: Vec<Price>,
    pub locations: Vec<String>,
}

/// A stated price or rate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Price {
    pub amount: f64,
    /// ISO 4217 code when stated or implied by a symbol, or a coded unit such as `roses`.
    pub currency: Option<String>,
    /// Duration the price is for, in minutes, when stated.
    pub duration_min: Option<u32>,
    /// A named service the price is for when no duration is given, e.g. `quick_visit`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
}

/// One occurrence of an extracted value in the original text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mention {
    /// `phone`, `email`, `url`, `handle`, `payment`, `age`, `price` or `location`.
    pub kind: String,
    /// The normalised value as it appears in [`Extracted`].
    pub value: String,
    /// Byte span `[start, end)` in the original document.
    pub span: [usize; 2],
    /// The original text at `span`.
    pub text: String,
    /// True when the value was written to evade filters (spelled digits, look-alikes, …).
    pub obfuscated: bool,
    /// For ages: whose age it is, `advertised` (the person the ad is about; these are
    /// `extracted.ages` and feed the minor indicators) or `other` (children, students, players
    /// the ad names). Absent for other kinds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
}

/// The network an ad belongs to, if it links to any other ad.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetworkRef {
    pub id: String,
    pub size: u32,
    pub cities: u32,
    /// Why the members are linked: `phone`, `email`, `handle`, `payment`, `account`, `template`,
    /// `image`.
    pub reasons: Vec<String>,
}

/// The template an ad instantiates, if it is part of a near-duplicate cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemplateRef {
    pub id: String,
    /// The constant text with `{}` where a slot varies.
    pub text: String,
    pub slots: u32,
}

/// The engine's analysis of one ad (output schema 1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    pub schema: u32,
    pub id: String,
    pub verdict: Verdict,
    /// 0 (nothing found) to 1 (certain); reproducible from `signals` and the policy.
    pub score: f64,
    /// Queue priority; higher is reviewed first. Minor indicators go to the top.
    pub priority: u32,
    /// True when the policy marks the ad as a candidate for a CyberTipline report.
    pub report_candidate: bool,
    pub signals: Vec<Signal>,
    pub extracted: Extracted,
    pub mentions: Vec<Mention>,
    pub network: Option<NetworkRef>,
    pub template: Option<TemplateRef>,
    /// `name@version` of the policy that produced this analysis.
    pub policy: String,
    /// One entry per input image, in input order.
    #[serde(default)]
    pub images: Vec<ImageAnalysis>,
}

/// What was learnt from one of the ad's images. Hashes are present only when computed (or given);
/// an image that could not be taken in has `error` and no hashes, never a made-up one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageAnalysis {
    /// Position in the ad's `images`.
    pub index: usize,
    /// Hex SHA-256 of the file bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Hex MD5 of the file bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub md5: Option<String>,
    /// PDQ hash, 64 hex digits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pdq: Option<String>,
    /// PDQ quality, 0..=100; matches below 50 are not trusted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quality: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    /// Why the image could not be taken in (too large, not an image, refused URL, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_full_ad() {
        let ad: Ad = serde_json::from_str(
            r#"{"id":"a1","posted_at":"2024-05-07T12:00:00Z","title":"t","body":"b",
                "location":{"city":"Reno","region":"NV","country":"US"},"account":"u9",
                "url":"https://example.org/a1","images":[{"path":"x.jpg"},{"url":"https://e/x.jpg"},
                {"base64":"AAAA"},{"sha256":"ab","pdq":"cd"}],"meta":{"k":[1,2]}}"#,
        )
        .unwrap();
        assert_eq!(ad.posted_at, Some(1_715_083_200));
        assert_eq!(ad.images.len(), 4);
        assert!(matches!(ad.images[3], ImageRef::Hashes { .. }));
        assert_eq!(ad.document(), "t\nb");
    }

    #[test]
    fn image_errors_name_the_key_not_the_type() {
        let err = |json: &str| serde_json::from_str::<Ad>(json).unwrap_err().to_string();
        let e = err(r#"{"id":"a","images":[{"link":"https://e/x.jpg"}]}"#);
        assert!(e.contains("unknown field `link`"), "{e}");
        assert!(
            e.contains("`path`, `url`, `base64`, `sha256`, `pdq`"),
            "{e}"
        );
        let e = err(r#"{"id":"a","images":[{"path":"x.jpg","url":"https://e/x.jpg"}]}"#);
        assert!(e.contains("this one has `path` and `url`"), "{e}");
        let e = err(r#"{"id":"a","images":[{"base64":"AAAA","pdq":"00"}]}"#);
        assert!(e.contains("`base64` and `pdq`"), "{e}");
        for e in [
            &err(r#"{"id":"a","images":[{"x":1}]}"#),
            &err(r#"{"id":"a","images":[7]}"#),
        ] {
            assert!(!e.contains("untagged") && !e.contains("ImageRef"), "{e}");
        }
        let ad: Ad = serde_json::from_str(r#"{"id":"a","images":[{"pdq":"00"},{}]}"#).unwrap();
        assert!(matches!(
            ad.images[0],
            ImageRef::Hashes {
                sha256: None,
                pdq: Some(_)
            }
        ));
        // Serialises back to the same shape.
        let back = serde_json::to_string(&ad.images).unwrap();
        assert_eq!(back, r#"[{"pdq":"00"},{}]"#);
    }

    #[test]
    fn epoch_seconds_accepted() {
        let ad: Ad = serde_json::from_str(r#"{"id":"a","posted_at":1700000000}"#).unwrap();
        assert_eq!(ad.posted_at, Some(1_700_000_000));
        assert_eq!(ad.document(), "\n");
    }

    #[test]
    fn limits_name_the_field_over() {
        let limits = AdLimits {
            max_title_bytes: 4,
            max_text_bytes: 8,
            max_field_bytes: 6,
            max_meta_bytes: 10,
            max_images: 2,
        };
        let ok: Ad = serde_json::from_str(
            r#"{"id":"a","title":"1234","body":"12345678","account":"123456",
                "location":{"city":"123456"},"meta":{"k":"12"},
                "images":[{"url":"123456"},{"sha256":"123456","pdq":"123456"}]}"#,
        )
        .unwrap();
        assert_eq!(ok.check_limits(&limits), Ok(()));
        let cases = [
            (r#"{"id":"a","title":"12345"}"#, "title", "field_too_large"),
            (
                r#"{"id":"a","body":"123456789"}"#,
                "body",
                "field_too_large",
            ),
            (
                r#"{"id":"a","account":"1234567"}"#,
                "account",
                "field_too_large",
            ),
            (r#"{"id":"a","url":"1234567"}"#, "url", "field_too_large"),
            (
                r#"{"id":"a","poster":{"display_name":"1234567"}}"#,
                "poster.display_name",
                "field_too_large",
            ),
            (
                r#"{"id":"a","poster":{"profile_url":"1234567"}}"#,
                "poster.profile_url",
                "field_too_large",
            ),
            (
                r#"{"id":"a","location":{"country":"1234567"}}"#,
                "location.country",
                "field_too_large",
            ),
            (
                r#"{"id":"a","meta":{"k":"123"}}"#,
                "meta",
                "field_too_large",
            ),
            (
                r#"{"id":"a","images":[{"url":"1"},{"url":"2"},{"url":"3"}]}"#,
                "images",
                "too_many_images",
            ),
            (
                r#"{"id":"a","images":[{"url":"1"},{"pdq":"1234567"}]}"#,
                "images[1].pdq",
                "field_too_large",
            ),
        ];
        for (json, field, code) in cases {
            let ad: Ad = serde_json::from_str(json).unwrap();
            let e = ad.check_limits(&limits).unwrap_err();
            assert_eq!((e.field.as_str(), e.code), (field, code), "{json}");
            assert!(e.message.contains("limit"), "{}", e.message);
        }
        // Multi-byte text is measured in bytes.
        let ad = Ad::text("a", Some("ééé"), None);
        assert_eq!(ad.check_limits(&limits).unwrap_err().field, "title");
    }

    #[test]
    fn rejects_bad_input_with_the_field_named() {
        let cases = [
            (r#"{"title":"x"}"#, "missing field `id`"),
            (r#"{"id":""}"#, "non-empty"),
            (r#"{"id":7}"#, "invalid type"),
            (r#"{"id":"a","boddy":"x"}"#, "unknown field `boddy`"),
            (r#"{"id":"a","posted_at":"yesterday"}"#, "posted_at"),
            (r#"{"id":"a","body":5}"#, "invalid type"),
            (
                r#"{"id":"a","location":{"town":"x"}}"#,
                "unknown field `town`",
            ),
            (
                r#"{"id":"a","images":[{"file":"x"}]}"#,
                "unknown field `file`",
            ),
        ];
        for (json, want) in cases {
            let err = serde_json::from_str::<Ad>(json).unwrap_err().to_string();
            assert!(err.contains(want), "{json}: {err}");
        }
        let long = format!(r#"{{"id":"{}"}}"#, "x".repeat(MAX_ID_BYTES + 1));
        let err = serde_json::from_str::<Ad>(&long).unwrap_err().to_string();
        assert!(err.contains("limit"), "{err}");
    }
}
