//! Social and messaging handles with their platform: profile URLs (`instagram.com/name`,
//! `t.me/name`, `wa.me/number`), labelled handles ("Snapchat: name", "kik - name",
//! "Twitter/ Instagram @name", "Facebook, twitter , snapchat id is - name"), `@name` after a
//! platform was named, and messaging numbers ("WhatsApp +7621-72-44-775"). Values are
//! `platform:handle` with the handle as written; messaging numbers keep their digits as written.

use super::phone::PhoneHit;
use super::{Pattern, re};

#[derive(Debug)]
pub(crate) struct HandleHit {
    pub value: String,
    pub start: usize,
    pub end: usize,
}

static PROFILE_URL: Pattern = Pattern::new(|| {
    re(
        r"(?i)\b(?:https?://)?(?:www\.|m\.)?(instagram\.com|instagr\.am|twitter\.com|x\.com|facebook\.com|fb\.com|snapchat\.com/add|t\.me|telegram\.me|kik\.me|tiktok\.com|onlyfans\.com|wa\.me)/@?([A-Za-z0-9][A-Za-z0-9._\-]{1,39})",
    )
});

static LABEL: Pattern = Pattern::new(|| {
    re(
        r"(?i)\b(instagram|insta|ig|snapchat|snap|sc|telegram|tg|whats\s?app|watsapp|whatsap|kik|twitter|x|facebook|fb|wechat|we\s?chat|viber|line|onlyfans|tiktok|skype|signal)\b",
    )
});

/// Words and marks that may sit between a platform's name and the handle.
const FILLERS: &[&str] = &[
    "me", "id", "is", "at", "on", "my", "username", "user", "name", "handle", "account", "page",
    "add", "follow", "its", "it's", "to", "via", "or", "and", "me:", "number", "num", "no",
];

/// Words that are never handles.
const STOP: &[&str] = &[
    "me",
    "and",
    "or",
    "for",
    "the",
    "you",
    "only",
    "with",
    "text",
    "call",
    "also",
    "available",
    "me.",
    "too",
    "please",
    "here",
    "now",
    "this",
    "that",
    "more",
    "pics",
    "photos",
    "us",
    "http",
    "https",
    "www",
    "com",
    "a",
    "an",
    "in",
    "of",
    "if",
    "so",
    "but",
    "not",
    "no",
    "yes",
    "ok",
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
pub(crate) fn mentions_numbered_platform(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    ["whats", "watsap", "viber", "signal", "telegram", "line"]
        .iter()
        .any(|k| lower.contains(k))
}

pub(crate) fn find(text: &str, phones: &[PhoneHit]) -> Vec<HandleHit> {
    let mut out: Vec<HandleHit> = Vec::new();
    for c in PROFILE_URL.captures_iter(text) {
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
    let labels: Vec<_> = LABEL.find_iter(text).collect();
    let mut k = 0;
    while k < labels.len() {
        let first = labels[k];
        if super::overlaps(&(first.start()..first.end()), &url_spans)
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
                    start: value_start,
                    end: value_end,
                });
            }
        }
    }
    out.sort_by_key(|h| h.start);
    out.dedup_by(|a, b| a.value == b.value && a.start == b.start);
    out
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
        if STOP.contains(&lower.as_str())
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
        find(t, &[]).into_iter().map(|h| h.value).collect()
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
