//! Clap types of the agent commands: `agent`, `models list`, `sessions list|history`.

use clap::{Args, Subcommand};

use super::{RpcArgs, TargetArgs};

/// `openclaw agent`.
#[derive(Debug, Clone, Args)]
#[command(
    after_help = "On a terminal the answer is printed as it streams; Ctrl-C aborts the run (chat.abort). Exit status: 0 when the run answered, 1 when it failed, timed out or was aborted, 3 when the gateway is unreachable."
)]
pub struct AgentArgs {
    /// The message to send.
    #[arg(long, short = 'm')]
    pub message: String,
    /// The agent (default: the gateway's default agent).
    #[arg(long)]
    pub agent: Option<String>,
    /// The session key (default: the agent's main session).
    #[arg(long)]
    pub session_key: Option<String>,
    /// The run's budget in seconds (0 = none; default: the agent's).
    #[arg(long, value_name = "SECONDS")]
    pub timeout: Option<u64>,
    /// Print the final answer as JSON.
    #[arg(long)]
    pub json: bool,
    /// The gateway and the credentials.
    #[command(flatten)]
    pub target: TargetArgs,
}

/// `openclaw models <verb>`.
#[derive(Debug, Clone, Args)]
pub struct ModelsArgs {
    /// What to do.
    #[command(subcommand)]
    pub verb: ModelsVerb,
}

/// The verbs of `openclaw models`.
#[derive(Debug, Clone, Subcommand)]
pub enum ModelsVerb {
    /// List the configured models (as the running gateway resolved them).
    List(RpcArgs),
}

/// `openclaw sessions <verb>`.
#[derive(Debug, Clone, Args)]
pub struct SessionsArgs {
    /// What to do.
    #[command(subcommand)]
    pub verb: SessionsVerb,
}

/// The verbs of `openclaw sessions`.
#[derive(Debug, Clone, Subcommand)]
pub enum SessionsVerb {
    /// List the sessions, latest change first.
    List(RpcArgs),
    /// Show a session's transcript.
    History(SessionHistoryArgs),
}

/// `openclaw sessions history <key>`.
#[derive(Debug, Clone, Args)]
pub struct SessionHistoryArgs {
    /// The session key (`agent:main:main`, or a bare key of the default agent).
    pub key: String,
    /// The most messages to show (newest).
    #[arg(long, default_value_t = 50)]
    pub limit: u64,
    /// How to reach the gateway (and --json).
    #[command(flatten)]
    pub rpc: RpcArgs,
}
