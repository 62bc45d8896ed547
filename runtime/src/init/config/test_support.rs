//! Reading a test's variables, as the section tests do.

use std::collections::HashMap;

use super::{from_env, ConfigError, Strictness, TelemetryConfig};

/// Reads `vars` as `strictness` says.
pub(super) fn read(
    vars: &[(&str, &str)],
    strictness: Strictness,
) -> Result<TelemetryConfig, ConfigError> {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|&(name, value)| (name.to_owned(), value.to_owned()))
        .collect();
    from_env(|name| vars.get(name).cloned(), strictness)
}

/// Reads `vars`, strictly.
pub(super) fn config(vars: &[(&str, &str)]) -> Result<TelemetryConfig, ConfigError> {
    read(vars, Strictness::Strict)
}

/// Reads `vars`, leniently.
pub(super) fn lenient(vars: &[(&str, &str)]) -> TelemetryConfig {
    read(vars, Strictness::Lenient).unwrap()
}

/// The configuration without its warnings, to compare with another.
pub(super) fn without_warnings(config: TelemetryConfig) -> TelemetryConfig {
    TelemetryConfig {
        warnings: Vec::new(),
        ..config
    }
}

/// What `vars` configure, strictly; they must be good.
pub(super) fn ok(vars: &[(&str, &str)]) -> TelemetryConfig {
    config(vars).unwrap()
}

/// The strict error `vars` make.
pub(super) fn error(vars: &[(&str, &str)]) -> String {
    config(vars).unwrap_err().to_string()
}

/// Owned pairs.
pub(super) fn strings(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|&(key, value)| (key.to_owned(), value.to_owned()))
        .collect()
}
