//! Command-sequence tests of the launchd backend against the fake launchctl, plus golden and
//! independent-parser tests of the rendered plist.

use std::path::{Path, PathBuf};

use super::fake::{FakeJob, FakeLaunchctl, FakeLaunchd};
use super::*;
use crate::service::backend_rig::{self, strings as calls};
use crate::service::golden::assert_golden;

const UID: u32 = 501;

const PROGRAM: &str = "/usr/local/bin/openclaw";

fn spec_in(home: &Path, profile: Option<&str>) -> ServiceSpec {
    backend_rig::spec_in(home, profile, PROGRAM)
}

type Rig = backend_rig::Rig<FakeLaunchd, LaunchdBackend>;

fn rig_with(identity: LaunchdIdentity, gui_session: bool) -> Rig {
    let fake = FakeLaunchctl::new(identity.uid, gui_session);
    let manager = LaunchdBackend::new(Box::new(fake.clone()), Box::new(fake.clone()), identity);
    Rig::new(fake, manager, PROGRAM)
}

fn rig() -> Rig {
    rig_with(LaunchdIdentity::fixed(UID), true)
}

impl Rig {
    fn plist(&self) -> PathBuf {
        self.home
            .path()
            .join("Library/LaunchAgents/bot.molt.gateway.plist")
    }
}

const T: &str = "gui/501/bot.molt.gateway";

#[test]
fn a_fresh_install_writes_the_plist_enables_bootstraps_and_verifies() {
    let mut r = rig();
    let spec = r.spec();
    let outcome = r.install(&spec, false).unwrap();
    assert_eq!(outcome.result, ActionResult::Installed);
    assert_eq!(
        r.fake.take_calls(),
        calls(&[
            "launchctl print gui/501",
            "launchctl print gui/501/bot.molt.gateway",
            "launchctl enable gui/501/bot.molt.gateway",
            &format!("launchctl bootstrap gui/501 {}", r.plist().display()),
            "launchctl print gui/501/bot.molt.gateway",
        ])
    );
    assert_eq!(
        outcome.messages,
        [
            format!("Installed LaunchAgent: {}", r.plist().display()),
            format!(
                "Logs: {}",
                r.home
                    .path()
                    .join("Library/Logs/openclaw/gateway.log")
                    .display()
            ),
        ]
    );
    assert!(outcome.warnings.is_empty());
    assert_eq!(crate::atomic_write::file_mode(&r.plist()), Some(0o644));
    assert_eq!(
        crate::atomic_write::file_mode(&r.home.path().join(".openclaw/tmp")),
        Some(0o700)
    );
    assert!(r.home.path().join("Library/Logs/openclaw").is_dir());
    let job = r.fake.state().jobs["bot.molt.gateway"].clone();
    assert_eq!((job.pid, job.runs), (Some(4242), 1), "RunAtLoad started it");
    assert_eq!(
        job.arguments,
        ["/usr/local/bin/openclaw", "gateway", "--port", "18789"]
    );
}

#[test]
fn reinstalling_an_identical_loaded_plist_is_a_no_op() {
    let mut r = rig();
    let spec = r.installed();
    let outcome = r.install(&spec, false).unwrap();
    assert_eq!(outcome.result, ActionResult::AlreadyInstalled);
    assert_eq!(
        outcome.messages,
        [
            "Gateway service already loaded.",
            "Reinstall with: openclaw gateway install --force"
        ]
    );
    assert_eq!(
        r.fake.take_calls(),
        calls(&[&format!("launchctl print {T}")])
    );
    assert_eq!(
        r.fake.state().jobs["bot.molt.gateway"].runs,
        1,
        "not restarted"
    );
}

