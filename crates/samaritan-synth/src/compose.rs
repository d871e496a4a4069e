//! Turning an actor's `k`-th ad into text, images and ground truth.

use std::collections::HashMap;

use samaritan_engine::model::{Ad, ImageRef, Location};

use crate::actor::{Actor, Kind, STREAM_ACTOR, STREAM_AD};
use crate::bank::{self, benign, commercial, places, words};
use crate::render::{self, PhoneStyle};
use crate::rng::Rng;
use crate::template::{self, Piece, Skeleton};
use crate::{Phrasing, Truth};

/// Which cue groups an actor's ads carry, decided once per actor.
struct Cues {
    age: bool,
    ethnicity: bool,
    youth: bool,
    third_party: bool,
    roster: bool,
    unbounded: bool,
    language: bool,
    professional: bool,
    always: bool,
    movement: bool,
    screening: bool,
}

impl Cues {
    fn draw(kind: Kind, rng: &mut Rng) -> Cues {
        // Probabilities per kind: [age, ethnicity, youth, third_party, roster, unbounded,
        // language, professional, always, movement, screening]. Trafficking ads carry the
        // validated cues more often, but none always: most real ads carry few cues.
        let p: [f64; 11] = match kind {
            Kind::Independent => [0.6, 0.3, 0.05, 0.02, 0.0, 0.03, 0.02, 0.3, 0.2, 0.15, 0.6],
            Kind::Touring => [0.6, 0.3, 0.05, 0.02, 0.0, 0.03, 0.02, 0.3, 0.2, 0.9, 0.6],
            Kind::Agency => [0.4, 0.4, 0.05, 0.1, 0.9, 0.05, 0.05, 0.5, 0.4, 0.2, 0.5],
            Kind::Trafficking => [0.6, 0.55, 0.5, 0.35, 0.2, 0.15, 0.12, 0.5, 0.4, 0.2, 0.4],
            Kind::Minor => [0.75, 0.3, 0.8, 0.3, 0.05, 0.1, 0.05, 0.3, 0.3, 0.1, 0.3],
            _ => [0.0; 11],
        };
        let mut d = p.map(|x| rng.chance(x));
        if kind == Kind::Agency {
            d[3] = false; // an agency without control cues: the roster itself is not validated
        }
        Cues {
            age: d[0],
            ethnicity: d[1],
            youth: d[2],
            third_party: d[3],
            roster: d[4],
            unbounded: d[5],
            language: d[6],
            professional: d[7],
            always: d[8],
            movement: d[9],
            screening: d[10],
        }
    }
}

/// How often an actor writes its phone number obscured.
fn obscure_rate(kind: Kind) -> f64 {
    match kind {
        Kind::Person | Kind::RepeatSeller | Kind::Company => 0.015,
        Kind::Independent | Kind::Touring | Kind::Agency => 0.25,
        Kind::Trafficking => 0.65,
        Kind::Minor => 0.5,
    }
}

/// A persona an actor advertises under.
struct Persona {
    name: &'static str,
    age: u32,
    ethnicity: &'static str,
}

fn persona_age(kind: Kind, rng: &mut Rng) -> u32 {
    match kind {
        Kind::Minor => {
            if rng.chance(0.8) {
                rng.range(15, 17)
            } else {
                18
            }
        }
        Kind::Trafficking => match rng.below(10) {
            0 | 1 => rng.range(16, 17),
            2..=5 => rng.range(18, 19),
            _ => rng.range(20, 24),
        },
        _ => {
            if rng.chance(0.1) {
                rng.range(19, 20)
            } else {
                rng.range(21, 39)
            }
        }
    }
}

/// Everything fixed about an actor's ads: their template and personas.
struct Style {
    /// From a blind bank: `{=age}` and `{=rate}` are bare numbers.
    blind: bool,
    /// The second person a roster names (`{=name2}`, `{=age2}`).
    second: Persona,
    title: Skeleton,
    body: Skeleton,
    category: &'static str,
    personas: Vec<Persona>,
    company: &'static str,
    manager: &'static str,
    rate: String,
    obscure: f64,
    favourite_style: PhoneStyle,
    photos: Vec<([u8; 32], [u8; 32])>,
}

