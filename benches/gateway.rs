//! Gateway benchmark: our `openclaw` gateway side by side with the reference OpenClaw gateway
//! (Node), started the same way, measured the same way, in alternating runs.
//!
//! ```text
//! cargo bench --bench gateway -- [--runs 5] [--reference /work/ref/bin/openclaw] [--out BENCHMARKS.md]
//! ```
//! `bench/run.sh` is the one-command wrapper (release build, reference detection, output).
//!
//! Per run and per gateway: exec → port accepting / exec → `GET /readyz` 200, idle RSS and CPU
//! of the whole process tree ~10 s after ready, WebSocket connect + `hello-ok` round trips,
//! `health` RPC latency/throughput at 1/10/100 concurrent clients, RSS and CPU with 1,000 and
//! 10,000 idle authenticated connections, `presence` fan-out (`system-event` → every one of
//! 10/100/1,000/10,000 clients received it), CLI wall time (`--version`, `gateway status
//! --no-probe`, `gateway call health`) of each gateway's own CLI, and SIGTERM → exit. Figures of
//! the systemd harness's restart-under-load test (ours only) are read from `--restart-figures`.
//! All traffic is loopback only, bounded in count and time. The report is Markdown (median and
//! min–max over the runs).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::runtime::Runtime;
use tokio::task::JoinSet;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

#[path = "gateway/agent_turns.rs"]
mod agent_turns;
#[path = "gateway/control_ui.rs"]
mod control_ui;
#[path = "gateway/http_api.rs"]
mod http_api;

type Ws = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

const TOKEN: &str = "bench-token-7c1d2e9a4f";
const FRAME_TIMEOUT: Duration = Duration::from_secs(15);

// ---------------------------------------------------------------------------------------------
// Options

struct Opts {
    runs: usize,
    ours: PathBuf,
    reference: Option<PathBuf>,
    reference_missing: Option<String>,
    warmup: bool,
    idle_wait: Duration,
    handshakes: usize,
    handshake_budget: Duration,
    health_clients: Vec<usize>,
    health_secs: f64,
    health_warmup_secs: f64,
    conn_levels: Vec<usize>,
    conn_settle: Duration,
    /// Hold window per connection level (the last entry repeats).
    conn_hold: Vec<Duration>,
    open_concurrency: usize,
    open_budget: Duration,
    /// Presence fan-out levels (clients); those also in `conn_levels` are measured there.
    presence_levels: Vec<usize>,
    presence_triggers: usize,
    /// Invocations of each CLI command per run (0: no CLI timing).
    cli_reps: usize,
    /// Sequential `agent` turns timed per run (0: no agent scenarios).
    agent_turns: usize,
    /// Sessions streaming at the same time.
    agent_sessions: usize,
    /// Tokens each of them streams.
    agent_tokens: usize,
    /// The upstream's gap between two of those tokens (ms).
    agent_token_gap_ms: u64,
    /// Connections those sessions are started over (each sees every run's events).
    agent_observers: usize,
    /// Turns of the long session (0: not built).
    history_turns: usize,
    /// Sequential `/v1/chat/completions` requests of each kind (0: none).
    http_sequential: usize,
    /// Requests of each kind sent by 50 clients at once (0: none).
    http_concurrent: usize,
    /// Tokens of each HTTP answer.
    http_tokens: usize,
    /// `key=value` lines printed by the systemd harness's restart test (`BENCH …`).
    restart_figures: Option<PathBuf>,
    ready_timeout: Duration,
    out: PathBuf,
    json: Option<PathBuf>,
    notes: Option<PathBuf>,
    invocation: String,
    commit: String,
    keep_scratch: bool,
}

fn usage() -> ! {
    eprintln!(
        "usage: cargo bench --bench gateway -- [--runs N] [--ours BIN] [--reference LAUNCHER] \
         [--reference-missing TEXT] [--no-warmup] [--idle-wait S] [--handshakes N] \
         [--health-clients 1,10,100] [--health-secs S] [--conns 1000,10000] [--conn-hold 3,30] \
         [--open-concurrency N] [--presence 10,100,1000,10000] [--presence-triggers N] \
         [--cli-reps N] [--agent-turns N] [--agent-sessions N] [--agent-tokens N] [--agent-token-gap-ms MS] [--agent-observers N] \
         [--history-turns N] [--http-requests N] [--http-concurrent N] [--http-tokens N] [--restart-figures FILE] [--out FILE] [--json FILE] [--notes FILE] \
         [--invocation TEXT] [--commit TEXT] [--keep-scratch]\n\
         An empty list (`--conns ''`, `--presence ''`, `--health-clients ''`), `--cli-reps 0`, \
         `--agent-turns 0` (all agent scenarios), `--history-turns 0`, `--http-requests 0` or \
         `--http-concurrent 0` skips that scenario."
    );
    std::process::exit(2)
}

fn parse_list(s: &str) -> Vec<usize> {
    s.split(',')
        .filter(|p| !p.trim().is_empty())
        .map(|p| p.trim().parse().unwrap_or_else(|_| usage()))
        .collect()
}

fn parse_opts() -> Opts {
    let mut o = Opts {
        runs: 5,
        ours: PathBuf::from(env!("CARGO_BIN_EXE_openclaw")),
        reference: None,
        reference_missing: None,
        warmup: true,
        idle_wait: Duration::from_secs(10),
        handshakes: 200,
        handshake_budget: Duration::from_secs(10),
        health_clients: vec![1, 10, 100],
        health_secs: 3.0,
        health_warmup_secs: 0.5,
        conn_levels: vec![1000, 10000],
        conn_settle: Duration::from_secs(2),
        conn_hold: vec![Duration::from_secs(3), Duration::from_secs(30)],
        open_concurrency: 32,
        open_budget: Duration::from_secs(150),
        presence_levels: vec![10, 100, 1000, 10000],
        presence_triggers: 5,
        cli_reps: 5,
        agent_turns: 40,
        agent_sessions: 100,
        agent_tokens: 500,
        agent_token_gap_ms: 2,
        agent_observers: 4,
        history_turns: 1000,
        http_sequential: 40,
        http_concurrent: 100,
        http_tokens: 20,
        restart_figures: None,
        ready_timeout: Duration::from_secs(90),
        out: PathBuf::from("BENCHMARKS.md"),
        json: None,
        notes: None,
        invocation: "cargo bench --bench gateway".into(),
        commit: String::new(),
        keep_scratch: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || args.next().unwrap_or_else(|| usage());
        match a.as_str() {
            // cargo passes `--bench` to harness = false targets.
            "--bench" => {}
            "--runs" => o.runs = val().parse().unwrap_or_else(|_| usage()),
            "--ours" => o.ours = PathBuf::from(val()),
            "--reference" => {
                let v = val();
                o.reference = (!v.is_empty()).then(|| PathBuf::from(v));
            }
            "--reference-missing" => o.reference_missing = Some(val()),
            "--no-warmup" => o.warmup = false,
            "--idle-wait" => o.idle_wait = secs(&val()),
            "--handshakes" => o.handshakes = val().parse().unwrap_or_else(|_| usage()),
            "--health-clients" => o.health_clients = parse_list(&val()),
            "--health-secs" => o.health_secs = val().parse().unwrap_or_else(|_| usage()),
            "--conns" => o.conn_levels = parse_list(&val()),
            "--conn-hold" => o.conn_hold = val().split(',').map(secs).collect(),
            "--open-concurrency" => {
                o.open_concurrency = val().parse().unwrap_or_else(|_| usage());
            }
            "--presence" => o.presence_levels = parse_list(&val()),
            "--presence-triggers" => {
                o.presence_triggers = val().parse().unwrap_or_else(|_| usage());
            }
            "--cli-reps" => o.cli_reps = val().parse().unwrap_or_else(|_| usage()),
            "--agent-turns" => o.agent_turns = val().parse().unwrap_or_else(|_| usage()),
            "--agent-sessions" => o.agent_sessions = val().parse().unwrap_or_else(|_| usage()),
            "--agent-tokens" => o.agent_tokens = val().parse().unwrap_or_else(|_| usage()),
            "--agent-observers" => o.agent_observers = val().parse().unwrap_or_else(|_| usage()),
            "--agent-token-gap-ms" => {
                o.agent_token_gap_ms = val().parse().unwrap_or_else(|_| usage());
            }
            "--history-turns" => o.history_turns = val().parse().unwrap_or_else(|_| usage()),
            "--http-requests" => o.http_sequential = val().parse().unwrap_or_else(|_| usage()),
            "--http-concurrent" => o.http_concurrent = val().parse().unwrap_or_else(|_| usage()),
            "--http-tokens" => o.http_tokens = val().parse().unwrap_or_else(|_| usage()),
            "--restart-figures" => o.restart_figures = Some(PathBuf::from(val())),
            "--out" => o.out = PathBuf::from(val()),
            "--json" => o.json = Some(PathBuf::from(val())),
            "--notes" => o.notes = Some(PathBuf::from(val())),
            "--invocation" => o.invocation = val(),
            "--commit" => o.commit = val(),
            "--keep-scratch" => o.keep_scratch = true,
            "-h" | "--help" => usage(),
            _ => {
                eprintln!("unknown argument {a}");
                usage()
            }
        }
    }
    o.conn_levels.sort_unstable();
    o.presence_levels.sort_unstable();
    o.presence_levels.dedup();
    o.runs = o.runs.max(1);
    o
}

impl Opts {
    /// The hold window for the `i`-th connection level.
    fn hold(&self, i: usize) -> Duration {
        self.conn_hold
            .get(i)
            .or(self.conn_hold.last())
            .copied()
            .unwrap_or(Duration::from_secs(5))
    }
}

fn secs(s: &str) -> Duration {
    Duration::from_secs_f64(s.parse().unwrap_or_else(|_| usage()))
}

// ---------------------------------------------------------------------------------------------
// Process-tree sampling from /proc

fn clock_ticks() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 { t as f64 } else { 100.0 }
}

/// `pid` and all its descendants (via /proc/<pid>/task/*/children).
fn tree(pid: u32) -> Vec<u32> {
    let mut out = vec![pid];
    let mut i = 0;
    while i < out.len() {
        let p = out[i];
        if let Ok(tasks) = std::fs::read_dir(format!("/proc/{p}/task")) {
            for t in tasks.flatten() {
                if let Ok(text) = std::fs::read_to_string(t.path().join("children")) {
                    for c in text.split_whitespace().filter_map(|c| c.parse().ok()) {
                        if !out.contains(&c) {
                            out.push(c);
                        }
                    }
                }
            }
        }
        i += 1;
    }
    out
}

#[derive(Default, Clone, Debug)]
struct ProcMem {
    name: String,
    rss_kib: u64,
    anon_kib: u64,
    file_kib: u64,
    shmem_kib: u64,
    threads: u64,
}

fn proc_mem(pid: u32) -> Option<ProcMem> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let mut m = ProcMem::default();
    for line in text.lines() {
        let (k, v) = line.split_once(':')?;
        let num = || {
            v.split_whitespace()
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or(0)
        };
        match k {
            "Name" => m.name = v.trim().to_owned(),
            "VmRSS" => m.rss_kib = num(),
            "RssAnon" => m.anon_kib = num(),
            "RssFile" => m.file_kib = num(),
            "RssShmem" => m.shmem_kib = num(),
            "Threads" => m.threads = num(),
            _ => {}
        }
    }
    Some(m)
}

fn tree_mem(pid: u32) -> Vec<ProcMem> {
    tree(pid).into_iter().filter_map(proc_mem).collect()
}

fn tree_rss_mib(pid: u32) -> f64 {
    tree_mem(pid).iter().map(|m| m.rss_kib).sum::<u64>() as f64 / 1024.0
}

/// utime + stime + cutime + cstime of one process, in seconds.
fn proc_cpu_s(pid: u32) -> Option<f64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &text[text.rfind(')')? + 2..];
    // Fields after the command: state is field 3; utime is field 14 → index 11 here.
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = (11..=14)
        .filter_map(|i| f.get(i)?.parse::<u64>().ok())
        .sum();
    Some(ticks as f64 / clock_ticks())
}

