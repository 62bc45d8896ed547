//! `OTEL_SEMCONV_STABILITY_OPT_IN=rpc`: a client call whose method the client cannot know
//! (no tonic `GrpcMethod` on the request, as a proxy or hand-made request sends) is `_OTHER`,
//! its span named `grpc` and its path in `rpc.method_original`, and every such call is one
//! metric series; `known_methods` declares paths known. Real calls over loopback.

use opentelemetry::trace::SpanKind;
use tonic::Code;
use tonic_traced_tests::harness::{attribute, in_root_span, telemetry};
use tonic_traced_tests::semconv_check::{
    call_path, opt_in, path_client, stable_other_series, two_unknown_paths,
};

const GET: &str = "kitchen.sink.v1.HTTPThings/GetHTTPThing";

#[tokio::test]
async fn unknown_methods_are_other_and_share_one_series() {
    opt_in("rpc");
    let (mut client, port) = path_client(&[]).await;
    two_unknown_paths(&mut client).await;
    assert_eq!(
        telemetry()
            .histogram("rpc.client.call.duration", &stable_other_series(port))
            .0,
        2,
        "both paths in the one _OTHER series"
    );
}

#[tokio::test]
async fn declared_methods_keep_their_names() {
    opt_in("rpc");
    let (mut declared, _) = path_client(&[GET]).await;
    let path = "/kitchen.sink.v1.HTTPThings/GetHTTPThing";
    let (trace_id, code) = in_root_span(call_path(&mut declared, path)).await;
    assert_eq!(code, Code::Ok);
    let span = telemetry().span_of_kind(trace_id, SpanKind::Client).await;
    assert_eq!(span.name, GET);
    assert_eq!(attribute(&span, "rpc.method"), Some(GET.into()));
    assert_eq!(attribute(&span, "rpc.method_original"), None);
    // Not declared, though the server has it: the client cannot tell.
    let (mut undeclared, _) = path_client(&[]).await;
    let (trace_id, code) = in_root_span(call_path(&mut undeclared, path)).await;
    assert_eq!(code, Code::Ok);
    let span = telemetry().span_of_kind(trace_id, SpanKind::Client).await;
    assert_eq!(attribute(&span, "rpc.method"), Some("_OTHER".into()));
    assert_eq!(attribute(&span, "rpc.method_original"), Some(GET.into()));
}
