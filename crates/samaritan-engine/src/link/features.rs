//! Network features: what a linked group looks like, in numbers the policy can weigh.
//!
//! Size alone says little: a moving company posting one hiring ad in forty cities is a network,
//! and so is a trafficker moving three women through six cities in two weeks. What separates
//! them is *how* the ads are tied and how they move: one account, one template and one phone
//! behind every ad (a business), against many names, rotating phones or accounts, and the same
//! phone turning up in several cities within days. Every figure here is computed from the
//! members; none is a verdict. The policy decides.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

/// Seconds in a day.
pub const DAY: i64 = 86_400;

/// One stay of a phone in a city: consecutive ads (in time) posted there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stay {
    pub city: String,
    pub from: i64,
    pub to: i64,
    pub ads: u32,
}

/// The movement of one phone through cities over time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhoneTimeline {
    pub phone: String,
    pub ads: u32,
    pub cities: u32,
    /// Changes of city between consecutive dated ads.
    pub moves: u32,
    /// Dated ads with a city, grouped into stays, in time order.
    pub stays: Vec<Stay>,
}

impl PhoneTimeline {
    /// Most distinct cities this phone appears in within any window of `seconds`.
    pub fn max_cities_within(&self, seconds: i64) -> u32 {
        // Expand stays into (time, city) visits at their bounds; a stay spans [from, to].
        let mut visits: Vec<(i64, &str)> = Vec::with_capacity(self.stays.len() * 2);
        for s in &self.stays {
            visits.push((s.from, &s.city));
            if s.to != s.from {
                visits.push((s.to, &s.city));
            }
        }
        visits.sort();
        let mut best = 0u32;
        let mut counts: BTreeMap<&str, u32> = BTreeMap::new();
        let mut lo = 0usize;
        for hi in 0..visits.len() {
            *counts.entry(visits[hi].1).or_insert(0) += 1;
            while visits[hi].0 - visits[lo].0 > seconds {
                if let Some(c) = counts.get_mut(visits[lo].1) {
                    *c -= 1;
                    if *c == 0 {
                        counts.remove(visits[lo].1);
                    }
                }
                lo += 1;
            }
            best = best.max(counts.len() as u32);
        }
        best
    }
}

/// Everything the policy may read about a network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetworkFeatures {
    /// Ads in the network.
    pub size: u32,
    /// Distinct cities (city and region as given by the platform).
    pub cities: u32,
    /// Distinct persona names, as given by the extractor (0 when none are extracted).
    pub names: u32,
    pub accounts: u32,
    pub phones: u32,
    /// Distinct templates (near-duplicate clusters of two or more ads) among the members.
    pub templates: u32,
    /// Ads without a near-duplicate among the members' templates.
    pub untemplated: u32,
    pub first_seen: Option<i64>,
    pub last_seen: Option<i64>,
    /// Ads per day between first and last seen (a span under a day counts as one day).
    pub posting_rate_per_day: Option<f64>,
    /// Share of ads posted by the most frequent account (0 when no ad names an account).
    pub dominant_account_share: f64,
    /// Share of ads in the largest template.
    pub dominant_template_share: f64,
    /// Share of ads carrying the most frequent phone.
    pub dominant_phone_share: f64,
    /// Per phone, its movement through cities, most ads first.
    pub phone_timelines: Vec<PhoneTimeline>,
}

impl NetworkFeatures {
    /// Most distinct cities one phone of the network appears in within `days` days — e.g.
    /// "same phone in ≥ 3 cities within 14 days" is `phone_max_cities_within(14.0) >= 3`.
    pub fn phone_max_cities_within(&self, days: f64) -> u32 {
        let seconds = (days * DAY as f64).round() as i64;
        self.phone_timelines
            .iter()
            .map(|t| t.max_cities_within(seconds))
            .max()
            .unwrap_or(0)
    }

    /// The shape of a single business posting everywhere: one account (when accounts are
    /// known), one template and at most one phone behind every ad. Not a verdict; a fact the
    /// policy can use to keep multi-city companies from looking like movement.
    pub fn single_poster_shape(&self) -> bool {
        self.size >= 2
            && self.accounts <= 1
            && self.templates == 1
            && self.untemplated == 0
            && self.phones <= 1
    }
}

/// What the policy reads of a network (see [`crate::policy`]).
impl crate::policy::NetworkView for NetworkFeatures {
    fn size(&self) -> u32 {
        self.size
    }

    fn names(&self) -> u32 {
        self.names
    }

    fn max_phone_cities_within(&self, days: u32) -> u32 {
        self.phone_max_cities_within(f64::from(days))
    }
}

/// Facts about one member ad, as the linker knows them.
pub struct MemberFacts<'a> {
    pub posted_at: Option<i64>,
    pub city: Option<&'a str>,
    pub account: Option<&'a str>,
    pub phones: Vec<&'a str>,
    pub names: Vec<&'a str>,
    /// Root of the ad's template cluster when that cluster has two or more ads.
    pub template: Option<u32>,
}

/// One phone as seen so far: ads carrying it, dated visits `(time, city)`, cities.
type PhoneSeen<'a> = (u32, Vec<(i64, &'a str)>, BTreeSet<&'a str>);

/// Accumulates member facts into [`NetworkFeatures`].
#[derive(Default)]
pub struct FeatureBuilder<'a> {
    size: u32,
    cities: BTreeSet<&'a str>,
    names: BTreeSet<&'a str>,
    accounts: BTreeMap<&'a str, u32>,
    templates: BTreeMap<u32, u32>,
    untemplated: u32,
    first: Option<i64>,
    last: Option<i64>,
    phones: BTreeMap<&'a str, PhoneSeen<'a>>,
}

