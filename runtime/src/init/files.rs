//! The files the configuration names, read or opened when `init()` sets up: reading the
//! environment only records their paths.

use std::fs::{File, OpenOptions};
use std::path::Path;

use super::config::{
    ignored_for_default, ConfigError, ConsoleOutput, HashKeySource, Secret, Strictness,
    TelemetryConfig, CONSOLE_OUTPUT_VARIABLE, HASH_KEY_FILE_VARIABLE,
};

/// Reads the hash key and checks the console output file, before anything is built; returns
/// the hash key.
///
/// A key file that cannot be read or is empty is an error even when lenient: going on without
/// the key would hash ids in the reversible form. A console output file that cannot be
/// appended to is an error when strict; when lenient it is warned about and stderr is used.
pub(super) fn open(
    config: &mut TelemetryConfig,
    warnings: &mut Vec<String>,
) -> Result<Option<Secret>, ConfigError> {
    let hash_key = config.limits.hash_key.as_ref().map(hash_key).transpose()?;
    if let ConsoleOutput::File(path) = &config.console_output {
        if let Err(error) = open_console_file(path) {
            match config.strictness {
                Strictness::Strict => return Err(error),
                Strictness::Lenient => {
                    warnings.push(ignored_for_default(&error, "stderr"));
                    config.console_output = ConsoleOutput::Stderr;
                }
            }
        }
    }
    Ok(hash_key)
}

/// The key `source` gives: the value, or the file's contents without a trailing newline.
fn hash_key(source: &HashKeySource) -> Result<Secret, ConfigError> {
    let path = match source {
        HashKeySource::Value(key) => return Ok(key.clone()),
        HashKeySource::File(path) => path,
    };
    let key_file_error = |problem: &str| {
        ConfigError::new(format!(
            "{HASH_KEY_FILE_VARIABLE}={:?} {problem}",
            path.to_string_lossy()
        ))
    };
    let mut key = std::fs::read(path).map_err(|error| {
        key_file_error(&format!(
            "cannot be read ({error}); mount the key file there, or unset the variable"
        ))
    })?;
    while key.last().is_some_and(|byte| matches!(byte, b'\n' | b'\r')) {
        key.pop();
    }
    if key.is_empty() {
        return Err(key_file_error(
            "names an empty file; put the hash key in it",
        ));
    }
    Ok(Secret(key))
}

/// Opens the file `TONIC_TRACED_CONSOLE_OUTPUT` names for appending, creating it if missing.
pub(crate) fn open_console_file(path: &Path) -> Result<File, ConfigError> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|error| {
            ConfigError::new(format!(
                "{CONSOLE_OUTPUT_VARIABLE}={path:?} cannot be appended to ({error}); name a \
                 writable file, or `stderr` or `stdout`"
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::init::config::from_env;

    /// What `vars` configure, read as `strictness` says.
    fn config(vars: &[(&str, &str)], strictness: Strictness) -> TelemetryConfig {
        let lookup = |name: &str| {
            vars.iter()
                .find(|(var, _)| *var == name)
                .map(|(_, value)| (*value).to_owned())
        };
        from_env(lookup, strictness).unwrap()
    }

    /// [`open`] on what `vars` configure: the hash key, the console output and the warnings.
    fn opened(
        vars: &[(&str, &str)],
        strictness: Strictness,
    ) -> Result<(Option<Secret>, ConsoleOutput, Vec<String>), ConfigError> {
        let mut config = config(vars, strictness);
        let mut warnings = Vec::new();
        let key = open(&mut config, &mut warnings)?;
        Ok((key, config.console_output, warnings))
    }

    /// A file holding `contents`, named after `name`, that lasts for the test process; its path.
    fn tempfile_with(name: &str, contents: &str) -> String {
        let path = std::env::temp_dir().join(format!("tonic-traced-{name}-{}", std::process::id()));
        std::fs::write(&path, contents).unwrap();
        path.to_string_lossy().into_owned()
    }

    #[test]
    fn the_hash_key_is_the_value_or_the_file_without_its_newline() {
        let key = |vars: &[(&str, &str)]| opened(vars, Strictness::Strict).unwrap().0;
        assert_eq!(key(&[]), None);
        assert_eq!(
            key(&[("TONIC_TRACED_HASH_KEY", "s3cret")]),
            Some(Secret(b"s3cret".to_vec()))
        );
        let file = tempfile_with("key", "from-a-secret\r\n");
        assert_eq!(
            key(&[("TONIC_TRACED_HASH_KEY_FILE", &file)]),
            Some(Secret(b"from-a-secret".to_vec()))
        );
    }

    #[test]
    fn a_key_file_that_cannot_be_had_is_an_error_even_when_lenient() {
        let empty = tempfile_with("empty-key", "\n");
        for strictness in [Strictness::Strict, Strictness::Lenient] {
            let missing = [("TONIC_TRACED_HASH_KEY_FILE", "/no/such/key")];
            let error = opened(&missing, strictness).unwrap_err().to_string();
            assert!(
                error.starts_with("TONIC_TRACED_HASH_KEY_FILE=\"/no/such/key\" cannot be read (")
                    && error.ends_with("); mount the key file there, or unset the variable"),
                "{error}"
            );
            let error = opened(&[("TONIC_TRACED_HASH_KEY_FILE", &empty)], strictness)
                .unwrap_err()
                .to_string();
            assert_eq!(
                error,
                format!(
                    "TONIC_TRACED_HASH_KEY_FILE={empty:?} names an empty file; put the hash key \
                     in it"
                )
            );
        }
    }

    #[test]
    fn the_console_output_file_is_created() {
        let file = std::env::temp_dir().join(format!("console-{}.txt", std::process::id()));
        let named = file.to_str().expect("a UTF-8 temporary directory");
        let vars = [("TONIC_TRACED_CONSOLE_OUTPUT", named)];
        let (_, output, warnings) = opened(&vars, Strictness::Strict).unwrap();
        assert_eq!(output, ConsoleOutput::File(file.clone()));
        assert!(warnings.is_empty());
        assert!(file.exists(), "created");
        std::fs::remove_file(&file).unwrap();
    }

    #[test]
    fn an_unwritable_console_output_is_an_error_when_strict_else_stderr() {
        let unwritable = [("TONIC_TRACED_CONSOLE_OUTPUT", "/nonexistent-dir/traces.txt")];
        let error = opened(&unwritable, Strictness::Strict)
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with(
                "TONIC_TRACED_CONSOLE_OUTPUT=\"/nonexistent-dir/traces.txt\" cannot be appended \
                 to ("
            ) && error.ends_with("); name a writable file, or `stderr` or `stdout`"),
            "{error}"
        );
        let (_, output, warnings) = opened(&unwritable, Strictness::Lenient).unwrap();
        assert_eq!(output, ConsoleOutput::Stderr);
        assert_eq!(
            warnings,
            [format!("{error}; ignored, using the default: stderr")]
        );
    }
}
