//! The learned model in the service (issue 25): shadow scores recorded beside the analysis and
//! shown in the evidence read without changing the verdict or the queue; decisions learned in
//! batches as audited versions, with the per-reviewer cap; a restart resumes exactly where the
//! stored version left off (the same versions, bit for bit, as a service that never stopped);
//! versions put in force by others are followed.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap (CONTRIBUTING.md)

use std::sync::Arc;

use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use samaritan_engine::Engine;
use samaritan_engine::extract::ExtractOptions;
use samaritan_engine::learn::{
    self, FeatureConfig, FtrlParams, Label, Model, ModelInput, RaisePoint,
};
use samaritan_engine::model::Ad;
use samaritan_engine::policy::{DEFAULT_POLICY, load_tested};
use samaritan_server::learning::{
    AuditFit, LearnConfig, follow_store, learn_pending, recalibrate, restore_model,
};
use samaritan_server::{AppState, EngineAnalyzer, Limits};
use samaritan_store::{
    DecisionAction, DecisionBasis, DecisionInput, ModelSave, ModelSource, Scope, Store,
};
use serde_json::{Value, json};
use tower::ServiceExt;

const COMMERCIAL: &[&str] = &[
    "New in town, incall and outcall, 150 roses per hour, text (775) 555-0111",
    "Sweet and discreet companion, donations 200 hh, no law enforcement, call 702 555 0123",
    "Upscale GFE experience tonight only, specials for new friends, (775) 555-0145",
];
const BENIGN: &[&str] = &[
    "Selling a used road bicycle in good condition, call (775) 555-0111 after six",
    "Dog walking and pet sitting on weekends, references available, 702 555 0123",
    "Two bedroom apartment for rent near the park, utilities included, (775) 555-0145",
];

/// A small bootstrap model trained on the sentences above, as `model train` would save it.
fn bootstrap() -> String {
    let extract = ExtractOptions::default();
    let engine = Engine::new(load_tested(DEFAULT_POLICY, &extract).unwrap(), extract);
    let cfg = FeatureConfig {
        bits: 16,
        ..FeatureConfig::default()
    };
    let mut model = Model::new(cfg.clone(), FtrlParams::default());
    for _ in 0..3 {
        for (texts, label) in [(COMMERCIAL, Label::Commercial), (BENIGN, Label::Benign)] {
            for (i, t) in texts.iter().enumerate() {
                let ad = Ad::text(format!("boot{i}"), Some("Ad"), Some(t));
                let p = engine.prepare(&ad);
                let x = learn::featurize(&ModelInput::from_prepared(&p, engine.policy()), &cfg);
                model.learn(&x, label);
            }
        }
    }
    model.raise = Some(RaisePoint {
        probability: 0.5,
        benign_rate: 0.01,
        benign_items: 3,
    });
    serde_json::to_string(&model).unwrap()
}

async fn service(store: &Store) -> (AppState, axum::Router) {
    let analyzer =
        Arc::new(EngineAnalyzer::new(DEFAULT_POLICY, ExtractOptions::default(), None).unwrap());
    analyzer.restore_from(store).await.unwrap();
    let limits = Limits {
        rate_per_sec: 0.0,
        ..Limits::default()
    };
    let state = AppState::new(store.clone(), analyzer, limits);
    restore_model(&state).await.unwrap();
    (state.clone(), samaritan_server::router(state))
}

async fn call(app: &axum::Router, method: &str, path: &str, key: &str, body: String) -> Value {
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer {key}"))
        .body(Body::from(body))
        .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    assert!(
        status.is_success(),
        "{status}: {}",
        String::from_utf8_lossy(&bytes)
    );
    serde_json::from_slice(&bytes).unwrap()
}

fn ad_json(id: &str, text: &str) -> String {
    json!({"id": id, "title": "Ad", "body": text}).to_string()
}

async fn ingest(state: &AppState, ads: &[(&str, &str)]) {
    let ads = ads
        .iter()
        .map(|(id, text)| {
            let raw = ad_json(id, text);
            (serde_json::from_str::<Ad>(&raw).unwrap(), raw)
        })
        .collect();
    samaritan_server::ingest(state, ads).await.unwrap();
}

