//! The long-running binaries stop gracefully: on SIGTERM or Ctrl-C a server stops accepting
//! connections, answers the calls in flight, sends every span and metric to the collector (a
//! real OTLP receiver on loopback) and exits 0; the interactive client flushes its traces.
//! Nothing is exported before the signal (schedule and interval far longer than the tests),
//! so what arrives is what the shutdown flushed.

#![cfg(unix)]

mod common;
mod otlp_receiver;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{example, start_server, RunningServer};
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use opentelemetry_proto::tonic::metrics::v1::Metric;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use otlp_receiver::{attributes, ReceivedSpan, Receiver, Transport};
use tonic_traced_examples::loopback::traced_channel;
use tonic_traced_examples::payment::order_service_client::OrderServiceClient;
use tonic_traced_examples::payment::payment_service_client::PaymentServiceClient;
use tonic_traced_examples::payment::{OrderRequest, PaymentRequest};
use tonic_traced_examples::server_binary::DRAIN_TIMEOUT;

/// The payment calls answered at once (USD).
const FAST_CALLS: usize = 90;
/// The payment calls in flight at SIGTERM: EUR ones, 1.2 s each (a cross-border check).
const SLOW_CALLS: usize = 10;
/// The guard's default shutdown timeout, which the servers keep.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);
/// Far longer than a test: no batch of spans and no metrics push happens before shutdown.
const NEVER_MS: &str = "600000";

/// `binary` listening on loopback, exporting spans and metrics to `receiver` over OTLP gRPC,
/// only when it shuts down.
fn server_exporting_to(receiver: &Receiver, binary: &str) -> RunningServer {
    start_server(
        example(binary)
            .arg("127.0.0.1:0")
            .env(
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                receiver.endpoint(Transport::Grpc),
            )
            .env("OTEL_BSP_SCHEDULE_DELAY", NEVER_MS)
            .env("OTEL_METRIC_EXPORT_INTERVAL", NEVER_MS)
            // One log line per call; not so many that stderr's pipe fills up.
            .env("RUST_LOG", "info"),
    )
}

fn payment(currency: &str) -> PaymentRequest {
    PaymentRequest {
        amount: 10.0,
        currency: currency.into(),
        customer_id: "customer-7".into(),
    }
}

/// The total count of the histogram `metric`'s data points.
fn histogram_count(metric: &Metric) -> u64 {
    match &metric.data {
        Some(Data::Histogram(histogram)) => histogram.data_points.iter().map(|p| p.count).sum(),
        other => panic!("{} is not a histogram: {other:?}", metric.name),
    }
}

fn string_attribute(span: &ReceivedSpan, key: &str) -> Option<String> {
    match attributes(&span.span.attributes).get(key) {
        Some(Value::StringValue(value)) => Some(value.clone()),
        _ => None,
    }
}

fn int_attribute(span: &ReceivedSpan, key: &str) -> Option<i64> {
    match attributes(&span.span.attributes).get(key) {
        Some(Value::IntValue(value)) => Some(*value),
        _ => None,
    }
}

