//! The Control UI as a browser loads it, both gateways: `GET /` as a navigation, then every
//! same-origin file the page names (`src`, `href`, and the import map's targets), each asked
//! with `Accept-Encoding: br, gzip`. Bytes are counted as they arrive (reqwest here does not
//! decompress), so the total is what crosses the wire. Only the files the page names directly
//! are counted: modules a bundle imports later (the reference's chunks) are not.

use crate::{MetricDef, RunResult, Unit};

/// Same-origin paths the page names: quoted values that start with `/`, `./` or `assets/`
/// and end in a file extension (scripts, styles, icons, manifests).
fn named_files(page: &str) -> Vec<String> {
    let mut out: Vec<String> = page
        .split(['"', '\''])
        .filter(|s| {
            (s.starts_with('/') || s.starts_with("./") || s.starts_with("assets/"))
                && !s.starts_with("//")
                && s.rsplit_once('.').is_some_and(|(_, ext)| {
                    matches!(
                        ext,
                        "js" | "mjs"
                            | "css"
                            | "svg"
                            | "png"
                            | "ico"
                            | "json"
                            | "webmanifest"
                            | "woff2"
                    )
                })
        })
        .map(|s| format!("/{}", s.trim_start_matches("./").trim_start_matches('/')))
        .collect();
    out.sort();
    out.dedup();
    out
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
            let encoded = resp.headers().get("content-encoding").is_some();
            let bytes = resp.bytes().await.unwrap_or_default();
            (bytes, encoded)
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
    let (page, encoded) = page;
    if encoded {
        r.note("Control UI: the page itself came compressed; its file list is not read".into());
        r.set("ui_compressed_kb", page.len() as f64 / 1024.0);
        return;
    }
    let text = String::from_utf8_lossy(&page).into_owned();
    let files = named_files(&text);
    let mut total = page.len();
    let mut raw_total = page.len();
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
        ],
    )
}

/// The size target: (label, metric key, limit, unit).
pub fn targets() -> Vec<(String, String, f64, Unit)> {
    vec![(
        "Control UI compressed < 300 KB".to_owned(),
        "ui_compressed_kb".to_owned(),
        293.0,
        Unit::Kib,
    )]
}
