//! `samaritan model`: train the learned model (issue 25) on decided ads, score ads with it, and
//! measure it against ground truth, alone and beside the policy. The learning, scoring and
//! measuring are in `samaritan_engine::learn` and `samaritan_eval::model`; this file reads files.

use std::collections::HashMap;
use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use rayon::prelude::*;
use samaritan_engine::learn::{
    self, FeatureConfig, Features, FtrlParams, Label, Model, ModelInput, RaisePoint,
};
use samaritan_engine::model::{Ad, Analysis, Verdict};
use samaritan_engine::pipeline::Context as StageContext;
use samaritan_engine::{Engine, conformance::memex};
use samaritan_eval::TruthRecord;
use samaritan_eval::model::{ModelItem, evaluate};
use samaritan_eval::plot::{Run, review_loop_svg};
use samaritan_eval::review_loop::{self, Checkpoint, LoopConfig, LoopItem};
use serde::Serialize;

use crate::commands::store_args::{StoreArgs, runtime};
use crate::engine_args::EngineArgs;
use crate::input::{self, Lines};
use crate::ordered::ordered_map;
use samaritan_store::{ModelSave, ModelSource};

#[derive(Args)]
pub struct ModelArgs {
    #[command(subcommand)]
    pub command: ModelCommand,
}

#[derive(Subcommand)]
pub enum ModelCommand {
    /// Learn a model from ads and their truth labels (0 benign; 1 and 2 commercial sex, 2 also
    /// trains the severe head). A share of the ads is held out to calibrate the probability and
    /// choose the raise threshold at a benign rate.
    Train(TrainArgs),
    /// Score ads: JSON Lines `{id, probability, severe, raised, logit, top}` on stdout, `top`
    /// being the features that moved the score most with their spans in the original text.
    Score(ScoreArgs),
    /// Measure a model on ads with truth: ROC AUC, and recall of labels 1 and 2 with the benign
    /// rate, for the policy alone, the model alone and "policy or model".
    Eval(EvalArgs),
    /// Share of the real commercial-sex ads of the Memex set (`../shared/conformance/memex`)
    /// raised by the policy, the model and either, per half.
    Memex(MemexArgs),
    /// Put a model file (made by `model train`) in the store as its new current version (the
    /// bootstrap of the service's model; audited `model.update`). `samaritan serve` scores every
    /// ad it ingests with the current version, in shadow, and learns from decisions made after
    /// the import.
    Import(ImportArgs),
    /// The store's model versions as JSON Lines, newest (current) first: version, SHA-256,
    /// what made it, the decisions it accounts for, actor, time, size.
    Show(ShowArgs),
    /// Write a stored version's model (the current one by default) to a file.
    Export(ExportArgs),
    /// Make a new current version equal to version V (audited `model.rollback`). Decisions
    /// already learned are not learned again.
    Rollback(RollbackArgs),
    /// On decided ads with a shadow score: how often the model (at its threshold), the policy's
    /// verdict and the reviewers' latest decision agree, with example ad ids where they
    /// disagree (JSON on stdout).
    ShadowReport(ShadowReportArgs),
    /// Simulate reviewers teaching the model: ads arrive over days, reviewers decide the top of
    /// the queue, an active-learning share and a random audit from the truth (with mistakes and
    /// a poisoner if asked), the model learns in batches; every N decisions it is measured on a
    /// held-out set. One JSON line per checkpoint on stdout.
    Simulate(SimulateArgs),
    /// Draw `model simulate` runs (their JSON Lines) as one SVG.
    Plot(PlotArgs),
}

#[derive(Args)]
pub struct SimulateArgs {
    /// Ads arriving, in order (JSON Lines).
    pub ads: PathBuf,
    /// Truth of the arriving ads (reviewers decide from it).
    #[arg(long)]
    pub truth: PathBuf,
    /// Held-out ads the model is measured on; no reviewer sees them.
    #[arg(long)]
    pub held: PathBuf,
    #[arg(long)]
    pub held_truth: PathBuf,
    /// The policy's verdicts and scores for the arriving ads from a linked `samaritan scan`;
    /// without it each ad is analysed on its own.
    #[arg(long)]
    pub analyses: Option<PathBuf>,
    /// The same for the held-out ads.
    #[arg(long)]
    pub held_analyses: Option<PathBuf>,
    /// Where learning starts (`model train --out`); without it, an empty model.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Write the model at the end here.
    #[arg(long)]
    pub out_model: Option<PathBuf>,
    /// The run's name in the output and the plot's legend.
    #[arg(long, default_value = "run")]
    pub name: String,
    #[arg(long, default_value_t = 50)]
    pub days: usize,
    #[arg(long, default_value_t = 100)]
    pub decisions_per_day: usize,
    /// Decisions per learned batch.
    #[arg(long, default_value_t = 50)]
    pub batch: usize,
    /// Most of a batch one reviewer may carry.
    #[arg(long, default_value_t = 0.25)]
    pub reviewer_share: f64,
    /// Honest reviewers.
    #[arg(long, default_value_t = 5)]
    pub reviewers: usize,
    /// Share of honest decisions that are wrong.
    #[arg(long, default_value_t = 0.0)]
    pub error_rate: f64,
    /// Share of all decisions made by one reviewer who decides every one wrong.
    #[arg(long, default_value_t = 0.0)]
    pub poison_share: f64,
    /// Share of each day's decisions on the ads the model is least sure of.
    #[arg(long, default_value_t = 0.2)]
    pub active_share: f64,
    /// Share of each day's decisions on a uniform random audit (fits threshold and calibration).
    #[arg(long, default_value_t = 0.1)]
    pub audit_share: f64,
    /// Keep the model in shadow: the queue is the policy's alone.
    #[arg(long)]
    pub shadow: bool,
    /// Weight of the model's probability in the queue's order.
    #[arg(long, default_value_t = 0.5)]
    pub model_weight: f64,
    /// Share of benign ads the model may add to those the policy raises.
    #[arg(long, default_value_t = 0.01)]
    pub benign_rate: f64,
    /// Audited benign decisions needed before the threshold is fitted on them (until then the
    /// model raises nothing: its own threshold was chosen on another corpus).
    #[arg(long, default_value_t = 100)]
    pub min_audit_benign: usize,
    #[arg(long, default_value_t = 250)]
    pub checkpoint_every: usize,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    #[command(flatten)]
    pub engine: EngineArgs,
}

