//! The evaluation of a scan against a synthetic corpus's ground truth.

use std::collections::{BTreeMap, HashMap, HashSet};

use samaritan_engine::model::{Analysis, Verdict};
use serde::{Deserialize, Serialize};

use crate::metrics::{PairScore, SetScore, pair_agreement, roc_auc};

/// One line of `truth.jsonl` (as `samaritan synth` writes it; only `id` and `label` are required).
#[derive(Debug, Clone, Deserialize)]
pub struct TruthRecord {
    pub id: String,
    pub label: u8,
    #[serde(default)]
    pub phones: Vec<String>,
    #[serde(default)]
    pub ages: Vec<u32>,
    /// Ages the ad states of someone other than the advertised person (children, players).
    #[serde(default)]
    pub other_ages: Vec<u32>,
    #[serde(default)]
    pub network: Option<String>,
    #[serde(default)]
    pub poster: Option<String>,
    #[serde(default)]
    pub hard_negative: bool,
    #[serde(default)]
    pub city: Option<String>,
}

/// Verdict counts for the ads of one label.
#[derive(Debug, Default, Clone, Serialize)]
pub struct LabelRates {
    pub ads: u64,
    pub allow: u64,
    pub review: u64,
    pub block: u64,
    pub report_candidates: u64,
    /// Share of the label's ads not allowed (recall for labels 1 and 2; false-positive rate for 0).
    pub not_allowed_rate: f64,
}

/// Benign posters that post in several cities (hiring companies): found as networks, never
/// flagged.
#[derive(Debug, Default, Clone, Serialize)]
pub struct MultiCityBenign {
    pub posters: u64,
    /// Posters whose ads the engine put in one network (at least two of them together).
    pub found_as_network: u64,
    /// Posters with at least one ad not allowed.
    pub flagged: u64,
    pub flagged_ads: u64,
}

/// Everything `samaritan eval` measures.
#[derive(Debug, Default, Clone, Serialize)]
pub struct CorpusReport {
    pub ads: u64,
    /// Truth records with no analysis, and analyses with no truth.
    pub missing_analyses: u64,
    pub unknown_analyses: u64,
    pub phones: ExtractionScore,
    /// The advertised person's ages (`extracted.ages` against the truth's `ages`).
    pub ages: ExtractionScore,
    /// Ages the truth gives to someone else, and how many of them were reported as the
    /// advertised person's.
    pub ages_of_others: OtherAges,
    pub labels: BTreeMap<String, LabelRates>,
    /// Hard negatives (benign use of indicator words) not allowed, and those among them flagged by a
    /// single signal.
    pub hard_negatives: u64,
    pub hard_negatives_flagged: u64,
    pub hard_negatives_flagged_by_one_signal: u64,
    /// ROC AUC of `score`, label 2 over label 1.
    pub auc_label2_over_label1: Option<f64>,
    pub networks: PairScore,
    pub multi_city_benign: MultiCityBenign,
}

/// Ages stated of someone else (a sitter's children, a team's players): how many, and how many
/// the engine reported as the advertised person's (a babysitter's ad read as a stated minor).
#[derive(Debug, Default, Clone, Serialize)]
pub struct OtherAges {
    pub stated: u64,
    pub reported_as_advertised: u64,
}

#[derive(Debug, Default, Clone, Serialize)]
pub struct ExtractionScore {
    pub precision: f64,
    pub recall: f64,
    pub tp: u64,
    pub fp: u64,
    #[serde(rename = "fn")]
    pub fn_: u64,
}

impl From<SetScore> for ExtractionScore {
    fn from(s: SetScore) -> Self {
        ExtractionScore {
            precision: s.precision(),
            recall: s.recall(),
            tp: s.tp,
            fp: s.fp,
            fn_: s.fn_,
        }
    }
}

/// Accumulates analyses one at a time (so a million-ad scan is never held in memory) and
/// produces the report at the end.
pub struct Evaluator {
    truth: HashMap<String, TruthRecord>,
    seen: HashSet<String>,
    phones: SetScore,
    ages: SetScore,
    others: OtherAges,
    labels: [LabelRates; 3],
    hard: (u64, u64, u64),
    scores: [Vec<f64>; 3],
    /// (predicted network or unique key, true network or unique key)
    clusters: Vec<(String, String)>,
    /// true network -> (cities, predicted networks per ad, flagged ads)
    benign_posters: HashMap<String, BenignPoster>,
    unknown: u64,
}

/// Cities, predicted network per ad, and flagged ads of one benign multi-city poster.
type BenignPoster = (HashSet<String>, Vec<Option<String>>, u64);

impl Evaluator {
    pub fn new(truth: impl IntoIterator<Item = TruthRecord>) -> Evaluator {
        Evaluator {
            truth: truth.into_iter().map(|t| (t.id.clone(), t)).collect(),
            seen: HashSet::new(),
            phones: SetScore::default(),
            ages: SetScore::default(),
            others: OtherAges::default(),
            labels: Default::default(),
            hard: (0, 0, 0),
            scores: Default::default(),
            clusters: Vec::new(),
            benign_posters: HashMap::new(),
            unknown: 0,
        }
    }

