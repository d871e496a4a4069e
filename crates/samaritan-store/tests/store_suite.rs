//! One suite, two backends: every test here runs on SQLite and on PostgreSQL.
//!
//! The PostgreSQL variants are `#[ignore]`d with the reason, so `cargo test` lists and counts
//! them; `cargo test -- --include-ignored` (or `--ignored`) runs them, and then they skip
//! visibly (`SKIPPED:`) when no server answers, and fail when `SAMARITAN_REQUIRE_POSTGRES=1`. Each PostgreSQL test gets its own schema, dropped afterwards.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap (CONTRIBUTING.md)

mod common;

use common::{Fixture, ad, analysis, item, with_network};
use samaritan_engine::model::Verdict;
use samaritan_store::{
    BatchDecision, DecisionAction, DecisionBasis, DecisionInput, IdentifierKind, IngestStatus,
    LoginError, ModelSave, ModelSource, QaAnswer, QueueState, Role, Scope, ShadowScore, StoreError,
    now_ms,
};

/// A decision on revision `revision` of `ad_id`, made under a claim.
fn decision(ad_id: &str, revision: i64, action: DecisionAction, reason: &str) -> DecisionInput {
    DecisionInput {
        ad_id: ad_id.into(),
        revision,
        action,
        reason: reason.into(),
        note: String::new(),
        basis: DecisionBasis::Claim,
    }
}

/// The refusal code of a store error (panics on any other error).
fn refusal(e: StoreError) -> &'static str {
    match e {
        StoreError::Refused { code, .. } => code,
        other => panic!("expected a refusal, got {other}"),
    }
}

macro_rules! suite {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let f = crate::common::sqlite().await;
                    super::$name(&f).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                #[ignore = "needs PostgreSQL (127.0.0.1:5432 or $SAMARITAN_TEST_POSTGRES); run with --include-ignored"]
                async fn $name() {
                    let Some(f) = crate::common::postgres(concat!("store_suite::postgres::", stringify!($name))).await else {
                        return;
                    };
                    super::$name(&f).await;
                }
            )*
        }
    };
}

suite!(
    ingest_is_idempotent_and_keeps_revisions,
    ingest_rejects_inconsistent_batches,
    concurrent_ingest_commits_everything_once,
    queue_orders_by_priority_and_leases_are_exclusive,
    concurrent_claims_never_overlap,
    decisions_are_recorded_audited_and_move_the_queue,
    decisions_need_a_live_claim_and_the_current_revision,
    concurrent_deciders_exactly_one_wins,
    overrides_name_the_decision_they_replace,
    claims_and_releases_are_audited,
    queue_items_carry_what_triage_needs,
    audit_detects_edited_decisions,
    audit_detects_deleted_decisions,
    audit_detects_inserted_decisions,
    audit_detects_reordered_decisions,
    audit_detects_keys_and_policies_written_directly,
    search_finds_ads_sharing_identifiers,
    networks_come_from_analyses_and_the_linker,
    link_state_and_hash_banks_round_trip,
    keys_are_hashed_scoped_and_revocable,
    policy_versions_are_kept,
    everything_is_back_after_reopen,
    audit_detects_altered_entries,
    audit_detects_deleted_entries,
    audit_detects_inserted_entries,
    audit_detects_reordered_entries,
    reanalysis_replaces_latest_and_keeps_history,
    link_records_commit_with_their_ads_and_network_changes_apply,
    queued_network_changes_commit_after_their_ads_in_queue_order,
    users_are_created_listed_disabled_and_reset,
    users_login_is_throttled_and_locks_out,
    users_changes_are_audited_without_secrets,
    users_audit_detects_rows_written_directly,
    users_concurrent_creation_exactly_one_wins,
    sessions_open_expire_close_and_are_audited,
    named_ads_are_claimed_only_when_free,
    a_network_case_has_every_member_with_its_state,
    view_settings_and_exposure_are_kept_per_person,
    the_dashboard_counts_depth_decisions_and_reports,
    a_lead_takes_a_claim_back,
    qa_golden_items_are_served_blind_and_scored,
    qa_second_reviews_go_to_someone_else_and_disagreements_to_a_lead,
    qa_concurrent_assignment_exactly_one_wins,
    reports_open_once_per_decision_follow_up_and_need_a_second_lead,
    take_back_and_named_claims_race_with_one_winner,
    held_evidence_cannot_be_removed_and_holds_end_only_by_release,
    webhook_events_commit_with_their_changes_and_go_out_in_order_per_ad,
    appeals_go_to_another_reviewer_and_are_sent,
    concurrent_appeal_claims_never_overlap,
    two_person_rules_count_people_not_keys,
    link_snapshots_are_kept_whole_or_refused,
    hma_banks_content_and_signals_are_kept_and_audited,
    hma_concurrent_bank_creation_exactly_one_wins,
    model_versions_are_kept_audited_and_rolled_back,
    model_concurrent_writers_exactly_one_wins,
    audit_detects_model_rows_written_directly,
    model_shadow_scores_commit_with_their_ads_and_decisions_are_read_in_order,
    active_learning_draws_the_least_certain_allowed_ads_once,
    the_quality_audit_samples_allowed_ads_and_draws_each_once,
    stream_messages_are_parked_once_whole_and_audited,
    the_linker_is_elected_one_at_a_time_on_postgres_only,
    queued_steps_commit_whole_or_not_at_all,
);

async fn ingest_is_idempotent_and_keeps_revisions(f: &Fixture) {
    let s = &f.store;
    let a1 = ad("a1", "Tutoring in algebra, call 775-555-0101");
    let r = s
        .ingest(vec![item(
            a1.clone(),
            analysis("a1", Verdict::Review, 3, &["7755550101"]),
        )])
        .await
        .unwrap();
    assert_eq!(r[0].status, IngestStatus::Created);
    assert_eq!(r[0].revision, 1);

    // Same content again: nothing changes, the stored analysis comes back (not the new one).
    let r = s
        .ingest(vec![item(
            a1.clone(),
            analysis("a1", Verdict::Allow, 0, &[]),
        )])
        .await
        .unwrap();
    assert_eq!(r[0].status, IngestStatus::Unchanged);
    assert_eq!(r[0].analysis.verdict, Verdict::Review);

    // Changed content: new revision, old one kept as evidence.
    let a1b = ad("a1", "Tutoring in geometry, call 775-555-0102");
    let r = s
        .ingest(vec![item(
            a1b,
            analysis("a1", Verdict::Allow, 0, &["7755550102"]),
        )])
        .await
        .unwrap();
    assert_eq!(r[0].status, IngestStatus::Updated);
    assert_eq!(r[0].revision, 2);
    let rec = s.get_ad("a1", now_ms()).await.unwrap().unwrap();
    assert_eq!(rec.revision, 2);
    assert!(rec.raw.contains("geometry"));
    assert_eq!(rec.analysis.verdict, Verdict::Allow);
    let history = s.ad_history("a1").await.unwrap();
    assert_eq!(history.len(), 1);
    assert!(history[0].1.contains("algebra"));
    assert_eq!(s.analysis_history("a1").await.unwrap().len(), 2);
    // The old phone no longer finds it; the new one does.
    assert!(
        s.search(IdentifierKind::Phone, "7755550101", 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        s.search(IdentifierKind::Phone, "7755550102", 10)
            .await
            .unwrap()
            .len(),
        1
    );
    // Allowed now and never claimed: out of the queue.
    assert!(rec.queue.is_none());
    let st = s.stats().await.unwrap();
    assert_eq!((st.ads, st.analyses), (1, 2));
    assert!(s.get_ad("nope", now_ms()).await.unwrap().is_none());
}

async fn ingest_rejects_inconsistent_batches(f: &Fixture) {
    let s = &f.store;
    let twice = vec![
        item(ad("d1", "x"), analysis("d1", Verdict::Allow, 0, &[])),
        item(ad("d1", "y"), analysis("d1", Verdict::Allow, 0, &[])),
    ];
    let e = s.ingest(twice).await.unwrap_err();
    assert!(
        matches!(e, StoreError::Invalid(ref m) if m.contains("twice")),
        "{e}"
    );
    let wrong = vec![item(
        ad("d2", "x"),
        analysis("other", Verdict::Allow, 0, &[]),
    )];
    assert!(matches!(s.ingest(wrong).await, Err(StoreError::Invalid(_))));
    assert_eq!(
        s.stats().await.unwrap().ads,
        0,
        "nothing of a rejected batch is stored"
    );
    assert!(s.ingest(Vec::new()).await.unwrap().is_empty());
}

async fn concurrent_ingest_commits_everything_once(f: &Fixture) {
    let s = &f.store;
    let mut tasks = Vec::new();
    for t in 0..24 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let mut out = Vec::new();
            for k in 0..5 {
                // Overlapping ids across tasks: the same ad sent by several at once.
                let batch: Vec<_> = (0..10)
                    .map(|i| {
                        let id = format!("c{}", (t * 7 + k * 10 + i) % 300);
                        item(
                            ad(&id, "Bicycle for sale"),
                            analysis(&id, Verdict::Allow, 0, &[]),
                        )
                    })
                    .collect();
                out.extend(s.ingest(batch).await.unwrap());
            }
            out
        }));
    }
    let mut created = std::collections::HashSet::new();
    let mut total = 0;
    for t in tasks {
        for r in t.await.unwrap() {
            total += 1;
            if r.status == IngestStatus::Created {
                assert!(created.insert(r.id.clone()), "{} created twice", r.id);
            } else {
                assert_eq!(r.status, IngestStatus::Unchanged);
            }
        }
    }
    assert_eq!(total, 24 * 5 * 10);
    assert_eq!(s.stats().await.unwrap().ads as usize, created.len());
}

async fn queue_orders_by_priority_and_leases_are_exclusive(f: &Fixture) {
    let s = &f.store;
    let items = vec![
        item(ad("q1", "a"), analysis("q1", Verdict::Review, 10, &[])),
        item(ad("q2", "b"), analysis("q2", Verdict::Block, 90, &[])),
        item(ad("q3", "c"), analysis("q3", Verdict::Review, 50, &[])),
        item(ad("q4", "d"), analysis("q4", Verdict::Allow, 0, &[])),
    ];
    s.ingest(items).await.unwrap();
    let t0 = now_ms();
    let open = s.queue_list(QueueState::Open, 10, t0).await.unwrap();
    let ids: Vec<_> = open.iter().map(|q| q.ad_id.as_str()).collect();
    assert_eq!(ids, ["q2", "q3", "q1"], "allowed ads never enter the queue");

    let alice = s
        .queue_claim("key:alice", QueueState::Open, 2, 60_000, t0)
        .await
        .unwrap();
    assert_eq!(
        alice.iter().map(|q| q.ad_id.as_str()).collect::<Vec<_>>(),
        ["q2", "q3"]
    );
    assert!(
        alice
            .iter()
            .all(|q| q.claimed_by.as_deref() == Some("key:alice"))
    );
    let bob = s
        .queue_claim("key:bob", QueueState::Open, 5, 60_000, t0 + 1)
        .await
        .unwrap();
    assert_eq!(
        bob.iter().map(|q| q.ad_id.as_str()).collect::<Vec<_>>(),
        ["q1"]
    );

    // Bob cannot decide Alice's ad while her lease lives…
    let input = decision("q2", 1, DecisionAction::Remove, "trafficking_indicators");
    let e = s.decide(&input, "key:bob", t0 + 2).await.unwrap_err();
    assert_eq!(refusal(e), "claimed");
    // …nor release it…
    assert_eq!(
        refusal(s.queue_release("q2", "key:bob", t0 + 2).await.unwrap_err()),
        "not_claimed"
    );
    // …but after it expires he can claim and decide it.
    let later = t0 + 60_001;
    let bob2 = s
        .queue_claim("key:bob", QueueState::Open, 5, 60_000, later)
        .await
        .unwrap();
    let got: Vec<_> = bob2.iter().map(|q| q.ad_id.as_str()).collect();
    assert_eq!(
        got,
        ["q2", "q3", "q1"],
        "own claim renewed plus the expired ones"
    );
    s.decide(&input, "key:bob", later + 1).await.unwrap();
    // Releasing gives it back to everyone.
    s.queue_release("q3", "key:bob", later + 2).await.unwrap();
    let carol = s
        .queue_claim("key:carol", QueueState::Open, 5, 1000, later + 3)
        .await
        .unwrap();
    assert_eq!(
        carol.iter().map(|q| q.ad_id.as_str()).collect::<Vec<_>>(),
        ["q3"]
    );
    for st in [QueueState::Decided, QueueState::Claimed] {
        assert!(matches!(
            s.queue_claim("key:x", st, 1, 1, 0).await,
            Err(StoreError::Invalid(_))
        ));
    }
    // `open` lists what nobody holds, `claimed` what someone does.
    let now = later + 4;
    let open: Vec<_> = s.queue_list(QueueState::Open, 10, now).await.unwrap();
    let claimed: Vec<_> = s.queue_list(QueueState::Claimed, 10, now).await.unwrap();
    assert_eq!(
        claimed.iter().map(|q| q.ad_id.as_str()).collect::<Vec<_>>(),
        ["q3", "q1"]
    );
    assert!(claimed.iter().all(|q| q.state == QueueState::Claimed));
    assert!(open.is_empty(), "{open:?}");
}

async fn concurrent_claims_never_overlap(f: &Fixture) {
    let s = &f.store;
    let items: Vec<_> = (0..60)
        .map(|i| {
            let id = format!("cc{i:03}");
            item(
                ad(&id, "x"),
                analysis(&id, Verdict::Review, (i % 7) as u32, &[]),
            )
        })
        .collect();
    s.ingest(items).await.unwrap();
    let now = now_ms();
    let mut tasks = Vec::new();
    for r in 0..8 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let actor = format!("key:r{r}");
            let mut mine = Vec::new();
            for _ in 0..4 {
                let got = s
                    .queue_claim(&actor, QueueState::Open, 3, 600_000, now)
                    .await
                    .unwrap();
                mine.extend(got.into_iter().map(|q| q.ad_id));
            }
            mine.sort();
            mine.dedup();
            (actor, mine)
        }));
    }
    let mut owner = std::collections::HashMap::new();
    for t in tasks {
        let (actor, mine) = t.await.unwrap();
        for id in mine {
            if let Some(prev) = owner.insert(id.clone(), actor.clone()) {
                panic!("{id} claimed by both {prev} and {actor}");
            }
        }
    }
    assert!(owner.len() >= 24, "claims were made: {}", owner.len());
}

async fn decisions_are_recorded_audited_and_move_the_queue(f: &Fixture) {
    let s = &f.store;
    s.ingest(vec![
        item(ad("e1", "x"), analysis("e1", Verdict::Block, 80, &[])),
        item(ad("e2", "y"), analysis("e2", Verdict::Review, 20, &[])),
    ])
    .await
    .unwrap();
    let now = now_ms();
    s.queue_claim("key:alice", QueueState::Open, 1, 60_000, now)
        .await
        .unwrap();
    let mut esc = decision("e1", 1, DecisionAction::Escalate, "possible_minor");
    esc.note = "needs a lead".into();
    let d = s.decide(&esc, "key:alice", now).await.unwrap();
    assert_eq!(d.action, "escalate");
    assert_eq!(
        (d.revision, d.basis.as_str(), d.supersedes),
        (1, "claim", None)
    );
    assert_eq!(d.digest.len(), 64);
    let rec = s.get_ad("e1", now).await.unwrap().unwrap();
    assert_eq!(rec.decisions.len(), 1);
    assert_eq!(rec.decisions[0].note, "needs a lead");
    assert_eq!(rec.queue.unwrap().state, QueueState::Escalated);
    let esc = s.queue_list(QueueState::Escalated, 10, now).await.unwrap();
    assert_eq!(esc.len(), 1);
    let lead = s
        .queue_claim("key:lead", QueueState::Escalated, 5, 1000, now)
        .await
        .unwrap();
    assert_eq!(lead[0].ad_id, "e1");
    let second = s
        .decide(
            &decision("e1", 1, DecisionAction::Report, "minor_indicators"),
            "key:lead",
            now + 1,
        )
        .await
        .unwrap();
    assert_eq!(second.supersedes, Some(d.seq));
    let rec = s.get_ad("e1", now + 2).await.unwrap().unwrap();
    assert_eq!(rec.decisions.len(), 2);
    assert_eq!(rec.queue.unwrap().state, QueueState::Decided);
    assert_eq!(
        s.queue_list(QueueState::Open, 10, now).await.unwrap().len(),
        1
    );

    let audit = s.audit_list(0, 100).await.unwrap();
    let decisions: Vec<_> = audit.iter().filter(|e| e.action == "decision").collect();
    assert_eq!(decisions.len(), 2);
    assert_eq!(decisions[0].subject, "e1");
    assert_eq!(decisions[0].detail["action"], "escalate");
    assert_eq!(decisions[0].detail["revision"], 1);
    assert_eq!(decisions[0].detail["decision_seq"], d.seq);
    assert!(
        decisions[0].detail.get("note").is_none(),
        "notes are hashed, not copied"
    );
    assert_eq!(rec.decisions[1].audit_seq, decisions[1].seq);

    for (input, want) in [(("nope", "r"), "not found"), (("e2", ""), "reason")] {
        let e = s
            .decide(
                &decision(input.0, 1, DecisionAction::Allow, input.1),
                "key:a",
                now,
            )
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains(want), "{e}");
    }
    let r = s.audit_verify().await.unwrap();
    assert!(r.ok(), "{r:?}");
    assert_eq!(r.decisions, 2);
}

async fn decisions_need_a_live_claim_and_the_current_revision(f: &Fixture) {
    let s = &f.store;
    s.ingest(vec![item(
        ad("b1", "first text"),
        analysis("b1", Verdict::Review, 10, &[]),
    )])
    .await
    .unwrap();
    let t0 = now_ms();
    let allow = decision("b1", 1, DecisionAction::Allow, "not_commercial");
    // No claim: refused, and nothing is recorded.
    assert_eq!(
        refusal(s.decide(&allow, "key:rev", t0).await.unwrap_err()),
        "not_claimed"
    );
    s.queue_claim("key:rev", QueueState::Open, 1, 1000, t0)
        .await
        .unwrap();
    // An expired lease is no claim.
    assert_eq!(
        refusal(s.decide(&allow, "key:rev", t0 + 1001).await.unwrap_err()),
        "not_claimed"
    );
    s.queue_claim("key:rev", QueueState::Open, 1, 60_000, t0 + 1002)
        .await
        .unwrap();
    let mut stale = allow.clone();
    stale.revision = 2;
    assert_eq!(
        refusal(s.decide(&stale, "key:rev", t0 + 1003).await.unwrap_err()),
        "stale_revision"
    );
    let first = s.decide(&allow, "key:rev", t0 + 1004).await.unwrap();
    assert_eq!(first.revision, 1);
    // Decided: a second decision by the same reviewer needs a new claim, which it cannot get.
    assert_eq!(
        refusal(s.decide(&allow, "key:rev", t0 + 1005).await.unwrap_err()),
        "not_claimed"
    );

    // Re-posted with new content: review re-opens, the old decision stays with revision 1.
    let st = s
        .ingest(vec![item(
            ad("b1", "second text, changed"),
            analysis("b1", Verdict::Allow, 0, &[]),
        )])
        .await
        .unwrap();
    assert_eq!((st[0].status, st[0].revision), (IngestStatus::Updated, 2));
    let rec = s.get_ad("b1", t0 + 1006).await.unwrap().unwrap();
    assert_eq!(rec.revision, 2);
    let q = rec.queue.unwrap();
    assert_eq!((q.state, q.revision), (QueueState::Open, 2));
    assert_eq!(rec.decisions.len(), 1);
    assert_eq!(rec.decisions[0].revision, 1);
    // The decision for revision 1 no longer applies; the new one must name revision 2.
    s.queue_claim("key:rev", QueueState::Open, 1, 60_000, t0 + 1007)
        .await
        .unwrap();
    let remove = decision("b1", 1, DecisionAction::Remove, "commercial_sex");
    assert_eq!(
        refusal(s.decide(&remove, "key:rev", t0 + 1008).await.unwrap_err()),
        "stale_revision"
    );
    let second = s
        .decide(
            &DecisionInput {
                revision: 2,
                ..remove
            },
            "key:rev",
            t0 + 1009,
        )
        .await
        .unwrap();
    assert_eq!((second.revision, second.supersedes), (2, Some(first.seq)));
    assert_ne!(second.digest, first.digest);
    // A re-analysis of the same revision (policy change) does not re-open it.
    s.record_analyses(&[(
        ad("b1", "second text, changed"),
        analysis("b1", Verdict::Review, 5, &[]),
    )])
    .await
    .unwrap();
    let q = s
        .get_ad("b1", t0 + 1010)
        .await
        .unwrap()
        .unwrap()
        .queue
        .unwrap();
    assert_eq!(q.state, QueueState::Decided);
    assert!(s.audit_verify().await.unwrap().ok());
}

