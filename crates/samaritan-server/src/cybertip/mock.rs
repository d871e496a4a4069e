//! A local stand-in for NCMEC's Reporting API (never the real service in tests): `/status`,
//! `/submit`, `/upload`, `/fileinfo`, `/finish`, `/retract`, HTTP Basic credentials, and an independent check of each
//! report — the root, the order of the elements this project sends, the required elements and
//! the documented limits — answered with the documented response codes (0 success, 4100 a
//! report that fails validation, 4110 malformed XML, 5101 already retracted, 5102 already
//! finished). A test can script failures (`fail_next`) and delays (`delay_next`).
//! `samaritan ncmec mock --listen ADDR` serves it for integrators.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;

use super::tree::{self, Node};

/// One report as the mock holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct MockReport {
    pub xml: String,
    pub finished: bool,
    pub retracted: bool,
    /// Files uploaded to it, in order.
    pub files: Vec<MockFile>,
}

/// One uploaded file.
#[derive(Debug, Clone, PartialEq)]
pub struct MockFile {
    pub file_id: String,
    pub name: String,
    pub md5: String,
    pub bytes: usize,
    /// The `<fileDetails>` accepted for it, if any.
    pub details: Option<String>,
}

#[derive(Default)]
struct Inner {
    next: u64,
    reports: BTreeMap<u64, MockReport>,
    /// Codes to answer the next calls of a path with (`/submit`, `/finish`), in order.
    fail: BTreeMap<String, VecDeque<u32>>,
    /// Delays before answering the next calls of a path.
    delay: BTreeMap<String, VecDeque<Duration>>,
}

/// The mock service; clones share its state.
#[derive(Clone)]
pub struct Mock {
    inner: Arc<Mutex<Inner>>,
    authorization: Arc<String>,
}

fn lock(m: &Mutex<Inner>) -> std::sync::MutexGuard<'_, Inner> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Mock {
    /// A mock that accepts HTTP Basic `user:password`.
    pub fn new(user: &str, password: &str) -> Mock {
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        Mock {
            inner: Arc::new(Mutex::new(Inner {
                next: 1000,
                ..Inner::default()
            })),
            authorization: Arc::new(format!("Basic {token}")),
        }
    }

    pub fn router(&self) -> Router {
        Router::new()
            .route("/status", get(status))
            .route("/submit", post(submit))
            .route("/upload", post(upload))
            .route("/fileinfo", post(fileinfo))
            .route("/finish", post(finish))
            .route("/retract", post(retract))
            .with_state(self.clone())
    }

    /// Every report received, by id.
    pub fn reports(&self) -> BTreeMap<u64, MockReport> {
        lock(&self.inner).reports.clone()
    }

    /// Answers the next call of `path` (`/submit`, `/upload`, `/fileinfo`, `/finish`,
    /// `/retract`) with `code` (0: answers it as usual, so a later call can be made to fail).
    pub fn fail_next(&self, path: &str, code: u32) {
        lock(&self.inner)
            .fail
            .entry(path.to_owned())
            .or_default()
            .push_back(code);
    }

    /// Waits `by` before answering the next call of `path`.
    pub fn delay_next(&self, path: &str, by: Duration) {
        lock(&self.inner)
            .delay
            .entry(path.to_owned())
            .or_default()
            .push_back(by);
    }

    /// The scripted code and delay for this call of `path`, if any.
    fn scripted(&self, path: &str) -> (Option<u32>, Option<Duration>) {
        let mut g = lock(&self.inner);
        // A scripted 0 lets that call through (to fail a later one).
        let code = g
            .fail
            .get_mut(path)
            .and_then(VecDeque::pop_front)
            .filter(|c| *c != 0);
        let delay = g.delay.get_mut(path).and_then(VecDeque::pop_front);
        (code, delay)
    }

    fn authorized(&self, headers: &HeaderMap) -> bool {
        headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v == self.authorization.as_str())
    }
}

fn xml_response(code: u32, description: &str, id: Option<u64>) -> Response {
    let id = id
        .map(|i| format!("<reportId>{i}</reportId>"))
        .unwrap_or_default();
    (
        StatusCode::OK,
        [("content-type", "text/xml")],
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><reportResponse><responseCode>{code}</responseCode><responseDescription>{}</responseDescription>{id}</reportResponse>",
            super::xml::text(description, 1000)
        ),
    )
        .into_response()
}

fn done_response(id: u64, files: &[MockFile]) -> Response {
    let ids: String = files
        .iter()
        .map(|f| format!("<fileId>{}</fileId>", f.file_id))
        .collect();
    (
        StatusCode::OK,
        [("content-type", "text/xml")],
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><reportDoneResponse><responseCode>0</responseCode><reportId>{id}</reportId><files>{ids}</files></reportDoneResponse>"
        ),
    )
        .into_response()
}