#[test]
fn a_changed_plist_boots_the_old_job_out_waits_until_it_is_gone_then_bootstraps() {
    let mut r = rig();
    let spec = r.installed();
    let mut changed = spec.clone();
    changed.args[2] = "18888".into();
    let outcome = r.install(&changed, false).unwrap();
    assert_eq!(outcome.result, ActionResult::Installed);
    let plist = r.plist().display().to_string();
    assert_eq!(
        r.fake.take_calls(),
        calls(&[
            &format!("launchctl print {T}"),
            &format!("launchctl bootout {T}"),
            // The asynchronous teardown: print still finds the job twice.
            &format!("launchctl print {T}"),
            &format!("launchctl print {T}"),
            &format!("launchctl print {T}"),
            &format!("launchctl enable {T}"),
            &format!("launchctl bootstrap gui/501 {plist}"),
            &format!("launchctl print {T}"),
        ])
    );
    assert_eq!(
        r.fake.state().sleeps,
        [launchctl::POLL_INTERVAL, launchctl::POLL_INTERVAL]
    );
    assert_eq!(
        r.fake.state().jobs["bot.molt.gateway"].arguments[3],
        "18888"
    );
    // --force with identical files reloads too.
    let outcome = r.install(&changed, true).unwrap();
    assert_eq!(outcome.result, ActionResult::Installed);
    assert!(
        r.fake
            .take_calls()
            .contains(&format!("launchctl bootout {T}"))
    );
}

#[test]
fn bootstrap_input_output_error_is_retried_after_bootout_and_enable() {
    let mut r = rig();
    let spec = r.spec();
    r.fake.state().spurious_eio = 2;
    let outcome = r.install(&spec, false).unwrap();
    assert_eq!(outcome.result, ActionResult::Installed);
    let bootstrap = format!("launchctl bootstrap gui/501 {}", r.plist().display());
    assert_eq!(
        r.fake.take_calls(),
        calls(&[
            "launchctl print gui/501",
            &format!("launchctl print {T}"),
            &format!("launchctl enable {T}"),
            &bootstrap,
            &format!("launchctl bootout {T}"),
            &format!("launchctl enable {T}"),
            &bootstrap,
            &format!("launchctl bootout {T}"),
            &format!("launchctl enable {T}"),
            &bootstrap,
            &format!("launchctl print {T}"),
        ])
    );
    assert_eq!(
        r.fake.state().sleeps,
        [
            launchctl::BOOTSTRAP_RETRY_DELAY,
            launchctl::BOOTSTRAP_RETRY_DELAY
        ]
    );
}

#[test]
fn bootstrap_37_counts_as_success_once_the_job_is_there() {
    let mut r = rig();
    let spec = r.spec();
    r.fake.state().concurrent_bootstrap = true;
    assert_eq!(
        r.install(&spec, false).unwrap().result,
        ActionResult::Installed
    );
    assert!(r.fake.state().jobs.contains_key("bot.molt.gateway"));
}

#[test]
fn a_plist_launchd_keeps_refusing_fails_with_hints_after_bounded_retries() {
    let mut r = rig();
    let spec = r.spec();
    r.fake.state().spurious_eio = 100;
    let e = r.install(&spec, false).unwrap_err();
    assert_eq!(e.kind, "launchctl-bootstrap-failed");
    assert!(
        e.message.starts_with(
            "launchctl bootstrap failed after 6 attempts: Bootstrap failed: 5: Input/output error"
        ),
        "{}",
        e.message
    );
    assert!(e.hints.iter().any(|h| h.contains("plutil -lint")));
    assert!(e.hints.iter().any(|h| h.contains("openclaw gateway start")));
    let bootstraps = r
        .fake
        .take_calls()
        .iter()
        .filter(|c| c.starts_with("launchctl bootstrap"))
        .count();
    assert_eq!(bootstraps, launchctl::BOOTSTRAP_ATTEMPTS as usize);
}

#[test]
fn a_world_writable_plist_is_refused_by_the_fake_like_launchd() {
    let mut r = rig();
    let spec = r.spec();
    let plan = r.manager.plan_install(&spec).unwrap();
    plan.write_files().unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(r.plist(), std::fs::Permissions::from_mode(0o666)).unwrap();
    }
    // launchd refuses it (start bootstraps the plist as it is)…
    let e = r.manager.start(&spec).unwrap_err();
    assert_eq!(e.kind, "launchctl-bootstrap-failed");
    assert!(e.hints[0].contains("chmod 644"), "{:?}", e.hints);
    // …and install sees the mode differ from the plan, rewrites it 0644, and launchd accepts it.
    assert_eq!(
        r.manager.install(&spec, &plan, false).unwrap().result,
        ActionResult::Installed
    );
    assert_eq!(crate::atomic_write::file_mode(&r.plist()), Some(0o644));
}

