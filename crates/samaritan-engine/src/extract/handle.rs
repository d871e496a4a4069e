//! Social and messaging handles with their platform: profile URLs (`instagram.com/name`,
//! `t.me/name`, `wa.me/number`), labelled handles ("Snapchat: name", "kik - name",
//! "Twitter/ Instagram @name", "Facebook, twitter , snapchat id is - name"), `@name` after a
//! platform was named, and messaging numbers ("WhatsApp +7621-72-44-775"). Values are
//! `platform:handle` with the handle as written; messaging numbers keep their digits as written.

use super::pattern::{Pattern, re};
use super::phone::PhoneHit;
use super::platforms::LABEL;
use super::prefilter::cues::{self, Cues};
use super::span::overlaps;

#[derive(Debug)]
pub(crate) struct HandleHit {
    pub value: String,
    pub start: usize,
    pub end: usize,
}

static PROFILE_URL: Pattern = Pattern::new(|| {
    re(
        r"(?i)(?-u:\b)(?:https?://)?(?:www\.|m\.)?(instagram\.com|instagr\.am|twitter\.com|x\.com|facebook\.com|fb\.com|snapchat\.com/add|t\.me|telegram\.me|kik\.me|tiktok\.com|onlyfans\.com|wa\.me)/@?([A-Za-z0-9][A-Za-z0-9._\-]{1,39})",
    )
});

/// Words and marks that may sit between a platform's name and the handle.
const FILLERS: &[&str] = &[
    "me", "id", "is", "at", "on", "my", "username", "user", "name", "handle", "account", "page",
    "add", "follow", "its", "it's", "to", "via", "or", "and", "me:", "number", "num", "no", "text",
    "call", "mobile", "phone", "cell", "sms", "tel", "contact", "facetime", "us", "profile",
];

/// Words that are never handles: common English words that follow a platform's name in prose
/// ("follow me on twitter and get…", "snapchat fun").
const STOP: &[&str] = &[
    "a",
    "about",
    "add",
    "after",
    "again",
    "all",
    "also",
    "always",
    "am",
    "an",
    "and",
    "any",
    "are",
    "around",
    "as",
    "ask",
    "at",
    "available",
    "away",
    "back",
    "be",
    "because",
    "been",
    "before",
    "best",
    "better",
    "big",
    "book",
    "booking",
    "both",
    "but",
    "by",
    "can",
    "check",
    "checkout",
    "chat",
    "come",
    "company",
    "contact",
    "could",
    "date",
    "day",
    "days",
    "did",
    "do",
    "does",
    "done",
    "dont",
    "down",
    "each",
    "email",
    "enjoy",
    "escort",
    "escorts",
    "even",
    "ever",
    "every",
    "experience",
    "extra",
    "find",
    "first",
    "for",
    "free",
    "friend",
    "friends",
    "from",
    "full",
    "fun",
    "get",
    "girl",
    "girls",
    "give",
    "go",
    "going",
    "good",
    "got",
    "great",
    "guys",
    "had",
    "has",
    "have",
    "he",
    "her",
    "here",
    "hi",
    "him",
    "his",
    "hot",
    "how",
    "http",
    "https",
    "i",
    "if",
    "im",
    "in",
    "info",
    "into",
    "is",
    "it",
    "just",
    "know",
    "lady",
    "last",
    "let",
    "like",
    "link",
    "live",
    "look",
    "looking",
    "love",
    "make",
    "many",
    "may",
    "me",
    "me.",
    "meet",
    "message",
    "messages",
    "more",
    "most",
    "much",
    "must",
    "my",
    "need",
    "never",
    "new",
    "next",
    "nice",
    "night",
    "no",
    "not",
    "now",
    "of",
    "off",
    "offers",
    "ok",
    "on",
    "one",
    "only",
    "or",
    "other",
    "our",
    "out",
    "over",
    "page",
    "people",
    "photo",
    "photos",
    "pic",
    "pics",
    "picture",
    "pictures",
    "play",
    "please",
    "post",
    "posts",
    "private",
    "real",
    "right",
    "see",
    "send",
    "series",
    "service",
    "services",
    "sexy",
    "she",
    "show",
    "so",
    "some",
    "soon",
    "special",
    "specials",
    "still",
    "story",
    "sweet",
    "take",
    "text",
    "than",
    "thanks",
    "that",
    "the",
    "their",
    "them",
    "then",
    "there",
    "these",
    "they",
    "this",
    "time",
    "to",
    "today",
    "tonight",
    "too",
    "true",
    "up",
    "updates",
    "us",
    "very",
    "video",
    "videos",
    "want",
    "was",
    "way",
    "we",
    "week",
    "weekly",
    "well",
    "were",
    "what",
    "when",
    "where",
    "which",
    "while",
    "who",
    "why",
    "will",
    "with",
    "would",
    "www",
    "yes",
    "you",
    "your",
    "com",
    "moment",
    "if",
    "of",
    "yet",
    "own",
    "verify",
    "verified",
    "also",
];