/// A version whose raise point counts as fitted on this platform's audit (a `recalibration`
/// record), so that the service puts it in force; an import's raise point is not.
fn fitted(model: &str) -> ModelSave<'_> {
    let raise = serde_json::from_str::<Model>(model).unwrap().raise;
    ModelSave {
        source: ModelSource::Recalibration {
            fit: samaritan_store::Recalibration {
                answers: 0,
                benign: 0,
                min_benign: 0,
                platt: None,
                raise_probability: raise.map(|r| r.probability),
                benign_rate: raise.map_or(0.0, |r| r.benign_rate),
                through_answer: 0,
            },
        },
        ..import(model)
    }
}

/// A SQLite store in `dir` with a key that may ingest and review.
async fn reviewing_store(dir: &std::path::Path) -> (Store, String) {
    let store = Store::open_sqlite(dir).await.unwrap();
    let key = store
        .create_key("r", &[Scope::Ingest, Scope::Review], "test")
        .await
        .unwrap()
        .secret;
    (store, key)
}

fn import(model: &str) -> ModelSave<'_> {
    ModelSave {
        model,
        source: ModelSource::Import {
            file: "boot.json".into(),
        },
        through_decision: None,
        expected: None,
        actor: "cli",
        now: 1,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shadow_scores_are_recorded_and_shown_and_change_nothing() {
    // Two services fed the same ads: one with a model, one without.
    let (dir, bare_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let store = Store::open_sqlite(dir.path()).await.unwrap();
    let bare = Store::open_sqlite(bare_dir.path()).await.unwrap();
    let mut keys = Vec::new();
    for s in [&store, &bare] {
        let k = s.create_key("r", &[Scope::Ingest, Scope::Review], "test");
        keys.push(k.await.unwrap().secret);
    }
    store.save_model(fitted(&bootstrap())).await.unwrap();
    let (state, app) = service(&store).await;
    let (bare_state, bare_app) = service(&bare).await;
    assert_eq!(state.analyzer().model().unwrap().version, 1);
    assert!(bare_state.analyzer().model().is_none());
    let ads = [
        ("c1", COMMERCIAL[1]),
        ("b1", BENIGN[1]),
        ("c2", COMMERCIAL[2]),
    ];
    for s in [&state, &bare_state] {
        ingest(s, &ads[..2]).await;
        ingest(s, &ads[2..]).await;
    }
    // Without a model nothing is scored.
    let read = call(&bare_app, "GET", "/v1/ads/c1", &keys[1], String::new()).await;
    assert_eq!(read["model_shadow"], json!([]));
    // With one, every ingested ad is scored, and the evidence read shows it.
    let c1 = call(&app, "GET", "/v1/ads/c1", &keys[0], String::new()).await;
    let b1 = call(&app, "GET", "/v1/ads/b1", &keys[0], String::new()).await;
    let (sc, sb) = (&c1["model_shadow"][0], &b1["model_shadow"][0]);
    assert_eq!(
        (sc["model_version"].as_i64(), sc["revision"].as_i64()),
        (Some(1), Some(1))
    );
    let (pc, pb) = (
        sc["probability"].as_f64().unwrap(),
        sb["probability"].as_f64().unwrap(),
    );
    assert!(pc > pb, "commercial {pc} above benign {pb}");
    assert_eq!(sc["raised"], pc >= 0.5);
    assert_eq!(sc["detail"]["threshold"], 0.5);
    // The top features quote the original text at their spans.
    let doc = format!("Ad\n{}", COMMERCIAL[1]);
    let top = sc["detail"]["top"].as_array().unwrap();
    assert!(!top.is_empty());
    let mut quoted = 0;
    for t in top {
        if let Some([s, e]) = t["spans"][0]
            .as_array()
            .map(|a| [a[0].as_u64(), a[1].as_u64()])
        {
            let (s, e) = (s.unwrap() as usize, e.unwrap() as usize);
            assert_eq!(t["text"].as_str().unwrap(), &doc[s..e], "{t}");
            quoted += 1;
        }
    }
    assert!(quoted > 0, "{top:?}");

    // Shadow: the analyses and the queue are exactly those of the service without a model.
    for r in [&c1, &b1] {
        let id = r["id"].as_str().unwrap();
        let other = call(
            &bare_app,
            "GET",
            &format!("/v1/ads/{id}"),
            &keys[1],
            String::new(),
        )
        .await;
        for field in ["analysis", "queue", "network_id", "revision"] {
            let strip = |v: &Value| {
                let mut v = v[field].clone();
                if let Some(q) = v.as_object_mut() {
                    q.remove("updated_at");
                    q.remove("created_at");
                    q.remove("received_at");
                    q.remove("enqueued_at");
                }
                v
            };
            assert_eq!(strip(r), strip(&other), "{id} {field}");
        }
    }
    let queue = |app: axum::Router, key: String| async move {
        let q = call(&app, "GET", "/v1/queue?limit=100", &key, String::new()).await;
        let items = q["items"].as_array().cloned().unwrap_or_default();
        items
            .iter()
            .map(|i| {
                (
                    i["ad_id"].clone(),
                    i["priority"].clone(),
                    i["state"].clone(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(
        queue(app.clone(), keys[0].clone()).await,
        queue(bare_app.clone(), keys[1].clone()).await
    );
    // The shadow report over decided ads: the model, the policy and the reviewers.
    decide(
        &store,
        &[
            ("c1", DecisionAction::Remove, "commercial_sex", "key:ann"),
            ("b1", DecisionAction::Allow, "not_commercial", "key:ann"),
            ("c2", DecisionAction::Escalate, "needs_lead", "key:ann"),
        ],
    )
    .await;
    let rows = store.shadow_decided(100).await.unwrap();
    let ids: Vec<&str> = rows.iter().map(|r| r.ad_id.as_str()).collect();
    assert_eq!(ids, ["c2", "b1", "c1"], "newest decision first");
    assert_eq!(rows[2].verdict, c1["analysis"]["verdict"].as_str().unwrap());
    assert_eq!(rows[2].raised, sc["raised"].as_bool().unwrap());
    let report = samaritan_server::learning::shadow_report(&rows, 5);
    assert_eq!((report.compared, report.left_out), (2, 1));
    let model_agrees = u64::from(sc["raised"] == true) + u64::from(sb["raised"] == false);
    assert_eq!(report.model_vs_reviewers.agree, model_agrees);
    assert!(bare.shadow_decided(100).await.unwrap().is_empty());
    // A re-send records nothing new; a new revision is scored again.
    ingest(&state, &[("c1", COMMERCIAL[1])]).await;
    assert_eq!(store.shadow_scores_of("c1").await.unwrap().len(), 1);
    ingest(&state, &[("c1", COMMERCIAL[0])]).await;
    let revs: Vec<i64> = store
        .shadow_scores_of("c1")
        .await
        .unwrap()
        .iter()
        .map(|s| s.revision)
        .collect();
    assert_eq!(revs, [2, 1]);
}

/// `(ad, action, reason, actor)` in the order they are decided.
type Plan = [(&'static str, DecisionAction, &'static str, &'static str)];

const PLAN: &Plan = &[
    ("d0", DecisionAction::Remove, "commercial_sex", "key:ann"),
    ("d1", DecisionAction::Allow, "not_commercial", "key:ann"),
    (
        "d2",
        DecisionAction::Report,
        "child_sex_trafficking",
        "key:ann",
    ),
    ("d3", DecisionAction::Escalate, "needs_lead", "key:bob"),
    ("d4", DecisionAction::Remove, "minor_indicators", "key:cat"),
    ("d5", DecisionAction::Remove, "spam", "key:bob"),
    ("d6", DecisionAction::Allow, "legitimate_service", "key:cat"),
    ("d7", DecisionAction::Remove, "commercial_sex", "key:bob"),
    ("d8", DecisionAction::Allow, "not_commercial", "key:ann"),
];

async fn decide(store: &Store, plan: &Plan) {
    for (ad, action, reason, actor) in plan {
        store
            .decide(
                &DecisionInput {
                    ad_id: (*ad).into(),
                    revision: 1,
                    action: *action,
                    reason: (*reason).into(),
                    note: String::new(),
                    basis: DecisionBasis::Override { supersedes: None },
                },
                actor,
                samaritan_store::now_ms(),
            )
            .await
            .unwrap();
    }
}

async fn corpus(state: &AppState) {
    let ads: Vec<(String, &str)> = (0..PLAN.len())
        .map(|i| {
            let texts = if i % 2 == 0 { COMMERCIAL } else { BENIGN };
            (format!("d{i}"), texts[i % 3])
        })
        .collect();
    let refs: Vec<(&str, &str)> = ads.iter().map(|(i, t)| (i.as_str(), *t)).collect();
    ingest(state, &refs).await;
}

const CFG: LearnConfig = LearnConfig {
    batch: 3,
    reviewer_share: 0.5,
    audit: AuditFit::DEFAULT,
};

/// Every stored version, oldest first: (version, source, sha256, through, applied detail).
async fn versions(store: &Store) -> Vec<(i64, String, String, i64, Value)> {
    let mut v: Vec<_> = store
        .model_history()
        .await
        .unwrap()
        .into_iter()
        .map(|v| {
            (
                v.version,
                v.source,
                v.sha256,
                v.through_decision,
                v.source_detail,
            )
        })
        .collect();
    v.reverse();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decisions_teach_in_batches_and_a_restart_resumes_exactly() {
    let boot = bootstrap();
    // A service that never stops: 9 decisions, learned at the end.
    let dir = tempfile::tempdir().unwrap();
    let steady = Store::open_sqlite(dir.path()).await.unwrap();
    steady.save_model(import(&boot)).await.unwrap();
    let (state, _) = service(&steady).await;
    corpus(&state).await;
    decide(&steady, PLAN).await;
    assert_eq!(learn_pending(&state, CFG).await.unwrap(), [2, 3, 4]);
    let expected = versions(&steady).await;

    // The same, stopped after 7 decisions (2 batches learned, 1 decision pending).
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_sqlite(dir.path()).await.unwrap();
    store.save_model(import(&boot)).await.unwrap();
    let (state, _) = service(&store).await;
    corpus(&state).await;
    decide(&store, &PLAN[..4]).await;
    assert_eq!(learn_pending(&state, CFG).await.unwrap(), [2]);
    decide(&store, &PLAN[4..7]).await;
    assert_eq!(learn_pending(&state, CFG).await.unwrap(), [3]);
    assert_eq!(state.analyzer().model().unwrap().version, 3);
    drop(state);
    store.close().await;
    // Restart: the current version, then the decisions after it.
    let store = Store::open_sqlite(dir.path()).await.unwrap();
    let (state, _) = service(&store).await;
    let active = state.analyzer().model().unwrap();
    assert_eq!((active.version, active.through_decision), (3, 6));
    assert!(
        learn_pending(&state, CFG).await.unwrap().is_empty(),
        "1 pending < batch"
    );
    decide(&store, &PLAN[7..]).await;
    assert_eq!(learn_pending(&state, CFG).await.unwrap(), [4]);
    // Nothing lost, nothing learned twice: the very versions of the service that never stopped.
    let got = versions(&store).await;
    assert_eq!(got, expected);

    // Each batch lists its decisions, what each taught and with what weight.
    let applied: Vec<Value> = got[1..]
        .iter()
        .flat_map(|v| v.4["applied"].as_array().unwrap().clone())
        .collect();
    let seqs: Vec<i64> = applied.iter().map(|a| a["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, (1..=9).collect::<Vec<_>>());
    let labels: Vec<&str> = applied
        .iter()
        .map(|a| a["label"].as_str().unwrap())
        .collect();
    assert_eq!(
        labels,
        [
            "commercial",
            "benign",
            "severe",
            "none",
            "severe",
            "none",
            "benign",
            "commercial",
            "benign"
        ]
    );
    // Batch 1: "ann" made all 3 teaching decisions; share 0.5 caps her at 1.5 of 3.
    let weights: Vec<f64> = applied
        .iter()
        .map(|a| a["weight"].as_f64().unwrap())
        .collect();
    assert_eq!(&weights[..3], &[0.5, 0.5, 0.5]);
    // Batch 2: bob's escalation and spam teach nothing; cat's one decision is under the cap.
    assert_eq!(&weights[3..6], &[0.0, 1.0, 0.0]);
    assert_eq!(&weights[6..], &[1.0, 1.0, 1.0]);
    assert_eq!(got.iter().map(|v| v.3).collect::<Vec<_>>(), [0, 3, 6, 9]);
    // The learned model differs from the bootstrap and scores with the new version.
    assert_ne!(got[3].2, got[0].2);
    ingest(&state, &[("after", COMMERCIAL[0])]).await;
    assert_eq!(
        store.shadow_scores_of("after").await.unwrap()[0].model_version,
        4
    );

    // Audited like a policy change, and checked.
    let audit = store.audit_list(0, 100).await.unwrap();
    let updates = audit.iter().filter(|e| e.action == "model.update").count();
    assert_eq!(updates, 4);
    let report = store.audit_verify().await.unwrap();
    assert!(report.ok, "{report:?}");
    assert_eq!(report.models, 4);

    // A rollback made elsewhere is followed; learning goes on from it without relearning.
    store.rollback_model(1, Some(4), "cli", 2).await.unwrap();
    assert_eq!(follow_store(&state).await.unwrap(), Some(5));
    let active = state.analyzer().model().unwrap();
    assert_eq!((active.version, active.through_decision), (5, 9));
    // Version 5 is version 1, whose raise point (an import's, not fitted on this platform's
    // audit) is not put in force.
    let mut v1: Model = serde_json::from_str(&boot).unwrap();
    v1.raise = None;
    assert_eq!(active.model, v1, "version 5 is version 1");

    // Two learners on one store (two instances): the second to save is refused, loads the
    // version the first saved and learns nothing twice.
    let (other, _) = service(&store).await;
    assert_eq!(other.analyzer().model().unwrap().version, 5);
    ingest(
        &state,
        &[("e0", BENIGN[0]), ("e1", COMMERCIAL[1]), ("e2", BENIGN[2])],
    )
    .await;
    decide(
        &store,
        &[
            ("e0", DecisionAction::Allow, "not_commercial", "key:ann"),
            ("e1", DecisionAction::Remove, "commercial_sex", "key:bob"),
            ("e2", DecisionAction::Allow, "not_commercial", "key:cat"),
        ],
    )
    .await;
    assert_eq!(learn_pending(&state, CFG).await.unwrap(), [6]);
    assert!(learn_pending(&other, CFG).await.unwrap().is_empty());
    let active = other.analyzer().model().unwrap();
    assert_eq!((active.version, active.through_decision), (6, 12));
    assert_eq!(store.model_history().await.unwrap().len(), 6);
    assert!(store.audit_verify().await.unwrap().ok);
}

/// The model enabled as the policy's `model_score` indicator: an ad the policy allows on its
/// own goes to review when the model raises it, with the model's signal; nothing becomes a
/// report candidate or a block through it; without a model in force the indicator is silent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_enabled_model_raises_to_review_and_never_further() {
    let enabled = format!(
        "{DEFAULT_POLICY}\n[[indicator]]\nid = \"learned_model\"\ncategory = \"learned_model\"\ndescription = \"The learned model reads the ad as commercial sex.\"\nsource = \"test\"\nweight = 0.99\nfeature = {{ kind = \"model_score\" }}\n"
    );
    // A model that raises everything (threshold near 0).
    let mut model: Model = serde_json::from_str(&bootstrap()).unwrap();
    model.raise = Some(RaisePoint {
        probability: 1e-9,
        benign_rate: 1.0,
        benign_items: 3,
    });
    let model = serde_json::to_string(&model).unwrap();
    let mut analyses = Vec::new();
    for with_model in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_sqlite(dir.path()).await.unwrap();
        if with_model {
            store.save_model(fitted(&model)).await.unwrap();
        }
        let analyzer =
            Arc::new(EngineAnalyzer::new(&enabled, ExtractOptions::default(), None).unwrap());
        analyzer.restore_from(&store).await.unwrap();
        let state = AppState::new(store.clone(), analyzer, Limits::default());
        restore_model(&state).await.unwrap();
        // Different phones: the two ads are in no network together.
        ingest(&state, &[("b1", BENIGN[0]), ("c1", COMMERCIAL[1])]).await;
        let mut of = Vec::new();
        for id in ["b1", "c1"] {
            let a = store.analysis_of_revision(id, 1).await.unwrap().unwrap();
            of.push(a);
        }
        analyses.push(of);
    }
    let (on, off) = (&analyses[0], &analyses[1]);
    // Without a model in force: the benign ad is allowed and nothing names the model.
    assert_eq!(off[0].verdict, samaritan_engine::model::Verdict::Allow);
    assert!(
        off.iter()
            .all(|a| a.signals.iter().all(|s| s.indicator != "learned_model"))
    );
    // With it: the benign ad is raised to review by the model's signal alone.
    let b1 = &on[0];
    assert_eq!(
        b1.verdict,
        samaritan_engine::model::Verdict::Review,
        "{b1:?}"
    );
    assert_eq!(b1.signals.len(), 1, "{:?}", b1.signals);
    assert_eq!(b1.signals[0].indicator, "learned_model");
    assert!(b1.signals[0].note.contains("learned model: probability"));
    assert!(!b1.report_candidate);
    // Weight 0.99 is above block_at, yet the model never blocks: the commercial ad keeps the
    // verdict and report candidacy the policy gives it without the model.
    assert_eq!(on[1].verdict, off[1].verdict);
    assert_eq!(on[1].report_candidate, off[1].report_candidate);
    assert!(on[1].signals.iter().any(|s| s.indicator == "learned_model"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn active_learning_draws_allowed_ads_the_model_doubts_and_their_decisions_teach() {
    let dir = tempfile::tempdir().unwrap();
    let (store, key) = reviewing_store(dir.path()).await;
    // An untrained model: every ad sits at even odds, as unsure as a model can be.
    let cfg = FeatureConfig {
        bits: 16,
        ..FeatureConfig::default()
    };
    let blank = serde_json::to_string(&Model::new(cfg, FtrlParams::default())).unwrap();
    store.save_model(import(&blank)).await.unwrap();
    let (state, app) = service(&store).await;
    state.active_draw().set_share(0.5);
    // Two ads the policy allows (the pool) and one it queues.
    ingest(
        &state,
        &[("b0", BENIGN[0]), ("b2", BENIGN[2]), ("c1", COMMERCIAL[1])],
    )
    .await;
    let claim = |n: i64| {
        call(
            &app,
            "POST",
            "/v1/queue/claim",
            &key,
            json!({"limit": n}).to_string(),
        )
    };
    // A claim of two: one drawn for learning (shown as such), one the policy queued.
    let page = claim(2).await;
    let items = page["items"].as_array().unwrap();
    let sources: Vec<(&str, &str)> = items
        .iter()
        .map(|i| (i["ad_id"].as_str().unwrap(), i["source"].as_str().unwrap()))
        .collect();
    assert_eq!(sources.len(), 2, "{page}");
    assert!(sources.contains(&("c1", "policy")), "{sources:?}");
    let drawn: Vec<&str> = sources
        .iter()
        .filter(|(_, s)| *s == "learning")
        .map(|(id, _)| *id)
        .collect();
    assert_eq!(drawn.len(), 1, "{sources:?}");
    assert!(["b0", "b2"].contains(&drawn[0]));
    // Deciding it teaches the model: `allow` is a benign label like any other decision.
    let decision = call(
        &app,
        "POST",
        &format!("/v1/ads/{}/decision", drawn[0]),
        &key,
        json!({"revision": 1, "action": "allow", "reason": "not_commercial"}).to_string(),
    )
    .await;
    let learned = learn_pending(
        &state,
        LearnConfig {
            batch: 1,
            reviewer_share: 1.0,
            audit: AuditFit::DEFAULT,
        },
    )
    .await
    .unwrap();
    assert_eq!(learned.len(), 1);
    let history = versions(&store).await;
    let last = history.last().unwrap();
    assert_eq!(last.4["applied"][0]["seq"], decision["seq"], "{}", last.4);
    assert_eq!(last.4["applied"][0]["label"], "benign", "{}", last.4);
    // Share 0 draws nothing: the other pooled ad stays out of the queue.
    state.active_draw().set_share(0.0);
    let page = claim(5).await;
    assert!(
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["source"] == "policy"),
        "{page}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_raise_point_is_fitted_on_the_quality_audit_and_nothing_is_raised_before() {
    let dir = tempfile::tempdir().unwrap();
    let (store, key) = reviewing_store(dir.path()).await;
    // The bootstrap model came with a raise point chosen on another corpus: not put in force.
    let boot = bootstrap();
    assert!(
        serde_json::from_str::<Model>(&boot)
            .unwrap()
            .raise
            .is_some()
    );
    store.save_model(import(&boot)).await.unwrap();
    let (state, app) = service(&store).await;
    assert_eq!(state.analyzer().model().unwrap().model.raise, None);
    let cfg = LearnConfig {
        batch: 50,
        reviewer_share: 1.0,
        audit: AuditFit {
            benign_rate: 0.0,
            min_benign: 4,
            window: 100,
            refit_every: 1,
        },
    };
    // No audit answers yet: fitted, it raises nothing, which is what is in force (no version).
    assert_eq!(recalibrate(&state, cfg).await.unwrap(), None);
    assert_eq!(state.analyzer().model().unwrap().model.raise, None);
    assert_eq!(versions(&store).await.len(), 1);

    // Every allowed ad is sampled; a claim drawing only from the audit takes them oldest first.
    store.set_audit_sample_rate(1.0).unwrap();
    state.audit_draw().set_share(1.0);
    state.active_draw().set_share(0.0);
    let benign: Vec<(String, String)> = (0..6)
        .map(|i| {
            (
                format!("b{i}"),
                format!("{} item {i}", [BENIGN[0], BENIGN[2]][i % 2]),
            )
        })
        .collect();
    let refs: Vec<(&str, &str)> = benign
        .iter()
        .map(|(i, t)| (i.as_str(), t.as_str()))
        .collect();
    ingest(&state, &refs).await;
    let page = call(
        &app,
        "POST",
        "/v1/queue/claim",
        &key,
        json!({"limit": 6}).to_string(),
    )
    .await;
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 6, "{page}");
    assert!(items.iter().all(|i| i["source"] == "audit"), "{page}");
    // Three answers: still too few benign ones to fit a raise point.
    for id in ["b0", "b1", "b2"] {
        call(
            &app,
            "POST",
            &format!("/v1/ads/{id}/decision"),
            &key,
            json!({"revision": 1, "action": "allow", "reason": "not_commercial"}).to_string(),
        )
        .await;
    }
    assert_eq!(recalibrate(&state, cfg).await.unwrap(), None);
    assert_eq!(state.analyzer().model().unwrap().model.raise, None);
    // The fourth: fitted. At a benign rate of 0, no audited benign ad reaches the raise point.
    call(
        &app,
        "POST",
        "/v1/ads/b3/decision",
        &key,
        json!({"revision": 1, "action": "allow", "reason": "not_commercial"}).to_string(),
    )
    .await;
    assert_eq!(recalibrate(&state, cfg).await.unwrap(), Some(2));
    let active = state.analyzer().model().unwrap();
    let raise = active.model.raise.unwrap();
    assert_eq!(raise.benign_items, 4);
    assert_eq!(raise.benign_rate, 0.0);
    let extract = ExtractOptions::default();
    let engine = Engine::new(load_tested(DEFAULT_POLICY, &extract).unwrap(), extract);
    for (id, text) in &benign[..4] {
        let ad = Ad::text(id.clone(), Some("Ad"), Some(text));
        let p = engine.prepare(&ad);
        let x = learn::featurize(
            &ModelInput::from_prepared(&p, engine.policy()),
            &active.model.features,
        );
        let score = active.model.score(&x);
        assert!(!score.raised, "{id}: {score:?} against {raise:?}");
    }
    let history = versions(&store).await;
    assert_eq!(history[1].1, "recalibration");
    assert_eq!(history[1].4["fit"]["benign"], 4, "{}", history[1].4);
    assert!(history[1].4["fit"]["through_answer"].as_i64().unwrap() > 0);
    // No newer answer: nothing to fit again, and a restart reads where the fit stopped.
    assert_eq!(recalibrate(&state, cfg).await.unwrap(), None);
    let (again, _) = service(&store).await;
    assert_eq!(again.analyzer().model().unwrap().model.raise, Some(raise));
    assert_eq!(recalibrate(&again, cfg).await.unwrap(), None);
    // The audit's answers teach like any decision, and the batch is fitted before it is saved.
    let learned = learn_pending(&state, LearnConfig { batch: 4, ..cfg })
        .await
        .unwrap();
    assert_eq!(learned, [3]);
    let history = versions(&store).await;
    let labels: Vec<&str> = history[2].4["applied"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["benign"; 4], "{}", history[2].4);
    assert_eq!(
        history[2].4["recalibrated"]["benign"], 4,
        "{}",
        history[2].4
    );
    // The answers are there for the lead: four drawn and answered, none removed.
    let counts = store.audit_counts().await.unwrap();
    assert_eq!((counts.drawn, counts.answered, counts.removed), (6, 4, 0));
}