async fn concurrent_deciders_exactly_one_wins(f: &Fixture) {
    let s = &f.store;
    s.ingest(vec![item(
        ad("cd", "x"),
        analysis("cd", Verdict::Review, 10, &[]),
    )])
    .await
    .unwrap();
    let now = now_ms();
    // Sixteen reviewers race to claim and decide the same item, four requests each.
    let mut tasks = Vec::new();
    for r in 0..16 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let actor = format!("key:r{r}");
            s.queue_claim(&actor, QueueState::Open, 1, 600_000, now)
                .await
                .unwrap();
            let mut outcomes = Vec::new();
            for _ in 0..4 {
                let action = if r % 2 == 0 {
                    DecisionAction::Remove
                } else {
                    DecisionAction::Allow
                };
                outcomes.push(
                    s.decide(&decision("cd", 1, action, "x"), &actor, now + 1)
                        .await
                        .map_err(refusal),
                );
            }
            outcomes
        }));
    }
    let mut won = 0;
    for t in tasks {
        for o in t.await.unwrap() {
            match o {
                Ok(_) => won += 1,
                Err(code) => assert!(["claimed", "not_claimed"].contains(&code), "{code}"),
            }
        }
    }
    assert_eq!(won, 1, "exactly one decision wins");
    assert_eq!(s.decisions_of("cd").await.unwrap().len(), 1);
    assert!(s.audit_verify().await.unwrap().ok());
}

async fn overrides_name_the_decision_they_replace(f: &Fixture) {
    let s = &f.store;
    s.ingest(vec![item(
        ad("ov", "x"),
        analysis("ov", Verdict::Block, 90, &[]),
    )])
    .await
    .unwrap();
    let now = now_ms();
    s.queue_claim("key:rev", QueueState::Open, 1, 600_000, now)
        .await
        .unwrap();
    let first = s
        .decide(
            &decision("ov", 1, DecisionAction::Allow, "not_commercial"),
            "key:rev",
            now,
        )
        .await
        .unwrap();
    // Eight leads override at once, each having seen `first`: exactly one wins.
    let mut tasks = Vec::new();
    for l in 0..8 {
        let s = s.clone();
        let seen = first.seq;
        tasks.push(tokio::spawn(async move {
            let input = DecisionInput {
                basis: DecisionBasis::Override {
                    supersedes: Some(seen),
                },
                ..decision("ov", 1, DecisionAction::Remove, "minor_indicators")
            };
            s.decide(&input, &format!("key:lead{l}"), now + 1)
                .await
                .map_err(refusal)
        }));
    }
    let mut winners = Vec::new();
    for t in tasks {
        match t.await.unwrap() {
            Ok(d) => winners.push(d),
            Err(code) => assert_eq!(code, "decision_changed"),
        }
    }
    assert_eq!(winners.len(), 1);
    let d = &winners[0];
    assert_eq!(
        (d.basis.as_str(), d.supersedes),
        ("override", Some(first.seq))
    );
    // An override that has not seen the latest decision is refused.
    let blind = DecisionInput {
        basis: DecisionBasis::Override { supersedes: None },
        ..decision("ov", 1, DecisionAction::Allow, "not_commercial")
    };
    assert_eq!(
        refusal(s.decide(&blind, "key:lead9", now + 2).await.unwrap_err()),
        "decision_changed"
    );
    let audit = s.audit_list(0, 100).await.unwrap();
    let last = audit.iter().rev().find(|e| e.action == "decision").unwrap();
    assert_eq!(last.detail["basis"], "override");
    assert!(s.audit_verify().await.unwrap().ok());
}

async fn claims_and_releases_are_audited(f: &Fixture) {
    let s = &f.store;
    s.ingest(vec![
        item(ad("ca", "x"), analysis("ca", Verdict::Review, 10, &[])),
        item(ad("cb", "y"), analysis("cb", Verdict::Review, 20, &[])),
    ])
    .await
    .unwrap();
    let now = now_ms();
    s.queue_claim("key:r", QueueState::Open, 5, 60_000, now)
        .await
        .unwrap();
    s.queue_release("ca", "key:r", now + 1).await.unwrap();
    // Claiming nothing records nothing.
    s.queue_claim("key:q", QueueState::Escalated, 5, 60_000, now + 2)
        .await
        .unwrap();
    let audit = s.audit_list(0, 100).await.unwrap();
    let kinds: Vec<_> = audit.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(kinds, ["queue.claim", "queue.release"]);
    assert_eq!(audit[0].actor, "key:r");
    assert_eq!(audit[0].detail["ad_ids"], serde_json::json!(["ca", "cb"]));
    assert_eq!(audit[0].detail["lease_until"], now + 60_000);
    assert_eq!(
        (audit[1].subject.as_str(), audit[1].actor.as_str()),
        ("ca", "key:r")
    );
}

async fn queue_items_carry_what_triage_needs(f: &Fixture) {
    let s = &f.store;
    let mut a = ad(
        "tr",
        &format!("Line one\n\n  line two {}", "word ".repeat(100)),
    );
    a.title = Some("A title".into());
    a.posted_at = Some(1_700_000_000);
    a.location = Some(samaritan_engine::model::Location {
        city: Some("Springfield".into()),
        region: None,
        country: None,
    });
    let mut an = with_network(analysis("tr", Verdict::Review, 40, &[]), "net-1", 3);
    for (ind, cat, w) in [
        ("a", "commercial", 0.2),
        ("b", "minor", 0.6),
        ("c", "control", 0.4),
    ] {
        an.signals.push(samaritan_engine::model::Signal {
            indicator: ind.into(),
            category: cat.into(),
            weight: w,
            span: Some([0, 4]),
            text: "Line".into(),
            note: String::new(),
        });
    }
    s.ingest(vec![item(a, an)]).await.unwrap();
    let now = now_ms();
    let q = s
        .queue_list(QueueState::Open, 1, now)
        .await
        .unwrap()
        .remove(0);
    assert_eq!(q.title.as_deref(), Some("A title"));
    assert!(
        q.snippet.starts_with("Line one line two word"),
        "{}",
        q.snippet
    );
    assert!(q.snippet.ends_with('…') && q.snippet.chars().count() == 281);
    let top: Vec<_> = q
        .top_signals
        .iter()
        .map(|t| (t.indicator.as_str(), t.category.as_str()))
        .collect();
    assert_eq!(top, [("b", "minor"), ("c", "control"), ("a", "commercial")]);
    let n = q.network.as_ref().unwrap();
    assert_eq!((n.id.as_str(), n.size), ("net-1", 3));
    assert_eq!(q.city.as_deref(), Some("Springfield"));
    assert_eq!(q.posted_at.as_deref(), Some("2023-11-14T22:13:20Z"));
    assert_eq!((q.state, q.revision), (QueueState::Open, 1));
    assert!(q.enqueued_at.ends_with('Z') && q.enqueued_at.contains('T'));
    let claimed = s
        .queue_claim("key:r", QueueState::Open, 1, 60_000, now)
        .await
        .unwrap()
        .remove(0);
    assert_eq!(claimed.state, QueueState::Claimed);
    assert_eq!(claimed.claimed_by.as_deref(), Some("key:r"));
    assert!(
        claimed
            .lease_until
            .as_deref()
            .is_some_and(|t| t.ends_with('Z'))
    );
}

/// Two decided ads (three decisions) to tamper with.
async fn decided(f: &Fixture) {
    let s = &f.store;
    s.ingest(vec![
        item(ad("t1", "x"), analysis("t1", Verdict::Review, 10, &[])),
        item(ad("t2", "y"), analysis("t2", Verdict::Review, 20, &[])),
    ])
    .await
    .unwrap();
    let now = now_ms();
    s.queue_claim("key:r", QueueState::Open, 5, 60_000, now)
        .await
        .unwrap();
    s.decide(
        &decision("t1", 1, DecisionAction::Escalate, "needs_lead"),
        "key:r",
        now,
    )
    .await
    .unwrap();
    s.decide(
        &decision("t2", 1, DecisionAction::Allow, "not_commercial"),
        "key:r",
        now,
    )
    .await
    .unwrap();
    s.queue_claim("key:lead", QueueState::Escalated, 5, 60_000, now)
        .await
        .unwrap();
    s.decide(
        &decision("t1", 1, DecisionAction::Remove, "commercial_sex"),
        "key:lead",
        now,
    )
    .await
    .unwrap();
    let r = s.audit_verify().await.unwrap();
    assert!(r.ok(), "{r:?}");
    assert_eq!(r.decisions, 3);
}

fn kinds(r: &samaritan_store::AuditReport) -> Vec<&str> {
    r.problems.iter().map(|p| p.kind.as_str()).collect()
}

async fn audit_detects_edited_decisions(f: &Fixture) {
    decided(f).await;
    // A removal turned into an allow, directly in the database: the chain itself is intact.
    f.raw("UPDATE decisions SET action = 'allow' WHERE ad_id = 't1' AND action = 'remove'")
        .await;
    let r = f.store.audit_verify().await.unwrap();
    assert!(!r.ok);
    assert_eq!(kinds(&r), ["decision_altered"], "{r:?}");
    f.raw("UPDATE decisions SET action = 'remove' WHERE ad_id = 't1' AND action = 'allow'")
        .await;
    assert!(f.store.audit_verify().await.unwrap().ok);
    for (edit, undo) in [
        ("note = 'x'", "note = ''"),
        ("reason = 'spam'", "reason = 'not_commercial'"),
        ("actor = 'key:other'", "actor = 'key:r'"),
        ("revision = 7", "revision = 1"),
        ("created_at = created_at + 1", "created_at = created_at - 1"),
        ("ad_id = 't9'", "ad_id = 't2'"),
    ] {
        f.raw(&format!(
            "UPDATE decisions SET {edit} WHERE audit_seq = {}",
            t2_audit(f).await
        ))
        .await;
        let r = f.store.audit_verify().await.unwrap();
        assert_eq!(kinds(&r), ["decision_altered"], "{edit}: {r:?}");
        f.raw(&format!(
            "UPDATE decisions SET {undo} WHERE audit_seq = {}",
            t2_audit(f).await
        ))
        .await;
        assert!(f.store.audit_verify().await.unwrap().ok, "{undo}");
    }
}

/// The audit entry of the decision on `t2`.
async fn t2_audit(f: &Fixture) -> i64 {
    let audit = f.store.audit_list(0, 100).await.unwrap();
    audit
        .iter()
        .find(|e| e.action == "decision" && e.subject == "t2")
        .unwrap()
        .seq
}

async fn audit_detects_deleted_decisions(f: &Fixture) {
    decided(f).await;
    f.raw("DELETE FROM decisions WHERE ad_id = 't2'").await;
    let r = f.store.audit_verify().await.unwrap();
    assert_eq!(kinds(&r), ["decision_missing"], "{r:?}");
}

async fn audit_detects_inserted_decisions(f: &Fixture) {
    decided(f).await;
    // A forged decision pointing at a real decision's entry, and one at a non-decision entry.
    f.raw(
        "INSERT INTO decisions (ad_id, revision, digest, action, reason, note, actor, basis, \
         supersedes, created_at, audit_seq) SELECT ad_id, revision, digest, 'allow', reason, \
         note, actor, basis, supersedes, created_at, audit_seq FROM decisions WHERE ad_id = 't2'",
    )
    .await;
    let r = f.store.audit_verify().await.unwrap();
    assert_eq!(kinds(&r), ["decision_inserted"], "{r:?}");
    f.raw("UPDATE decisions SET audit_seq = 1 WHERE action = 'allow' AND seq = (SELECT MAX(seq) FROM decisions)")
        .await;
    let r = f.store.audit_verify().await.unwrap();
    assert!(kinds(&r).contains(&"decision_inserted"), "{r:?}");
}

async fn audit_detects_reordered_decisions(f: &Fixture) {
    decided(f).await;
    // Swap the first two decisions wholesale (every column but `seq`): each row still matches
    // an entry, but in the wrong order.
    let mut all = f.store.decisions_of("t1").await.unwrap();
    all.extend(f.store.decisions_of("t2").await.unwrap());
    all.sort_by_key(|d| d.seq);
    let (x, y) = (&all[0], &all[1]);
    let set = |d: &samaritan_store::Decision| {
        format!(
            "ad_id = '{}', revision = {}, digest = '{}', action = '{}', reason = '{}', \
             note = '{}', actor = '{}', basis = '{}', supersedes = {}, created_at = {}, \
             audit_seq = {}",
            d.ad_id,
            d.revision,
            d.digest,
            d.action,
            d.reason,
            d.note,
            d.actor,
            d.basis,
            d.supersedes.map_or("NULL".to_owned(), |s| s.to_string()),
            d.created_at,
            d.audit_seq
        )
    };
    f.raw(&format!(
        "UPDATE decisions SET {} WHERE seq = {}",
        set(y),
        x.seq
    ))
    .await;
    f.raw(&format!(
        "UPDATE decisions SET {} WHERE seq = {}",
        set(x),
        y.seq
    ))
    .await;
    let r = f.store.audit_verify().await.unwrap();
    assert!(!r.ok, "{r:?}");
    assert!(kinds(&r).contains(&"decision_reordered"), "{r:?}");
}

async fn search_finds_ads_sharing_identifiers(f: &Fixture) {
    let s = &f.store;
    let mut a = analysis("s1", Verdict::Review, 5, &["7755550123"]);
    a.extracted.emails = vec!["Someone@Example.org".into()];
    a.extracted.handles = vec!["instagram:some.name".into()];
    let mut ad1 = ad("s1", "x");
    let pdq1 = format!("{}{}", "f".repeat(62), "00");
    ad1.images = vec![samaritan_engine::model::ImageRef::Hashes {
        sha256: None,
        pdq: Some(pdq1.clone()),
    }];
    let mut ad2 = ad("s2", "y");
    let pdq2 = format!("{}{}", "f".repeat(62), "0f");
    ad2.images = vec![samaritan_engine::model::ImageRef::Hashes {
        sha256: None,
        pdq: Some(pdq2),
    }];
    s.ingest(vec![
        item(ad1, a),
        item(ad2, analysis("s2", Verdict::Block, 9, &["7755550123"])),
        item(
            ad("s3", "z"),
            analysis("s3", Verdict::Allow, 0, &["7755550199"]),
        ),
    ])
    .await
    .unwrap();
    let hits = s
        .search(IdentifierKind::Phone, "+1 (775) 555-0123", 10)
        .await
        .unwrap();
    assert_eq!(
        hits.iter().map(|h| h.ad_id.as_str()).collect::<Vec<_>>(),
        ["s2", "s1"]
    );
    assert_eq!(
        s.search(IdentifierKind::Email, "someone@example.ORG", 10)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        s.search(IdentifierKind::Handle, "instagram:some.name", 10)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        s.search(IdentifierKind::Account, "acct-2", 10)
            .await
            .unwrap()
            .len(),
        3
    );
    assert_eq!(
        s.search(IdentifierKind::Phone, "7755550123", 1)
            .await
            .unwrap()
            .len(),
        1
    );
    let near = s.search_pdq(&pdq1, 4, 10).await.unwrap();
    assert_eq!(
        near.iter()
            .map(|h| (h.ad_id.as_str(), h.distance))
            .collect::<Vec<_>>(),
        [("s1", Some(0)), ("s2", Some(4))]
    );
    assert_eq!(s.search_pdq(&pdq1, 3, 10).await.unwrap().len(), 1);
    assert!(matches!(
        s.search(IdentifierKind::Pdq, "xyz", 10).await,
        Err(StoreError::Invalid(_))
    ));
}

async fn networks_come_from_analyses_and_the_linker(f: &Fixture) {
    let s = &f.store;
    s.ingest(vec![
        item(
            ad("n1", "x"),
            with_network(analysis("n1", Verdict::Review, 5, &[]), "n-7", 2),
        ),
        item(
            ad("n2", "y"),
            with_network(analysis("n2", Verdict::Block, 9, &[]), "n-7", 2),
        ),
        item(ad("n3", "z"), analysis("n3", Verdict::Allow, 0, &[])),
    ])
    .await
    .unwrap();
    let n = s.network("n-7", 100).await.unwrap().unwrap();
    assert_eq!(n.size, 2);
    assert_eq!(
        n.members
            .iter()
            .map(|m| m.ad_id.as_str())
            .collect::<Vec<_>>(),
        ["n2", "n1"]
    );
    assert_eq!(n.reasons, ["phone"]);
    let detail = serde_json::json!({"phones": {"7755550100": ["Reno", "Boise"]}});
    s.save_network(
        "n-7",
        3,
        2,
        &["phone".into(), "template".into()],
        &detail,
        &["n1", "n2", "n3"],
    )
    .await
    .unwrap();
    let n = s.network("n-7", 100).await.unwrap().unwrap();
    assert_eq!(n.members.len(), 3);
    assert_eq!(n.detail, detail);
    assert_eq!(
        s.get_ad("n3", now_ms())
            .await
            .unwrap()
            .unwrap()
            .network_id
            .as_deref(),
        Some("n-7")
    );
    assert!(s.network("n-404", 10).await.unwrap().is_none());
}

async fn link_state_and_hash_banks_round_trip(f: &Fixture) {
    let s = &f.store;
    let blob: Vec<u8> = (0..=255).collect();
    s.put_link_state(&[
        ("band", "3:abc", &blob),
        ("band", "1:xyz", b"\x00\x01"),
        ("dsu", "a", b"b"),
    ])
    .await
    .unwrap();
    s.put_link_state(&[("band", "1:xyz", b"\x02")])
        .await
        .unwrap();
    assert_eq!(
        s.get_link_state("band", "3:abc").await.unwrap().unwrap(),
        blob
    );
    let page = s.scan_link_state("band", "", 10).await.unwrap();
    assert_eq!(
        page.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
        ["1:xyz", "3:abc"]
    );
    assert_eq!(page[0].1, b"\x02");
    assert_eq!(
        s.scan_link_state("band", "1:xyz", 10).await.unwrap().len(),
        1
    );
    assert_eq!(
        s.delete_link_state("band", &["1:xyz", "nope"])
            .await
            .unwrap(),
        1
    );
    assert!(s.get_link_state("band", "1:xyz").await.unwrap().is_none());

    let md5 = "0123456789abcdef0123456789ABCDEF";
    s.add_hash_bank_entries(&[
        ("partner", "md5", md5, "known"),
        ("own", "pdq", &"a".repeat(64), "seen"),
    ])
    .await
    .unwrap();
    let all = s.hash_bank_entries(None).await.unwrap();
    assert_eq!(all.len(), 2);
    let partner = s.hash_bank_entries(Some("partner")).await.unwrap();
    assert_eq!(partner[0].hash, md5.to_ascii_lowercase());
    assert!(
        s.remove_hash_bank_entry("partner", "md5", md5)
            .await
            .unwrap()
    );
    assert!(matches!(
        s.add_hash_bank_entries(&[("b", "md5", "xyz", "")]).await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        s.add_hash_bank_entries(&[("b", "crc", "00", "")]).await,
        Err(StoreError::Invalid(_))
    ));
}

