//! Fuzzes normalization: never panics, is idempotent, and maps every normalized range into the
//! original on character boundaries.
#![no_main]

use libfuzzer_sys::fuzz_target;
use samaritan_engine::normalize;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    let n = normalize(s);
    assert_eq!(normalize(&n.text).text, n.text, "not idempotent");
    let bounds: Vec<usize> = n.text.char_indices().map(|(i, _)| i).chain([n.text.len()]).collect();
    for (k, &a) in bounds.iter().enumerate() {
        for &b in bounds[k..].iter().take(3) {
            let r = n.original_span(a..b);
            assert!(r.start <= r.end && r.end <= s.len());
            assert!(s.is_char_boundary(r.start) && s.is_char_boundary(r.end));
            let _ = n.is_obfuscated(a..b);
        }
    }
});
