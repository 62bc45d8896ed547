//! The OpenCensus tutorial's Prometheus views, through a real Prometheus server (Debian package
//! `prometheus`): `capitalize-server` serves its RPC metrics on `/metrics`
//! (`OTEL_METRICS_EXPORTER=prometheus`), `capitalize-client` makes a few calls, Prometheus
//! scrapes the server every second, and its query API shows the completed RPCs by method and
//! status, the latency distribution and the bytes sent per RPC, with exact values; with
//! exemplar storage on, the latency buckets' exemplars name the client's traces. A
//! `payment-server` scraped beside it, called by `payment-client` with payments that succeed
//! and fail, shows the completed RPCs split by status code.
//!
//! Without `prometheus` on `PATH` the test is skipped, or fails under `CI=true`:
//! `scripts/test.sh` installs it.

mod common;
mod prometheus_server;

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;

use common::{example, free_port, run_with_input, start_server, traces_in, RunningServer};
use prometheus_server::{assert_labels, only, selector, Prometheus, Series, TempDir};
use prost::Message;
use tonic_traced_examples::rpc::Payload;

/// What the client is fed, one call per line: an empty payload, a non-ASCII one (left as it
/// is) and one long enough for a two-byte length prefix.
fn input_lines() -> Vec<String> {
    vec![
        "hello".to_owned(),
        "world".to_owned(),
        String::new(),
        "OpenCensus → OpenTelemetry".to_owned(),
        "x".repeat(300),
    ]
}

