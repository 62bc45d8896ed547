//! Services generated with `generate_default_stubs(true)`: tonic declares no stream types, and
//! streaming handlers return `BoxStream<…>`. Their calls are traced as those of any service:
//! the SERVER span lives as long as the response stream, every message gets its span.
//!
//! Each test runs against two impls: one with `#[traced_service]` above `#[tonic::async_trait]`
//! (it sees `async fn`), one below it (it sees the boxed futures `async_trait` writes), with the
//! boxed stream spelled differently in each.

use std::pin::Pin;

use opentelemetry::trace::{SpanId, SpanKind, Status as SpanStatus, TraceId};
use opentelemetry::Value;
use opentelemetry_sdk::trace::SpanData;
use prost::Message;
use tonic::codegen::tokio_stream::{self, Stream, StreamExt};
use tonic::codegen::BoxStream;
use tonic::transport::{Channel, Server};
use tonic::{Code, Request, Response, Status, Streaming};
use tonic_traced_tests::harness::{attribute, remote_parent, serve, telemetry, with_parent};

mod generated {
    include!(concat!(env!("OUT_DIR"), "/stubbed.rs"));
}

use generated::stubbed::v1::notes_client::NotesClient;
use generated::stubbed::v1::notes_server::{Notes, NotesServer};
use generated::stubbed::v1::Note;

fn note(text: &str) -> Note {
    Note {
        text: text.to_owned(),
    }
}

/// `count` notes `update 1`, `update 2`, …, then `UNAVAILABLE` if the request says `fail`.
fn updates(request: Note) -> impl Stream<Item = Result<Note, Status>> + Send + 'static {
    let count: usize = request
        .text
        .split(';')
        .find_map(|part| part.strip_prefix("count="))
        .and_then(|count| count.parse().ok())
        .unwrap_or(0);
    let failure = request
        .text
        .contains("fail")
        .then(|| Err(Status::unavailable("stream failed")));
    tokio_stream::iter((1..=count).map(|index| Ok(note(&format!("update {index}")))))
        .chain(tokio_stream::iter(failure))
}

async fn joined(request: Request<Streaming<Note>>) -> Result<Response<Note>, Status> {
    let mut stream = request.into_inner();
    let mut texts = Vec::new();
    while let Some(note) = stream.message().await? {
        texts.push(note.text);
    }
    Ok(Response::new(note(&texts.join(","))))
}

fn echoes(request: Request<Streaming<Note>>) -> impl Stream<Item = Result<Note, Status>> + Send {
    request
        .into_inner()
        .map(|received| received.map(|received| note(&format!("echo {}", received.text))))
}

/// Traced above `async_trait`; `Forgotten` is left to its default stub.
struct Above;

#[tonic_traced::traced_service]
#[tonic::async_trait]
impl Notes for Above {
    async fn get(&self, request: Request<Note>) -> Result<Response<Note>, Status> {
        Ok(Response::new(request.into_inner()))
    }

    async fn watch(&self, request: Request<Note>) -> Result<Response<BoxStream<Note>>, Status> {
        Ok(Response::new(Box::pin(updates(request.into_inner()))))
    }

    async fn upload(&self, request: Request<Streaming<Note>>) -> Result<Response<Note>, Status> {
        joined(request).await
    }

    async fn chat(
        &self,
        request: Request<Streaming<Note>>,
    ) -> Result<Response<Pin<Box<dyn Stream<Item = Result<Note, Status>> + Send>>>, Status> {
        Ok(Response::new(Box::pin(echoes(request))))
    }
}

/// Traced below `async_trait`.
struct Below;

#[tonic::async_trait]
#[tonic_traced::traced_service]
impl Notes for Below {
    async fn get(&self, request: Request<Note>) -> Result<Response<Note>, Status> {
        Ok(Response::new(request.into_inner()))
    }

    async fn watch(
        &self,
        request: Request<Note>,
    ) -> Result<Response<tonic::codegen::BoxStream<Note>>, Status> {
        Ok(Response::new(Box::pin(updates(request.into_inner()))))
    }

    async fn upload(&self, request: Request<Streaming<Note>>) -> Result<Response<Note>, Status> {
        joined(request).await
    }

    async fn chat(
        &self,
        request: Request<Streaming<Note>>,
    ) -> Result<Response<BoxStream<Note>>, Status> {
        Ok(Response::new(Box::pin(echoes(request))))
    }
}

async fn client<S: Notes>(service: S) -> NotesClient<Channel> {
    telemetry();
    let address = serve(Server::builder().add_service(NotesServer::new(service))).await;
    NotesClient::connect(format!("http://{address}"))
        .await
        .unwrap()
}

/// A client of each impl.
async fn clients() -> [NotesClient<Channel>; 2] {
    [client(Above).await, client(Below).await]
}

