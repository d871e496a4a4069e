//! Who posts: the actors behind a synthetic marketplace and when they post.
//!
//! An actor is one poster — a person selling a sofa, a company hiring in twelve cities, an
//! independent adult advertising, or a trafficking operation rotating phones and personas through
//! cities. Everything about an actor derives from `(seed, actor index)`, so ads can be generated
//! in any order and in parallel and still come out the same.

use crate::render::Phone;
use crate::rng::Rng;

/// What kind of poster an actor is; decides the label of its ads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A private person with one ad.
    Person,
    /// A private person with several ads in one city (selling household items, renting rooms).
    RepeatSeller,
    /// A legitimate business posting one hiring template in many cities with one recruiting line.
    Company,
    /// An adult advertising commercial sex independently in one city.
    Independent,
    /// An independent adult touring several cities ("in town this week").
    Touring,
    /// An agency listing several adults, without trafficking indicators.
    Agency,
    /// A trafficking operation: shared template, rotating phones and personas, moving cities.
    Trafficking,
    /// A single ad with minor indicators (stated age under 18, youth wording).
    Minor,
}

impl Kind {
    /// Ground-truth label: 0 benign, 1 commercial sex, 2 commercial sex with trafficking or minor
    /// indicators.
    pub fn label(self) -> u8 {
        match self {
            Kind::Person | Kind::RepeatSeller | Kind::Company => 0,
            Kind::Independent | Kind::Touring | Kind::Agency => 1,
            Kind::Trafficking | Kind::Minor => 2,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::Person => "person",
            Kind::RepeatSeller => "repeat_seller",
            Kind::Company => "company",
            Kind::Independent => "independent",
            Kind::Touring => "touring",
            Kind::Agency => "agency",
            Kind::Trafficking => "trafficking",
            Kind::Minor => "minor",
        }
    }

    const ALL: [Kind; 8] = [
        Kind::Person,
        Kind::RepeatSeller,
        Kind::Company,
        Kind::Independent,
        Kind::Touring,
        Kind::Agency,
        Kind::Trafficking,
        Kind::Minor,
    ];

    /// Share of all ads posted by this kind of actor, and the mean number of ads per actor.
    fn share_and_mean_size(self) -> (f64, f64) {
        match self {
            Kind::Person => (0.53, 1.0),
            Kind::RepeatSeller => (0.07, 3.0),
            Kind::Company => (0.07, 15.0),
            Kind::Independent => (0.12, 2.5),
            Kind::Touring => (0.05, 7.0),
            Kind::Agency => (0.03, 8.0),
            Kind::Trafficking => (0.115, 12.0),
            Kind::Minor => (0.015, 1.3),
        }
    }

    fn draw(rng: &mut Rng) -> Kind {
        let weights: Vec<f64> = Kind::ALL
            .iter()
            .map(|k| {
                let (share, mean) = k.share_and_mean_size();
                share / mean
            })
            .collect();
        Kind::ALL[rng.weighted(&weights)]
    }

    fn draw_size(self, rng: &mut Rng) -> u32 {
        match self {
            Kind::Person => 1,
            Kind::RepeatSeller => rng.range(2, 4),
            Kind::Company => 5 + (rng.exp(10.0) as u32).min(35),
            Kind::Independent => {
                if rng.chance(0.45) {
                    1
                } else {
                    rng.range(2, 5)
                }
            }
            Kind::Touring => rng.range(3, 11),
            Kind::Agency => rng.range(3, 13),
            Kind::Trafficking => 2 + (rng.exp(10.0) as u32).min(58),
            Kind::Minor => {
                if rng.chance(0.7) {
                    1
                } else {
                    2
                }
            }
        }
    }
}

/// One poster and everything fixed about it.
#[derive(Debug, Clone)]
pub struct Actor {
    pub index: u32,
    pub kind: Kind,
    pub ads: u32,
    /// Phones the actor rotates through (empty: it never gives one).
    pub phones: Vec<Phone>,
    /// Cities in the order the actor moves through them (indices into `places::CITIES`).
    pub cities: Vec<usize>,
    /// Posting window in seconds since the corpus start.
    pub start: i64,
    pub span: i64,
}

/// Purposes of derived random streams (the second element of every derive path).
pub(crate) const STREAM_PLAN: u64 = 1;
pub(crate) const STREAM_ACTOR: u64 = 2;
pub(crate) const STREAM_AD: u64 = 3;

