//! The generated files distribution packages ship, written by the hidden command
//! `openclaw __packaging-files <dir>` into `packaging/generated/` (committed; a test fails when
//! they differ from what this module produces):
//!
//! - `systemd/{user,system}/openclaw-gateway.{service,socket}`: the packaged units
//!   ([`crate::service::systemd::packaged`]), rendered from `units/` for `/usr/bin/openclaw`.
//! - `man/openclaw.1` and one page per visible subcommand (`openclaw-gateway-install.1`, …),
//!   from the command-line tree (clap_mangen), stamped with the crate version only (no git
//!   commit, so they do not change with every commit).
//! - `completions/openclaw.bash`, `_openclaw` (zsh), `openclaw.fish`, `_openclaw.ps1`
//!   (clap_complete).

use std::path::{Path, PathBuf};

use clap::CommandFactory;
use clap_complete::Shell;

use crate::atomic_write::{PUBLIC_FILE_MODE, create_dir_all_with_mode, write_atomic};
use crate::cli::Cli;
use crate::cli::exit_status::CliError;
use crate::service::systemd::packaged::{PackagedScope, render_packaged};

/// The directory in the repository that holds the generated files.
pub const GENERATED_DIR: &str = "packaging/generated";

/// One generated file: its path relative to the output directory, and its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    /// e.g. `man/openclaw.1`.
    pub path: PathBuf,
    /// Its content.
    pub contents: Vec<u8>,
}

/// The completion scripts: shell and file name.
pub const COMPLETIONS: [(Shell, &str); 4] = [
    (Shell::Bash, "openclaw.bash"),
    (Shell::Zsh, "_openclaw"),
    (Shell::Fish, "openclaw.fish"),
    (Shell::PowerShell, "_openclaw.ps1"),
];

/// The command-line tree as the packages document it: the crate version, built (so every
/// subcommand has its `openclaw-<verb>` display name).
fn command_tree() -> clap::Command {
    let mut cmd = Cli::command().version(env!("CARGO_PKG_VERSION"));
    cmd.build();
    cmd
}

fn man_pages(cmd: &clap::Command, out: &mut Vec<GeneratedFile>) -> Result<(), CliError> {
    let name = cmd.get_display_name().unwrap_or_else(|| cmd.get_name());
    let mut page = Vec::new();
    clap_mangen::Man::new(cmd.clone())
        .render(&mut page)
        .map_err(|e| CliError::failure(format!("man page of {name}: {e}")))?;
    out.push(GeneratedFile {
        path: PathBuf::from(format!("man/{name}.1")),
        contents: page,
    });
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        if sub.get_name() != "help" {
            man_pages(sub, out)?;
        }
    }
    Ok(())
}

/// Every generated file, in a stable order.
pub fn generated_files() -> Result<Vec<GeneratedFile>, CliError> {
    let mut files = Vec::new();
    for scope in PackagedScope::ALL {
        let rendered = render_packaged(scope).map_err(|e| CliError::failure(e.message))?;
        let dir = match scope {
            PackagedScope::User => "systemd/user",
            PackagedScope::System => "systemd/system",
        };
        let socket = rendered
            .socket
            .ok_or_else(|| CliError::failure("the packaged units are socket-activated"))?;
        files.push(GeneratedFile {
            path: Path::new(dir).join(&rendered.service_name),
            contents: rendered.service.into_bytes(),
        });
        files.push(GeneratedFile {
            path: Path::new(dir).join(&rendered.socket_name),
            contents: socket.into_bytes(),
        });
    }
    let mut cmd = command_tree();
    man_pages(&cmd, &mut files)?;
    for (shell, file) in COMPLETIONS {
        let mut script = Vec::new();
        clap_complete::generate(shell, &mut cmd, "openclaw", &mut script);
        files.push(GeneratedFile {
            path: Path::new("completions").join(file),
            contents: script,
        });
    }
    Ok(files)
}

/// `openclaw __packaging-files <dir>`: writes [`generated_files`] under `dir` (0644, atomically)
/// and prints their paths.
pub fn write_generated_files(dir: &Path) -> Result<Vec<PathBuf>, CliError> {
    let mut written = Vec::new();
    for file in generated_files()? {
        let path = dir.join(&file.path);
        let parent = path.parent().unwrap_or(dir);
        create_dir_all_with_mode(parent, 0o755)
            .and_then(|()| write_atomic(&path, &file.contents, PUBLIC_FILE_MODE))
            .map_err(|e| CliError::failure(format!("cannot write {}: {e}", path.display())))?;
        written.push(path);
    }
    Ok(written)
}