async fn keys_are_hashed_scoped_and_revocable(f: &Fixture) {
    let s = &f.store;
    let k = s
        .create_key("ingest bot", &[Scope::Ingest, Scope::Review], "cli")
        .await
        .unwrap();
    assert!(k.secret.starts_with("sam_"));
    let found = s.authenticate(&k.secret).await.unwrap().unwrap();
    assert_eq!(found.id, k.record.id);
    assert!(found.has(Scope::Review) && !found.has(Scope::Admin));
    // A key with the right id but a wrong secret is refused.
    let mut forged = k.secret.clone();
    let last = forged.pop().unwrap();
    forged.push(if last == '0' { '1' } else { '0' });
    assert!(s.authenticate(&forged).await.unwrap().is_none());
    assert!(s.authenticate("garbage").await.unwrap().is_none());
    // The secret is nowhere in the database.
    let listed = s.list_keys().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert!(!format!("{listed:?}").contains(&k.secret[17..]));
    s.revoke_key(&k.record.id, "cli").await.unwrap();
    assert!(s.authenticate(&k.secret).await.unwrap().is_none());
    assert!(matches!(
        s.revoke_key(&k.record.id, "cli").await,
        Err(StoreError::NotFound(_))
    ));
    let actions: Vec<_> = s
        .audit_list(0, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(actions, ["key.create", "key.revoke"]);
}

async fn policy_versions_are_kept(f: &Fixture) {
    let s = &f.store;
    assert!(s.current_policy().await.unwrap().is_none());
    s.save_policy("default@1", "name = \"default\"\n", "key:admin")
        .await
        .unwrap();
    let v2 = s
        .save_policy("default@2", "name = \"default\"\n# v2\n", "key:admin")
        .await
        .unwrap();
    assert_eq!(v2.version, 2);
    let cur = s.current_policy().await.unwrap().unwrap();
    assert_eq!((cur.version, cur.label.as_str()), (2, "default@2"));
    assert_eq!(s.policy_history().await.unwrap().len(), 2);
    let audit = s.audit_list(0, 10).await.unwrap();
    assert_eq!(audit.len(), 2);
    assert_eq!(audit[1].action, "policy.update");
}

async fn audit_detects_keys_and_policies_written_directly(f: &Fixture) {
    let s = &f.store;
    let admin = s.create_key("admin", &[Scope::Admin], "cli").await.unwrap();
    let old = s.create_key("old", &[Scope::Review], "cli").await.unwrap();
    s.revoke_key(&old.record.id, "cli").await.unwrap();
    s.save_policy("default@1", "name = \"default\"\n", "key:admin")
        .await
        .unwrap();
    let r = s.audit_verify().await.unwrap();
    assert!(r.ok, "{r:?}");
    assert_eq!((r.keys, r.policies), (2, 1));
    let verify_kinds = || async { kinds(&s.audit_verify().await.unwrap()).join(",") };
    let (aid, oid) = (&admin.record.id, &old.record.id);
    // Each edit is undone before the next, and the chain itself stays intact throughout.
    for (edit, undo, kind) in [
        (
            format!("UPDATE api_keys SET scopes = 'admin,audit' WHERE id = '{aid}'"),
            format!("UPDATE api_keys SET scopes = 'admin' WHERE id = '{aid}'"),
            "key_altered",
        ),
        (
            format!(
                "UPDATE api_keys SET hash = '{}' WHERE id = '{aid}'",
                "0".repeat(64)
            ),
            format!(
                "UPDATE api_keys SET hash = '{}' WHERE id = '{aid}'",
                samaritan_store::sha256_hex(admin.secret.as_bytes())
            ),
            "key_altered",
        ),
        (
            format!("UPDATE api_keys SET revoked_at = NULL WHERE id = '{oid}'"),
            format!(
                "UPDATE api_keys SET revoked_at = (SELECT ts FROM audit_log WHERE action = \
                 'key.revoke') WHERE id = '{oid}'"
            ),
            "key_unrevoked",
        ),
        (
            "INSERT INTO api_keys (id, name, hash, scopes, created_at, revoked_at) \
             VALUES ('0123456789ab', 'x', 'h', 'admin', 1, NULL)"
                .to_owned(),
            "DELETE FROM api_keys WHERE id = '0123456789ab'".to_owned(),
            "key_inserted",
        ),
        (
            "UPDATE policies SET text = 'name = \"lax\"' WHERE version = 1".to_owned(),
            "UPDATE policies SET text = 'name = \"default\"
' WHERE version = 1"
                .to_owned(),
            "policy_altered",
        ),
        (
            "INSERT INTO policies (version, label, text, actor, created_at) \
             VALUES (2, 'lax@1', 'name = \"lax\"', 'key:admin', 1)"
                .to_owned(),
            "DELETE FROM policies WHERE version = 2".to_owned(),
            "policy_inserted",
        ),
    ] {
        f.raw(&edit).await;
        assert_eq!(verify_kinds().await, kind, "{edit}");
        f.raw(&undo).await;
        assert_eq!(verify_kinds().await, "", "{undo}");
    }
    f.raw(&format!("DELETE FROM api_keys WHERE id = '{oid}'"))
        .await;
    f.raw("DELETE FROM policies").await;
    assert_eq!(verify_kinds().await, "key_missing,policy_missing");
}

async fn everything_is_back_after_reopen(f: &Fixture) {
    let s = &f.store;
    s.ingest(vec![item(
        ad("r1", "x"),
        with_network(
            analysis("r1", Verdict::Review, 5, &["7755550111"]),
            "n-1",
            1,
        ),
    )])
    .await
    .unwrap();
    let now = now_ms();
    s.queue_claim("key:a", QueueState::Open, 1, 600_000, now)
        .await
        .unwrap();
    let key = s.create_key("k", &[Scope::Admin], "cli").await.unwrap();
    s.save_policy("p@1", "text", "cli").await.unwrap();
    s.put_link_state(&[("band", "k", b"v")]).await.unwrap();
    s.add_hash_bank_entries(&[("b", "sha256", &"c".repeat(64), "l")])
        .await
        .unwrap();
    s.audit_append("key:a", "ad.read", "r1", serde_json::json!({}))
        .await
        .unwrap();
    s.close().await;

    let s = f.reopen().await;
    let rec = s.get_ad("r1", now).await.unwrap().unwrap();
    assert_eq!(rec.queue.unwrap().claimed_by.as_deref(), Some("key:a"));
    assert_eq!(rec.network_id.as_deref(), Some("n-1"));
    assert_eq!(
        s.search(IdentifierKind::Phone, "7755550111", 5)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(s.authenticate(&key.secret).await.unwrap().is_some());
    assert_eq!(s.current_policy().await.unwrap().unwrap().text, "text");
    assert_eq!(s.get_link_state("band", "k").await.unwrap().unwrap(), b"v");
    assert_eq!(s.hash_bank_entries(None).await.unwrap().len(), 1);
    let report = s.audit_verify().await.unwrap();
    assert!(report.ok(), "{report:?}");
    assert_eq!(report.entries, 4, "key, policy, claim, read");
}

/// Three audit entries to tamper with.
async fn chain(f: &Fixture) {
    for i in 1..=4 {
        f.store
            .audit_append(
                "key:a",
                "ad.read",
                &format!("ad{i}"),
                serde_json::json!({"i": i}),
            )
            .await
            .unwrap();
    }
    let r = f.store.audit_verify().await.unwrap();
    assert!(r.ok(), "{r:?}");
    assert_eq!((r.entries, r.head_seq), (4, 4));
}

async fn audit_detects_altered_entries(f: &Fixture) {
    chain(f).await;
    f.raw("UPDATE audit_log SET subject = 'other' WHERE seq = 2")
        .await;
    let r = f.store.audit_verify().await.unwrap();
    assert_eq!(r.problems.len(), 1, "{r:?}");
    assert_eq!(
        (r.problems[0].seq, r.problems[0].kind.as_str()),
        (2, "altered")
    );
    f.raw("UPDATE audit_log SET subject = 'ad2', detail = '{\"i\":9}' WHERE seq = 2")
        .await;
    let r = f.store.audit_verify().await.unwrap();
    assert_eq!(
        (r.problems[0].seq, r.problems[0].kind.as_str()),
        (2, "altered")
    );
}

async fn audit_detects_deleted_entries(f: &Fixture) {
    chain(f).await;
    f.raw("DELETE FROM audit_log WHERE seq = 2").await;
    let r = f.store.audit_verify().await.unwrap();
    assert!(!r.ok());
    assert!(
        r.problems.iter().any(|p| p.seq == 3 && p.kind == "missing"),
        "{r:?}"
    );
    assert!(
        r.problems
            .iter()
            .any(|p| p.seq == 3 && p.kind == "broken_link"),
        "{r:?}"
    );
}

async fn audit_detects_inserted_entries(f: &Fixture) {
    chain(f).await;
    // Make room and insert a well-formed entry that claims to follow entry 2.
    let head = f.store.audit_list(1, 1).await.unwrap().remove(0);
    f.raw("UPDATE audit_log SET seq = seq + 100 WHERE seq >= 3")
        .await;
    f.raw("UPDATE audit_log SET seq = seq - 99 WHERE seq >= 103")
        .await;
    let forged = samaritan_store::AuditEntry::new(
        3,
        head.ts,
        "key:mallory",
        "decision",
        "ad9",
        serde_json::json!({}),
        head.hash.clone(),
    );
    f.raw(&format!(
        "INSERT INTO audit_log (seq, ts, actor, action, subject, detail, prev_hash, hash) \
         VALUES (3, {}, 'key:mallory', 'decision', 'ad9', '{{}}', '{}', '{}')",
        forged.ts, forged.prev_hash, forged.hash
    ))
    .await;
    let r = f.store.audit_verify().await.unwrap();
    assert!(!r.ok(), "{r:?}");
    // The forged entry itself chains; what follows it no longer does, and the decision it
    // claims has no row in the decisions table.
    assert!(
        r.problems
            .iter()
            .all(|p| p.seq >= 4 || (p.seq == 3 && p.kind == "decision_missing")),
        "{r:?}"
    );
    assert!(r.problems.iter().any(|p| p.seq == 4), "{r:?}");
}

async fn audit_detects_reordered_entries(f: &Fixture) {
    chain(f).await;
    f.raw("UPDATE audit_log SET seq = 100 WHERE seq = 2").await;
    f.raw("UPDATE audit_log SET seq = 2 WHERE seq = 3").await;
    f.raw("UPDATE audit_log SET seq = 3 WHERE seq = 100").await;
    let r = f.store.audit_verify().await.unwrap();
    assert!(!r.ok());
    assert!(r.problems.iter().any(|p| p.seq == 2), "{r:?}");
}

async fn reanalysis_replaces_latest_and_keeps_history(f: &Fixture) {
    let s = &f.store;
    let a = ad("ra", "x");
    s.ingest(vec![item(
        a.clone(),
        analysis("ra", Verdict::Allow, 0, &[]),
    )])
    .await
    .unwrap();
    s.record_analyses(&[(
        a.clone(),
        with_network(
            analysis("ra", Verdict::Review, 7, &["7755550177"]),
            "n-2",
            4,
        ),
    )])
    .await
    .unwrap();
    let rec = s.get_ad("ra", now_ms()).await.unwrap().unwrap();
    assert_eq!(rec.analysis.verdict, Verdict::Review);
    assert_eq!(rec.queue.unwrap().priority, 7);
    assert_eq!(rec.network_id.as_deref(), Some("n-2"));
    assert_eq!(s.analysis_history("ra").await.unwrap().len(), 2);
    let missing = ad("zz", "x");
    assert!(matches!(
        s.record_analyses(&[(missing, analysis("zz", Verdict::Allow, 0, &[]))])
            .await,
        Err(StoreError::NotFound(_))
    ));
}

async fn link_records_commit_with_their_ads_and_network_changes_apply(f: &Fixture) {
    use samaritan_store::{NetworkChanges, NetworkSave};
    let s = &f.store;
    let mut items = Vec::new();
    for (i, id) in ["l1", "l2", "l3"].iter().enumerate() {
        let mut it = item(ad(id, "x"), analysis(id, Verdict::Allow, 0, &[]));
        it.link_state = vec![(
            "link_input".to_owned(),
            format!("{i:020}"),
            id.as_bytes().to_vec(),
        )];
        items.push(it);
    }
    s.ingest(items).await.unwrap();
    let page = s.scan_link_state("link_input", "", 10).await.unwrap();
    assert_eq!(
        page.iter().map(|(_, v)| v.as_slice()).collect::<Vec<_>>(),
        [b"l1", b"l2", b"l3"],
        "records come back in key order"
    );

    let save = |id: &str, size: i64| NetworkSave {
        id: id.to_owned(),
        size,
        cities: 1,
        reasons: vec!["phone".to_owned()],
        detail: serde_json::json!({"evidence": [id]}),
    };
    s.apply_network_changes(&NetworkChanges {
        save: vec![save("n-a", 2), save("n-b", 1)],
        members: vec![
            ("l1".into(), Some("n-a".into())),
            ("l2".into(), Some("n-a".into())),
            ("l3".into(), Some("n-b".into())),
        ],
        removed: vec![],
    })
    .await
    .unwrap();
    assert_eq!(
        s.network("n-a", 10).await.unwrap().unwrap().members.len(),
        2
    );
    // n-b merges into n-a; l1 leaves every network.
    s.apply_network_changes(&NetworkChanges {
        save: vec![save("n-a", 2)],
        members: vec![("l1".into(), None), ("l3".into(), Some("n-a".into()))],
        removed: vec!["n-b".into()],
    })
    .await
    .unwrap();
    assert!(s.network("n-b", 10).await.unwrap().is_none());
    let n = s.network("n-a", 10).await.unwrap().unwrap();
    assert_eq!(n.detail, serde_json::json!({"evidence": ["n-a"]}));
    let mut ids: Vec<String> = n.members.into_iter().map(|m| m.ad_id).collect();
    ids.sort();
    assert_eq!(ids, ["l2", "l3"]);
    assert_eq!(
        s.network_memberships().await.unwrap(),
        [
            ("l2".to_owned(), "n-a".to_owned()),
            ("l3".to_owned(), "n-a".to_owned())
        ]
    );
    assert!(
        s.get_ad("l1", now_ms())
            .await
            .unwrap()
            .unwrap()
            .network_id
            .is_none()
    );
}

async fn queued_network_changes_commit_after_their_ads_in_queue_order(f: &Fixture) {
    use samaritan_store::{NetworkChanges, NetworkSave};
    let s = &f.store;
    let save = |size: i64, v: i64| NetworkSave {
        id: "n-q".to_owned(),
        size,
        cities: 1,
        reasons: vec!["phone".to_owned()],
        detail: serde_json::json!({ "v": v }),
    };
    // A: the ad's own analysis says "n-old"; the linker's later change in the same request says
    // "n-q", and it is written after the ad, so it wins.
    let a = s
        .queue_ingest(
            vec![item(
                ad("q1", "x"),
                with_network(analysis("q1", Verdict::Review, 5, &[]), "n-old", 1),
            )],
            NetworkChanges {
                save: vec![save(2, 1)],
                members: vec![("q1".into(), Some("n-q".into()))],
                removed: vec!["n-old".into()],
            },
        )
        .await
        .unwrap();
    // B, queued after A without waiting for it: a later state of the same network.
    let b = s
        .queue_ingest(
            vec![item(ad("q2", "y"), analysis("q2", Verdict::Review, 4, &[]))],
            NetworkChanges {
                save: vec![save(3, 2)],
                members: vec![
                    ("q1".into(), Some("n-q".into())),
                    ("q2".into(), Some("n-q".into())),
                ],
                removed: vec![],
            },
        )
        .await
        .unwrap();
    let (ra, rb) = tokio::join!(a.committed(), b.committed());
    assert_eq!(ra.unwrap()[0].status, IngestStatus::Created);
    assert_eq!(rb.unwrap()[0].status, IngestStatus::Created);
    let n = s.network("n-q", 10).await.unwrap().unwrap();
    assert_eq!((n.size, n.detail.clone()), (3, serde_json::json!({"v": 2})));
    let mut ids: Vec<String> = n.members.into_iter().map(|m| m.ad_id).collect();
    ids.sort();
    assert_eq!(ids, ["q1", "q2"]);
    assert!(s.network("n-old", 10).await.unwrap().is_none());
    // Changes alone (no ads) go through the same queue.
    s.queue_ingest(
        Vec::new(),
        NetworkChanges {
            save: vec![save(1, 3)],
            members: vec![("q1".into(), None)],
            removed: vec![],
        },
    )
    .await
    .unwrap()
    .committed()
    .await
    .unwrap();
    let q1 = s.get_ad("q1", now_ms()).await.unwrap().unwrap();
    assert_eq!(q1.network_id, None);
    // Nothing at all to write is answered at once.
    let none = s
        .queue_ingest(Vec::new(), NetworkChanges::default())
        .await
        .unwrap()
        .committed()
        .await
        .unwrap();
    assert!(none.is_empty());
}

const PW: &str = "correct horse battery";

async fn users_are_created_listed_disabled_and_reset(f: &Fixture) {
    let s = &f.store;
    let ana = s
        .create_user("ana", Role::Reviewer, PW, "cli")
        .await
        .unwrap();
    assert_eq!((ana.name.as_str(), ana.role), ("ana", Role::Reviewer));
    assert_eq!(ana.actor(), "user:ana");
    s.create_user("bo", Role::Admin, PW, "cli").await.unwrap();
    let listed = s.list_users().await.unwrap();
    assert_eq!(
        listed.iter().map(|u| u.name.as_str()).collect::<Vec<_>>(),
        ["ana", "bo"]
    );
    assert_eq!(listed[0], ana);
    let json = serde_json::to_string(&listed).unwrap();
    assert!(!json.contains("argon2") && !json.contains("hash"), "{json}");

    // Bad input is refused with a message that names the rule, never the password.
    let e = s
        .create_user("cy", Role::Lead, "short pw", "cli")
        .await
        .unwrap_err();
    assert!(
        matches!(e, StoreError::Invalid(_)) && e.to_string().contains("12"),
        "{e}"
    );
    assert!(!e.to_string().contains("short pw"));
    let long = "x".repeat(1025);
    assert!(s.create_user("cy", Role::Lead, &long, "cli").await.is_err());
    assert!(s.create_user("Cy", Role::Lead, PW, "cli").await.is_err());
    assert!(s.get_user("cy").await.unwrap().is_none());

    // A reset changes the password; the old one stops working.
    let now = now_ms();
    s.reset_password("ana", "a brand new password", "cli")
        .await
        .unwrap();
    assert!(s.verify_login("ana", PW, now).await.is_err());
    let u = s
        .verify_login("ana", "a brand new password", now)
        .await
        .unwrap();
    assert_eq!(u.role, Role::Reviewer);
    assert!(u.password_changed_at >= ana.password_changed_at);
    assert!(matches!(
        s.reset_password("nobody", PW, "cli").await,
        Err(StoreError::NotFound(_))
    ));

    // Disabled for good: the right password no longer verifies; disabling twice is NotFound.
    s.disable_user("ana", "cli").await.unwrap();
    assert!(
        s.get_user("ana")
            .await
            .unwrap()
            .unwrap()
            .disabled_at
            .is_some()
    );
    assert!(matches!(
        s.verify_login("ana", "a brand new password", now).await,
        Err(LoginError::Refused)
    ));
    assert!(matches!(
        s.disable_user("ana", "cli").await,
        Err(StoreError::NotFound(_))
    ));
    assert!(s.audit_verify().await.unwrap().ok);
}

async fn users_login_is_throttled_and_locks_out(f: &Fixture) {
    let s = &f.store;
    s.create_user("dee", Role::Lead, PW, "cli").await.unwrap();
    let t0 = now_ms();
    assert_eq!(s.verify_login("dee", PW, t0).await.unwrap().name, "dee");

    // Unknown name and wrong password: the same error, the same message.
    let unknown = s.verify_login("nobody", PW, t0).await.unwrap_err();
    let wrong = s
        .verify_login("dee", "wrong password!", t0)
        .await
        .unwrap_err();
    assert!(matches!(unknown, LoginError::Refused) && matches!(wrong, LoginError::Refused));
    assert_eq!(unknown.to_string(), wrong.to_string());
    assert_eq!(s.get_user("dee").await.unwrap().unwrap().failed_logins, 1);

    // A success resets the count.
    s.verify_login("dee", PW, t0).await.unwrap();
    assert_eq!(s.get_user("dee").await.unwrap().unwrap().failed_logins, 0);

    // Five failures in a row lock the account for 15 minutes, even for the right password.
    for _ in 0..5 {
        assert!(s.verify_login("dee", "wrong password!", t0).await.is_err());
    }
    let locked = s.get_user("dee").await.unwrap().unwrap();
    assert_eq!(locked.locked_until, Some(t0 + 15 * 60 * 1000));
    let during = t0 + 14 * 60 * 1000;
    let e = s.verify_login("dee", PW, during).await.unwrap_err();
    assert_eq!(
        e.to_string(),
        unknown.to_string(),
        "a lock looks like any refusal"
    );
    // Failures while locked are not counted and do not extend the lock.
    assert!(
        s.verify_login("dee", "wrong password!", during)
            .await
            .is_err()
    );
    assert_eq!(
        s.get_user("dee").await.unwrap().unwrap().locked_until,
        locked.locked_until
    );
    // After the lock, the right password works again and clears it.
    let after = t0 + 15 * 60 * 1000;
    let u = s.verify_login("dee", PW, after).await.unwrap();
    assert_eq!((u.failed_logins, u.locked_until), (0, None));
    assert_eq!(s.get_user("dee").await.unwrap().unwrap().locked_until, None);

    // Exactly one lockout entry; a reset clears a lock at once.
    for _ in 0..5 {
        assert!(
            s.verify_login("dee", "wrong password!", after)
                .await
                .is_err()
        );
    }
    s.reset_password("dee", "another good password", "user:admin")
        .await
        .unwrap();
    s.verify_login("dee", "another good password", after)
        .await
        .unwrap();
    let entries = s.audit_list(0, 100).await.unwrap();
    assert_eq!(
        entries
            .iter()
            .filter(|e| e.action == "user.lockout")
            .count(),
        2
    );
    assert!(s.audit_verify().await.unwrap().ok);
}

async fn users_changes_are_audited_without_secrets(f: &Fixture) {
    let s = &f.store;
    let eve = s
        .create_user("eve", Role::Auditor, PW, "key:admin")
        .await
        .unwrap();
    s.reset_password("eve", "the second password", "cli")
        .await
        .unwrap();
    let t = now_ms();
    for _ in 0..5 {
        assert!(s.verify_login("eve", "not the password", t).await.is_err());
    }
    s.disable_user("eve", "cli").await.unwrap();
    let entries = s.audit_list(0, 100).await.unwrap();
    let actions: Vec<_> = entries.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "user.create",
            "user.reset_password",
            "user.lockout",
            "user.disable"
        ]
    );
    assert!(entries.iter().all(|e| e.subject == eve.id));
    assert_eq!(entries[0].actor, "key:admin");
    assert_eq!(entries[0].detail["role"], "auditor");
    let stored_hash: Vec<String> = f.raw_strings("SELECT password_hash FROM users").await;
    for e in &entries {
        let d = e.detail.to_string();
        for secret in [PW, "the second password", "not the password", "argon2"] {
            assert!(!d.contains(secret), "{} holds a secret: {d}", e.action);
        }
        assert!(!d.contains(&stored_hash[0]));
    }
    let r = s.audit_verify().await.unwrap();
    assert!(r.ok, "{r:?}");
    assert_eq!(r.users, 1);
}

