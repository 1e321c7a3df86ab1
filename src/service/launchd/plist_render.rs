//! Rendering the LaunchAgent plist from the repo template `launchd/bot.molt.gateway.plist`.
//!
//! The template is parsed with the `plist` crate; each `@NAME@` placeholder value is replaced by a
//! typed [`plist::Value`] at its key (key order kept), and the result is written with the same
//! crate. No value is ever escaped by hand, and a template whose placeholders do not match the
//! renderer's is an error rather than a plist with a stray `@LABEL@`.

use std::collections::BTreeMap;

use plist::{Dictionary, Value};

use crate::service::ServiceError;
use crate::service::templates::LAUNCHD_PLIST;

/// The values of one LaunchAgent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlistValues {
    /// `Label`.
    pub label: String,
    /// `Comment` (the service description).
    pub comment: String,
    /// `ProgramArguments`: the absolute program path first.
    pub program_arguments: Vec<String>,
    /// `WorkingDirectory`.
    pub working_directory: String,
    /// `EnvironmentVariables` (never a secret), written sorted by name.
    pub environment: BTreeMap<String, String>,
    /// `StandardOutPath` and `StandardErrorPath`.
    pub log_path: String,
}

fn template_error(message: impl Into<String>) -> ServiceError {
    ServiceError::new(
        "template-invalid",
        format!("{LAUNCHD_PLIST}: {}", message.into()),
    )
}

fn check_value(field: &str, value: &str) -> Result<(), ServiceError> {
    if value.chars().any(|c| c.is_control() && c != '\t') {
        return Err(ServiceError::new(
            "invalid-value",
            format!(
                "{field} cannot contain control characters (CR, LF, NUL…) in a LaunchAgent plist"
            ),
        ));
    }
    Ok(())
}

fn string(field: &str, value: &str) -> Result<Value, ServiceError> {
    check_value(field, value)?;
    Ok(Value::String(value.to_owned()))
}

/// Replaces the value at `key`, which the template must hold as `placeholder`.
fn fill(
    dict: &mut Dictionary,
    key: &str,
    placeholder: &Value,
    value: Value,
) -> Result<(), ServiceError> {
    match dict.get_mut(key) {
        Some(slot) if slot == placeholder => {
            *slot = value;
            Ok(())
        }
        Some(_) => Err(template_error(format!(
            "<key>{key}</key> does not hold the expected placeholder"
        ))),
        None => Err(template_error(format!("<key>{key}</key> is missing"))),
    }
}

fn placeholder(name: &str) -> Value {
    Value::String(format!("@{name}@"))
}

fn find_placeholder(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if s.starts_with('@') && s.ends_with('@') && s.len() > 2 => {
            Some(s.clone())
        }
        Value::Array(items) => items.iter().find_map(find_placeholder),
        Value::Dictionary(dict) => dict.iter().find_map(|(k, v)| {
            if k.starts_with('@') && k.ends_with('@') {
                Some(k.clone())
            } else {
                find_placeholder(v)
            }
        }),
        _ => None,
    }
}

/// Renders the plist: the template with `values` filled in, as XML bytes (UTF-8, trailing
/// newline).
pub fn render_plist(values: &PlistValues) -> Result<Vec<u8>, ServiceError> {
    let template = LAUNCHD_PLIST;
    render_plist_from(template, values)
}

