//! Options every command that analyses ads shares: which policy, which default region.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Args;
use samaritan_engine::Engine;
use samaritan_engine::extract::ExtractOptions;
use samaritan_engine::policy::{DEFAULT_POLICY, Policy, load_tested};
use samaritan_media::{BankDir, ImageContext};

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
    pub fn extract(&self) -> Result<ExtractOptions> {
        Ok(ExtractOptions::with_region(&self.region)?)
    }

    pub fn engine(&self) -> Result<Engine> {
        let extract = self.extract()?;
        Ok(Engine::new(
            load_policy(self.policy.as_deref(), &extract)?,
            extract,
        ))
    }
}

/// Loads a policy file, or the built-in default for `None`, and runs its own `[[test]]`
/// examples: a policy whose examples fail is refused with the same message as the service's
/// (`samaritan_engine::policy::load_tested`).
pub fn load_policy(
    path: Option<&std::path::Path>,
    extract: &ExtractOptions,
) -> Result<Arc<Policy>> {
    let (text, name) = policy_text(path)?;
    load_tested(&text, extract).map_err(|e| anyhow::anyhow!("policy from {name} refused: {e}"))
}

/// Compiles a policy file without running its tests: for `samaritan policy test`, which runs
/// them to report each one, and `policy phrases`, which only lists.
pub fn compile_policy(path: Option<&std::path::Path>) -> Result<Arc<Policy>> {
    let (text, name) = policy_text(path)?;
    let policy = Policy::from_toml(&text).with_context(|| format!("in {name}"))?;
    Ok(Arc::new(policy))
}

/// A policy file's text and how to name it, or the built-in default's for `None`.
pub fn policy_text(path: Option<&std::path::Path>) -> Result<(String, String)> {
    Ok(match path {
        Some(p) => (
            std::fs::read_to_string(p)
                .with_context(|| format!("cannot read policy {}", p.display()))?,
            p.display().to_string(),
        ),
        None => (
            DEFAULT_POLICY.to_owned(),
            "the built-in default policy".to_owned(),
        ),
    })
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
    /// Data directory holding hash banks (`<data-dir>/banks/<name>.pdq` PDQ banks,
    /// `<name>.md5` / `<name>.sha256` exact lists); a missing directory means no banks.
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

impl MediaArgs {
    /// The image context these options give (the data directory's PDQ banks and MD5 / SHA-256
    /// lists), or `None` with `--no-images`.
    pub fn load(&self) -> Result<Option<ImageContext>> {
        if self.no_images {
            return Ok(None);
        }
        let mut ctx = ImageContext::new(self.intake()?);
        ctx.add_bank_dir(&BankDir::new(&self.data_dir))
            .with_context(|| format!("loading hash banks from {}", self.data_dir.display()))?;
        Ok(Some(ctx))
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
