//! `samaritan parked`: the stream messages the linker parked (issue 24), one JSON line each,
//! oldest first: stream, sequence, subject, message id, error, attempts, when, the payload's
//! SHA-256 (`--payload` adds the payload itself, which holds ad text).

use std::io::Write;

use anyhow::Result;
use clap::Args;

use super::store_args::{StoreArgs, runtime};

#[derive(Args)]
pub struct ParkedArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// Only those with an id above this.
    #[arg(long, default_value_t = 0)]
    pub after: i64,
    /// At most this many.
    #[arg(long, default_value_t = 1000)]
    pub limit: i64,
    /// Include each message's payload (the ad as it was on the stream: ad text).
    #[arg(long)]
    pub payload: bool,
}

pub fn run(args: ParkedArgs) -> Result<std::process::ExitCode> {
    runtime()?.block_on(async move {
        let store = args.store.open().await?;
        let parked = store
            .parked_messages(args.after, args.limit.clamp(1, 100_000))
            .await?;
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        for m in &parked {
            let mut line = serde_json::to_value(m)?;
            if args.payload
                && let Some(obj) = line.as_object_mut()
            {
                obj.insert(
                    "payload".to_owned(),
                    serde_json::Value::String(String::from_utf8_lossy(&m.payload).into_owned()),
                );
            }
            writeln!(out, "{line}")?;
        }
        out.flush()?;
        eprintln!("{} parked messages", parked.len());
        store.close().await;
        Ok(std::process::ExitCode::SUCCESS)
    })
}
