use super::*;
use crate::service::launchd::discovery::discover_launchd;
use crate::service::systemd::discovery::discover_systemd;
use crate::service::windows::discovery::{
    discover_windows_tasks, query_windows_tasks, windows_task_query_args,
};

/// The unit the reference release writes (service-management.md §9), placeholders filled.
const REFERENCE_UNIT: &str = "[Unit]
Description=OpenClaw Gateway
After=network-online.target
Wants=network-online.target
StartLimitBurst=10
StartLimitIntervalSec=300

[Service]
ExecStart=/usr/bin/node --max-old-space-size=8192 /usr/lib/node_modules/openclaw/dist/index.js gateway --port 18789
Restart=always
RestartSec=5
RestartPreventExitStatus=78
TimeoutStopSec=330
KillMode=mixed
Environment=HOME=/home/u
Environment=PATH=/usr/local/bin:/usr/bin:/bin
Environment=NODE_OPTIONS=
Environment=OPENCLAW_GATEWAY_PORT=18789
Environment=OPENCLAW_SYSTEMD_UNIT=openclaw-gateway.service
Environment=\"OPENCLAW_WINDOWS_TASK_NAME=OpenClaw Gateway\"
Environment=OPENCLAW_WINDOWS_TASK_HIDDEN_LAUNCHER=1
Environment=OPENCLAW_SERVICE_MARKER=openclaw
Environment=OPENCLAW_SERVICE_KIND=gateway

[Install]
WantedBy=default.target
";

struct Host {
    dir: tempfile::TempDir,
}

impl Host {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }
    fn roots(&self) -> DiscoveryRoots {
        DiscoveryRoots {
            home: self.dir.path().join("home"),
            root: self.dir.path().join("root"),
        }
    }
    fn put(&self, rel: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }
    fn user_unit(&self, name: &str, text: &str) -> PathBuf {
        self.put(&format!("home/.config/systemd/user/{name}"), text)
    }
    fn system_unit(&self, dir: &str, name: &str, text: &str) -> PathBuf {
        self.put(&format!("root/{dir}/{name}"), text)
    }
}

fn by_label<'a>(found: &'a [DiscoveredService], label: &str) -> &'a DiscoveredService {
    found
        .iter()
        .find(|s| s.label == label)
        .unwrap_or_else(|| panic!("{label} not found in {found:#?}"))
}

fn profile(p: &str) -> ServiceClass {
    ServiceClass::ProfileService {
        profile: p.to_owned(),
    }
}

#[test]
fn the_reference_release_unit_is_a_profile_service_with_its_port() {
    let host = Host::new();
    let path = host.user_unit("openclaw-gateway.service", REFERENCE_UNIT);
    let found = discover_systemd(&host.roots(), false);
    assert_eq!(found.len(), 1, "{found:#?}");
    let s = &found[0];
    assert_eq!(s.class, profile("default"));
    assert_eq!(s.scope, DiscoveryScope::User);
    assert_eq!(s.marker.as_deref(), Some("openclaw"));
    assert_eq!(s.port, Some(18789));
    assert!(!s.embeds_secret);
    assert!(!is_extra(s));
    assert_eq!(
        s.removal,
        [
            "systemctl --user disable --now openclaw-gateway.service".to_owned(),
            format!("rm {}", path.display()),
            "systemctl --user daemon-reload".to_owned(),
        ]
    );
}

#[test]
fn the_same_unit_in_a_system_folder_is_reported_as_extra_with_sudo_removal() {
    let host = Host::new();
    let path = host.system_unit(
        "etc/systemd/system",
        "openclaw-gateway.service",
        REFERENCE_UNIT,
    );
    assert!(
        discover_systemd(&host.roots(), false).is_empty(),
        "system folders only with include_system"
    );
    let found = discover_systemd(&host.roots(), true);
    let s = by_label(&found, "openclaw-gateway.service");
    assert_eq!(s.scope, DiscoveryScope::System);
    assert!(is_extra(s));
    assert_eq!(
        s.removal_command(),
        format!(
            "sudo systemctl disable --now openclaw-gateway.service && sudo rm {} && sudo systemctl daemon-reload",
            path.display()
        )
    );
}

