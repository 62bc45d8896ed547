//! The floor: a minimal hand-written OpenTelemetry instrumentation of the same services, with
//! the SDK's tracer used directly.
//!
//! Server: extract the W3C `traceparent` from the metadata, start a SERVER span as its child
//! and, only when it records, set `rpc.system`, `rpc.service`, `rpc.method` and the request's
//! annotated field; run the handler with the span's context attached (so the user's spans would
//! nest under it); set `rpc.grpc.status_code` (and an error status), end. A stream also gets a
//! `message RECEIVED` span for its request and a `message SENT` span per response, with the
//! `rpc.message.*` attributes and the message's annotated field, and its RPC span ends with the
//! stream; with `totals`, the floor of `messages = totals`: no message span, no context on the
//! stream's polls, the messages and their bytes counted each way and set on the RPC span at its
//! end. The SERVER spans also get `network.peer.address`, `network.peer.port`,
//! `server.address` and `server.port` (from the `:authority` the generated server keeps), as
//! the conventions recommend: what tonic-traced records, less the RPC metrics.
//!
//! Client: a CLIENT span, child of the current context, injected with the W3C propagator,
//! `rpc.*` and `ping.label` when it records, the status code when the call returns.

use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::{
    FutureExt as _, Span as _, SpanKind, Status as SpanStatus, TraceContextExt, Tracer as _,
};
use opentelemetry::{Context, Key, KeyValue};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracer;
use prost::Message as _;
use tonic::codegen::tokio_stream::Stream;
use tonic::metadata::{MetadataKey, MetadataMap, MetadataValue};
use tonic::transport::Channel;
use tonic::{Code, Request, Response, Status, Streaming};
use tonic_traced_benches::{echo, updates, HeaderStream};
use tonic_traced_tests::kitchen::sink::v1::http_things_server::HttpThings;
use tonic_traced_tests::kitchen::sink::v1::HttpHeader;
use tonic_traced_tests::rootless_client::RootlessClient;
use tonic_traced_tests::rootless_server::Rootless;
use tonic_traced_tests::Ping;

const RPC_SYSTEM: Key = Key::from_static_str("rpc.system");
const RPC_SERVICE: Key = Key::from_static_str("rpc.service");
const RPC_METHOD: Key = Key::from_static_str("rpc.method");
const RPC_STATUS: Key = Key::from_static_str("rpc.grpc.status_code");
const MESSAGE_TYPE: Key = Key::from_static_str("rpc.message.type");
const MESSAGE_ID: Key = Key::from_static_str("rpc.message.id");
const MESSAGE_SIZE: Key = Key::from_static_str("rpc.message.uncompressed_size");
const PING_LABEL: Key = Key::from_static_str("ping.label");
const URL_PATH: Key = Key::from_static_str("http.url_path");
const PEER_ADDRESS: Key = Key::from_static_str("network.peer.address");
const PEER_PORT: Key = Key::from_static_str("network.peer.port");
const SERVER_ADDRESS: Key = Key::from_static_str("server.address");
const SERVER_PORT: Key = Key::from_static_str("server.port");

/// The client's address and port, as tonic's transport knows them, and the host and port it
/// called, as the `:authority` names them.
fn peer_attributes<T>(request: &Request<T>) -> impl Iterator<Item = KeyValue> + use<'_, T> {
    let peer = request.remote_addr().into_iter().flat_map(|peer| {
        [
            KeyValue::new(PEER_ADDRESS, peer.ip().to_string()),
            KeyValue::new(PEER_PORT, i64::from(peer.port())),
        ]
    });
    let authority = tonic_traced::__private::called_authority(request.extensions());
    let server = authority.into_iter().flat_map(|authority| {
        let host = authority.host();
        let host = host
            .strip_prefix('[')
            .and_then(|host| host.strip_suffix(']'))
            .unwrap_or(host);
        let port = authority.port_u16();
        std::iter::once(KeyValue::new(SERVER_ADDRESS, host.to_owned()))
            .chain(port.map(|port| KeyValue::new(SERVER_PORT, i64::from(port))))
    });
    peer.chain(server)
}

struct MetadataExtractor<'a>(&'a MetadataMap);

impl Extractor for MetadataExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|value| value.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        Vec::new()
    }
}

struct MetadataInjector<'a>(&'a mut MetadataMap);

impl Injector for MetadataInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(key), Ok(value)) = (
            MetadataKey::from_bytes(key.as_bytes()),
            MetadataValue::try_from(value),
        ) {
            self.0.insert(key, value);
        }
    }
}

