//! The config file `openclaw.json`: JSON5 in, typed keys out, unknown keys and `${VAR}`
//! references kept on the way back.

mod env_substitution;
mod file;
mod locate;
mod model;

pub use env_substitution::{MissingEnvVar, has_env_reference, substitute_env};
pub use file::{ConfigError, LoadedConfig, backup_path, holds_secrets, parse_config_text};
pub use locate::{LineColumn, Segment, line_column_at, locate_value};
pub use model::*;
