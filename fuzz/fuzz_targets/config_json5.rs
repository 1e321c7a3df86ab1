//! The config file front: JSON5 text → raw document → `$include` expansion (from disk: nothing
//! exists under `/fuzz`, so includes fail cleanly; `config_includes` fuzzes expansion itself) →
//! `${VAR}` substitution → typed config, with error positions (line:col) for whatever fails.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use openclaw::config::{ConfigError, parse_config_text};
use openclaw::environment::Environment;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let env = Environment::empty()
        .with("HOME", "/home/fuzz")
        .with("OPENCLAW_GATEWAY_TOKEN", "secret");
    match parse_config_text(Path::new("/fuzz/openclaw.json"), text, &env) {
        Ok(_) => {}
        Err(ConfigError::Syntax { line, column, .. }) => assert!(line >= 1 && column >= 1),
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