#[derive(Args)]
pub struct PlotArgs {
    /// JSON Lines written by `model simulate` (one or more runs each).
    #[arg(required = true)]
    pub runs: Vec<PathBuf>,
    /// Where to write the SVG.
    #[arg(long)]
    pub out: PathBuf,
    #[arg(long, default_value = "Reviewers teaching the model")]
    pub title: String,
    /// The share of benign ads granted to the model in the runs (drawn as a guide above the
    /// policy's own benign rate).
    #[arg(long, default_value_t = 0.01)]
    pub benign_rate: f64,
}

#[derive(Args)]
pub struct ShadowReportArgs {
    /// The newest this many decided ads.
    #[arg(long, default_value_t = 10_000)]
    pub limit: i64,
    /// Example ad ids listed per kind of disagreement.
    #[arg(long, default_value_t = 10)]
    pub examples: usize,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Args)]
pub struct ImportArgs {
    /// The model file (`samaritan model train --out`).
    pub file: PathBuf,
    /// Refuse unless the store's current version is this one (0: none yet); by default the
    /// version read just before writing.
    #[arg(long)]
    pub expect_version: Option<i64>,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Args)]
pub struct ShowArgs {
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Args)]
pub struct ExportArgs {
    /// The version to write (default: the current one).
    #[arg(long)]
    pub version: Option<i64>,
    /// Where to write it.
    pub out: PathBuf,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Args)]
pub struct RollbackArgs {
    /// The version to go back to.
    pub version: i64,
    /// Refuse unless the store's current version is this one; by default the version read just
    /// before writing.
    #[arg(long)]
    pub expect_version: Option<i64>,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Args)]
pub struct TrainArgs {
    /// Ground truth (`truth.jsonl` from `samaritan synth`): `id` and `label` per line.
    #[arg(long)]
    pub truth: PathBuf,
    /// Ads as JSON Lines.
    pub ads: PathBuf,
    /// Where to write the model (JSON).
    #[arg(long)]
    pub out: PathBuf,
    /// Passes over the training ads, each in a new order.
    #[arg(long, default_value_t = 2)]
    pub passes: u32,
    /// Seed of the order (and of the held-out split).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Share of the ads held out for calibration and the threshold.
    #[arg(long, default_value_t = 0.2)]
    pub holdout: f64,
    /// Benign rate at which the raise threshold is chosen on the held-out benign ads.
    #[arg(long, default_value_t = 0.01)]
    pub benign_rate: f64,
    /// Feature space: 2^bits slots.
    #[arg(long, default_value_t = 20)]
    pub bits: u8,
    /// Shortest character n-gram of a word (with `<` `>` at its edges).
    #[arg(long, default_value_t = FeatureConfig::default().char_min)]
    pub char_min: u8,
    /// Longest character n-gram of a word.
    #[arg(long, default_value_t = FeatureConfig::default().char_max)]
    pub char_max: u8,
    #[arg(long, default_value_t = FtrlParams::default().alpha)]
    pub alpha: f64,
    #[arg(long, default_value_t = FtrlParams::default().beta)]
    pub beta: f64,
    #[arg(long, default_value_t = FtrlParams::default().l1)]
    pub l1: f64,
    #[arg(long, default_value_t = FtrlParams::default().l2)]
    pub l2: f64,
    #[command(flatten)]
    pub engine: EngineArgs,
}

#[derive(Args)]
pub struct ScoreArgs {
    /// The model file (`samaritan model train --out`).
    #[arg(long)]
    pub model: PathBuf,
    /// Ads as JSON Lines; `-` for stdin.
    pub ads: PathBuf,
    /// Features listed per ad.
    #[arg(long, default_value_t = 5)]
    pub top: usize,
    #[arg(long)]
    pub threads: Option<usize>,
    #[command(flatten)]
    pub engine: EngineArgs,
}

