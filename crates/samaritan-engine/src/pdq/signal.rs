//! Bank matches as evidence the policy can weigh.
//!
//! A match against a hash bank is the strongest image evidence there is (a known image, shared
//! by NCMEC or industry), so it becomes a [`Signal`] like any text indicator: category `image`,
//! indicator `hash_bank_match`, no span, and a note naming the image, the bank, the entry and the
//! distance so a reviewer sees exactly why.

use crate::model::Signal;

use super::bank::BankMatch;
use super::dihedral::Dihedral;

/// Indicator id of a bank match.
pub const HASH_BANK_MATCH: &str = "hash_bank_match";
/// Category of image signals.
pub const IMAGE_CATEGORY: &str = "image";

/// The signal for image `image_index` matching `m`, with the weight the policy gives it.
pub fn bank_match_signal(image_index: usize, m: &BankMatch, weight: f64) -> Signal {
    let orientation = match m.variant {
        Dihedral::Original => String::new(),
        other => format!(", as {}", other.name()),
    };
    Signal {
        indicator: HASH_BANK_MATCH.to_owned(),
        category: IMAGE_CATEGORY.to_owned(),
        weight,
        span: None,
        text: String::new(),
        note: format!(
            "image {} matches bank '{}' entry {} at PDQ distance {}{}",
            image_index, m.bank, m.entry, m.distance, orientation
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pdq::PdqHash;

    #[test]
    fn note_names_bank_entry_and_distance() {
        let m = BankMatch {
            bank: "ncmec".into(),
            entry: 17,
            hash: PdqHash::ZERO,
            distance: 4,
            variant: Dihedral::Rotate90,
            meta: Default::default(),
        };
        let s = bank_match_signal(2, &m, 1.0);
        assert_eq!(s.category, "image");
        assert_eq!(s.indicator, "hash_bank_match");
        assert_eq!(s.span, None);
        assert_eq!(
            s.note,
            "image 2 matches bank 'ncmec' entry 17 at PDQ distance 4, as rotate90"
        );
    }
}
