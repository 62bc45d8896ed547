//! SERVER spans of unary calls over a real loopback server: names, parents, attributes,
//! status classes, nested children, panics, deadlines and malformed trace headers.

use opentelemetry::trace::{SpanId, SpanKind, Status as SpanStatus, TraceId};
use opentelemetry::Value;
use tonic::transport::{Channel, Server};
use tonic::{Code, Request};
use tonic_traced_tests::harness::{
    attribute, header, remote_parent, serve, telemetry, with_parent,
};
use tonic_traced_tests::kitchen::sink::v1::http_things_client::HttpThingsClient;
use tonic_traced_tests::things;

const GET: &str = "kitchen.sink.v1.HTTPThings/GetHTTPThing";

async fn client() -> (HttpThingsClient<Channel>, u16) {
    telemetry();
    let address = serve(Server::builder().add_service(things::server())).await;
    let client = HttpThingsClient::connect(format!("http://{address}"))
        .await
        .unwrap();
    (client, address.port())
}

#[tokio::test]
async fn unary_span_continues_the_remote_trace() {
    let (mut client, port) = client().await;
    let (trace_id, parent_id, traceparent) = remote_parent(true);
    let response = client
        .get_http_thing(with_parent(header("ok"), &traceparent))
        .await
        .unwrap();
    assert_eq!(response.get_ref().url_path, "ok");

    let spans = telemetry()
        .wait_for(|t| {
            let spans = t.trace(trace_id);
            (!spans.is_empty()).then_some(spans)
        })
        .await;
    assert_eq!(
        spans.len(),
        1,
        "unary calls have no message spans: {spans:#?}"
    );
    let span = &spans[0];
    assert_eq!(span.name, GET);
    assert_eq!(span.span_kind, SpanKind::Server);
    assert_eq!(span.parent_span_id, parent_id);
    assert!(span.parent_span_is_remote);
    assert_eq!(span.status, SpanStatus::Unset);
    assert!(span.end_time >= span.start_time);
    assert_eq!(span.instrumentation_scope.name(), "tonic-traced");
    let expect = |key: &str, value: Value| assert_eq!(attribute(span, key), Some(value), "{key}");
    expect("rpc.system", "grpc".into());
    expect("rpc.service", "kitchen.sink.v1.HTTPThings".into());
    expect("rpc.method", "GetHTTPThing".into());
    expect("rpc.grpc.status_code", Value::I64(0));
    expect("server.address", "127.0.0.1".into());
    expect("server.port", Value::I64(i64::from(port)));
    expect("network.peer.address", "127.0.0.1".into());
    expect("http.url_path", "ok".into());
    assert!(matches!(attribute(span, "network.peer.port"), Some(Value::I64(p)) if p > 0));
    assert_eq!(
        attribute(span, "rpc.system.name"),
        None,
        "old conventions by default"
    );
    assert_eq!(telemetry().open_spans(trace_id), 0);
}

#[tokio::test]
async fn every_status_code_follows_the_server_rule() {
    let (mut client, _) = client().await;
    for code in 1..=16 {
        let (trace_id, _, traceparent) = remote_parent(true);
        let status = client
            .get_http_thing(with_parent(header(&format!("code={code}")), &traceparent))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::from(code));
        let span = telemetry().wait_for(|t| t.trace(trace_id).pop()).await;
        assert_eq!(
            attribute(&span, "rpc.grpc.status_code"),
            Some(Value::I64(code.into()))
        );
        let server_error = matches!(code, 2 | 4 | 12 | 13 | 14 | 15);
        let exceptions: Vec<_> = span
            .events
            .iter()
            .filter(|e| e.name == "exception")
            .collect();
        if server_error {
            assert_eq!(
                span.status,
                SpanStatus::error(format!("failed with code {code}")),
                "code {code}"
            );
            assert_eq!(exceptions.len(), 1, "code {code}");
            let message = exceptions[0]
                .attributes
                .iter()
                .find(|kv| kv.key.as_str() == "exception.message")
                .map(|kv| kv.value.to_string());
            assert_eq!(
                message.as_deref(),
                Some(format!("failed with code {code}").as_str())
            );
        } else {
            assert_eq!(span.status, SpanStatus::Unset, "code {code}");
            assert!(exceptions.is_empty(), "code {code}");
        }
    }
}

