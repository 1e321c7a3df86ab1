//! The launchd job of our own Homebrew formula (`packaging/homebrew/openclaw.rb`).
//!
//! `brew services start openclaw` renders the formula's `service do … end` block into
//! `~/Library/LaunchAgents/homebrew.mxcl.openclaw.plist` (label `homebrew.mxcl.<formula>`, so a
//! versioned formula `openclaw@2` gets `homebrew.mxcl.openclaw@2`; `sudo brew services start`
//! writes `/Library/LaunchDaemons/…` instead) and bootstraps it; `brew services stop` boots it out
//! and deletes that file. The job runs `<prefix>/opt/openclaw/bin/openclaw gateway --port 18789
//! --allow-unconfigured`: the default profile's gateway, on the default port.
//!
//! It is our package's service, not a foreign one: discovery classes it
//! [`crate::service::discovery::ServiceClass::PackagedHomebrew`], `gateway install` refuses to
//! put a second agent on the same profile or port beside it (unless `--force`), and doctor
//! names it. Nothing here writes, moves or boots out Homebrew's file: it belongs to
//! `brew services`, which would otherwise report a state that is not true.

use std::path::{Path, PathBuf};

use crate::ports::DEFAULT_GATEWAY_PORT;
use crate::service::discovery::port_of;
use crate::service::launchd::discovery::PlistJob;
use crate::service::spec::ServiceSpec;
use crate::service::systemd::drift::flag_value;

/// What Homebrew prefixes every service label with.
pub const HOMEBREW_LABEL_PREFIX: &str = "homebrew.mxcl.";
/// Our formula's name.
pub const FORMULA: &str = "openclaw";
/// Where `sudo brew services start` puts the plist (relative to the root).
pub const HOMEBREW_DAEMON_DIR: &str = "Library/LaunchDaemons";

/// The formula a Homebrew service label names when it is ours: `homebrew.mxcl.openclaw` →
/// `openclaw`, `homebrew.mxcl.openclaw@2` → `openclaw@2`; anything else → `None`.
pub fn formula_of_label(label: &str) -> Option<&str> {
    let name = label.strip_prefix(HOMEBREW_LABEL_PREFIX)?;
    let (base, version) = match name.split_once('@') {
        Some((base, version)) => (base, Some(version)),
        None => (name, None),
    };
    let version_ok = version
        .is_none_or(|v| !v.is_empty() && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '.'));
    (base == FORMULA && version_ok).then_some(name)
}

/// True when the job's program is an `openclaw` binary (`…/opt/openclaw/bin/openclaw`).
pub fn runs_openclaw(argv: &[String]) -> bool {
    argv.first()
        .and_then(|p| Path::new(p).file_name())
        .is_some_and(|n| n == FORMULA)
}

/// True when `label` and `argv` are our formula's Homebrew service.
pub fn is_homebrew_service(label: &str, argv: &[String]) -> bool {
    formula_of_label(label).is_some() && runs_openclaw(argv)
}

/// `brew services <verb> <formula>`, with `sudo` for a LaunchDaemon.
pub fn brew_services(verb: &str, formula: &str, daemon: bool) -> String {
    let sudo = if daemon { "sudo " } else { "" };
    format!("{sudo}brew services {verb} {formula}")
}

/// One Homebrew service of our formula found on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HomebrewAgent {
    /// `homebrew.mxcl.openclaw`.
    pub label: String,
    /// `openclaw` (or `openclaw@2`).
    pub formula: String,
    /// The plist Homebrew wrote.
    pub plist: PathBuf,
    /// True for `/Library/LaunchDaemons` (`sudo brew services`).
    pub daemon: bool,
    /// The port it serves: `--port`, else `OPENCLAW_GATEWAY_PORT`, else the default port.
    pub port: u16,
    /// The profile it serves: `--profile`, else `OPENCLAW_PROFILE`, else `None` (default).
    pub profile: Option<String>,
}