impl<'a> FeatureBuilder<'a> {
    pub fn add(&mut self, m: MemberFacts<'a>) {
        self.size += 1;
        if let Some(c) = m.city {
            self.cities.insert(c);
        }
        self.names.extend(m.names.iter().copied());
        if let Some(a) = m.account {
            *self.accounts.entry(a).or_insert(0) += 1;
        }
        match m.template {
            Some(t) => *self.templates.entry(t).or_insert(0) += 1,
            None => self.untemplated += 1,
        }
        if let Some(t) = m.posted_at {
            self.first = Some(self.first.map_or(t, |f| f.min(t)));
            self.last = Some(self.last.map_or(t, |l| l.max(t)));
        }
        for p in m.phones {
            let e = self.phones.entry(p).or_default();
            e.0 += 1;
            if let Some(c) = m.city {
                e.2.insert(c);
                if let Some(t) = m.posted_at {
                    e.1.push((t, c));
                }
            }
        }
    }

    pub fn finish(self) -> NetworkFeatures {
        let size = self.size.max(1);
        let share = |top: Option<u32>| f64::from(top.unwrap_or(0)) / f64::from(size);
        let posting_rate_per_day = match (self.first, self.last) {
            (Some(f), Some(l)) => {
                let days = ((l - f) as f64 / DAY as f64).max(1.0);
                Some(f64::from(self.size) / days)
            }
            _ => None,
        };
        let dominant_phone_share = share(self.phones.values().map(|p| p.0).max());
        let mut phone_timelines: Vec<PhoneTimeline> = self
            .phones
            .into_iter()
            .map(|(phone, (ads, mut visits, cities))| {
                visits.sort();
                let mut stays: Vec<Stay> = Vec::new();
                for (t, c) in visits {
                    match stays.last_mut() {
                        Some(s) if s.city == c => {
                            s.to = t;
                            s.ads += 1;
                        }
                        _ => stays.push(Stay {
                            city: c.to_owned(),
                            from: t,
                            to: t,
                            ads: 1,
                        }),
                    }
                }
                PhoneTimeline {
                    phone: phone.to_owned(),
                    ads,
                    cities: cities.len() as u32,
                    moves: stays.len().saturating_sub(1) as u32,
                    stays,
                }
            })
            .collect();
        phone_timelines.sort_by(|a, b| b.ads.cmp(&a.ads).then_with(|| a.phone.cmp(&b.phone)));
        NetworkFeatures {
            size: self.size,
            cities: self.cities.len() as u32,
            names: self.names.len() as u32,
            accounts: self.accounts.len() as u32,
            phones: phone_timelines.len() as u32,
            templates: self.templates.len() as u32,
            untemplated: self.untemplated,
            first_seen: self.first,
            last_seen: self.last,
            posting_rate_per_day,
            dominant_account_share: share(self.accounts.values().copied().max()),
            dominant_template_share: share(self.templates.values().copied().max()),
            dominant_phone_share,
            phone_timelines,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ad<'a>(t: i64, city: &'a str, phone: &'a str, account: &'a str) -> MemberFacts<'a> {
        MemberFacts {
            posted_at: Some(t),
            city: Some(city),
            account: Some(account),
            phones: vec![phone],
            names: vec![],
            template: Some(7),
        }
    }

    #[test]
    fn movement_within_a_window() {
        let mut b = FeatureBuilder::default();
        b.add(ad(0, "reno", "5550100", "a"));
        b.add(ad(DAY, "reno", "5550100", "b"));
        b.add(ad(3 * DAY, "boise", "5550100", "c"));
        b.add(ad(10 * DAY, "tulsa", "5550100", "d"));
        b.add(ad(40 * DAY, "omaha", "5550100", "e"));
        let f = b.finish();
        assert_eq!(f.size, 5);
        assert_eq!(f.cities, 4);
        assert_eq!(f.phone_max_cities_within(14.0), 3);
        assert_eq!(f.phone_max_cities_within(2.0), 2);
        assert_eq!(f.phone_max_cities_within(100.0), 4);
        let t = &f.phone_timelines[0];
        assert_eq!(t.moves, 3);
        assert_eq!(t.stays[0].ads, 2);
        assert_eq!(f.first_seen, Some(0));
        assert_eq!(f.last_seen, Some(40 * DAY));
        assert!((f.posting_rate_per_day.unwrap() - 5.0 / 40.0).abs() < 1e-9);
        assert!(!f.single_poster_shape());
    }

    #[test]
    fn a_business_has_the_single_poster_shape() {
        let mut b = FeatureBuilder::default();
        for (i, c) in ["reno", "boise", "tulsa", "omaha"].iter().enumerate() {
            b.add(ad(i as i64 * DAY, c, "5550199", "acme"));
        }
        let f = b.finish();
        assert!(f.single_poster_shape());
        assert_eq!(f.dominant_account_share, 1.0);
        assert_eq!(f.phone_max_cities_within(14.0), 4);
    }

    #[test]
    fn undated_ads_have_no_rate_and_no_movement() {
        let mut b = FeatureBuilder::default();
        b.add(MemberFacts {
            posted_at: None,
            city: Some("reno"),
            account: None,
            phones: vec!["5550100"],
            names: vec!["ana"],
            template: None,
        });
        let f = b.finish();
        assert_eq!(f.posting_rate_per_day, None);
        assert_eq!(f.phone_max_cities_within(14.0), 0);
        assert_eq!(f.names, 1);
        assert_eq!(f.dominant_account_share, 0.0);
    }
}
