//! README command #1 works with nothing configured: it exits 0 and prints one waterfall per
//! trace, client and server spans and the handler's children under one trace id.

use std::process::Command;

/// The demo's output split into its printed traces, each a header line and its tree.
fn run_demo() -> Vec<String> {
    let output = Command::new(env!("CARGO_BIN_EXE_demo"))
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .env_remove("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        .env_remove("OTEL_TRACES_EXPORTER")
        .env("NO_COLOR", "1")
        .output()
        .expect("the demo runs");
    let stdout = String::from_utf8(output.stdout).expect("UTF-8 output");
    assert!(
        output.status.success(),
        "the demo failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        !stdout.contains('\x1b'),
        "plain output when not on a terminal"
    );
    stdout
        .split("\ntrace ")
        .skip(1)
        .map(|trace| format!("trace {trace}"))
        .collect()
}

fn trace_with<'a>(traces: &'a [String], needle: &str) -> &'a str {
    traces
        .iter()
        .find(|trace| trace.contains(needle))
        .unwrap_or_else(|| panic!("no trace contains {needle:?}: {traces:#?}"))
}

#[test]
fn demo_prints_connected_traces() {
    let traces = run_demo();
    assert_eq!(
        traces.len(),
        4,
        "three payments and one order stream: {traces:#?}"
    );

    let approved = trace_with(&traces, "payment.amount=99.99");
    let lines: Vec<&str> = approved.lines().collect();
    assert!(lines[0].contains("· 4 spans"), "{approved}");
    assert!(
        lines[1].starts_with("payment.PaymentService/ProcessPayment")
            && lines[1].contains("CLIENT")
    );
    assert!(
        approved.contains("└─ payment.PaymentService/ProcessPayment  SERVER"),
        "{approved}"
    );
    assert!(approved.contains("├─ validate_payment"), "{approved}");
    assert!(approved.contains("└─ fraud_check"), "{approved}");
    assert!(!approved.contains("cust-123"), "the customer id is hashed");

    let failed = trace_with(&traces, "payment.amount=25000");
    assert!(
        failed.contains("ERROR: fraud check service unavailable"),
        "{failed}"
    );
    assert!(failed.contains("rpc.grpc.status_code=14"), "{failed}");

    let stream = trace_with(&traces, "order.id=order-42");
    // Client span, its request and 10 received updates; server span, its request and 10 sent.
    assert!(
        stream.lines().next().unwrap().contains("· 24 spans"),
        "{stream}"
    );
    assert!(
        stream.contains("order.status=\"Processing step 0\""),
        "{stream}"
    );
}
