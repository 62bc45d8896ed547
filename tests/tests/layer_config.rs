//! Two configurations in one program: a client layer given a `Config` of its own traces its
//! calls with that configuration's provider and conventions, while the server it calls keeps
//! the installed one; every part of each call (spans, message spans, metadata) follows the
//! configuration its call started under.

use opentelemetry::trace::SpanKind;
use opentelemetry::Value;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
use tonic::transport::{Channel, Server};
use tonic_traced::SemconvMode;
use tonic_traced_tests::harness::{attribute, header, serve, telemetry};
use tonic_traced_tests::kitchen::sink::v1::http_things_client::HttpThingsClient;
use tonic_traced_tests::things;
use tower::Layer as _;

#[tokio::test]
async fn a_layer_with_its_own_configuration_traces_under_it() {
    let installed = telemetry();
    let address = serve(Server::builder().add_service(things::server())).await;
    let own_spans = InMemorySpanExporter::default();
    let own_provider = SdkTracerProvider::builder()
        .with_simple_exporter(own_spans.clone())
        .build();
    let own = tonic_traced::Config::new()
        .semconv(SemconvMode::STABLE)
        .tracer_provider(&own_provider)
        .without_metrics()
        .attribute_value_length_limit(4)
        .capture_client_response_metadata(["x-served-by"]);
    let channel = Channel::from_shared(format!("http://{address}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut client =
        HttpThingsClient::new(tonic_traced::client::layer().config(own).layer(channel));

    client.get_http_thing(header("ok, twice")).await.unwrap();
    let mut updates = client
        .watch_http_things(header("count=2"))
        .await
        .unwrap()
        .into_inner();
    while updates.message().await.unwrap().is_some() {}

    let spans = own_spans.get_finished_spans().unwrap();
    let get = spans
        .iter()
        .find(|span| span.name == "kitchen.sink.v1.HTTPThings/GetHTTPThing")
        .expect("the layer's CLIENT span, in its own provider");
    assert_eq!(get.span_kind, SpanKind::Client);
    // Its conventions, its length limit, its metadata keys.
    assert_eq!(attribute(get, "rpc.system.name"), Some(Value::from("grpc")));
    assert_eq!(attribute(get, "rpc.system"), None);
    assert_eq!(attribute(get, "http.url_path"), Some(Value::from("ok, ")));
    assert!(attribute(get, "rpc.response.metadata.x-served-by").is_some());
    // The stream's message spans come from the same configuration's tracer.
    let watch = spans
        .iter()
        .find(|span| span.name == "kitchen.sink.v1.HTTPThings/WatchHTTPThings")
        .expect("the stream's CLIENT span");
    let received = spans
        .iter()
        .filter(|span| {
            span.name == "message RECEIVED" && span.parent_span_id == watch.span_context.span_id()
        })
        .count();
    assert_eq!(received, 2);

    // The server, in the same program, traced under the installed configuration: its span is
    // the child of the layer's, in the installed provider, with the installed conventions.
    let server = installed
        .wait_for(|t| {
            t.finished().into_iter().find(|span| {
                span.span_kind == SpanKind::Server
                    && span.parent_span_id == get.span_context.span_id()
            })
        })
        .await;
    assert_eq!(server.span_context.trace_id(), get.span_context.trace_id());
    let installed_mode = SemconvMode::from_opt_in(
        &std::env::var("OTEL_SEMCONV_STABILITY_OPT_IN").unwrap_or_default(),
    )
    .unwrap();
    assert_eq!(
        attribute(&server, "rpc.system").is_some(),
        installed_mode.old
    );
    assert_eq!(
        attribute(&server, "http.url_path"),
        Some(Value::from("ok, twice"))
    );
    assert!(installed
        .finished()
        .iter()
        .all(|span| span.span_kind != SpanKind::Client));
}
