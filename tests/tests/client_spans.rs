//! CLIENT spans from `tonic_traced::client::layer()`: context injection across a chain of
//! services, final statuses from headers or trailers, streams, cancellation and deadlines.

use std::time::Duration;

use opentelemetry::trace::{SpanKind, Status as SpanStatus};
use opentelemetry::Value;
use opentelemetry_sdk::trace::SpanData;
use prost::Message;
use tonic::codegen::tokio_stream::{self, StreamExt};
use tonic::transport::Server;
use tonic::{Code, Request};
use tonic_traced_tests::harness::{attribute, header, in_root_span, serve, telemetry};
use tonic_traced_tests::relay::{self, traced_client, NextHop};
use tonic_traced_tests::things;

/// A traced client of a fresh `Things` server.
async fn things_client() -> NextHop {
    telemetry();
    traced_client(serve(Server::builder().add_service(things::server())).await).await
}

fn one<'a>(spans: &'a [SpanData], name: &str, kind: SpanKind) -> &'a SpanData {
    let found: Vec<_> = spans
        .iter()
        .filter(|s| s.name == name && s.span_kind == kind)
        .collect();
    assert_eq!(found.len(), 1, "one {kind:?} span {name}: {spans:#?}");
    found[0]
}

#[tokio::test]
async fn a_chain_of_services_is_one_connected_trace() {
    telemetry();
    let c = serve(Server::builder().add_service(things::server())).await;
    let b = serve(Server::builder().add_service(relay::server(traced_client(c).await))).await;
    let a = serve(Server::builder().add_service(relay::server(traced_client(b).await))).await;
    let mut client = traced_client(a).await;

    let (trace_id, result) = in_root_span(client.get_http_thing(header("code=14"))).await;
    assert_eq!(result.unwrap_err().code(), Code::Unavailable);

    // root, client→A, A, A→B (+ its request sent and one update received), B (+ the request
    // received and one update sent), B→C ×2, C ×2.
    let spans = telemetry()
        .wait_for(|t| {
            let spans = t.trace(trace_id);
            (spans.len() == 13).then_some(spans)
        })
        .await;
    let get = "kitchen.sink.v1.HTTPThings/GetHTTPThing";
    let watch = "kitchen.sink.v1.HTTPThings/WatchHTTPThings";
    let root = spans.iter().find(|s| s.name == "test root").unwrap();
    let client_a = spans
        .iter()
        .find(|s| s.name == get && s.parent_span_id == root.span_context.span_id())
        .expect("the first call is the child of the caller's span");
    assert_eq!(client_a.span_kind, SpanKind::Client);
    let servers_get: Vec<_> = spans
        .iter()
        .filter(|s| s.name == get && s.span_kind == SpanKind::Server)
        .collect();
    let server_a = servers_get
        .iter()
        .find(|s| s.parent_span_id == client_a.span_context.span_id())
        .expect("A's server span is the child of the client's span");
    let client_b = one(&spans, watch, SpanKind::Client);
    let server_b = one(&spans, watch, SpanKind::Server);
    assert_eq!(client_b.parent_span_id, server_a.span_context.span_id());
    assert_eq!(server_b.parent_span_id, client_b.span_context.span_id());

    // B calls C twice from inside its response stream: both calls are B's children.
    let clients_c: Vec<_> = spans
        .iter()
        .filter(|s| {
            s.name == get
                && s.span_kind == SpanKind::Client
                && s.parent_span_id == server_b.span_context.span_id()
        })
        .collect();
    assert_eq!(clients_c.len(), 2);
    for client_c in &clients_c {
        let server_c = servers_get
            .iter()
            .find(|s| s.parent_span_id == client_c.span_context.span_id())
            .expect("C's server span is the child of B's client span");
        let code = attribute(client_c, "rpc.grpc.status_code");
        assert_eq!(attribute(server_c, "rpc.grpc.status_code"), code);
    }
    let failed_c = clients_c
        .iter()
        .find(|s| attribute(s, "rpc.grpc.status_code") == Some(Value::I64(14)))
        .expect("the second call to C failed");
    assert!(matches!(failed_c.status, SpanStatus::Error { .. }));

    // B's stream: one update sent before C failed; the failure is B's status.
    let sent: Vec<_> = spans
        .iter()
        .filter(|s| s.name == "message SENT" && s.parent_span_id == server_b.span_context.span_id())
        .collect();
    assert_eq!(sent.len(), 1);
    for span in [server_b, client_b, *server_a, client_a] {
        assert_eq!(
            attribute(span, "rpc.grpc.status_code"),
            Some(Value::I64(14)),
            "{}",
            span.name
        );
        assert!(
            matches!(span.status, SpanStatus::Error { .. }),
            "UNAVAILABLE is an error on both sides"
        );
    }
    assert_eq!(telemetry().open_spans(trace_id), 0);
}

