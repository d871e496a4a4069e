//! Banks on disk: one plain list per bank in `<data-dir>/banks/<name>.pdq`.
//!
//! The files are the `lines` format of `samaritan_engine::pdq::bank_format` (PDQ hex per line,
//! optional `quality=` and `key=value` fields), so they can be read, diffed and edited by hand and
//! imported by other tools. Writes go to a temporary file that is renamed into place, so a crash
//! never leaves half a bank. Exact lists sit beside them: `<name>.md5` and `<name>.sha256`, one
//! hex digest per line (`#` comments and blank lines skipped; anything after the digest on a
//! line is ignored), matched against the digests of the image files. The service also keeps
//! banks in its store; both are read into one [`crate::ImageContext`].

use std::path::{Path, PathBuf};

use samaritan_engine::pdq::BankSet;
use samaritan_engine::pdq::bank::{Bank, BankEntry, validate_bank_name};
use samaritan_engine::pdq::bank_format::{self, ExportFormat};

/// Why a bank could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum BankDirError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Format {
        path: PathBuf,
        source: bank_format::BankFormatError,
    },
    #[error(transparent)]
    Name(#[from] samaritan_engine::pdq::bank::BankNameError),
    #[error("{path}:{line}: {reason}")]
    Exact {
        path: PathBuf,
        line: usize,
        reason: String,
    },
    #[error("no bank named {0:?}")]
    NoSuchBank(String),
}

/// Extension of bank files.
pub const BANK_EXT: &str = "pdq";

/// The banks folder of a data directory.
pub struct BankDir {
    dir: PathBuf,
}

impl BankDir {
    /// `<data_dir>/banks` (created on first write).
    pub fn new(data_dir: &Path) -> Self {
        BankDir {
            dir: data_dir.join("banks"),
        }
    }

    pub fn path_of(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.{BANK_EXT}"))
    }

    /// Every file of the directory whose stem is a valid bank name, as (stem, extension, path),
    /// sorted by path; a missing directory has none.
    fn files(&self) -> Result<Vec<(String, String, PathBuf)>, BankDirError> {
        let io = |source| BankDirError::Io {
            path: self.dir.clone(),
            source,
        };
        let rd = match std::fs::read_dir(&self.dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => return Err(io(source)),
        };
        let mut files = Vec::new();
        for entry in rd {
            let p = entry.map_err(io)?.path();
            if let (Some(stem), Some(ext)) = (
                p.file_stem().and_then(|s| s.to_str()),
                p.extension().and_then(|e| e.to_str()),
            ) && validate_bank_name(stem).is_ok()
            {
                files.push((stem.to_owned(), ext.to_owned(), p.clone()));
            }
        }
        files.sort_by(|a, b| a.2.cmp(&b.2));
        Ok(files)
    }

    /// Names of the stored banks, sorted.
    pub fn names(&self) -> Result<Vec<String>, BankDirError> {
        let mut names: Vec<String> = self
            .files()?
            .into_iter()
            .filter(|(_, ext, _)| ext == BANK_EXT)
            .map(|(stem, _, _)| stem)
            .collect();
        names.sort();
        Ok(names)
    }

