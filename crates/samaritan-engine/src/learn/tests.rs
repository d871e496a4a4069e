#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap (CONTRIBUTING.md)

use std::sync::Arc;

use super::*;
use crate::extract::ExtractOptions;
use crate::model::Ad;
use crate::policy::{DEFAULT_POLICY, Policy};
use crate::{Engine, Prepared};

fn engine() -> Engine {
    Engine::new(
        Arc::new(Policy::from_toml(DEFAULT_POLICY).unwrap()),
        ExtractOptions::default(),
    )
}

fn prepare(engine: &Engine, text: &str) -> Prepared {
    engine.prepare(&Ad::text("t", None, Some(text)))
}

fn features_of(engine: &Engine, text: &str, cfg: &FeatureConfig) -> Features {
    let p = prepare(engine, text);
    featurize(&ModelInput::from_prepared(&p, engine.policy()), cfg)
}

/// A toy corpus: positives say "velvet lounge", negatives "garden tools"; the rest is shared.
fn toy() -> Vec<(String, Label)> {
    let fillers = [
        "call today",
        "available this week",
        "in the north side",
        "ask for details",
        "great price",
    ];
    let mut out = Vec::new();
    for i in 0..60 {
        let f = fillers[i % fillers.len()];
        out.push((
            format!("velvet lounge visit, {f} 555-0142"),
            Label::Commercial,
        ));
        out.push((
            format!("garden tools for sale, {f} 555-0199"),
            Label::Benign,
        ));
    }
    out
}

fn train(engine: &Engine, data: &[(String, Label)], passes: usize) -> Model {
    let cfg = FeatureConfig::default();
    let xs: Vec<(Features, Label)> = data
        .iter()
        .map(|(t, l)| (features_of(engine, t, &cfg), *l))
        .collect();
    let mut model = Model::new(cfg, FtrlParams::default());
    for pass in 0..passes {
        for i in shuffled(xs.len(), pass as u64) {
            model.learn(&xs[i].0, xs[i].1);
        }
    }
    model
}

#[test]
fn features_are_deterministic_and_sorted() {
    let e = engine();
    let cfg = FeatureConfig::default();
    let text = "Sweet new girl in town, call 555-0142, incall only, 100 roses";
    let a = features_of(&e, text, &cfg);
    let b = features_of(&e, text, &cfg);
    assert_eq!(a, b);
    assert!(!a.slots.is_empty());
    assert!(a.slots.windows(2).all(|w| w[0].0 < w[1].0));
    assert!(a.slots.iter().all(|&(s, _)| s < 1 << cfg.bits));
    // another seed hashes elsewhere
    let other = FeatureConfig {
        seed: 7,
        ..cfg.clone()
    };
    assert_ne!(a, features_of(&e, text, &other));
}

#[test]
fn pinned_hash_gives_the_same_slot_everywhere() {
    // xxh3 is specified bit for bit; this pins the slot of one feature name forever
    let e = engine();
    let p = prepare(&e, "garden");
    let (_, named) = featurize_named(
        &ModelInput::from_prepared(&p, e.policy()),
        &FeatureConfig::default(),
    );
    let word = named.iter().find(|n| n.name == "word:garden").unwrap();
    let expect =
        (xxhash_rust::xxh3::xxh3_64_with_seed(b"word\x1fgarden", FeatureConfig::default().seed)
            & ((1 << 20) - 1)) as u32;
    assert_eq!(word.slot, expect);
    let gram = named.iter().find(|n| n.name == "char:<gar").unwrap();
    let seed = FeatureConfig::default().seed ^ features::CHAR_SEED;
    let expect = (xxhash_rust::xxh3::xxh3_64_with_seed(b"<gar", seed) & ((1 << 20) - 1)) as u32;
    assert_eq!(gram.slot, expect);
}

#[test]
fn identifiers_are_masked_to_classes() {
    let e = engine();
    let p = prepare(&e, "text me at 312 555 0142 or mail ann@example.com");
    let (_, named) = featurize_named(
        &ModelInput::from_prepared(&p, e.policy()),
        &FeatureConfig::default(),
    );
    let names: Vec<&str> = named.iter().map(|n| n.name.as_str()).collect();
    assert!(names.contains(&"word:<phone>"), "{names:?}");
    assert!(names.contains(&"word:<email>"), "{names:?}");
    assert!(
        names
            .iter()
            .all(|n| !n.contains("0142") && !n.contains("example"))
    );
    // one class token per identifier, not one per piece
    assert_eq!(names.iter().filter(|n| **n == "word:<phone>").count(), 1);
}

