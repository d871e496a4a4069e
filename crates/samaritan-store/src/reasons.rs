//! Reason codes: the documented, configurable list a decision's `reason` must come from.
//!
//! A free-text reason cannot be counted, audited for consistency or mapped to a report type;
//! a code can. Each action has its own codes (a removal and an allow are never "because of" the
//! same thing); free text belongs in the note. The default list below fits the field; a platform
//! replaces it with a TOML file (`samaritan serve --reasons FILE`) of the same shape:
//!
//! ```toml
//! [remove]
//! commercial_sex = "Offers commercial sex"
//! [allow]
//! not_commercial = "No commercial sex offered"
//! [report]
//! child_sex_trafficking = "Apparent child sex trafficking"
//! [escalate]
//! needs_lead = "A lead should decide"
//! ```

use std::collections::BTreeMap;

use serde::Serialize;

use crate::{DecisionAction, StoreError};

/// The codes allowed per action, each with what it means.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReasonCodes {
    /// action → code → description.
    pub actions: BTreeMap<String, BTreeMap<String, String>>,
}

const DEFAULTS: &[(DecisionAction, &[(&str, &str)])] = &[
    (
        DecisionAction::Remove,
        &[
            (
                "commercial_sex",
                "Offers commercial sex (adults, no other indicator)",
            ),
            (
                "minor_indicators",
                "Indicators that the person offered is a minor",
            ),
            (
                "third_party_control",
                "Someone else controls, books or is paid for the person offered",
            ),
            (
                "trafficking_indicators",
                "Other indicators of force, fraud or coercion",
            ),
            ("spam", "Spam, scam or fraudulent ad"),
            (
                "other_policy",
                "Breaks another platform rule (say which in the note)",
            ),
        ],
    ),
    (
        DecisionAction::Allow,
        &[
            (
                "not_commercial",
                "No commercial sex offered (false positive)",
            ),
            (
                "adult_consensual",
                "Adults, lawful where posted, no trafficking indicator",
            ),
            (
                "legitimate_service",
                "A lawful service whose words overlap (massage, escort vehicles, sitting)",
            ),
            ("insufficient_evidence", "Not enough to act on"),
        ],
    ),
    (
        DecisionAction::Report,
        &[
            (
                "child_sex_trafficking",
                "Apparent child sex trafficking (CyberTipline)",
            ),
            (
                "online_enticement",
                "Online enticement of a child for sexual acts (CyberTipline)",
            ),
            (
                "minor_indicators",
                "Indicators that the person offered is a minor",
            ),
        ],
    ),
    (
        DecisionAction::Escalate,
        &[
            ("possible_minor", "Might be a minor; a lead should decide"),
            (
                "possible_trafficking",
                "Might be trafficking; a lead should decide",
            ),
            ("needs_lead", "Unclear; a lead should decide"),
            ("legal_question", "Needs legal advice"),
        ],
    ),
];

/// Longest code and description accepted from a file.
const MAX_CODE: usize = 64;
const MAX_DESCRIPTION: usize = 500;

impl Default for ReasonCodes {
    fn default() -> ReasonCodes {
        let actions = DEFAULTS
            .iter()
            .map(|(action, codes)| {
                let codes = codes
                    .iter()
                    .map(|(c, d)| ((*c).to_owned(), (*d).to_owned()))
                    .collect();
                (action.as_str().to_owned(), codes)
            })
            .collect();
        ReasonCodes { actions }
    }
}

impl ReasonCodes {
    /// Reads a list from TOML (module docs): every action needs at least one code; codes are
    /// lowercase ASCII letters, digits and `_`.
    pub fn from_toml(text: &str) -> Result<ReasonCodes, StoreError> {
        let table: BTreeMap<String, BTreeMap<String, String>> =
            toml::from_str(text).map_err(|e| StoreError::Invalid(format!("reason codes: {e}")))?;
        for action in table.keys() {
            if DecisionAction::parse(action).is_none() {
                return Err(StoreError::Invalid(format!(
                    "reason codes: unknown action `[{action}]`; actions are remove, allow, report, escalate"
                )));
            }
        }
        for action in DecisionAction::ALL {
            let codes = table.get(action.as_str()).filter(|c| !c.is_empty());
            let Some(codes) = codes else {
                return Err(StoreError::Invalid(format!(
                    "reason codes: `[{}]` needs at least one code",
                    action.as_str()
                )));
            };
            for (code, description) in codes {
                let valid = !code.is_empty()
                    && code.len() <= MAX_CODE
                    && code
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
                if !valid {
                    return Err(StoreError::Invalid(format!(
                        "reason codes: `[{}] {code}` must be 1 to {MAX_CODE} of a-z, 0-9 and _",
                        action.as_str()
                    )));
                }
                if description.len() > MAX_DESCRIPTION {
                    return Err(StoreError::Invalid(format!(
                        "reason codes: the description of `[{}] {code}` is over {MAX_DESCRIPTION} bytes",
                        action.as_str()
                    )));
                }
            }
        }
        Ok(ReasonCodes { actions: table })
    }

    /// Checks `code` for `action`; the error lists the codes that are allowed.
    pub fn check(&self, action: DecisionAction, code: &str) -> Result<(), String> {
        let codes = self.actions.get(action.as_str());
        if codes.is_some_and(|c| c.contains_key(code)) {
            return Ok(());
        }
        let allowed: Vec<&str> = codes
            .map(|c| c.keys().map(String::as_str).collect())
            .unwrap_or_default();
        Err(format!(
            "`{code}` is not a reason code for `{}`; codes are {} (free text goes in `note`)",
            action.as_str(),
            allowed.join(", ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_cover_every_action() {
        let r = ReasonCodes::default();
        for a in DecisionAction::ALL {
            assert!(!r.actions[a.as_str()].is_empty(), "{a:?}");
        }
        assert!(r.check(DecisionAction::Remove, "minor_indicators").is_ok());
        let e = r
            .check(DecisionAction::Allow, "minor_indicators")
            .unwrap_err();
        assert!(e.contains("not_commercial"), "{e}");
    }

    #[test]
    fn files_are_checked() {
        let ok = "[remove]\na=\"x\"\n[allow]\nb=\"y\"\n[report]\nc=\"z\"\n[escalate]\nd=\"w\"\n";
        let r = ReasonCodes::from_toml(ok).unwrap();
        assert!(r.check(DecisionAction::Remove, "a").is_ok());
        assert!(r.check(DecisionAction::Remove, "b").is_err());
        for bad in [
            "[remove]\na=\"x\"\n",
            "[remove]\na=\"x\"\n[allow]\nb=\"y\"\n[report]\nc=\"z\"\n[escalate]\nd=\"w\"\n[ban]\ne=\"v\"\n",
            "[remove]\n\"A b\"=\"x\"\n[allow]\nb=\"y\"\n[report]\nc=\"z\"\n[escalate]\nd=\"w\"\n",
            "not toml [",
        ] {
            assert!(ReasonCodes::from_toml(bad).is_err(), "{bad}");
        }
    }
}