fn upload_response(id: u64, file_id: &str, md5: &str) -> Response {
    (
        StatusCode::OK,
        [("content-type", "text/xml")],
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><reportResponse><responseCode>0</responseCode><responseDescription>Success</responseDescription><reportId>{id}</reportId><fileId>{file_id}</fileId><hash>{md5}</hash></reportResponse>"
        ),
    )
        .into_response()
}

/// Largest file the mock takes (the real limit is not public; this one bounds the mock).
const MAX_FILE: usize = 64 << 20;

async fn upload(
    State(mock): State<Mock>,
    headers: HeaderMap,
    mut form: axum::extract::Multipart,
) -> Response {
    if !mock.authorized(&headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    if let Some(r) = script(&mock, "/upload").await {
        return r;
    }
    let (mut id, mut file): (Option<u64>, Option<(String, Vec<u8>)>) = (None, None);
    loop {
        let field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return xml_response(4100, &format!("the form does not read: {e}"), None),
        };
        match field.name() {
            Some("id") => id = field.text().await.ok().and_then(|t| t.trim().parse().ok()),
            Some("file") => {
                let name = field.file_name().unwrap_or("").to_owned();
                match field.bytes().await {
                    Ok(b) if b.len() <= MAX_FILE && !b.is_empty() => {
                        file = Some((name, b.to_vec()))
                    }
                    Ok(_) => return xml_response(4100, "the file is empty or too large", None),
                    Err(e) => {
                        return xml_response(4100, &format!("the file does not read: {e}"), None);
                    }
                }
            }
            _ => return xml_response(4100, "unknown form field", None),
        }
    }
    let (Some(id), Some((name, bytes))) = (id, file) else {
        return xml_response(4100, "an upload needs `id` and `file`", None);
    };
    let md5 = samaritan_store::hex(&<md5::Md5 as md5::Digest>::digest(&bytes));
    let mut g = lock(&mock.inner);
    match g.reports.get_mut(&id) {
        None => xml_response(4200, "no such report", Some(id)),
        Some(r) if r.retracted => xml_response(5101, "report already retracted", Some(id)),
        Some(r) if r.finished => xml_response(5102, "report already finished", Some(id)),
        Some(r) => {
            let file_id = format!("f{id}-{}", r.files.len() + 1);
            r.files.push(MockFile {
                file_id: file_id.clone(),
                name,
                md5: md5.clone(),
                bytes: bytes.len(),
                details: None,
            });
            upload_response(id, &file_id, &md5)
        }
    }
}

