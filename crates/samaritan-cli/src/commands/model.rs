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
    store.close().await;
    let report = samaritan_server::learning::shadow_report(&rows?, a.examples);
    eprintln!(
        "{} decided ads compared ({} left out); agreement with reviewers: model {:.3}, policy \
         {:.3}; model with policy {:.3}",
        report.compared,
        report.left_out,
        report.model_vs_reviewers.rate,
        report.policy_vs_reviewers.rate,
        report.model_vs_policy.rate
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
    let prepared = engine.prepare(ad);
    let x = learn::featurize(&ModelInput::from_prepared(&prepared, engine.policy()), cfg);
    let verdict = engine
        .finish(ad, &prepared, StageContext::default())
        .verdict;
    (x, verdict)
}

fn load_model(path: &Path) -> Result<Model> {
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
        ..FeatureConfig::default()
    };
    if !(learn::features::MIN_BITS..=learn::features::MAX_BITS).contains(&a.bits) {
        bail!(
            "--bits must be in {}..={}",
            learn::features::MIN_BITS,
            learn::features::MAX_BITS
        );
    }
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
    let reader = crate::commands::open_input(path)?;
    let mut verdicts = HashMap::new();
    for line in Lines::new(reader, input::DEFAULT_MAX_LINE * 16) {
        let line = line.with_context(|| format!("reading {}", path.display()))?;
        let analysis: Analysis = line
            .and_then(|l| input::parse_line(&l))
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        verdicts.insert(analysis.id, analysis.verdict);
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
