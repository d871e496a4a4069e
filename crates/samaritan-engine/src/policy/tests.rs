use std::sync::Arc;

use super::*;
use crate::extract::ExtractOptions;
use crate::model::{Ad, Verdict};
use crate::pipeline::Engine;
use crate::policy::{Facts, Hit};

const HEAD: &str = r#"
[policy]
name = "t"
version = "1"

[scoring]
combine = "noisy-or"
review_at = 0.5
block_at = 0.9
"#;

fn policy(body: &str) -> Result<Policy, PolicyError> {
    Policy::from_toml(&format!("{HEAD}{body}"))
}

fn line_of(err: PolicyError) -> usize {
    match err {
        PolicyError::Parse { line, .. } | PolicyError::Invalid { line, .. } => line,
    }
}

#[test]
fn default_policy_compiles_and_passes_its_own_tests() {
    let p = Arc::new(Policy::from_toml(DEFAULT_POLICY).unwrap());
    assert!(p.indicators.len() >= 20);
    let outcomes = run_tests(&p, &ExtractOptions::default());
    assert!(outcomes.len() >= 10);
    for o in outcomes {
        assert!(o.passed(), "{} (line {}): {:?}", o.name, o.line, o.failures);
    }
}

#[test]
fn every_default_indicator_is_documented_with_a_source() {
    let p = Policy::from_toml(DEFAULT_POLICY).unwrap();
    for i in &p.indicators {
        assert!(i.description.len() > 20, "{}", i.id);
        assert!(i.source.len() > 10, "{}", i.id);
    }
}

#[test]
fn syntax_errors_name_the_line() {
    let err = policy("\n[[indicator]]\nid = \"x\"\nweight = \n").unwrap_err();
    assert!(matches!(err, PolicyError::Parse { .. }), "{err}");
    assert_eq!(line_of(err), 13);
}

#[test]
fn semantic_errors_name_the_line() {
    let ind = |extra: &str| {
        format!(
            "\n[[indicator]]\nid = \"x\"\ncategory = \"c\"\ndescription = \"d\"\nsource = \"s\"\n{extra}\n"
        )
    };
    // bad regex, on the line of the pattern
    let err = policy(&ind("weight = 0.5\npatterns = ['(unclosed']")).unwrap_err();
    assert_eq!(line_of(err.clone()), 17, "{err}");
    assert!(err.to_string().contains("does not compile"));
    // weight out of range
    let err = policy(&ind("weight = 1.5\nphrases = [\"a\"]")).unwrap_err();
    assert_eq!(line_of(err.clone()), 16, "{err}");
    // unknown context
    let err = policy(&ind(
        "weight = 0.5\nphrases = [\"a\"]\nrequires = \"nowhere\"",
    ))
    .unwrap_err();
    assert!(
        err.to_string().contains("unknown context `nowhere`"),
        "{err}"
    );
    assert_eq!(line_of(err), 18);
    // neither text nor feature
    let err = policy(&ind("weight = 0.5")).unwrap_err();
    assert!(err.to_string().contains("exactly one"), "{err}");
    // unknown field
    let err = policy(&ind("weight = 0.5\nphrases = [\"a\"]\nphrase = [\"b\"]")).unwrap_err();
    assert!(err.to_string().contains("unknown field `phrase`"), "{err}");
    // unknown feature kind
    let err = policy(&ind("weight = 0.5\nfeature = { kind = \"astrology\" }")).unwrap_err();
    assert!(err.to_string().contains("astrology"), "{err}");
    // duplicate ids
    let twice = format!(
        "{}{}",
        ind("weight = 0.5\nphrases = [\"a\"]"),
        ind("weight = 0.5\nphrases = [\"b\"]")
    );
    assert!(
        policy(&twice)
            .unwrap_err()
            .to_string()
            .contains("defined twice")
    );
    // test naming an unknown indicator
    let t = format!(
        "{}\n[[test]]\nname = \"n\"\nbody = \"b\"\nfires = [\"nope\"]\n",
        ind("weight = 0.5\nphrases = [\"a\"]")
    );
    assert!(
        policy(&t)
            .unwrap_err()
            .to_string()
            .contains("unknown indicator `nope`")
    );
}

