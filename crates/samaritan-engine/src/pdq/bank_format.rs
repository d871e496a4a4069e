//! Plain-text bank lists: reading what other tools export and writing what they import.
//!
//! Formats, detected per file from its first non-comment line:
//!
//! * **Lines** (ours, and the simplest list anyone has): one 64-digit PDQ hex per line,
//!   optionally followed by fields separated by tabs, commas or spaces: `quality=NN`,
//!   `key=value`, or free text (kept as `note`). A `pdq ` prefix is accepted, which makes this
//!   also python-threatexchange's local-file format (`<signal_type> <signal>` per line;
//!   lines of other signal types are skipped and counted). Headerless `hash,quality,filename`
//!   rows, the output of the reference `pdq-photo-hasher`, are read as hash, quality, `source`.
//! * **CSV / TSV with a header** (HMA and ThreatExchange exports): the hash column is the one
//!   named `hash`, `pdq`, `pdq_hash`, `signal`, `signal_value` or `indicator`; `quality` is read
//!   as quality; a `signal_type` column filters to PDQ rows; every other column becomes metadata
//!   under its header name. Fields may be double-quoted (RFC 4180 within a line).
//!
//! Blank lines and `#` comments are ignored. Every error names the line.

use std::collections::BTreeMap;

use super::bank::BankEntry;
use super::hash::PdqHash;

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// `hex<TAB>quality=NN<TAB>key=value…`, one entry per line.
    Lines,
    /// CSV with a header `hash,quality,<metadata keys…>` (importable by HMA-style tools).
    Csv,
    /// python-threatexchange local file: `pdq <hex>` per line (no metadata).
    Pytx,
}

impl std::str::FromStr for ExportFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "lines" | "txt" => Ok(ExportFormat::Lines),
            "csv" => Ok(ExportFormat::Csv),
            "pytx" => Ok(ExportFormat::Pytx),
            other => Err(format!(
                "unknown bank format {other:?}; use lines, csv or pytx"
            )),
        }
    }
}

/// A line that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct BankFormatError {
    /// 1-based line number.
    pub line: usize,
    pub reason: String,
}

/// What an import read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parsed {
    pub entries: Vec<BankEntry>,
    /// Rows of another signal type (e.g. `md5`) that were skipped, not errors.
    pub skipped_other_types: usize,
}

const HASH_COLUMNS: [&str; 6] = [
    "hash",
    "pdq",
    "pdq_hash",
    "signal",
    "signal_value",
    "indicator",
];

/// Parses a bank list; the first bad line is an error (nothing is half-imported).
pub fn parse(text: &str) -> Result<Parsed, BankFormatError> {
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim_end_matches('\r')))
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
    let Some((first_no, first)) = lines.next() else {
        return Ok(Parsed::default());
    };
    let delim = if first.contains('\t') { '\t' } else { ',' };
    let header = split_fields(first, delim).map_err(|reason| BankFormatError {
        line: first_no,
        reason,
    })?;
    let hash_col = header.iter().position(|h| {
        let h = h.trim().to_ascii_lowercase();
        HASH_COLUMNS.contains(&h.as_str())
    });
    let mut out = Parsed::default();
    match hash_col {
        Some(col) => {
            let names: Vec<String> = header.iter().map(|h| h.trim().to_owned()).collect();
            for (no, line) in lines {
                table_row(no, line, delim, col, &names, &mut out)?;
            }
        }
        None => {
            plain_line(first_no, first, &mut out)?;
            for (no, line) in lines {
                plain_line(no, line, &mut out)?;
            }
        }
    }
    Ok(out)
}

fn table_row(
    no: usize,
    line: &str,
    delim: char,
    col: usize,
    names: &[String],
    out: &mut Parsed,
) -> Result<(), BankFormatError> {
    let err = |reason: String| BankFormatError { line: no, reason };
    let fields = split_fields(line, delim).map_err(err)?;
    if fields.len() != names.len() {
        return Err(err(format!(
            "{} fields where the header has {}",
            fields.len(),
            names.len()
        )));
    }
    let mut entry_meta = BTreeMap::new();
    let mut quality = None;
    for (name, value) in names.iter().zip(&fields) {
        let lname = name.to_ascii_lowercase();
        if lname == "signal_type" && !value.trim().eq_ignore_ascii_case("pdq") {
            out.skipped_other_types += 1;
            return Ok(());
        }
        if lname == "quality" && !value.trim().is_empty() {
            quality = Some(parse_quality(value.trim()).map_err(err)?);
        } else if lname != "signal_type" && !value.is_empty() {
            entry_meta.insert(name.clone(), value.clone());
        }
    }
    let raw = fields[col].trim();
    let hash = PdqHash::from_hex(raw).map_err(|e| err(e.to_string()))?;
    entry_meta.remove(&names[col]);
    out.entries.push(BankEntry {
        hash,
        quality,
        meta: entry_meta,
    });
    Ok(())
}

