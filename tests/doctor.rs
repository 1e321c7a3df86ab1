//! `openclaw doctor` end to end: against a real private `systemd --user` manager (the harness)
//! for (a) a unit of the reference release's form with an inline token and (c) a stopped install
//! with a hand-edited port, and with a plain test home for (b) a legacy `com.openclaw.*`
//! LaunchAgent (plan only on Linux). Each run checks the findings (and the `--json` schema),
//! `--fix --yes`, a clean second run, the operator's `Environment=` lines, and that no secret is
//! left in any file others can read. The runtime part (spec §6.3, §6.4) runs against the harness
//! too: a stopped service is started, a running unit whose `ExecStart=` drifted is neither
//! rewritten nor restarted, and a missing service is never installed without a terminal.
#![cfg(target_os = "linux")]

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;
use support::systemd_harness::RunOutput;

const TOKEN: &str = "ref-token-0123456789abcdef";
const PROVIDER_SECRET: &str = "sk-provider-secret-42";

fn assert_valid(report: &Value) {
    support::assert_matches_schema("doctor.schema.json", report);
}

fn ids(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_owned())
        .collect()
}

/// The shared fixture, with linger on (so the only findings are the ones under test).
struct Fixture(support::service_fixture::Fixture);

impl std::ops::Deref for Fixture {
    type Target = support::service_fixture::Fixture;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl Fixture {
    fn new() -> Option<Self> {
        let h = support::systemd_harness::harness_or_skip()?;
        let marker = h.write_file(format!("linger/{}", h.user_name()), b"", 0o644);
        let linger_dir = marker.parent().unwrap().display().to_string();
        Some(Self(
            support::service_fixture::Fixture::new(h)
                .with_env("OPENCLAW_SYSTEMD_LINGER_DIR", linger_dir),
        ))
    }

    /// `MainPID` of the default unit.
    fn main_pid(&self) -> u32 {
        self.0.main_pid(None)
    }

    /// The linger marker directory the fixture's runs read (`OPENCLAW_SYSTEMD_LINGER_DIR`).
    fn linger_dir(&self) -> PathBuf {
        self.h.home().join("linger")
    }

    /// A config on a free port with a token, and `gateway install` of it; the port.
    fn install(&self) -> u16 {
        let port = support::free_port();
        self.write_config(&format!(
            "{{ gateway: {{ mode: \"local\", port: {port}, auth: {{ mode: \"token\", token: \"{TOKEN}\" }} }} }}"
        ));
        let install = self.oc(&["gateway", "install", "--json"]);
        assert!(install.success(), "{install}\n{}", self.h.manager_log());
        assert_eq!(self.h.active_state("openclaw-gateway.service"), "active");
        port
    }

    fn doctor_json(&self) -> (RunOutput, Value) {
        let out = self.oc(&["doctor", "--json"]);
        let v: Value = serde_json::from_str(out.stdout.trim())
            .unwrap_or_else(|e| panic!("not one JSON object ({e}): {out}"));
        assert_valid(&v);
        (out, v)
    }

    fn write_config(&self, text: &str) -> PathBuf {
        self.0.write_config(None, text)
    }

    fn unit_dir(&self) -> PathBuf {
        self.h.unit_dir()
    }

    /// Runs `--fix --yes`, then a second `doctor` that must be clean.
    fn fix_then_clean(&self) {
        let fixed = self.oc(&["doctor", "--fix", "--yes"]);
        assert_eq!(
            fixed.code(),
            Some(0),
            "--fix --yes left findings: {fixed}\nmanager log:\n{}",
            self.h.manager_log()
        );
        assert!(fixed.stdout.contains(": done"), "{fixed}");
        self.assert_clean();
    }

    /// `doctor` is clean, in JSON and text.
    fn assert_clean(&self) {
        let (again, v) = self.doctor_json();
        assert_eq!(again.code(), Some(0), "second run not clean: {again}");
        assert_eq!(v["ok"], true, "{v:#}");
        let text = self.oc(&["doctor"]);
        assert_eq!(text.code(), Some(0), "{text}");
    }

    /// No file under the unit dir or the state dir that group/others can read holds a secret.
    fn assert_no_readable_secret(&self, secrets: &[&str]) {
        let mut stack = vec![self.unit_dir(), self.h.home().join(".openclaw")];
        let mut checked = 0;
        while let Some(dir) = stack.pop() {
            for e in std::fs::read_dir(&dir).unwrap().flatten() {
                let path = e.path();
                let meta = std::fs::symlink_metadata(&path).unwrap();
                if meta.is_dir() {
                    stack.push(path);
                    continue;
                }
                if !meta.is_file() {
                    continue;
                }
                checked += 1;
                let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
                let mode = meta.permissions().mode() & 0o777;
                for s in secrets {
                    if text.contains(s) {
                        assert_eq!(
                            mode & 0o077,
                            0,
                            "{} (mode {mode:04o}) holds a secret",
                            path.display()
                        );
                    }
                }
            }
        }
        assert!(checked > 3, "scanned {checked} files");
    }
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// The reference release's unit (spec §9) for this harness, with an inline token and operator
/// additions.
fn reference_unit(home: &Path, port: u16) -> String {
    let h = home.display();
    format!(
        "[Unit]\nDescription=OpenClaw Gateway\nAfter=network-online.target\nWants=network-online.target\nStartLimitBurst=10\nStartLimitIntervalSec=300\n\n[Service]\nExecStart=/usr/bin/node --max-old-space-size=8192 /usr/lib/node_modules/openclaw/dist/index.js gateway --port {port}\nRestart=always\nRestartSec=5\nRestartPreventExitStatus=78\nTimeoutStopSec=330\nTimeoutStartSec=30\nSuccessExitStatus=0 143\nOOMPolicy=continue\nKillMode=mixed\nEnvironment=HOME={h}\nEnvironment=TMPDIR=/tmp\nEnvironment=PATH=/usr/bin:/usr/local/bin:/usr/bin:/bin:{h}/.local/bin\nEnvironment=NODE_OPTIONS=\nEnvironment=OPENCLAW_GATEWAY_PORT={port}\nEnvironment=OPENCLAW_SYSTEMD_UNIT=openclaw-gateway.service\nEnvironment=\"OPENCLAW_WINDOWS_TASK_NAME=OpenClaw Gateway\"\nEnvironment=OPENCLAW_WINDOWS_TASK_HIDDEN_LAUNCHER=1\nEnvironment=OPENCLAW_SERVICE_MARKER=openclaw\nEnvironment=OPENCLAW_SERVICE_KIND=gateway\nEnvironment=OPENCLAW_GATEWAY_TOKEN={TOKEN}\nEnvironment=OPERATOR_FLAG=keep-me\nEnvironment=PROVIDER_API_KEY={PROVIDER_SECRET}\n\n[Install]\nWantedBy=default.target\n"
    )
}

#[test]
fn a_reference_release_unit_with_an_inline_token_is_migrated_and_the_second_run_is_clean() {
    let Some(f) = Fixture::new() else { return };
    let port = support::free_port();
    // A legacy bind alias too: its repair edits the config before the migration persists the
    // token into it.
    let config = f.write_config(&format!(
        "{{ gateway: {{ mode: \"local\", port: {port}, bind: \"127.0.0.1\" }} }}"
    ));
    let unit = f.h.write_unit(
        "openclaw-gateway.service",
        &reference_unit(f.h.home(), port),
    );
    let backup = f.h.write_unit(
        "openclaw-gateway.service.bak",
        &format!("[Service]\nEnvironment=OPENCLAW_GATEWAY_TOKEN={TOKEN}\n"),
    );
    let override_conf = f.h.write_file(
        ".config/systemd/user/openclaw-gateway.service.d/override.conf",
        b"[Service]\nEnvironment=DROPIN_SETTING=1\n",
        0o644,
    );
    f.h.systemctl_ok(&["daemon-reload"]);

    let (out, v) = f.doctor_json();
    assert_eq!(out.code(), Some(1), "{out}");
    let found = ids(&v);
    for want in [
        "service-other-release",
        "service-token-embedded",
        "service-secret-env-embedded",
        "service-not-notify",
        "service-socket-missing",
        "service-hardening-missing",
        "systemd-unit-backup-unsafe",
        "config-legacy-bind",
    ] {
        assert!(found.contains(&want.to_owned()), "{want} missing: {v:#}");
    }
    assert!(
        !out.stdout.contains(TOKEN),
        "the report never shows the token"
    );

    let plan = f.oc(&["doctor", "--fix", "--dry-run"]);
    assert_eq!(plan.code(), Some(1), "{plan}");
    assert!(
        plan.stdout.contains("Repair plan (nothing is changed)"),
        "{plan}"
    );
    assert!(
        plan.stdout
            .contains("persist the inline gateway token as gateway.auth.token"),
        "{plan}"
    );
    assert!(
        !plan.stdout.contains(TOKEN) && !plan.stdout.contains(PROVIDER_SECRET),
        "{plan}"
    );
    assert!(
        std::fs::read_to_string(&unit).unwrap().contains(TOKEN),
        "dry run changed nothing"
    );

    f.fix_then_clean();

    let new_unit = std::fs::read_to_string(&unit).unwrap();
    assert!(
        new_unit.contains("written by `openclaw gateway install`"),
        "{new_unit}"
    );
    assert!(!new_unit.contains(TOKEN) && !new_unit.contains(PROVIDER_SECRET));
    let preserved = f
        .unit_dir()
        .join("openclaw-gateway.service.d/openclaw-preserved.conf");
    let preserved_text = std::fs::read_to_string(&preserved).unwrap();
    assert!(
        preserved_text.contains("Environment=OPERATOR_FLAG=keep-me"),
        "{preserved_text}"
    );
    assert_eq!(
        std::fs::read_to_string(&override_conf).unwrap(),
        "[Service]\nEnvironment=DROPIN_SETTING=1\n",
        "existing drop-ins are untouched"
    );
    let config_text = std::fs::read_to_string(&config).unwrap();
    assert!(
        config_text.contains(TOKEN),
        "token persisted: {config_text}"
    );
    assert_eq!(mode(&config), 0o600);
    let env_file = f.h.home().join(".openclaw/gateway.systemd.env");
    assert!(
        std::fs::read_to_string(&env_file)
            .unwrap()
            .contains(PROVIDER_SECRET)
    );
    assert_eq!(mode(&env_file), 0o600);
    assert_eq!(mode(&backup), 0o600);
    let backup_text = std::fs::read_to_string(&backup).unwrap();
    assert!(!backup_text.contains(TOKEN) && backup_text.contains("OPERATOR_FLAG=keep-me"));
    // The manager sees the operator's settings and runs our gateway.
    let env =
        f.h.systemctl_ok(&["show", "-p", "Environment", "openclaw-gateway.service"]);
    assert!(
        env.contains("OPERATOR_FLAG=keep-me") && env.contains("DROPIN_SETTING=1"),
        "{env}"
    );
    assert_eq!(f.h.active_state("openclaw-gateway.service"), "active");
    f.assert_no_readable_secret(&[TOKEN, PROVIDER_SECRET]);
}

#[test]
fn a_stopped_install_with_a_hand_edited_port_is_reinstalled_keeping_operator_environment() {
    let Some(f) = Fixture::new() else { return };
    let port = f.install();
    // Stopped first: a running unit's command is never rewritten (see
    // a_running_unit_whose_exec_start_drifted_is_neither_rewritten_nor_restarted).
    let stop = f.oc(&["gateway", "stop", "--force"]);
    assert!(stop.success(), "{stop}");
    let unit = f.unit_dir().join("openclaw-gateway.service");
    let edited = std::fs::read_to_string(&unit)
        .unwrap()
        .replace(&format!("--port {port}"), "--port 1")
        .replace(
            "[Service]\n",
            "[Service]\nEnvironment=OPERATOR_FLAG=keep-me\n",
        );
    std::fs::write(&unit, edited).unwrap();

    let (out, v) = f.doctor_json();
    assert_eq!(out.code(), Some(1), "{out}");
    assert_eq!(
        ids(&v),
        ["service-port-mismatch", "service-not-running"],
        "{v:#}"
    );
    assert_eq!(v["repairs"][0]["kind"], "safe");
    assert!(
        v["findings"][0]["message"]
            .as_str()
            .unwrap()
            .ends_with(&format!("1 -> {port}"))
    );

    f.fix_then_clean();
    let text = std::fs::read_to_string(&unit).unwrap();
    assert!(text.contains(&format!("--port {port}")), "{text}");
    let preserved = std::fs::read_to_string(
        f.unit_dir()
            .join("openclaw-gateway.service.d/openclaw-preserved.conf"),
    )
    .unwrap();
    assert!(
        preserved.contains("Environment=OPERATOR_FLAG=keep-me"),
        "{preserved}"
    );
    let env =
        f.h.systemctl_ok(&["show", "-p", "Environment", "openclaw-gateway.service"]);
    assert!(env.contains("OPERATOR_FLAG=keep-me"), "{env}");
    f.assert_no_readable_secret(&[TOKEN]);
}

#[test]
fn a_legacy_com_openclaw_launch_agent_in_a_test_home_gets_a_bootout_and_trash_plan() {
    let home = tempfile::tempdir().unwrap();
    let agents = home.path().join("Library/LaunchAgents");
    std::fs::create_dir_all(&agents).unwrap();
    let plist = agents.join("com.openclaw.gateway.plist");
    std::fs::write(
        &plist,
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\"><dict><key>Label</key><string>com.openclaw.gateway</string><key>ProgramArguments</key><array><string>/usr/local/bin/openclaw</string><string>gateway</string><string>--port</string><string>18789</string></array><key>EnvironmentVariables</key><dict><key>OPENCLAW_GATEWAY_TOKEN</key><string>{TOKEN}</string></dict></dict></plist>\n"
        ),
    )
    .unwrap();
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_openclaw"))
            .args(args)
            .env_clear()
            .env("HOME", home.path())
            .env("PATH", "/usr/bin:/bin")
            .env("USER", "tester")
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (code, stdout) = run(&["doctor", "--json"]);
    assert_eq!(code, Some(1), "{stdout}");
    let v: Value = serde_json::from_str(&stdout).unwrap();
    assert_valid(&v);
    assert_eq!(ids(&v), ["legacy-launch-agent"], "{v:#}");
    assert_eq!(v["findings"][0]["severity"], "error", "it embeds a token");

    let uid = nix::unistd::getuid().as_raw();
    let (code, plan) = run(&["doctor", "--fix", "--dry-run"]);
    assert_eq!(code, Some(1));
    assert!(
        plan.contains(&format!("launchctl bootout gui/{uid}/com.openclaw.gateway")),
        "{plan}"
    );
    assert!(
        plan.contains(&format!(
            "move {} to {}",
            plist.display(),
            home.path()
                .join(".Trash/com.openclaw.gateway.plist")
                .display()
        )),
        "{plan}"
    );
    assert!(plist.exists(), "a dry run changes nothing");

    // On Linux the launchd repair is not executed (the fake-launchctl execution is a unit test).
    let (code, fixed) = run(&["doctor", "--fix", "--yes"]);
    assert_eq!(code, Some(1), "{fixed}");
    assert!(
        fixed.contains("launchd repairs run on macOS only"),
        "{fixed}"
    );
    assert!(plist.exists());
}

#[test]
fn json_with_fix_is_a_usage_error() {
    let home = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_openclaw"))
        .args(["doctor", "--fix", "--json"])
        .env_clear()
        .env("HOME", home.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--json is read-only"));
}

#[test]
fn an_enabled_legacy_clawdbot_unit_with_a_token_is_disabled_and_deleted_with_its_backup() {
    let Some(f) = Fixture::new() else { return };
    let port = support::free_port();
    let unit = f.h.write_unit(
        "clawdbot-gateway.service",
        &format!(
            "[Unit]\nDescription=Clawdbot Gateway\n\n[Service]\nExecStart=/usr/bin/clawdbot gateway --port {port}\nEnvironment=CLAWDBOT_GATEWAY_TOKEN={TOKEN}\n\n[Install]\nWantedBy=default.target\n"
        ),
    );
    let backup =
        f.h.write_unit("clawdbot-gateway.service.bak", "[Service]\n");
    f.h.systemctl_ok(&["daemon-reload"]);
    f.h.systemctl_ok(&["enable", "clawdbot-gateway.service"]);

    let (out, v) = f.doctor_json();
    assert_eq!(out.code(), Some(1), "{out}");
    assert_eq!(ids(&v), ["legacy-service"], "{v:#}");
    assert_eq!(v["findings"][0]["severity"], "error", "it embeds a token");

    f.fix_then_clean();
    assert!(!unit.exists() && !backup.exists());
    let state = f.h.systemctl(&["is-enabled", "clawdbot-gateway.service"]);
    assert!(!state.success(), "no longer enabled: {state}");
}

/// `openclaw doctor --fix` on a terminal (a pty from util-linux `script`), answering `answer`.
fn doctor_fix_on_a_terminal(home: &Path, answer: &str) -> (Option<i32>, String) {
    use std::io::Write;
    let command = format!("{} doctor --fix", env!("CARGO_BIN_EXE_openclaw"));
    let mut child = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env_clear()
        .env("HOME", home)
        .env("PATH", "/usr/bin:/bin")
        .env("TERM", "dumb")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("util-linux `script` runs the command on a pty");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{answer}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn on_a_terminal_fix_asks_per_repair_and_a_no_changes_nothing() {
    let home = tempfile::tempdir().unwrap();
    let state = home.path().join(".openclaw");
    std::fs::create_dir(&state).unwrap();
    std::fs::set_permissions(&state, PermissionsExt::from_mode(0o700)).unwrap();
    let config = state.join("openclaw.json");
    std::fs::write(&config, "{ gateway: { bind: \"0.0.0.0\" } }\n").unwrap();

    let (code, out) = doctor_fix_on_a_terminal(home.path(), "n");
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("Set gateway.bind to \"lan\" in"), "{out}");
    assert!(
        out.contains("? [Y/n]") && out.contains("skipped (declined)"),
        "{out}"
    );
    assert_eq!(
        std::fs::read_to_string(&config).unwrap(),
        "{ gateway: { bind: \"0.0.0.0\" } }\n"
    );

    let (code, out) = doctor_fix_on_a_terminal(home.path(), "y");
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains(": done"), "{out}");
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(text.contains("\"lan\""), "{text}");
}

#[test]
fn an_installed_but_stopped_service_is_started_by_fix_and_the_second_run_is_clean() {
    let Some(f) = Fixture::new() else { return };
    f.install();
    let stop = f.oc(&["gateway", "stop", "--force"]);
    assert!(stop.success(), "{stop}");
    assert_eq!(f.h.active_state("openclaw-gateway.service"), "inactive");

    let (out, v) = f.doctor_json();
    assert_eq!(out.code(), Some(1), "{out}");
    assert_eq!(ids(&v), ["service-not-running"], "{v:#}");
    let finding = &v["findings"][0];
    assert_eq!(finding["severity"], "warning");
    assert_eq!(finding["repair"], "safe");
    assert!(
        finding["message"]
            .as_str()
            .unwrap()
            .starts_with("Gateway service openclaw-gateway.service is installed but not running"),
        "{finding:#}"
    );
    assert_eq!(
        v["repairs"],
        serde_json::json!([{
            "summary": "Start the gateway service of profile default",
            "kind": "safe",
            "findings": ["service-not-running"],
        }])
    );
    let plan = f.oc(&["doctor", "--fix", "--dry-run"]);
    assert!(
        plan.stdout
            .contains("systemctl --user start openclaw-gateway.service    (D-Bus StartUnit)"),
        "{plan}"
    );

    // With the external repair policy doctor only reports it.
    let external = f.oc_env(
        &["doctor", "--fix", "--yes"],
        &[("OPENCLAW_SERVICE_REPAIR_POLICY", "external")],
    );
    assert_eq!(external.code(), Some(1), "{external}");
    assert!(
        external
            .stdout
            .contains("Gateway service is managed externally"),
        "{external}"
    );
    assert_eq!(f.h.active_state("openclaw-gateway.service"), "inactive");

    let fixed = f.oc(&["doctor", "--fix", "--yes"]);
    assert!(
        fixed
            .stdout
            .contains("- Start the gateway service of profile default: done"),
        "{fixed}"
    );
    assert!(
        fixed
            .stdout
            .contains("Started systemd service: openclaw-gateway.service"),
        "{fixed}"
    );
    assert_eq!(fixed.code(), Some(0), "{fixed}");
    f.assert_clean();
    assert_eq!(f.h.active_state("openclaw-gateway.service"), "active");
}

#[test]
fn a_running_unit_whose_exec_start_drifted_is_neither_rewritten_nor_restarted() {
    let Some(f) = Fixture::new() else { return };
    f.install();
    let pid = f.main_pid();
    assert_ne!(pid, 0);
    // The unit now names another program (an older install's path); the manager knows it, the
    // running gateway was started with the current one.
    let unit = f.unit_dir().join("openclaw-gateway.service");
    let bin = f.bin.display().to_string();
    let text = std::fs::read_to_string(&unit).unwrap();
    assert!(text.contains(&format!("ExecStart={bin} ")), "{text}");
    let drifted = text.replace(
        &format!("ExecStart={bin} "),
        &format!("ExecStart={bin}-previous "),
    );
    std::fs::write(&unit, &drifted).unwrap();
    // A repair that does not touch the definition still applies.
    let backup =
        f.h.write_unit("openclaw-gateway.service.bak", "[Service]\n");
    std::fs::set_permissions(&backup, PermissionsExt::from_mode(0o644)).unwrap();
    f.h.systemctl_ok(&["daemon-reload"]);

    let (out, v) = f.doctor_json();
    assert_eq!(out.code(), Some(1), "{out}");
    assert_eq!(
        ids(&v),
        [
            "service-program-mismatch",
            "service-running-rewrite-skipped",
            "systemd-unit-backup-mode"
        ],
        "{v:#}"
    );
    let program = &v["findings"][0];
    assert_eq!(program["repair"], "manual", "{program:#}");
    let note = &v["findings"][1];
    assert_eq!(note["severity"], "info");
    let message = note["message"].as_str().unwrap();
    assert!(
        message.starts_with(&format!(
            "Gateway service openclaw-gateway.service is running (pid {pid}); skipped command/entrypoint rewrites"
        )),
        "{message}"
    );
    assert!(
        note["fix"]
            .as_str()
            .unwrap()
            .contains("openclaw gateway install --force"),
        "{note:#}"
    );
    assert_eq!(
        v["repairs"],
        serde_json::json!([{
            "summary": format!("chmod 0600 {}", backup.display()),
            "kind": "safe",
            "findings": ["systemd-unit-backup-mode"],
        }])
    );

    // Not even --force rewrites the running unit's command.
    let fixed = f.oc(&["doctor", "--fix", "--yes", "--force"]);
    assert_eq!(fixed.code(), Some(1), "{fixed}");
    assert!(
        fixed.stdout.contains("skipped command/entrypoint rewrites")
            && fixed.stdout.contains("openclaw gateway stop"),
        "{fixed}"
    );
    assert!(
        fixed
            .stdout
            .contains(&format!("Set mode 0600 on {}", backup.display())),
        "{fixed}"
    );
    assert_eq!(mode(&backup), 0o600);
    assert_eq!(std::fs::read_to_string(&unit).unwrap(), drifted);
    assert_eq!(f.h.active_state("openclaw-gateway.service"), "active");
    assert_eq!(f.main_pid(), pid, "the unit was not restarted");
}

#[test]
fn a_missing_service_is_reported_and_never_installed_without_a_terminal() {
    let Some(f) = Fixture::new() else { return };
    let port = support::free_port();
    f.write_config(&format!(
        "{{ gateway: {{ mode: \"local\", port: {port} }} }}"
    ));
    let unit = f.unit_dir().join("openclaw-gateway.service");

    let (out, v) = f.doctor_json();
    assert_eq!(out.code(), Some(0), "a note only: {out}");
    assert_eq!(ids(&v), ["service-not-installed"], "{v:#}");
    let finding = &v["findings"][0];
    assert_eq!(finding["severity"], "info");
    assert_eq!(finding["repair"], "interactive");
    assert!(
        finding["message"]
            .as_str()
            .unwrap()
            .starts_with("Gateway service not installed"),
        "{finding:#}"
    );
    assert_eq!(
        v["repairs"],
        serde_json::json!([{
            "summary": "Install the gateway service of profile default",
            "kind": "interactive",
            "findings": ["service-not-installed"],
        }])
    );

    for args in [
        &["doctor", "--fix", "--non-interactive"][..],
        &["doctor", "--fix", "--yes"][..],
    ] {
        let fixed = f.oc(args);
        assert_eq!(fixed.code(), Some(0), "{args:?}: {fixed}");
        assert!(
            fixed.stdout.contains(
                "- Install the gateway service of profile default: skipped (needs an explicit yes on a terminal"
            ),
            "{args:?}: {fixed}"
        );
        assert!(!unit.exists(), "{args:?} installed the service");
    }
}

#[test]
fn next_to_a_system_level_unit_doctor_never_offers_a_second_user_unit() {
    let home = tempfile::tempdir().unwrap();
    let root = tempfile::tempdir().unwrap();
    let state = home.path().join(".openclaw");
    std::fs::create_dir(&state).unwrap();
    std::fs::set_permissions(&state, PermissionsExt::from_mode(0o700)).unwrap();
    let system = root.path().join("etc/systemd/system");
    std::fs::create_dir_all(&system).unwrap();
    std::fs::write(
        system.join("openclaw-gateway.service"),
        "[Service]\nExecStart=/usr/bin/openclaw gateway --port 18789\nEnvironment=OPENCLAW_SERVICE_MARKER=openclaw\n",
    )
    .unwrap();
    let runtime = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_openclaw"))
        .args(["doctor", "--json"])
        .env_clear()
        .env("HOME", home.path())
        .env("PATH", "/usr/bin:/bin")
        .env("XDG_RUNTIME_DIR", runtime.path())
        .env("OPENCLAW_DISCOVERY_ROOT", root.path())
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_valid(&v);
    let missing = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "service-not-installed")
        .unwrap_or_else(|| panic!("{v:#}"));
    assert_eq!(missing["repair"], "manual", "{missing:#}");
    let fix = missing["fix"].as_str().unwrap();
    assert!(
        fix.contains("will not install a second, user-level one")
            && fix.contains("openclaw gateway status --deep")
            && fix.contains("OPENCLAW_SERVICE_REPAIR_POLICY=external"),
        "{fix}"
    );
    assert!(
        v["repairs"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["summary"] != "Install the gateway service of profile default"),
        "{v:#}"
    );
}

