//! Gateway port resolution and the ports derived from it.
//!
//! Precedence: `--port` → `OPENCLAW_GATEWAY_PORT` (legacy `CLAWDBOT_GATEWAY_PORT`; accepts
//! `1234`, `host:1234`, `[::1]:1234`) → `gateway.port` → the profile default: 18789 for the
//! default profile, 19001 for `--dev`, and `20000 + FNV-1a-32(name) % 40000` for any other named
//! profile, so profiles never collide by default. Derived: browser control = base+2, canvas host =
//! base+4 (overridable by `OPENCLAW_CANVAS_HOST_PORT` / `canvasHost.port`), browser CDP range
//! base+11 ..= base+110. Every value reports where it came from.

use std::fmt;
use std::ops::RangeInclusive;

use serde::Serialize;

use crate::environment::Environment;
use crate::profile::{Profile, ProfileSelection};

/// Port of the default profile.
pub const DEFAULT_GATEWAY_PORT: u16 = 18789;
/// Default port of the root `--dev` profile.
pub const DEV_GATEWAY_PORT: u16 = 19001;

/// The 32-bit FNV-1a hash (offset basis `0x811c9dc5`, prime `0x01000193`).
pub fn fnv1a_32(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5_u32, |hash, byte| {
        (hash ^ u32::from(*byte)).wrapping_mul(0x0100_0193)
    })
}

/// The default gateway port of a profile.
pub fn profile_default_port(selection: &ProfileSelection) -> u16 {
    match (&selection.profile, selection.dev) {
        (_, true) => DEV_GATEWAY_PORT,
        (Profile::Default, false) => DEFAULT_GATEWAY_PORT,
        (Profile::Named(name), false) => {
            let offset = fnv1a_32(name.as_bytes()) % 40_000;
            // 20000 + (0..40000) always fits in u16.
            20_000 + offset as u16
        }
    }
}

/// Where a port value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PortSource {
    /// `--port`.
    Cli,
    /// `OPENCLAW_GATEWAY_PORT` (or the legacy `CLAWDBOT_GATEWAY_PORT`) / `OPENCLAW_CANVAS_HOST_PORT`.
    Env,
    /// `gateway.port` / `canvasHost.port` in the config file.
    Config,
    /// The profile's default.
    Default,
    /// Computed from the gateway port.
    Derived,
}

impl PortSource {
    /// The machine-readable name (`cli`, `env`, `config`, `default`, `derived`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cli => "cli",
            Self::Env => "env",
            Self::Config => "config",
            Self::Default => "default",
            Self::Derived => "derived",
        }
    }
}

impl fmt::Display for PortSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The inputs to port resolution that do not come from the environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct PortInputs {
    /// `--port`, already range-checked by the CLI parser.
    pub cli_port: Option<u16>,
    /// `gateway.port` from the config file.
    pub config_port: Option<u16>,
    /// `canvasHost.port` from the config file.
    pub config_canvas_port: Option<u16>,
}

/// The resolved gateway port and its derived ports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResolvedPorts {
    /// The gateway (WS + HTTP) port.
    pub port: u16,
    /// Where `port` came from.
    pub port_source: PortSource,
    /// Human detail of the source, e.g. `env OPENCLAW_GATEWAY_PORT`.
    pub port_source_detail: String,
    /// Browser control service port (base+2), when it fits in a port number.
    pub browser_control_port: Option<u16>,
    /// Canvas host port (base+4 unless overridden).
    pub canvas_host_port: Option<u16>,
    /// Where `canvas_host_port` came from.
    pub canvas_host_port_source: PortSource,
    /// Browser CDP ports (base+11 ..= base+110), when the whole range fits.
    #[serde(skip)]
    pub cdp_ports: Option<RangeInclusive<u16>>,
}

/// A port value that could not be used, naming where it came from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {origin}: {value:?} (use a port number from 1 to 65535{hint})")]
pub struct PortError {
    /// The flag, variable or config key that held the value.
    pub origin: String,
    /// The value as given.
    pub value: String,
    hint: &'static str,
}

/// Parses a port from an env value: `1234`, `host:1234` or `[v6]:1234`.
pub fn parse_port_value(origin: &str, raw: &str) -> Result<u16, PortError> {
    let value = raw.trim();
    let port_text = if let Some(rest) = value.strip_prefix('[') {
        rest.split_once("]:").map(|(_, port)| port)
    } else if value.matches(':').count() > 1 {
        // An IPv6 address without brackets: no unambiguous port.
        None
    } else if let Some((_, port)) = value.split_once(':') {
        Some(port)
    } else {
        Some(value)
    };
    port_text
        .and_then(|p| p.parse::<u16>().ok())
        .filter(|p| *p > 0)
        .ok_or_else(|| PortError {
            origin: origin.to_owned(),
            value: raw.to_owned(),
            hint: ", optionally as host:port or [v6]:port",
        })
}

