//! Command-sequence tests of the Task Scheduler backend against the fake schtasks, plus golden and
//! XML-crate tests of the rendered task definition.

use std::path::{Path, PathBuf};

use super::fake::{FakeScheduler, FakeSchtasks};
use super::task_xml::{decode_utf16_with_bom, parse_task_xml};
use super::*;
use crate::config::LoadedConfig;
use crate::invocation::{GlobalOptions, Invocation};
use crate::service::backend_rig::{self, strings as s};
use crate::service::golden::assert_golden;
use crate::service::spec::SpecOptions;

const USER: &str = "DESKTOP-7Q2\\alice";
const TASK: &str = "OpenClaw Gateway";

const PROGRAM: &str = "/opt/openclaw/openclaw.exe";

fn spec_in(home: &Path, profile: Option<&str>) -> ServiceSpec {
    backend_rig::spec_in(home, profile, PROGRAM)
}

type Rig = backend_rig::Rig<FakeScheduler, WindowsBackend>;

fn rig() -> Rig {
    let fake = FakeSchtasks::new();
    let manager = WindowsBackend::new(
        Box::new(fake.clone()),
        Box::new(fake.clone()),
        WindowsAccount::fixed(USER),
    );
    Rig::new(fake, manager, PROGRAM)
}

impl Rig {
    fn task_file(&self) -> PathBuf {
        self.home.path().join(".openclaw/gateway-task.xml")
    }
}

#[test]
fn a_fresh_install_creates_verifies_and_runs_the_task() {
    let mut r = rig();
    let spec = r.spec();
    let outcome = r.install(&spec, false).unwrap();
    assert_eq!(outcome.result, ActionResult::Installed);
    assert_eq!(
        outcome.messages,
        [
            format!("Installed Scheduled Task: {TASK}"),
            format!("Task definition: {}", r.task_file().display()),
        ]
    );
    let file = r.task_file().display().to_string();
    assert_eq!(
        r.fake.take_calls(),
        s(&[
            "schtasks /Query /TN OpenClaw Gateway /XML",
            "schtasks /Query /TN Clawdbot Gateway /XML",
            &format!("schtasks /Create /XML {file} /TN OpenClaw Gateway /F"),
            "schtasks /Query /TN OpenClaw Gateway /XML",
            "schtasks /Run /TN OpenClaw Gateway",
        ])
    );
    let bytes = std::fs::read(r.task_file()).unwrap();
    assert_eq!(&bytes[..2], &[0xFF, 0xFE], "UTF-16 LE BOM");
    let task = r.fake.state().tasks[TASK].clone();
    assert!(task.running);
    let def = parse_task_xml(&task.xml).unwrap();
    assert_eq!(def.get("RegistrationInfo/URI"), Some("\\OpenClaw Gateway"));
    assert_eq!(def.command(), Some("/opt/openclaw/openclaw.exe"));
    assert_eq!(def.arguments(), Some("gateway --port 18789"));
}

#[test]
fn reinstalling_the_same_definition_is_a_no_op() {
    let mut r = rig();
    let spec = r.installed();
    let outcome = r.install(&spec, false).unwrap();
    assert_eq!(outcome.result, ActionResult::AlreadyInstalled);
    assert_eq!(
        outcome.messages,
        [
            "Gateway service already registered.",
            "Reinstall with: openclaw gateway install --force"
        ]
    );
    assert_eq!(
        r.fake.take_calls(),
        s(&["schtasks /Query /TN OpenClaw Gateway /XML"])
    );
    assert_eq!(r.fake.state().tasks[TASK].runs, 1);
}

