//! `openclaw dashboard [--no-open]`: prints the Control UI's address for the resolved profile,
//! signed in with the gateway token in the URL fragment, and opens it in the desktop's browser.
//!
//! The opener never sees the token: its command line is readable by every local user
//! (`/proc/<pid>/cmdline`), so it gets the path of a 0600 page in the state dir that sends the
//! browser on to the signed-in address.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::cli::args::DashboardArgs;
use crate::cli::exit_status::{CliError, ExitStatus};
use crate::cli::output::out;
use crate::client::dashboard::dashboard;
use crate::client::{TargetOptions, resolve_target};
use crate::environment::Environment;
use crate::invocation::Invocation;

/// The page handed to the opener, in the state dir.
const OPEN_PAGE: &str = "dashboard-open.html";

pub fn run(invocation: &Invocation, args: &DashboardArgs) -> Result<ExitStatus, CliError> {
    let config = invocation.load_config()?;
    let target = resolve_target(invocation, &TargetOptions::default(), &config)?;
    let board = dashboard(&target, &config.config).map_err(|e| CliError::config(e.to_string()))?;
    let address = board.signed_in.as_deref().unwrap_or(&board.page);
    out(&format!("Dashboard URL: {address}"));
    if board.signed_in.is_none() && target.password.is_some() {
        out("The gateway uses a password: enter it in the page's token field.");
    }
    if args.no_open {
        return Ok(ExitStatus::Ok);
    }
    match open(&invocation.env, &invocation.paths.state_dir, address) {
        Ok(how) => out(&format!("Opened in your browser ({how}).")),
        Err(why) => out(&format!(
            "Not opened: {why}. Open the address above in a browser on this machine."
        )),
    }
    Ok(ExitStatus::Ok)
}

/// The desktop opener of this OS, when this session has a desktop.
fn opener(env: &Environment) -> Result<(&'static str, &'static [&'static str]), String> {
    if cfg!(target_os = "macos") {
        return Ok(("open", &[]));
    }
    if cfg!(windows) {
        return Ok(("explorer.exe", &[]));
    }
    let desktop = ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|k| env.get(k).is_some_and(|v| !v.is_empty()));
    if desktop {
        Ok(("xdg-open", &[]))
    } else {
        Err("this session has no desktop (DISPLAY and WAYLAND_DISPLAY are unset)".to_owned())
    }
}

/// A page that sends the browser to `address` (written 0600, atomically).
fn open_page(state_dir: &Path, address: &str) -> Result<PathBuf, String> {
    let target = serde_json::to_string(address).unwrap_or_default();
    let page = format!(
        "<!doctype html><meta charset=\"utf-8\"><meta name=\"referrer\" content=\"no-referrer\">\
         <title>OpenClaw</title><script>location.replace({target})</script>\n"
    );
    crate::atomic_write::create_dir_all_with_mode(state_dir, 0o700)
        .map_err(|e| format!("cannot create {}: {e}", state_dir.display()))?;
    let path = state_dir.join(OPEN_PAGE);
    crate::atomic_write::write_atomic(&path, page.as_bytes(), 0o600)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(path)
}

fn open(env: &Environment, state_dir: &Path, address: &str) -> Result<String, String> {
    let (program, args) = opener(env)?;
    let page = open_page(state_dir, address)?;
    Command::new(program)
        .args(args)
        .arg(&page)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("{program} could not be started: {e}"))?;
    Ok(program.to_owned())
}
