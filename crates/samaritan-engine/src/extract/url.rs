//! URLs and domains: `http(s)://…`, `www.…`, and bare domains under common top-level domains
//! ("mysite.com/pics"). E-mail domains are not URLs. Values keep the path, with the scheme and
//! host lower-cased and trailing punctuation dropped.

use super::cues::{self, Cues};
use super::{Pattern, re};

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
    for m in URL.find_iter(text) {
        // part of an e-mail address?
        let before = &text[..m.start()];
        if before.ends_with(['@', '.', '-', '_']) || before.ends_with(|c: char| c.is_alphanumeric())
        {
            continue;
        }
        let raw = m
            .as_str()
            .trim_end_matches(['.', ',', ';', ':', '!', '?', ')', ']', '}', '\'', '"']);
        if raw.is_empty() || text[m.start() + raw.len()..].starts_with('@') {
            continue;
        }
        out.push(UrlHit {
            value: canonical(raw),
            start: m.start(),
            end: m.start() + raw.len(),
        });
    }
    out
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
