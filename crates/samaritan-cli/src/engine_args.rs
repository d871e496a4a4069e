//! Options every command that analyses ads shares: which policy, which default region.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Args;
use samaritan_engine::Engine;
use samaritan_engine::extract::ExtractOptions;
use samaritan_engine::policy::{DEFAULT_POLICY, Policy};

#[derive(Args, Clone)]
pub struct EngineArgs {
    /// Policy file (TOML); the built-in default policy when absent.
    #[arg(long, env = "SAMARITAN_POLICY")]
    pub policy: Option<PathBuf>,
    /// Region for phone numbers written in national format (ISO 3166 alpha-2).
    #[arg(long, default_value = "US", env = "SAMARITAN_REGION")]
    pub region: String,
}

impl EngineArgs {
    pub fn policy(&self) -> Result<Arc<Policy>> {
        load_policy(self.policy.as_deref())
    }

    pub fn engine(&self) -> Result<Engine> {
        let extract = ExtractOptions::with_region(&self.region)?;
        Ok(Engine::new(self.policy()?, extract))
    }
}

/// Loads and compiles a policy file, or the built-in default for `None`.
pub fn load_policy(path: Option<&std::path::Path>) -> Result<Arc<Policy>> {
    let (text, name) = match path {
        Some(p) => (
            std::fs::read_to_string(p)
                .with_context(|| format!("cannot read policy {}", p.display()))?,
            p.display().to_string(),
        ),
        None => (
            DEFAULT_POLICY.to_owned(),
            "the built-in default policy".to_owned(),
        ),
    };
    let policy = Policy::from_toml(&text).with_context(|| format!("in {name}"))?;
    Ok(Arc::new(policy))
}
