//! Configuration in two stages, like ripgrep: a raw layer (TOML file, then `SEXTANT_*`
//! environment variables, then command-line flags) deserialized as loosely as the sources
//! allow, then validated into typed [`Settings`] with errors that name the key at fault.

mod auth;
mod raw;
mod settings;
mod values;

pub use auth::{AuditSettings, AuthSettings, JwtSettings};
pub use raw::{Overrides, RawConfig};
pub use settings::{
    ClickHouseSettings, DuckDbSettings, EventsBackend, IngestSettings, JobSettings, LogFormat,
    LogSettings, PrivacySettings, QuerySettings, ServerSettings, Settings, StorageSettings,
};

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use std::path::{Path, PathBuf};

/// Environment variable naming the config file when no `--config` flag is given.
pub const CONFIG_ENV: &str = "SEXTANT_CONFIG";
/// Config file read from the working directory when neither flag nor env names one.
pub const DEFAULT_CONFIG_FILE: &str = "sextant.toml";

/// Why configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config file {path} does not exist")]
    MissingFile { path: PathBuf },
    /// Syntax errors, unknown keys and wrong types, each with its key and source.
    #[error("{0}")]
    Parse(String),
    #[error("invalid `{key}`: {message}")]
    Invalid { key: &'static str, message: String },
}

impl ConfigError {
    pub fn kind(&self) -> sextant_core::ErrorKind {
        sextant_core::ErrorKind::InvalidInput
    }

    pub(crate) fn invalid(key: &'static str, message: impl Into<String>) -> Self {
        ConfigError::Invalid { key, message: message.into() }
    }
}

/// Loads settings: `explicit` (the `--config` flag), else `SEXTANT_CONFIG`, else `./sextant.toml`
/// if present, else defaults only; then `SEXTANT_*` env; then `overrides` from flags.
pub fn load(explicit: Option<&Path>, overrides: &Overrides) -> Result<Settings, ConfigError> {
    let from_env = std::env::var_os(CONFIG_ENV).map(PathBuf::from);
    let path = explicit.map(Path::to_path_buf).or(from_env);
    let figment = match path {
        Some(path) if !path.is_file() => return Err(ConfigError::MissingFile { path }),
        Some(path) => Figment::from(Toml::file_exact(path)),
        None if Path::new(DEFAULT_CONFIG_FILE).is_file() => {
            Figment::from(Toml::file_exact(DEFAULT_CONFIG_FILE))
        }
        None => Figment::new(),
    };
    let figment = figment.merge(env_provider());
    let mut raw: RawConfig = figment.extract().map_err(parse_error)?;
    raw.apply(overrides);
    raw.validate()
}

/// `SEXTANT_SERVER__LISTEN=...` sets `server.listen`; `__` separates nesting levels.
fn env_provider() -> Env {
    Env::prefixed("SEXTANT_").ignore(&["config"]).split("__")
}

/// Parses a TOML document on its own (no env, no flags): used to check example files.
pub fn from_toml_str(text: &str) -> Result<Settings, ConfigError> {
    let raw: RawConfig = Figment::from(Toml::string(text)).extract().map_err(parse_error)?;
    raw.validate()
}

/// One line per problem: `invalid `server.lisen`: unknown field ... (in sextant.toml)`.
fn parse_error(error: figment::Error) -> ConfigError {
    let lines: Vec<String> = error
        .into_iter()
        .map(|e| {
            let key = e.path.join(".");
            let source = match &e.metadata {
                Some(meta) if meta.name.contains("environment variable") => {
                    format!(
                        " (from environment variable SEXTANT_{})",
                        e.path.join("__").to_uppercase()
                    )
                }
                Some(meta) => meta
                    .source
                    .as_ref()
                    .map_or_else(|| format!(" (in {})", meta.name), |s| format!(" (in {s})")),
                None => String::new(),
            };
            if key.is_empty() {
                format!("{}{source}", e.kind)
            } else {
                format!("invalid `{key}`: {}{source}", e.kind)
            }
        })
        .collect();
    ConfigError::Parse(lines.join("\n"))
}

#[cfg(test)]
mod tests;
