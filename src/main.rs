//! The `openclaw` binary: parses the command line and hands it to the library.

use std::process::ExitCode;

#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod libm_symbols;

fn main() -> ExitCode {
    let cli = match openclaw::cli::parse_args(std::env::args_os()) {
        Ok(cli) => cli,
        Err(err) => err.exit(),
    };
    openclaw::cli::run(cli, openclaw::environment::Environment::from_process())
}
