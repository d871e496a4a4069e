//! A local stand-in for NCMEC's Reporting API (never the real service in tests): `/status`,
//! `/submit`, `/upload`, `/fileinfo`, `/finish`, `/retract`, HTTP Basic credentials, and an independent check of each
//! report — the root, the order of the elements this project sends, the required elements and
//! the documented limits — answered with the documented response codes (0 success, 4100 a
//! report that fails validation, 4110 malformed XML, 5101 already retracted, 5102 already
//! finished). A test can script the next calls of a path: a failure (`fail_next`), a wait before
//! the call is acted on (`delay_next`: a client that gives up or dies meanwhile leaves nothing
//! done, since the call is dropped with its connection), and a wait after it was acted on,
//! before the answer goes out (`delay_answer_next`: NCMEC made the change and the client never
//! hears of it). `GET /mock/reports` (same credentials) shows, as JSON, the reports held, the
//! calls being held by a delay and how many calls of each path came, so a test in another
//! process can see where a filer is.
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
    /// The `<fileDetails>` last accepted for it, if any.
    pub details: Option<String>,
    /// How many `<fileDetails>` were accepted for it.
    pub descriptions: usize,
}

/// A call the mock is holding by a scripted delay right now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldCall {
    pub path: String,
    /// Whether the call was acted on already (`delay_answer_next`) or not yet (`delay_next`).
    pub acted: bool,
}

#[derive(Default)]
struct Inner {
    next: u64,
    reports: BTreeMap<u64, MockReport>,
    /// Codes to answer the next calls of a path with (`/submit`, `/finish`), in order.
    fail: BTreeMap<String, VecDeque<u32>>,
    /// Delays before acting on the next calls of a path.
    delay: BTreeMap<String, VecDeque<Duration>>,
    /// Delays after acting on the next calls of a path, before answering.
    delay_answer: BTreeMap<String, VecDeque<Duration>>,
    /// The calls being held now, by ticket.
    held: BTreeMap<u64, HeldCall>,
    /// How many calls of each scripted path were received (with the credentials).
    calls: BTreeMap<String, u64>,
    tickets: u64,
}

/// What the script says for one call.
struct Script {
    code: Option<u32>,
    before: Option<Duration>,
    answer: Option<Duration>,
}

/// A held call's entry in [`Inner::held`], removed when the wait ends or the call is dropped
/// (its client went away).
struct Holding {
    inner: Arc<Mutex<Inner>>,
    ticket: u64,
}

impl Drop for Holding {
    fn drop(&mut self) {
        lock(&self.inner).held.remove(&self.ticket);
    }
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
            .route("/mock/reports", get(mock_reports))
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

    /// Waits `by` before acting on the next call of `path` (a later call of the same path takes
    /// the next delay scripted for it; `Duration::ZERO` lets a call through unheld). A client
    /// that times out or dies meanwhile closes its connection and the call is dropped undone.
    pub fn delay_next(&self, path: &str, by: Duration) {
        lock(&self.inner)
            .delay
            .entry(path.to_owned())
            .or_default()
            .push_back(by);
    }

    /// Acts on the next call of `path` at once, then waits `by` before answering: the change
    /// is made whether or not the client is still there to hear of it (a lost answer).
    pub fn delay_answer_next(&self, path: &str, by: Duration) {
        lock(&self.inner)
            .delay_answer
            .entry(path.to_owned())
            .or_default()
            .push_back(by);
    }

    /// The calls being held by a scripted delay now.
    pub fn held(&self) -> Vec<HeldCall> {
        lock(&self.inner).held.values().cloned().collect()
    }

    /// How many calls of each path (`/submit`, `/upload`, `/fileinfo`, `/finish`, `/retract`)
    /// were received with the credentials, acted on or not.
    pub fn calls(&self) -> BTreeMap<String, u64> {
        lock(&self.inner).calls.clone()
    }

