//! The `openclaw` binary's command line, run as a user would run it.

use std::path::Path;
use std::process::{Command, Output};

fn openclaw(args: &[&str], home: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_openclaw"))
        .args(args)
        .env_clear()
        .env("HOME", home)
        .env("PATH", "/usr/bin:/bin")
        .output()
        .expect("run openclaw")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn help_shows_the_whole_command_tree() {
    let home = tempfile::tempdir().unwrap();
    let out = openclaw(&["--help"], home.path());
    assert!(out.status.success());
    let text = stdout(&out);
    for word in [
        "gateway",
        "setup",
        "status",
        "health",
        "doctor",
        "logs",
        "completions",
        "--profile",
        "--dev",
        "--verbose",
        "--no-color",
    ] {
        assert!(text.contains(word), "missing {word} in:\n{text}");
    }
    let out = openclaw(&["gateway", "--help"], home.path());
    let text = stdout(&out);
    for verb in [
        "run",
        "install",
        "uninstall",
        "start",
        "stop",
        "restart",
        "status",
        "health",
        "call",
    ] {
        assert!(
            text.contains(&format!("  {verb} ")),
            "missing {verb} in:\n{text}"
        );
    }
}

#[test]
fn a_bad_profile_exits_2_with_the_documented_message() {
    let home = tempfile::tempdir().unwrap();
    for args in [
        &["--profile", "bad name!", "gateway", "status"][..],
        &["gateway", "status", "--profile", "-x"][..],
        &["doctor", "--profile=a.b"][..],
    ] {
        let out = openclaw(args, home.path());
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            stderr(&out).contains("Invalid --profile (use letters, numbers, \"_\", \"-\" only)"),
            "{args:?}: {}",
            stderr(&out)
        );
    }
}

#[test]
fn a_bad_openclaw_profile_env_is_refused_the_same_way() {
    let home = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_openclaw"))
        .args(["gateway", "status"])
        .env_clear()
        .env("HOME", home.path())
        .env("OPENCLAW_PROFILE", "no way")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("Invalid --profile"));
}

