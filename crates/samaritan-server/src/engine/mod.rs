//! The real engine behind the service: the [`Analyzer`] that `samaritan serve` runs.
//!
//! A policy that can be swapped while requests run (put in force only when it compiles and its
//! own `[[test]]` examples pass: [`samaritan_engine::policy::load_tested`]), image intake
//! through the same [`ImageContext`] as `samaritan scan`, and linking through the engine's
//! [`samaritan_engine::linked`] pipeline, like `scan`.
//!
//! Ingest of a batch ([`EngineAnalyzer::ingest_linked`]):
//! 0. the batch's images, all together ([`ImageContext::take_in`]);
//! 1. on every core, outside any lock: [`Engine::prepare_linked`] and the ad's [`LinkRecord`]
//!    (or, in the distributed mode, what a prepare worker made: [`EngineAnalyzer::prepare_for_link`]
//!    there, [`Analyzer::ingest_prepared`] here);
//! 2. under a read lock, in parallel: the photo look-ups; then under the write lock, in input
//!    order: [`LinkedState::link`], and the networks and templates of the batch's ads (as of
//!    the whole batch);
//! 3. on every core again, outside the lock: finish with the network's context (as scan does).
//!
//! **Restart.** Every ad that reached the linker leaves its [`LinkRecord`] under `link_state`
//! kind [`LINK_KIND`], key = insertion sequence, written in the same transaction as the ad. At
//! start the records are replayed in key order ([`EngineAnalyzer::restore_from`]): the linker, the
//! photo identities and the PDQ search index come back exactly as they were, with no
//! normalizing, extracting, image fetching or hashing again. A snapshot of the whole linker
//! ([`snapshot`], taken periodically and at a clean stop) spares replaying the records before
//! it.

mod network_sync;
mod pdq_index;
mod snapshot;

use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use rayon::prelude::*;
use samaritan_engine::Engine;
use samaritan_engine::extract::ExtractOptions;
use samaritan_engine::learn::{self, FeatureConfig, Features, ModelInput};
use samaritan_engine::link::LinkConfig;
use samaritan_engine::linked::{LinkReady, LinkRecord, LinkedState, PreparedAd};
use samaritan_engine::model::{Ad, Analysis, TemplateRef};
use samaritan_engine::pipeline::ImageResults;
use samaritan_engine::pipeline::Prepared;
use samaritan_engine::policy::{ModelFact, PolicyRefusal, load_tested};
use samaritan_media::ImageContext;
use samaritan_store::{NetworkChanges, ShadowInput};

use crate::analyzer::{Analyzer, Ingested, PolicyDiff, PolicyInfo, PolicyRejection};
use crate::learning::{ActiveModel, SHADOW_TOP};
use crate::stage_cpu::{CpuStage, Laps, StageCpu};
use network_sync::NetworkSync;
use pdq_index::PdqIndex;
use samaritan_engine::policy::compare::Tally;
pub use snapshot::{SNAPSHOT_KIND, SnapshotFailure, SnapshotInfo};

/// `link_state` kind of the per-ad linker records.
pub const LINK_KIND: &str = "link_input";

struct Active {
    engine: Engine,
    info: PolicyInfo,
}

/// The linked state and what the store knows of its networks, under one lock.
struct Links {
    state: LinkedState,
    sync: NetworkSync,
    /// Next record key.
    seq: u64,
    /// Records the state was built from (replayed or linked here); below `seq` when a key was
    /// never stored (a batch linked whose commit failed, before a restart).
    applied: u64,
}

impl Links {
    /// Marks for the next network save the ad just linked and the ads of every network its
    /// insert took apart (their networks may have changed, or vanished, although they are not
    /// the new ad's).
    fn touched(&mut self, id: &str, inserted: &samaritan_engine::link::Inserted) {
        self.sync.touched(id.to_owned());
        for &a in &inserted.regrouped {
            if let Some(other) = self.state.linker().id_at(a) {
                self.sync.touched(other.to_owned());
            }
        }
    }
}

/// The engine with a policy that can be swapped while requests run, image intake and a linker.
pub struct EngineAnalyzer {
    active: RwLock<Arc<Active>>,
    extract: ExtractOptions,
    images: Option<ImageContext>,
    link_config: LinkConfig,
    /// Read for photo look-ups (in parallel, outside the write lock), written to link.
    links: RwLock<Links>,
    pdq: RwLock<PdqIndex>,
    /// The learned model scoring in shadow, if one is in force ([`crate::learning`]).
    model: RwLock<Option<Arc<ActiveModel>>>,
    /// CPU time per stage, when a worker counts it (`samaritan worker --stages`).
    stage_cpu: std::sync::OnceLock<Arc<StageCpu>>,
}

