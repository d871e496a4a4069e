//! `samaritan scan`: analyse ads from JSON Lines, one analysis per ad, in input order.
//!
//! Source → transform → sink. A reader thread cuts the input into batches of lines, every core
//! parses, normalizes, extracts, matches and fingerprints them, and this thread takes the results
//! in input order. A bounded number of batches is in flight, so memory does not depend on how
//! large the input is.
//!
//! By default ads are also linked into networks, and every analysis carries its network and
//! template as of the whole input (an ad posted first still learns about the network that grew
//! after it). That needs the whole input linked before the first analysis is final, so the first
//! pass keeps each ad's text-free analysis state in a temporary file (removed at the end; it
//! holds quoted ad text, so it lives in `--tmp-dir`, by default the system's temporary
//! directory) and the link state in memory; the second pass finishes and writes. `--no-link`
//! writes each analysis as soon as its ad is read.
//!
//! An id on more than one line is one ad in several revisions, and, as in the service, the
//! latest revision wins: the last line with that id (among the lines that are valid ads) is
//! the ad's current version, and only it is analysed, linked and written; each earlier line is
//! reported on stderr with both line numbers and counted in the summary. Knowing the last line
//! before analysing the first takes a pass over the input that keeps every id in memory (the
//! linker keeps them anyway) but no ad text. Standard input (or any input that is not a regular
//! file) cannot be read twice, so it is first copied to a temporary file in `--tmp-dir`, and
//! nothing is written before the input ends, `--no-link` included.
//!
//! With `--model FILE` (a model from `samaritan model train` or `model export`) every ad is also
//! scored by the learned model from the text the policy already prepared, as the service scores
//! at ingest: each analysis gains `model` (`logit`, calibrated `probability`, the `severe` head,
//! `raised` at the model's threshold), and a policy's `model_score` indicator reads the score.
//!
//! Images come in offline by default: `{url}` images are fetched only with `--fetch-images`,
//! `{path}` images are read only inside `--allow-paths` directories; any other gets an error
//! entry in the analysis (see [`MediaArgs`]).

use std::cell::RefCell;
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context as _, Result};
use clap::Args;
use rayon::prelude::*;
use samaritan_engine::Engine;
use samaritan_engine::learn::{self, Model, ModelInput};
use samaritan_engine::link::LinkConfig;
use samaritan_engine::linked::{LinkReady, LinkedState};
use samaritan_engine::model::{Analysis, Verdict};
use samaritan_engine::pipeline::{Context, ImageResults, Prepared, Staged};
use samaritan_engine::policy::ModelFact;
use serde::{Deserialize, Serialize};

use crate::engine_args::{EngineArgs, MediaArgs};
use crate::input::{self, Line, LineError, Lines};
use crate::ordered::ordered_map;

/// `samaritan scan`'s options (its `--help` text is on the command in `main.rs`).
#[derive(Args)]
pub struct ScanArgs {
    /// Ads as JSON Lines (input schema of DESIGN.md); `-` or absent for stdin (copied to a
    /// temporary file in --tmp-dir first, so that a later line of an id can replace an earlier).
    #[arg(default_value = "-")]
    pub input: PathBuf,
    /// Write analyses here instead of stdout.
    #[arg(long, short)]
    pub out: Option<PathBuf>,
    /// Also write every failed line as JSON (`{"line": N, "error": "..."}`) to this file.
    #[arg(long)]
    pub errors: Option<PathBuf>,
    /// Worker threads (default: every core).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Stop at the first malformed line.
    #[arg(long)]
    pub strict: bool,
    /// Longest input line accepted, in bytes.
    #[arg(long, default_value_t = input::DEFAULT_MAX_LINE)]
    pub max_line_bytes: usize,
    /// Do not link ads into networks: each analysis is written as soon as its ad is analysed, and
    /// `network`/`template` stay null.
    #[arg(long)]
    pub no_link: bool,
    /// Directory for temporary files: the state of a linked scan, and a copy of standard input.
    #[arg(long)]
    pub tmp_dir: Option<PathBuf>,
    /// Also score every ad with this learned model (from `samaritan model train` or `model
    /// export`): each analysis gains `model` (logit, calibrated probability, severe head, raised
    /// at the model's threshold), and a policy's `model_score` indicator reads it.
    #[arg(long, value_name = "FILE")]
    pub model: Option<PathBuf>,
    #[command(flatten)]
    pub engine: EngineArgs,
    #[command(flatten)]
    pub media: MediaArgs,
}

