//! Linking: ads joined into networks through shared identifiers and shared templates.
//!
//! One ad rarely proves anything; forty ads with one template, three phones and six cities do.
//! This stage keeps, incrementally and deterministically, the graph of ads, the identifiers
//! they carry (phone, email, handle, payment id, account, image hash) and the templates they
//! instantiate (from [`crate::similar`]); a hub guard keeps lines shared by strangers from gluing
//! everything together; and each network comes with its evidence and the features a policy
//! weighs (size, cities, names, movement of each phone through cities over time, posting rate).
//!
//! [`Linker`] is the state; [`crate::linked`] runs it inside the pipeline and saves it as one
//! [`crate::linked::LinkRecord`] per ad, replayed in order.

pub mod dsu;
pub mod features;
pub mod hub;
pub mod ident;
pub mod input;
pub mod linker;
pub mod photos;

pub use features::{NetworkFeatures, PhoneTimeline, Stay};
pub use hub::HubGuard;
pub use ident::{HubNote, IdentKind};
pub use input::{LinkError, LinkInput};
pub use linker::{Evidence, Inserted, LinkConfig, Linker, Network};
