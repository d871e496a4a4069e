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

/// Options for the images attached to ads: where hash banks live, and whether to fetch URLs.
#[derive(Args, Clone)]
pub struct MediaArgs {
    /// Data directory holding hash banks (`<data-dir>/banks/<name>.pdq`); a missing directory
    /// means no banks.
    #[arg(long, default_value = "./samaritan-data", env = "SAMARITAN_DATA_DIR")]
    pub data_dir: PathBuf,
    /// Do not take in images at all (text only; `images` in the output stays empty).
    #[arg(long)]
    pub no_images: bool,
    /// Do not fetch `{url}` images (they get an error entry instead of hashes).
    #[arg(long)]
    pub no_fetch: bool,
    /// Allow fetching from loopback, private and link-local addresses (off by default: a
    /// URL in an ad must not reach the platform's internal network).
    #[arg(long)]
    pub allow_private_fetch: bool,
}

/// Everything needed to take in an ad's images, loaded once and shared by every worker.
pub struct Media {
    pub enabled: bool,
    pub intake: samaritan_media::IntakeConfig,
    pub banks: samaritan_engine::pdq::BankSet,
    pub options: samaritan_engine::pdq::MatchOptions,
}

impl MediaArgs {
    pub fn load(&self) -> Result<Media> {
        let banks = samaritan_media::BankDir::new(&self.data_dir)
            .load_all()
            .with_context(|| format!("loading hash banks from {}", self.data_dir.display()))?;
        let mut intake = samaritan_media::IntakeConfig::default();
        intake.fetch.enabled = !self.no_fetch;
        intake.fetch.allow_private = self.allow_private_fetch;
        Ok(Media {
            enabled: !self.no_images,
            intake,
            banks,
            options: samaritan_engine::pdq::MatchOptions::default(),
        })
    }
}

impl Media {
    /// The image part of an ad's analysis context.
    pub fn context(
        &self,
        ad: &samaritan_engine::Ad,
    ) -> samaritan_engine::pipeline::Context<'static> {
        if !self.enabled || ad.images.is_empty() {
            return samaritan_engine::pipeline::Context::default();
        }
        let (images, bank_matches) =
            samaritan_media::image_context(&ad.images, &self.intake, &self.banks, &self.options);
        samaritan_engine::pipeline::Context {
            images,
            bank_matches,
            ..Default::default()
        }
    }
}
