//! End-to-end doctor runs for launchd and Task Scheduler from Linux: a test home, the doctor
//! driven through [`Supervisor::with_tools`] with the stateful `launchctl` / `schtasks` fakes,
//! findings → `--fix --yes` → a second run that reports clean, and no secret left in any file
//! others can read.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use plist::Value;

use super::*;
use crate::config::LoadedConfig;
use crate::doctor::findings::Severity;
use crate::environment::Environment;
use crate::invocation::GlobalOptions;
use crate::service::PlatformKind;
use crate::service::ServiceManager;
use crate::service::launchd::LaunchdIdentity;
use crate::service::launchd::LaunchdPaths;
use crate::service::launchd::fake::FakeLaunchctl;
use crate::service::runner::CommandRunner;
use crate::service::spec::ServiceSpec;
use crate::service::status::ServiceState;
use crate::service::wait::Sleeper;
use crate::service::windows::WindowsAccount;
use crate::service::windows::fake::FakeSchtasks;
use crate::service::windows::schtasks::Schtasks;
use crate::service::windows::task_xml::{TaskValues, encode_utf16_with_bom, render_task_xml};

const TOKEN: &str = "ref-token-0123456789abcdef";
const USER: &str = "DESKTOP-7Q2\\alice";

fn invocation(home: &Path) -> Invocation {
    let env = Environment::empty().with("HOME", &home.display().to_string());
    Invocation::resolve(&GlobalOptions::default(), env, false).unwrap()
}

/// `platform` driven through `fake` (a launchctl or schtasks fake: runner and sleeper), with a
/// gateway that answers exactly when the fake supervisor runs the service.
fn faked<F: CommandRunner + Sleeper + Clone + 'static>(
    platform: PlatformKind,
    fake: &F,
) -> Supervisor {
    let fake = fake.clone();
    Supervisor::with_tools(
        platform,
        LaunchdIdentity::fixed(501),
        WindowsAccount::fixed(USER),
        Box::new(move || (Box::new(fake.clone()), Box::new(fake.clone()))),
    )
    .with_probe(Box::new(|_, _, runtime| {
        let answered = runtime.is_some_and(|r| r.state == ServiceState::Running);
        supervisor::Health {
            answered,
            url: "ws://127.0.0.1:18789".into(),
            detail: if answered {
                "connected"
            } else {
                "connection refused"
            }
            .into(),
        }
    }))
}

fn macos(fake: &FakeLaunchctl) -> Supervisor {
    faked(PlatformKind::Macos, fake)
}

fn windows(fake: &FakeSchtasks) -> Supervisor {
    faked(PlatformKind::Windows, fake)
}

fn args(fix: bool) -> DoctorOptions {
    DoctorOptions {
        fix,
        yes: fix,
        non_interactive: true,
        force: false,
        dry_run: false,
        system: false,
        json: false,
    }
}

fn audit(inv: &Invocation, sup: &Supervisor) -> Vec<Item> {
    let targets = targets(inv, sup).unwrap();
    audit_all(inv, &targets, sup, super::runtime::RunningRewrite::Hold)
}

/// The `--json` report of `inv` on `sup`, checked against `schemas/doctor.schema.json`.
fn assert_report_valid(inv: &Invocation, sup: &Supervisor) -> serde_json::Value {
    let targets = targets(inv, sup).unwrap();
    let report = report_json(
        &targets,
        &audit_all(inv, &targets, sup, super::runtime::RunningRewrite::Hold),
    );
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/doctor.schema.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::draft202012::new(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&report)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:?}\n{report:#}");
    report
}

fn counting_ids(items: &[Item]) -> Vec<&'static str> {
    items
        .iter()
        .filter(|(f, _)| f.counts())
        .map(|(f, _)| f.id)
        .collect()
}

/// Every file under `dir` that others can read and that holds `secret`.
fn readable_files_with(dir: &Path, secret: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let path = e.path();
        let meta = std::fs::symlink_metadata(&path).unwrap();
        if meta.is_dir() {
            out.extend(readable_files_with(&path, secret));
        } else if meta.permissions().mode() & 0o044 != 0
            && std::fs::read(&path).is_ok_and(|b| String::from_utf8_lossy(&b).contains(secret))
        {
            out.push(path);
        }
    }
    out
}

fn config_token(inv: &Invocation) -> Option<String> {
    let loaded = LoadedConfig::load(&inv.paths.config_path, &inv.env).ok()?;
    loaded.raw["gateway"]["auth"]["token"]
        .as_str()
        .map(str::to_owned)
}