/// Waits until connections to `address` are refused; fails the test if that takes a second.
async fn refused_within_a_second(address: SocketAddr) {
    let started = Instant::now();
    loop {
        match TcpStream::connect(address) {
            Err(error) if error.kind() == std::io::ErrorKind::ConnectionRefused => return,
            _ => assert!(
                started.elapsed() < Duration::from_secs(1),
                "{address} still accepts connections 1 s after the signal"
            ),
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A runtime for the test's clients, apart from the receiver's (which a test drops outside
/// any runtime).
fn client_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime for the clients")
}

#[test]
fn payment_server_on_sigterm_answers_calls_in_flight_and_flushes_all_telemetry() {
    let receiver = Receiver::start();
    let mut server = server_exporting_to(&receiver, env!("CARGO_BIN_EXE_payment-server"));
    let signalled = client_runtime().block_on(pay_across_sigterm(&server));

    let (status, stderr) = server.wait_for_exit(DRAIN_TIMEOUT + SHUTDOWN_TIMEOUT);
    assert!(status.success(), "{status}; stderr:\n{stderr}");
    assert!(
        signalled.elapsed() < DRAIN_TIMEOUT,
        "it exits once the calls are answered and the telemetry sent, not at the drain \
         timeout: {:?}",
        signalled.elapsed()
    );
    assert!(
        stderr.contains("stopping: no new connections; waiting up to 10 s for the calls in flight"),
        "{stderr}"
    );
    // No warning but the one that `customer.id` is hashed without a key.
    let warnings = stderr.lines().filter(|line| line.contains("WARN"));
    assert!(
        warnings
            .clone()
            .all(|line| line.contains("hashed without a key")),
        "{stderr}"
    );

    // Every completed call's spans were sent before the process exited.
    let calls = FAST_CALLS + SLOW_CALLS;
    let spans = receiver.spans(
        "payment-service",
        "payment.PaymentService/ProcessPayment",
        calls,
    );
    assert_eq!(spans.len(), calls);
    assert!(spans
        .iter()
        .all(|span| span.span.kind == SpanKind::Server as i32));
    assert!(spans
        .iter()
        .all(|span| int_attribute(span, "rpc.grpc.status_code") == Some(0)));
    let eur = spans
        .iter()
        .filter(|span| string_attribute(span, "payment.currency").as_deref() == Some("EUR"))
        .count();
    assert_eq!(eur, SLOW_CALLS);
    for child in ["validate_payment", "fraud_check"] {
        assert_eq!(receiver.spans("payment-service", child, calls).len(), calls);
    }
    // And the RPC metrics, with every call counted.
    let duration = receiver.latest_metric("payment-service", "rpc.server.duration", |_| true);
    assert_eq!(histogram_count(&duration.metric), calls as u64);
}

/// Makes [`FAST_CALLS`] calls to `server`, sends SIGTERM while [`SLOW_CALLS`] more are in
/// flight, and checks that it stops accepting connections at once and answers those calls.
/// Returns when SIGTERM was sent.
async fn pay_across_sigterm(server: &RunningServer) -> Instant {
    let client = PaymentServiceClient::new(traced_channel(server.address).await.expect("connects"));
    let call = |currency: &'static str| {
        let mut client = client.clone();
        tokio::spawn(async move { client.process_payment(payment(currency)).await })
    };
    // One connection: the slow requests, sent first, are in the server once the fast ones
    // sent after them are answered.
    let slow: Vec<_> = (0..SLOW_CALLS).map(|_| call("EUR")).collect();
    let fast: Vec<_> = (0..FAST_CALLS).map(|_| call("USD")).collect();
    for reply in fast {
        let reply = reply.await.unwrap().expect("a fast call is answered");
        assert_eq!(reply.into_inner().status, "approved");
    }
    assert!(
        slow.iter().all(|call| !call.is_finished()),
        "the slow calls are still in flight at SIGTERM"
    );

    server.signal(libc::SIGTERM);
    let signalled = Instant::now();

    // It stops accepting at once: the listening socket is closed while calls still run.
    refused_within_a_second(server.address).await;
    assert!(
        slow.iter().all(|call| !call.is_finished()),
        "the slow calls are still in flight when the listener closes"
    );
    for reply in slow {
        let reply = reply
            .await
            .unwrap()
            .expect("a call in flight at SIGTERM is answered");
        assert_eq!(reply.into_inner().status, "approved");
    }

    signalled
}

#[test]
fn payment_server_on_a_second_sigterm_cuts_off_the_calls_in_flight() {
    let mut server = start_server(
        example(env!("CARGO_BIN_EXE_payment-server"))
            .arg("127.0.0.1:0")
            .env("OTEL_TRACES_EXPORTER", "none")
            .env("OTEL_METRICS_EXPORTER", "none"),
    );
    let slow = client_runtime().block_on(async {
        let mut client =
            PaymentServiceClient::new(traced_channel(server.address).await.expect("connects"));
        let slow = tokio::spawn({
            let mut client = client.clone();
            async move { client.process_payment(payment("EUR")).await }
        });
        // Answered after the slow call reached the server, on the same connection.
        client
            .process_payment(payment("USD"))
            .await
            .expect("a fast call is answered");
        server.signal(libc::SIGTERM);
        refused_within_a_second(server.address).await;
        server.signal(libc::SIGTERM);
        slow.await.unwrap()
    });
    let (status, stderr) = server.wait_for_exit(SHUTDOWN_TIMEOUT);
    assert!(status.success(), "{status}; stderr:\n{stderr}");
    // The connection closes under it (how the client words that varies: a reset, a broken
    // pipe).
    slow.expect_err("the slow call is cut off, unanswered");
    assert!(
        stderr.contains(
            " WARN tonic_traced_examples::server_binary: stopping at a second signal: the calls \
             still in flight are cut off, unanswered\n"
        ),
        "{stderr}"
    );
}

#[test]
fn order_server_on_ctrl_c_finishes_the_stream_in_flight() {
    let receiver = Receiver::start();
    let mut server = server_exporting_to(&receiver, env!("CARGO_BIN_EXE_order-server"));
    client_runtime().block_on(stream_across_ctrl_c(&server));
    let (status, stderr) = server.wait_for_exit(DRAIN_TIMEOUT + SHUTDOWN_TIMEOUT);
    assert!(status.success(), "{status}; stderr:\n{stderr}");

    let spans = receiver.spans(
        "order-service",
        "payment.OrderService/StreamOrderUpdates",
        1,
    );
    let [span] = spans.as_slice() else {
        panic!("one SERVER span: {spans:#?}");
    };
    assert_eq!(span.span.kind, SpanKind::Server as i32);
    assert_eq!(int_attribute(span, "rpc.grpc.status_code"), Some(0));
    let duration = receiver.latest_metric("order-service", "rpc.server.duration", |_| true);
    assert_eq!(histogram_count(&duration.metric), 1);
}

/// Starts a stream of order updates from `server`, sends SIGINT (Ctrl-C) after the first
/// update, and checks that the other nine come and the stream ends OK.
async fn stream_across_ctrl_c(server: &RunningServer) {
    let channel = traced_channel(server.address).await.expect("connects");
    let mut updates = OrderServiceClient::new(channel)
        .stream_order_updates(OrderRequest {
            order_id: "order-42".into(),
        })
        .await
        .expect("the stream starts")
        .into_inner();
    let first = updates.message().await.expect("an update").expect("one");
    assert_eq!(first.status, "Processing step 0");

    server.signal(libc::SIGINT);

    let mut received = 1;
    while let Some(update) = updates.message().await.expect("the stream goes on") {
        assert_eq!(update.status, format!("Processing step {received}"));
        received += 1;
    }
    assert_eq!(received, 10, "all ten updates, the stream ending OK");
}

#[test]
fn capitalize_client_on_ctrl_c_prints_its_traces_and_exits_0() {
    let server = start_server(
        example(env!("CARGO_BIN_EXE_capitalize-server"))
            .env("OTEL_TRACES_EXPORTER", "none")
            .env("OTEL_METRICS_EXPORTER", "none"),
    );
    let mut client = example(env!("CARGO_BIN_EXE_capitalize-client"))
        .arg(server.address.to_string())
        .env("OTEL_METRICS_EXPORTER", "none")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the client starts");
    // Stdin stays open: the client stops for the signal, not for the end of its input.
    let mut stdin = client.stdin.take().expect("piped stdin");
    writeln!(stdin, "hello").expect("the client reads");
    let mut stdout = BufReader::new(client.stdout.take().expect("piped stdout"));
    let mut answer = String::new();
    stdout.read_line(&mut answer).expect("the client answers");
    assert_eq!(answer, "> < HELLO\n");

    let pid = libc::pid_t::try_from(client.id()).expect("a pid");
    // SAFETY: kill(2) only reads its two integer arguments.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);

    let mut rest = String::new();
    stdout
        .read_to_string(&mut rest)
        .expect("the client's output");
    let status = client.wait().expect("the client exits");
    assert!(status.success(), "{status}: {rest}");
    // The waterfall of the call, on stderr.
    let mut stderr = String::new();
    client
        .stderr
        .take()
        .expect("piped stderr")
        .read_to_string(&mut stderr)
        .expect("the client's stderr");
    let trace = stderr
        .split_once("trace ")
        .map(|(_, trace)| trace)
        .unwrap_or_else(|| panic!("no trace printed: {stderr:?}"));
    assert!(trace.contains("· 1 span "), "{trace}");
    assert!(
        trace.contains("rpc.Fetch/Capitalize  CLIENT") && trace.contains("  OK"),
        "{trace}"
    );
    drop(stdin);
}