/// CPU seconds consumed by the whole tree (living processes incl. their reaped children).
fn tree_cpu_s(pid: u32) -> f64 {
    tree(pid).into_iter().filter_map(proc_cpu_s).sum()
}

/// Open file descriptors of the whole tree.
fn tree_fds(pid: u32) -> usize {
    tree(pid)
        .into_iter()
        .filter_map(|p| std::fs::read_dir(format!("/proc/{p}/fd")).ok())
        .map(|d| d.count())
        .sum()
}

/// CPU seconds used so far by this (load generator) process.
fn self_cpu_s() -> f64 {
    proc_cpu_s(std::process::id()).unwrap_or(f64::NAN)
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn load1() -> f64 {
    loadavg()
        .split_whitespace()
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or(f64::NAN)
}

fn raise_nofile() -> (u64, u64) {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: plain syscalls on a local struct.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 {
            lim.rlim_cur = lim.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
            libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim);
        }
    }
    (lim.rlim_cur, lim.rlim_max)
}

// ---------------------------------------------------------------------------------------------
// Gateways under test

/// Process groups of the gateways currently running (killed on Ctrl-C).
static LIVE_GROUPS: Mutex<Vec<i32>> = Mutex::new(Vec::new());

fn kill_group(pgid: i32, signal: i32) {
    if pgid > 1 {
        // SAFETY: kill(2) on a process group we created.
        unsafe {
            libc::kill(-pgid, signal);
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Side {
    Ours,
    Reference,
}

impl Side {
    fn label(self) -> &'static str {
        match self {
            Side::Ours => "ours",
            Side::Reference => "reference",
        }
    }
}

struct Target {
    side: Side,
    program: PathBuf,
    /// Arguments with `{port}` / `{token}` placeholders.
    args: Vec<String>,
    /// Environment (after `env_clear`), `{scratch}` expanded at construction.
    env: Vec<(String, String)>,
    scratch: tempfile::TempDir,
    /// The reference keeps SQLite lock files here (hard-coded system temp root).
    lock_dir: Option<PathBuf>,
    version: String,
}

impl Target {
    fn ours(program: &Path, agent_config: &Value) -> Target {
        let scratch = tempfile::Builder::new()
            .prefix("openclaw-bench-ours.")
            .tempdir()
            .expect("scratch dir");
        let home = scratch.path().join("home");
        std::fs::create_dir_all(home.join(".openclaw")).unwrap();
        std::fs::write(
            home.join(".openclaw/openclaw.json"),
            serde_json::to_string_pretty(agent_config).unwrap(),
        )
        .unwrap();
        let version = version_of(program, &[]);
        Target {
            side: Side::Ours,
            program: program.to_owned(),
            args: ["gateway", "run", "--allow-unconfigured", "--port", "{port}"]
                .map(String::from)
                .to_vec(),
            env: vec![
                ("HOME".into(), home.display().to_string()),
                ("OPENCLAW_GATEWAY_TOKEN".into(), TOKEN.into()),
                ("PATH".into(), "/usr/bin:/bin".into()),
            ],
            scratch,
            lock_dir: None,
            version,
        }
    }

    fn reference(launcher: &Path, agent_config: &Value) -> Target {
        let scratch = tempfile::Builder::new()
            .prefix("openclaw-bench-ref.")
            .tempdir()
            .expect("scratch dir");
        let s = scratch.path();
        for d in ["home", "state", "temp", "logs"] {
            std::fs::create_dir_all(s.join(d)).unwrap();
        }
        // reference-measurements.md §4.4
        let mut config = json!({
            "gateway": {
                "mode": "local",
                "port": 28789,
                "bind": "loopback",
                "auth": {"mode": "token", "token": TOKEN}
            },
            "discovery": {"mdns": {"mode": "off"}},
            "update": {"checkOnStart": false},
            "models": {"catalogRefresh": {"enabled": false}},
            "logging": {"file": s.join("logs/openclaw.log").display().to_string()}
        });
        config["models"]["providers"] = agent_config["models"]["providers"].clone();
        config["agents"] = agent_config["agents"].clone();
        config["gateway"]["http"] = agent_config["gateway"]["http"].clone();
        std::fs::write(
            s.join("state/openclaw.json"),
            serde_json::to_string_pretty(&config).unwrap(),
        )
        .unwrap();
        let env: Vec<(String, String)> = vec![
            ("HOME".into(), s.join("home").display().to_string()),
            (
                "OPENCLAW_STATE_DIR".into(),
                s.join("state").display().to_string(),
            ),
            (
                "OPENCLAW_CONFIG_PATH".into(),
                s.join("state/openclaw.json").display().to_string(),
            ),
            ("TMPDIR".into(), s.join("temp").display().to_string()),
            ("OPENCLAW_DISABLE_BONJOUR".into(), "1".into()),
            ("OPENCLAW_NO_AUTO_UPDATE".into(), "1".into()),
            ("PATH".into(), "/usr/bin:/bin".into()),
        ];
        let version = version_of(launcher, &env);
        // SAFETY: getuid has no preconditions.
        let uid = unsafe { libc::getuid() };
        Target {
            side: Side::Reference,
            program: launcher.to_owned(),
            args: [
                "gateway",
                "run",
                "--port",
                "{port}",
                "--bind",
                "loopback",
                "--auth",
                "token",
                "--token",
                "{token}",
                "--allow-unconfigured",
            ]
            .map(String::from)
            .to_vec(),
            env,
            scratch,
            lock_dir: Some(PathBuf::from(format!("/tmp/openclaw-state-locks-{uid}"))),
            version,
        }
    }

    fn command_line(&self) -> String {
        let env: Vec<String> = self
            .env
            .iter()
            .map(|(k, v)| {
                let v = v.replace(&self.scratch.path().display().to_string(), "<scratch>");
                format!("{k}={v}")
            })
            .collect();
        format!(
            "env -i {} {} {}",
            env.join(" "),
            self.program.display(),
            self.args
                .join(" ")
                .replace("{port}", "<port>")
                .replace("{token}", "<token>")
        )
    }
}

fn version_of(program: &Path, env: &[(String, String)]) -> String {
    Command::new(program)
        .arg("--version")
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .env("PATH", "/usr/bin:/bin")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Running {
    child: Child,
    pid: u32,
    port: u16,
    started: Instant,
    /// ms from exec to the first `READY=1` on the gateway's NOTIFY_SOCKET, when one arrived.
    notify_ready: std::sync::Arc<std::sync::Mutex<Option<f64>>>,
    log: PathBuf,
    locks_before: BTreeSet<String>,
}

impl Running {
    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(5)..].join(" | ")
    }
}

fn list_dir(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn spawn(target: &Target, tag: &str) -> Running {
    let port = free_port();
    let log = target.scratch.path().join(format!("gateway-{tag}.log"));
    let locks_before = target.lock_dir.as_deref().map(list_dir).unwrap_or_default();
    let args: Vec<String> = target
        .args
        .iter()
        .map(|a| {
            a.replace("{port}", &port.to_string())
                .replace("{token}", TOKEN)
        })
        .collect();
    let out = std::fs::File::create(&log).unwrap();
    // A datagram socket standing in for systemd's NOTIFY_SOCKET: exec → READY=1.
    let notify_path = target.scratch.path().join(format!("notify-{tag}.sock"));
    let _ = std::fs::remove_file(&notify_path);
    let notify_socket = std::os::unix::net::UnixDatagram::bind(&notify_path).unwrap();
    let notify_ready = std::sync::Arc::new(std::sync::Mutex::new(None));
    let mut cmd = Command::new(&target.program);
    cmd.args(&args)
        .env_clear()
        .envs(target.env.iter().map(|(k, v)| (k, v)))
        .current_dir(target.scratch.path())
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .env("NOTIFY_SOCKET", &notify_path)
        .process_group(0);
    let started = Instant::now();
    let child = cmd.spawn().expect("spawn gateway");
    {
        let notify_ready = notify_ready.clone();
        std::thread::spawn(move || {
            let _ = notify_socket.set_read_timeout(Some(Duration::from_secs(120)));
            let mut buf = [0u8; 4096];
            while let Ok(n) = notify_socket.recv(&mut buf) {
                if String::from_utf8_lossy(&buf[..n])
                    .lines()
                    .any(|l| l == "READY=1")
                {
                    *notify_ready.lock().unwrap() = Some(ms(started.elapsed()));
                    return;
                }
            }
        });
    }
    let pid = child.id();
    LIVE_GROUPS.lock().unwrap().push(pid as i32);
    Running {
        child,
        pid,
        port,
        started,
        notify_ready,
        log,
        locks_before,
    }
}

/// SIGTERM, wait for exit (≤ 20 s, then SIGKILL the group); returns the time to exit.
fn stop(target: &Target, mut gw: Running) -> Option<f64> {
    let t = Instant::now();
    // SAFETY: kill(2) on the process we spawned.
    unsafe {
        libc::kill(gw.pid as i32, libc::SIGTERM);
    }
    let mut took = None;
    while t.elapsed() < Duration::from_secs(20) {
        if let Ok(Some(_)) = gw.child.try_wait() {
            took = Some(t.elapsed().as_secs_f64() * 1000.0);
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    // Whatever is left in the group (children that outlived their parent) goes too.
    kill_group(gw.pid as i32, libc::SIGKILL);
    let _ = gw.child.wait();
    LIVE_GROUPS.lock().unwrap().retain(|p| *p != gw.pid as i32);
    if let Some(dir) = &target.lock_dir {
        // Delete only the lock files this run created, then the folder if it is empty.
        std::thread::sleep(Duration::from_millis(50));
        for name in list_dir(dir).difference(&gw.locks_before) {
            let _ = std::fs::remove_file(dir.join(name));
        }
        let _ = std::fs::remove_dir(dir);
    }
    took
}

// ---------------------------------------------------------------------------------------------
// Raw HTTP + WebSocket client

fn http_status(port: u16, path: &str) -> Option<u16> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_millis(500)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut buf = [0u8; 64];
    let mut n = 0;
    while n < 12 {
        let r = s.read(&mut buf[n..]).ok()?;
        if r == 0 {
            break;
        }
        n += r;
    }
    std::str::from_utf8(&buf[..n])
        .ok()?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

#[derive(Deserialize)]
struct Frame<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    #[serde(default)]
    id: Option<&'a str>,
    #[serde(default)]
    ok: Option<bool>,
    #[serde(default)]
    event: Option<&'a str>,
    #[serde(default, borrow)]
    error: Option<&'a serde_json::value::RawValue>,
}

fn client_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(8192)
        .max_message_size(Some(64 << 20))
        .max_frame_size(Some(64 << 20))
}

/// The next text (or binary) message.
async fn next_text(ws: &mut Ws) -> Result<Vec<u8>, String> {
    loop {
        let msg = tokio::time::timeout(FRAME_TIMEOUT, ws.next())
            .await
            .map_err(|_| "timeout waiting for a frame".to_owned())?;
        match msg {
            Some(Ok(Message::Text(t))) => return Ok(t.as_bytes().to_vec()),
            Some(Ok(Message::Binary(b))) => return Ok(b.to_vec()),
            Some(Ok(Message::Close(f))) => {
                return Err(match f {
                    Some(f) => format!("closed {} {}", u16::from(f.code), f.reason),
                    None => "closed".into(),
                });
            }
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(format!("ws error: {e}")),
            None => return Err("stream ended".into()),
        }
    }
}

/// Waits for the response to `id`, skipping events; returns its bytes.
async fn response(ws: &mut Ws, id: &str) -> Result<Vec<u8>, String> {
    loop {
        let bytes = next_text(ws).await?;
        let frame: Frame = serde_json::from_slice(&bytes).map_err(|e| format!("bad frame: {e}"))?;
        if frame.kind == "res" && frame.id == Some(id) {
            if frame.ok == Some(true) {
                return Ok(bytes);
            }
            return Err(format!(
                "{id} failed: {}",
                frame.error.map(|e| e.get()).unwrap_or("no error")
            ));
        }
    }
}

/// `connect` params as the reference CLI sends them for `gateway call health` on loopback
/// (`scopes` as given: `operator.read` for the measured clients, `operator.admin` to trigger
/// `system-event`; a token-authenticated `cli`/`cli` loopback client keeps them).
fn connect_request(scopes: &[&str]) -> String {
    json!({
        "type": "req",
        "id": "1:connect",
        "method": "connect",
        "params": {
            "minProtocol": 4, "maxProtocol": 4,
            "client": {
                "id": "cli", "version": "bench", "platform": "linux",
                "deviceFamily": "Linux", "mode": "cli",
                "instanceId": uuid::Uuid::new_v4().to_string()
            },
            "caps": [],
            "role": "operator",
            "scopes": scopes,
            "auth": {"token": TOKEN}
        }
    })
    .to_string()
}

struct Handshake {
    ws: Ws,
    open_ms: f64,
    challenge_ms: f64,
    hello_ms: f64,
    total_ms: f64,
    hello_bytes: usize,
}

/// Open socket, read `connect.challenge`, send `connect`, read `hello-ok` (scope `operator.read`).
async fn handshake(port: u16) -> Result<Handshake, String> {
    handshake_with_scopes(port, &["operator.read"]).await
}

/// [`handshake`] requesting `scopes`.
async fn handshake_with_scopes(port: u16, scopes: &[&str]) -> Result<Handshake, String> {
    let t0 = Instant::now();
    let (mut ws, _) = tokio::time::timeout(
        FRAME_TIMEOUT,
        tokio_tungstenite::connect_async_with_config(
            format!("ws://127.0.0.1:{port}/"),
            Some(client_config()),
            true,
        ),
    )
    .await
    .map_err(|_| "timeout opening the socket".to_owned())?
    .map_err(|e| format!("open: {e}"))?;
    let t_open = t0.elapsed();
    let challenge = next_text(&mut ws).await?;
    let frame: Frame = serde_json::from_slice(&challenge).map_err(|e| e.to_string())?;
    if frame.event != Some("connect.challenge") {
        return Err(format!(
            "expected connect.challenge, got {}",
            String::from_utf8_lossy(&challenge)
        ));
    }
    let t_chal = t0.elapsed();
    ws.send(Message::text(connect_request(scopes)))
        .await
        .map_err(|e| format!("send connect: {e}"))?;
    let hello = response(&mut ws, "1:connect").await?;
    let t_hello = t0.elapsed();
    Ok(Handshake {
        ws,
        open_ms: ms(t_open),
        challenge_ms: ms(t_chal - t_open),
        hello_ms: ms(t_hello - t_chal),
        total_ms: ms(t_hello),
        hello_bytes: hello.len(),
    })
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Nearest-rank percentile of an ascending slice.
fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(f64::total_cmp);
    v
}

// ---------------------------------------------------------------------------------------------
// One run

#[derive(Default)]
struct RunResult {
    metrics: BTreeMap<String, f64>,
    notes: Vec<String>,
    idle_breakdown: Vec<ProcMem>,
    load: f64,
}

impl RunResult {
    fn set(&mut self, key: &str, v: f64) {
        if v.is_finite() {
            self.metrics.insert(key.to_owned(), v);
        }
    }
    fn note(&mut self, text: String) {
        eprintln!("    note: {text}");
        self.notes.push(text);
    }
}

fn wait_ready(gw: &mut Running, timeout: Duration, r: &mut RunResult) -> bool {
    let addr = SocketAddr::from(([127, 0, 0, 1], gw.port));
    let mut port_open = None;
    while gw.started.elapsed() < timeout {
        if let Ok(Some(status)) = gw.child.try_wait() {
            r.note(format!(
                "exited during startup ({status}): {}",
                gw.log_tail()
            ));
            return false;
        }
        if port_open.is_none() {
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                let t = ms(gw.started.elapsed());
                port_open = Some(t);
                r.set("port_open_ms", t);
                continue;
            }
        } else if http_status(gw.port, "/readyz") == Some(200) {
            r.set("ready_ms", ms(gw.started.elapsed()));
            // READY=1 is sent as the gateway starts serving; give a late datagram a moment.
            let waited = Instant::now();
            while waited.elapsed() < Duration::from_millis(200) {
                if let Some(t) = *gw.notify_ready.lock().unwrap() {
                    r.set("notify_ready_ms", t);
                    break;
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            return true;
        }
        // 1 ms polls for the first 200 ms (a native binary is up in milliseconds), then 10 ms.
        let fine = gw.started.elapsed() < Duration::from_millis(200);
        std::thread::sleep(Duration::from_millis(if fine { 1 } else { 10 }));
    }
    r.note(format!("not ready within {:?}: {}", timeout, gw.log_tail()));
    false
}

async fn bench_handshakes(port: u16, n: usize, budget: Duration, r: &mut RunResult) {
    let deadline = Instant::now() + budget;
    let (mut total, mut open, mut chal, mut hello) = (vec![], vec![], vec![], vec![]);
    let mut errors = 0usize;
    let mut bytes = 0;
    for _ in 0..n {
        if Instant::now() > deadline {
            break;
        }
        match handshake(port).await {
            Ok(h) => {
                total.push(h.total_ms);
                open.push(h.open_ms);
                chal.push(h.challenge_ms);
                hello.push(h.hello_ms);
                bytes = h.hello_bytes;
                let mut ws = h.ws;
                let _ = ws.close(None).await;
            }
            Err(e) => {
                errors += 1;
                if errors == 1 {
                    r.note(format!("handshake failed: {e}"));
                }
            }
        }
    }
    let (total, open, chal, hello) = (sorted(total), sorted(open), sorted(chal), sorted(hello));
    r.set("hs_n", total.len() as f64);
    r.set("hs_p50_ms", pct(&total, 50.0));
    r.set("hs_p99_ms", pct(&total, 99.0));
    r.set("hs_open_p50_ms", pct(&open, 50.0));
    r.set("hs_challenge_p50_ms", pct(&chal, 50.0));
    r.set("hs_hello_p50_ms", pct(&hello, 50.0));
    r.set("hello_bytes", bytes as f64);
    if errors > 0 {
        r.note(format!("{errors} of {n} handshakes failed"));
    }
}

struct ClientStats {
    lat_ms: Vec<f64>,
    errors: usize,
    first_error: Option<String>,
}

async fn health_client(
    mut ws: Ws,
    start: Instant,
    record_from: Instant,
    end: Instant,
) -> ClientStats {
    let mut st = ClientStats {
        lat_ms: Vec::with_capacity(4096),
        errors: 0,
        first_error: None,
    };
    tokio::time::sleep_until(start.into()).await;
    let mut n = 0u64;
    loop {
        let t = Instant::now();
        if t >= end {
            break;
        }
        n += 1;
        let id = format!("h{n}");
        let req = format!(r#"{{"type":"req","id":"{id}","method":"health","params":{{}}}}"#);
        let result = match ws.send(Message::text(req)).await {
            Ok(()) => response(&mut ws, &id).await.map(|_| ()),
            Err(e) => Err(format!("send: {e}")),
        };
        let dt = ms(t.elapsed());
        match result {
            Ok(()) => {
                if t >= record_from {
                    st.lat_ms.push(dt);
                }
            }
            Err(e) => {
                st.errors += 1;
                st.first_error.get_or_insert(e);
                if st.errors > 100 {
                    break;
                }
            }
        }
    }
    let _ = ws.close(None).await;
    st
}

/// Opens `n` connected clients with bounded concurrency.
async fn open_clients(port: u16, n: usize, concurrency: usize) -> (Vec<Ws>, Vec<String>) {
    let mut set = JoinSet::new();
    let mut out = Vec::with_capacity(n);
    let mut errors = vec![];
    let mut started = 0;
    while out.len() + errors.len() < n {
        while started < n && set.len() < concurrency {
            set.spawn(handshake(port));
            started += 1;
        }
        match set.join_next().await {
            Some(Ok(Ok(h))) => out.push(h.ws),
            Some(Ok(Err(e))) => errors.push(e),
            Some(Err(e)) => errors.push(e.to_string()),
            None => break,
        }
    }
    (out, errors)
}

/// Runs the `health` load of `clients` clients on a runtime of its own with one thread.
///
/// The generator shares the machine's cores with the gateway under test. On 2 cores, two busy
/// generator threads beside a gateway worker are three runnable threads for two CPUs: the
/// kernel time-slices them, and a thread preempted while holding ready responses or requests
/// adds its lost slice to the latency of every client it serves — the tail then measures the
/// scheduler (p99 ≈ 2.3× the mean at the same throughput). One generator thread keeps the
/// runnable threads at or below the core count for a one-worker gateway (ours on 2 cores; the
/// reference's single event loop). The same generator runs for both gateways.
fn bench_health_on_one_thread(port: u16, pid: u32, clients: usize, o: &Opts, r: &mut RunResult) {
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("the health load generator's runtime")
                    .block_on(bench_health(port, pid, clients, o, r));
            })
            .join()
            .expect("the health load generator thread panicked");
    });
}