/// Waits for the SERVER span `name` of `trace_id` and `children` more spans; returns the
/// SERVER span and the others.
async fn rpc_and_children(
    trace_id: TraceId,
    name: &str,
    children: usize,
) -> (SpanData, Vec<SpanData>) {
    let spans = telemetry()
        .wait_for(|t| {
            let spans = t.trace(trace_id);
            (spans.len() == children + 1 && spans.iter().any(|s| s.name == name)).then_some(spans)
        })
        .await;
    let (rpc, messages): (Vec<_>, Vec<_>) = spans.into_iter().partition(|s| s.name == name);
    let rpc = rpc.into_iter().next().unwrap();
    assert_eq!(rpc.span_kind, SpanKind::Server);
    (rpc, messages)
}

/// Asserts one message span: its parent, direction, 1-based id, size and annotated field.
fn assert_message(span: &SpanData, rpc: SpanId, direction: &str, id: i64, text: &str) {
    assert_eq!(span.name, format!("message {direction}"));
    assert_eq!(
        span.parent_span_id, rpc,
        "message spans are children of the RPC span"
    );
    assert_eq!(
        attribute(span, "rpc.message.type"),
        Some(direction.to_owned().into())
    );
    assert_eq!(attribute(span, "rpc.message.id"), Some(Value::I64(id)));
    assert_eq!(
        attribute(span, "rpc.message.uncompressed_size"),
        Some(Value::I64(note(text).encoded_len() as i64))
    );
    assert_eq!(attribute(span, "note.text"), Some(text.to_owned().into()));
}

fn by_id(mut spans: Vec<SpanData>, direction: &str) -> Vec<SpanData> {
    spans.retain(|s| s.name == format!("message {direction}"));
    spans.sort_by_key(|s| match attribute(s, "rpc.message.id") {
        Some(Value::I64(id)) => id,
        _ => 0,
    });
    spans
}

#[tokio::test]
async fn server_stream_span_covers_every_message() {
    for mut client in clients().await {
        let (trace_id, parent, traceparent) = remote_parent(true);
        let updates: Vec<String> = client
            .watch(with_parent(note("count=3"), &traceparent))
            .await
            .unwrap()
            .into_inner()
            .map(|update| update.unwrap().text)
            .collect()
            .await;
        assert_eq!(updates, ["update 1", "update 2", "update 3"]);

        let (rpc, messages) = rpc_and_children(trace_id, "stubbed.v1.Notes/Watch", 4).await;
        assert_eq!(rpc.parent_span_id, parent);
        assert_eq!(attribute(&rpc, "rpc.grpc.status_code"), Some(Value::I64(0)));
        assert_eq!(rpc.status, SpanStatus::Unset);
        assert_eq!(attribute(&rpc, "note.text"), Some("count=3".into()));
        let rpc_id = rpc.span_context.span_id();
        let received = by_id(messages.clone(), "RECEIVED");
        assert_eq!(received.len(), 1);
        assert_message(&received[0], rpc_id, "RECEIVED", 1, "count=3");
        let sent = by_id(messages, "SENT");
        assert_eq!(sent.len(), 3);
        for (index, span) in sent.iter().enumerate() {
            let text = format!("update {}", index + 1);
            assert_message(span, rpc_id, "SENT", index as i64 + 1, &text);
        }
        // The RPC span lasts until the stream ends, not until the handler returned.
        assert!(rpc.end_time >= sent[2].end_time);
        assert_eq!(telemetry().open_spans(trace_id), 0);
    }
}

#[tokio::test]
async fn server_stream_error_ends_the_span_with_its_status() {
    for mut client in clients().await {
        let (trace_id, _, traceparent) = remote_parent(true);
        let mut stream = client
            .watch(with_parent(note("count=2;fail"), &traceparent))
            .await
            .unwrap()
            .into_inner();
        assert!(stream.message().await.unwrap().is_some());
        assert!(stream.message().await.unwrap().is_some());
        assert_eq!(
            stream.message().await.unwrap_err().code(),
            Code::Unavailable
        );

        let (rpc, messages) = rpc_and_children(trace_id, "stubbed.v1.Notes/Watch", 3).await;
        assert_eq!(
            attribute(&rpc, "rpc.grpc.status_code"),
            Some(Value::I64(14))
        );
        assert_eq!(rpc.status, SpanStatus::error("stream failed"));
        assert_eq!(by_id(messages, "SENT").len(), 2);
        assert_eq!(telemetry().open_spans(trace_id), 0);
    }
}

#[tokio::test]
async fn client_stream_messages_are_received_spans() {
    for mut client in clients().await {
        let (trace_id, _, traceparent) = remote_parent(true);
        let uploads = tokio_stream::iter(["a", "bb", "ccc"].map(note));
        let joined = client
            .upload(with_parent(uploads, &traceparent))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(joined.text, "a,bb,ccc");

        let (rpc, messages) = rpc_and_children(trace_id, "stubbed.v1.Notes/Upload", 4).await;
        assert_eq!(attribute(&rpc, "rpc.grpc.status_code"), Some(Value::I64(0)));
        assert_eq!(rpc.status, SpanStatus::Unset);
        let rpc_id = rpc.span_context.span_id();
        let received = by_id(messages.clone(), "RECEIVED");
        assert_eq!(received.len(), 3);
        for (index, (span, text)) in received.iter().zip(["a", "bb", "ccc"]).enumerate() {
            assert_message(span, rpc_id, "RECEIVED", index as i64 + 1, text);
        }
        let sent = by_id(messages, "SENT");
        assert_eq!(sent.len(), 1);
        assert_message(&sent[0], rpc_id, "SENT", 1, "a,bb,ccc");
        assert_eq!(telemetry().open_spans(trace_id), 0);
    }
}