fn plain_line(no: usize, line: &str, out: &mut Parsed) -> Result<(), BankFormatError> {
    let err = |reason: String| BankFormatError { line: no, reason };
    let line = line.trim();
    let (first, rest) = split_token(line);
    let (hash_text, rest) = if first.eq_ignore_ascii_case("pdq") {
        split_token(rest)
    } else if first.len() != 64
        && !rest.is_empty()
        && first.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        // `<signal_type> <signal>` of another type (pytx local file).
        if PdqHash::from_hex(split_token(rest).0).is_err() {
            out.skipped_other_types += 1;
            return Ok(());
        }
        return Err(err(format!(
            "unknown signal type {first:?} before a PDQ hash"
        )));
    } else {
        (first, rest)
    };
    let hash = PdqHash::from_hex(hash_text).map_err(|e| err(e.to_string()))?;
    let mut entry = BankEntry::new(hash);
    let fields: Vec<&str> = rest
        .split(['\t', ','])
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .collect();
    let mut notes = Vec::new();
    for (i, f) in fields.iter().enumerate() {
        if let Some((k, v)) = f.split_once('=') {
            let (k, v) = (k.trim(), v.trim());
            if k == "quality" {
                entry.quality = Some(parse_quality(v).map_err(err)?);
            } else if !k.is_empty() && !k.contains(char::is_whitespace) {
                entry.meta.insert(k.to_owned(), v.to_owned());
            } else {
                notes.push(*f);
            }
        } else if i == 0 && f.bytes().all(|b| b.is_ascii_digit()) {
            // pdq-photo-hasher: hash,quality,filename
            entry.quality = Some(parse_quality(f).map_err(err)?);
        } else if i == 1 && entry.quality.is_some() && fields.len() == 2 {
            entry.meta.insert("source".to_owned(), (*f).to_owned());
        } else {
            notes.push(*f);
        }
    }
    if !notes.is_empty() {
        entry.meta.insert("note".to_owned(), notes.join(" "));
    }
    out.entries.push(entry);
    Ok(())
}

fn split_token(s: &str) -> (&str, &str) {
    let s = s.trim_start();
    match s
        .char_indices()
        .find(|&(_, c)| c.is_whitespace() || c == ',')
    {
        Some((i, c)) => (&s[..i], s[i + c.len_utf8()..].trim_start()),
        None => (s, ""),
    }
}

fn parse_quality(s: &str) -> Result<u8, String> {
    match s.parse::<u8>() {
        Ok(q) if q <= 100 => Ok(q),
        _ => Err(format!("quality must be an integer 0..=100; got {s:?}")),
    }
}

/// Splits one CSV/TSV line; fields may be double-quoted with `""` for a quote.
fn split_fields(line: &str, delim: char) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut cur = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    let mut at_start = true;
    while let Some(c) = chars.next() {
        if quoted {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    cur.push('"');
                    chars.next();
                } else {
                    quoted = false;
                }
            } else {
                cur.push(c);
            }
        } else if c == '"' && at_start {
            quoted = true;
            at_start = false;
        } else if c == delim {
            fields.push(std::mem::take(&mut cur));
            at_start = true;
        } else {
            cur.push(c);
            at_start = false;
        }
    }
    if quoted {
        return Err("unterminated quoted field".to_owned());
    }
    fields.push(cur);
    Ok(fields)
}

/// Writes entries in `format`. Metadata keys and values are written so that [`parse`] reads
/// back the same entries (for `Pytx`, which has no metadata, the hashes only).
pub fn write(entries: &[BankEntry], format: ExportFormat) -> String {
    let mut out = String::new();
    match format {
        ExportFormat::Lines => {
            for e in entries {
                out.push_str(&e.hash.to_hex());
                if let Some(q) = e.quality {
                    out.push_str(&format!("\tquality={q}"));
                }
                for (k, v) in &e.meta {
                    out.push('\t');
                    out.push_str(&clean(k));
                    out.push('=');
                    out.push_str(&clean(v));
                }
                out.push('\n');
            }
        }
        ExportFormat::Csv => {
            let keys: std::collections::BTreeSet<&String> =
                entries.iter().flat_map(|e| e.meta.keys()).collect();
            let keys: Vec<&String> = keys
                .into_iter()
                .filter(|k| {
                    !matches!(
                        k.to_ascii_lowercase().as_str(),
                        "hash" | "quality" | "signal_type"
                    )
                })
                .collect();
            out.push_str("hash,quality");
            for k in &keys {
                out.push(',');
                out.push_str(&csv_field(k));
            }
            out.push('\n');
            for e in entries {
                out.push_str(&e.hash.to_hex());
                out.push(',');
                if let Some(q) = e.quality {
                    out.push_str(&q.to_string());
                }
                for k in &keys {
                    out.push(',');
                    if let Some(v) = e.meta.get(*k) {
                        out.push_str(&csv_field(v));
                    }
                }
                out.push('\n');
            }
        }
        ExportFormat::Pytx => {
            for e in entries {
                out.push_str("pdq ");
                out.push_str(&e.hash.to_hex());
                out.push('\n');
            }
        }
    }
    out
}

/// Metadata in the lines format cannot hold tabs, commas, newlines or `=` in keys.
fn clean(s: &str) -> String {
    s.chars()
        .map(|c| {
            if matches!(c, '\t' | '\n' | '\r' | ',') {
                ' '
            } else {
                c
            }
        })
        .collect::<String>()
        .trim()
        .to_owned()
}

