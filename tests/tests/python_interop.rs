//! Interop with the official OpenTelemetry gRPC instrumentation of Python, both directions:
//! one trace across the languages, and the same span names and RPC attributes.
//!
//! Needs `python3` with `tests/python/requirements.txt` installed (`scripts/test.sh` does it).
//! Under `CI=true` a missing Python setup fails the test; otherwise the test is skipped.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use opentelemetry::trace::SpanKind;
use opentelemetry::Value;
use opentelemetry_sdk::trace::SpanData;
use serde_json::Value as Json;
use tonic::transport::Server;
use tonic::Code;
use tonic_traced_tests::harness::{attribute, serve, telemetry};
use tonic_traced_tests::kitchen::sink::v1::HttpHeader;
use tonic_traced_tests::relay::traced_client;
use tonic_traced_tests::things;

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/python/interop.py");

/// Whether the Python peer can run; a missing setup fails under CI and skips elsewhere.
fn python_ready() -> bool {
    let ready = Command::new("python3")
        .args([
            "-c",
            "import grpc, grpc_tools, opentelemetry.instrumentation.grpc",
        ])
        .status()
        .is_ok_and(|status| status.success());
    if !ready {
        assert!(
            std::env::var("CI").is_err(),
            "python3 with tests/python/requirements.txt is required under CI"
        );
        eprintln!("skipping: python3 with tests/python/requirements.txt is not installed");
    }
    ready
}

fn python_spans(output: &str) -> Vec<Json> {
    let line = output
        .lines()
        .find(|line| line.starts_with("{\"spans\""))
        .unwrap_or_else(|| panic!("no spans from Python: {output}"));
    let parsed: Json = serde_json::from_str(line).unwrap();
    parsed["spans"].as_array().unwrap().clone()
}

fn text(span: &Json, key: &str) -> String {
    span[key].as_str().unwrap_or_default().to_owned()
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

#[tokio::test]
async fn python_client_calls_our_server() {
    if !python_ready() {
        return;
    }
    telemetry();
    let address = serve(Server::builder().add_service(things::server())).await;
    let output = tokio::task::spawn_blocking(move || {
        Command::new("python3")
            .args([SCRIPT, "client", &address.to_string()])
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
    let clients = python_spans(&stdout);
    assert_eq!(clients.len(), 3, "{clients:#?}");

    for (client, name, code) in [
        (&clients[0], "GetHTTPThing", 0),
        (&clients[1], "WatchHTTPThings", 0),
        (&clients[2], "GetHTTPThing", 14),
    ] {
        assert_eq!(text(client, "kind"), "CLIENT");
        let trace_id = opentelemetry::trace::TraceId::from_hex(&text(client, "trace_id")).unwrap();
        let ours = telemetry()
            .wait_for(|t| {
                t.trace(trace_id)
                    .into_iter()
                    .find(|s| s.span_kind == SpanKind::Server)
            })
            .await;
        assert_eq!(ours.name, format!("kitchen.sink.v1.HTTPThings/{name}"));
        assert_eq!(
            ours.parent_span_id.to_string(),
            text(client, "span_id"),
            "our server span is the child of the Python client span"
        );
        assert_eq!(
            text(client, "name"),
            format!("/kitchen.sink.v1.HTTPThings/{name}")
        );
        eprintln!("PY {} {}", text(client, "name"), client["attributes"]);
        eprintln!(
            "RS {} {:?}",
            ours.name,
            ours.attributes
                .iter()
                .map(|kv| format!("{}={}", kv.key, kv.value))
                .collect::<Vec<_>>()
        );
        assert_same_rpc_attributes(&ours, client);
        assert_eq!(
            attribute(&ours, "rpc.grpc.status_code"),
            Some(Value::I64(code))
        );
    }
}

#[tokio::test]
async fn our_client_calls_a_python_server() {
    if !python_ready() {
        return;
    }
    telemetry();
    let mut python = Command::new("python3")
        .args([SCRIPT, "server"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(python.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let port = serde_json::from_str::<Json>(&first).unwrap()["port"]
        .as_u64()
        .unwrap();

    let mut client = traced_client(([127, 0, 0, 1], port as u16).into()).await;
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

    drop(python.stdin.take());
    let rest = tokio::task::spawn_blocking(move || {
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
        assert!(python.wait().unwrap().success());
        rest
    })
    .await
    .unwrap();
    let servers = python_spans(&rest);
    assert_eq!(servers.len(), 3, "{servers:#?}");
    for (server, name, code) in [
        (&servers[0], "GetHTTPThing", 0),
        (&servers[1], "WatchHTTPThings", 0),
        (&servers[2], "GetHTTPThing", 14),
    ] {
        assert_eq!(text(server, "kind"), "SERVER");
        let trace_id = opentelemetry::trace::TraceId::from_hex(&text(server, "trace_id")).unwrap();
        let ours = telemetry()
            .wait_for(|t| {
                t.trace(trace_id)
                    .into_iter()
                    .find(|s| s.span_kind == SpanKind::Client)
            })
            .await;
        assert_eq!(ours.name, format!("kitchen.sink.v1.HTTPThings/{name}"));
        assert_eq!(
            text(server, "name"),
            format!("/kitchen.sink.v1.HTTPThings/{name}")
        );
        assert_eq!(
            text(server, "parent_span_id"),
            ours.span_context.span_id().to_string(),
            "the Python server span is the child of our client span"
        );
        eprintln!("PY {} {}", text(server, "name"), server["attributes"]);
        eprintln!(
            "RS {} {:?}",
            ours.name,
            ours.attributes
                .iter()
                .map(|kv| format!("{}={}", kv.key, kv.value))
                .collect::<Vec<_>>()
        );
        assert_same_rpc_attributes(&ours, server);
        assert_eq!(
            attribute(&ours, "rpc.grpc.status_code"),
            Some(Value::I64(code))
        );
    }
}
