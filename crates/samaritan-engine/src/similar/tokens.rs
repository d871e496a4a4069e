//! Tokens and shingles: the units that near-duplicate detection compares.
//!
//! Ads are compared as sets of short overlapping pieces (shingles). Word pairs survive slot fills
//! and small edits far better than the long 5-grams that made InfoShield's recall collapse, and
//! digits are kept (a phone or a price is part of a template). Scripts written without spaces
//! (Chinese, Japanese, Thai, …) become one token per character, and very short texts are
//! shingled by characters, so neither silently produces nothing to compare.

use xxhash_rust::xxh3::xxh3_64_with_seed;

/// Seed of every shingle hash. Changing it changes every stored signature: never do it lightly.
const SHINGLE_SEED: u64 = 0x5A4D_4152_4954_414E;

/// How texts are cut into shingles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ShingleConfig {
    /// Words per shingle for ordinary text.
    pub word_k: usize,
    /// Characters per shingle for short text.
    pub char_k: usize,
    /// Texts with fewer tokens than this are shingled by characters.
    pub short_below: usize,
    /// Tokens beyond this many are ignored (a hostile megabyte ad costs no more than a long one).
    pub max_tokens: usize,
}

impl Default for ShingleConfig {
    fn default() -> Self {
        ShingleConfig {
            word_k: 2,
            char_k: 4,
            short_below: 6,
            max_tokens: 1024,
        }
    }
}

/// True for characters of scripts usually written without spaces between words.
fn unspaced(c: char) -> bool {
    matches!(c as u32,
        0x0E00..=0x0EFF      // Thai, Lao
        | 0x1000..=0x109F    // Myanmar
        | 0x1780..=0x17FF    // Khmer
        | 0x3040..=0x30FF    // Hiragana, Katakana
        | 0x3400..=0x4DBF    // CJK extension A
        | 0x4E00..=0x9FFF    // CJK unified ideographs
        | 0xF900..=0xFAFF    // CJK compatibility ideographs
        | 0x20000..=0x2FFFF  // CJK extensions B–F
    )
}

/// Lower-cased word tokens of `text`, joined by single spaces, and their count (at most
/// `max_tokens`). Letters and digits of any script make words; everything else separates them;
/// characters of unspaced scripts are tokens on their own.
pub fn words(text: &str, max_tokens: usize) -> (String, usize) {
    let mut out = String::with_capacity(text.len().min(max_tokens.saturating_mul(8)));
    let mut count = 0usize;
    let mut in_word = false;
    for c in text.chars() {
        if count >= max_tokens && !in_word {
            break;
        }
        // ASCII, the common case, is classified without the Unicode tables (same outcome).
        let ascii = c.is_ascii();
        if !ascii && unspaced(c) {
            if count >= max_tokens {
                break;
            }
            if !out.is_empty() {
                out.push(' ');
            }
            out.push(c);
            count += 1;
            in_word = false;
        } else if (ascii && c.is_ascii_alphanumeric()) || (!ascii && c.is_alphanumeric()) {
            if !in_word {
                if count >= max_tokens {
                    break;
                }
                if !out.is_empty() {
                    out.push(' ');
                }
                count += 1;
                in_word = true;
            }
            if ascii {
                out.push(c.to_ascii_lowercase());
            } else {
                out.extend(c.to_lowercase());
            }
        } else {
            in_word = false;
        }
    }
    (out, count)
}

/// 64-bit hash of one token (stable across runs, platforms and versions of this crate).
pub fn token_hash(token: &str) -> u64 {
    xxh3_64_with_seed(token.as_bytes(), SHINGLE_SEED)
}

/// The shingle hashes of a tokenised text (as returned by [`words`]); unsorted, may repeat.
pub fn shingles(words: &str, count: usize, cfg: &ShingleConfig) -> Vec<u64> {
    let hashes: Vec<u64> = words
        .split(' ')
        .filter(|w| !w.is_empty())
        .map(token_hash)
        .collect();
    shingles_hashed(words, &hashes, count, cfg)
}

