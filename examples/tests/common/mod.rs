//! Runs an example binary as a new user would, with nothing configured, and splits what it
//! printed into its waterfalls.

use std::process::Command;

/// Runs `binary` with `args`, no OTLP endpoint or exporter set and colours off; asserts it
/// exits 0 and prints no escape codes. Returns its stdout and the traces in it, each a
/// header line (`trace <id> · N spans · …`) and its tree.
pub fn run_example(binary: &str, args: &[&str]) -> (String, Vec<String>) {
    let output = Command::new(binary)
        .args(args)
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .env_remove("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        .env_remove("OTEL_TRACES_EXPORTER")
        .env_remove("OTEL_SDK_DISABLED")
        .env_remove("OTEL_TRACES_SAMPLER")
        .env("NO_COLOR", "1")
        .output()
        .expect("the example runs");
    let stdout = String::from_utf8(output.stdout).expect("UTF-8 output");
    assert!(
        output.status.success(),
        "{binary} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        !stdout.contains('\x1b'),
        "plain output when not on a terminal"
    );
    let traces = stdout
        .split("\ntrace ")
        .skip(1)
        .map(|trace| format!("trace {trace}"))
        .collect();
    (stdout, traces)
}

/// The one trace containing `needle`.
pub fn trace_with<'a>(traces: &'a [String], needle: &str) -> &'a str {
    traces
        .iter()
        .find(|trace| trace.contains(needle))
        .unwrap_or_else(|| panic!("no trace contains {needle:?}: {traces:#?}"))
}
