//! E-mail addresses, including the forms written to dodge filters: "name at gmail dot com",
//! "name(at)gmail(dot)com", "name @ gmail . com", and a big provider's name with a misspelling
//! or no top-level domain ("name@gml", "name@gmail"). Values are lower-case.

use super::pattern::{Pattern, re};
use super::prefilter::cues::{self, Cues};

#[derive(Debug)]
pub(crate) struct EmailHit {
    pub value: String,
    pub start: usize,
    pub end: usize,
    pub obfuscated: bool,
}

static PLAIN: Pattern = Pattern::new(|| {
    re(
        r"(?i)(?-u:\b)[a-z0-9][a-z0-9._%+\-]*@[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?)*\.[a-z]{2,24}(?-u:\b)",
    )
});

/// "name at gmail dot com" and bracketed forms.
static SPELLED: Pattern = Pattern::new(|| {
    re(
        r"(?i)(?-u:\b)([a-z0-9][a-z0-9._\-]{0,63})\s*(?:[(\[{<]\s*at\s*[)\]}>]|\s+at\s+|\s@\s*|@\s+)\s*([a-z0-9][a-z0-9\-]{0,62})\s*(?:[(\[{<]\s*dot\s*[)\]}>]|\s+dot\s+|\s*\.\s*)\s*(com|net|org|edu|info|biz|us|ca|co\.uk|uk|de|fr|ru|in|au)(?-u:\b)",
    )
});

/// A big provider, possibly misspelled, with no top-level domain: "name@gml".
static BARE_PROVIDER: Pattern = Pattern::new(|| {
    re(
        r"(?i)(?-u:\b)([a-z0-9][a-z0-9._\-]{0,63})@(gmail|gmal|gmial|gml|gnail|gmai|yahoo|yaho|yahooo|yhoo|hotmail|hotmial|hotmal|hotmai|outlook|aol|icloud)(?-u:\b)",
    )
});

const PROVIDERS: &[(&str, &str)] = &[
    ("gmail", "gmail.com"),
    ("gmal", "gmail.com"),
    ("gmial", "gmail.com"),
    ("gml", "gmail.com"),
    ("gnail", "gmail.com"),
    ("gmai", "gmail.com"),
    ("yahoo", "yahoo.com"),
    ("yaho", "yahoo.com"),
    ("yahooo", "yahoo.com"),
    ("yhoo", "yahoo.com"),
    ("hotmail", "hotmail.com"),
    ("hotmial", "hotmail.com"),
    ("hotmal", "hotmail.com"),
    ("hotmai", "hotmail.com"),
    ("outlook", "outlook.com"),
    ("aol", "aol.com"),
    ("icloud", "icloud.com"),
];

/// Providers whose addresses a spelled-out "name at X dot com" may name (plain English "at"
/// needs a provider we know; bracketed "(at)" takes any domain).
const KNOWN: &[&str] = &[
    "gmail",
    "yahoo",
    "hotmail",
    "outlook",
    "aol",
    "icloud",
    "live",
    "msn",
    "protonmail",
    "ymail",
    "mail",
    "gmx",
];

pub(crate) fn find(text: &str, cues: &Cues) -> Vec<EmailHit> {
    let mut out: Vec<EmailHit> = Vec::new();
    // every form needs an "@" or a spelled-out "dot", except "name at X.com" with a plain ".",
    // which needs the word "at" and a provider we know, or a bracket ("name(at)site.com")
    let at_sign = cues.has(cues::AT_SIGN);
    let at_plain_dot =
        cues.may(cues::AT_WORD) && (cues.has(cues::EMAIL_PROVIDER) || cues.has(cues::OPEN_BRACKET));
    if !at_sign && !cues.has(cues::DOT_WORD) && !at_plain_dot {
        return out;
    }
    // the plain and bare-provider forms need the "@"; the spelled form "@" or "at"
    let spelled = at_sign || cues.may(cues::AT_WORD);
    for m in at_sign.then(|| PLAIN.find_iter(text)).into_iter().flatten() {
        out.push(EmailHit {
            value: m.as_str().to_ascii_lowercase(),
            start: m.start(),
            end: m.end(),
            obfuscated: false,
        });
    }
    let taken =
        |out: &Vec<EmailHit>, s: usize, e: usize| out.iter().any(|h| h.start < e && s < h.end);
    for c in spelled
        .then(|| SPELLED.captures_iter(text))
        .into_iter()
        .flatten()
    {
        let (Some(w), Some(user), Some(dom), Some(tld)) = (c.get(0), c.get(1), c.get(2), c.get(3))
        else {
            continue;
        };
        if taken(&out, w.start(), w.end()) {
            continue;
        }
        let bracketed = w.as_str().contains(['(', '[', '{', '<']);
        let dom_l = dom.as_str().to_ascii_lowercase();
        if !bracketed && !KNOWN.contains(&dom_l.as_str()) {
            continue;
        }
        let value = format!("{}@{}.{}", user.as_str(), dom_l, tld.as_str()).to_ascii_lowercase();
        out.push(EmailHit {
            value,
            start: w.start(),
            end: w.end(),
            obfuscated: true,
        });
    }
    for c in at_sign
        .then(|| BARE_PROVIDER.captures_iter(text))
        .into_iter()
        .flatten()
    {
        let (Some(w), Some(user), Some(p)) = (c.get(0), c.get(1), c.get(2)) else {
            continue;
        };
        if taken(&out, w.start(), w.end()) || text[w.end()..].starts_with('.') {
            continue;
        }
        let key = p.as_str().to_ascii_lowercase();
        let Some((_, domain)) = PROVIDERS.iter().find(|(k, _)| *k == key) else {
            continue;
        };
        let value = format!("{}@{domain}", user.as_str()).to_ascii_lowercase();
        out.push(EmailHit {
            value,
            start: w.start(),
            end: w.end(),
            obfuscated: true,
        });
    }
    out.sort_by_key(|h| h.start);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn emails(t: &str) -> Vec<(String, bool)> {
        find(t, &Cues::of(t))
            .into_iter()
            .map(|h| (h.value, h.obfuscated))
            .collect()
    }

    #[test]
    fn plain_and_disguised() {
        assert_eq!(
            emails("E-mail:Jane.Doe@Example.org today"),
            [("jane.doe@example.org".into(), false)]
        );
        assert_eq!(
            emails("write jane at gmail dot com"),
            [("jane@gmail.com".into(), true)]
        );
        assert_eq!(
            emails("jane(at)example(dot)net"),
            [("jane@example.net".into(), true)]
        );
        assert_eq!(
            emails("OTHER: jane@gml "),
            [("jane@gmail.com".into(), true)]
        );
        assert!(emails("3233@no.s and meet at home dot com").is_empty());
    }
}
