//! The systemd unit file reader (drift check): sections, keys, `ExecStart=` word splitting,
//! `Environment=` lookups and the gateway facts drawn from a unit on disk.
#![no_main]

use std::path::PathBuf;

use libfuzzer_sys::fuzz_target;
use openclaw::service::plan::PlannedFile;
use openclaw::service::systemd::drift::{UnitFile, describe, gateway_facts, split_words};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let unit = UnitFile::parse(&text);
    let _ = unit.exec_start();
    let _ = unit.environment("OPENCLAW_GATEWAY_PORT");
    let _ = unit.last("Service", "ExecStart");
    let _ = gateway_facts(&unit);
    for line in text.lines() {
        let _ = split_words(line);
    }
    let planned = PlannedFile {
        path: PathBuf::from("/fuzz/openclaw-gateway.service"),
        mode: 0o644,
        contents: b"[Service]\nExecStart=/usr/bin/openclaw gateway --port 18789\n".to_vec(),
        secret: false,
        purpose: "fuzz".into(),
    };
    let _ = describe(&planned, Some(data), Some(0o644));
});
