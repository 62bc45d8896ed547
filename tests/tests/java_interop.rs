//! Interop with OpenTelemetry's library instrumentation of grpc-java (`opentelemetry-grpc-1.6`,
//! its interceptors), both directions: the first tutorial's payment service and order-update
//! stream (`tests/java/`) calling and called by ours (`tonic-traced-examples`). One trace
//! across the languages, the CLIENT span the parent of the remote SERVER span both ways, the
//! caller's `tracestate` kept, each side's status rule, the same RPC attributes, Java's
//! message events beside our message spans, and nothing recorded on either side under an
//! unsampled parent.
//!
//! Needs Java 17 and Maven (`java`, `mvn` on `PATH`); the peer is built once per run with
//! `mvn -q package` into the cargo target's tmp dir, its dependencies in Maven's default
//! repository (`~/.m2`). Under `CI=true` a missing Java or Maven fails the test; otherwise the
//! test is skipped.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use opentelemetry::trace::{SpanId, SpanKind};
use opentelemetry::Value;
use opentelemetry_sdk::trace::SpanData;
use serde_json::{json, Value as Json};
use tonic::Code;
use tonic_traced_tests::harness::{attribute, remote_parent, telemetry};
use tonic_traced_tests::peer::{
    read_spans, run_calls, spans_file, spans_of_trace, text, PeerServer,
};
use tonic_traced_tests::process::{runs, toolchain_present};
use tonic_traced_tests::tutorial::{
    assert_nothing_recorded_here, assert_our_message_spans, assert_our_status,
    assert_peer_client_saw, assert_their_status, caller, code_name, our_calls, our_server,
    peer_name, CALLS, UPDATES,
};

const MAVEN_PROJECT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/java");
/// A caller's `tracestate`, which every span of the trace must keep, on both sides.
const TRACESTATE: &str = "vendor=java-interop,rojo=00f067aa0ba902b7";

/// Where the peer is built and its spans are written.
fn out_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("java-interop")
}

/// The Java peer, built once per test binary: the `java` command line that runs it; `None`
/// (the test skips) when there is no Java or Maven and not under CI.
fn java_peer() -> Option<&'static [String]> {
    static PEER: OnceLock<Option<Vec<String>>> = OnceLock::new();
    PEER.get_or_init(|| {
        let present = runs("java", &["-version"]) && runs("mvn", &["-v"]);
        if !toolchain_present(present, "Java with Maven (java and mvn on PATH)") {
            return None;
        }
        let out = out_dir();
        let output = Command::new("mvn")
            .current_dir(MAVEN_PROJECT)
            .args(["-q", "-B", "package"])
            .arg(format!("-Dinterop.out={}", out.display()))
            .output()
            .expect("mvn runs");
        assert!(
            output.status.success(),
            "mvn package failed:\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        let dependencies = std::fs::read_to_string(out.join("classpath.txt")).unwrap();
        let classpath = format!("{}:{}", out.join("classes").display(), dependencies.trim());
        Some(vec!["-cp".into(), classpath, "interop.Interop".into()])
    })
    .as_deref()
}

/// The peer's command line, writing its spans to `spans`.
fn java(peer: &[String], spans: &Path) -> Command {
    let mut command = Command::new("java");
    command.args(peer).arg("-spans").arg(spans);
    command
}

/// Our value of an attribute as JSON has it, to compare with the peer's.
fn as_json(value: Option<Value>) -> Json {
    match value {
        None => Json::Null,
        Some(Value::I64(number)) => json!(number),
        Some(Value::Bool(flag)) => json!(flag),
        Some(other) => json!(other.to_string()),
    }
}

/// The RPC attributes that both sides record. The peer inherits
/// `OTEL_SEMCONV_STABILITY_OPT_IN` and reads it as we do: by default both record the old
/// conventions (`rpc.system`, `rpc.service`, the bare `rpc.method`, `rpc.grpc.status_code` by
/// number), with `rpc` the current ones (`rpc.system.name`, `rpc.method` as `service/method`,
/// the status by name, in `rpc.response.status_code` for the peer (conventions 1.40–1.44) and
/// `rpc.status_code` for us (1.45)), with `rpc/dup` both. Keys are ours; [`peer_name`] gives
/// the peer's.
const RPC_ATTRIBUTES: [&str; 8] = [
    "rpc.system",
    "rpc.system.name",
    "rpc.service",
    "rpc.method",
    "rpc.grpc.status_code",
    "rpc.status_code",
    "server.address",
    "server.port",
];

/// Both sides name the call alike and record the same RPC attributes, with the call's
/// status and the server's address and port (on SERVER spans, both from the authority).
fn assert_same_rpc_attributes(ours: &SpanData, theirs: &Json, code: Code, port: u16) {
    assert_eq!(ours.name, text(theirs, "name"));
    let attributes = &theirs["attributes"];
    for key in RPC_ATTRIBUTES {
        assert_eq!(
            as_json(attribute(ours, key)),
            attributes[peer_name(key)],
            "{key}: {theirs}"
        );
    }
    assert!(
        attributes["rpc.system"] == "grpc" || attributes["rpc.system.name"] == "grpc",
        "{theirs}"
    );
    assert!(
        attributes["rpc.grpc.status_code"] == code as i32
            || attributes[peer_name("rpc.status_code")] == code_name(code),
        "{theirs}"
    );
    assert_eq!(attributes["server.port"], port, "{theirs}");
    // Java also records, on both kinds of span, the peer's socket address and the network
    // type.
    assert_eq!(attributes["server.address"], "127.0.0.1", "{theirs}");
    assert_eq!(attributes["network.peer.address"], "127.0.0.1", "{theirs}");
    assert_eq!(attributes["network.type"], "ipv4", "{theirs}");
}

