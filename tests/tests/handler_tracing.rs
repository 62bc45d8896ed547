//! A handler's own `tracing`, over a real loopback server: the span of
//! `#[tracing::instrument]` on a handler is a child of the SERVER span, in its trace, and a
//! `tracing::info!` straight in a handler is an event of the SERVER span. Unary and
//! server-streaming calls; `#[traced_service]` above and below `#[tonic::async_trait]`, and on
//! a trait with native async methods.
//!
//! The harness bridges only target `tonic_traced_tests` to OpenTelemetry, so the handlers
//! here name it.

use std::future::Future;

use opentelemetry::trace::{SpanKind, TraceId};
use opentelemetry::{KeyValue, Value};
use opentelemetry_sdk::trace::SpanData;
use tonic::codegen::tokio_stream::{self, Stream, StreamExt};
use tonic::transport::{Channel, Server};
use tonic::{Request, Response, Status, Streaming};
use tonic_traced::RpcMethod;
use tonic_traced_tests::harness::{header, remote_parent, serve, telemetry, with_parent};
use tonic_traced_tests::kitchen::sink::v1::http_things_client::HttpThingsClient;
use tonic_traced_tests::kitchen::sink::v1::http_things_server::{HttpThings, HttpThingsServer};
use tonic_traced_tests::kitchen::sink::v1::HttpHeader;
use tonic_traced_tests::things::{HeaderStream, Things};

const GET: &str = "kitchen.sink.v1.HTTPThings/GetHTTPThing";
const WATCH: &str = "kitchen.sink.v1.HTTPThings/WatchHTTPThings";
/// The `info!` event of the instrumented handlers.
const INSTRUMENTED: &str = "in the instrumented handler";
/// The `info!` event of the handlers without `#[instrument]`.
const PLAIN: &str = "in the plain handler";

/// The request, echoed.
fn reply(request: Request<HttpHeader>) -> Result<Response<HttpHeader>, Status> {
    Ok(Response::new(request.into_inner()))
}

/// Two updates naming the request's path.
fn updates(request: Request<HttpHeader>) -> Result<Response<HeaderStream>, Status> {
    let path = request.into_inner().url_path;
    let updates = (1..=2).map(move |n| {
        Ok(HttpHeader {
            url_path: format!("{path} {n}"),
        })
    });
    Ok(Response::new(Box::pin(tokio_stream::iter(updates))))
}

/// The answer of the methods these tests do not call.
fn not_called<T>() -> Result<Response<T>, Status> {
    Err(Status::unimplemented("not called by these tests"))
}

struct InstrumentedAbove;

#[tonic_traced::traced_service]
#[tonic::async_trait]
impl HttpThings for InstrumentedAbove {
    #[tracing::instrument(target = "tonic_traced_tests::handlers", skip_all)]
    async fn get_http_thing(
        &self,
        request: Request<HttpHeader>,
    ) -> Result<Response<HttpHeader>, Status> {
        tracing::info!(target: "tonic_traced_tests::handlers", "in the instrumented handler");
        reply(request)
    }

    type WatchHTTPThingsStream = HeaderStream;

    #[tracing::instrument(target = "tonic_traced_tests::handlers", skip_all)]
    async fn watch_http_things(
        &self,
        request: Request<HttpHeader>,
    ) -> Result<Response<Self::WatchHTTPThingsStream>, Status> {
        tracing::info!(target: "tonic_traced_tests::handlers", "in the instrumented handler");
        updates(request)
    }

    async fn upload_http_things(
        &self,
        _request: Request<Streaming<HttpHeader>>,
    ) -> Result<Response<()>, Status> {
        not_called()
    }

    type ChatHTTPStream = HeaderStream;

    async fn chat_http(
        &self,
        _request: Request<Streaming<HttpHeader>>,
    ) -> Result<Response<Self::ChatHTTPStream>, Status> {
        not_called()
    }
}

struct InstrumentedBelow;

#[tonic::async_trait]
#[tonic_traced::traced_service]
impl HttpThings for InstrumentedBelow {
    #[tracing::instrument(target = "tonic_traced_tests::handlers", skip_all)]
    async fn get_http_thing(
        &self,
        request: Request<HttpHeader>,
    ) -> Result<Response<HttpHeader>, Status> {
        tracing::info!(target: "tonic_traced_tests::handlers", "in the instrumented handler");
        reply(request)
    }

