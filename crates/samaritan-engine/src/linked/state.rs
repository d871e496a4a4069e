//! Steps 2 and 3 of a linked analysis: the linker, the photos' identities, and the networks'
//! context.

use std::collections::HashMap;

use super::{LinkReady, LinkRecord};
use crate::Engine;
use crate::link::photos::{DEFAULT_LINK_DISTANCE, Near, PhotoIdentities};
use crate::link::{Inserted, LinkConfig, LinkError, Linker, Network};
use crate::model::{Analysis, TemplateRef};
use crate::pipeline::{Context, ImageResults, Staged};
use crate::policy::{ModelFact, NetworkView, Policy};

/// The photo look-ups of a batch and the number of photos known when they ran: made by
/// [`LinkedState::look_up_batch`] and taken by [`LinkedState::link_batch`], so look-ups and
/// their moment travel together.
pub struct BatchLookups {
    per_ad: Vec<Vec<Option<Near>>>,
    as_of: usize,
}

/// The state a linked analysis keeps between ads: the linker, the identities of the photos seen,
/// and the policy contexts each ad showed by its own wording. Saved whole as a snapshot
/// ([`LinkedState::to_snapshot`]).
pub struct LinkedState {
    pub(super) linker: Linker,
    pub(super) photos: PhotoIdentities,
    /// Only ads that show any context.
    pub(super) own_contexts: HashMap<String, u64>,
}

impl LinkedState {
    pub fn new(config: LinkConfig) -> LinkedState {
        LinkedState {
            linker: Linker::new(config),
            photos: PhotoIdentities::new(DEFAULT_LINK_DISTANCE),
            own_contexts: HashMap::new(),
        }
    }

    pub fn linker(&self) -> &Linker {
        &self.linker
    }

    pub fn config(&self) -> &LinkConfig {
        self.linker.config()
    }

    /// How many distinct photos are known; pass it to [`LinkedState::link`] with the look-ups
    /// made now.
    pub fn photos_known(&self) -> usize {
        self.photos.known()
    }

    /// The nearest known photo of each of the ad's linkable images. Read-only: a batch's
    /// look-ups can run in parallel (before [`LinkedState::link`] takes them in order).
    pub fn lookup(&self, ready: &LinkReady) -> Vec<Option<Near>> {
        ready
            .photo_hashes
            .iter()
            .flatten()
            .map(|h| self.photos.lookup(h))
            .collect()
    }

    /// Links one ad, in input order. `lookups` is [`LinkedState::lookup`] of this ad made when
    /// [`LinkedState::photos_known`] was `as_of` (photos that became known since are checked
    /// here): the outcome is exactly that of looking up and linking one ad at a time. The
    /// linker's input is taken out of `ready`. Returns the linker's answer: an error when it
    /// refused the input (an oversized value; nothing changes, and the ad is still analysed on
    /// its own); an id seen before is taken as the same ad and keeps its links
    /// ([`Inserted::duplicate`]).
    pub fn link(
        &mut self,
        ready: &mut LinkReady,
        lookups: &[Option<Near>],
        as_of: usize,
    ) -> Result<Inserted, LinkError> {
        let mut input = std::mem::take(&mut ready.link);
        if let Some(hashes) = &ready.photo_hashes {
            input.images =
                self.photos
                    .identifiers_resolved(&ready.images.images, hashes, lookups, as_of);
        }
        // A later revision of a linked ad is refused by the linker (its links stay those of the
        // first), but its wording counts for the network's context shares.
        if ready.contexts != 0 {
            self.own_contexts.insert(input.id.clone(), ready.contexts);
        }
        self.linker.insert(input)
    }

