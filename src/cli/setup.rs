//! `openclaw setup [--json]`: prints what [`setup::run`] wrote; a config that cannot be used
//! exits 78, any other failure 1.

use serde_json::{Value, json};

use crate::cli::exit_status::{CliError, ExitStatus};
use crate::cli::output::out;
use crate::environment::Environment;
use crate::paths::Paths;
use crate::setup::{self, SetupError};

impl From<SetupError> for CliError {
    fn from(e: SetupError) -> Self {
        let status = if e.config {
            ExitStatus::Config
        } else {
            ExitStatus::Failure
        };
        e.hints
            .into_iter()
            .fold(CliError::new(status, e.message), CliError::with_hint)
    }
}

/// `openclaw setup [--json]`: runs [`setup::run`] for `paths` and prints the report.
pub fn command(
    paths: &Paths,
    env: &Environment,
    json_output: bool,
) -> Result<ExitStatus, CliError> {
    match setup::run(paths, env) {
        Ok(report) => {
            if json_output {
                let mut v = json!({"ok": true});
                if let (Some(obj), Value::Object(fields)) = (v.as_object_mut(), report.to_json()) {
                    obj.extend(fields);
                }
                out(&v.to_string());
            } else {
                for line in report.lines() {
                    out(&line);
                }
            }
            Ok(ExitStatus::Ok)
        }
        Err(e) if json_output => {
            out(&json!({"ok": false, "error": e.message, "hints": e.hints}).to_string());
            let status = CliError::from(e).status;
            Err(CliError::new(status, String::new()))
        }
        Err(e) => Err(e.into()),
    }
}
