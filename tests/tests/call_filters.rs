//! Run-time filters: calls the configuration's filter (by method pattern, by metadata) or a
//! client layer's leaves out get no span and no metrics on either side, for every RPC kind,
//! and still carry the caller's trace context on.

use opentelemetry::trace::{SpanKind, TraceContextExt};
use opentelemetry::{Context, KeyValue};
use tonic::codegen::tokio_stream::{self, StreamExt};
use tonic::transport::{Channel, Server};
use tonic::{Code, Request};
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;
use tonic_traced_tests::harness::{
    header, in_root_span, remote_parent, serve, telemetry_with, Telemetry,
};
use tonic_traced_tests::kitchen::sink::v1::http_things_client::HttpThingsClient;
use tonic_traced_tests::kitchen::sink::v1::HttpHeader;
use tonic_traced_tests::things;
use tower::Layer as _;

const GET: &str = "kitchen.sink.v1.HTTPThings/GetHTTPThing";
const WATCH: &str = "kitchen.sink.v1.HTTPThings/WatchHTTPThings";
const UPLOAD: &str = "kitchen.sink.v1.HTTPThings/UploadHTTPThings";
const CHAT: &str = "kitchen.sink.v1.HTTPThings/ChatHTTP";

/// Leaves out every call carrying `x-untraced`, health checks and reflection, and
/// `ChatHTTP` by name.
fn telemetry() -> &'static Telemetry {
    telemetry_with(|config| {
        config
            .filter(|call| !call.metadata().contains_key("x-untraced"))
            .skip_health_and_reflection()
            .skip_methods([CHAT])
            .expect("a valid pattern")
    })
}

async fn things_address() -> std::net::SocketAddr {
    telemetry();
    serve(Server::builder().add_service(things::server())).await
}

/// `message` with metadata `x-untraced` and a sampled `traceparent` of a new trace.
fn untraced<T>(message: T) -> (opentelemetry::trace::TraceId, Request<T>) {
    let (trace_id, _, traceparent) = remote_parent(true);
    let mut request = Request::new(message);
    let metadata = request.metadata_mut();
    metadata.insert("traceparent", traceparent.parse().unwrap());
    metadata.insert("x-untraced", "yes".parse().unwrap());
    (trace_id, request)
}

fn uploads(paths: &[&str]) -> impl tokio_stream::Stream<Item = HttpHeader> + Send + 'static {
    tokio_stream::iter(paths.iter().map(|path| header(path)).collect::<Vec<_>>())
}

/// `GetHTTPThing` calls that failed with `FAILED_PRECONDITION` (which only one test makes)
/// measured by servers so far.
fn failed_preconditions_measured() -> u64 {
    let labels = [
        KeyValue::new("rpc.system", "grpc"),
        KeyValue::new("rpc.service", "kitchen.sink.v1.HTTPThings"),
        KeyValue::new("rpc.method", "GetHTTPThing"),
        KeyValue::new("rpc.grpc.status_code", Code::FailedPrecondition as i64),
    ];
    telemetry().histogram("rpc.server.duration", &labels).0
}

#[tokio::test]
async fn servers_leave_out_filtered_calls_of_every_kind_and_run_them_in_the_callers_trace() {
    let address = things_address().await;
    let mut client = HttpThingsClient::connect(format!("http://{address}"))
        .await
        .unwrap();

    // Unary: the handler runs in the caller's sampled context.
    let (unary_trace, request) = untraced(header("trace"));
    let reply = client.get_http_thing(request).await.unwrap().into_inner();
    assert_eq!(reply.url_path, format!("trace={unary_trace};sampled=true"));
    let (failed_trace, request) = untraced(header("code=9"));
    let status = client.get_http_thing(request).await.unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    // Server streaming.
    let (watch_trace, request) = untraced(header("count=2"));
    let mut updates = client
        .watch_http_things(request)
        .await
        .unwrap()
        .into_inner();
    while updates.message().await.unwrap().is_some() {}
    // Client streaming: the handler's own spans are children of the caller's span.
    let (trace_id, parent, traceparent) = remote_parent(true);
    let mut request = Request::new(uploads(&["child", "child"]));
    request
        .metadata_mut()
        .insert("traceparent", traceparent.parse().unwrap());
    request
        .metadata_mut()
        .insert("x-untraced", "yes".parse().unwrap());
    client.upload_http_things(request).await.unwrap();
    // Bidi, left out by name (no metadata needed).
    let (chat_trace, _, traceparent) = remote_parent(true);
    let mut request = Request::new(uploads(&["a", "b"]));
    request
        .metadata_mut()
        .insert("traceparent", traceparent.parse().unwrap());
    let replies: Vec<_> = client
        .chat_http(request)
        .await
        .unwrap()
        .into_inner()
        .collect()
        .await;
    assert_eq!(replies.len(), 2);

    // A traced call after them all: once its span is exported, theirs would have been.
    let (flush_trace, _, traceparent) = remote_parent(true);
    let mut request = Request::new(header("code=9"));
    request
        .metadata_mut()
        .insert("traceparent", traceparent.parse().unwrap());
    client.get_http_thing(request).await.unwrap_err();
    let traced = telemetry()
        .span_of_kind(flush_trace, SpanKind::Server)
        .await;
    assert_eq!(traced.name, GET, "a call the filter keeps is traced");

    for (trace, method) in [
        (unary_trace, GET),
        (failed_trace, GET),
        (watch_trace, WATCH),
        (trace_id, UPLOAD),
        (chat_trace, CHAT),
    ] {
        let spans = telemetry().trace(trace);
        assert!(
            spans.iter().all(|span| span.span_kind != SpanKind::Server
                && !span.name.starts_with("message")),
            "no SERVER or message span for the filtered {method}: {spans:#?}"
        );
    }
    let children = telemetry()
        .wait_for(|t| {
            let spans = t.trace(trace_id);
            (spans
                .iter()
                .filter(|s| s.name == "validate_payment")
                .count()
                == 2)
                .then_some(spans)
        })
        .await;
    for child in children.iter().filter(|s| s.name == "validate_payment") {
        assert_eq!(
            child.parent_span_id, parent,
            "the handler's spans are children of the caller's"
        );
    }
    assert_eq!(
        failed_preconditions_measured(),
        1,
        "only the traced call is measured"
    );
}