    type WatchHTTPThingsStream = HeaderStream;

    #[tracing::instrument(target = "tonic_traced_tests::handlers", skip_all)]
    async fn watch_http_things(
        &self,
        request: Request<HttpHeader>,
    ) -> Result<Response<HeaderStream>, Status> {
        tracing::info!(target: "tonic_traced_tests::handlers", "in the instrumented handler");
        updates(request)
    }

    async fn upload_http_things(
        &self,
        _request: Request<Streaming<HttpHeader>>,
    ) -> Result<Response<()>, Status> {
        not_called()
    }

    type ChatHTTPStream = HeaderStream;

    async fn chat_http(
        &self,
        _request: Request<Streaming<HttpHeader>>,
    ) -> Result<Response<Self::ChatHTTPStream>, Status> {
        not_called()
    }
}

struct PlainAbove;

#[tonic_traced::traced_service]
#[tonic::async_trait]
impl HttpThings for PlainAbove {
    async fn get_http_thing(
        &self,
        request: Request<HttpHeader>,
    ) -> Result<Response<HttpHeader>, Status> {
        tracing::info!(target: "tonic_traced_tests::handlers", answer = 42, "in the plain handler");
        reply(request)
    }

    type WatchHTTPThingsStream = HeaderStream;

    async fn watch_http_things(
        &self,
        request: Request<HttpHeader>,
    ) -> Result<Response<Self::WatchHTTPThingsStream>, Status> {
        tracing::info!(target: "tonic_traced_tests::handlers", answer = 42, "in the plain handler");
        updates(request)
    }

    async fn upload_http_things(
        &self,
        _request: Request<Streaming<HttpHeader>>,
    ) -> Result<Response<()>, Status> {
        not_called()
    }

    type ChatHTTPStream = HeaderStream;

    async fn chat_http(
        &self,
        _request: Request<Streaming<HttpHeader>>,
    ) -> Result<Response<Self::ChatHTTPStream>, Status> {
        not_called()
    }
}

struct PlainBelow;

#[tonic::async_trait]
#[tonic_traced::traced_service]
impl HttpThings for PlainBelow {
    async fn get_http_thing(
        &self,
        request: Request<HttpHeader>,
    ) -> Result<Response<HttpHeader>, Status> {
        tracing::info!(target: "tonic_traced_tests::handlers", answer = 42, "in the plain handler");
        reply(request)
    }

    type WatchHTTPThingsStream = HeaderStream;

    async fn watch_http_things(
        &self,
        request: Request<HttpHeader>,
    ) -> Result<Response<HeaderStream>, Status> {
        tracing::info!(target: "tonic_traced_tests::handlers", answer = 42, "in the plain handler");
        updates(request)
    }

    async fn upload_http_things(
        &self,
        _request: Request<Streaming<HttpHeader>>,
    ) -> Result<Response<()>, Status> {
        not_called()
    }

    type ChatHTTPStream = HeaderStream;

    async fn chat_http(
        &self,
        _request: Request<Streaming<HttpHeader>>,
    ) -> Result<Response<Self::ChatHTTPStream>, Status> {
        not_called()
    }
}

/// The unary and server-streaming methods of `HTTPThings` as a trait with native async
/// methods, with the generated method identities; served through `Native`.
trait NativeThings: Send + Sync + 'static {
    fn get_http_thing(
        &self,
        request: Request<HttpHeader>,
    ) -> impl Future<Output = Result<Response<HttpHeader>, Status>> + Send;

    type WatchHTTPThingsStream: Stream<Item = Result<HttpHeader, Status>> + Send + 'static;

    fn watch_http_things(
        &self,
        request: Request<HttpHeader>,
    ) -> impl Future<Output = Result<Response<Self::WatchHTTPThingsStream>, Status>> + Send;

    #[doc(hidden)]
    fn __tonic_traced_method_get_http_thing() -> &'static RpcMethod
    where
        Self: Sized,
    {
        <Things as HttpThings>::__tonic_traced_method_get_http_thing()
    }

    #[doc(hidden)]
    fn __tonic_traced_method_watch_http_things() -> &'static RpcMethod
    where
        Self: Sized,
    {
        <Things as HttpThings>::__tonic_traced_method_watch_http_things()
    }
}