async fn bench_health(port: u16, pid: u32, clients: usize, o: &Opts, r: &mut RunResult) {
    let (conns, errors) = open_clients(port, clients, 16).await;
    if !errors.is_empty() {
        r.note(format!(
            "health c={clients}: {} of {clients} clients failed to connect: {}",
            errors.len(),
            errors[0]
        ));
    }
    if conns.is_empty() {
        return;
    }
    let start = Instant::now() + Duration::from_millis(200);
    let record_from = start + Duration::from_secs_f64(o.health_warmup_secs);
    let end = record_from + Duration::from_secs_f64(o.health_secs);
    let mut set = JoinSet::new();
    for ws in conns {
        set.spawn(health_client(ws, start, record_from, end));
    }
    tokio::time::sleep_until(record_from.into()).await;
    let cpu0 = tree_cpu_s(pid);
    let self0 = self_cpu_s();
    tokio::time::sleep_until(end.into()).await;
    let cpu1 = tree_cpu_s(pid);
    let self1 = self_cpu_s();
    let mut lat = Vec::new();
    let mut errs = 0;
    let mut first = None;
    while let Some(res) = set.join_next().await {
        if let Ok(st) = res {
            lat.extend(st.lat_ms);
            errs += st.errors;
            if first.is_none() {
                first = st.first_error;
            }
        }
    }
    let lat = sorted(lat);
    let k = format!("health_{clients}");
    r.set(&format!("{k}_p50_ms"), pct(&lat, 50.0));
    r.set(&format!("{k}_p99_ms"), pct(&lat, 99.0));
    r.set(&format!("{k}_rps"), lat.len() as f64 / o.health_secs);
    if !lat.is_empty() {
        r.set(
            &format!("{k}_cpu_us"),
            (cpu1 - cpu0) * 1e6 / lat.len() as f64,
        );
        r.set(
            &format!("{k}_client_cpu_us"),
            (self1 - self0) * 1e6 / lat.len() as f64,
        );
    }
    if errs > 0 {
        r.note(format!(
            "health c={clients}: {errs} failed requests, first: {}",
            first.unwrap_or_default()
        ));
    }
}

/// One `presence` event received by one held client: when it arrived.
type PresenceTx = tokio::sync::mpsc::UnboundedSender<Instant>;
type PresenceRx = tokio::sync::mpsc::UnboundedReceiver<Instant>;

/// How a `presence` event frame starts to differ from others (both gateways write compact JSON).
const PRESENCE_EVENT_MARK: &str = r#""event":"presence""#;

