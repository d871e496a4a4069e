//! `samaritan ingest --stream nats://… FILE`: puts the ads of a JSON Lines file on the ads stream,
//! as `serve --stream` does with `POST /v1/ads`.
//!
//! Every line is read with its number: a line that is not a valid ad, or is over a limit, is
//! reported (`{"line": N, "error": …}` on stdout, and on stderr) and not published; every other
//! ad is published in file order and reported with its stream sequence once JetStream
//! acknowledged it. Exit code 0: every ad is on the stream; 2: some lines were refused (the
//! others are on the stream); 1: the stream failed (the ads not reported may not be on it;
//! running the same file again is safe: repeats are deduplicated, and the store answers the
//! same content as unchanged).
//!
//! `--rate N` paces the publishing at N ads a second on average (small batches on a timer), a
//! steady load for measuring how far the workers fall behind (`scripts/bench/stream-lag.sh`).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use samaritan_engine::model::AdLimits;
use samaritan_server::stream::Publisher;

use super::store_args::runtime;
use super::stream_args::StreamArgs;
use crate::input::{DEFAULT_MAX_LINE, Lines, parse_ad};

#[derive(Args)]
pub struct IngestArgs {
    /// JSON Lines of ads (`-` for stdin).
    pub file: PathBuf,
    /// NATS URL of the stream (`nats://host:port`).
    #[arg(long, env = "SAMARITAN_STREAM", value_name = "URL")]
    pub stream: String,
    #[command(flatten)]
    pub target: StreamArgs,
    /// The subject token of these ads (`<prefix>.<source>`).
    #[arg(long, default_value = "file")]
    pub source: String,
    /// Ads published before their acknowledgements are awaited.
    #[arg(long, default_value_t = 256)]
    pub batch: usize,
    /// Longest line accepted, in bytes.
    #[arg(long, default_value_t = DEFAULT_MAX_LINE)]
    pub max_line_bytes: usize,
    /// Publish at this many ads a second on average (in small batches on a timer, at most
    /// `--batch` each) instead of as fast as JetStream acknowledges: a steady load.
    #[arg(long, value_name = "ADS_PER_SEC", value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub rate: Option<u32>,
}

/// The pace of `--rate`: batches of `rate / 100` ads (at least 1, at most `batch`), one every
/// `size / rate` seconds, so about a hundred batches a second at any rate above 100 ads/s.
pub(crate) fn pacing(rate: u32, batch: usize) -> (usize, std::time::Duration) {
    let rate = rate.max(1);
    let size = (rate as usize / 100).clamp(1, batch.max(1));
    let period = std::time::Duration::from_secs_f64(size as f64 / f64::from(rate));
    (size, period)
}

pub fn run(args: IngestArgs) -> Result<ExitCode> {
    runtime()?.block_on(ingest(args))
}

struct Pending {
    line: u64,
    id: String,
    digest: String,
    raw: String,
}

async fn ingest(args: IngestArgs) -> Result<ExitCode> {
    let spec = args.target.spec()?;
    let publisher = Publisher::connect(&args.stream, spec, &args.source)
        .await
        .context("opening the ads stream")?;
    let input = super::open_input(&args.file)?;
    let limits = AdLimits::default();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let (mut published, mut duplicates, mut refused) = (0u64, 0u64, 0u64);
    let mut pending: Vec<Pending> = Vec::new();
    // `--rate`: a batch on each tick; ticks missed while publishing come at once after, so
    // the average holds.
    let (batch, mut ticks) = match args.rate {
        Some(rate) => {
            let (size, period) = pacing(rate, args.batch);
            (size, Some(tokio::time::interval(period)))
        }
        None => (args.batch.max(1), None),
    };
    for line in Lines::new(input, args.max_line_bytes) {
        let line = line.with_context(|| format!("reading {}", args.file.display()))?;
        let checked = line.and_then(|l| {
            let ad = parse_ad(&l)?;
            ad.check_limits(&limits)
                .map_err(|e| crate::input::LineError {
                    line: l.number,
                    reason: format!("`{}`: {} ({})", e.field, e.message, e.code),
                })?;
            // The ad's JSON exactly as the line holds it (checked UTF-8 by parse_ad).
            let raw = String::from_utf8_lossy(&l.bytes).into_owned();
            Ok(Pending {
                line: l.number,
                digest: samaritan_store::ad_digest(&ad),
                id: ad.id,
                raw,
            })
        });
        match checked {
            Ok(p) => pending.push(p),
            Err(e) => {
                refused += 1;
                eprintln!("samaritan ingest: {e}");
                writeln!(
                    out,
                    "{}",
                    serde_json::json!({"line": e.line, "error": e.reason})
                )?;
            }
        }
        if pending.len() >= batch {
            if let Some(t) = ticks.as_mut() {
                t.tick().await;
            }
            let (p, d) = flush(&publisher, &mut pending, &mut out).await?;
            published += p;
            duplicates += d;
        }
    }
    if let (Some(t), false) = (ticks.as_mut(), pending.is_empty()) {
        t.tick().await;
    }
    let (p, d) = flush(&publisher, &mut pending, &mut out).await?;
    published += p;
    duplicates += d;
    out.flush()?;
    eprintln!(
        "samaritan ingest: {published} ads on stream {} ({duplicates} already there), {refused} lines refused",
        publisher.stream()
    );
    Ok(if refused > 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

/// Publishes what is pending, in order, and reports each ad with its sequence.
async fn flush(
    publisher: &Publisher,
    pending: &mut Vec<Pending>,
    out: &mut impl Write,
) -> Result<(u64, u64)> {
    if pending.is_empty() {
        return Ok((0, 0));
    }
    let ads: Vec<(&str, &str, &str)> = pending
        .iter()
        .map(|p| (p.id.as_str(), p.digest.as_str(), p.raw.as_str()))
        .collect();
    let first = pending.first().map_or(0, |p| p.line);
    let accepted = publisher
        .publish(&ads)
        .await
        .with_context(|| format!("publishing the ads from line {first} on"))?;
    let mut duplicates = 0;
    for (p, a) in pending.iter().zip(&accepted) {
        duplicates += u64::from(a.duplicate);
        writeln!(
            out,
            "{}",
            serde_json::json!({"line": p.line, "id": a.id, "seq": a.seq, "duplicate": a.duplicate})
        )?;
    }
    let n = accepted.len() as u64;
    pending.clear();
    Ok((n, duplicates))
}

#[cfg(test)]
mod tests {
    use super::pacing;
    use std::time::Duration;

    #[test]
    fn a_rate_is_paced_in_batches_a_hundredth_of_a_second_apart() {
        assert_eq!(pacing(5000, 256), (50, Duration::from_millis(10)));
        assert_eq!(pacing(1500, 256), (15, Duration::from_millis(10)));
        // Below 100 ads/s: one ad at a time.
        assert_eq!(pacing(40, 256), (1, Duration::from_millis(25)));
        // Never more than --batch at once: then more often than every 10 ms.
        assert_eq!(pacing(100_000, 256), (256, Duration::from_micros(2560)));
        // Uneven rates keep their average: 12 ads every 9.72 ms is 1 234.6 ads/s.
        let (size, period) = pacing(1234, 256);
        let rate = size as f64 / period.as_secs_f64();
        assert!((rate - 1234.0).abs() < 1.0, "{size} per {period:?}");
    }
}