#[tokio::test]
async fn a_layer_leaves_out_its_methods_and_still_sends_the_callers_context() {
    let address = things_address().await;
    let channel = Channel::from_shared(format!("http://{address}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let layer = tonic_traced::client::layer()
        .filter(|call| call.method() != WATCH)
        .skip_methods([UPLOAD])
        .unwrap();
    let mut client = HttpThingsClient::new(layer.layer(channel));

    let (trace_id, reply) = in_root_span(async {
        let root = Context::current().span().span_context().span_id();
        let trace = client.get_http_thing(header("trace")).await.unwrap();
        let mut updates = client
            .watch_http_things(header("count=2"))
            .await
            .unwrap()
            .into_inner();
        while updates.message().await.unwrap().is_some() {}
        client
            .upload_http_things(uploads(&["a", "b"]))
            .await
            .unwrap();
        // Left out by the configuration's filter, which applies to clients too.
        let mut request = Request::new(header("ok"));
        request
            .metadata_mut()
            .insert("x-untraced", "yes".parse().unwrap());
        client.get_http_thing(request).await.unwrap();
        (root, trace.into_inner())
    })
    .await;
    let (root, trace) = reply;
    assert_eq!(trace.url_path, format!("trace={trace_id};sampled=true"));

    // The traced GetHTTPThing's CLIENT span, and the servers' spans of the three others, all
    // in the caller's trace, the left-out calls' SERVER spans children of the caller's span.
    let spans = telemetry()
        .wait_for(|t| {
            let spans = t.trace(trace_id);
            let servers = spans
                .iter()
                .filter(|s| s.span_kind == SpanKind::Server)
                .count();
            (servers == 3).then_some(spans)
        })
        .await;
    let clients: Vec<_> = spans
        .iter()
        .filter(|s| s.span_kind == SpanKind::Client)
        .collect();
    assert_eq!(clients.len(), 1, "only the kept call: {spans:#?}");
    assert_eq!(clients[0].name, GET);
    for method in [WATCH, UPLOAD] {
        let server = spans
            .iter()
            .find(|s| s.span_kind == SpanKind::Server && s.name == method)
            .unwrap_or_else(|| panic!("the SERVER span of {method}: {spans:#?}"));
        assert_eq!(server.parent_span_id, root);
    }
}

#[tokio::test]
async fn health_checks_pass_untraced_through_the_layer() {
    telemetry();
    let (reporter, health) = tonic_health::server::health_reporter();
    reporter
        .set_service_status("kitchen", tonic_health::ServingStatus::Serving)
        .await;
    let address = serve(Server::builder().add_service(health)).await;
    let channel = Channel::from_shared(format!("http://{address}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut health = HealthClient::new(tonic_traced::client::layer().layer(channel));
    let (trace_id, reply) = in_root_span(health.check(HealthCheckRequest {
        service: "kitchen".into(),
    }))
    .await;
    reply.unwrap();
    // The call has returned, so a span of it would have ended and been exported already.
    let spans = telemetry().trace(trace_id);
    assert!(
        spans.iter().all(|span| span.span_kind != SpanKind::Client),
        "no CLIENT span for the health check: {spans:#?}"
    );
}
