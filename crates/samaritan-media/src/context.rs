//! The image context every caller uses: how images are taken in, and the banks they are matched
//! against — PDQ banks (near matches, all 8 orientations when the image is decoded here) and
//! exact MD5 / SHA-256 lists.
//!
//! `samaritan scan` builds it from the data directory's banks, the service from the store's
//! banks and the data directory's; both then take images in through [`ImageContext::take_in`],
//! so an ad's images give the same entries and the same bank matches on every path.

use std::collections::HashMap;

use samaritan_engine::model::{Ad, ImageRef};
use samaritan_engine::pdq::{BankEntry, BankSet, MatchOptions, PdqHash};
use samaritan_engine::pipeline::ImageResults;
use samaritan_engine::policy::BankMatch;

use crate::bank_dir::{BankDir, BankDirError};
use crate::intake::IntakeConfig;
use crate::request::image_contexts;

/// A hash kind of an exact list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExactKind {
    Md5,
    Sha256,
}

impl ExactKind {
    pub fn parse(kind: &str) -> Option<ExactKind> {
        match kind {
            "md5" => Some(ExactKind::Md5),
            "sha256" => Some(ExactKind::Sha256),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ExactKind::Md5 => "md5",
            ExactKind::Sha256 => "sha256",
        }
    }

    /// Hex digits of a hash of this kind.
    pub fn hex_len(self) -> usize {
        match self {
            ExactKind::Md5 => 32,
            ExactKind::Sha256 => 64,
        }
    }
}

/// A bank entry that does not load.
#[derive(Debug, thiserror::Error)]
pub enum BankEntryError {
    #[error("hash bank `{bank}`: pdq `{hash}`: {reason}")]
    Pdq {
        bank: String,
        hash: String,
        reason: String,
    },
    #[error("hash bank `{bank}`: hash kind `{kind}` is not one of pdq, md5, sha256")]
    Kind { bank: String, kind: String },
    #[error("hash bank `{bank}`: a {kind} hash has {len} hex digits, got `{hash}`")]
    Exact {
        bank: String,
        kind: &'static str,
        len: usize,
        hash: String,
    },
    #[error(transparent)]
    Dir(#[from] BankDirError),
}

/// How images are taken in and matched, shared by every worker.
pub struct ImageContext {
    pub intake: IntakeConfig,
    pub banks: BankSet,
    pub options: MatchOptions,
    /// `md5:<hex>` / `sha256:<hex>` → bank names.
    exact: HashMap<String, Vec<String>>,
}

impl ImageContext {
    /// No banks yet.
    pub fn new(intake: IntakeConfig) -> ImageContext {
        ImageContext {
            intake,
            banks: BankSet::new(),
            options: MatchOptions::default(),
            exact: HashMap::new(),
        }
    }

    /// Adds one bank entry `(bank, kind, hash)`, kind `pdq`, `md5` or `sha256` (the store's
    /// `hash_bank` rows).
    pub fn add_entry(&mut self, bank: &str, kind: &str, hash: &str) -> Result<(), BankEntryError> {
        if kind == "pdq" {
            let h = PdqHash::from_hex(hash).map_err(|e| BankEntryError::Pdq {
                bank: bank.to_owned(),
                hash: hash.to_owned(),
                reason: e.to_string(),
            })?;
            return self.banks.add_entry(bank, BankEntry::new(h)).map_err(|e| {
                BankEntryError::Pdq {
                    bank: bank.to_owned(),
                    hash: hash.to_owned(),
                    reason: e.to_string(),
                }
            });
        }
        let Some(k) = ExactKind::parse(kind) else {
            return Err(BankEntryError::Kind {
                bank: bank.to_owned(),
                kind: kind.to_owned(),
            });
        };
        let hash = hash.trim().to_ascii_lowercase();
        if hash.len() != k.hex_len() || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(BankEntryError::Exact {
                bank: bank.to_owned(),
                kind: k.as_str(),
                len: k.hex_len(),
                hash,
            });
        }
        let banks = self
            .exact
            .entry(format!("{}:{hash}", k.as_str()))
            .or_default();
        if !banks.iter().any(|b| b == bank) {
            banks.push(bank.to_owned());
        }
        Ok(())
    }

    /// Adds every bank of a data directory: `<name>.pdq` banks and `<name>.md5` /
    /// `<name>.sha256` exact lists (a missing directory adds nothing).
    pub fn add_bank_dir(&mut self, dir: &BankDir) -> Result<(), BankEntryError> {
        for bank in dir.load_all()?.banks() {
            self.banks.insert_bank(bank.clone());
        }
        for (bank, kind, hash) in dir.load_exact()? {
            self.add_entry(&bank, kind.as_str(), &hash)?;
        }
        Ok(())
    }

    /// Whether any bank is loaded.
    pub fn has_banks(&self) -> bool {
        !self.banks.is_empty() || !self.exact.is_empty()
    }

    /// Takes in one ad's images (the ad is its own request: `samaritan scan` takes each ad in
    /// on its own, under the same per-request limits).
    pub fn take_in_one(&self, ad: &Ad) -> ImageResults {
        self.take_in(&[ad]).pop().unwrap_or_default()
    }

    /// Takes in the images of every ad of one request together (under the intake's per-request
    /// limits: URL fetches at once within one deadline, one pixel budget) and matches them: per
    /// ad, one entry per input image (an image that fails carries `error`) and the bank matches.
    pub fn take_in(&self, ads: &[&Ad]) -> Vec<ImageResults> {
        let lists: Vec<&[ImageRef]> = ads.iter().map(|a| a.images.as_slice()).collect();
        if lists.iter().all(|l| l.is_empty()) {
            return vec![ImageResults::default(); ads.len()];
        }
        let mut all = image_contexts(&lists, &self.intake, &self.banks, &self.options);
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
        all.into_iter()
            .map(|(images, bank_matches)| ImageResults {
                images,
                bank_matches,
            })
            .collect()
    }
}
