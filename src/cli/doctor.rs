//! `openclaw doctor`: the flags become [`DoctorOptions`], the outcome becomes the exit code
//! (0 nothing left, 1 an error or warning left, 2 contradictory flags).

use std::io;

use crate::cli::DoctorArgs;
use crate::cli::exit_status::{CliError, ExitStatus};
use crate::doctor::{self, DoctorError, DoctorOptions, Outcome};
use crate::invocation::Invocation;

impl DoctorArgs {
    /// The flags as the doctor takes them.
    pub fn options(&self) -> DoctorOptions {
        DoctorOptions {
            fix: self.fix,
            yes: self.yes,
            non_interactive: self.non_interactive,
            force: self.force,
            dry_run: self.dry_run,
            system: self.system,
            json: self.json,
        }
    }
}

/// Runs the doctor on the host's service manager.
pub fn run(invocation: &Invocation, args: &DoctorArgs) -> Result<ExitStatus, CliError> {
    match doctor::run(invocation, &args.options(), &mut io::stdout().lock()) {
        Ok(Outcome::Clean) => Ok(ExitStatus::Ok),
        Ok(Outcome::FindingsLeft) => Ok(ExitStatus::Failure),
        Err(DoctorError::Usage(message)) => Err(CliError::usage(message)),
        Err(DoctorError::Invocation(e)) => Err(e.into()),
    }
}
