//! README command #1 works with nothing configured: it exits 0 and prints one waterfall per
//! trace on stderr, apart from its own lines on stdout, as each call ends: client and server
//! spans and the handler's children under one trace id, for an approved, a slow, a declined
//! and a failing payment and an order stream.

mod common;

use std::process::Command;

use common::{
    example, run_example, run_example_with, trace_with, traces_in, without_test_settings,
};

#[test]
fn demo_prints_connected_traces() {
    let (stdout, stderr, traces) = run_example(env!("CARGO_BIN_EXE_demo"), &[]);
    assert!(
        stdout.contains("\na payment: txn-123 approved\n"),
        "{stdout}"
    );
    assert_eq!(
        traces.len(),
        5,
        "four payments and one order stream: {traces:#?}"
    );

    let approved = trace_with(&traces, "payment.amount=99.99");
    // The response's annotated fields are on the RPC spans too.
    assert!(
        approved.contains("payment.transaction_id=txn-123 payment.status=approved"),
        "{approved}"
    );
    let lines: Vec<&str> = approved.lines().collect();
    assert!(lines[0].contains("· 4 spans"), "{approved}");
    assert!(
        lines[1].starts_with("payment.PaymentService/ProcessPayment")
            && lines[1].contains("CLIENT"),
        "{approved}"
    );
    assert!(
        lines[2].contains("customer.id=fc3ce5a6986e1e05"),
        "the customer id, hashed: {approved}"
    );
    assert!(!approved.contains("cust-123"), "the customer id is hashed");
    // The SERVER span under the CLIENT span, and the handler's raw-API and `tracing` spans
    // under the SERVER span.
    assert!(
        lines[3].starts_with("└─ payment.PaymentService/ProcessPayment  SERVER"),
        "{approved}"
    );
    assert!(
        lines[5].starts_with("   ├─ validate_payment "),
        "{approved}"
    );
    assert!(lines[7].starts_with("   └─ fraud_check "), "{approved}");

    // The slow call: a server span over a second, as the guide's searches look for.
    let slow = trace_with(&traces, "payment.currency=EUR");
    let server = slow
        .lines()
        .find(|line| line.contains("  SERVER  "))
        .unwrap_or_else(|| panic!("a SERVER span in {slow}"));
    let duration: u64 = server
        .split_whitespace()
        .find_map(|column| column.strip_suffix("ms")?.parse().ok())
        .unwrap_or_else(|| panic!("a duration in whole ms on {server:?}"));
    assert!((1000..5000).contains(&duration), "{slow}");

    // Declined: an error for the client; by the server rule FAILED_PRECONDITION is not a
    // server error, so the SERVER span shows the code only.
    let declined = trace_with(&traces, "payment.amount=7500");
    assert!(
        declined.contains("ERROR: payment declined: 7500 is over the customer's limit of 5000"),
        "{declined}"
    );
    let server = declined.lines().nth(4).unwrap_or_default();
    assert!(
        server.contains("  SERVER  ") && server.ends_with("  FAILED_PRECONDITION"),
        "{declined}"
    );
    // The declined payment's ErrorInfo, on both sides; the caller's user-agent, which the demo
    // asks the servers to record, on the SERVER span.
    let client_fields = declined.lines().nth(2).unwrap_or_default();
    let server_fields = declined.lines().nth(5).unwrap_or_default();
    for fields in [client_fields, server_fields] {
        assert!(
            fields.contains(
                "rpc.grpc.status_details.types=[\"google.rpc.ErrorInfo\"] \
                 rpc.grpc.error_info.reason=OVER_LIMIT rpc.grpc.error_info.domain=payment.example"
            ),
            "{declined}"
        );
    }
    assert!(
        server_fields.contains("rpc.grpc.request.metadata.user-agent=[\"tonic/"),
        "{declined}"
    );

    let failed = trace_with(&traces, "payment.amount=25000");
    assert_eq!(
        failed
            .matches("ERROR: fraud check service unavailable")
            .count(),
        2,
        "client and server spans are errors: {failed}"
    );
    assert!(failed.contains("rpc.grpc.status_code=14"), "{failed}");

    // Client span, its request and 10 received updates; server span, its request and 10 sent:
    // each side's 11 message spans are shown or counted in a folded line.
    let stream = trace_with(&traces, "order.id=order-42");
    assert!(
        stream.lines().next().unwrap().contains("· 24 spans"),
        "{stream}"
    );
    let shown = stream.matches("─ message ").count();
    let folded: usize = stream
        .lines()
        .filter_map(|line| {
            let (_, rest) = line.split_once("─ … ")?;
            rest.split_whitespace().next()?.parse::<usize>().ok()
        })
        .sum();
    assert_eq!(shown + folded, 22, "{stream}");
    for step in 0..2 {
        assert!(
            stream.contains(&format!("order.status=\"Processing step {step}\"")),
            "{stream}"
        );
    }

    // At exit, the RPC metrics as a table: one line per side, method and status.
    let metrics = stderr
        .split_once("\nmetrics · tonic-traced-demo\n")
        .expect("a metrics table at exit")
        .1;
    let row = |side: &str, status: &str| {
        metrics
            .lines()
            .find(|line| {
                line.starts_with(&format!("  {side}  payment.PaymentService/ProcessPayment "))
                    && line.contains(&format!(" {status} "))
            })
            .unwrap_or_else(|| panic!("no {side} {status} row in\n{metrics}"))
    };
    for side in ["server", "client"] {
        // Two approved payments (one slow), one declined and one that failed with UNAVAILABLE.
        assert!(row(side, "OK").contains(" 2 calls "), "{metrics}");
        assert!(
            row(side, "FAILED_PRECONDITION").contains(" 1 call "),
            "{metrics}"
        );
        assert!(row(side, "UNAVAILABLE").contains(" 1 call "), "{metrics}");
        assert!(
            row(side, "OK").contains("request 24 B  response 19 B"),
            "{metrics}"
        );
    }
}

