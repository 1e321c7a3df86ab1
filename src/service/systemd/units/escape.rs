//! Escaping values for unit files and env files, per `service-management.md` §2.2–2.3.
//!
//! - Unit-file words (`ExecStart=` arguments, `Environment=` assignments, `ReadWritePaths=`):
//!   `%` → `%%` (specifiers); double-quoted, escaping `\` and `"`, only when the word contains
//!   whitespace, `"`, `'`, `\`, or is empty or a lone `;`. Beyond the spec's rule, `'` also forces
//!   quoting (systemd honours single quotes inside a word) and `ExecStart=` arguments get `$` →
//!   `$$` (systemd expands `$VAR` there, never in `Environment=`).
//! - Paths given as the rest of a line (`WorkingDirectory=`, `EnvironmentFile=`): `%` → `%%`;
//!   `EnvironmentFile=` is also glob-escaped, since systemd globs it.
//! - Env file (`KEY=value` lines): the value is double-quoted only when it contains whitespace,
//!   `\`, `'`, `"`, `` ` `` or `$`, escaping `\ " ` $`.
//!
//! CR or LF anywhere is refused with `<field> cannot contain CR or LF characters.` (the value is
//! never echoed: it may be a secret).

use crate::service::ServiceError;

/// The [`ServiceError::kind`] of a value that cannot be written into a unit or env file.
pub const INVALID_VALUE: &str = "invalid-unit-value";

/// Refuses CR and LF in a value of `field`.
pub fn reject_line_breaks(field: &str, value: &str) -> Result<(), ServiceError> {
    if value.contains(['\r', '\n']) {
        return Err(ServiceError::new(
            INVALID_VALUE,
            format!("{field} cannot contain CR or LF characters."),
        ));
    }
    Ok(())
}

/// `%` → `%%`: systemd expands specifiers in most unit settings.
pub fn escape_specifiers(value: &str) -> String {
    value.replace('%', "%%")
}

fn needs_quotes(word: &str) -> bool {
    word.is_empty()
        || word == ";"
        || word
            .chars()
            .any(|c| c.is_whitespace() || matches!(c, '"' | '\'' | '\\'))
}

/// One word of a whitespace-separated unit setting (`Environment=`, `ReadWritePaths=`), for
/// settings that do not expand `$`.
pub fn unit_word(word: &str) -> String {
    let escaped = escape_specifiers(word);
    if needs_quotes(word) {
        format!("\"{}\"", escaped.replace('\\', "\\\\").replace('"', "\\\""))
    } else {
        escaped
    }
}

/// One word of `ExecStart=`: like [`unit_word`], plus `$` → `$$`.
pub fn exec_word(word: &str) -> String {
    unit_word(word).replace('$', "$$")
}

/// The whole `ExecStart=` value for `argv` (program first).
pub fn exec_start<S: AsRef<str>>(argv: &[S]) -> Result<String, ServiceError> {
    let mut words = Vec::with_capacity(argv.len());
    for arg in argv {
        let arg = arg.as_ref();
        reject_line_breaks("ExecStart", arg)?;
        words.push(exec_word(arg));
    }
    Ok(words.join(" "))
}

/// True for a valid environment variable name (`[A-Za-z_][A-Za-z0-9_]*`).
pub fn is_env_key(key: &str) -> bool {
    let mut chars = key.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn check_key(field: &str, key: &str) -> Result<(), ServiceError> {
    reject_line_breaks(field, key)?;
    if !is_env_key(key) {
        return Err(ServiceError::new(
            INVALID_VALUE,
            format!("{field}: {key:?} is not a valid environment variable name."),
        ));
    }
    Ok(())
}

/// The value of one `Environment=` line for `key`/`value`, or `None` when the assignment is
/// dropped (empty values are, except `NODE_OPTIONS`, which clears an inherited value).
pub fn environment_assignment(key: &str, value: &str) -> Result<Option<String>, ServiceError> {
    check_key("Environment", key)?;
    reject_line_breaks("Environment", value)?;
    if value.is_empty() && key != "NODE_OPTIONS" {
        return Ok(None);
    }
    Ok(Some(unit_word(&format!("{key}={value}"))))
}

/// A path that is the rest of a line (`WorkingDirectory=`): `%` escaped; a trailing blank is
/// refused because systemd would strip it.
pub fn line_path(field: &str, path: &str) -> Result<String, ServiceError> {
    reject_line_breaks(field, path)?;
    if path.ends_with(char::is_whitespace) {
        return Err(ServiceError::new(
            INVALID_VALUE,
            format!("{field} cannot end with whitespace."),
        ));
    }
    Ok(escape_specifiers(path))
}

/// The path of `EnvironmentFile=`: like [`line_path`], and glob-escaped (`\ * ? [ ]`).
pub fn env_file_path(path: &str) -> Result<String, ServiceError> {
    let path = line_path("EnvironmentFile", path)?;
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        if matches!(c, '\\' | '*' | '?' | '[' | ']') {
            out.push('\\');
        }
        out.push(c);
    }
    Ok(out)
}

/// Free text that is the rest of a line (`Description=`, `User=`, `SyslogIdentifier=`).
pub fn line_text(field: &str, text: &str) -> Result<String, ServiceError> {
    reject_line_breaks(field, text)?;
    Ok(escape_specifiers(text.trim()))
}

