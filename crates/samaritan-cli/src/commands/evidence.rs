//! `samaritan evidence`: signing keys and evidence bundles for investigators (issue 22). A
//! bundle is one report case with everything it rests on, its files listed with their SHA-256
//! in a manifest signed with Ed25519; `verify` names every changed, added or missing file.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use samaritan_server::evidence;

use super::store_args::{StoreArgs, runtime};

#[derive(Args, Debug)]
pub struct EvidenceArgs {
    #[command(subcommand)]
    pub action: EvidenceAction,
}

#[derive(Subcommand, Debug)]
pub enum EvidenceAction {
    /// Make a signing key: FILE holds the secret (mode 0600), FILE.pub the public key to give
    /// to whoever verifies bundles.
    Keygen {
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Write report case CASE as a signed bundle (zip); audited as `evidence.export`.
    Export {
        /// The report case number.
        case: i64,
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// The signing key file (from `evidence keygen`); never the key itself on the command
        /// line.
        #[arg(long, env = "SAMARITAN_EVIDENCE_KEY_FILE", value_name = "FILE")]
        key: PathBuf,
        /// Where the kept images and preserved evidence are.
        #[command(flatten)]
        blobs: super::blob_args::BlobArgs,
        #[command(flatten)]
        vault: super::vault_args::VaultArgs,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Check a bundle against the exporter's public key; prints a JSON report, exits 1 when
    /// anything does not match.
    Verify {
        bundle: PathBuf,
        #[arg(long, value_name = "FILE")]
        public_key: PathBuf,
    },
}

fn read_key(path: &PathBuf) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read the key {}", path.display()))
}

pub fn run(args: EvidenceArgs) -> Result<ExitCode> {
    match args.action {
        EvidenceAction::Keygen { out } => {
            if out.exists() {
                bail!(
                    "{} exists; choose another file (keys are never overwritten)",
                    out.display()
                );
            }
            let pair = evidence::keygen()?;
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                opts.mode(0o600);
            }
            let mut f = opts
                .open(&out)
                .with_context(|| format!("cannot create {}", out.display()))?;
            writeln!(f, "{}", pair.secret_hex)?;
            let public = PathBuf::from(format!("{}.pub", out.display()));
            std::fs::write(&public, format!("{}\n", pair.public_hex))
                .with_context(|| format!("cannot write {}", public.display()))?;
            println!(
                "{}",
                serde_json::json!({"key": out, "public_key": public, "public": pair.public_hex})
            );
            eprintln!(
                "signing key in {} (keep it secret); public key in {}",
                out.display(),
                public.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        EvidenceAction::Export {
            case,
            out,
            key,
            blobs,
            vault,
            store,
        } => {
            let signing = evidence::signing_key(&read_key(&key)?)
                .with_context(|| format!("in {}", key.display()))?;
            if out.exists() {
                bail!("{} exists; a bundle is never overwritten", out.display());
            }
            runtime()?.block_on(async {
                let s = store.open().await?;
                let blobs = blobs.open(&store.data_dir)?;
                // The keyring is needed only for a case whose evidence was preserved.
                let keyring = if s.preserved_files(case).await?.is_empty() {
                    None
                } else {
                    Some(vault.load(&store.data_dir, false)?)
                };
                let (bundle, head) =
                    evidence::collect(&s, Some(&blobs), keyring.as_ref(), case, "cli").await?;
                let file = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(&out)
                    .with_context(|| format!("cannot create {}", out.display()))?;
                let manifest = bundle.write(std::io::BufWriter::new(file), head, &signing)?;
                let manifest_json = serde_json::to_vec_pretty(&manifest)?;
                s.audit_append(
                    "cli",
                    "evidence.export",
                    &manifest.ad_id,
                    serde_json::json!({
                        "report": manifest.report,
                        "files": manifest.files.len(),
                        "manifest_sha256": samaritan_store::sha256_hex(&manifest_json),
                        "public_key": manifest.public_key,
                    }),
                )
                .await?;
                s.close().await;
                println!(
                    "{}",
                    serde_json::json!({"bundle": out, "report": manifest.report, "files": manifest.files.len()})
                );
                eprintln!(
                    "report {} exported to {} ({} files, signed)",
                    manifest.report,
                    out.display(),
                    manifest.files.len()
                );
                Ok(ExitCode::SUCCESS)
            })
        }
        EvidenceAction::Verify { bundle, public_key } => {
            let key = evidence::public_key(&read_key(&public_key)?)
                .with_context(|| format!("in {}", public_key.display()))?;
            let file = std::fs::File::open(&bundle)
                .with_context(|| format!("cannot open {}", bundle.display()))?;
            let report = evidence::verify(std::io::BufReader::new(file), &key)
                .with_context(|| format!("in {}", bundle.display()))?;
            println!("{}", serde_json::to_string(&report)?);
            if report.ok {
                eprintln!("bundle intact: {} files, signature valid", report.files);
                Ok(ExitCode::SUCCESS)
            } else {
                eprintln!(
                    "BUNDLE NOT INTACT: signature {}, {} changed, {} added, {} missing",
                    if report.signature_ok {
                        "valid"
                    } else {
                        "INVALID"
                    },
                    report.changed.len(),
                    report.added.len(),
                    report.missing.len()
                );
                Ok(ExitCode::from(1))
            }
        }
    }
}