impl HomebrewAgent {
    /// Reads `path` when it is our formula's service.
    pub fn read(path: &Path, daemon: bool) -> Option<Self> {
        let job = PlistJob::read(path)?;
        let stem = path.file_name()?.to_str()?.strip_suffix(".plist")?;
        let label = job.string("Label").unwrap_or_else(|| stem.to_owned());
        let formula = formula_of_label(&label)?.to_owned();
        if !runs_openclaw(&job.argv) {
            return None;
        }
        let port = port_of(
            flag_value(&job.argv, "--port").as_deref(),
            &[job.env("OPENCLAW_GATEWAY_PORT")],
        )
        .unwrap_or(DEFAULT_GATEWAY_PORT);
        let profile = flag_value(&job.argv, "--profile")
            .or_else(|| job.env("OPENCLAW_PROFILE"))
            .filter(|p| !p.is_empty() && p != "default");
        Some(Self {
            label,
            formula,
            plist: path.to_owned(),
            daemon,
            port,
            profile,
        })
    }

    /// True when this job runs the gateway of `spec`'s profile or listens on its port: a second
    /// agent for `spec` would compete with it.
    pub fn conflicts_with(&self, spec: &ServiceSpec) -> bool {
        self.profile.as_deref() == spec.profile.name() || self.port == spec.port
    }

    /// `brew services stop <formula>` (stops it and removes the plist; Homebrew's own command).
    pub fn stop_command(&self) -> String {
        brew_services("stop", &self.formula, self.daemon)
    }

    /// `brew services info <formula>`.
    pub fn info_command(&self) -> String {
        brew_services("info", &self.formula, self.daemon)
    }

    /// "the Homebrew service homebrew.mxcl.openclaw (<plist>, port 18789)".
    pub fn describe(&self) -> String {
        format!(
            "the Homebrew service {} ({}, port {}; started by `{}`)",
            self.label,
            self.plist.display(),
            self.port,
            brew_services("start", &self.formula, self.daemon)
        )
    }
}

/// Our formula's services under `launch_agents_dir` (`~/Library/LaunchAgents`) and, when given,
/// `<root>/Library/LaunchDaemons`, sorted by path.
pub fn homebrew_agents(launch_agents_dir: &Path, root: Option<&Path>) -> Vec<HomebrewAgent> {
    let mut dirs = vec![(launch_agents_dir.to_owned(), false)];
    if let Some(root) = root {
        dirs.push((root.join(HOMEBREW_DAEMON_DIR), true));
    }
    let mut found = Vec::new();
    for (dir, daemon) in dirs {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut paths: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .and_then(|n| n.strip_suffix(".plist"))
                    .is_some_and(|l| formula_of_label(l).is_some())
            })
            .collect();
        paths.sort();
        found.extend(paths.iter().filter_map(|p| HomebrewAgent::read(p, daemon)));
    }
    found
}

/// The Homebrew services of our formula that compete with `spec`'s gateway.
pub fn conflicting_agents(
    launch_agents_dir: &Path,
    root: Option<&Path>,
    spec: &ServiceSpec,
) -> Vec<HomebrewAgent> {
    homebrew_agents(launch_agents_dir, root)
        .into_iter()
        .filter(|a| a.conflicts_with(spec))
        .collect()
}

