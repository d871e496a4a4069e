//! The engine behind `samaritan serve`: the [`Analyzer`] the HTTP service calls.
//!
//! Runs the engine's pipeline with a policy that can be swapped while requests run (put in force
//! only when it compiles and its own `[[test]]` examples pass), takes in the ads' images, and
//! links ads into networks with the same [`Linker`] as `samaritan scan`.
//!
//! Ingest of a batch (see [`EngineAnalyzer::ingest_linked`]):
//! 0. the batch's images, all together (`samaritan_media::image_contexts`): PDQ, MD5, SHA-256
//!    with the per-image limits and the per-request ones (URL fetch off unless asked for,
//!    SSRF-guarded, all of a request's URLs at once within one deadline and a cap per host; one
//!    pixel budget for the request), then hash-bank matching;
//! 1. on every core, outside any lock: normalize, extract, match, text fingerprint;
//! 2. under the linker's mutex, in input order: photo identities, `Linker::insert`, then the
//!    network and template of every ad of the batch (as of the whole batch);
//! 3. on every core again, outside the lock: decide with the network's features (as scan does).
//!
//! **Restart.** Every ad that reached the linker leaves a [`LinkRecord`] (its linker input, text
//! fingerprint included, and its images' hashes) under `link_state` kind [`LINK_KIND`], key =
//! insertion sequence, written in the same transaction as the ad itself. At start the records
//! are replayed in key order ([`EngineAnalyzer::restore`]): the linker, the photo identities and
//! the PDQ search index come back exactly as they were, with no normalizing, extracting, image
//! fetching or hashing again.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use rayon::prelude::*;
use samaritan_engine::Engine;
use samaritan_engine::extract::ExtractOptions;
use samaritan_engine::link::photos::{DEFAULT_LINK_DISTANCE, Near, PhotoIdentities};
use samaritan_engine::link::{LinkConfig, LinkInput, Linker, Network};
use samaritan_engine::model::{Ad, Analysis, ImageAnalysis, ImageRef, TemplateRef};
use samaritan_engine::pdq::{BankSet, MatchOptions, MihIndex, PdqHash};
use samaritan_engine::pipeline::{Context, Staged};
use samaritan_engine::policy::{BankMatch, Policy, PolicyError, run_tests};
use samaritan_engine::similar::fingerprint_with;
use samaritan_engine::similar::tokens::token_hash;
use samaritan_server::{Analyzer, Ingested, PolicyInfo, PolicyRejection};
use samaritan_store::{NetworkChanges, NetworkSave};
use serde::{Deserialize, Serialize};

/// `link_state` kind of the per-ad linker records.
pub const LINK_KIND: &str = "link_input";

/// Format of [`LinkRecord`]; a record of another format is refused at start.
const LINK_FORMAT: u32 = 1;

struct Active {
    engine: Engine,
    info: PolicyInfo,
}

/// How the service takes in images.
pub struct Images {
    pub intake: samaritan_media::IntakeConfig,
    /// PDQ hash banks (matched with all 8 orientations when the image was decoded here).
    pub banks: BankSet,
    /// Exact banks: `md5:<hex>` / `sha256:<hex>` → bank names.
    pub exact: HashMap<String, Vec<String>>,
    pub options: MatchOptions,
}

/// Image intake as a network-facing service takes it: `{path}` images refused (an ad must not
/// read the server's files), URLs fetched only when `fetch` (SSRF-guarded unless
/// `allow_private`), files up to `max_bytes`.
pub fn service_intake(
    fetch: bool,
    allow_private: bool,
    max_bytes: u64,
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
        request: defaults.request,
    }
}

