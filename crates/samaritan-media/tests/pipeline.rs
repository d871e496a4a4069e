//! An ad's images through intake, bank matching and the engine's pipeline: the analysis lists
//! every image (or its error) and a bank match becomes the policy's `known_image_match` signal.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap

use std::sync::Arc;

use base64::Engine as _;
use samaritan_engine::extract::ExtractOptions;
use samaritan_engine::model::{Ad, ImageRef};
use samaritan_engine::pdq::{Bank, BankEntry, BankSet, MatchOptions, policy_match};
use samaritan_engine::pipeline::{Context, Engine};
use samaritan_engine::policy::{DEFAULT_POLICY, Policy};
use samaritan_media::{IntakeConfig, analyse_images, intake};

#[test]
fn bank_match_reaches_the_analysis_as_a_weighed_signal() {
    let png = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/modes/rgb.png"
    ))
    .unwrap();
    let b64 = base64::engine::general_purpose::STANDARD.encode(&png);
    let cfg = IntakeConfig::default();
    let known = intake(
        &ImageRef::Base64 {
            base64: b64.clone(),
        },
        &cfg,
    )
    .unwrap();
    let mut bank = Bank::new("known-test").unwrap();
    bank.entries.push(BankEntry::new(known.pdq.unwrap()));
    let mut banks = BankSet::new();
    banks.insert_bank(bank);

    let mut ad = Ad::text(
        "a1",
        Some("Used bicycle"),
        Some("Blue, 21 gears. Call 775-555-0142."),
    );
    ad.images = vec![
        ImageRef::Base64 {
            base64: "@@".into(),
        },
        ImageRef::Base64 { base64: b64 },
    ];
    let engine = Engine::new(
        Arc::new(Policy::from_toml(DEFAULT_POLICY).unwrap()),
        ExtractOptions::default(),
    );
    let prepared = engine.prepare(&ad);
    let (images, matches) = analyse_images(&ad.images, &cfg, &banks, &MatchOptions::default());
    let context = Context {
        images,
        bank_matches: matches.iter().map(|(i, m)| policy_match(*i, m)).collect(),
        ..Context::default()
    };
    let analysis = engine.finish(&ad, &prepared, context);
    assert_eq!(analysis.images.len(), 2);
    assert!(analysis.images[0].error.is_some());
    assert_eq!(analysis.images[1].pdq, known.pdq.map(|h| h.to_hex()));
    let signal = analysis
        .signals
        .iter()
        .find(|s| s.indicator == "known_image_match")
        .expect("bank match signal");
    assert_eq!(signal.span, None);
    assert!(signal.note.contains("known-test"), "{}", signal.note);
    assert!(signal.note.contains("image 1"), "{}", signal.note);

    // The image context every caller uses (scan and the service) gives the same analysis.
    let mut ctx = samaritan_media::ImageContext::new(cfg.clone());
    ctx.banks = banks;
    let again = engine.analyze_with_images(&ad, ctx.take_in_one(&ad));
    assert_eq!(again, analysis);

    // Without images the same ad has neither.
    let plain = engine.analyze(&Ad::text(
        "a2",
        Some("Used bicycle"),
        Some("Blue, 21 gears."),
    ));
    assert!(plain.images.is_empty());
    assert!(
        !plain
            .signals
            .iter()
            .any(|s| s.indicator == "known_image_match")
    );
    let json = serde_json::to_value(&analysis).unwrap();
    assert!(json["images"][0]["error"].is_string());
}