#[test]
fn thresholds_are_checked() {
    let err = Policy::from_toml(&HEAD.replace("block_at = 0.9", "block_at = 0.2")).unwrap_err();
    assert!(err.to_string().contains("review_at <= block_at"), "{err}");
}

const SMALL: &str = r#"
[[context]]
name = "shop"
categories = ["shop"]

[[indicator]]
id = "sale"
category = "shop"
description = "d"
source = "s"
weight = 0.3
phrases = ["for sale", "24/7"]

[[indicator]]
id = "fresh"
category = "cue"
description = "d"
source = "s"
weight = 0.2
near = { context = "shop", weight = 0.6 }
requires = "shop"
phrases = ["fresh"]
exceptions = ["fresh eggs"]

[[indicator]]
id = "code"
category = "cue"
description = "d"
source = "s"
weight = 0.1
patterns = ['\bx\d{3}\b']
"#;

#[test]
fn phrases_match_whole_words_case_insensitively_outside_exceptions() {
    let p = policy(SMALL).unwrap();
    let ids = |text: &str| -> Vec<String> {
        p.match_text(text)
            .iter()
            .map(|h| p.indicators[h.indicator].id.clone())
            .collect()
    };
    assert_eq!(ids("FRESH bread"), vec!["fresh"]);
    assert!(ids("refresh the page").is_empty(), "no match inside a word");
    assert!(ids("fresh eggs daily").is_empty(), "exception");
    assert_eq!(
        ids("fresh eggs and fresh milk"),
        vec!["fresh"],
        "the other match still counts"
    );
    assert_eq!(
        ids("open 24/7!"),
        vec!["sale"],
        "non-word edges need no boundary"
    );
    assert_eq!(ids("code X123 and x1234"), vec!["code"]);
}

#[test]
fn requires_and_near_decide_the_weight_and_the_score_is_the_noisy_or() {
    let p = Arc::new(policy(SMALL).unwrap());
    let engine = Engine::new(p.clone(), ExtractOptions::default());
    let analyze = |body: &str| engine.analyze(&Ad::text("a", None, Some(body)));

    // Without the context, `fresh` does not count at all.
    assert!(analyze("fresh bread").signals.is_empty());
    // Far from the context: base weight. Near it: the near weight.
    let far = analyze(&format!(
        "fresh bread. {} Bike for sale.",
        "lorem ipsum ".repeat(40)
    ));
    let fresh = far.signals.iter().find(|s| s.indicator == "fresh").unwrap();
    assert_eq!(fresh.weight, 0.2);
    let near = analyze("Fresh bread for sale.");
    let fresh = near
        .signals
        .iter()
        .find(|s| s.indicator == "fresh")
        .unwrap();
    assert_eq!(fresh.weight, 0.6);
    assert!(fresh.note.contains("near shop"), "{}", fresh.note);
    // The score is reproducible from the signals: 1 - (1 - 0.6)(1 - 0.3) = 0.72.
    assert!((near.score - 0.72).abs() < 1e-12, "{}", near.score);
    assert_eq!(near.verdict, Verdict::Review);
    // Spans point into the original text and quote it.
    assert_eq!(fresh.text, "Fresh");
    assert_eq!(
        fresh.span,
        Some([1, 6]),
        "document starts with the title separator"
    );
}

#[test]
fn repeated_matches_count_once() {
    let p = Arc::new(policy(SMALL).unwrap());
    let engine = Engine::new(p, ExtractOptions::default());
    let a = engine.analyze(&Ad::text("a", None, Some("for sale for sale for sale")));
    assert_eq!(a.signals.len(), 1);
    assert!((a.score - 0.3).abs() < 1e-12);
    assert!(
        a.signals[0].note.contains("3 matches"),
        "{}",
        a.signals[0].note
    );
}

