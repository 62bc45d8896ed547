//! docs/finding-calls.md's Jaeger HTTP API commands, run as written against a real Jaeger (v2,
//! in-memory storage) that deploy/'s two collector tiers feed: the doc's payments are made
//! with the examples' `payment-client` through `payment-server`, the tail keeps the slow, the
//! failed and the declined one, and each of the doc's queries prints exactly the trace id of
//! its call: the slow call (over 1 s), the failed one (`UNAVAILABLE`), the payment of 250 by
//! its annotated `payment.amount`.
//!
//! The commands run through `sh` with `curl` and `jq`, the only change being `JAEGER` (which
//! the doc reads from the environment) pointing at the test's Jaeger. Needs Go, to build the
//! Collector and Jaeger (see `tonic_traced_tests::go`), and `curl` and `jq`.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use tonic_traced_docs_check::markdown::documents;
use tonic_traced_tests::collector::Tiers;
use tonic_traced_tests::jaeger::Trace;
use tonic_traced_tests::services::{
    pay, payment_traces, whole_payment, PaymentServer, PROCESS_PAYMENT,
};

const SERVER: &str = env!("CARGO_BIN_EXE_tests-payment-server");
const CLIENT: &str = env!("CARGO_BIN_EXE_tests-payment-client");
const DOC: &str = "docs/finding-calls.md";
/// How long the kept traces may take to reach Jaeger: the first tier's batch (`timeout: 5s`),
/// the decision wait (`collector::DECISION_WAIT`, 8 s), the second tier's batch and Jaeger's, with room.
const ARRIVAL: Duration = Duration::from_secs(40);

/// The fenced block of the doc whose text contains `needle`.
fn doc_block(needle: &str) -> String {
    let doc = documents()
        .into_iter()
        .find(|document| document.path == DOC)
        .unwrap();
    let blocks: Vec<String> = doc
        .blocks()
        .into_iter()
        .filter(|block| block.code.contains(needle))
        .map(|block| block.code)
        .collect();
    assert_eq!(blocks.len(), 1, "{DOC}: blocks with {needle:?}");
    blocks[0].clone()
}

/// The payments the doc makes (`payment-client 127.0.0.1:50051 [AMOUNT [CURRENCY]]`): their
/// arguments after the address.
fn doc_payments() -> Vec<Vec<String>> {
    doc_block("payment-client 127.0.0.1:50051")
        .lines()
        .filter_map(|line| line.strip_prefix("payment-client 127.0.0.1:50051"))
        .map(|rest| {
            let arguments = rest.split('#').next().unwrap();
            arguments.split_whitespace().map(str::to_owned).collect()
        })
        .collect()
}

/// The doc's Jaeger queries, by the comment above each: each is the block's lines before the
/// first comment (the variables it sets), then its own lines.
fn doc_queries() -> BTreeMap<String, String> {
    let block = doc_block("/api/traces");
    let mut preamble = String::new();
    let mut queries: Vec<(String, String)> = Vec::new();
    for line in block.lines() {
        if let Some(title) = line.strip_prefix("# ") {
            queries.push((title.to_owned(), preamble.clone()));
        } else if let Some((_, query)) = queries.last_mut() {
            query.push_str(line);
            query.push('\n');
        } else {
            preamble.push_str(line);
            preamble.push('\n');
        }
    }
    queries.into_iter().collect()
}

/// Runs a query of the doc with `sh`, `JAEGER` set to `jaeger`; returns the lines it printed.
fn run_query(script: &str, jaeger: &str) -> Vec<String> {
    let output = Command::new("sh")
        .args(["-c", script])
        .env("JAEGER", jaeger)
        .output()
        .expect("sh runs");
    assert!(
        output.status.success() && output.stderr.is_empty(),
        "{script}\n{output:?}"
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// The one trace of `traces` that `is` picks.
fn the_one(traces: &BTreeMap<String, Trace>, is: impl Fn(&Trace) -> bool) -> &Trace {
    let found: Vec<&Trace> = traces.values().filter(|trace| is(trace)).collect();
    assert_eq!(found.len(), 1, "{traces:#?}");
    found[0]
}

#[test]
fn the_docs_jaeger_queries_find_the_slow_and_the_failed_call() {
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("pipeline");
    let logs = out.join("logs-jaeger-queries");
    let Some(tiers) = Tiers::start(&out, &logs) else {
        return;
    };
    // The server and the client send to different first-tier collectors: the trace comes
    // together in the second tier.
    let server = PaymentServer::start(
        Path::new(SERVER),
        "payment-server",
        tiers.first[0].otlp_grpc,
        &logs,
    );
    let payments = doc_payments();
    assert_eq!(payments.len(), 4, "{payments:?}");
    for arguments in &payments {
        let amount = arguments.first().map_or("99.99", String::as_str);
        let currency = arguments.get(1).map_or("USD", String::as_str);
        let output = pay(
            Path::new(CLIENT),
            tiers.first[1].otlp_grpc,
            "",
            &server.address,
            amount,
            currency,
        );
        assert!(
            output.status.code().is_some_and(|code| code <= 1),
            "{output:?}"
        );
    }

    // Three of the four are kept whatever their trace id: the slow one and the two errors.
    let deadline = Instant::now() + ARRIVAL;
    let traces = loop {
        let traces = payment_traces(&tiers.jaeger);
        if traces.len() >= 3 && traces.values().all(|trace| whole_payment(trace).is_ok()) {
            break traces;
        }
        assert!(Instant::now() < deadline, "after {ARRIVAL:?}: {traces:#?}");
        std::thread::sleep(Duration::from_millis(500));
    };
    let server_span = |trace: &Trace| trace.span("payment-service", PROCESS_PAYMENT).clone();
    let slow = the_one(&traces, |trace| server_span(trace).duration >= 1_000_000);
    assert_eq!(server_span(slow).tag("payment.currency"), Some("EUR"));
    let failed = the_one(&traces, |trace| {
        server_span(trace).tag("rpc.grpc.status_code") == Some("14")
    });
    assert_eq!(server_span(failed).tag("error"), Some("true"));
    let declined = the_one(&traces, |trace| {
        server_span(trace).tag("rpc.grpc.status_code") == Some("9")
    });
    // Declined is the caller's fault: an error on the client span only, which keeps the trace.
    assert_eq!(server_span(declined).tag("error"), None);
    let client = declined.span("payment-client", PROCESS_PAYMENT);
    assert_eq!(client.tag("error"), Some("true"));

    // Every query of the doc, and only these, each finding exactly its call.
    let expected = BTreeMap::from([
        ("slow server calls", slow),
        ("UNAVAILABLE calls", failed),
        ("payments of 250, by an annotated field", slow),
    ]);
    let queries = doc_queries();
    assert_eq!(
        queries.keys().map(String::as_str).collect::<Vec<_>>(),
        expected.keys().copied().collect::<Vec<_>>(),
        "the doc's queries"
    );
    for (title, trace) in expected {
        let found = run_query(&queries[title], &tiers.jaeger.url());
        assert_eq!(found, [trace.id.as_str()], "{title}: {}", queries[title]);
    }
}
