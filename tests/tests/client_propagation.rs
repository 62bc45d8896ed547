//! What the client layer tells the server, over real loopback calls. A sampled call sends
//! its CLIENT span and the caller's `tracestate`. The unsampled fast path: a call made inside
//! an unsampled caller's context starts no span, tells the server the caller's own span (trace
//! id, span id, unsampled flag, `tracestate`), and is still counted in the RPC metrics.

use std::sync::{Arc, Mutex};

use opentelemetry::baggage::BaggageExt;
use opentelemetry::trace::{
    FutureExt as _, SpanContext, SpanId, SpanKind, TraceContextExt as _, TraceFlags, TraceId,
    TraceState,
};
use opentelemetry::{Context, Key, KeyValue};
use tonic::metadata::MetadataMap;
use tonic::transport::Server;
use tonic::Code;
use tonic_traced_tests::harness::{header, remote_parent, serve, telemetry};
use tonic_traced_tests::kitchen::sink::v1::http_things_server::HttpThingsServer;
use tonic_traced_tests::relay::{traced_client, NextHop};
use tonic_traced_tests::things::Things;

/// The metadata of every request the server received.
type Received = Arc<Mutex<Vec<MetadataMap>>>;

/// A traced client of a fresh `Things` server that keeps each request's metadata.
async fn client() -> (NextHop, Received) {
    telemetry();
    let received = Received::default();
    let kept = received.clone();
    let server = HttpThingsServer::with_interceptor(Things, move |request: tonic::Request<()>| {
        kept.lock().unwrap().push(request.metadata().clone());
        Ok(request)
    });
    let address = serve(Server::builder().add_service(server)).await;
    (traced_client(address).await, received)
}

/// An unsampled caller context (as a handler serving an unsampled request runs in).
fn unsampled_parent(state: TraceState) -> (TraceId, SpanId, Context) {
    caller(false, state)
}

/// A caller context whose span is remote, as a handler serving a request runs in.
fn caller(sampled: bool, state: TraceState) -> (TraceId, SpanId, Context) {
    let (trace_id, span_id, _) = remote_parent(sampled);
    let flags = if sampled {
        TraceFlags::SAMPLED
    } else {
        TraceFlags::default()
    };
    let span_context = SpanContext::new(trace_id, span_id, flags, true, state);
    (
        trace_id,
        span_id,
        Context::new().with_remote_span_context(span_context),
    )
}

fn text<'a>(metadata: &'a MetadataMap, key: &str) -> Option<&'a str> {
    metadata.get(key).map(|value| value.to_str().unwrap())
}

#[tokio::test]
async fn a_sampled_call_sends_its_span_and_the_callers_tracestate() {
    let (mut client, received) = client().await;
    let state = TraceState::from_key_value([("vendor", "opaque")]).unwrap();
    let (trace_id, span_id, parent) = caller(true, state);
    client
        .get_http_thing(header("code=9"))
        .with_context(parent)
        .await
        .unwrap_err();
    let spans = telemetry()
        .wait_for(|t| {
            let spans = t.trace(trace_id);
            (spans.len() == 2).then_some(spans)
        })
        .await;
    let client_span = spans
        .iter()
        .find(|span| span.span_kind == SpanKind::Client)
        .unwrap();
    assert_eq!(client_span.parent_span_id, span_id);
    let metadata = received.lock().unwrap().pop().unwrap();
    assert_eq!(
        text(&metadata, "traceparent"),
        Some(format!("00-{trace_id}-{}-01", client_span.span_context.span_id()).as_str())
    );
    assert_eq!(text(&metadata, "tracestate"), Some("vendor=opaque"));
    assert_eq!(text(&metadata, "baggage"), None);
}

#[tokio::test]
async fn an_unsampled_caller_gets_no_span_and_its_trace_goes_on() {
    let (mut client, received) = client().await;
    let (trace_id, span_id, parent) = unsampled_parent(TraceState::NONE);
    let labels = [
        KeyValue::new(Key::from_static_str("rpc.system"), "grpc"),
        KeyValue::new(
            Key::from_static_str("rpc.service"),
            "kitchen.sink.v1.HTTPThings",
        ),
        KeyValue::new(Key::from_static_str("rpc.method"), "GetHTTPThing"),
        KeyValue::new(
            Key::from_static_str("rpc.grpc.status_code"),
            Code::Ok as i64,
        ),
    ];
    let (counted, _) = telemetry().histogram("rpc.client.duration", &labels);

    let reply = client
        .get_http_thing(header("trace"))
        .with_context(parent)
        .await
        .unwrap()
        .into_inner();

    assert_eq!(reply.url_path, format!("trace={trace_id};sampled=false"));
    let metadata = received.lock().unwrap().pop().unwrap();
    assert_eq!(
        text(&metadata, "traceparent"),
        Some(format!("00-{trace_id}-{span_id}-00").as_str()),
        "the server is told the caller's own span"
    );
    assert_eq!(text(&metadata, "tracestate"), None);
    assert!(
        telemetry().trace(trace_id).is_empty(),
        "no span on either side"
    );
    assert_eq!(
        telemetry().histogram("rpc.client.duration", &labels).0,
        counted + 1,
        "the call is still counted"
    );
}

#[tokio::test]
async fn the_callers_tracestate_goes_on() {
    let (mut client, received) = client().await;
    let state = TraceState::from_key_value([("vendor", "opaque")]).unwrap();
    let (trace_id, span_id, parent) = unsampled_parent(state);
    client
        .get_http_thing(header("code=5"))
        .with_context(parent)
        .await
        .unwrap_err();
    let metadata = received.lock().unwrap().pop().unwrap();
    assert_eq!(
        text(&metadata, "traceparent"),
        Some(format!("00-{trace_id}-{span_id}-00").as_str())
    );
    assert_eq!(text(&metadata, "tracestate"), Some("vendor=opaque"));
    assert!(telemetry().trace(trace_id).is_empty());
}

#[tokio::test]
async fn baggage_goes_on_with_the_unsampled_trace() {
    let (mut client, received) = client().await;
    let (trace_id, _, parent) = unsampled_parent(TraceState::NONE);
    let parent = parent.with_baggage([KeyValue::new("tenant", "blue")]);
    client
        .get_http_thing(header("code=5"))
        .with_context(parent)
        .await
        .unwrap_err();
    let metadata = received.lock().unwrap().pop().unwrap();
    let traceparent = text(&metadata, "traceparent").unwrap();
    assert!(
        traceparent.starts_with(&format!("00-{trace_id}-")) && traceparent.ends_with("-00"),
        "{traceparent}"
    );
    assert_eq!(text(&metadata, "baggage"), Some("tenant=blue"));
    assert!(telemetry().trace(trace_id).is_empty());
}
