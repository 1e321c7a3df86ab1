//! The service-definition audit (systemd): the installed `<unit>.service` of a profile against
//! what `openclaw gateway install` would write now (the install plan): program, arguments, port,
//! `Type=notify`, the socket unit, sandboxing, install markers, version, inline secrets, custom
//! edits and drop-ins that override the command. Pure: the caller reads the files.

use crate::service::plan::Plan;
use crate::service::spec::ServiceSpec;
use crate::service::systemd::drift::{self, GatewayFacts, UnitFile, gateway_facts};
use crate::service::systemd::units::SandboxLevel;
use crate::service_names::{SERVICE_KIND, SERVICE_MARKER};

use crate::doctor::file_audit::{DefinitionFindings, Item, port_mismatch};
use crate::doctor::findings::{RepairKind, Severity};
use crate::doctor::repair::Action;
use crate::doctor::unit_migration::{EnvClass, inline_secret_keys};

/// The first line our unit template writes: units without it come from another release (or
/// were written by hand).
pub const OUR_HEADER: &str = "written by `openclaw gateway install`";

/// Keys whose differences a reinstall repairs without losing an operator's edit: the command
/// and description are recomputed, `Environment=`/`EnvironmentFile=` are carried over.
const CARRIED_KEYS: [&str; 4] = ["ExecStart", "Description", "Environment", "EnvironmentFile"];

/// What the audit reads.
#[derive(Debug, Clone)]
pub struct UnitAuditInput<'a> {
    /// The profile label (`default` or the name).
    pub profile: &'a str,
    /// The recommended service.
    pub spec: &'a ServiceSpec,
    /// The install plan of `spec`.
    pub plan: &'a Plan,
    /// The installed `<unit>.service` text.
    pub installed: &'a str,
    /// The installed `<unit>.socket` text, when it exists.
    pub socket: Option<&'a str>,
    /// `(path, text)` of every drop-in `<unit>.service.d/*.conf`.
    pub dropins: &'a [(std::path::PathBuf, String)],
    /// `gateway.auth.token` from the config (as read, trimmed).
    pub config_token: Option<&'a str>,
    /// The strongest sandbox level this host's manager can set up for the spec.
    pub best_sandbox: SandboxLevel,
}

/// True when `text` is a unit our installer wrote.
pub fn written_by_us(text: &str) -> bool {
    text.lines().take(3).any(|l| l.contains(OUR_HEADER))
}

/// The id and message of a secret `key` (of `class`, value `inline`) written inline in a
/// service definition that others can read (`container`: `unit`, `plist`, `task script`).
pub fn inline_secret_finding(
    key: &str,
    class: EnvClass,
    inline: &str,
    config_token: Option<&str>,
    container: &str,
) -> (&'static str, String) {
    match class {
        EnvClass::Token => {
            let mismatch = config_token.is_some_and(|t| t.trim() != inline.trim());
            (
                "service-token-embedded",
                format!(
                    "Gateway service embeds {key} inline in a world-readable {container}{}.",
                    if mismatch {
                        " and it differs from gateway.auth.token (the config wins; the inline one is dropped)"
                    } else {
                        ""
                    }
                ),
            )
        }
        EnvClass::Password => (
            "service-password-embedded",
            format!(
                "Gateway service embeds {key} inline in a world-readable {container}; rotate it after the repair."
            ),
        ),
        _ => (
            "service-secret-env-embedded",
            format!(
                "Gateway service embeds the secret-looking {key} inline in a world-readable {container}."
            ),
        ),
    }
}

/// True when the installed unit's command (`ExecStart=`) differs from the one install would
/// write: a reinstall would replace what the running service was started with (spec §6.3).
pub fn command_differs(installed: &str, plan: &Plan) -> bool {
    let planned = plan
        .files
        .first()
        .map(|f| UnitFile::parse(&String::from_utf8_lossy(&f.contents)).exec_start())
        .unwrap_or_default();
    UnitFile::parse(installed).exec_start() != planned
}

/// Audits one installed unit.
pub fn audit_unit(input: &UnitAuditInput<'_>) -> Vec<Item> {
    let audit = UnitAudit::new(input);
    let mut out = DefinitionFindings::new(input.profile, &audit.path);
    audit.check_dropins(&mut out);
    audit.check_command(&mut out);
    audit.check_supervision(&mut out);
    audit.check_secrets(&mut out);
    audit.check_custom_edits(&mut out);
    if out.is_empty() {
        audit.check_drift(&mut out);
    }
    out.into_items()
}

