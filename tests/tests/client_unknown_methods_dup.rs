//! `OTEL_SEMCONV_STABILITY_OPT_IN=rpc/dup`: a client call whose method the client cannot know
//! (no tonic `GrpcMethod` on the request) is `_OTHER` in both sets of conventions: `rpc.method`
//! and `rpc.service` are `_OTHER`, the span is named `grpc` and the path is in
//! `rpc.method_original`; the old and the stable metrics each make one series of every such
//! call. `known_methods` keeps a declared path's names. Real calls over loopback.

use opentelemetry::trace::SpanKind;
use opentelemetry::{KeyValue, Value};
use tonic::Code;
use tonic_traced_tests::harness::{attribute, in_root_span, telemetry};
use tonic_traced_tests::semconv_check::{
    call_path, opt_in, path_client, stable_other_series, two_unknown_paths,
};

const SERVICE: &str = "kitchen.sink.v1.HTTPThings";
const GET: &str = "kitchen.sink.v1.HTTPThings/GetHTTPThing";

#[tokio::test]
async fn unknown_methods_are_other_in_both_conventions() {
    opt_in("rpc/dup");
    let (mut client, port) = path_client(&[]).await;
    let span = two_unknown_paths(&mut client).await;
    assert_eq!(span.span_kind, SpanKind::Client);
    assert_eq!(attribute(&span, "rpc.system"), Some("grpc".into()));
    assert_eq!(attribute(&span, "rpc.system.name"), Some("grpc".into()));
    assert_eq!(attribute(&span, "rpc.service"), Some("_OTHER".into()));
    assert_eq!(
        attribute(&span, "rpc.grpc.status_code"),
        Some(Value::I64(Code::Unimplemented as i64))
    );
    let old = [
        KeyValue::new("rpc.system", "grpc"),
        KeyValue::new("rpc.service", "_OTHER"),
        KeyValue::new("rpc.method", "_OTHER"),
        KeyValue::new("rpc.grpc.status_code", Code::Unimplemented as i64),
    ];
    let stable = stable_other_series(port);
    let counts = (
        telemetry().histogram("rpc.client.duration", &old).0,
        telemetry().histogram("rpc.client.call.duration", &stable).0,
    );
    assert_eq!(counts, (2, 2), "both paths in one _OTHER series of each");
}

#[tokio::test]
async fn declared_methods_keep_their_names() {
    opt_in("rpc/dup");
    let (mut client, port) = path_client(&[GET]).await;
    let (trace_id, code) = in_root_span(call_path(
        &mut client,
        "/kitchen.sink.v1.HTTPThings/GetHTTPThing",
    ))
    .await;
    assert_eq!(code, Code::Ok);
    let span = telemetry().span_of_kind(trace_id, SpanKind::Client).await;
    assert_eq!(span.name, GET);
    assert_eq!(attribute(&span, "rpc.method"), Some(GET.into()));
    assert_eq!(attribute(&span, "rpc.service"), Some(SERVICE.into()));
    assert_eq!(attribute(&span, "rpc.method_original"), None);
    let old = [
        KeyValue::new("rpc.system", "grpc"),
        KeyValue::new("rpc.service", SERVICE),
        KeyValue::new("rpc.method", "GetHTTPThing"),
        KeyValue::new("rpc.grpc.status_code", 0),
    ];
    let stable = [
        KeyValue::new("rpc.system.name", "grpc"),
        KeyValue::new("rpc.method", GET),
        KeyValue::new("rpc.status_code", "OK"),
        KeyValue::new("server.address", "127.0.0.1"),
        KeyValue::new("server.port", i64::from(port)),
    ];
    let counts = (
        telemetry().histogram("rpc.client.duration", &old).0,
        telemetry().histogram("rpc.client.call.duration", &stable).0,
    );
    assert_eq!(counts, (1, 1), "the declared method's own series");
}
