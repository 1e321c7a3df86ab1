//! One fixture for the tests that drive our real binary against the systemd harness: the
//! harness with the binary installed in the test user's `~/.local/bin`, config writing,
//! `openclaw …` as the test user, the supervisor view read in-process, and the HTTP probes.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use openclaw::environment::Environment;
use openclaw::service::ServiceManager;
use openclaw::service::spec::{ServiceSpec, SpecOptions};
use openclaw::service::status::SupervisorStatus;
use openclaw::service::systemd::SystemdBackend;
use serde_json::Value;

use super::systemd_harness::{RunOutput, SystemdHarness, run_with_timeout};

pub const CONFIG: &str = r#"{ "gateway": { "mode": "local", "auth": { "mode": "token", "token": "test-token-0123456789" } } }"#;

/// How long one `openclaw` run may take (doctor repairs and installs wait for the manager).
pub const OC_TIMEOUT: Duration = Duration::from_secs(120);

/// One harness with our binary installed in the test user's `~/.local/bin`.
pub struct Fixture {
    pub h: SystemdHarness,
    pub bin: PathBuf,
    /// Environment every `openclaw` run of this fixture gets.
    env: Vec<(String, String)>,
}

impl Fixture {
    pub fn new(h: SystemdHarness) -> Self {
        let bin = h.copy_executable(env!("CARGO_BIN_EXE_openclaw"));
        Self {
            h,
            bin,
            env: Vec::new(),
        }
    }

    /// Every later `openclaw` run gets `key=value`.
    pub fn with_env(mut self, key: &str, value: impl Into<String>) -> Self {
        self.env.push((key.to_owned(), value.into()));
        self
    }

    pub fn state_dir(&self, profile: Option<&str>) -> PathBuf {
        self.h.home().join(match profile {
            Some(p) => format!(".openclaw-{p}"),
            None => ".openclaw".into(),
        })
    }

    pub fn write_config(&self, profile: Option<&str>, text: &str) -> PathBuf {
        let rel = match profile {
            Some(p) => format!(".openclaw-{p}/openclaw.json"),
            None => ".openclaw/openclaw.json".into(),
        };
        let path = self.h.write_file(&rel, text.as_bytes(), 0o600);
        // write_file creates parents owned by the user; keep the state dir private.
        std::fs::set_permissions(
            path.parent().unwrap(),
            std::os::unix::fs::PermissionsExt::from_mode(0o700),
        )
        .unwrap();
        path
    }

    /// `openclaw <args>` as the test user.
    pub fn oc(&self, args: &[&str]) -> RunOutput {
        self.oc_env(args, &[])
    }

    /// `openclaw <args>` as the test user, with extra environment.
    pub fn oc_env(&self, args: &[&str], env: &[(&str, &str)]) -> RunOutput {
        let mut cmd = self.h.command(&self.bin);
        cmd.args(args);
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        run_with_timeout(cmd, OC_TIMEOUT)
    }

    /// `openclaw <args> --json`, which must print exactly one JSON object.
    pub fn oc_json(&self, args: &[&str]) -> (RunOutput, Value) {
        let mut all: Vec<&str> = args.to_vec();
        all.push("--json");
        let out = self.oc(&all);
        let v: Value = serde_json::from_str(out.stdout.trim())
            .unwrap_or_else(|e| panic!("not one JSON object ({e}): {out}"));
        (out, v)
    }

    pub fn install(&self, profile: Option<&str>, port: u16, extra: &[&str]) -> Value {
        let port = port.to_string();
        let mut args = profile_args(profile);
        args.extend(["gateway", "install", "--port", &port]);
        args.extend(extra);
        let (out, v) = self.oc_json(&args);
        assert!(
            out.success() && v["ok"] == true,
            "install failed: {out}\nmanager log:\n{}",
            self.h.manager_log()
        );
        v
    }

    pub fn unit(&self, profile: Option<&str>, kind: &str) -> String {
        match profile {
            Some(p) => format!("openclaw-gateway-{p}.{kind}"),
            None => format!("openclaw-gateway.{kind}"),
        }
    }

    /// The supervisor view, read in-process through the library backend (as root, over the
    /// manager's bus or private socket).
    pub fn status(&self, profile: Option<&str>, port: u16) -> SupervisorStatus {
        let spec = self.spec(profile, port);
        SystemdBackend::new(self.env())
            .status(&spec)
            .expect("status")
    }

    pub fn env(&self) -> Environment {
        let mut env = Environment::empty()
            .with("USER", self.h.user_name())
            .with("PATH", "/usr/bin:/bin");
        for (k, v) in self.h.host_client_env() {
            env = env.with(&k, &v);
        }
        env
    }

    pub fn spec(&self, profile: Option<&str>, port: u16) -> ServiceSpec {
        let env = self.env();
        let globals = openclaw::invocation::GlobalOptions {
            profile: profile.map(str::to_owned),
            ..Default::default()
        };
        let inv = openclaw::invocation::Invocation::resolve(&globals, env.clone(), false).unwrap();
        // The spec's port is given; the config may be broken on purpose, so it is not read.
        let config =
            openclaw::config::LoadedConfig::load(Path::new("/nonexistent/openclaw.json"), &env)
                .unwrap();
        ServiceSpec::build(
            &inv,
            &config,
            &SpecOptions {
                port: Some(port),
                program: Some(self.bin.clone()),
                ..Default::default()
            },
        )
        .unwrap()
    }

    pub fn prop(&self, unit: &str, iface: &str, name: &str) -> String {
        let raw = self.h.unit_property(unit, iface, name);
        // `s "x"` / `u 3` / `i 78` → the value.
        let value = raw.split_once(' ').map_or(raw.as_str(), |(_, v)| v);
        value.trim_matches('"').to_owned()
    }

    pub fn service_prop(&self, profile: Option<&str>, name: &str) -> String {
        self.prop(
            &self.unit(profile, "service"),
            "org.freedesktop.systemd1.Service",
            name,
        )
    }

    pub fn main_pid(&self, profile: Option<&str>) -> u32 {
        self.h.main_pid(&self.unit(profile, "service"))
    }

    pub fn n_restarts(&self, profile: Option<&str>) -> u32 {
        self.service_prop(profile, "NRestarts").parse().unwrap()
    }
}

pub fn profile_args(profile: Option<&str>) -> Vec<&str> {
    match profile {
        Some(p) => vec!["--profile", p],
        None => vec![],
    }
}

pub fn fixture() -> Option<Fixture> {
    super::systemd_harness::harness_or_skip().map(Fixture::new)
}

/// `GET <path>` on 127.0.0.1:`port`: the status code.
pub fn http_status(port: u16, path: &str) -> Result<u16, String> {
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let mut s =
        TcpStream::connect_timeout(&addr, Duration::from_secs(3)).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| e.to_string())?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&buf);
    text.split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| format!("bad answer {text:?}"))
}

pub fn refused(port: u16) -> bool {
    TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_secs(2))
        .is_err_and(|e| e.kind() == std::io::ErrorKind::ConnectionRefused)
}

pub fn wait_for(what: &str, within: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !f() {
        assert!(Instant::now() < deadline, "{what}: not within {within:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub fn messages(v: &Value) -> String {
    v["messages"]
        .as_array()
        .map(|m| {
            m.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}

pub fn mtime(path: &Path) -> std::time::SystemTime {
    std::fs::metadata(path).unwrap().modified().unwrap()
}
