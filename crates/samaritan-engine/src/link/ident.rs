//! Identifiers that tie ads to one poster: phones, emails, handles, payment ids, accounts, images.
//!
//! An identifier is a (kind, normalised value) pair. The values arrive already normalised by the
//! extractors (digits-only phones, lower-case emails, `platform:handle`, `kind:id`); accounts
//! are the platform's own ids; images are exact or perceptual hashes in hex.

use serde::{Deserialize, Serialize};

/// Kinds of identifier, in the order reasons are reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IdentKind {
    Phone,
    Email,
    Handle,
    Payment,
    Account,
    Image,
    /// Not an identifier an ad carries: a shared template. Used where links of every kind are
    /// named (hub-guard notes).
    Template,
}

impl IdentKind {
    pub const ALL: [IdentKind; 6] = [
        IdentKind::Phone,
        IdentKind::Email,
        IdentKind::Handle,
        IdentKind::Payment,
        IdentKind::Account,
        IdentKind::Image,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            IdentKind::Phone => "phone",
            IdentKind::Email => "email",
            IdentKind::Handle => "handle",
            IdentKind::Payment => "payment",
            IdentKind::Account => "account",
            IdentKind::Image => "image",
            IdentKind::Template => "template",
        }
    }

    /// Contacts: what an ad is reached or paid through, chosen by whoever posts it.
    pub fn is_contact(self) -> bool {
        matches!(
            self,
            IdentKind::Phone | IdentKind::Email | IdentKind::Handle | IdentKind::Payment
        )
    }

    /// Content: what can be copied by strangers (images; templates).
    pub fn is_content(self) -> bool {
        matches!(self, IdentKind::Image | IdentKind::Template)
    }
}

/// What the hub guard decided about one identifier, in words and numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HubNote {
    pub kind: IdentKind,
    pub value: String,
    /// Ads carrying the identifier when it was judged.
    pub ads: u32,
    /// Distinct other contacts (for a contact) or posters (for content) seen with it then.
    pub others: u32,
    /// Why it links nothing, for a reviewer.
    pub reason: String,
}
