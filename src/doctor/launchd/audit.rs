//! The service-definition audit for launchd: a profile's installed LaunchAgent
//! (`~/Library/LaunchAgents/bot.molt.<…>.plist`) against the plist `openclaw gateway install`
//! would write now (program arguments, port, program, `RunAtLoad`, `KeepAlive`, install markers,
//! version, the secret-file path and log paths through the whole-plist comparison), secrets
//! inline in `EnvironmentVariables` or in the env file of another release's env-file wrapper
//! (spec §3.2), and a plist launchd refuses because others can write it. Also reads that
//! wrapper form back (§3.2 "Reading back"). Pure: the caller reads the files.

use std::path::{Path, PathBuf};

use plist::{Dictionary, Value};

use crate::service::launchd::discovery::PlistJob;
use crate::service::launchd::homebrew::HomebrewAgent;
use crate::service::plan::Plan;
use crate::service::spec::ServiceSpec;
use crate::service::systemd::drift::flag_value;
use crate::service_names::{SERVICE_KIND, SERVICE_MARKER};

use crate::doctor::file_audit::{DefinitionFindings, Item, port_mismatch};
use crate::doctor::findings::{Finding, RepairKind, Severity};
use crate::doctor::repair::Action;
use crate::doctor::systemd::audit::inline_secret_finding;
use crate::doctor::unit_migration::{classify_env_key, is_secret_class};

/// The note for a profile served by our Homebrew formula's job and no LaunchAgent of ours (the
/// macOS twin of `service-packaged-unit`): Homebrew's plist is never modified.
pub fn homebrew_agent_in_use(profile: &str, agent: &HomebrewAgent) -> Finding {
    Finding::new(
        "service-homebrew-agent",
        Severity::Info,
        format!(
            "The gateway service is {} (installed by Homebrew; doctor does not change Homebrew's files).",
            agent.describe()
        ),
        format!(
            "Manage it with brew services: `{}`, `{}`; to use `openclaw gateway install` instead, run `{}` first",
            agent.info_command(),
            agent.stop_command(),
            agent.stop_command()
        ),
        RepairKind::None,
    )
    .profile(profile)
    .path(&agent.plist)
}

/// The warning for a LaunchAgent of ours beside our Homebrew formula's job on the same profile
/// or port: two KeepAlive agents, one port. Never repaired by doctor (either could be wanted).
pub fn homebrew_duplicate(
    profile: &str,
    ours: &Path,
    our_label: &str,
    agent: &HomebrewAgent,
) -> Finding {
    Finding::new(
        "service-homebrew-duplicate",
        Severity::Warning,
        format!(
            "Two gateway agents compete for port {}: {our_label} ({}) and {}.",
            agent.port,
            ours.display(),
            agent.describe()
        ),
        format!(
            "Keep one: `{}` (Homebrew removes its plist), or `openclaw gateway uninstall` and keep using brew services",
            agent.stop_command()
        ),
        RepairKind::Manual,
    )
    .profile(profile)
    .path(&agent.plist)
}

/// A plist's `ProgramArguments` (else `[Program]`).
pub fn program_arguments(dict: &Dictionary) -> Vec<String> {
    PlistJob::from_dict(dict.clone()).argv
}

/// The env-file wrapper form of other releases: `[/bin/sh, <wrapper>, <envfile>, …cmd]` or
/// `[<wrapper>, <envfile>, …cmd]` → `(wrapper, env file, cmd)`.
pub fn unwrap_env_wrapper(argv: &[String]) -> Option<(PathBuf, PathBuf, Vec<String>)> {
    let is_wrapper = |a: &str| a.ends_with("-env-wrapper.sh");
    match argv {
        [sh, wrapper, env, cmd @ ..] if sh == "/bin/sh" && is_wrapper(wrapper) => {
            Some((wrapper.into(), env.into(), cmd.to_vec()))
        }
        [wrapper, env, cmd @ ..] if is_wrapper(wrapper) => {
            Some((wrapper.into(), env.into(), cmd.to_vec()))
        }
        _ => None,
    }
}