async fn fileinfo(State(mock): State<Mock>, headers: HeaderMap, body: String) -> Response {
    if !mock.authorized(&headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    if let Some(r) = script(&mock, "/fileinfo").await {
        return r;
    }
    let root = match tree::parse(&body) {
        Ok(r) => r,
        Err(e) => return xml_response(4110, &e, None),
    };
    if let Err(e) = validate_file_details(&root) {
        return xml_response(4100, &e, None);
    }
    let id: Option<u64> = root.text_of("reportId").and_then(|t| t.trim().parse().ok());
    let file_id = root.text_of("fileId").unwrap_or("").trim().to_owned();
    let mut g = lock(&mock.inner);
    match id.and_then(|i| g.reports.get_mut(&i)) {
        None => xml_response(4200, "no such report", id),
        Some(r) if r.retracted => xml_response(5101, "report already retracted", id),
        Some(r) if r.finished => xml_response(5102, "report already finished", id),
        Some(r) => match r.files.iter_mut().find(|f| f.file_id == file_id) {
            None => xml_response(4100, "no such file on this report", id),
            Some(f) => {
                f.details = Some(body);
                xml_response(0, "Success", id)
            }
        },
    }
}

/// The mock's reading of a `<fileDetails>`: element order, the ids, the hash types.
pub fn validate_file_details(root: &Node) -> Result<(), String> {
    if root.name != "fileDetails" {
        return Err(format!("the root is <{}>, not <fileDetails>", root.name));
    }
    in_order(
        "fileDetails",
        &names(root),
        &[
            "reportId",
            "fileId",
            "fileName",
            "originalFileName",
            "uploadedToEspTimestamp",
            "locationOfFile",
            "fileViewedByEsp",
            "exifViewedByEsp",
            "publiclyAvailable",
            "fileRelevance",
            "potentialMeme",
            "fileAnnotations",
            "industryClassification",
            "originalFileHash",
            "ipCaptureEvent",
            "deviceId",
            "details",
            "additionalInfo",
        ],
    )?;
    root.text_of("reportId").ok_or("no <reportId>")?;
    root.text_of("fileId").ok_or("no <fileId>")?;
    for r in root.children.iter().filter(|c| c.name == "fileRelevance") {
        let v = r.text.trim();
        if !matches!(v, "Reported" | "Supplemental Reported" | "Supplemental") {
            return Err(format!("unknown fileRelevance `{v}`"));
        }
    }
    at_most(root, "locationOfFile", 2083)?;
    Ok(())
}

/// Runs the script for `path`: `Some(response)` when a failure was scripted.
async fn script(mock: &Mock, path: &str) -> Option<Response> {
    let (code, delay) = mock.scripted(path);
    if let Some(d) = delay {
        tokio::time::sleep(d).await;
    }
    code.map(|c| match c {
        401 => StatusCode::UNAUTHORIZED.into_response(),
        500..=599 => StatusCode::from_u16(c as u16)
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
            .into_response(),
        c => xml_response(c, "scripted failure", None),
    })
}

async fn status(State(mock): State<Mock>, headers: HeaderMap) -> Response {
    if !mock.authorized(&headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    xml_response(0, "Success", None)
}

async fn submit(State(mock): State<Mock>, headers: HeaderMap, body: String) -> Response {
    if !mock.authorized(&headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    if let Some(r) = script(&mock, "/submit").await {
        return r;
    }
    let root = match tree::parse(&body) {
        Ok(r) => r,
        Err(e) => return xml_response(4110, &e, None),
    };
    if let Err(e) = validate(&root) {
        return xml_response(4100, &e, None);
    }
    let mut g = lock(&mock.inner);
    g.next += 1;
    let id = g.next;
    g.reports.insert(
        id,
        MockReport {
            xml: body,
            finished: false,
            retracted: false,
            files: Vec::new(),
        },
    );
    xml_response(0, "Success", Some(id))
}

fn form_id(body: &str) -> Option<u64> {
    body.split('&')
        .find_map(|kv| kv.strip_prefix("id="))
        .and_then(|v| v.trim().parse().ok())
}

async fn finish(State(mock): State<Mock>, headers: HeaderMap, body: String) -> Response {
    close(&mock, &headers, &body, "/finish").await
}

async fn retract(State(mock): State<Mock>, headers: HeaderMap, body: String) -> Response {
    close(&mock, &headers, &body, "/retract").await
}

/// `/finish` and `/retract`: the same checks, then the report is finished or retracted.
async fn close(mock: &Mock, headers: &HeaderMap, body: &str, path: &str) -> Response {
    if !mock.authorized(headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    if let Some(r) = script(mock, path).await {
        return r;
    }
    let Some(id) = form_id(body) else {
        return xml_response(4100, "no report id", None);
    };
    let mut g = lock(&mock.inner);
    match g.reports.get_mut(&id) {
        None => xml_response(4200, "no such report", Some(id)),
        Some(r) if r.retracted => xml_response(5101, "report already retracted", Some(id)),
        Some(r) if r.finished => xml_response(5102, "report already finished", Some(id)),
        Some(r) if path == "/finish" => {
            r.finished = true;
            done_response(id, &r.files)
        }
        Some(r) => {
            r.retracted = true;
            xml_response(0, "Success", Some(id))
        }
    }
}

/// Checks that `names` follow `order` (each name known, none before an earlier one's place).
fn in_order(parent: &str, names: &[&str], order: &[&str]) -> Result<(), String> {
    let mut at = 0;
    for n in names {
        let Some(i) = order.iter().position(|o| o == n) else {
            return Err(format!("unknown element <{n}> in <{parent}>"));
        };
        if i < at {
            return Err(format!("<{n}> is out of order in <{parent}>"));
        }
        at = i;
    }
    Ok(())
}

fn names(n: &Node) -> Vec<&str> {
    n.children.iter().map(|c| c.name.as_str()).collect()
}

fn at_most(n: &Node, name: &str, chars: usize) -> Result<(), String> {
    match n.text_of(name) {
        Some(t) if t.chars().count() > chars => {
            Err(format!("<{name}> is longer than {chars} characters"))
        }
        _ => Ok(()),
    }
}

/// The mock's own reading of a report (written from the notes, not from the builder).
pub fn validate(root: &Node) -> Result<(), String> {
    if root.name != "report" {
        return Err(format!("the root is <{}>, not <report>", root.name));
    }
    in_order(
        "report",
        &names(root),
        &[
            "incidentSummary",
            "internetDetails",
            "lawEnforcement",
            "reporter",
            "personOrUserReported",
            "intendedRecipient",
            "victim",
            "additionalInfo",
        ],
    )?;
    let summary = root
        .child("incidentSummary")
        .ok_or("no <incidentSummary>")?;
    in_order(
        "incidentSummary",
        &names(summary),
        &[
            "incidentType",
            "platform",
            "escalateToHighPriority",
            "reportAnnotations",
            "incidentDateTime",
            "incidentDateTimeDescription",
        ],
    )?;
    let kind = summary.text_of("incidentType").ok_or("no <incidentType>")?;
    if !matches!(
        kind,
        "Child Pornography (possession, manufacture, and distribution)"
            | "Child Sex Trafficking"
            | "Child Sex Tourism"
            | "Child Sexual Molestation"
            | "Misleading Domain Name"
            | "Misleading Words or Digital Images on the Internet"
            | "Online Enticement of Children for Sexual Acts"
            | "Unsolicited Obscene Material Sent to a Child"
    ) {
        return Err(format!("unknown incidentType `{kind}`"));
    }
    let when = summary
        .text_of("incidentDateTime")
        .ok_or("no <incidentDateTime>")?;
    let t = time::OffsetDateTime::parse(when, &time::format_description::well_known::Rfc3339)
        .map_err(|_| format!("<incidentDateTime> `{when}` is not a date and time"))?;
    if t > time::OffsetDateTime::now_utc() {
        return Err("<incidentDateTime> is in the future".into());
    }
    at_most(summary, "platform", 256)?;
    at_most(summary, "escalateToHighPriority", 3000)?;
    at_most(summary, "incidentDateTimeDescription", 3000)?;
    if root.child("internetDetails").is_none() {
        return Err("no <internetDetails>".into());
    }
    for d in root.children.iter().filter(|c| c.name == "internetDetails") {
        in_order(
            "internetDetails",
            &names(d),
            &[
                "webPageIncident",
                "emailIncident",
                "newsgroupIncident",
                "chatImIncident",
                "onlineGamingIncident",
                "cellPhoneIncident",
                "nonInternetIncident",
                "peer2peerIncident",
            ],
        )?;
    }
    let reporter = root.child("reporter").ok_or("no <reporter>")?;
    in_order(
        "reporter",
        &names(reporter),
        &[
            "reportingPerson",
            "contactPerson",
            "companyTemplate",
            "termsOfService",
            "legalURL",
        ],
    )?;
    let person = reporter
        .child("reportingPerson")
        .ok_or("no <reportingPerson>")?;
    in_order(
        "reportingPerson",
        &names(person),
        &[
            "firstName",
            "lastName",
            "phone",
            "email",
            "address",
            "age",
            "dateOfBirth",
        ],
    )?;
    if person.text_of("email").is_none_or(|e| !e.contains('@')) {
        return Err("no <email> for the reporting person".into());
    }
    at_most(reporter, "legalURL", 2083)?;
    if let Some(p) = root.child("personOrUserReported") {
        in_order(
            "personOrUserReported",
            &names(p),
            &[
                "personOrUserReportedPerson",
                "vehicleDescription",
                "espIdentifier",
                "espService",
                "compromisedAccount",
                "screenName",
                "displayName",
                "profileUrl",
                "profileBio",
                "ipCaptureEvent",
                "deviceId",
                "thirdPartyUserReported",
                "priorCTReports",
                "groupIdentifier",
                "accountTemporarilyDisabled",
                "accountPermanentlyDisabled",
                "estimatedLocation",
                "allEmailsReported",
                "associatedAccount",
                "additionalInfo",
            ],
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builder_s_reports_pass_and_misordered_ones_do_not() {
        let draft = serde_json::json!({
            "incident_summary": {"incident_type": "Child Sex Trafficking", "platform": "Ex",
                "incident_date_time": "2026-11-30T10:00:00Z"},
            "internet_details": {"web_page": {"url": "https://ex.example/a"}, "cell_phones": []},
            "person_or_user_reported": {"esp_identifier": "acct", "screen_names": [], "emails": ["a@b.example"]},
            "reporter": {"email": "safety@example.org"},
            "evidence": {"stated_ages": [16]},
        });
        let x = super::super::xml::report(&draft, &["77".into()]).unwrap();
        validate(&tree::parse(&x).unwrap()).unwrap();
        let swapped = x
            .replace("<incidentSummary>", "<tmp>")
            .replace("</incidentSummary>", "</tmp>");
        assert!(validate(&tree::parse(&swapped).unwrap()).is_err());
        let late = x.replacen(
            "<reporter>",
            "<additionalInfo>x</additionalInfo><reporter>",
            1,
        );
        assert!(
            validate(&tree::parse(&late).unwrap())
                .unwrap_err()
                .contains("out of order")
        );
        let future = x.replace("2026-11-30T10:00:00Z", "2999-01-01T00:00:00Z");
        assert!(
            validate(&tree::parse(&future).unwrap())
                .unwrap_err()
                .contains("future")
        );
        let kind = x.replace("Child Sex Trafficking", "Something Else");
        assert!(
            validate(&tree::parse(&kind).unwrap())
                .unwrap_err()
                .contains("incidentType")
        );
    }
}