    /// Step 2a for a batch: every ad's photo look-ups ([`LinkedState::lookup`]), read-only and
    /// independent of each other, with the count of photos known when they ran. `map` applies
    /// the look-up to each ad of `batch` in order — one by one, or on every core: the engine
    /// starts no threads, the caller chooses.
    pub fn look_up_batch<'b>(
        &self,
        batch: &'b [LinkReady],
        map: impl FnOnce(
            &'b [LinkReady],
            &(dyn Fn(&LinkReady) -> Vec<Option<Near>> + Sync),
        ) -> Vec<Vec<Option<Near>>>,
    ) -> BatchLookups {
        let as_of = self.photos_known();
        let per_ad = map(batch, &|r| self.lookup(r));
        BatchLookups { per_ad, as_of }
    }

    /// Step 2b for a batch: links each ad of the batch that [`LinkedState::look_up_batch`] was
    /// given, in the same order, with its look-ups ([`LinkedState::link`] for each). The outcome
    /// is that of linking the ads one at a time.
    pub fn link_batch<'r>(
        &mut self,
        batch: impl IntoIterator<Item = &'r mut LinkReady>,
        lookups: BatchLookups,
    ) -> Vec<Result<Inserted, LinkError>> {
        let as_of = lookups.as_of;
        batch
            .into_iter()
            .zip(lookups.per_ad)
            .map(|(ready, l)| self.link(ready, &l, as_of))
            .collect()
    }

    /// Links a stored record again (see [`LinkRecord`]); records replayed in the order they
    /// were made give back the state that made them. Returns what [`LinkedState::link`] did.
    pub fn replay(&mut self, record: &LinkRecord) -> Result<Inserted, LinkError> {
        let mut input = record.input();
        if let Some(images) = record.photo_analyses() {
            input.images = self.photos.identifiers(&images);
        }
        if record.contexts != 0 {
            self.own_contexts.insert(record.id.clone(), record.contexts);
        }
        self.linker.insert(input)
    }

    /// The template of an ad, when it has near-duplicates.
    pub fn template_of(&self, id: &str) -> Option<TemplateRef> {
        self.linker.template_of(id)
    }

    /// The networks of `ids` (each once), as of now.
    pub fn networks_of<'a>(
        &self,
        ids: impl IntoIterator<Item = &'a str>,
        policy: &Policy,
    ) -> NetworkContexts {
        let mut out = NetworkContexts::new(policy);
        for id in ids {
            if !out.member_of.contains_key(id)
                && let Some(n) = self.linker.network_of(id)
            {
                out.push(n, &self.own_contexts);
            }
        }
        out
    }

    /// Every network, as of now (oldest first).
    pub fn all_networks(&self, policy: &Policy) -> NetworkContexts {
        let mut out = NetworkContexts::new(policy);
        for n in self.linker.networks() {
            out.push(n, &self.own_contexts);
        }
        out
    }
}

/// Networks with, per network and policy context, the share of members that show the context by
/// their own wording (what lets a policy weigh "most of this network advertises X").
pub struct NetworkContexts {
    networks: Vec<(Network, Vec<f64>)>,
    member_of: HashMap<String, usize>,
    n_contexts: usize,
}

impl NetworkContexts {
    fn new(policy: &Policy) -> NetworkContexts {
        NetworkContexts {
            networks: Vec::new(),
            member_of: HashMap::new(),
            n_contexts: policy.contexts.len().min(64),
        }
    }

    fn push(&mut self, n: Network, own: &HashMap<String, u64>) {
        let bits: Vec<u64> = n
            .members
            .iter()
            .map(|m| own.get(m).copied().unwrap_or(0))
            .collect();
        let shares = (0..self.n_contexts)
            .map(|c| {
                bits.iter().filter(|b| *b & (1 << c) != 0).count() as f64 / bits.len().max(1) as f64
            })
            .collect();
        let i = self.networks.len();
        for m in &n.members {
            self.member_of.insert(m.clone(), i);
        }
        self.networks.push((n, shares));
    }

    /// The networks, in the order found.
    pub fn networks(&self) -> impl Iterator<Item = &Network> {
        self.networks.iter().map(|(n, _)| n)
    }

    /// Number of networks.
    pub fn len(&self) -> usize {
        self.networks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.networks.is_empty()
    }

    /// Number of ads in the networks.
    pub fn members(&self) -> usize {
        self.member_of.len()
    }

    /// The network an ad is in, if any.
    pub fn network_of(&self, id: &str) -> Option<&Network> {
        self.member_of.get(id).map(|&i| &self.networks[i].0)
    }

    /// The context an ad is finished with (step 4): its network and the network's context
    /// shares, its template, its images.
    pub fn context(
        &self,
        id: &str,
        template: Option<TemplateRef>,
        images: ImageResults,
    ) -> Context<'_> {
        let network = self.member_of.get(id).map(|&i| &self.networks[i]);
        Context {
            network: network.map(|(n, _)| (n.reference(), &n.features as &dyn NetworkView)),
            network_context_share: network.map(|(_, s)| s.clone()).unwrap_or_default(),
            template,
            bank_matches: images.bank_matches,
            images: images.images,
            model: None,
        }
    }

    /// Step 4: an ad's analysis, finished with its network's context, its template (from
    /// [`LinkedState::template_of`]) and what taking in its images gave.
    pub fn finish(
        &self,
        engine: &Engine,
        staged: Staged,
        images: ImageResults,
        template: Option<TemplateRef>,
    ) -> Analysis {
        self.finish_scored(engine, staged, images, template, None)
    }

    /// [`NetworkContexts::finish`] with the learned model's score of the ad, for a policy's
    /// `model_score` indicator.
    pub fn finish_scored(
        &self,
        engine: &Engine,
        staged: Staged,
        images: ImageResults,
        template: Option<TemplateRef>,
        model: Option<ModelFact>,
    ) -> Analysis {
        let context = Context {
            model,
            ..self.context(&staged.id, template, images)
        };
        engine.finish_staged(staged, context)
    }
}
