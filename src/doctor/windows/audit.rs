//! The service-definition audit for Windows: the registered scheduled task of a profile
//! (`schtasks /Query /XML`) and our record of it (`<state>/gateway-task.xml`) against the task
//! `openclaw gateway install` would register now, and the task script `<state>\gateway.cmd`
//! other releases run (spec §4.1): secrets inline in its `set` lines, its mode. Pure: the caller
//! queries the task and reads the files.

use std::path::Path;

use crate::service::plan::Plan;
use crate::service::spec::ServiceSpec;
use crate::service::systemd::drift::flag_value;
use crate::service::windows::task_xml::{TaskDefinition, decode_utf16_with_bom, parse_task_xml};

use crate::doctor::file_audit::{Item, port_mismatch};
use crate::doctor::findings::{Finding, RepairKind, Severity};
use crate::doctor::repair::Action;
use crate::doctor::systemd::audit::inline_secret_finding;
use crate::doctor::unit_migration::{classify_env_key, is_secret_class};

/// The `set "K=V"` / `set K=V` entries of a task script, escapes undone (later ones win).
pub fn script_environment(text: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        let Some(rest) = line
            .strip_prefix("set ")
            .or_else(|| line.strip_prefix("SET "))
        else {
            continue;
        };
        let rest = rest.trim();
        let body = rest
            .strip_prefix('"')
            .and_then(|r| r.strip_suffix('"'))
            .unwrap_or(rest);
        if let Some((k, v)) = body.split_once('=') {
            let v = v
                .replace("^^", "\u{0}")
                .replace("^!", "!")
                .replace("^\"", "\"")
                .replace("%%", "%")
                .replace('\u{0}', "^");
            out.retain(|(key, _)| key != k);
            out.push((k.to_owned(), v));
        }
    }
    out
}

/// The script with the `set` lines of the keys `strip` selects replaced by a comment.
pub fn stripped_script(text: &str, strip: &dyn Fn(&str) -> bool) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let env = script_environment(line);
        if let Some((k, _)) = env.first().filter(|(k, _)| strip(k)) {
            out.push_str(&format!(
                "rem {k}= removed by openclaw doctor (moved to the config)\r\n"
            ));
            continue;
        }
        out.push_str(line);
        out.push_str("\r\n");
    }
    out
}

/// What the Windows audit reads.
#[derive(Debug, Clone)]
pub struct TaskAuditInput<'a> {
    /// The profile label.
    pub profile: &'a str,
    /// The recommended service.
    pub spec: &'a ServiceSpec,
    /// Its install plan (the task XML record first).
    pub plan: &'a Plan,
    /// The registered task, when Task Scheduler has one.
    pub registered: Option<&'a TaskDefinition>,
    /// The bytes of `<state>/gateway-task.xml`, when present.
    pub record: Option<&'a [u8]>,
    /// `(path, text, mode)` of `<state>\gateway.cmd`, when present.
    pub script: Option<(&'a Path, &'a str, Option<u32>)>,
    /// `gateway.auth.token` of the config.
    pub config_token: Option<&'a str>,
}

/// Splits a Windows command line into words (quotes removed; enough for ports and programs).
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => quoted = !quoted,
            c if c.is_whitespace() && !quoted => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// The command line of a task script: the first line that is no comment, `set`, `cd` or `@`.
fn script_command(text: &str) -> Option<String> {
    text.lines().map(str::trim).find_map(|l| {
        let lower = l.to_ascii_lowercase();
        let skip = l.is_empty()
            || l.starts_with('@')
            || l.starts_with("::")
            || ["rem", "set ", "cd "].iter().any(|p| lower.starts_with(p));
        (!skip).then(|| l.split(" < NUL").next().unwrap_or(l).to_owned())
    })
}