fn rejection(e: PolicyRefusal) -> PolicyRejection {
    PolicyRejection {
        line: e.line(),
        message: e.to_string(),
    }
}

/// Compiles `text` and runs its own tests.
fn compile(text: &str, extract: &ExtractOptions) -> Result<Active, PolicyRejection> {
    let policy = load_tested(text, extract).map_err(rejection)?;
    let info = PolicyInfo {
        label: policy.label(),
        text: text.to_owned(),
    };
    Ok(Active {
        engine: Engine::new(policy, extract.clone()),
        info,
    })
}

/// `link_state` key of record `seq`: fixed width, so key order is insertion order.
fn record_key(seq: u64) -> String {
    format!("{seq:020}")
}

/// Batches at least this large are prepared and finished on every core.
const PARALLEL_FROM: usize = 16;

fn map_maybe_par<T: Send, U: Send>(items: Vec<T>, f: impl Fn(T) -> U + Sync + Send) -> Vec<U> {
    if items.len() < PARALLEL_FROM {
        items.into_iter().map(f).collect()
    } else {
        items.into_par_iter().map(f).collect()
    }
}

/// The CPU stage an engine stage of a prepare worker counts in.
fn prepare_stage(stage: samaritan_engine::linked::LinkStage) -> CpuStage {
    use samaritan_engine::linked::LinkStage;
    match stage {
        LinkStage::Normalized => CpuStage::Normalize,
        LinkStage::Extracted => CpuStage::Extract,
        LinkStage::Matched => CpuStage::Match,
        LinkStage::Fingerprinted => CpuStage::Fingerprint,
    }
}

/// Ignores lock poisoning: a panic inside leaves plain data (no invariant spans two fields in a
/// way a reader could trip over beyond a missing network update), so the service keeps serving.
fn read<T>(l: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(|p| p.into_inner())
}

fn write<T>(l: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(|p| p.into_inner())
}

impl EngineAnalyzer {
    /// An analyzer running `policy_text`, or why the text is refused. `images: None` leaves
    /// images out (the analysis lists none; ad-supplied hashes still link).
    pub fn new(
        policy_text: &str,
        extract: ExtractOptions,
        images: Option<ImageContext>,
    ) -> Result<EngineAnalyzer, PolicyRejection> {
        let link_config = LinkConfig::default();
        Ok(EngineAnalyzer {
            active: RwLock::new(Arc::new(compile(policy_text, &extract)?)),
            extract,
            images,
            link_config,
            links: RwLock::new(Links {
                state: LinkedState::new(link_config),
                sync: NetworkSync::default(),
                seq: 0,
                applied: 0,
            }),
            pdq: RwLock::new(PdqIndex::default()),
            model: RwLock::new(None),
            stage_cpu: std::sync::OnceLock::new(),
        })
    }

    /// Per ad, what taking in its images gave (`None` per ad when images are off).
    fn take_in(&self, ads: &[&Ad]) -> Vec<Option<ImageResults>> {
        match &self.images {
            Some(ctx) => ctx.take_in(ads).into_iter().map(Some).collect(),
            None => vec![None; ads.len()],
        }
    }

    fn current(&self) -> Arc<Active> {
        read(&self.active).clone()
    }

    fn add_pdq(&self, values: &[String]) {
        if values.is_empty() {
            return;
        }
        let mut idx = write(&self.pdq);
        for v in values {
            idx.add(v);
        }
    }

    /// Steps 0–1 of ingest for `ads`: images taken in, prepared, each ad's link record, PDQ
    /// values and shadow score.
    fn prepare_step1(&self, engine: &Engine, ads: Vec<&Ad>) -> Vec<Step1> {
        if ads.is_empty() {
            return Vec::new();
        }
        let images = self.take_in(&ads);
        let config = &self.link_config;
        let model = read(&self.model).clone();
        let model = model.as_deref();
        map_maybe_par(ads.into_iter().zip(images).collect(), |(ad, images)| {
            let (ready, shadow) = engine.prepare_linked_with(ad, images, config, |p| {
                model.map(|m| shadow_score(m, p, engine))
            });
            let pdq = ready.search_pdq(ad);
            let record = LinkRecord::of(&ready, pdq.clone()).to_json();
            (ready, record, pdq, shadow)
        })
    }

