//! Where a gateway listens and where this host's clients dial it: one rule for the gateway's
//! listeners, the service definitions (socket units, probes) and the CLI's target resolution.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::config::BindMode;

/// A bind setting that names no usable address; one line with the fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct BindPlanError {
    /// What is wrong and how to fix it.
    pub message: String,
}

fn refuse(message: impl Into<String>) -> BindPlanError {
    BindPlanError {
        message: message.into(),
    }
}

/// Where the gateway listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindPlan {
    /// The mode.
    pub mode: BindMode,
    /// Addresses that must bind (startup fails otherwise).
    pub required: Vec<IpAddr>,
    /// Addresses bound when possible (`::1` for loopback).
    pub optional: Vec<IpAddr>,
    /// For `auto`: fall back to 0.0.0.0 when 127.0.0.1 cannot bind.
    pub fallback: Option<IpAddr>,
}

impl BindPlan {
    /// True when every address is a loopback address.
    pub fn is_loopback_only(&self) -> bool {
        self.required
            .iter()
            .chain(&self.optional)
            .all(IpAddr::is_loopback)
            && self.fallback.is_none_or(|ip| ip.is_loopback())
    }

    /// The host clients on this machine should dial.
    pub fn probe_host(&self) -> IpAddr {
        self.required
            .iter()
            .copied()
            .find(|ip| !ip.is_unspecified())
            .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST))
    }
}

/// The addresses of a bind mode.
pub fn bind_plan(mode: BindMode, custom_host: Option<&str>) -> Result<BindPlan, BindPlanError> {
    let v4_loopback = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let any = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
    Ok(match mode {
        BindMode::Loopback => BindPlan {
            mode,
            required: vec![v4_loopback],
            optional: vec![IpAddr::V6(Ipv6Addr::LOCALHOST)],
            fallback: None,
        },
        BindMode::Lan => BindPlan {
            mode,
            required: vec![any],
            optional: vec![],
            fallback: None,
        },
        BindMode::Auto => BindPlan {
            mode,
            required: vec![v4_loopback],
            optional: vec![],
            fallback: Some(any),
        },
        BindMode::Custom => {
            let raw = custom_host.map(str::trim).filter(|h| !h.is_empty()).ok_or_else(|| {
                refuse("gateway.bind is \"custom\" but gateway.customBindHost is not set (set it to an IPv4 address of this machine)")
            })?;
            let ip: IpAddr = raw.parse().map_err(|_| {
                refuse(format!("gateway.customBindHost {raw:?} is not an IP address (set it to an IPv4 address of this machine)"))
            })?;
            let mut required = vec![ip];
            if ip != v4_loopback && ip != any {
                // Same-host clients dial 127.0.0.1.
                required.push(v4_loopback);
            }
            BindPlan {
                mode,
                required,
                optional: vec![],
                fallback: None,
            }
        }
        BindMode::Tailnet => {
            let ip = tailnet_ipv4().ok_or_else(|| {
                refuse("gateway.bind is \"tailnet\" but this machine has no Tailscale address (100.64.0.0/10); start Tailscale or use loopback, lan or custom")
            })?;
            BindPlan {
                mode,
                required: vec![IpAddr::V4(ip), v4_loopback],
                optional: vec![],
                fallback: None,
            }
        }
    })
}

fn tailnet_ipv4() -> Option<Ipv4Addr> {
    if_addrs::get_if_addrs()
        .ok()?
        .into_iter()
        .find_map(|iface| match iface.ip() {
            IpAddr::V4(ip) if ip.octets()[0] == 100 && (ip.octets()[1] & 0xc0) == 64 => Some(ip),
            _ => None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bind_modes_map_to_addresses() {
        let lo = bind_plan(BindMode::Loopback, None).unwrap();
        assert_eq!(lo.required, vec!["127.0.0.1".parse::<IpAddr>().unwrap()]);
        assert!(lo.is_loopback_only());
        let lan = bind_plan(BindMode::Lan, None).unwrap();
        assert!(!lan.is_loopback_only());
        assert_eq!(lan.probe_host(), IpAddr::V4(Ipv4Addr::LOCALHOST));
        let custom = bind_plan(BindMode::Custom, Some("10.1.2.3")).unwrap();
        assert_eq!(custom.required.len(), 2, "custom also binds 127.0.0.1");
        assert!(bind_plan(BindMode::Custom, None).is_err());
        assert!(bind_plan(BindMode::Custom, Some("not-an-ip")).is_err());
        let auto = bind_plan(BindMode::Auto, None).unwrap();
        assert!(!auto.is_loopback_only(), "auto may fall back to 0.0.0.0");
    }
}