#[test]
fn legacy_names_markers_and_bak_leftovers_are_legacy() {
    let host = Host::new();
    host.user_unit(
        "clawdbot-gateway.service",
        "[Service]\nExecStart=/usr/bin/clawdbot gateway --port 18789\n",
    );
    host.user_unit(
        "clawdbot-gateway.service.bak",
        "[Service]\nExecStart=/usr/bin/clawdbot gateway\n",
    );
    host.user_unit(
        "moltbot-gateway.service",
        "[Service]\nExecStart=/usr/bin/moltbot gateway\n",
    );
    host.user_unit(
            "my-bot.service",
            "[Service]\nExecStart=/opt/bot/run\nEnvironment=OPENCLAW_SERVICE_MARKER=clawdbot CLAWDBOT_GATEWAY_PORT=127.0.0.1:19999\n",
        );
    let found = discover_systemd(&host.roots(), false);
    assert_eq!(found.len(), 4, "{found:#?}");
    for s in &found {
        assert_eq!(s.class, ServiceClass::Legacy, "{}", s.label);
        assert!(s.is_legacy() && is_extra(s));
    }
    let bak = by_label(&found, "clawdbot-gateway.service.bak");
    assert_eq!(bak.removal.len(), 1, "a backup is only deleted");
    assert!(bak.removal[0].starts_with("rm "));
    assert_eq!(by_label(&found, "my-bot.service").port, Some(19999));
    assert_eq!(
        by_label(&found, "clawdbot-gateway.service").port,
        Some(18789)
    );
}

#[test]
fn our_own_backups_and_unrelated_units_are_not_reported() {
    let host = Host::new();
    host.user_unit("openclaw-gateway.service.bak", REFERENCE_UNIT);
    host.user_unit("openclaw-gateway.socket", "[Socket]\nListenStream=18789\n");
    host.user_unit(
        "nginx.service",
        "[Service]\nExecStart=/usr/sbin/nginx -g 'daemon off;'\n",
    );
    host.user_unit(
        "api-gateway.service",
        "[Service]\nExecStart=/usr/bin/kong gateway start\n",
    );
    host.user_unit("notes.service.bak", "[Service]\nExecStart=/bin/true\n");
    assert_eq!(discover_systemd(&host.roots(), false), []);
}

#[test]
fn node_companions_are_found_but_never_extra() {
    let host = Host::new();
    host.user_unit(
        "openclaw-node.service",
        "[Unit]\nDescription=OpenClaw Node Host\n[Service]\nExecStart=/usr/bin/openclaw node run\n",
    );
    host.user_unit(
            "custom-node.service",
            "[Service]\nExecStart=/usr/bin/openclaw node run\nEnvironment=OPENCLAW_SERVICE_MARKER=openclaw OPENCLAW_SERVICE_KIND=node\n",
        );
    let found = discover_systemd(&host.roots(), false);
    assert_eq!(found.len(), 2, "{found:#?}");
    for s in &found {
        assert_eq!(s.class, ServiceClass::NodeCompanion);
        assert!(!is_extra(s));
    }
}

#[test]
fn a_foreign_gateway_like_unit_and_marked_custom_units_are_classified() {
    let host = Host::new();
    host.system_unit(
            "usr/lib/systemd/system",
            "my-claw.service",
            "[Service]\nExecStart=/opt/openclaw/bin/openclaw gateway run --port 18789\nEnvironment=OPENCLAW_GATEWAY_TOKEN=s3cret\n",
        );
    host.user_unit(
            "gw-work.service",
            "[Service]\nExecStart=/usr/bin/openclaw gateway run --profile work --port 41984\nEnvironment=OPENCLAW_SERVICE_MARKER=openclaw\n",
        );
    host.user_unit(
        "openclaw-gateway-rescue.service",
        "[Service]\nExecStart=/usr/bin/openclaw gateway run --profile rescue\n",
    );
    let found = discover_systemd(&host.roots(), true);
    let foreign = by_label(&found, "my-claw.service");
    assert_eq!(foreign.class, ServiceClass::Foreign);
    assert_eq!(foreign.scope, DiscoveryScope::System);
    assert!(foreign.embeds_secret);
    assert_eq!(foreign.port, Some(18789));
    assert!(
        foreign
            .detail
            .contains("runs /opt/openclaw/bin/openclaw gateway run")
    );
    assert!(!foreign.detail.contains("s3cret"));
    assert_eq!(by_label(&found, "gw-work.service").class, profile("work"));
    assert_eq!(
        by_label(&found, "openclaw-gateway-rescue.service").class,
        profile("rescue")
    );
}

