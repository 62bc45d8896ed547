//! RPC metrics of the old (default) conventions, recorded on both sides of real loopback
//! calls of every kind: duration, bytes and messages per RPC, by method and status, and
//! nothing else as attributes. Each test uses a method and status no other test here uses,
//! so the cumulative counts it reads are its own.

use std::time::{Duration, Instant};

use opentelemetry::{Key, KeyValue};
use prost::Message;
use tonic::codegen::tokio_stream::{self, StreamExt};
use tonic::transport::Server;
use tonic::Code;
use tonic_traced_tests::harness::{header, remote_parent, serve, telemetry, with_parent};
use tonic_traced_tests::relay::{traced_client, NextHop};
use tonic_traced_tests::things;

async fn client() -> NextHop {
    telemetry();
    let address = serve(Server::builder().add_service(things::server())).await;
    traced_client(address).await
}

/// The attributes of one method and status, exactly: no peer, no request field.
fn labels(method: &'static str, code: Code) -> Vec<KeyValue> {
    vec![
        KeyValue::new(Key::from_static_str("rpc.system"), "grpc"),
        KeyValue::new(
            Key::from_static_str("rpc.service"),
            "kitchen.sink.v1.HTTPThings",
        ),
        KeyValue::new(Key::from_static_str("rpc.method"), method),
        KeyValue::new(Key::from_static_str("rpc.grpc.status_code"), code as i64),
    ]
}

/// Waits until histogram `name` has `count` measurements under `labels`; returns their sum.
async fn sum_once_counted(name: &str, labels: &[KeyValue], count: u64) -> f64 {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let (seen, sum) = telemetry().histogram(name, labels);
        if seen == count {
            return sum;
        }
        assert!(
            seen < count && Instant::now() < deadline,
            "{name} {labels:?}: {seen} measurements, expected {count}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Asserts one side's five old-convention histograms for a single call.
async fn assert_call(side: &str, labels: &[KeyValue], messages: (u64, u64), bytes: (u64, u64)) {
    let duration = sum_once_counted(&format!("rpc.{side}.duration"), labels, 1).await;
    assert!(
        duration > 0.0 && duration < 5000.0,
        "{side} took {duration} ms"
    );
    let per_rpc = |name: &str| format!("rpc.{side}.{name}");
    let (requests, responses) = messages;
    let (request_bytes, response_bytes) = bytes;
    for (name, expected) in [
        (per_rpc("requests_per_rpc"), requests),
        (per_rpc("responses_per_rpc"), responses),
        (per_rpc("request.size"), request_bytes),
        (per_rpc("response.size"), response_bytes),
    ] {
        let sum = sum_once_counted(&name, labels, 1).await;
        assert_eq!(sum as u64, expected, "{name} on the {side}");
    }
}

fn size(url_path: &str) -> u64 {
    header(url_path).encoded_len() as u64
}

#[tokio::test]
async fn unary_call_on_both_sides() {
    let mut client = client().await;
    let reply = client.get_http_thing(header("sleep=20")).await.unwrap();
    assert_eq!(reply.get_ref().url_path, "sleep=20");
    let labels = labels("GetHTTPThing", Code::Ok);
    let bytes = (size("sleep=20"), size("sleep=20"));
    assert_call("server", &labels, (1, 1), bytes).await;
    assert_call("client", &labels, (1, 1), bytes).await;
    let server_ms = telemetry().histogram("rpc.server.duration", &labels).1;
    assert!(server_ms >= 20.0, "the handler slept 20 ms: {server_ms}");
}

#[tokio::test]
async fn failed_unary_call_is_counted_under_its_status() {
    let mut client = client().await;
    let status = client.get_http_thing(header("code=5")).await.unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    let labels = labels("GetHTTPThing", Code::NotFound);
    assert_call("server", &labels, (1, 0), (size("code=5"), 0)).await;
    assert_call("client", &labels, (1, 0), (size("code=5"), 0)).await;
}

#[tokio::test]
async fn unsampled_calls_are_counted_too() {
    let mut client = client().await;
    let (_, _, traceparent) = remote_parent(false);
    let status = client
        .get_http_thing(with_parent(header("code=6"), &traceparent))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::AlreadyExists);
    let labels = labels("GetHTTPThing", Code::AlreadyExists);
    assert_call("server", &labels, (1, 0), (size("code=6"), 0)).await;
    assert_call("client", &labels, (1, 0), (size("code=6"), 0)).await;
}

#[tokio::test]
async fn server_stream_counts_every_response() {
    let mut client = client().await;
    let replies: Vec<_> = client
        .watch_http_things(header("count=3"))
        .await
        .unwrap()
        .into_inner()
        .collect()
        .await;
    assert_eq!(replies.len(), 3);
    let sent = size("update 1") + size("update 2") + size("update 3");
    let labels = labels("WatchHTTPThings", Code::Ok);
    assert_call("server", &labels, (1, 3), (size("count=3"), sent)).await;
    assert_call("client", &labels, (1, 3), (size("count=3"), sent)).await;
}

#[tokio::test]
async fn client_stream_counts_every_request() {
    let mut client = client().await;
    let uploads = ["a", "bb", "ccc", "dddd"];
    client
        .upload_http_things(tokio_stream::iter(uploads.map(header)))
        .await
        .unwrap();
    let sent = uploads.iter().map(|u| size(u)).sum();
    let labels = labels("UploadHTTPThings", Code::Ok);
    // The reply is `google.protobuf.Empty`: one message of zero bytes.
    assert_call("server", &labels, (4, 1), (sent, 0)).await;
    assert_call("client", &labels, (4, 1), (sent, 0)).await;
}

#[tokio::test]
async fn bidi_stream_counts_both_ways() {
    let mut client = client().await;
    let replies: Vec<_> = client
        .chat_http(tokio_stream::iter(["hi", "there"].map(header)))
        .await
        .unwrap()
        .into_inner()
        .collect()
        .await;
    assert_eq!(replies.len(), 2);
    let labels = labels("ChatHTTP", Code::Ok);
    let bytes = (
        size("hi") + size("there"),
        size("echo hi") + size("echo there"),
    );
    assert_call("server", &labels, (2, 2), bytes).await;
    assert_call("client", &labels, (2, 2), bytes).await;
}

#[tokio::test]
async fn dropped_stream_is_counted_as_cancelled() {
    let mut client = client().await;
    let mut stream = client
        .watch_http_things(header("count=100;interval=20"))
        .await
        .unwrap()
        .into_inner();
    stream.next().await.unwrap().unwrap();
    drop(stream);
    let labels = labels("WatchHTTPThings", Code::Cancelled);
    let size = size("count=100;interval=20");
    sum_once_counted("rpc.client.duration", &labels, 1).await;
    sum_once_counted("rpc.server.duration", &labels, 1).await;
    let client_sent = telemetry().histogram("rpc.client.request.size", &labels).1;
    assert_eq!(client_sent as u64, size);
}