#[test]
fn a_unit_whose_state_the_manager_cannot_tell_is_reported_as_undetermined() {
    let home = tempfile::tempdir().unwrap();
    let units = home.path().join(".config/systemd/user");
    std::fs::create_dir_all(&units).unwrap();
    // The probe goes to the unit's port, where nothing listens.
    std::fs::write(
        units.join("openclaw-gateway.service"),
        format!(
            "[Service]\nExecStart=/usr/bin/openclaw gateway --port {}\n",
            support::free_port()
        ),
    )
    .unwrap();
    // An empty runtime dir: no user manager, and the real one of whoever runs the tests is never
    // contacted.
    let runtime = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_openclaw"))
        .args(["doctor", "--json"])
        .env_clear()
        .env("HOME", home.path())
        .env("PATH", "/usr/bin:/bin")
        .env("XDG_RUNTIME_DIR", runtime.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_valid(&v);
    let unknown = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "service-status-unknown")
        .unwrap_or_else(|| panic!("{v:#}"));
    assert!(
        unknown["message"]
            .as_str()
            .unwrap()
            .starts_with("Gateway service status could not be determined: "),
        "{unknown:#}"
    );
    assert_eq!(unknown["severity"], "warning");
    assert_eq!(
        unknown["fix"],
        "Run `openclaw gateway status --deep` and retry doctor."
    );
}

