//! The node command allowlist: which commands `node.invoke` may forward to a node (spec §2.5).
//!
//! A command is invocable when it is in the allowlist of the node's platform **and** the node
//! declared it at connect. The allowlist is the platform's defaults, plus
//! `gateway.nodes.commands.allow` (legacy `gateway.nodes.allowCommands`), minus
//! `gateway.nodes.commands.deny` (legacy `gateway.nodes.denyCommands`); deny always wins.
//!
//! # Defaults (chosen from upstream `src/gateway/node-command-policy.ts`, openclaw/openclaw)
//!
//! - mobile (`ios`, `android`): canvas, `camera.list`, `location.get`, `device.info|status`,
//!   `contacts.search`, `calendar.events`, `reminders.list`, `photos.latest`,
//!   `motion.activity|pedometer`, `system.notify`;
//! - `macos`: the mobile set plus the desktop system set;
//! - `linux`, `windows`: the desktop system set: `system.run.prepare`, `system.run`,
//!   `system.which`, `system.notify`, `system.execApprovals.get|set`, `browser.proxy`;
//! - unknown platforms: canvas, `camera.list`, `location.get`, `system.notify` only. Upstream's
//!   newest builds made unknown metadata fail safe (no host execution), which we follow.
//!
//! "Dangerous" commands are never defaults and need an explicit `allow`: `camera.snap`,
//! `camera.clip`, `screen.record`, `contacts.add`, `calendar.add`, `reminders.add`, `sms.send`.
//! The platform comes from the connect `client.platform` (prefix `ios`/`ipados`, `android`,
//! `mac`/`darwin`, `win`, `linux`), else from `client.deviceFamily` (`iphone`/`ipad`, `android`,
//! `mac`, `windows`, `linux`).

use std::collections::BTreeSet;

use serde_json::Value;

use crate::config::Config;

const CANVAS: &[&str] = &[
    "canvas.present",
    "canvas.hide",
    "canvas.navigate",
    "canvas.eval",
    "canvas.snapshot",
    "canvas.a2ui.push",
    "canvas.a2ui.pushJSONL",
    "canvas.a2ui.reset",
];

const MOBILE: &[&str] = &[
    "camera.list",
    "location.get",
    "device.info",
    "device.status",
    "contacts.search",
    "calendar.events",
    "reminders.list",
    "photos.latest",
    "motion.activity",
    "motion.pedometer",
    "system.notify",
];

const DESKTOP_SYSTEM: &[&str] = &[
    "system.run.prepare",
    "system.run",
    "system.which",
    "system.notify",
    "system.execApprovals.get",
    "system.execApprovals.set",
    "browser.proxy",
];

const UNKNOWN: &[&str] = &["camera.list", "location.get", "system.notify"];

/// High-risk commands: never defaults, only through `gateway.nodes.commands.allow`.
pub const DANGEROUS: &[&str] = &[
    "camera.snap",
    "camera.clip",
    "screen.record",
    "contacts.add",
    "calendar.add",
    "reminders.add",
    "sms.send",
];

/// Commands that run code, read files or proxy a browser on the node: invoking them, or
/// approving a node that declares them, needs `operator.admin` (the reference's list).
pub fn requires_admin(command: &str) -> bool {
    let command = command.trim();
    command.starts_with("system.run")
        || command == "system.which"
        || command.starts_with("system.execApprovals.")
        || command.starts_with("browser.proxy")
        || command == "fs.listDir"
        || command == "terminal.upload"
}

/// A node platform, as the allowlist sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    /// iPhone / iPad.
    Ios,
    /// Android.
    Android,
    /// macOS.
    Macos,
    /// Linux.
    Linux,
    /// Windows.
    Windows,
    /// Anything else.
    Unknown,
}