#[tokio::test]
async fn client_span_of_a_unary_call() {
    let mut client = things_client().await;
    let (trace_id, reply) = in_root_span(client.get_http_thing(header("ok"))).await;
    assert_eq!(reply.unwrap().into_inner().url_path, "ok");
    let spans = telemetry()
        .wait_for(|t| {
            let spans = t.trace(trace_id);
            (spans.len() == 3).then_some(spans)
        })
        .await;
    let span = one(
        &spans,
        "kitchen.sink.v1.HTTPThings/GetHTTPThing",
        SpanKind::Client,
    );
    assert_eq!(attribute(span, "rpc.system"), Some("grpc".into()));
    assert_eq!(
        attribute(span, "rpc.service"),
        Some("kitchen.sink.v1.HTTPThings".into())
    );
    assert_eq!(attribute(span, "rpc.method"), Some("GetHTTPThing".into()));
    assert_eq!(attribute(span, "rpc.grpc.status_code"), Some(Value::I64(0)));
    assert_eq!(attribute(span, "server.address"), Some("127.0.0.1".into()));
    let server_port = attribute(
        one(
            &spans,
            "kitchen.sink.v1.HTTPThings/GetHTTPThing",
            SpanKind::Server,
        ),
        "server.port",
    );
    assert_eq!(attribute(span, "server.port"), server_port);
    assert_eq!(
        attribute(span, "http.url_path"),
        Some("ok".into()),
        "request fields, from the codec"
    );
    assert_eq!(span.status, SpanStatus::Unset);
    let server = one(
        &spans,
        "kitchen.sink.v1.HTTPThings/GetHTTPThing",
        SpanKind::Server,
    );
    assert!(span.start_time <= server.start_time && span.end_time >= server.end_time);
}

#[tokio::test]
async fn every_non_ok_status_is_a_client_error() {
    let mut client = things_client().await;
    for code in [1, 3, 5, 7, 9, 13, 14, 16] {
        let (trace_id, result) =
            in_root_span(client.get_http_thing(header(&format!("code={code}")))).await;
        assert_eq!(result.unwrap_err().code(), Code::from(code));
        let span = telemetry().span_of_kind(trace_id, SpanKind::Client).await;
        assert_eq!(
            attribute(&span, "rpc.grpc.status_code"),
            Some(Value::I64(code.into()))
        );
        assert_eq!(
            span.status,
            SpanStatus::error(format!("failed with code {code}"))
        );
    }
}