/// Linger off (a linger dir without the user) with an installed unit: `linger-off`, an
/// interactive repair asking "Enable systemd lingering for <user>?", which `--fix --yes` and
/// `--non-interactive` never apply (logind is not available here to enable it for real).
#[test]
fn linger_off_is_offered_as_an_interactive_repair_only() {
    let Some(f) = Fixture::new() else { return };
    f.install();
    std::fs::remove_file(f.linger_dir().join(f.h.user_name())).unwrap();
    let (out, v) = f.doctor_json();
    assert_eq!(out.code(), Some(1), "{out}");
    let user = f.h.user_name();
    let linger: Vec<&Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["id"].as_str().unwrap().starts_with("linger-"))
        .collect();
    assert_eq!(linger.len(), 1, "{v:#}");
    assert_eq!(linger[0]["id"], "linger-off");
    assert_eq!(linger[0]["repair"], "interactive");
    assert!(
        linger[0]["message"]
            .as_str()
            .unwrap()
            .contains("stops the user's manager at logout and kills the gateway"),
        "{v:#}"
    );
    assert!(
        v["repairs"].as_array().unwrap().iter().any(|r| r["summary"]
            == format!("Enable systemd lingering for {user}")
            && r["kind"] == "interactive"),
        "{v:#}"
    );
    for args in [
        &["doctor", "--fix", "--yes"][..],
        &["doctor", "--fix", "--non-interactive"][..],
    ] {
        let fixed = f.oc(args);
        assert_eq!(fixed.code(), Some(1), "{fixed}");
        assert!(
            fixed.stdout.contains(&format!(
                "- Enable systemd lingering for {user}: skipped (needs an explicit yes on a terminal"
            )),
            "{fixed}"
        );
        assert!(!f.linger_dir().join(user).exists());
    }
}

