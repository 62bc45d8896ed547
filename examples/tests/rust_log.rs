//! `RUST_LOG` filters the log lines `init()`'s subscriber writes on stderr, each carrying the
//! trace and span ids of the call it was written in; a value that does not parse is a warning
//! naming it and the default filter applies, or, in strict mode, an error that stops the
//! program.

mod common;

use std::process::Output;

use common::example;

/// Runs the demo with `RUST_LOG` set to `filter`, or unset.
fn demo(filter: Option<&str>) -> (Output, String, String) {
    demo_with(filter, &[])
}

/// Runs the demo with `RUST_LOG` set to `filter`, or unset, and the variables `vars`.
fn demo_with(filter: Option<&str>, vars: &[(&str, &str)]) -> (Output, String, String) {
    let mut command = example(env!("CARGO_BIN_EXE_demo"));
    command.envs(vars.iter().copied());
    if let Some(filter) = filter {
        command.env("RUST_LOG", filter);
    }
    let output = command.output().expect("the demo runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output, stdout, stderr)
}

/// The hex id after `name=` on `line`, checked to be `digits` long.
fn id<'a>(line: &'a str, name: &str, digits: usize) -> &'a str {
    let id = line
        .split(&format!("{name}="))
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .unwrap_or_else(|| panic!("no {name} on {line}"));
    assert!(
        id.len() == digits && id.bytes().all(|byte| byte.is_ascii_hexdigit()),
        "{line}"
    );
    id
}

#[test]
fn info_lines_carry_trace_ids_by_default() {
    let (output, stdout, stderr) = demo(None);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    let passed: Vec<&str> = stderr
        .lines()
        .filter(|line| line.contains(" INFO ") && line.contains("fraud check passed"))
        .collect();
    assert_eq!(
        passed.len(),
        3,
        "two approved payments and one declined after the check:\n{stderr}"
    );
    for line in passed {
        let trace_id = id(line, "trace_id", 32);
        id(line, "span_id", 16);
        // The id is the one of the trace the console prints for that call.
        assert!(
            stderr.contains(&format!("\ntrace {trace_id} ")),
            "{line}\n{stderr}"
        );
    }
}

#[test]
fn rust_log_error_leaves_out_info_and_warn_lines() {
    let (output, stdout, stderr) = demo(Some("error"));
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(
        !stderr.contains(" INFO ") && !stderr.contains(" WARN "),
        "{stderr}"
    );
    assert!(
        stderr.contains("payment.PaymentService/ProcessPayment"),
        "the traces print whatever RUST_LOG says:\n{stderr}"
    );
}

#[test]
fn a_rust_log_that_does_not_parse_is_a_warning_and_the_default_applies() {
    let (output, stdout, stderr) = demo(Some("info,h2=loud"));
    assert!(output.status.success(), "{stdout}\n{stderr}");
    let warnings: Vec<&str> = stderr
        .lines()
        .filter(|line| line.contains("RUST_LOG="))
        .collect();
    let [warning] = warnings.as_slice() else {
        panic!("one warning about RUST_LOG:\n{stderr}");
    };
    assert!(
        warning
            .contains(r#" WARN tonic_traced::init: RUST_LOG="info,h2=loud" is not a log filter ("#)
            && warning.ends_with(
                "; ignored, using the default: info,h2=warn,hyper=warn,hyper_util=warn,\
                 tower=warn,opentelemetry=warn,opentelemetry_sdk=warn,opentelemetry_otlp=warn"
            ),
        "{warning}"
    );
    // The default filter: the demo's INFO lines are written.
    assert!(stderr.contains(" INFO "), "{stderr}");
    assert!(stderr.contains("\ntrace "), "{stderr}");
}

#[test]
fn a_rust_log_that_does_not_parse_is_an_error_when_strict() {
    let (output, stdout, stderr) = demo_with(
        Some("info,h2=loud"),
        &[("TONIC_TRACED_CONFIG_STRICT", "true")],
    );
    assert!(!output.status.success(), "{stdout}\n{stderr}");
    assert!(
        stderr.contains(r#"RUST_LOG="info,h2=loud" is not a log filter ("#),
        "{stderr}"
    );
    assert!(
        stdout.is_empty() && !stderr.contains("\ntrace "),
        "nothing ran:\n{stdout}\n{stderr}"
    );
}