/// A `--no-link` line's outcome: its analysis (JSON line) and verdict, nothing when a later
/// line replaces it, or why it failed.
type Streamed = Result<Option<(Vec<u8>, Verdict)>, LineError>;

/// Lines per batch handed to a worker.
const BATCH: usize = 256;

/// Counts for the human summary.
#[derive(Default)]
pub struct Summary {
    pub ads: u64,
    pub failed: u64,
    pub verdicts: [u64; 3],
    pub bytes: u64,
    pub networks: Option<(u64, u64)>,
    /// Lines not analysed because a later line has the same id.
    pub replaced: u64,
}

impl Summary {
    pub fn print(&self, secs: f64) {
        let rate = if secs > 0.0 {
            self.ads as f64 / secs
        } else {
            0.0
        };
        let networks = match self.networks {
            Some((n, ads)) => format!("; {n} networks holding {ads} ads"),
            None => String::new(),
        };
        let duplicates = match self.replaced {
            0 => String::new(),
            n => format!("; {n} duplicate ids: later lines replaced earlier ones"),
        };
        eprintln!(
            "scan: {} ads analysed, {} failed lines{duplicates}; allow {}, review {}, block {}{networks}; {:.0} ads/s, {:.1} MB/s ({:.1}s)",
            self.ads,
            self.failed,
            self.verdicts[0],
            self.verdicts[1],
            self.verdicts[2],
            rate,
            self.bytes as f64 / 1e6 / secs.max(1e-9),
            secs
        );
    }

    fn verdict(&mut self, v: Verdict) {
        self.ads += 1;
        self.verdicts[v as usize] += 1;
    }
}

/// Where failed lines go: stderr always, `--errors` when given; `--strict` turns the first into
/// a stop.
struct Failures {
    file: Option<BufWriter<File>>,
    strict: bool,
}

impl Failures {
    fn report(
        &mut self,
        e: &LineError,
        pb: &indicatif::ProgressBar,
        summary: &mut Summary,
    ) -> Result<()> {
        summary.failed += 1;
        pb.suspend(|| eprintln!("error: {e}"));
        if let Some(w) = self.file.as_mut() {
            serde_json::to_writer(
                &mut *w,
                &serde_json::json!({"line": e.line, "error": e.reason}),
            )?;
            w.write_all(b"\n")?;
        }
        if self.strict {
            anyhow::bail!("stopped at the first malformed line (--strict)");
        }
        Ok(())
    }
}

/// What waits on disk for the second pass: everything but the network context.
#[derive(Serialize, Deserialize)]
struct Spill {
    staged: Staged,
    images: ImageResults,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    score: Option<learn::Score>,
}

thread_local! {
    /// Each worker's featurizing buffers, kept from one ad to the next.
    static SCRATCH: RefCell<learn::Scratch> = RefCell::new(learn::Scratch::default());
}

/// The learned model's score of a prepared ad (`--model`).
fn model_score(model: &Model, engine: &Engine, prepared: &Prepared) -> learn::Score {
    let input = ModelInput::from_prepared(prepared, engine.policy());
    SCRATCH.with_borrow_mut(|scratch| model.score_with(&input, scratch))
}

/// What a policy's `model_score` indicator reads of a score.
fn fact(score: Option<&learn::Score>) -> Option<ModelFact> {
    score.map(|s| ModelFact {
        probability: s.probability,
        raised: s.raised,
    })
}

/// An analysis as one JSON line: with the model's score as `model` when the ad was scored.
fn analysis_line(analysis: &Analysis, score: Option<&learn::Score>) -> serde_json::Result<Vec<u8>> {
    #[derive(Serialize)]
    struct Scored<'a> {
        #[serde(flatten)]
        analysis: &'a Analysis,
        model: &'a learn::Score,
    }
    let mut json = match score {
        None => serde_json::to_vec(analysis)?,
        Some(model) => serde_json::to_vec(&Scored { analysis, model })?,
    };
    json.push(b'\n');
    Ok(json)
}