/// Keeps one authenticated client open, reading (and dropping) every frame; stamps each
/// `presence` event on `presence`. On `release`: close frame, wait (≤ 2 s) for the echo, drop.
/// A close by the gateway counts in `closed`.
fn hold_client(
    mut ws: Ws,
    release: tokio_util::sync::CancellationToken,
    closed: Arc<AtomicUsize>,
    presence: PresenceTx,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::select! {
                () = release.cancelled() => {
                    let _ = ws.close(None).await;
                    let _ = tokio::time::timeout(Duration::from_secs(2), async {
                        while let Some(Ok(_)) = ws.next().await {}
                    })
                    .await;
                    return;
                }
                msg = ws.next() => match msg {
                    Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                    Some(Ok(Message::Text(t))) => {
                        if t.as_str().contains(PRESENCE_EVENT_MARK) {
                            let _ = presence.send(Instant::now());
                        }
                    }
                    Some(Ok(_)) => {}
                },
            }
        }
        closed.fetch_add(1, Ordering::Relaxed);
    })
}

/// Presence fan-out to the `clients` held clients (whose `presence` receipts arrive on `rx`):
/// `o.presence_triggers` times, a `system-event` sent on an admin connection, then the time
/// until the last held client received the `presence` event it causes (≤ 30 s per trigger).
async fn bench_presence_fanout(
    port: u16,
    pid: u32,
    clients: usize,
    rx: &mut PresenceRx,
    o: &Opts,
    r: &mut RunResult,
) {
    let mut trigger = match handshake_with_scopes(port, &["operator.admin"]).await {
        Ok(h) => h.ws,
        Err(e) => {
            r.note(format!(
                "presence {clients}: trigger client failed to connect: {e}"
            ));
            return;
        }
    };
    let (mut last_ms, mut first_ms) = (vec![], vec![]);
    let mut shortfall = None;
    let (cpu0, self0) = (tree_cpu_s(pid), self_cpu_s());
    for i in 0..o.presence_triggers {
        // Nothing from earlier events (connects, an earlier late trigger) may count.
        tokio::time::sleep(Duration::from_millis(100)).await;
        while rx.try_recv().is_ok() {}
        let id = format!("presence-{i}");
        let req = json!({
            "type": "req", "id": id, "method": "system-event",
            "params": {
                "text": format!("bench presence trigger {i}"),
                "instanceId": "openclaw-bench-presence",
                "host": "openclaw-bench",
                "mode": "backend",
                "reason": format!("bench-{i}"),
            }
        })
        .to_string();
        let t0 = Instant::now();
        if let Err(e) = trigger.send(Message::text(req)).await {
            r.note(format!(
                "presence {clients}: sending system-event failed: {e}"
            ));
            break;
        }
        let deadline = t0 + Duration::from_secs(30);
        let (mut got, mut first, mut last) = (0usize, None, t0);
        while got < clients {
            match tokio::time::timeout_at(deadline.into(), rx.recv()).await {
                Ok(Some(at)) => {
                    got += 1;
                    first.get_or_insert(at);
                    last = last.max(at);
                }
                _ => break,
            }
        }
        // The trigger's own response (and its copy of the event) is read after the clock
        // stopped; a refusal means no event was caused.
        if let Err(e) = response(&mut trigger, &id).await {
            r.note(format!("presence {clients}: system-event refused: {e}"));
            break;
        }
        if got < clients {
            shortfall.get_or_insert(format!(
                "presence {clients}: trigger {i}: only {got} of {clients} clients received                  `presence` within 30 s"
            ));
            continue;
        }
        last_ms.push(ms(last - t0));
        first_ms.push(ms(first.unwrap_or(last) - t0));
    }
    let (cpu1, self1) = (tree_cpu_s(pid), self_cpu_s());
    let _ = trigger.close(None).await;
    if o.presence_triggers > 0 {
        // CPU seconds per trigger (10 ms clock-tick resolution over all the triggers).
        let per = |d: f64| d / o.presence_triggers as f64;
        r.set(&format!("presence_{clients}_cpu_s"), per(cpu1 - cpu0));
        r.set(
            &format!("presence_{clients}_client_cpu_s"),
            per(self1 - self0),
        );
    }
    if let Some(text) = shortfall {
        r.note(text);
    }
    let (last_ms, first_ms) = (sorted(last_ms), sorted(first_ms));
    let k = format!("presence_{clients}");
    r.set(&format!("{k}_n"), last_ms.len() as f64);
    r.set(&format!("{k}_p50_ms"), pct(&last_ms, 50.0));
    r.set(
        &format!("{k}_max_ms"),
        last_ms.last().copied().unwrap_or(f64::NAN),
    );
    r.set(&format!("{k}_first_p50_ms"), pct(&first_ms, 50.0));
}

/// Presence fan-out at the levels of `o.presence_levels` that the idle-connection ramp does
/// not reach: opens each level (growing), measures, then closes all.
async fn bench_presence_small_levels(port: u16, pid: u32, o: &Opts, r: &mut RunResult) {
    let levels: Vec<usize> = o
        .presence_levels
        .iter()
        .copied()
        .filter(|l| !o.conn_levels.contains(l))
        .collect();
    if levels.is_empty() {
        return;
    }
    let closed = Arc::new(AtomicUsize::new(0));
    let release = tokio_util::sync::CancellationToken::new();
    let (presence_tx, mut presence_rx) = tokio::sync::mpsc::unbounded_channel();
    let mut holders = vec![];
    for level in levels {
        let want = level.saturating_sub(holders.len());
        let (conns, errors) = open_clients(port, want, o.open_concurrency).await;
        for ws in conns {
            holders.push(hold_client(
                ws,
                release.clone(),
                closed.clone(),
                presence_tx.clone(),
            ));
        }
        if holders.len() < level {
            r.note(format!(
                "presence {level}: only {} clients connected: {}",
                holders.len(),
                errors.first().map(String::as_str).unwrap_or("")
            ));
            break;
        }
        tokio::time::sleep(o.conn_settle).await;
        bench_presence_fanout(port, pid, level, &mut presence_rx, o, r).await;
    }
    release.cancel();
    for h in holders {
        let _ = h.await;
    }
    // Let the gateway process the disconnects before the next scenario.
    tokio::time::sleep(o.conn_settle).await;
}

/// Holds idle authenticated connections, growing through `levels`; at the levels also in
/// `o.presence_levels`, measures presence fan-out to them after the hold window.
async fn bench_idle_conns(port: u16, pid: u32, o: &Opts, r: &mut RunResult) {
    let closed = Arc::new(AtomicUsize::new(0));
    let mut holders: Vec<tokio::task::JoinHandle<()>> = Vec::new();
    let release = tokio_util::sync::CancellationToken::new();
    let (presence_tx, mut presence_rx) = tokio::sync::mpsc::unbounded_channel();
    let base_rss = tree_rss_mib(pid);
    r.set("conns_base_rss_mib", base_rss);
    r.set("conns_base_fds", tree_fds(pid) as f64);
    let mut gave_up = false;
    for (li, &level) in o.conn_levels.iter().enumerate() {
        let hold = o.hold(li);
        if gave_up {
            r.note(format!(
                "{level} connections: not attempted (previous level failed)"
            ));
            continue;
        }
        let want = level.saturating_sub(holders.len());
        let cpu0 = tree_cpu_s(pid);
        let t0 = Instant::now();
        let deadline = t0 + o.open_budget;
        let mut set = JoinSet::new();
        let mut started = 0usize;
        let mut done = 0usize;
        let mut errors = 0usize;
        let mut consecutive = 0usize;
        let mut first_error: Option<String> = None;
        while done < want {
            while started < want && set.len() < o.open_concurrency && Instant::now() < deadline {
                set.spawn(handshake(port));
                started += 1;
            }
            let Some(res) = set.join_next().await else {
                break;
            };
            done += 1;
            match res {
                Ok(Ok(h)) => {
                    consecutive = 0;
                    holders.push(hold_client(
                        h.ws,
                        release.clone(),
                        closed.clone(),
                        presence_tx.clone(),
                    ));
                }
                Ok(Err(e)) => {
                    errors += 1;
                    consecutive += 1;
                    first_error.get_or_insert(e);
                }
                Err(e) => {
                    errors += 1;
                    consecutive += 1;
                    first_error.get_or_insert(e.to_string());
                }
            }
            if consecutive >= 200 {
                set.abort_all();
                break;
            }
        }
        while set.join_next().await.is_some() {}
        let open_s = t0.elapsed().as_secs_f64();
        let cpu_open = tree_cpu_s(pid) - cpu0;
        let opened = holders.len();
        if errors > 0 || opened < level {
            r.note(format!(
                "{level} connections: only {opened} open after {open_s:.1} s ({errors} failed; first error: {})",
                first_error.as_deref().unwrap_or("none (time budget exhausted)")
            ));
        }
        tokio::time::sleep(o.conn_settle).await;
        let cpu_a = tree_cpu_s(pid);
        tokio::time::sleep(hold).await;
        let cpu_b = tree_cpu_s(pid);
        let rss = tree_rss_mib(pid);
        let alive = opened - closed.load(Ordering::Relaxed);
        let k = format!("conns_{level}");
        r.set(&format!("{k}_opened"), opened as f64);
        r.set(&format!("{k}_fds"), tree_fds(pid) as f64);
        r.set(&format!("{k}_alive"), alive as f64);
        r.set(&format!("{k}_open_s"), open_s);
        r.set(&format!("{k}_open_cpu_s"), cpu_open);
        r.set(
            &format!("{k}_hold_cpu_pct"),
            (cpu_b - cpu_a) * 100.0 / hold.as_secs_f64(),
        );
        if opened >= level {
            r.set(&format!("{k}_rss_mib"), rss);
            r.set(
                &format!("{k}_kib_per_conn"),
                (rss - base_rss) * 1024.0 / opened as f64,
            );
        } else {
            r.set(&format!("{k}_partial_rss_mib"), rss);
            gave_up = true;
        }
        if alive < opened {
            r.note(format!(
                "{level} connections: {} of {opened} were closed by the gateway while idle",
                opened - alive
            ));
        }
        if o.presence_levels.contains(&level) && alive >= level {
            bench_presence_fanout(port, pid, level, &mut presence_rx, o, r).await;
        }
    }
    // Close them all (client close frame, wait for the echo, drop) and see what the gateway
    // gives back.
    let total = holders.len();
    release.cancel();
    for h in holders {
        let _ = h.await;
    }
    if total > 0 {
        tokio::time::sleep(o.conn_settle).await;
        r.set("conns_closed_rss_mib", tree_rss_mib(pid));
        r.set("conns_closed_fds", tree_fds(pid) as f64);
        r.set("conns_closed_total", total as f64);
    }
}

/// The CLI commands timed per run: (metric key, arguments with `{port}` / `{token}`).
const CLI_COMMANDS: [(&str, &[&str]); 3] = [
    ("cli_version", &["--version"]),
    ("cli_status", &["gateway", "status", "--no-probe"]),
    (
        "cli_call_health",
        &[
            "gateway",
            "call",
            "health",
            "--url",
            "ws://127.0.0.1:{port}",
            "--token",
            "{token}",
            "--json",
        ],
    ),
];

/// Session variables a user's shell would pass to the CLI (the systemd user manager is reached
/// through them); passed on when the benchmark itself has them.
const SESSION_VARS: [&str; 2] = ["XDG_RUNTIME_DIR", "DBUS_SESSION_BUS_ADDRESS"];

/// Runs `target`'s own CLI once with `args`, in its isolated environment plus `extra_env`, and
/// times it: the milliseconds when `accept` takes the output, else what went wrong (the command,
/// its status and the last lines it printed).
fn time_cli(
    target: &Target,
    args: &[String],
    extra_env: &[(&str, std::ffi::OsString)],
    accept: impl Fn(&std::process::Output) -> bool,
) -> Result<f64, String> {
    let mut cmd = Command::new(&target.program);
    cmd.args(args)
        .env_clear()
        .envs(target.env.iter().map(|(k, v)| (k, v)))
        .envs(extra_env.iter().map(|(k, v)| (k, v)))
        .current_dir(target.scratch.path())
        .stdin(Stdio::null());
    let t = Instant::now();
    let out = cmd.output();
    let took = ms(t.elapsed());
    match out {
        Ok(out) if accept(&out) => Ok(took),
        Ok(out) => {
            let text = String::from_utf8_lossy(&out.stderr).into_owned()
                + &String::from_utf8_lossy(&out.stdout);
            let tail: Vec<&str> = text.lines().rev().take(3).collect();
            Err(format!(
                "{} ({}): {}",
                args.join(" "),
                out.status,
                tail.join(" | ")
            ))
        }
        Err(e) => Err(format!("{}: {e}", args.join(" "))),
    }
}