fn csv_field(s: &str) -> String {
    let s: String = s
        .chars()
        .map(|c| if matches!(c, '\n' | '\r') { ' ' } else { c })
        .collect();
    if s.contains([',', '"']) || s.starts_with(' ') || s.ends_with(' ') {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const A: &str = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";
    const B: &str = "30a10efd71cc3d429013d48d0ffffc52e34e0e17ada952a9d29685211ea9e5af";

    #[test]
    fn reads_plain_lists_pytx_and_photo_hasher_rows() {
        let text = format!(
            "# known hashes\n{A}\n\npdq {B}\nmd5 d41d8cd98f00b204e9800998ecf8427e\n{A},100,bridge.jpg\n{B}\tquality=90\tcase=c-7\tfrom tip line\n"
        );
        let p = parse(&text).unwrap();
        assert_eq!(p.entries.len(), 4);
        assert_eq!(p.skipped_other_types, 1);
        assert_eq!(p.entries[0].hash.to_hex(), A);
        assert_eq!(p.entries[1].hash.to_hex(), B);
        assert_eq!(p.entries[2].quality, Some(100));
        assert_eq!(p.entries[2].meta["source"], "bridge.jpg");
        assert_eq!(p.entries[3].quality, Some(90));
        assert_eq!(p.entries[3].meta["case"], "c-7");
        assert_eq!(p.entries[3].meta["note"], "from tip line");
    }

    #[test]
    fn reads_hma_style_tables() {
        let csv = format!(
            "signal_type,signal,content_id,tags\npdq,{A},c1,\"a,b\"\nmd5,d41d8cd98f00b204e9800998ecf8427e,c2,\n"
        );
        let p = parse(&csv).unwrap();
        assert_eq!(p.entries.len(), 1);
        assert_eq!(p.skipped_other_types, 1);
        assert_eq!(p.entries[0].meta["content_id"], "c1");
        assert_eq!(p.entries[0].meta["tags"], "a,b");
        assert!(!p.entries[0].meta.contains_key("signal"));

        let tsv = format!("hash\tquality\tid\n{A}\t77\t12\n");
        let p = parse(&tsv).unwrap();
        assert_eq!(p.entries[0].quality, Some(77));
        assert_eq!(p.entries[0].meta["id"], "12");
    }

    #[test]
    fn errors_name_the_line() {
        let e = parse(&format!("{A}\n{}\n", &A[..60])).unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.reason.contains("64 hex digits"), "{e}");
        let e = parse(&format!("hash,quality\n{A},101\n")).unwrap_err();
        assert_eq!(e.line, 2);
        let e = parse(&format!("hash,x\n{A}\n")).unwrap_err();
        assert!(
            e.to_string().contains("1 fields where the header has 2"),
            "{e}"
        );
        let e = parse(&format!("hash,x\n{A},\"open\n")).unwrap_err();
        assert!(e.reason.contains("unterminated"));
        let e = parse(&format!("sha1 {A}\n")).unwrap_err();
        assert!(e.reason.contains("unknown signal type"));
        assert!(parse("\u{0}\u{ffff}garbage").is_err());
        assert_eq!(parse("").unwrap(), Parsed::default());
    }

    fn entry() -> impl Strategy<Value = BankEntry> {
        (
            any::<[u64; 4]>(),
            prop::option::of(0u8..=100),
            prop::collection::btree_map("[a-z][a-z0-9_]{0,8}", "[a-zA-Z0-9 ;:/.-]{1,12}", 0..3),
        )
            .prop_map(|(l, quality, meta)| {
                let meta = meta
                    .into_iter()
                    .filter(|(k, _)| !matches!(k.as_str(), "quality" | "hash" | "note"))
                    .map(|(k, v)| (k, v.trim().to_owned()))
                    .filter(|(_, v)| !v.is_empty())
                    .collect();
                BankEntry {
                    hash: PdqHash::from_limbs(l),
                    quality,
                    meta,
                }
            })
    }

    proptest! {
        #[test]
        fn lines_round_trip(entries in prop::collection::vec(entry(), 0..20)) {
            let back = parse(&write(&entries, ExportFormat::Lines)).unwrap();
            prop_assert_eq!(back.entries, entries);
        }

        #[test]
        fn csv_round_trip(entries in prop::collection::vec(entry(), 1..20)) {
            let back = parse(&write(&entries, ExportFormat::Csv)).unwrap();
            prop_assert_eq!(back.entries, entries);
        }

        #[test]
        fn pytx_round_trip_keeps_hashes(entries in prop::collection::vec(entry(), 0..20)) {
            let back = parse(&write(&entries, ExportFormat::Pytx)).unwrap();
            let want: Vec<PdqHash> = entries.iter().map(|e| e.hash).collect();
            prop_assert_eq!(back.entries.iter().map(|e| e.hash).collect::<Vec<_>>(), want);
        }

        #[test]
        fn never_panics(s in "\\PC{0,200}") {
            let _ = parse(&s);
        }
    }
}
