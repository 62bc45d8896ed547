//! gRPC metadata as attributes, for the keys chosen in the configuration and on a client
//! layer: request and response (headers and trailers) on both sides, string arrays, lower-case
//! keys, `-bin` values as sent (base64), `authorization` left out without the opt-in.

use opentelemetry::trace::SpanKind;
use opentelemetry::{Array, Value};
use tonic::transport::{Channel, Server};
use tonic::Request;
use tonic_traced_tests::harness::{attribute, header, in_root_span, serve, telemetry_with};
use tonic_traced_tests::kitchen::sink::v1::http_things_client::HttpThingsClient;
use tonic_traced_tests::things;

fn strings(values: &[&str]) -> Value {
    Value::Array(Array::String(
        values
            .iter()
            .map(|value| value.to_string().into())
            .collect(),
    ))
}

#[tokio::test]
async fn chosen_metadata_is_recorded_on_both_sides() {
    let telemetry = telemetry_with(|config| {
        config
            .capture_server_request_metadata(["X-Tenant", "authorization"])
            .capture_server_response_metadata(["x-served-by"])
            .capture_client_request_metadata(["x-tenant"])
    });
    let address = serve(Server::builder().add_service(things::server())).await;
    let channel = Channel::from_shared(format!("http://{address}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let layer = tonic_traced::client::layer()
        .capture_response_metadata(["x-served-by", "grpc-status-details-bin"]);
    let mut client =
        HttpThingsClient::new(tower::ServiceBuilder::new().layer(layer).service(channel));

    let request = |url_path: &str| {
        let mut request = Request::new(header(url_path));
        let metadata = request.metadata_mut();
        metadata.append("x-tenant", "acme".parse().unwrap());
        metadata.append("x-tenant", "beta".parse().unwrap());
        metadata.insert("authorization", "Bearer secret".parse().unwrap());
        request
    };
    let (trace_id, reply) = in_root_span(client.get_http_thing(request("ok"))).await;
    reply.unwrap();
    let server = telemetry.span_of_kind(trace_id, SpanKind::Server).await;
    let client_span = telemetry.span_of_kind(trace_id, SpanKind::Client).await;
    for span in [&server, &client_span] {
        assert_eq!(
            attribute(span, "rpc.grpc.request.metadata.x-tenant"),
            Some(strings(&["acme", "beta"])),
            "{:?}",
            span.span_kind
        );
        assert_eq!(
            attribute(span, "rpc.grpc.response.metadata.x-served-by"),
            Some(strings(&["things"])),
            "{:?}",
            span.span_kind
        );
        assert_eq!(
            attribute(span, "rpc.grpc.request.metadata.authorization"),
            None,
            "credentials need the explicit opt-in"
        );
    }

    // A failed call's trailers: the error details, base64 as on the wire.
    let (trace_id, reply) = in_root_span(client.get_http_thing(request("code=9;details"))).await;
    let status = reply.unwrap_err();
    let client_span = telemetry.span_of_kind(trace_id, SpanKind::Client).await;
    let Some(Value::Array(Array::String(values))) = attribute(
        &client_span,
        "rpc.grpc.response.metadata.grpc-status-details-bin",
    ) else {
        panic!("the details trailer: {client_span:#?}");
    };
    let encoded = tonic::metadata::BinaryMetadataValue::from_bytes(status.details());
    assert_eq!(values[0].as_str().as_bytes(), encoded.as_encoded_bytes());
}
