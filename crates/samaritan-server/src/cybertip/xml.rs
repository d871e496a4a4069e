//! The CyberTipline report as XML, from a case's draft: elements in the Reporting API's order
//! (as public clients show it; `../shared/notes/ncmec.md`), every value escaped, characters XML
//! 1.0 forbids dropped, and each free-text field cut to its documented limit.

use std::fmt::Write;

use serde_json::Value;

/// Longest free text in the incident summary (`escalateToHighPriority`,
/// `incidentDateTimeDescription`) and, here, in every `additionalInfo`.
pub const TEXT_LIMIT: usize = 3000;
/// Longest `platform`.
pub const PLATFORM_LIMIT: usize = 256;
/// Longest `legalURL`.
pub const URL_LIMIT: usize = 2083;

/// Why a draft cannot be filed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the report cannot be filed: {0}")]
pub struct NotFileable(pub String);

/// `s` escaped for element text and attribute values, without the characters XML 1.0 does not
/// allow, cut to `max` characters.
pub fn text(s: &str, max: usize) -> String {
    let mut out = String::with_capacity(s.len().min(max) + 16);
    for c in s.chars().filter(|c| allowed(*c)).take(max) {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // A raw carriage return would be read back as a line feed (XML 1.0 §2.11).
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
    out
}

fn allowed(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r')
        || ('\u{20}'..='\u{D7FF}').contains(&c)
        || ('\u{E000}'..='\u{FFFD}').contains(&c)
        || c >= '\u{10000}'
}

fn str_at<'a>(d: &'a Value, pointer: &str) -> Option<&'a str> {
    d.pointer(pointer)
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
}

/// Writes `<name>value</name>` when the value is present.
fn el(out: &mut String, indent: &str, name: &str, value: Option<&str>, max: usize) {
    if let Some(v) = value {
        let _ = writeln!(out, "{indent}<{name}>{}</{name}>", text(v, max));
    }
}

