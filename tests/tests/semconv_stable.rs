//! `OTEL_SEMCONV_STABILITY_OPT_IN=rpc`: only the stable RPC conventions, on both sides.

use opentelemetry::{KeyValue, Value};
use tonic_traced_tests::harness::{attribute, telemetry};
use tonic_traced_tests::semconv_check::{call_spans, opt_in};

#[tokio::test]
async fn stable_names_only() {
    opt_in("rpc");
    let (server, client) = call_spans(5).await;
    for span in [&server, &client] {
        assert_eq!(attribute(span, "rpc.system.name"), Some("grpc".into()));
        assert_eq!(
            attribute(span, "rpc.method"),
            Some("kitchen.sink.v1.HTTPThings/GetHTTPThing".into())
        );
        assert_eq!(attribute(span, "rpc.status_code"), Some("NOT_FOUND".into()));
        for old in ["rpc.system", "rpc.service", "rpc.grpc.status_code"] {
            assert_eq!(attribute(span, old), None, "{old}");
        }
        assert!(matches!(
            attribute(span, "server.port"),
            Some(Value::I64(_))
        ));
    }
    assert_eq!(
        attribute(&server, "error.type"),
        None,
        "NOT_FOUND is not a server error"
    );
    assert_eq!(
        attribute(&client, "error.type"),
        Some("NOT_FOUND".into()),
        "every non-OK status is a client error"
    );
}

#[tokio::test]
async fn stable_error_type_on_server_errors() {
    opt_in("rpc");
    let (server, _) = call_spans(14).await;
    assert_eq!(
        attribute(&server, "rpc.status_code"),
        Some("UNAVAILABLE".into())
    );
    assert_eq!(attribute(&server, "error.type"), Some("UNAVAILABLE".into()));
    let (ok, ok_client) = call_spans(0).await;
    assert_eq!(attribute(&ok, "rpc.status_code"), Some("OK".into()));
    assert_eq!(attribute(&ok_client, "error.type"), None);
}

#[tokio::test]
async fn stable_call_duration_metrics_only() {
    opt_in("rpc");
    let (_, client) = call_spans(8).await;
    let port = attribute(&client, "server.port").expect("the client knows the server's port");
    let stable = |client: bool| {
        let mut labels = vec![
            KeyValue::new("rpc.system.name", "grpc"),
            KeyValue::new("rpc.method", "kitchen.sink.v1.HTTPThings/GetHTTPThing"),
            KeyValue::new("rpc.status_code", "RESOURCE_EXHAUSTED"),
        ];
        if client {
            // Every non-OK status is a client error; the client's series name the server.
            labels.push(KeyValue::new("error.type", "RESOURCE_EXHAUSTED"));
            labels.push(KeyValue::new("server.address", "127.0.0.1"));
            labels.push(KeyValue::new("server.port", port.clone()));
        }
        labels
    };
    // Server rule: not a server error; client rule: every non-OK status is one.
    let (count, seconds) = telemetry().histogram("rpc.server.call.duration", &stable(false));
    assert_eq!(count, 1);
    assert!(seconds > 0.0 && seconds < 5.0, "in seconds: {seconds}");
    assert_eq!(
        telemetry()
            .histogram("rpc.client.call.duration", &stable(true))
            .0,
        1
    );
    let old = [
        KeyValue::new("rpc.system", "grpc"),
        KeyValue::new("rpc.service", "kitchen.sink.v1.HTTPThings"),
        KeyValue::new("rpc.method", "GetHTTPThing"),
        KeyValue::new("rpc.grpc.status_code", 8),
    ];
    assert_eq!(telemetry().histogram("rpc.server.duration", &old).0, 0);
}