fn write_plist(path: &Path, dict: plist::Dictionary) {
    let mut bytes = Vec::new();
    Value::Dictionary(dict).to_writer_xml(&mut bytes).unwrap();
    std::fs::write(path, bytes).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644)).unwrap();
}

/// Installs the default profile's service through `sup`'s backend; its spec.
fn install_ours(inv: &Invocation, sup: &Supervisor) -> ServiceSpec {
    std::fs::create_dir_all(&inv.paths.state_dir).unwrap();
    let t = &targets(inv, sup).unwrap()[0];
    let spec = t.spec.clone().unwrap();
    let mut backend = sup.backend(&inv.env);
    let plan = backend.plan_install(&spec).unwrap();
    backend.install(&spec, &plan, false).unwrap();
    assert_eq!(counting_ids(&audit(inv, sup)), Vec::<&str>::new());
    spec
}

/// The findings of `items` with `id`.
fn with_id<'a>(items: &'a [Item], id: &str) -> &'a Item {
    items
        .iter()
        .find(|(f, _)| f.id == id)
        .unwrap_or_else(|| panic!("no {id} in {items:#?}"))
}

/// True when `calls` contains `want` in this order (other calls in between).
fn in_order(calls: &[String], want: &[String]) -> bool {
    let mut rest = calls.iter();
    want.iter().all(|w| rest.any(|c| c == w))
}

#[test]
fn launchd_our_stopped_agent_with_a_hand_edited_port_and_inline_token_is_fixed_and_then_clean() {
    let home = tempfile::tempdir().unwrap();
    let inv = invocation(home.path());
    let fake = FakeLaunchctl::new(501, true);
    let sup = macos(&fake);
    let spec = install_ours(&inv, &sup);
    // Stopped first: the definition of a running agent is not rewritten (spec §6.3; see
    // launchd_a_running_agent_whose_program_arguments_drifted_is_neither_rewritten_nor_restarted).
    sup.launchd().stop(&spec).unwrap();

    // Hand edits: another port, an inline token, and an operator setting to keep.
    let plist = LaunchdPaths::for_spec(&spec).plist;
    let mut dict = Value::from_file(&plist).unwrap().into_dictionary().unwrap();
    let argv = dict
        .get_mut("ProgramArguments")
        .and_then(Value::as_array_mut)
        .unwrap();
    let i = argv
        .iter()
        .position(|a| a.as_string() == Some("--port"))
        .unwrap();
    argv[i + 1] = Value::String("18888".into());
    let env = dict
        .get_mut("EnvironmentVariables")
        .and_then(Value::as_dictionary_mut)
        .unwrap();
    env.insert("OPENCLAW_GATEWAY_TOKEN".into(), Value::String(TOKEN.into()));
    env.insert("MY_SETTING".into(), Value::String("keep me".into()));
    write_plist(&plist, dict);

    let found = audit(&inv, &sup);
    let ids = counting_ids(&found);
    assert_eq!(
        ids,
        [
            "service-port-mismatch",
            "service-token-embedded",
            "service-not-loaded"
        ],
        "{found:#?}"
    );
    assert!(
        found
            .iter()
            .filter(|(f, _)| f.counts() && f.id != "service-not-loaded")
            .all(|(_, a)| a
                == &Some(Action::Reinstall {
                    profile: "default".into()
                })),
        "{found:?}"
    );

    assert_eq!(
        run_with(&inv, &args(true), &sup, &mut std::io::sink()).unwrap(),
        Outcome::Clean
    );
    assert_eq!(counting_ids(&audit(&inv, &sup)), Vec::<&str>::new());
    assert_eq!(
        run_with(&inv, &args(false), &sup, &mut std::io::sink()).unwrap(),
        Outcome::Clean
    );

    let dict = Value::from_file(&plist).unwrap().into_dictionary().unwrap();
    let env = plist_environment_of(&dict);
    assert_eq!(env.get("MY_SETTING").map(String::as_str), Some("keep me"));
    assert!(!env.contains_key("OPENCLAW_GATEWAY_TOKEN"));
    assert!(
        launchd::audit::program_arguments(&dict).contains(&spec.port.to_string()),
        "{dict:?}"
    );
    assert_eq!(config_token(&inv).as_deref(), Some(TOKEN));
    let backup = inv
        .paths
        .state_dir
        .join("service-backup/bot.molt.gateway.plist.bak");
    assert_eq!(crate::atomic_write::file_mode(&backup), Some(0o600));
    let text = std::fs::read_to_string(&backup).unwrap();
    assert!(text.contains("18888") && !text.contains(TOKEN), "{text}");
    assert_eq!(
        readable_files_with(home.path(), TOKEN),
        Vec::<PathBuf>::new()
    );
    // The fake launchd runs the rewritten job.
    let state = fake.state();
    let job = &state.jobs["bot.molt.gateway"];
    assert!(job.pid.is_some() && job.arguments.contains(&spec.port.to_string()));
}

