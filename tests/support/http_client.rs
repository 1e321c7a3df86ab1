//! Real HTTP clients for the HTTP API tests: the official OpenAI Python SDK (installed by
//! `tests/setup.sh`, driven by `tests/openai_sdk/client.py`) and raw HTTP/1.1 requests.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use super::TestGateway;

/// The interpreter and package folder `tests/setup.sh` installed the SDK for.
pub fn python() -> (String, PathBuf) {
    let dir = std::env::var_os("OPENCLAW_TEST_PYTHON_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let cache = std::env::var_os("XDG_CACHE_HOME")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache"));
            cache.join("openclaw/python")
        });
    let interpreter = std::fs::read_to_string(dir.join("interpreter")).unwrap_or_else(|_| {
        panic!(
            "the OpenAI Python SDK is not installed in {}: run `bash tests/setup.sh`",
            dir.display()
        )
    });
    (interpreter.trim().to_owned(), dir.join("site"))
}

/// Runs one scenario of `tests/openai_sdk/client.py` against `gw` (`key`: the API key).
pub async fn sdk(gw: &TestGateway, key: &str, scenario: &str, model: Option<&str>) -> Value {
    let (interpreter, site) = python();
    let base = format!("http://127.0.0.1:{}/v1", gw.port);
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/openai_sdk/client.py");
    let mut args = vec![script.to_owned(), base, key.to_owned(), scenario.to_owned()];
    args.extend(model.map(str::to_owned));
    let out = tokio::task::spawn_blocking(move || {
        Command::new(interpreter)
            .args(args)
            .env_clear()
            .env("PYTHONPATH", site)
            .env("PATH", "/usr/bin:/bin")
            .env("NO_PROXY", "*")
            .output()
            .expect("run the OpenAI SDK client")
    })
    .await
    .unwrap();
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{scenario}: {e}\nstdout: {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

pub fn status(
    port: u16,
    method: &str,
    path: &str,
    auth: Option<&str>,
    body: &str,
) -> (u16, String, String) {
    request(
        port,
        method,
        path,
        auth.map(|a| format!("Authorization: {a}\r\n"))
            .unwrap_or_default(),
        body,
    )
}

/// One raw HTTP/1.1 request with `extra` header lines; (status, lower-cased head, body).
pub fn request(
    port: u16,
    method: &str,
    path: &str,
    extra: String,
    body: &str,
) -> (u16, String, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let auth = extra;
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    let code = out
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let (head, body) = out.split_once("\r\n\r\n").unwrap_or((&out, ""));
    (code, head.to_ascii_lowercase(), body.to_owned())
}