/// One `KEY=value` line of the env file (without the newline).
pub fn env_file_line(key: &str, value: &str) -> Result<String, ServiceError> {
    check_key("EnvironmentFile", key)?;
    reject_line_breaks("EnvironmentFile", value)?;
    let quote = value
        .chars()
        .any(|c| c.is_whitespace() || matches!(c, '\\' | '\'' | '"' | '`' | '$'));
    if !quote {
        return Ok(format!("{key}={value}"));
    }
    let mut out = format!("{key}=\"");
    for c in value.chars() {
        if matches!(c, '\\' | '"' | '`' | '$') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_exec_words_are_left_alone() {
        assert_eq!(
            exec_start(&["/usr/bin/openclaw", "gateway", "--port", "18789"]).unwrap(),
            "/usr/bin/openclaw gateway --port 18789"
        );
    }

    #[test]
    fn exec_words_with_spaces_quotes_backslashes_and_percent_are_escaped() {
        assert_eq!(
            exec_word("/opt/Open Claw/bin/oc"),
            "\"/opt/Open Claw/bin/oc\""
        );
        assert_eq!(exec_word(r#"say "hi""#), r#""say \"hi\"""#);
        assert_eq!(exec_word(r"C:\path"), r#""C:\\path""#);
        assert_eq!(exec_word("100%"), "100%%");
        assert_eq!(exec_word("50% off"), "\"50%% off\"");
        assert_eq!(exec_word("it's"), "\"it's\"");
        assert_eq!(exec_word("$HOME"), "$$HOME");
        assert_eq!(exec_word("a b$c"), "\"a b$$c\"");
        assert_eq!(exec_word(""), "\"\"");
        assert_eq!(exec_word(";"), "\";\"");
        assert_eq!(exec_word("a\tb"), "\"a\tb\"");
    }

    #[test]
    fn environment_assignments_quote_the_whole_assignment_and_keep_dollars() {
        assert_eq!(
            environment_assignment("OPENCLAW_PROFILE", "rescue").unwrap(),
            Some("OPENCLAW_PROFILE=rescue".into())
        );
        assert_eq!(
            environment_assignment("OPENCLAW_WINDOWS_TASK_NAME", "OpenClaw Gateway").unwrap(),
            Some("\"OPENCLAW_WINDOWS_TASK_NAME=OpenClaw Gateway\"".into())
        );
        assert_eq!(
            environment_assignment("X", r#"a\"b%"#).unwrap(),
            Some(r#""X=a\\\"b%%""#.into())
        );
        assert_eq!(
            environment_assignment("X", "$HOME").unwrap(),
            Some("X=$HOME".into())
        );
        assert_eq!(environment_assignment("X", "").unwrap(), None);
        assert_eq!(
            environment_assignment("NODE_OPTIONS", "").unwrap(),
            Some("NODE_OPTIONS=".into())
        );
        assert!(environment_assignment("1X", "v").is_err());
        assert!(environment_assignment("A B", "v").is_err());
    }

    #[test]
    fn env_file_values_are_quoted_only_when_needed() {
        assert_eq!(env_file_line("T", "abc123").unwrap(), "T=abc123");
        assert_eq!(env_file_line("T", "").unwrap(), "T=");
        assert_eq!(env_file_line("T", "a b").unwrap(), "T=\"a b\"");
        assert_eq!(env_file_line("T", "it's").unwrap(), "T=\"it's\"");
        assert_eq!(
            env_file_line("T", r#"a\b"c`d$e"#).unwrap(),
            r#"T="a\\b\"c\`d\$e""#
        );
        assert_eq!(env_file_line("T", "100%").unwrap(), "T=100%");
        assert!(env_file_line("bad-key", "v").is_err());
    }

    #[test]
    fn line_breaks_are_refused_everywhere_without_echoing_the_value() {
        for (result, field) in [
            (exec_start(&["/bin/x", "a\nb"]).map(|_| ()), "ExecStart"),
            (
                environment_assignment("K", "v\r").map(|_| ()),
                "Environment",
            ),
            (
                env_file_line("K", "s3cret\nx").map(|_| ()),
                "EnvironmentFile",
            ),
            (
                line_path("WorkingDirectory", "/a\nb").map(|_| ()),
                "WorkingDirectory",
            ),
            (
                line_text("Description", "x\r\ny").map(|_| ()),
                "Description",
            ),
        ] {
            let err = result.unwrap_err();
            assert_eq!(
                err.message,
                format!("{field} cannot contain CR or LF characters.")
            );
            assert_eq!(err.kind, INVALID_VALUE);
        }
    }

    #[test]
    fn paths_escape_specifiers_and_env_file_paths_escape_globs() {
        assert_eq!(
            line_path("WorkingDirectory", "/home/a b/%x").unwrap(),
            "/home/a b/%%x"
        );
        assert!(line_path("WorkingDirectory", "/home/a ").is_err());
        assert_eq!(
            env_file_path("/home/u/[x]*?/e").unwrap(),
            r"/home/u/\[x\]\*\?/e"
        );
    }
}