async fn users_audit_detects_rows_written_directly(f: &Fixture) {
    let s = &f.store;
    let fay = s
        .create_user("fay", Role::Reviewer, PW, "cli")
        .await
        .unwrap();
    s.create_user("gus", Role::Reviewer, PW, "cli")
        .await
        .unwrap();
    s.disable_user("gus", "cli").await.unwrap();
    let kinds = || async {
        let r = s.audit_verify().await.unwrap();
        r.problems
            .iter()
            .map(|p| p.kind.clone())
            .collect::<Vec<_>>()
            .join(",")
    };
    assert_eq!(kinds().await, "");
    let hash = f
        .raw_strings("SELECT password_hash FROM users WHERE name = 'fay'")
        .await
        .remove(0);
    let other = f
        .raw_strings("SELECT password_hash FROM users WHERE name = 'gus'")
        .await
        .remove(0);
    let id = &fay.id;
    for (edit, undo, kind) in [
        (
            format!("UPDATE users SET role = 'admin' WHERE id = '{id}'"),
            format!("UPDATE users SET role = 'reviewer' WHERE id = '{id}'"),
            "user_altered",
        ),
        (
            format!("UPDATE users SET password_hash = '{other}' WHERE id = '{id}'"),
            format!("UPDATE users SET password_hash = '{hash}' WHERE id = '{id}'"),
            "user_altered",
        ),
        (
            "UPDATE users SET disabled_at = NULL WHERE name = 'gus'".to_owned(),
            "UPDATE users SET disabled_at = (SELECT ts FROM audit_log WHERE action = \
             'user.disable') WHERE name = 'gus'"
                .to_owned(),
            "user_altered",
        ),
        (
            format!("UPDATE users SET disabled_at = 1 WHERE id = '{id}'"),
            format!("UPDATE users SET disabled_at = NULL WHERE id = '{id}'"),
            "user_altered",
        ),
        (
            format!(
                "INSERT INTO users (id, name, role, password_hash, created_at, disabled_at, \
                 password_changed_at, failed_logins, locked_until) \
                 VALUES ('0123456789ab', 'mallory', 'admin', '{hash}', 1, NULL, 1, 0, NULL)"
            ),
            "DELETE FROM users WHERE id = '0123456789ab'".to_owned(),
            "user_inserted",
        ),
        // Throttle state is not audited: changing it is not tampering.
        (
            format!("UPDATE users SET failed_logins = 3, locked_until = 5 WHERE id = '{id}'"),
            format!("UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = '{id}'"),
            "",
        ),
    ] {
        f.raw(&edit).await;
        assert_eq!(kinds().await, kind, "{edit}");
        f.raw(&undo).await;
        assert_eq!(kinds().await, "", "{undo}");
    }
    // The row inserted directly cannot sign in either way once audit flags it; and deletion
    // is caught.
    f.raw(&format!("DELETE FROM users WHERE id = '{id}'")).await;
    assert_eq!(kinds().await, "user_missing");
}

async fn users_concurrent_creation_exactly_one_wins(f: &Fixture) {
    let s = &f.store;
    let (a, b) = tokio::join!(
        s.create_user("hal", Role::Reviewer, PW, "cli"),
        s.create_user("hal", Role::Admin, "another password", "cli"),
    );
    let (won, lost) = match (a, b) {
        (Ok(u), Err(e)) | (Err(e), Ok(u)) => (u, e),
        (a, b) => panic!("exactly one must win: {a:?} {b:?}"),
    };
    match lost {
        StoreError::Conflict(m) => assert!(m.contains("`hal` already exists"), "{m}"),
        other => panic!("expected a conflict, got {other}"),
    }
    let users = s.list_users().await.unwrap();
    assert_eq!(users, vec![won]);
    let r = s.audit_verify().await.unwrap();
    assert!(r.ok, "{r:?}");
    assert_eq!(r.users, 1);
    let creates = s
        .audit_list(0, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "user.create")
        .count();
    assert_eq!(creates, 1, "the loser left no audit entry");
}

async fn sessions_open_expire_close_and_are_audited(f: &Fixture) {
    use samaritan_store::SessionLimits;
    let s = &f.store;
    let eve = s
        .create_user("eve", Role::Reviewer, PW, "cli")
        .await
        .unwrap();
    let t0 = now_ms() + 1000;
    let limits = SessionLimits {
        idle_ms: 60_000,
        absolute_ms: 300_000,
    };
    let new = s.open_session(&eve, "127.0.0.1", t0).await.unwrap();
    assert_eq!((new.token.len(), new.csrf.len()), (64, 64));
    assert_ne!(new.token, new.csrf);
    // Only the token's hash is stored.
    let stored = f.raw_strings("SELECT token_sha256 FROM sessions").await;
    assert_eq!(stored.len(), 1);
    assert_ne!(stored[0], new.token);

    let live = s
        .session(&new.token, t0 + 1, limits)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (live.user.name.as_str(), live.csrf.as_str()),
        ("eve", new.csrf.as_str())
    );
    assert_eq!(live.id, stored[0][..12]);
    // Unknown, malformed and other people's tokens find nothing.
    assert!(
        s.session(&"0".repeat(64), t0, limits)
            .await
            .unwrap()
            .is_none()
    );
    assert!(s.session("not hex", t0, limits).await.unwrap().is_none());
    assert!(s.session(&new.csrf, t0, limits).await.unwrap().is_none());

    // Idle: each request moves `seen_at` on (after 30 s); a minute without one ends it.
    assert!(
        s.session(&new.token, t0 + 50_000, limits)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        s.session(&new.token, t0 + 100_000, limits)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        s.session(&new.token, t0 + 170_000, limits)
            .await
            .unwrap()
            .is_none()
    );
    // Absolute: kept busy, it still ends.
    let busy = s.open_session(&eve, "127.0.0.1", t0).await.unwrap();
    let mut t = t0;
    while t < t0 + 300_000 {
        t += 40_000;
        let alive = s.session(&busy.token, t, limits).await.unwrap().is_some();
        assert_eq!(alive, t - t0 <= 300_000, "at +{}", t - t0);
    }

    // Sign-out ends it at once; a second sign-out is not an error.
    let other = s.open_session(&eve, "10.0.0.9", t0).await.unwrap();
    s.close_session(&other.token, t0 + 2).await.unwrap();
    assert!(
        s.session(&other.token, t0 + 3, limits)
            .await
            .unwrap()
            .is_none()
    );
    s.close_session(&other.token, t0 + 4).await.unwrap();

    // A password reset or a disabled account ends every session of the person.
    let before_reset = now_ms() - 10;
    let a = s
        .open_session(&eve, "127.0.0.1", before_reset)
        .await
        .unwrap();
    assert!(
        s.session(&a.token, before_reset + 1, limits)
            .await
            .unwrap()
            .is_some()
    );
    s.reset_password("eve", "another long password", "cli")
        .await
        .unwrap();
    let after_reset = now_ms() + 1;
    assert!(
        s.session(&a.token, after_reset, limits)
            .await
            .unwrap()
            .is_none()
    );
    let b = s
        .open_session(&eve, "127.0.0.1", after_reset)
        .await
        .unwrap();
    assert!(
        s.session(&b.token, after_reset + 1, limits)
            .await
            .unwrap()
            .is_some()
    );
    s.disable_user("eve", "cli").await.unwrap();
    assert!(
        s.session(&b.token, after_reset + 2, limits)
            .await
            .unwrap()
            .is_none()
    );

    let log = s.audit_list(0, 1000).await.unwrap();
    let opened = log.iter().filter(|e| e.action == "session.open").count();
    let closed: Vec<_> = log.iter().filter(|e| e.action == "session.close").collect();
    assert_eq!((opened, closed.len()), (5, 1));
    assert_eq!(closed[0].actor, "user:eve");
    let text = serde_json::to_string(&log).unwrap();
    for secret in [&new.token, &new.csrf, &busy.token, &a.token, &b.token] {
        assert!(
            !text.contains(secret.as_str()),
            "a token is in the audit log"
        );
    }
    assert!(s.audit_verify().await.unwrap().ok);
}

async fn named_ads_are_claimed_only_when_free(f: &Fixture) {
    let s = &f.store;
    s.ingest(vec![
        item(ad("n1", "a"), analysis("n1", Verdict::Review, 10, &[])),
        item(ad("n2", "b"), analysis("n2", Verdict::Block, 90, &[])),
        item(ad("n3", "c"), analysis("n3", Verdict::Allow, 0, &[])),
    ])
    .await
    .unwrap();
    let t0 = now_ms();
    let got = s
        .queue_claim_ads("user:ana", QueueState::Open, &["n2", "n1"], 60_000, t0)
        .await
        .unwrap();
    assert_eq!(got, ["n1", "n2"]);
    // Held by someone else, never queued, unknown: left alone.
    let got = s
        .queue_claim_ads(
            "user:bo",
            QueueState::Open,
            &["n1", "n3", "zz"],
            60_000,
            t0 + 1,
        )
        .await
        .unwrap();
    assert!(got.is_empty(), "{got:?}");
    // The holder renews; after the lease, another may claim.
    let got = s
        .queue_claim_ads("user:ana", QueueState::Open, &["n1"], 60_000, t0 + 2)
        .await
        .unwrap();
    assert_eq!(got, ["n1"]);
    let got = s
        .queue_claim_ads("user:bo", QueueState::Open, &["n1"], 60_000, t0 + 70_000)
        .await
        .unwrap();
    assert_eq!(got, ["n1"]);
    // A decided item is not claimable.
    s.decide(
        &decision("n2", 1, DecisionAction::Remove, "trafficking_indicators"),
        "user:ana",
        t0 + 3,
    )
    .await
    .unwrap();
    let got = s
        .queue_claim_ads("user:bo", QueueState::Open, &["n2"], 60_000, t0 + 80_000)
        .await
        .unwrap();
    assert!(got.is_empty());
    let claims: Vec<_> = s
        .audit_list(0, 1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "queue.claim")
        .collect();
    assert_eq!(
        claims.len(),
        3,
        "only claims that took something are audited"
    );
    assert!(s.audit_verify().await.unwrap().ok);
}

async fn a_network_case_has_every_member_with_its_state(f: &Fixture) {
    let s = &f.store;
    let mut a1 = analysis("m1", Verdict::Block, 90, &["7755550101"]);
    let mut a2 = analysis("m2", Verdict::Review, 10, &["7755550101"]);
    let net = samaritan_engine::model::NetworkRef {
        id: "net-case".into(),
        size: 2,
        cities: 1,
        reasons: vec!["phone".into()],
    };
    a1.network = Some(net.clone());
    a2.network = Some(net);
    s.ingest(vec![
        item(ad("m1", "a 7755550101"), a1),
        item(ad("m2", "b 7755550101"), a2),
    ])
    .await
    .unwrap();
    let t0 = now_ms();
    s.queue_claim_ads("user:ana", QueueState::Open, &["m1"], 60_000, t0)
        .await
        .unwrap();
    s.decide(
        &decision("m1", 1, DecisionAction::Remove, "trafficking_indicators"),
        "user:ana",
        t0 + 1,
    )
    .await
    .unwrap();
    s.queue_claim_ads("user:bo", QueueState::Open, &["m2"], 60_000, t0 + 2)
        .await
        .unwrap();
    let case = s.network_case("net-case", 10, t0 + 3).await.unwrap();
    assert_eq!(case.len(), 2);
    let m1 = case.iter().find(|m| m.ad_id == "m1").unwrap();
    let m2 = case.iter().find(|m| m.ad_id == "m2").unwrap();
    assert_eq!(m1.queue.as_deref(), Some("decided"));
    assert_eq!(m1.decision.as_ref().unwrap().actor, "user:ana");
    assert_eq!(
        (m2.queue.as_deref(), m2.claimed_by.as_deref()),
        (Some("claimed"), Some("user:bo"))
    );
    assert!(m2.decision.is_none());
    assert_eq!(m2.analysis.extracted.phones, ["7755550101"]);
    assert!(s.network_case("no-such", 10, t0).await.unwrap().is_empty());
}

async fn view_settings_and_exposure_are_kept_per_person(f: &Fixture) {
    use samaritan_store::ViewSettings;
    let s = &f.store;
    let ana = s
        .create_user("ana", Role::Reviewer, PW, "cli")
        .await
        .unwrap();
    let bo = s
        .create_user("bo", Role::Reviewer, PW, "cli")
        .await
        .unwrap();
    assert_eq!(
        s.view_settings(&ana.id).await.unwrap(),
        ViewSettings::default()
    );
    let mine = ViewSettings {
        blur: 3,
        greyscale: false,
        break_items: 20,
        break_images: 5,
        mask_explicit: true,
    };
    s.set_view_settings(&ana, mine, now_ms()).await.unwrap();
    assert_eq!(s.view_settings(&ana.id).await.unwrap(), mine);
    assert_eq!(
        s.view_settings(&bo.id).await.unwrap(),
        ViewSettings::default()
    );
    let bad = ViewSettings { blur: 9, ..mine };
    assert!(matches!(
        s.set_view_settings(&ana, bad, now_ms()).await,
        Err(StoreError::Invalid(_))
    ));
    let log = s.audit_list(0, 100).await.unwrap();
    let e = log.iter().find(|e| e.action == "user.settings").unwrap();
    assert_eq!(
        (e.actor.as_str(), e.detail["blur"].as_i64()),
        ("user:ana", Some(3))
    );

    let t0 = now_ms();
    let a1 = s.open_session(&ana, "127.0.0.1", t0).await.unwrap();
    let a2 = s.open_session(&ana, "127.0.0.1", t0).await.unwrap();
    let b1 = s.open_session(&bo, "127.0.0.1", t0).await.unwrap();
    s.add_exposure(&a1.token, 3, 1).await.unwrap();
    s.add_exposure(&a2.token, 2, 0).await.unwrap();
    s.add_exposure(&b1.token, 1, 0).await.unwrap();
    let live = s
        .session(&a1.token, t0 + 1, samaritan_store::SessionLimits::default())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((live.items_seen, live.images_revealed), (3, 1));
    let ex = s.exposure_since(t0 - 1).await.unwrap();
    assert_eq!(ex.len(), 2);
    assert_eq!(
        (
            ex[0].name.as_str(),
            ex[0].sessions,
            ex[0].items_seen,
            ex[0].images_revealed
        ),
        ("ana", 2, 5, 1)
    );
    assert_eq!((ex[1].name.as_str(), ex[1].items_seen), ("bo", 1));
    assert!(s.exposure_since(t0 + 10).await.unwrap().is_empty());
    assert!(s.audit_verify().await.unwrap().ok);
}

async fn the_dashboard_counts_depth_decisions_and_reports(f: &Fixture) {
    let s = &f.store;
    s.ingest(vec![
        item(ad("d1", "a"), analysis("d1", Verdict::Block, 100, &[])),
        item(ad("d2", "b"), analysis("d2", Verdict::Block, 95, &[])),
        item(ad("d3", "c"), analysis("d3", Verdict::Review, 75, &[])),
        item(ad("d4", "d"), analysis("d4", Verdict::Review, 10, &[])),
    ])
    .await
    .unwrap();
    let t0 = now_ms();
    let empty = s.dashboard(t0, 3600).await.unwrap();
    let open: Vec<i64> = empty.depth.iter().map(|b| b.open).collect();
    assert_eq!(open, [2, 1, 0, 1], "urgent, high, medium, low");
    assert_eq!(
        (empty.first_decisions, empty.first_decision_p50_secs),
        (0, None)
    );

    s.queue_claim_ads(
        "user:ana",
        QueueState::Open,
        &["d1", "d2", "d3"],
        600_000,
        t0,
    )
    .await
    .unwrap();
    s.decide(
        &decision("d1", 1, DecisionAction::Report, "child_sex_trafficking"),
        "user:ana",
        t0 + 1,
    )
    .await
    .unwrap();
    s.decide(
        &decision("d3", 1, DecisionAction::Escalate, "unsure"),
        "user:ana",
        t0 + 2,
    )
    .await
    .unwrap();
    let d = s.dashboard(t0 + 10, 3600).await.unwrap();
    assert_eq!((d.depth[0].open, d.depth[0].claimed), (0, 1), "d2 held");
    assert_eq!(d.depth[1].escalated, 1, "d3 escalated");
    assert_eq!(d.report_decisions, 1);
    assert_eq!(d.first_decisions, 2);
    assert!(d.first_decision_p50_secs.unwrap() >= 0.0);
    let counts: Vec<(&str, &str, i64)> = d
        .decisions
        .iter()
        .map(|c| (c.action.as_str(), c.reason.as_str(), c.count))
        .collect();
    assert_eq!(
        counts,
        [
            ("escalate", "unsure", 1),
            ("report", "child_sex_trafficking", 1)
        ]
    );
    // Outside the window, no first decisions are counted; the totals stay.
    let later = s.dashboard(t0 + 7_200_000, 3600).await.unwrap();
    assert_eq!((later.first_decisions, later.decisions.len()), (0, 2));
}

async fn a_lead_takes_a_claim_back(f: &Fixture) {
    let s = &f.store;
    s.ingest(vec![item(
        ad("t1", "a"),
        analysis("t1", Verdict::Review, 10, &[]),
    )])
    .await
    .unwrap();
    let t0 = now_ms();
    s.queue_claim_ads("user:ana", QueueState::Open, &["t1"], 60_000, t0)
        .await
        .unwrap();
    assert_eq!(
        s.queue_take_back("t1", "user:lead", t0 + 1).await.unwrap(),
        "user:ana"
    );
    let e = s
        .decide(
            &decision("t1", 1, DecisionAction::Remove, "spam"),
            "user:ana",
            t0 + 2,
        )
        .await
        .unwrap_err();
    assert_eq!(refusal(e), "not_claimed");
    let e = s
        .queue_take_back("t1", "user:lead", t0 + 3)
        .await
        .unwrap_err();
    assert_eq!(refusal(e), "not_claimed");
    // Open to anyone again.
    let got = s
        .queue_claim_ads("user:bo", QueueState::Open, &["t1"], 60_000, t0 + 4)
        .await
        .unwrap();
    assert_eq!(got, ["t1"]);
    let log = s.audit_list(0, 100).await.unwrap();
    assert_eq!(
        log.iter().filter(|e| e.action == "queue.reassign").count(),
        1
    );
    assert!(s.audit_verify().await.unwrap().ok);
}

/// Ingests `id`, claims it as `who` and decides it with `action` (returns the decision).
async fn decided_by(
    f: &Fixture,
    id: &str,
    who: &str,
    action: DecisionAction,
    now: i64,
) -> samaritan_store::Decision {
    let s = &f.store;
    s.ingest(vec![item(
        ad(id, "x"),
        analysis(id, Verdict::Review, 10, &[]),
    )])
    .await
    .unwrap();
    assert_eq!(
        s.queue_claim_ads(who, QueueState::Open, &[id], 60_000, now)
            .await
            .unwrap(),
        [id]
    );
    s.decide(&decision(id, 1, action, "spam"), who, now)
        .await
        .unwrap()
}

fn answer(id: &str, revision: i64, action: DecisionAction) -> QaAnswer {
    QaAnswer {
        ad_id: id.into(),
        revision,
        action,
        reason: "spam".into(),
        note: "looked twice".into(),
    }
}