/// True when the registered task runs another command (program or arguments) than the task
/// install would register: a reinstall would replace what the running task was started with
/// (spec §6.3).
pub fn command_differs(registered: &TaskDefinition, plan: &Plan) -> bool {
    let planned = plan
        .files
        .first()
        .and_then(|f| decode_utf16_with_bom(&f.contents).ok())
        .and_then(|t| parse_task_xml(&t).ok())
        .unwrap_or_default();
    registered.command() != planned.command()
        || registered.arguments().unwrap_or("") != planned.arguments().unwrap_or("")
}

/// Audits one profile's scheduled task and task script.
pub fn audit_task(input: &TaskAuditInput<'_>) -> Vec<Item> {
    let audit = TaskAudit::new(input);
    let mut out: Vec<Item> = Vec::new();
    audit.check_registration(&mut out);
    audit.check_script_secrets(&mut out);
    let all_info = out.iter().all(|(f, _)| f.severity == Severity::Info);
    if all_info && input.registered.is_some() {
        audit.check_record_drift(&mut out);
    }
    out
}

/// What the checks of one scheduled task share.
struct TaskAudit<'a> {
    input: &'a TaskAuditInput<'a>,
    /// The fix every finding names.
    fix: String,
    /// Where install keeps the task's XML record.
    record_path: std::path::PathBuf,
    /// The task XML install would register.
    planned_text: String,
    planned: TaskDefinition,
}

impl<'a> TaskAudit<'a> {
    fn new(input: &'a TaskAuditInput<'a>) -> Self {
        let name = &input.spec.names.windows_task;
        let planned_text = input
            .plan
            .files
            .first()
            .and_then(|f| decode_utf16_with_bom(&f.contents).ok())
            .unwrap_or_default();
        Self {
            input,
            fix: format!(
                "`openclaw doctor --fix` registers \"{name}\" as `openclaw gateway install` would (the old task script backed up 0600 without its token, the token moved into the config)"
            ),
            record_path: input
                .plan
                .files
                .first()
                .map(|f| f.path.clone())
                .unwrap_or_default(),
            planned: parse_task_xml(&planned_text).unwrap_or_default(),
            planned_text,
        }
    }

    fn reinstall(&self) -> Option<Action> {
        Some(Action::reinstall(self.input.profile))
    }

    fn push(
        &self,
        out: &mut Vec<Item>,
        id: &'static str,
        severity: Severity,
        message: String,
        path: &Path,
    ) {
        out.push((
            Finding::new(id, severity, message, self.fix.as_str(), RepairKind::Safe)
                .profile(self.input.profile)
                .path(path),
            self.reinstall(),
        ));
    }

    /// Registered or not, and what the registered task runs: another release's script, another
    /// program, another port, disabled, other arguments.
    fn check_registration(&self, out: &mut Vec<Item>) {
        let name = &self.input.spec.names.windows_task;
        let script_path = self.input.script.map(|(p, _, _)| p.to_owned());
        match self.input.registered {
            None => self.push(
                out,
                "windows-task-not-registered",
                Severity::Warning,
                format!("Scheduled task \"{name}\" is not registered although its files exist."),
                &self.record_path,
            ),
            Some(def) => {
                let command = def.command().unwrap_or("");
                let runs_script = [".cmd", ".vbs", ".bat"]
                    .iter()
                    .any(|x| command.to_ascii_lowercase().ends_with(x));
                let argv: Vec<String> = if runs_script {
                    self.input
                        .script
                        .and_then(|(_, t, _)| script_command(t))
                        .map(|l| words(&l))
                        .unwrap_or_default()
                } else {
                    std::iter::once(command.to_owned())
                        .chain(words(def.arguments().unwrap_or("")))
                        .collect()
                };
                if runs_script {
                    self.push(
                        out,
                        "service-other-release",
                        Severity::Warning,
                        format!(
                            "Scheduled task \"{name}\" runs the task script {command} of another OpenClaw release, not this release's gateway."
                        ),
                        script_path.as_deref().unwrap_or(&self.record_path),
                    );
                } else if Some(command) != self.planned.command() {
                    self.push(
                        out,
                        "service-program-mismatch",
                        Severity::Warning,
                        format!(
                            "Gateway service runs {command} instead of this install's {}.",
                            self.input.spec.program.display()
                        ),
                        &self.record_path,
                    );
                }
                let port = flag_value(&argv, "--port");
                let port_message = port_mismatch(port.as_deref(), self.input.spec.port);
                if let Some(message) = port_message.as_ref() {
                    self.push(
                        out,
                        "service-port-mismatch",
                        Severity::Warning,
                        message.clone(),
                        &self.record_path,
                    );
                }
                if !def.enabled() {
                    self.push(
                        out,
                        "windows-task-disabled",
                        Severity::Warning,
                        format!(
                            "Scheduled task \"{name}\" is disabled: the gateway does not start at logon."
                        ),
                        &self.record_path,
                    );
                }
                if !runs_script
                    && Some(command) == self.planned.command()
                    && def.arguments().unwrap_or("") != self.planned.arguments().unwrap_or("")
                    && port_message.is_none()
                {
                    self.push(
                        out,
                        "service-definition-drift",
                        Severity::Warning,
                        format!(
                            "Scheduled task \"{name}\" runs {command} with arguments {:?}; install would use {:?}.",
                            def.arguments().unwrap_or(""),
                            self.planned.arguments().unwrap_or("")
                        ),
                        &self.record_path,
                    );
                }
            }
        }
    }