#[cfg(unix)]
#[test]
fn a_unit_reached_through_a_symlinked_lib_folder_counts_once() {
    let host = Host::new();
    host.system_unit(
        "usr/lib/systemd/system",
        "clawdis-gateway.service",
        "[Service]\nExecStart=/usr/bin/clawdis gateway\n",
    );
    std::os::unix::fs::symlink("usr/lib", host.dir.path().join("root/lib")).unwrap();
    let found = discover_systemd(&host.roots(), true);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].class, ServiceClass::Legacy);
}

fn plist(label: &str, args: &[&str], env: &[(&str, &str)]) -> String {
    let mut dict = plist::Dictionary::new();
    dict.insert("Label".into(), label.into());
    dict.insert(
        "ProgramArguments".into(),
        plist::Value::Array(args.iter().map(|a| (*a).into()).collect()),
    );
    if !env.is_empty() {
        let mut e = plist::Dictionary::new();
        for (k, v) in env {
            e.insert((*k).into(), (*v).into());
        }
        dict.insert("EnvironmentVariables".into(), e.into());
    }
    let mut out = Vec::new();
    plist::Value::Dictionary(dict)
        .to_writer_xml(&mut out)
        .unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn launch_agents_and_daemons_are_classified_by_label_marker_and_arguments() {
    let host = Host::new();
    let agents = "home/Library/LaunchAgents";
    host.put(
        &format!("{agents}/bot.molt.rescue.plist"),
        &plist(
            "bot.molt.rescue",
            &["/usr/local/bin/openclaw", "gateway", "run"],
            &[],
        ),
    );
    host.put(
        &format!("{agents}/ai.openclaw.gateway.plist"),
        &plist(
            "ai.openclaw.gateway",
            &[
                "/bin/sh",
                "wrapper.sh",
                "node",
                "entry.js",
                "gateway",
                "--port",
                "18789",
            ],
            &[],
        ),
    );
    host.put(
        &format!("{agents}/com.steipete.clawdbot.gateway.plist"),
        &plist("com.steipete.clawdbot.gateway", &["/usr/bin/true"], &[]),
    );
    host.put(
        &format!("{agents}/ai.openclaw.node.plist"),
        &plist("ai.openclaw.node", &["openclaw", "node", "run"], &[]),
    );
    host.put(
        &format!("{agents}/com.example.watch.plist"),
        &plist(
            "com.example.watch",
            &["/bin/sh", "-c", "openclaw gateway restart"],
            &[("OPENCLAW_GATEWAY_TOKEN", "t")],
        ),
    );
    host.put(
        &format!("{agents}/com.apple.unrelated.plist"),
        &plist("com.apple.unrelated", &["/usr/bin/gateway"], &[]),
    );
    host.put(
        "root/Library/LaunchDaemons/org.lab.claw.plist",
        &plist(
            "org.lab.claw",
            &["/opt/openclaw", "gateway"],
            &[("OPENCLAW_SERVICE_MARKER", "openclaw")],
        ),
    );
    let user_only = discover_launchd(&host.roots(), false);
    assert_eq!(user_only.len(), 5, "{user_only:#?}");
    let found = discover_launchd(&host.roots(), true);
    assert_eq!(found.len(), 6, "{found:#?}");
    assert_eq!(by_label(&found, "bot.molt.rescue").class, profile("rescue"));
    let other = by_label(&found, "ai.openclaw.gateway");
    assert_eq!(other.class, ServiceClass::OtherRelease);
    assert_eq!(other.port, Some(18789));
    assert_eq!(
        other.removal[0],
        "launchctl bootout gui/$(id -u)/ai.openclaw.gateway"
    );
    assert!(other.removal[1].ends_with("home/.Trash/ai.openclaw.gateway.plist"));
    assert_eq!(
        by_label(&found, "com.steipete.clawdbot.gateway").class,
        ServiceClass::Legacy
    );
    assert_eq!(
        by_label(&found, "ai.openclaw.node").class,
        ServiceClass::NodeCompanion
    );
    let watch = by_label(&found, "com.example.watch");
    assert_eq!(watch.class, ServiceClass::Foreign);
    assert!(watch.embeds_secret);
    let daemon = by_label(&found, "org.lab.claw");
    assert_eq!(daemon.scope, DiscoveryScope::System);
    assert_eq!(daemon.class, profile("default"));
    assert!(is_extra(daemon));
    assert_eq!(
        daemon.removal[0],
        "sudo launchctl bootout system/org.lab.claw"
    );
}

#[test]
fn scheduled_tasks_are_read_from_the_query_xml() {
    let task = |desc: &str, cmd: &str, args: &str| {
        format!(
            "<Task version=\"1.2\" xmlns=\"http://schemas.microsoft.com/windows/2004/02/mit/task\"><RegistrationInfo><Description>{desc}</Description></RegistrationInfo><Actions Context=\"Author\"><Exec><Command>{cmd}</Command><Arguments>{args}</Arguments></Exec></Actions></Task>"
        )
    };
    let out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-16\"?>\r\n<Tasks>\r\n<!-- \\Microsoft\\Windows\\Defrag\\ScheduledDefrag -->\r\n{}\r\n<!-- \\OpenClaw Gateway (rescue) -->\r\n{}\r\n<!-- \\Clawdbot Gateway -->\r\n{}\r\n<!-- \\My Claw -->\r\n{}\r\n<!-- \\OpenClaw Node -->\r\n{}\r\n</Tasks>\r\n",
        task("defrag", "%windir%\\system32\\defrag.exe", "-c"),
        task(
            "OpenClaw Gateway (profile: rescue)",
            "C:\\Users\\u\\openclaw.exe",
            "gateway run --profile rescue --port 23532"
        ),
        task("", "C:\\clawdbot\\gateway.cmd", ""),
        task(
            "",
            "C:\\tools\\openclaw.exe",
            "gateway run --port 18789 --token abc"
        ),
        task("OpenClaw Node Host", "C:\\openclaw.exe", "node run"),
    );
    let found = discover_windows_tasks(&out);
    assert_eq!(found.len(), 4, "{found:#?}");
    let ours = by_label(&found, "OpenClaw Gateway (rescue)");
    assert_eq!(ours.class, profile("rescue"));
    assert_eq!(ours.port, Some(23532));
    assert_eq!(
        by_label(&found, "Clawdbot Gateway").class,
        ServiceClass::Legacy
    );
    let foreign = by_label(&found, "My Claw");
    assert_eq!(foreign.class, ServiceClass::Foreign);
    assert!(foreign.embeds_secret);
    assert_eq!(foreign.removal, ["schtasks /Delete /F /TN \"My Claw\""]);
    assert_eq!(
        by_label(&found, "OpenClaw Node").class,
        ServiceClass::NodeCompanion
    );
    assert_eq!(windows_task_query_args(), ["/Query", "/XML", "ONE"]);
}