#[test]
fn dev_with_profile_exits_2() {
    let home = tempfile::tempdir().unwrap();
    let out = openclaw(
        &["--dev", "--profile", "x", "gateway", "status"],
        home.path(),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("Cannot combine --dev with --profile"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn doctor_in_an_empty_home_is_clean_and_writes_nothing() {
    let home = tempfile::tempdir().unwrap();
    let out = openclaw(&["doctor"], home.path());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("No problems found"),
        "doctor printed {}",
        stdout(&out)
    );
    assert!(
        std::fs::read_dir(home.path()).unwrap().next().is_none(),
        "nothing written to HOME"
    );
}

/// A gateway token in a file the config `$include`s (below `gateway.auth`) is audited like one
/// in the root config: readable by others it is a `secret-file-mode` error naming that file,
/// `--fix --yes` makes it 0600, and the next run is clean.
#[test]
fn doctor_makes_an_included_file_holding_the_gateway_token_private() {
    use std::os::unix::fs::PermissionsExt;
    let home = tempfile::tempdir().unwrap();
    let state = home.path().join(".openclaw");
    std::fs::create_dir(&state).unwrap();
    std::fs::set_permissions(&state, PermissionsExt::from_mode(0o700)).unwrap();
    let config = state.join("openclaw.json");
    std::fs::write(
        &config,
        "{ gateway: { mode: \"local\", auth: { $include: \"./auth.json5\" } } }\n",
    )
    .unwrap();
    std::fs::set_permissions(&config, PermissionsExt::from_mode(0o644)).unwrap();
    let auth = state.join("auth.json5");
    std::fs::write(&auth, "{ mode: \"token\", token: \"included-t0ken\" }\n").unwrap();
    std::fs::set_permissions(&auth, PermissionsExt::from_mode(0o644)).unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;

    let out = openclaw(&["doctor", "--json"], home.path());
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings: Vec<&serde_json::Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["id"] == "secret-file-mode")
        .collect();
    assert_eq!(findings.len(), 1, "{v:#}");
    assert_eq!(findings[0]["path"], auth.display().to_string(), "{v:#}");
    assert_eq!(findings[0]["repair"], "safe");
    assert!(
        v["repairs"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["summary"] == format!("chmod 0600 {}", auth.display())),
        "{v:#}"
    );
    let text = stdout(&openclaw(&["doctor"], home.path()));
    assert!(
        text.contains("(secret-file-mode)") && text.contains("included config file"),
        "{text}"
    );

    let fixed = openclaw(&["doctor", "--fix", "--yes"], home.path());
    assert_eq!(fixed.status.code(), Some(0), "{}", stdout(&fixed));
    assert_eq!(mode(&auth), 0o600);
    // The root holds no secret of its own: its mode is the operator's.
    assert_eq!(mode(&config), 0o644);
    let again = openclaw(&["doctor", "--json"], home.path());
    assert_eq!(again.status.code(), Some(0), "{}", stdout(&again));
    let v: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(v["ok"], true, "{v:#}");
}

/// A unit a distribution package installed (`/usr/lib/systemd/user`, here under a test root) is
/// recognised as the service: doctor names it instead of asking for `gateway install`, and leaves
/// the package's file alone.
#[test]
fn doctor_recognises_a_packaged_user_unit_and_leaves_it_alone() {
    let home = tempfile::tempdir().unwrap();
    let root = tempfile::tempdir().unwrap();
    let unit_dir = root.path().join("usr/lib/systemd/user");
    std::fs::create_dir_all(&unit_dir).unwrap();
    let shipped = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("packaging/generated/systemd/user/openclaw-gateway.service"),
    )
    .unwrap();
    let unit = unit_dir.join("openclaw-gateway.service");
    std::fs::write(&unit, &shipped).unwrap();
    let doctor_json = || {
        Command::new(env!("CARGO_BIN_EXE_openclaw"))
            .args(["doctor", "--json"])
            .env_clear()
            .env("HOME", home.path())
            .env("PATH", "/usr/bin:/bin")
            .env("OPENCLAW_DISCOVERY_ROOT", root.path())
            .output()
            .unwrap()
    };
    let out = doctor_json();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ids: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["service-packaged-unit"], "{report:#}");
    assert_eq!(
        report["findings"][0]["path"].as_str(),
        Some(unit.to_str().unwrap())
    );
    assert_eq!(
        std::fs::read(&unit).unwrap(),
        shipped,
        "the package's unit is untouched"
    );
    // Without the packaged unit the same home has nothing to report.
    std::fs::remove_file(&unit).unwrap();
    let out = doctor_json();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["findings"], serde_json::json!([]), "{report:#}");
}

/// Without a reachable user manager the service verbs fail with a diagnosis naming what is
/// missing, and touch nothing. `XDG_RUNTIME_DIR` points at an empty directory, so the real user
/// manager of whoever runs the tests is never contacted.
#[cfg(target_os = "linux")]
#[test]
fn service_verbs_without_a_user_manager_say_what_is_missing() {
    let home = tempfile::tempdir().unwrap();
    let runtime = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_openclaw"))
            .args(args)
            .env_clear()
            .env("HOME", home.path())
            .env("PATH", "/usr/bin:/bin")
            .env("XDG_RUNTIME_DIR", runtime.path())
            .output()
            .expect("run openclaw")
    };
    for args in [
        &["gateway", "install"][..],
        &["gateway", "uninstall"][..],
        &["gateway", "start"][..],
        &["gateway", "stop", "--force"][..],
        &["gateway", "restart"][..],
    ] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.contains("systemd user manager unavailable")
                && err.contains(&format!("{}/bus is missing", runtime.path().display()))
                && err.contains(&format!(
                    "private socket {}/systemd/private is missing",
                    runtime.path().display()
                )),
            "{args:?}: {err}"
        );
        assert!(
            err.contains("Tip: ") || err.contains("hint: "),
            "{args:?}: {err}"
        );
        assert!(
            err.contains("sudo openclaw gateway install --system"),
            "{err}"
        );
    }
    let out = run(&["gateway", "install", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(v["ok"], false);
    assert_eq!(v["action"], "install");
    assert!(!v["error"].as_str().unwrap().contains("XDG_RUNTIME_DIR"));
    assert!(v["hints"].as_array().is_some_and(|h| !h.is_empty()), "{v}");
    assert!(
        std::fs::read_dir(home.path()).unwrap().next().is_none(),
        "nothing written to HOME"
    );
}

#[test]
fn completions_are_generated_for_each_shell() {
    let home = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let out = openclaw(&["completions", shell], home.path());
        assert!(out.status.success(), "{shell}");
        let text = stdout(&out);
        assert!(
            text.contains("openclaw") && text.contains("gateway"),
            "{shell}"
        );
    }
    let out = openclaw(&["completions", "tcsh"], home.path());
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn missing_home_is_a_clear_usage_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_openclaw"))
        .args(["gateway", "status"])
        .env_clear()
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("Missing HOME"), "{}", stderr(&out));
}