/// The SERVER span of a call: a child of the caller's context in `metadata`.
fn server_span(tracer: &SdkTracer, metadata: &MetadataMap, name: &'static str) -> Context {
    let parent = TraceContextPropagator::new()
        .extract_with_context(&Context::new(), &MetadataExtractor(metadata));
    let span = tracer
        .span_builder(name)
        .with_kind(SpanKind::Server)
        .start_with_context(tracer, &parent);
    parent.with_span(span)
}

/// Sets the status code and ends the span.
fn end(cx: &Context, code: Code, message: &str) {
    let span = cx.span();
    if span.is_recording() {
        span.set_attribute(KeyValue::new(RPC_STATUS, code as i64));
        if code != Code::Ok {
            span.set_status(SpanStatus::error(message.to_owned()));
        }
    }
    span.end();
}

/// A `message SENT`/`message RECEIVED` span under `rpc`, if it records.
fn message_span(
    tracer: &SdkTracer,
    rpc: &Context,
    kind: &'static str,
    id: i64,
    url_path: &str,
    size: usize,
) {
    if !rpc.span().is_recording() {
        return;
    }
    let name = if kind == "SENT" {
        "message SENT"
    } else {
        "message RECEIVED"
    };
    tracer
        .span_builder(name)
        .with_kind(SpanKind::Internal)
        .with_attributes(vec![
            KeyValue::new(MESSAGE_TYPE, kind),
            KeyValue::new(MESSAGE_ID, id),
            KeyValue::new(MESSAGE_SIZE, size as i64),
            KeyValue::new(URL_PATH, url_path.to_owned()),
        ])
        .start_with_context(tracer, rpc)
        .end();
}

/// `Rootless`, hand-instrumented.
#[derive(Debug)]
pub struct HandPing(pub SdkTracer);

#[tonic::async_trait]
impl Rootless for HandPing {
    async fn ping(&self, request: Request<Ping>) -> Result<Response<Ping>, Status> {
        let cx = server_span(&self.0, request.metadata(), "Rootless/Ping");
        let span = cx.span();
        if span.is_recording() {
            span.set_attributes([
                KeyValue::new(RPC_SYSTEM, "grpc"),
                KeyValue::new(RPC_SERVICE, "Rootless"),
                KeyValue::new(RPC_METHOD, "Ping"),
                KeyValue::new(PING_LABEL, request.get_ref().label.clone()),
            ]);
            span.set_attributes(peer_attributes(&request));
        }
        let result = async { echo(request) }.with_context(cx.clone()).await;
        match &result {
            Ok(_) => end(&cx, Code::Ok, ""),
            Err(status) => end(&cx, status.code(), status.message()),
        }
        result
    }
}

/// `HTTPThings`, hand-instrumented (only `WatchHTTPThings` is benchmarked).
#[derive(Debug)]
pub struct HandThings {
    pub tracer: SdkTracer,
    /// Message counts and bytes on the RPC span instead of a span per message.
    pub totals: bool,
}

#[tonic::async_trait]
impl HttpThings for HandThings {
    async fn get_http_thing(
        &self,
        _request: Request<HttpHeader>,
    ) -> Result<Response<HttpHeader>, Status> {
        Err(Status::unimplemented("not benchmarked"))
    }

    type WatchHTTPThingsStream = HeaderStream;

    async fn watch_http_things(
        &self,
        request: Request<HttpHeader>,
    ) -> Result<Response<HeaderStream>, Status> {
        let tracer = &self.tracer;
        let cx = server_span(
            tracer,
            request.metadata(),
            "kitchen.sink.v1.HTTPThings/WatchHTTPThings",
        );
        let mut received = 0;
        let span = cx.span();
        if span.is_recording() {
            let url_path = &request.get_ref().url_path;
            span.set_attributes([
                KeyValue::new(RPC_SYSTEM, "grpc"),
                KeyValue::new(RPC_SERVICE, "kitchen.sink.v1.HTTPThings"),
                KeyValue::new(RPC_METHOD, "WatchHTTPThings"),
                KeyValue::new(URL_PATH, url_path.clone()),
            ]);
            span.set_attributes(peer_attributes(&request));
            let size = request.get_ref().encoded_len();
            if self.totals {
                received = size as i64;
            } else {
                message_span(tracer, &cx, "RECEIVED", 1, url_path, size);
            }
        }
        let result = async { updates(request) }.with_context(cx.clone()).await;
        match result {
            Ok(response) => Ok(response.map(|inner| {
                Box::pin(HandStream {
                    inner,
                    tracer: tracer.clone(),
                    cx: Some(cx),
                    sent: 0,
                    totals: self.totals.then_some(Totals {
                        sent_bytes: 0,
                        received_bytes: received,
                    }),
                }) as HeaderStream
            })),
            Err(status) => {
                end(&cx, status.code(), status.message());
                Err(status)
            }
        }
    }