/// Serves a `NativeThings` as tonic's `HttpThings`, adding no tracing of its own.
struct Native<T>(T);

#[tonic::async_trait]
impl<T: NativeThings> HttpThings for Native<T> {
    async fn get_http_thing(
        &self,
        request: Request<HttpHeader>,
    ) -> Result<Response<HttpHeader>, Status> {
        self.0.get_http_thing(request).await
    }

    type WatchHTTPThingsStream = T::WatchHTTPThingsStream;

    async fn watch_http_things(
        &self,
        request: Request<HttpHeader>,
    ) -> Result<Response<Self::WatchHTTPThingsStream>, Status> {
        self.0.watch_http_things(request).await
    }

    async fn upload_http_things(
        &self,
        _request: Request<Streaming<HttpHeader>>,
    ) -> Result<Response<()>, Status> {
        not_called()
    }

    type ChatHTTPStream = HeaderStream;

    async fn chat_http(
        &self,
        _request: Request<Streaming<HttpHeader>>,
    ) -> Result<Response<Self::ChatHTTPStream>, Status> {
        not_called()
    }
}

struct InstrumentedNative;

#[tonic_traced::traced_service]
impl NativeThings for InstrumentedNative {
    #[tracing::instrument(target = "tonic_traced_tests::handlers", skip_all)]
    async fn get_http_thing(
        &self,
        request: Request<HttpHeader>,
    ) -> Result<Response<HttpHeader>, Status> {
        tracing::info!(target: "tonic_traced_tests::handlers", "in the instrumented handler");
        reply(request)
    }

    type WatchHTTPThingsStream = HeaderStream;

    #[tracing::instrument(target = "tonic_traced_tests::handlers", skip_all)]
    async fn watch_http_things(
        &self,
        request: Request<HttpHeader>,
    ) -> Result<Response<HeaderStream>, Status> {
        tracing::info!(target: "tonic_traced_tests::handlers", "in the instrumented handler");
        updates(request)
    }
}

struct PlainNative;

#[tonic_traced::traced_service]
impl NativeThings for PlainNative {
    async fn get_http_thing(
        &self,
        request: Request<HttpHeader>,
    ) -> Result<Response<HttpHeader>, Status> {
        tracing::info!(target: "tonic_traced_tests::handlers", answer = 42, "in the plain handler");
        reply(request)
    }

    type WatchHTTPThingsStream = HeaderStream;

    async fn watch_http_things(
        &self,
        request: Request<HttpHeader>,
    ) -> Result<Response<Self::WatchHTTPThingsStream>, Status> {
        tracing::info!(target: "tonic_traced_tests::handlers", answer = 42, "in the plain handler");
        updates(request)
    }
}

/// A client of `service`, served on a loopback port of its own.
async fn client(service: impl HttpThings) -> HttpThingsClient<Channel> {
    telemetry();
    let address = serve(Server::builder().add_service(HttpThingsServer::new(service))).await;
    HttpThingsClient::connect(format!("http://{address}"))
        .await
        .unwrap()
}

/// Makes a sampled unary call and a sampled server-streaming call (read to its end); returns
/// the trace id of each.
async fn unary_and_streaming_calls(client: &mut HttpThingsClient<Channel>) -> [TraceId; 2] {
    let (unary, _, traceparent) = remote_parent(true);
    let response = client
        .get_http_thing(with_parent(header("unary"), &traceparent))
        .await
        .unwrap();
    assert_eq!(response.into_inner().url_path, "unary");

    let (streaming, _, traceparent) = remote_parent(true);
    let updates: Vec<String> = client
        .watch_http_things(with_parent(header("watch"), &traceparent))
        .await
        .unwrap()
        .into_inner()
        .map(|update| update.unwrap().url_path)
        .collect()
        .await;
    assert_eq!(updates, ["watch 1", "watch 2"]);
    [unary, streaming]
}