fn plist_environment_of(dict: &plist::Dictionary) -> std::collections::BTreeMap<String, String> {
    launchd::audit::plist_environment(dict, None)
        .into_iter()
        .collect()
}

/// The reference release's LaunchAgent (spec §9) with its env file, an inline token and an
/// operator setting added to the env file; returns (plist, env file, wrapper).
fn reference_agent(home: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let h = home.display().to_string();
    let agents = home.join("Library/LaunchAgents");
    let env_dir = home.join(".openclaw/service-env");
    std::fs::create_dir_all(&agents).unwrap();
    std::fs::create_dir_all(&env_dir).unwrap();
    let plist = agents.join("ai.openclaw.gateway.plist");
    let text = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
  <dict>
    <key>Label</key>
    <string>ai.openclaw.gateway</string>
    
    <key>Comment</key>
    <string>OpenClaw Gateway</string>
    <key>RunAtLoad</key>
    <true/>
    <key>KeepAlive</key>
    <true/>
    <key>ExitTimeOut</key>
    <integer>20</integer>
    <key>ProcessType</key>
    <string>Interactive</string>
    <key>ThrottleInterval</key>
    <integer>10</integer>
    <key>Umask</key>
    <integer>63</integer>
    <key>StandardInPath</key>
    <string>/dev/null</string>
    <key>ProgramArguments</key>
    <array>
      <string>/bin/sh</string>
      <string>{h}/.openclaw/service-env/ai.openclaw.gateway-env-wrapper.sh</string>
      <string>{h}/.openclaw/service-env/ai.openclaw.gateway.env</string>
      <string>/opt/homebrew/bin/node</string>
      <string>--max-old-space-size=8192</string>
      <string>/opt/homebrew/lib/node_modules/openclaw/dist/entry.js</string>
      <string>gateway</string>
      <string>--port</string>
      <string>18789</string>
    </array>
    
    <key>WorkingDirectory</key>
    <string>{h}/.openclaw</string>
    <key>StandardOutPath</key>
    <string>{h}/Library/Logs/openclaw/gateway.log</string>
    <key>StandardErrorPath</key>
    <string>{h}/Library/Logs/openclaw/gateway.log</string>
  </dict>
</plist>
"#
    );
    std::fs::write(&plist, text).unwrap();
    std::fs::set_permissions(&plist, std::fs::Permissions::from_mode(0o644)).unwrap();
    let env = env_dir.join("ai.openclaw.gateway.env");
    let env_text = format!(
        "# Generated by OpenClaw. Do not edit while the gateway service is installed.\n\
export HOME='{h}'\n\
export NODE_EXTRA_CA_CERTS='/etc/ssl/cert.pem'\n\
export NODE_OPTIONS=''\n\
export NODE_USE_SYSTEM_CA='1'\n\
export OPENAI_BASE_URL='https://llm.example.test/v1'\n\
export OPENCLAW_GATEWAY_PORT='18789'\n\
export OPENCLAW_GATEWAY_TOKEN='{TOKEN}'\n\
export OPENCLAW_LAUNCHD_LABEL='ai.openclaw.gateway'\n\
export OPENCLAW_SERVICE_KIND='gateway'\n\
export OPENCLAW_SERVICE_MARKER='openclaw'\n\
export OPENCLAW_SYSTEMD_UNIT='openclaw-gateway.service'\n\
export OPENCLAW_WINDOWS_TASK_HIDDEN_LAUNCHER='1'\n\
export OPENCLAW_WINDOWS_TASK_NAME='OpenClaw Gateway'\n\
export OPERATOR_NOTE='it'\\''s mine'\n\
export PATH='/opt/homebrew/bin:/usr/bin:/bin'\n\
export TMPDIR='{h}/.openclaw/tmp'\n"
    );
    std::fs::write(&env, env_text).unwrap();
    std::fs::set_permissions(&env, std::fs::Permissions::from_mode(0o644)).unwrap();
    let wrapper = env_dir.join("ai.openclaw.gateway-env-wrapper.sh");
    std::fs::write(&wrapper, "#!/bin/sh\nset -eu\n").unwrap();
    (plist, env, wrapper)
}