fn check_config_port(origin: &str, port: u16) -> Result<u16, PortError> {
    if port == 0 {
        Err(PortError {
            origin: origin.to_owned(),
            value: port.to_string(),
            hint: "",
        })
    } else {
        Ok(port)
    }
}

/// Resolves the gateway port and its derived ports.
pub fn resolve_ports(
    selection: &ProfileSelection,
    env: &Environment,
    inputs: PortInputs,
) -> Result<ResolvedPorts, PortError> {
    let env_port = ["OPENCLAW_GATEWAY_PORT", "CLAWDBOT_GATEWAY_PORT"]
        .into_iter()
        .find_map(|key| env.get_nonempty(key).map(|v| (key, v)));
    let (port, port_source, detail) = if let Some(port) = inputs.cli_port {
        (port, PortSource::Cli, "cli --port".to_owned())
    } else if let Some((key, raw)) = env_port {
        (
            parse_port_value(key, raw)?,
            PortSource::Env,
            format!("env {key}"),
        )
    } else if let Some(port) = inputs.config_port {
        (
            check_config_port("gateway.port", port)?,
            PortSource::Config,
            "config gateway.port".to_owned(),
        )
    } else {
        let detail = match (&selection.profile, selection.dev) {
            (_, true) => "default for --dev".to_owned(),
            (Profile::Default, false) => "default".to_owned(),
            (Profile::Named(name), false) => format!("default for profile {name}"),
        };
        (profile_default_port(selection), PortSource::Default, detail)
    };

    let (canvas_host_port, canvas_host_port_source) =
        if let Some(raw) = env.get_nonempty("OPENCLAW_CANVAS_HOST_PORT") {
            (
                Some(parse_port_value("OPENCLAW_CANVAS_HOST_PORT", raw)?),
                PortSource::Env,
            )
        } else if let Some(port) = inputs.config_canvas_port {
            (
                Some(check_config_port("canvasHost.port", port)?),
                PortSource::Config,
            )
        } else {
            (port.checked_add(4), PortSource::Derived)
        };

    let cdp_ports = match (port.checked_add(11), port.checked_add(110)) {
        (Some(start), Some(end)) => Some(start..=end),
        _ => None,
    };

    Ok(ResolvedPorts {
        port,
        port_source,
        port_source_detail: detail,
        browser_control_port: port.checked_add(2),
        canvas_host_port,
        canvas_host_port_source,
        cdp_ports,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::ProfileSource;

    fn named(name: &str) -> ProfileSelection {
        ProfileSelection {
            profile: Profile::Named(name.to_owned()),
            dev: false,
            source: ProfileSource::Flag,
        }
    }

    fn dev() -> ProfileSelection {
        ProfileSelection::resolve(None, true, &Environment::empty()).unwrap()
    }

    fn resolve(sel: &ProfileSelection, env: &Environment, inputs: PortInputs) -> ResolvedPorts {
        resolve_ports(sel, env, inputs).unwrap()
    }

    #[test]
    fn named_profiles_default_to_the_fnv_port_of_their_name() {
        assert_eq!(profile_default_port(&named("rescue")), 23532);
        assert_eq!(profile_default_port(&named("work")), 41984);
        assert_eq!(profile_default_port(&named("staging")), 28422);
        assert_eq!(profile_default_port(&named("dev")), 38556);
        assert_eq!(profile_default_port(&dev()), 19001);
        assert_eq!(
            profile_default_port(&ProfileSelection::default_profile()),
            18789
        );
    }

    #[test]
    fn fnv1a_matches_the_published_test_vectors() {
        assert_eq!(fnv1a_32(b""), 0x811c9dc5);
        assert_eq!(fnv1a_32(b"a"), 0xe40c292c);
        assert_eq!(fnv1a_32(b"foobar"), 0xbf9cf968);
    }

    #[test]
    fn cli_port_beats_env_beats_config_beats_default() {
        let sel = ProfileSelection::default_profile();
        let env = Environment::empty().with("OPENCLAW_GATEWAY_PORT", "2000");
        let all = PortInputs {
            cli_port: Some(1000),
            config_port: Some(3000),
            config_canvas_port: None,
        };
        let r = resolve(&sel, &env, all);
        assert_eq!((r.port, r.port_source), (1000, PortSource::Cli));
        let r = resolve(
            &sel,
            &env,
            PortInputs {
                cli_port: None,
                ..all
            },
        );
        assert_eq!((r.port, r.port_source), (2000, PortSource::Env));
        let r = resolve(
            &sel,
            &Environment::empty(),
            PortInputs {
                cli_port: None,
                ..all
            },
        );
        assert_eq!((r.port, r.port_source), (3000, PortSource::Config));
        let r = resolve(&sel, &Environment::empty(), PortInputs::default());
        assert_eq!((r.port, r.port_source), (18789, PortSource::Default));
        let r = resolve(
            &named("rescue"),
            &Environment::empty(),
            PortInputs::default(),
        );
        assert_eq!(r.port_source_detail, "default for profile rescue");
    }

    #[test]
    fn env_port_accepts_host_and_bracketed_v6_forms() {
        for (raw, want) in [
            ("1234", 1234),
            (" 1234 ", 1234),
            ("127.0.0.1:1234", 1234),
            ("localhost:1234", 1234),
            ("[::1]:1234", 1234),
        ] {
            assert_eq!(
                parse_port_value("OPENCLAW_GATEWAY_PORT", raw),
                Ok(want),
                "{raw}"
            );
        }
        for raw in ["0", "65536", "abc", "[::1]", "host:", "::1", "-5"] {
            let err = parse_port_value("OPENCLAW_GATEWAY_PORT", raw).unwrap_err();
            assert!(
                err.to_string().contains("OPENCLAW_GATEWAY_PORT"),
                "{raw}: {err}"
            );
        }
    }

    #[test]
    fn legacy_clawdbot_port_env_is_honoured_after_the_current_name() {
        let sel = ProfileSelection::default_profile();
        let env = Environment::empty().with("CLAWDBOT_GATEWAY_PORT", "5555");
        assert_eq!(resolve(&sel, &env, PortInputs::default()).port, 5555);
        let env = env.with("OPENCLAW_GATEWAY_PORT", "6666");
        assert_eq!(resolve(&sel, &env, PortInputs::default()).port, 6666);
    }

    #[test]
    fn invalid_env_or_config_ports_name_their_origin() {
        let sel = ProfileSelection::default_profile();
        let env = Environment::empty().with("OPENCLAW_GATEWAY_PORT", "nope");
        let err = resolve_ports(&sel, &env, PortInputs::default()).unwrap_err();
        assert_eq!(err.origin, "OPENCLAW_GATEWAY_PORT");
        let inputs = PortInputs {
            config_port: Some(0),
            ..PortInputs::default()
        };
        let err = resolve_ports(&sel, &Environment::empty(), inputs).unwrap_err();
        assert!(err.to_string().contains("gateway.port"), "{err}");
    }

    #[test]
    fn derived_ports_follow_the_base_and_canvas_can_be_overridden() {
        let sel = ProfileSelection::default_profile();
        let r = resolve(&sel, &Environment::empty(), PortInputs::default());
        assert_eq!(r.browser_control_port, Some(18791));
        assert_eq!(r.canvas_host_port, Some(18793));
        assert_eq!(r.canvas_host_port_source, PortSource::Derived);
        assert_eq!(r.cdp_ports, Some(18800..=18899));
        let inputs = PortInputs {
            config_canvas_port: Some(7000),
            ..PortInputs::default()
        };
        let r = resolve(&sel, &Environment::empty(), inputs);
        assert_eq!(
            (r.canvas_host_port, r.canvas_host_port_source),
            (Some(7000), PortSource::Config)
        );
        let env = Environment::empty().with("OPENCLAW_CANVAS_HOST_PORT", "7100");
        let r = resolve(&sel, &env, inputs);
        assert_eq!(
            (r.canvas_host_port, r.canvas_host_port_source),
            (Some(7100), PortSource::Env)
        );
    }

    #[test]
    fn derived_ports_that_overflow_are_absent_not_wrapped() {
        let sel = ProfileSelection::default_profile();
        let inputs = PortInputs {
            cli_port: Some(65533),
            ..PortInputs::default()
        };
        let r = resolve(&sel, &Environment::empty(), inputs);
        assert_eq!(r.browser_control_port, Some(65535));
        assert_eq!(r.canvas_host_port, None);
        assert_eq!(r.cdp_ports, None);
    }

    #[test]
    fn dev_flag_defaults_to_19001_but_env_still_wins() {
        let r = resolve(&dev(), &Environment::empty(), PortInputs::default());
        assert_eq!(r.port, 19001);
        let env = Environment::empty().with("OPENCLAW_GATEWAY_PORT", "19500");
        assert_eq!(resolve(&dev(), &env, PortInputs::default()).port, 19500);
    }
}