/// The plist `brew services start openclaw` writes for `packaging/homebrew/openclaw.rb` with
/// Homebrew prefix `prefix` and home `home`: Homebrew's `Service#to_plist` output (keys sorted,
/// tab-indented; `run_type :immediate` is `RunAtLoad`, the default `LimitLoadToSessionType`).
#[cfg(test)]
pub fn formula_plist(prefix: &str, home: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>EnvironmentVariables</key>
	<dict>
		<key>OPENCLAW_SERVICE_KIND</key>
		<string>gateway</string>
		<key>OPENCLAW_SERVICE_MARKER</key>
		<string>openclaw</string>
		<key>OPENCLAW_SERVICE_VERSION</key>
		<string>0.1.0</string>
	</dict>
	<key>KeepAlive</key>
	<true/>
	<key>Label</key>
	<string>homebrew.mxcl.openclaw</string>
	<key>LimitLoadToSessionType</key>
	<array>
		<string>Aqua</string>
		<string>Background</string>
		<string>LoginWindow</string>
		<string>StandardIO</string>
		<string>System</string>
	</array>
	<key>ProgramArguments</key>
	<array>
		<string>{prefix}/opt/openclaw/bin/openclaw</string>
		<string>gateway</string>
		<string>--port</string>
		<string>18789</string>
		<string>--allow-unconfigured</string>
	</array>
	<key>RunAtLoad</key>
	<true/>
	<key>StandardErrorPath</key>
	<string>{home}/Library/Logs/openclaw/gateway.log</string>
	<key>StandardOutPath</key>
	<string>{home}/Library/Logs/openclaw/gateway.log</string>
</dict>
</plist>
"#
    )
}

/// The `ProgramArguments` of [`formula_plist`] with prefix `/opt/homebrew`.
#[cfg(test)]
pub fn tests_argv() -> Vec<String> {
    [
        "/opt/homebrew/opt/openclaw/bin/openclaw",
        "gateway",
        "--port",
        "18789",
        "--allow-unconfigured",
    ]
    .map(str::to_owned)
    .to_vec()
}

/// Writes [`formula_plist`] as `<home>/Library/LaunchAgents/homebrew.mxcl.openclaw.plist`.
#[cfg(test)]
pub fn plant_formula_agent(home: &Path) -> PathBuf {
    let dir = home.join("Library/LaunchAgents");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("homebrew.mxcl.openclaw.plist");
    std::fs::write(
        &path,
        formula_plist("/opt/homebrew", &home.display().to_string()),
    )
    .unwrap();
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn homebrew_labels_of_our_formula_and_its_versions_are_recognised() {
        assert_eq!(formula_of_label("homebrew.mxcl.openclaw"), Some("openclaw"));
        assert_eq!(
            formula_of_label("homebrew.mxcl.openclaw@2"),
            Some("openclaw@2")
        );
        assert_eq!(
            formula_of_label("homebrew.mxcl.openclaw@2.1"),
            Some("openclaw@2.1")
        );
        for other in [
            "homebrew.mxcl.openclaw@",
            "homebrew.mxcl.openclaw-beta",
            "homebrew.mxcl.postgresql@14",
            "bot.molt.gateway",
            "openclaw",
        ] {
            assert_eq!(formula_of_label(other), None, "{other}");
        }
    }

    #[test]
    fn the_formula_plist_reads_as_the_default_profile_on_the_default_port() {
        let home = tempfile::tempdir().unwrap();
        let path = plant_formula_agent(home.path());
        let agents = homebrew_agents(&home.path().join("Library/LaunchAgents"), None);
        assert_eq!(agents.len(), 1);
        let a = &agents[0];
        assert_eq!(a.label, "homebrew.mxcl.openclaw");
        assert_eq!(a.formula, "openclaw");
        assert_eq!(a.plist, path);
        assert_eq!(a.port, DEFAULT_GATEWAY_PORT);
        assert_eq!(a.profile, None);
        assert!(!a.daemon);
        assert_eq!(a.stop_command(), "brew services stop openclaw");
        assert_eq!(a.info_command(), "brew services info openclaw");
    }

    #[test]
    fn a_homebrew_label_running_another_program_is_not_ours() {
        let home = tempfile::tempdir().unwrap();
        let dir = home.path().join("Library/LaunchAgents");
        std::fs::create_dir_all(&dir).unwrap();
        let text = formula_plist("/opt/homebrew", "/Users/u")
            .replace("/opt/openclaw/bin/openclaw", "/opt/other/bin/other");
        std::fs::write(dir.join("homebrew.mxcl.openclaw.plist"), text).unwrap();
        assert!(homebrew_agents(&dir, None).is_empty());
    }
}
