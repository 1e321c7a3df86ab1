//! The Control UI (web-and-channels.md §1.1): the embedded single-page app under
//! `gateway.controlUi.basePath` (default `/`), on or off with `gateway.controlUi.enabled`
//! (hot-applied; off → the plain JSON 404). Assets come from the binary with brotli or gzip when
//! the browser takes it, hashed names cached for a year, the rest revalidated by ETag; the
//! base path itself and other GETs that ask for HTML get `index.html` (the app routes them). `control-ui-config.json` needs
//! the gateway's HTTP auth. Every answer carries a strict CSP and the anti-framing headers.

mod assets;
mod encoding;

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::header::{
    ACCEPT, ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, ETAG, HeaderMap,
    HeaderValue, IF_NONE_MATCH, VARY,
};
use hyper::{Request, Response, StatusCode};
use serde_json::json;

use self::encoding::{Encoding, preferred, weighted};
use super::http_api::{self, HttpBody};
use super::state::GatewayState;
use crate::config::Config;

pub use self::assets::compressed_total;

/// The served UI: where, whether, and the page.
#[derive(Debug)]
pub struct ControlUi {
    enabled: AtomicBool,
    /// `""` for `/`, else `/openclaw` (no trailing slash).
    base: String,
    /// `index.html` with `<base href>` filled in.
    index: Bytes,
    csp: HeaderValue,
}

/// Paths the gateway answers itself whatever the base path.
const PROBES: [&str; 4] = ["/health", "/healthz", "/ready", "/readyz"];

impl ControlUi {
    /// The UI of `config` (`basePath` is read once: changing it needs a restart).
    pub fn from_config(config: &Config) -> Self {
        let base = config.control_ui_base_path().unwrap_or_else(|problem| {
            tracing::error!("{problem}; serving the Control UI at / until it is fixed");
            String::new()
        });
        let index = assets::INDEX_HTML.replace("{{base}}", &format!("{base}/"));
        let csp = format!(
            "default-src 'none'; script-src 'self' {}; style-src 'self'; img-src 'self' data:; \
             font-src 'self'; connect-src 'self'; manifest-src 'self'; base-uri 'self'; \
             form-action 'none'; frame-ancestors 'none'",
            assets::IMPORT_MAP_CSP_HASH
        );
        let ui = Self {
            enabled: AtomicBool::new(true),
            base,
            index: Bytes::from(index),
            csp: HeaderValue::from_str(&csp)
                .unwrap_or(HeaderValue::from_static("default-src 'none'")),
        };
        ui.apply(config);
        ui
    }

    /// Applies the hot part of `config`: `enabled`.
    pub fn apply(&self, config: &Config) {
        self.enabled
            .store(config.control_ui_enabled(), Ordering::Relaxed);
    }

    /// The base path (`""` for the root).
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Whether a GET or HEAD for `path` (not a WebSocket upgrade) is the UI's; other methods
    /// go on to the plain routes (a JSON 404).
    pub fn owns(&self, path: &str) -> bool {
        self.enabled.load(Ordering::Relaxed)
            && !PROBES.contains(&path)
            && (self.base.is_empty()
                || path == self.base
                || path
                    .strip_prefix(self.base.as_str())
                    .is_some_and(|rest| rest.starts_with('/')))
    }

