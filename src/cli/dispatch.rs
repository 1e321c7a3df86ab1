//! Dispatch: turns a parsed command line into the module that carries it out.

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;

use clap::CommandFactory;

use crate::cli::exit_status::{CliError, ExitStatus};
use crate::cli::service::Lifecycle;
use crate::cli::{Cli, Command, GatewayVerb};
use crate::environment::Environment;
use crate::invocation::Invocation;

/// Runs a parsed command line with the given environment and returns the exit code.
pub fn run(cli: Cli, env: Environment) -> ExitCode {
    match execute(cli, env) {
        Ok(status) => status.into(),
        Err(err) => {
            if !err.message.is_empty() {
                let mut stderr = io::stderr().lock();
                let _ = writeln!(stderr, "error: {err}");
            }
            err.status.into()
        }
    }
}

fn execute(cli: Cli, env: Environment) -> Result<ExitStatus, CliError> {
    if let Command::Completions(args) = &cli.command {
        let mut command = Cli::command();
        clap_complete::generate(args.shell, &mut command, "openclaw", &mut io::stdout());
        return Ok(ExitStatus::Ok);
    }
    if let Command::SandboxProbe = &cli.command {
        return Ok(
            match crate::service::systemd::sandbox_probe::probe_process() {
                0 => ExitStatus::Ok,
                _ => ExitStatus::Failure,
            },
        );
    }
    if let Command::PackagingFiles(args) = &cli.command {
        let mut stdout = io::stdout().lock();
        for path in crate::cli::packaging::write_generated_files(&args.dir)? {
            let _ = writeln!(stdout, "{}", path.display());
        }
        return Ok(ExitStatus::Ok);
    }
    let invocation = Invocation::resolve(&cli.global.options(), env, io::stderr().is_terminal())?;
    match cli.command {
        Command::Gateway(gateway) => match gateway.into_verb().map_err(CliError::usage)? {
            GatewayVerb::Run(run) => crate::cli::gateway_run::run(&invocation, &run),
            GatewayVerb::Install(args) => crate::cli::service::install(&invocation, &args),
            GatewayVerb::Uninstall(args) => crate::cli::service::uninstall(&invocation, &args),
            GatewayVerb::Start(args) => {
                crate::cli::service::start_or_restart(&invocation, Lifecycle::Start, &args)
            }
            GatewayVerb::Stop(args) => crate::cli::service::stop(&invocation, &args),
            GatewayVerb::Restart(args) => {
                crate::cli::service::start_or_restart(&invocation, Lifecycle::Restart, &args)
            }
            GatewayVerb::Status(args) => crate::cli::status::status(&invocation, &args),
            GatewayVerb::Health(args) => crate::cli::rpc::health(&invocation, &args),
            GatewayVerb::Call(args) => crate::cli::rpc::call(&invocation, &args),
        },
        Command::Setup(args) => {
            crate::cli::setup::command(&invocation.paths, &invocation.env, args.json)
        }
        Command::Status(args) => crate::cli::status::summary(&invocation, &args),
        Command::Health(args) => crate::cli::rpc::health(&invocation, &args),
        Command::Doctor(args) => crate::cli::doctor::run(&invocation, &args),
        Command::Logs(args) => crate::cli::rpc::logs(&invocation, &args),
        Command::Dashboard(args) => crate::cli::dashboard::run(&invocation, &args),
        Command::Agent(args) => crate::cli::agent::agent(&invocation, &args),
        Command::Models(args) => crate::cli::agent::models(&invocation, &args.verb),
        Command::Sessions(args) => crate::cli::agent::sessions(&invocation, &args.verb),
        Command::Completions(_) | Command::PackagingFiles(_) | Command::SandboxProbe => {
            unreachable!("handled above")
        }
    }
}