#[tokio::test]
async fn handler_children_nest_under_the_server_span() {
    let (mut client, _) = client().await;
    let (trace_id, _, traceparent) = remote_parent(true);
    client
        .get_http_thing(with_parent(header("child"), &traceparent))
        .await
        .unwrap();
    let spans = telemetry()
        .wait_for(|t| {
            let spans = t.trace(trace_id);
            (spans.len() == 3).then_some(spans)
        })
        .await;
    let server = spans.iter().find(|s| s.name == GET).unwrap();
    let server_id = server.span_context.span_id();
    let raw = spans.iter().find(|s| s.name == "validate_payment").unwrap();
    assert_eq!(raw.parent_span_id, server_id, "raw OpenTelemetry child");
    let traced = spans
        .iter()
        .find(|s| s.name == "instrumented_step")
        .unwrap();
    assert_eq!(
        traced.parent_span_id, server_id,
        "#[tracing::instrument] child"
    );
    assert!(server.end_time >= traced.end_time);
}

#[tokio::test]
async fn panicking_handler_ends_its_span_as_an_error() {
    let (mut client, port) = client().await;
    let (trace_id, _, traceparent) = remote_parent(true);
    let result = client
        .get_http_thing(with_parent(header("panic"), &traceparent))
        .await;
    assert!(result.is_err(), "the panic is not swallowed into a success");
    let span = telemetry().wait_for(|t| t.trace(trace_id).pop()).await;
    assert_eq!(
        span.status,
        SpanStatus::error("handler panicked: the test asked for a panic")
    );
    assert!(span.events.iter().any(|e| e.name == "exception"));
    assert_eq!(
        attribute(&span, "rpc.grpc.status_code"),
        Some(Value::I64(13))
    );
    assert_eq!(telemetry().open_spans(trace_id), 0);
    // The server keeps serving after a handler panicked.
    client
        .get_http_thing(Request::new(header("ok")))
        .await
        .unwrap();
    telemetry()
        .wait_for(|t| (t.served_by(port).len() == 2).then_some(()))
        .await;
}

#[tokio::test]
async fn deadline_passing_ends_the_span_with_deadline_exceeded() {
    let (mut client, _) = client().await;
    let (trace_id, _, traceparent) = remote_parent(true);
    let mut call = with_parent(header("sleep=2000"), &traceparent);
    call.set_timeout(std::time::Duration::from_millis(100));
    let status = client.get_http_thing(call).await.unwrap_err();
    assert!(
        matches!(status.code(), Code::DeadlineExceeded | Code::Cancelled),
        "{status:?}"
    );
    let span = telemetry().wait_for(|t| t.trace(trace_id).pop()).await;
    assert_eq!(
        attribute(&span, "rpc.grpc.status_code"),
        Some(Value::I64(4))
    );
    assert!(matches!(span.status, SpanStatus::Error { .. }));
    assert_eq!(telemetry().open_spans(trace_id), 0);
}

#[tokio::test]
async fn client_going_away_ends_the_span_as_cancelled() {
    let (mut client, _) = client().await;
    let (trace_id, _, traceparent) = remote_parent(true);
    let call = client.get_http_thing(with_parent(header("sleep=2000"), &traceparent));
    let _ = tokio::time::timeout(std::time::Duration::from_millis(150), call).await;
    let span = telemetry().wait_for(|t| t.trace(trace_id).pop()).await;
    assert_eq!(
        attribute(&span, "rpc.grpc.status_code"),
        Some(Value::I64(1))
    );
    assert_eq!(
        span.status,
        SpanStatus::Unset,
        "CANCELLED is not a server error"
    );
    assert_eq!(telemetry().open_spans(trace_id), 0);
}

