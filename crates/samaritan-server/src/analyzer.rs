//! The seam between the service and the engine.
//!
//! The server never decides what an ad means; it asks an [`Analyzer`]. The binary wires the real
//! engine pipeline behind this trait; tests use small deterministic analyzers of their own. The
//! trait is synchronous (the engine is pure and CPU-bound): the server calls it on the blocking
//! thread pool.

use samaritan_engine::model::{Ad, Analysis};

/// A policy text rejected by the engine's parser or its own tests.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct PolicyRejection {
    /// What is wrong, in words a policy author reads (naming the line when there is one).
    pub message: String,
    /// 1-based line of the problem, when known.
    pub line: Option<usize>,
}

/// The policy in force.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyInfo {
    /// `name@version`.
    pub label: String,
    /// The TOML text.
    pub text: String,
}

/// Turns ads into analyses under a policy that can be swapped while running.
pub trait Analyzer: Send + Sync + 'static {
    /// One analysis per ad, in input order, each with `id` equal to its ad's.
    fn analyze(&self, ads: &[Ad]) -> Vec<Analysis>;

    /// The policy in force.
    fn policy(&self) -> PolicyInfo;

    /// Parses and tests a policy text without putting it in force; returns its label.
    fn check_policy(&self, text: &str) -> Result<String, PolicyRejection>;

    /// Puts a policy text in force atomically (analyses already running finish under the old
    /// one); returns its label. Fails, changing nothing, when the text does not check.
    fn set_policy(&self, text: &str) -> Result<String, PolicyRejection>;

    /// Analyses and links `ads` (new or changed content), in input order. The default analyses
    /// each ad alone and records nothing for the linker.
    fn ingest_linked(&self, ads: &[Ad]) -> Ingested {
        Ingested {
            link_state: vec![Vec::new(); ads.len()],
            analyses: self.analyze(ads),
            shadow: Vec::new(),
        }
    }

    /// [`Analyzer::ingest_linked`] with what a prepare worker made of some of the ads (one entry
    /// per ad, or none at all): an analyzer that can link takes them instead of preparing those
    /// ads again, when they were prepared under the policy in force. The default ignores them.
    fn ingest_prepared(
        &self,
        ads: &[Ad],
        prepared: Vec<Option<samaritan_engine::linked::PreparedAd>>,
    ) -> Ingested {
        let _ = prepared;
        self.ingest_linked(ads)
    }

    /// Network changes since the last call; the default (no linker) has none. `written` are the
    /// memberships `(ad, network)` that ingest items about to be stored carry in their analyses
    /// (the store writes them first, in the same transaction): the changes correct them where
    /// the linker has moved on since those analyses were made ([`written_memberships`]).
    fn linked_network_changes(
        &self,
        written: &[(String, Option<String>)],
    ) -> samaritan_store::NetworkChanges {
        let _ = written;
        samaritan_store::NetworkChanges::default()
    }

    /// Backtests a policy text against the one in force over `ads`, each analysed alone (no
    /// network context, images not taken in again), without putting it in force. Fails when the
    /// text does not check, or (the default) when this analyzer cannot compare policies.
    fn diff_policy(&self, _text: &str, _ads: &[Ad]) -> Result<PolicyDiff, PolicyRejection> {
        Err(PolicyRejection {
            message: "this analyzer cannot backtest a policy".into(),
            line: None,
        })
    }

    /// How the ad `id` differs from its template (kept words, this ad's fills of the slots,
    /// additions, omissions), when the linker knows one; the default keeps no templates.
    fn template_diff(&self, _id: &str) -> Option<Vec<samaritan_engine::similar::DiffPart>> {
        None
    }

    /// Near PDQ values from an in-memory index; the default keeps none (the server then asks
    /// the store).
    fn pdq_near(&self, _pdq: &str, _max_distance: u32) -> Option<Vec<(u32, String)>> {
        None
    }

    /// Puts a learned model in force for shadow scoring (`None`: no model); the default
    /// analyzer cannot score and ignores it.
    fn set_model(&self, _model: Option<std::sync::Arc<crate::learning::ActiveModel>>) {}

    /// The learned model in force, if any.
    fn model(&self) -> Option<std::sync::Arc<crate::learning::ActiveModel>> {
        None
    }

    /// Where the CPU time of each stage is counted, when a worker counts it
    /// ([`crate::stage_cpu`]); the default counts nothing.
    fn stage_cpu(&self) -> Option<&crate::stage_cpu::StageCpu> {
        None
    }

    /// The model's features of `ad` under the policy in force (for learning from a decision);
    /// `None` when this analyzer cannot make them.
    fn model_features(
        &self,
        _ad: &Ad,
        _config: &samaritan_engine::learn::FeatureConfig,
    ) -> Option<samaritan_engine::learn::Features> {
        None
    }
}

/// A policy backtest: the two labels, the tally of verdict transitions, and the first
/// [`PolicyDiff::MAX_CHANGES`] ads whose verdict or report candidacy changes.
#[derive(Debug, Clone)]
pub struct PolicyDiff {
    pub old: String,
    pub new: String,
    pub tally: samaritan_engine::policy::compare::Tally,
    pub changes: Vec<samaritan_engine::policy::compare::Change>,
}

impl PolicyDiff {
    pub const MAX_CHANGES: usize = 200;
}

/// What [`Analyzer::ingest`] hands back: one analysis per ad, and per ad the link-state
/// records `(kind, key, value)` to store in the same transaction as the ad, and the learned
/// model's shadow score when a model is in force (empty, or one per ad).
#[derive(Debug, Default)]
pub struct Ingested {
    pub analyses: Vec<Analysis>,
    pub link_state: Vec<Vec<(String, String, Vec<u8>)>>,
    pub shadow: Vec<Option<samaritan_store::ShadowInput>>,
}

/// The memberships ingest `items` write from their analyses (see
/// [`Analyzer::linked_network_changes`]).
pub fn written_memberships(items: &[samaritan_store::IngestItem]) -> Vec<(String, Option<String>)> {
    items
        .iter()
        .map(|i| {
            (
                i.ad.id.clone(),
                i.analysis.network.as_ref().map(|n| n.id.clone()),
            )
        })
        .collect()
}
