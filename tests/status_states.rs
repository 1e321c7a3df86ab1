//! `openclaw gateway status` in every service state, against a real `systemd --user` manager
//! (the harness) and the real gateway: not installed, running (with a token mismatch and a
//! config mismatch), stopped, failed by exit 78, start-limit-hit, running but the port closed
//! (with the last gateway error line), and `--deep` finding a foreign gateway-like unit in a
//! system unit folder under a test root. Every `--json` output is validated against
//! `schemas/status.schema.json`. Skips (printing `SKIPPED: …`) where the harness cannot run,
//! unless `OPENCLAW_REQUIRE_SYSTEMD_HARNESS=1` (CI).
#![cfg(target_os = "linux")]

mod support;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::systemd_harness::RunOutput;

const TOKEN: &str = "test-token-0123456789";
const CONFIG: &str = r#"{ "gateway": { "mode": "local", "auth": { "mode": "token", "token": "test-token-0123456789" } } }"#;

/// The shared fixture, with the status helpers of these tests.
struct Fixture(support::service_fixture::Fixture);

impl std::ops::Deref for Fixture {
    type Target = support::service_fixture::Fixture;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl Fixture {
    fn new() -> Option<Self> {
        support::service_fixture::fixture().map(Self)
    }

    fn write_config(&self, text: &str) -> PathBuf {
        self.0.write_config(None, text)
    }

    /// `gateway status --json <args>`: the exit code and the report, validated by the schema.
    fn status_env(&self, args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, Value) {
        let mut all = vec!["gateway", "status", "--json"];
        all.extend(args);
        let out = self.oc_env(&all, env);
        let report: Value = serde_json::from_str(out.stdout.trim())
            .unwrap_or_else(|e| panic!("not one JSON object ({e}): {out}"));
        assert_valid(&report);
        (out.code(), report)
    }

    fn status(&self, args: &[&str]) -> (Option<i32>, Value) {
        self.status_env(args, &[])
    }

    fn install(&self, port: u16, extra: &[&str]) -> RunOutput {
        let port = port.to_string();
        let mut args = vec!["gateway", "install", "--port", &port, "--json"];
        args.extend(extra);
        self.oc(&args)
    }

    fn wait_state(&self, unit: &str, want: &str, within: Duration) {
        let deadline = Instant::now() + within;
        loop {
            let state = self.h.active_state(unit);
            if state == want {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{unit} is {state}, not {want}, after {within:?}\nmanager log:\n{}",
                self.h.manager_log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

fn assert_valid(report: &Value) {
    support::assert_matches_schema("status.schema.json", report);
}

fn runtime(report: &Value) -> &Value {
    &report["service"]["runtime"]
}

#[test]
fn status_shows_not_installed_running_token_and_config_mismatch_then_stopped() {
    let Some(f) = Fixture::new() else { return };
    f.write_config(CONFIG);
    let port = support::free_port();
    let port_s = port.to_string();

    // Not installed: the supervisor says so, with the fix; the probe finds nothing; exit 0.
    let port_env = [("OPENCLAW_GATEWAY_PORT", port_s.as_str())];
    let (code, v) = f.status_env(&[], &port_env);
    assert_eq!(code, Some(0), "{v:#}");
    assert_eq!(runtime(&v)["state"], "not-installed", "{v:#}");
    assert_eq!(v["rpc"]["outcome"], "unreachable", "{v:#}");
    assert!(v["config"].get("mismatch").is_none(), "{v:#}");
    let out = f.oc_env(&["gateway", "status"], &port_env);
    assert!(out.success(), "{out}");
    assert!(
        out.stdout.contains("not installed") && out.stdout.contains("openclaw gateway install"),
        "{out}"
    );

    // Running: PID, uptime, the RPC view with the server version, no config mismatch.
    let out = f.install(port, &[]);
    assert!(out.success(), "{out}\n{}", f.h.manager_log());
    let (code, v) = f.status(&["--require-rpc"]);
    assert_eq!(code, Some(0), "{v:#}");
    let rt = runtime(&v);
    assert_eq!(rt["state"], "running", "{v:#}");
    assert!(rt["pid"].as_u64().is_some_and(|p| p > 1), "{v:#}");
    assert_eq!(rt["supervisor"], "systemd user");
    assert!(
        rt["definitionPath"]
            .as_str()
            .unwrap()
            .ends_with(".config/systemd/user/openclaw-gateway.service")
    );
    assert_eq!(v["rpc"]["outcome"], "connected", "{v:#}");
    assert_eq!(v["rpc"]["capability"], "admin", "{v:#}");
    assert_eq!(
        v["rpc"]["serverVersion"],
        env!("CARGO_PKG_VERSION"),
        "{v:#}"
    );
    assert_eq!(v["gateway"]["port"], port);
    assert_eq!(
        v["gateway"]["portSource"], "service args",
        "the config has no port: the probe goes where the service listens"
    );
    assert_eq!(v["port"]["status"], "busy", "{v:#}");
    assert!(
        v["port"]["listeners"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["pid"] == rt["pid"]),
        "the gateway is shown as the port's listener: {v:#}"
    );
    assert_eq!(v["config"]["mismatch"], false, "{v:#}");
    assert!(v.get("lastError").is_none(), "{v:#}");
    assert_eq!(
        v["service"]["targetRole"], "target",
        "the default profile's own unit, probed where it listens: {v:#}"
    );
    let command = &v["service"]["command"];
    let argv: Vec<&str> = command["programArguments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert!(argv.ends_with(&["gateway", "--port", &port_s]), "{v:#}");
    assert_eq!(command["sourcePath"], rt["definitionPath"], "{v:#}");
    // The CLI alone resolves the default port; the service runs with --port.
    assert_eq!(v["portCli"]["port"], 18789, "{v:#}");
    assert_eq!(
        v["gateway"]["controlUiLinks"]["httpUrl"],
        format!("http://127.0.0.1:{port}/")
    );

    // The human output: two blocks, Service then Gateway, no colour off a terminal.
    let out = f.oc(&["gateway", "status"]);
    assert!(out.success(), "{out}");
    let blocks: Vec<&str> = out.stdout.split("\n\n").collect();
    assert!(
        blocks[0].starts_with("Service systemd user · openclaw-gateway.service")
            && blocks[0].contains("running (pid ")
            && blocks[0].contains(&format!("gateway --port {port}")),
        "{out}"
    );
    assert!(
        blocks[1].starts_with("Gateway\n")
            && blocks[1].contains(&format!("Probe target  ws://127.0.0.1:{port} (local)"))
            && blocks[1].contains(&format!("Dashboard     http://127.0.0.1:{port}/ ("))
            && blocks[1].contains("ok"),
        "{out}"
    );
    assert!(
        !out.stdout.contains("diagnostic only"),
        "the service is the probe target: {out}"
    );
    assert!(!out.stdout.contains('\u{1b}'), "{out}");

    // --port: the service is shown for diagnosis only, whatever the port.
    let (code, v) = f.status(&["--port", &port_s, "--no-probe"]);
    assert_eq!(code, Some(0));
    assert_eq!(v["service"]["targetRole"], "diagnostic-only", "{v:#}");
    assert_eq!(v["gateway"]["portSource"], "cli", "{v:#}");
    let out = f.oc(&["gateway", "status", "--no-probe", "--port", &port_s]);
    assert!(
        out.stdout.starts_with(
            "Service systemd user · openclaw-gateway.service (diagnostic only, not the probe target)"
        ),
        "{out}"
    );

    // A wrong token is its own state with the fix; exit 0, or 1 with --require-rpc.
    let (code, v) = f.status(&["--token", "wrong-token"]);
    assert_eq!(code, Some(0));
    assert_eq!(v["rpc"]["outcome"], "auth-failed", "{v:#}");
    assert!(
        v["rpc"]["fix"].as_str().unwrap().contains("--token"),
        "{v:#}"
    );
    assert_eq!(
        runtime(&v)["state"],
        "running",
        "the views stay independent"
    );
    let (code, _) = f.status(&["--token", "wrong-token", "--require-rpc"]);
    assert_eq!(code, Some(1));
    let (_, v) = f.status(&["--token", TOKEN, "--require-rpc"]);
    assert_eq!(v["rpc"]["ok"], true, "{v:#}");

    // A CLI pointed at another config than the service's: config.mismatch with the fix.
    let other = f.h.home().join("elsewhere/openclaw.json");
    let (code, v) = f.status_env(
        &["--no-probe"],
        &[("OPENCLAW_CONFIG_PATH", other.to_str().unwrap())],
    );
    assert_eq!(code, Some(0));
    assert_eq!(v["config"]["mismatch"], true, "{v:#}");
    assert_eq!(
        v["config"]["daemon"]["path"],
        f.h.home()
            .join(".openclaw/openclaw.json")
            .display()
            .to_string(),
        "{v:#}"
    );
    assert!(
        v["config"]["mismatchFix"]
            .as_str()
            .unwrap()
            .contains("openclaw gateway install --force"),
        "{v:#}"
    );

    // Stopped: the supervisor says stopped, the probe fails, exit 0.
    let out = f.oc(&["gateway", "stop", "--force"]);
    assert!(out.success(), "{out}");
    let (code, v) = f.status(&[]);
    assert_eq!(code, Some(0));
    assert_eq!(runtime(&v)["state"], "stopped", "{v:#}");
    assert_eq!(v["rpc"]["ok"], false, "{v:#}");
    assert!(runtime(&v)["pid"].is_null(), "{v:#}");

    // --deep: the stop (SIGTERM from systemd) as the gateway logged it, no connections left.
    let root = f.h.home().join("no-system-units");
    let (code, v) = f.status_env(
        &["--deep", "--no-probe"],
        &[("OPENCLAW_DISCOVERY_ROOT", root.to_str().unwrap())],
    );
    assert_eq!(code, Some(0));
    let shutdown = &v["lastShutdown"];
    assert_eq!(shutdown["signal"], "SIGTERM", "{v:#}");
    assert_eq!(shutdown["outcome"], "clean", "{v:#}");
    assert_eq!(shutdown["source"], "log-file", "{v:#}");
    assert_eq!(v["connections"]["count"], 0, "{v:#}");
}

#[test]
fn status_shows_exit_78_as_failed_with_the_reason() {
    let Some(f) = Fixture::new() else { return };
    // The CLI reads this config; the gateway refuses it (a remote client config): exit 78.
    // Installed with a good config (an install that cannot start is rolled back), then the
    // config turns into one the gateway refuses (a remote client): exit 78 on the restart.
    f.write_config(CONFIG);
    let port = support::free_port();
    let out = f.install(port, &[]);
    assert!(out.success(), "{out}");
    f.write_config(r#"{ "gateway": { "mode": "remote" } }"#);
    let _ = f.h.systemctl(&["restart", "openclaw-gateway.service"]);
    f.wait_state(
        "openclaw-gateway.service",
        "failed",
        Duration::from_secs(20),
    );
    let port_s = port.to_string();
    let (code, v) = f.status_env(&[], &[("OPENCLAW_GATEWAY_PORT", port_s.as_str())]);
    assert_eq!(code, Some(0), "{v:#}");
    let rt = runtime(&v);
    assert_eq!(rt["state"], "failed", "{v:#}");
    assert_eq!(rt["lastExit"]["status"], 78, "{v:#}");
    assert!(
        rt["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("exit 78"),
        "{v:#}"
    );
    let out = f.oc(&["gateway", "status", "--no-probe"]);
    assert!(
        out.stdout.contains("failed")
            && out.stdout.contains("last exit 78")
            && out.stdout.contains(
                "Logs          journalctl --user-unit openclaw-gateway.service -n 200 --no-pager"
            ),
        "{out}"
    );
}

#[test]
fn status_shows_the_start_limit_latch() {
    let Some(f) = Fixture::new() else { return };
    f.write_config(CONFIG);
    let port = support::free_port();
    let out = f.install(port, &[]);
    assert!(out.success(), "{out}");
    // An operator drop-in that makes every start fail fast (exit 1, restarted by Restart=always)
    // with a small start limit: systemd gives up after the third start.
    f.h.write_file(
        ".config/systemd/user/openclaw-gateway.service.d/crash.conf",
        b"[Unit]\nStartLimitBurst=2\nStartLimitIntervalSec=120\n[Service]\nExecStartPre=/bin/false\nRestartSec=100ms\n",
        0o644,
    );
    f.h.systemctl_ok(&["daemon-reload"]);
    let _ = f.h.systemctl(&["restart", "openclaw-gateway.service"]);
    f.wait_state(
        "openclaw-gateway.service",
        "failed",
        Duration::from_secs(30),
    );
    let (code, v) = f.status(&["--no-probe"]);
    assert_eq!(code, Some(0), "{v:#}");
    let rt = runtime(&v);
    assert_eq!(rt["state"], "start-limit-hit", "{v:#}");
    assert!(
        rt["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("stopped restarting"),
        "{v:#}"
    );
    let out = f.oc(&["gateway", "status", "--no-probe"]);
    assert!(out.stdout.contains("start limit hit"), "{out}");
}

#[test]
fn status_shows_the_last_gateway_error_when_the_service_runs_but_the_port_is_closed() {
    let Some(f) = Fixture::new() else { return };
    // An address of no interface here: every start fails to bind (exit 1) and systemd keeps
    // restarting the gateway, so the service looks up while nothing listens.
    // Installed first (an install that cannot become ready is rolled back), then restarted with
    // that config.
    f.write_config(CONFIG);
    let port = support::free_port();
    let out = f.install(port, &["--no-socket-activation"]);
    assert!(out.success(), "{out}");
    f.write_config(
        r#"{ "gateway": { "mode": "local", "bind": "custom", "customBindHost": "192.0.2.1", "auth": { "mode": "token", "token": "test-token-0123456789" } } }"#,
    );
    let _ = f.h.systemctl(&["restart", "openclaw-gateway.service"]);
    let (code, v) = f.status(&["--timeout", "2000"]);
    assert_eq!(code, Some(0), "{v:#}");
    let state = runtime(&v)["state"].as_str().unwrap().to_owned();
    assert!(state == "starting" || state == "running", "{v:#}");
    assert_eq!(v["port"]["status"], "free", "{v:#}");
    assert_eq!(v["rpc"]["ok"], false, "{v:#}");
    let last = v["lastError"].as_str().unwrap_or_default();
    assert!(
        last.contains("failed to bind gateway socket 192.0.2.1"),
        "{v:#}"
    );
    assert_eq!(
        v["lastErrorSource"], "log-file",
        "the harness has no journal"
    );
    let out = f.oc(&["gateway", "status", "--timeout", "2000"]);
    assert!(
        out.stdout.contains("(service appears running)")
            && out.stdout.contains("Last error")
            && out.stdout.contains("failed to bind gateway socket"),
        "{out}"
    );
}

#[test]
fn status_deep_finds_a_foreign_gateway_unit_in_a_system_folder_and_a_legacy_user_unit() {
    let Some(f) = Fixture::new() else { return };
    f.write_config(CONFIG);
    let port = support::free_port();
    let out = f.install(port, &[]);
    assert!(out.success(), "{out}");
    // A legacy unit of an older release in the user folder: reported without --deep.
    f.h.write_unit(
        "clawdbot-gateway.service",
        "[Service]\nExecStart=/usr/bin/clawdbot gateway --port 18789\n",
    );
    // A hand-written system unit running a gateway on our port, under a test root.
    let unit = f.h.write_file(
        "fakeroot/etc/systemd/system/claw-extra.service",
        format!(
            "[Unit]\nDescription=my gateway\n[Service]\nExecStart=/opt/openclaw/bin/openclaw gateway --port {port}\n"
        )
        .as_bytes(),
        0o644,
    );
    let root = f.h.home().join("fakeroot");
    let root_env = [("OPENCLAW_DISCOVERY_ROOT", root.to_str().unwrap())];

    let (_, v) = f.status_env(&["--no-probe"], &root_env);
    assert_eq!(v["deep"], false);
    let labels: Vec<&str> = v["extraServices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["clawdbot-gateway.service"], "{v:#}");
    assert_eq!(v["extraServices"][0]["legacy"], true);
    assert_eq!(v["warnings"], serde_json::json!([]));

    let (code, v) = f.status_env(&["--deep"], &root_env);
    assert_eq!(code, Some(0), "{v:#}");
    assert_eq!(v["deep"], true);
    let extras = v["extraServices"].as_array().unwrap();
    assert_eq!(extras.len(), 2, "our own unit is never extra: {v:#}");
    let foreign = extras
        .iter()
        .find(|e| e["label"] == "claw-extra.service")
        .unwrap_or_else(|| panic!("{v:#}"));
    assert_eq!(foreign["scope"], "system");
    assert_eq!(foreign["class"], "foreign");
    assert_eq!(foreign["legacy"], false);
    assert_eq!(foreign["port"], port);
    assert_eq!(
        foreign["removal"],
        serde_json::json!([
            "sudo systemctl disable --now claw-extra.service",
            format!("sudo rm {}", unit.display()),
            "sudo systemctl daemon-reload"
        ])
    );
    let warnings = v["warnings"].to_string();
    assert!(
        warnings.contains(&format!(
            "user unit openclaw-gateway.service and system unit claw-extra.service both serve port {port}"
        )),
        "{v:#}"
    );

    let out = f.oc_env(&["gateway", "status", "--deep"], &root_env);
    assert!(out.success(), "{out}");
    let text = &out.stdout;
    assert!(
        text.contains("Other gateway-like services detected (best effort):")
            && text.contains(&format!(
                "- claw-extra.service (system, {}",
                unit.display()
            ))
            && text.contains("- clawdbot-gateway.service (user, ")
            && text.contains("remove: sudo systemctl disable --now claw-extra.service && sudo rm ")
            && text.contains("remove: systemctl --user disable --now clawdbot-gateway.service")
            && text.contains(
                "One gateway per machine is recommended; use isolated profiles/ports for a rescue bot."
            )
            && text.contains("Warning: user unit openclaw-gateway.service and system unit"),
        "{out}"
    );
}