/// Ads handed over by pass 1 in input order, linked in batches: the photo look-ups of a batch
/// run in parallel against the photos known before it, then each ad is linked in order, which
/// gives exactly what one-by-one linking gives (see [`LinkedState::link`]). The look-ups are
/// most of the serial work at a million ads, so this keeps the in-order stage from holding back
/// the parallel ones.
struct LinkStage<W: Write> {
    state: LinkedState,
    spill: W,
    spilled: u64,
    pending: Vec<LinkReady>,
    /// The model's score of each pending ad (`--model`), in the same order.
    scores: Vec<Option<learn::Score>>,
}

/// Pass 1's outcome for one ad: ready to link, and its model score under `--model`.
type Ready = (LinkReady, Option<learn::Score>);

/// Ads per batch of photo look-ups.
const LINK_BATCH: usize = 512;

impl<W: Write> LinkStage<W> {
    fn push(&mut self, ready: LinkReady, score: Option<learn::Score>) -> Result<()> {
        self.pending.push(ready);
        self.scores.push(score);
        if self.pending.len() >= LINK_BATCH {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        let lookups = self.state.look_up_batch(&self.pending, |batch, look| {
            batch.par_iter().map(look).collect()
        });
        // A refused link input (an oversized value) leaves the linker unchanged; the ad is still
        // analysed on its own.
        let _ = self.state.link_batch(self.pending.iter_mut(), lookups);
        for (ready, score) in self.pending.drain(..).zip(self.scores.drain(..)) {
            serde_json::to_writer(
                &mut self.spill,
                &Spill {
                    staged: ready.staged,
                    images: ready.images,
                    score,
                },
            )?;
            self.spill.write_all(b"\n")?;
            self.spilled += 1;
        }
        Ok(())
    }
}

/// Which line of each id is the ad's current version.
struct Current {
    /// For every id on more than one valid line, the number of its last line; an id not here
    /// is on one line only.
    last: HashMap<String, u64>,
    /// Lines replaced by a later line with the same id.
    replaced: u64,
}

impl Current {
    fn is_current(&self, id: &str, line: u64) -> bool {
        self.last.get(id).is_none_or(|&last| last == line)
    }
}

/// The first pass over a file: every valid ad's id and line, in parallel, collected in order.
/// Invalid lines are left to the scan, which reports them; each replaced line is reported here.
fn find_current(path: &Path, max_line: usize, threads: usize) -> Result<Current> {
    let reader = crate::commands::open_input(path)?;
    let total = std::fs::metadata(path).ok().map(|m| m.len());
    let pb = crate::progress::bytes_bar(total, "checking ids");
    let mut io_error = None;
    let lines = Lines::new(reader, max_line).map_while(|r| match r {
        Ok(line) => Some(line),
        Err(e) => {
            io_error = Some(e);
            None
        }
    });
    // id → (last line so far, seen more than once)
    let mut seen: HashMap<String, (u64, bool)> = HashMap::new();
    let mut replaced = 0u64;
    ordered_map(
        lines,
        threads,
        BATCH,
        |line| {
            let bytes = line.as_ref().map_or(0, |l| l.bytes.len() + 1);
            let id = line
                .ok()
                .and_then(|l| input::parse_ad(&l).ok().map(|ad| (ad.id, l.number)));
            (id, bytes)
        },
        |(id, bytes): (Option<(String, u64)>, usize)| -> Result<()> {
            pb.inc(bytes as u64);
            if let Some((id, line)) = id {
                match seen.entry(id) {
                    Entry::Vacant(v) => {
                        v.insert((line, false));
                    }
                    Entry::Occupied(mut o) => {
                        let (earlier, _) = o.insert((line, true));
                        replaced += 1;
                        pb.suspend(|| {
                            eprintln!(
                                "duplicate id {:?}: line {earlier} replaced by line {line}",
                                o.key()
                            );
                        });
                    }
                }
            }
            Ok(())
        },
    )?;
    pb.finish_and_clear();
    if let Some(e) = io_error {
        return Err(e).context(format!("reading {}", path.display()));
    }
    seen.retain(|_, (_, repeated)| *repeated);
    Ok(Current {
        last: seen.into_iter().map(|(id, (line, _))| (id, line)).collect(),
        replaced,
    })
}

/// Standard input (or a pipe given by name) copied to a temporary file, to be read twice.
fn spool(input: &Path, tmp_dir: Option<&Path>) -> Result<tempfile::NamedTempFile> {
    let mut tmp = match tmp_dir {
        Some(d) => tempfile::NamedTempFile::new_in(d),
        None => tempfile::NamedTempFile::new(),
    }
    .context("cannot create the temporary copy of the input (see --tmp-dir)")?;
    let mut reader = crate::commands::open_input(input)?;
    let mut w = BufWriter::with_capacity(1 << 20, tmp.as_file_mut());
    std::io::copy(&mut reader, &mut w).with_context(|| format!("reading {}", input.display()))?;
    w.flush()
        .context("writing the temporary copy of the input")?;
    drop(w);
    Ok(tmp)
}

pub fn run(args: ScanArgs) -> Result<ExitCode> {
    let started = Instant::now();
    let engine = args.engine.engine()?;
    let model = match &args.model {
        Some(p) => Some(crate::commands::model::load_model(p)?),
        None => None,
    };
    let model = model.as_ref();
    let media = args.media.load()?;
    let media = media.as_ref();
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    // A regular file is read twice; anything else is copied first (see the module docs).
    let regular =
        args.input.as_os_str() != "-" && std::fs::metadata(&args.input).is_ok_and(|m| m.is_file());
    let spooled = if regular {
        None
    } else {
        Some(spool(&args.input, args.tmp_dir.as_deref())?)
    };
    let input_path: &Path = spooled.as_ref().map_or(&args.input, |t| t.path());
    let current = find_current(input_path, args.max_line_bytes, threads)?;
    let reader = crate::commands::open_input(input_path)?;
    let total = std::fs::metadata(input_path).ok().map(|m| m.len());

    let mut out: Box<dyn Write> = match &args.out {
        Some(p) => Box::new(BufWriter::with_capacity(
            1 << 20,
            File::create(p).with_context(|| format!("cannot create {}", p.display()))?,
        )),
        None => Box::new(BufWriter::with_capacity(1 << 20, std::io::stdout().lock())),
    };
    let mut failures = Failures {
        file: match &args.errors {
            Some(p) => Some(BufWriter::new(
                File::create(p).with_context(|| format!("cannot create {}", p.display()))?,
            )),
            None => None,
        },
        strict: args.strict,
    };

    let mut summary = Summary {
        replaced: current.replaced,
        ..Summary::default()
    };
    let current = &current;
    let mut io_error: Option<std::io::Error> = None;
    let lines = Lines::new(reader, args.max_line_bytes).map_while(|r| match r {
        Ok(line) => Some(line),
        Err(e) => {
            io_error = Some(e);
            None
        }
    });
    let bytes_of = |line: &Result<Line, LineError>| line.as_ref().map_or(0, |l| l.bytes.len() + 1);

    let result = if args.no_link {
        let pb = crate::progress::bytes_bar(total, "scanning");
        let r = ordered_map(
            lines,
            threads,
            BATCH,
            |line| {
                let bytes = bytes_of(&line);
                let result = line.and_then(|l| {
                    let ad = input::parse_ad(&l)?;
                    if !current.is_current(&ad.id, l.number) {
                        return Ok(None); // a later line is this ad's current version
                    }
                    let images = media.map(|m| m.take_in_one(&ad)).unwrap_or_default();
                    let prepared = engine.prepare(&ad);
                    let score = model.map(|m| model_score(m, &engine, &prepared));
                    let context = Context {
                        images: images.images,
                        bank_matches: images.bank_matches,
                        model: fact(score.as_ref()),
                        ..Context::default()
                    };
                    let analysis = engine.finish(&ad, &prepared, context);
                    let json = analysis_line(&analysis, score.as_ref()).map_err(|e| LineError {
                        line: l.number,
                        reason: e.to_string(),
                    })?;
                    Ok(Some((json, analysis.verdict)))
                });
                (result, bytes)
            },
            |(result, bytes): (Streamed, usize)| -> Result<()> {
                summary.bytes += bytes as u64;
                pb.inc(bytes as u64);
                match result {
                    Ok(Some((json, verdict))) => {
                        out.write_all(&json)?;
                        summary.verdict(verdict);
                        Ok(())
                    }
                    Ok(None) => Ok(()),
                    Err(e) => failures.report(&e, &pb, &mut summary),
                }
            },
        );
        pb.finish_and_clear();
        r
    } else {
        // Pass 1: analyse in parallel, link in order, spill the text-free state.
        let link_config = LinkConfig::default();
        let tmp = match &args.tmp_dir {
            Some(d) => tempfile::NamedTempFile::new_in(d),
            None => tempfile::NamedTempFile::new(),
        }
        .context("cannot create the temporary file of a linked scan (see --tmp-dir)")?;
        let mut stage = LinkStage {
            state: LinkedState::new(link_config),
            spill: BufWriter::with_capacity(1 << 20, tmp.as_file().try_clone()?),
            spilled: 0,
            pending: Vec::with_capacity(LINK_BATCH),
            scores: Vec::with_capacity(LINK_BATCH),
        };
        let pb = crate::progress::bytes_bar(total, "analysing and linking");
        let first = ordered_map(
            lines,
            threads,
            BATCH,
            |line| {
                let bytes = bytes_of(&line);
                let result = line.and_then(|l| {
                    let ad = input::parse_ad(&l)?;
                    if !current.is_current(&ad.id, l.number) {
                        return Ok(None); // a later line is this ad's current version
                    }
                    let images = media.map(|m| m.take_in_one(&ad));
                    Ok(Some(engine.prepare_linked_with(
                        &ad,
                        images,
                        &link_config,
                        |prepared| model.map(|m| model_score(m, &engine, prepared)),
                    )))
                });
                (result, bytes)
            },
            |(r, bytes): (Result<Option<Ready>, LineError>, usize)| -> Result<()> {
                summary.bytes += bytes as u64;
                pb.inc(bytes as u64);
                match r {
                    Ok(Some((ready, score))) => stage.push(ready, score),
                    Ok(None) => Ok(()),
                    Err(e) => failures.report(&e, &pb, &mut summary),
                }
            },
        )
        .and_then(|()| stage.flush());
        let LinkStage {
            state,
            mut spill,
            spilled,
            ..
        } = stage;
        pb.finish_and_clear();
        spill.flush()?;
        drop(spill);
        match first {
            Err(e) => Err(e),
            Ok(()) => {
                // The networks as of the whole input, once.
                let networks = state.all_networks(engine.policy());
                summary.networks = Some((networks.len() as u64, networks.members() as u64));
                // Pass 2: finish every ad with its network and template, in input order.
                let pb = crate::progress::bar(Some(spilled), "finishing");
                let reader = BufReader::with_capacity(1 << 20, tmp.reopen()?);
                let spilled_lines = Lines::new(reader, usize::MAX).map_while(|r| r.ok());
                ordered_map(
                    spilled_lines,
                    threads,
                    BATCH,
                    |line| -> Result<(Vec<u8>, Verdict)> {
                        let line = line.map_err(|e| anyhow::anyhow!("temporary state: {e}"))?;
                        let s: Spill = serde_json::from_slice(&line.bytes)
                            .context("temporary state is damaged")?;
                        let template = state.template_of(&s.staged.id);
                        let analysis = networks.finish_scored(
                            &engine,
                            s.staged,
                            s.images,
                            template,
                            fact(s.score.as_ref()),
                        );
                        let json = analysis_line(&analysis, s.score.as_ref())?;
                        Ok((json, analysis.verdict))
                    },
                    |r: Result<(Vec<u8>, Verdict)>| -> Result<()> {
                        let (json, verdict) = r?;
                        out.write_all(&json)?;
                        summary.verdict(verdict);
                        pb.inc(1);
                        Ok(())
                    },
                )
                .inspect(|()| pb.finish_and_clear())
            }
        }
    };

    out.flush()?;
    if let Some(w) = failures.file.as_mut() {
        w.flush()?;
    }
    summary.print(started.elapsed().as_secs_f64());
    result?;
    if let Some(e) = io_error {
        return Err(e).context(format!("reading {}", args.input.display()));
    }
    Ok(if summary.failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