#[tokio::test]
async fn malformed_trace_headers_start_a_new_root() {
    let (mut client, port) = client().await;
    let bad_trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let huge = format!("00-{bad_trace_id}-00f067aa0ba902b7-01{}", "0".repeat(8000));
    let cases: Vec<(&str, Vec<Vec<u8>>)> = vec![
        (
            "bad hex",
            vec![format!("00-{}-00f067aa0ba902b7-01", "z".repeat(32)).into_bytes()],
        ),
        (
            "short trace id",
            vec![b"00-4bf92f3577b34da6-00f067aa0ba902b7-01".to_vec()],
        ),
        (
            "zero trace id",
            vec![format!("00-{}-00f067aa0ba902b7-01", "0".repeat(32)).into_bytes()],
        ),
        (
            "zero span id",
            vec![format!("00-{bad_trace_id}-0000000000000000-01").into_bytes()],
        ),
        (
            "version ff",
            vec![format!("ff-{bad_trace_id}-00f067aa0ba902b7-01").into_bytes()],
        ),
        ("huge", vec![huge.into_bytes()]),
        (
            "not utf-8",
            vec![b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902\xff7-01".to_vec()],
        ),
        (
            "two headers",
            vec![
                format!("00-{bad_trace_id}-00f067aa0ba902b7-01").into_bytes(),
                format!("00-{bad_trace_id}-00f067aa0ba902b8-01").into_bytes(),
            ],
        ),
    ];
    for (index, (case, values)) in cases.iter().enumerate() {
        let mut call = Request::new(header(&format!("case={index}")));
        for value in values {
            let value = tonic::metadata::MetadataValue::try_from(value.as_slice()).unwrap();
            call.metadata_mut().append("traceparent", value);
        }
        call.metadata_mut()
            .insert("tracestate", "=;;,,not a tracestate".parse().unwrap());
        client
            .get_http_thing(call)
            .await
            .unwrap_or_else(|e| panic!("{case}: {e}"));
        let span = telemetry()
            .wait_for(|t| {
                t.served_by(port)
                    .into_iter()
                    .find(|s| attribute(s, "http.url_path") == Some(format!("case={index}").into()))
            })
            .await;
        assert_eq!(span.parent_span_id, SpanId::INVALID, "{case}: a new root");
        assert_ne!(
            span.span_context.trace_id(),
            TraceId::from_hex(bad_trace_id).unwrap(),
            "{case}"
        );
    }
}

#[tokio::test]
async fn bad_tracestate_keeps_a_valid_parent() {
    let (mut client, _) = client().await;
    let (trace_id, parent_id, traceparent) = remote_parent(true);
    let mut call = with_parent(header("ok"), &traceparent);
    call.metadata_mut()
        .insert("tracestate", "not=valid=at=all,,,".parse().unwrap());
    client.get_http_thing(call).await.unwrap();
    let span = telemetry().wait_for(|t| t.trace(trace_id).pop()).await;
    assert_eq!(span.parent_span_id, parent_id);
}

#[tokio::test]
async fn unsampled_parent_records_nothing() {
    let (mut client, _) = client().await;
    let (trace_id, _, traceparent) = remote_parent(false);
    client
        .get_http_thing(with_parent(header("child"), &traceparent))
        .await
        .unwrap();
    telemetry()
        .flush_with(|parent| client.get_http_thing(with_parent(header("ok"), &parent)))
        .await;
    assert!(telemetry().trace(trace_id).is_empty());
}

#[tokio::test]
async fn request_fields_and_status_messages_are_cut_to_the_default_limit() {
    let (mut client, _) = client().await;
    let (trace_id, _, traceparent) = remote_parent(true);
    // A failing call: its field and its status message (which echoes nothing) are bounded.
    let huge = format!(
        "code=13;{}",
        "é".repeat(3 * tonic_traced::DEFAULT_ATTRIBUTE_VALUE_LENGTH)
    );
    let status = client
        .get_http_thing(with_parent(header(&huge), &traceparent))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Internal);
    let span = telemetry()
        .wait_for(|t| t.trace(trace_id).into_iter().next())
        .await;
    let Some(Value::String(kept)) = attribute(&span, "http.url_path") else {
        panic!("a string url_path: {span:#?}");
    };
    assert_eq!(
        kept.as_str().chars().count(),
        tonic_traced::DEFAULT_ATTRIBUTE_VALUE_LENGTH
    );
    assert!(huge.starts_with(kept.as_str()));
}