#[tokio::test]
async fn bidi_records_both_directions() {
    for mut client in clients().await {
        let (trace_id, _, traceparent) = remote_parent(true);
        let outbound = tokio_stream::iter(["hi", "there"].map(note));
        let replies: Vec<String> = client
            .chat(with_parent(outbound, &traceparent))
            .await
            .unwrap()
            .into_inner()
            .map(|reply| reply.unwrap().text)
            .collect()
            .await;
        assert_eq!(replies, ["echo hi", "echo there"]);

        let (rpc, messages) = rpc_and_children(trace_id, "stubbed.v1.Notes/Chat", 4).await;
        assert_eq!(attribute(&rpc, "rpc.grpc.status_code"), Some(Value::I64(0)));
        assert_eq!(rpc.status, SpanStatus::Unset);
        let rpc_id = rpc.span_context.span_id();
        let received = by_id(messages.clone(), "RECEIVED");
        let sent = by_id(messages, "SENT");
        assert_eq!((received.len(), sent.len()), (2, 2));
        assert_message(&received[0], rpc_id, "RECEIVED", 1, "hi");
        assert_message(&received[1], rpc_id, "RECEIVED", 2, "there");
        assert_message(&sent[0], rpc_id, "SENT", 1, "echo hi");
        assert_message(&sent[1], rpc_id, "SENT", 2, "echo there");
        assert!(rpc.end_time >= sent[1].end_time);
        assert_eq!(telemetry().open_spans(trace_id), 0);
    }
}

/// A method the impl leaves to its default stub is not in the impl, so `#[traced_service]`
/// never sees it: tonic answers UNIMPLEMENTED, and no SERVER span is recorded.
#[tokio::test]
async fn method_left_to_the_default_stub_is_unimplemented_and_untraced() {
    let mut client = client(Above).await;
    let (trace_id, _, traceparent) = remote_parent(true);
    let status = client
        .forgotten(with_parent(note("count=1"), &traceparent))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unimplemented);
    telemetry()
        .flush_with(|parent| client.get(with_parent(note("flush"), &parent)))
        .await;
    assert!(telemetry().trace(trace_id).is_empty());
}

/// A native async trait shaped as tonic's with default stubs, for the one shape its generated
/// traits cannot have: a handler written as a plain `fn` returning `impl Future`.
trait NativeNotes: Send + Sync + 'static {
    fn watch(
        &self,
        request: Request<Note>,
    ) -> impl std::future::Future<Output = Result<Response<BoxStream<Note>>, Status>> + Send;

    #[doc(hidden)]
    fn __tonic_traced_method_watch() -> &'static tonic_traced::RpcMethod
    where
        Self: Sized,
    {
        &tonic_traced::RpcMethod {
            service: "stubbed.v1.NativeNotes",
            method: "Watch",
            full_name: "stubbed.v1.NativeNotes/Watch",
            kind: tonic_traced::RpcKind::ServerStreaming,
        }
    }
}

struct Native;

#[tonic_traced::traced_service]
impl NativeNotes for Native {
    #[allow(clippy::manual_async_fn)]
    fn watch(
        &self,
        request: Request<Note>,
    ) -> impl std::future::Future<Output = Result<Response<BoxStream<Note>>, Status>> + Send {
        async move {
            let stream: BoxStream<Note> = Box::pin(updates(request.into_inner()));
            Ok(Response::new(stream))
        }
    }
}

#[tokio::test]
async fn handler_returning_impl_future_traces_its_boxed_stream() {
    telemetry();
    let (trace_id, parent, traceparent) = remote_parent(true);
    let updates: Vec<String> = Native
        .watch(with_parent(note("count=2"), &traceparent))
        .await
        .unwrap()
        .into_inner()
        .map(|update| update.unwrap().text)
        .collect()
        .await;
    assert_eq!(updates, ["update 1", "update 2"]);

    let (rpc, messages) = rpc_and_children(trace_id, "stubbed.v1.NativeNotes/Watch", 3).await;
    assert_eq!(rpc.parent_span_id, parent);
    assert_eq!(attribute(&rpc, "rpc.grpc.status_code"), Some(Value::I64(0)));
    let rpc_id = rpc.span_context.span_id();
    assert_message(
        &by_id(messages.clone(), "RECEIVED")[0],
        rpc_id,
        "RECEIVED",
        1,
        "count=2",
    );
    let sent = by_id(messages, "SENT");
    assert_eq!(sent.len(), 2);
    assert_message(&sent[1], rpc_id, "SENT", 2, "update 2");
    assert_eq!(telemetry().open_spans(trace_id), 0);
}
