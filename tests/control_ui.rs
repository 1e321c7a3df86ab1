//! The Control UI over HTTP against the real gateway (web-and-channels.md §1.1): the page and its
//! assets from the binary, compressed as the client allows and byte-identical once decoded,
//! long-cached hashed names and revalidated plain ones, the strict CSP and anti-framing headers
//! on every answer, SPA routing, `control-ui-config.json` behind the gateway's HTTP auth, the
//! base path, and `gateway.controlUi.enabled` applied without a restart.

mod support;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::time::{Duration, Instant};

use support::*;

/// One HTTP/1.1 GET-like request: (status, headers by lower-case name, raw body bytes).
fn fetch(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> (u16, HashMap<String, String>, Vec<u8>) {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut head =
        format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let split = out
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete head");
    let text = String::from_utf8_lossy(&out[..split]).into_owned();
    let mut lines = text.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let map = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    (status, map, out[split + 4..].to_vec())
}

const HTML: (&str, &str) = ("Accept", "text/html,application/xhtml+xml,*/*;q=0.8");

fn ui_file(name: &str) -> Vec<u8> {
    std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/ui/assets/").to_owned() + name).unwrap()
}

/// The hashed asset paths the page loads (`assets/<name>.<hash>.<ext>`).
fn hashed_assets(page: &str) -> Vec<String> {
    let mut found: Vec<String> = page
        .split('"')
        .filter(|s| s.starts_with("assets/") || s.starts_with("./assets/"))
        .map(|s| s.trim_start_matches("./").to_owned())
        .filter(|s| s.matches('.').count() >= 2)
        .collect();
    found.sort();
    found.dedup();
    found
}

fn assert_secured(headers: &HashMap<String, String>, what: &str) {
    let csp = headers
        .get("content-security-policy")
        .unwrap_or_else(|| panic!("{what}: no CSP"));
    for directive in [
        "default-src 'none'",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "connect-src 'self'",
    ] {
        assert!(
            csp.contains(directive),
            "{what}: CSP lacks {directive}: {csp}"
        );
    }
    let script = csp
        .split(';')
        .find(|d| d.trim().starts_with("script-src"))
        .unwrap();
    assert!(
        !script.contains("unsafe-inline") && !script.contains("unsafe-eval"),
        "{script}"
    );
    assert_eq!(
        headers.get("x-frame-options").map(String::as_str),
        Some("DENY"),
        "{what}"
    );
    assert_eq!(
        headers.get("x-content-type-options").map(String::as_str),
        Some("nosniff"),
        "{what}"
    );
    assert_eq!(
        headers.get("referrer-policy").map(String::as_str),
        Some("no-referrer"),
        "{what}"
    );
}

fn brotli_decode(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    brotli::BrotliDecompress(&mut &data[..], &mut out).unwrap();
    out
}

fn gzip_decode(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(data)
        .read_to_end(&mut out)
        .unwrap();
    out
}

#[test]
fn the_page_and_every_asset_are_served_compressed_cached_and_with_strict_headers() {
    let gw = TestGateway::start();
    let (status, headers, body) = fetch(gw.port, "GET", "/", &[HTML]);
    assert_eq!(status, 200);
    assert_secured(&headers, "/");
    assert_eq!(headers["cache-control"], "no-cache");
    assert!(headers["content-type"].starts_with("text/html"));
    let page = String::from_utf8(body).unwrap();
    assert!(page.contains("<base href=\"/\">"), "{page}");
    // The one inline script is the import map, and the CSP allows it by its hash only.
    let map = page
        .split("<script type=\"importmap\">")
        .nth(1)
        .unwrap()
        .split("</script>")
        .next()
        .unwrap();
    let hash = {
        use base64::Engine as _;
        use sha2::Digest as _;
        base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(map.as_bytes()))
    };
    assert!(headers["content-security-policy"].contains(&format!("'sha256-{hash}'")));
    assert_eq!(
        page.matches("<script").count(),
        2,
        "only the import map and the module"
    );

    let assets = hashed_assets(&page);
    assert!(assets.len() >= 8, "{assets:?}");
    let mut compressed = page.len();
    for path in &assets {
        let name = {
            let file = path.trim_start_matches("assets/");
            let parts: Vec<&str> = file.split('.').collect();
            format!(
                "{}.{}",
                parts[..parts.len() - 2].join("."),
                parts[parts.len() - 1]
            )
        };
        let raw = ui_file(&name);
        let url = format!("/{path}");
        let (status, h, br) = fetch(
            gw.port,
            "GET",
            &url,
            &[("Accept-Encoding", "gzip, deflate, br")],
        );
        assert_eq!(status, 200, "{url}");
        assert_secured(&h, &url);
        assert_eq!(
            h.get("content-encoding").map(String::as_str),
            Some("br"),
            "{url}"
        );
        assert_eq!(
            h["cache-control"], "public, max-age=31536000, immutable",
            "{url}"
        );
        assert_eq!(h["vary"], "Accept-Encoding");
        assert_eq!(
            brotli_decode(&br),
            raw,
            "{url}: brotli body decodes to the file"
        );
        compressed += br.len();
        let (_, h, gz) = fetch(gw.port, "GET", &url, &[("Accept-Encoding", "gzip")]);
        assert_eq!(h.get("content-encoding").map(String::as_str), Some("gzip"));
        assert_eq!(
            gzip_decode(&gz),
            raw,
            "{url}: gzip body decodes to the file"
        );
        let (_, h, plain) = fetch(gw.port, "GET", &url, &[]);
        assert_eq!(
            (h.get("content-encoding"), plain),
            (None, raw.clone()),
            "{url}"
        );
        // Revalidation by ETag, and the plain name for tools that ask for it.
        let etag = h["etag"].clone();
        let (status, _, body) = fetch(gw.port, "GET", &url, &[("If-None-Match", &etag)]);
        assert_eq!((status, body.len()), (304, 0), "{url}");
        let (status, h, body) = fetch(gw.port, "GET", &format!("/assets/{name}"), &[]);
        assert_eq!(
            (status, h["cache-control"].as_str(), body),
            (200, "no-cache", raw),
            "{name}"
        );
    }
    assert!(
        compressed < 300 * 1024,
        "the UI is {compressed} bytes compressed"
    );
}

