//! The Control UI as a browser loads it, both gateways: `GET /` as a navigation, then every
//! same-origin file the page names (`src`, `href`, and the import map's targets), each asked
//! with `Accept-Encoding: br, gzip`. Bytes are counted as they arrive (reqwest here does not
//! decompress), so the total is what crosses the wire. Only the files the page names directly
//! are counted: modules a bundle imports later (the reference's chunks) are not. Then the
//! first contentful paint in headless Chromium (`bench/ui_paint.py`, the Performance API).

use crate::{MetricDef, RunResult, Unit};

fn is_file_path(s: &str) -> bool {
    (s.starts_with('/') || s.starts_with("./") || s.starts_with("assets/"))
        && !s.starts_with("//")
        && s.rsplit_once('.').is_some_and(|(_, ext)| {
            matches!(
                ext,
                "js" | "mjs" | "css" | "svg" | "png" | "ico" | "json" | "webmanifest" | "woff2"
            )
        })
}

/// Same-origin paths the page names: quoted values that start with `/`, `./` or `assets/`
/// and end in a file extension (scripts, styles, icons, manifests). Of an import map only the
/// targets count (its keys are names the browser never fetches).
fn named_files(page: &str) -> Vec<String> {
    let mut rest = page.to_owned();
    let mut named: Vec<String> = Vec::new();
    if let Some(start) = page.find("<script type=\"importmap\">") {
        let body = &page[start + "<script type=\"importmap\">".len()..];
        if let Some(end) = body.find("</script>") {
            if let Ok(map) = serde_json::from_str::<serde_json::Value>(&body[..end]) {
                if let Some(imports) = map.get("imports").and_then(|v| v.as_object()) {
                    named.extend(
                        imports
                            .values()
                            .filter_map(|v| v.as_str())
                            .map(str::to_owned),
                    );
                }
            }
            rest = format!("{}{}", &page[..start], &body[end..]);
        }
    }
    named.extend(rest.split(['"', '\'']).map(str::to_owned));
    let mut out: Vec<String> = named
        .iter()
        .filter(|s| is_file_path(s))
        .map(|s| format!("/{}", s.trim_start_matches("./").trim_start_matches('/')))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The body as sent, decoded for reading (`br` or `gzip`).
fn decoded(body: &[u8], encoding: Option<&str>) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    match encoding {
        Some("br") => {
            let _ = brotli::BrotliDecompress(&mut &body[..], &mut out);
        }
        Some("gzip") => {
            let _ = flate2::read::GzDecoder::new(body).read_to_end(&mut out);
        }
        _ => out.extend_from_slice(body),
    }
    out
}

pub fn bench_paint(port: u16, r: &mut RunResult) {
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache")
        });
    let dir = std::env::var_os("OPENCLAW_TEST_PYTHON_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| cache.join("openclaw/python"));
    let Ok(interpreter) = std::fs::read_to_string(dir.join("interpreter")) else {
        r.note(format!(
            "Control UI first paint not measured: no Selenium in {} (run `bash tests/setup.sh`)",
            dir.display()
        ));
        return;
    };
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/bench/ui_paint.py");
    let url = format!("http://127.0.0.1:{port}/#token={}", crate::TOKEN);
    let out = std::process::Command::new(interpreter.trim())
        .args([script, &url, "6"])
        .env("PYTHONPATH", dir.join("site"))
        .output();
    let times: Option<Vec<Option<f64>>> = out
        .as_ref()
        .ok()
        .and_then(|o| serde_json::from_slice(&o.stdout).ok());
    match times {
        Some(times) if times.iter().all(Option::is_some) && times.len() > 1 => {
            let times: Vec<f64> = times.into_iter().flatten().collect();
            r.set("ui_first_paint_cold_ms", times[0]);
            let mut warm = times[1..].to_vec();
            warm.sort_by(f64::total_cmp);
            r.set("ui_first_paint_ms", warm[warm.len() / 2]);
        }
        _ => r.note(format!(
            "Control UI first paint not measured: {}",
            match &out {
                Ok(o) => String::from_utf8_lossy(&o.stderr)
                    .lines()
                    .last()
                    .unwrap_or("no output")
                    .to_owned(),
                Err(e) => e.to_string(),
            }
        )),
    }
}

pub async fn bench_ui(port: u16, r: &mut RunResult) {
    let client = reqwest::Client::new();
    let page = match client
        .get(format!("http://127.0.0.1:{port}/"))
        .header("accept", "text/html,*/*;q=0.8")
        .header("accept-encoding", "br, gzip")
        .send()
        .await
    {
        Ok(resp) if resp.status().is_success() => {
            let encoding = resp
                .headers()
                .get("content-encoding")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let bytes = resp.bytes().await.unwrap_or_default();
            (bytes, encoding)
        }
        Ok(resp) => {
            r.note(format!("Control UI: GET / answered {}", resp.status()));
            return;
        }
        Err(e) => {
            r.note(format!("Control UI: GET / failed: {e}"));
            return;
        }
    };
    let (page, encoding) = page;
    let text = String::from_utf8_lossy(&decoded(&page, encoding.as_deref())).into_owned();
    let files = named_files(&text);
    let mut total = page.len();
    let mut raw_total = text.len();
    for path in &files {
        match client
            .get(format!("http://127.0.0.1:{port}{path}"))
            .header("accept-encoding", "br, gzip")
            .send()
            .await
        {
            Ok(resp) if resp.status().is_success() => {
                total += resp.bytes().await.map_or(0, |b| b.len())
            }
            Ok(resp) => r.note(format!("Control UI: {path} answered {}", resp.status())),
            Err(e) => r.note(format!("Control UI: {path} failed: {e}")),
        }
        if let Ok(resp) = client
            .get(format!("http://127.0.0.1:{port}{path}"))
            .send()
            .await
        {
            raw_total += resp.bytes().await.map_or(0, |b| b.len());
        }
    }
    r.set("ui_compressed_kb", total as f64 / 1024.0);
    r.set("ui_raw_kb", raw_total as f64 / 1024.0);
    r.set("ui_files", (files.len() + 1) as f64);
}

pub fn metric_group() -> (String, Vec<MetricDef>) {
    let m = |key: &str, label: &str, unit| MetricDef {
        key: key.into(),
        label: label.into(),
        unit,
    };
    (
        "Control UI (the page and the files it names, as a browser fetches them)".into(),
        vec![
            m(
                "ui_compressed_kb",
                "bytes on the wire with br/gzip (KiB)",
                Unit::Kib,
            ),
            m("ui_raw_kb", "the same files uncompressed (KiB)", Unit::Kib),
            m(
                "ui_files",
                "files: the page + the files it names",
                Unit::Count,
            ),
            m(
                "ui_first_paint_cold_ms",
                "first contentful paint in headless Chromium, empty cache (navigated from about:blank: a new renderer process, as a link opened from a terminal)",
                Unit::Ms,
            ),
            m(
                "ui_first_paint_ms",
                "the same with the browser's HTTP cache, median of the next 5 loads",
                Unit::Ms,
            ),
        ],
    )
}

/// The size target: (label, metric key, limit, unit).
pub fn targets() -> Vec<(String, String, f64, Unit)> {
    vec![
        (
            "Control UI compressed < 300 KB (293 KiB)".to_owned(),
            "ui_compressed_kb".to_owned(),
            293.0,
            Unit::Kib,
        ),
        (
            "Control UI first paint on loopback < 200 ms (empty cache)".to_owned(),
            "ui_first_paint_cold_ms".to_owned(),
            200.0,
            Unit::Ms,
        ),
    ]
}
