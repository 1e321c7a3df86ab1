//! The published reference OpenClaw CLI (`openclaw@2026.9.6`, Node 24) as a client of OUR gateway:
//! the commands real users run must work against it unchanged.
//!
//! The reference is installed by `tests/setup.sh` (npm registry, ≈800 MB, once per machine) into
//! `$OPENCLAW_REFERENCE_DIR` (default `~/.cache/openclaw/reference`); `OPENCLAW_REFERENCE_BIN`
//! points at another launcher. Missing, these tests fail: they do not skip.

mod support;

use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::{Value, json};
use support::fake_openai::{FakeOpenAi, Reply};
use support::*;

/// The reference launcher (a wrapper that puts its Node 24 first on PATH).
fn reference_launcher() -> PathBuf {
    let path = match std::env::var_os("OPENCLAW_REFERENCE_BIN") {
        Some(bin) => PathBuf::from(bin),
        None => {
            let dir = std::env::var_os("OPENCLAW_REFERENCE_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| {
                    let cache = std::env::var_os("XDG_CACHE_HOME")
                        .map(PathBuf::from)
                        .unwrap_or_else(|| {
                            PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache")
                        });
                    cache.join("openclaw/reference")
                });
            dir.join("bin/openclaw")
        }
    };
    assert!(
        path.is_file(),
        "the reference OpenClaw CLI is not installed at {}: run `bash tests/setup.sh` (or set \
         OPENCLAW_REFERENCE_BIN to its launcher)",
        path.display()
    );
    path
}

/// The reference CLI in a scratch home of its own (it reads nothing of ours), whose config holds
/// the gateway token, pointed at `port` the way a local install is (`OPENCLAW_GATEWAY_PORT`).
struct ReferenceCli {
    launcher: PathBuf,
    home: tempfile::TempDir,
    port: u16,
}

impl ReferenceCli {
    fn new(port: u16, token: &str) -> Self {
        let home = tempfile::tempdir().unwrap();
        let state = home.path().join("state");
        std::fs::create_dir_all(&state).unwrap();
        let config = json!({"gateway": {"auth": {"token": token}}});
        std::fs::write(state.join("openclaw.json"), config.to_string()).unwrap();
        Self {
            launcher: reference_launcher(),
            home,
            port,
        }
    }

    fn state_dir(&self) -> PathBuf {
        self.home.path().join("state")
    }

    /// Runs one command (killed after 90 s).
    fn run(&self, args: &[&str]) -> Output {
        Command::new("timeout")
            .arg("90")
            .arg(&self.launcher)
            .args(args)
            .env_clear()
            .env("HOME", self.home.path())
            .env("PATH", "/usr/local/bin:/usr/bin:/bin")
            .env("TZ", "UTC")
            .env("OPENCLAW_STATE_DIR", self.state_dir())
            .env("OPENCLAW_GATEWAY_PORT", self.port.to_string())
            .env("OPENCLAW_DISABLE_BONJOUR", "1")
            .env("OPENCLAW_NO_AUTO_UPDATE", "1")
            .current_dir(self.home.path())
            .output()
            .expect("run the reference CLI")
    }

    /// Runs one command and returns its exit code and stdout + stderr.
    fn check(&self, args: &[&str]) -> (i32, String) {
        let out = self.run(args);
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.code().unwrap_or(-1), text)
    }

    /// Runs a command that must exit 0 and print JSON on stdout; returns the JSON.
    fn json(&self, args: &[&str]) -> Value {
        let out = self.run(args);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "`openclaw {}` exited {:?}\nstdout: {stdout}\nstderr: {}",
            args.join(" "),
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_str(&stdout).unwrap_or_else(|e| {
            panic!(
                "`openclaw {}` printed no JSON ({e}): {stdout}",
                args.join(" ")
            )
        })
    }
}

fn url(gw: &TestGateway) -> String {
    format!("ws://127.0.0.1:{}", gw.port)
}

fn assert_exit(args: &[&str], (code, text): &(i32, String), want: i32, needle: &str) {
    assert!(
        *code == want && text.contains(needle),
        "`openclaw {}`: wanted exit {want} and {needle:?} in the output, got exit {code}:\n{text}",
        args.join(" ")
    );
}

