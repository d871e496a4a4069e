//! Step 1's result in a form that travels: what a stateless prepare worker hands the linker.
//!
//! A [`LinkReady`] holds the linker's input with derived values (token hashes, photo
//! identities) that need not travel; [`PreparedAd`] keeps what cannot be made again without the
//! ad's text (the staged analysis, the [`LinkRecord`] the linker replays, the images as taken
//! in) and [`PreparedAd::into_ready`] rebuilds the rest exactly as [`LinkRecord`] replay does.
//! [`PREPARED_FORMAT`] versions the layout; the policy label says under which policy the ad was
//! prepared, so a linker running another policy prepares the ad again instead of mixing them.

use serde::{Deserialize, Serialize};

use super::{LinkReady, LinkRecord};
use crate::link::photos::PhotoIdentities;
use crate::pipeline::{ImageResults, Staged};

/// Layout version of [`PreparedAd`].
pub const PREPARED_FORMAT: u32 = 1;

/// One ad after step 1, serialisable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PreparedAd {
    pub format: u32,
    /// `name@version` of the policy that matched the ad.
    pub policy: String,
    pub staged: Staged,
    /// The linker's input, policy contexts and search PDQ values.
    pub record: LinkRecord,
    /// The images as taken in; `None` when images were not taken in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub images: Option<ImageResults>,
}

impl PreparedAd {
    /// The travelling form of `ready`, prepared under `policy`; `pdq` as for
    /// [`LinkRecord::of`].
    pub fn of(ready: &LinkReady, pdq: Vec<String>, policy: String) -> PreparedAd {
        PreparedAd {
            format: PREPARED_FORMAT,
            policy,
            staged: ready.staged.clone(),
            record: LinkRecord::of(ready, pdq),
            images: ready.photo_hashes.as_ref().map(|_| ready.images.clone()),
        }
    }

    /// The ad ready to link again, equal to the one it was made from.
    pub fn into_ready(self) -> LinkReady {
        let photo_hashes = self
            .images
            .as_ref()
            .map(|i| PhotoIdentities::linkable(&i.images));
        LinkReady {
            link: self.record.input(),
            contexts: self.record.contexts,
            staged: self.staged,
            images: self.images.unwrap_or_default(),
            photo_hashes,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap (CONTRIBUTING.md)
    use super::*;
    use crate::link::LinkConfig;
    use crate::model::Ad;

    #[test]
    fn a_prepared_ad_travels_and_comes_back_equal() {
        let policy = crate::policy::load_tested(
            crate::policy::DEFAULT_POLICY,
            &crate::ExtractOptions::default(),
        )
        .unwrap();
        let label = policy.label();
        let engine = crate::Engine::new(policy, crate::ExtractOptions::default());
        let ad: Ad = serde_json::from_value(serde_json::json!({
            "id": "w1",
            "title": "new in town, call 555-0142",
            "body": "sweet girl, 18, ask for Mia. Cash only. mia@example.com",
            "images": [{"sha256": "ab".repeat(32)}]
        }))
        .unwrap();
        let config = LinkConfig::default();
        let ready = engine.prepare_linked(&ad, None, &config);
        let pdq = ready.search_pdq(&ad);
        let wire = PreparedAd::of(&ready, pdq.clone(), label);
        let json = serde_json::to_vec(&wire).unwrap();
        let back: PreparedAd = serde_json::from_slice(&json).unwrap();
        assert_eq!(back, wire);
        let again = back.into_ready();
        assert_eq!(again.staged, ready.staged);
        assert_eq!(again.link.fingerprint.hashes, ready.link.fingerprint.hashes);
        assert_eq!(again.link.phones, ready.link.phones);
        assert_eq!(again.contexts, ready.contexts);
        assert_eq!(
            LinkRecord::of(&again, pdq.clone()),
            LinkRecord::of(&ready, pdq)
        );
    }
}