impl Actor {
    fn new(seed: u64, index: u32, total_secs: i64, rng: &mut Rng) -> Actor {
        let kind = Kind::draw(rng);
        let ads = kind.draw_size(rng);
        let mut own = Rng::derive(seed, &[STREAM_ACTOR, u64::from(index), 0]);
        let n_cities = match kind {
            Kind::Company => own.range(4, 15),
            Kind::Touring => own.range(2, 5),
            Kind::Trafficking => own.range(2, 8),
            Kind::Agency => own.range(1, 2),
            _ => 1,
        };
        let n_cities = n_cities.min(ads.max(1)) as usize;
        let mut cities = Vec::with_capacity(n_cities);
        let city_count = crate::bank::places::CITIES.len();
        // Movement is regional more often than not: neighbours in the list are often one region.
        let home = own.below(city_count);
        while cities.len() < n_cities {
            let c = if own.chance(0.5) {
                (home + own.below(12)) % city_count
            } else {
                own.below(city_count)
            };
            if !cities.contains(&c) {
                cities.push(c);
            }
        }
        let n_phones = match kind {
            Kind::Trafficking => own.range(1, 3),
            Kind::Person => u32::from(!own.chance(0.12)),
            _ => 1,
        };
        // Every actor gets numbers of its own: unrelated posters never share a phone by chance
        // (only real hubs do), however large the corpus.
        let phones = (0..n_phones)
            .map(|j| Phone::numbered(seed, u64::from(index) * 4 + u64::from(j)))
            .collect();
        let span_days = match kind {
            Kind::Person => 0.0,
            Kind::RepeatSeller => own.exp(5.0),
            Kind::Company => 10.0 + own.exp(30.0),
            Kind::Independent => own.exp(20.0),
            Kind::Touring => 5.0 + own.exp(10.0),
            Kind::Agency => 7.0 + own.exp(20.0),
            Kind::Trafficking => 3.0 + own.exp(14.0),
            Kind::Minor => own.exp(2.0),
        };
        let span = ((span_days * 86_400.0) as i64).min(total_secs);
        let start = (own.unit() * (total_secs - span).max(1) as f64) as i64;
        Actor {
            index,
            kind,
            ads,
            phones,
            cities,
            start,
            span,
        }
    }

    /// The city of the actor's `k`-th ad: actors that move go through their cities in order.
    pub fn city_of(&self, k: u32) -> usize {
        let n = self.cities.len() as u64;
        let i = (u64::from(k) * n / u64::from(self.ads.max(1))).min(n - 1);
        self.cities[i as usize]
    }

    /// The phone shown in the actor's `k`-th ad (rotating), if any.
    pub fn phone_of(&self, k: u32) -> Option<&Phone> {
        if self.phones.is_empty() {
            return None;
        }
        Some(&self.phones[(k as usize / 3) % self.phones.len()])
    }

    /// Posting time of the `k`-th ad, seconds after the corpus start.
    fn time_of(&self, k: u32, rng: &mut Rng) -> i64 {
        if self.ads <= 1 {
            return self.start;
        }
        let step = self.span / i64::from(self.ads);
        self.start + step * i64::from(k) + (rng.unit() * step.max(1) as f64) as i64
    }
}

/// The posting schedule: every ad of the corpus as `(time, actor, k)`, in time order.
pub struct Plan {
    pub actors: Vec<Actor>,
    /// `(seconds after start, actor index, k-th ad of that actor)`, sorted by time.
    pub schedule: Vec<(i64, u32, u32)>,
}

impl Plan {
    pub fn new(seed: u64, ads: u64, total_secs: i64) -> Plan {
        let mut rng = Rng::derive(seed, &[STREAM_PLAN]);
        let mut actors = Vec::new();
        let mut planned = 0u64;
        while planned < ads {
            let index = actors.len() as u32;
            let mut actor = Actor::new(seed, index, total_secs, &mut rng);
            let remaining = ads - planned;
            actor.ads = actor.ads.min(remaining as u32);
            planned += u64::from(actor.ads);
            actors.push(actor);
        }
        let mut schedule = Vec::with_capacity(ads as usize);
        for a in &actors {
            let mut trng = Rng::derive(seed, &[STREAM_ACTOR, u64::from(a.index), 1]);
            for k in 0..a.ads {
                schedule.push((a.time_of(k, &mut trng), a.index, k));
            }
        }
        schedule.sort_unstable();
        Plan { actors, schedule }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_has_exactly_the_asked_ads_in_time_order() {
        let plan = Plan::new(9, 5000, 90 * 86_400);
        assert_eq!(plan.schedule.len(), 5000);
        assert!(plan.schedule.windows(2).all(|w| w[0] <= w[1]));
        let total: u64 = plan.actors.iter().map(|a| u64::from(a.ads)).sum();
        assert_eq!(total, 5000);
    }

    #[test]
    fn label_mix_is_realistic() {
        let plan = Plan::new(1, 50_000, 90 * 86_400);
        let mut by_label = [0u64; 3];
        for a in &plan.actors {
            by_label[a.kind.label() as usize] += u64::from(a.ads);
        }
        let frac: Vec<f64> = by_label.iter().map(|&c| c as f64 / 50_000.0).collect();
        assert!((0.55..0.80).contains(&frac[0]), "{frac:?}");
        assert!((0.12..0.30).contains(&frac[1]), "{frac:?}");
        assert!((0.06..0.20).contains(&frac[2]), "{frac:?}");
    }

    #[test]
    fn movers_visit_their_cities_in_order() {
        let plan = Plan::new(4, 20_000, 90 * 86_400);
        let mover = plan
            .actors
            .iter()
            .find(|a| a.kind == Kind::Trafficking && a.cities.len() >= 3 && a.ads >= 6)
            .expect("a moving network");
        let seen: Vec<usize> = (0..mover.ads).map(|k| mover.city_of(k)).collect();
        assert_eq!(seen.first(), mover.cities.first());
        assert_eq!(seen.last(), mover.cities.last());
    }
}
