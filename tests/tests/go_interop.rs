//! Interop with the official OpenTelemetry gRPC instrumentation of Go (`otelgrpc`'s stats
//! handlers), both directions: the first tutorial's payment service and order-update stream
//! (`tests/go/main.go`) calling and called by ours (`tonic-traced-examples`). One trace across
//! the languages, the CLIENT span the parent of the remote SERVER span both ways, the caller's
//! `tracestate` kept, each side's status rule, our message spans beside otelgrpc's spans, and
//! nothing recorded on either side under an unsampled parent.
//!
//! Needs Go (`go` on `PATH`, or `/usr/local/go/bin/go`); the peer is built once per run with
//! `go build` into the cargo target's tmp dir, with Go's default build and module caches.
//! Under `CI=true` a missing Go fails the test; otherwise the test is skipped.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::str::FromStr;
use std::sync::OnceLock;
use std::time::Duration;

use opentelemetry::trace::{
    FutureExt as _, SpanContext, SpanId, SpanKind, Status, TraceContextExt as _, TraceFlags,
    TraceId, TraceState,
};
use opentelemetry::{Context, Value};
use opentelemetry_sdk::trace::SpanData;
use serde_json::Value as Json;
use tonic::transport::Server;
use tonic::Code;
use tonic_traced_examples::loopback::traced_channel;
use tonic_traced_examples::order_service::OrderUpdates;
use tonic_traced_examples::payment::order_service_client::OrderServiceClient;
use tonic_traced_examples::payment::order_service_server::OrderServiceServer;
use tonic_traced_examples::payment::payment_service_client::PaymentServiceClient;
use tonic_traced_examples::payment::payment_service_server::PaymentServiceServer;
use tonic_traced_examples::payment::{OrderRequest, PaymentRequest};
use tonic_traced_examples::payment_service::Payments;
use tonic_traced_tests::go;
use tonic_traced_tests::harness::{attribute, remote_parent, serve, telemetry, Telemetry};

const GO_MODULE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/go");
/// A caller's `tracestate`, which every span of the trace must keep, on both sides.
const TRACESTATE: &str = "vendor=go-interop,rojo=00f067aa0ba902b7";
/// Updates per order stream: the tutorial's ten, on both sides.
const UPDATES: usize = 10;

/// The three calls each client makes, in order: method, status code, messages received.
const CALLS: [(&str, Code, usize); 3] = [
    ("payment.PaymentService/ProcessPayment", Code::Ok, 0),
    ("payment.OrderService/StreamOrderUpdates", Code::Ok, UPDATES),
    (
        "payment.PaymentService/ProcessPayment",
        Code::FailedPrecondition,
        0,
    ),
];

/// The Go peer, built once per test binary; `None` (the test skips) when there is no Go and
/// not under CI.
fn go_peer() -> Option<&'static Path> {
    static PEER: OnceLock<Option<PathBuf>> = OnceLock::new();
    PEER.get_or_init(|| {
        let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("go-interop");
        go::build(Path::new(GO_MODULE), ".", &out, "interop")
    })
    .as_deref()
}

/// A file for the Go peer's spans, unique to one test.
fn spans_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("go-interop")
        .join(format!("{name}-{}.jsonl", std::process::id()))
}

/// The spans the Go peer wrote, one JSON object a line.
fn go_spans(path: &Path) -> Vec<Json> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|error| panic!("{}: {error}", path.display()))
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

fn text(span: &Json, key: &str) -> String {
    span[key].as_str().unwrap_or_default().to_owned()
}

fn spans_of_trace(spans: &[Json], trace_id: TraceId) -> Vec<Json> {
    spans
        .iter()
        .filter(|span| text(span, "trace_id") == trace_id.to_string())
        .cloned()
        .collect()
}

/// The gRPC status code's name, as otelgrpc records it in `rpc.response.status_code`.
fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        other => panic!("no call ends with {other:?}"),
    }
}