/// What the checks of one unit share: the parsed unit and the repair most findings name.
struct UnitAudit<'a> {
    input: &'a UnitAuditInput<'a>,
    /// The unit file's path.
    path: std::path::PathBuf,
    unit: UnitFile,
    facts: GatewayFacts,
    argv: Vec<String>,
    /// Written by this release's installer.
    ours: bool,
    /// `<unit>.service`.
    service: String,
    fix_reinstall: String,
}

impl<'a> UnitAudit<'a> {
    fn new(input: &'a UnitAuditInput<'a>) -> Self {
        let unit = UnitFile::parse(input.installed);
        let service = input.spec.names.systemd_service_file();
        Self {
            input,
            path: input
                .plan
                .files
                .first()
                .map(|f| f.path.clone())
                .unwrap_or_default(),
            facts: gateway_facts(&unit),
            argv: unit.exec_start(),
            ours: written_by_us(input.installed),
            fix_reinstall: format!(
                "`openclaw doctor --fix` rewrites {service} as `openclaw gateway install` would (old unit backed up 0600, operator Environment= kept in a drop-in, secrets moved out)"
            ),
            unit,
            service,
        }
    }

    fn reinstall(&self) -> Option<Action> {
        Some(Action::reinstall(self.input.profile))
    }

    /// Drop-ins that override the command: doctor never rewrites them.
    fn check_dropins(&self, out: &mut DefinitionFindings<'_>) {
        let service = &self.service;
        for (dropin, text) in self.input.dropins {
            let d = UnitFile::parse(text);
            if !d.values("Service", "ExecStart").is_empty()
                || !d.values("Service", "WorkingDirectory").is_empty()
            {
                out.add(
                    "service-dropin-overrides-command",
                    Severity::Warning,
                    format!(
                        "Drop-in {} overrides ExecStart= or WorkingDirectory=; doctor never rewrites drop-ins, so the unit cannot be repaired while it is there.",
                        dropin.display()
                    ),
                    &format!(
                        "Review it with `systemctl --user cat {service}` and remove the override by hand."
                    ),
                    RepairKind::Manual,
                    None,
                );
            }
        }
    }

    /// The command line: the gateway verb, the installer, the port, the program.
    fn check_command(&self, out: &mut DefinitionFindings<'_>) {
        let service = &self.service;
        if !self.argv.iter().any(|a| a == "gateway") {
            out.add(
                "service-command-missing",
                Severity::Error,
                format!(
                    "Service command does not include the gateway subcommand: {}",
                    self.argv.join(" ")
                ),
                "`openclaw doctor --fix --force` replaces the custom command",
                RepairKind::Aggressive,
                self.reinstall(),
            );
        }
        if !self.ours {
            out.add(
                "service-other-release",
                Severity::Warning,
                format!(
                    "{service} was written by another OpenClaw release (or by hand), not by this release's installer."
                ),
                &self.fix_reinstall,
                RepairKind::Safe,
                self.reinstall(),
            );
        }
        if let Some(message) = port_mismatch(self.facts.port.as_deref(), self.input.spec.port) {
            out.add(
                "service-port-mismatch",
                Severity::Warning,
                message,
                &self.fix_reinstall,
                RepairKind::Safe,
                self.reinstall(),
            );
        }
        let want_program = self.input.spec.program.display().to_string();
        if self.facts.program.as_deref() != Some(want_program.as_str()) {
            out.add(
                "service-program-mismatch",
                Severity::Warning,
                format!(
                    "Gateway service runs {} instead of this install's {want_program}.",
                    self.facts.program.as_deref().unwrap_or("(nothing)")
                ),
                &self.fix_reinstall,
                RepairKind::Safe,
                self.reinstall(),
            );
        }
    }