#[test]
fn app_routes_get_the_page_and_unknown_assets_other_methods_and_non_html_get_errors() {
    let gw = TestGateway::start();
    for route in ["/chat", "/devices", "/logs/deep/link", "/config?x=1"] {
        let (status, h, body) = fetch(gw.port, "GET", route, &[HTML]);
        assert_eq!(status, 200, "{route}");
        assert!(
            String::from_utf8_lossy(&body).contains("OpenClaw Control"),
            "{route}"
        );
        assert_secured(&h, route);
    }
    let (status, h, _) = fetch(gw.port, "GET", "/assets/missing.js", &[HTML]);
    assert_eq!(status, 404);
    assert_secured(&h, "missing asset");
    let (status, _, body) = fetch(
        gw.port,
        "GET",
        "/api/thing",
        &[("Accept", "application/json")],
    );
    assert_eq!(status, 404, "{}", String::from_utf8_lossy(&body));
    // Other methods are not the UI's: the plain 404 of a path nobody serves.
    let (status, _, body) = fetch(gw.port, "POST", "/chat", &[HTML, ("Content-Length", "0")]);
    assert_eq!(status, 404, "{}", String::from_utf8_lossy(&body));
    let (status, h, body) = fetch(gw.port, "HEAD", "/", &[HTML]);
    assert_eq!((status, body.len()), (200, 0));
    assert!(h.contains_key("content-security-policy"));
    // The probes and the WebSocket keep their paths.
    assert_eq!(http_get(gw.port, "/healthz").unwrap().0, 200);
    assert_eq!(http_get(gw.port, "/readyz").unwrap().0, 200);
}

