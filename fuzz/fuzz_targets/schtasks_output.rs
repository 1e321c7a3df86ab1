//! What we read back from Windows Task Scheduler: the status script's JSON line and the task
//! XML `schtasks /Query /XML` prints.
#![no_main]

use libfuzzer_sys::fuzz_target;
use openclaw::service::windows::schtasks::parse_runtime;
use openclaw::service::windows::task_xml::parse_task_xml;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Some(runtime) = parse_runtime(&text) {
        let _ = runtime.is_running();
        let _ = runtime.is_missing();
    }
    let _ = parse_task_xml(&text);
});