/// Wall time of the gateway's own CLI (`target.program` with its isolated environment):
/// each command of [`CLI_COMMANDS`] once untimed, then `o.cli_reps` rounds of all of them.
fn bench_cli(target: &Target, port: u16, o: &Opts, r: &mut RunResult) {
    if o.cli_reps == 0 {
        return;
    }
    let mut times: Vec<Vec<f64>> = vec![vec![]; CLI_COMMANDS.len()];
    let mut failures: Vec<Option<String>> = vec![None; CLI_COMMANDS.len()];
    for round in 0..=o.cli_reps {
        for (i, (_, args)) in CLI_COMMANDS.iter().enumerate() {
            let args: Vec<String> = args
                .iter()
                .map(|a| {
                    a.replace("{port}", &port.to_string())
                        .replace("{token}", TOKEN)
                })
                .collect();
            let session: Vec<(&str, std::ffi::OsString)> = SESSION_VARS
                .iter()
                .filter_map(|k| Some((*k, std::env::var_os(k)?)))
                .collect();
            match time_cli(target, &args, &session, |out| out.status.success()) {
                Ok(took) => {
                    if round > 0 {
                        times[i].push(took);
                    }
                }
                Err(why) => {
                    failures[i].get_or_insert(why);
                }
            }
        }
    }
    for (i, (key, _)) in CLI_COMMANDS.iter().enumerate() {
        let v = sorted(std::mem::take(&mut times[i]));
        r.set(&format!("{key}_ms"), pct(&v, 50.0));
        r.set(
            &format!("{key}_max_ms"),
            v.last().copied().unwrap_or(f64::NAN),
        );
        if let Some(f) = &failures[i] {
            r.note(format!("CLI failed: {f}"));
        }
    }
}

fn run_once(
    rt: &Runtime,
    upstream: &Arc<agent_turns::Upstream>,
    target: &Target,
    o: &Opts,
    tag: &str,
) -> RunResult {
    let mut r = RunResult {
        load: load1(),
        ..Default::default()
    };
    let mut gw = spawn(target, tag);
    if !wait_ready(&mut gw, o.ready_timeout, &mut r) {
        stop(target, gw);
        return r;
    }
    let ready_at = Instant::now();
    // Idle ~10 s after ready.
    std::thread::sleep(o.idle_wait.saturating_sub(ready_at.elapsed()));
    let mem = tree_mem(gw.pid);
    r.set(
        "idle_rss_mib",
        mem.iter().map(|m| m.rss_kib).sum::<u64>() as f64 / 1024.0,
    );
    r.set("idle_procs", mem.len() as f64);
    r.set(
        "idle_threads",
        mem.iter().map(|m| m.threads).sum::<u64>() as f64,
    );
    r.set("startup_cpu_s", tree_cpu_s(gw.pid));
    r.idle_breakdown = mem;
    let port = gw.port;
    let pid = gw.pid;
    bench_cli(target, port, o, &mut r);
    rt.block_on(bench_handshakes(
        port,
        o.handshakes,
        o.handshake_budget,
        &mut r,
    ));
    for &c in &o.health_clients {
        bench_health_on_one_thread(port, pid, c, o, &mut r);
    }
    rt.block_on(agent_turns::bench_agent(
        upstream,
        target.side,
        port,
        pid,
        o,
        &mut r,
    ));
    agent_turns::bench_cli_agent(target, port, o, &mut r);
    rt.block_on(http_api::bench_http(upstream, port, o, &mut r));
    rt.block_on(control_ui::bench_ui(port, &mut r));
    control_ui::bench_paint(port, &mut r);
    rt.block_on(async {
        bench_presence_small_levels(port, pid, o, &mut r).await;
        bench_idle_conns(port, pid, o, &mut r).await;
    });
    if let Ok(Some(status)) = gw.child.try_wait() {
        r.note(format!(
            "gateway exited during the run ({status}): {}",
            gw.log_tail()
        ));
    }
    if let Some(t) = stop(target, gw) {
        r.set("sigterm_exit_ms", t);
    } else {
        r.note("did not exit within 20 s of SIGTERM (killed)".into());
    }
    r
}

// ---------------------------------------------------------------------------------------------
// Report

#[derive(Clone, Copy)]
enum Unit {
    Ms,
    Mib,
    Kib,
    Count,
    PerSec,
    Pct,
    Us,
    Bytes,
    CpuS,
    Secs,
}

fn fmt_val(v: f64, unit: Unit) -> String {
    match unit {
        Unit::Ms => {
            if v >= 1000.0 {
                format!("{:.2} s", v / 1000.0)
            } else if v >= 100.0 {
                format!("{v:.0} ms")
            } else if v >= 10.0 {
                format!("{v:.1} ms")
            } else if v >= 1.0 {
                format!("{v:.2} ms")
            } else {
                format!("{v:.3} ms")
            }
        }
        Unit::Mib => {
            if v >= 100.0 {
                format!("{v:.0} MiB")
            } else {
                format!("{v:.1} MiB")
            }
        }
        Unit::Kib => format!("{v:.1} KiB"),
        Unit::Count => format!("{v:.0}"),
        Unit::PerSec => format!("{v:.0}/s"),
        Unit::Pct => format!("{v:.1} %"),
        Unit::Us => {
            if v < 100.0 {
                format!("{v:.1} µs")
            } else {
                format!("{v:.0} µs")
            }
        }
        Unit::Bytes => format!("{v:.0} B"),
        Unit::CpuS => {
            if v < 1.0 {
                format!("{:.0} CPU-ms", v * 1000.0)
            } else {
                format!("{v:.2} CPU-s")
            }
        }
        Unit::Secs => format!("{v:.1} s"),
    }
}

struct MetricDef {
    key: String,
    label: String,
    unit: Unit,
}

fn metric_defs(o: &Opts) -> Vec<(String, Vec<MetricDef>)> {
    let m = |key: &str, label: &str, unit| MetricDef {
        key: key.into(),
        label: label.into(),
        unit,
    };
    let mut groups = vec![
        (
            "Startup, idle footprint, shutdown".to_owned(),
            vec![
                m("port_open_ms", "exec → port accepting", Unit::Ms),
                m("ready_ms", "exec → `/readyz` 200", Unit::Ms),
                m(
                    "notify_ready_ms",
                    "exec → `READY=1` (sd_notify, NOTIFY_SOCKET)",
                    Unit::Ms,
                ),
                m(
                    "idle_rss_mib",
                    "idle RSS, process tree (ready + 10 s)",
                    Unit::Mib,
                ),
                m("idle_procs", "processes in the tree", Unit::Count),
                m("idle_threads", "threads in the tree", Unit::Count),
                m(
                    "startup_cpu_s",
                    "CPU used by ready + 10 s (tree)",
                    Unit::CpuS,
                ),
                m("sigterm_exit_ms", "SIGTERM → exit (end of run)", Unit::Ms),
            ],
        ),
        (
            "WebSocket connect (open → challenge → `connect` → `hello-ok`)".to_owned(),
            vec![
                m("hs_p50_ms", "full handshake p50", Unit::Ms),
                m("hs_p99_ms", "full handshake p99", Unit::Ms),
                m("hs_open_p50_ms", "TCP + upgrade p50", Unit::Ms),
                m("hs_challenge_p50_ms", "upgrade → challenge p50", Unit::Ms),
                m("hs_hello_p50_ms", "`connect` → `hello-ok` p50", Unit::Ms),
                m("hello_bytes", "`hello-ok` frame size", Unit::Bytes),
                m("hs_n", "handshakes measured per run", Unit::Count),
            ],
        ),
    ];
    if o.cli_reps > 0 {
        let labels = [
            ("cli_version", "`openclaw --version`"),
            ("cli_status", "`openclaw gateway status --no-probe`"),
            (
                "cli_call_health",
                "`openclaw gateway call health --json` (this run's gateway)",
            ),
        ];
        let mut cli = vec![];
        for (key, label) in labels {
            cli.push(m(
                &format!("{key}_ms"),
                &format!("{label}: median"),
                Unit::Ms,
            ));
            cli.push(m(
                &format!("{key}_max_ms"),
                &format!("{label}: slowest of {}", o.cli_reps),
                Unit::Ms,
            ));
        }
        groups.push((
            format!(
                "CLI wall time (the gateway's own CLI, {} timed invocations per run, isolated HOME/state)",
                o.cli_reps
            ),
            cli,
        ));
    }
    let mut health = vec![];
    for c in &o.health_clients {
        let k = format!("health_{c}");
        health.push(m(
            &format!("{k}_p50_ms"),
            &format!("{c} client(s): p50"),
            Unit::Ms,
        ));
        health.push(m(
            &format!("{k}_p99_ms"),
            &format!("{c} client(s): p99"),
            Unit::Ms,
        ));
        health.push(m(
            &format!("{k}_rps"),
            &format!("{c} client(s): throughput"),
            Unit::PerSec,
        ));
        health.push(m(
            &format!("{k}_cpu_us"),
            &format!("{c} client(s): gateway CPU per request"),
            Unit::Us,
        ));
        health.push(m(
            &format!("{k}_client_cpu_us"),
            &format!("{c} client(s): load-generator CPU per request"),
            Unit::Us,
        ));
    }
    groups.push((
        format!(
            "`health` RPC, {} s per level, each client sequential",
            o.health_secs
        ),
        health,
    ));
    let mut presence = vec![];
    for n in &o.presence_levels {
        let k = format!("presence_{n}");
        presence.push(m(
            &format!("{k}_p50_ms"),
            &format!("{n} clients: `system-event` → last client received `presence`, p50"),
            Unit::Ms,
        ));
        presence.push(m(
            &format!("{k}_max_ms"),
            &format!("{n} clients: same, slowest trigger"),
            Unit::Ms,
        ));
        presence.push(m(
            &format!("{k}_first_p50_ms"),
            &format!("{n} clients: `system-event` → first client received it, p50"),
            Unit::Ms,
        ));
        presence.push(m(
            &format!("{k}_cpu_s"),
            &format!("{n} clients: gateway CPU per trigger"),
            Unit::CpuS,
        ));
        presence.push(m(
            &format!("{k}_client_cpu_s"),
            &format!("{n} clients: load-generator CPU per trigger (receiving)"),
            Unit::CpuS,
        ));
        presence.push(m(
            &format!("{k}_n"),
            &format!("{n} clients: triggers that reached every client"),
            Unit::Count,
        ));
    }
    groups.push((
        format!(
            "Presence fan-out ({} `system-event` triggers per level, idle operator clients)",
            o.presence_triggers
        ),
        presence,
    ));
    let mut conns = vec![
        m(
            "conns_base_rss_mib",
            "RSS before opening (after the RPC tests)",
            Unit::Mib,
        ),
        m("conns_base_fds", "open fds before opening", Unit::Count),
    ];
    for (li, n) in o.conn_levels.iter().enumerate() {
        let k = format!("conns_{n}");
        conns.push(m(
            &format!("{k}_rss_mib"),
            &format!("{n}: RSS of the tree"),
            Unit::Mib,
        ));
        conns.push(m(
            &format!("{k}_kib_per_conn"),
            &format!("{n}: RSS growth per connection"),
            Unit::Kib,
        ));
        conns.push(m(
            &format!("{k}_open_s"),
            &format!("{n}: time to open (concurrency {})", o.open_concurrency),
            Unit::Secs,
        ));
        conns.push(m(
            &format!("{k}_open_cpu_s"),
            &format!("{n}: gateway CPU to accept them"),
            Unit::CpuS,
        ));
        conns.push(m(
            &format!("{k}_hold_cpu_pct"),
            &format!(
                "{n}: gateway CPU while idle ({} s window)",
                o.hold(li).as_secs_f64()
            ),
            Unit::Pct,
        ));
        conns.push(m(
            &format!("{k}_fds"),
            &format!("{n}: open fds of the tree"),
            Unit::Count,
        ));
        conns.push(m(
            &format!("{k}_alive"),
            &format!("{n}: still open at the end"),
            Unit::Count,
        ));
        conns.push(m(
            &format!("{k}_partial_rss_mib"),
            &format!("{n}: RSS with the connections it accepted (level not reached)"),
            Unit::Mib,
        ));
    }
    conns.push(m(
        "conns_closed_rss_mib",
        "after all clients closed (+ settle): RSS",
        Unit::Mib,
    ));
    conns.push(m(
        "conns_closed_fds",
        "after all clients closed (+ settle): open fds",
        Unit::Count,
    ));
    groups.push(("Idle authenticated connections".to_owned(), conns));
    if o.agent_turns > 0 {
        groups.push(agent_turns::metric_group(o));
    }
    if o.http_sequential > 0 || o.http_concurrent > 0 {
        groups.push(http_api::metric_group(o));
    }
    groups.push(control_ui::metric_group());
    groups
}