#[test]
fn reference_cli_reads_health_presence_status_and_logs_from_our_gateway() {
    let gw = TestGateway::start();
    let cli = ReferenceCli::new(gw.port, TOKEN);
    let url = url(&gw);
    let with_target = |extra: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        v.extend(["--url".into(), url.clone(), "--token".into(), TOKEN.into()]);
        v
    };
    let run_json = |extra: &[&str]| {
        let args = with_target(extra);
        cli.json(&args.iter().map(String::as_str).collect::<Vec<_>>())
    };
    assert_eq!(
        run_json(&["gateway", "call", "health", "--json"])["ok"],
        true
    );
    assert_eq!(run_json(&["gateway", "health", "--json"])["ok"], true);
    let presence = run_json(&["gateway", "call", "system-presence", "--json"]);
    assert!(
        presence
            .as_array()
            .is_some_and(|all| all.iter().any(|p| p["mode"] == "gateway")),
        "system-presence lists the gateway itself: {presence}"
    );
    let status = run_json(&["gateway", "call", "status", "--json"]);
    assert!(status["runtimeVersion"].is_string(), "{status}");

    let args = with_target(&["gateway", "health"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = cli.check(&args);
    assert_exit(&args, &out, 0, "OK");

    let args = with_target(&["logs", "--limit", "50"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = cli.check(&args);
    assert_exit(&args, &out, 0, "listening on ws://");

    let args = with_target(&["logs", "--limit", "5", "--json"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = cli.check(&args);
    assert_exit(&args, &out, 0, "\"type\":\"meta\"");

    // No --url/--token: the local target from OPENCLAW_GATEWAY_PORT and the config's token.
    let health = cli.json(&["gateway", "call", "health", "--json"]);
    assert_eq!(health["ok"], true);
}

#[test]
fn reference_cli_gets_exit_1_and_a_named_error_for_unknown_methods_and_wrong_tokens() {
    let gw = TestGateway::start();
    let cli = ReferenceCli::new(gw.port, TOKEN);
    let url = url(&gw);
    let args = [
        "gateway",
        "call",
        "no.such.method",
        "--url",
        &url,
        "--token",
        TOKEN,
        "--json",
    ];
    assert_exit(&args, &cli.check(&args), 1, "unknown method");
    let args = [
        "gateway",
        "call",
        "health",
        "--url",
        &url,
        "--token",
        "wrong-token",
        "--json",
    ];
    let out = cli.check(&args);
    assert_exit(&args, &out, 1, "gateway token mismatch");
    assert!(!out.1.contains(TOKEN), "the real token leaked: {}", out.1);
}

fn agent_gateway(fake: &FakeOpenAi) -> TestGateway {
    let config = json!({
        "models": {"providers": {"local": {"baseUrl": fake.base_url(),
            "models": [{"id": "fake-model", "name": "Fake", "contextWindow": 32000}]}}},
        "agents": {"defaults": {"model": "local/fake-model"}},
    });
    TestGateway::start_with(GatewayOptions::default().config(&config.to_string()))
}

fn texts_sent(fake: &FakeOpenAi) -> Vec<Vec<String>> {
    fake.requests()
        .iter()
        .map(|r| {
            r.body["messages"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|m| m["role"] != "system")
                .map(|m| m["content"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reference_cli_agent_turns_print_the_upstream_text_and_chat_history_shows_them() {
    let fake = FakeOpenAi::start().await;
    fake.script(
        "fake-model",
        [
            Reply::text(&["Hello ", "from the ", "fake model."]),
            Reply::text(&["Second ", "answer."]),
        ],
    );
    let gw = agent_gateway(&fake);
    let port = gw.port;
    let (first, second, history, sessions) = tokio::task::spawn_blocking(move || {
        let cli = ReferenceCli::new(port, TOKEN);
        let first = cli.check(&["agent", "--agent", "main", "--message", "hi"]);
        let second = cli.json(&[
            "agent",
            "--agent",
            "main",
            "--message",
            "and again",
            "--json",
        ]);
        let history = cli.json(&[
            "gateway",
            "call",
            "chat.history",
            "--params",
            r#"{"sessionKey":"agent:main:main"}"#,
            "--json",
        ]);
        let sessions = cli.json(&["gateway", "call", "sessions.list", "--json"]);
        (first, second, history, sessions)
    })
    .await
    .unwrap();

    assert_exit(
        &["agent", "--agent", "main", "--message", "hi"],
        &first,
        0,
        "Hello from the fake model.",
    );
    assert_eq!(second["status"], "ok", "{second}");
    assert_eq!(
        second["result"]["payloads"][0]["text"], "Second answer.",
        "{second}"
    );
    assert_eq!(second["result"]["meta"]["agentMeta"]["model"], "fake-model");

    // The second turn went upstream with the first one as history.
    assert_eq!(
        texts_sent(&fake),
        vec![
            vec!["hi".to_owned()],
            vec![
                "hi".to_owned(),
                "Hello from the fake model.".to_owned(),
                "and again".to_owned()
            ],
        ]
    );

    let messages = history["messages"].as_array().expect("messages");
    let shown: Vec<(String, String)> = messages
        .iter()
        .map(|m| {
            let text = match &m["content"] {
                Value::String(s) => s.clone(),
                content => content[0]["text"].as_str().unwrap_or_default().to_owned(),
            };
            (m["role"].as_str().unwrap_or_default().to_owned(), text)
        })
        .collect();
    assert_eq!(
        shown,
        [
            ("user", "hi"),
            ("assistant", "Hello from the fake model."),
            ("user", "and again"),
            ("assistant", "Second answer."),
        ]
        .map(|(r, t)| (r.to_owned(), t.to_owned()))
    );
    assert!(
        sessions["sessions"]
            .as_array()
            .is_some_and(|all| all.iter().any(|s| s["key"] == "agent:main:main")),
        "{sessions}"
    );
}