async fn qa_golden_items_are_served_blind_and_scored(f: &Fixture) {
    let s = &f.store;
    let t0 = now_ms();
    decided_by(f, "g1", "user:ana", DecisionAction::Remove, t0).await;
    s.ingest(vec![item(
        ad("g2", "y"),
        analysis("g2", Verdict::Review, 10, &[]),
    )])
    .await
    .unwrap();
    // Only decided ads can be golden.
    let e = s
        .golden_add("g2", DecisionAction::Remove, "spam", "", "user:lead", t0)
        .await
        .unwrap_err();
    assert_eq!(refusal(e), "not_decided");
    assert!(matches!(
        s.golden_add("nope", DecisionAction::Remove, "spam", "", "user:lead", t0)
            .await
            .unwrap_err(),
        StoreError::NotFound(_)
    ));
    let g = s
        .golden_add(
            "g1",
            DecisionAction::Remove,
            "spam",
            "clear case",
            "user:lead",
            t0,
        )
        .await
        .unwrap();
    assert_eq!((g.revision, g.expected_action.as_str()), (1, "remove"));
    assert_eq!(s.golden_list(10).await.unwrap(), std::slice::from_ref(&g));
    // Not to the lead who set it, nor to the reviewer who decided it.
    assert!(
        s.qa_assign_golden("user:lead", 60_000, t0)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        s.qa_assign_golden("user:ana", 60_000, t0)
            .await
            .unwrap()
            .is_none()
    );
    let task = s
        .qa_assign_golden("user:bo", 60_000, t0)
        .await
        .unwrap()
        .expect("a golden item for bo");
    assert_eq!((task.kind.as_str(), task.ad_id.as_str()), ("golden", "g1"));
    assert_eq!(
        s.qa_open_of("user:bo", t0 + 1).await.unwrap(),
        std::slice::from_ref(&task)
    );
    // Once given, not again.
    assert!(
        s.qa_assign_golden("user:bo", 60_000, t0 + 1)
            .await
            .unwrap()
            .is_none()
    );
    assert!(s.qa_renew("user:bo", "g1", 120_000, t0 + 2).await.unwrap());
    assert!(!s.qa_renew("user:cy", "g1", 120_000, t0 + 2).await.unwrap());
    // Someone without the task cannot answer; a wrong revision is refused.
    let e = s
        .qa_answer("user:cy", &answer("g1", 1, DecisionAction::Allow), t0 + 3)
        .await
        .unwrap_err();
    assert_eq!(refusal(e), "not_claimed");
    let e = s
        .qa_answer("user:bo", &answer("g1", 2, DecisionAction::Allow), t0 + 3)
        .await
        .unwrap_err();
    assert_eq!(refusal(e), "stale_revision");
    let done = s
        .qa_answer("user:bo", &answer("g1", 1, DecisionAction::Allow), t0 + 4)
        .await
        .unwrap();
    assert_eq!(done.agreed, Some(false));
    assert_eq!(done.answer_action.as_deref(), Some("allow"));
    // Answered once.
    let e = s
        .qa_answer("user:bo", &answer("g1", 1, DecisionAction::Remove), t0 + 5)
        .await
        .unwrap_err();
    assert_eq!(refusal(e), "not_claimed");
    // The answer is no decision: the ad's record is unchanged.
    let rec = s.get_ad("g1", t0 + 5).await.unwrap().unwrap();
    assert_eq!(rec.decisions.len(), 1);
    assert_eq!(rec.queue.unwrap().state, QueueState::Decided);
    let a = s.qa_agreement().await.unwrap();
    let bo = a.iter().find(|a| a.person == "user:bo").unwrap();
    assert_eq!((bo.golden_answered, bo.golden_agreed), (1, 0));
    // A golden item is no longer served once the ad changed, nor once removed from the set.
    let cy = s.qa_assign_golden("user:cy", 60_000, t0 + 6).await.unwrap();
    assert!(cy.is_some());
    s.ingest(vec![item(
        ad("g1", "changed"),
        analysis("g1", Verdict::Review, 10, &[]),
    )])
    .await
    .unwrap();
    let e = s
        .qa_answer("user:cy", &answer("g1", 1, DecisionAction::Remove), t0 + 7)
        .await
        .unwrap_err();
    assert_eq!(refusal(e), "stale_revision");
    assert!(
        s.qa_assign_golden("user:dee", 60_000, t0 + 8)
            .await
            .unwrap()
            .is_none()
    );
    s.golden_remove("g1", "user:lead", t0 + 9).await.unwrap();
    assert!(s.golden_list(10).await.unwrap().is_empty());
    assert!(matches!(
        s.golden_remove("g1", "user:lead", t0 + 9)
            .await
            .unwrap_err(),
        StoreError::NotFound(_)
    ));
    let log = s.audit_list(0, 1000).await.unwrap();
    let count = |a: &str| log.iter().filter(|e| e.action == a).count();
    assert_eq!(
        (
            count("qa.golden_add"),
            count("qa.assign"),
            count("qa.answer"),
            count("qa.golden_remove")
        ),
        (1, 2, 1, 1)
    );
    let ans = log.iter().find(|e| e.action == "qa.answer").unwrap();
    assert_eq!(ans.actor, "user:bo");
    assert_eq!(ans.detail["expected"], "remove");
    assert_eq!(ans.detail["agreed"], false);
    assert!(
        ans.detail.get("note").is_none(),
        "notes are hashed, not copied"
    );
    assert!(s.audit_verify().await.unwrap().ok);
}

async fn qa_second_reviews_go_to_someone_else_and_disagreements_to_a_lead(f: &Fixture) {
    let s = &f.store;
    let t0 = now_ms();
    let d1 = decided_by(f, "s1", "user:ana", DecisionAction::Remove, t0).await;
    let d2 = decided_by(f, "s2", "user:ana", DecisionAction::Allow, t0 + 1).await;
    let esc = decided_by(f, "s3", "user:ana", DecisionAction::Escalate, t0 + 2).await;
    assert!(s.qa_sample_second(&esc, t0 + 3).await.is_err());
    s.qa_sample_second(&d1, t0 + 3).await.unwrap();
    s.qa_sample_second(&d2, t0 + 4).await.unwrap();
    // Never to the reviewer who decided.
    assert!(
        s.qa_claim_second("user:ana", 60_000, t0 + 5)
            .await
            .unwrap()
            .is_none()
    );
    let first = s
        .qa_claim_second("user:bo", 60_000, t0 + 5)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (first.ad_id.as_str(), first.expected_action.as_str()),
        ("s1", "remove")
    );
    assert_eq!(first.decision_seq, Some(d1.seq));
    let second = s
        .qa_claim_second("user:cy", 60_000, t0 + 6)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(second.ad_id, "s2");
    assert!(
        s.qa_claim_second("user:dee", 60_000, t0 + 7)
            .await
            .unwrap()
            .is_none()
    );
    // bo agrees; cy's lease runs out and the task waits for someone else.
    let ok = s
        .qa_answer("user:bo", &answer("s1", 1, DecisionAction::Remove), t0 + 8)
        .await
        .unwrap();
    assert_eq!(ok.agreed, Some(true));
    let later = t0 + 60_000 + 10;
    let again = s
        .qa_claim_second("user:dee", 60_000, later)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.id, second.id);
    let e = s
        .qa_answer(
            "user:cy",
            &answer("s2", 1, DecisionAction::Remove),
            later + 1,
        )
        .await
        .unwrap_err();
    assert_eq!(refusal(e), "not_claimed");
    let no = s
        .qa_answer(
            "user:dee",
            &answer("s2", 1, DecisionAction::Remove),
            later + 2,
        )
        .await
        .unwrap();
    assert_eq!(no.agreed, Some(false));
    let waiting = s.qa_disagreements(10).await.unwrap();
    assert_eq!(waiting.len(), 1);
    assert_eq!(
        (waiting[0].ad_id.as_str(), waiting[0].first_actor.as_str()),
        ("s2", "user:ana")
    );
    assert!(
        s.qa_resolve(waiting[0].id, "user:lead", " ", later + 3)
            .await
            .is_err()
    );
    let r = s
        .qa_resolve(waiting[0].id, "user:lead", "decision overridden", later + 3)
        .await
        .unwrap();
    assert_eq!(r.resolved_by.as_deref(), Some("user:lead"));
    let e = s
        .qa_resolve(waiting[0].id, "user:lead", "again", later + 4)
        .await
        .unwrap_err();
    assert_eq!(refusal(e), "resolved");
    assert!(s.qa_disagreements(10).await.unwrap().is_empty());
    let a = s.qa_agreement().await.unwrap();
    let get = |p: &str| a.iter().find(|a| a.person == p).unwrap().clone();
    assert_eq!(
        (
            get("user:ana").decisions_checked,
            get("user:ana").decisions_confirmed
        ),
        (2, 1)
    );
    assert_eq!(
        (
            get("user:bo").second_given,
            get("user:bo").second_given_agreed
        ),
        (1, 1)
    );
    assert_eq!(
        (
            get("user:dee").second_given,
            get("user:dee").second_given_agreed
        ),
        (1, 0)
    );
    assert!(a.iter().all(|a| a.person != "user:cy"));
    // The decisions themselves are untouched.
    assert_eq!(s.decisions_of("s2").await.unwrap().len(), 1);
    let log = s.audit_list(0, 1000).await.unwrap();
    let count = |a: &str| log.iter().filter(|e| e.action == a).count();
    assert_eq!(
        (
            count("qa.sample"),
            count("qa.assign"),
            count("qa.answer"),
            count("qa.resolve")
        ),
        (2, 3, 2, 1)
    );
    assert!(s.audit_verify().await.unwrap().ok);
}

async fn qa_concurrent_assignment_exactly_one_wins(f: &Fixture) {
    let s = &f.store;
    let t0 = now_ms();
    let d = decided_by(f, "c1", "user:ana", DecisionAction::Remove, t0).await;
    s.qa_sample_second(&d, t0).await.unwrap();
    let mut joins = Vec::new();
    for i in 0..8 {
        let s = s.clone();
        joins.push(tokio::spawn(async move {
            s.qa_claim_second(&format!("user:r{i}"), 60_000, t0 + 1)
                .await
                .unwrap()
        }));
    }
    let mut got = Vec::new();
    for j in joins {
        if let Some(t) = j.await.unwrap() {
            got.push(t);
        }
    }
    assert_eq!(got.len(), 1, "one task, one assignee: {got:?}");
    let who = got[0].assigned_to.clone().unwrap();
    // Two answers at once from the holder: exactly one lands.
    let mut joins = Vec::new();
    for action in [DecisionAction::Remove, DecisionAction::Allow] {
        let s = s.clone();
        let who = who.clone();
        joins.push(tokio::spawn(async move {
            s.qa_answer(&who, &answer("c1", 1, action), t0 + 2).await
        }));
    }
    let mut ok = 0;
    for j in joins {
        match j.await.unwrap() {
            Ok(_) => ok += 1,
            Err(e) => assert_eq!(refusal(e), "not_claimed"),
        }
    }
    assert_eq!(ok, 1);
    assert!(s.audit_verify().await.unwrap().ok);
}

async fn reports_open_once_per_decision_follow_up_and_need_a_second_lead(f: &Fixture) {
    use samaritan_store::ReportOpen;
    let s = &f.store;
    let t0 = now_ms();
    s.ingest(vec![
        item(
            ad("r1", "x"),
            analysis("r1", Verdict::Block, 90, &["7025550101"]),
        ),
        item(
            ad("r2", "y"),
            analysis("r2", Verdict::Block, 90, &["7025550101"]),
        ),
        item(
            ad("r3", "z"),
            analysis("r3", Verdict::Block, 90, &["7025550199"]),
        ),
    ])
    .await
    .unwrap();
    let mut decisions = Vec::new();
    for id in ["r1", "r2", "r3"] {
        s.queue_claim_ads("user:ana", QueueState::Open, &[id], 60_000, t0)
            .await
            .unwrap();
        decisions.push(
            s.decide(
                &decision(id, 1, DecisionAction::Report, "child_sex_trafficking"),
                "user:ana",
                t0,
            )
            .await
            .unwrap(),
        );
    }
    assert_eq!(s.report_decisions_without_case(10).await.unwrap().len(), 3);
    let open = |d: &samaritan_store::Decision, account: Option<&str>, phone: &str| ReportOpen {
        decision: d.clone(),
        incident_type: "Child Sex Trafficking".into(),
        account: account.map(str::to_owned),
        phones: vec![phone.to_owned()],
        draft: serde_json::json!({"ad": d.ad_id, "text": "<b>&"}),
    };
    let (first, created) = s
        .report_open(&open(&decisions[0], Some("acct-1"), "7025550101"), t0 + 1)
        .await
        .unwrap();
    assert!(created);
    assert_eq!(
        (first.state.as_str(), first.follow_up_of.len()),
        ("draft", 0)
    );
    assert_eq!(first.draft["text"], "<b>&");
    // Idempotent: the same decision never opens a second case.
    let (again, created) = s
        .report_open(&open(&decisions[0], Some("acct-1"), "7025550101"), t0 + 2)
        .await
        .unwrap();
    assert!(!created);
    assert_eq!(again.id, first.id);
    // Same phone: a follow-up of the first; another account and phone: none.
    let (second, _) = s
        .report_open(&open(&decisions[1], None, "7025550101"), t0 + 3)
        .await
        .unwrap();
    assert_eq!(second.follow_up_of, [first.id]);
    let (third, _) = s
        .report_open(&open(&decisions[2], Some("acct-1"), "7025550199"), t0 + 4)
        .await
        .unwrap();
    assert_eq!(third.follow_up_of, [first.id], "same account");
    assert!(
        s.report_decisions_without_case(10)
            .await
            .unwrap()
            .is_empty()
    );
    // Only report decisions open cases.
    s.ingest(vec![item(
        ad("r4", "w"),
        analysis("r4", Verdict::Review, 10, &[]),
    )])
    .await
    .unwrap();
    s.queue_claim_ads("user:ana", QueueState::Open, &["r4"], 60_000, t0)
        .await
        .unwrap();
    let allow = s
        .decide(
            &decision("r4", 1, DecisionAction::Allow, "not_commercial"),
            "user:ana",
            t0 + 5,
        )
        .await
        .unwrap();
    assert!(
        s.report_open(&open(&allow, None, "1"), t0 + 5)
            .await
            .is_err()
    );
    // Two persons: the decider cannot approve; another lead can, once.
    let e = s
        .report_approve(first.id, "user:ana", t0 + 6)
        .await
        .unwrap_err();
    assert_eq!(refusal(e), "two_person");
    let ok = s
        .report_approve(first.id, "user:lead", t0 + 7)
        .await
        .unwrap();
    assert_eq!(
        (ok.state.as_str(), ok.approved_by.as_deref()),
        ("approved", Some("user:lead"))
    );
    let e = s
        .report_approve(first.id, "user:lead2", t0 + 8)
        .await
        .unwrap_err();
    assert_eq!(refusal(e), "state");
    assert!(matches!(
        s.report_approve(999, "user:lead", t0).await.unwrap_err(),
        StoreError::NotFound(_)
    ));
    let counts = s.report_counts().await.unwrap();
    assert_eq!((counts.draft, counts.approved), (2, 1));
    assert_eq!(s.reports(Some("draft"), 10).await.unwrap().len(), 2);
    assert_eq!(s.reports(None, 10).await.unwrap()[0].id, third.id);
    assert_eq!(s.report(first.id).await.unwrap().unwrap().state, "approved");
    let log = s.audit_list(0, 1000).await.unwrap();
    assert_eq!(log.iter().filter(|e| e.action == "report.open").count(), 3);
    assert_eq!(
        log.iter().filter(|e| e.action == "report.approve").count(),
        1
    );
    assert!(s.audit_verify().await.unwrap().ok);
}

/// Two leads taking one claim back, a lead and the holder's decision, two people claiming the
/// same named ad: each race has exactly one winner and the loser a clear refusal.
async fn take_back_and_named_claims_race_with_one_winner(f: &Fixture) {
    let s = &f.store;
    let ids: Vec<String> = (0..12).map(|i| format!("race{i}")).collect();
    s.ingest(
        ids.iter()
            .map(|id| item(ad(id, "x"), analysis(id, Verdict::Review, 10, &[])))
            .collect(),
    )
    .await
    .unwrap();
    let t0 = now_ms();
    for id in &ids[0..4] {
        // Two people claim the same named ad at once.
        let one = [id.as_str()];
        let (a, b) = tokio::join!(
            s.queue_claim_ads("user:ana", QueueState::Open, &one, 60_000, t0),
            s.queue_claim_ads("user:bo", QueueState::Open, &one, 60_000, t0),
        );
        let won = usize::from(a.unwrap().len() == 1) + usize::from(b.unwrap().len() == 1);
        assert_eq!(won, 1, "one claim on {id}");
    }
    for id in &ids[4..8] {
        // Two leads take the same claim back at once.
        s.queue_claim_ads("user:ana", QueueState::Open, &[id.as_str()], 60_000, t0)
            .await
            .unwrap();
        let (a, b) = tokio::join!(
            s.queue_take_back(id, "user:lead1", t0 + 1),
            s.queue_take_back(id, "user:lead2", t0 + 1),
        );
        let ok = [&a, &b].iter().filter(|r| r.is_ok()).count();
        assert_eq!(ok, 1, "one take-back of {id}: {a:?} {b:?}");
        for r in [a, b] {
            if let Err(e) = r {
                assert_eq!(refusal(e), "not_claimed");
            }
        }
    }
    for id in &ids[8..12] {
        // A lead takes an item back while its holder decides it: one of the two lands.
        s.queue_claim_ads("user:ana", QueueState::Open, &[id.as_str()], 60_000, t0)
            .await
            .unwrap();
        let input = decision(id, 1, DecisionAction::Remove, "spam");
        let (took, decided) = tokio::join!(
            s.queue_take_back(id, "user:lead", t0 + 1),
            s.decide(&input, "user:ana", t0 + 1),
        );
        assert!(
            took.is_ok() != decided.is_ok(),
            "{id}: {took:?} {decided:?}"
        );
        let decisions = s.decisions_of(id).await.unwrap().len();
        assert_eq!(decisions, usize::from(decided.is_ok()));
    }
    assert!(s.audit_verify().await.unwrap().ok);
}