impl Images {
    /// Banks from the store's `hash_bank` rows `(bank, kind, hash)`.
    pub fn with_banks<'a>(
        intake: samaritan_media::IntakeConfig,
        rows: impl IntoIterator<Item = (&'a str, &'a str, &'a str)>,
    ) -> anyhow::Result<Images> {
        let mut banks = BankSet::new();
        let mut exact: HashMap<String, Vec<String>> = HashMap::new();
        for (bank, kind, hash) in rows {
            match kind {
                "pdq" => {
                    let h = PdqHash::from_hex(hash)
                        .map_err(|e| anyhow::anyhow!("hash bank `{bank}`: pdq `{hash}`: {e}"))?;
                    banks
                        .add_entry(bank, samaritan_engine::pdq::BankEntry::new(h))
                        .map_err(|e| anyhow::anyhow!("hash bank `{bank}`: {e}"))?;
                }
                _ => exact
                    .entry(format!("{kind}:{}", hash.to_ascii_lowercase()))
                    .or_default()
                    .push(bank.to_owned()),
            }
        }
        Ok(Images {
            intake,
            banks,
            exact,
            options: MatchOptions::default(),
        })
    }

    /// Per ad of a request, the `images` of its analysis and the bank matches the policy weighs.
    /// The request's images are taken in together, under the intake's per-request limits (URL
    /// fetches at once within one deadline, one pixel budget); one bad or refused image is an
    /// error entry of its own and the others go on.
    fn take_in_all(&self, ads: &[&Ad]) -> Vec<(Vec<ImageAnalysis>, Vec<BankMatch>)> {
        let lists: Vec<&[ImageRef]> = ads.iter().map(|a| a.images.as_slice()).collect();
        if lists.iter().all(|l| l.is_empty()) {
            return vec![(Vec::new(), Vec::new()); ads.len()];
        }
        let mut all =
            samaritan_media::image_contexts(&lists, &self.intake, &self.banks, &self.options);
        if !self.exact.is_empty() {
            for (out, matches) in &mut all {
                for img in out.iter() {
                    let keys = [
                        img.md5.as_ref().map(|h| format!("md5:{h}")),
                        img.sha256.as_ref().map(|h| format!("sha256:{h}")),
                    ];
                    for key in keys.iter().flatten() {
                        for bank in self.exact.get(key).into_iter().flatten() {
                            matches.push(BankMatch {
                                bank: bank.clone(),
                                distance: 0,
                                image: img.index,
                            });
                        }
                    }
                }
            }
        }
        all
    }
}

/// What the linker was told about one ad, kept so that a restart replays it exactly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkRecord {
    pub format: u32,
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub posted_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phones: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub emails: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub handles: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub payments: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<String>,
    /// Image identifiers the ad supplied itself (used when image intake is off).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<String>,
    /// The images as taken in (`None` when intake is off): the photo identities are derived
    /// from these, in order, on replay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub photos: Option<Vec<Photo>>,
    /// The text fingerprint (token hashes are recomputed from `words`).
    pub words: String,
    pub tokens: u32,
    pub bands: Vec<u32>,
    /// Policy contexts the ad shows by its own wording (bit set), for network shares.
    #[serde(default)]
    pub contexts: u64,
    /// PDQ hashes to find the ad by (lowercase hex).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pdq: Vec<String>,
}

/// One image's hashes, as photo identities need them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Photo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pdq: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quality: Option<u8>,
}

impl LinkRecord {
    fn of(
        link: &LinkInput,
        photos: Option<&[ImageAnalysis]>,
        contexts: u64,
        pdq: &[String],
    ) -> Self {
        LinkRecord {
            format: LINK_FORMAT,
            id: link.id.clone(),
            posted_at: link.posted_at,
            city: link.city.clone(),
            region: link.region.clone(),
            account: link.account.clone(),
            phones: link.phones.clone(),
            emails: link.emails.clone(),
            handles: link.handles.clone(),
            payments: link.payments.clone(),
            names: link.names.clone(),
            images: link.images.clone(),
            photos: photos.map(|p| {
                p.iter()
                    .map(|i| Photo {
                        sha256: i.sha256.clone(),
                        pdq: i.pdq.clone(),
                        quality: i.quality,
                    })
                    .collect()
            }),
            words: link.fingerprint.words.clone(),
            tokens: link.fingerprint.tokens,
            bands: link.fingerprint.bands.clone(),
            contexts,
            pdq: pdq.to_vec(),
        }
    }

