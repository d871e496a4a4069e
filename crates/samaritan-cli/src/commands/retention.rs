//! `samaritan retention run`: removes ads the platform has not sent for longer than the
//! retention period — their revisions, analyses, identifiers and kept images — and the
//! preserved evidence of released holds (issue 22). A dry run by default: it lists what would
//! go and what stays (held, or still in review) and removes nothing; `--apply` removes it,
//! audited (`retention.purge`, `retention.evidence`). Held evidence is never removed: the
//! store checks again inside the purge and its triggers refuse it whatever the caller.

use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::{Args, Subcommand};
use samaritan_store::now_ms;

use super::store_args::{StoreArgs, runtime};

#[derive(Args, Debug)]
pub struct RetentionArgs {
    #[command(subcommand)]
    pub action: RetentionAction,
}

#[derive(Subcommand, Debug)]
pub enum RetentionAction {
    /// List (and with --apply remove) ads past the retention period; JSON Lines on stdout,
    /// one per ad: `{"ad_id", "updated_at", "action": "remove"|"keep", "why"}`.
    Run {
        /// Remove ads last sent more than this many days ago.
        #[arg(long, value_name = "DAYS")]
        older_than_days: u32,
        /// Remove them (without it: a dry run that changes nothing).
        #[arg(long)]
        apply: bool,
        /// At most this many ads per run (the oldest first; run again for more).
        #[arg(long, default_value_t = 10_000)]
        limit: i64,
        /// Where the kept images and preserved evidence are.
        #[command(flatten)]
        blobs: super::blob_args::BlobArgs,
        #[command(flatten)]
        store: StoreArgs,
    },
}

pub fn run(args: RetentionArgs) -> Result<ExitCode> {
    let RetentionAction::Run {
        older_than_days,
        apply,
        limit,
        blobs,
        store,
    } = args.action;
    if older_than_days == 0 {
        bail!("--older-than-days is at least 1");
    }
    if !(1..=1_000_000).contains(&limit) {
        bail!("--limit is 1 to 1000000");
    }
    runtime()?.block_on(async {
        let s = store.open().await?;
        let cutoff = now_ms().saturating_sub(i64::from(older_than_days) * 86_400_000);
        let result = async {
            let candidates = s.retention_candidates(cutoff, limit).await?;
            let mut remove: Vec<String> = Vec::new();
            let (mut held, mut in_review) = (0usize, 0usize);
            for c in &candidates {
                let why = if c.held {
                    held += 1;
                    Some("held")
                } else if c.in_review {
                    in_review += 1;
                    Some("in_review")
                } else {
                    remove.push(c.ad_id.clone());
                    None
                };
                println!(
                    "{}",
                    serde_json::json!({
                        "ad_id": c.ad_id,
                        "updated_at": samaritan_store::queue::rfc3339_ms(c.updated_at),
                        "action": if why.is_some() { "keep" } else { "remove" },
                        "why": why,
                    })
                );
            }
            if !apply {
                eprintln!(
                    "dry run: {} ads would be removed; {held} held and {in_review} in review stay. \
                     Nothing was changed; run again with --apply to remove them.",
                    remove.len()
                );
                return Ok::<_, anyhow::Error>(());
            }
            // Opened before anything is removed: a storage that cannot be configured stops the
            // run with the database untouched.
            let blobs = blobs.open(&store.data_dir)?;
            let mut purged = samaritan_store::Purged::default();
            for chunk in remove.chunks(500) {
                let p = s
                    .purge_ads(chunk, cutoff, "cli:retention", now_ms())
                    .await?;
                purged.ads.extend(p.ads);
                purged.revisions += p.revisions;
                purged.analyses += p.analyses;
                purged.images.extend(p.images);
            }
            // The files go once the rows that named them are gone (committed): a stop in
            // between leaves a file no row names, never a row whose file is gone.
            let mut files = 0usize;
            let mut failed = 0usize;
            for sha in &purged.images {
                let removed = match samaritan_media::BlobKey::image(sha) {
                    Ok(key) => blobs.remove(&key).await,
                    Err(e) => Err(e),
                };
                match removed {
                    Ok(true) => files += 1,
                    Ok(false) => {}
                    Err(e) => {
                        failed += 1;
                        eprintln!("warning: could not remove the image {sha}: {e}");
                    }
                }
            }
            let released = s.purge_released_evidence("cli:retention", now_ms()).await?;
            let mut objects = 0usize;
            for object in &released.objects {
                let removed = match samaritan_media::BlobKey::sealed(object) {
                    Ok(key) => blobs.remove(&key).await,
                    Err(e) => Err(e),
                };
                match removed {
                    Ok(true) => objects += 1,
                    Ok(false) => {}
                    Err(e) => {
                        failed += 1;
                        eprintln!("warning: could not remove the sealed evidence {object}: {e}");
                    }
                }
            }
            eprintln!(
                "removed {} ads ({} earlier revisions, {} analyses, {files} image files) and the \
                 evidence of released holds ({} files, {} blobs, {objects} objects in {}); \
                 {held} held and {in_review} in review stay",
                purged.ads.len(),
                purged.revisions,
                purged.analyses,
                released.files,
                released.blobs,
                blobs.describe(),
            );
            if failed > 0 {
                anyhow::bail!(
                    "{failed} files could not be removed from blob storage (named above); \
                     the database no longer names them"
                );
            }
            Ok(())
        }
        .await;
        s.close().await;
        result?;
        Ok(ExitCode::SUCCESS)
    })
}
