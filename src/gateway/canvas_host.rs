//! The canvas host: static files from `<workspace>/canvas` (or `canvasHost.root`) served at
//! `http://<host>:<canvasPort>/__openclaw__/canvas/` (canvas port = gateway port + 4) and under
//! the same path on the gateway port. Paths are percent-decoded and confined to the root: `..`
//! segments, backslashes, NULs and symlinks leading outside the root are refused with 403;
//! dotfiles and dot-directories (`.env`, `.git/…`) do not exist for the web (404).
//! Directories serve their `index.html`. Off with `canvasHost.enabled: false` or
//! `OPENCLAW_SKIP_CANVAS_HOST=1`.
//!
//! Who may read: loopback peers at the plain path; any other peer (the gateway bound beyond
//! loopback) only under `/__openclaw__/cap/<capability>/…`, where the capability is a random
//! secret of this gateway process handed to authenticated connections in
//! `hello-ok.pluginSurfaceUrls.canvas`. A wrong capability is a 404.

use std::path::{Component, Path, PathBuf};

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header::HeaderValue;
use hyper::{Method, Request, Response, StatusCode};
use serde_json::json;

use super::http_routes::{json_response, method_not_allowed, not_found};
use crate::contract::secret::Secret;

/// URL prefix of canvas files.
pub const PREFIX: &str = "/__openclaw__/canvas";
/// URL prefix of capability URLs: `/__openclaw__/cap/<capability>/<canvas path>`.
pub const CAPABILITY_PREFIX: &str = "/__openclaw__/cap";

/// Where canvas files come from and which port serves them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CanvasSettings {
    /// The root folder.
    pub root: PathBuf,
    /// The dedicated canvas port (base + 4 unless configured).
    pub port: Option<u16>,
}

/// Why a request path was not mapped to a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathRefusal {
    /// The path would leave the root.
    Traversal,
    /// No such file.
    NotFound,
}

/// Maps the part of the URL path after [`PREFIX`] to a file under `root`.
pub fn resolve_file(root: &Path, url_rest: &str) -> Result<PathBuf, PathRefusal> {
    let decoded = percent_encoding::percent_decode_str(url_rest)
        .decode_utf8()
        .map_err(|_| PathRefusal::NotFound)?;
    if decoded.contains('\\') || decoded.contains('\0') {
        return Err(PathRefusal::Traversal);
    }
    let mut path = root.to_path_buf();
    for segment in decoded.split('/') {
        match segment {
            "" | "." => {}
            ".." => return Err(PathRefusal::Traversal),
            s if s.starts_with('.') => return Err(PathRefusal::NotFound),
            s if Path::new(s)
                .components()
                .any(|c| !matches!(c, Component::Normal(_))) =>
            {
                return Err(PathRefusal::Traversal);
            }
            s => path.push(s),
        }
    }
    let canonical_root = root.canonicalize().map_err(|_| PathRefusal::NotFound)?;
    let mut canonical = path.canonicalize().map_err(|_| PathRefusal::NotFound)?;
    if !canonical.starts_with(&canonical_root) {
        return Err(PathRefusal::Traversal);
    }
    if canonical.is_dir() {
        canonical = canonical
            .join("index.html")
            .canonicalize()
            .map_err(|_| PathRefusal::NotFound)?;
        if !canonical.starts_with(&canonical_root) {
            return Err(PathRefusal::Traversal);
        }
    }
    let hidden = canonical
        .strip_prefix(&canonical_root)
        .map_or(true, |inside| {
            inside
                .components()
                .any(|c| c.as_os_str().to_string_lossy().starts_with('.'))
        });
    if hidden {
        return Err(PathRefusal::NotFound);
    }
    if canonical.is_file() {
        Ok(canonical)
    } else {
        Err(PathRefusal::NotFound)
    }
}

/// The `Content-Type` of a file.
pub fn content_type(path: &Path) -> String {
    let mime = mime_guess::from_path(path).first_or_octet_stream();
    if mime.type_() == mime_guess::mime::TEXT
        || mime.subtype() == mime_guess::mime::JAVASCRIPT
        || mime.subtype() == mime_guess::mime::JSON
    {
        format!("{}; charset=utf-8", mime.essence_str())
    } else {
        mime.essence_str().to_owned()
    }
}

fn under(path: &str, prefix: &str) -> bool {
    path == prefix
        || path
            .strip_prefix(prefix)
            .is_some_and(|r| r.starts_with('/'))
}