fn platform(name: &str) -> Option<&'static str> {
    let n: String = name
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect();
    Some(match n.as_str() {
        "instagram" | "insta" | "ig" | "instagram.com" | "instagr.am" => "instagram",
        "snapchat" | "snap" | "sc" | "snapchat.com/add" => "snapchat",
        "telegram" | "tg" | "t.me" | "telegram.me" => "telegram",
        "whatsapp" | "watsapp" | "whatsap" | "wa.me" => "whatsapp",
        "kik" | "kik.me" => "kik",
        "twitter" | "x" | "twitter.com" | "x.com" => "twitter",
        "facebook" | "fb" | "facebook.com" | "fb.com" => "facebook",
        "wechat" => "wechat",
        "viber" => "viber",
        "line" => "line",
        "onlyfans" | "onlyfans.com" => "onlyfans",
        "tiktok" | "tiktok.com" => "tiktok",
        "skype" => "skype",
        "signal" => "signal",
        _ => return None,
    })
}

/// Platforms whose identifier is usually a phone number.
fn numbered(p: &str) -> bool {
    matches!(p, "whatsapp" | "viber" | "signal" | "telegram" | "line")
}

/// Short keywords that are ordinary words unless followed by a handle-ish mark (":", "@", "-").
fn needs_mark(word: &str) -> bool {
    matches!(
        word.to_ascii_lowercase().as_str(),
        "ig" | "sc" | "x" | "line" | "snap" | "signal" | "tg" | "fb" | "insta"
    )
}

/// Does the text name a platform whose IDs are phone numbers (so numbers must be located)?
/// (The words "whats", "watsap", "viber", "signal", "telegram", "tg", "line",
/// ASCII-case-insensitive: `cues::NUMBERED_PLATFORM`.)
pub(crate) fn mentions_numbered_platform(cues: &Cues) -> bool {
    cues.has(cues::NUMBERED_PLATFORM)
}

pub(crate) fn find(text: &str, cues: &Cues, phones: &[PhoneHit]) -> Vec<HandleHit> {
    let mut out: Vec<HandleHit> = Vec::new();
    // a profile URL needs its site's name followed by "/"
    for c in cues
        .may(cues::PROFILE_SITE)
        .then(|| PROFILE_URL.captures_iter(text))
        .into_iter()
        .flatten()
    {
        let (Some(w), Some(site), Some(h)) = (c.get(0), c.get(1), c.get(2)) else {
            continue;
        };
        let Some(p) = platform(site.as_str()) else {
            continue;
        };
        let handle = h.as_str().trim_end_matches(['.', '-', '_']);
        if [
            "share",
            "intent",
            "home",
            "pages",
            "profile.php",
            "sharer",
            "login",
            "groups",
            "p",
            "watch",
        ]
        .contains(&handle.to_ascii_lowercase().as_str())
        {
            continue;
        }
        out.push(HandleHit {
            value: format!("{p}:{handle}"),
            start: w.start(),
            end: h.start() + handle.len(),
        });
    }
    let url_spans: Vec<_> = out.iter().map(|h| h.start..h.end).collect();
    // labelled forms: collect consecutive platform names, then the handle after them
    // (most texts name no platform as a word: one table scan instead of the pattern's)
    let labels: Vec<_> = if cues.may_name_platform(text) {
        LABEL.find_iter(text).collect()
    } else {
        Vec::new()
    };
    let mut k = 0;
    while k < labels.len() {
        let first = labels[k];
        if overlaps(&(first.start()..first.end()), &url_spans)
            || text[..first.start()].ends_with(['.', '/', '@'])
        {
            k += 1;
            continue;
        }
        let mut names = vec![first];
        let mut end = first.end();
        while k + 1 < labels.len() {
            let gap = &text[end..labels[k + 1].start()];
            let g = gap
                .trim()
                .trim_matches(|c: char| ",/&|".contains(c))
                .trim()
                .to_ascii_lowercase();
            if gap.len() <= 6 && (g.is_empty() || g == "or" || g == "and") {
                k += 1;
                names.push(labels[k]);
                end = labels[k].end();
            } else {
                break;
            }
        }
        k += 1;
        let platforms: Vec<&str> = names.iter().filter_map(|m| platform(m.as_str())).collect();
        if platforms.is_empty() {
            continue;
        }
        if let Some((value_start, value_end, handle, is_number)) = handle_after(text, end, phones) {
            if names.len() == 1
                && needs_mark(names[0].as_str())
                && !text[end..value_start].contains([':', '@', '-'])
            {
                continue;
            }
            // "@one @two": further @-handles right after the first belong to the same platforms
            let mut found = vec![(value_start, value_end, handle)];
            if text[..value_start].ends_with('@') {
                let mut pos = value_end;
                while let Some(next) = next_at_handle(text, pos) {
                    pos = next.1;
                    found.push(next);
                }
            }
            for (start, end, handle) in found {
                for p in &platforms {
                    if is_number && !numbered(p) {
                        continue;
                    }
                    if !is_number && numbered(p) && *p != "telegram" && *p != "line" {
                        // WhatsApp/Viber/Signal take numbers; a word after them is not their ID
                        continue;
                    }
                    out.push(HandleHit {
                        value: format!("{p}:{handle}"),
                        start,
                        end,
                    });
                }
            }
        }
    }
    out.sort_by_key(|h| h.start);
    out.dedup_by(|a, b| a.value == b.value && a.start == b.start);
    out
}