/// A report case's preserved evidence is under a hold: nothing removes it (the store's own
/// calls or raw SQL), retention passes it by, and only an admin's release with a reason ends
/// the hold — never while a filed report is within its date or a law-enforcement extension runs.
async fn held_evidence_cannot_be_removed_and_holds_end_only_by_release(f: &Fixture) {
    use samaritan_store::{FilingStep, ReportOpen, SealedBlob};
    let s = &f.store;
    let t0 = now_ms();
    let year = 365 * 86_400_000_i64;
    s.ingest(vec![
        item(
            ad("h1", "x"),
            analysis("h1", Verdict::Block, 90, &["7025550111"]),
        ),
        item(
            ad("h2", "y"),
            analysis("h2", Verdict::Block, 90, &["7025550122"]),
        ),
        item(ad("h3", "z"), analysis("h3", Verdict::Allow, 0, &[])),
    ])
    .await
    .unwrap();
    let mut cases = Vec::new();
    for id in ["h1", "h2"] {
        s.queue_claim_ads("user:ana", QueueState::Open, &[id], 60_000, t0)
            .await
            .unwrap();
        let d = s
            .decide(
                &decision(id, 1, DecisionAction::Report, "child_sex_trafficking"),
                "user:ana",
                t0,
            )
            .await
            .unwrap();
        let (case, _) = s
            .report_open(
                &ReportOpen {
                    decision: d,
                    incident_type: "Child Sex Trafficking".into(),
                    account: None,
                    phones: vec![],
                    draft: serde_json::json!({}),
                },
                t0,
            )
            .await
            .unwrap();
        cases.push(case.id);
    }
    let blob = |text: &str| SealedBlob {
        sha256: samaritan_store::sha256_hex(text.as_bytes()),
        key_id: "k1".into(),
        nonce: vec![1; 24],
        ciphertext: text.as_bytes().iter().map(|b| b ^ 0x5a).collect(),
        bytes: text.len() as i64,
        object_sha256: None,
    };
    // Kept in blob storage: the row names the object and holds no ciphertext.
    let shelved = |text: &str| SealedBlob {
        ciphertext: Vec::new(),
        object_sha256: Some(samaritan_store::sha256_hex(
            format!("sealed {text}").as_bytes(),
        )),
        ..blob(text)
    };
    // An object named by something that is not a SHA-256, or given with its ciphertext too,
    // is refused before anything is written.
    for bad in [
        SealedBlob {
            object_sha256: Some("../x".into()),
            ..shelved("bad")
        },
        SealedBlob {
            object_sha256: shelved("bad").object_sha256,
            ..blob("bad")
        },
    ] {
        assert!(matches!(
            s.preserve(
                cases[1],
                "h2",
                &[("x".into(), bad)],
                t0 + year,
                "service",
                t0
            )
            .await,
            Err(StoreError::Invalid(_))
        ));
    }
    let shared = blob("shared image bytes");
    let hold1 = s
        .preserve(
            cases[0],
            "h1",
            &[
                ("ad/revision-1.json".into(), blob("h1 revision 1")),
                ("images/a".into(), shared.clone()),
            ],
            t0 + year,
            "service",
            t0,
        )
        .await
        .unwrap();
    let hold2 = s
        .preserve(
            cases[1],
            "h2",
            &[
                ("images/a".into(), shared.clone()),
                ("ad/revision-1.json".into(), shelved("h2 revision 1")),
            ],
            t0 + year,
            "service",
            t0,
        )
        .await
        .unwrap();
    assert_eq!((hold1.state.as_str(), hold1.until_ms), ("held", t0 + year));
    assert_eq!(
        s.preserved_blob(&shelved("h2 revision 1").sha256)
            .await
            .unwrap()
            .unwrap(),
        shelved("h2 revision 1"),
        "the reference and digest are kept, no ciphertext"
    );
    assert_eq!(
        s.preserved_objects("", 10).await.unwrap(),
        [samaritan_store::PreservedObject {
            sha256: shelved("h2 revision 1").sha256,
            object_sha256: shelved("h2 revision 1").object_sha256.unwrap(),
            bytes: "h2 revision 1".len() as i64,
        }]
    );
    // Held: its row (and so its object) cannot be removed.
    assert!(
        s.purge_released_evidence("cli", now_ms())
            .await
            .unwrap()
            .objects
            .is_empty()
    );
    // Preserving again keeps the hold and the files as they were.
    let again = s
        .preserve(
            cases[0],
            "h1",
            &[("images/a".into(), blob("other"))],
            t0 + 1,
            "service",
            t0,
        )
        .await
        .unwrap();
    assert_eq!((again.id, again.until_ms), (hold1.id, t0 + year));
    let files = s.preserved_files(cases[0]).await.unwrap();
    assert_eq!(files.len(), 2);
    assert_eq!(files[1].sha256, shared.sha256);
    assert_eq!(
        s.preserved_blob(&shared.sha256).await.unwrap().unwrap(),
        shared
    );
    assert!(s.reports_without_hold(10).await.unwrap().is_empty());
    // A re-post of a held ad is taken in; its earlier revision stays.
    s.ingest(vec![item(
        ad("h1", "x, posted again"),
        analysis("h1", Verdict::Block, 90, &["7025550111"]),
    )])
    .await
    .unwrap();
    assert_eq!(s.ad_history("h1").await.unwrap().len(), 1);
    // Raw SQL cannot remove or rewrite held evidence, nor delete or shorten a hold.
    for sql in [
        "UPDATE ads SET raw = '{}' WHERE id = 'h1'",
        "DELETE FROM ad_history WHERE ad_id = 'h1'",
        "UPDATE ad_history SET raw = '{}' WHERE ad_id = 'h1'",
        "DELETE FROM analyses WHERE ad_id = 'h1'",
        "DELETE FROM ads WHERE id = 'h1'",
        "DELETE FROM evidence_files",
        "UPDATE evidence_files SET sha256 = 'x'",
        "DELETE FROM evidence_blobs",
        "UPDATE evidence_blobs SET key_id = 'k2'",
        "DELETE FROM holds",
        "UPDATE holds SET until_ms = 0",
        "UPDATE holds SET state = 'released'",
    ] {
        let e = f.raw_result(sql).await.expect_err(sql);
        assert!(
            e.contains("held") || e.contains("hold") || e.contains("never"),
            "{sql}: {e}"
        );
    }
    // Retention passes held ads by, and purges the rest.
    let cutoff = now_ms() + 1_000;
    let c = s.retention_candidates(cutoff, 100).await.unwrap();
    let mut held: Vec<(&str, bool)> = c.iter().map(|c| (c.ad_id.as_str(), c.held)).collect();
    held.sort();
    assert_eq!(held, [("h1", true), ("h2", true), ("h3", false)]);
    let ids: Vec<String> = c.iter().map(|c| c.ad_id.clone()).collect();
    let purged = s.purge_ads(&ids, cutoff, "cli", now_ms()).await.unwrap();
    assert_eq!(purged.ads, ["h3"]);
    assert!(s.get_ad("h3", now_ms()).await.unwrap().is_none());
    assert!(s.get_ad("h1", now_ms()).await.unwrap().is_some());
    // Case 1 is filed: its hold stands until its date.
    s.report_approve(cases[0], "user:lead", t0).await.unwrap();
    for (from, to, n) in [
        ("approved", "submitting", None),
        ("submitting", "submitted", Some("1001")),
        ("submitted", "uploaded", None),
        ("uploaded", "finished", None),
    ] {
        s.report_filing(
            cases[0],
            FilingStep {
                from: &[from],
                to,
                ncmec_report_id: n,
                error: None,
                lease_until: None,
            },
            "user:lead",
            t0,
        )
        .await
        .unwrap();
    }
    let e = s
        .hold_release(hold1.id, "done", "admin:1", now_ms())
        .await
        .unwrap_err();
    assert_eq!(refusal(e), "held");
    // Case 2 was never filed, but a law-enforcement request extends its hold.
    let ext = s
        .hold_extend(
            hold2.id,
            t0 + 2 * year,
            "2703(f)-0042",
            "Example County Sheriff",
            "admin:1",
            now_ms(),
        )
        .await
        .unwrap();
    assert_eq!((ext.until_ms, ext.extensions.len()), (t0 + 2 * year, 1));
    assert!(
        s.hold_extend(hold2.id, t0 - 1, "r", "a", "admin:1", now_ms())
            .await
            .is_err()
    );
    let e = s
        .hold_release(hold2.id, "opened by mistake", "admin:1", now_ms())
        .await
        .unwrap_err();
    assert_eq!(refusal(e), "law_enforcement");
    assert!(
        s.hold_release(hold2.id, "  ", "admin:1", now_ms())
            .await
            .is_err(),
        "a reason"
    );
    // Once the extension has run (here: released as of its end), the admin releases it.
    let released = s
        .hold_release(hold2.id, "opened by mistake", "admin:1", t0 + 2 * year + 1)
        .await
        .unwrap();
    assert_eq!(released.state, "released");
    assert_eq!(
        refusal(
            s.hold_release(hold2.id, "again", "admin:1", t0 + 2 * year + 2)
                .await
                .unwrap_err()
        ),
        "state"
    );
    // Released evidence is purged (and its object named for blob storage to remove); the
    // blob case 1 shares stays.
    assert_eq!(
        s.purge_released_evidence("cli", now_ms()).await.unwrap(),
        samaritan_store::ReleasedEvidence {
            files: 2,
            blobs: 1,
            objects: vec![shelved("h2 revision 1").object_sha256.unwrap()],
        }
    );
    assert!(
        s.preserved_blob(&shelved("h2 revision 1").sha256)
            .await
            .unwrap()
            .is_none()
    );
    assert!(s.preserved_files(cases[1]).await.unwrap().is_empty());
    assert!(s.preserved_blob(&shared.sha256).await.unwrap().is_some());
    assert_eq!(s.holds(Some("held"), 10).await.unwrap().len(), 1);
    let log = s.audit_list(0, 10_000).await.unwrap();
    for action in [
        "evidence.preserve",
        "hold.extend",
        "hold.release",
        "retention.purge",
        "retention.evidence",
    ] {
        assert!(log.iter().any(|e| e.action == action), "{action}");
    }
    assert!(s.audit_verify().await.unwrap().ok);
}

/// Decisions and report steps write their webhook events in their own transaction; each
/// endpoint gets the events it wants, handed out in order per ad (a later event for an ad
/// waits for the earlier one), retried, dead after the last attempt, redelivered by hand.
async fn webhook_events_commit_with_their_changes_and_go_out_in_order_per_ad(f: &Fixture) {
    let s = &f.store;
    let t0 = now_ms();
    let all = s
        .webhook_create(
            "https://hooks.example/all",
            &["*".into()],
            "whsec_a",
            "admin",
            t0,
        )
        .await
        .unwrap();
    let reports = s
        .webhook_create(
            "https://hooks.example/r",
            &["report.*".into()],
            "whsec_b",
            "admin",
            t0,
        )
        .await
        .unwrap();
    assert!(
        s.webhook_create("https://x.example", &["ad.*".into()], "k", "admin", t0)
            .await
            .is_err(),
        "unknown events are refused"
    );
    s.ingest(vec![
        item(
            ad("w1", "x"),
            analysis("w1", Verdict::Block, 90, &["7025550131"]),
        ),
        item(
            ad("w2", "y"),
            analysis("w2", Verdict::Block, 90, &["7025550132"]),
        ),
    ])
    .await
    .unwrap();
    for id in ["w1", "w2"] {
        s.queue_claim_ads("user:ana", QueueState::Open, &[id], 60_000, t0)
            .await
            .unwrap();
        s.decide(
            &decision(id, 1, DecisionAction::Remove, "trafficking_indicators"),
            "user:ana",
            t0,
        )
        .await
        .unwrap();
    }
    // A refused decision writes no event.
    assert!(
        s.decide(
            &decision("w1", 1, DecisionAction::Allow, "no_violation"),
            "user:bo",
            t0
        )
        .await
        .is_err()
    );
    s.queue_claim_ads("user:ana", QueueState::Open, &["w1"], 60_000, t0)
        .await
        .ok();
    let due = s.webhook_due(now_ms() + 1, 100).await.unwrap();
    assert_eq!(due.len(), 2, "{due:?}");
    assert!(
        due.iter()
            .all(|d| d.endpoint_id == all.id && d.secret == "whsec_a")
    );
    let body: serde_json::Value = serde_json::from_str(&due[0].body).unwrap();
    assert_eq!(body["type"], "decision.created");
    assert_eq!(body["data"]["ad_id"], "w1");
    assert_eq!(body["data"]["action"], "remove");
    assert!(
        !due[0].body.contains("\"note\""),
        "no note: {}",
        due[0].body
    );
    // A second decision on w1 waits behind the first until it is delivered.
    s.queue_claim_ads("user:cy", QueueState::Decided, &["w1"], 60_000, t0)
        .await
        .ok();
    let over = DecisionInput {
        basis: DecisionBasis::Override {
            supersedes: Some(s.decisions_of("w1").await.unwrap()[0].seq),
        },
        ..decision("w1", 1, DecisionAction::Allow, "no_violation")
    };
    s.decide(&over, "user:lead", now_ms()).await.unwrap();
    let w1: Vec<i64> = s
        .webhook_due(now_ms() + 1, 100)
        .await
        .unwrap()
        .iter()
        .filter(|d| d.body.contains("\"w1\""))
        .map(|d| d.event_seq)
        .collect();
    assert_eq!(w1.len(), 1, "only the first event for w1 is handed out");
    // Failed, then retried later, then dead after the last attempt; redelivered by hand.
    let first = due[0].clone();
    s.webhook_attempted(
        first.endpoint_id,
        first.event_seq,
        Some(500),
        Some("HTTP 500"),
        Some(now_ms() + 60_000),
        now_ms(),
    )
    .await
    .unwrap();
    assert!(
        s.webhook_due(now_ms() + 1, 100)
            .await
            .unwrap()
            .iter()
            .all(|d| d.event_seq != first.event_seq),
        "not due before its retry time"
    );
    s.webhook_attempted(
        first.endpoint_id,
        first.event_seq,
        None,
        Some("timed out"),
        None,
        now_ms(),
    )
    .await
    .unwrap_or(());
    // (the row was not due, but an attempt's outcome is recorded whenever it ends)
    let dead = s
        .webhook_deliveries(all.id, Some("dead"), 10)
        .await
        .unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(
        (dead[0].attempts, dead[0].last_error.as_deref()),
        (2, Some("timed out"))
    );
    s.webhook_redeliver(all.id, first.event_seq, "admin", now_ms())
        .await
        .unwrap();
    let again = s.webhook_due(now_ms() + 1, 100).await.unwrap();
    assert!(
        again
            .iter()
            .any(|d| d.event_seq == first.event_seq && d.attempts == 0)
    );
    s.webhook_attempted(all.id, first.event_seq, Some(200), None, None, now_ms())
        .await
        .unwrap();
    let counts = s.webhook_counts().await.unwrap();
    assert_eq!(counts.delivered, 1);
    // Rotation: the previous secret signs during the overlap.
    s.webhook_rotate(reports.id, "whsec_c", now_ms() + 60_000, "admin", now_ms())
        .await
        .unwrap();
    // Disabled endpoints get nothing new.
    s.webhook_disable(all.id, "admin", now_ms()).await.unwrap();
    assert!(
        s.webhook_due(now_ms() + 1, 100)
            .await
            .unwrap()
            .iter()
            .all(|d| d.endpoint_id != all.id)
    );
    let log = s.audit_list(0, 10_000).await.unwrap();
    for action in [
        "webhook.create",
        "webhook.rotate",
        "webhook.disable",
        "webhook.redeliver",
    ] {
        assert!(log.iter().any(|e| e.action == action), "{action}");
    }
    let text = serde_json::to_string(&log).unwrap();
    assert!(!text.contains("whsec_"), "no secret in the audit log");
    assert!(s.audit_verify().await.unwrap().ok);
}

/// An appeal is filed against the latest remove or report decision, answered only by another
/// reviewer holding its claim, and both steps are audited and sent as events.
async fn appeals_go_to_another_reviewer_and_are_sent(f: &Fixture) {
    let s = &f.store;
    let t0 = now_ms();
    let hook = s
        .webhook_create(
            "https://hooks.example/a",
            &["appeal.*".into()],
            "whsec_x",
            "admin",
            t0,
        )
        .await
        .unwrap();
    s.ingest(vec![
        item(
            ad("p1", "x"),
            analysis("p1", Verdict::Block, 90, &["7025550141"]),
        ),
        item(
            ad("p2", "y"),
            analysis("p2", Verdict::Review, 40, &["7025550142"]),
        ),
    ])
    .await
    .unwrap();
    let err = s
        .appeal_create("p1", "please look again", "key:platform", t0)
        .await
        .unwrap_err();
    assert_eq!(refusal(err), "not_appealable", "no decision yet");
    s.queue_claim_ads("user:ana", QueueState::Open, &["p1", "p2"], 60_000, t0)
        .await
        .unwrap();
    s.decide(
        &decision("p1", 1, DecisionAction::Remove, "trafficking_indicators"),
        "user:ana",
        t0,
    )
    .await
    .unwrap();
    s.decide(
        &decision("p2", 1, DecisionAction::Allow, "no_violation"),
        "user:ana",
        t0,
    )
    .await
    .unwrap();
    assert_eq!(
        refusal(
            s.appeal_create("p2", "x", "key:platform", t0)
                .await
                .unwrap_err()
        ),
        "not_appealable",
        "an allowed ad has nothing to appeal"
    );
    assert!(s.appeal_create("p1", "", "key:platform", t0).await.is_err());
    assert!(
        s.appeal_create("p1", &"x".repeat(5001), "key:platform", t0)
            .await
            .is_err()
    );
    let a = s
        .appeal_create("p1", "It was my bicycle; <b>&</b>", "key:platform", t0)
        .await
        .unwrap();
    assert_eq!(
        (a.state.as_str(), a.decided_by.as_str()),
        ("open", "user:ana")
    );
    assert_eq!(
        refusal(
            s.appeal_create("p1", "again", "key:platform", t0)
                .await
                .unwrap_err()
        ),
        "exists"
    );
    // The reviewer who decided never gets it; another does.
    assert!(
        s.appeal_claim("user:ana", 60_000, t0)
            .await
            .unwrap()
            .is_none()
    );
    let e = s
        .appeal_answer(a.id, "reversed", "no_violation", "", "user:ana", t0)
        .await
        .unwrap_err();
    assert_eq!(refusal(e), "own_decision");
    let e = s
        .appeal_answer(a.id, "reversed", "no_violation", "", "user:bo", t0)
        .await
        .unwrap_err();
    assert_eq!(refusal(e), "not_claimed");
    let claimed = s
        .appeal_claim("user:bo", 60_000, t0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claimed.id, a.id);
    assert!(
        s.appeal_claim("user:cy", 60_000, t0)
            .await
            .unwrap()
            .is_none(),
        "claimed"
    );
    assert!(
        s.appeal_answer(a.id, "maybe", "no_violation", "", "user:bo", t0)
            .await
            .is_err()
    );
    let done = s
        .appeal_answer(
            a.id,
            "reversed",
            "no_violation",
            "a bicycle ad",
            "user:bo",
            t0 + 1,
        )
        .await
        .unwrap();
    assert_eq!(
        (done.state.as_str(), done.outcome.as_deref()),
        ("decided", Some("reversed"))
    );
    assert_eq!(
        refusal(
            s.appeal_answer(a.id, "upheld", "x", "", "user:bo", t0)
                .await
                .unwrap_err()
        ),
        "state"
    );
    let sent: Vec<serde_json::Value> = s
        .webhook_deliveries(hook.id, None, 10)
        .await
        .unwrap()
        .iter()
        .map(|d| serde_json::json!([d.event_type, d.ad_id]))
        .collect();
    assert_eq!(
        sent,
        [
            serde_json::json!(["appeal.decided", "p1"]),
            serde_json::json!(["appeal.created", "p1"])
        ]
    );
    let due = s.webhook_due(now_ms(), 10).await.unwrap();
    assert!(
        due.iter().all(|d| !d.body.contains("bicycle")),
        "no statement or note in events"
    );
    assert_eq!(s.appeals(Some("decided"), 10).await.unwrap().len(), 1);
    let log = s.audit_list(0, 10_000).await.unwrap();
    for action in ["appeal.create", "appeal.claim", "appeal.decide"] {
        assert!(log.iter().any(|e| e.action == action), "{action}");
    }
    assert!(s.audit_verify().await.unwrap().ok);
}

/// Reviewers claiming appeals at once never get the same one.
async fn concurrent_appeal_claims_never_overlap(f: &Fixture) {
    let s = &f.store;
    let t0 = now_ms();
    let ids: Vec<String> = (0..6).map(|i| format!("cc{i}")).collect();
    s.ingest(
        ids.iter()
            .map(|id| item(ad(id, "x"), analysis(id, Verdict::Block, 90, &[])))
            .collect(),
    )
    .await
    .unwrap();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    s.queue_claim_ads("user:ana", QueueState::Open, &refs, 60_000, t0)
        .await
        .unwrap();
    for id in &ids {
        s.decide(
            &decision(id, 1, DecisionAction::Remove, "trafficking_indicators"),
            "user:ana",
            t0,
        )
        .await
        .unwrap();
        s.appeal_create(id, "please", "key:platform", t0)
            .await
            .unwrap();
    }
    let mut tasks = Vec::new();
    for r in 0..6 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            s.appeal_claim(&format!("user:r{r}"), 60_000, t0)
                .await
                .unwrap()
                .map(|a| a.id)
        }));
    }
    let mut got = Vec::new();
    for t in tasks {
        got.extend(t.await.unwrap());
    }
    got.sort();
    let n = got.len();
    got.dedup();
    assert_eq!((n, got.len()), (6, 6), "each appeal to one reviewer");
}

async fn two_person_rules_count_people_not_keys(f: &Fixture) {
    use samaritan_store::ReportOpen;
    let s = &f.store;
    let t0 = now_ms();
    s.create_user("ida", Role::Lead, PW, "cli").await.unwrap();
    s.create_user("jo", Role::Lead, PW, "cli").await.unwrap();
    // Ida holds a review key and a lead key; a service key holds itself.
    let review = s
        .create_key_for("ida's review key", &[Scope::Review], Some("ida"), "cli")
        .await
        .unwrap();
    let lead = s
        .create_key_for("ida's lead key", &[Scope::Lead], Some("ida"), "cli")
        .await
        .unwrap();
    assert_eq!(lead.record.person.as_deref(), Some("ida"));
    let service = s
        .create_key("pipeline", &[Scope::Lead], "cli")
        .await
        .unwrap();
    assert!(
        s.create_key_for("nobody's", &[Scope::Review], Some("nobody"), "cli")
            .await
            .is_err(),
        "a key is held by an existing person"
    );
    let by_review_key = review.record.actor();
    s.ingest(vec![
        item(
            ad("tp1", "x"),
            analysis("tp1", Verdict::Block, 90, &["7025550161"]),
        ),
        item(
            ad("tp2", "y"),
            analysis("tp2", Verdict::Block, 90, &["7025550162"]),
        ),
    ])
    .await
    .unwrap();
    s.queue_claim_ads(
        &by_review_key,
        QueueState::Open,
        &["tp1", "tp2"],
        60_000,
        t0,
    )
    .await
    .unwrap();
    let reported = s
        .decide(
            &decision("tp1", 1, DecisionAction::Report, "child_sex_trafficking"),
            &by_review_key,
            t0,
        )
        .await
        .unwrap();
    s.decide(
        &decision("tp2", 1, DecisionAction::Remove, "trafficking_indicators"),
        &by_review_key,
        t0,
    )
    .await
    .unwrap();
    let (case, _) = s
        .report_open(
            &ReportOpen {
                decision: reported,
                incident_type: "Child Sex Trafficking".into(),
                account: None,
                phones: vec!["7025550161".into()],
                draft: serde_json::json!({"ad": "tp1"}),
            },
            t0 + 1,
        )
        .await
        .unwrap();
    // Ida's other key and her console session are Ida: refused.
    for me in [lead.record.actor(), "user:ida".to_owned()] {
        let e = s.report_approve(case.id, &me, t0 + 2).await.unwrap_err();
        assert_eq!(refusal(e), "two_person", "{me}");
    }
    // Another person approves, and a service key is its own person.
    let ok = s
        .report_approve(case.id, &service.record.actor(), t0 + 3)
        .await
        .unwrap();
    assert_eq!(ok.state, "approved");

    // Appeals: never served to, nor answered by, the decider under another key.
    s.appeal_create("tp2", "please look again", "key:platform", t0 + 4)
        .await
        .unwrap();
    for me in [lead.record.actor(), "user:ida".to_owned()] {
        assert!(
            s.appeal_claim(&me, 60_000, t0 + 5).await.unwrap().is_none(),
            "{me} decided it"
        );
    }
    let claimed = s
        .appeal_claim("user:jo", 60_000, t0 + 6)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claimed.ad_id, "tp2");
    // The person is in the key's audit entry: an edited row is caught.
    let keys = s.list_keys().await.unwrap();
    assert!(
        keys.iter()
            .any(|k| k.id == review.record.id && k.person.as_deref() == Some("ida"))
    );
    assert!(s.audit_verify().await.unwrap().ok);
    f.raw(&format!(
        "UPDATE api_keys SET person = 'jo' WHERE id = '{}'",
        review.record.id
    ))
    .await;
    let report = s.audit_verify().await.unwrap();
    assert!(
        report.problems.iter().any(|p| p.kind == "key_altered"),
        "{:?}",
        report.problems
    );
}