#[test]
fn category_caps_and_block_requirements() {
    let body = r#"
[[category]]
name = "shop"
cap = 0.5

[[indicator]]
id = "a"
category = "shop"
description = "d"
source = "s"
weight = 0.8
phrases = ["alpha"]

[[indicator]]
id = "b"
category = "shop"
description = "d"
source = "s"
weight = 0.8
phrases = ["beta"]

[[indicator]]
id = "m"
category = "minor"
description = "d"
source = "s"
weight = 0.95
phrases = ["gamma"]
"#;
    let head = HEAD.replace(
        "block_at = 0.9",
        "block_at = 0.9\nblock_requires = [\"minor\"]",
    );
    let text = format!("{head}\n[priority]\nreport_categories = [\"minor\"]\n{body}");
    let p = Arc::new(Policy::from_toml(&text).unwrap());
    let engine = Engine::new(p, ExtractOptions::default());
    let a = engine.analyze(&Ad::text("a", None, Some("alpha beta")));
    // 1 - 0.2 * 0.2 = 0.96, capped at 0.5 for the category.
    assert!((a.score - 0.5).abs() < 1e-12, "{}", a.score);
    assert_eq!(a.verdict, Verdict::Review);
    assert!(!a.report_candidate);
    let b = engine.analyze(&Ad::text("b", None, Some("alpha gamma")));
    assert!((b.score - (1.0 - 0.5 * 0.05)).abs() < 1e-12);
    assert_eq!(b.verdict, Verdict::Block);
    assert!(b.report_candidate);
    assert_eq!(b.priority, 100);
}

#[test]
fn block_needs_a_listed_category() {
    let body = r#"
[[indicator]]
id = "a"
category = "commercial"
description = "d"
source = "s"
weight = 0.99
phrases = ["alpha"]
"#;
    let text = format!("{HEAD}{body}").replace(
        "block_at = 0.9",
        "block_at = 0.9\nblock_requires = [\"minor\"]",
    );
    let p = Arc::new(Policy::from_toml(&text).unwrap());
    let a = Engine::new(p, ExtractOptions::default()).analyze(&Ad::text("a", None, Some("alpha")));
    assert_eq!(
        a.verdict,
        Verdict::Review,
        "score {} but nothing but commercial wording",
        a.score
    );
}

#[test]
fn hard_negatives_of_the_default_policy_stay_allowed() {
    let p = Arc::new(Policy::from_toml(DEFAULT_POLICY).unwrap());
    let engine = Engine::new(p, ExtractOptions::default());
    for body in [
        "Join our team of young professionals. Fresh graduates welcome. Call 775-555-0142.",
        "Farm fresh eggs and sweet corn. Open daily. Call 402-555-0177.",
        "Licensed massage therapist, deep tissue. Insurance accepted.",
        "Babysitter available, experience with kids ages 3 and 6. Text 614-555-0188.",
        "New in town? Join our hiking group, all levels welcome.",
        "Young adults book club meets monthly at the library.",
        "Towing and lockouts, available 24/7.",
        "Widowed man, 61 years young, looking for companionship and long walks.",
        "Studio for rent in Little Rock, available now, small pets ok.",
        "Math tutoring for teens, certified teacher, $45/hour.",
        "Long stem roses, a dozen for $30. Donations to the school fundraiser welcome.",
        "Petite dresses lot, sizes 0-4, $40 for all.",
    ] {
        let a = engine.analyze(&Ad::text("h", None, Some(body)));
        assert_eq!(a.verdict, Verdict::Allow, "{body}: {:?}", a.signals);
        assert!(!a.report_candidate);
    }
}

#[test]
fn a_terse_ad_is_read_with_its_network() {
    let p = Policy::from_toml(DEFAULT_POLICY).unwrap();
    let ctx = p.context("commercial_sex").unwrap();
    let terse = [Hit {
        indicator: p.indicator("youth_language").unwrap(),
        span: Some([0, 5]),
    }];
    // On its own, youth wording needs commercial-sex context and does not count.
    let alone = p.decide(&terse, &Facts::default(), "young");
    assert!(alone.signals.is_empty(), "{:?}", alone.signals);
    // In a network whose ads mostly offer commercial sex, the context holds and both count.
    let mut share = vec![0.0; p.contexts.len()];
    share[ctx] = 0.75;
    let facts = Facts {
        network_context_share: share,
        ..Facts::default()
    };
    let d = p.decide(&terse, &facts, "young");
    let ids: Vec<&str> = d.signals.iter().map(|s| s.indicator.as_str()).collect();
    assert!(
        ids.contains(&"network_commercial") && ids.contains(&"youth_language"),
        "{ids:?}"
    );
    assert!(
        d.signals
            .iter()
            .any(|s| s.note.contains("75% of its network"))
    );
    assert_ne!(d.verdict, Verdict::Allow);
    // Below the share, nothing.
    let mut low = vec![0.0; p.contexts.len()];
    low[ctx] = 0.4;
    let d = p.decide(
        &terse,
        &Facts {
            network_context_share: low,
            ..Facts::default()
        },
        "young",
    );
    assert!(d.signals.is_empty());
}

