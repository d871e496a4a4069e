//! `samaritan hash FILE…`: PDQ, quality and file hashes of image files, one JSON line each.
//!
//! A file that cannot be read or decoded gets a JSON line with its `error` (and the exit code
//! becomes 1); the other files go on.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use samaritan_media::{DecodeLimits, hash_bytes};
use serde_json::{Map, Value, json};

#[derive(Args)]
pub struct HashArgs {
    /// Image files (JPEG, PNG, WebP, GIF).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Also print the hashes of the 8 rotations and mirror images.
    #[arg(long)]
    dihedral: bool,
    /// Largest file accepted, in bytes.
    #[arg(long, default_value_t = DecodeLimits::default().max_bytes)]
    max_bytes: u64,
    /// Largest image accepted, in pixels (width x height).
    #[arg(long, default_value_t = DecodeLimits::default().max_pixels)]
    max_pixels: u64,
}

pub fn run(args: HashArgs) -> anyhow::Result<ExitCode> {
    let limits = DecodeLimits {
        max_bytes: args.max_bytes,
        max_pixels: args.max_pixels,
        ..DecodeLimits::default()
    };
    let mut failed = 0usize;
    let mut out = std::io::stdout().lock();
    for path in &args.files {
        let line = match hash_file(path, &limits, args.dihedral) {
            Ok(v) => v,
            Err((code, e)) => {
                failed += 1;
                json!({"path": path.display().to_string(), "error": e, "code": code})
            }
        };
        super::hash::write_json_line(&mut out, &line)?;
    }
    if failed > 0 {
        eprintln!("{failed} of {} files could not be hashed", args.files.len());
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

fn hash_file(
    path: &PathBuf,
    limits: &DecodeLimits,
    dihedral: bool,
) -> Result<Value, (&'static str, String)> {
    let meta = std::fs::metadata(path).map_err(|e| ("read", e.to_string()))?;
    if meta.len() > limits.max_bytes {
        return Err((
            "too_many_bytes",
            format!(
                "file is {} bytes; the limit is {}",
                meta.len(),
                limits.max_bytes
            ),
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| ("read", e.to_string()))?;
    let facts = hash_bytes(&bytes, limits).map_err(|e| (e.code(), e.to_string()))?;
    let mut obj = Map::new();
    obj.insert("path".into(), json!(path.display().to_string()));
    obj.insert("pdq".into(), json!(facts.pdq.map(|h| h.to_hex())));
    obj.insert("quality".into(), json!(facts.quality));
    obj.insert("md5".into(), json!(facts.md5));
    obj.insert("sha256".into(), json!(facts.sha256));
    obj.insert("width".into(), json!(facts.width));
    obj.insert("height".into(), json!(facts.height));
    obj.insert("format".into(), json!(facts.format));
    if dihedral && let Some(out) = &facts.pdq_output {
        let d: Map<String, Value> = out
            .dihedral_hashes()
            .iter()
            .map(|(v, h)| (v.name().to_owned(), json!(h.to_hex())))
            .collect();
        obj.insert("dihedral".into(), Value::Object(d));
    }
    Ok(Value::Object(obj))
}

/// Writes one JSON value and a newline.
pub(crate) fn write_json_line(out: &mut impl std::io::Write, v: &Value) -> anyhow::Result<()> {
    serde_json::to_writer(&mut *out, v)?;
    out.write_all(b"\n")?;
    Ok(())
}
