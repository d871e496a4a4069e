//! Encryption of preserved evidence at rest (issue 22): XChaCha20-Poly1305 (RustCrypto's
//! `chacha20poly1305`), a random 192-bit nonce per blob, and the blob's SHA-256 and key id as
//! associated data, so a blob moved under another name or key id does not open. The store
//! keeps only sealed blobs; the keys live outside it (a file or the environment).
//!
//! A keyring is text: one key per line, `ID HEX` or just `HEX` (64 hexadecimal digits, a
//! 32-byte key; its id is then `k` and the first 12 hex digits of the key's SHA-256). The first
//! key seals; every key opens, so a key is rotated by putting the new one first and keeping
//! the old ones below it. `#` starts a comment.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use samaritan_store::{SealedBlob, sha256_hex};

/// What can go wrong with keys and blobs.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("line {line} of the evidence keyring: {why}")]
    Key { line: usize, why: &'static str },
    #[error("the evidence keyring holds no key")]
    Empty,
    #[error("no key `{0}` in the evidence keyring (the blob was sealed with it)")]
    UnknownKey(String),
    #[error("a preserved blob does not open: it was changed, or sealed under another name")]
    Tampered,
    #[error("no random bytes for a nonce: {0}")]
    Random(String),
}

/// One key.
struct Key {
    id: String,
    cipher: XChaCha20Poly1305,
}

/// The keys evidence is sealed and opened with.
pub struct Keyring {
    keys: Vec<Key>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<&str> = self.keys.iter().map(|k| k.id.as_str()).collect();
        write!(f, "Keyring {{ ids: {ids:?} }}")
    }
}

fn unhex32(t: &str) -> Option<[u8; 32]> {
    if t.len() != 64 || !t.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(t.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

impl Keyring {
    /// Reads a keyring's text.
    pub fn parse(text: &str) -> Result<Keyring, VaultError> {
        let mut keys: Vec<Key> = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let (id, hex) = match line.split_once(char::is_whitespace) {
                Some((id, hex)) => (Some(id.trim()), hex.trim()),
                None => (None, line),
            };
            let bytes = unhex32(hex).ok_or(VaultError::Key {
                line: n + 1,
                why: "a key is 64 hexadecimal digits",
            })?;
            let id = match id {
                Some(id) if valid_id(id) => id.to_owned(),
                Some(_) => {
                    return Err(VaultError::Key {
                        line: n + 1,
                        why: "a key id is 1 to 64 letters, digits, '-', '_' or '.'",
                    });
                }
                None => format!("k{}", &sha256_hex(&bytes)[..12]),
            };
            if keys.iter().any(|k| k.id == id) {
                return Err(VaultError::Key {
                    line: n + 1,
                    why: "a key id appears twice",
                });
            }
            keys.push(Key {
                id,
                cipher: XChaCha20Poly1305::new(&bytes.into()),
            });
        }
        if keys.is_empty() {
            return Err(VaultError::Empty);
        }
        Ok(Keyring { keys })
    }

    /// A new keyring's text: one random key.
    pub fn generate() -> Result<String, VaultError> {
        let key = samaritan_store::users::random_bytes::<32>()
            .map_err(|e| VaultError::Random(e.to_string()))?;
        Ok(format!(
            "# Samaritan evidence key: keep a copy apart from the database; preserved evidence\n\
             # cannot be read without it. Rotate by adding a new key above this one.\n{}\n",
            samaritan_store::hex(&key)
        ))
    }

    /// The id of the key that seals.
    pub fn current(&self) -> &str {
        &self.keys[0].id
    }

    fn aad(sha256: &str, key_id: &str) -> Vec<u8> {
        format!("samaritan-evidence-v1\n{sha256}\n{key_id}").into_bytes()
    }

    /// Seals `plaintext` with the current key.
    pub fn seal(&self, plaintext: &[u8]) -> Result<SealedBlob, VaultError> {
        let key = &self.keys[0];
        let sha256 = sha256_hex(plaintext);
        let nonce = samaritan_store::users::random_bytes::<24>()
            .map_err(|e| VaultError::Random(e.to_string()))?;
        let aad = Self::aad(&sha256, &key.id);
        let ciphertext = key
            .cipher
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad: &aad,
                },
            )
            .map_err(|_| VaultError::Tampered)?;
        Ok(SealedBlob {
            sha256,
            key_id: key.id.clone(),
            nonce: nonce.to_vec(),
            ciphertext,
            bytes: i64::try_from(plaintext.len()).unwrap_or(i64::MAX),
            object_sha256: None,
        })
    }

    /// Opens `blob`: its plaintext, checked against its SHA-256.
    pub fn open(&self, blob: &SealedBlob) -> Result<Vec<u8>, VaultError> {
        let key = self
            .keys
            .iter()
            .find(|k| k.id == blob.key_id)
            .ok_or_else(|| VaultError::UnknownKey(blob.key_id.clone()))?;
        let nonce: [u8; 24] = blob
            .nonce
            .as_slice()
            .try_into()
            .map_err(|_| VaultError::Tampered)?;
        let aad = Self::aad(&blob.sha256, &blob.key_id);
        let plain = key
            .cipher
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: &blob.ciphertext,
                    aad: &aad,
                },
            )
            .map_err(|_| VaultError::Tampered)?;
        if sha256_hex(&plain) != blob.sha256 {
            return Err(VaultError::Tampered);
        }
        Ok(plain)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_opens_rotates_and_refuses_anything_changed() {
        let text = Keyring::generate().unwrap();
        let ring = Keyring::parse(&text).unwrap();
        let blob = ring.seal(b"ad text <b>&").unwrap();
        assert_ne!(blob.ciphertext, b"ad text <b>&".to_vec(), "encrypted");
        assert_eq!(ring.open(&blob).unwrap(), b"ad text <b>&");
        assert_eq!(blob.key_id, ring.current());
        // Rotation: a new key first seals; the old one still opens.
        let newer = format!("k2 {}\n{text}", "ab".repeat(32));
        let rotated = Keyring::parse(&newer).unwrap();
        assert_eq!(rotated.current(), "k2");
        assert_eq!(rotated.open(&blob).unwrap(), b"ad text <b>&");
        assert_eq!(rotated.seal(b"x").unwrap().key_id, "k2");
        // Without the key, or with anything changed, it does not open.
        let other = Keyring::parse(&"cd".repeat(32)).unwrap();
        assert!(matches!(other.open(&blob), Err(VaultError::UnknownKey(_))));
        let mut flipped = blob.clone();
        flipped.ciphertext[0] ^= 1;
        assert!(matches!(ring.open(&flipped), Err(VaultError::Tampered)));
        let mut renamed = blob.clone();
        renamed.sha256 = sha256_hex(b"other");
        assert!(matches!(ring.open(&renamed), Err(VaultError::Tampered)));
        let mut short = blob;
        short.nonce.pop();
        assert!(matches!(ring.open(&short), Err(VaultError::Tampered)));
        // Bad keyrings say which line.
        assert!(matches!(
            Keyring::parse("# only a comment\n"),
            Err(VaultError::Empty)
        ));
        let e = Keyring::parse("\nk1 abc\n").unwrap_err().to_string();
        assert!(e.contains("line 2"), "{e}");
        assert!(Keyring::parse(&format!("a/b {}", "ab".repeat(32))).is_err());
        assert!(format!("{ring:?}").starts_with("Keyring { ids"));
    }
}
