//! PDQ: Meta's perceptual image hash, and matching hashes against banks of known images.
//!
//! Reused photos link ads across names and phones, and hash lists shared by NCMEC and industry
//! stop known abuse imagery. Everything here is pure: pixels in, hashes out; hashes in, matches
//! out. Decoding files and fetching URLs live in `samaritan-media`.
//!
//! Our own implementation of the published algorithm, with credit to the BSD-licensed reference
//! (facebook/ThreatExchange `pdq/`). See `ARCHITECTURE.md` for the module map.

pub mod bank;
pub mod bank_format;
pub mod dct;
pub mod dihedral;
pub mod evidence;
pub mod hash;
pub mod hasher;
pub mod index;
pub mod jarosz;

pub use bank::{Bank, BankEntry, BankMatch, BankSet, MatchOptions};
pub use dihedral::Dihedral;
pub use evidence::policy_match;
pub use hash::{HashParseError, PdqHash};
pub use hasher::{PdqError, PdqHasher, PdqOutput, PixelFormat};
pub use index::{EntryId, MihIndex};