async fn link_snapshots_are_kept_whole_or_refused(f: &Fixture) {
    use samaritan_store::link_state::SNAPSHOT_PART;
    let s = &f.store;
    assert_eq!(s.link_snapshot("snap").await.unwrap(), None);
    // Three parts, the last one short.
    let big: Vec<u8> = (0..2 * SNAPSHOT_PART + 1000)
        .map(|i| (i * 31 % 251) as u8)
        .collect();
    s.put_link_snapshot("snap", 42, &big).await.unwrap();
    assert_eq!(
        s.link_snapshot("snap").await.unwrap(),
        Some((42, big.clone()))
    );
    // A smaller one replaces it whole (no part of the old one is left).
    s.put_link_snapshot("snap", 43, b"small").await.unwrap();
    assert_eq!(
        s.link_snapshot("snap").await.unwrap(),
        Some((43, b"small".to_vec()))
    );
    assert_eq!(s.scan_link_state("snap", "", 100).await.unwrap().len(), 2);
    // A damaged part is named, never returned.
    s.put_link_state(&[("snap", "part-00000000", b"smell")])
        .await
        .unwrap();
    assert!(matches!(
        s.link_snapshot("snap").await,
        Err(StoreError::Corrupt(_))
    ));
    // Records before a key are counted.
    s.put_link_state(&[
        ("rec", "001", b"a"),
        ("rec", "002", b"b"),
        ("rec", "005", b"c"),
    ])
    .await
    .unwrap();
    assert_eq!(s.count_link_state_before("rec", "005").await.unwrap(), 2);
    assert_eq!(s.count_link_state_before("rec", "999").await.unwrap(), 3);
}

const HMA_A: &str = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";
const HMA_B: &str = "0000000000000000000000000000000000000000000000000000000000000001";

async fn hma_banks_content_and_signals_are_kept_and_audited(f: &Fixture) {
    let s = &f.store;
    let bank = s
        .hma_bank_create("KNOWN_ADS", 0.5, "key:a", 1_000)
        .await
        .unwrap();
    assert_eq!(
        (bank.name.as_str(), bank.matching_enabled_ratio),
        ("KNOWN_ADS", 0.5)
    );
    for bad in ["lower", "WITH-DASH", "", "SPACE D"] {
        assert!(matches!(
            s.hma_bank_create(bad, 1.0, "key:a", 1_000).await,
            Err(StoreError::Invalid(_))
        ));
    }
    for bad in [-0.1, 1.5, f64::NAN] {
        assert!(matches!(
            s.hma_bank_create("OTHER", bad, "key:a", 1_000).await,
            Err(StoreError::Invalid(_))
        ));
    }
    let meta = samaritan_store::HmaContentMeta {
        content_id: Some("ad-17".into()),
        note: Some("seen twice".into()),
        ..Default::default()
    };
    let sig = |h: &str| vec![("pdq".to_owned(), h.to_ascii_uppercase())];
    let a = s
        .hma_content_add("KNOWN_ADS", &sig(HMA_A), &meta, "key:a", 2_000)
        .await
        .unwrap();
    let b = s
        .hma_content_add(
            "KNOWN_ADS",
            &sig(HMA_B),
            &Default::default(),
            "key:a",
            2_000,
        )
        .await
        .unwrap();
    assert!(b > a);
    let got = s.hma_content("KNOWN_ADS", a).await.unwrap().unwrap();
    assert_eq!(
        got.signals,
        vec![("pdq".to_owned(), HMA_A.to_owned())],
        "stored lowercase"
    );
    assert_eq!(got.meta, meta);
    assert_eq!(got.disable_until_ts, 0);
    assert!(s.hma_content("OTHER_BANK", a).await.unwrap().is_none());
    // Refused: unknown bank, unknown type, bad hex, a long note, no signal.
    assert!(matches!(
        s.hma_content_add("NOPE", &sig(HMA_A), &Default::default(), "key:a", 1)
            .await,
        Err(StoreError::NotFound(_))
    ));
    for bad in [
        vec![("md5".to_owned(), HMA_A.to_owned())],
        vec![("pdq".to_owned(), "xyz".to_owned())],
        vec![],
    ] {
        assert!(matches!(
            s.hma_content_add("KNOWN_ADS", &bad, &Default::default(), "key:a", 1)
                .await,
            Err(StoreError::Invalid(_))
        ));
    }
    let long = samaritan_store::HmaContentMeta {
        note: Some("é".repeat(256)),
        ..Default::default()
    };
    assert!(matches!(
        s.hma_content_add("KNOWN_ADS", &sig(HMA_A), &long, "key:a", 1)
            .await,
        Err(StoreError::Invalid(_))
    ));
    // The engine sees enabled content of banks with a ratio above 0.
    let engine = s.hma_engine_signals(3).await.unwrap();
    assert_eq!(engine.len(), 2);
    assert!(engine.contains(&("hma.KNOWN_ADS".to_owned(), HMA_A.to_owned())));
    s.hma_content_disable_until("KNOWN_ADS", a, 100, "key:a", 3_000)
        .await
        .unwrap();
    assert_eq!(
        s.hma_engine_signals(99).await.unwrap().len(),
        1,
        "disabled until 100"
    );
    assert_eq!(
        s.hma_engine_signals(100).await.unwrap().len(),
        2,
        "enabled again at 100"
    );
    assert!(matches!(
        s.hma_content_disable_until("KNOWN_ADS", 9_999, 1, "key:a", 3_000)
            .await,
        Err(StoreError::NotFound(_))
    ));
    // Rename carries the content; a taken name is a conflict; ratio 0 hides it from the engine.
    s.hma_bank_create("TAKEN", 1.0, "key:a", 1_000)
        .await
        .unwrap();
    assert!(matches!(
        s.hma_bank_update("KNOWN_ADS", Some("TAKEN"), None, "key:a", 4_000)
            .await,
        Err(StoreError::Conflict(_))
    ));
    let renamed = s
        .hma_bank_update("KNOWN_ADS", Some("RENAMED"), Some(0.0), "key:a", 4_000)
        .await
        .unwrap();
    assert_eq!(renamed.matching_enabled_ratio, 0.0);
    assert!(s.hma_bank("KNOWN_ADS").await.unwrap().is_none());
    assert_eq!(
        s.hma_content("RENAMED", a)
            .await
            .unwrap()
            .unwrap()
            .bank
            .name,
        "RENAMED"
    );
    assert!(s.hma_engine_signals(1_000).await.unwrap().is_empty());
    let signals = s.hma_signals().await.unwrap();
    assert_eq!(signals.len(), 2);
    assert!(signals.iter().all(|x| x.bank == "RENAMED"));
    // Delete content, then the bank with the rest.
    assert_eq!(
        s.hma_content_delete("RENAMED", a, "key:a", 5_000)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        s.hma_content_delete("RENAMED", a, "key:a", 5_000)
            .await
            .unwrap(),
        0
    );
    assert!(s.hma_bank_delete("RENAMED", "key:a", 6_000).await.unwrap());
    assert!(!s.hma_bank_delete("RENAMED", "key:a", 6_000).await.unwrap());
    assert!(s.hma_signals().await.unwrap().is_empty());
    let names: Vec<String> = s
        .hma_banks()
        .await
        .unwrap()
        .into_iter()
        .map(|b| b.name)
        .collect();
    assert_eq!(names, vec!["TAKEN"]);
    let actions: Vec<String> = s
        .audit_list(0, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .filter(|a| a.starts_with("hma."))
        .collect();
    assert_eq!(
        actions,
        vec![
            "hma.bank.create",
            "hma.content.add",
            "hma.content.add",
            "hma.content.update",
            "hma.bank.create",
            "hma.bank.update",
            "hma.content.delete",
            "hma.bank.delete",
        ]
    );
    assert!(s.audit_verify().await.unwrap().ok);
}

async fn hma_concurrent_bank_creation_exactly_one_wins(f: &Fixture) {
    let s = &f.store;
    let (a, b) = tokio::join!(
        s.hma_bank_create("RACE", 1.0, "key:a", 1),
        s.hma_bank_create("RACE", 0.25, "key:b", 1),
    );
    let (won, lost) = match (a, b) {
        (Ok(w), Err(e)) | (Err(e), Ok(w)) => (w, e),
        (a, b) => panic!("exactly one must win: {a:?} {b:?}"),
    };
    assert!(
        matches!(lost, StoreError::Conflict(ref m) if m.contains("already exists")),
        "{lost}"
    );
    assert_eq!(s.hma_banks().await.unwrap(), vec![won]);
    let creates = s
        .audit_list(0, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "hma.bank.create")
        .count();
    assert_eq!(creates, 1, "the loser left no audit entry");
}

/// A model version to save (the store does not read the model; any text will do here).
fn model_save<'a>(model: &'a str, source: ModelSource, expected: Option<i64>) -> ModelSave<'a> {
    ModelSave {
        model,
        source,
        through_decision: None,
        expected,
        actor: "key:admin",
        now: 1_000,
    }
}

fn import(file: &str) -> ModelSource {
    ModelSource::Import { file: file.into() }
}

async fn model_versions_are_kept_audited_and_rolled_back(f: &Fixture) {
    let s = &f.store;
    assert!(s.current_model().await.unwrap().is_none());
    assert!(s.model_history().await.unwrap().is_empty());
    // The first version must say there was none before it.
    let e = s
        .save_model(model_save("{\"m\":1}", import("m1.json"), Some(3)))
        .await
        .unwrap_err();
    assert!(
        matches!(e, StoreError::Conflict(ref m) if m.contains("is none, not 3")),
        "{e}"
    );
    let v1 = s
        .save_model(model_save("{\"m\":1}", import("m1.json"), None))
        .await
        .unwrap();
    assert_eq!((v1.version, v1.source.as_str()), (1, "import"));
    assert_eq!(v1.through_decision, 0, "no decision existed yet");
    assert_eq!(v1.source_detail, serde_json::json!({"file": "m1.json"}));
    let batch = ModelSource::Decisions {
        applied: vec![
            BatchDecision {
                seq: 7,
                label: "commercial".into(),
                weight: 1.0,
            },
            BatchDecision {
                seq: 9,
                label: "none".into(),
                weight: 0.0,
            },
        ],
        recalibrated: None,
    };
    let mut save = model_save("{\"m\":2}", batch, Some(1));
    save.through_decision = Some(9);
    let v2 = s.save_model(save).await.unwrap();
    assert_eq!((v2.version, v2.through_decision), (2, 9));
    // A writer still building on version 1 is refused and writes nothing.
    let e = s
        .save_model(model_save("{\"m\":3}", import("late.json"), Some(1)))
        .await
        .unwrap_err();
    assert!(
        matches!(e, StoreError::Conflict(ref m) if m.contains("is 2, not 1")),
        "{e}"
    );
    let cur = s.current_model().await.unwrap().unwrap();
    assert_eq!((cur.meta.version, cur.model.as_str()), (2, "{\"m\":2}"));
    assert_eq!(cur.meta.bytes, 7);
    assert_eq!(cur.meta.sha256, samaritan_store::sha256_hex(b"{\"m\":2}"));
    // Rollback: a new version equal to version 1, keeping the decisions accounted for.
    let e = s.rollback_model(5, Some(2), "key:admin", 2_000).await;
    assert!(matches!(e, Err(StoreError::NotFound(_))), "{e:?}");
    let e = s.rollback_model(1, Some(1), "key:admin", 2_000).await;
    assert!(matches!(e, Err(StoreError::Conflict(_))), "{e:?}");
    let v3 = s
        .rollback_model(1, Some(2), "key:lead", 2_000)
        .await
        .unwrap();
    assert_eq!((v3.version, v3.source.as_str()), (3, "rollback"));
    assert_eq!(v3.source_detail, serde_json::json!({"to": 1}));
    assert_eq!(
        v3.through_decision, 9,
        "the rolled-back model does not relearn 7..=9"
    );
    assert_eq!(v3.sha256, v1.sha256);
    let cur = s.current_model().await.unwrap().unwrap();
    assert_eq!((cur.meta.version, cur.model.as_str()), (3, "{\"m\":1}"));
    let history: Vec<i64> = s
        .model_history()
        .await
        .unwrap()
        .iter()
        .map(|v| v.version)
        .collect();
    assert_eq!(history, [3, 2, 1]);
    assert_eq!(
        s.model_version(2).await.unwrap().unwrap().model,
        "{\"m\":2}"
    );
    assert!(s.model_version(4).await.unwrap().is_none());
    let audit = s.audit_list(0, 10).await.unwrap();
    let actions: Vec<(&str, &str)> = audit
        .iter()
        .map(|e| (e.action.as_str(), e.subject.as_str()))
        .collect();
    assert_eq!(
        actions,
        [
            ("model.update", "model/1"),
            ("model.update", "model/2"),
            ("model.rollback", "model/3")
        ]
    );
    assert_eq!(audit[1].detail["source_detail"]["applied"][0]["seq"], 7);
    assert_eq!(audit[2].actor, "key:lead");
    let r = s.audit_verify().await.unwrap();
    assert!(r.ok, "{r:?}");
    assert_eq!(r.models, 3);
    // Shadow scores: kept per ad revision and model version; a repeat is ignored.
    let score = |v: i64, p: f64| ShadowScore {
        ad_id: "a1".into(),
        revision: 1,
        model_version: v,
        probability: p,
        severe: 0.25,
        raised: p > 0.5,
        detail: serde_json::json!({"top": [{"feature": "word:x"}]}),
        created_at: 5,
    };
    s.save_shadow_scores(&[score(2, 0.75), score(3, 0.125)])
        .await
        .unwrap();
    s.save_shadow_scores(&[score(3, 0.9)]).await.unwrap();
    let got = s.shadow_scores_of("a1").await.unwrap();
    assert_eq!(got, vec![score(3, 0.125), score(2, 0.75)]);
    assert!(s.shadow_scores_of("a2").await.unwrap().is_empty());
    // Everything is back after a reopen.
    let again = f.reopen().await;
    assert_eq!(again.current_model().await.unwrap().unwrap(), cur);
}

async fn model_concurrent_writers_exactly_one_wins(f: &Fixture) {
    let s = &f.store;
    s.save_model(model_save("{}", import("base.json"), None))
        .await
        .unwrap();
    for round in 0..5 {
        let expected = Some(round + 1);
        let (a, b) = tokio::join!(
            s.save_model(model_save("{\"a\":1}", import("a.json"), expected)),
            s.rollback_model(1, expected, "key:b", 1),
        );
        let (won, lost) = match (a, b) {
            (Ok(w), Err(e)) | (Err(e), Ok(w)) => (w, e),
            (a, b) => panic!("exactly one must win: {a:?} {b:?}"),
        };
        assert_eq!(won.version, round + 2);
        assert!(matches!(lost, StoreError::Conflict(_)), "{lost}");
    }
    let entries = s
        .audit_list(0, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action.starts_with("model."))
        .count();
    assert_eq!(entries, 6, "the losers left no audit entry");
    assert_eq!(s.model_history().await.unwrap().len(), 6);
    assert!(s.audit_verify().await.unwrap().ok);
}

async fn audit_detects_model_rows_written_directly(f: &Fixture) {
    let s = &f.store;
    s.save_model(model_save("{\"m\":1}", import("m1.json"), None))
        .await
        .unwrap();
    s.rollback_model(1, Some(1), "key:admin", 2_000)
        .await
        .unwrap();
    let verify_kinds = || async { kinds(&s.audit_verify().await.unwrap()).join(",") };
    assert_eq!(verify_kinds().await, "");
    for (edit, undo, kind) in [
        (
            "UPDATE models SET model = '{\"m\":9}' WHERE version = 2",
            "UPDATE models SET model = '{\"m\":1}' WHERE version = 2",
            "model_altered",
        ),
        (
            "UPDATE models SET source = 'import' WHERE version = 2",
            "UPDATE models SET source = 'rollback' WHERE version = 2",
            "model_altered",
        ),
        (
            "UPDATE models SET through_decision = 5 WHERE version = 1",
            "UPDATE models SET through_decision = 0 WHERE version = 1",
            "model_altered",
        ),
        (
            "UPDATE models SET actor = 'key:x' WHERE version = 1",
            "UPDATE models SET actor = 'key:admin' WHERE version = 1",
            "model_altered",
        ),
        (
            "INSERT INTO models (version, model, sha256, source, source_detail, \
             through_decision, actor, created_at) SELECT 3, model, sha256, source, \
             source_detail, through_decision, actor, created_at FROM models WHERE version = 1",
            "DELETE FROM models WHERE version = 3",
            "model_inserted",
        ),
    ] {
        f.raw(edit).await;
        assert_eq!(verify_kinds().await, kind, "{edit}");
        f.raw(undo).await;
        assert_eq!(verify_kinds().await, "", "{undo}");
    }
    f.raw("DELETE FROM models WHERE version = 2").await;
    assert_eq!(verify_kinds().await, "model_missing");
}

async fn model_shadow_scores_commit_with_their_ads_and_decisions_are_read_in_order(f: &Fixture) {
    let s = &f.store;
    let shadow = |p: f64| samaritan_store::ShadowInput {
        model_version: 1,
        probability: p,
        severe: 0.5,
        raised: p >= 0.5,
        detail: r#"{"top":[]}"#.into(),
        margin: (p - 0.5).abs(),
    };
    let mut a = item(ad("t1", "x"), analysis("t1", Verdict::Review, 10, &[]));
    a.shadow = Some(shadow(0.75));
    let b = item(ad("t2", "y"), analysis("t2", Verdict::Review, 20, &[]));
    s.ingest(vec![a.clone(), b]).await.unwrap();
    let got = s.shadow_scores_of("t1").await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(
        (got[0].revision, got[0].probability, got[0].raised),
        (1, 0.75, true)
    );
    assert!(s.shadow_scores_of("t2").await.unwrap().is_empty());
    // An unchanged re-send records nothing; a new revision gets its own score.
    s.ingest(vec![a]).await.unwrap();
    assert_eq!(s.shadow_scores_of("t1").await.unwrap().len(), 1);
    let mut a2 = item(ad("t1", "x2"), analysis("t1", Verdict::Review, 10, &[]));
    a2.shadow = Some(shadow(0.25));
    s.ingest(vec![a2]).await.unwrap();
    let got = s.shadow_scores_of("t1").await.unwrap();
    let revs: Vec<(i64, bool)> = got.iter().map(|g| (g.revision, g.raised)).collect();
    assert_eq!(revs, [(2, false), (1, true)]);
    // Each revision's text is still readable, for learning from a decision on it.
    let r1 = s.ad_at_revision("t1", 1).await.unwrap().unwrap();
    assert!(r1.contains("\"x\""), "{r1}");
    let r2 = s.ad_at_revision("t1", 2).await.unwrap().unwrap();
    assert!(r2.contains("x2"), "{r2}");
    assert!(s.ad_at_revision("t1", 3).await.unwrap().is_none());
    // Decisions after a seq, in order.
    let now = now_ms();
    s.queue_claim("key:r", QueueState::Open, 5, 60_000, now)
        .await
        .unwrap();
    let d1 = s
        .decide(
            &decision("t2", 1, DecisionAction::Allow, "not_commercial"),
            "key:r",
            now,
        )
        .await
        .unwrap();
    let d2 = s
        .decide(
            &decision("t1", 2, DecisionAction::Remove, "commercial_sex"),
            "key:r",
            now,
        )
        .await
        .unwrap();
    let all: Vec<i64> = s
        .decisions_after(0, 10)
        .await
        .unwrap()
        .iter()
        .map(|d| d.seq)
        .collect();
    assert_eq!(all, [d1.seq, d2.seq]);
    let later = s.decisions_after(d1.seq, 10).await.unwrap();
    assert_eq!(later.len(), 1);
    assert_eq!((later[0].ad_id.as_str(), later[0].revision), ("t1", 2));
    assert_eq!(s.decisions_after(0, 1).await.unwrap().len(), 1);
    // Decided ads beside their shadow score: t2 has none, t1's decided revision 2 has one.
    let decided = s.shadow_decided(10).await.unwrap();
    assert_eq!(decided.len(), 1, "{decided:?}");
    let d = &decided[0];
    assert_eq!(
        (
            d.ad_id.as_str(),
            d.revision,
            d.decision_seq,
            d.action.as_str()
        ),
        ("t1", 2, d2.seq, "remove")
    );
    assert_eq!(
        (d.verdict.as_str(), d.model_version, d.raised),
        ("review", 1, false)
    );
    assert_eq!(d.probability, 0.25);
}