fn commercial_body(kind: Kind, bank: &commercial::Phrasing, rng: &mut Rng) -> Skeleton {
    let cues = Cues::draw(kind, rng);
    let lex = bank::lexicon;
    let mut groups: Vec<&'static str> = Vec::new();
    let pick = |list: &'static [&'static str], rng: &mut Rng| rng.pick(list);
    groups.push(pick(bank.describe, rng));
    if cues.ethnicity {
        groups.push(pick(bank.ethnicity, rng));
    }
    if cues.youth {
        groups.push(pick(bank.youth, rng));
    }
    if cues.professional {
        groups.push(pick(bank.professional, rng));
    }
    groups.push(pick(bank.availability, rng));
    if cues.always {
        groups.push(pick(bank.always_available, rng));
    }
    if cues.movement {
        groups.push(pick(bank.movement, rng));
    }
    if cues.roster {
        groups.push(pick(bank.roster, rng));
    }
    if cues.unbounded {
        groups.push(pick(bank.unbounded, rng));
    }
    if cues.language {
        groups.push(pick(bank.language, rng));
    }
    groups.push(pick(bank.rates, rng));
    if cues.third_party {
        groups.push(pick(bank.third_party, rng));
    }
    if cues.screening {
        groups.push(pick(bank.screening, rng));
    }
    rng.shuffle(&mut groups);
    let mut body = template::skeleton(pick(bank.intro, rng), lex, rng);
    if cues.age {
        // The age sentence sits near the introduction, where ads put it.
        body.extend(template::skeleton(" {=age} ", lex, rng));
    }
    for g in groups {
        body.extend(template::skeleton(" ", lex, rng));
        body.extend(template::skeleton(g, lex, rng));
    }
    body.extend(template::skeleton(" ", lex, rng));
    body.extend(template::skeleton(pick(bank.contact, rng), lex, rng));
    body.extend(template::skeleton(" ", lex, rng));
    body.extend(template::skeleton(pick(bank.closing, rng), lex, rng));
    body
}

fn random_bytes(rng: &mut Rng) -> [u8; 32] {
    let mut b = [0u8; 32];
    for chunk in b.chunks_mut(8) {
        chunk.copy_from_slice(&rng.next_u64().to_le_bytes());
    }
    b
}

impl Style {
    fn new(seed: u64, actor: &Actor, phrasing: Phrasing) -> Style {
        let mut rng = Rng::derive(seed, &[STREAM_ACTOR, u64::from(actor.index), 2]);
        let lex = bank::lexicon;
        let kind = actor.kind;
        let blind = match phrasing {
            Phrasing::Blind(name) => Some(
                bank::blind::bank(name)
                    .unwrap_or_else(|e| panic!("{e} (check it before generating)")),
            ),
            _ => None,
        };
        let (title, body, category) = match (kind, blind) {
            (_, Some(b)) => blind_template(kind, b, &mut rng),
            (Kind::Person | Kind::RepeatSeller | Kind::Company, None) => {
                let all: Vec<&benign::Template> = match (kind, phrasing) {
                    (Kind::Company, _) => benign::COMPANY.iter().collect(),
                    (_, Phrasing::Main | Phrasing::Blind(_)) => benign::BENIGN.iter().collect(),
                    (_, Phrasing::Holdout) => benign::BENIGN
                        .iter()
                        .chain(benign::BENIGN_HOLDOUT)
                        .collect(),
                };
                // About one benign ad in five uses an indicator word in its ordinary sense.
                let tricky = |t: &&benign::Template| {
                    t.1.contains("#hard_negative") || t.2.contains("#hard_negative")
                };
                let want_tricky = rng.chance(0.22);
                let pool: Vec<&benign::Template> = all
                    .iter()
                    .copied()
                    .filter(|t| kind == Kind::Company || tricky(t) == want_tricky)
                    .collect();
                let pool = if pool.is_empty() { all } else { pool };
                let (cat, t, b) = *rng.pick(&pool);
                (
                    template::skeleton(t, lex, &mut rng),
                    template::skeleton(b, lex, &mut rng),
                    cat,
                )
            }
            (_, None) => {
                let bank = match phrasing {
                    Phrasing::Main | Phrasing::Blind(_) => &commercial::MAIN,
                    Phrasing::Holdout => &commercial::HOLDOUT,
                };
                let title = template::skeleton(rng.pick(bank.titles), lex, &mut rng);
                (title, commercial_body(kind, bank, &mut rng), "adult")
            }
        };
        let n_personas = match kind {
            Kind::Trafficking => rng.range(1, 4),
            Kind::Agency => rng.range(2, 4),
            _ => 1,
        };
        let personas = (0..n_personas)
            .map(|_| Persona {
                name: rng.pick(words::FIRST_NAMES),
                age: persona_age(kind, &mut rng),
                ethnicity: rng.pick(words::ETHNICITY),
            })
            .collect();
        let n_photos = match kind {
            Kind::Person | Kind::RepeatSeller => 0,
            Kind::Company => 1,
            _ => rng.range(2, 6),
        };
        let photos = (0..n_photos)
            .map(|_| (random_bytes(&mut rng), random_bytes(&mut rng)))
            .collect();
        let second = Persona {
            name: rng.pick(words::FIRST_NAMES),
            age: persona_age(kind, &mut rng),
            ethnicity: rng.pick(words::ETHNICITY),
        };
        Style {
            blind: blind.is_some(),
            second,
            title,
            body,
            category,
            personas,
            company: rng.pick(words::COMPANIES),
            manager: rng.pick(words::PLAIN_NAMES),
            rate: render::render_rate(&mut rng),
            obscure: obscure_rate(kind),
            favourite_style: PhoneStyle::obscured(&mut rng),
            photos,
        }
    }
}

