//! Report cases for leads: the list, one case's draft read as sections, and approval by a
//! second person (the store refuses the person who decided to report), filing, the files sent
//! and the hold on the preserved evidence ([`super::holds`] changes it). Reading a case is an
//! evidence read, audited as `report.read` like the API's.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use samaritan_store::{Report, Role, StoreError, now_ms};
use serde::Deserialize;

use super::form::ConsoleForm;
use super::page::{Chrome, PageError, render, when};
use super::session::{Person, check_origin};
use crate::AppState;

pub(crate) struct ReportRow {
    pub r: Report,
    pub created: String,
    pub missing: usize,
}

#[derive(Template)]
#[template(path = "reports.html")]
struct ReportsPage {
    chrome: Chrome,
    rows: Vec<ReportRow>,
}

/// One labelled value of a draft section.
pub(crate) struct Field {
    pub label: &'static str,
    pub value: String,
}

pub(crate) struct Section {
    pub title: &'static str,
    pub fields: Vec<Field>,
}

#[derive(Template)]
#[template(path = "report.html")]
pub(crate) struct ReportPage {
    chrome: Chrome,
    r: Report,
    created: String,
    approved: String,
    sections: Vec<Section>,
    missing: Vec<String>,
    can_approve: bool,
    /// Filing is configured and the case is approved, failed or left mid-filing.
    can_file: bool,
    /// The case's report is submitted and unfinished.
    can_retract: bool,
    /// The files sent with its CyberTipline reports.
    files: Vec<samaritan_store::ReportFile>,
    /// The hold on its preserved evidence, with how many files are preserved.
    hold: Option<HoldView>,
    error: Option<String>,
}

/// The hold on a case's preserved evidence as the case page shows it.
pub(crate) struct HoldView {
    pub h: samaritan_store::Hold,
    pub created: String,
    pub until: String,
    pub released: String,
    pub preserved: usize,
    /// The reader is an admin (extends and releases).
    pub can_change: bool,
    pub extensions: Vec<(String, samaritan_store::HoldExtension)>,
}

pub(crate) fn lead(person: &Person) -> Result<(), PageError> {
    person.require(&[Role::Lead, Role::Admin])
}

pub(crate) async fn list(
    State(state): State<AppState>,
    person: Person,
) -> Result<Response, PageError> {
    lead(&person)?;
    let reports = state.store().reports(None, 200).await?;
    state
        .store()
        .audit_append(
            &person.actor(),
            "report.read",
            "reports",
            serde_json::json!({"reports": reports.iter().map(|r| r.id).collect::<Vec<_>>(), "via": "console"}),
        )
        .await?;
    let rows = reports
        .into_iter()
        .map(|r| ReportRow {
            created: when(r.created_at),
            missing: r.draft["missing"].as_array().map_or(0, Vec::len),
            r,
        })
        .collect();
    Ok(render(&ReportsPage {
        chrome: Chrome::of(&person, "reports"),
        rows,
    }))
}

/// A JSON value as a line of text: strings as they are, lists joined, absent as "—".
fn text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => "—".to_owned(),
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(a) if a.is_empty() => "—".to_owned(),
        serde_json::Value::Array(a) => a.iter().map(text).collect::<Vec<_>>().join(", "),
        serde_json::Value::Object(o) => o
            .iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| format!("{k}: {}", text(v)))
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    }
}