#[derive(Args)]
pub struct EvalArgs {
    #[arg(long)]
    pub model: PathBuf,
    /// Ground truth for the ads.
    #[arg(long)]
    pub truth: PathBuf,
    /// Ads as JSON Lines.
    pub ads: PathBuf,
    /// The policy's verdicts from a scan of the same ads (`samaritan scan` output, linked);
    /// without it each ad is analysed on its own.
    #[arg(long)]
    pub analyses: Option<PathBuf>,
    /// Benign rate of the oracle operating point.
    #[arg(long, default_value_t = 0.01)]
    pub benign_rate: f64,
    /// Print the report as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub engine: EngineArgs,
}

#[derive(Args)]
pub struct MemexArgs {
    #[arg(long)]
    pub model: PathBuf,
    /// The shared directory holding `conformance/memex` (default: `../shared`).
    #[arg(long)]
    pub shared: Option<PathBuf>,
    /// Raise at this probability instead of the model's own threshold (e.g. one chosen at a
    /// benign rate on another corpus by `samaritan model eval`).
    #[arg(long)]
    pub threshold: Option<f64>,
    /// Cross-validate across the two halves: for each half, a copy of the model learns the
    /// *other* half's ads as commercial sex, one for one with label-0 ads of `--negatives` (as
    /// reviewers would decide both), and is measured on the half it did not learn, and on
    /// label-0 ads neither copy learned (the benign rate at the same threshold).
    #[arg(long, requires = "negatives")]
    pub cross_validate: bool,
    /// With `--cross-validate`: a labelled corpus (`samaritan synth` output) whose label-0 ads
    /// teach and measure the benign side.
    #[arg(long, requires = "truth")]
    pub negatives: Option<PathBuf>,
    /// The truth file of `--negatives`.
    #[arg(long)]
    pub truth: Option<PathBuf>,
    /// With `--cross-validate`: also measure each half at this benign budget (each model's
    /// threshold set on the measured label-0 ads).
    #[arg(long, default_value_t = 0.01)]
    pub benign_rate: f64,
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub engine: EngineArgs,
}

pub fn run(args: ModelArgs) -> Result<ExitCode> {
    match args.command {
        ModelCommand::Train(a) => train(a),
        ModelCommand::Score(a) => score(a),
        ModelCommand::Eval(a) => eval(a),
        ModelCommand::Memex(a) => run_memex(a),
        ModelCommand::Import(a) => runtime()?.block_on(import(a)),
        ModelCommand::Show(a) => runtime()?.block_on(show(a)),
        ModelCommand::Export(a) => runtime()?.block_on(export(a)),
        ModelCommand::Rollback(a) => runtime()?.block_on(rollback(a)),
        ModelCommand::ShadowReport(a) => runtime()?.block_on(shadow_report(a)),
        ModelCommand::Simulate(a) => simulate(a),
        ModelCommand::Plot(a) => plot(a),
    }
}

/// The version a write builds on: the one named (0 = none), else the current one now.
async fn expected(store: &samaritan_store::Store, named: Option<i64>) -> Result<Option<i64>> {
    Ok(match named {
        Some(0) => None,
        Some(v) if v < 0 => bail!("--expect-version is 0 (no version yet) or a version number"),
        Some(v) => Some(v),
        None => store.model_history().await?.first().map(|v| v.version),
    })
}

async fn import(a: ImportArgs) -> Result<ExitCode> {
    let text = std::fs::read_to_string(&a.file)
        .with_context(|| format!("cannot read {}", a.file.display()))?;
    Model::from_json(&text).with_context(|| format!("{} is not a model", a.file.display()))?;
    let name = a
        .file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let store = a.store.open().await?;
    let result = async {
        let expected = expected(&store, a.expect_version).await?;
        Ok::<_, anyhow::Error>(
            store
                .save_model(ModelSave {
                    model: &text,
                    source: ModelSource::Import { file: name },
                    through_decision: None,
                    expected,
                    actor: "cli",
                    now: samaritan_store::now_ms(),
                })
                .await?,
        )
    }
    .await;
    store.close().await;
    let v = result?;
    eprintln!(
        "model version {} is current ({} bytes, sha256 {}; in {})",
        v.version,
        v.bytes,
        v.sha256,
        a.store.describe()
    );
    println!("{}", serde_json::to_string(&v)?);
    Ok(ExitCode::SUCCESS)
}

async fn show(a: ShowArgs) -> Result<ExitCode> {
    let store = a.store.open().await?;
    let history = store.model_history().await;
    store.close().await;
    let history = history?;
    for v in &history {
        println!("{}", serde_json::to_string(v)?);
    }
    match history.first() {
        Some(v) => eprintln!(
            "{} model versions; current: {} ({})",
            history.len(),
            v.version,
            v.source
        ),
        None => eprintln!("no model stored (import one with `samaritan model import FILE`)"),
    }
    Ok(ExitCode::SUCCESS)
}

