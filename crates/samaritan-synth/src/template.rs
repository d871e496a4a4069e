//! A tiny phrase grammar, so that ads vary in wording instead of repeating fixed sentences.
//!
//! Syntax (templates are our own trusted constants, never user input):
//! - `{a|b|c}` picks one alternative; alternatives nest and may be empty (`{maybe |}`);
//! - `{@list}` picks an entry of a named word list (entries are templates too);
//! - `{=slot}` leaves a hole filled per ad (`name`, `phone`, `age`, `city`, `price`, …);
//! - `{#tag}` emits nothing and records a tag (which cue or hard negative the text carries).
//!
//! Expansion has two steps so that a network can fix its template once (alternatives chosen with
//! the network's random stream) and fill the slots differently in every ad.

use crate::rng::Rng;

/// Expanded text with its holes still open.
#[derive(Debug, Clone, Default)]
pub struct Skeleton {
    pub pieces: Vec<Piece>,
    pub tags: Vec<&'static str>,
}

#[derive(Debug, Clone)]
pub enum Piece {
    Text(String),
    Slot(&'static str),
}

/// Named word lists; `None` for an unknown name (a bug in a template, caught by tests).
pub type Lexicon = fn(&str) -> Option<&'static [&'static str]>;

impl Skeleton {
    fn push_text(&mut self, s: &str) {
        if let Some(Piece::Text(t)) = self.pieces.last_mut() {
            t.push_str(s);
        } else {
            self.pieces.push(Piece::Text(s.to_owned()));
        }
    }

    pub fn has_tag(&self, tag: &str) -> bool {
        self.tags.contains(&tag)
    }

    /// Appends another skeleton (pieces and tags).
    pub fn extend(&mut self, other: Skeleton) {
        for p in other.pieces {
            match p {
                Piece::Text(t) => self.push_text(&t),
                Piece::Slot(s) => self.pieces.push(Piece::Slot(s)),
            }
        }
        self.tags.extend(other.tags);
    }
}

/// Expands `tpl` into `out`, choosing alternatives with `rng`.
pub fn expand(tpl: &'static str, lex: Lexicon, rng: &mut Rng, out: &mut Skeleton) {
    let bytes = tpl.as_bytes();
    let mut i = 0;
    let mut text_start = 0;
    while i < bytes.len() {
        if bytes[i] == b'{' {
            if text_start < i {
                out.push_text(&tpl[text_start..i]);
            }
            let close = matching_brace(bytes, i);
            let inner: &'static str = &tpl[i + 1..close];
            expand_group(inner, lex, rng, out);
            i = close + 1;
            text_start = i;
        } else {
            i += 1;
        }
    }
    if text_start < bytes.len() {
        out.push_text(&tpl[text_start..]);
    }
}

/// Expands a whole template to a skeleton.
pub fn skeleton(tpl: &'static str, lex: Lexicon, rng: &mut Rng) -> Skeleton {
    let mut s = Skeleton::default();
    expand(tpl, lex, rng, &mut s);
    s
}

fn expand_group(inner: &'static str, lex: Lexicon, rng: &mut Rng, out: &mut Skeleton) {
    if let Some(name) = inner.strip_prefix('@') {
        let list = lex(name).unwrap_or_else(|| panic!("unknown word list `{name}` in a template"));
        expand(rng.pick(list), lex, rng, out);
    } else if let Some(slot) = inner.strip_prefix('=') {
        out.pieces.push(Piece::Slot(slot));
    } else if let Some(tag) = inner.strip_prefix('#') {
        out.tags.push(tag);
    } else {
        let alts = split_top_level(inner);
        let pick = alts[rng.below(alts.len())];
        expand(pick, lex, rng, out);
    }
}

fn matching_brace(bytes: &[u8], open: usize) -> usize {
    let mut depth = 0usize;
    for (j, &b) in bytes.iter().enumerate().skip(open) {
        match b {
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return j;
                }
            }
            _ => {}
        }
    }
    panic!("unbalanced braces in template");
}

fn split_top_level(s: &'static str) -> Vec<&'static str> {
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (j, b) in s.bytes().enumerate() {
        match b {
            b'{' => depth += 1,
            b'}' => depth -= 1,
            b'|' if depth == 0 => {
                parts.push(&s[start..j]);
                start = j + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts
}

/// Joins filled pieces and tidies spacing and punctuation left by empty alternatives.
pub fn tidy(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut prev_space = true;
    for c in raw.chars() {
        if c == ' ' {
            if !prev_space {
                out.push(' ');
            }
            prev_space = true;
            continue;
        }
        if matches!(c, ',' | '.' | '!' | '?') && out.ends_with(' ') {
            out.pop();
        }
        out.push(c);
        prev_space = c == '\n';
    }
    out.trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lex(name: &str) -> Option<&'static [&'static str]> {
        match name {
            "color" => Some(&["red", "{dark|light} blue"]),
            _ => None,
        }
    }

    #[test]
    fn expands_alternatives_lists_slots_and_tags() {
        let mut rng = Rng::new(3);
        for _ in 0..50 {
            let s = skeleton(
                "A {@color} car{#car} for {=price}{, today|}.",
                lex,
                &mut rng,
            );
            assert!(s.has_tag("car"));
            assert_eq!(s.pieces.len(), 3);
            let Piece::Text(t) = &s.pieces[0] else {
                panic!()
            };
            assert!(
                [
                    "A red car for ",
                    "A dark blue car for ",
                    "A light blue car for "
                ]
                .contains(&t.as_str())
            );
            assert!(matches!(s.pieces[1], Piece::Slot("price")));
        }
    }

    #[test]
    fn tidy_fixes_spacing() {
        assert_eq!(
            tidy(" Hi  there , friend .\n Bye"),
            "Hi there, friend.\nBye"
        );
    }
}