struct Summary {
    median: f64,
    min: f64,
    max: f64,
    n: usize,
}

fn summarize(runs: &[RunResult], key: &str) -> Option<Summary> {
    let v = sorted(
        runs.iter()
            .filter_map(|r| r.metrics.get(key).copied())
            .collect(),
    );
    if v.is_empty() {
        return None;
    }
    let n = v.len();
    let median = if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    };
    Some(Summary {
        median,
        min: v[0],
        max: v[n - 1],
        n,
    })
}

fn cell(runs: &[RunResult], key: &str, unit: Unit, total_runs: usize, not_run: &str) -> String {
    if runs.is_empty() {
        return not_run.to_owned();
    }
    match summarize(runs, key) {
        None => "—".to_owned(),
        Some(s) => {
            let mut c = if s.n == 1 || s.min == s.max {
                fmt_val(s.median, unit)
            } else {
                format!(
                    "**{}** ({} – {})",
                    fmt_val(s.median, unit),
                    fmt_val(s.min, unit),
                    fmt_val(s.max, unit)
                )
            };
            if s.n < total_runs {
                let _ = write!(c, " [{}/{} runs]", s.n, total_runs);
            }
            c
        }
    }
}

fn ratio(ours: &[RunResult], reference: &[RunResult], key: &str, unit: Unit) -> String {
    if matches!(unit, Unit::Count) {
        return String::new();
    }
    let (Some(a), Some(b)) = (summarize(ours, key), summarize(reference, key)) else {
        return String::new();
    };
    if a.median <= 0.0 || b.median <= 0.0 {
        return String::new();
    }
    let r = a.median / b.median;
    if (0.95..=1.05).contains(&r) {
        "≈ same".into()
    } else if r < 1.0 {
        format!("{:.1}× lower", 1.0 / r)
    } else {
        format!("{r:.1}× higher")
    }
}

fn machine_facts() -> Vec<(String, String)> {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let field = |name: &str| {
        cpuinfo
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_once(':'))
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default()
    };
    let cpus = cpuinfo
        .lines()
        .filter(|l| l.starts_with("processor"))
        .count();
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem = |name: &str| {
        meminfo
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .map(|kib| format!("{:.1} GiB", kib / 1024.0 / 1024.0))
            .unwrap_or_default()
    };
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .unwrap_or_default()
        .trim()
        .to_owned();
    vec![
        (
            "CPU".into(),
            format!(
                "{} × {} ({} MHz, flags incl. {})",
                cpus,
                field("model name"),
                field("cpu MHz"),
                if field("flags").contains("hypervisor") {
                    "hypervisor: virtual machine"
                } else {
                    "no hypervisor flag"
                }
            ),
        ),
        (
            "Memory".into(),
            format!(
                "{} total, {} available at start",
                mem("MemTotal"),
                mem("MemAvailable")
            ),
        ),
        ("Kernel (`uname -r`)".into(), kernel),
    ]
}

/// Figures of the systemd harness's restart-under-load test (`--restart-figures`).
enum RestartFigures {
    /// `key=value` pairs of its `BENCH …` lines, and the other lines of the file (e.g.
    /// `restart test passed`, written by bench/run.sh).
    Measured(BTreeMap<String, f64>, Vec<String>),
    /// Why there are none.
    Missing(String),
}

fn read_restart_figures(path: Option<&Path>) -> RestartFigures {
    let Some(path) = path else {
        return RestartFigures::Missing(
            "no `--restart-figures` file (bench/run.sh runs the systemd harness test for it)"
                .into(),
        );
    };
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => return RestartFigures::Missing(format!("{}: {e}", path.display())),
    };
    let figures: BTreeMap<String, f64> = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("BENCH "))
        .flat_map(str::split_whitespace)
        .filter_map(|kv| {
            let (k, v) = kv.split_once('=')?;
            Some((k.to_owned(), v.parse().ok()?))
        })
        .collect();
    if figures.is_empty() {
        let first: Vec<&str> = text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .take(3)
            .collect();
        return RestartFigures::Missing(format!(
            "{} holds no `BENCH` line ({})",
            path.display(),
            if first.is_empty() {
                "empty".to_owned()
            } else {
                first.join(" | ")
            }
        ));
    }
    let other = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("BENCH "))
        .map(str::to_owned)
        .collect();
    RestartFigures::Measured(figures, other)
}

fn render_restart(w: &mut String, restart: &RestartFigures) {
    let _ = writeln!(
        w,
        "### systemd user manager (harness): restart under load with socket activation, `gateway status` over D-Bus (ours only)\n"
    );
    let f = match restart {
        RestartFigures::Measured(f, other) => {
            if !other.is_empty() {
                let _ = writeln!(w, "Test outcome: {}.\n", other.join("; "));
            }
            f
        }
        RestartFigures::Missing(why) => {
            let _ = writeln!(w, "Not measured: {why}.\n");
            return;
        }
    };
    let _ = writeln!(
        w,
        "One measurement per benchmark (not per run). The reference has no socket activation: its \
         unit binds the port in the gateway process, so connections during its restarts are \
         refused by design; it is not measured here.\n"
    );
    let _ = writeln!(w, "| metric | ours | reference |\n|---|---|---|");
    let rows = [
        (
            "restarts",
            "`openclaw gateway restart` (each waits for ready)",
            Unit::Count,
        ),
        (
            "restart_tried",
            "`GET /healthz` attempts during the restarts (4 connectors)",
            Unit::Count,
        ),
        ("restart_answered", "answered", Unit::Count),
        ("restart_refused", "**refused** (ECONNREFUSED)", Unit::Count),
        (
            "restart_other_errors",
            "other errors (accepted, then reset / no answer)",
            Unit::Count,
        ),
        ("restart_total_ms", "time for all the restarts", Unit::Ms),
        (
            "restart_cmd_p50_ms",
            "`gateway restart` wall time, median",
            Unit::Ms,
        ),
        (
            "restart_cmd_max_ms",
            "`gateway restart` wall time, slowest",
            Unit::Ms,
        ),
        (
            "status_no_probe_dbus_ms",
            "`gateway status --no-probe` with the running service (median of 5, incl. wrapper)",
            Unit::Ms,
        ),
        (
            "status_wrapper_ms",
            "the harness's wrapper alone (`true`, median of 5)",
            Unit::Ms,
        ),
    ];
    for (key, label, unit) in rows {
        if let Some(v) = f.get(key) {
            let reference = if key.starts_with("status_") {
                "not run in the harness"
            } else {
                "n/a (no socket activation)"
            };
            let _ = writeln!(w, "| {label} | {} | {reference} |", fmt_val(*v, unit));
        }
    }
    let _ = writeln!(w);
}

struct Report<'a> {
    o: &'a Opts,
    restart: RestartFigures,
    date: String,
    facts: Vec<(String, String)>,
    load_start: String,
    load_end: String,
    nofile: (u64, u64),
    ours: &'a Target,
    reference: Option<&'a Target>,
    results: &'a BTreeMap<Side, Vec<RunResult>>,
    order: Vec<String>,
    elapsed: Duration,
}

