//! Locations: cities, states/provinces and countries named in the ad, from the gazetteer.
//!
//! Values are labels a reviewer and the linker can compare: `City, ST` for North American
//! cities, `City, CC` elsewhere, the name for states and countries.

use super::gazetteer::PlaceHit;

#[derive(Debug)]
pub(crate) struct LocationHit {
    pub value: String,
    pub start: usize,
    pub end: usize,
}

/// The places found in the normalized text.
pub(crate) fn find(_text: &str, places: &[PlaceHit]) -> Vec<LocationHit> {
    places
        .iter()
        .map(|p| LocationHit {
            value: p.place.label().to_owned(),
            start: p.start,
            end: p.end,
        })
        .collect()
}
