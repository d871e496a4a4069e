//! The PDQ values of stored ads in a multi-index hash index, for `GET /v1/search?pdq=`.

use std::collections::HashSet;

use samaritan_engine::pdq::{MihIndex, PdqHash};

/// Distinct PDQ values, each once.
#[derive(Default)]
pub(crate) struct PdqIndex {
    index: MihIndex,
    values: Vec<String>,
    seen: HashSet<PdqHash>,
}

impl PdqIndex {
    /// Adds a value (lowercase hex); a malformed or known value changes nothing.
    pub(crate) fn add(&mut self, hex: &str) {
        if let Ok(h) = PdqHash::from_hex(hex)
            && self.seen.insert(h)
        {
            let id = self.index.insert(h);
            let slot = id.0 as usize;
            if self.values.len() <= slot {
                self.values.resize(slot + 1, String::new());
            }
            self.values[slot] = h.to_hex();
        }
    }

    /// The values in the order they became known (adding them in this order rebuilds the
    /// index exactly).
    pub(crate) fn values(&self) -> Vec<String> {
        self.values.clone()
    }

    /// Values within `max_distance` of `pdq`, with their distances.
    pub(crate) fn near(&self, pdq: &str, max_distance: u32) -> Vec<(u32, String)> {
        let Ok(h) = PdqHash::from_hex(pdq) else {
            return Vec::new();
        };
        self.index
            .query(&h, max_distance)
            .into_iter()
            .filter_map(|(id, d)| self.values.get(id.0 as usize).map(|v| (d, v.clone())))
            .collect()
    }
}
