//! Report cases: the draft a `report` decision opens for NCMEC's CyberTipline (issue 22).
//!
//! The draft is built from what the store holds — the ad at the revision the decision judged,
//! its analysis, its network and the evidence — in the shape of the CyberTipline's report
//! (incident summary, web page and phones as internet details, the reported user, the reporter),
//! plus the evidence and network a reviewer or investigator reads. Text-only ads make complete
//! drafts; images are listed by hash when the ad has them. A case is a draft until a second
//! lead approves it; filing is [`crate::cybertip`].
//!
//! Cases open right after the decision; should the server stop in between, the sweep at start
//! and with every audit verification opens the missing ones (opening is idempotent per decision).

use samaritan_engine::model::{Ad, Analysis};
use samaritan_store::{Decision, NetworkRecord, ReportOpen, StoreError, now_ms};
use serde::{Deserialize, Serialize};

use crate::AppState;

/// Who files the reports: the provider's reporting person and legal details, from
/// configuration (`samaritan serve --reporter FILE`). Required before a case can be filed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reporter {
    /// The platform's name as the incident summary gives it.
    pub platform: String,
    /// The reporting person's e-mail (required by the CyberTipline).
    pub email: String,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    /// The provider's terms of service, as text or a URL.
    #[serde(default)]
    pub terms_of_service: Option<String>,
    /// Where law enforcement sends legal process (≤ 2083 characters).
    #[serde(default)]
    pub legal_url: Option<String>,
}

impl Reporter {
    /// Checks what the CyberTipline requires and limits; the message names the field.
    pub fn check(&self) -> Result<(), String> {
        if self.email.trim().is_empty() || !self.email.contains('@') {
            return Err("`email` must be the reporting person's e-mail address".into());
        }
        if self.platform.trim().is_empty() || self.platform.chars().count() > 256 {
            return Err("`platform` must be 1 to 256 characters".into());
        }
        if self
            .legal_url
            .as_ref()
            .is_some_and(|u| u.chars().count() > 2083)
        {
            return Err("`legal_url` is longer than 2083 characters".into());
        }
        Ok(())
    }
}

/// The CyberTipline incident type a report reason stands for. The built-in report reasons
/// name them; any other (a platform's own code) is reported as child sex trafficking, the
/// incident a trafficking ad is.
pub fn incident_type(reason: &str) -> &'static str {
    match reason {
        "online_enticement" => "Online Enticement of Children for Sexual Acts",
        _ => "Child Sex Trafficking",
    }
}

/// Characters of the ad kept in a draft's fields (the CyberTipline's free-text limit).
const TEXT_LIMIT: usize = 3000;

