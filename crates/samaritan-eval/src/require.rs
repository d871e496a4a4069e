//! Quality gates: `phones.recall>=0.99` checked against a report, so CI fails below a bar.

use serde_json::Value;

/// A bar such as `networks.f1>=0.95` or `labels.0.not_allowed_rate<=0.01`.
#[derive(Debug, Clone, PartialEq)]
pub struct Requirement {
    /// Dotted path into the JSON form of a report.
    pub path: String,
    pub at_least: bool,
    pub bound: f64,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum RequirementError {
    #[error("`{0}` is not a requirement: write PATH>=NUMBER or PATH<=NUMBER")]
    Syntax(String),
    #[error("`{path}` is not a number in the report")]
    Missing { path: String },
}

impl std::str::FromStr for Requirement {
    type Err = RequirementError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (path, at_least, num) = if let Some((p, n)) = s.split_once(">=") {
            (p, true, n)
        } else if let Some((p, n)) = s.split_once("<=") {
            (p, false, n)
        } else {
            return Err(RequirementError::Syntax(s.to_owned()));
        };
        let bound: f64 = num
            .trim()
            .parse()
            .map_err(|_| RequirementError::Syntax(s.to_owned()))?;
        let path = path.trim();
        if path.is_empty() || !bound.is_finite() {
            return Err(RequirementError::Syntax(s.to_owned()));
        }
        Ok(Requirement {
            path: path.to_owned(),
            at_least,
            bound,
        })
    }
}

impl std::fmt::Display for Requirement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}{}{}",
            self.path,
            if self.at_least { ">=" } else { "<=" },
            self.bound
        )
    }
}

impl Requirement {
    /// The measured value, and whether it meets the bar.
    pub fn check(&self, report: &Value) -> Result<(f64, bool), RequirementError> {
        let mut v = report;
        for part in self.path.split('.') {
            v = v.get(part).ok_or_else(|| RequirementError::Missing {
                path: self.path.clone(),
            })?;
        }
        let x = v.as_f64().ok_or_else(|| RequirementError::Missing {
            path: self.path.clone(),
        })?;
        Ok((
            x,
            if self.at_least {
                x >= self.bound
            } else {
                x <= self.bound
            },
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_checks() {
        let report =
            serde_json::json!({"phones": {"recall": 0.995}, "labels": {"0": {"rate": 0.02}}});
        let r: Requirement = "phones.recall>=0.99".parse().unwrap();
        assert_eq!(r.check(&report), Ok((0.995, true)));
        let r: Requirement = "labels.0.rate<=0.01".parse().unwrap();
        assert_eq!(r.check(&report), Ok((0.02, false)));
        let r: Requirement = "phones.precision>=0.9".parse().unwrap();
        assert!(matches!(
            r.check(&report),
            Err(RequirementError::Missing { .. })
        ));
        for bad in ["phones.recall", "x>=y", ">=1", "a>=NaN"] {
            assert!(bad.parse::<Requirement>().is_err(), "{bad}");
        }
    }
}
