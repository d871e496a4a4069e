//! Payment handles: Cash App `$cashtags` (next to a Cash App mention or in a `cash.app` link),
//! Venmo and PayPal.me names, and crypto addresses — Bitcoin and Litecoin (Base58Check and
//! Bech32/Bech32m checksums verified) and Ethereum (`0x` + 40 hex digits; its EIP-55 checksum
//! needs Keccak-256 and is not verified). Values are `kind:id`.

use sha2::{Digest, Sha256};

use super::pattern::{Pattern, re};
use super::prefilter::cues::{self, Cues};

#[derive(Debug)]
pub(crate) struct PaymentHit {
    pub value: String,
    pub start: usize,
    pub end: usize,
}

static CASHTAG: Pattern = Pattern::new(|| {
    re(
        r"(?i)(?:(?-u:\b)cash\s?app(?-u:\b)|(?-u:\b)cashapp(?-u:\b)|(?-u:\b)cash\.app/)[^\S\n]*[:\-@]?[^\S\n]*(?:me[^\S\n]*)?(?:at[^\S\n]*)?(\$[a-z][a-z0-9_\-]{0,19})(?-u:\b)",
    )
});
static VENMO: Pattern = Pattern::new(|| {
    re(
        r"(?i)(?:(?-u:\b)venmo\.com/(?:u/)?|(?-u:\b)venmo(?-u:\b)[^\S\n]*[:\-]?[^\S\n]*(?:me[^\S\n]*)?)@?([a-z0-9][a-z0-9_\-]{4,29})(?-u:\b)",
    )
});
static PAYPAL: Pattern =
    Pattern::new(|| re(r"(?i)(?-u:\b)paypal\.me/([a-z0-9][a-z0-9_.\-]{2,39})"));
static BASE58: Pattern =
    Pattern::new(|| re(r"(?-u:\b)([13LM][1-9A-HJ-NP-Za-km-z]{25,34})(?-u:\b)"));
static BECH32: Pattern =
    Pattern::new(|| re(r"(?i)(?-u:\b)((?:bc|ltc)1[ac-hj-np-z02-9]{11,71})(?-u:\b)"));
static ETH: Pattern = Pattern::new(|| re(r"(?-u:\b)(0x[0-9a-fA-F]{40})(?-u:\b)"));

pub(crate) fn find(text: &str, cues: &Cues) -> Vec<PaymentHit> {
    let mut out = Vec::new();
    // cheap gates: a payment word, or a token long enough to be an address
    let named = cues.has(cues::CASH | cues::VENMO | cues::PAYPAL);
    let long_token = has_alphanumeric_run(text, 26);
    if !named && !long_token {
        return out;
    }
    // each pattern needs its own word, or an alphanumeric run as long as its shortest match
    let cash = cues.may(cues::CASH);
    let venmo = cues.may(cues::VENMO);
    let paypal = cues.may(cues::PAYPAL);
    let base58 = long_token;
    // (case-insensitive, but the non-ASCII variants of `s` and `k` never reach here: `cues`)
    let bech32 = long_token || has_alphanumeric_run(text, 14);
    let eth = long_token && has_alphanumeric_run(text, 42);
    let mut push = |kind: &str, m: regex::Match<'_>, value: &str| {
        out.push(PaymentHit {
            value: format!("{kind}:{value}"),
            start: m.start(),
            end: m.end(),
        });
    };
    for c in cash
        .then(|| CASHTAG.captures_iter(text))
        .into_iter()
        .flatten()
    {
        if let Some(m) = c.get(1) {
            push("cashapp", m, m.as_str());
        }
    }
    for c in venmo
        .then(|| VENMO.captures_iter(text))
        .into_iter()
        .flatten()
    {
        if let Some(m) = c.get(1)
            && m.as_str().chars().any(|c| c.is_ascii_alphabetic())
            && !["me", "only", "accepted", "ok"].contains(&m.as_str().to_ascii_lowercase().as_str())
        {
            push("venmo", m, m.as_str());
        }
    }
    for c in paypal
        .then(|| PAYPAL.captures_iter(text))
        .into_iter()
        .flatten()
    {
        if let Some(m) = c.get(1) {
            push("paypal", m, m.as_str().trim_end_matches('.'));
        }
    }
    for c in base58
        .then(|| BASE58.captures_iter(text))
        .into_iter()
        .flatten()
    {
        let Some(m) = c.get(1) else { continue };
        if let Some(version) = base58check(m.as_str()) {
            let kind = match version {
                0x00 | 0x05 => "btc",
                0x30 | 0x32 => "ltc",
                _ => continue,
            };
            push(kind, m, m.as_str());
        }
    }
    for c in bech32
        .then(|| BECH32.captures_iter(text))
        .into_iter()
        .flatten()
    {
        let Some(m) = c.get(1) else { continue };
        let lower = m.as_str().to_ascii_lowercase();
        if m.as_str() != lower && m.as_str() != m.as_str().to_ascii_uppercase() {
            continue; // mixed case is invalid Bech32
        }
        if bech32_valid(&lower) {
            let kind = if lower.starts_with("bc1") {
                "btc"
            } else {
                "ltc"
            };
            push(kind, m, &lower);
        }
    }
    for c in eth.then(|| ETH.captures_iter(text)).into_iter().flatten() {
        if let Some(m) = c.get(1) {
            push("eth", m, &m.as_str().to_ascii_lowercase());
        }
    }
    out.sort_by_key(|h| h.start);
    out
}