#[test]
fn restart_kickstarts_with_kill_and_a_new_pid() {
    let mut r = rig();
    let spec = r.installed();
    let outcome = r.manager.restart(&spec).unwrap();
    assert_eq!(outcome.result, ActionResult::Restarted);
    assert_eq!(outcome.messages, [format!("Restarted LaunchAgent: {T}")]);
    assert_eq!(
        r.fake.take_calls(),
        calls(&[
            &format!("launchctl print {T}"),
            &format!("launchctl enable {T}"),
            &format!("launchctl kickstart -k {T}"),
        ])
    );
    let job = r.fake.state().jobs["bot.molt.gateway"].clone();
    assert_eq!((job.pid, job.runs), (Some(4243), 2));
}

#[test]
fn stop_boots_out_and_waits_then_start_bootstraps_again() {
    let mut r = rig();
    let spec = r.installed();
    let outcome = r.manager.stop(&spec).unwrap();
    assert_eq!(outcome.result, ActionResult::Stopped);
    assert_eq!(outcome.messages, [format!("Stopped LaunchAgent: {T}")]);
    assert_eq!(
        r.fake.take_calls(),
        calls(&[
            &format!("launchctl bootout {T}"),
            &format!("launchctl print {T}"),
            &format!("launchctl print {T}"),
            &format!("launchctl print {T}"),
        ])
    );
    assert!(r.fake.state().jobs.is_empty());
    let status = r.manager.status(&spec).unwrap();
    assert_eq!(status.state, ServiceState::InstalledNotLoaded);
    assert_eq!(status.definition_path, Some(r.plist()));
    // Stopping again: nothing loaded.
    let outcome = r.manager.stop(&spec).unwrap();
    assert_eq!(outcome.result, ActionResult::NotLoaded);
    r.fake.take_calls();
    let outcome = r.manager.start(&spec).unwrap();
    assert_eq!(outcome.result, ActionResult::Started);
    assert_eq!(
        r.fake.take_calls(),
        calls(&[
            &format!("launchctl print {T}"),
            &format!("launchctl enable {T}"),
            &format!("launchctl bootstrap gui/501 {}", r.plist().display()),
            &format!("launchctl print {T}"),
        ])
    );
    let outcome = r.manager.start(&spec).unwrap();
    assert_eq!(outcome.result, ActionResult::AlreadyRunning);
    assert_eq!(
        outcome.messages,
        ["Gateway service already running (pid 4243)."]
    );
}

#[test]
fn start_kickstarts_a_loaded_job_that_is_not_running_and_refuses_without_a_plist() {
    let mut r = rig();
    let spec = r.spec();
    let e = r.manager.start(&spec).unwrap_err();
    assert_eq!(e.kind, "not-installed");
    assert!(e.hints.contains(&"openclaw gateway install".to_owned()));
    r.fake.state().crash_exit = Some(78);
    r.install(&spec, false).unwrap();
    let status = r.manager.status(&spec).unwrap();
    assert_eq!(status.state, ServiceState::Failed);
    assert_eq!(status.last_exit.as_ref().unwrap().status, Some(78));
    assert_eq!(
        status.last_exit.as_ref().unwrap().reason.as_deref(),
        Some("EX_CONFIG")
    );
    r.fake.state().crash_exit = None;
    r.fake.take_calls();
    assert_eq!(
        r.manager.start(&spec).unwrap().result,
        ActionResult::Started
    );
    assert_eq!(
        r.fake.take_calls(),
        calls(&[
            &format!("launchctl print {T}"),
            &format!("launchctl enable {T}"),
            &format!("launchctl kickstart {T}"),
        ])
    );
    let status = r.manager.status(&spec).unwrap();
    assert_eq!(status.state, ServiceState::Running);
    assert_eq!((status.pid, status.restarts), (Some(4243), Some(1)));
}

