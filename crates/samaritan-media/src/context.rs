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
    /// Lowercase hex → bank names, per exact kind.
    md5: HashMap<String, Vec<String>>,
    sha256: HashMap<String, Vec<String>>,
}

impl ImageContext {
    /// No banks yet.
    pub fn new(intake: IntakeConfig) -> ImageContext {
        ImageContext {
            intake,
            banks: BankSet::new(),
            options: MatchOptions::default(),
            md5: HashMap::new(),
            sha256: HashMap::new(),
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
        let list = match k {
            ExactKind::Md5 => &mut self.md5,
            ExactKind::Sha256 => &mut self.sha256,
        };
        let banks = list.entry(hash).or_default();
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
        !self.banks.is_empty() || !self.md5.is_empty() || !self.sha256.is_empty()
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
        if !self.md5.is_empty() || !self.sha256.is_empty() {
            for (out, matches) in &mut all {
                for img in out.iter() {
                    let found = [
                        img.md5.as_ref().and_then(|h| self.md5.get(h)),
                        img.sha256.as_ref().and_then(|h| self.sha256.get(h)),
                    ];
                    for banks in found.into_iter().flatten() {
                        for bank in banks {
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests may unwrap

    use super::*;

    #[test]
    fn bad_entries_are_refused_naming_bank_kind_and_hash() {
        let mut ctx = ImageContext::new(IntakeConfig::default());
        let e = ctx.add_entry("b", "crc32", "00").unwrap_err().to_string();
        assert!(e.contains("`b`") && e.contains("crc32"), "{e}");
        let e = ctx.add_entry("b", "md5", "xyz").unwrap_err().to_string();
        assert!(e.contains("32 hex digits") && e.contains("xyz"), "{e}");
        let e = ctx
            .add_entry("b", "sha256", &"a".repeat(63))
            .unwrap_err()
            .to_string();
        assert!(e.contains("64 hex digits"), "{e}");
        let e = ctx
            .add_entry("b", "pdq", "not hex")
            .unwrap_err()
            .to_string();
        assert!(e.contains("pdq"), "{e}");
        assert!(!ctx.has_banks(), "nothing half-added");
        // Upper case and surrounding space are the same digest; a bank is listed once.
        let h = "AB".repeat(16);
        ctx.add_entry("b", "md5", &format!(" {h} ")).unwrap();
        ctx.add_entry("b", "md5", &h.to_ascii_lowercase()).unwrap();
        ctx.add_entry("c", "md5", &h).unwrap();
        assert_eq!(ctx.md5[&h.to_ascii_lowercase()], ["b", "c"]);
    }

    #[test]
    fn exact_lists_load_from_a_directory_and_bad_lines_name_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let banks = dir.path().join("banks");
        std::fs::create_dir_all(&banks).unwrap();
        let md5 = "0123456789abcdef".repeat(2);
        std::fs::write(
            banks.join("list.md5"),
            format!("# a comment\n\n{md5} trailing note\n"),
        )
        .unwrap();
        let mut ctx = ImageContext::new(IntakeConfig::default());
        ctx.add_bank_dir(&BankDir::new(dir.path())).unwrap();
        assert_eq!(ctx.md5[&md5], ["list"]);

        std::fs::write(banks.join("bad.sha256"), "# ok\nnot-a-digest\n").unwrap();
        let e = ImageContext::new(IntakeConfig::default())
            .add_bank_dir(&BankDir::new(dir.path()))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("bad.sha256:2") && e.contains("64 hex digits"),
            "{e}"
        );

        // No directory: no banks, no error.
        let mut none = ImageContext::new(IntakeConfig::default());
        none.add_bank_dir(&BankDir::new(&dir.path().join("missing")))
            .unwrap();
        assert!(!none.has_banks());
    }
}