    /// Steps 0–1 for a prepare worker of the distributed mode: images taken in and every ad
    /// prepared on every core, in input order, in the form that travels to the linker
    /// ([`Analyzer::ingest_prepared`] takes it back).
    pub fn prepare_for_link(&self, ads: &[Ad]) -> Vec<PreparedAd> {
        let active = self.current();
        let engine = &active.engine;
        let label = active.info.label.clone();
        let refs: Vec<&Ad> = ads.iter().collect();
        let images = self.take_in(&refs);
        let config = &self.link_config;
        let cpu = self.stage_cpu.get().map(|c| &**c);
        map_maybe_par(refs.into_iter().zip(images).collect(), |(ad, images)| {
            let mut laps = Laps::start(cpu);
            let (ready, ()) = engine.prepare_linked_timed(
                ad,
                images,
                config,
                |_| (),
                |stage| laps.lap(prepare_stage(stage)),
            );
            let pdq = ready.search_pdq(ad);
            let prepared = PreparedAd::of(&ready, pdq, label.clone());
            laps.lap(CpuStage::Result);
            prepared
        })
    }

    /// Counts the CPU time of each stage into `cpu` from now on (once per analyzer; a worker
    /// gives every analyzer it builds the same counts).
    pub fn count_stage_cpu(&self, cpu: Arc<StageCpu>) {
        let _ = self.stage_cpu.set(cpu);
    }

    /// Ads linked so far.
    pub fn linked_ads(&self) -> usize {
        read(&self.links).state.linker().len()
    }

    /// The network an ad is in now, as the linker sees it.
    pub fn network_of(&self, id: &str) -> Option<samaritan_engine::link::Network> {
        read(&self.links).state.linker().network_of(id)
    }

    /// Replays stored link records (pages in key order) and takes the stored network memberships
    /// as the last saved state; the replayed ads (and, with `check_all`, every stored one) are
    /// marked for the first network save, which then writes only what differs. Returns the
    /// number of records replayed.
    fn restore(
        &self,
        pages: impl IntoIterator<Item = Vec<(String, Vec<u8>)>>,
        memberships: Vec<(String, String)>,
        check_all: bool,
    ) -> Result<u64, String> {
        let mut links = write(&self.links);
        let links = &mut *links;
        let mut n = 0u64;
        for page in pages {
            let decoded: Vec<(String, Result<LinkRecord, String>)> = page
                .into_par_iter()
                .map(|(key, value)| {
                    let r = LinkRecord::from_json(&value).map_err(|e| e.to_string());
                    (key, r)
                })
                .collect();
            let mut pdq = Vec::new();
            for (key, r) in decoded {
                let rec = r.map_err(|e| format!("link record {key} does not load: {e}"))?;
                if let Ok(inserted) = links.state.replay(&rec) {
                    links.touched(&rec.id, &inserted);
                }
                pdq.extend(rec.pdq);
                let seq: u64 = key
                    .parse()
                    .map_err(|_| format!("link record key `{key}` is not a number"))?;
                links.seq = links.seq.max(seq + 1);
                links.applied += 1;
                n += 1;
            }
            self.add_pdq(&pdq);
        }
        links.sync.saved(memberships, check_all);
        Ok(n)
    }
}

/// One ad after step 1: ready to link, its link record, its PDQ values for the search index,
/// and the learned model's shadow score.
type Step1 = (LinkReady, Vec<u8>, Vec<String>, Option<ShadowInput>);

/// What one ad of a batch is finished with.
struct Finishing {
    ready: LinkReady,
    template: Option<TemplateRef>,
    /// The learned model's score, for a policy's `model_score` indicator.
    model: Option<ModelFact>,
}

impl Analyzer for EngineAnalyzer {
    /// Each ad on its own (no linking), images included.
    fn analyze(&self, ads: &[Ad]) -> Vec<Analysis> {
        let active = self.current();
        let engine = &active.engine;
        let refs: Vec<&Ad> = ads.iter().collect();
        let images = self.take_in(&refs);
        map_maybe_par(refs.into_iter().zip(images).collect(), |(ad, images)| {
            engine.analyze_with_images(ad, images.unwrap_or_default())
        })
    }

    fn ingest_linked(&self, ads: &[Ad]) -> Ingested {
        self.ingest_prepared(ads, Vec::new())
    }

