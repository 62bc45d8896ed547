//! `messages = totals` over real calls of every RPC kind, on both sides: no span or event per
//! message, and the RPC span counts the messages and their encoded bytes each way, past the
//! per-RPC cap of message spans. The response stream is polled outside the span's context
//! unless it carries the context itself. Under gzip, a client counts what it sees only as frames
//! (its requests; a hand-made client's responses too) by their compressed bytes.

use opentelemetry::trace::{FutureExt as _, SpanId, SpanKind, TraceId};
use opentelemetry::Value;
use opentelemetry_sdk::trace::SpanData;
use prost::Message;
use tonic::codec::CompressionEncoding;
use tonic::codegen::tokio_stream::{self, StreamExt};
use tonic::transport::{Channel, Server};
use tonic::{Request, Response, Status, Streaming};
use tonic_traced::client::TracedClient;
use tonic_traced::MessageMode;
use tonic_traced_tests::harness::{
    attribute, header, in_root_span, remote_parent, serve, telemetry, with_parent,
};
use tonic_traced_tests::kitchen::sink::v1::http_things_client::HttpThingsClient;
use tonic_traced_tests::kitchen::sink::v1::http_things_server::{HttpThings, HttpThingsServer};
use tonic_traced_tests::kitchen::sink::v1::HttpHeader;
use tonic_traced_tests::things::{Commands, HeaderStream};

const GET: &str = "kitchen.sink.v1.HTTPThings/GetHTTPThing";
const WATCH: &str = "kitchen.sink.v1.HTTPThings/WatchHTTPThings";
const UPLOAD: &str = "kitchen.sink.v1.HTTPThings/UploadHTTPThings";
const CHAT: &str = "kitchen.sink.v1.HTTPThings/ChatHTTP";

/// Totals on every method, with a cap of two message spans that totals do not heed.
#[derive(Debug, Default)]
struct Totals;

/// The `n`th update a `WatchHTTPThings` stream sends.
fn update(n: usize) -> HttpHeader {
    header(&format!("update {n}"))
}

#[tonic_traced::traced_service(messages = totals, max_messages = 2)]
#[tonic::async_trait]
impl HttpThings for Totals {
    async fn get_http_thing(
        &self,
        request: Request<HttpHeader>,
    ) -> Result<Response<HttpHeader>, Status> {
        Ok(Response::new(header(
            &request.into_inner().url_path.repeat(2),
        )))
    }

    type WatchHTTPThingsStream = HeaderStream;

    /// `count=N` updates; with `child`, each poll that yields one makes a span named `in stream`
    /// and the request's `url_path`, and with `trace` too the stream carries the handler's
    /// context into its polls.
    async fn watch_http_things(
        &self,
        request: Request<HttpHeader>,
    ) -> Result<Response<Self::WatchHTTPThingsStream>, Status> {
        let commands = Commands::of(request.get_ref());
        let child = commands
            .child
            .then(|| format!("in stream {}", request.get_ref().url_path));
        let updates = tokio_stream::iter(1..=commands.count).map(move |n| {
            if let Some(name) = &child {
                use opentelemetry::trace::{Span as _, Tracer as _};
                opentelemetry::global::tracer("stream")
                    .start(name.clone())
                    .end();
            }
            Ok(update(n))
        });
        let stream: HeaderStream = if commands.trace {
            Box::pin(updates.with_current_context())
        } else {
            Box::pin(updates)
        };
        Ok(Response::new(stream))
    }

    async fn upload_http_things(
        &self,
        request: Request<Streaming<HttpHeader>>,
    ) -> Result<Response<()>, Status> {
        let mut uploads = request.into_inner();
        while uploads.message().await?.is_some() {}
        Ok(Response::new(()))
    }

    type ChatHTTPStream = HeaderStream;

    async fn chat_http(
        &self,
        request: Request<Streaming<HttpHeader>>,
    ) -> Result<Response<Self::ChatHTTPStream>, Status> {
        let replies = request.into_inner().map(|received| {
            let message = received?;
            Ok(header(&format!("echo {}", message.url_path)))
        });
        Ok(Response::new(Box::pin(replies)))
    }
}

/// A fresh `Totals` server's address.
async fn totals_server() -> std::net::SocketAddr {
    telemetry();
    serve(Server::builder().add_service(HttpThingsServer::new(Totals))).await
}

/// A plain tonic client of `address`.
async fn plain_client(address: std::net::SocketAddr) -> HttpThingsClient<Channel> {
    HttpThingsClient::connect(format!("http://{address}"))
        .await
        .unwrap()
}