/// The `<report>` document for a case's draft. `prior_reports` are the CyberTipline report ids
/// of earlier cases on the same user (a follow-up names them). Refused when the draft lacks what
/// the CyberTipline requires (a reporter e-mail, an incident time, some internet detail).
pub fn report(draft: &Value, prior_reports: &[String]) -> Result<String, NotFileable> {
    let incident_type = str_at(draft, "/incident_summary/incident_type")
        .ok_or_else(|| NotFileable("no incident type".into()))?;
    let when = str_at(draft, "/incident_summary/incident_date_time")
        .ok_or_else(|| NotFileable("no incident time".into()))?;
    let email = str_at(draft, "/reporter/email")
        .ok_or_else(|| NotFileable("no reporter (serve --reporter FILE)".into()))?;
    let url = str_at(draft, "/internet_details/web_page/url");
    let phones: Vec<&Value> = draft
        .pointer("/internet_details/cell_phones")
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    if url.is_none() && phones.is_empty() {
        return Err(NotFileable(
            "no internet detail: the ad has neither a URL nor a phone".into(),
        ));
    }
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<report>\n");
    // incidentSummary: incidentType, platform, escalateToHighPriority, reportAnnotations,
    // incidentDateTime, incidentDateTimeDescription.
    x.push_str("  <incidentSummary>\n");
    el(
        &mut x,
        "    ",
        "incidentType",
        Some(incident_type),
        TEXT_LIMIT,
    );
    el(
        &mut x,
        "    ",
        "platform",
        str_at(draft, "/incident_summary/platform"),
        PLATFORM_LIMIT,
    );
    let ages: Vec<u64> = draft
        .pointer("/evidence/stated_ages")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_u64)
                .filter(|a| *a < 18)
                .collect()
        })
        .unwrap_or_default();
    if !ages.is_empty() {
        let why = format!(
            "The ad states an age under 18 ({}) and offers commercial sex.",
            ages.iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        );
        el(
            &mut x,
            "    ",
            "escalateToHighPriority",
            Some(&why),
            TEXT_LIMIT,
        );
    }
    el(&mut x, "    ", "incidentDateTime", Some(when), TEXT_LIMIT);
    el(
        &mut x,
        "    ",
        "incidentDateTimeDescription",
        str_at(draft, "/incident_summary/incident_date_time_description"),
        TEXT_LIMIT,
    );
    x.push_str("  </incidentSummary>\n");
    // internetDetails+: the web page, then each phone.
    if let Some(u) = url {
        x.push_str("  <internetDetails>\n    <webPageIncident>\n");
        el(&mut x, "      ", "url", Some(u), URL_LIMIT);
        el(
            &mut x,
            "      ",
            "additionalInfo",
            str_at(draft, "/internet_details/web_page/additional_info"),
            TEXT_LIMIT,
        );
        x.push_str("    </webPageIncident>\n  </internetDetails>\n");
    }
    for p in phones {
        let Some(number) = p["phone_number"].as_str() else {
            continue;
        };
        // The calling code starts with `+` (`+1`), as both public clients that check it require.
        let code = p["country_calling_code"]
            .as_str()
            .unwrap_or("")
            .trim_start_matches('+');
        x.push_str("  <internetDetails>\n    <cellPhoneIncident>\n");
        if code.is_empty() {
            let _ = writeln!(x, "      <phoneNumber>{}</phoneNumber>", text(number, 64));
        } else {
            let _ = writeln!(
                x,
                "      <phoneNumber countryCallingCode=\"+{}\">{}</phoneNumber>",
                text(code, 8),
                text(number, 64)
            );
        }
        x.push_str("    </cellPhoneIncident>\n  </internetDetails>\n");
    }
    // reporter: reportingPerson (firstName, lastName, phone, email), termsOfService, legalURL.
    x.push_str("  <reporter>\n    <reportingPerson>\n");
    el(
        &mut x,
        "      ",
        "firstName",
        str_at(draft, "/reporter/first_name"),
        256,
    );
    el(
        &mut x,
        "      ",
        "lastName",
        str_at(draft, "/reporter/last_name"),
        256,
    );
    el(
        &mut x,
        "      ",
        "phone",
        str_at(draft, "/reporter/phone"),
        64,
    );
    el(&mut x, "      ", "email", Some(email), 256);
    x.push_str("    </reportingPerson>\n");
    el(
        &mut x,
        "    ",
        "termsOfService",
        str_at(draft, "/reporter/terms_of_service"),
        TEXT_LIMIT,
    );
    el(
        &mut x,
        "    ",
        "legalURL",
        str_at(draft, "/reporter/legal_url"),
        URL_LIMIT,
    );
    x.push_str("  </reporter>\n");
    // personOrUserReported: personOrUserReportedPerson (emails), espIdentifier, screenName,
    // displayName*, profileUrl*, priorCTReports*, estimatedLocation (city, region, countryCode).
    let strings = |pointer: &str| -> Vec<&str> {
        draft
            .pointer(pointer)
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default()
    };
    let emails = strings("/person_or_user_reported/emails");
    let display_names = strings("/person_or_user_reported/display_names");
    let profile_urls = strings("/person_or_user_reported/profile_urls");
    let account = str_at(draft, "/person_or_user_reported/esp_identifier");
    let screen = draft
        .pointer("/person_or_user_reported/screen_names/0")
        .and_then(Value::as_str);
    let loc = draft.pointer("/person_or_user_reported/estimated_location");
    if account.is_some()
        || screen.is_some()
        || !emails.is_empty()
        || !display_names.is_empty()
        || !profile_urls.is_empty()
        || !prior_reports.is_empty()
        || loc.is_some_and(|l| !l.is_null())
    {
        x.push_str("  <personOrUserReported>\n");
        if !emails.is_empty() {
            x.push_str("    <personOrUserReportedPerson>\n");
            for e in emails.iter().take(20) {
                el(&mut x, "      ", "email", Some(e), 256);
            }
            x.push_str("    </personOrUserReportedPerson>\n");
        }
        el(&mut x, "    ", "espIdentifier", account, 256);
        el(&mut x, "    ", "screenName", screen, 256);
        for n in display_names.iter().take(20) {
            el(&mut x, "    ", "displayName", Some(n), 256);
        }
        for u in profile_urls.iter().take(20) {
            el(&mut x, "    ", "profileUrl", Some(u), URL_LIMIT);
        }
        for r in prior_reports.iter().take(100) {
            el(&mut x, "    ", "priorCTReports", Some(r), 64);
        }
        if let Some(l) = loc.filter(|l| !l.is_null()) {
            x.push_str("    <estimatedLocation>\n");
            el(&mut x, "      ", "city", l["city"].as_str(), 256);
            el(&mut x, "      ", "region", l["region"].as_str(), 256);
            el(
                &mut x,
                "      ",
                "countryCode",
                l["country_code"].as_str(),
                8,
            );
            x.push_str("    </estimatedLocation>\n");
        }
        x.push_str("  </personOrUserReported>\n");
    }
    // additionalInfo: what the reviewer saw, in words.
    let mut info = String::new();
    if let Some(t) = str_at(draft, "/evidence/title") {
        let _ = writeln!(info, "Title: {t}");
    }
    if let Some(b) = str_at(draft, "/evidence/body") {
        let _ = writeln!(info, "Text: {b}");
    }
    for s in draft
        .pointer("/evidence/signals")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let _ = writeln!(
            info,
            "Indicator {}: {}",
            s["indicator"].as_str().unwrap_or(""),
            s["text"].as_str().unwrap_or("")
        );
    }
    if let Some(n) = draft.pointer("/network").filter(|n| !n.is_null()) {
        let _ = writeln!(
            info,
            "Linked to {} ads in {} cities (network {}).",
            n["size"],
            n["cities"],
            n["id"].as_str().unwrap_or("")
        );
    }
    if !info.is_empty() {
        el(
            &mut x,
            "  ",
            "additionalInfo",
            Some(info.trim_end()),
            TEXT_LIMIT,
        );
    }
    x.push_str("</report>\n");
    Ok(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft() -> Value {
        serde_json::json!({
            "incident_summary": {"incident_type": "Child Sex Trafficking", "platform": "Ex & Co",
                "incident_date_time": "2026-11-30T10:00:00Z", "incident_date_time_description": "posted"},
            "internet_details": {"web_page": {"url": "https://ex.example/a?x=1&y=<2>", "additional_info": "Ad a1"},
                "cell_phones": [{"phone_number": "7025550142", "country_calling_code": "1"}]},
            "person_or_user_reported": {"esp_identifier": "acct-1", "screen_names": ["h1"], "emails": [],
                "display_names": ["H One"], "profile_urls": ["https://ex.example/u/1"],
                "estimated_location": {"city": "Reno", "region": "NV", "country_code": "US"}},
            "reporter": {"platform": "Ex", "email": "safety@example.org"},
            "evidence": {"title": "New \u{0}girl \u{1b}<b>", "body": "x".repeat(5000), "stated_ages": [16, 19],
                "signals": [{"indicator": "stated_age_under_18", "text": "16yo"}]},
            "network": null,
        })
    }

    #[test]
    fn escapes_everything_and_drops_what_xml_forbids() {
        assert_eq!(text("a<b>&\"'", 100), "a&lt;b&gt;&amp;&quot;&apos;");
        assert_eq!(text("a\u{0}b\u{1b}c\u{FFFE}d\t", 100), "abcd\t");
        assert_eq!(text("éééé", 2), "éé");
        // A carriage return survives a reader's line-end normalization.
        let x = format!("<a>{}</a>", text("one\r\ntwo", 100));
        assert_eq!(super::super::tree::parse(&x).unwrap().text, "one\r\ntwo");
    }

    #[test]
    fn elements_come_in_the_api_order_with_limits() {
        let x = report(&draft(), &["123".into()]).unwrap();
        let pos = |s: &str| x.find(s).unwrap_or_else(|| panic!("{s} missing from {x}"));
        assert!(pos("<incidentSummary>") < pos("<internetDetails>"));
        assert!(pos("<incidentType>") < pos("<platform>"));
        assert!(pos("<platform>") < pos("<escalateToHighPriority>"));
        assert!(pos("<escalateToHighPriority>") < pos("<incidentDateTime>"));
        assert!(pos("<webPageIncident>") < pos("<cellPhoneIncident>"));
        assert!(pos("</internetDetails>") < pos("<reporter>"));
        assert!(pos("<reporter>") < pos("<personOrUserReported>"));
        assert!(pos("<espIdentifier>") < pos("<screenName>"));
        assert!(pos("<screenName>") < pos("<displayName>H One</displayName>"));
        assert!(pos("<displayName>") < pos("<profileUrl>https://ex.example/u/1</profileUrl>"));
        assert!(pos("<profileUrl>") < pos("<priorCTReports>123</priorCTReports>"));
        assert!(pos("<priorCTReports>") < pos("<estimatedLocation>"));
        assert!(pos("</personOrUserReported>") < pos("<additionalInfo>Title"));
        assert!(x.contains("<url>https://ex.example/a?x=1&amp;y=&lt;2&gt;</url>"));
        assert!(x.contains("<platform>Ex &amp; Co</platform>"));
        assert!(x.contains("<phoneNumber countryCallingCode=\"+1\">7025550142</phoneNumber>"));
        assert!(x.contains("(16)"), "only the ages under 18 escalate");
        assert!(!x.contains('\u{0}') && !x.contains('\u{1b}'));
        let info = &x[pos("<additionalInfo>Title")..];
        assert!(
            info.find("</additionalInfo>").unwrap() < TEXT_LIMIT + 100,
            "cut to the limit"
        );
        // It parses as XML.
        let mut r = quick_xml::Reader::from_str(&x);
        loop {
            match r.read_event() {
                Ok(quick_xml::events::Event::Eof) => break,
                Ok(_) => {}
                Err(e) => panic!("not XML: {e}"),
            }
        }
    }

    #[test]
    fn what_the_cybertipline_requires_is_checked() {
        let mut d = draft();
        d["reporter"] = Value::Null;
        assert!(report(&d, &[]).unwrap_err().0.contains("reporter"));
        let mut d = draft();
        d["internet_details"]["web_page"]["url"] = Value::Null;
        d["internet_details"]["cell_phones"] = serde_json::json!([]);
        assert!(report(&d, &[]).unwrap_err().0.contains("internet detail"));
    }
}