/// [`shingles`] for a text whose token hashes are already known.
pub fn shingles_hashed(words: &str, hashes: &[u64], count: usize, cfg: &ShingleConfig) -> Vec<u64> {
    if words.is_empty() {
        return Vec::new();
    }
    let k = cfg.word_k.max(1);
    if count < cfg.short_below.max(k) {
        return char_shingles(words, cfg.char_k.max(1));
    }
    hashes
        .windows(k)
        .map(|w| {
            w.iter()
                .fold(k as u64, |acc, &h| mix(acc.rotate_left(23) ^ h))
        })
        .collect()
}

fn char_shingles(words: &str, k: usize) -> Vec<u64> {
    let bounds: Vec<usize> = words
        .char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(words.len()))
        .collect();
    let chars = bounds.len() - 1;
    if chars <= k {
        return vec![xxh3_64_with_seed(words.as_bytes(), SHINGLE_SEED ^ 1)];
    }
    (0..=chars - k)
        .map(|i| {
            xxh3_64_with_seed(
                &words.as_bytes()[bounds[i]..bounds[i + k]],
                SHINGLE_SEED ^ 1,
            )
        })
        .collect()
}

/// A 64-bit finaliser (the SplitMix64 output function): cheap, stable and well mixed.
pub fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_fold_case_and_split_on_punctuation() {
        let (w, n) = words("Call ME: 555-0142, ask for Ana!", 100);
        assert_eq!(w, "call me 555 0142 ask for ana");
        assert_eq!(n, 7);
    }

    #[test]
    fn unspaced_scripts_become_character_tokens() {
        let (w, n) = words("東京 で 仕事", 100);
        assert_eq!(w, "東 京 で 仕 事");
        assert_eq!(n, 5);
        let (w, _) = words("montaña 2x", 100);
        assert_eq!(w, "montaña 2x");
    }

    #[test]
    fn ascii_fast_path_agrees_with_unicode_rules() {
        // The generic rules, for comparison: alphanumeric chars lower-cased, the rest separate.
        fn generic(text: &str) -> String {
            let mut words: Vec<String> = Vec::new();
            let mut cur = String::new();
            for c in text.chars() {
                if unspaced(c) {
                    if !cur.is_empty() {
                        words.push(std::mem::take(&mut cur));
                    }
                    words.push(c.to_string());
                } else if c.is_alphanumeric() {
                    cur.extend(c.to_lowercase());
                } else if !cur.is_empty() {
                    words.push(std::mem::take(&mut cur));
                }
            }
            if !cur.is_empty() {
                words.push(cur);
            }
            words.join(" ")
        }
        for t in [
            "Hot NEW girl_in TOWN!! call 555-0142 \u{1F600} now",
            "ÀB9c-Déjà vu, ΣΊΣΥΦΟΣ x東京y",
            "  tabs\tand\nnew lines ~`@#$%^&*()[]{}<>?/|\\ ",
            "İstanbul ǅemal ﬁne Ⅻ ²³",
        ] {
            assert_eq!(words(t, 1000).0, generic(t), "{t}");
        }
    }

    #[test]
    fn token_cap_is_respected() {
        let text = "a ".repeat(10_000);
        let (w, n) = words(&text, 50);
        assert_eq!(n, 50);
        assert_eq!(w.split(' ').count(), 50);
        let (_, n) = words(&"字".repeat(1000), 10);
        assert_eq!(n, 10);
    }

    #[test]
    fn short_text_uses_character_shingles() {
        let cfg = ShingleConfig::default();
        let (w, n) = words("hello there", 100);
        let s = shingles(&w, n, &cfg);
        assert_eq!(s.len(), "hello there".len() - cfg.char_k + 1);
        assert!(shingles("", 0, &cfg).is_empty());
        assert_eq!(shingles("ab", 1, &cfg).len(), 1);
    }

    #[test]
    fn word_shingles_are_order_sensitive_and_stable() {
        let cfg = ShingleConfig::default();
        let a = "one two three four five six seven";
        let b = "seven six five four three two one";
        let sa = shingles(a, 7, &cfg);
        let sb = shingles(b, 7, &cfg);
        assert_eq!(sa.len(), 6);
        assert!(sa.iter().all(|h| !sb.contains(h)));
        // Pinned: signatures are persisted, so the hash must never drift across versions.
        assert_eq!(
            token_hash("phone"),
            xxh3_64_with_seed(b"phone", SHINGLE_SEED)
        );
    }
}
