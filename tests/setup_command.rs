//! `openclaw setup` on a fresh account, run as a user would run it: what it writes (and with
//! which modes), what it leaves alone, and that a second run changes nothing.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::SystemTime;

use serde_json::{Value, json};

fn openclaw(args: &[&str], home: &Path, env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_openclaw"));
    cmd.args(args)
        .env_clear()
        .env("HOME", home)
        .env("PATH", "/usr/bin:/bin");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run openclaw")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

/// Every path under `dir` with its bytes (files) and modification time.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (Option<Vec<u8>>, SystemTime, u32)> {
    fn walk(dir: &Path, out: &mut BTreeMap<PathBuf, (Option<Vec<u8>>, SystemTime, u32)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            let bytes = meta.is_file().then(|| std::fs::read(&path).unwrap());
            out.insert(
                path.clone(),
                (bytes, meta.modified().unwrap(), meta.permissions().mode()),
            );
            if meta.is_dir() {
                walk(&path, out);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, &mut out);
    out
}

#[test]
fn an_empty_home_gets_exactly_the_minimal_config_the_token_and_the_workspace() {
    let home = tempfile::tempdir().unwrap();
    let state = home.path().join(".openclaw");
    let config = state.join("openclaw.json");
    let token = state.join("gateway.token");
    let workspace = state.join("workspace");

    let out = openclaw(&["setup"], home.path(), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let parsed: Value = serde_json::from_str(&std::fs::read_to_string(&config).unwrap()).unwrap();
    assert_eq!(parsed, json!({"gateway": {"mode": "local"}}));
    assert_eq!(mode(&config), 0o600);
    assert_eq!(mode(&token), 0o600);
    assert_eq!(mode(&state), 0o700);
    assert!(workspace.is_dir());
    assert_eq!(mode(&workspace), 0o700);
    for line in [
        format!("Created state dir {} (mode 0700)", state.display()),
        format!(
            "Wrote config {} (gateway.mode = \"local\", mode 0600)",
            config.display()
        ),
        format!("Generated gateway token {} (mode 0600)", token.display()),
        format!("Created workspace {}", workspace.display()),
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in:\n{text}"
        );
    }
    let secret = std::fs::read_to_string(&token).unwrap();
    let secret = secret.trim();
    assert!(secret.len() >= 32, "a real token was generated");
    assert!(!text.contains(secret) && !stderr(&out).contains(secret));
    // The gateway accepts the config as written (no exit 78 for a missing gateway.mode).
    let check = openclaw(
        &["gateway", "status", "--json", "--no-probe"],
        home.path(),
        &[],
    );
    let report: Value = serde_json::from_slice(&check.stdout).unwrap();
    assert_eq!(report["config"]["valid"], true, "{report}");

    // Second run: no byte, no mtime, no mode changes; it says so.
    let before = snapshot(home.path());
    std::thread::sleep(std::time::Duration::from_millis(20));
    let out = openclaw(&["setup"], home.path(), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        snapshot(home.path()),
        before,
        "the second run changed something"
    );
    let text = stdout(&out);
    assert!(
        text.contains(&format!(
            "Config {} already sets gateway.mode = \"local\" (left as it is)",
            config.display()
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "Gateway token {} exists (left as it is)",
            token.display()
        )),
        "{text}"
    );
    assert!(
        text.contains("Nothing to do: already set up, nothing was changed."),
        "{text}"
    );
    assert!(!text.contains(secret));
}

#[test]
fn a_config_without_gateway_mode_keeps_its_keys_and_a_backup() {
    let home = tempfile::tempdir().unwrap();
    let state = home.path().join(".openclaw");
    std::fs::create_dir_all(&state).unwrap();
    let config = state.join("openclaw.json");
    let original = "// mine\n{\n  logging: { level: 'debug' },\n  gateway: { port: 18800 },\n  channels: { x: [1, 2] },\n}\n";
    std::fs::write(&config, original).unwrap();

    let out = openclaw(&["setup"], home.path(), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let written: Value = serde_json::from_str(&std::fs::read_to_string(&config).unwrap()).unwrap();
    assert_eq!(
        written,
        json!({
            "logging": {"level": "debug"},
            "gateway": {"port": 18800, "mode": "local"},
            "channels": {"x": [1, 2]},
        })
    );
    let backup = state.join("openclaw.json.bak");
    assert_eq!(std::fs::read_to_string(&backup).unwrap(), original);
    assert_eq!(mode(&backup), 0o600);
    assert!(
        stdout(&out).contains(&format!(
            "Set gateway.mode = \"local\" in config {} (previous content kept in {})",
            config.display(),
            backup.display()
        )),
        "{}",
        stdout(&out)
    );
}

#[test]
fn an_existing_gateway_mode_is_never_changed() {
    let home = tempfile::tempdir().unwrap();
    let state = home.path().join(".openclaw");
    std::fs::create_dir_all(&state).unwrap();
    let config = state.join("openclaw.json");
    let original = "{ gateway: { mode: 'remote', remote: { url: 'ws://10.0.0.2:18789' } } }";
    std::fs::write(&config, original).unwrap();
    let out = openclaw(&["setup"], home.path(), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&config).unwrap(), original);
    assert!(!state.join("openclaw.json.bak").exists());
    assert!(
        stdout(&out).contains(&format!(
            "Config {} already sets gateway.mode = \"remote\" (left as it is)",
            config.display()
        )),
        "{}",
        stdout(&out)
    );
}

#[test]
fn json_prints_one_object_with_what_was_written_and_never_the_token() {
    let home = tempfile::tempdir().unwrap();
    let out = openclaw(&["setup", "--json"], home.path(), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    let state = home.path().join(".openclaw");
    assert_eq!(v["ok"], true);
    assert_eq!(v["changed"], true);
    assert_eq!(v["stateDir"]["action"], "created");
    assert_eq!(
        v["config"]["path"],
        state.join("openclaw.json").to_str().unwrap()
    );
    assert_eq!(v["config"]["action"], "written");
    assert_eq!(v["config"]["gatewayMode"], "local");
    assert_eq!(v["config"]["fileMode"], "0600");
    assert_eq!(v["token"]["action"], "generated");
    assert_eq!(
        v["token"]["path"],
        state.join("gateway.token").to_str().unwrap()
    );
    assert_eq!(v["workspace"]["action"], "created");
    assert_eq!(v["messages"].as_array().unwrap().len(), 4, "{v}");
    let secret = std::fs::read_to_string(state.join("gateway.token")).unwrap();
    assert!(!stdout(&out).contains(secret.trim()));

    let out = openclaw(&["setup", "--json"], home.path(), &[]);
    let v: Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(v["changed"], false);
    assert_eq!(v["config"]["action"], "unchanged");
    assert_eq!(v["token"]["action"], "exists");
    assert_eq!(v["stateDir"]["action"], "exists");
    assert_eq!(v["workspace"]["action"], "exists");
}

#[test]
fn a_configured_token_means_no_token_file_is_generated() {
    let home = tempfile::tempdir().unwrap();
    let secret = "env-token-never-printed-0123456789";
    let out = openclaw(
        &["setup"],
        home.path(),
        &[("OPENCLAW_GATEWAY_TOKEN", secret)],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!home.path().join(".openclaw/gateway.token").exists());
    let text = stdout(&out);
    assert!(
        text.contains("Gateway auth is configured (env OPENCLAW_GATEWAY_TOKEN)"),
        "{text}"
    );
    assert!(!text.contains(secret));
    let file = home.path().join("pw");
    std::fs::write(&file, "pw-from-file\n").unwrap();
    let out = openclaw(
        &["setup", "--json"],
        home.path(),
        &[("OPENCLAW_GATEWAY_PASSWORD_FILE", file.to_str().unwrap())],
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["token"]["action"], "configured", "{v}");
    assert_eq!(v["token"]["source"], file.to_str().unwrap());
    assert!(!stdout(&out).contains("pw-from-file"));
    assert!(!home.path().join(".openclaw/gateway.token").exists());
}

#[test]
fn dev_sets_up_the_dev_profile_in_its_own_state_dir() {
    let home = tempfile::tempdir().unwrap();
    let out = openclaw(&["--dev", "setup"], home.path(), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let state = home.path().join(".openclaw-dev");
    let parsed: Value =
        serde_json::from_str(&std::fs::read_to_string(state.join("openclaw.json")).unwrap())
            .unwrap();
    assert_eq!(parsed, json!({"gateway": {"mode": "local"}}));
    assert_eq!(mode(&state.join("gateway.token")), 0o600);
    assert!(home.path().join(".openclaw/workspace-dev").is_dir());
    assert!(!home.path().join(".openclaw/openclaw.json").exists());
    assert!(!home.path().join(".openclaw/gateway.token").exists());
    assert!(
        stdout(&out).contains(&format!(
            "Wrote config {}",
            state.join("openclaw.json").display()
        )),
        "{}",
        stdout(&out)
    );
}

#[test]
fn a_broken_config_is_reported_with_file_and_line_and_left_byte_identical() {
    let home = tempfile::tempdir().unwrap();
    let state = home.path().join(".openclaw");
    std::fs::create_dir_all(&state).unwrap();
    let config = state.join("openclaw.json");
    let broken = "{\n  gateway: {\n    port: 18789\n    mode: 'local'\n  }\n}\n";
    std::fs::write(&config, broken).unwrap();
    let before = snapshot(home.path());
    let out = openclaw(&["setup"], home.path(), &[]);
    assert_ne!(out.status.code(), Some(0));
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "{}:4:5: invalid JSON5 in config",
            config.display()
        )),
        "{err}"
    );
    assert!(err.contains("fix the file; it was not modified"), "{err}");
    assert_eq!(std::fs::read_to_string(&config).unwrap(), broken);
    assert_eq!(snapshot(home.path()), before, "nothing was written");
    let out = openclaw(&["setup", "--json"], home.path(), &[]);
    assert_ne!(out.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(v["ok"], false);
    assert!(v["error"].as_str().unwrap().contains(":4:5:"), "{v}");
}

#[test]
fn a_state_dir_that_cannot_be_created_names_the_path_and_the_fix() {
    let home = tempfile::tempdir().unwrap();
    // A file where the state dir should be (root ignores permission bits, so not a chmod).
    let blocker = home.path().join(".openclaw");
    std::fs::write(&blocker, "not a dir").unwrap();
    let out = openclaw(&["setup"], home.path(), &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "cannot create the state dir {}",
            blocker.display()
        )),
        "{err}"
    );
    assert!(err.contains("hint: move"), "{err}");
    assert_eq!(std::fs::read_to_string(&blocker).unwrap(), "not a dir");

    // An unwritable location elsewhere: OPENCLAW_STATE_DIR under /proc.
    let home = tempfile::tempdir().unwrap();
    let out = openclaw(
        &["setup"],
        home.path(),
        &[("OPENCLAW_STATE_DIR", "/proc/openclaw-setup-test")],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("cannot create the state dir /proc/openclaw-setup-test"),
        "{err}"
    );
    assert!(err.contains("OPENCLAW_STATE_DIR"), "{err}");
    assert!(std::fs::read_dir(home.path()).unwrap().next().is_none());
}