/// The SERVER span named `rpc` of trace `trace_id` and the span named `handler`, once both
/// have ended.
async fn server_and_handler_spans(
    trace_id: TraceId,
    rpc: &str,
    handler: &str,
) -> (SpanData, SpanData) {
    telemetry()
        .wait_for(|t| {
            let spans = t.trace(trace_id);
            let server = spans
                .iter()
                .find(|span| span.span_kind == SpanKind::Server && span.name == rpc)?;
            let handler = spans.iter().find(|span| span.name == handler)?;
            Some((server.clone(), handler.clone()))
        })
        .await
}

/// The SERVER span named `rpc` of trace `trace_id`, once it has ended.
async fn server_span(trace_id: TraceId, rpc: &str) -> SpanData {
    telemetry()
        .wait_for(|t| {
            t.trace(trace_id)
                .into_iter()
                .find(|span| span.span_kind == SpanKind::Server && span.name == rpc)
        })
        .await
}

/// The names of a span's events.
fn event_names(span: &SpanData) -> Vec<&str> {
    span.events
        .iter()
        .map(|event| event.name.as_ref())
        .collect()
}

/// The `instrument` span of each handler is the SERVER span's child, in the caller's trace,
/// and has the handler's `info!` event; the SERVER span does not.
async fn instrument_spans_nest_under_the_server_span(service: impl HttpThings) {
    let mut client = client(service).await;
    let [unary, streaming] = unary_and_streaming_calls(&mut client).await;
    for (trace_id, rpc, handler) in [
        (unary, GET, "get_http_thing"),
        (streaming, WATCH, "watch_http_things"),
    ] {
        let (server, handler) = server_and_handler_spans(trace_id, rpc, handler).await;
        assert_eq!(
            handler.parent_span_id,
            server.span_context.span_id(),
            "{rpc}: the instrument span is the SERVER span's child"
        );
        assert_eq!(handler.span_context.trace_id(), trace_id, "{rpc}");
        assert_eq!(handler.span_kind, SpanKind::Internal, "{rpc}");
        assert_eq!(event_names(&handler), [INSTRUMENTED], "{rpc}");
        assert!(!event_names(&server).contains(&INSTRUMENTED), "{rpc}");
    }
}

/// An `info!` straight in a handler is an event of the SERVER span, with its level, target
/// and fields.
async fn info_events_go_on_the_server_span(service: impl HttpThings) {
    let mut client = client(service).await;
    let [unary, streaming] = unary_and_streaming_calls(&mut client).await;
    for (trace_id, rpc) in [(unary, GET), (streaming, WATCH)] {
        let server = server_span(trace_id, rpc).await;
        let events: Vec<_> = server
            .events
            .iter()
            .filter(|event| event.name == PLAIN)
            .collect();
        assert_eq!(events.len(), 1, "{rpc}: {:?}", event_names(&server));
        assert_eq!(
            events[0].attributes,
            [
                KeyValue::new("level", "INFO"),
                KeyValue::new("target", "tonic_traced_tests::handlers"),
                KeyValue::new("answer", Value::I64(42)),
            ],
            "{rpc}"
        );
    }
}

#[tokio::test]
async fn instrument_span_is_a_child_of_the_server_span_above_async_trait() {
    instrument_spans_nest_under_the_server_span(InstrumentedAbove).await;
}

#[tokio::test]
async fn instrument_span_is_a_child_of_the_server_span_below_async_trait() {
    instrument_spans_nest_under_the_server_span(InstrumentedBelow).await;
}

#[tokio::test]
async fn instrument_span_is_a_child_of_the_server_span_with_native_async_fn() {
    instrument_spans_nest_under_the_server_span(Native(InstrumentedNative)).await;
}

#[tokio::test]
async fn info_in_a_handler_is_an_event_of_the_server_span_above_async_trait() {
    info_events_go_on_the_server_span(PlainAbove).await;
}

#[tokio::test]
async fn info_in_a_handler_is_an_event_of_the_server_span_below_async_trait() {
    info_events_go_on_the_server_span(PlainBelow).await;
}

#[tokio::test]
async fn info_in_a_handler_is_an_event_of_the_server_span_with_native_async_fn() {
    info_events_go_on_the_server_span(Native(PlainNative)).await;
}
