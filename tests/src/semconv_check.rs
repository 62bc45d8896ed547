//! Calls made by the semantic-convention tests, one test binary per opt-in value.

use opentelemetry::trace::SpanKind;
use opentelemetry_sdk::trace::SpanData;
use tonic::transport::Server;
use tonic::Code;

use crate::harness::{header, in_root_span, serve, telemetry};
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
    let (trace_id, result) = in_root_span(client.get_http_thing(header(&url_path))).await;
    assert_eq!(
        result.err().map(|s| s.code()).unwrap_or(Code::Ok),
        Code::from(code)
    );
    let server = telemetry().span_of_kind(trace_id, SpanKind::Server).await;
    let client = telemetry().span_of_kind(trace_id, SpanKind::Client).await;
    (server, client)
}
