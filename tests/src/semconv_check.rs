//! Calls made by the semantic-convention tests, one test binary per opt-in value.

use opentelemetry::trace::{FutureExt as _, SpanKind, TraceContextExt as _, Tracer as _};
use opentelemetry::{global, Context};
use opentelemetry_sdk::trace::SpanData;
use tonic::transport::Server;
use tonic::Code;

use crate::harness::{serve, telemetry};
use crate::kitchen::sink::v1::HttpHeader;
use crate::relay::traced_client;
use crate::things;

/// Sets `OTEL_SEMCONV_STABILITY_OPT_IN` before any span is made in this process.
pub fn opt_in(value: &str) {
    std::env::set_var("OTEL_SEMCONV_STABILITY_OPT_IN", value);
    telemetry();
}

/// The SERVER and CLIENT spans of one traced unary call whose handler answers with `code`
/// (0 for OK).
pub async fn call_spans(code: i32) -> (SpanData, SpanData) {
    let address = serve(Server::builder().add_service(things::server())).await;
    let mut client = traced_client(address).await;
    let url_path = if code == 0 {
        "ok".to_owned()
    } else {
        format!("code={code}")
    };
    let cx = Context::current_with_span(global::tracer("test").start("semconv root"));
    let trace_id = cx.span().span_context().trace_id();
    let result = client
        .get_http_thing(HttpHeader { url_path })
        .with_context(cx)
        .await;
    assert_eq!(
        result.err().map(|s| s.code()).unwrap_or(Code::Ok),
        Code::from(code)
    );
    let find = |kind: SpanKind| {
        move |t: &crate::harness::Telemetry| {
            t.trace(trace_id).into_iter().find(|s| s.span_kind == kind)
        }
    };
    let server = telemetry().wait_for(find(SpanKind::Server)).await;
    let client = telemetry().wait_for(find(SpanKind::Client)).await;
    (server, client)
}