fn sections(d: &serde_json::Value, masked: bool) -> Vec<Section> {
    let f = |label: &'static str, pointer: &str| Field {
        label,
        value: text(d.pointer(pointer).unwrap_or(&serde_json::Value::Null)),
    };
    let mut evidence = vec![
        f("Ad", "/evidence/ad_id"),
        f("Revision", "/evidence/revision"),
        f("Content digest (SHA-256)", "/evidence/digest"),
        f("Decided by", "/evidence/decided_by"),
        f("Reason", "/evidence/reason"),
        f("Title", "/evidence/title"),
        f("Text", "/evidence/body"),
        f("Stated ages", "/evidence/stated_ages"),
    ];
    for field in &mut evidence {
        if matches!(field.label, "Title" | "Text") {
            super::mask::apply(masked, &mut field.value);
        }
    }
    for s in d
        .pointer("/evidence/signals")
        .and_then(|v| v.as_array())
        .into_iter()
        .flatten()
    {
        let mut quote = text(&s["text"]);
        super::mask::apply(masked, &mut quote);
        evidence.push(Field {
            label: "Signal",
            value: format!(
                "{} ({}, {:+.2}): {quote}",
                text(&s["indicator"]),
                text(&s["category"]),
                s["weight"].as_f64().unwrap_or(0.0)
            ),
        });
    }
    for i in d
        .pointer("/evidence/images")
        .and_then(|v| v.as_array())
        .into_iter()
        .flatten()
    {
        evidence.push(Field {
            label: "Image",
            value: format!("SHA-256 {} · PDQ {}", text(&i["sha256"]), text(&i["pdq"])),
        });
    }
    vec![
        Section {
            title: "Incident",
            fields: vec![
                f("Incident type", "/incident_summary/incident_type"),
                f("Platform", "/incident_summary/platform"),
                f("Incident time", "/incident_summary/incident_date_time"),
                f(
                    "Time means",
                    "/incident_summary/incident_date_time_description",
                ),
            ],
        },
        Section {
            title: "Internet details",
            fields: vec![
                f("Web page", "/internet_details/web_page/url"),
                f(
                    "About the page",
                    "/internet_details/web_page/additional_info",
                ),
                f("Cell phones", "/internet_details/cell_phones"),
            ],
        },
        Section {
            title: "Reported user",
            fields: vec![
                f(
                    "Account (ESP identifier)",
                    "/person_or_user_reported/esp_identifier",
                ),
                f("Screen names", "/person_or_user_reported/screen_names"),
                f("Display names", "/person_or_user_reported/display_names"),
                f("Profile", "/person_or_user_reported/profile_urls"),
                f("E-mails", "/person_or_user_reported/emails"),
                f(
                    "Estimated location",
                    "/person_or_user_reported/estimated_location",
                ),
            ],
        },
        Section {
            title: "Reporter",
            fields: vec![
                f("E-mail", "/reporter/email"),
                f("Name", "/reporter/first_name"),
                f("Legal process", "/reporter/legal_url"),
            ],
        },
        Section {
            title: "Evidence",
            fields: evidence,
        },
        Section {
            title: "Network",
            fields: vec![
                f("Network", "/network/id"),
                f("Size", "/network/size"),
                f("Cities", "/network/cities"),
                f("Linked by", "/network/reasons"),
            ],
        },
    ]
}

pub(crate) async fn build(
    state: &AppState,
    person: &Person,
    id: i64,
    error: Option<String>,
) -> Result<ReportPage, PageError> {
    let r = state
        .store()
        .report(id)
        .await?
        .ok_or_else(|| PageError::not_found(format!("no report {id}")))?;
    state
        .store()
        .audit_append(
            &person.actor(),
            "report.read",
            &r.ad_id,
            serde_json::json!({"reports": [r.id], "via": "console"}),
        )
        .await?;
    let files = state.store().report_files(r.id).await?;
    let hold = match state.store().hold_of_report(r.id).await? {
        Some(h) => Some(HoldView {
            created: when(h.created_at),
            until: samaritan_store::queue::rfc3339_ms(h.until_ms),
            released: h.released_at.map(when).unwrap_or_default(),
            preserved: state.store().preserved_files(r.id).await?.len(),
            can_change: person.role() == Role::Admin && h.state == "held",
            extensions: h
                .extensions
                .iter()
                .map(|e| (samaritan_store::queue::rfc3339_ms(e.until_ms), e.clone()))
                .collect(),
            h,
        }),
        None => None,
    };
    let missing = r.draft["missing"]
        .as_array()
        .into_iter()
        .flatten()
        .map(text)
        .collect();
    Ok(ReportPage {
        chrome: Chrome::of(person, "reports"),
        created: when(r.created_at),
        approved: r.approved_at.map(when).unwrap_or_default(),
        sections: sections(&r.draft, person.settings.mask_explicit),
        missing,
        can_approve: r.state == "draft" && r.created_by != person.actor(),
        can_file: state.cybertip().is_some()
            && matches!(
                r.state.as_str(),
                "approved" | "failed" | "submitting" | "submitted" | "uploaded"
            ),
        can_retract: state.cybertip().is_some()
            && matches!(r.state.as_str(), "submitted" | "uploaded"),
        files,
        hold,
        error,
        r,
    })
}