    /// How systemd runs it: readiness, socket, sandbox, markers, version.
    fn check_supervision(&self, out: &mut DefinitionFindings<'_>) {
        let service = &self.service;
        let ty = self.unit.last("Service", "Type").unwrap_or("simple");
        if !matches!(ty, "notify" | "notify-reload") {
            out.add(
                "service-not-notify",
                Severity::Warning,
                format!(
                    "{service} has Type={ty}: systemd cannot tell when the gateway is ready (Type=notify is recommended)."
                ),
                &self.fix_reinstall,
                RepairKind::Safe,
                self.reinstall(),
            );
        }
        if self.input.spec.socket_activation && self.input.socket.is_none() {
            out.add(
                "service-socket-missing",
                Severity::Warning,
                format!(
                    "{} is missing: without socket activation restarts refuse connections.",
                    self.input.spec.names.systemd_socket_file()
                ),
                &self.fix_reinstall,
                RepairKind::Safe,
                self.reinstall(),
            );
        }
        let sandbox = self
            .unit
            .environment("OPENCLAW_SANDBOX")
            .as_deref()
            .and_then(SandboxLevel::parse);
        if let Some(level) = sandbox.filter(|l| *l < self.input.best_sandbox) {
            out.add(
                "service-sandbox-reduced",
                Severity::Info,
                format!(
                    "{service} runs at sandbox level {level}, below the {} this host's manager should set up: when it was installed, the stronger level did not start in the manager (install's probe).",
                    self.input.best_sandbox
                ),
                "Re-probe with `openclaw gateway install --force` once the cause is fixed (e.g. user namespaces re-enabled); the install output names the error of each level.",
                RepairKind::Manual,
                None,
            );
        }
        // A unit at level `none` has no filters by the installer's choice (nothing stronger started).
        if sandbox != Some(SandboxLevel::None)
            && (self.unit.last("Service", "NoNewPrivileges") != Some("yes")
                || self.unit.values("Service", "SystemCallFilter").is_empty())
        {
            out.add(
                "service-hardening-missing",
                Severity::Warning,
                format!(
                    "{service} lacks the recommended sandboxing (NoNewPrivileges=, SystemCallFilter=, …)."
                ),
                &self.fix_reinstall,
                RepairKind::Safe,
                self.reinstall(),
            );
        }
        let marker = self.unit.environment("OPENCLAW_SERVICE_MARKER");
        let kind = self.unit.environment("OPENCLAW_SERVICE_KIND");
        if marker.as_deref() != Some(SERVICE_MARKER)
            || !matches!(kind.as_deref(), None | Some("") | Some(SERVICE_KIND))
        {
            out.add(
                "service-marker-missing",
                Severity::Warning,
                format!(
                    "{service} does not carry the install markers OPENCLAW_SERVICE_MARKER=openclaw / OPENCLAW_SERVICE_KIND=gateway."
                ),
                &self.fix_reinstall,
                RepairKind::Safe,
                self.reinstall(),
            );
        }
        let planned_version = self
            .input
            .plan
            .files
            .first()
            .and_then(|f| {
                gateway_facts(&UnitFile::parse(&String::from_utf8_lossy(&f.contents))).version
            })
            .unwrap_or_else(|| self.input.spec.version.clone());
        if self.facts.version.as_deref() != Some(planned_version.as_str()) {
            out.add(
                "service-version-mismatch",
                Severity::Info,
                format!(
                    "{service} was installed by version {}; this is {}.",
                    self.facts.version.as_deref().unwrap_or("(unknown)"),
                    planned_version
                ),
                &self.fix_reinstall,
                RepairKind::Safe,
                self.reinstall(),
            );
        }
    }

    /// Secrets written inline in the unit.
    fn check_secrets(&self, out: &mut DefinitionFindings<'_>) {
        for (key, class) in inline_secret_keys(&self.unit) {
            let inline = self.unit.environment(&key).unwrap_or_default();
            let (id, message) =
                inline_secret_finding(&key, class, &inline, self.input.config_token, "unit");
            out.add(
                id,
                Severity::Error,
                message,
                "`openclaw doctor --fix` moves inline secrets into the unit's 0600 env file without restarting it (a rewrite of the whole unit puts the token/password into the config instead)",
                RepairKind::Safe,
                Some(Action::MoveUnitSecrets {
                    profile: self.input.profile.to_owned(),
                }),
            );
        }
    }

