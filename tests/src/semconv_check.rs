//! Calls made by the semantic-convention tests, one test binary per opt-in value.

use opentelemetry::trace::SpanKind;
use opentelemetry::KeyValue;
use opentelemetry_sdk::trace::SpanData;
use tonic::client::Grpc;
use tonic::codegen::http::uri::PathAndQuery;
use tonic::transport::{Channel, Server};
use tonic::{Code, Request};
use tonic_prost::ProstCodec;
use tonic_traced::client::TracedClient;

use crate::harness::{attribute, header, in_root_span, serve, telemetry};
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
    let (trace_id, result) = in_root_span(client.get_http_thing(header(&url_path))).await;
    assert_eq!(
        result.err().map(|s| s.code()).unwrap_or(Code::Ok),
        Code::from(code)
    );
    let server = telemetry().span_of_kind(trace_id, SpanKind::Server).await;
    let client = telemetry().span_of_kind(trace_id, SpanKind::Client).await;
    (server, client)
}

/// A traced channel to a server of the kitchen sink's things, with `known` methods declared,
/// and the server's port.
pub async fn path_client(known: &[&str]) -> (Grpc<TracedClient<Channel>>, u16) {
    let address = serve(Server::builder().add_service(things::server())).await;
    let endpoint = Channel::from_shared(format!("http://{address}")).unwrap();
    let layer = tonic_traced::client::layer()
        .with_server(endpoint.uri())
        .known_methods(known.iter().copied());
    let channel = endpoint.connect().await.unwrap();
    (
        Grpc::new(tower::Layer::layer(&layer, channel)),
        address.port(),
    )
}

/// A unary call to `path`, made as a proxy would: no `GrpcMethod` on the request.
pub async fn call_path(client: &mut Grpc<TracedClient<Channel>>, path: &'static str) -> Code {
    client.ready().await.unwrap();
    let result = client
        .unary::<HttpHeader, HttpHeader, _>(
            Request::new(header("ok")),
            PathAndQuery::from_static(path),
            ProstCodec::default(),
        )
        .await;
    result.err().map_or(Code::Ok, |status| status.code())
}

/// Calls two paths no server or client knows, checks what every stable mode records of the
/// first (span `grpc`, `rpc.method` `_OTHER`, the path in `rpc.method_original`, status
/// `UNIMPLEMENTED`) and returns its CLIENT span.
pub async fn two_unknown_paths(client: &mut Grpc<TracedClient<Channel>>) -> SpanData {
    let (trace_id, code) =
        in_root_span(call_path(client, "/kitchen.sink.v1.HTTPThings/Nope")).await;
    assert_eq!(code, Code::Unimplemented);
    let span = telemetry().span_of_kind(trace_id, SpanKind::Client).await;
    assert_eq!(span.name, "grpc", "named after rpc.system.name");
    assert_eq!(attribute(&span, "rpc.method"), Some("_OTHER".into()));
    assert_eq!(
        attribute(&span, "rpc.method_original"),
        Some("kitchen.sink.v1.HTTPThings/Nope".into())
    );
    assert_eq!(
        attribute(&span, "rpc.status_code"),
        Some("UNIMPLEMENTED".into())
    );
    assert_eq!(
        call_path(client, "/another.Service/Whatever").await,
        Code::Unimplemented
    );
    span
}

/// The stable `rpc.client.call.duration` series of unknown methods called on `port`.
pub fn stable_other_series(port: u16) -> [KeyValue; 6] {
    [
        KeyValue::new("rpc.system.name", "grpc"),
        KeyValue::new("rpc.method", "_OTHER"),
        KeyValue::new("rpc.status_code", "UNIMPLEMENTED"),
        KeyValue::new("error.type", "UNIMPLEMENTED"),
        KeyValue::new("server.address", "127.0.0.1"),
        KeyValue::new("server.port", i64::from(port)),
    ]
}
