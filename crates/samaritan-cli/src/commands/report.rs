//! `samaritan report`: the report cases that `report` decisions opened (issue 22), listed and
//! shown as JSON, and approved by a second person. Reading a case is an evidence read and
//! approving it a change: both are in the audit log under `cli`.

use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::{Args, Subcommand};
use samaritan_store::now_ms;

use super::store_args::{StoreArgs, runtime};

#[derive(Args, Debug)]
pub struct ReportArgs {
    #[command(subcommand)]
    pub action: ReportAction,
}

#[derive(Subcommand, Debug)]
pub enum ReportAction {
    /// Cases, newest first, one JSON line each (with their drafts).
    List {
        /// `draft`, `approved`, `submitting`, `submitted`, `uploaded`, `finished`, `failed`,
        /// `retracted`;
        /// all when absent.
        #[arg(long)]
        state: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: i64,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// One case as JSON.
    Show {
        id: i64,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// File an approved case with the CyberTipline (resuming where a stop left it): submit,
    /// upload and describe each kept image, then finish; each step recorded before the next.
    /// Exits 1 when it was not filed (also when another filer's step is still under its lease).
    Submit {
        id: i64,
        /// `test` (NCMEC's test service), `production`, or a base URL (a mock).
        #[arg(long, value_name = "test|production|URL")]
        cybertip: String,
        /// A file holding `user:password` for the Reporting API (never on the command line).
        #[arg(long, env = "SAMARITAN_CYBERTIP_CREDENTIALS_FILE", value_name = "FILE")]
        credentials: std::path::PathBuf,
        /// Who files (recorded as `user:NAME`).
        #[arg(long = "as", value_name = "NAME")]
        by: String,
        /// Seconds each call may take.
        #[arg(long, default_value_t = 60)]
        timeout_secs: u64,
        /// Where the kept images are, the files filed with the report (default: where `serve`
        /// keeps them, `blobs/` in the data directory).
        #[command(flatten)]
        blobs: super::blob_args::BlobArgs,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Approve a draft for filing, as the named lead (never the person who decided to report).
    Approve {
        id: i64,
        /// Who approves (recorded as `user:NAME`).
        #[arg(long = "as", value_name = "NAME")]
        by: String,
        #[command(flatten)]
        store: StoreArgs,
    },
}

pub fn run(args: ReportArgs) -> Result<ExitCode> {
    runtime()?.block_on(async {
        match args.action {
            ReportAction::List {
                state,
                limit,
                store,
            } => {
                if let Some(s) = state.as_deref()
                    && !samaritan_store::reports::REPORT_STATES.contains(&s)
                {
                    bail!(
                        "unknown state `{s}`; states are {}",
                        samaritan_store::reports::REPORT_STATES.join(", ")
                    );
                }
                if !(1..=10_000).contains(&limit) {
                    bail!("--limit is 1 to 10000");
                }
                let s = store.open().await?;
                let reports = s.reports(state.as_deref(), limit).await?;
                s.audit_append(
                    "cli",
                    "report.read",
                    "reports",
                    serde_json::json!({"reports": reports.iter().map(|r| r.id).collect::<Vec<_>>(), "via": "cli"}),
                )
                .await?;
                for r in &reports {
                    println!("{}", serde_json::to_string(r)?);
                }
                eprintln!("{} report cases", reports.len());
                s.close().await;
                Ok(ExitCode::SUCCESS)
            }
            ReportAction::Show { id, store } => {
                let s = store.open().await?;
                let Some(r) = s.report(id).await? else {
                    s.close().await;
                    bail!("no report {id}");
                };
                s.audit_append(
                    "cli",
                    "report.read",
                    &r.ad_id,
                    serde_json::json!({"reports": [r.id], "via": "cli"}),
                )
                .await?;
                println!("{}", serde_json::to_string_pretty(&r)?);
                s.close().await;
                Ok(ExitCode::SUCCESS)
            }
            ReportAction::Submit {
                id,
                cybertip,
                credentials,
                by,
                timeout_secs,
                blobs,
                store,
            } => {
                use samaritan_server::cybertip::client;
                samaritan_store::users::check_name(&by)?;
                let c = std::sync::Arc::new(
                    client::Client::configured(
                        &cybertip,
                        &credentials,
                        std::time::Duration::from_secs(timeout_secs.clamp(1, 600)),
                    )
                    .map_err(|e| anyhow::anyhow!(e))?,
                );
                let blobs = blobs.open(&store.data_dir)?;
                let s = store.open().await?;
                let outcome = samaritan_server::cybertip::filing::file(
                    &s,
                    c,
                    Some(&blobs),
                    id,
                    &format!("user:{by}"),
                )
                .await;
                let now = s.report(id).await?;
                s.close().await;
                if let Some(r) = &now {
                    println!("{}", serde_json::to_string(r)?);
                }
                match outcome {
                    Ok(r) => {
                        eprintln!(
                            "report {id} filed: CyberTipline report {}",
                            r.ncmec_report_id.as_deref().unwrap_or("?")
                        );
                        Ok(ExitCode::SUCCESS)
                    }
                    Err(e) => {
                        eprintln!("report {id} not filed: {e}");
                        Ok(ExitCode::from(1))
                    }
                }
            }
            ReportAction::Approve { id, by, store } => {
                samaritan_store::users::check_name(&by)?;
                let s = store.open().await?;
                // The approver is a person with an account who may approve: a lead or admin.
                match s.get_user(&by).await? {
                    Some(u)
                        if u.disabled_at.is_none()
                            && matches!(
                                u.role,
                                samaritan_store::Role::Lead | samaritan_store::Role::Admin
                            ) => {}
                    _ => {
                        s.close().await;
                        bail!("`{by}` is not an active lead or admin (samaritan users list)");
                    }
                }
                let r = s.report_approve(id, &format!("user:{by}"), now_ms()).await;
                s.close().await;
                let r = r?;
                eprintln!("report {} approved by {by}", r.id);
                println!("{}", serde_json::to_string(&r)?);
                Ok(ExitCode::SUCCESS)
            }
        }
    })
}