#[test]
fn uninstall_boots_out_removes_the_plist_and_our_secret_file_only() {
    let mut r = rig();
    let mut spec = r.spec();
    spec.secret_environment = vec![("OPENCLAW_GATEWAY_TOKEN".into(), "tok-123".into())];
    r.install(&spec, false).unwrap();
    let token_file = r
        .home
        .path()
        .join(".openclaw/service-env/bot.molt.gateway.token");
    assert_eq!(std::fs::read_to_string(&token_file).unwrap(), "tok-123\n");
    assert_eq!(crate::atomic_write::file_mode(&token_file), Some(0o600));
    assert_eq!(
        crate::atomic_write::file_mode(token_file.parent().unwrap()),
        Some(0o700)
    );
    let gateway_token = r.home.path().join(".openclaw/gateway.token");
    std::fs::write(&gateway_token, "generated-by-the-gateway\n").unwrap();
    r.fake.take_calls();
    let plan = r.manager.plan_uninstall(&spec).unwrap();
    assert_eq!(plan.removals, [r.plist(), token_file.clone()]);
    let outcome = r.manager.uninstall(&spec, &plan).unwrap();
    assert_eq!(outcome.result, ActionResult::Uninstalled);
    assert_eq!(
        outcome.messages,
        [
            format!("Booted out LaunchAgent: {T}"),
            format!("Removed LaunchAgent: {}", r.plist().display()),
            format!("Removed service secret file: {}", token_file.display()),
        ]
    );
    assert_eq!(
        r.fake.take_calls()[..2],
        calls(&[
            &format!("launchctl print {T}"),
            &format!("launchctl bootout {T}")
        ])
    );
    assert!(!r.plist().exists() && !token_file.exists());
    assert!(
        gateway_token.exists(),
        "the gateway's own token is state: kept"
    );
    assert!(r.fake.state().jobs.is_empty());
    // Again: nothing there.
    let plan = r.manager.plan_uninstall(&spec).unwrap();
    let outcome = r.manager.uninstall(&spec, &plan).unwrap();
    assert_eq!(outcome.result, ActionResult::NotInstalled);
    assert_eq!(
        outcome.messages,
        [format!("LaunchAgent not found at {}", r.plist().display())]
    );
}

fn loaded_job(label_plist: &Path, domain: &str) -> FakeJob {
    FakeJob {
        domain: domain.into(),
        plist: label_plist.to_path_buf(),
        arguments: vec![
            "/usr/local/bin/node".into(),
            "clawdbot.js".into(),
            "gateway".into(),
        ],
        pid: Some(999),
        runs: 3,
        last_exit: None,
        teardown: None,
    }
}

#[test]
fn install_boots_out_and_removes_legacy_agents_and_leaves_other_releases_alone() {
    let mut r = rig();
    let spec = r.spec();
    let agents = r.home.path().join("Library/LaunchAgents");
    std::fs::create_dir_all(&agents).unwrap();
    let legacy = agents.join("com.openclaw.gateway.plist");
    let clawdbot = agents.join("com.clawdbot.gateway.plist");
    let upstream = agents.join("ai.openclaw.gateway.plist");
    let unrelated = agents.join("com.example.other.plist");
    for p in [&legacy, &clawdbot, &upstream, &unrelated] {
        std::fs::write(p, "<plist/>").unwrap();
    }
    r.fake.state().jobs.insert(
        "com.openclaw.gateway".into(),
        loaded_job(&legacy, "gui/501"),
    );
    let plan = r.manager.plan_install(&spec).unwrap();
    assert_eq!(plan.removals, [clawdbot.clone(), legacy.clone()]);
    assert!(
        plan.notes
            .iter()
            .any(|n| n.contains("ai.openclaw.gateway") && n.contains("left alone"))
    );
    let outcome = r.manager.install(&spec, &plan, false).unwrap();
    assert_eq!(
        outcome.messages[..2],
        [
            format!(
                "Removed legacy LaunchAgent com.clawdbot.gateway: {}",
                clawdbot.display()
            ),
            format!(
                "Removed legacy LaunchAgent com.openclaw.gateway (booted out): {}",
                legacy.display()
            ),
        ]
    );
    let calls = r.fake.take_calls();
    assert_eq!(
        calls[2..5],
        [
            "launchctl bootout gui/501/com.clawdbot.gateway",
            "launchctl bootout gui/501/com.openclaw.gateway",
            "launchctl print gui/501/com.openclaw.gateway",
        ]
    );
    assert!(!legacy.exists() && !clawdbot.exists());
    assert!(upstream.exists() && unrelated.exists());
    assert!(!r.fake.state().jobs.contains_key("com.openclaw.gateway"));
    assert!(r.fake.state().jobs.contains_key("bot.molt.gateway"));
}

