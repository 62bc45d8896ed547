//! The order tonic makes codecs in, which tonic-traced's codecs rely on to find their calls
//! (`runtime/src/codec_link.rs`): the server's request decoder just before the handler starts,
//! a generated client's encoder just before the call reaches the client layer. If a tonic
//! release changes it, these tests fail by name rather than leaving messages unrecorded: every
//! message of every RPC kind carries the fields that only a linked codec records, on both
//! sides, and no "not made just before" error is logged. A call whose codec is not linked is
//! logged as such.

use std::sync::{Arc, Mutex};

use opentelemetry::trace::SpanKind;
use opentelemetry::Value;
use opentelemetry_sdk::trace::SpanData;
use tonic::codegen::http::uri::PathAndQuery;
use tonic::codegen::tokio_stream;
use tonic::transport::{Channel, Server};
use tonic::{GrpcMethod, Request};
use tonic_traced_tests::harness::{attribute, header, in_root_span, serve, telemetry};
use tonic_traced_tests::kitchen::sink::v1::HttpHeader;
use tonic_traced_tests::relay::traced_client;
use tonic_traced_tests::things;
use tower::Layer as _;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::Layer;

const SERVICE: &str = "kitchen.sink.v1.HTTPThings";

/// The messages of the errors tonic-traced logs on this test's thread.
#[derive(Clone, Default)]
struct LoggedErrors(Arc<Mutex<Vec<String>>>);

impl<S: Subscriber> Layer<S> for LoggedErrors {
    fn on_event(&self, event: &Event<'_>, _cx: Context<'_, S>) {
        let metadata = event.metadata();
        if metadata.target() == "tonic_traced" && *metadata.level() == Level::ERROR {
            let mut message = Message(String::new());
            event.record(&mut message);
            self.0.lock().unwrap().push(message.0);
        }
    }
}

struct Message(String);

impl Visit for Message {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        }
    }
}

/// Collects tonic-traced's errors on this thread, where the test's runtime runs every task.
fn log_errors() -> (LoggedErrors, tracing::subscriber::DefaultGuard) {
    let errors = LoggedErrors::default();
    let subscriber = tracing_subscriber::registry().with(errors.clone());
    (errors, tracing::subscriber::set_default(subscriber))
}

/// The `message SENT`/`message RECEIVED` spans of `kind` under the RPC span named `method`,
/// with the `http.url_path` each carries.
fn message_fields(spans: &[SpanData], method: &str, kind: SpanKind, name: &str) -> Vec<String> {
    let rpc = spans
        .iter()
        .find(|span| span.name.ends_with(method) && span.span_kind == kind)
        .unwrap_or_else(|| panic!("a {kind:?} span of {method}: {spans:#?}"));
    let mut messages: Vec<&SpanData> = spans
        .iter()
        .filter(|span| span.parent_span_id == rpc.span_context.span_id() && span.name == name)
        .collect();
    messages.sort_by_key(|span| attribute(span, "rpc.message.id").map(|id| id.to_string()));
    messages
        .iter()
        .map(|span| match attribute(span, "http.url_path") {
            Some(Value::String(path)) => path.to_string(),
            other => {
                panic!("{name} of {method} without the field a linked codec records: {other:?}")
            }
        })
        .collect()
}

#[tokio::test]
async fn every_kind_links_both_sides_codecs_to_their_calls() {
    let (errors, _logging) = log_errors();
    telemetry();
    let mut client =
        traced_client(serve(Server::builder().add_service(things::server())).await).await;

    let (unary, reply) = in_root_span(client.get_http_thing(header("ok"))).await;
    reply.unwrap();
    let (server_stream, updates) = in_root_span(client.watch_http_things(header("count=2"))).await;
    let mut updates = updates.unwrap().into_inner();
    while updates.message().await.unwrap().is_some() {}
    let uploads = || tokio_stream::iter([header("ok"), header("ok again")]);
    let (client_stream, uploaded) = in_root_span(client.upload_http_things(uploads())).await;
    uploaded.unwrap();
    let (bidi, chat) = in_root_span(async {
        let mut replies = client.chat_http(uploads()).await?.into_inner();
        while replies.message().await?.is_some() {}
        Ok::<_, tonic::Status>(())
    })
    .await;
    chat.unwrap();

    let trace = |id, count| {
        telemetry().wait_for(move |t| {
            let spans = t.trace(id);
            (spans.len() >= count).then_some(spans)
        })
    };
    // The client's encoder noted the unary request's field for the CLIENT span.
    let spans = trace(unary, 3).await;
    let client_span = spans
        .iter()
        .find(|span| span.span_kind == SpanKind::Client)
        .unwrap();
    assert_eq!(
        attribute(client_span, "http.url_path"),
        Some(Value::from("ok"))
    );

    // The client's decoder recorded each streamed response with its fields.
    let spans = trace(server_stream, 7).await;
    let updates = message_fields(
        &spans,
        "/WatchHTTPThings",
        SpanKind::Client,
        "message RECEIVED",
    );
    assert_eq!(updates, ["update 1", "update 2"]);

    // The client's encoder and the server's decoder each saw both uploads.
    let spans = trace(client_stream, 7).await;
    let sent = message_fields(
        &spans,
        "/UploadHTTPThings",
        SpanKind::Client,
        "message SENT",
    );
    let received = message_fields(
        &spans,
        "/UploadHTTPThings",
        SpanKind::Server,
        "message RECEIVED",
    );
    assert_eq!(sent, ["ok", "ok again"]);
    assert_eq!(received, sent);

    // Both ways, both sides.
    let spans = trace(bidi, 11).await;
    let client_sent = message_fields(&spans, "/ChatHTTP", SpanKind::Client, "message SENT");
    let server_received = message_fields(&spans, "/ChatHTTP", SpanKind::Server, "message RECEIVED");
    let server_sent = message_fields(&spans, "/ChatHTTP", SpanKind::Server, "message SENT");
    let client_received = message_fields(&spans, "/ChatHTTP", SpanKind::Client, "message RECEIVED");
    assert_eq!(client_sent, ["ok", "ok again"]);
    assert_eq!(server_received, client_sent);
    assert_eq!(server_sent, ["echo ok", "echo ok again"]);
    assert_eq!(client_received, server_sent);

    assert_eq!(*errors.0.lock().unwrap(), Vec::<String>::new());
}

#[tokio::test]
async fn a_generated_method_called_without_its_linked_codec_is_logged() {
    let (errors, _logging) = log_errors();
    telemetry();
    let address = serve(Server::builder().add_service(things::server())).await;
    let channel = Channel::from_shared(format!("http://{address}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    // A generated method, named as tonic names it, sent with tonic's own codec: the layer
    // finds no codec link where tonic-traced's codec would have left one.
    let mut grpc = tonic::client::Grpc::new(tonic_traced::client::layer().layer(channel));
    grpc.ready().await.unwrap();
    let mut request = Request::new(header("ok"));
    request
        .extensions_mut()
        .insert(GrpcMethod::new(SERVICE, "GetHTTPThing"));
    let path = PathAndQuery::from_static("/kitchen.sink.v1.HTTPThings/GetHTTPThing");
    let codec = tonic_prost::ProstCodec::<HttpHeader, HttpHeader>::default();
    grpc.unary(request, path, codec).await.unwrap();

    let logged = errors.0.lock().unwrap().clone();
    assert_eq!(logged.len(), 1, "{logged:?}");
    assert!(
        logged[0].contains("codec was not made just before its call reached the client layer"),
        "{logged:?}"
    );
}