#[test]
fn launchd_the_reference_ai_openclaw_agent_is_migrated_keeping_operator_env_and_no_readable_secret()
{
    let home = tempfile::tempdir().unwrap();
    let inv = invocation(home.path());
    let fake = FakeLaunchctl::new(501, true);
    let sup = macos(&fake);
    let (plist, env, wrapper) = reference_agent(home.path());
    let mut runner = fake.clone();
    let out = runner
        .run(
            "launchctl",
            &[
                "bootstrap".into(),
                "gui/501".into(),
                plist.display().to_string(),
            ],
            std::time::Duration::from_secs(5),
        )
        .unwrap();
    assert!(out.success(), "{out:?}");

    let found = audit(&inv, &sup);
    let migration = found
        .iter()
        .find(|(f, _)| f.id == "other-release-launch-agent")
        .unwrap_or_else(|| panic!("{found:?}"));
    assert_eq!(
        migration.1,
        Some(Action::MigrateLaunchAgent {
            profile: "default".into(),
            label: "ai.openclaw.gateway".into(),
            plist: plist.clone(),
        })
    );
    assert_eq!(migration.0.repair, RepairKind::Safe);
    let t = find_target(&targets(&inv, &sup).unwrap(), "default")
        .unwrap()
        .clone();
    let plan = launchd::repair::describe_migration(&t, &sup, "ai.openclaw.gateway", &plist);
    assert!(
        plan.contains(&"launchctl bootout gui/501/ai.openclaw.gateway".to_owned()),
        "{plan:?}"
    );
    assert!(
        plan.contains(&"keep operator settings: OPENAI_BASE_URL, OPERATOR_NOTE".to_owned()),
        "{plan:?}"
    );
    fake.take_calls();

    assert_eq!(
        run_with(&inv, &args(true), &sup, &mut std::io::sink()).unwrap(),
        Outcome::Clean
    );
    let calls = fake.take_calls();
    assert!(
        calls.contains(&"launchctl bootout gui/501/ai.openclaw.gateway".to_owned()),
        "{calls:?}"
    );
    assert!(!plist.exists() && !env.exists() && !wrapper.exists());
    let trashed = home.path().join(".Trash/ai.openclaw.gateway.plist");
    assert_eq!(crate::atomic_write::file_mode(&trashed), Some(0o600));
    let trashed_env = home.path().join(".Trash/ai.openclaw.gateway.env");
    let text = std::fs::read_to_string(&trashed_env).unwrap();
    assert!(
        !text.contains(TOKEN) && text.contains("OPENAI_BASE_URL"),
        "{text}"
    );
    assert_eq!(crate::atomic_write::file_mode(&trashed_env), Some(0o600));

    let ours = home
        .path()
        .join("Library/LaunchAgents/bot.molt.gateway.plist");
    let dict = Value::from_file(&ours).unwrap().into_dictionary().unwrap();
    let env = plist_environment_of(&dict);
    assert_eq!(
        env.get("OPENAI_BASE_URL").map(String::as_str),
        Some("https://llm.example.test/v1")
    );
    assert_eq!(
        env.get("OPERATOR_NOTE").map(String::as_str),
        Some("it's mine")
    );
    assert_eq!(
        env.get("OPENCLAW_LAUNCHD_LABEL").map(String::as_str),
        Some("bot.molt.gateway")
    );
    assert!(!env.contains_key("OPENCLAW_GATEWAY_TOKEN"));
    assert_eq!(config_token(&inv).as_deref(), Some(TOKEN));
    assert_eq!(
        readable_files_with(home.path(), TOKEN),
        Vec::<PathBuf>::new()
    );
    {
        let state = fake.state();
        assert!(state.jobs["bot.molt.gateway"].pid.is_some());
    }
    assert_eq!(counting_ids(&audit(&inv, &sup)), Vec::<&str>::new());
    assert_eq!(
        run_with(&inv, &args(false), &sup, &mut std::io::sink()).unwrap(),
        Outcome::Clean
    );
}

/// Registers `name` as the reference release does: the task runs `<state>\gateway.cmd`.
fn register_script_task(fake: &FakeSchtasks, dir: &Path, name: &str, script: &Path) {
    let xml = render_task_xml(&TaskValues {
        description: "OpenClaw Gateway".into(),
        user_id: USER.into(),
        command: script.display().to_string(),
        arguments: String::new(),
        working_directory: dir.display().to_string(),
    })
    .unwrap();
    let file = dir.join("import.xml");
    std::fs::write(&file, encode_utf16_with_bom(&xml)).unwrap();
    let mut runner = fake.clone();
    Schtasks::new(&mut runner).create(&file, name).unwrap();
    std::fs::remove_file(file).unwrap();
}