/// Java's instrumentation records each message on the RPC span as an event `message` with
/// `message.type` and a `message.id` counting from 1 in each direction (on by default;
/// `GrpcTelemetryBuilder::setEmitMessageEvents(false)` turns it off): the request, then each
/// response (none after an error).
fn assert_their_message_events(theirs: &Json, method: &str, code: Code) {
    let (request, response) = if theirs["kind"] == "CLIENT" {
        ("SENT", "RECEIVED")
    } else {
        ("RECEIVED", "SENT")
    };
    let responses = match code {
        Code::Ok if method.ends_with("StreamOrderUpdates") => UPDATES,
        Code::Ok => 1,
        _ => 0,
    };
    let event = |kind, id| json!({"name": "message", "attributes": {"message.type": kind, "message.id": id}});
    let expected: Vec<Json> = std::iter::once(event(request, 1))
        .chain((1..=responses).map(|id| event(response, id)))
        .collect();
    assert_eq!(theirs["events"], Json::Array(expected), "{theirs}");
}

/// Runs the Java client against `address` under `traceparent` (and [`TRACESTATE`]); returns
/// the status codes and message counts it saw.
async fn java_client(
    peer: &[String],
    spans: &Path,
    address: String,
    traceparent: String,
) -> Vec<Json> {
    let mut command = java(peer, spans);
    command.args(["call", &address, &traceparent, TRACESTATE]);
    run_calls(command).await
}

#[tokio::test]
async fn java_client_calls_our_server() {
    let Some(peer) = java_peer() else {
        return;
    };
    let telemetry = telemetry();
    let address = our_server().await;

    // Unsampled first: by the time the sampled calls' spans are in, these calls are long done.
    let unsampled_spans = spans_file(&out_dir(), "client-unsampled");
    let (unsampled, _, traceparent) = remote_parent(false);
    let calls = java_client(peer, &unsampled_spans, address.to_string(), traceparent).await;
    assert_peer_client_saw(&calls);
    assert_eq!(read_spans(&unsampled_spans), Vec::<Json>::new());

    let spans = spans_file(&out_dir(), "client-sampled");
    let (trace_id, parent, traceparent) = remote_parent(true);
    let calls = java_client(peer, &spans, address.to_string(), traceparent).await;
    assert_peer_client_saw(&calls);
    let theirs = read_spans(&spans);
    assert_eq!(theirs.len(), CALLS.len(), "{theirs:#?}");

    for (java_span, (method, code, _)) in theirs.iter().zip(CALLS) {
        // Their CLIENT span: a child of the caller's span, in its trace, keeping its state.
        assert_eq!(text(java_span, "kind"), "CLIENT");
        assert_eq!(text(java_span, "name"), method);
        assert_eq!(text(java_span, "scope"), "io.opentelemetry.grpc-1.6");
        assert_eq!(text(java_span, "trace_id"), trace_id.to_string());
        assert_eq!(text(java_span, "parent_span_id"), parent.to_string());
        assert_eq!(java_span["parent_remote"], true);
        assert_eq!(text(java_span, "trace_state"), TRACESTATE);
        assert_their_status(java_span, code);
        assert_their_message_events(java_span, method, code);

        // Our SERVER span: the child of their CLIENT span.
        let their_id = SpanId::from_hex(&text(java_span, "span_id")).unwrap();
        let ours = telemetry
            .wait_for(|t| {
                t.trace(trace_id).into_iter().find(|span| {
                    span.span_kind == SpanKind::Server && span.parent_span_id == their_id
                })
            })
            .await;
        assert!(ours.parent_span_is_remote);
        assert_eq!(ours.span_context.trace_state().header(), TRACESTATE);
        assert_same_rpc_attributes(&ours, java_span, code, address.port());
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
async fn our_client_calls_a_java_server() {
    let Some(peer) = java_peer() else {
        return;
    };
    let telemetry = telemetry();
    let spans = spans_file(&out_dir(), "server");
    let mut serve = java(peer, &spans);
    serve.args(["serve", "127.0.0.1:0"]);
    let server = PeerServer::start(serve);
    let address = server.address();

    let (trace_id, parent, context) = caller(true, TRACESTATE);
    our_calls(address, context).await;
    let (unsampled, _, context) = caller(false, TRACESTATE);
    our_calls(address, context).await;

    // The Java server stops gracefully when its stdin closes, flushing its spans.
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
        let java_span = their_servers
            .iter()
            .find(|span| text(span, "parent_span_id") == our_id)
            .unwrap_or_else(|| panic!("no Java SERVER span under {ours:?}:\n{theirs:#?}"));
        assert_eq!(java_span["parent_remote"], true);
        assert_eq!(text(java_span, "trace_state"), TRACESTATE);
        assert_same_rpc_attributes(ours, java_span, code, address.port());
        assert_their_status(java_span, code);
        assert_their_message_events(java_span, method, code);
        if code == Code::Ok && method.ends_with("StreamOrderUpdates") {
            assert_our_message_spans(telemetry, ours, "message RECEIVED");
        }

        // The tutorial's own spans sit under their SERVER span: one tree across both sides.
        let their_id = text(java_span, "span_id");
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
        assert_eq!(children, [expected], "children of {java_span}");
    }
    let sends = theirs
        .iter()
        .filter(|span| text(span, "name") == "send_update")
        .count();
    assert_eq!(sends, UPDATES);

    assert_nothing_recorded_here(telemetry, unsampled).await;
}
