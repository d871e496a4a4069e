//! Samaritan's analysis core: ad in, analysis out.
//!
//! The engine is pure: no I/O, no global state, no async. Storage, HTTP, the CLI and streams are
//! thin layers around it (see `ARCHITECTURE.md`). The modules follow the data flow of
//! `DESIGN.md`: normalize → extract → indicators (policy) → fingerprints → link → score.

mod ascii;
pub mod conformance;
pub mod extract;
pub mod learn;
pub mod link;
pub mod linked;
pub mod model;
pub mod normalize;
pub mod pdq;
pub mod pipeline;
pub mod policy;
mod raw_vec;
pub mod similar;

pub use extract::{ExtractOptions, Extraction, extract, extract_kinds};
pub use model::{Ad, Analysis, Verdict};
pub use normalize::{Normalized, normalize};
pub use pipeline::{Engine, Prepared};
pub use policy::Policy;