    /// Answers a request [`owns`](Self::owns) accepted.
    pub async fn serve<B>(
        request: Request<B>,
        ip: IpAddr,
        state: Arc<GatewayState>,
    ) -> Response<HttpBody> {
        let ui = &state.control_ui;
        let path = request.uri().path();
        if path == ui.base {
            // `/openclaw` → `/openclaw/`, so relative URLs resolve under the base.
            let mut r = plain(StatusCode::PERMANENT_REDIRECT, "");
            if let Ok(v) = HeaderValue::from_str(&format!("{}/", ui.base)) {
                r.headers_mut().insert(hyper::header::LOCATION, v);
            }
            return ui.secured(r);
        }
        let rel = path[ui.base.len()..].trim_start_matches('/');
        let response = if rel == "control-ui-config.json" {
            match http_api::gate(&request, &state, ip).await {
                Err(refused) => refused,
                Ok(()) => http_api::json(
                    StatusCode::OK,
                    &json!({
                        "basePath": if ui.base.is_empty() { "/" } else { ui.base.as_str() },
                        "assistantName": state.settings.config.assistant_name(),
                        "serverVersion": state.settings.version,
                    }),
                ),
            }
        } else if let Some(name) = rel.strip_prefix("assets/") {
            ui.asset(name, request.headers())
        } else if rel.is_empty() || accepts_html(request.headers()) {
            // The UI's own address is the page for every client; deeper paths for browsers.
            ui.page()
        } else {
            // The plain routes' JSON 404, as for any path nobody serves.
            super::http_routes::not_found(false).map(BodyExt::boxed_unsync)
        };
        // HEAD: hyper sends the head only, with the length of the body a GET would get.
        ui.secured(response)
    }

    fn page(&self) -> Response<HttpBody> {
        let mut r = Response::new(Full::new(self.index.clone()).boxed_unsync());
        let h = r.headers_mut();
        h.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        h.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        r
    }

    fn asset(&self, name: &str, headers: &HeaderMap) -> Response<HttpBody> {
        let Some((asset, immutable)) = assets::find(name) else {
            return plain(StatusCode::NOT_FOUND, "Not Found");
        };
        let cache = if immutable {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        };
        let matches = headers
            .get_all(IF_NONE_MATCH)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|tag| {
                let tag = tag.trim();
                tag == "*" || tag.trim_start_matches("W/") == asset.etag
            });
        let (status, body, encoding) = if matches {
            (StatusCode::NOT_MODIFIED, &[][..], None)
        } else {
            match preferred(headers.get(ACCEPT_ENCODING)) {
                Encoding::Brotli => (StatusCode::OK, asset.brotli, Some("br")),
                Encoding::Gzip => (StatusCode::OK, asset.gzip, Some("gzip")),
                Encoding::Identity => (StatusCode::OK, asset.raw, None),
            }
        };
        let mut r = Response::new(Full::new(Bytes::from_static(body)).boxed_unsync());
        *r.status_mut() = status;
        let h = r.headers_mut();
        h.insert(CONTENT_TYPE, HeaderValue::from_static(asset.mime));
        h.insert(CACHE_CONTROL, HeaderValue::from_static(cache));
        h.insert(ETAG, HeaderValue::from_static(asset.etag));
        h.insert(VARY, HeaderValue::from_static("Accept-Encoding"));
        if let Some(e) = encoding {
            h.insert(CONTENT_ENCODING, HeaderValue::from_static(e));
        }
        r
    }

    /// The headers every UI answer carries.
    fn secured(&self, mut response: Response<HttpBody>) -> Response<HttpBody> {
        let h = response.headers_mut();
        h.insert("content-security-policy", self.csp.clone());
        h.insert("x-frame-options", HeaderValue::from_static("DENY"));
        h.insert(
            "x-content-type-options",
            HeaderValue::from_static("nosniff"),
        );
        h.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
        h.insert(
            "cross-origin-opener-policy",
            HeaderValue::from_static("same-origin"),
        );
        h.insert(
            "cross-origin-resource-policy",
            HeaderValue::from_static("same-origin"),
        );
        response
    }
}

/// Whether the client asks for HTML by name, as a browser navigation does (`*/*` alone, as
/// curl and API clients send, is not enough: they get the JSON 404 of a missing path).
fn accepts_html(headers: &HeaderMap) -> bool {
    headers
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| {
            weighted(accept)
                .any(|(kind, q)| q != 0.0 && matches!(kind, "text/html" | "application/xhtml+xml"))
        })
}

fn plain(status: StatusCode, text: &'static str) -> Response<HttpBody> {
    let mut r = Response::new(Full::new(Bytes::from_static(text.as_bytes())).boxed_unsync());
    *r.status_mut() = status;
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}
