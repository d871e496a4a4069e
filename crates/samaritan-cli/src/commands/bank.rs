//! `samaritan bank import|export|list|match|remove`: hash banks in the data directory.
//!
//! Banks are plain lists in `<data-dir>/banks/<name>.pdq`; import reads our lists, HMA /
//! ThreatExchange CSV and TSV exports, python-threatexchange local files and
//! `pdq-photo-hasher` output; export writes lines, CSV or pytx. `match` hashes images (or
//! takes hashes) and reports every bank entry within the distance, in all 8 orientations.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use samaritan_engine::pdq::bank_format::{self, ExportFormat};
use samaritan_engine::pdq::{MatchOptions, PdqHash};
use samaritan_media::{BankDir, DecodeLimits, hash_bytes};
use serde_json::json;

#[derive(Args)]
pub struct BankArgs {
    /// Where banks live (`<data-dir>/banks/<name>.pdq`).
    #[arg(
        long,
        global = true,
        default_value = "./samaritan-data",
        env = "SAMARITAN_DATA_DIR"
    )]
    data_dir: PathBuf,
    #[command(subcommand)]
    action: BankAction,
}

#[derive(Subcommand)]
enum BankAction {
    /// Add the hashes of a list file to a bank (created if new). `-` reads stdin.
    Import {
        /// Bank name: letters, digits, `_`, `-`, `.`.
        name: String,
        file: PathBuf,
        /// Replace the bank's entries instead of adding to them.
        #[arg(long)]
        replace: bool,
    },
    /// Print a bank in `lines` (ours), `csv` (HMA-style header) or `pytx` format.
    Export {
        name: String,
        #[arg(long, default_value = "lines")]
        format: ExportFormat,
    },
    /// One JSON line per bank: name, entries, file.
    List,
    /// Delete a bank.
    Remove { name: String },
    /// Match image files or 64-hex PDQ hashes against every bank.
    Match {
        #[arg(required = true)]
        inputs: Vec<String>,
        /// Largest Hamming distance that counts as a match.
        #[arg(long, default_value_t = MatchOptions::default().max_distance)]
        max_distance: u32,
        /// Hashes of lower quality, on either side, are not matched.
        #[arg(long, default_value_t = MatchOptions::default().min_quality)]
        min_quality: u8,
        /// Match only the image as it is, not its rotations and mirror images.
        #[arg(long)]
        no_dihedral: bool,
    },
}

pub fn run(args: BankArgs) -> anyhow::Result<ExitCode> {
    let dir = BankDir::new(&args.data_dir);
    let mut out = std::io::stdout().lock();
    match args.action {
        BankAction::Import {
            name,
            file,
            replace,
        } => {
            let text = if file.as_os_str() == "-" {
                std::io::read_to_string(std::io::stdin()).context("reading stdin")?
            } else {
                std::fs::read_to_string(&file)
                    .with_context(|| format!("reading {}", file.display()))?
            };
            let parsed = bank_format::parse(&text)
                .with_context(|| format!("{} is not a hash list", file.display()))?;
            let imported = parsed.entries.len();
            let bank = dir.import(&name, parsed.entries, replace)?;
            super::hash::write_json_line(
                &mut out,
                &json!({"bank": name, "imported": imported,
                        "skipped_other_types": parsed.skipped_other_types,
                        "entries": bank.entries.len(),
                        "file": dir.path_of(&name).display().to_string()}),
            )?;
            eprintln!(
                "bank {name}: {imported} hashes imported, {} entries now",
                bank.entries.len()
            );
        }
        BankAction::Export { name, format } => {
            let bank = dir.load(&name)?;
            use std::io::Write;
            out.write_all(bank_format::write(&bank.entries, format).as_bytes())?;
        }
        BankAction::List => {
            for name in dir.names()? {
                let bank = dir.load(&name)?;
                super::hash::write_json_line(
                    &mut out,
                    &json!({"bank": name, "entries": bank.entries.len(),
                            "file": dir.path_of(&name).display().to_string()}),
                )?;
            }
        }
        BankAction::Remove { name } => {
            dir.remove(&name)?;
            eprintln!("bank {name} removed");
        }
        BankAction::Match {
            inputs,
            max_distance,
            min_quality,
            no_dihedral,
        } => {
            let banks = dir.load_all()?;
            let opts = MatchOptions {
                max_distance,
                min_quality,
                dihedral: !no_dihedral,
            };
            let limits = DecodeLimits::default();
            let mut failed = 0usize;
            for input in &inputs {
                let line = if let Ok(hash) = PdqHash::from_hex(input) {
                    let m = banks.match_hash(&hash, None, &opts);
                    json!({"input": input, "pdq": hash, "matches": m})
                } else {
                    match std::fs::read(input)
                        .map_err(|e| e.to_string())
                        .and_then(|b| hash_bytes(&b, &limits).map_err(|e| e.to_string()))
                    {
                        Ok(facts) => {
                            let m = facts.match_banks(&banks, &opts);
                            json!({"input": input, "pdq": facts.pdq, "quality": facts.quality,
                                   "sha256": facts.sha256, "matches": m})
                        }
                        Err(e) => {
                            failed += 1;
                            json!({"input": input, "error": e})
                        }
                    }
                };
                super::hash::write_json_line(&mut out, &line)?;
            }
            if failed > 0 {
                return Ok(ExitCode::from(1));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