#[test]
fn prometheus_scrapes_completed_rpcs_latency_and_bytes_from_capitalize_server() {
    let Some(prometheus_binary) = prometheus_server::binary_or_skip() else {
        return;
    };
    let dir = TempDir::new();
    let metrics_port = free_port();
    let server = start_with_metrics_endpoint(env!("CARGO_BIN_EXE_capitalize-server"), metrics_port);
    let payment_metrics_port = free_port();
    let payments =
        start_with_metrics_endpoint(env!("CARGO_BIN_EXE_payment-server"), payment_metrics_port);
    // Approved (OK), declined (FAILED_PRECONDITION), fraud check down (UNAVAILABLE), twice.
    for (amount, expected_exit) in [("99.99", 0), ("7500", 1), ("25000", 1), ("25000", 1)] {
        let output = example(env!("CARGO_BIN_EXE_payment-client"))
            .env("OTEL_TRACES_EXPORTER", "none")
            .env("OTEL_METRICS_EXPORTER", "none")
            .args([&payments.address.to_string(), amount])
            .output()
            .expect("payment-client runs");
        assert_eq!(output.status.code(), Some(expected_exit), "{output:?}");
    }

    let lines = input_lines();
    let requests: Vec<Payload> = (1..)
        .zip(&lines)
        .map(|(id, line)| payload(id, line.as_bytes()))
        .collect();
    let replies: Vec<Payload> = requests
        .iter()
        .map(|request| payload(request.id, &request.data.to_ascii_uppercase()))
        .collect();
    let (stdout, stderr) = run_client(server.address, &lines);
    for reply in &replies {
        let line = format!("< {}\n", String::from_utf8_lossy(&reply.data));
        assert!(stdout.contains(&line), "no reply {line:?} in:\n{stdout}");
    }
    // The client prints each call's trace on stderr, `trace <id> · 1 span · …`; the server's
    // spans join them (the server exports none, but samples as its caller did).
    let client_traces: BTreeSet<String> = traces_in(&stderr)
        .iter()
        .map(|trace| {
            trace
                .split_whitespace()
                .nth(1)
                .expect("a trace id")
                .to_owned()
        })
        .collect();
    assert_eq!(client_traces.len(), lines.len(), "{stderr}");

    let mut prometheus = Prometheus::start(
        &prometheus_binary,
        &dir.0,
        &[
            ("capitalize", metrics_port),
            ("payment", payment_metrics_port),
        ],
    );
    let calls = lines.len() as f64;
    let method = [
        ("job", "capitalize"),
        ("rpc_method", "Capitalize"),
        ("rpc_grpc_status_code", "0"),
    ];

    // Completed RPCs by method and status: every call, all OK.
    let completed =
        prometheus.wait_for(r#"rpc_server_duration_milliseconds_count{job="capitalize"}"#);
    let completed = only(completed, "rpc_server_duration_milliseconds_count");
    assert_labels(
        &completed,
        &[
            ("rpc_system", "grpc"),
            ("rpc_service", "rpc.Fetch"),
            ("rpc_method", "Capitalize"),
            ("rpc_grpc_status_code", "0"),
            ("otel_scope_name", "tonic-traced"),
        ],
    );
    assert_eq!(completed.value, calls);

    // Completed RPCs of another server by status code: one OK, one FAILED_PRECONDITION (9),
    // two UNAVAILABLE (14).
    let by_status = prometheus.wait_for(
        r#"sum by (rpc_method, rpc_grpc_status_code) (rpc_server_duration_milliseconds_count{job="payment"})"#,
    );
    let by_status: BTreeMap<(String, String), f64> = by_status
        .into_iter()
        .map(|series| {
            let label = |name: &str| series.labels.get(name).cloned().unwrap_or_default();
            (
                (label("rpc_method"), label("rpc_grpc_status_code")),
                series.value,
            )
        })
        .collect();
    let expected: BTreeMap<(String, String), f64> = [("0", 1.0), ("9", 1.0), ("14", 2.0)]
        .into_iter()
        .map(|(code, calls)| (("ProcessPayment".to_owned(), code.to_owned()), calls))
        .collect();
    assert_eq!(by_status, expected);

    // The latency distribution: cumulative buckets ending with every call in `+Inf`.
    let mut buckets = prometheus.query(&selector(
        "rpc_server_duration_milliseconds_bucket",
        &method,
    ));
    assert!(
        buckets.len() > 1,
        "one bucket series per bound: {buckets:?}"
    );
    let bound = |series: &Series| -> f64 {
        let le = series
            .labels
            .get("le")
            .unwrap_or_else(|| panic!("a bucket has `le`: {series:?}"));
        le.parse()
            .unwrap_or_else(|_| panic!("`le` is a number: {series:?}"))
    };
    buckets.sort_by(|a, b| bound(a).total_cmp(&bound(b)));
    assert!(
        buckets
            .windows(2)
            .all(|pair| pair[0].value <= pair[1].value),
        "cumulative buckets: {buckets:?}"
    );
    let last = buckets.last().expect("buckets");
    assert_eq!(last.labels["le"], "+Inf", "{buckets:?}");
    assert_eq!(last.value, calls, "{buckets:?}");
    let latency = only(
        prometheus.query(&selector("rpc_server_duration_milliseconds_sum", &method)),
        "rpc_server_duration_milliseconds_sum",
    );
    assert!(latency.value > 0.0, "{latency:?}");

    // Bytes and messages per RPC: each call one encoded message each way.
    for (name, expected) in [
        (
            "rpc_server_request_size_bytes_sum",
            encoded_bytes(&requests),
        ),
        (
            "rpc_server_response_size_bytes_sum",
            encoded_bytes(&replies),
        ),
        ("rpc_server_response_size_bytes_count", calls),
        ("rpc_server_requests_per_rpc_sum", calls),
        ("rpc_server_responses_per_rpc_sum", calls),
    ] {
        let series = only(prometheus.query(&selector(name, &method)), name);
        assert_eq!(series.value, expected, "{name}: {series:?}");
    }

    let target = only(
        prometheus.query(r#"target_info{job="capitalize"}"#),
        "target_info",
    );
    assert_labels(&target, &[("service_name", "capitalize-server")]);

    // Exemplars: a latency bucket links to a trace the client made, the call in the bucket.
    let exemplars = prometheus.wait_for_exemplars(&selector(
        "rpc_server_duration_milliseconds_bucket",
        &method,
    ));
    for exemplar in &exemplars {
        let le: f64 = exemplar.series["le"].parse().expect("`le` is a number");
        assert!(
            client_traces.contains(exemplar.labels["trace_id"].as_str()),
            "an exemplar of the client's traces {client_traces:?}: {exemplar:?}"
        );
        assert_eq!(exemplar.labels["span_id"].len(), 16, "{exemplar:?}");
        assert!(
            exemplar.value <= le && exemplar.value > 0.0,
            "the call's duration is in its bucket: {exemplar:?}"
        );
    }
}

fn payload(id: i32, data: &[u8]) -> Payload {
    Payload {
        id,
        data: data.to_vec(),
    }
}

fn encoded_bytes(messages: &[Payload]) -> f64 {
    messages
        .iter()
        .map(|message| message.encoded_len() as f64)
        .sum()
}

/// Starts the server `binary` on a free port, exporting no traces, with its Prometheus
/// endpoint on `127.0.0.1:metrics_port`.
fn start_with_metrics_endpoint(binary: &str, metrics_port: u16) -> RunningServer {
    start_server(
        example(binary)
            .arg("127.0.0.1:0")
            .env("OTEL_TRACES_EXPORTER", "none")
            .env("OTEL_METRICS_EXPORTER", "prometheus")
            .env("OTEL_EXPORTER_PROMETHEUS_HOST", "127.0.0.1")
            .env("OTEL_EXPORTER_PROMETHEUS_PORT", metrics_port.to_string()),
    )
}

/// Feeds `lines` to `capitalize-client address` through a pipe; its stdout, with the replies,
/// and its stderr, with the waterfall of each call's trace and nothing else.
fn run_client(address: SocketAddr, lines: &[String]) -> (String, String) {
    let input: String = lines.iter().map(|line| format!("{line}\n")).collect();
    let output = run_with_input(
        example(env!("CARGO_BIN_EXE_capitalize-client"))
            .env("OTEL_METRICS_EXPORTER", "none")
            // The examples' binaries hold the payment messages' HASH field: with a key, as
            // deployed, setup has nothing to warn about.
            .env("TONIC_TRACED_HASH_KEY", "prometheus-test-key")
            .arg(address.to_string()),
        &input,
    );
    let stdout = String::from_utf8(output.stdout).expect("UTF-8 output");
    let stderr = String::from_utf8(output.stderr).expect("UTF-8 output");
    assert!(
        output.status.success()
            && stderr
                .split("\n\n")
                .all(|block| block.is_empty() || block.starts_with("trace ")),
        "the client failed or complained:\n{stdout}\n{stderr}"
    );
    (stdout, stderr)
}