fn cut(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

/// The draft of a case: pure, from what the store holds.
pub fn draft(
    decision: &Decision,
    ad: &Ad,
    analysis: &Analysis,
    network: Option<&NetworkRecord>,
    reporter: Option<&Reporter>,
    received_at: i64,
) -> serde_json::Value {
    let e = &analysis.extracted;
    let when_ms = ad
        .posted_at
        .map(|s| s.saturating_mul(1000))
        .unwrap_or(received_at);
    let location = ad.location.as_ref();
    let mut missing: Vec<&str> = Vec::new();
    if reporter.is_none() {
        missing.push("reporter (serve --reporter FILE)");
    }
    if ad.url.is_none() && e.phones.is_empty() {
        missing.push("an internet detail: the ad has neither a URL nor a phone");
    }
    let phones: Vec<serde_json::Value> = e
        .phones
        .iter()
        .map(|p| {
            // North American numbers are kept as 10 digits; others carry their country code.
            let (code, number) = if p.len() == 10 {
                ("1", p.as_str())
            } else {
                ("", p.as_str())
            };
            serde_json::json!({"phone_number": number, "country_calling_code": code})
        })
        .collect();
    serde_json::json!({
        "incident_summary": {
            "incident_type": incident_type(&decision.reason),
            "platform": reporter.map(|r| r.platform.clone()),
            "incident_date_time": samaritan_store::queue::rfc3339_ms(when_ms),
            "incident_date_time_description": if ad.posted_at.is_some() {
                "when the platform says the ad was posted"
            } else {
                "when the ad reached Samaritan (the platform gave no posting time)"
            },
        },
        "internet_details": {
            "web_page": {
                "url": ad.url,
                "additional_info": cut(&format!(
                    "Ad {} (revision {}){}{}.",
                    ad.id,
                    decision.revision,
                    ad.title.as_ref().map(|t| format!(", titled \"{t}\"")).unwrap_or_default(),
                    location.and_then(|l| l.city.as_ref()).map(|c| format!(", posted in {c}")).unwrap_or_default(),
                ), TEXT_LIMIT),
            },
            "cell_phones": phones,
        },
        "person_or_user_reported": {
            "esp_identifier": ad.account,
            "screen_names": e.handles,
            "display_names": ad.poster.as_ref().and_then(|p| p.display_name.as_deref()).into_iter().collect::<Vec<_>>(),
            "profile_urls": ad.poster.as_ref().and_then(|p| p.profile_url.as_deref()).into_iter().collect::<Vec<_>>(),
            "emails": e.emails,
            "estimated_location": location.map(|l| serde_json::json!({
                "city": l.city, "region": l.region, "country_code": l.country,
            })),
        },
        "reporter": reporter,
        "evidence": {
            "ad_id": ad.id,
            "revision": decision.revision,
            "digest": decision.digest,
            "decision_seq": decision.seq,
            "decided_by": decision.actor,
            "reason": decision.reason,
            "title": ad.title.as_deref().map(|t| cut(t, TEXT_LIMIT)),
            "body": ad.body.as_deref().map(|b| cut(b, TEXT_LIMIT)),
            "verdict": analysis.verdict.as_str(),
            "score": analysis.score,
            "stated_ages": e.ages,
            "signals": analysis.signals.iter().map(|s| serde_json::json!({
                "indicator": s.indicator, "category": s.category, "weight": s.weight, "text": s.text,
            })).collect::<Vec<_>>(),
            "images": analysis.images.iter().map(|i| serde_json::json!({
                "index": i.index, "sha256": i.sha256, "md5": i.md5, "pdq": i.pdq,
                "url": match ad.images.get(i.index) {
                    Some(samaritan_engine::model::ImageRef::Url { url }) => Some(url.as_str()),
                    _ => None,
                },
            })).collect::<Vec<_>>(),
            "received_at": samaritan_store::queue::rfc3339_ms(received_at),
        },
        "network": network.map(|n| serde_json::json!({
            "id": n.id,
            "size": n.size,
            "cities": n.cities,
            "reasons": n.reasons,
            "members": n.members.iter().map(|m| m.ad_id.as_str()).collect::<Vec<_>>(),
        })),
        "missing": missing,
    })
}

/// Opens the case of `decision` when it is a report (nothing otherwise); a case already open
/// for it is left as it is. Errors are the caller's to log: the decision stands either way,
/// and the sweep retries.
pub async fn open_case(state: &AppState, decision: &Decision) -> Result<(), StoreError> {
    if decision.action != "report" {
        return Ok(());
    }
    let store = state.store();
    let Some(rec) = store.get_ad(&decision.ad_id, now_ms()).await? else {
        return Err(StoreError::NotFound(format!("ad `{}`", decision.ad_id)));
    };
    // The ad and analysis as judged: the current ones, or the stored revision when the ad
    // changed since the decision.
    let (raw, analysis) = if rec.revision == decision.revision {
        (rec.raw.clone(), rec.analysis.clone())
    } else {
        // Never the current text under the judged revision's name: a missing revision is an
        // error (logged by the caller; the sweep retries).
        let missing = || {
            StoreError::Corrupt(format!(
                "revision {} of `{}`, judged by decision {}, is not stored",
                decision.revision, decision.ad_id, decision.seq
            ))
        };
        let raw = store
            .ad_history(&decision.ad_id)
            .await?
            .into_iter()
            .find(|(r, _)| *r == decision.revision)
            .map(|(_, raw)| raw)
            .ok_or_else(missing)?;
        let analysis = store
            .analysis_of_revision(&decision.ad_id, decision.revision)
            .await?
            .ok_or_else(missing)?;
        (raw, analysis)
    };
    let ad: Ad = serde_json::from_str(&raw)
        .map_err(|e| StoreError::Corrupt(format!("stored ad `{}`: {e}", decision.ad_id)))?;
    let network = match &rec.network_id {
        Some(id) => store.network(id, 500).await?,
        None => None,
    };
    let draft = draft(
        decision,
        &ad,
        &analysis,
        network.as_ref(),
        state.reporter(),
        rec.received_at,
    );
    let open = ReportOpen {
        decision: decision.clone(),
        incident_type: incident_type(&decision.reason).to_owned(),
        account: ad.account.clone(),
        phones: analysis.extracted.phones.clone(),
        draft,
    };
    store.report_open(&open, now_ms()).await?;
    Ok(())
}

/// Opens the cases of report decisions that have none (after a stop between a decision and
/// its case). Returns how many were opened.
pub async fn open_missing(state: &AppState) -> Result<usize, StoreError> {
    let mut opened = 0;
    loop {
        let batch = state.store().report_decisions_without_case(100).await?;
        if batch.is_empty() {
            return Ok(opened);
        }
        let before = opened;
        for d in &batch {
            match open_case(state, d).await {
                Ok(()) => opened += 1,
                Err(e) => {
                    tracing::warn!(decision = d.seq, error = %e, "report case not opened");
                }
            }
        }
        if opened == before {
            // Every one failed: try again at the next sweep rather than loop here.
            return Ok(opened);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_map_to_incident_types() {
        assert_eq!(
            incident_type("online_enticement"),
            "Online Enticement of Children for Sexual Acts"
        );
        assert_eq!(
            incident_type("child_sex_trafficking"),
            "Child Sex Trafficking"
        );
        assert_eq!(incident_type("minor_indicators"), "Child Sex Trafficking");
    }

    #[test]
    fn a_reporter_is_checked() {
        let mut r = Reporter {
            platform: "Example Classifieds".into(),
            email: "safety@example.org".into(),
            first_name: None,
            last_name: None,
            phone: None,
            terms_of_service: None,
            legal_url: None,
        };
        assert!(r.check().is_ok());
        r.email = "nobody".into();
        assert!(r.check().unwrap_err().contains("email"));
        r.email = "safety@example.org".into();
        r.legal_url = Some("x".repeat(2084));
        assert!(r.check().unwrap_err().contains("legal_url"));
    }
}