async fn export(a: ExportArgs) -> Result<ExitCode> {
    let store = a.store.open().await?;
    let found = match a.version {
        Some(v) => store.model_version(v).await,
        None => store.current_model().await,
    };
    store.close().await;
    let Some(m) = found? else {
        match a.version {
            Some(v) => bail!("no model version {v} in the store"),
            None => bail!("no model stored"),
        }
    };
    std::fs::write(&a.out, m.model.as_bytes())
        .with_context(|| format!("cannot write {}", a.out.display()))?;
    eprintln!(
        "model version {} written to {} ({} bytes)",
        m.meta.version,
        a.out.display(),
        m.meta.bytes
    );
    println!("{}", serde_json::to_string(&m.meta)?);
    Ok(ExitCode::SUCCESS)
}

async fn shadow_report(a: ShadowReportArgs) -> Result<ExitCode> {
    if !(1..=1_000_000).contains(&a.limit) {
        bail!("--limit is 1 to 1000000");
    }
    let store = a.store.open().await?;
    let rows = store.shadow_decided(a.limit).await;
    let audit = store.audit_counts().await;
    store.close().await;
    let mut report = samaritan_server::learning::shadow_report(&rows?, a.examples);
    let au = audit?;
    report.audit = Some(au);
    eprintln!(
        "{} decided ads compared ({} left out); agreement with reviewers: model {:.3}, policy \
         {:.3}; model with policy {:.3}",
        report.compared,
        report.left_out,
        report.model_vs_reviewers.rate,
        report.policy_vs_reviewers.rate,
        report.model_vs_policy.rate
    );
    eprintln!(
        "quality audit: {} allowed ads sampled, {} drawn, {} answered, {} removed or reported{}",
        au.sampled,
        au.drawn,
        au.answered,
        au.removed,
        if au.answered > 0 {
            format!(
                " ({:.1} % of the answered: what the policy let through)",
                100.0 * au.removed as f64 / au.answered as f64
            )
        } else {
            String::new()
        }
    );
    println!("{}", serde_json::to_string(&report)?);
    Ok(ExitCode::SUCCESS)
}

async fn rollback(a: RollbackArgs) -> Result<ExitCode> {
    let store = a.store.open().await?;
    let result = async {
        let expected = expected(&store, a.expect_version).await?;
        Ok::<_, anyhow::Error>(
            store
                .rollback_model(a.version, expected, "cli", samaritan_store::now_ms())
                .await?,
        )
    }
    .await;
    store.close().await;
    let v = result?;
    eprintln!(
        "model version {} is current: a copy of version {}",
        v.version, a.version
    );
    println!("{}", serde_json::to_string(&v)?);
    Ok(ExitCode::SUCCESS)
}

fn read_truth(path: &Path) -> Result<HashMap<String, u8>> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut truth = HashMap::new();
    for line in Lines::new(BufReader::new(file), input::DEFAULT_MAX_LINE) {
        let line = line.with_context(|| format!("reading {}", path.display()))?;
        let record: TruthRecord = line
            .and_then(|l| input::parse_line(&l))
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        if record.label > 2 {
            bail!(
                "{}: ad {:?} has label {} (0, 1 or 2)",
                path.display(),
                record.id,
                record.label
            );
        }
        truth.insert(record.id, record.label);
    }
    Ok(truth)
}

fn read_ads(path: &Path) -> Result<Vec<Ad>> {
    let reader = crate::commands::open_input(path)?;
    let mut ads = Vec::new();
    for line in Lines::new(reader, input::DEFAULT_MAX_LINE) {
        let line = line.with_context(|| format!("reading {}", path.display()))?;
        let ad = line
            .and_then(|l| input::parse_ad(&l))
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        ads.push(ad);
    }
    Ok(ads)
}

/// Each ad with its truth label; an ad without one is an error (nothing is silently dropped).
fn labelled(ads: Vec<Ad>, truth: &HashMap<String, u8>, truth_path: &Path) -> Result<Vec<(Ad, u8)>> {
    ads.into_iter()
        .map(|ad| match truth.get(&ad.id) {
            Some(&l) => Ok((ad, l)),
            None => bail!("ad {:?} has no label in {}", ad.id, truth_path.display()),
        })
        .collect()
}

fn label(l: u8) -> Label {
    match l {
        0 => Label::Benign,
        1 => Label::Commercial,
        _ => Label::Severe,
    }
}

/// Features and the unlinked policy verdict of one ad.
fn prepare(engine: &Engine, cfg: &FeatureConfig, ad: &Ad) -> (Features, Verdict) {
    let (x, verdict, _) = prepare_scored(engine, cfg, ad);
    (x, verdict)
}

/// Features, the unlinked policy verdict and its score of one ad.
fn prepare_scored(engine: &Engine, cfg: &FeatureConfig, ad: &Ad) -> (Features, Verdict, f64) {
    let prepared = engine.prepare(ad);
    let x = learn::featurize(&ModelInput::from_prepared(&prepared, engine.policy()), cfg);
    let analysis = engine.finish(ad, &prepared, StageContext::default());
    (x, analysis.verdict, analysis.score)
}

/// A model file, read and checked.
pub(crate) fn load_model(path: &Path) -> Result<Model> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    Model::from_json(&text).with_context(|| format!("model {}", path.display()))
}

