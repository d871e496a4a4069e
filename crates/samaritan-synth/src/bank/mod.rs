//! Phrase banks: the words synthetic ads are made of.

pub mod benign;
pub mod blind;
pub mod commercial;
pub mod places;
pub mod words;

/// Resolves `{@name}` in templates.
pub fn lexicon(name: &str) -> Option<&'static [&'static str]> {
    Some(match name {
        "adj" => commercial::ADJ,
        "companion" => commercial::COMPANION,
        "job" => words::JOBS,
        "item" => words::ITEMS,
        "car" => words::CARS,
        "pet" => words::PETS,
        "plain_name" => words::PLAIN_NAMES,
        "company_generic" => &[
            "our team",
            "a local company",
            "a growing business",
            "our crew",
        ],
        _ => return None,
    })
}
