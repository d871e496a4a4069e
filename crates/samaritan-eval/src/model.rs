//! Measuring the learned model (issue 25) against ground truth, alone and as a second way to
//! raise ads beside the policy: "policy verdict not allow, or model at or above its threshold".
//!
//! Recall is read at two operating points: the model's own raise threshold (chosen on held
//! benign ads of the *training* corpus: the honest figure) and the threshold that keeps this
//! corpus's benign false-positive rate at the target (an oracle no deployment has: how well the
//! scores rank, whatever the threshold).

use std::collections::BTreeMap;

use samaritan_engine::learn::threshold_at_rate;
use serde::Serialize;

use crate::metrics::roc_auc;

/// One ad as the model evaluation sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ModelItem {
    /// Truth label: 0 benign, 1 commercial sex, 2 trafficking / minor indicators.
    pub label: u8,
    /// The model's calibrated probability (commercial head).
    pub probability: f64,
    /// The severe head's probability.
    pub severe: f64,
    /// True when the policy's verdict is not `allow`.
    pub policy_flagged: bool,
}

/// Rates of one way of raising ads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Raised {
    /// Share of benign ads raised.
    pub benign_rate: f64,
    pub recall_label1: f64,
    pub recall_label2: f64,
}

/// Recall and benign rate at one threshold.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct OperatingPoint {
    /// The probability threshold (`>=` raises).
    pub threshold: f64,
    pub model: Raised,
    pub policy_or_model: Raised,
}

/// What `samaritan model eval` reports.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ModelReport {
    pub ads: BTreeMap<String, u64>,
    /// ROC AUC of the model's probability, labels 1 and 2 over label 0.
    pub auc_commercial: Option<f64>,
    /// ROC AUC of the severe head, label 2 over label 1.
    pub auc_label2_over_label1: Option<f64>,
    /// The policy alone.
    pub policy: Raised,
    /// At the model's raise threshold (chosen on the training corpus), when it has one.
    pub at_model_threshold: Option<OperatingPoint>,
    /// At the threshold that keeps this corpus's benign rate at `target_benign_rate` (oracle).
    pub at_corpus_rate: Option<OperatingPoint>,
    pub target_benign_rate: f64,
}

fn rates(items: &[ModelItem], raised: impl Fn(&ModelItem) -> bool) -> Raised {
    let share = |label: u8| {
        let of: Vec<&ModelItem> = items.iter().filter(|i| i.label == label).collect();
        if of.is_empty() {
            return 0.0;
        }
        of.iter().filter(|i| raised(i)).count() as f64 / of.len() as f64
    };
    Raised {
        benign_rate: share(0),
        recall_label1: share(1),
        recall_label2: share(2),
    }
}

fn at(items: &[ModelItem], threshold: f64) -> OperatingPoint {
    OperatingPoint {
        threshold,
        model: rates(items, |i| i.probability >= threshold),
        policy_or_model: rates(items, |i| i.policy_flagged || i.probability >= threshold),
    }
}

/// Measures `items`; `model_threshold` is the model's own raise threshold, if it has one.
pub fn evaluate(
    items: &[ModelItem],
    model_threshold: Option<f64>,
    target_benign_rate: f64,
) -> ModelReport {
    let mut ads = BTreeMap::new();
    for i in items {
        *ads.entry(format!("label_{}", i.label)).or_insert(0) += 1;
    }
    let probs = |f: &dyn Fn(&ModelItem) -> bool, s: &dyn Fn(&ModelItem) -> f64| -> Vec<f64> {
        items.iter().filter(|i| f(i)).map(s).collect()
    };
    let benign = probs(&|i| i.label == 0, &|i| i.probability);
    let commercial = probs(&|i| i.label != 0, &|i| i.probability);
    let severe2 = probs(&|i| i.label == 2, &|i| i.severe);
    let severe1 = probs(&|i| i.label == 1, &|i| i.severe);
    ModelReport {
        ads,
        auc_commercial: roc_auc(&commercial, &benign),
        auc_label2_over_label1: roc_auc(&severe2, &severe1),
        policy: rates(items, |i| i.policy_flagged),
        at_model_threshold: model_threshold.map(|t| at(items, t)),
        at_corpus_rate: threshold_at_rate(&benign, target_benign_rate).map(|t| at(items, t)),
        target_benign_rate,
    }
}

impl ModelReport {
    /// A short human summary.
    pub fn human(&self) -> String {
        let mut s = String::new();
        let ads: Vec<String> = self.ads.iter().map(|(k, v)| format!("{k} {v}")).collect();
        s.push_str(&format!("ads: {}\n", ads.join(", ")));
        let auc = |a: Option<f64>| a.map_or("-".to_owned(), |a| format!("{a:.4}"));
        s.push_str(&format!(
            "model ROC AUC commercial over benign {}, severe head label 2 over label 1 {}\n",
            auc(self.auc_commercial),
            auc(self.auc_label2_over_label1)
        ));
        let line = |name: &str, r: &Raised| {
            format!(
                "  {name:16} benign {:.4}  label 1 {:.4}  label 2 {:.4}\n",
                r.benign_rate, r.recall_label1, r.recall_label2
            )
        };
        s.push_str(&line("policy", &self.policy));
        for (what, p) in [
            (
                "model threshold (training corpus)",
                &self.at_model_threshold,
            ),
            ("this corpus's benign rate (oracle)", &self.at_corpus_rate),
        ] {
            if let Some(p) = p {
                s.push_str(&format!("at {what}: p >= {:.4}\n", p.threshold));
                s.push_str(&line("model", &p.model));
                s.push_str(&line("policy or model", &p.policy_or_model));
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap (CONTRIBUTING.md)

    use super::*;

    fn item(label: u8, probability: f64, policy_flagged: bool) -> ModelItem {
        ModelItem {
            label,
            probability,
            severe: if label == 2 { 0.9 } else { 0.1 },
            policy_flagged,
        }
    }

    #[test]
    fn rates_and_union() {
        let mut items: Vec<ModelItem> = (0..100)
            .map(|i| item(0, f64::from(i) / 100.0, false))
            .collect();
        items.push(item(1, 0.995, false)); // model only
        items.push(item(1, 0.2, true)); // policy only
        items.push(item(2, 0.1, false)); // neither
        items.push(item(2, 0.999, true)); // both
        let r = evaluate(&items, Some(0.985), 0.01);
        assert_eq!(r.ads["label_0"], 100);
        assert_eq!(r.policy.recall_label1, 0.5);
        let m = r.at_model_threshold.unwrap();
        assert_eq!(m.model.benign_rate, 0.01); // only 0.99
        assert_eq!(m.model.recall_label1, 0.5);
        assert_eq!(m.policy_or_model.recall_label1, 1.0);
        assert_eq!(m.policy_or_model.recall_label2, 0.5);
        let o = r.at_corpus_rate.unwrap();
        assert!(o.model.benign_rate <= 0.01);
        assert_eq!(r.auc_label2_over_label1, Some(1.0));
        assert!(r.human().contains("policy or model"));
    }
}
