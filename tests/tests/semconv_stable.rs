//! `OTEL_SEMCONV_STABILITY_OPT_IN=rpc`: only the stable RPC conventions.

use opentelemetry::Value;
use tonic_traced_tests::harness::attribute;
use tonic_traced_tests::semconv_check::{opt_in, server_span};

#[tokio::test]
async fn stable_names_only() {
    opt_in("rpc");
    let span = server_span(5).await;
    assert_eq!(attribute(&span, "rpc.system.name"), Some("grpc".into()));
    assert_eq!(
        attribute(&span, "rpc.method"),
        Some("kitchen.sink.v1.HTTPThings/GetHTTPThing".into())
    );
    assert_eq!(
        attribute(&span, "rpc.response.status_code"),
        Some("NOT_FOUND".into())
    );
    for old in ["rpc.system", "rpc.service", "rpc.grpc.status_code"] {
        assert_eq!(attribute(&span, old), None, "{old}");
    }
    assert_eq!(
        attribute(&span, "error.type"),
        None,
        "NOT_FOUND is not a server error"
    );
    assert!(matches!(
        attribute(&span, "server.port"),
        Some(Value::I64(_))
    ));
}

#[tokio::test]
async fn stable_error_type_on_server_errors() {
    opt_in("rpc");
    let span = server_span(14).await;
    assert_eq!(
        attribute(&span, "rpc.response.status_code"),
        Some("UNAVAILABLE".into())
    );
    assert_eq!(attribute(&span, "error.type"), Some("UNAVAILABLE".into()));
    let ok = server_span(0).await;
    assert_eq!(
        attribute(&ok, "rpc.response.status_code"),
        Some("OK".into())
    );
}