/// True when `path` is a canvas path (plain or under a capability).
pub fn is_canvas_path(path: &str) -> bool {
    under(path, PREFIX) || under(path, CAPABILITY_PREFIX)
}

/// Who asks for a canvas file.
#[derive(Debug, Clone, Copy)]
pub struct CanvasAccess<'a> {
    /// This process's capability.
    pub capability: &'a Secret,
    /// The peer is on loopback.
    pub peer_is_loopback: bool,
}

/// Why a canvas URL was not opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessRefusal {
    /// A plain canvas path from a non-loopback peer.
    CapabilityRequired,
    /// A capability URL with a wrong capability.
    UnknownCapability,
}

/// The part of `path` naming a file under the root, if `access` may open it.
pub fn authorize<'p>(path: &'p str, access: CanvasAccess<'_>) -> Result<&'p str, AccessRefusal> {
    if let Some(after) = path.strip_prefix(CAPABILITY_PREFIX) {
        let after = after.strip_prefix('/').unwrap_or(after);
        let (presented, rest) = after.split_once('/').map_or((after, ""), |(c, r)| (c, r));
        if presented.is_empty() || !access.capability.matches(presented) {
            return Err(AccessRefusal::UnknownCapability);
        }
        return Ok(rest
            .strip_prefix(&PREFIX[1..])
            .filter(|r| r.is_empty() || r.starts_with('/'))
            .unwrap_or(rest));
    }
    if !access.peer_is_loopback {
        return Err(AccessRefusal::CapabilityRequired);
    }
    Ok(path.strip_prefix(PREFIX).unwrap_or(""))
}