/// A unit of another (earlier) release of this gateway that runs: that release's binary,
/// socket-activated on the addresses this release listens on (a socket whose addresses change
/// must be restarted, which resets the connections waiting in its backlog: RELIABILITY.md),
/// the token and a provider key inline, an operator setting, mode 0644 — and a 0644 `.bak`
/// that holds the token too (issue 15, fault 3).
fn running_legacy_unit(f: &Fixture, socket: bool) -> (u16, PathBuf, PathBuf) {
    let port = support::free_port();
    f.write_config(&format!(
        "{{ gateway: {{ mode: \"local\", port: {port} }} }}"
    ));
    let h = f.h.home().display();
    // That release's binary lives elsewhere: the command differs from what install writes.
    let old_bin = f.h.write_file(
        ".local/lib/openclaw-0.0.9/openclaw",
        &std::fs::read(&f.bin).unwrap(),
        0o755,
    );
    let bin = old_bin.display();
    let (requires, socket_text) = if socket {
        (
            "Requires=openclaw-gateway.socket\nAfter=openclaw-gateway.socket\n",
            Some(format!(
                "[Unit]\nDescription=OpenClaw Gateway socket\n\n[Socket]\nListenStream=127.0.0.1:{port}\nListenStream=[::1]:{port}\nFileDescriptorName=gateway\nAccept=no\n\n[Install]\nWantedBy=sockets.target\n"
            )),
        )
    } else {
        ("", None)
    };
    let unit = f.h.write_unit(
        "openclaw-gateway.service",
        &format!(
            "[Unit]\nDescription=OpenClaw Gateway (v0.0.9)\n{requires}\n[Service]\nType=notify\nExecStart={bin} gateway --port {port}\nRestart=always\nWorkingDirectory={h}/.openclaw\nEnvironment=HOME={h}\nEnvironment=OPENCLAW_SERVICE_MARKER=openclaw\nEnvironment=OPENCLAW_SERVICE_KIND=gateway\nEnvironment=OPENCLAW_SERVICE_VERSION=0.0.9\nEnvironment=OPENCLAW_GATEWAY_TOKEN={TOKEN}\nEnvironment=OPERATOR_FLAG=keep-me\nEnvironment=PROVIDER_API_KEY={PROVIDER_SECRET}\n\n[Install]\nWantedBy=default.target\n"
        ),
    );
    std::fs::set_permissions(&unit, PermissionsExt::from_mode(0o644)).unwrap();
    if let Some(text) = socket_text {
        f.h.write_unit("openclaw-gateway.socket", &text);
    }
    let backup = f.h.write_unit(
        "openclaw-gateway.service.bak",
        &format!("[Service]\nEnvironment=OPENCLAW_GATEWAY_TOKEN={TOKEN}\n"),
    );
    std::fs::set_permissions(&backup, PermissionsExt::from_mode(0o644)).unwrap();
    f.h.systemctl_ok(&["daemon-reload"]);
    if socket {
        f.h.systemctl_ok(&["start", "openclaw-gateway.socket"]);
    }
    f.h.systemctl_ok(&["start", "openclaw-gateway.service"]);
    assert_eq!(f.h.active_state("openclaw-gateway.service"), "active");
    assert_eq!(readyz(port), Some(200));
    (port, unit, backup)
}

