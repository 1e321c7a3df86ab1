//! JSON-Schema validation of inbound frames and method params.
//!
//! The schemas are the files in `schemas/protocol/` (embedded at build time). Validators are
//! compiled once per process ([`Validators::get`]). Failures are rendered the way the reference
//! gateway renders them (AJV wording), e.g. `must have required property 'maxProtocol'`, with the
//! instance path for nested values (`at /client: must have required property 'id'`).

use std::collections::HashMap;
use std::sync::OnceLock;

use jsonschema::Validator;
use jsonschema::error::{TypeKind, ValidationErrorKind};
use serde_json::Value;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded_schemas.rs"));
}

pub use embedded::{METHOD_PARAM_SCHEMAS, PROTOCOL_SCHEMAS};

/// The compiled validators.
pub struct Validators {
    frame: Validator,
    connect: Validator,
    methods: HashMap<&'static str, Validator>,
}

fn compile(name: &str, text: &str) -> Validator {
    let schema: Value = serde_json::from_str(text)
        .unwrap_or_else(|e| panic!("embedded schema {name} is not JSON: {e}"));
    jsonschema::draft202012::new(&schema)
        .unwrap_or_else(|e| panic!("embedded schema {name} does not compile: {e}"))
}

fn protocol_schema(name: &str) -> &'static str {
    PROTOCOL_SCHEMAS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, text)| *text)
        .unwrap_or_else(|| panic!("schemas/protocol/{name}.schema.json is missing"))
}

impl Validators {
    /// The process-wide validators, compiled on first use.
    pub fn get() -> &'static Validators {
        static VALIDATORS: OnceLock<Validators> = OnceLock::new();
        VALIDATORS.get_or_init(|| Validators {
            frame: compile("frame", protocol_schema("frame")),
            connect: compile("connect-params", protocol_schema("connect-params")),
            methods: METHOD_PARAM_SCHEMAS
                .iter()
                .map(|(name, text)| (*name, compile(name, text)))
                .collect(),
        })
    }

    /// Validates a whole inbound frame.
    pub fn check_frame(&self, frame: &Value) -> Result<(), String> {
        first_error(&self.frame, frame)
    }

    /// Validates `connect` params.
    pub fn check_connect(&self, params: &Value) -> Result<(), String> {
        first_error(&self.connect, params)
    }

    /// Validates the params of `method`; `None` when no schema exists for it.
    pub fn check_method(&self, method: &str, params: &Value) -> Option<Result<(), String>> {
        self.methods.get(method).map(|v| first_error(v, params))
    }

    /// True when a params schema exists for `method`.
    pub fn has_method(&self, method: &str) -> bool {
        self.methods.contains_key(method)
    }
}

fn first_error(validator: &Validator, instance: &Value) -> Result<(), String> {
    let mut errors = validator.iter_errors(instance);
    match errors.next() {
        None => Ok(()),
        Some(err) => {
            let message = ajv_message(err.kind());
            let path = err.instance_path().to_string();
            Err(if path.is_empty() {
                message
            } else {
                format!("at {path}: {message}")
            })
        }
    }
}

fn type_name(kind: &TypeKind) -> String {
    match kind {
        TypeKind::Single(t) => t.to_string(),
        TypeKind::Multiple(set) => set
            .iter()
            .map(|t| t.to_string())
            .collect::<Vec<_>>()
            .join(","),
    }
}

/// AJV's wording for one validation failure.
pub fn ajv_message(kind: &ValidationErrorKind) -> String {
    use ValidationErrorKind as K;
    match kind {
        K::Required { property } => {
            format!(
                "must have required property '{}'",
                property
                    .as_str()
                    .map_or_else(|| property.to_string(), str::to_owned)
            )
        }
        K::AdditionalProperties { unexpected } => {
            format!(
                "must NOT have additional properties ({})",
                unexpected.join(", ")
            )
        }
        K::Type { kind } => format!("must be {}", type_name(kind)),
        K::Minimum { limit } => format!("must be >= {limit}"),
        K::Maximum { limit } => format!("must be <= {limit}"),
        K::ExclusiveMinimum { limit } => format!("must be > {limit}"),
        K::ExclusiveMaximum { limit } => format!("must be < {limit}"),
        K::MinLength { limit } => format!("must NOT have fewer than {limit} characters"),
        K::MaxLength { limit } => format!("must NOT have more than {limit} characters"),
        K::MinItems { limit } => format!("must NOT have fewer than {limit} items"),
        K::MaxItems { limit } => format!("must NOT have more than {limit} items"),
        K::Enum { .. } => "must be equal to one of the allowed values".to_owned(),
        K::Constant { expected_value } => format!("must be equal to constant {expected_value}"),
        K::OneOfNotValid { .. } | K::OneOfMultipleValid { .. } => {
            "must match exactly one schema in oneOf".to_owned()
        }
        K::AnyOf { .. } => "must match a schema in anyOf".to_owned(),
        K::Pattern { pattern } => format!("must match pattern \"{pattern}\""),
        K::Format { format } => format!("must match format \"{format}\""),
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_embedded_schema_compiles() {
        let v = Validators::get();
        assert!(v.has_method("health"));
        assert!(v.has_method("logs.tail"));
        assert!(METHOD_PARAM_SCHEMAS.len() >= 28);
    }

    #[test]
    fn connect_errors_use_the_reference_wording() {
        let v = Validators::get();
        assert_eq!(
            v.check_connect(&json!({"minProtocol": 4})).unwrap_err(),
            "must have required property 'maxProtocol'"
        );
        let nested = v.check_connect(&json!({"minProtocol": 4, "maxProtocol": 4, "client": {"version": "1", "platform": "x", "mode": "cli"}}));
        assert_eq!(
            nested.unwrap_err(),
            "at /client: must have required property 'id'"
        );
    }

    #[test]
    fn connect_params_are_lenient_about_unknown_keys() {
        let v = Validators::get();
        let params = json!({"minProtocol": 3, "maxProtocol": 4, "client": {"id": "cli", "version": "1", "platform": "linux", "mode": "cli", "future": 1}, "newThing": true});
        assert_eq!(v.check_connect(&params), Ok(()));
    }

    #[test]
    fn method_params_are_closed_and_bounded() {
        let v = Validators::get();
        assert_eq!(
            v.check_method("logs.tail", &json!({"limit": 10})),
            Some(Ok(()))
        );
        assert_eq!(
            v.check_method("logs.tail", &json!({"limit": 0})),
            Some(Err("at /limit: must be >= 1".to_owned()))
        );
        assert!(
            v.check_method("health", &json!({"bogus": 1}))
                .unwrap()
                .unwrap_err()
                .starts_with("must NOT have additional properties")
        );
        assert_eq!(
            v.check_method("set-heartbeats", &json!({})),
            Some(Err("must have required property 'enabled'".to_owned()))
        );
        assert_eq!(v.check_method("no.such.method", &json!({})), None);
    }

    #[test]
    fn frames_are_checked_against_the_envelope() {
        let v = Validators::get();
        assert_eq!(
            v.check_frame(&json!({"type": "req", "id": "1", "method": "health"})),
            Ok(())
        );
        assert!(
            v.check_frame(&json!({"type": "req", "id": "", "method": "health"}))
                .is_err()
        );
        assert!(v.check_frame(&json!({"hello": "world"})).is_err());
    }
}
