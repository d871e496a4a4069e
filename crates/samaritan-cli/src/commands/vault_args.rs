//! Where the keyring that encrypts preserved evidence comes from (issue 22): the environment
//! (`SAMARITAN_VAULT_KEY`, the keyring's text), a file (`--vault-key FILE` or
//! `SAMARITAN_VAULT_KEY_FILE`), or `vault.key` in the data directory, which `serve` creates on
//! first start (mode 0600) and says so. Never a key on the command line.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;
use samaritan_server::vault::Keyring;

#[derive(Args, Debug, Clone)]
pub struct VaultArgs {
    /// The keyring preserved evidence is encrypted with (one 64-hex-digit key per line, the
    /// first sealing; `ID HEX` names a key). Default: `vault.key` in the data directory, which
    /// `serve` creates on first start. The environment variable SAMARITAN_VAULT_KEY (the
    /// keyring's text) takes precedence over both.
    #[arg(long, env = "SAMARITAN_VAULT_KEY_FILE", value_name = "FILE")]
    pub vault_key: Option<PathBuf>,
}

impl VaultArgs {
    /// The keyring; with `create`, a missing default file is made with a new key.
    pub fn load(&self, data_dir: &Path, create: bool) -> Result<Keyring> {
        if let Ok(text) = std::env::var("SAMARITAN_VAULT_KEY") {
            return Keyring::parse(&text).context("in SAMARITAN_VAULT_KEY");
        }
        let path = self
            .vault_key
            .clone()
            .unwrap_or_else(|| data_dir.join("vault.key"));
        if !path.exists() && create && self.vault_key.is_none() {
            std::fs::create_dir_all(data_dir)
                .with_context(|| format!("cannot create {}", data_dir.display()))?;
            let text = Keyring::generate()?;
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                opts.mode(0o600);
            }
            let mut f = opts
                .open(&path)
                .with_context(|| format!("cannot create {}", path.display()))?;
            f.write_all(text.as_bytes())?;
            f.sync_all()?;
            eprintln!(
                "made the evidence key {}: preserved evidence is encrypted with it; keep a copy \
                 apart from the database (without it the evidence cannot be read)",
                path.display()
            );
        }
        let text = std::fs::read_to_string(&path).with_context(|| {
            format!(
                "cannot read the evidence key {} (--vault-key, SAMARITAN_VAULT_KEY_FILE)",
                path.display()
            )
        })?;
        Keyring::parse(&text).with_context(|| format!("in {}", path.display()))
    }
}
