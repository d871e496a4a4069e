//! The files of a report: which of the case's images go to NCMEC, and the `<fileDetails>`
//! that describes each one after its upload (elements in the Reporting API's order as the
//! public clients generated from its XSD show it: `reportId`, `fileId`, `fileName`,
//! `originalFileName`, `uploadedToEspTimestamp`, `locationOfFile`, `fileViewedByEsp`,
//! `exifViewedByEsp`, `publiclyAvailable`, `fileRelevance`, …, `originalFileHash*`, …,
//! `additionalInfo*`).
//!
//! An image is filed as `Reported`, with the hashes the service computed of the bytes the
//! platform sent (SHA-256, MD5 and PDQ, PDQ as a free-text hash type), the URL it was posted
//! at, and when the ad reached Samaritan. `fileViewedByEsp` is left out: whether a person at
//! the platform looked at the picture is the reviewer's to state, not the engine's.

use std::fmt::Write as _;

use serde_json::Value;

use super::xml::{TEXT_LIMIT, URL_LIMIT, text};

/// One image of a case to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileToSend {
    pub sha256: String,
    pub md5: Option<String>,
    pub pdq: Option<String>,
    /// Where the platform said the image was.
    pub url: Option<String>,
    /// When the ad reached Samaritan, RFC 3339.
    pub received_at: Option<String>,
}

impl FileToSend {
    /// The name it is uploaded under: its SHA-256 (no poster-chosen text).
    pub fn file_name(&self) -> String {
        format!("{}.bin", self.sha256)
    }
}

fn is_sha256(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The case's images with a SHA-256 (an image never taken in has none and cannot be sent),
/// each once, in the ad's order.
pub fn files_of(draft: &Value) -> Vec<FileToSend> {
    let received_at = draft
        .pointer("/evidence/received_at")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let mut out: Vec<FileToSend> = Vec::new();
    for image in draft
        .pointer("/evidence/images")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(sha) = image
            .get("sha256")
            .and_then(Value::as_str)
            .filter(|s| is_sha256(s))
        else {
            continue;
        };
        if out.iter().any(|f| f.sha256 == sha) {
            continue;
        }
        let field = |k: &str| image.get(k).and_then(Value::as_str).map(str::to_owned);
        out.push(FileToSend {
            sha256: sha.to_ascii_lowercase(),
            md5: field("md5"),
            pdq: field("pdq"),
            url: field("url"),
            received_at: received_at.clone(),
        });
    }
    out
}

/// The `<fileDetails>` of uploaded file `file_id` of report `report_id`.
pub fn file_details(report_id: &str, file_id: &str, f: &FileToSend) -> String {
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<fileDetails>\n");
    let el = |x: &mut String, name: &str, v: &str, max: usize| {
        let _ = writeln!(x, "  <{name}>{}</{name}>", text(v, max));
    };
    el(&mut x, "reportId", report_id, 64);
    el(&mut x, "fileId", file_id, 256);
    el(&mut x, "fileName", &f.file_name(), 256);
    if let Some(t) = &f.received_at {
        el(&mut x, "uploadedToEspTimestamp", t, 64);
    }
    if let Some(u) = &f.url {
        el(&mut x, "locationOfFile", u, URL_LIMIT);
    }
    el(&mut x, "publiclyAvailable", "true", 8);
    el(&mut x, "fileRelevance", "Reported", 64);
    for (kind, value) in [
        ("SHA256", Some(&f.sha256)),
        ("MD5", f.md5.as_ref()),
        ("PDQ", f.pdq.as_ref()),
    ] {
        if let Some(v) = value {
            let _ = writeln!(
                x,
                "  <originalFileHash hashType=\"{kind}\">{}</originalFileHash>",
                text(v, 256)
            );
        }
    }
    el(
        &mut x,
        "additionalInfo",
        "An image of the reported ad, as the platform's user posted it.",
        TEXT_LIMIT,
    );
    x.push_str("</fileDetails>\n");
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_images_taken_in_are_sent_once_each_and_described_in_order() {
        let sha = "ab".repeat(32);
        let draft = serde_json::json!({"evidence": {"received_at": "2026-01-02T03:04:05Z", "images": [
            {"index": 0, "sha256": sha, "md5": "00", "pdq": "ff", "url": "https://img.example.com/a?x=1&y=<2>"},
            {"index": 1, "sha256": null},
            {"index": 2, "sha256": sha},
            {"index": 3, "sha256": "../../etc/passwd"},
        ]}});
        let files = files_of(&draft);
        assert_eq!(files.len(), 1);
        let x = file_details("1001", "f1", &files[0]);
        let order: Vec<&str> = [
            "<reportId>",
            "<fileId>",
            "<fileName>",
            "<uploadedToEspTimestamp>",
            "<locationOfFile>",
            "<publiclyAvailable>",
            "<fileRelevance>",
            "hashType=\"SHA256\"",
            "hashType=\"MD5\"",
            "hashType=\"PDQ\"",
            "<additionalInfo>",
        ]
        .to_vec();
        let at: Vec<usize> = order.iter().map(|o| x.find(o).unwrap()).collect();
        assert!(at.windows(2).all(|w| w[0] < w[1]), "{x}");
        assert!(x.contains("a?x=1&amp;y=&lt;2&gt;"), "{x}");
        super::super::tree::parse(&x).unwrap();
    }
}
