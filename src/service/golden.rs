//! Golden-file comparison for rendered service files (tests only).
//!
//! Goldens live in `tests/golden/<name>`. The crate version is written as `@VERSION@` so a
//! release does not touch them. `UPDATE_GOLDENS=1 cargo test …` rewrites them from the current
//! rendering; review the diff before committing.

use std::path::PathBuf;

/// Compares `rendered` with `tests/golden/<name>` (or rewrites it under `UPDATE_GOLDENS=1`).
pub fn assert_golden(name: &str, rendered: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    let normalised = rendered.replace(env!("CARGO_PKG_VERSION"), "@VERSION@");
    if std::env::var_os("UPDATE_GOLDENS").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().expect("golden dir")).expect("create golden dir");
        std::fs::write(&path, &normalised).expect("write golden");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; create it with UPDATE_GOLDENS=1 cargo test",
            path.display()
        )
    });
    assert!(
        expected == normalised,
        "{} differs from the rendering; if the change is intended, regenerate with UPDATE_GOLDENS=1 cargo test and review the diff\n--- expected\n{expected}\n--- rendered\n{normalised}",
        path.display()
    );
}