#[test]
fn without_a_desktop_session_the_user_domain_is_used_with_a_warning() {
    let mut r = rig_with(LaunchdIdentity::fixed(UID), false);
    let spec = r.spec();
    let outcome = r.install(&spec, false).unwrap();
    assert_eq!(outcome.result, ActionResult::Installed);
    assert!(
        outcome.warnings[0].contains("using the user/501 domain"),
        "{:?}",
        outcome.warnings
    );
    let calls = r.fake.take_calls();
    assert_eq!(calls[0], "launchctl print gui/501");
    assert!(calls[1..].iter().all(|c| !c.contains("gui/")), "{calls:?}");
    assert!(calls.contains(&format!(
        "launchctl bootstrap user/501 {}",
        r.plist().display()
    )));
    assert_eq!(
        r.manager.status(&spec).unwrap().state,
        ServiceState::Running
    );
}

#[test]
fn under_sudo_nothing_runs_and_the_error_says_why() {
    let identity = LaunchdIdentity {
        uid: 0,
        sudo_user: Some("alice".into()),
        job_label: None,
    };
    let mut r = rig_with(identity, true);
    let spec = r.spec();
    let e = r.install(&spec, false).unwrap_err();
    assert_eq!(e.kind, "launchd-root");
    assert!(e.message.contains("gui/0"), "{}", e.message);
    assert!(e.hints[0].contains("without sudo, as alice"));
    assert!(r.fake.take_calls().is_empty());
    let status = r.manager.status(&spec).unwrap();
    assert_eq!(status.state, ServiceState::Unknown);
    assert!(status.detail.unwrap().contains("gui/0"));
}

#[test]
fn stop_and_uninstall_are_refused_from_inside_the_job() {
    let identity = LaunchdIdentity {
        uid: UID,
        sudo_user: None,
        job_label: Some("bot.molt.gateway".into()),
    };
    let mut r = rig_with(identity, true);
    let spec = r.spec();
    assert_eq!(
        r.manager.stop(&spec).unwrap_err().kind,
        "launchd-inside-job"
    );
    let plan = r.manager.plan_uninstall(&spec).unwrap();
    assert_eq!(
        r.manager.uninstall(&spec, &plan).unwrap_err().kind,
        "launchd-inside-job"
    );
    assert!(r.fake.take_calls().is_empty());
}

#[test]
fn a_gui_domain_refusal_is_explained() {
    let mut r = rig();
    let spec = r.spec();
    r.manager.domain = Some(Domain::Gui(UID));
    r.fake.state().gui_session = false;
    let e = r.install(&spec, false).unwrap_err();
    assert_eq!(e.kind, "launchd-gui-domain-unavailable");
    assert!(e.hints[0].contains("logged-in macOS desktop session"));
}

