//! Where the Control UI of a resolved gateway is: the HTTP origin of its WebSocket URL, the
//! configured `gateway.controlUi.basePath`, and for `openclaw dashboard` the token in the URL
//! fragment (a fragment never reaches a server or its log; the UI moves it to the tab's
//! `sessionStorage` and removes it from the address bar).

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Serialize;

use super::RpcTarget;
use crate::config::Config;

/// `gateway.controlUiLinks` of `status`: where a browser and a WebSocket client reach the
/// gateway on the probe host and port.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ControlUiLinks {
    /// `http[s]://<host>:<port>/` (the HTTP root of the gateway port).
    pub http_url: String,
    /// `ws[s]://<host>:<port>`.
    pub ws_url: String,
    /// The Control UI page (`httpUrl` + base path), when the config serves it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dashboard_url: Option<String>,
}

/// The HTTP root and WebSocket URL of a probe URL (its scheme and authority).
pub fn control_ui_links(probe_url: &str) -> ControlUiLinks {
    let (scheme, rest) = probe_url.split_once("://").unwrap_or(("ws", probe_url));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    let (http, ws) = if scheme.eq_ignore_ascii_case("wss") {
        ("https", "wss")
    } else {
        ("http", "ws")
    };
    ControlUiLinks {
        http_url: format!("{http}://{authority}/"),
        ws_url: format!("{ws}://{authority}"),
        dashboard_url: None,
    }
}

/// [`control_ui_links`] with the Control UI page of `config` (none when it is switched off or
/// its base path is unusable).
pub fn links_for(probe_url: &str, config: &Config) -> ControlUiLinks {
    let mut links = control_ui_links(probe_url);
    if config.control_ui_enabled() {
        links.dashboard_url = config
            .control_ui_base_path()
            .ok()
            .map(|base| format!("{}{}/", links.http_url.trim_end_matches('/'), base));
    }
    links
}

/// Why there is no dashboard to open.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DashboardError {
    #[error(
        "the Control UI is switched off (gateway.controlUi.enabled is false): set it to true; the gateway applies it without a restart"
    )]
    Disabled,
    #[error("{0}")]
    BasePath(String),
}

/// The Control UI page and, when the target has a token, the same page signed in.
#[derive(Debug, Clone)]
pub struct Dashboard {
    /// The page, without credentials.
    pub page: String,
    /// `page#token=…`, for a gateway with token auth.
    pub signed_in: Option<String>,
}

/// Characters kept as they are in the fragment value (the rest percent-encoded).
const FRAGMENT_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// The dashboard of `target` under `config`.
pub fn dashboard(target: &RpcTarget, config: &Config) -> Result<Dashboard, DashboardError> {
    if !config.control_ui_enabled() {
        return Err(DashboardError::Disabled);
    }
    let base = config
        .control_ui_base_path()
        .map_err(DashboardError::BasePath)?;
    let links = control_ui_links(&target.url);
    let page = format!("{}{}/", links.http_url.trim_end_matches('/'), base);
    let signed_in = target.token.as_ref().map(|token| {
        format!(
            "{page}#token={}",
            utf8_percent_encode(token.expose(), FRAGMENT_VALUE)
        )
    });
    Ok(Dashboard { page, signed_in })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::secret::Secret;

    fn target(url: &str, token: Option<&str>) -> RpcTarget {
        RpcTarget {
            url: url.to_owned(),
            url_source: "local",
            token: token.map(Secret::new),
            password: None,
            config_path: String::new(),
        }
    }

    fn config(json: &str) -> Config {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn control_ui_links_are_the_probe_urls_http_root_and_websocket() {
        let links = control_ui_links("ws://127.0.0.1:18789");
        assert_eq!(links.http_url, "http://127.0.0.1:18789/");
        assert_eq!(links.ws_url, "ws://127.0.0.1:18789");
        let links = control_ui_links("wss://[::1]:8443/some/path?x=1");
        assert_eq!(links.http_url, "https://[::1]:8443/");
        assert_eq!(links.ws_url, "wss://[::1]:8443");
    }

    #[test]
    fn the_dashboard_carries_the_base_path_and_the_token_only_in_the_fragment() {
        let c = config(r#"{"gateway": {"controlUi": {"basePath": "/openclaw/"}}}"#);
        let d = dashboard(&target("ws://127.0.0.1:18789", Some("a b&c#d")), &c).unwrap();
        assert_eq!(d.page, "http://127.0.0.1:18789/openclaw/");
        assert_eq!(
            d.signed_in.as_deref(),
            Some("http://127.0.0.1:18789/openclaw/#token=a%20b%26c%23d")
        );
        let plain = dashboard(&target("ws://127.0.0.1:18789", None), &config("{}")).unwrap();
        assert_eq!(plain.page, "http://127.0.0.1:18789/");
        assert_eq!(plain.signed_in, None);
    }

    #[test]
    fn a_switched_off_ui_or_a_bad_base_path_is_an_error_naming_the_key() {
        let off = config(r#"{"gateway": {"controlUi": {"enabled": false}}}"#);
        let e = dashboard(&target("ws://127.0.0.1:1", None), &off).unwrap_err();
        assert!(e.to_string().contains("gateway.controlUi.enabled"), "{e}");
        let bad = config(r#"{"gateway": {"controlUi": {"basePath": "../x"}}}"#);
        let e = dashboard(&target("ws://127.0.0.1:1", None), &bad).unwrap_err();
        assert!(e.to_string().contains("gateway.controlUi.basePath"), "{e}");
        assert_eq!(links_for("ws://127.0.0.1:1", &off).dashboard_url, None);
    }
}
