//! Fuzzes the payment extractor: any UTF-8 input; every mention must lie inside the original on
//! character boundaries and quote it exactly.
#![no_main]

use libfuzzer_sys::fuzz_target;
use samaritan_engine::extract::{ExtractOptions, Kind, extract_kinds};
use samaritan_engine::normalize;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    let n = normalize(s);
    let e = extract_kinds(s, &n, &ExtractOptions::default(), &[Kind::Payment]);
    for m in e.mentions() {
        let [a, b] = m.span;
        assert!(a <= b && b <= s.len() && s.is_char_boundary(a) && s.is_char_boundary(b));
        assert_eq!(m.text, &s[a..b]);
        assert_eq!(m.kind, "payment");
    }
    let _ = e.extracted();
});