    /// Hand edits of our own unit that a reinstall would overwrite.
    fn check_custom_edits(&self, out: &mut DefinitionFindings<'_>) {
        let service = &self.service;
        if self.ours {
            let planned = self
                .input
                .plan
                .files
                .first()
                .map(|f| UnitFile::parse(&String::from_utf8_lossy(&f.contents)))
                .unwrap_or_default();
            let edited: Vec<String> = self
                .unit
                .keys()
                .chain(planned.keys())
                .filter(|(_, k)| !CARRIED_KEYS.contains(&k.as_str()))
                .filter(|(s, k)| self.unit.values(s, k) != planned.values(s, k))
                .map(|(s, k)| format!("[{s}] {k}"))
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            if !edited.is_empty() {
                out.add(
                    "service-custom-edits",
                    Severity::Warning,
                    format!(
                        "{service} has custom edits a reinstall would overwrite: {}",
                        edited.join(", ")
                    ),
                    &format!(
                        "Move them into a drop-in (`systemctl --user edit {service}`), or overwrite them with `openclaw doctor --fix --force`"
                    ),
                    RepairKind::Aggressive,
                    self.reinstall(),
                );
            }
        }
    }

    /// With nothing else to say: any difference from what install would write.
    fn check_drift(&self, out: &mut DefinitionFindings<'_>) {
        let mut drifted: Vec<String> = Vec::new();
        for file in self.input.plan.files.iter().filter(|f| !f.secret) {
            let on_disk = if file.path == self.path {
                Some(self.input.installed)
            } else if file.path.extension().is_some_and(|e| e == "socket") {
                self.input.socket
            } else {
                continue;
            };
            drifted.extend(drift::describe(file, on_disk.map(str::as_bytes), None));
        }
        if !drifted.is_empty() {
            out.add(
                "service-definition-drift",
                Severity::Warning,
                format!(
                    "The installed service differs from what install would write: {}",
                    drifted.join("; ")
                ),
                &self.fix_reinstall,
                RepairKind::Safe,
                self.reinstall(),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::service::spec::Scope;
    use crate::service::systemd::plan::install_plan;
    use crate::service::systemd::units::SystemdFeatures;
    use crate::service::systemd::units::tests::sample_spec;

    const FEATURES: SystemdFeatures = SystemdFeatures {
        version: 252,
        user_namespaces: true,
    };

    fn plan() -> Plan {
        install_plan(&sample_spec(None, Scope::User, true), &FEATURES).unwrap()
    }

    /// The planned service (index 0) or socket (index 1) text.
    fn planned(index: usize) -> String {
        String::from_utf8(plan().files[index].contents.clone()).unwrap()
    }

    fn current() -> String {
        planned(0)
    }

    /// Audits `installed` for the default profile of the sample spec.
    fn audit(
        installed: &str,
        socket: bool,
        dropins: &[(PathBuf, String)],
        config_token: Option<&str>,
    ) -> Vec<Item> {
        let spec = sample_spec(None, Scope::User, true);
        let socket_text = planned(1);
        audit_unit(&UnitAuditInput {
            profile: "default",
            spec: &spec,
            plan: &plan(),
            installed,
            socket: socket.then_some(socket_text.as_str()),
            dropins,
            config_token,
            best_sandbox: SandboxLevel::Namespaces,
        })
    }

    fn ids(installed: &str, socket: bool) -> Vec<&'static str> {
        audit(installed, socket, &[], None)
            .into_iter()
            .map(|(f, _)| f.id)
            .collect()
    }

    #[test]
    fn the_unit_install_writes_has_no_findings() {
        assert_eq!(ids(&current(), true), Vec::<&str>::new());
    }

    #[test]
    fn only_a_different_exec_start_is_a_command_rewrite() {
        assert!(!command_differs(&current(), &plan()));
        let drifted = current().replace("RestartSec=5", "RestartSec=1");
        assert!(!command_differs(&drifted, &plan()));
        let port = current().replace("--port 18789", "--port 18888");
        assert!(command_differs(&port, &plan()));
        assert!(command_differs(
            crate::doctor::unit_migration::tests::REFERENCE_UNIT,
            &plan()
        ));
    }

    #[test]
    fn a_hand_edited_port_is_port_drift_and_safe() {
        let edited = current().replace("--port 18789", "--port 18888");
        let found = audit(&edited, true, &[], None);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0.id, "service-port-mismatch");
        assert!(
            found[0].0.message.ends_with("18888 -> 18789"),
            "{}",
            found[0].0.message
        );
        assert_eq!(found[0].0.repair, RepairKind::Safe);
        assert_eq!(
            found[0].1,
            Some(Action::Reinstall {
                profile: "default".into()
            })
        );
    }

    #[test]
    fn the_reference_release_unit_with_a_token_is_another_release_with_an_embedded_token() {
        let found = ids(crate::doctor::unit_migration::tests::REFERENCE_UNIT, false);
        for want in [
            "service-other-release",
            "service-program-mismatch",
            "service-not-notify",
            "service-socket-missing",
            "service-hardening-missing",
            "service-version-mismatch",
            "service-token-embedded",
            "service-secret-env-embedded",
        ] {
            assert!(found.contains(&want), "{want} missing from {found:?}");
        }
        assert!(!found.contains(&"service-port-mismatch"), "{found:?}");
        assert!(
            !found.contains(&"service-custom-edits"),
            "not ours: a migration"
        );
    }

    #[test]
    fn custom_edits_of_our_unit_need_force_and_a_lost_command_is_aggressive() {
        let edited = current().replace("RestartSec=5", "RestartSec=1");
        let found = audit(&edited, true, &[], None);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0.id, "service-custom-edits");
        assert_eq!(found[0].0.repair, RepairKind::Aggressive);
        let no_gateway = current().replace(" gateway --port", " --port");
        assert!(ids(&no_gateway, true).contains(&"service-command-missing"));
    }