#[test]
fn a_changed_definition_ends_the_running_instance_before_recreating_and_running() {
    let mut r = rig();
    let spec = r.installed();
    let mut changed = spec.clone();
    changed.args[2] = "18888".into();
    let outcome = r.install(&changed, false).unwrap();
    assert_eq!(
        outcome.messages[0],
        format!("Updated Scheduled Task: {TASK}")
    );
    let file = r.task_file().display().to_string();
    assert_eq!(
        r.fake.take_calls(),
        s(&[
            "schtasks /Query /TN OpenClaw Gateway /XML",
            "schtasks /Query /TN Clawdbot Gateway /XML",
            "schtasks /End /TN OpenClaw Gateway",
            "powershell GetTask(OpenClaw Gateway)",
            "powershell GetTask(OpenClaw Gateway)",
            &format!("schtasks /Create /XML {file} /TN OpenClaw Gateway /F"),
            "schtasks /Query /TN OpenClaw Gateway /XML",
            "schtasks /Run /TN OpenClaw Gateway",
        ])
    );
    assert_eq!(r.fake.state().sleeps, [POLL_INTERVAL]);
    let task = r.fake.state().tasks[TASK].clone();
    assert!(task.running);
    assert_eq!(
        parse_task_xml(&task.xml).unwrap().arguments(),
        Some("gateway --port 18888")
    );
}

#[test]
fn access_denied_names_the_elevated_command() {
    let mut r = rig();
    let spec = r.spec();
    r.fake.state().deny_create = true;
    let e = r.install(&spec, false).unwrap_err();
    assert_eq!(e.kind, "access-denied");
    assert_eq!(e.message, "schtasks /Create failed: Access is denied.");
    let file = r.task_file().display().to_string();
    assert!(
        e.hints[0].contains(&format!(
            "schtasks /Create /XML {file} /TN \"OpenClaw Gateway\" /F"
        )),
        "{:?}",
        e.hints
    );
    assert!(e.hints[0].contains("elevated prompt"));
    // Localised: not recognised as such, but the hint is still there.
    r.fake.state().german = true;
    let e = r.install(&spec, true).unwrap_err();
    assert_eq!(e.kind, "schtasks-failed");
    assert!(
        e.message.contains("FEHLER: Zugriff verweigert"),
        "{}",
        e.message
    );
    assert!(e.hints[0].contains("elevated prompt"));
}

#[test]
fn install_removes_the_legacy_clawdbot_task() {
    let mut r = rig();
    let spec = r.spec();
    // Register a legacy task the way an old release did (through the same fake).
    let legacy_spec = {
        let mut l = spec.clone();
        l.names.windows_task = "Clawdbot Gateway".into();
        l
    };
    let plan = r.manager.plan_install(&legacy_spec).unwrap();
    r.fake.state().tasks.insert(
        "Clawdbot Gateway".into(),
        super::fake::FakeTask {
            xml: task_xml::decode_utf16_with_bom(&plan.files[0].contents).unwrap(),
            running: true,
            stopping: None,
            last_result: 0x41301,
            runs: 1,
        },
    );
    let outcome = r.install(&spec, false).unwrap();
    assert_eq!(
        outcome.messages[0],
        "Removed legacy scheduled task: Clawdbot Gateway"
    );
    let calls = r.fake.take_calls();
    assert_eq!(
        calls[1..4],
        s(&[
            "schtasks /Query /TN Clawdbot Gateway /XML",
            "schtasks /End /TN Clawdbot Gateway",
            "schtasks /Delete /TN Clawdbot Gateway /F",
        ])
    );
    assert!(!r.fake.state().tasks.contains_key("Clawdbot Gateway"));
    assert!(r.fake.state().tasks.contains_key(TASK));
}

#[test]
fn restart_ends_waits_and_runs() {
    let mut r = rig();
    let spec = r.installed();
    let outcome = r.manager.restart(&spec).unwrap();
    assert_eq!(outcome.result, ActionResult::Restarted);
    assert_eq!(
        r.fake.take_calls(),
        s(&[
            "schtasks /Query /TN OpenClaw Gateway /XML",
            "schtasks /End /TN OpenClaw Gateway",
            "powershell GetTask(OpenClaw Gateway)",
            "powershell GetTask(OpenClaw Gateway)",
            "schtasks /Run /TN OpenClaw Gateway",
        ])
    );
    assert_eq!(r.fake.state().tasks[TASK].runs, 2);
}