/// otelgrpc 0.72 follows the current RPC conventions (`rpc.system.name`, `rpc.method` as
/// `service/method`, `rpc.response.status_code` by name); ours, in whichever convention this
/// run uses, must say the same.
fn assert_same_rpc_attributes(ours: &SpanData, theirs: &Json, code: Code, port: u16) {
    let attributes = &theirs["attributes"];
    assert_eq!(attributes["rpc.system.name"], "grpc");
    let system = attribute(ours, "rpc.system").or_else(|| attribute(ours, "rpc.system.name"));
    assert_eq!(system, Some("grpc".into()));
    assert_eq!(ours.name, text(theirs, "name"));
    // The old conventions' `rpc.method` is the bare method, beside `rpc.service`; the stable
    // one (also in `dup` mode) is `service/method`.
    let method = attribute(ours, "rpc.method").unwrap().to_string();
    let method = match attribute(ours, "rpc.service") {
        Some(service) if !method.contains('/') => format!("{service}/{method}"),
        _ => method,
    };
    assert_eq!(attributes["rpc.method"], method);
    assert_eq!(attributes["rpc.response.status_code"], code_name(code));
    if let Some(ours) = attribute(ours, "rpc.grpc.status_code") {
        assert_eq!(ours, Value::I64(code as i64));
    }
    if let Some(ours) = attribute(ours, "rpc.response.status_code") {
        assert_eq!(ours.to_string(), code_name(code));
    }
    assert_eq!(attributes["server.port"], u64::from(port), "{theirs}");
    assert_eq!(
        attribute(ours, "server.port"),
        Some(Value::I64(i64::from(port)))
    );
}

/// otelgrpc's status rules, as the conventions have them: a CLIENT span is an error for every
/// code but OK, a SERVER span only for the codes that mean the server failed (not
/// FAILED_PRECONDITION).
fn assert_their_status(theirs: &Json, code: Code) {
    let error = code != Code::Ok && text(theirs, "kind") == "CLIENT";
    let expected = if error { "ERROR" } else { "UNSET" };
    assert_eq!(text(theirs, "status"), expected, "{theirs}");
}

/// Ours follow the same rules.
fn assert_our_status(ours: &SpanData, code: Code) {
    if code != Code::Ok && ours.span_kind == SpanKind::Client {
        assert!(matches!(ours.status, Status::Error { .. }), "{ours:?}");
    } else {
        assert_eq!(ours.status, Status::Unset, "{ours:?}");
    }
}

/// otelgrpc records no message events (none since 0.67): a span's messages are ours alone.
fn assert_no_message_events(theirs: &Json) {
    assert_eq!(theirs["events"], Json::Array(vec![]), "{theirs}");
}

/// Our message spans of the stream: one per update, children of our RPC span.
fn assert_our_message_spans(telemetry: &Telemetry, rpc: &SpanData, name: &str) {
    let messages: Vec<SpanData> = telemetry
        .trace(rpc.span_context.trace_id())
        .into_iter()
        .filter(|span| span.parent_span_id == rpc.span_context.span_id() && span.name == name)
        .collect();
    assert_eq!(messages.len(), UPDATES, "{name} spans of {}", rpc.name);
    for message in &messages {
        assert_eq!(
            attribute(message, "order.id"),
            Some("order-1".into()),
            "{message:?}"
        );
    }
}

/// Nothing of an unsampled trace is recorded here: no span exported, none even open.
async fn assert_nothing_recorded_here(telemetry: &Telemetry, trace_id: TraceId) {
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(telemetry.trace(trace_id).is_empty(), "{trace_id}");
    assert_eq!(telemetry.open_spans(trace_id), 0);
}

/// Serves the examples' payment and order services on loopback.
async fn our_server() -> std::net::SocketAddr {
    let orders = OrderUpdates {
        updates: UPDATES,
        interval: Duration::from_millis(10),
    };
    serve(
        Server::builder()
            .add_service(PaymentServiceServer::new(Payments::default()))
            .add_service(OrderServiceServer::new(orders)),
    )
    .await
}

