//! Inbound frame parsing + schema validation, as the request loop does it for every frame
//! after `connect`: JSON → frame schema → typed frame → the method's params schema.
#![no_main]

use libfuzzer_sys::fuzz_target;
use openclaw::protocol::frames::Frame;
use openclaw::protocol::schema_validation::Validators;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let validators = Validators::get();
    let frame_ok = validators.check_frame(&value).is_ok();
    let _ = validators.check_connect(&value);
    if let Some(method) = value.get("method").and_then(Value::as_str) {
        let params = value.get("params").cloned().unwrap_or(Value::Null);
        let _ = validators.has_method(method);
        let _ = validators.check_method(method, &params);
    }
    if frame_ok && let Ok(Frame::Request(request)) = serde_json::from_value::<Frame>(value) {
        let params = request.params.unwrap_or(Value::Null);
        let _ = validators.check_method(&request.method, &params);
    }
});