#[test]
fn the_task_query_runs_through_the_runner_and_finds_a_foreign_task() {
    use crate::service::windows::fake::{FakeSchtasks, FakeTask};
    let mut fake = FakeSchtasks::new();
    let task = |args: &str| FakeTask {
        xml: format!(
            "<?xml version=\"1.0\" encoding=\"UTF-16\"?>\r\n<Task xmlns=\"http://schemas.microsoft.com/windows/2004/02/mit/task\"><Actions><Exec><Command>C:\\oc\\openclaw.exe</Command><Arguments>{args}</Arguments></Exec></Actions></Task>"
        ),
        running: false,
        stopping: None,
        last_result: 0,
        runs: 0,
    };
    fake.0
        .borrow_mut()
        .tasks
        .insert("Claw Rescue".into(), task("gateway run --port 18800"));
    fake.0
        .borrow_mut()
        .tasks
        .insert("Backup".into(), task("backup now"));
    let found = query_windows_tasks(&mut fake).unwrap();
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].label, "Claw Rescue");
    assert_eq!(found[0].class, ServiceClass::Foreign);
    assert_eq!(found[0].port, Some(18800));
    assert_eq!(fake.0.borrow().calls, ["schtasks /Query /XML ONE"]);
}

#[test]
fn the_test_root_knob_moves_only_the_system_folders() {
    let env = Environment::empty().with(DISCOVERY_ROOT_ENV, "/tmp/x");
    let roots = DiscoveryRoots::from_env("/home/u", &env);
    assert_eq!(roots.root, PathBuf::from("/tmp/x"));
    assert_eq!(roots.home, PathBuf::from("/home/u"));
    let roots = DiscoveryRoots::from_env("/home/u", &Environment::empty());
    assert_eq!(roots.root, PathBuf::from("/"));
}

