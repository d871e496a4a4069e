//! `samaritan holds`: the legal holds on report cases' preserved evidence (issue 22): list and
//! show them; extend one for a law-enforcement request; release one with a reason. Extending
//! and releasing are an admin's (`--as NAME`, an active admin account) and audited.

use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::{Args, Subcommand};
use samaritan_store::{Role, Store, now_ms};

use super::store_args::{StoreArgs, runtime};

#[derive(Args, Debug)]
pub struct HoldsArgs {
    #[command(subcommand)]
    pub action: HoldsAction,
}

#[derive(Subcommand, Debug)]
pub enum HoldsAction {
    /// Holds, newest first (JSON Lines).
    List {
        /// `held` or `released`.
        #[arg(long)]
        state: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: i64,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// One hold with its extensions.
    Show {
        id: i64,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Keep a hold's evidence until DATE for a law-enforcement request.
    Extend {
        id: i64,
        /// Until when: RFC 3339 (`2028-01-31T00:00:00Z`) or a date (`2028-01-31`, midnight UTC).
        #[arg(long, value_name = "DATE")]
        until: String,
        /// The request's number or docket.
        #[arg(long)]
        reference: String,
        /// The agency that asked.
        #[arg(long)]
        agency: String,
        /// The admin recording it (recorded as `user:NAME`).
        #[arg(long = "as", value_name = "NAME")]
        by: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// End a hold (a filed report's only after its date; never while an extension runs).
    Release {
        id: i64,
        /// Why; kept in the audit log.
        #[arg(long)]
        reason: String,
        /// The admin releasing it (recorded as `user:NAME`).
        #[arg(long = "as", value_name = "NAME")]
        by: String,
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// Milliseconds since the epoch of an RFC 3339 time or a date (midnight UTC).
fn parse_until(text: &str) -> Result<i64> {
    use time::format_description::well_known::Rfc3339;
    let t = text.trim();
    let at = match time::OffsetDateTime::parse(t, &Rfc3339) {
        Ok(at) => at,
        Err(_) => {
            time::OffsetDateTime::parse(&format!("{t}T00:00:00Z"), &Rfc3339).map_err(|_| {
                anyhow::anyhow!("--until `{text}` is not a date (2028-01-31) or RFC 3339 time")
            })?
        }
    };
    Ok(i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX))
}

async fn admin(s: &Store, by: &str) -> Result<String> {
    samaritan_store::users::check_name(by)?;
    match s.get_user(by).await? {
        Some(u) if u.disabled_at.is_none() && u.role == Role::Admin => Ok(format!("user:{by}")),
        _ => bail!("`{by}` is not an active admin (samaritan users list)"),
    }
}

pub fn run(args: HoldsArgs) -> Result<ExitCode> {
    runtime()?.block_on(async {
        match args.action {
            HoldsAction::List {
                state,
                limit,
                store,
            } => {
                if let Some(s) = state.as_deref()
                    && !samaritan_store::holds::HOLD_STATES.contains(&s)
                {
                    bail!("unknown state `{s}`; states are held, released");
                }
                if !(1..=10_000).contains(&limit) {
                    bail!("--limit is 1 to 10000");
                }
                let s = store.open().await?;
                let holds = s.holds(state.as_deref(), limit).await;
                s.close().await;
                let holds = holds?;
                for h in &holds {
                    println!("{}", serde_json::to_string(h)?);
                }
                eprintln!("{} holds", holds.len());
                Ok(ExitCode::SUCCESS)
            }
            HoldsAction::Show { id, store } => {
                let s = store.open().await?;
                let h = s.hold(id).await;
                s.close().await;
                let Some(h) = h? else {
                    bail!("no hold {id}");
                };
                println!("{}", serde_json::to_string_pretty(&h)?);
                Ok(ExitCode::SUCCESS)
            }
            HoldsAction::Extend {
                id,
                until,
                reference,
                agency,
                by,
                store,
            } => {
                let until_ms = parse_until(&until)?;
                let s = store.open().await?;
                let r = match admin(&s, &by).await {
                    Ok(actor) => {
                        s.hold_extend(id, until_ms, &reference, &agency, &actor, now_ms())
                            .await
                    }
                    Err(e) => {
                        s.close().await;
                        return Err(e);
                    }
                };
                s.close().await;
                let h = r?;
                eprintln!(
                    "hold {id} kept until {} for {agency}'s request {reference}",
                    samaritan_store::queue::rfc3339_ms(h.until_ms)
                );
                println!("{}", serde_json::to_string(&h)?);
                Ok(ExitCode::SUCCESS)
            }
            HoldsAction::Release {
                id,
                reason,
                by,
                store,
            } => {
                let s = store.open().await?;
                let r = match admin(&s, &by).await {
                    Ok(actor) => s.hold_release(id, &reason, &actor, now_ms()).await,
                    Err(e) => {
                        s.close().await;
                        return Err(e);
                    }
                };
                s.close().await;
                let h = r?;
                eprintln!(
                    "hold {id} released; `samaritan retention run` may now remove its evidence"
                );
                println!("{}", serde_json::to_string(&h)?);
                Ok(ExitCode::SUCCESS)
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn until_reads_dates_and_times() {
        assert_eq!(parse_until("1970-01-02").unwrap(), 86_400_000);
        assert_eq!(parse_until("1970-01-01T00:00:01Z").unwrap(), 1000);
        assert!(parse_until("next year").is_err());
    }
}