    /// The linker input (without photo identities, which need the running state).
    fn input(&self) -> LinkInput {
        let hashes = self
            .words
            .split(' ')
            .filter(|w| !w.is_empty())
            .map(token_hash)
            .collect();
        LinkInput {
            id: self.id.clone(),
            posted_at: self.posted_at,
            city: self.city.clone(),
            region: self.region.clone(),
            account: self.account.clone(),
            phones: self.phones.clone(),
            emails: self.emails.clone(),
            handles: self.handles.clone(),
            payments: self.payments.clone(),
            images: self.images.clone(),
            names: self.names.clone(),
            fingerprint: samaritan_engine::similar::Fingerprint {
                words: self.words.clone(),
                tokens: self.tokens,
                hashes,
                bands: self.bands.clone(),
            },
        }
    }

    fn photo_analyses(&self) -> Option<Vec<ImageAnalysis>> {
        self.photos.as_ref().map(|p| {
            p.iter()
                .enumerate()
                .map(|(index, ph)| ImageAnalysis {
                    index,
                    sha256: ph.sha256.clone(),
                    pdq: ph.pdq.clone(),
                    quality: ph.quality,
                    ..ImageAnalysis::default()
                })
                .collect()
        })
    }
}

/// The linker and what goes with it. Held behind one mutex, only for inserts and network reads.
struct LinkState {
    linker: Linker,
    /// Next record key.
    seq: u64,
    /// Policy contexts shown by each ad's own wording (only ads with any).
    own_contexts: HashMap<String, u64>,
    /// Network of each ad as last saved to the store, and the members of each saved network.
    net_of: HashMap<String, String>,
    members_of: HashMap<String, Vec<String>>,
    /// Ads linked since the last save of networks.
    dirty: Vec<String>,
}

/// Distinct PDQ values of stored ads in a multi-index hash index, for `/v1/search?pdq=`.
#[derive(Default)]
struct PdqIndex {
    index: MihIndex,
    values: Vec<String>,
    seen: HashSet<PdqHash>,
}

impl PdqIndex {
    fn add(&mut self, hex: &str) {
        if let Ok(h) = PdqHash::from_hex(hex)
            && self.seen.insert(h)
        {
            let id = self.index.insert(h);
            let slot = id.0 as usize;
            if self.values.len() <= slot {
                self.values.resize(slot + 1, String::new());
            }
            self.values[slot] = h.to_hex();
        }
    }
}

/// The engine with a policy that can be swapped while requests run, image intake and a linker.
pub struct EngineAnalyzer {
    active: RwLock<Arc<Active>>,
    extract: ExtractOptions,
    images: Option<Images>,
    link_config: LinkConfig,
    link: Mutex<LinkState>,
    /// Photo identities for linking. Apart from the linker so that a batch looks its photos up
    /// (read lock, in parallel, outside the linker's mutex) before it takes the mutex and
    /// resolves them in order (write lock, taken only while the mutex is held: mutex first).
    photos: RwLock<PhotoIdentities>,
    pdq: RwLock<PdqIndex>,
}

fn rejection(e: PolicyError) -> PolicyRejection {
    let line = match &e {
        PolicyError::Parse { line, .. } | PolicyError::Invalid { line, .. } => Some(*line),
    };
    PolicyRejection {
        message: e.to_string(),
        line,
    }
}

/// Compiles `text` and runs its own tests; the first failing test is the rejection.
fn compile(text: &str, extract: &ExtractOptions) -> Result<Active, PolicyRejection> {
    let policy = Arc::new(Policy::from_toml(text).map_err(rejection)?);
    if let Some(failed) = run_tests(&policy, extract)
        .into_iter()
        .find(|t| !t.passed())
    {
        return Err(PolicyRejection {
            message: format!(
                "policy test `{}` (line {}) fails: {}",
                failed.name,
                failed.line,
                failed.failures.join("; ")
            ),
            line: Some(failed.line),
        });
    }
    let info = PolicyInfo {
        label: policy.label(),
        text: text.to_owned(),
    };
    Ok(Active {
        engine: Engine::new(policy, extract.clone()),
        info,
    })
}