/// A client of `address` traced with `messages(MessageMode::Totals)`.
async fn totals_client(address: std::net::SocketAddr) -> HttpThingsClient<TracedClient<Channel>> {
    let endpoint = Channel::from_shared(format!("http://{address}")).unwrap();
    let channel = endpoint.connect().await.unwrap();
    HttpThingsClient::new(
        tower::ServiceBuilder::new()
            .layer(
                tonic_traced::client::layer()
                    .messages(MessageMode::Totals)
                    .with_server(endpoint.uri()),
            )
            .service(channel),
    )
}

/// The encoded bytes of `messages`, as `*_bytes` counts them.
fn bytes(messages: &[HttpHeader]) -> i64 {
    messages.iter().map(|m| m.encoded_len() as i64).sum()
}

/// Waits until the trace has `count` spans, and returns them.
async fn trace_of(trace_id: TraceId, count: usize) -> Vec<SpanData> {
    telemetry()
        .wait_for(|t| {
            let spans = t.trace(trace_id);
            (spans.len() == count).then_some(spans)
        })
        .await
}

/// The one span of `kind` named `name` among `spans`.
fn rpc<'a>(spans: &'a [SpanData], name: &str, kind: SpanKind) -> &'a SpanData {
    let found: Vec<_> = spans
        .iter()
        .filter(|s| s.name == name && s.span_kind == kind)
        .collect();
    assert_eq!(found.len(), 1, "one {kind:?} span {name}: {spans:#?}");
    found[0]
}

/// Asserts the totals of an RPC span: messages and bytes sent and received, no compressed
/// bytes (nothing is compressed), no message event, no count of unrecorded messages.
fn assert_totals(span: &SpanData, sent: (i64, i64), received: (i64, i64)) {
    assert_uncompressed(span, "sent", sent);
    assert_uncompressed(span, "received", received);
    assert_nothing_per_message(span);
}

/// Asserts the totals of the CLIENT and the SERVER span named `name` among `spans`: what the
/// client sent (messages, bytes) the server received, and the other way round.
fn assert_totals_on_both_sides(
    spans: &[SpanData],
    name: &str,
    client_sent: (i64, i64),
    client_received: (i64, i64),
) {
    let client = rpc(spans, name, SpanKind::Client);
    assert_totals(client, client_sent, client_received);
    let server = rpc(spans, name, SpanKind::Server);
    assert_totals(server, client_received, client_sent);
}

/// Asserts that `span` counts `messages` messages `key` (`sent` or `received`) and their
/// `bytes`, uncompressed only.
fn assert_uncompressed(span: &SpanData, key: &str, (messages, bytes): (i64, i64)) {
    assert_eq!(total(span, key), Some(messages), "{span:#?}");
    assert_eq!(
        total(span, &format!("{key}_bytes")),
        Some(bytes),
        "{span:#?}"
    );
    assert_eq!(total(span, &format!("{key}_compressed_bytes")), None);
}

/// Asserts that `span` has no event per message and no count of unrecorded messages: totals
/// heed no cap.
fn assert_nothing_per_message(span: &SpanData) {
    assert_eq!(total(span, "unrecorded"), None, "totals heed no cap");
    assert!(span.events.is_empty(), "no event per message: {span:#?}");
}

#[tokio::test]
async fn a_server_stream_counts_every_message_past_the_cap_and_makes_no_message_span() {
    let mut client = plain_client(totals_server().await).await;
    let (trace_id, _, traceparent) = remote_parent(true);
    let request = header("count=5");
    let stream = client
        .watch_http_things(with_parent(request.clone(), &traceparent))
        .await
        .unwrap()
        .into_inner();
    let received: Vec<_> = stream.map(Result::unwrap).collect().await;
    let updates: Vec<_> = (1..=5).map(update).collect();
    assert_eq!(received, updates);

    let spans = trace_of(trace_id, 1).await;
    let server = rpc(&spans, WATCH, SpanKind::Server);
    assert_totals(server, (5, bytes(&updates)), (1, bytes(&[request])));
    assert_eq!(
        attribute(server, "rpc.grpc.status_code"),
        Some(Value::I64(0))
    );
}

#[tokio::test]
async fn a_client_stream_counts_both_sides() {
    let mut client = totals_client(totals_server().await).await;
    let uploads: Vec<_> = ["a", "bb", "ccc", "dddd"].map(header).to_vec();
    let (trace_id, result) =
        in_root_span(client.upload_http_things(tokio_stream::iter(uploads.clone()))).await;
    result.unwrap();

    // The test's root, the CLIENT span and the SERVER span: nothing per message.
    let spans = trace_of(trace_id, 3).await;
    // The response, `google.protobuf.Empty`, is one message of no bytes.
    assert_totals_on_both_sides(&spans, UPLOAD, (4, bytes(&uploads)), (1, 0));
}