/// Runs the Go client against `address` under `traceparent` (and [`TRACESTATE`]); returns
/// the status codes and message counts it saw.
async fn go_client(peer: &Path, spans: &Path, address: String, traceparent: String) -> Vec<Json> {
    let (peer, spans) = (peer.to_owned(), spans.to_owned());
    let output = tokio::task::spawn_blocking(move || {
        Command::new(peer)
            .arg("-spans")
            .arg(spans)
            .args(["call", &address, &traceparent, TRACESTATE])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let calls: Json = serde_json::from_str(stdout.trim()).unwrap();
    calls["calls"].as_array().unwrap().clone()
}

fn assert_go_client_saw(calls: &[Json]) {
    assert_eq!(calls.len(), CALLS.len(), "{calls:?}");
    for (call, (method, code, messages)) in calls.iter().zip(CALLS) {
        assert!(method.ends_with(call["method"].as_str().unwrap()), "{call}");
        assert_eq!(call["code"], code as i32, "{call}");
        assert_eq!(call["messages"], messages, "{call}");
    }
}

#[tokio::test]
async fn go_client_calls_our_server() {
    let Some(peer) = go_peer() else {
        return;
    };
    let telemetry = telemetry();
    let address = our_server().await;

    // Unsampled first: by the time the sampled calls' spans are in, these calls are long done.
    let unsampled_spans = spans_file("client-unsampled");
    let (unsampled, _, traceparent) = remote_parent(false);
    let calls = go_client(peer, &unsampled_spans, address.to_string(), traceparent).await;
    assert_go_client_saw(&calls);
    assert_eq!(go_spans(&unsampled_spans), Vec::<Json>::new());

    let spans = spans_file("client-sampled");
    let (trace_id, parent, traceparent) = remote_parent(true);
    let calls = go_client(peer, &spans, address.to_string(), traceparent).await;
    assert_go_client_saw(&calls);
    let theirs = go_spans(&spans);
    assert_eq!(theirs.len(), CALLS.len(), "{theirs:#?}");

    for (go_span, (method, code, _)) in theirs.iter().zip(CALLS) {
        // Their CLIENT span: a child of the caller's span, in its trace, keeping its state.
        assert_eq!(text(go_span, "kind"), "CLIENT");
        assert_eq!(text(go_span, "name"), method);
        assert_eq!(text(go_span, "trace_id"), trace_id.to_string());
        assert_eq!(text(go_span, "parent_span_id"), parent.to_string());
        assert_eq!(text(go_span, "trace_state"), TRACESTATE);
        assert_their_status(go_span, code);
        assert_no_message_events(go_span);

        // Our SERVER span: the child of their CLIENT span.
        let their_id = SpanId::from_hex(&text(go_span, "span_id")).unwrap();
        let ours = telemetry
            .wait_for(|t| {
                t.trace(trace_id).into_iter().find(|span| {
                    span.span_kind == SpanKind::Server && span.parent_span_id == their_id
                })
            })
            .await;
        assert!(ours.parent_span_is_remote);
        assert_eq!(ours.span_context.trace_state().header(), TRACESTATE);
        assert_same_rpc_attributes(&ours, go_span, code, address.port());
        assert_our_status(&ours, code);
        if code == Code::Ok && method.ends_with("StreamOrderUpdates") {
            assert_our_message_spans(telemetry, &ours, "message SENT");
        }
    }
    // The tutorial's child span, made with the plain OpenTelemetry API in our handler, is in
    // the same trace too.
    let validations = telemetry
        .trace(trace_id)
        .into_iter()
        .filter(|span| span.name == "validate_payment")
        .count();
    assert_eq!(validations, 2);

    assert_nothing_recorded_here(telemetry, unsampled).await;
}

/// The three calls, made by our traced clients to `address` under the parent `parent`.
async fn our_calls(address: std::net::SocketAddr, parent: Context) {
    async move {
        let channel = traced_channel(address).await.unwrap();
        let mut payments = PaymentServiceClient::new(channel.clone());
        let mut orders = OrderServiceClient::new(channel);
        let payment = |amount| PaymentRequest {
            amount,
            currency: "USD".into(),
            customer_id: "cust-123".into(),
        };
        let approved = payments.process_payment(payment(99.99)).await.unwrap();
        assert_eq!(approved.into_inner().status, "approved");
        let mut updates = orders
            .stream_order_updates(OrderRequest {
                order_id: "order-1".into(),
            })
            .await
            .unwrap()
            .into_inner();
        let mut received = 0;
        while updates.message().await.unwrap().is_some() {
            received += 1;
        }
        assert_eq!(received, UPDATES);
        let declined = payments.process_payment(payment(6000.0)).await.unwrap_err();
        assert_eq!(declined.code(), Code::FailedPrecondition);
    }
    .with_context(parent)
    .await;
}

/// A remote parent with [`TRACESTATE`]: the caller of our client.
fn caller(sampled: bool) -> (TraceId, SpanId, Context) {
    let (trace_id, span_id, _) = remote_parent(sampled);
    let flags = if sampled {
        TraceFlags::SAMPLED
    } else {
        TraceFlags::default()
    };
    let state = TraceState::from_str(TRACESTATE).unwrap();
    let context = SpanContext::new(trace_id, span_id, flags, true, state);
    (
        trace_id,
        span_id,
        Context::new().with_remote_span_context(context),
    )
}

#[tokio::test]
async fn our_client_calls_a_go_server() {
    let Some(peer) = go_peer() else {
        return;
    };
    let telemetry = telemetry();
    let spans = spans_file("server");
    let mut go = Command::new(peer)
        .arg("-spans")
        .arg(&spans)
        .args(["serve", "127.0.0.1:0"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(go.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let port = serde_json::from_str::<Json>(&first).unwrap()["port"]
        .as_u64()
        .unwrap_or_else(|| panic!("no port from the Go server: {first:?}")) as u16;
    let address = std::net::SocketAddr::from(([127, 0, 0, 1], port));

    let (trace_id, parent, context) = caller(true);
    our_calls(address, context).await;
    let (unsampled, _, context) = caller(false);
    our_calls(address, context).await;

    // The Go server stops gracefully when its stdin closes, flushing its spans.
    drop(go.stdin.take());
    let status = tokio::task::spawn_blocking(move || go.wait().unwrap())
        .await
        .unwrap();
    assert!(status.success());
    let all = go_spans(&spans);
    assert_eq!(spans_of_trace(&all, unsampled), Vec::<Json>::new());
    let theirs = spans_of_trace(&all, trace_id);
    let their_servers: Vec<&Json> = theirs
        .iter()
        .filter(|span| text(span, "kind") == "SERVER")
        .collect();
    assert_eq!(their_servers.len(), CALLS.len(), "{theirs:#?}");

    let our_clients = telemetry
        .wait_for(|t| {
            let clients: Vec<SpanData> = t
                .trace(trace_id)
                .into_iter()
                .filter(|span| span.span_kind == SpanKind::Client)
                .collect();
            (clients.len() == CALLS.len()).then_some(clients)
        })
        .await;
    for ours in &our_clients {
        // Our CLIENT span: a child of the caller's span, keeping its state.
        assert_eq!(ours.parent_span_id, parent);
        assert_eq!(ours.span_context.trace_state().header(), TRACESTATE);
        let call = CALLS
            .iter()
            .find(|(method, code, _)| {
                ours.name == *method
                    && attribute(ours, "rpc.grpc.status_code")
                        .or_else(|| attribute(ours, "rpc.response.status_code"))
                        .is_some_and(|value| {
                            value == Value::I64(*code as i64)
                                || value.to_string() == code_name(*code)
                        })
            })
            .unwrap_or_else(|| panic!("an unexpected call: {ours:?}"));
        let code = call.1;
        assert_our_status(ours, code);

        // Their SERVER span: the child of our CLIENT span, keeping the caller's state.
        let our_id = ours.span_context.span_id().to_string();
        let go_span = their_servers
            .iter()
            .find(|span| text(span, "parent_span_id") == our_id)
            .unwrap_or_else(|| panic!("no Go SERVER span under {ours:?}:\n{theirs:#?}"));
        assert_eq!(go_span["parent_remote"], true);
        assert_eq!(text(go_span, "trace_state"), TRACESTATE);
        assert_same_rpc_attributes(ours, go_span, code, port);
        assert_their_status(go_span, code);
        assert_no_message_events(go_span);
        if code == Code::Ok && ours.name.ends_with("StreamOrderUpdates") {
            assert_our_message_spans(telemetry, ours, "message RECEIVED");
        }

        // The tutorial's own spans sit under their SERVER span: one tree across both sides.
        let their_id = text(go_span, "span_id");
        let children: Vec<String> = theirs
            .iter()
            .filter(|span| text(span, "parent_span_id") == their_id)
            .map(|span| text(span, "name"))
            .collect();
        let expected = if ours.name.ends_with("ProcessPayment") {
            "validate_payment"
        } else {
            "stream_order_updates"
        };
        assert_eq!(children, [expected], "children of {go_span}");
    }
    let sends = theirs
        .iter()
        .filter(|span| text(span, "name") == "send_update")
        .count();
    assert_eq!(sends, UPDATES);

    assert_nothing_recorded_here(telemetry, unsampled).await;
}