    /// Reads one bank.
    pub fn load(&self, name: &str) -> Result<Bank, BankDirError> {
        validate_bank_name(name)?;
        let path = self.path_of(name);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(BankDirError::NoSuchBank(name.to_owned()));
            }
            Err(source) => return Err(BankDirError::Io { path, source }),
        };
        let parsed =
            bank_format::parse(&text).map_err(|source| BankDirError::Format { path, source })?;
        Ok(Bank {
            name: name.to_owned(),
            entries: parsed.entries,
        })
    }

    /// Reads every bank into one matcher.
    pub fn load_all(&self) -> Result<BankSet, BankDirError> {
        let mut set = BankSet::new();
        for name in self.names()? {
            set.insert_bank(self.load(&name)?);
        }
        Ok(set)
    }

    /// Every exact list (`<name>.md5`, `<name>.sha256`) as `(bank, kind, lowercase hex)`, in
    /// file name order then line order.
    pub fn load_exact(&self) -> Result<Vec<(String, crate::ExactKind, String)>, BankDirError> {
        let files = self
            .files()?
            .into_iter()
            .filter_map(|(stem, ext, path)| Some((stem, crate::ExactKind::parse(&ext)?, path)));
        let mut out = Vec::new();
        for (bank, kind, path) in files {
            let text = std::fs::read_to_string(&path).map_err(|source| BankDirError::Io {
                path: path.clone(),
                source,
            })?;
            for (i, line) in text.lines().enumerate() {
                let Some(hash) = line
                    .split_whitespace()
                    .next()
                    .filter(|h| !h.starts_with('#'))
                else {
                    continue;
                };
                if hash.len() != kind.hex_len() || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(BankDirError::Exact {
                        path: path.clone(),
                        line: i + 1,
                        reason: format!(
                            "a {} digest is {} hex digits, got `{}`",
                            kind.as_str(),
                            kind.hex_len(),
                            hash.chars().take(80).collect::<String>()
                        ),
                    });
                }
                out.push((bank.clone(), kind, hash.to_ascii_lowercase()));
            }
        }
        Ok(out)
    }

    /// Writes a bank (replacing the file atomically).
    pub fn save(&self, bank: &Bank) -> Result<PathBuf, BankDirError> {
        validate_bank_name(&bank.name)?;
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| BankDirError::Io { path, source }
        };
        std::fs::create_dir_all(&self.dir).map_err(io(&self.dir))?;
        let path = self.path_of(&bank.name);
        let tmp = self.dir.join(format!(".{}.{BANK_EXT}.tmp", bank.name));
        let mut text = format!(
            "# samaritan hash bank {:?}: PDQ hex per line, then optional quality=NN and key=value fields\n",
            bank.name
        );
        text.push_str(&bank_format::write(&bank.entries, ExportFormat::Lines));
        std::fs::write(&tmp, text).map_err(io(&tmp))?;
        std::fs::rename(&tmp, &path).map_err(io(&path))?;
        Ok(path)
    }

    /// Adds entries to a bank (creating it), or replaces its entries with `replace`.
    pub fn import(
        &self,
        name: &str,
        entries: Vec<BankEntry>,
        replace: bool,
    ) -> Result<Bank, BankDirError> {
        let mut bank = if replace {
            Bank::new(name)?
        } else {
            match self.load(name) {
                Ok(b) => b,
                Err(BankDirError::NoSuchBank(_)) => Bank::new(name)?,
                Err(e) => return Err(e),
            }
        };
        bank.entries.extend(entries);
        self.save(&bank)?;
        Ok(bank)
    }

    /// Deletes a bank's file.
    pub fn remove(&self, name: &str) -> Result<(), BankDirError> {
        validate_bank_name(name)?;
        let path = self.path_of(name);
        std::fs::remove_file(&path).map_err(|source| {
            if source.kind() == std::io::ErrorKind::NotFound {
                BankDirError::NoSuchBank(name.to_owned())
            } else {
                BankDirError::Io { path, source }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use samaritan_engine::pdq::PdqHash;

    #[test]
    fn save_load_import_list_remove() {
        let tmp = std::env::temp_dir().join(format!("samaritan-bankdir-{}", std::process::id()));
        let dir = BankDir::new(&tmp);
        assert!(dir.names().unwrap().is_empty());
        let mut e = BankEntry::new(PdqHash::from_limbs([1, 2, 3, 4]));
        e.quality = Some(90);
        e.meta.insert("case".into(), "c 1".into());
        dir.import("alpha", vec![e.clone()], false).unwrap();
        dir.import("alpha", vec![BankEntry::new(PdqHash::ZERO)], false)
            .unwrap();
        assert_eq!(dir.load("alpha").unwrap().entries.len(), 2);
        assert_eq!(dir.load("alpha").unwrap().entries[0], e);
        dir.import("alpha", vec![e.clone()], true).unwrap();
        assert_eq!(dir.load("alpha").unwrap().entries, vec![e]);
        dir.import("beta", vec![], false).unwrap();
        assert_eq!(dir.names().unwrap(), ["alpha", "beta"]);
        assert_eq!(dir.load_all().unwrap().len(), 1);
        assert!(matches!(
            dir.load("gamma"),
            Err(BankDirError::NoSuchBank(_))
        ));
        assert!(matches!(dir.load("../x"), Err(BankDirError::Name(_))));
        std::fs::write(dir.path_of("broken"), "zz\n").unwrap();
        let err = dir.load("broken").unwrap_err().to_string();
        assert!(err.contains("line 1"), "{err}");
        dir.remove("beta").unwrap();
        assert!(matches!(
            dir.remove("beta"),
            Err(BankDirError::NoSuchBank(_))
        ));
        std::fs::remove_dir_all(&tmp).unwrap();
    }
}