/// `GET /readyz` on 127.0.0.1:`port`: the status, `None` when the connection failed.
fn readyz(port: u16) -> Option<u16> {
    support::http_get(port, "/readyz").map(|(code, _)| code)
}

/// One `GET /healthz`: the status, or how the exchange failed (`connect: …`, `read: …`).
fn healthz(port: u16) -> Result<u16, String> {
    use std::io::{Read, Write};
    let mut s =
        std::net::TcpStream::connect(("127.0.0.1", port)).map_err(|e| format!("connect: {e}"))?;
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .map_err(|e| format!("write: {e}"))?;
    let mut answer = String::new();
    s.read_to_string(&mut answer)
        .map_err(|e| format!("read: {e}"))?;
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| format!("answer: {answer:?}"))
}

/// A client hitting `/healthz` every 5 ms until stopped: (answered, failures).
fn traffic(
    port: u16,
) -> (
    std::sync::Arc<std::sync::atomic::AtomicBool>,
    std::thread::JoinHandle<(u32, Vec<String>)>,
) {
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = stop.clone();
    let handle = std::thread::spawn(move || {
        let (mut ok, mut failed) = (0, Vec::new());
        while !flag.load(std::sync::atomic::Ordering::SeqCst) {
            match healthz(port) {
                Ok(200) => ok += 1,
                other => failed.push(format!("{other:?}")),
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        (ok, failed)
    });
    (stop, handle)
}

#[test]
fn fix_yes_migrates_a_running_unit_of_another_release_through_its_socket_refusing_nothing() {
    let Some(f) = Fixture::new() else { return };
    let (port, unit, backup) = running_legacy_unit(&f, true);
    let (out, v) = f.doctor_json();
    assert_eq!(out.code(), Some(1), "{out}");
    let found = ids(&v);
    for want in [
        "service-other-release",
        "service-token-embedded",
        "systemd-unit-backup-unsafe",
    ] {
        assert!(found.contains(&want.to_owned()), "{want} missing: {v:#}");
    }
    // A report holds the rewrite back (the service runs), and says how to release it.
    assert!(
        found.contains(&"service-running-rewrite-skipped".to_owned()),
        "{v:#}"
    );

    let (stop, load) = traffic(port);
    std::thread::sleep(Duration::from_millis(200));
    let fixed = f.oc(&["doctor", "--fix", "--yes"]);
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let (answered, failed) = load.join().unwrap();
    assert_eq!(
        fixed.code(),
        Some(0),
        "{fixed}\nmanager log:\n{}",
        f.h.manager_log()
    );
    assert!(answered > 20, "{answered} requests answered");
    assert!(
        failed.is_empty(),
        "{} of {} requests failed during the migration: {failed:?}",
        failed.len(),
        answered as usize + failed.len()
    );
    eprintln!("migration under traffic: {answered} answered, 0 failed");

    let new_unit = std::fs::read_to_string(&unit).unwrap();
    assert!(
        new_unit.contains("written by `openclaw gateway install`"),
        "{new_unit}"
    );
    let preserved = std::fs::read_to_string(
        f.unit_dir()
            .join("openclaw-gateway.service.d/openclaw-preserved.conf"),
    )
    .unwrap();
    assert!(
        preserved.contains("Environment=OPERATOR_FLAG=keep-me"),
        "{preserved}"
    );
    assert_eq!(mode(&backup), 0o600);
    f.assert_no_readable_secret(&[TOKEN, PROVIDER_SECRET]);
    assert_eq!(readyz(port), Some(200));
    f.assert_clean();
}

#[test]
fn fix_non_interactive_moves_inline_secrets_out_of_a_running_unit_without_restarting_it() {
    let Some(f) = Fixture::new() else { return };
    let (port, unit, backup) = running_legacy_unit(&f, false);
    let pid = f.main_pid();
    let fixed = f.oc(&["doctor", "--fix", "--non-interactive"]);
    // The rewrite of the running definition stays held back (spec §6.3): findings remain.
    assert_eq!(fixed.code(), Some(1), "{fixed}");
    assert!(fixed.stdout.contains("Move the inline secrets of the gateway service of profile default into its 0600 env file (no restart): done"), "{fixed}");
    assert!(
        fixed.stdout.contains("skipped command/entrypoint rewrites"),
        "{fixed}"
    );
    assert_eq!(f.main_pid(), pid, "the running gateway was not restarted");
    let text = std::fs::read_to_string(&unit).unwrap();
    assert!(
        !text.contains(TOKEN) && !text.contains(PROVIDER_SECRET),
        "{text}"
    );
    assert!(
        text.contains("Environment=OPERATOR_FLAG=keep-me"),
        "the operator's line stays: {text}"
    );
    assert!(
        text.contains("ExecStart=") && text.contains(&format!("--port {port}")),
        "{text}"
    );
    let env_file = f.h.home().join(".openclaw/gateway.systemd.env");
    let env_text = std::fs::read_to_string(&env_file).unwrap();
    assert!(env_text.contains(TOKEN) && env_text.contains(PROVIDER_SECRET));
    assert_eq!(mode(&env_file), 0o600);
    assert_eq!(mode(&backup), 0o600);
    f.assert_no_readable_secret(&[TOKEN, PROVIDER_SECRET]);
    // The manager reads the secrets from the env file now: a restart keeps the same token.
    let env =
        f.h.systemctl_ok(&["show", "-p", "Environment", "openclaw-gateway.service"]);
    assert!(!env.contains(TOKEN), "{env}");
    f.h.systemctl_ok(&["restart", "openclaw-gateway.service"]);
    let pid_after = f.main_pid();
    let environ = std::fs::read(format!("/proc/{pid_after}/environ")).unwrap();
    assert!(
        environ
            .split(|b| *b == 0)
            .any(|kv| kv == format!("OPENCLAW_GATEWAY_TOKEN={TOKEN}").as_bytes()),
        "the restarted gateway has the token from the env file"
    );
    assert_eq!(readyz(port), Some(200));
    // And the second run finds no secret to move.
    let (_, v) = f.doctor_json();
    assert!(
        !ids(&v)
            .iter()
            .any(|id| id.contains("token-embedded") || id.contains("secret-env")),
        "{v:#}"
    );
}