#[test]
fn stop_start_and_their_no_op_cases() {
    let mut r = rig();
    let spec = r.spec();
    let outcome = r.manager.stop(&spec).unwrap();
    assert_eq!(outcome.result, ActionResult::NotLoaded);
    assert_eq!(r.manager.start(&spec).unwrap_err().kind, "not-installed");
    r.install(&spec, false).unwrap();
    let outcome = r.manager.start(&spec).unwrap();
    assert_eq!(outcome.result, ActionResult::AlreadyRunning);
    r.fake.take_calls();
    let outcome = r.manager.stop(&spec).unwrap();
    assert_eq!(outcome.result, ActionResult::Stopped);
    assert_eq!(
        outcome.messages,
        [format!("Stopped Scheduled Task: {TASK}")]
    );
    assert_eq!(
        r.fake.take_calls(),
        s(&[
            "schtasks /Query /TN OpenClaw Gateway /XML",
            "powershell GetTask(OpenClaw Gateway)",
            "schtasks /End /TN OpenClaw Gateway",
            "powershell GetTask(OpenClaw Gateway)",
            "powershell GetTask(OpenClaw Gateway)",
        ])
    );
    assert!(!r.fake.state().tasks[TASK].running);
    assert_eq!(
        r.manager.stop(&spec).unwrap().result,
        ActionResult::NotLoaded
    );
    let outcome = r.manager.start(&spec).unwrap();
    assert_eq!(outcome.result, ActionResult::Started);
    assert!(r.fake.state().tasks[TASK].running);
}

#[test]
fn uninstall_ends_deletes_and_removes_our_files() {
    let mut r = rig();
    let mut spec = r.spec();
    spec.secret_environment = vec![("OPENCLAW_GATEWAY_TOKEN".into(), "tok".into())];
    r.install(&spec, false).unwrap();
    let secret = r
        .home
        .path()
        .join(".openclaw/service-env/scheduled-task.token");
    assert_eq!(std::fs::read_to_string(&secret).unwrap(), "tok\n");
    r.fake.take_calls();
    let plan = r.manager.plan_uninstall(&spec).unwrap();
    let outcome = r.manager.uninstall(&spec, &plan).unwrap();
    assert_eq!(outcome.result, ActionResult::Uninstalled);
    assert_eq!(
        outcome.messages,
        [
            format!("Removed Scheduled Task: {TASK}"),
            format!("Removed task definition: {}", r.task_file().display()),
            format!("Removed service secret file: {}", secret.display()),
        ]
    );
    assert_eq!(
        r.fake.take_calls(),
        s(&[
            "schtasks /Query /TN OpenClaw Gateway /XML",
            "schtasks /End /TN OpenClaw Gateway",
            "schtasks /Delete /TN OpenClaw Gateway /F",
        ])
    );
    assert!(r.fake.state().tasks.is_empty());
    assert!(!r.task_file().exists() && !secret.exists());
    let plan = r.manager.plan_uninstall(&spec).unwrap();
    let outcome = r.manager.uninstall(&spec, &plan).unwrap();
    assert_eq!(outcome.result, ActionResult::NotInstalled);
    assert_eq!(
        outcome.messages,
        [format!("Scheduled Task not found: {TASK}")]
    );
}

#[test]
fn status_reads_the_xml_and_the_com_state_never_localised_text() {
    let mut r = rig();
    let spec = r.spec();
    r.fake.state().german = true;
    assert_eq!(
        r.manager.status(&spec).unwrap().state,
        ServiceState::NotInstalled
    );
    r.install(&spec, false).unwrap();
    let status = r.manager.status(&spec).unwrap();
    assert_eq!(status.state, ServiceState::Running);
    assert_eq!(status.supervisor, "Scheduled Task");
    assert_eq!(status.enabled, Some(true));
    assert_eq!(status.definition_path, Some(r.task_file()));
    r.manager.stop(&spec).unwrap();
    r.fake.state().crash_exit = Some(78);
    r.manager.start(&spec).unwrap();
    let status = r.manager.status(&spec).unwrap();
    assert_eq!(status.state, ServiceState::Failed);
    assert_eq!(status.last_exit.as_ref().unwrap().status, Some(78));
    r.fake.state().no_powershell = true;
    let status = r.manager.status(&spec).unwrap();
    assert_eq!(status.state, ServiceState::Unknown);
    assert!(status.detail.unwrap().contains("PowerShell"));
}

