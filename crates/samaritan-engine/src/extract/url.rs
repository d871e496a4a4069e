//! URLs and domains: `http(s)://…`, `www.…`, and bare domains under common top-level domains
//! ("mysite.com/pics"). E-mail domains are not URLs. Values keep the path, with the scheme and
//! host lower-cased and trailing punctuation dropped.

use super::pattern::{Pattern, re};
use super::prefilter::cues::{self, Cues};

#[derive(Debug)]
pub(crate) struct UrlHit {
    pub value: String,
    pub start: usize,
    pub end: usize,
}

static URL: Pattern = Pattern::new(|| {
    re(
        r#"(?i)(?-u:\b)(?:https?://[^\s<>"']+|www\.[^\s<>"']+|[a-z0-9](?:[a-z0-9\-]{0,62}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9\-]{0,62}[a-z0-9])?)*\.(?:com|net|org|info|biz|xxx|us|uk|ca|au|in|io|me|tv|de|fr|es|it|nl|ru|ly|gl|be|ch|at|pl|mx|br|jp|cn|hk|sg|ae|club|site|online|xyz|top|link|escort|sex|porn|adult)\b(?:/[^\s<>"']*)?)"#,
    )
});

pub(crate) fn find(text: &str, cues: &Cues) -> Vec<UrlHit> {
    let mut out = Vec::new();
    // every form needs "://", "www." or a dot before a top-level domain's first letter
    if !cues.may(cues::SCHEME_OR_WWW | cues::DOT_LETTER) {
        return out;
    }
    if text.is_ascii() {
        scan(text, 0..text.len(), &mut out);
    } else {
        // The pattern's word boundary after the top-level domain is Unicode-aware, so its fast
        // search gives up on non-ASCII text and falls back to a slow one over the whole text.
        // A match never holds whitespace: search each whitespace-free chunk by itself (the same
        // matches, since a chunk's edges read as the whitespace beside them), which keeps the
        // fast search on every ASCII chunk.
        let mut start = None;
        for (i, c) in text.char_indices() {
            if c.is_whitespace() {
                if let Some(s) = start.take() {
                    scan(text, s..i, &mut out);
                }
            } else {
                start.get_or_insert(i);
            }
        }
        if let Some(s) = start {
            scan(text, s..text.len(), &mut out);
        }
    }
    out
}

/// The URLs in `text[chunk]` (every form holds a `.` or a `:`).
fn scan(text: &str, chunk: std::ops::Range<usize>, out: &mut Vec<UrlHit>) {
    let hay = &text[chunk.clone()];
    if !hay.bytes().any(|b| b == b'.' || b == b':') {
        return;
    }
    for m in URL.find_iter(hay) {
        let (start, end) = (chunk.start + m.start(), chunk.start + m.end());
        // part of an e-mail address?
        let before = &text[..start];
        if before.ends_with(['@', '.', '-', '_']) || before.ends_with(|c: char| c.is_alphanumeric())
        {
            continue;
        }
        let raw = text[start..end]
            .trim_end_matches(['.', ',', ';', ':', '!', '?', ')', ']', '}', '\'', '"']);
        if raw.is_empty() || text[start + raw.len()..].starts_with('@') {
            continue;
        }
        out.push(UrlHit {
            value: canonical(raw),
            start,
            end: start + raw.len(),
        });
    }
}

/// Lower-cases scheme and host; keeps the path as written.
fn canonical(raw: &str) -> String {
    let (scheme, rest) = match raw.find("://") {
        Some(i) => (raw[..i + 3].to_ascii_lowercase(), &raw[i + 3..]),
        None => (String::new(), raw),
    };
    let host_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    format!(
        "{scheme}{}{}",
        rest[..host_end].to_ascii_lowercase(),
        &rest[host_end..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn urls(t: &str) -> Vec<String> {
        find(t, &Cues::of(t)).into_iter().map(|h| h.value).collect()
    }

    #[test]
    fn finds_urls_not_emails() {
        assert_eq!(
            urls("see http://WWW.Example.com/Pics, ok"),
            ["http://www.example.com/Pics"]
        );
        assert_eq!(urls("visit www.example.org."), ["www.example.org"]);
        assert_eq!(urls("my site: example-site.com/a"), ["example-site.com/a"]);
        assert!(urls("mail jane@example.com").is_empty());
        assert!(urls("5.5 ft, e.g. 3.50").is_empty());
    }
}