    fn ingest_prepared(&self, ads: &[Ad], prepared: Vec<Option<PreparedAd>>) -> Ingested {
        let active = self.current();
        let engine = &active.engine;
        // 0–1. Stateless, on every core, outside the lock; what a prepare worker made under
        // the policy in force is taken as it is (not when a model scores in shadow: the model
        // needs the ad's prepared text, which does not travel).
        let label = &active.info.label;
        let scoring = read(&self.model).is_some();
        let mut given: Vec<Option<PreparedAd>> = prepared
            .into_iter()
            .zip(ads)
            .map(|(p, ad)| p.filter(|p| !scoring && p.policy == *label && p.staged.id == ad.id))
            .collect();
        given.resize_with(ads.len(), || None);
        let missing: Vec<&Ad> = ads
            .iter()
            .zip(&given)
            .filter(|(_, p)| p.is_none())
            .map(|(ad, _)| ad)
            .collect();
        // The linker ingests ad by ad, so every stage below runs on this thread (finishing is
        // counted on whichever thread runs it).
        let cpu = self.stage_cpu.get().map(|c| &**c);
        let mut laps = Laps::start(cpu);
        let mut local = self.prepare_step1(engine, missing).into_iter();
        let prepared: Vec<Step1> = given
            .into_iter()
            .filter_map(|p| match p {
                Some(p) => {
                    let record = p.record.to_json();
                    let pdq = p.record.pdq.clone();
                    Some((p.into_ready(), record, pdq, None))
                }
                None => local.next(),
            })
            .collect();
        let mut readies = Vec::with_capacity(prepared.len());
        let mut records = Vec::with_capacity(prepared.len());
        let mut shadow = Vec::with_capacity(prepared.len());
        let mut pdq_new: Vec<String> = Vec::new();
        for (ready, record, mut pdq, score) in prepared {
            readies.push(ready);
            records.push(record);
            shadow.push(score);
            pdq_new.append(&mut pdq);
        }
        laps.lap(CpuStage::Prepare);

        // 2. Photo look-ups in parallel under the read lock; the photos that become known before
        // this batch takes the write lock are checked when linking.
        let lookups = read(&self.links)
            .state
            .look_up_batch(&readies, |batch, look| {
                map_maybe_par(batch.iter().collect(), look)
            });
        let facts: Vec<Option<ModelFact>> = shadow
            .iter()
            .map(|s| {
                s.as_ref().map(|s| ModelFact {
                    probability: s.probability,
                    raised: s.raised,
                })
            })
            .collect();
        let mut link_state: Vec<Vec<(String, String, Vec<u8>)>> = Vec::with_capacity(ads.len());
        let mut finishing: Vec<Finishing> = Vec::with_capacity(ads.len());
        let networks = {
            let mut links = write(&self.links);
            let links = &mut *links;
            let linked = links.state.link_batch(readies.iter_mut(), lookups);
            for (((ready, record), outcome), model) in
                readies.into_iter().zip(records).zip(linked).zip(facts)
            {
                // A refused input (oversized values) leaves the linker unchanged; the ad is
                // still analysed on its own, and its record replays to the same refusal.
                if let Ok(inserted) = &outcome {
                    links.touched(&ready.staged.id, inserted);
                }
                link_state.push(vec![(LINK_KIND.to_owned(), record_key(links.seq), record)]);
                links.seq += 1;
                links.applied += 1;
                finishing.push(Finishing {
                    ready,
                    template: None,
                    model,
                });
            }
            for f in &mut finishing {
                f.template = links.state.template_of(&f.ready.staged.id);
            }
            laps.lap(CpuStage::Link);
            links.state.networks_of(
                finishing.iter().map(|f| f.ready.staged.id.as_str()),
                engine.policy(),
            )
        };
        self.add_pdq(&pdq_new);
        laps.lap(CpuStage::NetworkContext);

        // 3. Finish, on every core, outside the lock.
        let networks = &networks;
        let analyses = map_maybe_par(finishing, |f| {
            let mut laps = Laps::start(cpu);
            let a =
                networks.finish_scored(engine, f.ready.staged, f.ready.images, f.template, f.model);
            laps.lap(CpuStage::Finish);
            a
        });
        Ingested {
            analyses,
            link_state,
            shadow,
        }
    }