const AMBIGUOUS: &str = r#"
[[context]]
name = "cs"
categories = ["offer"]

[[indicator]]
id = "plain"
category = "offer"
description = "an unambiguous cue"
source = "s"
weight = 0.5
phrases = ["incall"]

[[indicator]]
id = "vague"
category = "offer"
description = "ambiguous words"
source = "s"
weight = 0.3
phrases = ["overnight", "gentlemen", "escort"]
requires_near = "cs"
unless_near = ["pilot car"]

[[indicator]]
id = "handler"
category = "control"
description = "handler wording"
source = "s"
weight = 0.4
phrases = ["my agent"]
requires = "cs"
vouches = "cs"
"#;

fn fired(p: &Policy, text: &str) -> Vec<String> {
    let hits: Vec<Hit> = p
        .match_text(text)
        .into_iter()
        .map(|h| Hit {
            indicator: h.indicator,
            span: Some([h.range.start, h.range.end]),
        })
        .collect();
    let mut ids: Vec<String> = p
        .decide(&hits, &Facts::default(), text)
        .signals
        .into_iter()
        .map(|s| s.indicator)
        .collect();
    ids.sort();
    ids
}

#[test]
fn ambiguous_words_need_a_plain_cue_or_a_quorum() {
    let p = policy(&format!("ambiguous_quorum = 3\n{AMBIGUOUS}")).unwrap();
    // alone, and repeated: nothing
    assert!(fired(&p, "overnight").is_empty());
    assert!(fired(&p, "overnight overnight, overnight").is_empty());
    // beside an unambiguous cue: counts
    assert_eq!(fired(&p, "incall, overnight"), ["plain", "vague"]);
    // three distinct ambiguous words vouch for each other
    assert_eq!(fired(&p, "overnight, gentlemen, escort"), ["vague"]);
    // handler wording counts toward the quorum, and then fires itself
    assert_eq!(
        fired(&p, "overnight, gentlemen, my agent"),
        ["handler", "vague"]
    );
    // far apart: no quorum (near_window defaults to 250 bytes)
    let far = format!(
        "overnight {} gentlemen {} escort",
        "x ".repeat(200),
        "y ".repeat(200)
    );
    assert!(fired(&p, &far).is_empty());
    // a benign sense nearby vetoes the word
    assert_eq!(fired(&p, "incall, escort"), ["plain", "vague"]);
    assert_eq!(fired(&p, "incall, escort with a pilot car"), ["plain"]);
    // quorum 0 (the default) never vouches
    let p0 = policy(AMBIGUOUS).unwrap();
    assert!(fired(&p0, "overnight, gentlemen, escort").is_empty());
}

#[test]
fn trade_words_are_admitted_by_a_quorum_but_join_one_only_beside_a_vouching_cue() {
    let trade = r#"
[[indicator]]
id = "price"
category = "offer"
description = "a price by the hour: every trade writes it"
source = "s"
weight = 0.25
patterns = ['\$\d+/hr']
requires_near = "cs"
in_quorum = false
"#;
    let p = policy(&format!("ambiguous_quorum = 3\n{AMBIGUOUS}{trade}")).unwrap();
    // a tutor's prices and one ambiguous word make no quorum, however many prices
    assert!(fired(&p, "gentlemen, $40/hr, $70/hr, $90/hr").is_empty());
    assert!(fired(&p, "overnight, gentlemen, $40/hr").is_empty());
    // admitted beside an unambiguous cue or within a quorum of the genre's words
    assert_eq!(fired(&p, "incall, $200/hr"), ["plain", "price"]);
    assert_eq!(
        fired(&p, "overnight, gentlemen, escort, $200/hr"),
        ["price", "vague"]
    );
    // beside handler wording a price counts toward the quorum
    assert_eq!(
        fired(&p, "overnight, my agent, $200/hr"),
        ["handler", "price", "vague"]
    );
    // only for `requires_near` indicators
    let bad = format!(
        "ambiguous_quorum = 3\n{AMBIGUOUS}{}",
        trade.replace("requires_near = \"cs\"\n", "")
    );
    let err = policy(&bad).unwrap_err();
    assert!(err.to_string().contains("in_quorum"), "{err}");
}

