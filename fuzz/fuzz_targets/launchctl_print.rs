//! The `launchctl print gui/<uid>/<label>` output parser.
#![no_main]

use libfuzzer_sys::fuzz_target;
use openclaw::service::launchd::print_parser::parse_print;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let info = parse_print(&text);
    let _ = info.is_running();
    let _ = info.never_ran();
});