/// An actor's template from a blind bank: benign posters draw from `benign` (a hard negative about
/// one time in five, as in the main bank), companies from `company`, adults in commercial sex
/// from `commercial`, trafficking and minors from `trafficking`.
fn blind_template(
    kind: Kind,
    b: &'static bank::blind::Bank,
    rng: &mut Rng,
) -> (Skeleton, Skeleton, &'static str) {
    let lex = bank::lexicon;
    let pool: Vec<&'static bank::blind::Entry> = match kind {
        Kind::Company => b.company.iter().collect(),
        Kind::Person | Kind::RepeatSeller => {
            let tricky = rng.chance(0.22);
            let some: Vec<_> = b
                .benign
                .iter()
                .filter(|e| e.hard_negative == tricky)
                .collect();
            if some.is_empty() {
                b.benign.iter().collect()
            } else {
                some
            }
        }
        Kind::Independent | Kind::Touring | Kind::Agency => b.commercial.iter().collect(),
        Kind::Trafficking | Kind::Minor => b.trafficking.iter().collect(),
    };
    let e = rng.pick(&pool);
    let title = template::skeleton(&e.title, lex, rng);
    let mut body = template::skeleton(&e.body, lex, rng);
    if e.hard_negative {
        body.tags.push("hard_negative");
    }
    let category = match &e.category {
        Some(c) if kind.label() == 0 => c.as_str(),
        _ => "adult",
    };
    (title, body, category)
}

/// Ages of children as parents and sitters write them; returns the text and the ages.
fn kid_ages(rng: &mut Rng) -> (String, Vec<u32>) {
    let a = rng.range(1, 6);
    let b = a + rng.range(1, 6);
    match rng.below(3) {
        0 => (format!("two kids ages {a} and {b}"), vec![a, b]),
        1 => (format!("a {a} year old and a {b} year old"), vec![a, b]),
        _ => (format!("children aged {a} to {b}"), vec![a, b]),
    }
}

/// Small per-ad edits of a network's template, as posters tweak their copies.
fn perturb(skel: &mut Skeleton, rng: &mut Rng) {
    let edits = rng.range(1, 3);
    for _ in 0..edits {
        let texts: Vec<usize> = skel
            .pieces
            .iter()
            .enumerate()
            .filter(|(_, p)| matches!(p, Piece::Text(t) if t.split(' ').count() > 4))
            .map(|(i, _)| i)
            .collect();
        if texts.is_empty() {
            return;
        }
        let i = rng.pick(&texts);
        if let Piece::Text(t) = &mut skel.pieces[i] {
            let mut words: Vec<&str> = t.split(' ').collect();
            let j = 1 + rng.below(words.len() - 2);
            match rng.below(4) {
                0 => {
                    words.remove(j);
                }
                1 => words.swap(j, j + 1),
                2 => words.insert(
                    j,
                    rng.pick(&["really", "very", "❤️", "✨", "!!", "now", "so"]),
                ),
                _ => words[j] = rng.pick(&["and", "the", "a", "with", "for you"]),
            }
            *t = words.join(" ");
        }
    }
}