#[tokio::test]
async fn a_bidi_stream_counts_both_directions_on_both_sides() {
    let mut client = totals_client(totals_server().await).await;
    let said: Vec<_> = ["hello", "how are you", "bye"].map(header).to_vec();
    let (trace_id, replies) = in_root_span(async {
        let replies = client
            .chat_http(tokio_stream::iter(said.clone()))
            .await
            .unwrap()
            .into_inner();
        replies.map(Result::unwrap).collect::<Vec<_>>().await
    })
    .await;
    assert_eq!(replies.len(), 3);

    let spans = trace_of(trace_id, 3).await;
    assert_totals_on_both_sides(&spans, CHAT, (3, bytes(&said)), (3, bytes(&replies)));
}

#[tokio::test]
async fn a_unary_call_counts_its_one_message_each_way() {
    let mut client = totals_client(totals_server().await).await;
    let request = header("ping");
    let (trace_id, response) = in_root_span(client.get_http_thing(request.clone())).await;
    let response = response.unwrap().into_inner();
    assert_eq!(response.url_path, "pingping");

    let spans = trace_of(trace_id, 3).await;
    let (request, response) = (bytes(&[request]), bytes(&[response]));
    assert_totals_on_both_sides(&spans, GET, (1, request), (1, response));
}

#[tokio::test]
async fn a_server_stream_of_a_totals_client_counts_every_response() {
    let mut client = totals_client(totals_server().await).await;
    let request = header("count=3");
    let (trace_id, received) = in_root_span(async {
        let stream = client
            .watch_http_things(request.clone())
            .await
            .unwrap()
            .into_inner();
        stream.map(Result::unwrap).collect::<Vec<_>>().await
    })
    .await;
    assert_eq!(received.len(), 3);

    let spans = trace_of(trace_id, 3).await;
    assert_totals(
        rpc(&spans, WATCH, SpanKind::Client),
        (1, bytes(&[request])),
        (3, bytes(&received)),
    );
}

/// An RPC span's integer attribute `tonic_traced.messages.{key}`.
fn total(span: &SpanData, key: &str) -> Option<i64> {
    match attribute(span, &format!("tonic_traced.messages.{key}")) {
        None => None,
        Some(Value::I64(value)) => Some(value),
        Some(other) => panic!("{key} is {other:?}: {span:#?}"),
    }
}

/// A fresh `Totals` server's address, accepting gzip and answering in it when the client
/// accepts it.
async fn gzip_server() -> std::net::SocketAddr {
    telemetry();
    serve(
        Server::builder().add_service(
            HttpThingsServer::new(Totals)
                .accept_compressed(CompressionEncoding::Gzip)
                .send_compressed(CompressionEncoding::Gzip),
        ),
    )
    .await
}

/// Runs of one byte, which gzip shrinks well below their encoded size.
fn compressible() -> Vec<HttpHeader> {
    ["a", "b", "c"]
        .map(|byte| header(&byte.repeat(300)))
        .to_vec()
}

/// Asserts that `span` counts `messages` messages `key` (`sent` or `received`) by their
/// compressed bytes only, more than none and fewer than their `encoded` bytes.
fn assert_compressed(span: &SpanData, key: &str, messages: i64, encoded: i64) {
    assert_eq!(total(span, key), Some(messages), "{span:#?}");
    assert_eq!(
        total(span, &format!("{key}_bytes")),
        None,
        "no {key} message's size is known uncompressed: {span:#?}"
    );
    let compressed = total(span, &format!("{key}_compressed_bytes"))
        .unwrap_or_else(|| panic!("{key} messages compressed: {span:#?}"));
    assert!(
        0 < compressed && compressed < encoded,
        "{key}: {compressed} compressed bytes of {encoded} encoded"
    );
}

