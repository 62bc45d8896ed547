//! Calls made by the semantic-convention tests, one test binary per opt-in value.

use opentelemetry_sdk::trace::SpanData;
use tonic::transport::Server;
use tonic::{Code, Request};

use crate::harness::{remote_parent, serve, telemetry};
use crate::kitchen::sink::v1::http_things_client::HttpThingsClient;
use crate::kitchen::sink::v1::HttpHeader;
use crate::things;

/// Sets `OTEL_SEMCONV_STABILITY_OPT_IN` before any span is made in this process.
pub fn opt_in(value: &str) {
    std::env::set_var("OTEL_SEMCONV_STABILITY_OPT_IN", value);
    telemetry();
}

/// The server span of one unary call whose handler answers with `code` (0 for OK).
pub async fn server_span(code: i32) -> SpanData {
    let address = serve(Server::builder().add_service(things::server())).await;
    let mut client = HttpThingsClient::connect(format!("http://{address}"))
        .await
        .unwrap();
    let (trace_id, _, traceparent) = remote_parent(true);
    let mut request = Request::new(HttpHeader {
        url_path: if code == 0 {
            "ok".into()
        } else {
            format!("code={code}")
        },
    });
    request
        .metadata_mut()
        .insert("traceparent", traceparent.parse().unwrap());
    let result = client.get_http_thing(request).await;
    assert_eq!(
        result.err().map(|s| s.code()).unwrap_or(Code::Ok),
        Code::from(code)
    );
    telemetry().wait_for(|t| t.trace(trace_id).pop()).await
}