#[test]
fn windows_a_task_running_a_script_with_an_inline_token_is_fixed_and_then_clean() {
    let home = tempfile::tempdir().unwrap();
    let inv = invocation(home.path());
    let fake = FakeSchtasks::new();
    let sup = windows(&fake);
    let state = inv.paths.state_dir.clone();
    std::fs::create_dir_all(&state).unwrap();
    let script = state.join("gateway.cmd");
    std::fs::write(
        &script,
        format!(
            "@echo off\r\nrem OpenClaw Gateway\r\nset \"HOME={h}\"\r\nset \"OPENCLAW_GATEWAY_PORT=18789\"\r\nset \"OPENCLAW_GATEWAY_TOKEN={TOKEN}\"\r\nset \"OPENCLAW_SERVICE_MARKER=openclaw\"\r\nset \"OPENCLAW_SERVICE_KIND=gateway\"\r\n\"C:\\Program Files\\nodejs\\node.exe\" C:\\openclaw\\dist\\entry.js gateway --port 18789 --task-supervisor < NUL\r\n",
            h = home.path().display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o644)).unwrap();
    register_script_task(&fake, home.path(), "OpenClaw Gateway", &script);

    let found = audit(&inv, &sup);
    let ids = counting_ids(&found);
    assert!(ids.contains(&"service-other-release"), "{ids:?}");
    assert!(ids.contains(&"service-token-embedded"), "{ids:?}");
    let token = found
        .iter()
        .find(|(f, _)| f.id == "service-token-embedded")
        .unwrap();
    assert!(token.0.message.contains("mode 0644"), "{}", token.0.message);
    assert_eq!(token.0.path.as_deref(), Some(script.as_path()));

    assert_eq!(
        run_with(&inv, &args(true), &sup, &mut std::io::sink()).unwrap(),
        Outcome::Clean
    );
    assert!(!script.exists());
    let backup = state.join("service-backup/gateway.cmd.bak");
    assert_eq!(crate::atomic_write::file_mode(&backup), Some(0o600));
    let text = std::fs::read_to_string(&backup).unwrap();
    assert!(
        !text.contains(TOKEN) && text.contains("--task-supervisor"),
        "{text}"
    );
    assert_eq!(config_token(&inv).as_deref(), Some(TOKEN));
    assert_eq!(
        readable_files_with(home.path(), TOKEN),
        Vec::<PathBuf>::new()
    );
    let mut runner = fake.clone();
    let def = Schtasks::new(&mut runner)
        .query_xml("OpenClaw Gateway")
        .unwrap()
        .unwrap();
    let spec = find_target(&targets(&inv, &sup).unwrap(), "default")
        .unwrap()
        .spec
        .clone()
        .unwrap();
    assert_eq!(
        def.command(),
        Some(spec.program.display().to_string().as_str())
    );
    assert_eq!(counting_ids(&audit(&inv, &sup)), Vec::<&str>::new());
    assert_eq!(
        run_with(&inv, &args(false), &sup, &mut std::io::sink()).unwrap(),
        Outcome::Clean
    );
}

#[test]
fn launchd_a_running_agent_whose_program_arguments_drifted_is_neither_rewritten_nor_restarted() {
    let home = tempfile::tempdir().unwrap();
    let inv = invocation(home.path());
    let fake = FakeLaunchctl::new(501, true);
    let sup = macos(&fake);
    let spec = install_ours(&inv, &sup);
    let label = spec.names.launchd_label.clone();
    let plist = LaunchdPaths::for_spec(&spec).plist;
    let mut dict = Value::from_file(&plist).unwrap().into_dictionary().unwrap();
    let argv = dict
        .get_mut("ProgramArguments")
        .and_then(Value::as_array_mut)
        .unwrap();
    let i = argv
        .iter()
        .position(|a| a.as_string() == Some("--port"))
        .unwrap();
    argv[i + 1] = Value::String("18888".into());
    write_plist(&plist, dict);
    let edited = std::fs::read(&plist).unwrap();
    let pid = fake.state().jobs[&label].pid;
    assert!(pid.is_some());

    let found = audit(&inv, &sup);
    assert_eq!(
        counting_ids(&found),
        ["service-port-mismatch"],
        "{found:#?}"
    );
    let (port, action) = with_id(&found, "service-port-mismatch");
    assert_eq!((action, port.repair), (&None, RepairKind::Manual));
    assert!(port.fix.contains("openclaw gateway stop"), "{}", port.fix);
    let (note, _) = with_id(&found, runtime::REWRITE_SKIPPED);
    assert_eq!(note.severity, Severity::Info);
    assert!(
        note.message.starts_with(&format!(
            "Gateway service {label} is running (pid 4242); skipped command/entrypoint rewrites"
        )),
        "{}",
        note.message
    );
    assert!(
        note.fix.contains("openclaw gateway install --force"),
        "{}",
        note.fix
    );

    let report = assert_report_valid(&inv, &sup);
    assert_eq!(report["repairs"], serde_json::json!([]), "{report:#}");

    // Not even --force rewrites the running agent's command.
    fake.take_calls();
    let forced = DoctorOptions {
        force: true,
        ..args(true)
    };
    assert_eq!(
        run_with(&inv, &forced, &sup, &mut std::io::sink()).unwrap(),
        Outcome::FindingsLeft
    );
    let calls = fake.take_calls();
    assert!(
        calls.iter().all(|c| c.starts_with("launchctl print")),
        "only inspected: {calls:?}"
    );
    assert_eq!(fake.state().jobs[&label].pid, pid, "not restarted");
    assert_eq!(std::fs::read(&plist).unwrap(), edited, "not rewritten");
}

