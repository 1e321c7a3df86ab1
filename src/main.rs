//! The `openclaw` binary: parses the command line and hands it to the library.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = openclaw::cli::Cli::parse();
    openclaw::commands::run(cli, openclaw::environment::Environment::from_process())
}