pub(crate) fn report_id(id: &str) -> Result<i64, PageError> {
    id.parse()
        .map_err(|_| PageError::bad_request(format!("`{id}` is not a report number")))
}

pub(crate) async fn show(
    State(state): State<AppState>,
    person: Person,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    lead(&person)?;
    let id = report_id(&id)?;
    Ok(render(&build(&state, &person, id, None).await?))
}

#[derive(Deserialize)]
pub(crate) struct ApproveForm {
    #[serde(default)]
    csrf: String,
}

pub(crate) async fn approve(
    State(state): State<AppState>,
    headers: HeaderMap,
    person: Person,
    Path(id): Path<String>,
    ConsoleForm(f): ConsoleForm<ApproveForm>,
) -> Result<Response, PageError> {
    check_origin(&state, &headers)?;
    person.check_csrf(&f.csrf)?;
    lead(&person)?;
    let id = report_id(&id)?;
    match state
        .store()
        .report_approve(id, &person.actor(), now_ms())
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/reports/{id}")).into_response()),
        Err(StoreError::Refused { message, .. }) => {
            let mut resp = render(&build(&state, &person, id, Some(message)).await?);
            *resp.status_mut() = StatusCode::CONFLICT;
            Ok(resp)
        }
        Err(e) => Err(e.into()),
    }
}

/// Files the case with the configured CyberTipline (resuming where a stop left it).
pub(crate) async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    person: Person,
    Path(id): Path<String>,
    ConsoleForm(f): ConsoleForm<ApproveForm>,
) -> Result<Response, PageError> {
    filing_step(state, headers, person, id, f, false).await
}

/// Retracts the case's unfinished CyberTipline report.
pub(crate) async fn retract(
    State(state): State<AppState>,
    headers: HeaderMap,
    person: Person,
    Path(id): Path<String>,
    ConsoleForm(f): ConsoleForm<ApproveForm>,
) -> Result<Response, PageError> {
    filing_step(state, headers, person, id, f, true).await
}

async fn filing_step(
    state: AppState,
    headers: HeaderMap,
    person: Person,
    id: String,
    f: ApproveForm,
    retract: bool,
) -> Result<Response, PageError> {
    check_origin(&state, &headers)?;
    person.check_csrf(&f.csrf)?;
    lead(&person)?;
    let id = report_id(&id)?;
    let client = state.cybertip().ok_or_else(|| {
        PageError::new(
            StatusCode::CONFLICT,
            "Filing is not configured (serve --cybertip … --cybertip-credentials FILE).",
        )
    })?;
    let outcome = if retract {
        crate::cybertip::filing::retract(state.store(), client, id, &person.actor()).await
    } else {
        crate::cybertip::filing::file(state.store(), client, state.blobs(), id, &person.actor())
            .await
    };
    match outcome {
        Ok(_) => Ok(Redirect::to(&format!("/reports/{id}")).into_response()),
        Err(crate::cybertip::filing::FilingError::Store(e)) => Err(e.into()),
        Err(e) => {
            let mut resp = render(&build(&state, &person, id, Some(e.to_string())).await?);
            *resp.status_mut() = StatusCode::CONFLICT;
            Ok(resp)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_reads_as_text() {
        assert_eq!(text(&serde_json::json!(null)), "—");
        assert_eq!(text(&serde_json::json!(["a", "b"])), "a, b");
        assert_eq!(
            text(&serde_json::json!({"city": "Reno", "region": null})),
            "city: Reno"
        );
        assert_eq!(text(&serde_json::json!(3)), "3");
    }
}