/// Serves one canvas request.
pub async fn serve<B>(
    canvas: &CanvasSettings,
    request: &Request<B>,
    access: CanvasAccess<'_>,
) -> Response<Full<Bytes>> {
    if !matches!(*request.method(), Method::GET | Method::HEAD) {
        return method_not_allowed();
    }
    let rest = match authorize(request.uri().path(), access) {
        Ok(rest) => rest,
        Err(AccessRefusal::UnknownCapability) => return not_found(false),
        Err(AccessRefusal::CapabilityRequired) => {
            return json_response(
                StatusCode::FORBIDDEN,
                &json!({"ok": false, "error": {"type": "forbidden", "message": "canvas documents reach other hosts only through the capability URL that connected clients receive in hello-ok.pluginSurfaceUrls.canvas"}}),
                false,
            );
        }
    };
    let file = match resolve_file(&canvas.root, rest) {
        Ok(file) => file,
        Err(PathRefusal::Traversal) => {
            return json_response(
                StatusCode::FORBIDDEN,
                &json!({"ok": false, "error": {"type": "forbidden", "message": "path leaves the canvas root"}}),
                false,
            );
        }
        Err(PathRefusal::NotFound) => {
            return not_found(false);
        }
    };
    match tokio::fs::read(&file).await {
        Ok(bytes) => {
            let head = request.method() == Method::HEAD;
            let length = bytes.len();
            let mut response = Response::new(Full::new(if head {
                Bytes::new()
            } else {
                Bytes::from(bytes)
            }));
            let headers = response.headers_mut();
            if let Ok(v) = HeaderValue::from_str(&content_type(&file)) {
                headers.insert(hyper::header::CONTENT_TYPE, v);
            }
            if head {
                headers.insert(hyper::header::CONTENT_LENGTH, HeaderValue::from(length));
            }
            headers.insert(
                hyper::header::CACHE_CONTROL,
                HeaderValue::from_static("no-cache"),
            );
            headers.insert(
                hyper::header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            );
            response
        }
        Err(e) => json_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            &json!({"ok": false, "error": {"type": "read_failed", "message": e.to_string()}}),
            false,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("canvas/sub")).unwrap();
        std::fs::write(dir.path().join("canvas/index.html"), "<h1>hi</h1>").unwrap();
        std::fs::write(dir.path().join("canvas/sub/app.js"), "x").unwrap();
        std::fs::write(dir.path().join("canvas/a b.txt"), "x").unwrap();
        std::fs::write(dir.path().join("secret.txt"), "no").unwrap();
        dir
    }

    #[test]
    fn files_and_directory_indexes_resolve_under_the_root() {
        let dir = root();
        let canvas = dir.path().join("canvas");
        let real = canvas.canonicalize().unwrap();
        assert_eq!(resolve_file(&canvas, "/"), Ok(real.join("index.html")));
        assert_eq!(resolve_file(&canvas, ""), Ok(real.join("index.html")));
        assert_eq!(
            resolve_file(&canvas, "/sub/app.js"),
            Ok(real.join("sub/app.js"))
        );
        assert_eq!(
            resolve_file(&canvas, "/a%20b.txt"),
            Ok(real.join("a b.txt"))
        );
        assert_eq!(
            resolve_file(&canvas, "/sub/"),
            Err(PathRefusal::NotFound),
            "no index.html in sub/"
        );
        assert_eq!(
            resolve_file(&canvas, "/missing.js"),
            Err(PathRefusal::NotFound)
        );
    }

    #[test]
    fn traversal_in_any_spelling_is_refused() {
        let dir = root();
        let canvas = dir.path().join("canvas");
        for attack in [
            "/../secret.txt",
            "/sub/../../secret.txt",
            "/%2e%2e/secret.txt",
            "/..%2fsecret.txt",
            "/sub\\..\\..\\secret.txt",
            "/%5c..%5csecret.txt",
            "/x%00.js",
        ] {
            assert_eq!(
                resolve_file(&canvas, attack),
                Err(PathRefusal::Traversal),
                "{attack}"
            );
        }
    }

    #[test]
    fn dotfiles_and_dot_directories_do_not_exist_for_the_web() {
        let dir = root();
        let canvas = dir.path().join("canvas");
        std::fs::write(canvas.join(".env"), "API_KEY=x").unwrap();
        std::fs::create_dir_all(canvas.join(".git")).unwrap();
        std::fs::write(canvas.join(".git/config"), "x").unwrap();
        std::os::unix::fs::symlink(canvas.join(".env"), canvas.join("env.txt")).unwrap();
        for path in [
            "/.env",
            "/%2eenv",
            "/.git/config",
            "/sub/../.env",
            "/env.txt",
        ] {
            assert_ne!(
                resolve_file(&canvas, path).ok(),
                Some(canvas.join(".env")),
                "{path}"
            );
            assert!(resolve_file(&canvas, path).is_err(), "{path}");
        }
        assert_eq!(resolve_file(&canvas, "/.env"), Err(PathRefusal::NotFound));
    }

    #[test]
    fn other_hosts_need_the_capability_and_a_wrong_one_is_unknown() {
        let capability = Secret::new("cap123");
        let remote = CanvasAccess {
            capability: &capability,
            peer_is_loopback: false,
        };
        let local = CanvasAccess {
            peer_is_loopback: true,
            ..remote
        };
        assert_eq!(
            authorize("/__openclaw__/canvas/index.html", local),
            Ok("/index.html")
        );
        assert_eq!(
            authorize("/__openclaw__/canvas/index.html", remote),
            Err(AccessRefusal::CapabilityRequired)
        );
        assert_eq!(
            authorize("/__openclaw__/cap/cap123/__openclaw__/canvas/a.js", remote),
            Ok("/a.js")
        );
        assert_eq!(
            authorize("/__openclaw__/cap/cap123/a.js", remote),
            Ok("a.js")
        );
        assert_eq!(authorize("/__openclaw__/cap/cap123", remote), Ok(""));
        for wrong in [
            "/__openclaw__/cap/cap12/a.js",
            "/__openclaw__/cap/",
            "/__openclaw__/cap",
        ] {
            assert_eq!(
                authorize(wrong, local),
                Err(AccessRefusal::UnknownCapability),
                "{wrong}"
            );
        }
    }

    #[test]
    fn symlinks_out_of_the_root_are_refused() {
        let dir = root();
        let canvas = dir.path().join("canvas");
        std::os::unix::fs::symlink(dir.path().join("secret.txt"), canvas.join("link.txt")).unwrap();
        assert_eq!(
            resolve_file(&canvas, "/link.txt"),
            Err(PathRefusal::Traversal)
        );
    }

    #[test]
    fn content_types_follow_the_extension() {
        assert_eq!(
            content_type(Path::new("a.html")),
            "text/html; charset=utf-8"
        );
        assert_eq!(
            content_type(Path::new("a.js")),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(content_type(Path::new("a.css")), "text/css; charset=utf-8");
        assert_eq!(content_type(Path::new("a.png")), "image/png");
        assert_eq!(content_type(Path::new("a.wasm")), "application/wasm");
        assert_eq!(content_type(Path::new("noext")), "application/octet-stream");
    }
}