/// The stateless half of one ad's ingest.
struct Prepped {
    staged: Staged,
    link: LinkInput,
    images: Vec<ImageAnalysis>,
    bank_matches: Vec<BankMatch>,
    contexts: u64,
    pdq: Vec<String>,
    /// The PDQ hashes that link ([`PhotoIdentities::linkable`] of `images`).
    photo_hashes: Vec<PdqHash>,
    /// The serialised [`LinkRecord`] (built here, outside the lock).
    record: Vec<u8>,
}

/// What the linker says about one ad of a batch.
struct Linked {
    network: Option<usize>,
    template: Option<TemplateRef>,
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

/// Per network and policy context, the share of members that show the context themselves.
fn context_shares(n: &Network, own: &HashMap<String, u64>, n_contexts: usize) -> Vec<f64> {
    let bits: Vec<u64> = n
        .members
        .iter()
        .map(|m| own.get(m).copied().unwrap_or(0))
        .collect();
    (0..n_contexts)
        .map(|c| {
            bits.iter().filter(|b| *b & (1 << c) != 0).count() as f64 / bits.len().max(1) as f64
        })
        .collect()
}

impl EngineAnalyzer {
    /// An analyzer running `policy_text`, or why the text is refused. `images: None` leaves
    /// images out (the analysis lists none; ad-supplied hashes still link).
    pub fn new(
        policy_text: &str,
        extract: ExtractOptions,
        images: Option<Images>,
    ) -> Result<EngineAnalyzer, PolicyRejection> {
        let link_config = LinkConfig::default();
        Ok(EngineAnalyzer {
            active: RwLock::new(Arc::new(compile(policy_text, &extract)?)),
            extract,
            images,
            link_config,
            link: Mutex::new(LinkState {
                linker: Linker::new(link_config),
                seq: 0,
                own_contexts: HashMap::new(),
                net_of: HashMap::new(),
                members_of: HashMap::new(),
                dirty: Vec::new(),
            }),
            photos: RwLock::new(PhotoIdentities::new(DEFAULT_LINK_DISTANCE)),
            pdq: RwLock::new(PdqIndex::default()),
        })
    }

    /// [`Images::take_in_all`], or nothing per ad when images are off.
    fn take_in_all(&self, ads: &[&Ad]) -> Vec<(Vec<ImageAnalysis>, Vec<BankMatch>)> {
        match &self.images {
            Some(m) => m.take_in_all(ads),
            None => vec![(Vec::new(), Vec::new()); ads.len()],
        }
    }

