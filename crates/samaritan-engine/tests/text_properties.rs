//! Properties of normalization and extraction over arbitrary and adversarial text: no panics,
//! spans inside the original on character boundaries, idempotent normalization.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap (CONTRIBUTING.md)

use proptest::prelude::*;
use samaritan_engine::extract::{ExtractOptions, extract};
use samaritan_engine::normalize;

/// Fragments that exercise the tricky paths: number words, homophones, look-alike letters,
/// invisible and combining characters, keycaps, full-width and circled digits, separators.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<char>().prop_map(String::from),
        "[0-9]{1,4}",
        "[ \\-./()*~|,+$@:\n]{1,3}",
        "[a-zA-Z]{1,6}",
        prop::sample::select(vec![
            "seven",
            "FouR",
            "for",
            "to",
            "too",
            "oh",
            "o",
            "O",
            "l",
            "I",
            "ate",
            "twenty",
            "one",
            "hundred",
            "thousand",
            "veintidós",
            "y",
            "and",
            "once",
            "nineteen",
            "years",
            "yo",
            "y/o",
            "age:",
            "I'm",
            "$",
            "hr",
            "hh",
            "roses",
            "@",
            "gmail",
            "dot",
            "com",
            "at",
            "snapchat",
            "whatsapp",
            "+44",
            "0",
            "\u{200B}",
            "\u{200D}",
            "\u{FE0F}",
            "\u{20E3}",
            "\u{0301}",
            "\u{0308}",
            "о",
            "у",
            "А",
            "Ε",
            "ｙ",
            "１",
            "①",
            "𝟙",
            "¹",
            "ー",
            "–",
            "ᴀ",
            "🅨",
            "❸",
            "ﬁ",
            "½",
            "ǅ",
            "\u{1160}",
            "\u{E0041}",
            "ß",
            "İ",
            "\u{0345}",
            "\u{0F73}",
            "\u{1100}\u{1161}",
            "\u{0DD9}\u{0DCF}",
        ])
        .prop_map(str::to_owned),
    ]
}

fn tricky() -> impl Strategy<Value = String> {
    prop::collection::vec(fragment(), 0..40).prop_map(|v| v.concat())
}

fn check(s: &str) -> Result<(), TestCaseError> {
    let n = normalize(s);
    // idempotent
    let again = normalize(&n.text);
    prop_assert_eq!(&again.text, &n.text, "not idempotent for {:?}", s);
    // every range of the normalized text maps inside the original, on char boundaries
    let bounds: Vec<usize> = n
        .text
        .char_indices()
        .map(|(i, _)| i)
        .chain([n.text.len()])
        .collect();
    for (k, &a) in bounds.iter().enumerate().step_by(3) {
        for &b in bounds[k..].iter().step_by(5).take(4) {
            let r = n.original_span(a..b);
            prop_assert!(
                r.start <= r.end && r.end <= s.len(),
                "{:?} -> {:?} in {:?}",
                a..b,
                r,
                s
            );
            prop_assert!(s.is_char_boundary(r.start) && s.is_char_boundary(r.end));
            let _ = n.is_obfuscated(a..b);
        }
    }
    let e = extract(s, &n, &ExtractOptions::default());
    for m in e.mentions() {
        let [a, b] = m.span;
        prop_assert!(a <= b && b <= s.len(), "mention {:?} outside {:?}", m, s);
        prop_assert!(s.is_char_boundary(a) && s.is_char_boundary(b));
        prop_assert_eq!(&m.text, &s[a..b]);
    }
    let _ = e.extracted();
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_unicode(s in any::<String>()) {
        check(&s)?;
    }

    #[test]
    fn adversarial_fragments(s in tricky()) {
        check(&s)?;
    }
}

/// Inputs the fuzzers found (kept as regressions).
#[test]
fn fuzz_regressions() {
    // normalize: letters split off in front of a number were themselves digit-like letters
    let found = [
        "j\u{0}\u{0}\u{0}91OOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOO\u{0}\u{0}91OOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOO'OOOOOOOOOOOO0OOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOdiezOOOOOOOOO\u{0}\u{0}91OOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOO'OOOOOOOOOOOO0OOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOdiez\u{a} h",
        // found by the property tests
        "\u{1D00}\u{043E}",
        "||000000seven\u{3347A}",
        "\u{3141}\u{FFC2}",
        "\u{043E}0\u{30FC}\u{FF11}A",
        "0\u{30FC}\u{2778}",
        "a3twenty0\u{3347A}",
        "0\u{2013}twenty\u{E000}",
        "+\u{0661}\u{0662}\u{0663} call",
        // a dash next to a `|` that became a 1
        "0twenty|\u{2013}a",
    ];
    for s in found {
        check(s).unwrap();
    }
}

#[test]
fn huge_and_degenerate_inputs() {
    for s in [
        String::new(),
        "\n".to_owned(),
        "9".repeat(100_000),
        "seven ".repeat(20_000),
        "\u{200B}".repeat(50_000),
        "a\u{0301}".repeat(20_000),
        "o".repeat(100_000),
        "y o ".repeat(20_000),
        "4 ".repeat(50_000),
    ] {
        check(&s).unwrap();
    }
}
