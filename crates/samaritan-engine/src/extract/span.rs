//! Byte-range helpers the extractors share (here, below every extractor, so none of them
//! imports the module that calls it).

use std::ops::Range;

/// Does `span` overlap any of `taken`?
pub(crate) fn overlaps(span: &Range<usize>, taken: &[Range<usize>]) -> bool {
    taken
        .iter()
        .any(|t| t.start < span.end && span.start < t.end)
}