    /// The script for this call of `path`: each queue of the path gives its next entry.
    fn scripted(&self, path: &str) -> Script {
        let mut g = lock(&self.inner);
        *g.calls.entry(path.to_owned()).or_default() += 1;
        // A scripted 0 lets that call through (to fail a later one).
        let code = g
            .fail
            .get_mut(path)
            .and_then(VecDeque::pop_front)
            .filter(|c| *c != 0);
        let before = g.delay.get_mut(path).and_then(VecDeque::pop_front);
        let answer = g.delay_answer.get_mut(path).and_then(VecDeque::pop_front);
        let nonzero = |d: Option<Duration>| d.filter(|d| !d.is_zero());
        Script {
            code,
            before: nonzero(before),
            answer: nonzero(answer),
        }
    }

    /// Holds call `path` for `by`, listed in [`Mock::held`] meanwhile.
    async fn hold(&self, path: &str, acted: bool, by: Duration) {
        let holding = {
            let mut g = lock(&self.inner);
            g.tickets += 1;
            let ticket = g.tickets;
            g.held.insert(
                ticket,
                HeldCall {
                    path: path.to_owned(),
                    acted,
                },
            );
            Holding {
                inner: self.inner.clone(),
                ticket,
            }
        };
        tokio::time::sleep(by).await;
        drop(holding);
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

/// An upload's form: the report id and the file's name and bytes, or the answer to a form
/// that does not read.
async fn read_upload(
    mut form: axum::extract::Multipart,
) -> Result<(u64, String, Vec<u8>), Response> {
    let (mut id, mut file): (Option<u64>, Option<(String, Vec<u8>)>) = (None, None);
    loop {
        let field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                return Err(xml_response(
                    4100,
                    &format!("the form does not read: {e}"),
                    None,
                ));
            }
        };
        match field.name() {
            Some("id") => id = field.text().await.ok().and_then(|t| t.trim().parse().ok()),
            Some("file") => {
                let name = field.file_name().unwrap_or("").to_owned();
                match field.bytes().await {
                    Ok(b) if b.len() <= MAX_FILE && !b.is_empty() => {
                        file = Some((name, b.to_vec()))
                    }
                    Ok(_) => {
                        return Err(xml_response(4100, "the file is empty or too large", None));
                    }
                    Err(e) => {
                        return Err(xml_response(
                            4100,
                            &format!("the file does not read: {e}"),
                            None,
                        ));
                    }
                }
            }
            _ => return Err(xml_response(4100, "unknown form field", None)),
        }
    }
    match (id, file) {
        (Some(id), Some((name, bytes))) => Ok((id, name, bytes)),
        _ => Err(xml_response(4100, "an upload needs `id` and `file`", None)),
    }
}

async fn upload(
    State(mock): State<Mock>,
    headers: HeaderMap,
    form: axum::extract::Multipart,
) -> Response {
    if !mock.authorized(&headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    // The whole request is read before the script runs, as for the other paths: a client that
    // goes away while its call is held is then seen at once, and the call dropped.
    let form = read_upload(form).await;
    run(&mock, "/upload", || {
        let (id, name, bytes) = match form {
            Ok(f) => f,
            Err(r) => return r,
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
                    descriptions: 0,
                });
                upload_response(id, &file_id, &md5)
            }
        }
    })
    .await
}

