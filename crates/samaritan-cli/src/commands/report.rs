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
        /// `draft` or `approved`; all when absent.
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
                    && !matches!(s, "draft" | "approved")
                {
                    bail!("unknown state `{s}`; states are draft and approved");
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
            ReportAction::Approve { id, by, store } => {
                samaritan_store::users::check_name(&by)?;
                let s = store.open().await?;
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