fn train(a: TrainArgs) -> Result<ExitCode> {
    if !(0.0..1.0).contains(&a.holdout) || !(0.0..=1.0).contains(&a.benign_rate) {
        bail!("--holdout must be in [0, 1) and --benign-rate in [0, 1]");
    }
    let params = FtrlParams {
        alpha: a.alpha,
        beta: a.beta,
        l1: a.l1,
        l2: a.l2,
    };
    if !(params.alpha > 0.0 && params.beta >= 0.0 && params.l1 >= 0.0 && params.l2 >= 0.0) {
        bail!("--alpha must be > 0; --beta, --l1, --l2 >= 0");
    }
    let cfg = FeatureConfig {
        bits: a.bits,
        char_min: a.char_min,
        char_max: a.char_max,
        ..FeatureConfig::default()
    };
    cfg.check()
        .map_err(|e| anyhow::anyhow!("--bits, --char-min, --char-max: {e}"))?;
    let engine = a.engine.engine()?;
    let truth = read_truth(&a.truth)?;
    let ads = labelled(read_ads(&a.ads)?, &truth, &a.truth)?;
    if ads.is_empty() {
        bail!("no ads in {}", a.ads.display());
    }
    let examples: Vec<(Features, u8)> = ads
        .par_iter()
        .map(|(ad, l)| (prepare(&engine, &cfg, ad).0, *l))
        .collect();
    drop(ads);
    let order = learn::shuffled(examples.len(), a.seed);
    let held_n = (examples.len() as f64 * a.holdout).round() as usize;
    let (held, trained) = order.split_at(held_n);
    let mut model = Model::new(cfg, params);
    let mut train_order = trained.to_vec();
    for pass in 0..a.passes {
        for &i in &train_order {
            let (x, l) = &examples[i];
            model.learn(x, label(*l));
        }
        let again = learn::shuffled(train_order.len(), a.seed.wrapping_add(u64::from(pass) + 1));
        train_order = again.into_iter().map(|k| train_order[k]).collect();
    }
    let logits: Vec<(f64, bool)> = held
        .iter()
        .map(|&i| (model.commercial.logit(&examples[i].0), examples[i].1 != 0))
        .collect();
    if let Some(platt) = learn::fit_platt(&logits) {
        model.calibration = platt;
    } else {
        eprintln!("calibration skipped: the held-out ads lack a benign or a positive ad");
    }
    let benign: Vec<f64> = logits
        .iter()
        .filter(|(_, y)| !y)
        .map(|(s, _)| model.calibration.probability(*s))
        .collect();
    model.raise = learn::threshold_at_rate(&benign, a.benign_rate).map(|p| RaisePoint {
        probability: p,
        benign_rate: a.benign_rate,
        benign_items: benign.len() as u64,
    });
    let json = serde_json::to_string(&model)?;
    std::fs::write(&a.out, json).with_context(|| format!("cannot write {}", a.out.display()))?;
    eprintln!(
        "trained on {} ads x {} passes, held out {} ({} benign); non-zero weights: commercial {}, severe {}; calibration a {:.4} b {:.4}; raise at p >= {}",
        trained.len(),
        a.passes,
        held.len(),
        benign.len(),
        model.commercial.nonzero(),
        model.severe.nonzero(),
        model.calibration.a,
        model.calibration.b,
        model
            .raise
            .map_or("(none: no held-out benign ads)".to_owned(), |r| format!(
                "{:.6}",
                r.probability
            )),
    );
    Ok(ExitCode::SUCCESS)
}

#[derive(Serialize)]
struct ScoreLine {
    id: String,
    #[serde(flatten)]
    score: learn::Score,
    top: Vec<learn::Contribution>,
}

fn score(a: ScoreArgs) -> Result<ExitCode> {
    let model = load_model(&a.model)?;
    let engine = a.engine.engine()?;
    let threads = a
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let reader = crate::commands::open_input(&a.ads)?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let (mut n, mut raised) = (0u64, 0u64);
    let name = a.ads.display().to_string();
    ordered_map(
        Lines::new(reader, input::DEFAULT_MAX_LINE),
        threads,
        256,
        |line| -> Result<ScoreLine> {
            let line = line.with_context(|| format!("reading {name}"))?;
            let ad = line
                .and_then(|l| input::parse_ad(&l))
                .map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
            let prepared = engine.prepare(&ad);
            let (score, top) = model.explain(
                &ModelInput::from_prepared(&prepared, engine.policy()),
                a.top,
            );
            Ok(ScoreLine {
                id: ad.id,
                score,
                top,
            })
        },
        |line: Result<ScoreLine>| -> Result<()> {
            let line = line?;
            n += 1;
            raised += u64::from(line.score.raised);
            serde_json::to_writer(&mut out, &line)?;
            out.write_all(b"\n")?;
            Ok(())
        },
    )?;
    out.flush()?;
    eprintln!("scored {n} ads, {raised} raised");
    Ok(ExitCode::SUCCESS)
}

fn read_verdicts(path: &Path) -> Result<HashMap<String, Verdict>> {
    Ok(read_scanned(path)?
        .into_iter()
        .map(|(id, (v, _))| (id, v))
        .collect())
}

