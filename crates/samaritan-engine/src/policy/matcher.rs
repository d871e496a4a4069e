//! Finding indicator phrases and patterns in normalized text, in one pass each.

use std::ops::Range;

use super::compile::{PhraseRole, Policy};

/// An indicator's phrase or pattern found in the normalized text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextHit {
    pub indicator: usize,
    /// Byte range in the normalized text.
    pub range: Range<usize>,
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// True when `range` does not cut a word: a phrase edge that is a word character must not touch
/// another word character ("fresh" must not match inside "refresh").
fn on_word_boundaries(text: &str, range: &Range<usize>) -> bool {
    let inner = &text[range.clone()];
    let (Some(first), Some(last)) = (inner.chars().next(), inner.chars().next_back()) else {
        return false;
    };
    let before_ok = !is_word(first)
        || text[..range.start]
            .chars()
            .next_back()
            .is_none_or(|c| !is_word(c));
    let after_ok = !is_word(last) || text[range.end..].chars().next().is_none_or(|c| !is_word(c));
    before_ok && after_ok
}

impl Policy {
    /// Every indicator phrase and pattern in `text`, minus matches inside the indicator's own
    /// exceptions, sorted by indicator and position.
    pub fn match_text(&self, text: &str) -> Vec<TextHit> {
        let mut hits = Vec::new();
        let mut exceptions: Vec<(usize, Range<usize>)> = Vec::new();
        let mut vetoes: Vec<(usize, Range<usize>)> = Vec::new();
        if let Some(ac) = &self.phrases {
            for m in ac.find_overlapping_iter(text) {
                let range = m.start()..m.end();
                if !text.is_char_boundary(range.start) || !text.is_char_boundary(range.end) {
                    continue;
                }
                if !on_word_boundaries(text, &range) {
                    continue;
                }
                let (indicator, role) = self.phrase_owner[m.pattern().as_usize()];
                match role {
                    PhraseRole::Match => hits.push(TextHit { indicator, range }),
                    PhraseRole::Exception => exceptions.push((indicator, range)),
                    PhraseRole::Veto => vetoes.push((indicator, range)),
                }
            }
        }
        if let Some(set) = &self.pattern_set {
            for p in set.matches(text).iter() {
                let (re, indicator) = &self.patterns[p];
                for m in re.find_iter(text) {
                    if m.start() < m.end() {
                        hits.push(TextHit {
                            indicator: *indicator,
                            range: m.range(),
                        });
                    }
                }
            }
        }
        if !exceptions.is_empty() {
            hits.retain(|h| {
                !exceptions.iter().any(|(i, r)| {
                    *i == h.indicator && r.start <= h.range.start && h.range.end <= r.end
                })
            });
        }
        if !vetoes.is_empty() {
            let w = self.near_window;
            hits.retain(|h| {
                !vetoes.iter().any(|(i, r)| {
                    *i == h.indicator
                        && super::decide::gap([r.start, r.end], [h.range.start, h.range.end]) <= w
                })
            });
        }
        hits.sort_by_key(|h| (h.indicator, h.range.start, h.range.end));
        hits.dedup();
        // An ambiguous word repeated is one word: only its first occurrence can count toward a
        // quorum of ambiguous words (`requires_near`).
        let mut seen: Vec<(usize, String)> = Vec::new();
        hits.retain(|h| {
            let ind = &self.indicators[h.indicator];
            if ind.requires_near.is_none() && ind.vouches.is_none() {
                return true;
            }
            let key = (h.indicator, text[h.range.clone()].to_ascii_lowercase());
            if seen.contains(&key) {
                return false;
            }
            seen.push(key);
            true
        });
        hits
    }
}