    /// Secrets in the task script of another release.
    fn check_script_secrets(&self, out: &mut Vec<Item>) {
        if let Some((path, text, mode)) = self.input.script {
            let readable = mode.is_some_and(|m| m & 0o077 != 0);
            for (key, value) in script_environment(text) {
                let class = classify_env_key(&key);
                if is_secret_class(class) && !value.trim().is_empty() {
                    let (id, mut message) = inline_secret_finding(
                        &key,
                        class,
                        &value,
                        self.input.config_token,
                        "task script",
                    );
                    if let Some(m) = mode.filter(|_| readable) {
                        message.push_str(&format!(" The script has mode {m:04o}."));
                    }
                    out.push((
                        Finding::new(
                            id,
                            Severity::Error,
                            message,
                            "`openclaw doctor --fix` moves the token/password into the config (0600) and retires the script (backup 0600 without them)",
                            RepairKind::Safe,
                        )
                        .profile(self.input.profile)
                        .path(path),
                        self.reinstall(),
                    ));
                }
            }
        }
    }

    /// With nothing but notes to say: the task record differs from what install would write.
    fn check_record_drift(&self, out: &mut Vec<Item>) {
        let record = self
            .input
            .record
            .and_then(|b| decode_utf16_with_bom(b).ok());
        if record.as_deref() != Some(self.planned_text.as_str()) {
            out.push((
                Finding::new(
                    "service-definition-drift",
                    Severity::Warning,
                    format!(
                        "{} differs from the task definition install would write{}.",
                        self.record_path.display(),
                        if record.is_none() { " (missing)" } else { "" }
                    ),
                    self.fix.as_str(),
                    RepairKind::Safe,
                )
                .profile(self.input.profile)
                .path(&self.record_path),
                self.reinstall(),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::launchd::audit::tests::sample_spec;
    use crate::service::ServiceManager;
    use crate::service::windows::fake::FakeSchtasks;
    use crate::service::windows::{WindowsAccount, WindowsBackend};

    fn plan(spec: &ServiceSpec) -> Plan {
        let fake = FakeSchtasks::new();
        WindowsBackend::new(
            Box::new(fake.clone()),
            Box::new(fake),
            WindowsAccount::fixed("DESKTOP\\alice"),
        )
        .plan_install(spec)
        .unwrap()
    }

    fn planned_text(plan: &Plan) -> String {
        decode_utf16_with_bom(&plan.files[0].contents).unwrap()
    }

    fn audit(registered: Option<&str>, record: bool, script: Option<(&str, u32)>) -> Vec<Item> {
        let spec = sample_spec();
        let plan = plan(&spec);
        let def = registered.map(|t| parse_task_xml(t).unwrap());
        let record_bytes = plan.files[0].contents.clone();
        let path = Path::new("/Users/alice/.openclaw/gateway.cmd");
        audit_task(&TaskAuditInput {
            profile: "default",
            spec: &spec,
            plan: &plan,
            registered: def.as_ref(),
            record: record.then_some(record_bytes.as_slice()),
            script: script.map(|(t, m)| (path, t, Some(m))),
            config_token: None,
        })
    }

    fn ids(items: &[Item]) -> Vec<&'static str> {
        items.iter().map(|(f, _)| f.id).collect()
    }

    #[test]
    fn the_task_install_registers_has_no_findings_and_a_missing_record_is_drift() {
        let text = planned_text(&plan(&sample_spec()));
        assert_eq!(ids(&audit(Some(&text), true, None)), Vec::<&str>::new());
        assert_eq!(
            ids(&audit(Some(&text), false, None)),
            ["service-definition-drift"]
        );
        assert_eq!(
            ids(&audit(None, true, None)),
            ["windows-task-not-registered"]
        );
    }

    #[test]
    fn a_disabled_task_with_another_port_is_named() {
        let text = planned_text(&plan(&sample_spec())).replace("--port 18789", "--port 19000");
        // The last <Enabled> is Settings/Enabled (the first is the logon trigger's).
        let i = text.rfind("<Enabled>true</Enabled>").unwrap();
        let text = format!("{}<Enabled>false</Enabled>{}", &text[..i], &text[i + 23..]);
        let found = ids(&audit(Some(&text), true, None));
        assert_eq!(found, ["service-port-mismatch", "windows-task-disabled"]);
    }

    #[test]
    fn a_task_running_a_script_with_secrets_is_another_release_with_embedded_secrets() {
        let registered = planned_text(&plan(&sample_spec())).replace(
            "<Command>/opt/openclaw/bin/openclaw</Command>",
            "<Command>C:\\Users\\alice\\.openclaw\\gateway.cmd</Command>",
        );
        assert!(registered.contains("gateway.cmd"), "{registered}");
        let script = "@echo off\r\nset \"OPENCLAW_GATEWAY_TOKEN=t0k\"\r\nset \"MY_API_KEY=k\"\r\nset \"OPENCLAW_SERVICE_MARKER=openclaw\"\r\n\"C:\\node.exe\" C:\\oc\\entry.js gateway --port 18789 --task-supervisor < NUL\r\n";
        let found = audit(Some(&registered), true, Some((script, 0o644)));
        assert_eq!(
            ids(&found),
            [
                "service-other-release",
                "service-token-embedded",
                "service-secret-env-embedded"
            ]
        );
        assert!(found[1].0.message.contains("mode 0644"));
        let found = audit(
            Some(&registered),
            true,
            Some((&script.replace("18789", "1"), 0o600)),
        );
        assert!(ids(&found).contains(&"service-port-mismatch"));
        assert!(!found[1].0.message.contains("mode"));
    }

    #[test]
    fn script_set_lines_are_read_unescaped_and_stripped_of_chosen_keys() {
        let text = "set \"A=50%% ^^ ^!\"\r\nset B=plain\r\nset \"OPENCLAW_GATEWAY_TOKEN=t\"\r\n";
        assert_eq!(
            script_environment(text),
            [
                ("A".to_owned(), "50% ^ !".to_owned()),
                ("B".to_owned(), "plain".to_owned()),
                ("OPENCLAW_GATEWAY_TOKEN".to_owned(), "t".to_owned())
            ]
        );
        let stripped = stripped_script(text, &|k: &str| k == "OPENCLAW_GATEWAY_TOKEN");
        assert!(
            !stripped.contains("=t\"") && stripped.contains("set B=plain"),
            "{stripped}"
        );
    }
}
