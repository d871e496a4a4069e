//! `samaritan ncmec mock`: a local stand-in for NCMEC's Reporting API, for integrators trying
//! the filing flow without credentials (see `samaritan_server::cybertip::mock`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use samaritan_server::cybertip::{client::Credentials, mock::Mock};

use super::store_args::runtime;

#[derive(Args, Debug)]
pub struct NcmecArgs {
    #[command(subcommand)]
    pub action: NcmecAction,
}

#[derive(Subcommand, Debug)]
pub enum NcmecAction {
    /// Serve the mock; prints `{"listening": URL}` on stdout once it listens.
    Mock {
        #[arg(long, default_value = "127.0.0.1:8077")]
        listen: SocketAddr,
        /// A file with the `user:password` the mock accepts.
        #[arg(long, value_name = "FILE")]
        credentials: PathBuf,
    },
}

pub fn run(args: NcmecArgs) -> Result<ExitCode> {
    match args.action {
        NcmecAction::Mock {
            listen,
            credentials,
        } => {
            let text = std::fs::read_to_string(&credentials)
                .with_context(|| format!("cannot read {}", credentials.display()))?;
            let creds = Credentials::parse(&text)
                .map_err(|e| anyhow::anyhow!("in {}: {e}", credentials.display()))?;
            runtime()?.block_on(async move {
                let mock = Mock::new(&creds.user, &creds.password);
                let listener = tokio::net::TcpListener::bind(listen)
                    .await
                    .with_context(|| format!("cannot listen on {listen}"))?;
                let addr = listener.local_addr()?;
                println!(
                    "{}",
                    serde_json::json!({"listening": format!("http://{addr}")})
                );
                eprintln!("mock CyberTipline at http://{addr} (not NCMEC: nothing is reported)");
                axum::serve(listener, mock.router())
                    .with_graceful_shutdown(async {
                        let _ = tokio::signal::ctrl_c().await;
                    })
                    .await?;
                Ok(ExitCode::SUCCESS)
            })
        }
    }
}