fn render(rep: &Report) -> String {
    let o = rep.o;
    let empty = vec![];
    let ours = rep.results.get(&Side::Ours).unwrap_or(&empty);
    let refr = rep.results.get(&Side::Reference).unwrap_or(&empty);
    let not_run = if rep.reference.is_some() {
        "failed"
    } else {
        "not run"
    };
    let mut s = String::new();
    let w = &mut s;
    let _ = writeln!(
        w,
        "# Benchmarks: openclaw (Rust) vs reference OpenClaw gateway (Node)\n"
    );
    let _ = writeln!(
        w,
        "Generated by `bench/run.sh` on {} — do not edit by hand (hand-written notes live in \
         `bench/NOTES.md` and are appended at the end). All figures come from **one run of the \
         script**: {} alternating runs per gateway ({}), loopback only. Cells show \
         **median** (min – max) over the runs; p50/p99 are per-run percentiles whose median and \
         spread across runs are shown.\n",
        rep.date,
        o.runs,
        rep.order.join(", ")
    );
    let _ = writeln!(w, "## Machine and conditions\n");
    let _ = writeln!(w, "| | |\n|---|---|");
    for (k, v) in &rep.facts {
        let _ = writeln!(w, "| {k} | {v} |");
    }
    let loads: Vec<String> = ours
        .iter()
        .chain(refr.iter())
        .map(|r| format!("{:.2}", r.load))
        .collect();
    let _ = writeln!(
        w,
        "| Load average (1/5/15 min) | at start {}; at end {}; 1-min load at the start of each run: {} |",
        rep.load_start,
        rep.load_end,
        loads.join(", ")
    );
    let _ = writeln!(
        w,
        "| Sharing | the machine is shared with other engineers compiling Rust; loads above ≈1 mean \
         the gateway, the load generator and other work competed for 2 cores — prefer medians |"
    );
    let _ = writeln!(
        w,
        "| RLIMIT_NOFILE | {} soft / {} hard for the bench process and, inherited, the gateways |",
        rep.nofile.0, rep.nofile.1
    );
    let _ = writeln!(
        w,
        "| Ours | `{}` {}{} |",
        rep.ours.program.display(),
        rep.ours.version,
        if o.commit.is_empty() {
            String::new()
        } else {
            format!(", commit `{}`", o.commit)
        }
    );
    match rep.reference {
        Some(t) => {
            let _ = writeln!(w, "| Reference | `{}` {} |", t.program.display(), t.version);
        }
        None => {
            let _ = writeln!(
                w,
                "| Reference | not run: {} |",
                o.reference_missing
                    .as_deref()
                    .unwrap_or("no launcher given (`--reference`)")
            );
        }
    }
    let _ = writeln!(
        w,
        "| Duration of the benchmark | {:.0} s |\n",
        rep.elapsed.as_secs_f64()
    );

    // Targets
    let _ = writeln!(w, "## Targets (ours)\n");
    let _ = writeln!(
        w,
        "| target | median | worst run | met? |\n|---|---|---|---|"
    );
    let last = o.conn_levels.last().copied().unwrap_or(0);
    let top = o.health_clients.iter().max().copied().unwrap_or(0);
    let mut targets = vec![
        (
            "exec → `READY=1` < 5 ms".to_owned(),
            "notify_ready_ms".to_owned(),
            5.0,
            Unit::Ms,
        ),
        (
            "idle RSS < 8 MiB".to_owned(),
            "idle_rss_mib".to_owned(),
            8.0,
            Unit::Mib,
        ),
        (
            format!("{last} idle connections < 200 MiB"),
            format!("conns_{last}_rss_mib"),
            200.0,
            Unit::Mib,
        ),
        (
            format!("`health` p99 < 2 ms at {top} clients"),
            format!("health_{top}_p99_ms"),
            2.0,
            Unit::Ms,
        ),
        (
            "`openclaw gateway status --no-probe` < 20 ms (median of each run)".to_owned(),
            "cli_status_ms".to_owned(),
            20.0,
            Unit::Ms,
        ),
    ];
    targets.extend(agent_turns::targets());
    targets.extend(http_api::targets());
    targets.extend(control_ui::targets());
    // A target whose scenario was skipped by an option (e.g. `--health-clients ''`) is not listed.
    let skipped = |key: &str| {
        (key.starts_with("health_") && o.health_clients.is_empty())
            || (key.starts_with("conns_") && o.conn_levels.is_empty())
            || (key.starts_with("cli_") && o.cli_reps == 0)
            || ((key.starts_with("agent_") || key.starts_with("history_")) && o.agent_turns == 0)
            || (key.starts_with("history_") && o.history_turns == 0)
            || (key.starts_with("http_stream_50") || key.starts_with("http_plain_50"))
                && o.http_concurrent == 0
            || key.starts_with("http_") && o.http_sequential == 0 && !key.contains("_50")
    };
    for (label, key, limit, unit) in targets.iter().filter(|t| !skipped(&t.1)) {
        match summarize(ours, key) {
            Some(sm) => {
                let verdict = if sm.max < *limit {
                    "**met** (every run)"
                } else if sm.median < *limit {
                    "met by the median, missed by the worst run"
                } else {
                    "**MISSED**"
                };
                let _ = writeln!(
                    w,
                    "| {label} | {} | {} | {verdict} |",
                    fmt_val(sm.median, *unit),
                    fmt_val(sm.max, *unit)
                );
            }
            None => {
                let _ = writeln!(w, "| {label} | — | — | not measured |");
            }
        }
    }
    for (label, key, times) in http_api::ratio_targets()
        .into_iter()
        .filter(|t| !skipped(&t.1))
    {
        match (summarize(ours, &key), summarize(refr, &key)) {
            (Some(a), Some(b)) if b.median > 0.0 => {
                let ratio = a.median / b.median;
                let worst = a.min / b.max;
                let verdict = if worst >= times {
                    "**met** (every run)"
                } else if ratio >= times {
                    "met by the median, missed by the worst run"
                } else {
                    "**MISSED**"
                };
                let _ = writeln!(
                    w,
                    "| {label} | {ratio:.1}× ({} vs {}) | {worst:.1}× | {verdict} |",
                    fmt_val(a.median, Unit::PerSec),
                    fmt_val(b.median, Unit::PerSec)
                );
            }
            _ => {
                let _ = writeln!(
                    w,
                    "| {label} | — | — | not measured (needs both gateways) |"
                );
            }
        }
    }
    let dbus_target =
        "`openclaw gateway status --no-probe` < 20 ms with a running user manager (D-Bus, harness)";
    match &rep.restart {
        RestartFigures::Measured(f, _) => {
            match (f.get("status_no_probe_dbus_ms"), f.get("status_wrapper_ms")) {
                (Some(total), Some(wrapper)) => {
                    let own = total - wrapper;
                    let _ = writeln!(
                        w,
                        "| {dbus_target} | {} ({} minus the harness wrapper's {}) | (one measurement) | {} |",
                        fmt_val(own, Unit::Ms),
                        fmt_val(*total, Unit::Ms),
                        fmt_val(*wrapper, Unit::Ms),
                        if own < 20.0 { "**met**" } else { "**MISSED**" }
                    );
                }
                _ => {
                    let _ = writeln!(w, "| {dbus_target} | — | — | not measured |");
                }
            }
        }
        RestartFigures::Missing(why) => {
            let _ = writeln!(w, "| {dbus_target} | — | — | not measured: {why} |");
        }
    }
    let restart_target = "0 refused connections across 5 restarts (socket activation)";
    match &rep.restart {
        RestartFigures::Measured(f, _) => {
            let (refused, restarts) = (f.get("restart_refused"), f.get("restarts"));
            let verdict = match (refused, restarts) {
                (Some(0.0), Some(n)) if *n >= 5.0 => "**met**",
                (Some(_), Some(n)) if *n >= 5.0 => "**MISSED**",
                _ => "not measured (incomplete figures)",
            };
            let refused = refused.map_or("—".to_owned(), |v| format!("{v:.0} refused"));
            let _ = writeln!(
                w,
                "| {restart_target} | {refused} | (one measurement) | {verdict} |"
            );
        }
        RestartFigures::Missing(why) => {
            let _ = writeln!(w, "| {restart_target} | — | — | not measured: {why} |");
        }
    }
    let _ = writeln!(w);

    // Main table
    let _ = writeln!(w, "## Results\n");
    for (group, defs) in metric_defs(o) {
        let rows: Vec<&MetricDef> = defs
            .iter()
            .filter(|d| summarize(ours, &d.key).is_some() || summarize(refr, &d.key).is_some())
            .collect();
        if rows.is_empty() {
            continue;
        }
        let _ = writeln!(w, "### {group}\n");
        let _ = writeln!(
            w,
            "| metric | ours | reference | ours vs reference |\n|---|---|---|---|"
        );
        for d in rows {
            let _ = writeln!(
                w,
                "| {} | {} | {} | {} |",
                d.label,
                cell(ours, &d.key, d.unit, o.runs, "not run"),
                cell(refr, &d.key, d.unit, o.runs, not_run),
                ratio(ours, refr, &d.key, d.unit)
            );
        }
        let _ = writeln!(w);
    }

    render_restart(w, &rep.restart);

    // Idle memory breakdown (last run of each side)
    let _ = writeln!(w, "### Idle memory breakdown (last run, ready + 10 s)\n");
    let _ = writeln!(
        w,
        "| gateway | pid role | name | threads | VmRSS | RssAnon | RssFile | RssShmem |\n|---|---|---|---|---|---|---|---|"
    );
    for (side, runs) in rep.results {
        if let Some(r) = runs.iter().rev().find(|r| !r.idle_breakdown.is_empty()) {
            for (i, m) in r.idle_breakdown.iter().enumerate() {
                let _ = writeln!(
                    w,
                    "| {} | {} | `{}` | {} | {} | {} | {} | {} |",
                    side.label(),
                    if i == 0 { "main" } else { "child" },
                    m.name,
                    m.threads,
                    fmt_val(m.rss_kib as f64 / 1024.0, Unit::Mib),
                    fmt_val(m.anon_kib as f64 / 1024.0, Unit::Mib),
                    fmt_val(m.file_kib as f64 / 1024.0, Unit::Mib),
                    fmt_val(m.shmem_kib as f64 / 1024.0, Unit::Mib),
                );
            }
        }
    }
    let _ = writeln!(w);

    // Observations
    let mut any = false;
    for (side, runs) in rep.results {
        for (i, r) in runs.iter().enumerate() {
            for n in &r.notes {
                if !any {
                    let _ = writeln!(w, "## What happened (recorded instead of a number)\n");
                    any = true;
                }
                let _ = writeln!(w, "- {} run {}: {}", side.label(), i + 1, n);
            }
        }
    }
    if any {
        let _ = writeln!(w);
    }

    // Per-run appendix
    let _ = writeln!(w, "## Per-run values\n");
    let keys = [
        ("port_open_ms", Unit::Ms, "port"),
        ("ready_ms", Unit::Ms, "ready"),
        ("idle_rss_mib", Unit::Mib, "idle RSS"),
        ("hs_p50_ms", Unit::Ms, "hs p50"),
    ];
    let mut header = "| gateway | run | load |".to_owned();
    let mut sep = "|---|---|---|".to_owned();
    let mut cols: Vec<(String, Unit, String)> = keys
        .iter()
        .map(|(k, u, l)| ((*k).to_owned(), *u, (*l).to_owned()))
        .collect();
    for c in &o.health_clients {
        cols.push((
            format!("health_{c}_p99_ms"),
            Unit::Ms,
            format!("health p99 c={c}"),
        ));
        cols.push((
            format!("health_{c}_rps"),
            Unit::PerSec,
            format!("req/s c={c}"),
        ));
    }
    for n in &o.conn_levels {
        cols.push((format!("conns_{n}_rss_mib"), Unit::Mib, format!("RSS @{n}")));
    }
    if let Some(n) = o.presence_levels.last() {
        cols.push((
            format!("presence_{n}_p50_ms"),
            Unit::Ms,
            format!("presence @{n}"),
        ));
    }
    if o.cli_reps > 0 {
        cols.push(("cli_status_ms".into(), Unit::Ms, "status --no-probe".into()));
    }
    for (_, _, l) in &cols {
        let _ = write!(header, " {l} |");
        sep.push_str("---|");
    }
    let _ = writeln!(w, "{header}\n{sep}");
    for (side, runs) in rep.results {
        for (i, r) in runs.iter().enumerate() {
            let _ = write!(w, "| {} | {} | {:.2} |", side.label(), i + 1, r.load);
            for (k, u, _) in &cols {
                let v = r
                    .metrics
                    .get(k)
                    .map(|v| fmt_val(*v, *u))
                    .unwrap_or_else(|| "—".into());
                let _ = write!(w, " {v} |");
            }
            let _ = writeln!(w);
        }
    }
    let _ = writeln!(w);

    // Method
    let _ = writeln!(w, "## How each figure is measured\n");
    let _ = writeln!(
        w,
        "The harness is `benches/gateway.rs` (a `harness = false` bench target, Tokio + \
         tokio-tungstenite client in the same process); it spawns each gateway in its own \
         process group with a cleared environment and a private scratch directory, and samples \
         `/proc`. Process tree = the spawned pid plus all descendants found through \
         `/proc/<pid>/task/*/children`; RSS = sum of `VmRSS` over the tree; CPU = sum of \
         utime + stime (+ cutime + cstime) from `/proc/<pid>/stat` over the tree.\n"
    );
    let _ = writeln!(
        w,
        "- **Order**: {}one untimed warm-up start per gateway (fills the reference's Node compile \
         cache, as in reference-measurements §3.1 \"warm\"), then runs alternate ours, reference, \
         ours, … Each run uses a new free port; state and scratch persist across runs of one gateway.",
        if o.warmup { "" } else { "(warm-up disabled) " }
    );
    let _ = writeln!(
        w,
        "- **exec → port accepting**: `Instant` taken just before `spawn`, then a TCP connect to \
         `127.0.0.1:<port>` every 1 ms for the first 200 ms, then every 10 ms, until one succeeds. **exec → ready**: after that, \
         `GET /readyz` at the same cadence until it answers 200 (both gateways answer 503 until ready)."
    );
    let _ = writeln!(
        w,
        "- **Idle RSS / threads / startup CPU**: sampled {} s after ready, nothing connected.",
        o.idle_wait.as_secs_f64()
    );
    let _ = writeln!(
        w,
        "- **Handshake**: {} sequential connections (≤ {} s): WebSocket open (TCP + HTTP upgrade), \
         read `connect.challenge`, send `connect`, read the `hello-ok` response; then a client \
         close. Connect params are what the reference CLI sends for `gateway call health` on \
         loopback: `client {{id: cli, mode: cli, platform: linux, deviceFamily: Linux, \
         instanceId}}`, protocol 4–4, `role: operator`, `scopes: [operator.read]`, \
         `auth.token`, no device identity.",
        o.handshakes,
        o.handshake_budget.as_secs_f64()
    );
    let _ = writeln!(
        w,
        "- **`health` RPC**: for each of {:?} concurrent clients, that many connections are \
         opened, then each client sends `{{\"type\":\"req\",\"id\":…,\"method\":\"health\",\"params\":{{}}}}` \
         and waits for the matching response before sending the next (closed loop, events \
         skipped). {} s warm-up discarded, then {} s recorded. Latency = send → response \
         received; throughput = responses recorded ÷ window; gateway CPU per request = tree CPU \
         delta over the window ÷ responses. The load generator runs on the same 2 cores, on one \
         thread of its own (a single-threaded Tokio runtime) so that generator plus a one-worker \
         gateway never need more threads than there are cores; with c clients latency ≈ c ÷ \
         throughput (Little's law), so the 100-client p99 measures saturated throughput on this \
         machine as much as the gateway's own latency.",
        o.health_clients, o.health_warmup_secs, o.health_secs
    );
    let _ = writeln!(
        w,
        "- **Idle connections**: connections are opened (full handshake, {} in flight at a time, \
         ≤ {} s per level) and kept open, each drained by a client task (ticks are read and \
         dropped); levels grow {:?} (the later level adds to the earlier). After the last one \
         is open: {} s settle, then CPU over a hold window of {} s per level and the RSS of the \
         tree at its end. Both gateways send a `tick` event to every connection every 30 s, so \
         only a 30 s window contains exactly one tick; shorter windows may or may not. RSS \
         growth per connection = (RSS at level − RSS just before the first connection) ÷ \
         connections. Afterwards every client sends a close frame, waits ≤ 2 s for the echo and \
         drops the socket; {} s later the tree's RSS and open fds are sampled again.",
        o.open_concurrency,
        o.open_budget.as_secs_f64(),
        o.conn_levels,
        o.conn_settle.as_secs_f64(),
        o.conn_levels
            .iter()
            .enumerate()
            .map(|(i, _)| format!("{}", o.hold(i).as_secs_f64()))
            .collect::<Vec<_>>()
            .join(" / "),
        o.conn_settle.as_secs_f64()
    );
    let _ = writeln!(
        w,
        "- **CLI wall time**: right after the idle sample, the gateway's own CLI (ours: the \
         benchmarked binary; reference: its launcher) is run with the same cleared environment \
         as its gateway (isolated `HOME`, and for the reference its `OPENCLAW_STATE_DIR` / \
         `OPENCLAW_CONFIG_PATH` scratch config), plus `XDG_RUNTIME_DIR` / \
         `DBUS_SESSION_BUS_ADDRESS` when the benchmark's own environment has them (a user's \
         session). Each command once untimed, then {} rounds of the three in turn; wall time = \
         `spawn` → exit (output captured through pipes); a non-zero exit is reported instead of a \
         time. `gateway status --no-probe` reads the config, asks the service manager (ours: \
         the systemd user manager over D-Bus when a session bus or `$XDG_RUNTIME_DIR/systemd/private` \
         exists, otherwise it diagnoses why there is none — {}), and looks for a listener on the \
         configured port; it does not contact the gateway. `gateway call health --json` connects \
         to this run's gateway with `--url`/`--token`.",
        o.cli_reps,
        match std::env::var_os("XDG_RUNTIME_DIR") {
            Some(dir) => format!(
                "in this run `XDG_RUNTIME_DIR={}` was passed on",
                Path::new(&dir).display()
            ),
            None => "in this run there was no `XDG_RUNTIME_DIR`, so no user manager: what a \
                     root shell on this machine gets"
                .to_owned(),
        }
    );
    let _ = writeln!(
        w,
        "- **Presence fan-out**: at each of {:?} idle clients (operator, `cli` mode, \
         `operator.read`, each read by its own task that timestamps every `presence` event), \
         {} triggers: a separate admin connection (`cli`/`cli`, `operator.admin`, token) sends \
         `system-event {{text, instanceId, host, mode, reason}}`, which updates presence and \
         broadcasts `presence` to every client (gateway-protocol §5.2); time = send → arrival \
         at the last (and the first) of the clients. 100 ms and a drain of stale receipts before \
         each trigger; a trigger that does not reach every client within 30 s is reported, not \
         timed. Levels also in the idle-connection ramp ({:?}) are measured there, after that \
         level's hold window; the others on their own clients before it. The receiving side \
         runs in the benchmark's 2-thread Tokio runtime on the same 2 cores, so at 1,000+ \
         clients the figure includes the load generator reading that many frames.",
        o.presence_levels, o.presence_triggers, o.conn_levels
    );
    let _ = writeln!(
        w,
        "- **Restart under load** (ours only; not per run): `bench/run.sh` first runs the \
         systemd harness test `restarts_with_socket_activation_refuse_no_connection` \
         (`tests/systemd_backend.rs`, release build): a real private `systemd --user` manager, \
         `openclaw gateway install` (socket-activated unit), then 4 threads connect to \
         `GET /healthz` in a loop (1 ms pause) while `openclaw gateway restart` runs 5 times \
         back to back (each waits for the new process to be ready); refused = connect failed \
         with ECONNREFUSED; other errors = a connection accepted but closed without an answer \
         (reset, broken pipe, empty reply). Before the restarts the same test times `openclaw \
         gateway status --no-probe` 6 times against the running service (the first discarded; \
         it asks the user manager over D-Bus) and `true` through the harness's wrapper \
         (nsenter + setpriv into the test user), whose time is subtracted for the target. The \
         test prints `BENCH key=value …` lines, passed to the harness with `--restart-figures`."
    );
    let _ = writeln!(
        w,
        "- **SIGTERM → exit**: at the end of each run (connections already closed), `kill -TERM \
         <pid>` and the time until `waitpid` returns; the process group is then SIGKILLed to be \
         sure nothing is left. For the reference, the SQLite lock files it created under \
         `/tmp/openclaw-state-locks-<uid>/` are deleted.\n"
    );

    // Commands
    let _ = writeln!(w, "## Exact commands\n");
    let _ = writeln!(w, "```sh\n{}\n```\n", o.invocation);
    let _ = writeln!(
        w,
        "Gateways as spawned (`<port>` a fresh free port per run, `<token>` a fixed test token, `<scratch>` a private temp dir):\n"
    );
    let _ = writeln!(w, "```sh\n# ours\n{}", rep.ours.command_line());
    if let Some(t) = rep.reference {
        let _ = writeln!(
            w,
            "# reference (config of reference-measurements §4.4 in <scratch>/state/openclaw.json)\n{}",
            t.command_line()
        );
    }
    let _ = writeln!(w, "```\n");
    if o.cli_reps > 0 {
        let _ = writeln!(
            w,
            "CLI commands as timed (each gateway's program and environment as above):\n\n```sh"
        );
        for (_, args) in CLI_COMMANDS {
            let _ = writeln!(
                w,
                "openclaw {}",
                args.join(" ")
                    .replace("{port}", "<port>")
                    .replace("{token}", "<token>")
            );
        }
        let _ = writeln!(w, "```\n");
    }
    if rep.reference.is_none() {
        let _ = writeln!(
            w,
            "To include the reference: `tests/compat/install-reference.sh /work/ref` (≈800 MB \
             from the npm registry), then `OPENCLAW_REFERENCE_BIN=/work/ref/bin/openclaw bench/run.sh`.\n"
        );
    }
    if let Some(text) = o
        .notes
        .as_ref()
        .and_then(|n| std::fs::read_to_string(n).ok())
    {
        let _ = writeln!(w, "{}", text.trim_end());
    }
    s
}

