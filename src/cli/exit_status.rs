//! Exit codes and the error type every command returns.
//!
//! 0 ok, 1 failure (RPC error, failed action), 2 usage (bad flags, bad profile, not implemented),
//! 3 gateway unreachable, 78 configuration refused (EX_CONFIG: supervisors must not restart).

use std::fmt;
use std::process::ExitCode;

/// The exit codes this binary uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Success.
    Ok = 0,
    /// The action or RPC failed.
    Failure = 1,
    /// The command line is wrong, or the command is not implemented yet.
    Usage = 2,
    /// The gateway could not be reached.
    Unreachable = 3,
    /// The configuration was refused (EX_CONFIG); supervisors must not restart on it.
    Config = 78,
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> Self {
        ExitCode::from(status as u8)
    }
}

/// A command failure: what to print on stderr and how to exit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CliError {
    /// The exit code.
    pub status: ExitStatus,
    /// The one-line message.
    pub message: String,
    /// Follow-up lines telling the user how to fix it (printed as `hint: …`).
    pub hints: Vec<String>,
}

impl CliError {
    /// A failure with `status` and `message`.
    pub fn new(status: ExitStatus, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            hints: Vec::new(),
        }
    }

    /// A usage error (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(ExitStatus::Usage, message)
    }

    /// A configuration error (exit 78).
    pub fn config(message: impl Into<String>) -> Self {
        Self::new(ExitStatus::Config, message)
    }

    /// A generic failure (exit 1).
    pub fn failure(message: impl Into<String>) -> Self {
        Self::new(ExitStatus::Failure, message)
    }

    /// The error for a verb that a later release implements (exit 2).
    pub fn not_implemented(verb: &str) -> Self {
        Self::usage(format!("not implemented yet: {verb}"))
    }

    /// Adds a hint line.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hints.push(hint.into());
        self
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.message)?;
        for hint in &self.hints {
            write!(f, "\nhint: {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for CliError {}

impl From<crate::invocation::InvocationError> for CliError {
    fn from(e: crate::invocation::InvocationError) -> Self {
        match e {
            crate::invocation::InvocationError::Usage(m) => Self::usage(m),
            crate::invocation::InvocationError::Config(m) => Self::config(m),
        }
    }
}

impl From<crate::client::TargetError> for CliError {
    fn from(e: crate::client::TargetError) -> Self {
        match e {
            crate::client::TargetError::Invocation(e) => e.into(),
            crate::client::TargetError::Usage(m) => Self::usage(m),
        }
    }
}

impl From<&crate::client::RpcError> for ExitStatus {
    /// Exit 3 when no gateway answered, 1 when it answered with an error or nonsense.
    fn from(e: &crate::client::RpcError) -> Self {
        if e.is_unreachable() {
            Self::Unreachable
        } else {
            Self::Failure
        }
    }
}
