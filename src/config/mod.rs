//! The config file `openclaw.json`: JSON5 in, `$include`s expanded, typed keys out; unknown
//! keys, includes and `${VAR}` references kept on the way back.

mod env_substitution;
mod file;
mod includes;
mod locate;
mod model;
mod models;

pub use env_substitution::{MissingEnvVar, has_env_reference, substitute_env};
pub use file::{
    ConfigError, LoadedConfig, ParsedConfig, backup_path, holds_secrets, include_holds_secrets,
    inline_secrets, parse_config_text, parse_config_text_noting_includes,
};
pub use includes::{
    Expansion, FsIncludeReader, INCLUDE_KEY, IncludeReader, MAX_INCLUDE_DEPTH,
    MAX_INCLUDE_FILE_BYTES, ReadFailure, deep_merge, expand_includes, has_include, include_roots,
};
pub use locate::{LineColumn, Segment, line_column_at, locate_value};
pub use model::*;