#[test]
fn launchd_a_plist_that_is_not_loaded_gets_the_bootstrap_repair_enable_bootstrap_kickstart() {
    let home = tempfile::tempdir().unwrap();
    let inv = invocation(home.path());
    let fake = FakeLaunchctl::new(501, true);
    let sup = macos(&fake);
    let spec = install_ours(&inv, &sup);
    let label = spec.names.launchd_label.clone();
    let plist = LaunchdPaths::for_spec(&spec).plist;
    sup.launchd().stop(&spec).unwrap();
    assert!(plist.exists() && !fake.state().jobs.contains_key(&label));

    let found = audit(&inv, &sup);
    assert_eq!(counting_ids(&found), ["service-not-loaded"], "{found:#?}");
    let (f, action) = with_id(&found, "service-not-loaded");
    assert!(
        f.message
            .starts_with("LaunchAgent is installed but not loaded in launchd."),
        "{}",
        f.message
    );
    assert_eq!(f.repair, RepairKind::Safe);
    assert_eq!(f.path.as_deref(), Some(plist.as_path()));
    assert_eq!(
        action,
        &Some(Action::BootstrapLaunchAgent {
            profile: "default".into()
        })
    );
    let report = assert_report_valid(&inv, &sup);
    assert_eq!(report["repairs"][0]["kind"], "safe", "{report:#}");
    let t = find_target(&targets(&inv, &sup).unwrap(), "default")
        .unwrap()
        .clone();
    let plan = runtime::plan_lines(action.as_ref().unwrap(), &t, &sup);
    assert_eq!(plan[0], format!("launchctl enable gui/501/{label}"));
    assert!(
        plan[1].starts_with(&format!("launchctl bootstrap gui/501 {}", plist.display())),
        "{plan:?}"
    );
    assert!(
        plan[2].starts_with(&format!("launchctl kickstart gui/501/{label}")),
        "{plan:?}"
    );

    // The gateway dies right after every spawn: after the bootstrap launchd holds the job
    // without running it, so the repair kickstarts it.
    fake.state().crash_exit = Some(1);
    fake.take_calls();
    assert_eq!(
        run_with(&inv, &args(true), &sup, &mut std::io::sink()).unwrap(),
        Outcome::FindingsLeft
    );
    let calls = fake.take_calls();
    let target = format!("gui/501/{label}");
    assert!(
        in_order(
            &calls,
            &[
                format!("launchctl enable {target}"),
                format!("launchctl bootstrap gui/501 {}", plist.display()),
                format!("launchctl print {target}"),
                format!("launchctl kickstart {target}"),
            ]
        ),
        "{calls:#?}"
    );
    assert!(
        !calls
            .iter()
            .any(|c| c.contains("bootout") || c.contains("kickstart -k")),
        "{calls:#?}"
    );

    // Loaded now but not running: the next run starts it as `gateway start` does.
    fake.state().crash_exit = None;
    let found = audit(&inv, &sup);
    assert_eq!(counting_ids(&found), ["service-not-running"], "{found:#?}");
    fake.take_calls();
    assert_eq!(
        run_with(&inv, &args(true), &sup, &mut std::io::sink()).unwrap(),
        Outcome::Clean
    );
    let calls = fake.take_calls();
    assert!(
        in_order(
            &calls,
            &[
                format!("launchctl enable {target}"),
                format!("launchctl kickstart {target}")
            ]
        ),
        "{calls:#?}"
    );
    assert!(fake.state().jobs[&label].pid.is_some());
    assert_eq!(counting_ids(&audit(&inv, &sup)), Vec::<&str>::new());
}