#[test]
fn requires_and_requires_near_together_are_refused() {
    let text = AMBIGUOUS.replace(
        "requires_near = \"cs\"",
        "requires_near = \"cs\"\nrequires = \"cs\"",
    );
    let err = policy(&text).unwrap_err();
    assert!(err.to_string().contains("not both"), "{err}");
    // an empty veto phrase would silence the indicator everywhere
    let text = AMBIGUOUS.replace("unless_near = [\"pilot car\"]", "unless_near = [\" \"]");
    let err = policy(&text).unwrap_err();
    assert!(err.to_string().contains("empty `unless_near`"), "{err}");
}

#[test]
fn the_learned_model_raises_to_review_but_never_blocks_or_reports_alone() {
    let body = r#"
[[indicator]]
id = "rate"
category = "commercial"
description = "d"
source = "s"
weight = 0.85
phrases = ["alpha"]

[[indicator]]
id = "learned_model"
category = "learned_model"
description = "d"
source = "s"
weight = 0.6
feature = { kind = "model_score" }

[[indicator]]
id = "model_high"
category = "learned_model"
description = "d"
source = "s"
weight = 0.99
feature = { kind = "model_score", at = 0.95 }
"#;
    let p = policy(body).unwrap();
    let fact = |probability: f64, raised: bool| Facts {
        model: Some(ModelFact {
            probability,
            raised,
        }),
        ..Facts::default()
    };
    // Without a model in force, or below its threshold: nothing.
    let d = p.decide(&[], &Facts::default(), "");
    assert_eq!(d.verdict, Verdict::Allow);
    let d = p.decide(&[], &fact(0.4, false), "");
    assert!(d.signals.is_empty());
    // Raised by the model alone: review, with the probability in the note, no span.
    let d = p.decide(&[], &fact(0.7, true), "");
    assert_eq!(d.verdict, Verdict::Review);
    assert_eq!(d.signals.len(), 1);
    assert_eq!(d.signals[0].indicator, "learned_model");
    assert!(
        d.signals[0].note.contains("probability 0.70"),
        "{:?}",
        d.signals
    );
    assert_eq!(d.signals[0].span, None);
    assert!(!d.report_candidate);
    // 0.99 from the model alone, and 0.85 text + model (noisy-OR 0.9996): the score counts it,
    // the block does not.
    let d = p.decide(&[], &fact(0.97, true), "");
    assert!(d.score > 0.9);
    assert_eq!(d.verdict, Verdict::Review);
    let alpha = Hit {
        indicator: 0,
        span: Some([0, 5]),
    };
    let d = p.decide(std::slice::from_ref(&alpha), &fact(0.97, true), "alpha");
    assert!(d.score > 0.99);
    assert_eq!(d.verdict, Verdict::Review, "{d:?}");
    // The text alone at 0.85 is review too; a stronger text signal blocks as before.
    let d = p.decide(&[alpha], &Facts::default(), "alpha");
    assert_eq!(d.verdict, Verdict::Review);

    // A model_score indicator in a report category is refused, and `at` must be a probability.
    let head = format!("{HEAD}\n[priority]\nreport_categories = [\"learned_model\"]\n");
    let err = Policy::from_toml(&format!("{head}{body}")).unwrap_err();
    assert!(err.to_string().contains("report category"), "{err}");
    let err = policy(&body.replace("at = 0.95", "at = 1.5")).unwrap_err();
    assert!(err.to_string().contains("0 < at < 1"), "{err}");
}