#[test]
fn training_is_deterministic() {
    let e = engine();
    let data = toy();
    let a = train(&e, &data, 2);
    let b = train(&e, &data, 2);
    assert_eq!(a, b);
    assert_eq!(
        serde_json::to_string(&a).unwrap(),
        serde_json::to_string(&b).unwrap()
    );
}

#[test]
fn learns_a_separable_set() {
    let e = engine();
    let model = train(&e, &toy(), 3);
    let cfg = &model.features;
    let pos = model.score(&features_of(
        &e,
        "velvet lounge, ask for details 555-0100",
        cfg,
    ));
    let neg = model.score(&features_of(
        &e,
        "garden tools, ask for details 555-0100",
        cfg,
    ));
    assert!(pos.probability > 0.8, "{pos:?}");
    assert!(neg.probability < 0.2, "{neg:?}");
    assert!(model.commercial.nonzero() > 0);
}

#[test]
fn explanation_spans_point_at_the_words() {
    let e = engine();
    let model = train(&e, &toy(), 3);
    let text = "Call now: velvet lounge, in the north side";
    let p = prepare(&e, text);
    let (score, top) = model.explain(&ModelInput::from_prepared(&p, e.policy()), 5);
    assert!(score.logit > 0.0);
    assert!(!top.is_empty());
    assert!(top[0].contribution > 0.0);
    for c in &top {
        for s in &c.spans {
            assert!(s[0] < s[1] && s[1] <= p.document.len(), "{c:?}");
        }
    }
    let velvet = top
        .iter()
        .find(|c| c.feature.contains("velvet") || c.feature.contains("lounge"))
        .expect("a velvet/lounge feature among the top five");
    let [s, t] = velvet.spans[0];
    // spans point into the document (`title + "\n" + body`)
    let quoted = &p.document[s..t];
    assert!(
        quoted.contains("velvet") || quoted.contains("lounge") || "velvet lounge".contains(quoted),
        "{quoted}"
    );
    assert_eq!(velvet.text, quoted);
}

#[test]
fn explanation_spans_survive_normalization() {
    // full-width letters change byte lengths: spans must still point into the original
    let e = engine();
    let model = train(&e, &toy(), 3);
    let text = "ｖｅｌｖｅｔ lounge";
    let p = prepare(&e, text);
    let (_, top) = model.explain(&ModelInput::from_prepared(&p, e.policy()), 10);
    let word = top
        .iter()
        .find(|c| c.feature == "word:velvet")
        .expect("word:velvet explained");
    assert_eq!(word.text, "ｖｅｌｖｅｔ");
}

#[test]
fn serialization_round_trips() {
    let e = engine();
    let mut model = train(&e, &toy(), 1);
    model.calibration = Platt { a: 0.9, b: -0.25 };
    model.raise = Some(RaisePoint {
        probability: 0.7,
        benign_rate: 0.01,
        benign_items: 120,
    });
    let json = serde_json::to_string(&model).unwrap();
    let back = Model::from_json(&json).unwrap();
    assert_eq!(back, model);
    let x = features_of(&e, "velvet lounge", &model.features);
    assert_eq!(back.score(&x), model.score(&x));
}

#[test]
fn bad_model_files_are_refused() {
    let e = engine();
    let model = train(&e, &toy(), 1);
    let mut v = serde_json::to_value(&model).unwrap();
    v["format"] = 99.into();
    assert!(matches!(
        Model::from_json(&v.to_string()),
        Err(LearnError::Format { found: 99 })
    ));
    let mut v = serde_json::to_value(&model).unwrap();
    v["commercial"]["slots"] = serde_json::json!([[1u64 << 30, 0.5, 1.0]]);
    assert!(Model::from_json(&v.to_string()).is_err());
    let mut v = serde_json::to_value(&model).unwrap();
    v["features"]["bits"] = 40.into();
    assert!(Model::from_json(&v.to_string()).is_err());
    assert!(matches!(
        Model::from_json("{not json"),
        Err(LearnError::Json(_))
    ));
}

#[test]
fn platt_fits_a_shifted_logit() {
    // labels drawn from sigmoid(2s - 1) on a grid: the fit comes back near a = 2, b = -1
    let mut items = Vec::new();
    for i in 0..400 {
        let s = -3.0 + 6.0 * f64::from(i) / 400.0;
        let p = sigmoid(2.0 * s - 1.0);
        for k in 0..50 {
            items.push((s, (f64::from(k) + 0.5) / 50.0 < p));
        }
    }
    let fit = fit_platt(&items).unwrap();
    assert!((fit.a - 2.0).abs() < 0.15, "{fit:?}");
    assert!((fit.b + 1.0).abs() < 0.15, "{fit:?}");
    assert!(fit_platt(&[(0.0, true)]).is_none());
}