    fn current(&self) -> Arc<Active> {
        match self.active.read() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    fn link_state(&self) -> MutexGuard<'_, LinkState> {
        // A panic inside the lock leaves plain data (no invariant spans two fields in a way a
        // reader could trip over beyond a missing network update), so keep serving.
        self.link.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn add_pdq(&self, values: &[String]) {
        if values.is_empty() {
            return;
        }
        let mut idx = self.pdq.write().unwrap_or_else(|p| p.into_inner());
        for v in values {
            idx.add(v);
        }
    }

    /// Ads linked so far.
    pub fn linked_ads(&self) -> usize {
        self.link_state().linker.len()
    }

    /// Replays stored link records (in key order) and takes the stored network memberships as
    /// the last saved state; every ad is marked for the first network save, which then writes
    /// only what differs. Returns the number of records replayed.
    pub fn restore(
        &self,
        pages: impl IntoIterator<Item = Vec<(String, Vec<u8>)>>,
        memberships: Vec<(String, String)>,
    ) -> anyhow::Result<u64> {
        let mut st = self.link_state();
        let mut photos = self.photos.write().unwrap_or_else(|p| p.into_inner());
        let mut n = 0u64;
        for page in pages {
            let decoded: Vec<(String, anyhow::Result<(LinkRecord, LinkInput)>)> = page
                .into_par_iter()
                .map(|(key, value)| {
                    let r = serde_json::from_slice::<LinkRecord>(&value)
                        .map_err(anyhow::Error::from)
                        .and_then(|rec| {
                            if rec.format != LINK_FORMAT {
                                anyhow::bail!(
                                    "format {} (this build reads {LINK_FORMAT})",
                                    rec.format
                                );
                            }
                            let input = rec.input();
                            Ok((rec, input))
                        });
                    (key, r)
                })
                .collect();
            let mut pdq = Vec::new();
            for (key, r) in decoded {
                let (rec, mut input) =
                    r.map_err(|e| anyhow::anyhow!("link record {key} does not load: {e}"))?;
                if let Some(images) = rec.photo_analyses() {
                    input.images = photos.identifiers(&images);
                }
                if st.linker.insert(input).is_ok() {
                    st.dirty.push(rec.id.clone());
                }
                if rec.contexts != 0 {
                    st.own_contexts.insert(rec.id, rec.contexts);
                }
                pdq.extend(rec.pdq);
                let seq: u64 = key
                    .parse()
                    .map_err(|_| anyhow::anyhow!("link record key `{key}` is not a number"))?;
                st.seq = st.seq.max(seq + 1);
                n += 1;
            }
            self.add_pdq(&pdq);
        }
        for (ad, net) in memberships {
            st.members_of
                .entry(net.clone())
                .or_default()
                .push(ad.clone());
            st.net_of.insert(ad, net);
        }
        // Ads the store thinks are in a network are checked too (a network may have vanished).
        let saved: Vec<String> = st.net_of.keys().cloned().collect();
        st.dirty.extend(saved);
        Ok(n)
    }

    /// Normalize, extract, match, images, fingerprint: everything that needs no shared state.
    fn prepare(
        &self,
        engine: &Engine,
        ad: &Ad,
        (images, bank_matches): (Vec<ImageAnalysis>, Vec<BankMatch>),
    ) -> Prepped {
        let prepared = engine.prepare(ad);
        let staged = engine.stage(ad, &prepared);
        let fingerprint = fingerprint_with(&prepared.normalized.text, &self.link_config.similar);
        let link = LinkInput::from_ad(ad, &staged.extracted, fingerprint);
        let mut pdq: Vec<String> = images.iter().filter_map(|i| i.pdq.clone()).collect();
        for img in &ad.images {
            if let ImageRef::Hashes { pdq: Some(h), .. } = img {
                pdq.push(h.to_ascii_lowercase());
            }
        }
        pdq.sort();
        pdq.dedup();
        let contexts = engine.policy().contexts_of(&staged.text_hits);
        let record = LinkRecord::of(
            &link,
            self.images.is_some().then_some(images.as_slice()),
            contexts,
            &pdq,
        );
        let photo_hashes = PhotoIdentities::linkable(&images);
        let record = serde_json::to_vec(&record).unwrap_or_default();
        Prepped {
            staged,
            link,
            images,
            bank_matches,
            contexts,
            pdq,
            photo_hashes,
            record,
        }
    }
}

impl Analyzer for EngineAnalyzer {
    /// Each ad on its own (no linking), images included.
    fn analyze(&self, ads: &[Ad]) -> Vec<Analysis> {
        let active = self.current();
        let engine = &active.engine;
        let refs: Vec<&Ad> = ads.iter().collect();
        let images = self.take_in_all(&refs);
        map_maybe_par(
            refs.into_iter().zip(images).collect(),
            |(ad, (images, bank_matches))| {
                let prepared = engine.prepare(ad);
                engine.finish(
                    ad,
                    &prepared,
                    Context {
                        images,
                        bank_matches,
                        ..Context::default()
                    },
                )
            },
        )
    }

