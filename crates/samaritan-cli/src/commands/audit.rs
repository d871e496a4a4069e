//! `samaritan audit verify`: recompute the audit chain from the database, check the decisions
//! against it, and say whether both are intact. Exit code 0 when intact, 1 when an entry or a
//! decision row was altered, deleted, inserted or reordered (or the chain no longer holds the
//! `--expect-head` entry). `samaritan audit head` prints the newest entry's `seq` and hash, for
//! operators to keep outside the database. With `--check-blobs`, every object of preserved
//! evidence is also read back from blob storage and checked (there, its size, its SHA-256, and
//! the object the chain recorded for it); any finding is exit code 1.

use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::{Args, Subcommand};

use super::store_args::{StoreArgs, runtime};

#[derive(Args, Debug)]
pub struct AuditArgs {
    #[command(subcommand)]
    pub action: AuditAction,
}

#[derive(Subcommand, Debug)]
pub enum AuditAction {
    /// Verify the whole chain; the report is JSON on stdout.
    Verify {
        #[command(flatten)]
        store: StoreArgs,
        /// `SEQ:HASH` recorded earlier: also fail if the chain no longer contains that entry
        /// with that hash (catches a cut or rewritten tail).
        #[arg(long)]
        expect_head: Option<String>,
        /// Also read back every object of preserved evidence from blob storage and check it
        /// (reads them all: as long as copying them).
        #[arg(long)]
        check_blobs: bool,
        #[command(flatten)]
        blobs: super::blob_args::BlobArgs,
    },
    /// Print the newest entry as `{"seq": …, "hash": "…"}` (keep it elsewhere; pass it to
    /// `verify --expect-head SEQ:HASH` later to detect a cut or rewritten tail).
    Head {
        #[command(flatten)]
        store: StoreArgs,
    },
}

pub fn run(args: AuditArgs) -> Result<ExitCode> {
    let (store, expect_head, check_blobs, blobs) = match args.action {
        AuditAction::Verify {
            store,
            expect_head,
            check_blobs,
            blobs,
        } => (store, expect_head, check_blobs, blobs),
        AuditAction::Head { store } => {
            return runtime()?.block_on(async {
                let s = store.open().await?;
                let (seq, hash) = s.audit_head().await?;
                s.close().await;
                println!("{}", serde_json::json!({"seq": seq, "hash": hash}));
                eprintln!("audit head {seq}:{hash}");
                Ok(ExitCode::SUCCESS)
            });
        }
    };
    let expected = match expect_head.as_deref() {
        None => None,
        Some(s) => {
            let Some((seq, hash)) = s.split_once(':') else {
                bail!("--expect-head takes SEQ:HASH, e.g. 42:9f86d0…");
            };
            let seq: i64 = seq
                .parse()
                .map_err(|_| anyhow::anyhow!("--expect-head: `{seq}` is not a number"))?;
            Some((seq, hash.to_ascii_lowercase()))
        }
    };
    runtime()?.block_on(async {
        let s = store.open().await?;
        let report = s.audit_verify().await?;
        let mut ok = report.ok();
        let mut anchor = serde_json::Value::Null;
        if let Some((seq, hash)) = &expected {
            let found = s.audit_list(seq - 1, 1).await?;
            let matches = found
                .first()
                .is_some_and(|e| e.seq == *seq && &e.hash == hash);
            anchor = serde_json::json!({"seq": seq, "hash": hash, "matches": matches});
            ok &= matches;
        }
        let objects = if check_blobs {
            let blobs = blobs.open(&store.data_dir)?;
            let found = samaritan_server::shelf::verify_objects(&s, &blobs).await;
            let found = match found {
                Ok(f) => f,
                Err(e) => {
                    s.close().await;
                    return Err(e.into());
                }
            };
            ok &= found.ok();
            Some(found)
        } else {
            None
        };
        s.close().await;
        let mut out = serde_json::to_value(&report)?;
        out["ok"] = serde_json::Value::Bool(ok);
        out["expected_head"] = anchor;
        if let Some(o) = &objects {
            out["blobs"] = serde_json::to_value(o)?;
        }
        println!("{out}");
        if ok {
            eprintln!(
                "audit chain intact: {} entries, {} decisions, {} keys, {} policies, {} users \
                 checked; head {}:{}",
                report.entries,
                report.decisions,
                report.keys,
                report.policies,
                report.users,
                report.head_seq,
                report.head_hash
            );
            Ok(ExitCode::SUCCESS)
        } else {
            eprintln!("AUDIT CHAIN BROKEN:");
            for p in &report.problems {
                eprintln!("  entry {}: {}", p.seq, p.message);
            }
            if let Some(o) = &objects {
                for m in &o.missing {
                    eprintln!("  preserved evidence object {m}: missing from blob storage");
                }
                for d in &o.damaged {
                    eprintln!("  preserved evidence object {d}");
                }
                for u in &o.unaudited {
                    eprintln!("  preserved blob {u}: not the object the audit chain recorded");
                }
            }
            if let Some((seq, _)) = expected {
                eprintln!(
                    "  expected head {seq} matches: {}",
                    out["expected_head"]["matches"]
                );
            }
            Ok(ExitCode::from(1))
        }
    })
}
