//! `$include` expansion over an in-memory file set: the input is the root config and the
//! included files, separated by NUL bytes (part 0 is `openclaw.json`, part N is `fN.json5`, all
//! in `/fuzz`). Checks that expansion never panics, stays bounded, and that a successful
//! expansion leaves no `$include` behind.
#![no_main]

use std::path::{Path, PathBuf};

use libfuzzer_sys::fuzz_target;
use openclaw::config::{IncludeReader, ReadFailure, expand_includes, has_include};

struct Files(Vec<Vec<u8>>);

impl IncludeReader for Files {
    fn read(&self, path: &Path) -> Result<Vec<u8>, ReadFailure> {
        let index = path
            .strip_prefix("/fuzz")
            .ok()
            .and_then(|p| p.to_str())
            .and_then(|name| name.strip_prefix('f'))
            .and_then(|name| name.strip_suffix(".json5"))
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|&n| n >= 1 && n < self.0.len());
        match index {
            Some(n) => Ok(self.0[n].clone()),
            None => Err(ReadFailure::Io(std::io::ErrorKind::NotFound.into())),
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let parts: Vec<Vec<u8>> = data.split(|&b| b == 0).map(<[u8]>::to_vec).collect();
    let Ok(root_text) = std::str::from_utf8(&parts[0]) else {
        return;
    };
    let Ok(root) = json5::from_str::<serde_json::Value>(root_text) else {
        return;
    };
    let roots: [PathBuf; 0] = [];
    let expansion = expand_includes(
        &root,
        Path::new("/fuzz/openclaw.json"),
        &roots,
        &Files(parts),
    );
    if let Ok(document) = &expansion.document {
        assert!(!has_include(document), "an $include survived: {document}");
    }
});
