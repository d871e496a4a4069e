//! Token rules both the rewrite (`token_rewrite`) and its gate (`rewrite_gate`) apply: the gate
//! proves a stretch unchanged with the same tests the rewrite uses, so they live below both.

/// Most separator characters allowed between two tokens of one number run.
const MAX_GAP_CHARS: usize = 6;
/// A run worth this many digits is a number written out (a phone), converted whole.
pub(super) const PHONE_DIGITS: usize = 8;

/// Is `c` part of a token (a letter, a digit, or a combining mark)?
pub(super) fn is_token_char(c: char) -> bool {
    c.is_alphanumeric()
        || (!c.is_ascii() && unicode_normalization::char::canonical_combining_class(c) != 0)
}

/// Could this lower-case pair start a number word (or is it a look-alike letter)?
pub(super) const fn may_start_number(a: u8, b: Option<u8>) -> bool {
    let Some(b) = b else {
        return matches!(a, b'o' | b'l' | b'i');
    };
    matches!(
        (a, b),
        (b'z', b'e')
            | (b'o', _)
            | (b't', b'w' | b'h' | b'e' | b'o' | b'r')
            | (b'f', b'o' | b'i')
            | (b's', b'i' | b'e')
            | (b'e', b'i' | b'l')
            | (b'n', b'i' | b'u' | b'o')
            | (b'h', b'u')
            | (b'a', b't')
            | (b'c', b'e' | b'u' | b'i' | b'a')
            | (b'u', b'n')
            | (b'd', b'o' | b'i')
            | (b'q', b'u')
            | (b'v', b'e')
            | (b'm', b'i')
            | (b'l' | b'i', _)
    )
}

/// Is the gap between two tokens short and free of paragraph breaks?
pub(super) fn number_gap(gap: &str) -> bool {
    if gap.len() > 40 {
        return false;
    }
    let mut chars = 0;
    let mut newlines = 0;
    for c in gap.chars() {
        chars += 1;
        if c == '\n' {
            newlines += 1;
        }
    }
    chars <= MAX_GAP_CHARS && newlines <= 2
}

/// Is the text at `pos` a unit that makes a lone number word a quantity ("five years")?
pub(super) fn followed_by_unit(s: &str, pos: usize) -> bool {
    let rest = &s[pos..];
    let rest = rest.trim_start_matches([' ', '-']);
    if rest.len() + 2 < s.len() - pos {
        return false; // more than two separators
    }
    // every unit below starts with y, h, m or a, and no other char lowers to one of those:
    // most words are turned away before they are lowered into a string
    let first = rest.as_bytes().first().map(u8::to_ascii_lowercase);
    if !matches!(first, Some(b'y' | b'h' | b'm' | b'a')) {
        return false;
    }
    let word: String = rest
        .chars()
        .take_while(|c| c.is_alphabetic())
        .take(12)
        .flat_map(char::to_lowercase)
        .collect();
    if word == "y" {
        return rest[1..].starts_with("/o") || rest[1..].starts_with(".o");
    }
    matches!(
        word.as_str(),
        "year"
            | "years"
            | "yr"
            | "yrs"
            | "yo"
            | "yrsold"
            | "yearsold"
            | "hour"
            | "hours"
            | "hr"
            | "hrs"
            | "min"
            | "mins"
            | "minute"
            | "minutes"
            | "año"
            | "años"
            | "ano"
            | "anos"
            | "hora"
            | "horas"
            | "minutos"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_ascii_y_h_m_a_lower_to_them() {
        // the first-letter test in `followed_by_unit` relies on this
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            let lowers = c.to_lowercase().next().is_some_and(|l| "yhma".contains(l));
            assert_eq!(lowers, "yhmaYHMA".contains(c), "{c:?}");
        }
        assert!(followed_by_unit("five -Years", 4));
        assert!(followed_by_unit("one y/o", 3));
        assert!(followed_by_unit("dos años", 3));
        assert!(!followed_by_unit("five - - years", 4));
        assert!(!followed_by_unit("two girls", 3));
    }
}