#[test]
fn status_maps_print_output() {
    let mut r = rig();
    let spec = r.spec();
    assert_eq!(
        r.manager.status(&spec).unwrap().state,
        ServiceState::NotInstalled
    );
    r.install(&spec, false).unwrap();
    let status = r.manager.status(&spec).unwrap();
    assert_eq!(status.state, ServiceState::Running);
    assert_eq!(status.supervisor, "LaunchAgent");
    assert_eq!(status.name, "bot.molt.gateway");
    assert_eq!(status.pid, Some(4242));
    assert_eq!(status.restarts, Some(0));
    assert_eq!(status.detail.as_deref(), Some("state = running, runs = 1"));
    let mut info = print_parser::parse_print(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/launchctl/print-never-run.txt"),
        )
        .unwrap(),
    );
    let mut s = SupervisorStatus::new(ServiceState::Unknown, "LaunchAgent", "x");
    status_from_print(&info, &mut s);
    assert_eq!(
        (s.state, s.last_exit.clone()),
        (ServiceState::Stopped, None)
    );
    info.state = Some("spawn scheduled".into());
    status_from_print(&info, &mut s);
    assert_eq!(s.state, ServiceState::Starting);
}

// ---- rendering -------------------------------------------------------------------------------

/// A spec with fixed home and program, for goldens.
fn golden_spec(profile: Option<&str>) -> ServiceSpec {
    spec_in(Path::new("/Users/alice"), profile)
}

fn golden_plist(profile: Option<&str>) -> Vec<u8> {
    let m = LaunchdBackend::new(
        Box::new(FakeLaunchctl::new(UID, true)),
        Box::new(crate::service::wait::ThreadSleeper),
        LaunchdIdentity::fixed(UID),
    );
    let plan = m.plan_install(&golden_spec(profile)).unwrap();
    assert_eq!(plan.files.len(), 1);
    assert_eq!(plan.files[0].mode, 0o644);
    plan.files[0].contents.clone()
}

#[test]
fn golden_plists_for_the_default_and_rescue_profiles() {
    for (name, profile) in [
        ("bot.molt.gateway.plist", None),
        ("bot.molt.rescue.plist", Some("rescue")),
    ] {
        let text = String::from_utf8(golden_plist(profile)).unwrap();
        assert_golden(&format!("launchd/{name}"), &text);
    }
}

#[test]
fn the_plist_parses_with_the_plist_crate_and_has_the_required_keys() {
    let bytes = golden_plist(Some("rescue"));
    let value = plist::Value::from_reader_xml(bytes.as_slice()).unwrap();
    let d = value.as_dictionary().unwrap();
    assert_eq!(d.get("Label").unwrap().as_string(), Some("bot.molt.rescue"));
    let args: Vec<&str> = d
        .get("ProgramArguments")
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_string().unwrap())
        .collect();
    assert_eq!(
        args,
        [
            "/usr/local/bin/openclaw",
            "gateway",
            "--port",
            "23532",
            "--profile",
            "rescue"
        ]
    );
    assert_eq!(d.get("RunAtLoad").unwrap().as_boolean(), Some(true));
    assert_eq!(d.get("KeepAlive").unwrap().as_boolean(), Some(true));
    let throttle = d
        .get("ThrottleInterval")
        .unwrap()
        .as_signed_integer()
        .unwrap();
    assert!((10..=30).contains(&throttle));
    let exit_timeout = d.get("ExitTimeOut").unwrap().as_signed_integer().unwrap();
    assert!(
        u64::try_from(exit_timeout).unwrap() > crate::contract::SHUTDOWN_BUDGET.as_secs(),
        "ExitTimeOut leaves the gateway its drain budget"
    );
    assert_eq!(
        d.get("WorkingDirectory").unwrap().as_string(),
        Some("/Users/alice/.openclaw-rescue")
    );
    for key in ["StandardOutPath", "StandardErrorPath"] {
        assert_eq!(
            d.get(key).unwrap().as_string(),
            Some("/Users/alice/Library/Logs/openclaw/gateway-rescue.log")
        );
    }
    let env = d
        .get("EnvironmentVariables")
        .unwrap()
        .as_dictionary()
        .unwrap();
    for (key, value) in [
        ("OPENCLAW_SERVICE_MARKER", "openclaw"),
        ("OPENCLAW_SERVICE_KIND", "gateway"),
        ("OPENCLAW_SERVICE_VERSION", env!("CARGO_PKG_VERSION")),
        ("OPENCLAW_PROFILE", "rescue"),
        ("OPENCLAW_LAUNCHD_LABEL", "bot.molt.rescue"),
        ("TMPDIR", "/Users/alice/.openclaw-rescue/tmp"),
        (
            "PATH",
            "/usr/local/bin:/opt/homebrew/bin:/opt/homebrew/sbin:/usr/bin:/bin:/usr/sbin:/sbin",
        ),
    ] {
        assert_eq!(
            env.get(key).and_then(|v| v.as_string()),
            Some(value),
            "{key}"
        );
    }
}