    fn linked_network_changes(&self, written: &[(String, Option<String>)]) -> NetworkChanges {
        let mut links = write(&self.links);
        let links = &mut *links;
        for (ad, net) in written {
            links.sync.written(ad, net.as_deref());
        }
        links.sync.changes(links.state.linker())
    }

    fn pdq_near(&self, pdq: &str, max_distance: u32) -> Option<Vec<(u32, String)>> {
        Some(read(&self.pdq).near(pdq, max_distance))
    }

    fn stage_cpu(&self) -> Option<&StageCpu> {
        self.stage_cpu.get().map(|c| &**c)
    }

    fn policy(&self) -> PolicyInfo {
        self.current().info.clone()
    }

    fn check_policy(&self, text: &str) -> Result<String, PolicyRejection> {
        Ok(compile(text, &self.extract)?.info.label)
    }

    fn template_diff(&self, id: &str) -> Option<Vec<samaritan_engine::similar::DiffPart>> {
        read(&self.links).state.linker().template_diff(id)
    }

    fn diff_policy(&self, text: &str, ads: &[Ad]) -> Result<PolicyDiff, PolicyRejection> {
        let next = compile(text, &self.extract)?;
        let active = self.current();
        let pairs = map_maybe_par(ads.iter().collect(), |ad: &Ad| {
            (active.engine.analyze(ad), next.engine.analyze(ad))
        });
        let mut tally = Tally::default();
        let mut changes = Vec::new();
        for (old, new) in &pairs {
            if let Some(c) = tally.add(old, new)
                && changes.len() < PolicyDiff::MAX_CHANGES
            {
                changes.push(c);
            }
        }
        Ok(PolicyDiff {
            old: active.info.label.clone(),
            new: next.info.label,
            tally,
            changes,
        })
    }

    fn set_model(&self, model: Option<Arc<ActiveModel>>) {
        *write(&self.model) = model;
    }

    fn model(&self) -> Option<Arc<ActiveModel>> {
        read(&self.model).clone()
    }

    fn model_features(&self, ad: &Ad, config: &FeatureConfig) -> Option<Features> {
        let active = self.current();
        let engine = &active.engine;
        let prepared = engine.prepare(ad);
        Some(learn::featurize(
            &ModelInput::from_prepared(&prepared, engine.policy()),
            config,
        ))
    }

    fn set_policy(&self, text: &str) -> Result<String, PolicyRejection> {
        let next = Arc::new(compile(text, &self.extract)?);
        let label = next.info.label.clone();
        *write(&self.active) = next;
        Ok(label)
    }
}

/// The model's shadow score of a prepared ad: the calibrated probability, the severe head, the
/// raise threshold reached or not, and the top features with their original spans.
fn shadow_score(m: &ActiveModel, prepared: &Prepared, engine: &Engine) -> ShadowInput {
    let input = ModelInput::from_prepared(prepared, engine.policy());
    let (score, top) = m.model.explain(&input, SHADOW_TOP);
    let detail = serde_json::json!({
        "model_version": m.version,
        "logit": score.logit,
        "probability": score.probability,
        "severe": score.severe,
        "raised": score.raised,
        "threshold": m.model.raise.map(|r| r.probability),
        "top": top,
    });
    ShadowInput {
        model_version: m.version,
        probability: score.probability,
        severe: score.severe,
        raised: score.raised,
        detail: detail.to_string(),
        margin: m.model.margin(&score),
    }
}

/// Why the linker could not be restored at start.
#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    #[error(transparent)]
    Store(#[from] samaritan_store::StoreError),
    #[error("{0}")]
    Record(String),
    #[error("the replay failed: {0}")]
    Replay(String),
}

/// Link records read from the store per page while the previous page is replayed.
const RESTORE_PAGE: i64 = 20_000;

/// How the linker came back at start.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Restored {
    /// The snapshot loaded, if one could be used.
    pub snapshot: Option<SnapshotInfo>,
    /// Records replayed (those made after the snapshot, or all of them).
    pub replayed: u64,
    /// Where the time went, in seconds.
    pub secs: RestoreSecs,
}

/// The steps of a restore, in seconds (printed by `serve` at start).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct RestoreSecs {
    /// Reading the snapshot's parts from the store and checking them.
    pub snapshot_read: f64,
    /// Decoding it into the linker and the PDQ index.
    pub snapshot_decode: f64,
    /// Reading the stored network memberships.
    pub memberships: f64,
    /// Reading and replaying the records after the snapshot.
    pub replay: f64,
}

