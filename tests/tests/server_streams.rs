//! SERVER spans of streaming calls: the span lives as long as the stream, and every message
//! gets a child span with the semantic conventions' message attributes and its own fields.

use opentelemetry::trace::{SpanId, Status as SpanStatus, TraceId};
use opentelemetry::Value;
use opentelemetry_sdk::trace::SpanData;
use prost::Message;
use tonic::codegen::tokio_stream::{self, StreamExt};
use tonic::transport::{Channel, Server};
use tonic::Code;
use tonic_traced_tests::harness::{
    attribute, header, remote_parent, serve, telemetry, with_parent,
};
use tonic_traced_tests::kitchen::sink::v1::http_things_client::HttpThingsClient;
use tonic_traced_tests::things;

async fn client() -> HttpThingsClient<Channel> {
    telemetry();
    let address = serve(Server::builder().add_service(things::server())).await;
    HttpThingsClient::connect(format!("http://{address}"))
        .await
        .unwrap()
}

/// Waits for the RPC span `name` of `trace_id` and returns it with every other span of the trace.
async fn rpc_and_children(
    trace_id: TraceId,
    name: &str,
    children: usize,
) -> (SpanData, Vec<SpanData>) {
    let spans = telemetry()
        .wait_for(|t| {
            let spans = t.trace(trace_id);
            (spans.len() == children + 1 && spans.iter().any(|s| s.name == name)).then_some(spans)
        })
        .await;
    let (rpc, messages): (Vec<_>, Vec<_>) = spans.into_iter().partition(|s| s.name == name);
    (rpc.into_iter().next().unwrap(), messages)
}

/// Asserts one message span: its parent, direction, 1-based id, size and annotated field.
fn assert_message(span: &SpanData, rpc: SpanId, direction: &str, id: i64, url_path: &str) {
    assert_eq!(span.name, format!("message {direction}"));
    assert_eq!(
        span.parent_span_id, rpc,
        "message spans are children of the RPC span"
    );
    assert_eq!(
        attribute(span, "rpc.message.type"),
        Some(direction.to_owned().into())
    );
    assert_eq!(attribute(span, "rpc.message.id"), Some(Value::I64(id)));
    let size = header(url_path).encoded_len() as i64;
    assert_eq!(
        attribute(span, "rpc.message.uncompressed_size"),
        Some(Value::I64(size))
    );
    assert_eq!(
        attribute(span, "http.url_path"),
        Some(url_path.to_owned().into())
    );
}

fn by_id(mut spans: Vec<SpanData>, direction: &str) -> Vec<SpanData> {
    spans.retain(|s| s.name == format!("message {direction}"));
    spans.sort_by_key(|s| match attribute(s, "rpc.message.id") {
        Some(Value::I64(id)) => id,
        _ => 0,
    });
    spans
}

#[tokio::test]
async fn server_stream_span_covers_every_message() {
    let mut client = client().await;
    let (trace_id, parent, traceparent) = remote_parent(true);
    let mut stream = client
        .watch_http_things(with_parent(header("count=3;interval=20"), &traceparent))
        .await
        .unwrap()
        .into_inner();
    let mut received = 0;
    while let Some(update) = stream.message().await.unwrap() {
        received += 1;
        assert_eq!(update.url_path, format!("update {received}"));
    }
    assert_eq!(received, 3);

    let (rpc, messages) =
        rpc_and_children(trace_id, "kitchen.sink.v1.HTTPThings/WatchHTTPThings", 4).await;
    assert_eq!(rpc.parent_span_id, parent);
    assert_eq!(attribute(&rpc, "rpc.grpc.status_code"), Some(Value::I64(0)));
    assert_eq!(
        attribute(&rpc, "http.url_path"),
        Some("count=3;interval=20".into())
    );
    let rpc_id = rpc.span_context.span_id();
    let request = by_id(messages.clone(), "RECEIVED");
    assert_eq!(request.len(), 1);
    assert_message(&request[0], rpc_id, "RECEIVED", 1, "count=3;interval=20");
    let sent = by_id(messages, "SENT");
    assert_eq!(sent.len(), 3);
    for (index, span) in sent.iter().enumerate() {
        assert_message(
            span,
            rpc_id,
            "SENT",
            index as i64 + 1,
            &format!("update {}", index + 1),
        );
    }
    // The RPC span lasts until the stream ends, not until the handler returned.
    assert!(rpc.end_time >= sent[2].end_time);
    assert!(
        rpc.end_time
            .duration_since(rpc.start_time)
            .unwrap()
            .as_millis()
            >= 60
    );
    assert_eq!(telemetry().open_spans(trace_id), 0);
}

#[tokio::test]
async fn server_stream_error_ends_the_span_with_its_status() {
    let mut client = client().await;
    let (trace_id, _, traceparent) = remote_parent(true);
    let mut stream = client
        .watch_http_things(with_parent(header("count=2;code=14"), &traceparent))
        .await
        .unwrap()
        .into_inner();
    assert!(stream.message().await.unwrap().is_some());
    assert!(stream.message().await.unwrap().is_some());
    assert_eq!(
        stream.message().await.unwrap_err().code(),
        Code::Unavailable
    );

    let (rpc, messages) =
        rpc_and_children(trace_id, "kitchen.sink.v1.HTTPThings/WatchHTTPThings", 3).await;
    assert_eq!(
        attribute(&rpc, "rpc.grpc.status_code"),
        Some(Value::I64(14))
    );
    assert_eq!(rpc.status, SpanStatus::error("stream failed"));
    assert_eq!(by_id(messages, "SENT").len(), 2);
}