#[test]
fn the_account_comes_from_the_environment() {
    let env = Environment::empty()
        .with("USERNAME", "alice")
        .with("USERDOMAIN", "DESKTOP-7Q2");
    assert_eq!(WindowsAccount::current(&env), WindowsAccount::fixed(USER));
    let env = Environment::empty()
        .with("USERNAME", "alice")
        .with("USERDOMAIN", "WORKGROUP");
    assert_eq!(
        WindowsAccount::current(&env).user_id.as_deref(),
        Some("alice")
    );
    let env = Environment::empty().with("USER", "bob");
    assert_eq!(
        WindowsAccount::current(&env).user_id.as_deref(),
        Some("bob")
    );
    let nobody = WindowsAccount { user_id: None };
    let spec = spec_in(Path::new("/home/x"), None);
    assert_eq!(task_values(&spec, &nobody).unwrap_err().kind, "no-user");
}

#[cfg(unix)]
#[test]
fn without_user_variables_the_account_is_the_passwd_entry_of_the_current_uid() {
    let expected = nix::unistd::User::from_uid(nix::unistd::geteuid())
        .unwrap()
        .expect("the test runs as a user with a passwd entry")
        .name;
    assert!(!expected.is_empty());
    let account = WindowsAccount::current(&Environment::empty());
    assert_eq!(account.user_id.as_deref(), Some(expected.as_str()));
    let account = WindowsAccount::current(&Environment::empty().with("USERDOMAIN", "CORP"));
    assert_eq!(account.user_id, Some(format!("CORP\\{expected}")));
    // A name from the environment still wins.
    let account = WindowsAccount::current(&Environment::empty().with("LOGNAME", "carol"));
    assert_eq!(account.user_id.as_deref(), Some("carol"));
    let spec = spec_in(Path::new("/home/x"), None);
    let values = task_values(&spec, &WindowsAccount::current(&Environment::empty())).unwrap();
    assert_eq!(values.user_id, expected);
}

#[test]
fn a_custom_state_dir_cannot_be_passed_to_a_task() {
    let env = Environment::empty()
        .with("HOME", "/home/x")
        .with("OPENCLAW_STATE_DIR", "/srv/oc");
    let inv = Invocation::resolve(&GlobalOptions::default(), env.clone(), false).unwrap();
    let config = LoadedConfig::load(Path::new("/nonexistent/openclaw.json"), &env).unwrap();
    let options = SpecOptions {
        program: Some(PathBuf::from("/opt/openclaw/openclaw.exe")),
        ..SpecOptions::default()
    };
    let spec = ServiceSpec::build(&inv, &config, &options).unwrap();
    let e = task_values(&spec, &WindowsAccount::fixed(USER)).unwrap_err();
    assert_eq!(e.kind, "unsupported-state-dir");
}

// ---- rendering -------------------------------------------------------------------------------

/// A spec with Windows paths, for goldens.
fn golden_spec(profile: Option<&str>) -> ServiceSpec {
    let mut spec = spec_in(Path::new("/home/alice"), profile);
    spec.program = PathBuf::from("C:\\Program Files\\OpenClaw\\openclaw.exe");
    spec.home = PathBuf::from("C:\\Users\\alice");
    spec.state_dir = PathBuf::from(match profile {
        Some(p) => format!("C:\\Users\\alice\\.openclaw-{p}"),
        None => "C:\\Users\\alice\\.openclaw".to_owned(),
    });
    spec
}

fn rendered(spec: &ServiceSpec) -> Plan {
    let m = WindowsBackend::new(
        Box::new(FakeSchtasks::new()),
        Box::new(crate::service::wait::ThreadSleeper),
        WindowsAccount::fixed(USER),
    );
    m.plan_install(spec).unwrap()
}

#[test]
fn golden_task_xml_for_the_default_and_rescue_profiles() {
    for (name, profile) in [
        ("openclaw-gateway-task.default.xml", None),
        ("openclaw-gateway-task.rescue.xml", Some("rescue")),
    ] {
        let plan = rendered(&golden_spec(profile));
        let bytes = &plan.files[0].contents;
        let text = decode_utf16_with_bom(bytes).unwrap();
        assert_eq!(
            *bytes,
            task_xml::encode_utf16_with_bom(&text),
            "exactly BOM + UTF-16 LE of the text"
        );
        assert_golden(&format!("windows/{name}"), &text);
    }
}