fn results_json(results: &BTreeMap<Side, Vec<RunResult>>) -> Value {
    let mut obj = serde_json::Map::new();
    for (side, runs) in results {
        let v: Vec<Value> = runs
            .iter()
            .map(|r| json!({"load1": r.load, "metrics": r.metrics, "notes": r.notes}))
            .collect();
        obj.insert(side.label().into(), Value::Array(v));
    }
    Value::Object(obj)
}

// ---------------------------------------------------------------------------------------------

fn main() {
    let mut o = parse_opts();
    // Absolute paths: the gateways run with their scratch dir as working directory.
    o.ours = std::fs::canonicalize(&o.ours).unwrap_or_else(|e| {
        eprintln!("--ours {}: {e}", o.ours.display());
        std::process::exit(2)
    });
    if let Some(r) = &o.reference {
        o.reference = Some(std::path::absolute(r).unwrap_or_else(|_| r.clone()));
    }
    let nofile = raise_nofile();
    let needed = o.conn_levels.iter().max().copied().unwrap_or(0) as u64 + 512;
    if nofile.0 < needed {
        eprintln!(
            "warning: RLIMIT_NOFILE is {} (< {needed}); the largest connection level will fail \
             (raise the hard limit, e.g. `prlimit --nofile={needed}:{needed}`)",
            nofile.0
        );
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    // Ctrl-C / SIGTERM: take the gateways down with us.
    rt.spawn(async {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).unwrap();
        let mut int = signal(SignalKind::interrupt()).unwrap();
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
        for pgid in LIVE_GROUPS.lock().unwrap().iter() {
            kill_group(*pgid, libc::SIGKILL);
        }
        eprintln!("interrupted; gateways killed");
        std::process::exit(130);
    });

    let started = Instant::now();
    let load_start = loadavg();
    let date = jiff::Zoned::now().strftime("%Y-%m-%d %H:%M %Z").to_string();
    let facts = machine_facts();
    let upstream = Arc::new(agent_turns::Upstream::start(&rt));
    let agent_config = agent_turns::agent_config(&upstream.base_url(), o.agent_sessions.max(1));
    let ours = Target::ours(&o.ours, &agent_config);
    let reference = o
        .reference
        .as_deref()
        .map(|launcher| Target::reference(launcher, &agent_config));
    let mut targets: Vec<&Target> = vec![&ours];
    if let Some(r) = &reference {
        targets.push(r);
    }
    eprintln!(
        "bench: {} run(s) each of {}; load {}",
        o.runs,
        targets
            .iter()
            .map(|t| format!("{} ({})", t.side.label(), t.version))
            .collect::<Vec<_>>()
            .join(" and "),
        load_start
    );
    if o.warmup {
        for t in &targets {
            eprintln!("warm-up start: {}", t.side.label());
            let mut scratch = RunResult::default();
            let mut gw = spawn(t, "warmup");
            wait_ready(&mut gw, o.ready_timeout, &mut scratch);
            stop(t, gw);
        }
    }
    let mut results: BTreeMap<Side, Vec<RunResult>> = BTreeMap::new();
    let mut order = vec![];
    for i in 1..=o.runs {
        for t in &targets {
            let t0 = Instant::now();
            eprintln!(
                "run {i}/{}: {} (load {})",
                o.runs,
                t.side.label(),
                loadavg()
            );
            let r = run_once(&rt, &upstream, t, &o, &format!("run{i}"));
            eprintln!(
                "    {:.0} s: {}",
                t0.elapsed().as_secs_f64(),
                r.metrics
                    .iter()
                    .filter(|(k, _)| {
                        matches!(
                            k.as_str(),
                            "ready_ms" | "idle_rss_mib" | "hs_p50_ms" | "health_100_p99_ms"
                        ) || k.ends_with("_rss_mib")
                    })
                    .map(|(k, v)| format!("{k}={v:.2}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            );
            results.entry(t.side).or_default().push(r);
            if i == 1 {
                order.push(t.side.label().to_owned());
            }
        }
    }
    let rep = Report {
        o: &o,
        restart: read_restart_figures(o.restart_figures.as_deref()),
        date,
        facts,
        load_start,
        load_end: loadavg(),
        nofile,
        ours: &ours,
        reference: reference.as_ref(),
        results: &results,
        order: {
            let mut v = order.clone();
            v.push("…".into());
            v
        },
        elapsed: started.elapsed(),
    };
    let md = render(&rep);
    std::fs::write(&o.out, md).expect("write report");
    eprintln!("wrote {}", o.out.display());
    if let Some(path) = &o.json {
        let _ = std::fs::write(
            path,
            serde_json::to_string_pretty(&results_json(&results)).unwrap(),
        );
    }
    if o.keep_scratch {
        for t in [Some(ours), reference].into_iter().flatten() {
            eprintln!("kept scratch {}", t.scratch.keep().display());
        }
    }
    rt.shutdown_timeout(Duration::from_secs(2));
}