#[tokio::test]
async fn server_stream_client_span_ends_with_the_trailers() {
    let mut client = things_client().await;
    let (trace_id, count) = in_root_span(async {
        let stream = client
            .watch_http_things(header("count=4;interval=20"))
            .await
            .unwrap()
            .into_inner();
        stream
            .fold(0, |n, item| n + usize::from(item.is_ok()))
            .await
    })
    .await;
    assert_eq!(count, 4);
    let spans = telemetry()
        .wait_for(|t| {
            let spans = t.trace(trace_id);
            spans
                .iter()
                .any(|s| s.span_kind == SpanKind::Client)
                .then_some(spans)
        })
        .await;
    let span = one(
        &spans,
        "kitchen.sink.v1.HTTPThings/WatchHTTPThings",
        SpanKind::Client,
    );
    assert!(span.end_time.duration_since(span.start_time).unwrap() >= Duration::from_millis(80));
    let children = |name: &str| {
        spans
            .iter()
            .filter(|s| s.name == name && s.parent_span_id == span.span_context.span_id())
            .count()
    };
    assert_eq!(children("message RECEIVED"), 4, "one per streamed update");
    assert_eq!(children("message SENT"), 1, "the request");
    // Each received message carries its number, decoded size and annotated fields.
    let mut received: Vec<_> = spans
        .iter()
        .filter(|s| s.name == "message RECEIVED" && s.parent_span_id == span.span_context.span_id())
        .collect();
    received.sort_by_key(|s| format!("{:?}", attribute(s, "rpc.message.id")));
    for (n, message) in (1..).zip(received) {
        let update = format!("update {n}");
        assert_eq!(attribute(message, "rpc.message.id"), Some(Value::I64(n)));
        assert_eq!(
            attribute(message, "http.url_path"),
            Some(update.clone().into())
        );
        assert_eq!(
            attribute(message, "rpc.message.uncompressed_size"),
            Some(Value::I64(header(&update).encoded_len() as i64))
        );
    }
    assert_eq!(
        attribute(span, "http.url_path"),
        Some("count=4;interval=20".into())
    );
}

#[tokio::test]
async fn client_stream_sent_messages_carry_their_fields() {
    let mut client = things_client().await;
    let (trace_id, result) =
        in_root_span(client.upload_http_things(tokio_stream::iter(["a", "bb"].map(header)))).await;
    result.unwrap();
    // root, client (+ 2 sent, 1 received), server (+ 2 received, 1 sent).
    let spans = telemetry()
        .wait_for(|t| {
            let spans = t.trace(trace_id);
            (spans.len() == 9).then_some(spans)
        })
        .await;
    let span = one(
        &spans,
        "kitchen.sink.v1.HTTPThings/UploadHTTPThings",
        SpanKind::Client,
    );
    let mut sent: Vec<_> = spans
        .iter()
        .filter(|s| s.name == "message SENT" && s.parent_span_id == span.span_context.span_id())
        .collect();
    sent.sort_by_key(|s| format!("{:?}", attribute(s, "rpc.message.id")));
    assert_eq!(sent.len(), 2);
    assert_eq!(attribute(sent[0], "http.url_path"), Some("a".into()));
    assert_eq!(attribute(sent[1], "http.url_path"), Some("bb".into()));
    assert_eq!(
        attribute(sent[1], "rpc.message.uncompressed_size"),
        Some(Value::I64(4))
    );
    assert_eq!(
        attribute(span, "http.url_path"),
        None,
        "a stream's fields are per message"
    );
}

#[tokio::test]
async fn dropping_a_stream_early_is_cancelled() {
    let mut client = things_client().await;
    let (trace_id, ()) = in_root_span(async {
        let mut stream = client
            .watch_http_things(header("count=1000;interval=10"))
            .await
            .unwrap()
            .into_inner();
        stream.message().await.unwrap().unwrap();
    })
    .await;
    let span = telemetry().span_of_kind(trace_id, SpanKind::Client).await;
    assert_eq!(
        attribute(&span, "rpc.grpc.status_code"),
        Some(Value::I64(1))
    );
    assert!(matches!(span.status, SpanStatus::Error { .. }));
    telemetry()
        .wait_for(|t| (t.open_spans(trace_id) == 0).then_some(()))
        .await;
}

#[tokio::test]
async fn passing_the_deadline_is_deadline_exceeded() {
    let mut client = things_client().await;
    let mut request = Request::new(header("sleep=2000"));
    request.set_timeout(Duration::from_millis(100));
    let (trace_id, result) = in_root_span(client.get_http_thing(request)).await;
    assert!(result.is_err());
    let span = telemetry().span_of_kind(trace_id, SpanKind::Client).await;
    assert_eq!(
        attribute(&span, "rpc.grpc.status_code"),
        Some(Value::I64(4))
    );
    assert!(matches!(span.status, SpanStatus::Error { .. }));
}