    fn ingest_linked(&self, ads: &[Ad]) -> Ingested {
        let active = self.current();
        let engine = &active.engine;
        // 1. Stateless, on every core, outside the lock.
        let refs: Vec<&Ad> = ads.iter().collect();
        let images = self.take_in_all(&refs);
        let work: Vec<_> = refs.into_iter().zip(images).collect();
        let prepped: Vec<Prepped> =
            map_maybe_par(work, |(ad, images)| self.prepare(engine, ad, images));

        // 2. Serial, under the lock: insert in input order, then read networks once.
        let mut link_state: Vec<Vec<(String, String, Vec<u8>)>> = Vec::with_capacity(ads.len());
        let mut pdq_new: Vec<String> = Vec::new();
        let mut networks: Vec<(Network, Vec<f64>)> = Vec::new();
        let mut linked: Vec<Linked> = Vec::with_capacity(ads.len());
        let mut prepped = prepped;
        // Photo look-ups against the photos known now, in parallel and outside the mutex; the
        // ones that become known before this batch takes the mutex are checked when resolving.
        let (lookups, as_of): (Vec<Vec<Option<Near>>>, usize) = if self.images.is_some() {
            let photos = self.photos.read().unwrap_or_else(|p| p.into_inner());
            let hashes: Vec<&[PdqHash]> =
                prepped.iter().map(|p| p.photo_hashes.as_slice()).collect();
            let lookups = map_maybe_par(hashes, |hs| hs.iter().map(|h| photos.lookup(h)).collect());
            (lookups, photos.known())
        } else {
            (Vec::new(), 0)
        };
        {
            let mut st = self.link_state();
            let mut photos = self.photos.write().unwrap_or_else(|p| p.into_inner());
            for (i, p) in prepped.iter_mut().enumerate() {
                if let Some(found) = lookups.get(i) {
                    p.link.images =
                        photos.identifiers_resolved(&p.images, &p.photo_hashes, found, as_of);
                }
                // A refused input (oversized values) leaves the linker unchanged; the ad is
                // still analysed on its own, and its record replays to the same refusal.
                let inserted = st.linker.insert(std::mem::take(&mut p.link)).is_ok();
                let key = record_key(st.seq);
                st.seq += 1;
                link_state.push(vec![(
                    LINK_KIND.to_owned(),
                    key,
                    std::mem::take(&mut p.record),
                )]);
                if inserted {
                    st.dirty.push(p.staged.id.clone());
                }
                if p.contexts != 0 {
                    st.own_contexts.insert(p.staged.id.clone(), p.contexts);
                }
                pdq_new.append(&mut p.pdq);
            }
            drop(photos);
            let n_contexts = engine.policy().contexts.len().min(64);
            let mut net_index: HashMap<String, usize> = HashMap::new();
            for p in &prepped {
                let id = p.staged.id.as_str();
                let network = match net_index.get(id) {
                    Some(&i) => Some(i),
                    None => st.linker.network_of(id).map(|n| {
                        let i = networks.len();
                        for m in &n.members {
                            net_index.insert(m.clone(), i);
                        }
                        let shares = context_shares(&n, &st.own_contexts, n_contexts);
                        networks.push((n, shares));
                        i
                    }),
                };
                linked.push(Linked {
                    network,
                    template: st.linker.template_of(id),
                });
            }
        }
        self.add_pdq(&pdq_new);

        // 3. Decide, on every core, outside the lock.
        let networks = &networks;
        let work: Vec<(Prepped, Linked)> = prepped.into_iter().zip(linked).collect();
        let analyses = map_maybe_par(work, |(p, l)| {
            let network = l.network.map(|i| &networks[i]);
            let context = Context {
                network: network.map(|(n, _)| {
                    (
                        n.reference(),
                        &n.features as &dyn samaritan_engine::policy::NetworkView,
                    )
                }),
                network_context_share: network.map(|(_, s)| s.clone()).unwrap_or_default(),
                template: l.template,
                bank_matches: p.bank_matches,
                images: p.images,
            };
            engine.finish_staged(p.staged, context)
        });
        Ingested {
            analyses,
            link_state,
        }
    }