/// [`render_plist`] with an explicit template text.
pub fn render_plist_from(template: &str, values: &PlistValues) -> Result<Vec<u8>, ServiceError> {
    let mut root = Value::from_reader_xml(template.as_bytes())
        .map_err(|e| template_error(format!("not a valid plist: {e}")))?;
    let dict = root
        .as_dictionary_mut()
        .ok_or_else(|| template_error("the root is not a <dict>"))?;

    fill(
        dict,
        "Label",
        &placeholder("LABEL"),
        string("Label", &values.label)?,
    )?;
    fill(
        dict,
        "Comment",
        &placeholder("COMMENT"),
        string("Comment", &values.comment)?,
    )?;
    if values.program_arguments.is_empty() {
        return Err(ServiceError::new(
            "invalid-value",
            "ProgramArguments cannot be empty",
        ));
    }
    let arguments = values
        .program_arguments
        .iter()
        .map(|a| string("ProgramArguments", a))
        .collect::<Result<Vec<_>, _>>()?;
    fill(
        dict,
        "ProgramArguments",
        &Value::Array(vec![placeholder("PROGRAM_ARGUMENTS")]),
        Value::Array(arguments),
    )?;
    fill(
        dict,
        "WorkingDirectory",
        &placeholder("WORKING_DIRECTORY"),
        string("WorkingDirectory", &values.working_directory)?,
    )?;
    let mut env_placeholder = Dictionary::new();
    env_placeholder.insert(
        "@ENVIRONMENT_VARIABLES@".to_owned(),
        placeholder("ENVIRONMENT_VARIABLES"),
    );
    let mut environment = Dictionary::new();
    for (key, value) in &values.environment {
        check_value("EnvironmentVariables", key)?;
        environment.insert(key.clone(), string(key, value)?);
    }
    fill(
        dict,
        "EnvironmentVariables",
        &Value::Dictionary(env_placeholder),
        Value::Dictionary(environment),
    )?;
    let log = string("StandardOutPath", &values.log_path)?;
    fill(
        dict,
        "StandardOutPath",
        &placeholder("LOG_PATH"),
        log.clone(),
    )?;
    fill(dict, "StandardErrorPath", &placeholder("LOG_PATH"), log)?;
    if let Some(left) = find_placeholder(&root) {
        return Err(template_error(format!(
            "placeholder {left} is not filled by this build"
        )));
    }

    let mut out = Vec::new();
    root.to_writer_xml(&mut out)
        .map_err(|e| ServiceError::new("render-failed", format!("cannot write the plist: {e}")))?;
    if out.last() != Some(&b'\n') {
        out.push(b'\n');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values() -> PlistValues {
        PlistValues {
            label: "bot.molt.gateway".into(),
            comment: "OpenClaw Gateway & <friends> \"quoted\" 'single'".into(),
            program_arguments: vec![
                "/Applications/Open Claw/openclaw".into(),
                "gateway".into(),
                "--port".into(),
                "18789".into(),
            ],
            working_directory: "/Users/a/.openclaw".into(),
            environment: BTreeMap::from([
                ("B".to_owned(), "2 & 3".to_owned()),
                ("A".to_owned(), "<1>".to_owned()),
            ]),
            log_path: "/Users/a/Library/Logs/openclaw/gateway.log".into(),
        }
    }

    #[test]
    fn special_characters_round_trip_through_the_plist_crate() {
        let bytes = render_plist(&values()).unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(
            text.contains("OpenClaw Gateway &amp; &lt;friends&gt;"),
            "{text}"
        );
        let v = Value::from_reader_xml(bytes.as_slice()).unwrap();
        let d = v.as_dictionary().unwrap();
        assert_eq!(
            d.get("Comment").unwrap().as_string(),
            Some(values().comment.as_str())
        );
        let keys: Vec<&str> = d.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "Label",
                "Comment",
                "ProgramArguments",
                "RunAtLoad",
                "KeepAlive",
                "ThrottleInterval",
                "ExitTimeOut",
                "Umask",
                "WorkingDirectory",
                "EnvironmentVariables",
                "StandardInPath",
                "StandardOutPath",
                "StandardErrorPath"
            ],
            "template order kept"
        );
        let env: Vec<&str> = d
            .get("EnvironmentVariables")
            .unwrap()
            .as_dictionary()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(env, ["A", "B"]);
        assert!(!text.contains('@'), "no placeholder left");
    }

    #[test]
    fn control_characters_are_refused() {
        let mut v = values();
        v.comment = "a\nb".into();
        assert_eq!(render_plist(&v).unwrap_err().kind, "invalid-value");
        let mut v = values();
        v.program_arguments.clear();
        assert_eq!(render_plist(&v).unwrap_err().kind, "invalid-value");
    }

    #[test]
    fn a_template_that_disagrees_with_the_renderer_is_an_error() {
        let template = LAUNCHD_PLIST;
        let renamed = template.replace("@COMMENT@", "@DESCRIPTION@");
        let e = render_plist_from(&renamed, &values()).unwrap_err();
        assert_eq!(e.kind, "template-invalid");
        assert!(e.message.contains("<key>Comment</key>"), "{}", e.message);
        let extra = template.replace("<string>/dev/null</string>", "<string>@STDIN@</string>");
        let e = render_plist_from(&extra, &values()).unwrap_err();
        assert!(e.message.contains("@STDIN@"), "{}", e.message);
        let e =
            render_plist_from("<plist version=\"1.0\"><array/></plist>", &values()).unwrap_err();
        assert!(e.message.contains("root"), "{}", e.message);
    }
}
