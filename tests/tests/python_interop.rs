//! Interop with the official OpenTelemetry gRPC instrumentation of Python, both directions:
//! one trace across the languages, and the same span names and RPC attributes.
//!
//! Needs `python3` with `tests/python/requirements.txt` installed (`scripts/test.sh` does it).
//! Under `CI=true` a missing Python setup fails the test; otherwise the test is skipped.

use std::process::Command;

use opentelemetry::trace::{SpanKind, TraceId};
use opentelemetry::Value;
use opentelemetry_sdk::trace::SpanData;
use serde_json::Value as Json;
use tonic::transport::Server;
use tonic::Code;
use tonic_traced_tests::harness::{attribute, serve, telemetry};
use tonic_traced_tests::kitchen::sink::v1::HttpHeader;
use tonic_traced_tests::peer::{run, text, PeerServer};
use tonic_traced_tests::process::{runs, toolchain_present};
use tonic_traced_tests::relay::traced_client;
use tonic_traced_tests::things;

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/python/interop.py");

/// Whether the Python peer can run; a missing setup fails under CI and skips elsewhere.
fn python_ready() -> bool {
    let ready = runs(
        "python3",
        &[
            "-c",
            "import grpc, grpc_tools, opentelemetry.instrumentation.grpc",
        ],
    );
    toolchain_present(ready, "python3 with tests/python/requirements.txt")
}

/// The spans the Python peer printed, on the line `{"spans": [...]}` of its `output`.
fn python_spans(output: &str) -> Vec<Json> {
    let line = output
        .lines()
        .find(|line| line.starts_with("{\"spans\""))
        .unwrap_or_else(|| panic!("no spans from Python: {output}"));
    let parsed: Json = serde_json::from_str(line).unwrap();
    parsed["spans"].as_array().unwrap().clone()
}

/// The RPC attributes both sides emit must agree.
fn assert_same_rpc_attributes(ours: &SpanData, theirs: &Json) {
    let attributes = &theirs["attributes"];
    assert_eq!(attribute(ours, "rpc.system"), Some("grpc".into()));
    assert_eq!(attributes["rpc.system"], "grpc");
    for key in ["rpc.service", "rpc.method"] {
        assert_eq!(
            attribute(ours, key).map(|v| v.to_string()),
            attributes[key].as_str().map(str::to_owned),
            "{key}"
        );
    }
    assert_eq!(
        attribute(ours, "rpc.grpc.status_code"),
        attributes["rpc.grpc.status_code"].as_i64().map(Value::I64)
    );
}

/// Pairs each span the Python peer made for the three calls (OK unary, OK stream, UNAVAILABLE
/// unary) with our span of `our_kind` in the same trace: one is the other's parent, and both
/// name the call and record its status alike.
async fn assert_calls_match(python: &[Json], our_kind: SpanKind) {
    assert_eq!(python.len(), 3, "{python:#?}");
    let expected = [
        ("GetHTTPThing", 0),
        ("WatchHTTPThings", 0),
        ("GetHTTPThing", 14),
    ];
    for (theirs, (name, code)) in python.iter().zip(expected) {
        let their_kind = if our_kind == SpanKind::Server {
            "CLIENT"
        } else {
            "SERVER"
        };
        assert_eq!(text(theirs, "kind"), their_kind);
        let trace_id = TraceId::from_hex(&text(theirs, "trace_id")).unwrap();
        let ours = telemetry().span_of_kind(trace_id, our_kind.clone()).await;
        assert_eq!(ours.name, format!("kitchen.sink.v1.HTTPThings/{name}"));
        assert_eq!(
            text(theirs, "name"),
            format!("/kitchen.sink.v1.HTTPThings/{name}")
        );
        if our_kind == SpanKind::Server {
            assert_eq!(
                ours.parent_span_id.to_string(),
                text(theirs, "span_id"),
                "our server span is the child of the Python client span"
            );
        } else {
            assert_eq!(
                text(theirs, "parent_span_id"),
                ours.span_context.span_id().to_string(),
                "the Python server span is the child of our client span"
            );
        }
        assert_same_rpc_attributes(&ours, theirs);
        assert_eq!(
            attribute(&ours, "rpc.grpc.status_code"),
            Some(Value::I64(code))
        );
        assert_their_peer_attributes(theirs, their_kind);
    }
}

/// What the README and docs/semantic-conventions.md say of Python's spans: its CLIENT spans
/// carry only `rpc.*`; its SERVER spans add the pre-1.21 `net.peer.ip`, `net.peer.name`,
/// `net.peer.port` (a string) and `rpc.user_agent`.
fn assert_their_peer_attributes(theirs: &Json, kind: &str) {
    let attributes = theirs["attributes"].as_object().expect("an attribute map");
    if kind == "CLIENT" {
        for key in attributes.keys() {
            assert!(key.starts_with("rpc."), "Python client span has {key}");
        }
        return;
    }
    for key in ["net.peer.ip", "net.peer.name", "rpc.user_agent"] {
        assert!(
            attributes.contains_key(key),
            "Python server span lacks {key}"
        );
    }
    assert!(
        attributes["net.peer.port"].is_string(),
        "Python's net.peer.port is a string: {:?}",
        attributes.get("net.peer.port")
    );
}

#[tokio::test]
async fn python_client_calls_our_server() {
    if !python_ready() {
        return;
    }
    telemetry();
    let address = serve(Server::builder().add_service(things::server())).await;
    let mut command = Command::new("python3");
    command.args([SCRIPT, "client", &address.to_string()]);
    let stdout = run(command).await;
    assert_calls_match(&python_spans(&stdout), SpanKind::Server).await;
}

#[tokio::test]
async fn our_client_calls_a_python_server() {
    if !python_ready() {
        return;
    }
    telemetry();
    let mut command = Command::new("python3");
    command.args([SCRIPT, "server"]);
    let server = PeerServer::start(command);

    let mut client = traced_client(server.address()).await;
    let header = |url_path: &str| HttpHeader {
        url_path: url_path.to_owned(),
    };
    client.get_http_thing(header("ok")).await.unwrap();
    let mut updates = client
        .watch_http_things(header("count=3"))
        .await
        .unwrap()
        .into_inner();
    let mut received = 0;
    while updates.message().await.unwrap().is_some() {
        received += 1;
    }
    assert_eq!(received, 3);
    let status = client.get_http_thing(header("code=14")).await.unwrap_err();
    assert_eq!(status.code(), Code::Unavailable);

    // The Python server prints its spans when its stdin closes.
    let rest = server.stop().await;
    assert_calls_match(&python_spans(&rest), SpanKind::Client).await;
}
