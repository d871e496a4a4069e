//! Webhooks back to the platform (issue 23): signing in the Standard Webhooks scheme
//! ([`sign`]), the destination rules ([`destination`]), and the delivery worker that works off
//! the store's outbox ([`deliver`]) — at least once, in order per ad, with retries and a dead
//! state. Events are written by the store in the transaction of the change that causes them.

pub mod deliver;
pub mod destination;
pub mod sign;

pub use deliver::{DeliveryConfig, spawn};