#[tokio::test]
async fn handler_error_before_the_stream_ends_the_span_at_once() {
    let mut client = client().await;
    let (trace_id, _, traceparent) = remote_parent(true);
    let status = client
        .watch_http_things(with_parent(header("reject;count=5"), &traceparent))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    let (rpc, messages) =
        rpc_and_children(trace_id, "kitchen.sink.v1.HTTPThings/WatchHTTPThings", 1).await;
    assert_eq!(attribute(&rpc, "rpc.grpc.status_code"), Some(Value::I64(9)));
    assert_eq!(rpc.status, SpanStatus::Unset);
    assert_eq!(
        by_id(messages, "SENT").len(),
        0,
        "only the request was recorded"
    );
}

#[tokio::test]
async fn dropping_a_server_stream_ends_the_span_as_cancelled() {
    let mut client = client().await;
    let (trace_id, _, traceparent) = remote_parent(true);
    let mut stream = client
        .watch_http_things(with_parent(header("count=1000;interval=10"), &traceparent))
        .await
        .unwrap()
        .into_inner();
    assert!(stream.message().await.unwrap().is_some());
    drop(stream);

    let rpc = telemetry()
        .wait_for(|t| {
            t.trace(trace_id)
                .into_iter()
                .find(|s| s.name == "kitchen.sink.v1.HTTPThings/WatchHTTPThings")
        })
        .await;
    assert_eq!(attribute(&rpc, "rpc.grpc.status_code"), Some(Value::I64(1)));
    assert_eq!(rpc.status, SpanStatus::Unset);
    assert_eq!(telemetry().open_spans(trace_id), 0, "no span is left open");
}

#[tokio::test]
async fn client_stream_messages_are_received_spans() {
    let mut client = client().await;
    let (trace_id, _, traceparent) = remote_parent(true);
    let uploads = tokio_stream::iter(["a", "bb", "ccc"].map(header));
    client
        .upload_http_things(with_parent(uploads, &traceparent))
        .await
        .unwrap();

    let (rpc, messages) =
        rpc_and_children(trace_id, "kitchen.sink.v1.HTTPThings/UploadHTTPThings", 4).await;
    assert_eq!(attribute(&rpc, "rpc.grpc.status_code"), Some(Value::I64(0)));
    let rpc_id = rpc.span_context.span_id();
    let received = by_id(messages.clone(), "RECEIVED");
    assert_eq!(received.len(), 3);
    for (index, (span, text)) in received.iter().zip(["a", "bb", "ccc"]).enumerate() {
        assert_message(span, rpc_id, "RECEIVED", index as i64 + 1, text);
    }
    // The empty response is the one message sent.
    let sent = by_id(messages, "SENT");
    assert_eq!(sent.len(), 1);
    assert_eq!(
        attribute(&sent[0], "rpc.message.uncompressed_size"),
        Some(Value::I64(0))
    );
}

#[tokio::test]
async fn client_stream_failure_is_the_span_status() {
    let mut client = client().await;
    let (trace_id, _, traceparent) = remote_parent(true);
    let uploads = tokio_stream::iter(["ok", "code=13"].map(header));
    let status = client
        .upload_http_things(with_parent(uploads, &traceparent))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Internal);
    let (rpc, messages) =
        rpc_and_children(trace_id, "kitchen.sink.v1.HTTPThings/UploadHTTPThings", 2).await;
    assert_eq!(
        attribute(&rpc, "rpc.grpc.status_code"),
        Some(Value::I64(13))
    );
    assert!(matches!(rpc.status, SpanStatus::Error { .. }));
    assert_eq!(by_id(messages, "RECEIVED").len(), 2);
}

#[tokio::test]
async fn bidi_records_both_directions() {
    let mut client = client().await;
    let (trace_id, _, traceparent) = remote_parent(true);
    let outbound = tokio_stream::iter(["hi", "there"].map(header));
    let replies: Vec<_> = client
        .chat_http(with_parent(outbound, &traceparent))
        .await
        .unwrap()
        .into_inner()
        .map(|reply| reply.unwrap().url_path)
        .collect()
        .await;
    assert_eq!(replies, ["echo hi", "echo there"]);

    let (rpc, messages) =
        rpc_and_children(trace_id, "kitchen.sink.v1.HTTPThings/ChatHTTP", 4).await;
    let rpc_id = rpc.span_context.span_id();
    let received = by_id(messages.clone(), "RECEIVED");
    let sent = by_id(messages, "SENT");
    assert_message(&received[0], rpc_id, "RECEIVED", 1, "hi");
    assert_message(&received[1], rpc_id, "RECEIVED", 2, "there");
    assert_message(&sent[0], rpc_id, "SENT", 1, "echo hi");
    assert_message(&sent[1], rpc_id, "SENT", 2, "echo there");
    assert!(rpc.end_time >= sent[1].end_time);
    assert_eq!(telemetry().open_spans(trace_id), 0);
}

#[tokio::test]
async fn unsampled_stream_records_no_message() {
    let mut client = client().await;
    let (trace_id, _, traceparent) = remote_parent(false);
    let count = client
        .watch_http_things(with_parent(header("count=5"), &traceparent))
        .await
        .unwrap()
        .into_inner()
        .fold(0, |count, _| count + 1)
        .await;
    assert_eq!(count, 5);
    telemetry()
        .flush_with(|parent| client.get_http_thing(with_parent(header("ok"), &parent)))
        .await;
    assert!(telemetry().trace(trace_id).is_empty());
}