#[test]
fn windows_a_registered_task_that_does_not_run_is_started_with_schtasks_run() {
    let home = tempfile::tempdir().unwrap();
    let inv = invocation(home.path());
    let fake = FakeSchtasks::new();
    let sup = windows(&fake);
    let spec = install_ours(&inv, &sup);
    sup.windows().stop(&spec).unwrap();

    let found = audit(&inv, &sup);
    assert_eq!(counting_ids(&found), ["service-not-running"], "{found:#?}");
    let (f, action) = with_id(&found, "service-not-running");
    assert!(
        f.message
            .starts_with("Gateway service OpenClaw Gateway is installed but not running"),
        "{}",
        f.message
    );
    assert_eq!(
        action,
        &Some(Action::StartService {
            profile: "default".into()
        })
    );
    assert_eq!(
        action.as_ref().unwrap().question(),
        ("Start gateway service now?".to_owned(), true)
    );

    fake.take_calls();
    assert_eq!(
        run_with(&inv, &args(true), &sup, &mut std::io::sink()).unwrap(),
        Outcome::Clean
    );
    let calls = fake.take_calls();
    assert!(
        calls.contains(&"schtasks /Run /TN OpenClaw Gateway".to_owned()),
        "{calls:#?}"
    );
    assert!(
        !calls
            .iter()
            .any(|c| c.contains("/Create") || c.contains("/End")),
        "started, not reinstalled or restarted: {calls:#?}"
    );
    assert!(fake.state().tasks["OpenClaw Gateway"].running);
    assert_eq!(counting_ids(&audit(&inv, &sup)), Vec::<&str>::new());
}

#[test]
fn a_running_service_that_does_not_answer_is_only_restarted_after_a_yes_on_a_terminal() {
    let home = tempfile::tempdir().unwrap();
    let inv = invocation(home.path());
    let fake = FakeSchtasks::new();
    let sup = windows(&fake).with_probe(Box::new(|_, _, _| supervisor::Health {
        answered: false,
        url: "ws://127.0.0.1:18789".into(),
        detail: "connection refused".into(),
    }));
    std::fs::create_dir_all(&inv.paths.state_dir).unwrap();
    let spec = targets(&inv, &sup).unwrap()[0].spec.clone().unwrap();
    let mut backend = sup.windows();
    let plan = backend.plan_install(&spec).unwrap();
    backend.install(&spec, &plan, false).unwrap();

    let found = audit(&inv, &sup);
    assert_eq!(counting_ids(&found), ["service-unhealthy"], "{found:#?}");
    let (f, action) = with_id(&found, "service-unhealthy");
    assert_eq!(f.repair, RepairKind::Interactive);
    assert!(
        f.message.contains("is running") && f.message.contains("connection refused"),
        "{}",
        f.message
    );
    let action = action.clone().unwrap();
    assert_eq!(
        action,
        Action::RestartService {
            profile: "default".into()
        }
    );
    assert_eq!(
        action.question(),
        ("Restart gateway service now?".to_owned(), false)
    );
    let report = assert_report_valid(&inv, &sup);
    assert_eq!(report["findings"][0]["repair"], "interactive", "{report:#}");
    assert_eq!(report["repairs"][0]["kind"], "interactive", "{report:#}");
    // --fix --yes (and --non-interactive) never restart it.
    fake.take_calls();
    assert_eq!(
        run_with(&inv, &args(true), &sup, &mut std::io::sink()).unwrap(),
        Outcome::FindingsLeft
    );
    assert!(
        !fake
            .take_calls()
            .iter()
            .any(|c| c.contains("/End") || c.contains("/Run")),
        "not restarted"
    );
    // A yes on a terminal restarts it through the backend.
    let targets = targets(&inv, &sup).unwrap();
    assert_eq!(
        execute(&action, &targets, &sup).unwrap(),
        ["Restarted Scheduled Task: OpenClaw Gateway"]
    );
    let calls = fake.take_calls();
    assert!(
        in_order(
            &calls,
            &[
                "schtasks /End /TN OpenClaw Gateway".to_owned(),
                "schtasks /Run /TN OpenClaw Gateway".to_owned()
            ]
        ),
        "{calls:#?}"
    );
}