/// Parses the `export KEY='value'` lines of a wrapper env file (`'\''` is a quote; comments and
/// other lines are skipped).
pub fn parse_export_env(text: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((key, raw)) = line.split_once('=') else {
            continue;
        };
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        let value = match raw.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')) {
            Some(inner) => inner.replace("'\\''", "'"),
            None => raw.to_owned(),
        };
        out.retain(|(k, _)| k != key);
        out.push((key.to_owned(), value));
    }
    out
}

/// The service environment of a plist: `EnvironmentVariables` overlaid with the wrapper env
/// file (when the plist runs through one and its text is given), in that order.
pub fn plist_environment(dict: &Dictionary, env_file: Option<&str>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = dict
        .get("EnvironmentVariables")
        .and_then(Value::as_dictionary)
        .map(|d| {
            d.iter()
                .filter_map(|(k, v)| v.as_string().map(|v| (k.clone(), v.to_owned())))
                .collect()
        })
        .unwrap_or_default();
    for (k, v) in env_file.map(parse_export_env).unwrap_or_default() {
        out.retain(|(key, _)| key != &k);
        out.push((k, v));
    }
    out
}

/// True when the installed plist's `ProgramArguments` differ from the ones install would write:
/// a reinstall would replace what the running job was started with (spec §6.3).
pub fn command_differs(installed: &Dictionary, plan: &Plan) -> bool {
    let planned = plan
        .files
        .first()
        .and_then(|f| Value::from_reader_xml(f.contents.as_slice()).ok())
        .and_then(Value::into_dictionary)
        .map(|d| program_arguments(&d))
        .unwrap_or_default();
    program_arguments(installed) != planned
}

/// What the launchd audit reads.
#[derive(Debug, Clone)]
pub struct LaunchdAuditInput<'a> {
    /// The profile label.
    pub profile: &'a str,
    /// The recommended service.
    pub spec: &'a ServiceSpec,
    /// Its install plan (the plist first).
    pub plan: &'a Plan,
    /// Where the installed plist is.
    pub plist_path: &'a Path,
    /// The installed plist.
    pub installed: &'a Dictionary,
    /// The text of the wrapper env file it names, if any.
    pub env_file: Option<&'a str>,
    /// The installed plist's mode.
    pub plist_mode: Option<u32>,
    /// `gateway.auth.token` of the config.
    pub config_token: Option<&'a str>,
}

/// Audits one installed LaunchAgent of ours.
pub fn audit_plist(input: &LaunchdAuditInput<'_>) -> Vec<Item> {
    let audit = PlistAudit::new(input);
    let mut out = DefinitionFindings::new(input.profile, input.plist_path);
    audit.check_command(&mut out);
    audit.check_launch_keys(&mut out);
    audit.check_markers(&mut out);
    let version_differs = audit.check_version(&mut out);
    audit.check_secrets(&mut out);
    audit.check_mode(&mut out);
    if out.iter().all(|(f, _)| f.severity == Severity::Info) {
        audit.check_drift(&mut out, version_differs);
    }
    out.into_items()
}

/// What the checks of one LaunchAgent share.
struct PlistAudit<'a> {
    input: &'a LaunchdAuditInput<'a>,
    /// The fix most findings name.
    fix: String,
    /// Another release's env-file wrapper: (wrapper, env file, the command it runs).
    wrapped: Option<(PathBuf, PathBuf, Vec<String>)>,
    /// The gateway command (unwrapped).
    cmd: Vec<String>,
    /// The environment (plist and wrapper env file).
    env: Vec<(String, String)>,
    /// The plist install would write.
    planned: Dictionary,
}