#[test]
fn the_plist_parses_with_python_plistlib() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bot.molt.rescue.plist");
    std::fs::write(&file, golden_plist(Some("rescue"))).unwrap();
    let script = r#"
import json, plistlib, sys
with open(sys.argv[1], "rb") as f:
    d = plistlib.load(f)
print(json.dumps({"label": d["Label"], "args": d["ProgramArguments"], "keep": d["KeepAlive"],
                  "run": d["RunAtLoad"], "throttle": d["ThrottleInterval"],
                  "env": d["EnvironmentVariables"]}, sort_keys=True))
"#;
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&file)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["label"], "bot.molt.rescue");
    assert_eq!(v["args"][5], "rescue");
    assert_eq!(
        (v["keep"].as_bool(), v["run"].as_bool()),
        (Some(true), Some(true))
    );
    assert_eq!(v["throttle"], 15);
    assert_eq!(v["env"]["OPENCLAW_SERVICE_MARKER"], "openclaw");
}

#[test]
fn no_secret_reaches_the_plist_and_the_token_file_is_named_instead() {
    const TOKEN: &str = "s3cr3t-t0ken-that-must-not-leak";
    let mut spec = golden_spec(None);
    spec.secret_environment = vec![("OPENCLAW_GATEWAY_TOKEN".into(), TOKEN.into())];
    let m = LaunchdBackend::new(
        Box::new(FakeLaunchctl::new(UID, true)),
        Box::new(crate::service::wait::ThreadSleeper),
        LaunchdIdentity::fixed(UID),
    );
    let plan = m.plan_install(&spec).unwrap();
    let plist = &plan.files[0];
    assert!(!String::from_utf8_lossy(&plist.contents).contains(TOKEN));
    let value = plist::Value::from_reader_xml(plist.contents.as_slice()).unwrap();
    let env = value
        .as_dictionary()
        .unwrap()
        .get("EnvironmentVariables")
        .unwrap();
    assert_eq!(
        env.as_dictionary()
            .unwrap()
            .get("OPENCLAW_GATEWAY_TOKEN_FILE")
            .and_then(|v| v.as_string()),
        Some("/Users/alice/.openclaw/service-env/bot.molt.gateway.token")
    );
    let secret = &plan.files[1];
    assert!(secret.secret && secret.mode == 0o600);
    assert!(!plan.render_text().contains(TOKEN));
    assert!(!serde_json::to_string(&plan).unwrap().contains(TOKEN));
    // A secret the gateway cannot read from a file is refused rather than inlined.
    spec.secret_environment = vec![("OPENAI_API_KEY".into(), "sk-x".into())];
    assert_eq!(
        m.plan_install(&spec).unwrap_err().kind,
        "unsupported-secret"
    );
    spec.secret_environment.clear();
    spec.environment
        .push(("OPENCLAW_GATEWAY_TOKEN".into(), TOKEN.into()));
    assert_eq!(
        m.plan_install(&spec).unwrap_err().kind,
        "secret-in-environment"
    );
}

// ---- our Homebrew formula's job ----------------------------------------------------------------

/// `brew services start openclaw`: the formula's plist written and the job loaded.
fn brew_services_start(r: &Rig) -> PathBuf {
    let plist = homebrew::plant_formula_agent(r.home.path());
    let mut job = loaded_job(&plist, "gui/501");
    job.arguments = homebrew::HomebrewAgent::read(&plist, false)
        .map(|_| super::homebrew::tests_argv())
        .unwrap();
    r.fake
        .0
        .borrow_mut()
        .jobs
        .insert("homebrew.mxcl.openclaw".into(), job);
    plist
}