/// Fills slots and returns the text; records phones and ages into `truth`.
#[allow(clippy::too_many_arguments)]
fn fill(
    skel: &Skeleton,
    actor: &Actor,
    style: &Style,
    k: u32,
    city: &str,
    rng: &mut Rng,
    truth: &mut Truth,
    filled: &mut HashMap<&'static str, String>,
) -> String {
    let persona = &style.personas[(k as usize / 2) % style.personas.len()];
    let mut out = String::new();
    for piece in &skel.pieces {
        match piece {
            Piece::Text(t) => out.push_str(t),
            Piece::Slot(slot) => {
                // A slot says the same thing everywhere in one ad (title and body).
                if let Some(v) = filled.get(slot) {
                    out.push_str(v);
                    continue;
                }
                let v = match *slot {
                    "city" => city.to_owned(),
                    "name" => persona.name.to_owned(),
                    "ethnicity" => persona.ethnicity.to_owned(),
                    "company" => style.company.to_owned(),
                    "manager" => style.manager.to_owned(),
                    "rate" if style.blind => format!("{}", rng.range(8, 25) * 10),
                    "rate" => style.rate.clone(),
                    "age" | "age_words" => {
                        let age = if actor.kind.label() == 0 {
                            rng.range(24, 68)
                        } else {
                            persona.age
                        };
                        truth.ages.push(age);
                        if *slot == "age_words" {
                            render::number_words(age)
                        } else if style.blind {
                            age.to_string()
                        } else {
                            render::render_age(age, rng)
                        }
                    }
                    "name2" => style.second.name.to_owned(),
                    "age2" => {
                        let age = if actor.kind.label() == 0 {
                            rng.range(24, 68)
                        } else {
                            style.second.age
                        };
                        truth.ages.push(age);
                        age.to_string()
                    }
                    "kid_age" | "kid_age2" => {
                        let age = rng.range(1, 15);
                        truth.other_ages.push(age);
                        age.to_string()
                    }
                    "rate2" => format!("{}", rng.range(26, 60) * 10),
                    "price" => format!("{}", rng.range(2, 80) * 5),
                    "kid_ages" => {
                        let (text, ages) = kid_ages(rng);
                        truth.other_ages.extend(ages);
                        text
                    }
                    "phone" => match actor.phone_of(k) {
                        Some(p) => {
                            let style = if rng.chance(style.obscure) {
                                if rng.chance(0.7) {
                                    style.favourite_style
                                } else {
                                    PhoneStyle::obscured(rng)
                                }
                            } else {
                                PhoneStyle::plain(rng)
                            };
                            truth.obfuscated_phone |= style.obfuscated();
                            if !truth.phones.contains(&p.digits) {
                                truth.phones.push(p.digits.clone());
                            }
                            render::render_phone(p, style, rng)
                        }
                        None => "the number in my profile".to_owned(),
                    },
                    "rent" => format!("{}", rng.range(6, 32) * 50),
                    "sqft" => format!("{}", rng.range(35, 180) * 10),
                    "date" => format!("{}/{}/{}", rng.range(1, 12), rng.range(1, 28), 2026),
                    "zip" => format!("{:05}", rng.range(10_000, 99_950)),
                    "street" => format!(
                        "{} {} {}",
                        rng.range(10, 9899),
                        rng.pick(&[
                            "Oak", "Maple", "Main", "Cedar", "Pine", "Elm", "Lake", "Hill"
                        ]),
                        rng.pick(&["St", "Ave", "Rd", "Blvd", "Dr"])
                    ),
                    "price_small" => format!("{}", rng.range(1, 60) * 5),
                    "price_car" => format!("{},{:03}", rng.range(2, 29), rng.range(0, 19) * 50),
                    "year" => format!("{}", rng.range(2004, 2024)),
                    "miles" => format!("{},{:03}", rng.range(12, 190), rng.range(0, 999)),
                    "vin" => {
                        let chars = b"ABCDEFGHJKLMNPRSTUVWXYZ0123456789";
                        (0..17)
                            .map(|_| chars[rng.below(chars.len())] as char)
                            .collect()
                    }
                    "isbn" => format!("978{:010}", rng.next_u64() % 10_000_000_000),
                    "order" => format!("{}", rng.range(100_000, 99_999_999)),
                    "item" => (rng.pick(words::ITEMS)).to_owned(),
                    "car" => (rng.pick(words::CARS)).to_owned(),
                    "pet" => (rng.pick(words::PETS)).to_owned(),
                    "job" => (rng.pick(words::JOBS)).to_owned(),
                    other => panic!("template slot `{other}` has no filler"),
                };
                out.push_str(&v);
                filled.insert(slot, v);
            }
        }
    }
    template::tidy(&out)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Stock photos that unrelated benign posters all use (a hub the linker must not follow).
fn stock_photo(i: usize) -> ([u8; 32], [u8; 32]) {
    let mut rng = Rng::derive(0x5700C, &[i as u64]);
    (random_bytes(&mut rng), random_bytes(&mut rng))
}

fn images(actor: &Actor, style: &Style, k: u32, rng: &mut Rng) -> Vec<ImageRef> {
    let as_ref = |(sha, pdq): ([u8; 32], [u8; 32])| ImageRef::Hashes {
        sha256: Some(hex(&sha)),
        pdq: Some(hex(&pdq)),
    };
    match actor.kind {
        Kind::Person | Kind::RepeatSeller => {
            let mut out = Vec::new();
            if rng.chance(0.02) {
                out.push(as_ref(stock_photo(rng.below(5))));
            }
            for _ in 0..rng.range(0, 2) {
                out.push(as_ref((random_bytes(rng), random_bytes(rng))));
            }
            out
        }
        _ => {
            let n = if style.photos.len() == 1 {
                1
            } else {
                rng.range(1, 3) as usize
            };
            (0..n)
                .map(|_| {
                    let (sha, mut pdq) = rng.pick(&style.photos);
                    // A re-encoded copy: new bytes, a few perceptual bits flipped.
                    let sha = if actor.kind != Kind::Company && rng.chance(0.5) {
                        let mut r =
                            Rng::derive(u64::from(k), &[u64::from(sha[0]), u64::from(sha[1])]);
                        random_bytes(&mut r)
                    } else {
                        sha
                    };
                    for _ in 0..rng.range(0, 6) {
                        let bit = rng.below(256);
                        pdq[bit / 8] ^= 1 << (bit % 8);
                    }
                    as_ref((sha, pdq))
                })
                .collect()
        }
    }
}

/// The `k`-th ad of `actor`, posted at `posted_at`, as ad and ground truth.
pub(crate) fn compose(
    seed: u64,
    phrasing: Phrasing,
    with_images: bool,
    actor: &Actor,
    k: u32,
    ad_index: u64,
    posted_at: i64,
) -> (Ad, Truth) {
    let style = Style::new(seed, actor, phrasing);
    let mut rng = Rng::derive(seed, &[STREAM_AD, u64::from(actor.index), u64::from(k)]);
    let id = format!("s{seed}-{ad_index:07}");
    let (city, region) = places::CITIES[actor.city_of(k)];
    let mut truth = Truth {
        id: id.clone(),
        label: actor.kind.label(),
        phones: Vec::new(),
        ages: Vec::new(),
        other_ages: Vec::new(),
        network: None,
        poster: actor.kind.name(),
        category: style.category,
        cues: Vec::new(),
        hard_negative: false,
        obfuscated_phone: false,
        city: city.to_owned(),
    };
    let (mut title_skel, mut body_skel) = (style.title.clone(), style.body.clone());
    if actor.ads > 1 && rng.chance(0.5) {
        perturb(&mut body_skel, &mut rng);
    }
    if actor.ads > 1 && rng.chance(0.2) {
        perturb(&mut title_skel, &mut rng);
    }
    let mut filled = HashMap::new();
    let title = fill(
        &title_skel,
        actor,
        &style,
        k,
        city,
        &mut rng,
        &mut truth,
        &mut filled,
    );
    let body = fill(
        &body_skel,
        actor,
        &style,
        k,
        city,
        &mut rng,
        &mut truth,
        &mut filled,
    );
    for tag in style.title.tags.iter().chain(&style.body.tags) {
        match *tag {
            "hard_negative" => truth.hard_negative = true,
            // "must be 18 or older" is a requirement, nobody's age
            "age18" => {}
            t if !truth.cues.contains(&t) => truth.cues.push(t),
            _ => {}
        }
    }
    truth.ages.sort_unstable();
    truth.ages.dedup();
    truth.other_ages.sort_unstable();
    truth.other_ages.dedup();
    let country = if region.len() == 2 && matches!(region, "ON" | "BC" | "QC" | "AB") {
        "CA"
    } else {
        "US"
    };
    // Operations spread their ads over several accounts; everyone else posts from one.
    let accounts = if actor.kind == Kind::Trafficking {
        1 + actor.index % 4
    } else {
        1
    };
    let which = u64::from((k / 4) % accounts);
    // 64 random bits: unrelated posters never share an account by chance, even at millions.
    let account_no = Rng::derive(seed, &[9, u64::from(actor.index), which]).next_u64();
    let account = format!("acct-{account_no:016x}");
    let ad = Ad {
        id,
        posted_at: Some(posted_at),
        title: Some(title),
        body: Some(body),
        location: Some(Location {
            city: Some(city.to_owned()),
            region: Some(region.to_owned()),
            country: Some(country.to_owned()),
        }),
        account: Some(account),
        poster: None,
        url: Some(format!(
            "https://classifieds.example/{}/{}",
            style.category, ad_index
        )),
        images: if with_images {
            images(actor, &style, k, &mut rng)
        } else {
            Vec::new()
        },
        meta: None,
    };
    (ad, truth)
}
