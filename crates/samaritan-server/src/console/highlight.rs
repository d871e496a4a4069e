//! An ad's text cut into pieces for the page: plain text, the spans the policy's signals matched
//! (coloured by category, the note on hover and focus), and obfuscated mentions (with the value
//! they normalise to). The templates escape every piece.
//!
//! Spans are byte ranges of the ad's document (title, newline, body). Where spans overlap, the
//! earlier-starting one wins and the overlapping rest shows as plain text; a span that does not
//! fall on character boundaries is left out rather than cutting a character.

use samaritan_engine::model::{Mention, Signal};

/// One piece of the text.
pub(crate) struct Piece {
    pub text: String,
    /// `None`: plain text. Else the CSS class (`sig-<category>` or `obf`).
    pub class: Option<String>,
    /// What shows on hover or focus.
    pub title: String,
}

struct Mark {
    start: usize,
    end: usize,
    class: String,
    title: String,
    /// Signals before mentions at the same start.
    rank: u8,
}

/// Keeps category names to `[a-z0-9_]` so they can go in a class attribute as they are.
fn class_of(category: &str) -> String {
    let c: String = category
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(32)
        .collect::<String>()
        .to_ascii_lowercase();
    format!("sig sig-{c}")
}

pub(crate) fn pieces(doc: &str, signals: &[Signal], mentions: &[Mention]) -> Vec<Piece> {
    let mut marks: Vec<Mark> = Vec::new();
    for s in signals {
        if let Some([a, b]) = s.span {
            marks.push(Mark {
                start: a,
                end: b,
                class: class_of(&s.category),
                title: format!(
                    "{} ({}, {:+.2}): {}",
                    s.indicator, s.category, s.weight, s.note
                ),
                rank: 0,
            });
        }
    }
    for m in mentions.iter().filter(|m| m.obfuscated) {
        marks.push(Mark {
            start: m.span[0],
            end: m.span[1],
            class: "obf".to_owned(),
            title: format!("obfuscated {}: reads as {}", m.kind, m.value),
            rank: 1,
        });
    }
    marks.retain(|m| m.start < m.end && doc.get(m.start..m.end).is_some());
    marks.sort_by(|x, y| (x.start, x.rank, y.end).cmp(&(y.start, y.rank, x.end)));
    let mut out = Vec::new();
    let mut at = 0;
    for m in marks {
        if m.start < at {
            continue;
        }
        if m.start > at
            && let Some(t) = doc.get(at..m.start)
        {
            out.push(Piece {
                text: t.to_owned(),
                class: None,
                title: String::new(),
            });
        }
        out.push(Piece {
            text: doc[m.start..m.end].to_owned(),
            class: Some(m.class),
            title: m.title,
        });
        at = m.end;
    }
    if let Some(t) = doc.get(at..)
        && !t.is_empty()
    {
        out.push(Piece {
            text: t.to_owned(),
            class: None,
            title: String::new(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signal(a: usize, b: usize, category: &str) -> Signal {
        Signal {
            indicator: "i".into(),
            category: category.into(),
            weight: 1.0,
            span: Some([a, b]),
            text: String::new(),
            note: "why".into(),
        }
    }

    #[test]
    fn spans_cut_the_text_without_losing_any() {
        let doc = "new girl ñ in town, call me";
        let p = pieces(
            doc,
            &[
                signal(0, 8, "minor"),
                signal(4, 8, "x"),
                signal(9, 10, "bad\"cat"),
            ],
            &[],
        );
        let joined: String = p.iter().map(|x| x.text.as_str()).collect();
        assert_eq!(joined, doc);
        assert_eq!(p[0].text, "new girl");
        assert_eq!(p[0].class.as_deref(), Some("sig sig-minor"));
        // 9..10 cuts `ñ` (2 bytes): left out, the text stays whole.
        assert!(
            p.iter()
                .all(|x| x.class.as_deref() != Some("sig sig-badcat"))
        );
    }

    #[test]
    fn obfuscated_mentions_show_their_value() {
        let doc = "call seven7five";
        let m = Mention {
            kind: "phone".into(),
            value: "775".into(),
            span: [5, 15],
            text: "seven7five".into(),
            obfuscated: true,
            subject: None,
        };
        let p = pieces(doc, &[], &[m]);
        assert_eq!(p[1].class.as_deref(), Some("obf"));
        assert!(p[1].title.contains("reads as 775"));
    }
}