async fn stream_messages_are_parked_once_whole_and_audited(f: &Fixture) {
    let s = &f.store;
    let payload = b"{\"id\": 7, not an ad";
    let m = samaritan_store::ParkInput {
        stream: "ADS_T",
        seq: 41,
        subject: "samaritan.ads.api",
        msg_id: Some("p-1:abc"),
        payload,
        error: "not an ad (line 1, column 8: malformed JSON)",
        attempts: 1,
    };
    let (id, new) = s.park_message(&m, "worker:test").await.unwrap();
    assert!(new);
    // The same stream sequence again (a redelivery parked twice) changes nothing.
    let (again, new) = s.park_message(&m, "worker:test").await.unwrap();
    assert_eq!((again, new), (id, false));
    let other = samaritan_store::ParkInput {
        seq: 42,
        msg_id: None,
        payload: b"\xff\xfe",
        error: "not UTF-8 at byte 0",
        ..m.clone()
    };
    let (id2, _) = s.park_message(&other, "worker:test").await.unwrap();
    assert!(id2 > id);
    let parked = s.parked_messages(0, 10).await.unwrap();
    assert_eq!(parked.len(), 2);
    assert_eq!(parked[0].seq, 41);
    assert_eq!(parked[0].payload, payload.to_vec());
    assert_eq!(parked[0].msg_id.as_deref(), Some("p-1:abc"));
    assert_eq!(parked[0].error, m.error);
    assert_eq!(parked[0].attempts, 1);
    assert_eq!(
        parked[0].payload_sha256,
        samaritan_store::sha256_hex(payload)
    );
    assert_eq!(parked[1].payload, b"\xff\xfe".to_vec());
    assert_eq!(s.parked_messages(id, 10).await.unwrap().len(), 1);
    // Audited once per parking, naming the message but never holding its payload.
    let entries = s.audit_list(0, 1000).await.unwrap();
    let parks: Vec<_> = entries
        .iter()
        .filter(|e| e.action == "stream.park")
        .collect();
    assert_eq!(parks.len(), 2);
    assert_eq!(parks[0].subject, "ADS_T:41");
    let detail = parks[0].detail.to_string();
    assert!(detail.contains(&samaritan_store::sha256_hex(payload)));
    assert!(!detail.contains("not an ad"));
    assert!(s.audit_verify().await.unwrap().ok);
}

async fn the_linker_is_elected_one_at_a_time_on_postgres_only(f: &Fixture) {
    let s = &f.store;
    let poll = std::time::Duration::from_millis(50);
    // A key of this test's own (advisory locks are per database, shared by every schema).
    let key = 1_000_000_007 + now_ms() % 1_000_000;
    if s.dialect() == samaritan_store::Dialect::Sqlite {
        match s.lead(key, "worker:a", poll).await {
            Err(StoreError::Invalid(m)) => assert!(m.contains("PostgreSQL"), "{m}"),
            Err(e) => panic!("unexpected error {e}"),
            Ok(_) => panic!("SQLite elected a linker"),
        }
        return;
    }
    let mut a = s.lead(key, "worker:a", poll).await.unwrap();
    a.check().await.unwrap();
    // A standby waits while the active one holds the lock...
    let standby = s.lead(key, "worker:b", poll);
    tokio::pin!(standby);
    assert!(
        tokio::time::timeout(std::time::Duration::from_millis(400), &mut standby)
            .await
            .is_err(),
        "a second linker was elected beside the first"
    );
    // ...and takes over once it is gone (its connection closed: the process died).
    drop(a);
    let mut b = tokio::time::timeout(std::time::Duration::from_secs(10), standby)
        .await
        .expect("the standby did not take over within 10 s")
        .unwrap();
    b.check().await.unwrap();
    b.release().await.unwrap();
    let leads = s
        .audit_list(0, 1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "linker.lead")
        .map(|e| e.actor)
        .collect::<Vec<_>>();
    assert_eq!(leads, vec!["worker:a".to_owned(), "worker:b".to_owned()]);
    assert!(s.audit_verify().await.unwrap().ok);
}

async fn queued_steps_commit_whole_or_not_at_all(f: &Fixture) {
    let s = &f.store;
    // The database refuses one ad (a stand-in for any failure inside the transaction).
    match s.dialect() {
        samaritan_store::Dialect::Sqlite => {
            f.raw(
                "CREATE TRIGGER refuse_poison BEFORE INSERT ON ads WHEN NEW.id = 'poison' \
                 BEGIN SELECT RAISE(ABORT, 'refused by the test trigger'); END;",
            )
            .await
        }
        samaritan_store::Dialect::Postgres => {
            f.raw(
                "CREATE FUNCTION refuse_poison() RETURNS trigger AS $$ BEGIN \
                 IF NEW.id = 'poison' THEN RAISE EXCEPTION 'refused by the test trigger'; END IF; \
                 RETURN NEW; END $$ LANGUAGE plpgsql; \
                 CREATE TRIGGER refuse_poison BEFORE INSERT ON ads FOR EACH ROW \
                 EXECUTE FUNCTION refuse_poison();",
            )
            .await
        }
    }
    let step = |id: &str| {
        (
            vec![item(ad(id, "text"), analysis(id, Verdict::Allow, 0, &[]))],
            samaritan_store::NetworkChanges::default(),
        )
    };
    // A run with a refused ad, queued beside another request so that they share a group
    // commit: the group fails, each request is retried alone, and nothing of the run is kept.
    let run = s
        .queue_ingest_steps(vec![step("s1"), step("poison"), step("s3")])
        .await
        .unwrap();
    let other = s
        .queue_ingest(
            vec![item(
                ad("s2", "text"),
                analysis("s2", Verdict::Allow, 0, &[]),
            )],
            samaritan_store::NetworkChanges::default(),
        )
        .await
        .unwrap();
    let e = run.committed().await.unwrap_err();
    assert!(e.to_string().contains("refused by the test trigger"), "{e}");
    assert_eq!(other.committed().await.unwrap().len(), 1);
    let ids = ["s1", "s2", "s3", "poison"];
    let stored = s.digests(&ids).await.unwrap();
    assert_eq!(stored.keys().collect::<Vec<_>>(), vec!["s2"]);
    // Without it, every step commits, answered in order.
    let done = s
        .queue_ingest_steps(vec![step("s1"), step("s3")])
        .await
        .unwrap()
        .committed()
        .await
        .unwrap();
    let got: Vec<&str> = done.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(got, vec!["s1", "s3"]);
    assert_eq!(s.stats().await.unwrap().ads, 3);
    // An ad twice in one run is refused before anything is queued.
    let twice = s
        .queue_ingest_steps(vec![step("s4"), step("s4")])
        .await
        .err()
        .unwrap();
    assert!(matches!(twice, StoreError::Invalid(_)), "{twice}");
}

fn learn(n: i64) -> samaritan_store::Draws {
    samaritan_store::Draws {
        learning: n,
        audit: 0,
    }
}

/// Three reviewers claiming one item each at once, each drawing `draws`: the ids they got drawn
/// from `source`, sorted.
async fn race_draws(
    s: &samaritan_store::Store,
    draws: samaritan_store::Draws,
    now: i64,
    source: &str,
) -> Vec<String> {
    let mut tasks = Vec::new();
    for r in 0..3 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            s.queue_claim_drawing(
                &format!("key:r{r}"),
                QueueState::Open,
                1,
                draws,
                60_000,
                now,
            )
            .await
            .unwrap()
        }));
    }
    let mut drawn = Vec::new();
    for t in tasks {
        drawn.extend(
            t.await
                .unwrap()
                .into_iter()
                .filter(|i| i.source == source)
                .map(|i| i.ad_id),
        );
    }
    drawn.sort();
    drawn
}

fn audit_draw(n: i64) -> samaritan_store::Draws {
    samaritan_store::Draws {
        learning: 0,
        audit: n,
    }
}

async fn the_quality_audit_samples_allowed_ads_and_draws_each_once(f: &Fixture) {
    let s = &f.store;
    let sample = || f.raw_strings("SELECT ad_id FROM audit_sample ORDER BY ad_id, revision");
    // Off by default: nothing is sampled.
    assert_eq!(s.audit_sample_rate(), 0.0);
    s.ingest(vec![item(
        ad("a0", "a0"),
        analysis("a0", Verdict::Allow, 0, &[]),
    )])
    .await
    .unwrap();
    assert!(sample().await.is_empty());
    assert!(s.set_audit_sample_rate(1.5).is_err());
    assert!(s.set_audit_sample_rate(f64::NAN).is_err());
    // At rate 1 every allowed revision is sampled, never a flagged one, never an unchanged one.
    s.set_audit_sample_rate(1.0).unwrap();
    s.ingest(vec![
        item(ad("a1", "a1"), analysis("a1", Verdict::Allow, 0, &[])),
        item(ad("a2", "a2"), analysis("a2", Verdict::Allow, 0, &[])),
        item(ad("a3", "a3"), analysis("a3", Verdict::Allow, 0, &[])),
        item(ad("aq", "aq"), analysis("aq", Verdict::Review, 40, &[])),
    ])
    .await
    .unwrap();
    s.ingest(vec![item(
        ad("a0", "a0"),
        analysis("a0", Verdict::Allow, 0, &[]),
    )])
    .await
    .unwrap();
    assert_eq!(sample().await, ["a1", "a2", "a3"]);
    // A new revision replaces the undrawn sample of the old one.
    s.ingest(vec![item(
        ad("a3", "a3 v2"),
        analysis("a3", Verdict::Allow, 0, &[]),
    )])
    .await
    .unwrap();
    let revs = f
        .raw_strings("SELECT CAST(revision AS TEXT) FROM audit_sample WHERE ad_id = 'a3'")
        .await;
    assert_eq!(revs, ["2"]);
    s.set_audit_sample_rate(0.0).unwrap();

    // A claim of two with one audit draw: the oldest sample (ties by id), then the queue.
    let now = now_ms();
    let got = s
        .queue_claim_drawing("key:a", QueueState::Open, 2, audit_draw(1), 60_000, now)
        .await
        .unwrap();
    let mut ids: Vec<(&str, &str)> = got
        .iter()
        .map(|i| (i.ad_id.as_str(), i.source.as_str()))
        .collect();
    ids.sort();
    assert_eq!(ids, [("a1", "audit"), ("aq", "policy")]);
    let claim = s
        .audit_list(0, 1000)
        .await
        .unwrap()
        .into_iter()
        .rev()
        .find(|e| e.action == "queue.claim")
        .unwrap();
    assert_eq!(claim.detail["audit"], serde_json::json!(["a1"]));
    let counts = s.audit_counts().await.unwrap();
    assert_eq!((counts.sampled, counts.waiting, counts.drawn), (3, 2, 1));
    assert!(s.audit_answers(10).await.unwrap().is_empty());

    // Racing reviewers never draw the same sample (two left, three draws of one).
    let drawn = race_draws(s, audit_draw(1), now, "audit").await;
    assert_eq!(drawn, ["a2", "a3"]);
    assert_eq!(s.audit_counts().await.unwrap().waiting, 0);

    // Answers are the latest decision on the drawn revision, newest first; a drawn row stays
    // after the ad changes, and its answer is still the decision on the revision drawn.
    s.decide(
        &decision("a1", 1, DecisionAction::Allow, "not_commercial"),
        "key:a",
        now + 1,
    )
    .await
    .unwrap();
    let holder = |id: &str| {
        let s = s.clone();
        let id = id.to_owned();
        async move {
            s.queue_items(&[id.as_str()], now + 2).await.unwrap()[0]
                .claimed_by
                .clone()
                .unwrap()
        }
    };
    let a2 = holder("a2").await;
    s.decide(
        &decision("a2", 1, DecisionAction::Remove, "commercial_sex"),
        &a2,
        now + 2,
    )
    .await
    .unwrap();
    let answers = s.audit_answers(10).await.unwrap();
    let got: Vec<(&str, i64, &str)> = answers
        .iter()
        .map(|a| (a.ad_id.as_str(), a.revision, a.action.as_str()))
        .collect();
    assert_eq!(got, [("a2", 1, "remove"), ("a1", 1, "allow")]);
    assert_eq!(answers[0].actor, a2);
    let counts = s.audit_counts().await.unwrap();
    assert_eq!((counts.answered, counts.removed), (2, 1));
    assert_eq!(s.audit_answers(1).await.unwrap().len(), 1);
    // Nothing sampled is left: a further audit draw draws nothing, the queue is claimed as usual.
    let got = s
        .queue_claim_drawing("key:b", QueueState::Open, 1, audit_draw(1), 60_000, now + 3)
        .await
        .unwrap();
    assert!(got.iter().all(|i| i.source != "audit"));
    // Ingest updating an ad while reviewers draw its sample: every call ends, none deadlocks.
    s.set_audit_sample_rate(1.0).unwrap();
    for round in 0..20 {
        let id = format!("race{round}");
        s.ingest(vec![item(
            ad(&id, "v1"),
            analysis(&id, Verdict::Allow, 0, &[]),
        )])
        .await
        .unwrap();
        let (s1, s2, id2) = (s.clone(), s.clone(), id.clone());
        let update = tokio::spawn(async move {
            s1.ingest(vec![item(
                ad(&id2, "v2"),
                analysis(&id2, Verdict::Review, 20, &[]),
            )])
            .await
        });
        let draw = tokio::spawn(async move {
            s2.queue_claim_drawing(
                "key:race",
                QueueState::Open,
                1,
                audit_draw(1),
                60_000,
                now + 5,
            )
            .await
        });
        update.await.unwrap().unwrap();
        let drawn = draw.await.unwrap().unwrap();
        for i in drawn {
            s.queue_release(&i.ad_id, "key:race", now + 6)
                .await
                .unwrap();
        }
    }
    s.set_audit_sample_rate(0.0).unwrap();
    // A sampled revision decided another way is answered without a draw; one of an ad whose
    // earlier revision was decided is drawn, its queue item opened again.
    s.set_audit_sample_rate(1.0).unwrap();
    s.ingest(vec![
        item(ad("a4", "a4"), analysis("a4", Verdict::Allow, 0, &[])),
        item(ad("a5", "a5"), analysis("a5", Verdict::Review, 30, &[])),
    ])
    .await
    .unwrap();
    let later = now + 10;
    s.decide(
        &DecisionInput {
            basis: DecisionBasis::Override { supersedes: None },
            ..decision("a4", 1, DecisionAction::Report, "child_sex_trafficking")
        },
        "key:lead",
        later,
    )
    .await
    .unwrap();
    let c5 = s
        .queue_claim_ads("key:c", QueueState::Open, &["a5"], 60_000, later)
        .await
        .unwrap();
    assert_eq!(c5, ["a5"]);
    s.decide(
        &decision("a5", 1, DecisionAction::Remove, "commercial_sex"),
        "key:c",
        later + 1,
    )
    .await
    .unwrap();
    s.ingest(vec![item(
        ad("a5", "a5 v2"),
        analysis("a5", Verdict::Allow, 0, &[]),
    )])
    .await
    .unwrap();
    s.set_audit_sample_rate(0.0).unwrap();
    let counts = s.audit_counts().await.unwrap();
    assert_eq!((counts.answered, counts.removed, counts.waiting), (3, 2, 1));
    // a5's new revision went back to the queue (a decided ad's new revision is looked at
    // again): its sample waits there for that decision, and is not drawn.
    assert!(
        s.queue_items(&["a5"], later + 1).await.unwrap()[0].state == QueueState::Open,
        "the new revision is queued"
    );
    // A claimer already holding a claim's worth of items draws nothing.
    s.set_audit_sample_rate(1.0).unwrap();
    s.ingest(vec![item(
        ad("a6", "a6"),
        analysis("a6", Verdict::Allow, 0, &[]),
    )])
    .await
    .unwrap();
    s.set_audit_sample_rate(0.0).unwrap();
    assert_eq!(s.audit_counts().await.unwrap().waiting, 2);
    let held = s
        .queue_claim_drawing(
            "key:d",
            QueueState::Open,
            1,
            samaritan_store::Draws::default(),
            60_000,
            later + 2,
        )
        .await
        .unwrap();
    let again = s
        .queue_claim_drawing(
            "key:d",
            QueueState::Open,
            1,
            audit_draw(1),
            60_000,
            later + 3,
        )
        .await
        .unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].ad_id, held[0].ad_id);
    assert_eq!(s.audit_counts().await.unwrap().waiting, 2);
    let got = s
        .queue_claim_drawing(
            "key:e",
            QueueState::Open,
            1,
            audit_draw(1),
            60_000,
            later + 4,
        )
        .await
        .unwrap();
    assert_eq!(
        (got[0].ad_id.as_str(), got[0].source.as_str()),
        ("a6", "audit")
    );
    assert_eq!(got[0].claimed_by.as_deref(), Some("key:e"));
    assert_eq!(s.audit_counts().await.unwrap().waiting, 1);

    // Purging an ad takes its samples with it.
    let rows = || f.raw_strings("SELECT ad_id FROM audit_sample WHERE ad_id = 'a1'");
    assert_eq!(rows().await, ["a1"]);
    let purged = s
        .purge_ads(&["a1".to_owned()], now_ms() + 60_000, "cli", now_ms())
        .await
        .unwrap();
    assert_eq!(purged.ads, ["a1"]);
    assert!(rows().await.is_empty());
}

async fn active_learning_draws_the_least_certain_allowed_ads_once(f: &Fixture) {
    let s = &f.store;
    let shadow = |p: f64| samaritan_store::ShadowInput {
        model_version: 1,
        probability: p,
        severe: 0.1,
        raised: p >= 0.5,
        detail: r#"{"top":[]}"#.into(),
        margin: (p - 0.5).abs(),
    };
    // Allowed ads with margins 0.02, 0.1, 0.2 and 0.45 (outside the band), a flagged ad, and an
    // allowed ad without a score.
    let mut items = Vec::new();
    for (id, p) in [("l1", 0.6), ("l2", 0.48), ("l3", 0.3), ("l4", 0.05)] {
        let mut it = item(ad(id, id), analysis(id, Verdict::Allow, 0, &[]));
        it.shadow = Some(shadow(p));
        items.push(it);
    }
    let mut flagged = item(ad("lq", "lq"), analysis("lq", Verdict::Review, 40, &[]));
    flagged.shadow = Some(shadow(0.5));
    items.push(flagged);
    items.push(item(ad("l5", "l5"), analysis("l5", Verdict::Allow, 0, &[])));
    s.ingest(items).await.unwrap();
    let pool = || f.raw_strings("SELECT ad_id FROM learning_pool ORDER BY margin, ad_id");
    assert_eq!(pool().await, ["l2", "l1", "l3"]);

    // A claim of two with one drawn: the least certain ad, as the claimer's, then the queue.
    let now = now_ms();
    let got = s
        .queue_claim_drawing("key:a", QueueState::Open, 2, learn(1), 60_000, now)
        .await
        .unwrap();
    let mut ids: Vec<(&str, &str)> = got
        .iter()
        .map(|i| (i.ad_id.as_str(), i.source.as_str()))
        .collect();
    ids.sort();
    assert_eq!(ids, [("l2", "learning"), ("lq", "policy")]);
    let drawn = got.iter().find(|i| i.ad_id == "l2").unwrap();
    assert_eq!(drawn.state, QueueState::Claimed);
    assert_eq!(drawn.claimed_by.as_deref(), Some("key:a"));
    assert_eq!(pool().await, ["l1", "l3"]);
    let audit = s.audit_list(0, 1000).await.unwrap();
    let claim = audit
        .iter()
        .rev()
        .find(|e| e.action == "queue.claim")
        .unwrap();
    assert_eq!(claim.detail["learning"], serde_json::json!(["l2"]));

    // Racing reviewers never draw the same ad (two left in the pool, three draws of one).
    let drawn_ids = race_draws(s, learn(1), now, "learning").await;
    assert_eq!(drawn_ids, ["l1", "l3"]);
    assert!(pool().await.is_empty());

    // A new revision the policy queues leaves the pool; one it allows and the model doubts
    // enters it again; a decision takes it out.
    let mut again = item(ad("l4", "l4 v2"), analysis("l4", Verdict::Allow, 0, &[]));
    again.shadow = Some(shadow(0.55));
    s.ingest(vec![again]).await.unwrap();
    assert_eq!(pool().await, ["l4"]);
    let mut queued = item(ad("l4", "l4 v3"), analysis("l4", Verdict::Review, 30, &[]));
    queued.shadow = Some(shadow(0.52));
    s.ingest(vec![queued]).await.unwrap();
    assert!(pool().await.is_empty());
    let mut back = item(ad("l4", "l4 v4"), analysis("l4", Verdict::Allow, 0, &[]));
    back.shadow = Some(shadow(0.45));
    s.ingest(vec![back]).await.unwrap();
    assert_eq!(pool().await, ["l4"]);
    // (Drawn by someone holding no claim: a claimer's own live items come first, and nothing is
    // drawn past them.)
    s.queue_claim_drawing("key:f", QueueState::Open, 1, learn(1), 60_000, now + 1)
        .await
        .unwrap();
    s.decide(
        &decision("l4", 4, DecisionAction::Allow, "not_commercial"),
        "key:f",
        now + 2,
    )
    .await
    .unwrap();
    assert!(pool().await.is_empty());
    // The escalated queue never draws.
    let got = s
        .queue_claim_drawing(
            "key:lead",
            QueueState::Escalated,
            3,
            learn(3),
            60_000,
            now + 3,
        )
        .await
        .unwrap();
    assert!(got.iter().all(|i| i.source == "policy"));
}
