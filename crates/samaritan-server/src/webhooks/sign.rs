//! Standard Webhooks signatures (<https://www.standardwebhooks.com>): a secret is `whsec_` and
//! the base64 of its key; a message is signed with HMAC-SHA256 over `{id}.{timestamp}.{body}`
//! and sent as `webhook-signature: v1,<base64>` — during a secret rotation with one signature
//! per secret, separated by spaces, so a receiver holding either verifies it.

use base64::Engine as _;
use hmac::{KeyInit, Mac};

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

const PREFIX: &str = "whsec_";

/// A new secret (32 random bytes).
pub fn new_secret() -> Result<String, samaritan_store::StoreError> {
    let key = samaritan_store::users::random_bytes::<32>()?;
    Ok(format!(
        "{PREFIX}{}",
        base64::engine::general_purpose::STANDARD.encode(key)
    ))
}

fn key_of(secret: &str) -> Option<Vec<u8>> {
    let b64 = secret.strip_prefix(PREFIX).unwrap_or(secret);
    base64::engine::general_purpose::STANDARD.decode(b64).ok()
}

/// `v1,<base64 HMAC>` of message `id` sent at `timestamp` (seconds) with `body` under `secret`;
/// `None` for a secret that does not decode.
pub fn signature(secret: &str, id: &str, timestamp: i64, body: &str) -> Option<String> {
    let key = key_of(secret)?;
    let mut mac = HmacSha256::new_from_slice(&key).ok()?;
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    Some(format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    ))
}

/// The `webhook-signature` header's value: one signature per secret given.
pub fn header(secrets: &[&str], id: &str, timestamp: i64, body: &str) -> Option<String> {
    let sigs: Vec<String> = secrets
        .iter()
        .filter_map(|s| signature(s, id, timestamp, body))
        .collect();
    (!sigs.is_empty()).then(|| sigs.join(" "))
}

/// Whether `header` holds a valid signature under `secret` (what a receiver checks; used by
/// the tests and `samaritan webhooks verify`-style tools).
pub fn verify(secret: &str, header: &str, id: &str, timestamp: i64, body: &str) -> bool {
    let Some(expected) = signature(secret, id, timestamp, body) else {
        return false;
    };
    header.split(' ').any(|s| {
        // Constant time: compare every byte.
        s.len() == expected.len()
            && s.bytes()
                .zip(expected.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_as_the_standard_webhooks_reference_does() {
        // The reference libraries' published test vector.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
        let body = r#"{"test": 2432232314}"#;
        assert_eq!(
            signature(secret, id, 1614265330, body).as_deref(),
            Some("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        );
        assert!(verify(
            secret,
            "v1,bad v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
            id,
            1614265330,
            body
        ));
        assert!(!verify(
            secret,
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
            id,
            1614265331,
            body
        ));
        let a = new_secret().unwrap();
        let b = new_secret().unwrap();
        let both = header(&[&a, &b], id, 1, body).unwrap();
        assert!(verify(&a, &both, id, 1, body) && verify(&b, &both, id, 1, body));
        assert!(signature("whsec_!!", id, 1, body).is_none());
    }
}