async fn fileinfo(State(mock): State<Mock>, headers: HeaderMap, body: String) -> Response {
    if !mock.authorized(&headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    run(&mock, "/fileinfo", || describe(&mock, body)).await
}

/// `/fileinfo` acted on: the file's `<fileDetails>` checked and kept.
fn describe(mock: &Mock, body: String) -> Response {
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
                f.descriptions += 1;
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

/// Answers call `path` as its script says: waits any delay scripted before acting, then answers
/// a scripted failure or acts (`act`), then waits any delay scripted before the answer.
async fn run(mock: &Mock, path: &str, act: impl FnOnce() -> Response) -> Response {
    let script = mock.scripted(path);
    if let Some(d) = script.before {
        mock.hold(path, false, d).await;
    }
    let answer = match script.code {
        None => act(),
        Some(401) => StatusCode::UNAUTHORIZED.into_response(),
        Some(c @ 500..=599) => StatusCode::from_u16(c as u16)
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
            .into_response(),
        Some(c) => xml_response(c, "scripted failure", None),
    };
    if let Some(d) = script.answer {
        mock.hold(path, true, d).await;
    }
    answer
}

/// `GET /mock/reports`: the mock's state as JSON, for a test or an integrator in another
/// process (not an NCMEC API): each report with its files, the calls being held, and how many
/// calls of each path were received.
async fn mock_reports(State(mock): State<Mock>, headers: HeaderMap) -> Response {
    if !mock.authorized(&headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let g = lock(&mock.inner);
    let reports: Vec<serde_json::Value> = g
        .reports
        .iter()
        .map(|(id, r)| {
            let files: Vec<serde_json::Value> = r
                .files
                .iter()
                .map(|f| {
                    serde_json::json!({
                        "file_id": f.file_id,
                        "name": f.name,
                        "md5": f.md5,
                        "bytes": f.bytes,
                        "described": f.descriptions > 0,
                        "descriptions": f.descriptions,
                    })
                })
                .collect();
            serde_json::json!({
                "id": id,
                "finished": r.finished,
                "retracted": r.retracted,
                "files": files,
            })
        })
        .collect();
    let held: Vec<serde_json::Value> = g
        .held
        .values()
        .map(|h| serde_json::json!({"path": h.path, "acted": h.acted}))
        .collect();
    let calls = serde_json::json!(g.calls);
    drop(g);
    axum::Json(serde_json::json!({"reports": reports, "held": held, "calls": calls}))
        .into_response()
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
    run(&mock, "/submit", || open(&mock, body)).await
}

/// `/submit` acted on: the report checked and, when it passes, opened.
fn open(mock: &Mock, body: String) -> Response {
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
    run(mock, path, || close_now(mock, body, path)).await
}

/// `/finish` or `/retract` acted on.
fn close_now(mock: &Mock, body: &str, path: &str) -> Response {
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

    /// Serves `mock` on a free loopback port; its base URL.
    async fn serve(mock: &Mock) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let router = mock.router();
        tokio::spawn(async move { axum::serve(listener, router).await });
        base
    }

    /// Waits (polling) until no call is held, at most 10 s.
    async fn until_none_held(mock: &Mock) {
        let start = std::time::Instant::now();
        while !mock.held().is_empty() {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "still held: {:?}",
                mock.held()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// `GET /mock/reports` with `authorization`: the status and the JSON.
    fn state_of(base: &str, authorization: &str) -> (u16, serde_json::Value) {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let mut resp = agent
            .get(format!("{base}/mock/reports"))
            .header("Authorization", authorization)
            .call()
            .unwrap();
        let status = resp.status().as_u16();
        let text = resp.body_mut().read_to_string().unwrap();
        (status, serde_json::from_str(&text).unwrap_or_default())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_call_held_before_acting_dies_with_its_client_and_one_held_after_acting_is_done() {
        use super::super::client::{Client, Credentials, CyberTipError};
        let mock = Mock::new("esp", "pw");
        let base = serve(&mock).await;
        // A client that gives up after 300 ms, as a killed filer stops listening.
        let client = Arc::new(Client::new(
            &base,
            &Credentials::parse("esp:pw").unwrap(),
            Duration::from_millis(300),
        ));
        type Call = Box<dyn FnOnce(&Client) -> Result<(), CyberTipError> + Send>;
        let call = |f: Call| {
            let c = client.clone();
            tokio::task::spawn_blocking(move || f(&c))
        };
        let draft = serde_json::json!({
            "incident_summary": {"incident_type": "Child Sex Trafficking", "platform": "Ex",
                "incident_date_time": "2026-01-30T10:00:00Z"},
            "internet_details": {"web_page": {"url": "https://ex.example/a"}},
            "reporter": {"email": "safety@example.org"},
        });
        let x = super::super::xml::report(&draft, &[]).unwrap();
        // Acted on, then the answer waits: the report is made and the client never hears of it.
        mock.delay_answer_next("/submit", Duration::from_secs(60));
        let xc = x.clone();
        let e = call(Box::new(move |c| c.submit(&xc).map(|_| ())))
            .await
            .unwrap()
            .unwrap_err();
        assert!(matches!(e, CyberTipError::Transport(_)), "{e}");
        assert_eq!(mock.reports().len(), 1);
        until_none_held(&mock).await;
        // Held before acting: the client goes away, and the call is dropped undone.
        mock.delay_next("/submit", Duration::from_secs(60));
        let xc = x.clone();
        let e = call(Box::new(move |c| c.submit(&xc).map(|_| ())))
            .await
            .unwrap()
            .unwrap_err();
        assert!(matches!(e, CyberTipError::Transport(_)), "{e}");
        until_none_held(&mock).await;
        assert_eq!(
            mock.reports().len(),
            1,
            "the held submit was never acted on"
        );
        let id = *mock.reports().keys().next().unwrap();
        // The same for an upload (its form is read before it is held).
        mock.delay_next("/upload", Duration::from_secs(60));
        let n = id.to_string();
        call(Box::new(move |c| c.upload(&n, "a.bin", b"abc").map(|_| ())))
            .await
            .unwrap()
            .unwrap_err();
        until_none_held(&mock).await;
        assert!(mock.reports()[&id].files.is_empty());
        // Scripts apply to the next calls in order, each queue on its own: the first upload
        // goes through at once, the second is made and its answer held; meanwhile
        // `/mock/reports` shows the report, its files and the held call.
        mock.delay_answer_next("/upload", Duration::ZERO);
        mock.delay_answer_next("/upload", Duration::from_secs(60));
        let n = id.to_string();
        call(Box::new(move |c| c.upload(&n, "a.bin", b"abc").map(|_| ())))
            .await
            .unwrap()
            .unwrap();
        let n = id.to_string();
        let second = call(Box::new(move |c| {
            c.upload(&n, "b.bin", b"defg").map(|_| ())
        }));
        let authorization = mock.authorization.as_str().to_owned();
        let start = std::time::Instant::now();
        let (status, seen) = loop {
            let (b, a) = (base.clone(), authorization.clone());
            let (status, seen) = tokio::task::spawn_blocking(move || state_of(&b, &a))
                .await
                .unwrap();
            if status != 200 || !seen["held"].as_array().unwrap().is_empty() {
                break (status, seen);
            }
            assert!(start.elapsed() < Duration::from_secs(10), "{seen}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        };
        assert_eq!(status, 200, "{seen}");
        assert_eq!(
            seen["held"],
            serde_json::json!([{"path": "/upload", "acted": true}])
        );
        let report = &seen["reports"][0];
        assert_eq!(report["id"], id);
        assert_eq!(report["finished"], false);
        assert_eq!(report["retracted"], false);
        let files = report["files"].as_array().unwrap();
        assert_eq!(files.len(), 2, "{seen}");
        assert_eq!(files[1]["bytes"], 4);
        assert_eq!(files[1]["md5"], "025e4da7edac35ede583f5e8d51aa7ec");
        assert_eq!(files[1]["described"], false);
        assert_eq!(
            seen["calls"],
            serde_json::json!({"/submit": 2, "/upload": 3})
        );
        assert!(second.await.unwrap().is_err(), "the answer was lost");
        // Behind the same credentials.
        let b = base.clone();
        let (status, _) = tokio::task::spawn_blocking(move || state_of(&b, "Basic eDp5"))
            .await
            .unwrap();
        assert_eq!(status, 401);
    }
}