    #[test]
    fn a_missing_marker_or_type_is_named() {
        let edited = current()
            .replace("Environment=OPENCLAW_SERVICE_MARKER=openclaw\n", "")
            .replace("Type=notify\n", "");
        let found = ids(&edited, true);
        assert!(found.contains(&"service-marker-missing"), "{found:?}");
        assert!(found.contains(&"service-not-notify"), "{found:?}");
    }

    #[test]
    fn an_inline_token_differing_from_the_config_says_the_config_wins() {
        let with_token = current().replace(
            "[Install]",
            "Environment=OPENCLAW_GATEWAY_TOKEN=abc\n\n[Install]",
        );
        let found = audit(&with_token, true, &[], Some("other"));
        let token = found
            .iter()
            .find(|(f, _)| f.id == "service-token-embedded")
            .unwrap();
        assert!(token.0.message.contains("the config wins"));
        assert_eq!(token.0.severity, Severity::Error);
        let same = audit(&with_token, true, &[], Some(" abc "));
        assert!(same.iter().all(|(f, _)| !f.message.contains("config wins")));
    }

    #[test]
    fn a_dropin_overriding_exec_start_is_manual() {
        let dropins = vec![(
            PathBuf::from("/d/override.conf"),
            "[Service]\nExecStart=\nExecStart=/x gateway\n".to_owned(),
        )];
        let found = audit(&current(), true, &dropins, None);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0.id, "service-dropin-overrides-command");
        assert_eq!(found[0].0.repair, RepairKind::Manual);
    }

    #[test]
    fn a_unit_at_a_reduced_sandbox_level_is_an_info_finding_not_missing_hardening() {
        let seccomp = current().replace(
            "Environment=OPENCLAW_SANDBOX=namespaces",
            "Environment=OPENCLAW_SANDBOX=seccomp",
        );
        assert_ne!(seccomp, current(), "the sample unit carries its level");
        let found = ids(&seccomp, true);
        assert!(found.contains(&"service-sandbox-reduced"), "{found:?}");
        assert!(!found.contains(&"service-hardening-missing"), "{found:?}");
        // Level none: no filters by choice, still no hardening warning.
        let none: String = current()
            .replace(
                "Environment=OPENCLAW_SANDBOX=namespaces",
                "Environment=OPENCLAW_SANDBOX=none",
            )
            .lines()
            .filter(|l| !l.starts_with("SystemCallFilter="))
            .map(|l| format!("{l}\n"))
            .collect();
        let found = ids(&none, true);
        assert!(found.contains(&"service-sandbox-reduced"), "{found:?}");
        assert!(!found.contains(&"service-hardening-missing"), "{found:?}");
        // The installer's own level on this host: nothing to say.
        assert!(!ids(&current(), true).contains(&"service-sandbox-reduced"));
    }

    #[test]
    fn a_changed_socket_unit_is_definition_drift() {
        let spec = sample_spec(None, Scope::User, true);
        let socket = planned(1).replace("127.0.0.1", "0.0.0.0");
        let found = audit_unit(&UnitAuditInput {
            profile: "default",
            spec: &spec,
            plan: &plan(),
            installed: &current(),
            socket: Some(&socket),
            dropins: &[],
            config_token: None,
            best_sandbox: SandboxLevel::Namespaces,
        });
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0.id, "service-definition-drift");
        assert!(
            found[0].0.message.contains("listen"),
            "{}",
            found[0].0.message
        );
    }
}