#[tokio::test]
async fn an_unsampled_caller_is_passed_on_through_a_chain() {
    telemetry();
    let c = serve(Server::builder().add_service(things::server())).await;
    let b = serve(Server::builder().add_service(relay::server(traced_client(c).await))).await;
    // A plain client, so the unsampled traceparent below reaches B as written.
    let mut client =
        tonic_traced_tests::kitchen::sink::v1::http_things_client::HttpThingsClient::connect(
            format!("http://{b}"),
        )
        .await
        .unwrap();
    let (trace_id, _, traceparent) = tonic_traced_tests::harness::remote_parent(false);
    let updates = client
        .watch_http_things(tonic_traced_tests::harness::with_parent(
            header("trace"),
            &traceparent,
        ))
        .await
        .unwrap()
        .into_inner();
    let last = updates
        .fold(String::new(), |_, update| update.unwrap().url_path)
        .await;
    assert_eq!(
        last,
        format!("trace={trace_id};sampled=false"),
        "the service behind B runs in the caller's unsampled trace"
    );
    assert!(
        telemetry().trace(trace_id).is_empty(),
        "and nothing is recorded"
    );
}

#[tokio::test]
async fn a_refused_call_carries_its_request_fields() {
    use tonic_traced_tests::kitchen::sink::v1::http_things_client::HttpThingsClient;
    telemetry();
    // A port nobody listens on: bound, then closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let endpoint =
        tonic::transport::Channel::from_shared(format!("http://127.0.0.1:{port}")).unwrap();
    let mut client = HttpThingsClient::new(
        tower::ServiceBuilder::new()
            .layer(tonic_traced::client::layer().with_server(endpoint.uri()))
            .service(endpoint.connect_lazy()),
    );
    let (trace_id, result) = in_root_span(client.get_http_thing(header("payment-42"))).await;
    assert_eq!(result.unwrap_err().code(), Code::Unavailable);
    let span = telemetry().span_of_kind(trace_id, SpanKind::Client).await;
    assert_eq!(
        attribute(&span, "rpc.grpc.status_code"),
        Some(Value::I64(14))
    );
    assert_eq!(
        attribute(&span, "http.url_path"),
        Some("payment-42".into()),
        "the request's annotated field, though it was never sent"
    );
}

#[tokio::test]
async fn error_details_are_on_both_rpc_spans() {
    let mut client = things_client().await;
    let (trace_id, result) = in_root_span(client.get_http_thing(header("code=9;details"))).await;
    assert_eq!(result.unwrap_err().code(), Code::FailedPrecondition);
    for kind in [SpanKind::Server, SpanKind::Client] {
        let span = telemetry().span_of_kind(trace_id, kind.clone()).await;
        let texts = |values: &[&str]| {
            Value::Array(opentelemetry::Array::String(
                values.iter().map(|v| v.to_string().into()).collect(),
            ))
        };
        assert_eq!(
            attribute(&span, "rpc.grpc.status_details.types"),
            Some(texts(&[
                "google.rpc.RetryInfo",
                "google.rpc.ErrorInfo",
                "google.rpc.BadRequest"
            ])),
            "{kind:?}"
        );
        assert_eq!(
            attribute(&span, "rpc.grpc.error_info.reason"),
            Some("TEST_REASON".into()),
            "{kind:?}"
        );
        assert_eq!(
            attribute(&span, "rpc.grpc.error_info.domain"),
            Some("kitchen.sink".into())
        );
        assert_eq!(
            attribute(&span, "rpc.grpc.bad_request.fields"),
            Some(texts(&["url_path"]))
        );
        assert_eq!(
            attribute(&span, "rpc.grpc.retry_info.delay"),
            Some(Value::F64(2.0))
        );
    }
}