#[test]
fn our_homebrew_formula_job_is_the_packaged_homebrew_class_with_brew_services_commands() {
    let home = tempfile::tempdir().unwrap();
    let root = tempfile::tempdir().unwrap();
    let plist = crate::service::launchd::homebrew::plant_formula_agent(home.path());
    // A versioned formula as a LaunchDaemon (`sudo brew services start openclaw@2`).
    let daemons = root.path().join("Library/LaunchDaemons");
    std::fs::create_dir_all(&daemons).unwrap();
    std::fs::write(
        daemons.join("homebrew.mxcl.openclaw@2.plist"),
        crate::service::launchd::homebrew::formula_plist("/usr/local", "/var/root")
            .replace("homebrew.mxcl.openclaw<", "homebrew.mxcl.openclaw@2<")
            .replace("/opt/openclaw/", "/opt/openclaw@2/"),
    )
    .unwrap();
    // Another formula's job running something else is not ours.
    std::fs::write(
        home.path()
            .join("Library/LaunchAgents/homebrew.mxcl.redis.plist"),
        crate::service::launchd::homebrew::formula_plist("/opt/homebrew", "/Users/u")
            .replace("homebrew.mxcl.openclaw", "homebrew.mxcl.redis")
            .replace("/opt/openclaw/bin/openclaw", "/opt/redis/bin/redis-server")
            .replace("OPENCLAW_SERVICE", "REDIS")
            .replace("gateway", "server")
            .replace("openclaw", "redis"),
    )
    .unwrap();
    let roots = DiscoveryRoots {
        home: home.path().to_owned(),
        root: root.path().to_owned(),
    };
    let found = discover_launchd(&roots, true);
    let brew: Vec<_> = found
        .iter()
        .filter(|s| matches!(s.class, ServiceClass::PackagedHomebrew { .. }))
        .collect();
    assert_eq!(brew.len(), 2, "{found:#?}");
    let user = brew[0];
    assert_eq!(user.label, "homebrew.mxcl.openclaw");
    assert_eq!(user.scope, DiscoveryScope::User);
    assert_eq!(user.path.as_deref(), Some(plist.as_path()));
    assert_eq!(
        user.class,
        ServiceClass::PackagedHomebrew {
            formula: "openclaw".into()
        }
    );
    assert_eq!(user.port, Some(18789));
    assert_eq!(user.marker.as_deref(), Some("openclaw"));
    assert_eq!(user.removal, vec!["brew services stop openclaw".to_owned()]);
    assert!(
        user.detail.contains("packaged (Homebrew)"),
        "{}",
        user.detail
    );
    assert!(
        user.detail.contains("brew services info openclaw"),
        "{}",
        user.detail
    );
    assert!(is_extra(user));
    let daemon = brew[1];
    assert_eq!(daemon.label, "homebrew.mxcl.openclaw@2");
    assert_eq!(daemon.scope, DiscoveryScope::System);
    assert_eq!(
        daemon.removal,
        vec!["sudo brew services stop openclaw@2".to_owned()]
    );
    assert!(
        found.iter().all(|s| !s.label.contains("redis")),
        "{found:#?}"
    );
    let json = serde_json::to_value(user).unwrap();
    assert_eq!(json["class"]["kind"], "packaged-homebrew");
    assert_eq!(json["class"]["formula"], "openclaw");
}
