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

/// Options for the images attached to ads: where hash banks live, and which images may be
/// taken in from outside the ad itself.
///
/// Offline by default: an analyst's scan must not reveal their address to the hosts an ad's
/// `{url}` images point at, nor read local files an ad names by `{path}`. Inline `{base64}`
/// images and `{sha256, pdq}` hashes are always taken in; a `{url}` or `{path}` image that is not
/// allowed gets an error entry in the analysis's `images` (never silently dropped).
#[derive(Args, Clone)]
pub struct MediaArgs {
    /// Data directory holding hash banks (`<data-dir>/banks/<name>.pdq`); a missing directory
    /// means no banks.
    #[arg(long, default_value = "./samaritan-data", env = "SAMARITAN_DATA_DIR")]
    pub data_dir: PathBuf,
    /// Do not take in images at all (text only; `images` in the output stays empty).
    #[arg(long)]
    pub no_images: bool,
    /// Fetch `{url}` images (off by default: fetching tells the image's host that someone is
    /// looking). Fetches refuse loopback, private, link-local and other non-public addresses.
    #[arg(long)]
    pub fetch_images: bool,
    /// With `--fetch-images`, also allow non-public addresses (tests, closed networks only: a
    /// URL in an ad must not reach the platform's internal network).
    #[arg(long, requires = "fetch_images")]
    pub allow_private_fetch: bool,
    /// Read `{path}` images, but only those whose real path (symbolic links and `..` resolved)
    /// lies inside DIR; repeat for several directories. Without it no `{path}` image is read.
    #[arg(long, value_name = "DIR")]
    pub allow_paths: Vec<PathBuf>,
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
        Ok(Media {
            enabled: !self.no_images,
            intake: self.intake()?,
            banks,
            options: samaritan_engine::pdq::MatchOptions::default(),
        })
    }

    /// The intake these options allow. Every `--allow-paths` directory must exist.
    pub fn intake(&self) -> Result<samaritan_media::IntakeConfig> {
        let mut intake = samaritan_media::IntakeConfig::default();
        intake.fetch.enabled = self.fetch_images;
        intake.fetch.allow_private = self.allow_private_fetch;
        intake.allow_paths = !self.allow_paths.is_empty();
        intake.root = None;
        intake.allowed_dirs = self
            .allow_paths
            .iter()
            .map(|d| {
                let canonical = d
                    .canonicalize()
                    .with_context(|| format!("--allow-paths {}", d.display()))?;
                anyhow::ensure!(
                    canonical.is_dir(),
                    "--allow-paths {}: not a directory",
                    d.display()
                );
                Ok(canonical)
            })
            .collect::<Result<_>>()?;
        Ok(intake)
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