impl Platform {
    /// Classifies a node from its `client.platform` and `client.deviceFamily`.
    pub fn detect(platform: &str, device_family: Option<&str>) -> Self {
        let raw = platform.trim().to_ascii_lowercase();
        let by_prefix = [
            ("ios", Self::Ios),
            ("ipados", Self::Ios),
            ("android", Self::Android),
            ("mac", Self::Macos),
            ("darwin", Self::Macos),
            ("win", Self::Windows),
            ("linux", Self::Linux),
        ];
        if let Some((_, p)) = by_prefix.iter().find(|(prefix, _)| raw.starts_with(prefix)) {
            return *p;
        }
        let family = device_family.unwrap_or("").trim().to_ascii_lowercase();
        let by_family = [
            ("iphone", Self::Ios),
            ("ipad", Self::Ios),
            ("ios", Self::Ios),
            ("android", Self::Android),
            ("mac", Self::Macos),
            ("windows", Self::Windows),
            ("linux", Self::Linux),
        ];
        by_family
            .iter()
            .find(|(token, _)| family.contains(token))
            .map_or(Self::Unknown, |(_, p)| *p)
    }

    fn defaults(self) -> Vec<&'static str> {
        match self {
            Self::Ios | Self::Android => [CANVAS, MOBILE].concat(),
            Self::Macos => [CANVAS, MOBILE, DESKTOP_SYSTEM].concat(),
            Self::Linux | Self::Windows => DESKTOP_SYSTEM.to_vec(),
            Self::Unknown => [CANVAS, UNKNOWN].concat(),
        }
    }
}

/// `gateway.nodes.commands.{allow,deny}` (and the legacy `allowCommands`/`denyCommands`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommandPolicy {
    /// Extra allowed commands.
    pub allow: BTreeSet<String>,
    /// Removed commands (wins over everything).
    pub deny: BTreeSet<String>,
}

fn string_list(value: Option<&Value>) -> impl Iterator<Item = String> + '_ {
    value
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

impl CommandPolicy {
    /// Reads the policy from the config.
    pub fn from_config(config: &Config) -> Self {
        let nodes = config.gateway.as_ref().and_then(|g| g.other.get("nodes"));
        let get = |path: &[&str]| {
            path.iter()
                .try_fold(nodes?, |value, key| value.get(*key))
                .cloned()
        };
        let allow = get(&["commands", "allow"]);
        let legacy_allow = get(&["allowCommands"]);
        let deny = get(&["commands", "deny"]);
        let legacy_deny = get(&["denyCommands"]);
        Self {
            allow: string_list(allow.as_ref())
                .chain(string_list(legacy_allow.as_ref()))
                .collect(),
            deny: string_list(deny.as_ref())
                .chain(string_list(legacy_deny.as_ref()))
                .collect(),
        }
    }

    /// The allowlist of a node on `platform`.
    pub fn allowlist(&self, platform: Platform) -> BTreeSet<String> {
        let mut allow: BTreeSet<String> = platform
            .defaults()
            .into_iter()
            .filter(|c| !DANGEROUS.contains(c))
            .map(str::to_owned)
            .collect();
        allow.extend(self.allow.iter().cloned());
        for denied in &self.deny {
            allow.remove(denied);
        }
        allow
    }

    /// The declared commands a node keeps after the allowlist (trimmed, deduplicated, in
    /// declaration order).
    pub fn filter_declared(&self, platform: Platform, declared: &[String]) -> Vec<String> {
        let allow = self.allowlist(platform);
        let mut seen = BTreeSet::new();
        declared
            .iter()
            .map(|c| c.trim())
            .filter(|c| !c.is_empty() && allow.contains(*c) && seen.insert(c.to_string()))
            .map(str::to_owned)
            .collect()
    }