/// An `@handle` right after `pos` (whitespace between).
fn next_at_handle(text: &str, pos: usize) -> Option<(usize, usize, String)> {
    let rest = &text[pos..];
    let trimmed = rest.trim_start_matches([' ', '\t']);
    if rest.len() - trimmed.len() > 3 {
        return None;
    }
    let after = trimmed.strip_prefix('@')?;
    let len = after
        .find(|c: char| !(c.is_alphanumeric() || "._".contains(c)))
        .unwrap_or(after.len());
    let h = after[..len].trim_end_matches(['.', '_']);
    if h.len() < 2 || !h.chars().any(char::is_alphabetic) {
        return None;
    }
    let start = pos + (rest.len() - after.len());
    Some((start, start + h.len(), h.to_owned()))
}

/// The handle (or number) that follows a platform name ending at `pos`.
fn handle_after(
    text: &str,
    pos: usize,
    phones: &[PhoneHit],
) -> Option<(usize, usize, String, bool)> {
    let mut i = pos;
    let limit = (pos + 40).min(text.len());
    loop {
        let rest = &text[i..];
        // skip separators and emoji
        let skip = rest
            .find(|c: char| c.is_alphanumeric() || c == '@' || c == '+' || c == '$' || c == '\n')?;
        if rest[..skip].contains("\n\n") {
            return None;
        }
        i += skip;
        if i >= limit {
            return None;
        }
        let rest = &text[i..];
        if rest.starts_with('\n') {
            i += 1;
            continue;
        }
        if rest.starts_with('@') {
            i += 1;
            continue;
        }
        // a number?
        if rest.starts_with(|c: char| c.is_ascii_digit() || c == '+') {
            if let Some(p) = phones
                .iter()
                .find(|p| p.start == i || p.start == i + 1 || (p.start <= i && i < p.end))
            {
                return Some((p.start, p.end, p.written.clone(), true));
            }
            let digits: String = rest
                .chars()
                .take_while(|c| c.is_ascii_digit() || "+-. ()".contains(*c))
                .collect();
            let d: String = digits.chars().filter(char::is_ascii_digit).collect();
            if (7..=16).contains(&d.len()) {
                let len = digits.trim_end().len();
                return Some((i, i + len, d, true));
            }
        }
        let word_len = rest
            .find(|c: char| !(c.is_alphanumeric() || "._-'".contains(c)))
            .unwrap_or(rest.len());
        let word = rest[..word_len].trim_end_matches(['.', '-', '_', '\'']);
        if word.is_empty() {
            return None;
        }
        let lower = word.to_ascii_lowercase();
        if FILLERS.contains(&lower.as_str()) {
            i += word_len;
            continue;
        }
        if lower.starts_with("www.")
            || lower.contains(".com")
            || STOP.contains(&lower.as_str())
            || platform(word).is_some()
            || word.len() < 2
            || word.len() > 40
        {
            return None;
        }
        if !word.chars().any(|c| c.is_alphabetic()) {
            return None;
        }
        return Some((i, i + word.len(), word.to_owned(), false));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn handles(t: &str) -> Vec<String> {
        find(t, &Cues::of(t), &[])
            .into_iter()
            .map(|h| h.value)
            .collect()
    }

    #[test]
    fn labelled_and_linked() {
        assert_eq!(
            handles("Follow me on Twitter @ Jane_Doe99. Thanks"),
            ["twitter:Jane_Doe99"]
        );
        assert_eq!(handles("Snapchat : janedoe"), ["snapchat:janedoe"]);
        assert_eq!(
            handles("Twitter/ Instagram @JaneD"),
            ["twitter:JaneD", "instagram:JaneD"]
        );
        assert_eq!(
            handles("see https://www.instagram.com/jane.doe/"),
            ["instagram:jane.doe"]
        );
        assert_eq!(handles("WhatsApp : 9442210060 ok"), ["whatsapp:9442210060"]);
        assert_eq!(
            handles("Kik - janed Twitter - @JD"),
            ["kik:janed", "twitter:JD"]
        );
        assert!(handles("give me a line and call me").is_empty());
        assert!(handles("the x factor").is_empty());
    }
}