impl<'a> PlistAudit<'a> {
    fn new(input: &'a LaunchdAuditInput<'a>) -> Self {
        let label = &input.spec.names.launchd_label;
        let argv = program_arguments(input.installed);
        let wrapped = unwrap_env_wrapper(&argv);
        let cmd = wrapped.as_ref().map_or(argv.clone(), |(_, _, c)| c.clone());
        Self {
            input,
            fix: format!(
                "`openclaw doctor --fix` rewrites {label} as `openclaw gateway install` would (old plist backed up 0600 under the state dir, operator environment kept, inline token moved into the config)"
            ),
            wrapped,
            cmd,
            env: plist_environment(input.installed, input.env_file),
            planned: input
                .plan
                .files
                .first()
                .and_then(|f| Value::from_reader_xml(f.contents.as_slice()).ok())
                .and_then(Value::into_dictionary)
                .unwrap_or_default(),
        }
    }

    fn reinstall(&self) -> Option<Action> {
        Some(Action::reinstall(self.input.profile))
    }

    fn env_value(&self, key: &str) -> Option<&str> {
        self.env
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The command: another release's wrapper, the gateway verb, the port, the program.
    fn check_command(&self, out: &mut DefinitionFindings<'_>) {
        let label = &self.input.spec.names.launchd_label;
        if let Some((wrapper, env, _)) = &self.wrapped {
            out.add(
                "launchd-env-file-argument",
                Severity::Warning,
                format!(
                    "{label} runs the gateway through another release's env-file wrapper ({} {}); this release puts the environment in the plist and no secret anywhere in it.",
                    wrapper.display(),
                    env.display()
                ),
                &self.fix,
                RepairKind::Safe,
                self.reinstall(),
            );
        }
        if !self.cmd.iter().any(|a| a == "gateway") {
            out.add(
                "service-command-missing",
                Severity::Error,
                format!(
                    "Service command does not include the gateway subcommand: {}",
                    self.cmd.join(" ")
                ),
                "`openclaw doctor --fix --force` replaces the custom command",
                RepairKind::Aggressive,
                self.reinstall(),
            );
        }
        let port = flag_value(&self.cmd, "--port");
        if let Some(message) = port_mismatch(port.as_deref(), self.input.spec.port) {
            out.add(
                "service-port-mismatch",
                Severity::Warning,
                message,
                &self.fix,
                RepairKind::Safe,
                self.reinstall(),
            );
        }
        let want_program = self.input.spec.program.display().to_string();
        if self.cmd.first() != Some(&want_program) {
            out.add(
                "service-program-mismatch",
                Severity::Warning,
                format!(
                    "Gateway service runs {} instead of this install's {want_program}.",
                    self.cmd.first().map_or("(nothing)", String::as_str)
                ),
                &self.fix,
                RepairKind::Safe,
                self.reinstall(),
            );
        }
    }

    /// RunAtLoad and KeepAlive.
    fn check_launch_keys(&self, out: &mut DefinitionFindings<'_>) {
        for (key, id, what) in [
            ("RunAtLoad", "launchd-run-at-load", "start at login"),
            (
                "KeepAlive",
                "launchd-keep-alive",
                "be relaunched when it exits",
            ),
        ] {
            if self.input.installed.get(key).and_then(Value::as_boolean) != Some(true) {
                out.add(
                    id,
                    Severity::Warning,
                    format!("LaunchAgent is missing {key}=true: the gateway would not {what}."),
                    &self.fix,
                    RepairKind::Safe,
                    self.reinstall(),
                );
            }
        }
    }

    /// The install markers.
    fn check_markers(&self, out: &mut DefinitionFindings<'_>) {
        let label = &self.input.spec.names.launchd_label;
        if self.env_value("OPENCLAW_SERVICE_MARKER") != Some(SERVICE_MARKER)
            || !matches!(
                self.env_value("OPENCLAW_SERVICE_KIND"),
                None | Some("") | Some(SERVICE_KIND)
            )
        {
            out.add(
                "service-marker-missing",
                Severity::Warning,
                format!(
                    "{label} does not carry the install markers OPENCLAW_SERVICE_MARKER=openclaw / OPENCLAW_SERVICE_KIND=gateway."
                ),
                &self.fix,
                RepairKind::Safe,
                self.reinstall(),
            );
        }
    }

    /// The version that installed it; true when it differs from this one's.
    fn check_version(&self, out: &mut DefinitionFindings<'_>) -> bool {
        let label = &self.input.spec.names.launchd_label;
        let planned_env = plist_environment(&self.planned, None);
        let planned_version = planned_env
            .iter()
            .find(|(k, _)| k == "OPENCLAW_SERVICE_VERSION")
            .map(|(_, v)| v.as_str());
        let version = self.env_value("OPENCLAW_SERVICE_VERSION");
        let version_differs = version != planned_version;
        if version_differs {
            out.add(
                "service-version-mismatch",
                Severity::Info,
                format!(
                    "{label} was installed by version {}; this is {}.",
                    version.unwrap_or("(unknown)"),
                    planned_version.unwrap_or("(unknown)")
                ),
                &self.fix,
                RepairKind::Safe,
                self.reinstall(),
            );
        }
        version_differs
    }

    /// Secrets in the plist or the wrapper's env file.
    fn check_secrets(&self, out: &mut DefinitionFindings<'_>) {
        for (key, value) in &self.env {
            let class = classify_env_key(key);
            if is_secret_class(class) && !value.trim().is_empty() {
                let container = if self
                    .input
                    .env_file
                    .is_some_and(|t| parse_export_env(t).iter().any(|(k, _)| k == key))
                {
                    "env file"
                } else {
                    "plist"
                };
                let (id, message) =
                    inline_secret_finding(key, class, value, self.input.config_token, container);
                out.add(
                    id,
                    Severity::Error,
                    message,
                    "`openclaw doctor --fix` moves the token/password into the config (0600); other secrets stay only in the 0600 backup (put them into the config)",
                    RepairKind::Safe,
                    self.reinstall(),
                );
            }
        }
    }

    /// A plist others can write (launchd refuses it).
    fn check_mode(&self, out: &mut DefinitionFindings<'_>) {
        if let Some(mode) = self.input.plist_mode.filter(|m| m & 0o022 != 0) {
            out.add(
                "launchd-plist-writable",
                Severity::Error,
                format!(
                    "{} has mode {mode:04o}: launchd refuses to load a plist others can write.",
                    self.input.plist_path.display()
                ),
                "`openclaw doctor --fix` sets mode 0644",
                RepairKind::Safe,
                Some(Action::Chmod {
                    path: self.input.plist_path.to_owned(),
                    mode: 0o644,
                }),
            );
        }
    }

    /// With nothing but notes to say: any key that differs from what install would write.
    fn check_drift(&self, out: &mut DefinitionFindings<'_>, version_differs: bool) {
        let drifted = differing_keys(self.input.installed, &self.planned, version_differs);
        if !drifted.is_empty() {
            out.add(
                "service-definition-drift",
                Severity::Warning,
                format!(
                    "The installed LaunchAgent differs from what install would write: {}",
                    drifted.join(", ")
                ),
                &self.fix,
                RepairKind::Safe,
                self.reinstall(),
            );
        }
    }
}

/// Top-level keys (and `EnvironmentVariables` entries) whose values differ; with
/// `skip_version`, the version (and the `Comment` naming it) is left to its own finding.
fn differing_keys(installed: &Dictionary, planned: &Dictionary, skip_version: bool) -> Vec<String> {
    let mut keys: Vec<String> = installed.keys().chain(planned.keys()).cloned().collect();
    keys.sort();
    keys.dedup();
    let mut out = Vec::new();
    for key in keys {
        if skip_version && key == "Comment" {
            continue;
        }
        if key == "EnvironmentVariables" {
            let a = plist_environment(installed, None);
            let b = plist_environment(planned, None);
            let mut names: Vec<&String> = a.iter().chain(b.iter()).map(|(k, _)| k).collect();
            names.sort();
            names.dedup();
            for name in names {
                if skip_version && name == "OPENCLAW_SERVICE_VERSION" {
                    continue;
                }
                let va = a.iter().find(|(k, _)| k == name);
                let vb = b.iter().find(|(k, _)| k == name);
                if va != vb {
                    out.push(format!("EnvironmentVariables.{name}"));
                }
            }
        } else if installed.get(&key) != planned.get(&key) {
            out.push(key);
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::config::LoadedConfig;
    use crate::environment::Environment;
    use crate::invocation::{GlobalOptions, Invocation};
    use crate::service::ServiceManager;
    use crate::service::launchd::fake::FakeLaunchctl;
    use crate::service::launchd::{LaunchdBackend, LaunchdIdentity};
    use crate::service::spec::SpecOptions;

    /// The default profile's spec in `/Users/alice`, running `/opt/openclaw/bin/openclaw`.
    pub(crate) fn sample_spec() -> ServiceSpec {
        let env = Environment::empty().with("HOME", "/Users/alice");
        let inv = Invocation::resolve(&GlobalOptions::default(), env.clone(), false).unwrap();
        let config = LoadedConfig::load(Path::new("/nonexistent/openclaw.json"), &env).unwrap();
        let options = SpecOptions {
            program: Some(PathBuf::from("/opt/openclaw/bin/openclaw")),
            ..SpecOptions::default()
        };
        ServiceSpec::build(&inv, &config, &options).unwrap()
    }

    fn plan(spec: &ServiceSpec) -> Plan {
        let fake = FakeLaunchctl::new(501, true);
        LaunchdBackend::new(
            Box::new(fake.clone()),
            Box::new(fake),
            LaunchdIdentity::fixed(501),
        )
        .plan_install(spec)
        .unwrap()
    }

    fn planned_dict(plan: &Plan) -> Dictionary {
        Value::from_reader_xml(plan.files[0].contents.as_slice())
            .unwrap()
            .into_dictionary()
            .unwrap()
    }

    fn audit_with(installed: &Dictionary, env_file: Option<&str>, mode: u32) -> Vec<Item> {
        let spec = sample_spec();
        let plan = plan(&spec);
        audit_plist(&LaunchdAuditInput {
            profile: "default",
            spec: &spec,
            plan: &plan,
            plist_path: Path::new("/Users/alice/Library/LaunchAgents/bot.molt.gateway.plist"),
            installed,
            env_file,
            plist_mode: Some(mode),
            config_token: None,
        })
    }

    fn ids(items: &[Item]) -> Vec<&'static str> {
        items.iter().map(|(f, _)| f.id).collect()
    }

    fn current() -> Dictionary {
        planned_dict(&plan(&sample_spec()))
    }

    #[test]
    fn the_plist_install_writes_has_no_findings() {
        assert_eq!(
            ids(&audit_with(&current(), None, 0o644)),
            Vec::<&str>::new()
        );
    }

    #[test]
    fn run_at_load_off_and_a_keep_alive_dict_are_named() {
        let mut d = current();
        d.insert("RunAtLoad".into(), Value::Boolean(false));
        let mut keep = Dictionary::new();
        keep.insert("SuccessfulExit".into(), Value::Boolean(false));
        d.insert("KeepAlive".into(), Value::Dictionary(keep));
        let found = audit_with(&d, None, 0o644);
        assert_eq!(ids(&found), ["launchd-run-at-load", "launchd-keep-alive"]);
        assert!(found.iter().all(|(f, a)| f.repair == RepairKind::Safe
            && a == &Some(Action::Reinstall {
                profile: "default".into()
            })));
    }

    #[test]
    fn the_env_file_wrapper_form_is_named_and_a_token_in_its_env_file_is_embedded() {
        let mut d = current();
        let mut argv: Vec<Value> = [
            "/bin/sh",
            "/Users/alice/.openclaw/service-env/bot.molt.gateway-env-wrapper.sh",
            "/Users/alice/.openclaw/service-env/bot.molt.gateway.env",
        ]
        .iter()
        .map(|s| Value::String((*s).into()))
        .collect();
        argv.extend(program_arguments(&d).into_iter().map(Value::String));
        d.insert("ProgramArguments".into(), Value::Array(argv));
        let env = "# Generated by OpenClaw. Do not edit while the gateway service is installed.\nexport OPENCLAW_GATEWAY_TOKEN='t0k'\n";
        let found = audit_with(&d, Some(env), 0o644);
        assert_eq!(
            ids(&found),
            ["launchd-env-file-argument", "service-token-embedded"]
        );
        assert!(found[1].0.message.contains("world-readable env file"));
    }

    #[test]
    fn a_hand_edited_port_and_a_token_in_environment_variables_are_named() {
        let mut d = current();
        let argv: Vec<Value> = program_arguments(&d)
            .into_iter()
            .map(|a| Value::String(if a == "18789" { "18888".into() } else { a }))
            .collect();
        d.insert("ProgramArguments".into(), Value::Array(argv));
        d.get_mut("EnvironmentVariables")
            .and_then(Value::as_dictionary_mut)
            .unwrap()
            .insert(
                "OPENCLAW_GATEWAY_PASSWORD".into(),
                Value::String("pw".into()),
            );
        let found = audit_with(&d, None, 0o644);
        assert_eq!(
            ids(&found),
            ["service-port-mismatch", "service-password-embedded"]
        );
        assert!(found[0].0.message.ends_with("18888 -> 18789"));
        assert!(found[1].0.message.contains("world-readable plist"));
    }

    #[test]
    fn a_plist_others_can_write_gets_mode_0644() {
        let found = audit_with(&current(), None, 0o666);
        assert_eq!(ids(&found), ["launchd-plist-writable"]);
        assert!(matches!(
            found[0].1,
            Some(Action::Chmod { mode: 0o644, .. })
        ));
    }

    #[test]
    fn other_differences_are_drift_and_an_older_version_only_a_note() {
        let mut d = current();
        d.insert("StandardOutPath".into(), Value::String("/tmp/x.log".into()));
        let found = audit_with(&d, None, 0o644);
        assert_eq!(ids(&found), ["service-definition-drift"]);
        assert!(
            found[0].0.message.ends_with("StandardOutPath"),
            "{}",
            found[0].0.message
        );

        let mut d = current();
        d.get_mut("EnvironmentVariables")
            .and_then(Value::as_dictionary_mut)
            .unwrap()
            .insert(
                "OPENCLAW_SERVICE_VERSION".into(),
                Value::String("0.0.1".into()),
            );
        let found = audit_with(&d, None, 0o644);
        assert_eq!(ids(&found), ["service-version-mismatch"]);
        assert_eq!(found[0].0.severity, Severity::Info);
    }

    #[test]
    fn wrapper_env_files_parse_with_quotes_and_comments() {
        let env = parse_export_env(
            "# header\nexport A='x y'\nexport B='it'\\''s'\nexport C=''\nnot a line\nexport A='z'\n",
        );
        assert_eq!(
            env,
            [
                ("B".to_owned(), "it's".to_owned()),
                ("C".to_owned(), String::new()),
                ("A".to_owned(), "z".to_owned())
            ]
        );
        let argv: Vec<String> = ["/w-env-wrapper.sh", "/e.env", "/bin/node", "gateway"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        let (w, e, cmd) = unwrap_env_wrapper(&argv).unwrap();
        assert_eq!(
            (w, e),
            (PathBuf::from("/w-env-wrapper.sh"), PathBuf::from("/e.env"))
        );
        assert_eq!(cmd, ["/bin/node", "gateway"]);
        assert_eq!(unwrap_env_wrapper(&argv[2..]), None);
    }
}
