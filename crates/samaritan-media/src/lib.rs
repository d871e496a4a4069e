//! Image intake: the I/O half of Samaritan's image support.
//!
//! Turns an ad's `images` entries (a path, inline base64, a URL, or hashes computed elsewhere)
//! into [`ImageFacts`]: SHA-256 and MD5 of the file bytes, and the PDQ hash and quality of the
//! decoded pixels. Everything hostile stops here with a clear, per-image [`MediaError`]: byte,
//! dimension and pixel limits checked before anything big is allocated, truncated and malformed
//! files, and URL fetches that would reach loopback, private or link-local addresses.
//! [`ImageContext`] is what every caller (scan, the service) takes images in through: intake
//! settings and the banks they are matched against. The pure algorithms (PDQ, banks, index)
//! live in `samaritan_engine::pdq`.

pub mod address;
pub mod bank_dir;
pub mod blobs;
pub mod context;
pub mod decode;
pub mod digest;
pub mod error;
pub mod fetch;
pub mod intake;
pub mod keep;
pub mod request;

pub use bank_dir::{BankDir, BankDirError};
pub use blobs::{BlobError, BlobKey, BlobLocation, BlobStore, S3Options};
pub use context::{BankEntryError, ExactKind, ImageContext};
pub use decode::{DecodeLimits, Decoded, decode};
pub use error::MediaError;
pub use fetch::{FetchConfig, fetch, fetch_all};
pub use intake::{ImageFacts, IntakeConfig, analyse_images, hash_bytes, intake};
pub use keep::{View, render};
pub use request::{RequestLimits, image_contexts, intake_request};