#[tokio::test]
async fn the_websocket_still_upgrades_at_the_root() {
    let gw = TestGateway::start();
    let (_ws, hello) = connected_cli(gw.port).await;
    assert_eq!(hello["type"], "hello-ok");
}

#[test]
fn control_ui_config_needs_the_gateway_token_and_a_browser_origin_must_be_allowed() {
    let gw = TestGateway::start();
    let path = "/control-ui-config.json";
    let (status, h, _) = fetch(gw.port, "GET", path, &[]);
    assert_eq!(status, 401);
    assert_secured(&h, path);
    let (status, _, _) = fetch(
        gw.port,
        "GET",
        path,
        &[("Authorization", "Bearer wrong-token")],
    );
    assert_eq!(status, 401);
    let bearer = format!("Bearer {TOKEN}");
    let (status, _, body) = fetch(gw.port, "GET", path, &[("Authorization", &bearer)]);
    assert_eq!(status, 200);
    let config: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(config["basePath"], "/");
    assert_eq!(config["serverVersion"], env!("CARGO_PKG_VERSION"));
    assert!(config["assistantName"].is_string());
    // A page on another site cannot read it even with the token.
    let (status, _, _) = fetch(
        gw.port,
        "GET",
        path,
        &[
            ("Authorization", &bearer),
            ("Origin", "https://evil.example"),
        ],
    );
    assert_eq!(status, 403);
    let own = format!("http://127.0.0.1:{}", gw.port);
    let (status, _, _) = fetch(
        gw.port,
        "GET",
        path,
        &[("Authorization", &bearer), ("Origin", &own)],
    );
    assert_eq!(status, 200);
}

#[test]
fn a_base_path_moves_the_ui_and_leaves_the_probes_where_they_are() {
    let gw = TestGateway::start_with(
        GatewayOptions::default()
            .config(r#"{"gateway": {"controlUi": {"basePath": "/openclaw/"}}}"#),
    );
    let (status, h, _) = fetch(gw.port, "GET", "/openclaw", &[HTML]);
    assert_eq!((status, h["location"].as_str()), (308, "/openclaw/"));
    let (status, _, body) = fetch(gw.port, "GET", "/openclaw/chat", &[HTML]);
    assert_eq!(status, 200);
    let page = String::from_utf8(body).unwrap();
    assert!(page.contains("<base href=\"/openclaw/\">"), "{page}");
    let asset = hashed_assets(&page).into_iter().next().unwrap();
    assert_eq!(
        fetch(gw.port, "GET", &format!("/openclaw/{asset}"), &[]).0,
        200
    );
    assert_eq!(fetch(gw.port, "GET", "/", &[HTML]).0, 404);
    assert_eq!(fetch(gw.port, "GET", "/openclawx", &[HTML]).0, 404);
    assert_eq!(http_get(gw.port, "/healthz").unwrap().0, 200);
}

#[test]
fn switching_the_ui_off_and_on_applies_without_a_restart() {
    let gw = TestGateway::start_with(GatewayOptions::default().config("{}"));
    assert_eq!(fetch(gw.port, "GET", "/", &[HTML]).0, 200);
    let config = gw.state_dir().join("openclaw.json");
    let wait_for = |code: u16| {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let (status, _, body) = fetch(gw.port, "GET", "/chat", &[HTML]);
            if status == code {
                return body;
            }
            assert!(
                Instant::now() < deadline,
                "still {status}, expected {code}: {}",
                gw.stderr()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    std::fs::write(&config, r#"{"gateway": {"controlUi": {"enabled": false}}}"#).unwrap();
    let body = wait_for(404);
    assert!(String::from_utf8_lossy(&body).contains("not_found"));
    assert_eq!(http_get(gw.port, "/healthz").unwrap().0, 200);
    std::fs::write(&config, r#"{"gateway": {"controlUi": {"enabled": true}}}"#).unwrap();
    wait_for(200);
}