#[test]
fn install_beside_the_homebrew_service_is_refused_with_both_fixes_and_touches_nothing() {
    let mut r = rig();
    let spec = r.spec();
    let brew = brew_services_start(&r);
    let before = std::fs::read(&brew).unwrap();
    let plan = r.manager.plan_install(&spec).unwrap();
    let note = plan
        .notes
        .iter()
        .find(|n| n.starts_with("Refused without --force"))
        .unwrap_or_else(|| panic!("no refusal note in the dry run: {:?}", plan.notes));
    assert!(note.contains("homebrew.mxcl.openclaw"), "{note}");
    assert!(note.contains("brew services stop openclaw"), "{note}");
    let err = r.manager.install(&spec, &plan, false).unwrap_err();
    assert_eq!(err.kind, "homebrew-service-exists");
    assert!(
        err.message.contains("homebrew.mxcl.openclaw"),
        "{}",
        err.message
    );
    assert!(err.message.contains("port 18789"), "{}", err.message);
    let hints = err.hints.join("\n");
    assert!(
        hints.contains("brew services stop openclaw, then run the install again"),
        "{hints}"
    );
    assert!(hints.contains("brew services info openclaw"), "{hints}");
    assert!(hints.contains("--force"), "{hints}");
    // Nothing ran, nothing was written, Homebrew's job and plist are as they were.
    assert!(
        r.fake.0.borrow().calls.is_empty(),
        "{:?}",
        r.fake.0.borrow().calls
    );
    assert!(!r.plist().exists());
    assert_eq!(std::fs::read(&brew).unwrap(), before);
    assert!(
        r.fake
            .0
            .borrow()
            .jobs
            .contains_key("homebrew.mxcl.openclaw")
    );
}

#[test]
fn a_forced_install_beside_the_homebrew_service_warns_and_leaves_homebrew_alone() {
    let mut r = rig();
    let spec = r.spec();
    let brew = brew_services_start(&r);
    let before = std::fs::read(&brew).unwrap();
    let outcome = r.install(&spec, true).unwrap();
    assert_eq!(outcome.result, ActionResult::Installed);
    assert!(r.plist().exists());
    let warning = outcome.warnings.join("\n");
    assert!(warning.contains("brew services stop openclaw"), "{warning}");
    assert!(warning.contains("--force"), "{warning}");
    assert_eq!(std::fs::read(&brew).unwrap(), before);
    let fake = r.fake.0.borrow();
    assert!(fake.jobs.contains_key("homebrew.mxcl.openclaw"));
    assert!(
        !fake.calls.iter().any(|c| c.contains("homebrew.mxcl")),
        "{:?}",
        fake.calls
    );
}

#[test]
fn a_profile_on_another_port_installs_beside_the_homebrew_service() {
    let mut r = rig();
    brew_services_start(&r);
    let spec = spec_in(r.home.path(), Some("rescue"));
    assert_ne!(spec.port, 18789);
    let plan = r.manager.plan_install(&spec).unwrap();
    assert!(
        !plan.notes.iter().any(|n| n.contains("homebrew")),
        "{:?}",
        plan.notes
    );
    let outcome = r.manager.install(&spec, &plan, false).unwrap();
    assert_eq!(outcome.result, ActionResult::Installed);
    assert!(outcome.warnings.is_empty(), "{:?}", outcome.warnings);
}

#[test]
fn status_without_an_agent_of_ours_is_the_homebrew_job() {
    let mut r = rig();
    let spec = r.spec();
    let brew = brew_services_start(&r);
    let status = r.manager.status(&spec).unwrap();
    assert_eq!(status.state, ServiceState::Running);
    assert_eq!(status.name, "homebrew.mxcl.openclaw");
    assert_eq!(status.definition_path.as_deref(), Some(brew.as_path()));
    let detail = status.detail.unwrap_or_default();
    assert!(detail.contains("packaged (Homebrew)"), "{detail}");
    assert!(detail.contains("brew services info openclaw"), "{detail}");
    // Another profile's status is its own.
    let rescue = spec_in(r.home.path(), Some("rescue"));
    assert_eq!(
        r.manager.status(&rescue).unwrap().state,
        ServiceState::NotInstalled
    );
}
