//! The CyberTipline Reporting API client: `submit`, `upload`, `fileinfo`, `finish`, `retract`
//! over HTTPS
//! with HTTP Basic credentials (read from a file or the environment by the caller; never logged,
//! never in a URL). Blocking (ureq): run it off the async runtime.

use std::time::Duration;

use base64::Engine as _;

use super::tree;

/// NCMEC's production and test bases (tests use a local mock instead).
pub const PRODUCTION: &str = "https://report.cybertip.org/ispws";
pub const TEST: &str = "https://exttest.cybertip.org/ispws";

/// Credentials for HTTP Basic.
#[derive(Clone)]
pub struct Credentials {
    pub user: String,
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credentials {{ user: {:?}, password: *** }}", self.user)
    }
}

impl Credentials {
    /// From `user:password` (a credentials file's first line).
    pub fn parse(text: &str) -> Result<Credentials, String> {
        let line = text.lines().next().unwrap_or("").trim();
        match line.split_once(':') {
            Some((u, p)) if !u.is_empty() && !p.is_empty() => Ok(Credentials {
                user: u.to_owned(),
                password: p.to_owned(),
            }),
            _ => Err("credentials are one line `user:password`".into()),
        }
    }
}

/// What a call can end in besides success.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CyberTipError {
    /// The credentials were refused (HTTP 401).
    #[error("the CyberTipline refused the credentials (401)")]
    Unauthorized,
    /// An HTTP status other than 200 and 401.
    #[error("the CyberTipline answered HTTP {0}")]
    Http(u16),
    /// A response code other than 0, with its description.
    #[error("the CyberTipline answered code {code}: {description}")]
    Code { code: u32, description: String },
    /// The connection failed or timed out: the call may or may not have been received.
    #[error("no answer from the CyberTipline: {0}")]
    Transport(String),
    /// The answer does not read.
    #[error("the CyberTipline's answer does not read: {0}")]
    Answer(String),
}

impl CyberTipError {
    /// Whether the call may have taken effect anyway (a retry could then duplicate it).
    pub fn uncertain(&self) -> bool {
        matches!(
            self,
            CyberTipError::Transport(_) | CyberTipError::Http(500..=599)
        )
    }
}

/// A parsed `reportResponse` / `reportDoneResponse`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub code: u32,
    pub description: String,
    pub report_id: Option<String>,
    /// After an upload: NCMEC's id of the file and the MD5 it computed.
    pub file_id: Option<String>,
    pub hash: Option<String>,
}

/// The client.
pub struct Client {
    base: String,
    authorization: String,
    agent: ureq::Agent,
    timeout: Duration,
}

impl Client {
    /// A client for `base` (e.g. [`TEST`], or a mock's address) with a per-call `timeout`.
    pub fn new(base: &str, credentials: &Credentials, timeout: Duration) -> Client {
        let token = base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", credentials.user, credentials.password));
        let config = ureq::Agent::config_builder()
            .proxy(None)
            .http_status_as_error(false)
            .timeout_global(Some(timeout))
            .max_redirects(0)
            .build();
        Client {
            base: base.trim_end_matches('/').to_owned(),
            authorization: format!("Basic {token}"),
            agent: config.into(),
            timeout,
        }
    }

    /// The longest any one call can take.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The client a command line asks for: `which` is `test`, `production` or a base URL (a
    /// mock), `credentials` a file holding `user:password`. The message names what is wrong.
    pub fn configured(
        which: &str,
        credentials: &std::path::Path,
        timeout: Duration,
    ) -> Result<Client, String> {
        let base = match which {
            "test" => TEST,
            "production" => PRODUCTION,
            url if url.starts_with("http://") || url.starts_with("https://") => url,
            other => {
                return Err(format!(
                    "the CyberTipline is test, production or a URL, not `{other}`"
                ));
            }
        };
        let text = std::fs::read_to_string(credentials)
            .map_err(|e| format!("cannot read the credentials {}: {e}", credentials.display()))?;
        let creds =
            Credentials::parse(&text).map_err(|e| format!("in {}: {e}", credentials.display()))?;
        Ok(Client::new(base, &creds, timeout))
    }