#[test]
fn the_external_repair_policy_keeps_doctor_away_from_the_service() {
    let home = tempfile::tempdir().unwrap();
    let env = Environment::empty()
        .with("HOME", &home.path().display().to_string())
        .with("OPENCLAW_SERVICE_REPAIR_POLICY", "external");
    let inv = Invocation::resolve(&GlobalOptions::default(), env, false).unwrap();
    let fake = FakeSchtasks::new();
    let sup = windows(&fake);
    let spec = install_ours(&inv, &sup);
    sup.windows().stop(&spec).unwrap();

    let found = audit(&inv, &sup);
    let (f, action) = with_id(&found, "service-not-running");
    assert_eq!((action, f.repair), (&None, RepairKind::Manual));
    assert!(
        f.fix.starts_with(
            "Gateway service is managed externally (OPENCLAW_SERVICE_REPAIR_POLICY=external)"
        ),
        "{}",
        f.fix
    );
    fake.take_calls();
    assert_eq!(
        run_with(&inv, &args(true), &sup, &mut std::io::sink()).unwrap(),
        Outcome::FindingsLeft
    );
    assert!(
        !fake.take_calls().iter().any(|c| c.contains("/Run")),
        "not started"
    );
    assert!(!fake.state().tasks["OpenClaw Gateway"].running);
}

#[test]
fn launchd_the_homebrew_service_alone_is_noted_as_the_profile_service_and_never_touched() {
    let home = tempfile::tempdir().unwrap();
    let fake = FakeLaunchctl::new(501, true);
    let sup = macos(&fake);
    let inv = invocation(home.path());
    std::fs::create_dir_all(&inv.paths.state_dir).unwrap();
    let brew = crate::service::launchd::homebrew::plant_formula_agent(home.path());
    let before = std::fs::read(&brew).unwrap();
    let items = audit(&inv, &sup);
    let (note, action) = with_id(&items, "service-homebrew-agent");
    assert_eq!(note.severity, Severity::Info);
    assert!(action.is_none());
    assert_eq!(note.path.as_deref(), Some(brew.as_path()));
    assert!(
        note.message.contains("homebrew.mxcl.openclaw"),
        "{}",
        note.message
    );
    assert!(
        note.fix.contains("brew services info openclaw"),
        "{}",
        note.fix
    );
    assert!(
        note.fix.contains("brew services stop openclaw"),
        "{}",
        note.fix
    );
    for absent in [
        "service-not-installed",
        "foreign-gateway-service",
        "duplicate-port",
        "service-homebrew-duplicate",
    ] {
        assert!(
            !items.iter().any(|(f, _)| f.id == absent),
            "{absent} in {items:#?}"
        );
    }
    assert_eq!(counting_ids(&items), Vec::<&str>::new());
    assert_report_valid(&inv, &sup);
    fake.take_calls();
    assert_eq!(
        run_with(&inv, &args(true), &sup, &mut std::io::sink()).unwrap(),
        Outcome::Clean
    );
    assert_eq!(std::fs::read(&brew).unwrap(), before);
    assert!(
        !fake
            .take_calls()
            .iter()
            .any(|c| c.contains("homebrew.mxcl")),
        "doctor --fix drove Homebrew's job"
    );
}

#[test]
fn launchd_our_agent_beside_the_homebrew_service_is_a_duplicate_gateway_warning() {
    let home = tempfile::tempdir().unwrap();
    let fake = FakeLaunchctl::new(501, true);
    let sup = macos(&fake);
    let inv = invocation(home.path());
    let spec = install_ours(&inv, &sup);
    let brew = crate::service::launchd::homebrew::plant_formula_agent(home.path());
    let before = std::fs::read(&brew).unwrap();
    let items = audit(&inv, &sup);
    let (warning, action) = with_id(&items, "service-homebrew-duplicate");
    assert_eq!(warning.severity, Severity::Warning);
    assert!(action.is_none());
    assert!(
        warning.message.contains("port 18789"),
        "{}",
        warning.message
    );
    assert!(
        warning.message.contains(&spec.names.launchd_label),
        "{}",
        warning.message
    );
    assert!(
        warning.fix.contains("brew services stop openclaw"),
        "{}",
        warning.fix
    );
    assert!(
        warning.fix.contains("openclaw gateway uninstall"),
        "{}",
        warning.fix
    );
    assert_eq!(counting_ids(&items), vec!["service-homebrew-duplicate"]);
    assert_report_valid(&inv, &sup);
    // Manual: --fix leaves both agents alone and the warning stands.
    assert_eq!(
        run_with(&inv, &args(true), &sup, &mut std::io::sink()).unwrap(),
        Outcome::FindingsLeft
    );
    assert_eq!(std::fs::read(&brew).unwrap(), before);
}
