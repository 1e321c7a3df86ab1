//! `${VAR}` substitution in config string values.
//!
//! Only upper-case names (`[A-Z_][A-Z0-9_]*`) are substituted; `$${VAR}` is an escape for the
//! literal text `${VAR}`; anything else (including `${lower}`) is left as written. A referenced
//! variable that is unset or empty is an error naming the variable and the config key, because a
//! silently empty token or path is worse than a refusal to start. Keys are never substituted.

use serde_json::Value;

use crate::environment::Environment;

/// A `${VAR}` reference to a variable that is not set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "missing env var {var} referenced at config key {key_path} (set it, or write $${{{var}}} for a literal)"
)]
pub struct MissingEnvVar {
    /// The variable name.
    pub var: String,
    /// The dotted config key holding the reference.
    pub key_path: String,
}

/// Returns `value` with every `${VAR}` in its string values replaced.
pub fn substitute_env(value: &Value, env: &Environment) -> Result<Value, MissingEnvVar> {
    let mut out = value.clone();
    substitute_in_place(&mut out, env, &mut Vec::new())?;
    Ok(out)
}

/// True when a string holds at least one substitutable `${VAR}` reference.
pub fn has_env_reference(text: &str) -> bool {
    let mut found = false;
    let _ = substitute_str(text, &mut |_| {
        found = true;
        Some(String::new())
    });
    found
}

fn substitute_in_place(
    value: &mut Value,
    env: &Environment,
    path: &mut Vec<String>,
) -> Result<(), MissingEnvVar> {
    match value {
        Value::String(text) => {
            let mut missing = None;
            let replaced = substitute_str(text, &mut |name| {
                let found = env.get(name).filter(|v| !v.is_empty()).map(str::to_owned);
                if found.is_none() && missing.is_none() {
                    missing = Some(name.to_owned());
                }
                found
            });
            if let Some(var) = missing {
                return Err(MissingEnvVar {
                    var,
                    key_path: path.join("."),
                });
            }
            *text = replaced;
        }
        Value::Array(items) => {
            for (index, item) in items.iter_mut().enumerate() {
                path.push(index.to_string());
                substitute_in_place(item, env, path)?;
                path.pop();
            }
        }
        Value::Object(map) => {
            for (key, item) in map.iter_mut() {
                path.push(key.clone());
                substitute_in_place(item, env, path)?;
                path.pop();
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
    Ok(())
}

fn is_var_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_uppercase() || c == '_')
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// Replaces references in `text`, asking `lookup` for each name; a `None` keeps the reference.
fn substitute_str(text: &str, lookup: &mut dyn FnMut(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('$') {
        out.push_str(&rest[..start]);
        let after = &rest[start..];
        // `$${VAR}` → literal `${VAR}`.
        if let Some(escaped) = after.strip_prefix("$${") {
            if let Some(end) = escaped.find('}') {
                if is_var_name(&escaped[..end]) {
                    out.push_str(&after[1..end + 4]);
                    rest = &escaped[end + 1..];
                    continue;
                }
            }
        }
        if let Some(body) = after.strip_prefix("${") {
            if let Some(end) = body.find('}') {
                let name = &body[..end];
                if is_var_name(name) {
                    match lookup(name) {
                        Some(v) => out.push_str(&v),
                        None => out.push_str(&after[..end + 3]),
                    }
                    rest = &body[end + 1..];
                    continue;
                }
            }
        }
        out.push('$');
        rest = &after[1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn env() -> Environment {
        Environment::empty()
            .with("TOKEN", "t0k")
            .with("PORT_2", "99")
            .with("EMPTY", "")
    }

    #[test]
    fn upper_case_references_are_replaced_in_nested_strings() {
        let v = json!({"gateway": {"auth": {"token": "${TOKEN}"}, "list": ["a-${PORT_2}-b", 5]}});
        let out = substitute_env(&v, &env()).unwrap();
        assert_eq!(
            out,
            json!({"gateway": {"auth": {"token": "t0k"}, "list": ["a-99-b", 5]}})
        );
    }

    #[test]
    fn lower_case_and_malformed_references_are_left_alone() {
        let v = json!([
            "${lower}",
            "${}",
            "${UNCLOSED",
            "$PLAIN",
            "cost: $5",
            "${A-B}"
        ]);
        assert_eq!(substitute_env(&v, &env()).unwrap(), v);
    }

    #[test]
    fn double_dollar_escapes_a_reference() {
        let v = json!({"a": "$${TOKEN} and ${TOKEN}", "b": "$${MISSING_ONE}"});
        let out = substitute_env(&v, &env()).unwrap();
        assert_eq!(out, json!({"a": "${TOKEN} and t0k", "b": "${MISSING_ONE}"}));
    }

    #[test]
    fn missing_or_empty_variables_name_the_variable_and_the_key() {
        let v = json!({"gateway": {"auth": {"password": "${NOPE}"}}});
        let err = substitute_env(&v, &env()).unwrap_err();
        assert_eq!(err.var, "NOPE");
        assert_eq!(err.key_path, "gateway.auth.password");
        let v = json!({"xs": ["ok", "${EMPTY}"]});
        let err = substitute_env(&v, &env()).unwrap_err();
        assert_eq!((err.var.as_str(), err.key_path.as_str()), ("EMPTY", "xs.1"));
    }

    #[test]
    fn keys_are_never_substituted() {
        let v = json!({"${TOKEN}": "x"});
        assert_eq!(substitute_env(&v, &env()).unwrap(), v);
    }

    #[test]
    fn detects_references() {
        assert!(has_env_reference("a ${TOKEN} b"));
        assert!(!has_env_reference("$${TOKEN}"));
        assert!(!has_env_reference("${lower}"));
    }
}