#[tokio::test]
async fn a_gzip_bidi_stream_counts_the_clients_requests_by_their_compressed_bytes() {
    let mut client = totals_client(gzip_server().await)
        .await
        .send_compressed(CompressionEncoding::Gzip)
        .accept_compressed(CompressionEncoding::Gzip);
    let said = compressible();
    let (trace_id, (encoding, replies)) = in_root_span(async {
        let replies = client
            .chat_http(tokio_stream::iter(said.clone()))
            .await
            .unwrap();
        let encoding = replies.metadata().get("grpc-encoding").cloned();
        let replies = replies.into_inner();
        (
            encoding,
            replies.map(Result::unwrap).collect::<Vec<_>>().await,
        )
    })
    .await;
    assert_eq!(replies.len(), 3);
    assert_eq!(replies[0].url_path, format!("echo {}", "a".repeat(300)));
    assert_eq!(
        encoding.as_ref().and_then(|e| e.to_str().ok()),
        Some("gzip"),
        "the responses travel compressed"
    );

    let spans = trace_of(trace_id, 3).await;
    // The server sees every message decoded or before encoding: uncompressed sizes only.
    assert_totals(
        rpc(&spans, CHAT, SpanKind::Server),
        (3, bytes(&replies)),
        (3, bytes(&said)),
    );
    // The client reads its requests' sizes from their gRPC frames, compressed: only their
    // compressed bytes; its generated codec reports each response decoded, uncompressed.
    let client = rpc(&spans, CHAT, SpanKind::Client);
    assert_compressed(client, "sent", 3, bytes(&said));
    assert_uncompressed(client, "received", (3, bytes(&replies)));
    assert_nothing_per_message(client);
}

#[tokio::test]
async fn a_gzip_bidi_stream_of_a_hand_made_client_counts_compressed_bytes_both_ways() {
    let channel = Channel::from_shared(format!("http://{}", gzip_server().await))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let traced = tower::ServiceBuilder::new()
        .layer(tonic_traced::client::layer().messages(MessageMode::Totals))
        .service(channel);
    // tonic's own client and prost's codec, not a generated client's: no codec reports the
    // responses decoded, so the client sees both ways only as compressed frames.
    let mut grpc = tonic::client::Grpc::new(traced)
        .send_compressed(CompressionEncoding::Gzip)
        .accept_compressed(CompressionEncoding::Gzip);
    let said = compressible();
    let (trace_id, replies) = in_root_span(async {
        grpc.ready().await.unwrap();
        let mut request = Request::new(tokio_stream::iter(said.clone()));
        request.extensions_mut().insert(tonic::GrpcMethod::new(
            "kitchen.sink.v1.HTTPThings",
            "ChatHTTP",
        ));
        let path = tonic::codegen::http::uri::PathAndQuery::from_static(
            "/kitchen.sink.v1.HTTPThings/ChatHTTP",
        );
        let codec = tonic_prost::ProstCodec::<HttpHeader, HttpHeader>::default();
        let replies = grpc.streaming(request, path, codec).await.unwrap();
        let replies = replies.into_inner();
        replies.map(Result::unwrap).collect::<Vec<_>>().await
    })
    .await;
    assert_eq!(replies.len(), 3);

    let spans = trace_of(trace_id, 3).await;
    assert_totals(
        rpc(&spans, CHAT, SpanKind::Server),
        (3, bytes(&replies)),
        (3, bytes(&said)),
    );
    let client = rpc(&spans, CHAT, SpanKind::Client);
    assert_compressed(client, "sent", 3, bytes(&said));
    assert_compressed(client, "received", 3, bytes(&replies));
    assert_nothing_per_message(client);
}

/// The span the stream's poll made for a call with `commands`, the SERVER span's id and the
/// call's trace.
async fn span_made_in_the_stream(commands: &str) -> (SpanData, SpanId, TraceId) {
    let mut client = plain_client(totals_server().await).await;
    let (trace_id, _, traceparent) = remote_parent(true);
    // The span is named after the request, which the trace id makes unique.
    let url_path = format!("count=1;child;{commands};id={trace_id}");
    let stream = client
        .watch_http_things(with_parent(header(&url_path), &traceparent))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(stream.collect::<Vec<_>>().await.len(), 1);
    let server = telemetry()
        .wait_for(|t| t.trace(trace_id).into_iter().find(|s| s.name == WATCH))
        .await;
    let name = format!("in stream {url_path}");
    let made = telemetry()
        .wait_for(|t| t.finished().into_iter().find(|s| s.name == name))
        .await;
    (made, server.span_context.span_id(), trace_id)
}

#[tokio::test]
async fn a_totals_stream_is_polled_outside_the_span_unless_it_carries_the_context() {
    let (carried, server, trace_id) = span_made_in_the_stream("trace").await;
    assert_eq!(carried.parent_span_id, server);
    assert_eq!(carried.span_context.trace_id(), trace_id);

    let (alone, _, trace_id) = span_made_in_the_stream("alone").await;
    assert_ne!(alone.span_context.trace_id(), trace_id, "a root of its own");
    assert_eq!(alone.parent_span_id, SpanId::INVALID);
}