/// Each ad's verdict and score from a `samaritan scan` output.
fn read_scanned(path: &Path) -> Result<HashMap<String, (Verdict, f64)>> {
    let reader = crate::commands::open_input(path)?;
    let mut verdicts = HashMap::new();
    for line in Lines::new(reader, input::DEFAULT_MAX_LINE * 16) {
        let line = line.with_context(|| format!("reading {}", path.display()))?;
        let analysis: Analysis = line
            .and_then(|l| input::parse_line(&l))
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        verdicts.insert(analysis.id, (analysis.verdict, analysis.score));
    }
    Ok(verdicts)
}

fn eval(a: EvalArgs) -> Result<ExitCode> {
    let model = load_model(&a.model)?;
    let engine = a.engine.engine()?;
    let truth = read_truth(&a.truth)?;
    let ads = labelled(read_ads(&a.ads)?, &truth, &a.truth)?;
    if ads.is_empty() {
        bail!("no ads in {}", a.ads.display());
    }
    let scanned = a.analyses.as_deref().map(read_verdicts).transpose()?;
    let items: Vec<Result<ModelItem>> = ads
        .par_iter()
        .map(|(ad, l)| {
            let (x, own) = prepare(&engine, &model.features, ad);
            let verdict = match &scanned {
                Some(v) => *v
                    .get(&ad.id)
                    .with_context(|| format!("ad {:?} missing from the analyses", ad.id))?,
                None => own,
            };
            let s = model.score(&x);
            Ok(ModelItem {
                label: *l,
                probability: s.probability,
                severe: s.severe,
                policy_flagged: verdict != Verdict::Allow,
            })
        })
        .collect();
    let items = items.into_iter().collect::<Result<Vec<_>>>()?;
    let report = evaluate(&items, model.raise.map(|r| r.probability), a.benign_rate);
    eprint!("{}", report.human());
    if a.json {
        println!("{}", serde_json::to_string(&report)?);
    }
    Ok(ExitCode::SUCCESS)
}