    fn linked_network_changes(&self) -> NetworkChanges {
        let mut st = self.link_state();
        let dirty = std::mem::take(&mut st.dirty);
        if dirty.is_empty() {
            return NetworkChanges::default();
        }
        let st = &mut *st;
        // The network of every ad touched, and of every ad that shared a network with one.
        let mut now_of: HashMap<String, Option<String>> = HashMap::new();
        let mut nets: BTreeMap<String, Network> = BTreeMap::new();
        let resolve = |id: &str,
                       now_of: &mut HashMap<String, Option<String>>,
                       nets: &mut BTreeMap<String, Network>| {
            if now_of.contains_key(id) {
                return;
            }
            match st.linker.network_of(id) {
                Some(n) => {
                    for m in &n.members {
                        now_of.insert(m.clone(), Some(n.id.clone()));
                    }
                    nets.insert(n.id.clone(), n);
                }
                None => {
                    now_of.insert(id.to_owned(), None);
                }
            }
        };
        for id in &dirty {
            resolve(id, &mut now_of, &mut nets);
        }
        // Networks saved before that any of these ads was in: their other members may have
        // moved (merge) or left (split). Expand until nothing new turns up.
        let mut expanded: HashSet<String> = HashSet::new();
        loop {
            let pending: Vec<String> = now_of
                .keys()
                .filter_map(|ad| st.net_of.get(ad))
                .chain(nets.keys())
                .filter(|n| !expanded.contains(*n))
                .cloned()
                .collect::<HashSet<_>>()
                .into_iter()
                .collect();
            if pending.is_empty() {
                break;
            }
            for p in pending {
                if let Some(members) = st.members_of.get(&p) {
                    for m in members.clone() {
                        resolve(&m, &mut now_of, &mut nets);
                    }
                }
                expanded.insert(p);
            }
        }
        let mut changes = NetworkChanges::default();
        for (ad, now) in &now_of {
            if st.net_of.get(ad) != now.as_ref() {
                changes.members.push((ad.clone(), now.clone()));
            }
        }
        changes.members.sort();
        changes.removed = expanded
            .iter()
            .filter(|id| !nets.contains_key(*id) && st.members_of.contains_key(*id))
            .cloned()
            .collect();
        changes.removed.sort();
        for (ad, now) in &changes.members {
            match now {
                Some(n) => {
                    st.net_of.insert(ad.clone(), n.clone());
                }
                None => {
                    st.net_of.remove(ad);
                }
            }
        }
        for id in &changes.removed {
            st.members_of.remove(id);
        }
        for (id, n) in nets {
            let r = n.reference();
            changes.save.push(NetworkSave {
                id: id.clone(),
                size: i64::from(r.size),
                cities: i64::from(r.cities),
                reasons: r.reasons,
                detail: serde_json::json!({
                    "evidence": n.evidence,
                    "guarded": n.guarded,
                    "features": n.features,
                }),
            });
            st.members_of.insert(id, n.members);
        }
        changes
    }

    fn pdq_near(&self, pdq: &str, max_distance: u32) -> Option<Vec<(u32, String)>> {
        let idx = self.pdq.read().unwrap_or_else(|p| p.into_inner());
        let Ok(h) = PdqHash::from_hex(pdq) else {
            return Some(Vec::new());
        };
        Some(
            idx.index
                .query(&h, max_distance)
                .into_iter()
                .filter_map(|(id, d)| idx.values.get(id.0 as usize).map(|v| (d, v.clone())))
                .collect(),
        )
    }

    fn policy(&self) -> PolicyInfo {
        self.current().info.clone()
    }

    fn check_policy(&self, text: &str) -> Result<String, PolicyRejection> {
        Ok(compile(text, &self.extract)?.info.label)
    }

    fn set_policy(&self, text: &str) -> Result<String, PolicyRejection> {
        let next = Arc::new(compile(text, &self.extract)?);
        let label = next.info.label.clone();
        match self.active.write() {
            Ok(mut g) => *g = next,
            Err(p) => *p.into_inner() = next,
        }
        Ok(label)
    }
}
