//! Step 1 of a linked analysis: everything that depends on the ad alone.

use crate::link::photos::PhotoIdentities;
use crate::link::{LinkConfig, LinkInput};
use crate::model::{Ad, ImageRef};
use crate::pdq::PdqHash;
use crate::pipeline::{Engine, ImageResults, Prepared, Staged};
use crate::similar::fingerprint_with;
use crate::{ExtractOptions, normalize};

/// One ad ready to be linked: its staged analysis (text-free), the linker's input, its images
/// as taken in, and what its network's context needs from it.
pub struct LinkReady {
    pub staged: Staged,
    pub link: LinkInput,
    pub images: ImageResults,
    /// Policy contexts the ad shows by its own wording (bit set; see
    /// [`crate::policy::Policy::contexts_of`]).
    pub contexts: u64,
    /// The PDQ hashes of the ad's images that take part in linking
    /// ([`PhotoIdentities::linkable`]); `None` when images were not taken in, in which case the
    /// image hashes the ad supplied itself link as given.
    pub photo_hashes: Option<Vec<PdqHash>>,
}

impl LinkReady {
    /// An ad known only by its linker input (linking without a policy, as `samaritan networks`
    /// and linker tests do): no analysis, no images taken in, no policy contexts.
    pub fn from_input(link: LinkInput) -> LinkReady {
        LinkReady {
            staged: Staged {
                id: link.id.clone(),
                ..Staged::default()
            },
            link,
            images: ImageResults::default(),
            contexts: 0,
            photo_hashes: None,
        }
    }

    /// The PDQ hashes to find the ad by (its images' and those it supplied), lowercase hex,
    /// sorted and distinct: what a search index of the ads keeps (the service's; a scan has
    /// none, so it is not made in [`Engine::prepare_linked`]).
    pub fn search_pdq(&self, ad: &Ad) -> Vec<String> {
        let mut pdq: Vec<String> = self
            .images
            .images
            .iter()
            .filter_map(|i| i.pdq.clone())
            .collect();
        for img in &ad.images {
            if let ImageRef::Hashes { pdq: Some(h), .. } = img {
                pdq.push(h.to_ascii_lowercase());
            }
        }
        pdq.sort();
        pdq.dedup();
        pdq
    }
}

/// The stages of step 1, as [`link_input`] and [`Engine::prepare_linked_timed`] report them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkStage {
    Normalized,
    Extracted,
    /// The policy's phrases and patterns matched (never told by [`link_input`]: no policy).
    Matched,
    /// Fingerprinted, with the linker's input and the policy contexts built.
    Fingerprinted,
}

/// Step 1 when linking without a policy (`samaritan networks`, linker studies): normalize,
/// extract the identifiers (none with `extract: None`: text only), fingerprint the text → the
/// linker's input, as [`Engine::prepare_linked`] builds it. `stage_done` is told as each stage
/// ends (for callers that time them).
pub fn link_input(
    ad: &Ad,
    extract: Option<&ExtractOptions>,
    config: &LinkConfig,
    mut stage_done: impl FnMut(LinkStage),
) -> LinkInput {
    let doc = ad.document();
    let norm = normalize(&doc);
    stage_done(LinkStage::Normalized);
    let extracted = extract
        .map(|o| crate::extract(&doc, &norm, o).extracted())
        .unwrap_or_default();
    stage_done(LinkStage::Extracted);
    let fp = fingerprint_with(&norm.text, &config.similar);
    stage_done(LinkStage::Fingerprinted);
    LinkInput::from_ad(ad, &extracted, fp)
}

impl Engine {
    /// Step 1 of a linked analysis (see [`crate::linked`]). `images` is what taking in the ad's
    /// images gave (`None` when images are not taken in at all).
    pub fn prepare_linked(
        &self,
        ad: &Ad,
        images: Option<ImageResults>,
        config: &LinkConfig,
    ) -> LinkReady {
        self.prepare_linked_with(ad, images, config, |_| ()).0
    }

    /// [`Engine::prepare_linked`], also handing the ad's [`Prepared`] to `also` before it is
    /// dropped (so a caller can score the ad with the learned model without preparing it twice).
    pub fn prepare_linked_with<T>(
        &self,
        ad: &Ad,
        images: Option<ImageResults>,
        config: &LinkConfig,
        also: impl FnOnce(&Prepared) -> T,
    ) -> (LinkReady, T) {
        self.prepare_linked_timed(ad, images, config, also, |_| ())
    }

    /// [`Engine::prepare_linked_with`], telling `stage_done` as each stage ends (normalized,
    /// extracted, matched, fingerprinted; the staged summary counts with the fingerprint) for
    /// callers that time them (`samaritan worker --stages`).
    pub fn prepare_linked_timed<T>(
        &self,
        ad: &Ad,
        images: Option<ImageResults>,
        config: &LinkConfig,
        also: impl FnOnce(&Prepared) -> T,
        mut stage_done: impl FnMut(LinkStage),
    ) -> (LinkReady, T) {
        let prepared = self.prepare_document_timed(ad.document(), &mut stage_done);
        let extra = also(&prepared);
        let staged = self.stage(ad, &prepared);
        let fingerprint = fingerprint_with(&prepared.normalized.text, &config.similar);
        let link = LinkInput::from_ad(ad, &staged.extracted, fingerprint);
        let contexts = self.policy().contexts_of(&staged.text_hits);
        stage_done(LinkStage::Fingerprinted);
        let photo_hashes = images
            .as_ref()
            .map(|i| PhotoIdentities::linkable(&i.images));
        let images = images.unwrap_or_default();
        let ready = LinkReady {
            staged,
            link,
            images,
            contexts,
            photo_hashes,
        };
        (ready, extra)
    }
}