    /// Whether `command` may be invoked on a node on `platform` that declared `declared`;
    /// the error is upstream's `details.reason`.
    pub fn check(
        &self,
        platform: Platform,
        declared: &[String],
        command: &str,
    ) -> Result<(), &'static str> {
        let command = command.trim();
        if command.is_empty() {
            return Err("command required");
        }
        if !self.allowlist(platform).contains(command) {
            return Err("command not allowlisted");
        }
        if declared.is_empty() {
            return Err("node did not declare commands");
        }
        if !declared.iter().any(|c| c.trim() == command) {
            return Err("command not declared by node");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(config: &str) -> CommandPolicy {
        let config: Config = serde_json::from_str(config).unwrap();
        CommandPolicy::from_config(&config)
    }

    fn list(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn platforms_are_detected_from_platform_then_device_family() {
        assert_eq!(Platform::detect("iOS 18.1", None), Platform::Ios);
        assert_eq!(Platform::detect("macos 15.0", Some("Mac")), Platform::Macos);
        assert_eq!(Platform::detect("darwin", None), Platform::Macos);
        assert_eq!(Platform::detect("linux", None), Platform::Linux);
        assert_eq!(Platform::detect("win32", None), Platform::Windows);
        assert_eq!(Platform::detect("", Some("iPad")), Platform::Ios);
        assert_eq!(Platform::detect("web", None), Platform::Unknown);
    }

    #[test]
    fn defaults_depend_on_the_platform_and_exclude_dangerous_commands() {
        let p = CommandPolicy::default();
        let linux = p.allowlist(Platform::Linux);
        assert!(linux.contains("system.run") && linux.contains("system.which"));
        assert!(!linux.contains("canvas.present"));
        let ios = p.allowlist(Platform::Ios);
        assert!(ios.contains("canvas.snapshot") && !ios.contains("system.run"));
        assert!(!ios.contains("camera.snap"), "dangerous needs an allow");
        assert!(!p.allowlist(Platform::Unknown).contains("system.run"));
        assert!(p.allowlist(Platform::Macos).contains("system.run"));
    }

    #[test]
    fn allow_adds_and_deny_wins_including_the_legacy_keys() {
        let p = policy(
            r#"{"gateway":{"nodes":{"commands":{"allow":["camera.snap","custom.x"],"deny":["system.run"]},"denyCommands":["custom.x"],"allowCommands":["sms.send"]}}}"#,
        );
        let ios = p.allowlist(Platform::Ios);
        assert!(ios.contains("camera.snap") && ios.contains("sms.send"));
        assert!(!ios.contains("custom.x"), "deny wins over allow");
        assert!(!p.allowlist(Platform::Linux).contains("system.run"));
    }

    #[test]
    fn checks_report_upstream_reasons() {
        let p = CommandPolicy::default();
        let declared = list(&["system.which"]);
        assert_eq!(p.check(Platform::Linux, &declared, "system.which"), Ok(()));
        assert_eq!(
            p.check(Platform::Linux, &declared, "camera.snap"),
            Err("command not allowlisted")
        );
        assert_eq!(
            p.check(Platform::Linux, &declared, "system.run"),
            Err("command not declared by node")
        );
        assert_eq!(
            p.check(Platform::Linux, &[], "system.run"),
            Err("node did not declare commands")
        );
        assert_eq!(
            p.check(Platform::Linux, &declared, "  "),
            Err("command required")
        );
    }

    #[test]
    fn commands_that_run_code_read_files_or_proxy_need_admin() {
        for command in [
            "system.run",
            "system.run.prepare",
            "system.which",
            "system.execApprovals.set",
            "browser.proxy",
            "browser.proxy.fetch",
            "fs.listDir",
            "terminal.upload",
        ] {
            assert!(requires_admin(command), "{command}");
        }
        for command in [
            "system.notify",
            "canvas.snapshot",
            "camera.list",
            "fs.read.x",
        ] {
            assert!(!requires_admin(command), "{command}");
        }
    }

    #[test]
    fn declared_commands_are_filtered_trimmed_and_deduplicated() {
        let p = CommandPolicy::default();
        let declared = list(&[
            "system.run",
            " system.run ",
            "camera.snap",
            "nope",
            "system.which",
        ]);
        assert_eq!(
            p.filter_declared(Platform::Linux, &declared),
            ["system.run", "system.which"]
        );
    }
}