    pub fn add(&mut self, a: &Analysis) {
        let Some(t) = self.truth.get(&a.id) else {
            self.unknown += 1;
            return;
        };
        if !self.seen.insert(a.id.clone()) {
            return; // a repeated analysis of the same ad counts once
        }
        self.phones.add(&a.extracted.phones, &t.phones);
        let ages: Vec<u32> = dedup(&a.extracted.ages);
        self.ages.add(&ages, &dedup(&t.ages));
        for o in dedup(&t.other_ages) {
            if t.ages.contains(&o) {
                continue; // the same number is also the advertised person's: not attributable
            }
            self.others.stated += 1;
            self.others.reported_as_advertised += u64::from(ages.contains(&o));
        }
        let label = usize::from(t.label.min(2));
        let rates = &mut self.labels[label];
        rates.ads += 1;
        match a.verdict {
            Verdict::Allow => rates.allow += 1,
            Verdict::Review => rates.review += 1,
            Verdict::Block => rates.block += 1,
        }
        rates.report_candidates += u64::from(a.report_candidate);
        self.scores[label].push(a.score);
        let flagged = a.verdict != Verdict::Allow;
        if t.hard_negative {
            self.hard.0 += 1;
            if flagged {
                self.hard.1 += 1;
                if a.signals.len() == 1 {
                    self.hard.2 += 1;
                }
            }
        }
        let predicted = a
            .network
            .as_ref()
            .map_or_else(|| format!("ad:{}", a.id), |n| n.id.clone());
        let truth_key = t.network.clone().unwrap_or_else(|| format!("ad:{}", a.id));
        self.clusters.push((predicted, truth_key));
        if t.label == 0
            && let Some(net) = &t.network
        {
            let e = self.benign_posters.entry(net.clone()).or_default();
            if let Some(c) = &t.city {
                e.0.insert(c.clone());
            }
            e.1.push(a.network.as_ref().map(|n| n.id.clone()));
            e.2 += u64::from(flagged);
        }
    }

    pub fn report(self) -> CorpusReport {
        let mut labels = BTreeMap::new();
        for (i, mut r) in self.labels.into_iter().enumerate() {
            r.not_allowed_rate = if r.ads == 0 {
                0.0
            } else {
                (r.review + r.block) as f64 / r.ads as f64
            };
            labels.insert(i.to_string(), r);
        }
        let mut multi = MultiCityBenign::default();
        for (cities, predicted, flagged) in self.benign_posters.values() {
            if cities.len() < 2 {
                continue;
            }
            multi.posters += 1;
            let mut counts: HashMap<&String, u32> = HashMap::new();
            for p in predicted.iter().flatten() {
                *counts.entry(p).or_default() += 1;
            }
            multi.found_as_network += u64::from(counts.values().any(|&c| c >= 2));
            multi.flagged += u64::from(*flagged > 0);
            multi.flagged_ads += flagged;
        }
        let missing = self.truth.len() as u64 - self.seen.len() as u64;
        CorpusReport {
            ads: self.seen.len() as u64,
            missing_analyses: missing,
            unknown_analyses: self.unknown,
            phones: self.phones.into(),
            ages: self.ages.into(),
            ages_of_others: self.others,
            labels,
            hard_negatives: self.hard.0,
            hard_negatives_flagged: self.hard.1,
            hard_negatives_flagged_by_one_signal: self.hard.2,
            auc_label2_over_label1: roc_auc(&self.scores[2], &self.scores[1]),
            networks: pair_agreement(self.clusters),
            multi_city_benign: multi,
        }
    }
}

fn dedup(v: &[u32]) -> Vec<u32> {
    let mut v = v.to_vec();
    v.sort_unstable();
    v.dedup();
    v
}

impl CorpusReport {
    /// A few lines a person reads.
    pub fn human(&self) -> String {
        let mut s = String::new();
        let pct = |x: f64| format!("{:.2}%", x * 100.0);
        s += &format!(
            "ads evaluated: {} (missing analyses: {}, analyses without truth: {})\n",
            self.ads, self.missing_analyses, self.unknown_analyses
        );
        s += &format!(
            "phones: precision {:.4} recall {:.4} (tp {} fp {} fn {})\n",
            self.phones.precision,
            self.phones.recall,
            self.phones.tp,
            self.phones.fp,
            self.phones.fn_
        );
        s += &format!(
            "ages:   precision {:.4} recall {:.4} (tp {} fp {} fn {})\n",
            self.ages.precision, self.ages.recall, self.ages.tp, self.ages.fp, self.ages.fn_
        );
        s += &format!(
            "ages of others (children, players): {} stated, {} reported as the advertised person's\n",
            self.ages_of_others.stated, self.ages_of_others.reported_as_advertised
        );
        for (label, name) in [
            ("0", "benign"),
            ("1", "commercial"),
            ("2", "trafficking/minor"),
        ] {
            if let Some(r) = self.labels.get(label) {
                s += &format!(
                    "label {label} ({name}): {} ads, not allowed {} (review {}, block {}), report candidates {}\n",
                    r.ads,
                    pct(r.not_allowed_rate),
                    r.review,
                    r.block,
                    r.report_candidates
                );
            }
        }
        s += &format!(
            "hard negatives: {} flagged of {} ({} by a single signal)\n",
            self.hard_negatives_flagged,
            self.hard_negatives,
            self.hard_negatives_flagged_by_one_signal
        );
        match self.auc_label2_over_label1 {
            Some(auc) => s += &format!("ROC AUC of score, label 2 over label 1: {auc:.4}\n"),
            None => s += "ROC AUC of score, label 2 over label 1: n/a (a label is absent)\n",
        }
        let n = &self.networks;
        s += &format!(
            "networks: pairwise precision {:.4} recall {:.4} F1 {:.4}, adjusted Rand index {:.4}\n",
            n.precision, n.recall, n.f1, n.adjusted_rand_index
        );
        let m = &self.multi_city_benign;
        s += &format!(
            "benign multi-city posters: {} (found as networks {}, flagged {} with {} ads)\n",
            m.posters, m.found_as_network, m.flagged, m.flagged_ads
        );
        s
    }
}
