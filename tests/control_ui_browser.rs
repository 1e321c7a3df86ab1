//! The Control UI in a real browser: headless Chromium (Debian's `chromium` and
//! `chromium-driver`, installed by `tests/setup.sh`) driven over WebDriver by Selenium
//! (`tests/browser/control_ui.py`) against the real gateway and the fake model upstream:
//! pairing, overview, a streamed chat answer that survives a reload, stop mid-stream, a second
//! browser approved from the Devices view, a refused foreign origin seen live in the Logs view,
//! the redacted config, a wrong token. Screenshots of each view land in
//! `target/tmp/control-ui-screenshots/`; the token must appear in no request URL and no log.

mod support;

use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};
use support::fake_openai::{FakeOpenAi, Reply};
use support::http_client::python;
use support::*;

fn paced(chunks: &[&str], each: Duration) -> Reply {
    let timed: Vec<(&str, Duration)> = chunks.iter().map(|c| (*c, each)).collect();
    Reply::paced(&timed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_control_ui_pairs_chats_streams_stops_approves_tails_logs_and_refuses_what_it_must() {
    let fake = FakeOpenAi::start().await;
    fake.script(
        "fake-model",
        [
            paced(
                &["Hello, ", "browser. ", "Streaming ", "works."],
                Duration::from_millis(150),
            ),
            paced(
                &["Slow ", "words ", "that ", "never ", "end"],
                Duration::from_millis(900),
            ),
        ],
    );
    let config = json!({
        "gateway": {"nodes": {"pairing": {"autoApproveLocal": false}}},
        "models": {"providers": {"local": {"baseUrl": fake.base_url(), "apiKey": "sk-upstream",
            "models": [{"id": "fake-model", "contextWindow": 32000}]}}},
        "agents": {"defaults": {"model": "local/fake-model"}},
    });
    let gw = TestGateway::start_with(GatewayOptions::default().config(&config.to_string()));
    let shots = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("control-ui-screenshots");
    let _ = std::fs::remove_dir_all(&shots);
    std::fs::create_dir_all(&shots).unwrap();

    let (interpreter, site) = python();
    let args = json!({
        "url": format!("http://127.0.0.1:{}/", gw.port),
        "token": TOKEN,
        "openclaw": env!("CARGO_BIN_EXE_openclaw"),
        "env": {"HOME": gw.home(), "PATH": "/usr/bin:/bin",
            "OPENCLAW_GATEWAY_PORT": gw.port.to_string(), "OPENCLAW_GATEWAY_TOKEN": TOKEN},
        "screenshots": shots,
    });
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/browser/control_ui.py");
    let out = tokio::task::spawn_blocking(move || {
        Command::new(interpreter)
            .arg(script)
            .arg(args.to_string())
            .env("PYTHONPATH", site)
            .output()
            .expect("run tests/browser/control_ui.py")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report: Value =
        serde_json::from_str(stdout.lines().last().unwrap_or("")).unwrap_or_else(|_| {
            panic!(
                "the browser test printed no report: {stdout}\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    let steps = report["steps"].as_array().unwrap();
    for s in steps {
        assert_eq!(
            s["ok"],
            true,
            "step {} failed: {}\nscreenshots in {}",
            s["step"],
            s["error"],
            shots.display()
        );
    }
    assert!(out.status.success(), "{report:#}");
    assert_eq!(steps.len(), 11, "every step ran: {report:#}");
    let step = |name: &str| steps.iter().find(|s| s["step"] == name).unwrap();
    let overview = step("once_approved_it_connects_and_the_overview_shows_version_and_health");
    assert_eq!(overview["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(overview["health"], "ok");
    let chat = step("a_chat_message_streams_its_answer_which_stays_after_a_reload");
    assert_eq!(chat["sawPartialText"], true, "the answer was seen growing");
    let stopped = step("stop_mid_stream_keeps_the_partial_answer_marked_stopped");
    assert!(stopped["partial"].as_str().unwrap().starts_with("Slow"));
    assert_eq!(
        step("a_second_browser_waits_for_approval_and_the_first_approves_it_from_devices")["pendingAfter"],
        0
    );
    let wrong = step("a_wrong_token_shows_an_auth_error_and_the_token_form");
    assert!(
        wrong["message"].as_str().unwrap().contains("unauthorized"),
        "{wrong}"
    );
    for name in [
        "pairing-required",
        "overview",
        "chat",
        "chat-stopped",
        "devices",
        "logs",
        "config",
        "wrong-token",
    ] {
        assert!(
            shots.join(format!("{name}.png")).is_file(),
            "no screenshot {name}"
        );
    }
    let paint = &step("a_fresh_load_measures_first_paint");
    std::fs::write(shots.join("measurements.json"), paint.to_string()).unwrap();
    eprintln!(
        "first paint on loopback (ms, 5 loads): {}",
        paint["firstPaintMs"]
    );

    // The token reached no log: the gateway's console output and its log file.
    let (mut ws, _) = connected_cli(gw.port).await;
    let tail = call(&mut ws, "logs", "logs.tail", json!({"limit": 5000})).await;
    let file = tail["payload"]["file"].as_str().unwrap().to_owned();
    let log = std::fs::read_to_string(&file).unwrap_or_default();
    assert!(
        log.contains("origin not allowed"),
        "the log file {file} was read"
    );
    assert!(!log.contains(TOKEN), "the token is in {file}");
    assert!(
        !gw.stderr().contains(TOKEN),
        "the token is in the gateway's console output"
    );
}
