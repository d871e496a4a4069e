//! Where images and preserved evidence are kept (issue 24): a directory (`blobs/` in the data
//! directory unless told otherwise, where they always were) or S3-compatible storage
//! (`--blobs s3://BUCKET/PREFIX`, with the standard AWS environment variables for region and
//! credentials, and `--blobs-endpoint` for a server other than AWS). Credentials are never
//! flags and never printed.

use std::path::Path;

use anyhow::{Context, Result};
use clap::Args;
use samaritan_media::{BlobLocation, BlobStore, S3Options};

#[derive(Args, Debug, Clone, Default)]
pub struct BlobArgs {
    /// Where images taken in and preserved evidence are kept: a directory, or
    /// `s3://BUCKET[/PREFIX]` for S3-compatible storage (region and credentials from
    /// AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN). Default:
    /// `blobs/` in the data directory.
    #[arg(
        long = "blobs",
        alias = "blob-dir",
        env = "SAMARITAN_BLOBS",
        value_name = "DIR|s3://BUCKET/PREFIX"
    )]
    pub blobs: Option<String>,
    /// The S3-compatible server to use instead of AWS (e.g. `http://127.0.0.1:9000` for MinIO);
    /// plain http only when given here. Default: AWS_ENDPOINT_URL, else AWS.
    #[arg(long, env = "SAMARITAN_BLOBS_ENDPOINT", value_name = "URL")]
    pub blobs_endpoint: Option<String>,
}

impl BlobArgs {
    /// The configured store, or `blobs/` in `data_dir`.
    pub fn open(&self, data_dir: &Path) -> Result<BlobStore> {
        match self.open_configured()? {
            Some(b) => Ok(b),
            None => Ok(BlobStore::local(data_dir.join("blobs"))?),
        }
    }

    /// The configured store, if one is (`worker` keeps nothing without one).
    pub fn open_configured(&self) -> Result<Option<BlobStore>> {
        let Some(text) = &self.blobs else {
            if self.blobs_endpoint.is_some() {
                anyhow::bail!("--blobs-endpoint needs --blobs s3://BUCKET[/PREFIX]");
            }
            return Ok(None);
        };
        let location = BlobLocation::parse(text).context("--blobs")?;
        if matches!(location, BlobLocation::Dir(_)) && self.blobs_endpoint.is_some() {
            anyhow::bail!("--blobs-endpoint applies to s3:// blob storage, not a directory");
        }
        let s3 = S3Options {
            endpoint: self.blobs_endpoint.clone(),
            ..S3Options::default()
        };
        let store = BlobStore::open(&location, &s3)?;
        Ok(Some(store))
    }
}
