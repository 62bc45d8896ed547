//! README command #1 works with nothing configured: it exits 0 and prints one waterfall per
//! trace, client and server spans and the handler's children under one trace id.

mod common;

use common::{run_example, trace_with};

#[test]
fn demo_prints_connected_traces() {
    let (stdout, traces) = run_example(env!("CARGO_BIN_EXE_demo"), &[]);
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

    // At exit, the RPC metrics as a table: one line per side, method and status.
    let metrics = stdout
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
        // Two approved payments (one slow) and one that failed with UNAVAILABLE.
        assert!(row(side, "OK").contains(" 2 calls "), "{metrics}");
        assert!(row(side, "UNAVAILABLE").contains(" 1 call "), "{metrics}");
        assert!(
            row(side, "OK").contains("request 24 B  response 19 B"),
            "{metrics}"
        );
    }
}
