//! `openclaw dashboard`: the Control UI's address for the resolved profile with the token in the
//! URL fragment, and the browser opener started with a 0600 redirect page instead of the token
//! (any local user can read a process's command line).

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const TOKEN: &str = "dash-token-0123456789+/=";

fn home(config: &str) -> tempfile::TempDir {
    let home = tempfile::tempdir().unwrap();
    let state = home.path().join(".openclaw");
    std::fs::create_dir_all(&state).unwrap();
    std::fs::write(state.join("openclaw.json"), config).unwrap();
    home
}

fn dashboard(home: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_openclaw"));
    cmd.arg("dashboard")
        .args(args)
        .env_clear()
        .env("HOME", home)
        .env("PATH", "/usr/bin:/bin");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn config_with_token(extra: &str) -> String {
    format!(r#"{{"gateway": {{"port": 19999, "auth": {{"token": "{TOKEN}"}}{extra}}}}}"#)
}

#[test]
fn no_open_prints_the_signed_in_address_with_the_token_only_in_the_fragment() {
    let h = home(&config_with_token(
        r#", "controlUi": {"basePath": "/openclaw"}"#,
    ));
    let out = dashboard(h.path(), &["--no-open"], &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout.trim(),
        "Dashboard URL: http://127.0.0.1:19999/openclaw/#token=dash-token-0123456789%2B%2F%3D"
    );
}

#[test]
fn the_opener_gets_a_private_redirect_page_and_never_the_token() {
    let h = home(&config_with_token(""));
    let bin = h.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let record = h.path().join("opener-args");
    let opener = bin.join("xdg-open");
    std::fs::write(
        &opener,
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$@\" > {}.tmp && mv {0}.tmp {0}\n",
            record.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&opener, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!("{}:/usr/bin:/bin", bin.display());
    let out = dashboard(h.path(), &[], &[("DISPLAY", ":0"), ("PATH", &path)]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("Opened in your browser (xdg-open)"),
        "{stdout}"
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    while !record.exists() {
        assert!(Instant::now() < deadline, "the opener was not run");
        std::thread::sleep(Duration::from_millis(20));
    }
    let args = std::fs::read_to_string(&record).unwrap();
    assert!(
        !args.contains(TOKEN) && !args.contains("dash-token"),
        "the opener saw the token: {args}"
    );
    let page = Path::new(args.trim());
    assert_eq!(page, h.path().join(".openclaw/dashboard-open.html"));
    assert_eq!(
        std::fs::metadata(page).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let html = std::fs::read_to_string(page).unwrap();
    assert!(
        html.contains(
            "location.replace(\"http://127.0.0.1:19999/#token=dash-token-0123456789%2B%2F%3D\")"
        ),
        "{html}"
    );
}

#[test]
fn without_a_desktop_it_prints_the_address_and_says_why_it_did_not_open() {
    let h = home(&config_with_token(""));
    let out = dashboard(h.path(), &[], &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout.contains("#token="), "{stdout}");
    assert!(
        stdout.contains(
            "Not opened: this session has no desktop (DISPLAY and WAYLAND_DISPLAY are unset)"
        ),
        "{stdout}"
    );
    assert!(!h.path().join(".openclaw/dashboard-open.html").exists());
}

#[test]
fn a_switched_off_ui_or_a_bad_base_path_is_a_config_error_naming_the_key() {
    for (extra, key) in [
        (
            r#", "controlUi": {"enabled": false}"#,
            "gateway.controlUi.enabled",
        ),
        (
            r#", "controlUi": {"basePath": "/a/../b"}"#,
            "gateway.controlUi.basePath",
        ),
    ] {
        let h = home(&config_with_token(extra));
        let out = dashboard(h.path(), &["--no-open"], &[]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(78), "{stderr}");
        assert!(stderr.contains(key), "{stderr}");
        assert!(!String::from_utf8_lossy(&out.stdout).contains(TOKEN));
    }
}
