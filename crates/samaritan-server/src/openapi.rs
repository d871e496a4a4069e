//! The OpenAPI document, generated at compile time from the handlers and their types.

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

use crate::routes;

/// The ad input schema of DESIGN.md, for the document (the engine's `Ad` is what parses it).
#[derive(ToSchema)]
#[schema(as = Ad)]
#[allow(dead_code)]
pub struct AdInput {
    /// Unique per platform (1–256 bytes, no control characters); re-sending is idempotent.
    id: String,
    /// Seconds since the epoch, or an RFC 3339 string.
    #[schema(value_type = Option<Object>)]
    posted_at: Option<serde_json::Value>,
    /// At most 2 KiB by default (`field_too_large`).
    title: Option<String>,
    /// The ad's text; at most 64 KiB by default (`field_too_large`).
    body: Option<String>,
    /// `{city, region, country}`, free text, each at most 2 KiB by default.
    #[schema(value_type = Option<Object>)]
    location: Option<serde_json::Value>,
    /// Poster account id on the platform; at most 2 KiB by default.
    account: Option<String>,
    /// `{display_name, profile_url}`: the poster as the platform shows them (a report names
    /// the reported user with it); each at most 2 KiB by default.
    #[schema(value_type = Option<Object>)]
    poster: Option<serde_json::Value>,
    /// At most 2 KiB by default.
    url: Option<String>,
    /// Each `{path}`, `{url}`, `{base64}` or `{sha256, pdq}`; at most 20 per ad and 16 `{url}`
    /// images per request by default.
    #[schema(value_type = Option<Vec<Object>>)]
    images: Option<Vec<serde_json::Value>>,
    /// Anything else; kept, never interpreted. At most 16 KiB of JSON by default.
    #[schema(value_type = Option<Object>)]
    meta: Option<serde_json::Value>,
}

struct Bearer;

impl Modify for Bearer {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Samaritan",
        description = "Find the ads that sell people, link them into networks, and put them before reviewers with evidence. Every /v1 endpoint needs `Authorization: Bearer <key>` with the scope shown (a `lead` key may do what a `review` key does); every error is `{\"error\": {\"code\", \"message\", \"field\"}}`."
    ),
    paths(
        routes::ads::post_ads,
        routes::ads::get_ad,
        routes::ads::post_decision,
        routes::ads::get_reasons,
        routes::queue::list,
        routes::queue::claim,
        routes::queue::release,
        routes::search::search,
        routes::networks::get_network,
        routes::reports::list,
        routes::reports::get,
        routes::reports::approve,
        routes::reports::submit,
        routes::reports::retract,
        routes::holds::list,
        routes::holds::get,
        routes::holds::extend,
        routes::holds::release,
        routes::appeals::create,
        routes::appeals::list,
        routes::appeals::claim,
        routes::appeals::answer,
        routes::webhooks::create,
        routes::webhooks::list,
        routes::webhooks::get,
        routes::webhooks::disable,
        routes::webhooks::rotate,
        routes::webhooks::deliveries,
        routes::webhooks::redeliver,
        routes::audit::list,
        routes::audit::verify,
        routes::policy::get_policy,
        routes::policy::put_policy,
        routes::health::healthz,
        routes::health::readyz,
        routes::health::metrics,
        routes::health::openapi,
    ),
    components(schemas(AdInput, crate::error::ErrorBody, crate::error::ErrorDetail)),
    modifiers(&Bearer),
    tags(
        (name = "ads", description = "Ingest and evidence"),
        (name = "review", description = "Queue, decisions, search, networks"),
        (name = "reports", description = "Report cases for NCMEC's CyberTipline"),
        (name = "appeals", description = "Appeals against decisions, answered by another reviewer"),
        (name = "webhooks", description = "Signed events back to the platform"),
        (name = "policy", description = "The policy in force"),
        (name = "audit", description = "The hash-chained audit log"),
        (name = "service", description = "Health, readiness, metrics and this document"),
    )
)]
pub struct ApiDoc;

/// The document as JSON text.
pub fn json() -> Result<String, serde_json::Error> {
    ApiDoc::openapi().to_json()
}
