//! Reading JSON Lines safely: bounded line length, exact line numbers, precise reasons.
//!
//! A line that is too long, not UTF-8, not JSON or not an ad is reported with its line number and
//! why; the lines around it go on. Memory stays bounded: a line longer than the limit is skipped
//! in place without being buffered.

use std::io::{self, BufRead};

use samaritan_engine::model::Ad;
use serde::de::DeserializeOwned;

/// Default longest line accepted (ads are small; a 1 MiB line is already suspicious).
pub const DEFAULT_MAX_LINE: usize = 1 << 20;

/// One physical line of input.
pub struct Line {
    /// 1-based line number in the input.
    pub number: u64,
    pub bytes: Vec<u8>,
}

/// Why a line could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    pub line: u64,
    pub reason: String,
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

/// Iterates over the non-blank lines of a reader, each as bytes or as a [`LineError`] when it
/// exceeds `max_len`. I/O errors end the iteration with an `Err`.
pub struct Lines<R> {
    reader: R,
    max_len: usize,
    number: u64,
}

impl<R: BufRead> Lines<R> {
    pub fn new(reader: R, max_len: usize) -> Self {
        Lines {
            reader,
            max_len,
            number: 0,
        }
    }

    /// Reads one line into `buf` (without the newline), stopping to buffer past `max_len`.
    /// Returns the full length of the line, or `None` at end of input.
    fn read_line(&mut self, buf: &mut Vec<u8>) -> io::Result<Option<usize>> {
        let mut total = 0usize;
        let mut any = false;
        loop {
            let available = match self.reader.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if available.is_empty() {
                return Ok(any.then_some(total));
            }
            any = true;
            let (chunk, done) = match memchr(available) {
                Some(i) => (&available[..i], Some(i + 1)),
                None => (available, None),
            };
            if total + chunk.len() <= self.max_len {
                buf.extend_from_slice(chunk);
            } else if buf.len() < self.max_len {
                // Keep nothing more; the line is rejected by its length anyway.
                buf.clear();
            }
            total += chunk.len();
            let consumed = done.unwrap_or(available.len());
            self.reader.consume(consumed);
            if done.is_some() {
                return Ok(Some(total));
            }
        }
    }
}

fn memchr(b: &[u8]) -> Option<usize> {
    b.iter().position(|&c| c == b'\n')
}

impl<R: BufRead> Iterator for Lines<R> {
    type Item = io::Result<Result<Line, LineError>>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let mut buf = Vec::new();
            let len = match self.read_line(&mut buf) {
                Ok(Some(len)) => len,
                Ok(None) => return None,
                Err(e) => return Some(Err(e)),
            };
            self.number += 1;
            if len > self.max_len {
                return Some(Ok(Err(LineError {
                    line: self.number,
                    reason: format!(
                        "line is {len} bytes; the limit is {} (--max-line-bytes)",
                        self.max_len
                    ),
                })));
            }
            if buf.last() == Some(&b'\r') {
                buf.pop();
            }
            if buf.iter().all(u8::is_ascii_whitespace) {
                continue; // blank lines separate nothing and hold no record
            }
            return Some(Ok(Ok(Line {
                number: self.number,
                bytes: buf,
            })));
        }
    }
}

/// Parses one line as `T`, naming the precise reason on failure.
pub fn parse_line<T: DeserializeOwned>(line: &Line) -> Result<T, LineError> {
    let err = |reason: String| LineError {
        line: line.number,
        reason,
    };
    let text = std::str::from_utf8(&line.bytes).map_err(|e| {
        err(format!(
            "invalid UTF-8 at byte {} of the line",
            e.valid_up_to()
        ))
    })?;
    serde_json::from_str(text).map_err(|e| {
        let what = match e.classify() {
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                "malformed JSON"
            }
            serde_json::error::Category::Data => "not a valid record",
            serde_json::error::Category::Io => "read error",
        };
        err(format!("{what}: {e}"))
    })
}

/// Parses one line as an [`Ad`].
pub fn parse_ad(line: &Line) -> Result<Ad, LineError> {
    parse_line(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8], max: usize) -> Vec<Result<(u64, Vec<u8>), LineError>> {
        Lines::new(input, max)
            .map(|r| r.unwrap().map(|l| (l.number, l.bytes)))
            .collect()
    }

    #[test]
    fn numbers_lines_skips_blanks_strips_crlf() {
        let got = lines(b"a\r\n\n  \nb\nc", 100);
        assert_eq!(
            got,
            vec![
                Ok((1, b"a".to_vec())),
                Ok((4, b"b".to_vec())),
                Ok((5, b"c".to_vec()))
            ]
        );
    }

    #[test]
    fn overlong_line_is_an_error_and_the_next_line_survives() {
        let mut input = vec![b'x'; 5000];
        input.extend_from_slice(b"\nok\n");
        let reader = std::io::BufReader::with_capacity(64, &input[..]);
        let got: Vec<_> = Lines::new(reader, 100)
            .map(|r| r.unwrap().map(|l| l.bytes))
            .collect();
        assert_eq!(got.len(), 2);
        let e = got[0].as_ref().unwrap_err();
        assert_eq!(e.line, 1);
        assert!(e.reason.contains("5000 bytes"), "{}", e.reason);
        assert_eq!(got[1].as_ref().unwrap(), b"ok");
    }

    #[test]
    fn parse_errors_name_line_and_reason() {
        let case = |bytes: &[u8]| {
            parse_ad(&Line {
                number: 7,
                bytes: bytes.to_vec(),
            })
            .unwrap_err()
        };
        let e = case(b"{\"id\":\"a\",\"body\":\"\xff\"}");
        assert_eq!(e.line, 7);
        assert!(
            e.reason.contains("invalid UTF-8 at byte 18"),
            "{}",
            e.reason
        );
        assert!(case(b"{\"id\":").reason.starts_with("malformed JSON"));
        assert!(case(b"{\"id\":\"a\",").reason.starts_with("malformed JSON"));
        assert!(case(b"[1,2]").reason.starts_with("not a valid record"));
        assert!(
            case(b"{\"body\":\"x\"}")
                .reason
                .contains("missing field `id`")
        );
        assert!(
            case(b"{\"id\":\"a\",\"title\":3}")
                .reason
                .contains("invalid type")
        );
        assert!(
            case(b"{\"id\":\"a\",\"colour\":3}")
                .reason
                .contains("unknown field `colour`")
        );
        assert!(
            parse_ad(&Line {
                number: 1,
                bytes: br#"{"id":"a"}"#.to_vec()
            })
            .is_ok()
        );
    }
}