#[test]
fn the_task_xml_parses_and_has_the_required_elements() {
    let plan = rendered(&golden_spec(Some("rescue")));
    let bytes = &plan.files[0].contents;
    assert_eq!(&bytes[..2], &[0xFF, 0xFE]);
    let text = decode_utf16_with_bom(bytes).unwrap();
    assert!(text.starts_with("<?xml version=\"1.0\" encoding=\"UTF-16\"?>"));
    // An independent pass with quick-xml's plain reader: well-formed to the end.
    let mut reader = quick_xml::Reader::from_str(&text);
    reader.config_mut().check_end_names = true;
    let mut elements = 0;
    loop {
        match reader.read_event().unwrap() {
            quick_xml::events::Event::Eof => break,
            quick_xml::events::Event::Start(_) => elements += 1,
            _ => {}
        }
    }
    assert!(elements > 30, "{elements}");
    let def = parse_task_xml(&text).unwrap();
    for (path, want) in [
        ("Triggers/LogonTrigger/Enabled", "true"),
        ("Triggers/LogonTrigger/UserId", USER),
        ("Principals/Principal/UserId", USER),
        ("Principals/Principal/LogonType", "InteractiveToken"),
        ("Principals/Principal/RunLevel", "LeastPrivilege"),
        ("Settings/ExecutionTimeLimit", "PT0S"),
        ("Settings/DisallowStartIfOnBatteries", "false"),
        ("Settings/StopIfGoingOnBatteries", "false"),
        ("Settings/MultipleInstancesPolicy", "IgnoreNew"),
        ("Settings/RestartOnFailure/Interval", "PT1M"),
        ("Settings/Hidden", "true"),
        ("Settings/Enabled", "true"),
        (
            "Actions/Exec/Command",
            "C:\\Program Files\\OpenClaw\\openclaw.exe",
        ),
        (
            "Actions/Exec/Arguments",
            "gateway --port 23532 --profile rescue",
        ),
        (
            "Actions/Exec/WorkingDirectory",
            "C:\\Users\\alice\\.openclaw-rescue",
        ),
    ] {
        assert_eq!(def.get(path), Some(want), "{path}");
    }
    let count: u32 = def
        .get("Settings/RestartOnFailure/Count")
        .unwrap()
        .parse()
        .unwrap();
    assert!(count >= 1);
    assert_eq!(def.exec_actions, 1);
    assert!(!def.command().unwrap().ends_with(".cmd"));
    assert_eq!(
        def.attributes.get("@xmlns").map(String::as_str),
        Some("http://schemas.microsoft.com/windows/2004/02/mit/task")
    );
}

#[test]
fn no_secret_reaches_the_task_xml_and_the_token_file_is_named_instead() {
    const TOKEN: &str = "s3cr3t-t0ken-that-must-not-leak";
    let mut spec = golden_spec(None);
    spec.secret_environment = vec![("OPENCLAW_GATEWAY_TOKEN".into(), TOKEN.into())];
    let plan = rendered(&spec);
    let text = decode_utf16_with_bom(&plan.files[0].contents).unwrap();
    assert!(!text.contains(TOKEN));
    assert!(!String::from_utf8_lossy(&plan.files[0].contents).contains(TOKEN));
    let def = parse_task_xml(&text).unwrap();
    let args = def.arguments().unwrap();
    assert!(
        args.starts_with("gateway --port 18789 --token-file "),
        "{args}"
    );
    assert!(args.ends_with("scheduled-task.token"), "{args}");
    assert!(plan.files[1].secret);
    assert!(!plan.render_text().contains(TOKEN));
    assert!(!serde_json::to_string(&plan).unwrap().contains(TOKEN));
    spec.secret_environment = vec![("OPENAI_API_KEY".into(), "sk-x".into())];
    let m = WindowsBackend::new(
        Box::new(FakeSchtasks::new()),
        Box::new(crate::service::wait::ThreadSleeper),
        WindowsAccount::fixed(USER),
    );
    let e = m.plan_install(&spec).unwrap_err();
    assert_eq!(e.kind, "unsupported-secret");
    assert!(!e.message.contains("sk-x"));
}