    fn call(&self, path: &str, content_type: &str, body: &[u8]) -> Result<Answer, CyberTipError> {
        let mut resp = self
            .agent
            .post(format!("{}{path}", self.base))
            .header("Authorization", &self.authorization)
            .header("Content-Type", content_type)
            .send(body)
            .map_err(|e| CyberTipError::Transport(e.to_string()))?;
        match resp.status().as_u16() {
            200 => {}
            401 => return Err(CyberTipError::Unauthorized),
            s => return Err(CyberTipError::Http(s)),
        }
        let text = resp
            .body_mut()
            .with_config()
            .limit(1 << 20)
            .read_to_string()
            .map_err(|e| CyberTipError::Transport(e.to_string()))?;
        let root = tree::parse(&text).map_err(CyberTipError::Answer)?;
        let code = root
            .text_of("responseCode")
            .and_then(|c| c.trim().parse::<u32>().ok())
            .ok_or_else(|| CyberTipError::Answer("no responseCode".into()))?;
        let answer = Answer {
            code,
            description: root.text_of("responseDescription").unwrap_or("").to_owned(),
            report_id: root.text_of("reportId").map(|s| s.trim().to_owned()),
            file_id: root.text_of("fileId").map(|s| s.trim().to_owned()),
            hash: root.text_of("hash").map(|s| s.trim().to_owned()),
        };
        if code != 0 {
            return Err(CyberTipError::Code {
                code,
                description: answer.description,
            });
        }
        Ok(answer)
    }

    /// Opens a report; its id on success.
    pub fn submit(&self, xml: &str) -> Result<String, CyberTipError> {
        self.call("/submit", "text/xml; charset=utf-8", xml.as_bytes())?
            .report_id
            .ok_or_else(|| CyberTipError::Answer("no reportId".into()))
    }

    /// Finishes report `id` (after its files, when it has any).
    pub fn finish(&self, id: &str) -> Result<(), CyberTipError> {
        self.call(
            "/finish",
            "application/x-www-form-urlencoded",
            form_id(id).as_bytes(),
        )
        .map(|_| ())
    }

    /// Retracts unfinished report `id`.
    pub fn retract(&self, id: &str) -> Result<(), CyberTipError> {
        self.call(
            "/retract",
            "application/x-www-form-urlencoded",
            form_id(id).as_bytes(),
        )
        .map(|_| ())
    }

    /// Uploads one file to open report `id` as `multipart/form-data` (`id`, `file`); NCMEC's
    /// file id and the MD5 it computed.
    pub fn upload(
        &self,
        id: &str,
        file_name: &str,
        bytes: &[u8],
    ) -> Result<(String, Option<String>), CyberTipError> {
        let (content_type, body) = multipart(id, file_name, bytes);
        let answer = self.call("/upload", &content_type, &body)?;
        let file_id = answer
            .file_id
            .ok_or_else(|| CyberTipError::Answer("no fileId".into()))?;
        Ok((file_id, answer.hash))
    }

    /// Describes an uploaded file (`<fileDetails>`).
    pub fn fileinfo(&self, xml: &str) -> Result<(), CyberTipError> {
        self.call("/fileinfo", "text/xml; charset=utf-8", xml.as_bytes())
            .map(|_| ())
    }
}

/// A `multipart/form-data` body with the report id and one file. The boundary is random (and
/// checked absent from the file, as RFC 2046 asks); the file name is reduced to safe
/// characters so no header can be injected through it.
fn multipart(id: &str, file_name: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let mut boundary = String::new();
    for n in 0u64.. {
        // The counter makes each try differ even where no random bytes could be had.
        let r = samaritan_store::users::random_bytes::<16>().unwrap_or([7u8; 16]);
        boundary = format!("samaritan-{}-{n}", samaritan_store::hex(&r));
        if !bytes
            .windows(boundary.len())
            .any(|w| w == boundary.as_bytes())
        {
            break;
        }
    }
    let id: String = id.chars().filter(char::is_ascii_digit).collect();
    let name: String = file_name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        .take(200)
        .collect();
    let mut body = Vec::with_capacity(bytes.len() + 512);
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"id\"\r\n\r\n{id}\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

fn form_id(id: &str) -> String {
    let clean: String = id.chars().filter(char::is_ascii_digit).collect();
    format!("id={clean}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_read_and_never_print_the_password() {
        let c = Credentials::parse("esp:s3cret pass\nignored").unwrap();
        assert_eq!(
            (c.user.as_str(), c.password.as_str()),
            ("esp", "s3cret pass")
        );
        assert!(!format!("{c:?}").contains("s3cret"));
        assert!(Credentials::parse("nocolon").is_err());
        assert!(Credentials::parse(":x").is_err());
    }

    #[test]
    fn ids_in_forms_are_digits_only() {
        assert_eq!(form_id("12&x=1"), "id=121");
    }
}