#[test]
fn threshold_keeps_the_benign_rate() {
    let negatives: Vec<f64> = (0..200).map(|i| f64::from(i) / 200.0).collect();
    let t = threshold_at_rate(&negatives, 0.01).unwrap();
    assert_eq!(negatives.iter().filter(|&&s| s >= t).count(), 2);
    assert!(t > 0.985 && t <= 0.99);
    let t0 = threshold_at_rate(&negatives, 0.0).unwrap();
    assert_eq!(negatives.iter().filter(|&&s| s >= t0).count(), 0);
    let ties = vec![0.5; 10];
    let t = threshold_at_rate(&ties, 0.5).unwrap();
    assert!(ties.iter().all(|&s| s < t));
    assert!(threshold_at_rate(&[], 0.01).is_none());
}

#[test]
fn shuffle_is_a_fixed_permutation() {
    let a = shuffled(100, 3);
    assert_eq!(a, shuffled(100, 3));
    assert_ne!(a, shuffled(100, 4));
    let mut s = a.clone();
    s.sort_unstable();
    assert_eq!(s, (0..100).collect::<Vec<_>>());
}

#[test]
fn the_fast_featurizer_gives_the_features_of_the_general_one() {
    // `featurize` takes shortcuts (ASCII words' n-grams as byte windows, a repeated word's
    // n-grams made once, a radix sort, reused buffers); `featurize_named` takes none. They must
    // agree slot for slot and value for value, whatever the text.
    let e = engine();
    let texts = [
        "Sweet new girl in town, call 555-0142, incall only, 100 roses",
        "the the the THE The tHe; outcall outcall OUTCALL, 2 2 22 222 2222 22222",
        "ΣΟΦΙΑ σοφία ΟΔΟΣ café CAFÉ naïve İstanbul straße ǅemal ｖｅｌｖｅｔ velvet",
        // one lower-cased word from two spellings (final sigma): n-grams made for each
        "ΟΔΟΣ και οδος, ΟΔΟΣ",
        "a b c d e f g h i j k l m n o p q r s t u v w x y z a b c",
        "",
        "party party party party party party party party party party party party",
    ];
    let long = "discreet upscale companion available now, new in town ".repeat(40);
    let mut scratch = Scratch::default();
    for cfg in [
        FeatureConfig::default(),
        FeatureConfig {
            char_min: 1,
            char_max: 8,
            ..FeatureConfig::default()
        },
        FeatureConfig {
            bits: features::MAX_BITS,
            ..FeatureConfig::default()
        },
    ] {
        for text in texts.iter().copied().chain([long.as_str()]) {
            let p = prepare(&e, text);
            let input = ModelInput::from_prepared(&p, e.policy());
            let (general, _) = featurize_named(&input, &cfg);
            assert_eq!(featurize(&input, &cfg), general, "{text}");
            // the same again in buffers another ad used before
            assert_eq!(
                featurize_into(&input, &cfg, &mut scratch),
                &general,
                "{text}"
            );
            assert!(general.slots.windows(2).all(|w| w[0].0 < w[1].0));
        }
    }
}

#[test]
fn scoring_an_input_gives_the_score_of_its_features() {
    let e = engine();
    let model = train(&e, &toy(), 2);
    let mut scratch = Scratch::default();
    for text in [
        "velvet lounge, ask for details 555-0100",
        "garden tools, call today",
        "velvet velvet garden",
    ] {
        let p = prepare(&e, text);
        let input = ModelInput::from_prepared(&p, e.policy());
        let want = model.score(&featurize(&input, &model.features));
        assert_eq!(model.score_input(&input), want);
        assert_eq!(model.score_with(&input, &mut scratch), want);
        assert_eq!(model.explain(&input, 3).0, want);
        // one pass over both heads sums as each head's own `logit`
        let x = featurize(&input, &model.features);
        assert_eq!(want.logit, model.commercial.logit(&x));
        assert_eq!(want.severe, sigmoid(model.severe.logit(&x)));
    }
}

#[test]
fn a_saved_head_reads_back_with_the_same_weights() {
    // the weights scoring reads (bitmap and cache) are rebuilt from the saved slots
    let e = engine();
    let model = train(&e, &toy(), 2);
    let back = Model::from_json(&serde_json::to_string(&model).unwrap()).unwrap();
    for slot in 0..(1u32 << model.features.bits) {
        assert_eq!(
            back.commercial.weight(slot).to_bits(),
            model.commercial.weight(slot).to_bits()
        );
        assert_eq!(
            back.severe.weight(slot).to_bits(),
            model.severe.weight(slot).to_bits()
        );
    }
    assert_eq!(back.commercial.nonzero(), model.commercial.nonzero());
    assert!(model.commercial.nonzero() > 0);
    assert_eq!(model.commercial.weight(u32::MAX), 0.0);
}
