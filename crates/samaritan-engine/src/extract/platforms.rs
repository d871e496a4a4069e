//! The platform names the handle extractor reads as labels ("Snapchat: jane"). The handle
//! pattern and the cue scan's word gate are both built from these lists, so they live below
//! both.

use super::pattern::{Pattern, re};

/// Platform names written as words (from [`PLATFORM_WORDS`] and [`PLATFORM_PAIRS`]; the cue
/// scan's word gate reads the same lists). Every match is a whole name between word boundaries,
/// so the order of the alternatives does not matter.
pub(crate) static LABEL: Pattern = Pattern::new(|| {
    let mut names: Vec<String> = PLATFORM_WORDS.iter().map(|w| regex::escape(w)).collect();
    names.extend(
        PLATFORM_PAIRS
            .iter()
            .map(|(first, second)| format!(r"{first}\s?{second}")),
    );
    re(&format!(r"(?i)(?-u:\b)({})(?-u:\b)", names.join("|")))
});

/// Platform names as one word each (lower case).
pub(crate) const PLATFORM_WORDS: &[&str] = &[
    "instagram",
    "insta",
    "ig",
    "snapchat",
    "snap",
    "sc",
    "telegram",
    "tg",
    "whatsapp",
    "watsapp",
    "whatsap",
    "kik",
    "twitter",
    "x",
    "facebook",
    "fb",
    "wechat",
    "viber",
    "line",
    "onlyfans",
    "tiktok",
    "skype",
    "signal",
];

/// Platform names written as two words with at most one whitespace character between them.
pub(crate) const PLATFORM_PAIRS: &[(&str, &str)] = &[("whats", "app"), ("we", "chat")];

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The pattern made from the name lists matches where the pattern as written by hand
        /// (before the lists) does.
        #[test]
        fn the_label_pattern_is_the_written_one(
            parts in proptest::collection::vec(
                "(instagram|Insta|IG|snapchat|snap|SC|telegram|tg|whats|WHATS|app|watsapp|whatsap|kik|twitter|x|X|facebook|fb|we|chat|wechat|viber|line|onlyfans|tiktok|skype|signal|[a-z0-9]{1,3}|[ _.\\-@:/\\t\\n]{1,2}|\u{a0}|é)",
                0..30,
            ),
        ) {
            static WRITTEN: Pattern = Pattern::new(|| {
                re(
                    r"(?i)(?-u:\b)(instagram|insta|ig|snapchat|snap|sc|telegram|tg|whats\s?app|watsapp|whatsap|kik|twitter|x|facebook|fb|wechat|we\s?chat|viber|line|onlyfans|tiktok|skype|signal)(?-u:\b)",
                )
            });
            let t: String = parts.concat();
            let spans = |p: &regex::Regex| -> Vec<(usize, usize)> {
                p.find_iter(&t).map(|m| (m.start(), m.end())).collect()
            };
            proptest::prop_assert_eq!(spans(&LABEL), spans(&WRITTEN));
        }
    }
}
