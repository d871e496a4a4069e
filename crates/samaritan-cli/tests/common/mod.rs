//! Running the real `samaritan` binary as a service, and a small HTTP client for it.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // tests may unwrap (CONTRIBUTING.md)

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::rt::TokioIo;

pub const BIN: &str = env!("CARGO_BIN_EXE_samaritan");

pub fn policy_file() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/service-policy.toml")
}

/// Makes a key with `scopes` in the store at `dir`; returns the secret.
pub fn make_key(dir: &Path, scopes: &str) -> String {
    let out = Command::new(BIN)
        .args(["keys", "create", "--scopes", scopes, "--data-dir"])
        .arg(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["key"].as_str().unwrap().to_owned()
}

/// How long a test waits for `serve` to print its JSON line.
pub const ANNOUNCE_WITHIN: std::time::Duration = std::time::Duration::from_secs(120);

/// The JSON line `serve` prints on stdout once it listens. A server that has not printed it
/// within [`ANNOUNCE_WITHIN`] is killed and the test fails, naming the wait (a hang must fail
/// the test, never stall CI).
pub fn announcement(child: &mut Child) -> serde_json::Value {
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let read = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(read.map(|_| line));
    });
    match rx.recv_timeout(ANNOUNCE_WITHIN) {
        Ok(Ok(line)) => serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("serve did not announce itself ({e}): {line:?}")),
        Ok(Err(e)) => panic!("reading serve's stdout: {e}"),
        Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "serve printed no JSON line within {}s; killed",
                ANNOUNCE_WITHIN.as_secs()
            )
        }
    }
}

/// Waits for `child` to exit, at most `within`; kills it and fails the test when it does not.
pub fn exit_within(child: &mut Child, within: std::time::Duration) -> std::process::ExitStatus {
    let start = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if start.elapsed() > within {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the process did not exit within {}s; killed",
                within.as_secs()
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// A running `samaritan serve` on a free loopback port.
pub struct Server {
    pub child: Child,
    pub addr: String,
}

impl Server {
    /// With the fixture policy put in force.
    pub fn start(dir: &Path) -> Server {
        Server::start_with(dir, Some(&policy_file()))
    }

    /// With `policy`, or without `--policy` (the stored one, else the built-in default).
    pub fn start_with(dir: &Path, policy: Option<&Path>) -> Server {
        Server::start_with_args(dir, policy, &[])
    }

    /// As [`Server::start_with`], with more `serve` arguments.
    pub fn start_with_args(dir: &Path, policy: Option<&Path>, extra: &[&str]) -> Server {
        Server::start_with_env(dir, policy, extra, &[])
    }

    /// As [`Server::start_with_args`], with more environment variables.
    pub fn start_with_env(
        dir: &Path,
        policy: Option<&Path>,
        extra: &[&str],
        env: &[(String, String)],
    ) -> Server {
        let mut cmd = Command::new(BIN);
        cmd.envs(env.iter().map(|(k, v)| (k, v)));
        cmd.args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--rate-limit",
            "0",
            "--data-dir",
        ])
        .arg(dir);
        if let Some(p) = policy {
            cmd.arg("--policy").arg(p);
        }
        cmd.args(extra);
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let v = announcement(&mut child);
        let url = v["listening"].as_str().unwrap();
        Server {
            child,
            addr: url.trim_start_matches("http://").to_owned(),
        }
    }

    /// SIGKILL: no shutdown, no flush, nothing.
    pub fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// SIGTERM and wait for a clean exit.
    pub fn stop(&mut self) {
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let status = exit_within(&mut self.child, std::time::Duration::from_secs(60));
        assert!(status.success(), "serve exited with {status}");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One keep-alive HTTP/1.1 connection.
pub struct Client {
    sender: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
    addr: String,
    key: String,
}

impl Client {
    pub async fn connect(addr: &str, key: &str) -> std::io::Result<Client> {
        let stream = tokio::net::TcpStream::connect(addr).await?;
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(std::io::Error::other)?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(Client {
            sender,
            addr: addr.to_owned(),
            key: key.to_owned(),
        })
    }

    /// Sends a request; `Err` when the connection fails (the server died).
    pub async fn send(
        &mut self,
        method: &str,
        path: &str,
        body: String,
    ) -> Result<(u16, String), String> {
        let req = Request::builder()
            .method(method)
            .uri(path)
            .header("host", self.addr.as_str())
            .header("authorization", format!("Bearer {}", self.key))
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| e.to_string())?;
        self.sender.ready().await.map_err(|e| e.to_string())?;
        let resp = self
            .sender
            .send_request(req)
            .await
            .map_err(|e| e.to_string())?;
        let status = resp.status().as_u16();
        let bytes = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        Ok((status, String::from_utf8_lossy(&bytes).into_owned()))
    }
}

/// A clinical synthetic ad with a fictional 555-01xx phone.
pub fn ad_json(i: usize) -> String {
    let wording = match i % 4 {
        0 => "Just arrived, new in town this week",
        1 => "Used road bicycle, good tyres",
        2 => "My manager books all visits",
        _ => "Quiet room to rent near the park",
    };
    let city = ["Reno", "Boise", "Fresno"][i % 3];
    serde_json::json!({
        "id": format!("dur-{i:05}"),
        "title": format!("Listing {i}"),
        "body": format!("{wording}. Call 775-555-01{:02}.", i % 100),
        "location": {"city": city},
    })
    .to_string()
}