impl EngineAnalyzer {
    /// Loads the linker's snapshot when one may be used ([`SNAPSHOT_KIND`]), then replays the
    /// records stored under [`LINK_KIND`] after it (all of them without a snapshot; page by
    /// page, each replayed on a blocking thread while the next is read) and takes the stored
    /// network memberships as the last saved state.
    pub async fn restore_from(
        self: &Arc<Self>,
        store: &samaritan_store::Store,
    ) -> Result<Restored, RestoreError> {
        let mut secs = RestoreSecs::default();
        // The memberships are read while the snapshot decodes (another core).
        let memberships = async {
            let started = std::time::Instant::now();
            let m = store.network_memberships().await;
            (m, started.elapsed().as_secs_f64())
        };
        let (snapshot, (memberships, memberships_secs)) =
            tokio::join!(self.load_snapshot(store, &mut secs), memberships);
        let snapshot = snapshot?;
        let memberships = memberships?;
        secs.memberships = memberships_secs;
        let started = std::time::Instant::now();
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<(String, Vec<u8>)>>(2);
        let me = self.clone();
        // With a snapshot, the stored memberships already are its networks as of the last
        // commit (they are written in the transaction of the ads that changed them), so only
        // the replayed ads' networks are checked; without one, every stored network is.
        let check_all = snapshot.is_none();
        let replay = tokio::task::spawn_blocking(move || me.restore(rx, memberships, check_all));
        let mut after = match snapshot {
            Some(s) if s.seq > 0 => record_key(s.seq - 1),
            _ => String::new(),
        };
        loop {
            let page = store
                .scan_link_state(LINK_KIND, &after, RESTORE_PAGE)
                .await?;
            let Some((last, _)) = page.last() else {
                break;
            };
            after = last.clone();
            let full = page.len() as i64 == RESTORE_PAGE;
            if tx.send(page).is_err() || !full {
                break;
            }
        }
        drop(tx);
        let replayed = replay
            .await
            .map_err(|e| RestoreError::Replay(e.to_string()))?
            .map_err(RestoreError::Record)?;
        secs.replay = started.elapsed().as_secs_f64();
        Ok(Restored {
            snapshot,
            replayed,
            secs,
        })
    }
}

/// Image intake as a network-facing service takes it: `{path}` images refused (an ad must not
/// read the server's files), URLs fetched only when `fetch` (SSRF-guarded unless
/// `allow_private`), files up to `max_bytes`, `request` limits over each request's images.
pub fn service_intake(
    fetch: bool,
    allow_private: bool,
    max_bytes: u64,
    request: samaritan_media::RequestLimits,
) -> samaritan_media::IntakeConfig {
    let defaults = samaritan_media::IntakeConfig::default();
    samaritan_media::IntakeConfig {
        allow_paths: false,
        root: None,
        allowed_dirs: Vec::new(),
        fetch: samaritan_media::FetchConfig {
            enabled: fetch,
            allow_private,
            ..defaults.fetch
        },
        limits: samaritan_media::DecodeLimits {
            max_bytes,
            ..defaults.limits
        },
        request,
        keep: None,
    }
}

/// Why the service's image context could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ImageContextError {
    #[error(transparent)]
    Store(#[from] samaritan_store::StoreError),
    #[error(transparent)]
    Bank(#[from] samaritan_media::BankEntryError),
}

/// The service's image context: `intake`, with the store's hash banks (the enabled content of
/// its HMA banks included, as `hma.<NAME>`; read at start) and those of the data directory's `banks/` (PDQ banks and MD5 / SHA-256 lists, as `samaritan scan` loads them).
pub async fn image_context(
    intake: samaritan_media::IntakeConfig,
    store: &samaritan_store::Store,
    banks: Option<&samaritan_media::BankDir>,
) -> Result<ImageContext, ImageContextError> {
    let mut ctx = ImageContext::new(intake);
    if let Some(dir) = banks {
        ctx.add_bank_dir(dir)?;
    }
    for row in store.hash_bank_entries(None).await? {
        ctx.add_entry(&row.bank, &row.kind, &row.hash)?;
    }
    // The enabled content of the HMA-shaped banks (/hma/c/…), as banks `hma.<NAME>`.
    for (bank, hex) in store
        .hma_engine_signals(samaritan_store::now_ms() / 1000)
        .await?
    {
        ctx.add_entry(&bank, "pdq", &hex)?;
    }
    Ok(ctx)
}