#[test]
fn version_prints_the_crate_version() {
    let home = tempfile::tempdir().unwrap();
    let out = openclaw(&["--version"], home.path());
    assert!(stdout(&out).starts_with(&format!("openclaw {}", env!("CARGO_PKG_VERSION"))));
}

fn openclaw_as(args: &[&str], home: &Path, user: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_openclaw"))
        .args(args)
        .env_clear()
        .env("HOME", home)
        .env("USER", user)
        .env("PATH", "/usr/bin:/bin")
        .output()
        .expect("run openclaw")
}

#[test]
fn dry_runs_render_macos_and_windows_plans_from_any_host_and_write_nothing() {
    let home = tempfile::tempdir().unwrap();
    let plist = home
        .path()
        .join("Library/LaunchAgents/bot.molt.rescue.plist");
    let out = openclaw_as(
        &[
            "--profile",
            "rescue",
            "gateway",
            "install",
            "--dry-run",
            "--platform",
            "macos",
        ],
        home.path(),
        "alice",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.starts_with("Plan: install on macos (launchd)"),
        "{text}"
    );
    assert!(
        text.contains(&format!("{} (mode 0644", plist.display())),
        "{text}"
    );
    assert!(
        text.contains("      | \t<string>bot.molt.rescue</string>"),
        "{text}"
    );
    assert!(text.contains("launchctl enable gui/"), "{text}");
    assert!(text.contains("launchctl bootstrap gui/"), "{text}");

    let out = openclaw_as(
        &[
            "gateway",
            "install",
            "--dry-run",
            "--platform",
            "windows",
            "--json",
        ],
        home.path(),
        "alice",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(plan["platform"], "windows");
    assert!(
        plan["files"][0]["contents"]
            .as_str()
            .unwrap()
            .starts_with("base64://")
    );
    let steps: Vec<String> = plan["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["args"][0].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(steps, ["/Delete", "/End", "/Create", "/Query", "/Run"]);
    let out = openclaw_as(
        &["gateway", "install", "--dry-run", "--platform", "windows"],
        home.path(),
        "alice",
    );
    let text = stdout(&out);
    assert!(
        text.contains("      |       <RunLevel>LeastPrivilege</RunLevel>"),
        "{text}"
    );
    assert!(
        text.contains("  4. schtasks /Query /TN \"OpenClaw Gateway\" /XML\n"),
        "cmd.exe quoting: {text}"
    );

    for platform in ["macos", "windows"] {
        let out = openclaw_as(
            &["gateway", "uninstall", "--dry-run", "--platform", platform],
            home.path(),
            "alice",
        );
        assert!(out.status.success(), "{platform}: {}", stderr(&out));
        assert!(stdout(&out).starts_with(&format!("Plan: uninstall on {platform}")));
    }
    assert!(
        std::fs::read_dir(home.path()).unwrap().next().is_none(),
        "nothing written to HOME"
    );
    let out = openclaw_as(
        &["gateway", "install", "--platform", "macos"],
        home.path(),
        "alice",
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

/// `gateway stop` from a script (stdin not a terminal) is not refused for being
/// non-interactive: it goes on to the service manager (unreachable here, so it fails for that
/// reason). Only a stop from inside the gateway's own process tree is refused without --force.
#[cfg(target_os = "linux")]
#[test]
fn stop_without_a_terminal_reaches_the_service_manager_unless_run_inside_the_gateway() {
    let home = tempfile::tempdir().unwrap();
    let runtime = tempfile::tempdir().unwrap();
    let run = |args: &[&str], env: &[(&str, &str)]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_openclaw"));
        cmd.args(args)
            .env_clear()
            .env("HOME", home.path())
            .env("PATH", "/usr/bin:/bin")
            .env("XDG_RUNTIME_DIR", runtime.path())
            .stdin(std::process::Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().expect("run openclaw")
    };
    let out = run(&["gateway", "stop"], &[]);
    let err = stderr(&out);
    assert!(
        !err.contains("This stops the operator's running gateway service")
            && !err.contains("re-run with --force"),
        "refused for want of a terminal: {err}"
    );
    assert!(err.contains("systemd user manager unavailable"), "{err}");
    let out = run(&["gateway", "stop", "--json"], &[]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(v["action"], "stop");
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .contains("systemd user manager unavailable"),
        "{v}"
    );

    // Inside the gateway's process tree (the service environment's marker): refused, exit 1.
    let inside = [
        ("OPENCLAW_SERVICE_MARKER", "openclaw"),
        ("OPENCLAW_SERVICE_KIND", "gateway"),
    ];
    let out = run(&["gateway", "stop"], &inside);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("from inside its own process tree")
            && err.contains("OPENCLAW_SERVICE_KIND=gateway")
            && err.contains("re-run with --force"),
        "{err}"
    );
    assert!(!err.contains("systemd user manager unavailable"), "{err}");
    // --force is still accepted: on to the service manager.
    let out = run(&["gateway", "stop", "--force"], &inside);
    assert!(
        stderr(&out).contains("systemd user manager unavailable"),
        "{}",
        stderr(&out)
    );
    assert!(
        std::fs::read_dir(home.path()).unwrap().next().is_none(),
        "nothing written to HOME"
    );
}

/// A Windows dry run from Linux with no USERNAME, USER or LOGNAME takes the account name from
/// the passwd entry of the current uid.
#[cfg(unix)]
#[test]
fn a_windows_dry_run_without_user_variables_names_the_passwd_account() {
    let home = tempfile::tempdir().unwrap();
    let name = nix_user_name();
    let out = openclaw(
        &["gateway", "install", "--dry-run", "--platform", "windows"],
        home.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains(&format!("<UserId>{name}</UserId>")),
        "{name}: {text}"
    );
}

#[cfg(unix)]
fn nix_user_name() -> String {
    // SAFETY: getpwuid returns a pointer to static storage; read immediately, single thread.
    unsafe {
        let pw = libc::getpwuid(libc::geteuid());
        assert!(!pw.is_null(), "the test user has a passwd entry");
        std::ffi::CStr::from_ptr((*pw).pw_name)
            .to_string_lossy()
            .into_owned()
    }
}

/// `gateway install --dry-run` with no config says install would first run setup, and writes
/// nothing; with --allow-unconfigured (or a config) it does not.
#[test]
fn an_install_dry_run_without_a_config_notes_the_setup_step() {
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join(".openclaw/openclaw.json");
    let note = format!(
        "No config at {}: install will first write a minimal one (openclaw setup)",
        config.display()
    );
    let out = openclaw(
        &["gateway", "install", "--dry-run", "--platform", "linux"],
        home.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains(&format!("  - {note}\n")),
        "{}",
        stdout(&out)
    );
    let out = openclaw(
        &[
            "gateway",
            "install",
            "--dry-run",
            "--platform",
            "linux",
            "--json",
        ],
        home.path(),
    );
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        plan["notes"].as_array().unwrap().iter().any(|n| n == &note),
        "{plan}"
    );
    let out = openclaw(
        &[
            "gateway",
            "install",
            "--dry-run",
            "--platform",
            "linux",
            "--allow-unconfigured",
        ],
        home.path(),
    );
    assert!(!stdout(&out).contains("No config at"), "{}", stdout(&out));
    assert!(
        std::fs::read_dir(home.path()).unwrap().next().is_none(),
        "nothing written to HOME"
    );
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(&config, "{gateway: {mode: 'local'}}").unwrap();
    let out = openclaw(
        &["gateway", "install", "--dry-run", "--platform", "linux"],
        home.path(),
    );
    assert!(!stdout(&out).contains("No config at"), "{}", stdout(&out));
}