    async fn upload_http_things(
        &self,
        _request: Request<Streaming<HttpHeader>>,
    ) -> Result<Response<()>, Status> {
        Err(Status::unimplemented("not benchmarked"))
    }

    type ChatHTTPStream = HeaderStream;

    async fn chat_http(
        &self,
        _request: Request<Streaming<HttpHeader>>,
    ) -> Result<Response<HeaderStream>, Status> {
        Err(Status::unimplemented("not benchmarked"))
    }
}

/// The response stream: polled in the RPC span's context, a span per message, the RPC span
/// ended with the stream (or by the SDK when the stream is dropped early). With `totals`, polled
/// outside the context, counting the messages and their bytes instead.
struct HandStream {
    inner: HeaderStream,
    tracer: SdkTracer,
    cx: Option<Context>,
    sent: i64,
    totals: Option<Totals>,
}

/// The bytes each way of a stream counted in totals (one request message received).
struct Totals {
    sent_bytes: i64,
    received_bytes: i64,
}

impl Totals {
    /// Sets the totals of a stream that sent `sent` messages on its RPC span.
    fn record(&self, cx: &Context, sent: i64) {
        let span = cx.span();
        if span.is_recording() {
            span.set_attributes([
                KeyValue::new("tonic_traced.messages.sent", sent),
                KeyValue::new("tonic_traced.messages.sent_bytes", self.sent_bytes),
                KeyValue::new("tonic_traced.messages.received", 1),
                KeyValue::new("tonic_traced.messages.received_bytes", self.received_bytes),
            ]);
        }
    }
}

impl Stream for HandStream {
    type Item = Result<HttpHeader, Status>;

    fn poll_next(mut self: Pin<&mut Self>, task: &mut TaskContext<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        let Some(cx) = this.cx.as_ref() else {
            return this.inner.as_mut().poll_next(task);
        };
        if let Some(totals) = &mut this.totals {
            let polled = this.inner.as_mut().poll_next(task);
            match &polled {
                Poll::Ready(Some(Ok(message))) => {
                    this.sent += 1;
                    totals.sent_bytes += message.encoded_len() as i64;
                }
                Poll::Ready(ending) => {
                    totals.record(cx, this.sent);
                    match ending {
                        Some(Err(status)) => end(cx, status.code(), status.message()),
                        _ => end(cx, Code::Ok, ""),
                    }
                    this.cx = None;
                }
                Poll::Pending => {}
            }
            return polled;
        }
        let polled = {
            let _attached = cx.clone().attach();
            this.inner.as_mut().poll_next(task)
        };
        match &polled {
            Poll::Ready(Some(Ok(message))) => {
                this.sent += 1;
                message_span(
                    &this.tracer,
                    cx,
                    "SENT",
                    this.sent,
                    &message.url_path,
                    message.encoded_len(),
                );
            }
            Poll::Ready(Some(Err(status))) => {
                end(cx, status.code(), status.message());
                this.cx = None;
            }
            Poll::Ready(None) => {
                end(cx, Code::Ok, "");
                this.cx = None;
            }
            Poll::Pending => {}
        }
        polled
    }
}

/// One `Rootless/Ping` call under a hand-written CLIENT span, child of the current context.
pub async fn client_ping(
    tracer: &SdkTracer,
    client: &mut RootlessClient<Channel>,
    message: Ping,
) -> Result<Response<Ping>, Status> {
    let parent = Context::current();
    let span = tracer
        .span_builder("Rootless/Ping")
        .with_kind(SpanKind::Client)
        .start_with_context(tracer, &parent);
    let cx = parent.with_span(span);
    let span = cx.span();
    if span.is_recording() {
        span.set_attributes([
            KeyValue::new(RPC_SYSTEM, "grpc"),
            KeyValue::new(RPC_SERVICE, "Rootless"),
            KeyValue::new(RPC_METHOD, "Ping"),
            KeyValue::new(PING_LABEL, message.label.clone()),
        ]);
    }
    let mut request = Request::new(message);
    TraceContextPropagator::new()
        .inject_context(&cx, &mut MetadataInjector(request.metadata_mut()));
    let result = client.ping(request).await;
    match &result {
        Ok(_) => end(&cx, Code::Ok, ""),
        Err(status) => end(&cx, status.code(), status.message()),
    }
    result
}
