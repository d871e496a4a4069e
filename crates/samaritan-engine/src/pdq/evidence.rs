//! Bank matches as evidence the policy weighs.
//!
//! The policy's built-in feature `hash_bank_match` (indicator `known_image_match` in the default
//! policy) turns matches into a signal with its weight and a note naming the image, the bank and
//! the distance; this module only translates a [`BankMatch`] of the PDQ matcher into the
//! policy's [`crate::policy::BankMatch`], which the pipeline receives in
//! [`crate::pipeline::Context::bank_matches`].

use super::bank::BankMatch;

/// The policy's view of "image `image_index` matched `m`".
pub fn policy_match(image_index: usize, m: &BankMatch) -> crate::policy::BankMatch {
    crate::policy::BankMatch {
        bank: m.bank.clone(),
        distance: m.distance,
        image: image_index,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pdq::{Dihedral, PdqHash};

    #[test]
    fn keeps_bank_distance_and_image() {
        let m = BankMatch {
            bank: "ncmec".into(),
            entry: 17,
            hash: PdqHash::ZERO,
            distance: 4,
            variant: Dihedral::Rotate90,
            meta: Default::default(),
        };
        let p = policy_match(2, &m);
        assert_eq!((p.bank.as_str(), p.distance, p.image), ("ncmec", 4, 2));
    }
}
