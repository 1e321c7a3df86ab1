//! `openclaw gateway run`: the foreground gateway process.

use crate::cli::RunArgs;
use crate::exit_status::{CliError, ExitStatus};
use crate::invocation::Invocation;

/// Runs the gateway until it is told to stop.
pub fn run(_invocation: &Invocation, _args: &RunArgs) -> Result<ExitStatus, CliError> {
    Err(CliError::not_implemented("gateway run"))
}
