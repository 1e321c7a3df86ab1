//! `openclaw agent`, `openclaw models list` and `openclaw sessions list|history` against the
//! real gateway and the fake upstream.

mod support;

use std::process::{Command, Output};

use serde_json::{Value, json};
use support::fake_openai::{FakeOpenAi, Reply};
use support::*;

fn gateway(fake: &FakeOpenAi, model: &str) -> TestGateway {
    let config = json!({
        "models": {"providers": {"local": {"baseUrl": fake.base_url(),
            "models": [{"id": "fake-model", "name": "Fake", "contextWindow": 32000}]}}},
        "agents": {"defaults": {"model": model}},
    });
    TestGateway::start_with(GatewayOptions::default().config(&config.to_string()))
}

fn cli(gw: &TestGateway, args: &[&str]) -> Output {
    let url = format!("ws://127.0.0.1:{}", gw.port);
    Command::new(env!("CARGO_BIN_EXE_openclaw"))
        .args(args)
        .args(["--url", &url, "--token", TOKEN])
        .env_clear()
        .env("HOME", gw.home.path())
        .env("PATH", "/usr/bin:/bin")
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openclaw_agent_prints_the_answer_and_the_session_commands_show_the_turn() {
    let fake = FakeOpenAi::start().await;
    let gw = gateway(&fake, "local/fake-model");
    let gw_ref = &gw;
    let out = tokio::task::spawn_blocking({
        let port = gw_ref.port;
        let home = gw_ref.home.path().to_owned();
        move || {
            Command::new(env!("CARGO_BIN_EXE_openclaw"))
                .args([
                    "agent",
                    "--message",
                    "hi",
                    "--url",
                    &format!("ws://127.0.0.1:{port}"),
                    "--token",
                    TOKEN,
                ])
                .env_clear()
                .env("HOME", home)
                .env("PATH", "/usr/bin:/bin")
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout(&out), "Hello from the fake model.\n");

    let json_out = tokio::task::spawn_blocking({
        let port = gw.port;
        let home = gw.home.path().to_owned();
        move || {
            Command::new(env!("CARGO_BIN_EXE_openclaw"))
                .args([
                    "agent",
                    "-m",
                    "again",
                    "--json",
                    "--session-key",
                    "cli",
                    "--url",
                    &format!("ws://127.0.0.1:{port}"),
                    "--token",
                    TOKEN,
                ])
                .env_clear()
                .env("HOME", home)
                .env("PATH", "/usr/bin:/bin")
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    let v: Value = serde_json::from_slice(&json_out.stdout).unwrap();
    assert_eq!(
        (&v["status"], &v["summary"]),
        (&json!("ok"), &json!("completed"))
    );
    assert_eq!(
        v["result"]["payloads"][0]["text"],
        "Hello from the fake model."
    );

    let models = cli(&gw, &["models", "list"]);
    assert_eq!(stdout(&models), "local/fake-model  Fake  context 32000\n");
    let sessions = cli(&gw, &["sessions", "list"]);
    let text = stdout(&sessions);
    assert!(
        text.contains("agent:main:main") && text.contains("agent:main:cli"),
        "{text}"
    );
    let history = cli(&gw, &["sessions", "history", "agent:main:main"]);
    assert_eq!(
        stdout(&history),
        "user: hi\nassistant: Hello from the fake model.\n"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openclaw_agent_fails_with_exit_1_naming_the_model_or_the_upstream_failure() {
    let fake = FakeOpenAi::start().await;
    fake.script("fake-model", [Reply::status(401, "bad key")]);
    let gw = gateway(&fake, "local/fake-model");
    let run = |args: Vec<String>| {
        let home = gw.home.path().to_owned();
        tokio::task::spawn_blocking(move || {
            Command::new(env!("CARGO_BIN_EXE_openclaw"))
                .args(args)
                .env_clear()
                .env("HOME", home)
                .env("PATH", "/usr/bin:/bin")
                .output()
                .unwrap()
        })
    };
    let url = format!("ws://127.0.0.1:{}", gw.port);
    let base = |m: &str| -> Vec<String> {
        ["agent", "-m", m, "--url", &url, "--token", TOKEN]
            .iter()
            .map(|s| s.to_string())
            .collect()
    };
    let out = run(base("hi")).await.unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("Agent run error") && err.contains("HTTP 401"),
        "{err}"
    );
    let mut unknown = base("hi");
    unknown.extend(["--agent".to_owned(), "nobody".to_owned()]);
    let out = run(unknown).await.unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown agent \"nobody\""), "{err}");
}

/// Runs `openclaw agent` on a pseudo-terminal (python's `pty`), presses Ctrl-C once `wait_for`
/// has been printed, and returns what the terminal showed and the exit code.
fn agent_on_a_terminal_interrupted(gw: &TestGateway, wait_for: &str) -> (String, i32) {
    let script = r#"
import json, os, pty, select, sys, time
argv, wait_for = json.loads(sys.argv[1]), sys.argv[2].encode()
pid, fd = pty.fork()
if pid == 0:
    os.execv(argv[0], argv)
out, deadline, pressed = b"", time.time() + 20, False
while time.time() < deadline:
    if not pressed and wait_for in out:
        os.write(fd, b"\x03")
        pressed = True
    ready, _, _ = select.select([fd], [], [], 0.2)
    if ready:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
_, status = os.waitpid(pid, 0)
print(json.dumps({"out": out.decode("utf-8", "replace"), "code": os.waitstatus_to_exitcode(status)}))
"#;
    let url = format!("ws://127.0.0.1:{}", gw.port);
    let argv = json!([
        env!("CARGO_BIN_EXE_openclaw"),
        "agent",
        "-m",
        "tell me a slow story",
        "--url",
        url,
        "--token",
        TOKEN
    ]);
    let out = Command::new("python3")
        .args(["-c", script, &argv.to_string(), wait_for])
        .env_clear()
        .env("HOME", gw.home.path())
        .env("PATH", "/usr/bin:/bin")
        .output()
        .expect("python3 runs the CLI on a pty");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (
        v["out"].as_str().unwrap().to_owned(),
        v["code"].as_i64().unwrap() as i32,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_terminal_openclaw_agent_streams_and_ctrl_c_aborts_the_run_upstream_too() {
    let fake = FakeOpenAi::start().await;
    fake.script(
        "fake-model",
        [Reply::slow(
            &["Once", " upon", " a", " time", " there", " was"],
            std::time::Duration::from_millis(400),
        )],
    );
    let gw = gateway(&fake, "local/fake-model");
    let gw_ref = &gw;
    let (shown, code) =
        tokio::task::block_in_place(|| agent_on_a_terminal_interrupted(gw_ref, "Once"));
    assert!(shown.contains("Once"), "streamed before the end: {shown:?}");
    assert!(!shown.contains("there was"), "stopped early: {shown:?}");
    assert_ne!(code, 0, "an aborted turn is not a success: {shown:?}");
    // The fake notices at its next chunk (400 ms apart).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
    while fake.disconnects().is_empty() && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(
        !fake.disconnects().is_empty(),
        "the upstream connection was closed"
    );
    let history = cli(&gw, &["sessions", "history", "agent:main:main"]);
    let text = stdout(&history);
    assert!(
        text.starts_with("user: tell me a slow story\nassistant (incomplete): Once"),
        "the partial answer is kept: {text}"
    );
}