fn run_memex(a: MemexArgs) -> Result<ExitCode> {
    let model = load_model(&a.model)?;
    let Some(threshold) = a.threshold.or(model.raise.map(|r| r.probability)) else {
        bail!(
            "model {} has no raise threshold: give --threshold",
            a.model.display()
        );
    };
    if !threshold.is_finite() {
        bail!("--threshold must be a number");
    }
    let engine = a.engine.engine()?;
    let shared = a.shared.unwrap_or_else(|| PathBuf::from("../shared"));
    let path = shared.join("conformance/memex/all_cases.jsonl");
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let cases = memex::parse_cases(&text).with_context(|| path.display().to_string())?;
    let ads = memex::real_ads(&cases);
    // per half: [ads, policy, model, either]
    let mut halves = [[0u64; 4]; 2];
    if a.cross_validate && !(a.benign_rate > 0.0 && a.benign_rate < 1.0) {
        bail!("--benign-rate must be between 0 and 1");
    }
    // each real ad's features and whether the policy raised it
    let mut real: Vec<(Features, bool)> = Vec::with_capacity(ads.len());
    for (i, body) in ads.iter().enumerate() {
        let ad = Ad::text(format!("memex-{i}"), None, Some(body));
        let (x, verdict) = prepare(&engine, &model.features, &ad);
        let policy = verdict != Verdict::Allow;
        let m = model.score(&x).probability >= threshold;
        let h = &mut halves[i % 2];
        h[0] += 1;
        h[1] += u64::from(policy);
        h[2] += u64::from(m);
        h[3] += u64::from(policy || m);
        real.push((x, policy));
    }
    if a.cross_validate {
        let (Some(negatives), Some(truth)) = (&a.negatives, &a.truth) else {
            bail!("--cross-validate needs --negatives and --truth");
        };
        let labels = read_truth(truth)?;
        let benign: Vec<Features> = labelled(read_ads(negatives)?, &labels, truth)?
            .par_iter()
            .filter(|(_, label)| *label == 0)
            .map(|(ad, _)| prepare(&engine, &model.features, ad).0)
            .collect();
        let folds = cross_validate(&model, &real, &benign, threshold, a.benign_rate)?;
        for f in &folds {
            eprintln!("{}", f.human());
            if a.json {
                println!("{}", serde_json::to_string(f)?);
            }
        }
    }
    for (name, h) in [("readable", halves[0]), ("held-out", halves[1])] {
        let rate = |k: u64| k as f64 / h[0].max(1) as f64;
        eprintln!(
            "memex real ads, {name} half: {} ads raised by policy {:.1}%, model {:.1}%, policy or model {:.1}% (p >= {:.6})",
            h[0],
            rate(h[1]) * 100.0,
            rate(h[2]) * 100.0,
            rate(h[3]) * 100.0,
            threshold
        );
        if a.json {
            println!(
                "{}",
                serde_json::json!({"half": name, "ads": h[0], "policy": rate(h[1]), "model": rate(h[2]), "policy_or_model": rate(h[3]), "threshold": threshold})
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// One fold of `model memex --cross-validate`.
#[derive(Debug, Serialize)]
struct Fold {
    /// The half measured (the copy learned the other one).
    half: &'static str,
    /// Real ads learned (the other half) and label-0 ads learned with them.
    learned_real: usize,
    learned_benign: usize,
    /// Ads of the measured half, and label-0 ads measured (learned by neither fold).
    ads: usize,
    benign_ads: usize,
    threshold: f64,
    /// Share of the measured half the model raises, before and after learning.
    model_before: f64,
    model_after: f64,
    /// The same for "policy or model".
    either_before: f64,
    either_after: f64,
    /// Share of the measured label-0 ads the model raises, before and after.
    benign_before: f64,
    benign_after: f64,
    /// The benign budget: each model's threshold set so that at most this share of the
    /// measured label-0 ads is raised (the oracle of `model eval`), and the share of the
    /// measured half raised there, before and after learning.
    benign_rate: f64,
    model_at_rate_before: f64,
    model_at_rate_after: f64,
}

impl Fold {
    fn human(&self) -> String {
        format!(
            "memex cross-validation, {} half ({} ads; learned {} real ads of the other half and {} label-0 ads): model raises {:.1}% -> {:.1}%, policy or model {:.1}% -> {:.1}%; benign raised {:.2}% -> {:.2}% of {} label-0 ads (p >= {:.6}); at {:.1}% benign the model raises {:.1}% -> {:.1}%",
            self.half,
            self.ads,
            self.learned_real,
            self.learned_benign,
            self.model_before * 100.0,
            self.model_after * 100.0,
            self.either_before * 100.0,
            self.either_after * 100.0,
            self.benign_before * 100.0,
            self.benign_after * 100.0,
            self.benign_ads,
            self.threshold,
            self.benign_rate * 100.0,
            self.model_at_rate_before * 100.0,
            self.model_at_rate_after * 100.0
        )
    }
}

/// Cross-validation across the Memex halves (`real`: features and whether the policy raised
/// each ad, in the set's order; even positions are the readable half). For each half, a copy
/// of `model` learns the other half's ads as commercial sex, alternating one for one with
/// label-0 ads (a slice of `benign` per fold), and is measured on its half and on the label-0
/// ads after both slices, which neither copy learned.
fn cross_validate(
    model: &Model,
    real: &[(Features, bool)],
    benign: &[Features],
    threshold: f64,
    benign_rate: f64,
) -> Result<Vec<Fold>> {
    let half = |h: usize| -> Vec<&(Features, bool)> { real.iter().skip(h).step_by(2).collect() };
    let halves = [half(0), half(1)];
    let teach = halves[0].len().max(halves[1].len());
    let measured = benign.get(2 * teach..).unwrap_or_default();
    if measured.len() < 100 {
        bail!(
            "--negatives holds {} label-0 ads: cross-validation needs at least {} (two folds of {teach} to learn, 100 to measure)",
            benign.len(),
            2 * teach + 100
        );
    }
    let raised = |m: &Model, x: &Features| m.score(x).probability >= threshold;
    let rate = |k: usize, n: usize| k as f64 / n.max(1) as f64;
    let benign_share = |m: &Model| {
        rate(
            measured.iter().filter(|x| raised(m, x)).count(),
            measured.len(),
        )
    };
    // the share of `this` half a model raises at the benign budget (its threshold set on the
    // measured label-0 ads, as `model train` sets its own)
    let at_rate = |m: &Model, this: &[&(Features, bool)]| {
        let scores: Vec<f64> = measured.iter().map(|x| m.score(x).probability).collect();
        let cut = learn::threshold_at_rate(&scores, benign_rate).unwrap_or(f64::INFINITY);
        rate(
            this.iter()
                .filter(|(x, _)| m.score(x).probability >= cut)
                .count(),
            this.len(),
        )
    };
    let mut folds = Vec::new();
    for (h, name) in [(0, "readable"), (1, "held-out")] {
        let other = &halves[1 - h];
        let negatives = &benign[h * teach..h * teach + other.len()];
        let mut copy = model.clone();
        for ((x, _), n) in other.iter().map(|p| &**p).zip(negatives) {
            copy.learn(x, Label::Commercial);
            copy.learn(n, Label::Benign);
        }
        let this = &halves[h];
        let share = |m: &Model, either: bool| {
            rate(
                this.iter()
                    .filter(|(x, policy)| raised(m, x) || (either && *policy))
                    .count(),
                this.len(),
            )
        };
        folds.push(Fold {
            half: name,
            learned_real: other.len(),
            learned_benign: negatives.len(),
            ads: this.len(),
            benign_ads: measured.len(),
            threshold,
            model_before: share(model, false),
            model_after: share(&copy, false),
            either_before: share(model, true),
            either_after: share(&copy, true),
            benign_before: benign_share(model),
            benign_after: benign_share(&copy),
            benign_rate,
            model_at_rate_before: at_rate(model, this),
            model_at_rate_after: at_rate(&copy, this),
        });
    }
    Ok(folds)
}

/// Loop items of a corpus: features, truth, and the policy's verdict and score (from a scan's
/// analyses when given, else each ad on its own).
fn loop_items(
    engine: &Engine,
    cfg: &FeatureConfig,
    ads: &Path,
    truth: &Path,
    analyses: Option<&Path>,
) -> Result<Vec<LoopItem>> {
    let labels = read_truth(truth)?;
    let ads = labelled(read_ads(ads)?, &labels, truth)?;
    if ads.is_empty() {
        bail!("no ads in the corpus of {}", truth.display());
    }
    let scanned = analyses.map(read_scanned).transpose()?;
    let items: Vec<Result<LoopItem>> = ads
        .par_iter()
        .map(|(ad, l)| {
            let (features, own, own_score) = prepare_scored(engine, cfg, ad);
            let (verdict, score) = match &scanned {
                Some(v) => *v
                    .get(&ad.id)
                    .with_context(|| format!("ad {:?} missing from the analyses", ad.id))?,
                None => (own, own_score),
            };
            Ok(LoopItem {
                features,
                label: *l,
                policy_flagged: verdict != Verdict::Allow,
                policy_score: score,
            })
        })
        .collect();
    items.into_iter().collect()
}

#[derive(Serialize, serde::Deserialize)]
struct CheckpointLine {
    run: String,
    #[serde(flatten)]
    checkpoint: Checkpoint,
}

fn simulate(a: SimulateArgs) -> Result<ExitCode> {
    let model = match &a.model {
        Some(p) => load_model(p)?,
        None => Model::new(FeatureConfig::default(), FtrlParams::default()),
    };
    let engine = a.engine.engine()?;
    let arrivals = loop_items(
        &engine,
        &model.features,
        &a.ads,
        &a.truth,
        a.analyses.as_deref(),
    )?;
    let held = loop_items(
        &engine,
        &model.features,
        &a.held,
        &a.held_truth,
        a.held_analyses.as_deref(),
    )?;
    let cfg = LoopConfig {
        days: a.days,
        decisions_per_day: a.decisions_per_day,
        batch: a.batch,
        reviewer_share: a.reviewer_share,
        reviewers: a.reviewers,
        error_rate: a.error_rate,
        poison_share: a.poison_share,
        active_share: a.active_share,
        audit_share: a.audit_share,
        model_enabled: !a.shadow,
        model_weight: a.model_weight,
        target_benign_rate: a.benign_rate,
        min_audit_benign: a.min_audit_benign,
        checkpoint_every: a.checkpoint_every,
        seed: a.seed,
    };
    let (checkpoints, model) = review_loop::simulate(&arrivals, &held, model, &cfg)?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for c in &checkpoints {
        let line = CheckpointLine {
            run: a.name.clone(),
            checkpoint: c.clone(),
        };
        serde_json::to_writer(&mut out, &line)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    if let Some(p) = &a.out_model {
        std::fs::write(p, serde_json::to_string(&model)?)
            .with_context(|| format!("cannot write {}", p.display()))?;
    }
    let show = |c: &Checkpoint| {
        format!(
            "{:>6} decisions: deployed benign {:.4} label 1 {:.4} label 2 {:.4} | model adding {:.0}% benign (oracle): label 1 {:.4} label 2 {:.4}",
            c.decisions,
            c.deployed.benign_rate,
            c.deployed.recall_label1,
            c.deployed.recall_label2,
            cfg.target_benign_rate * 100.0,
            c.oracle.recall_label1,
            c.oracle.recall_label2
        )
    };
    if let (Some(first), Some(last)) = (checkpoints.first(), checkpoints.last()) {
        eprintln!(
            "{}: {} arriving ads, {} held out; policy alone on the held-out set: benign {:.4} label 1 {:.4} label 2 {:.4}",
            a.name,
            arrivals.len(),
            held.len(),
            first.policy.benign_rate,
            first.policy.recall_label1,
            first.policy.recall_label2
        );
        eprintln!("{}", show(first));
        eprintln!("{}", show(last));
        eprintln!(
            "decisions: {} from the queue, {} active learning, {} audit; {} wrong; {} commercial ads the policy allowed found",
            last.from_queue,
            last.from_active,
            last.from_audit,
            last.wrong,
            last.found_beyond_policy
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn plot(a: PlotArgs) -> Result<ExitCode> {
    let mut runs: Vec<(String, Vec<Checkpoint>)> = Vec::new();
    for path in &a.runs {
        let reader = crate::commands::open_input(path)?;
        for line in Lines::new(reader, input::DEFAULT_MAX_LINE) {
            let line = line.with_context(|| format!("reading {}", path.display()))?;
            let c: CheckpointLine = line
                .and_then(|l| input::parse_line(&l))
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            match runs.iter_mut().find(|(n, _)| *n == c.run) {
                Some((_, cps)) => cps.push(c.checkpoint),
                None => runs.push((c.run, vec![c.checkpoint])),
            }
        }
    }
    if runs.is_empty() {
        bail!("no checkpoints in the runs given");
    }
    let drawn: Vec<Run> = runs
        .iter()
        .map(|(name, cps)| Run {
            name,
            checkpoints: cps,
        })
        .collect();
    let svg = review_loop_svg(&drawn, &a.title, a.benign_rate);
    std::fs::write(&a.out, svg).with_context(|| format!("cannot write {}", a.out.display()))?;
    eprintln!("drew {} runs into {}", runs.len(), a.out.display());
    Ok(ExitCode::SUCCESS)
}