/// Does `text` hold a run of at least `len` ASCII letters and digits? Reads about one byte per
/// word: the byte `len - 1` after a candidate start is looked at first, and the run is read
/// backwards from there; the first byte that is not alphanumeric moves the candidate past it.
fn has_alphanumeric_run(text: &str, len: usize) -> bool {
    let b = text.as_bytes();
    if len == 0 {
        return true;
    }
    let mut start = 0;
    while start + len <= b.len() {
        // the last byte of `start..start + len` that breaks the run, if any
        match b[start..start + len]
            .iter()
            .rposition(|&c| !crate::ascii::is_alnum(c))
        {
            None => return true,
            Some(j) => start += j + 1,
        }
    }
    false
}

/// Length of the longest run of ASCII letters and digits (the reference for
/// [`has_alphanumeric_run`]).
#[cfg(test)]
fn longest_alphanumeric_run(text: &str) -> usize {
    let mut best = 0;
    let mut run = 0;
    for b in text.bytes() {
        let a = usize::from(crate::ascii::is_alnum(b));
        run = (run + 1) * a;
        best = best.max(run);
    }
    best
}

const B58: &[u8] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/// Decodes a Base58Check string and verifies its checksum; the version byte on success.
fn base58check(s: &str) -> Option<u8> {
    let mut bytes: Vec<u8> = Vec::with_capacity(32);
    for c in s.bytes() {
        let mut carry = B58.iter().position(|&b| b == c)? as u32;
        for b in bytes.iter_mut().rev() {
            carry += u32::from(*b) * 58;
            *b = (carry & 0xff) as u8;
            carry >>= 8;
        }
        while carry > 0 {
            bytes.insert(0, (carry & 0xff) as u8);
            carry >>= 8;
        }
    }
    let zeros = s.bytes().take_while(|&b| b == b'1').count();
    let mut full = vec![0u8; zeros];
    full.extend(bytes);
    if full.len() != 25 {
        return None;
    }
    let (payload, check) = full.split_at(21);
    let hash = Sha256::digest(Sha256::digest(payload));
    (hash[..4] == *check).then_some(payload[0])
}

/// Verifies a lower-case Bech32 or Bech32m string's checksum (BIP 173 / BIP 350).
fn bech32_valid(s: &str) -> bool {
    const CHARSET: &[u8] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";
    let Some(sep) = s.rfind('1') else {
        return false;
    };
    let (hrp, data) = (&s[..sep], &s[sep + 1..]);
    if hrp.is_empty() || data.len() < 6 {
        return false;
    }
    let mut values: Vec<u8> = Vec::with_capacity(hrp.len() * 2 + 1 + data.len());
    values.extend(hrp.bytes().map(|b| b >> 5));
    values.push(0);
    values.extend(hrp.bytes().map(|b| b & 31));
    for c in data.bytes() {
        let Some(v) = CHARSET.iter().position(|&x| x == c) else {
            return false;
        };
        values.push(v as u8);
    }
    let generator = [
        0x3b6a_57b2u32,
        0x2650_8e6d,
        0x1ea1_19fa,
        0x3d42_33dd,
        0x2a14_62b3,
    ];
    let mut chk: u32 = 1;
    for v in values {
        let top = chk >> 25;
        chk = ((chk & 0x1ff_ffff) << 5) ^ u32::from(v);
        for (i, g) in generator.iter().enumerate() {
            if (top >> i) & 1 == 1 {
                chk ^= g;
            }
        }
    }
    chk == 1 || chk == 0x2bc8_30a3
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pays(t: &str) -> Vec<String> {
        find(t, &Cues::of(t)).into_iter().map(|h| h.value).collect()
    }

    #[test]
    fn handles_and_addresses() {
        assert_eq!(pays("Cash App: $JaneDoe22 only"), ["cashapp:$JaneDoe22"]);
        assert!(pays("$pecial$ today $200").is_empty());
        assert_eq!(pays("venmo @jane-doe-7"), ["venmo:jane-doe-7"]);
        assert_eq!(pays("paypal.me/janedoe"), ["paypal:janedoe"]);
        // the genesis-block address (valid checksum) and a one-character corruption of it
        assert_eq!(
            pays("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"),
            ["btc:1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"]
        );
        assert!(pays("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb").is_empty());
        // BIP 173 test vector
        assert_eq!(
            pays("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"),
            ["btc:bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"]
        );
        assert!(pays("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5").is_empty());
        assert_eq!(pays("0x52908400098527886E0F7030069857D2E4169EE7").len(), 1);
    }

    proptest::proptest! {
        /// The skipping run test answers as the longest run does.
        #[test]
        fn run_test_agrees_with_the_longest_run(
            t in "([a-z0-9]{0,50}[ .\u{e9}-]{0,2}){0,12}",
            len in 0usize..60,
        ) {
            proptest::prop_assert_eq!(
                has_alphanumeric_run(&t, len),
                longest_alphanumeric_run(&t) >= len
            );
        }
    }
}