/// `TONIC_TRACED_CONSOLE_OUTPUT` names a file: the traces and the metrics table go there, and
/// nothing of them to stdout or stderr.
#[test]
fn demo_prints_to_the_file_the_console_output_names() {
    let file = std::env::temp_dir().join(format!("demo-console-{}.txt", std::process::id()));
    let (output, traces) = run_example_with(
        example(env!("CARGO_BIN_EXE_demo")).env("TONIC_TRACED_CONSOLE_OUTPUT", &file),
    );
    let printed = std::fs::read_to_string(&file).expect("the console output file");
    std::fs::remove_file(&file).expect("the file is removed");
    assert!(output.status.success(), "{output:?}");
    assert!(
        traces.is_empty() && !String::from_utf8_lossy(&output.stderr).contains("metrics ·"),
        "{output:?}"
    );
    assert_eq!(traces_in(&printed).len(), 5, "{printed}");
    assert!(
        printed.contains("\nmetrics · tonic-traced-demo\n"),
        "{printed}"
    );
}

/// What the demo shows on a terminal (a pseudo-terminal made by util-linux's `script`, where
/// its stdout and stderr meet in the order they were written).
fn demo_on_terminal(no_color: Option<&str>) -> String {
    let mut script = Command::new("script");
    without_test_settings(&mut script)
        .args(["--quiet", "--return", "--command"])
        .arg(env!("CARGO_BIN_EXE_demo"))
        .arg("/dev/null")
        .env_remove("NO_COLOR")
        .envs(no_color.map(|value| ("NO_COLOR", value)));
    let output = script.output().expect("util-linux's script runs the demo");
    assert!(output.status.success(), "{output:?}");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Each trace prints when its call ends, not at the next batch (5 s by default): the approved
/// payment's trace comes before the answer of the slow payment made after it (1.2 s), and the
/// metrics table only at exit.
#[test]
fn demo_prints_each_trace_when_its_call_ends() {
    let shown = demo_on_terminal(Some("1"));
    let position = |needle: &str| {
        shown
            .find(needle)
            .unwrap_or_else(|| panic!("no {needle:?} in\n{shown}"))
    };
    let approved_trace = position("payment.amount=99.99");
    assert!(
        position("a payment: txn-123 approved") < position("a slow payment (cross-border"),
        "{shown}"
    );
    assert!(
        approved_trace < position("a slow payment (cross-border"),
        "the approved payment's trace printed late:\n{shown}"
    );
    assert!(
        position("order updates: 10 received") < position("metrics · tonic-traced-demo"),
        "{shown}"
    );
}

/// On a terminal the waterfall's errors are red; with `NO_COLOR` set, the same terminal gets
/// plain text.
#[test]
fn demo_is_coloured_on_a_terminal_unless_no_color() {
    let coloured = demo_on_terminal(None);
    assert!(
        coloured.contains("\x1b[31mERROR: fraud check service unavailable"),
        "{coloured}"
    );
    let plain = demo_on_terminal(Some("1"));
    assert!(
        plain.contains("ERROR: fraud check service unavailable"),
        "{plain}"
    );
    assert!(!plain.contains('\x1b'), "{plain}");
}
