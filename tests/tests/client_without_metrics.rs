//! The client layer with RPC metrics off: a call in an unsampled caller's context is passed
//! through untouched except for the `traceparent` naming the caller's span, for unary and
//! streaming responses alike; a sampled call still gets its CLIENT span.

use std::sync::{Arc, Mutex};

use opentelemetry::trace::{
    FutureExt as _, SpanContext, SpanKind, TraceContextExt as _, TraceFlags, TraceState,
};
use opentelemetry::Context;
use tonic::metadata::MetadataMap;
use tonic::transport::Server;
use tonic_traced_tests::harness::{header, in_root_span, remote_parent, serve, telemetry_with};
use tonic_traced_tests::kitchen::sink::v1::http_things_server::HttpThingsServer;
use tonic_traced_tests::relay::{traced_client, NextHop};
use tonic_traced_tests::things::Things;

/// The metadata of every request the server received.
type Received = Arc<Mutex<Vec<MetadataMap>>>;

/// A traced client, with metrics off, of a fresh `Things` server that keeps each request's
/// metadata.
async fn client() -> (NextHop, Received) {
    telemetry_with(tonic_traced::Config::without_metrics);
    let received = Received::default();
    let kept = received.clone();
    let server = HttpThingsServer::with_interceptor(Things, move |request: tonic::Request<()>| {
        kept.lock().unwrap().push(request.metadata().clone());
        Ok(request)
    });
    let address = serve(Server::builder().add_service(server)).await;
    (traced_client(address).await, received)
}

fn traceparent(metadata: &MetadataMap) -> &str {
    metadata
        .get("traceparent")
        .expect("a traceparent")
        .to_str()
        .unwrap()
}

#[tokio::test]
async fn unsampled_calls_pass_through_with_the_callers_trace() {
    let (mut client, received) = client().await;
    let (trace_id, span_id, _) = remote_parent(false);
    let state = TraceState::from_key_value([("vendor", "opaque")]).unwrap();
    let caller = SpanContext::new(trace_id, span_id, TraceFlags::default(), true, state);
    let parent = Context::new().with_remote_span_context(caller);

    let reply = client
        .get_http_thing(header("trace"))
        .with_context(parent.clone())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(reply.url_path, format!("trace={trace_id};sampled=false"));

    let mut updates = client
        .watch_http_things(header("count=3"))
        .with_context(parent)
        .await
        .unwrap()
        .into_inner();
    let mut received_updates = 0;
    while updates.message().await.unwrap().is_some() {
        received_updates += 1;
    }
    assert_eq!(received_updates, 3);

    let sent = received.lock().unwrap().clone();
    assert_eq!(sent.len(), 2);
    for metadata in &sent {
        assert_eq!(traceparent(metadata), format!("00-{trace_id}-{span_id}-00"));
        assert_eq!(metadata.get("tracestate").unwrap(), "vendor=opaque");
    }
    let telemetry = telemetry_with(|config| config);
    assert!(
        telemetry.trace(trace_id).is_empty(),
        "no span on either side"
    );
}

#[tokio::test]
async fn sampled_calls_still_get_their_client_span() {
    let (mut client, received) = client().await;
    let (trace_id, reply) = in_root_span(async {
        client
            .get_http_thing(header("trace"))
            .await
            .unwrap()
            .into_inner()
    })
    .await;
    assert_eq!(reply.url_path, format!("trace={trace_id};sampled=true"));
    let telemetry = telemetry_with(|config| config);
    let span = telemetry.span_of_kind(trace_id, SpanKind::Client).await;
    assert_eq!(span.name, "kitchen.sink.v1.HTTPThings/GetHTTPThing");
    let metadata = received.lock().unwrap().pop().unwrap();
    assert_eq!(
        traceparent(&metadata),
        format!("00-{trace_id}-{}-01", span.span_context.span_id())
    );
}
