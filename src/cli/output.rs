//! Writing to the terminal: one line to stdout, where a closed pipe (`| head`) ends the output
//! quietly instead of failing the command.

use std::io::{self, Write};

/// Prints `text` and a newline on stdout.
pub fn out(text: &str) {
    let _ = writeln!(io::stdout().lock(), "{text}");
}
