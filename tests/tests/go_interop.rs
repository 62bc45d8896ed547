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

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use opentelemetry::trace::{SpanId, SpanKind};
use opentelemetry::Value;
use opentelemetry_sdk::trace::SpanData;
use serde_json::Value as Json;
use tonic::Code;
use tonic_traced_tests::go;
use tonic_traced_tests::harness::{attribute, remote_parent, telemetry};
use tonic_traced_tests::peer::{
    read_spans, run_calls, spans_file, spans_of_trace, text, PeerServer,
};
use tonic_traced_tests::tutorial::{
    assert_nothing_recorded_here, assert_our_message_spans, assert_our_status,
    assert_peer_client_saw, assert_their_status, caller, code_name, our_calls, our_server,
    peer_name, CALLS, UPDATES,
};

const GO_MODULE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/go");
/// A caller's `tracestate`, which every span of the trace must keep, on both sides.
const TRACESTATE: &str = "vendor=go-interop,rojo=00f067aa0ba902b7";

/// Where the peer is built and its spans are written.
fn out_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("go-interop")
}

/// The Go peer, built once per test binary; `None` (the test skips) when there is no Go and
/// not under CI.
fn go_peer() -> Option<&'static Path> {
    static PEER: OnceLock<Option<PathBuf>> = OnceLock::new();
    PEER.get_or_init(|| go::build(Path::new(GO_MODULE), ".", &out_dir(), "interop"))
        .as_deref()
}

/// The peer's command line, writing its spans to `spans`.
fn peer_command(peer: &Path, spans: &Path) -> Command {
    let mut command = Command::new(peer);
    command.arg("-spans").arg(spans);
    command
}

/// otelgrpc 0.72 follows the RPC conventions of 1.40–1.44 (`rpc.system.name`, `rpc.method` as
/// `service/method`, the status by name in `rpc.response.status_code`, which 1.45 renamed
/// `rpc.status_code`); ours, in whichever convention this run uses, must say the same.
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
    assert_eq!(attributes[peer_name("rpc.status_code")], code_name(code));
    if let Some(ours) = attribute(ours, "rpc.grpc.status_code") {
        assert_eq!(ours, Value::I64(code as i64));
    }
    if let Some(ours) = attribute(ours, "rpc.status_code") {
        assert_eq!(ours.to_string(), code_name(code));
    }
    assert_eq!(attributes["server.port"], u64::from(port), "{theirs}");
    assert_eq!(
        attribute(ours, "server.port"),
        Some(Value::I64(i64::from(port)))
    );
}

/// otelgrpc records no message events (none since 0.67): a span's messages are ours alone.
fn assert_no_message_events(theirs: &Json) {
    assert_eq!(theirs["events"], Json::Array(vec![]), "{theirs}");
}

/// Runs the Go client against `address` under `traceparent` (and [`TRACESTATE`]); returns
/// the status codes and message counts it saw.
async fn go_client(peer: &Path, spans: &Path, address: String, traceparent: String) -> Vec<Json> {
    let mut command = peer_command(peer, spans);
    command.args(["call", &address, &traceparent, TRACESTATE]);
    run_calls(command).await
}

#[tokio::test]
async fn go_client_calls_our_server() {
    let Some(peer) = go_peer() else {
        return;
    };
    let telemetry = telemetry();
    let address = our_server().await;

    // Unsampled first: by the time the sampled calls' spans are in, these calls are long done.
    let unsampled_spans = spans_file(&out_dir(), "client-unsampled");
    let (unsampled, _, traceparent) = remote_parent(false);
    let calls = go_client(peer, &unsampled_spans, address.to_string(), traceparent).await;
    assert_peer_client_saw(&calls);
    assert_eq!(read_spans(&unsampled_spans), Vec::<Json>::new());

    let spans = spans_file(&out_dir(), "client-sampled");
    let (trace_id, parent, traceparent) = remote_parent(true);
    let calls = go_client(peer, &spans, address.to_string(), traceparent).await;
    assert_peer_client_saw(&calls);
    let theirs = read_spans(&spans);
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

#[tokio::test]
async fn our_client_calls_a_go_server() {
    let Some(peer) = go_peer() else {
        return;
    };
    let telemetry = telemetry();
    let spans = spans_file(&out_dir(), "server");
    let mut serve = peer_command(peer, &spans);
    serve.args(["serve", "127.0.0.1:0"]);
    let server = PeerServer::start(serve);
    let address = server.address();

    let (trace_id, parent, context) = caller(true, TRACESTATE);
    our_calls(address, context).await;
    let (unsampled, _, context) = caller(false, TRACESTATE);
    our_calls(address, context).await;

    // The Go server stops gracefully when its stdin closes, flushing its spans.
    server.stop().await;
    let all = read_spans(&spans);
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
        let (method, code, _) = *CALLS
            .iter()
            .find(|(method, code, _)| {
                ours.name == *method
                    && attribute(ours, "rpc.grpc.status_code")
                        .or_else(|| attribute(ours, "rpc.status_code"))
                        .is_some_and(|value| {
                            value == Value::I64(*code as i64)
                                || value.to_string() == code_name(*code)
                        })
            })
            .unwrap_or_else(|| panic!("an unexpected call: {ours:?}"));
        assert_our_status(ours, code);

        // Their SERVER span: the child of our CLIENT span, keeping the caller's state.
        let our_id = ours.span_context.span_id().to_string();
        let go_span = their_servers
            .iter()
            .find(|span| text(span, "parent_span_id") == our_id)
            .unwrap_or_else(|| panic!("no Go SERVER span under {ours:?}:\n{theirs:#?}"));
        assert_eq!(go_span["parent_remote"], true);
        assert_eq!(text(go_span, "trace_state"), TRACESTATE);
        assert_same_rpc_attributes(ours, go_span, code, address.port());
        assert_their_status(go_span, code);
        assert_no_message_events(go_span);
        if code == Code::Ok && method.ends_with("StreamOrderUpdates") {
            assert_our_message_spans(telemetry, ours, "message RECEIVED");
        }

        // The tutorial's own spans sit under their SERVER span: one tree across both sides.
        let their_id = text(go_span, "span_id");
        let children: Vec<String> = theirs
            .iter()
            .filter(|span| text(span, "parent_span_id") == their_id)
            .map(|span| text(span, "name"))
            .collect();
        let expected = if method.ends_with("ProcessPayment") {
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
