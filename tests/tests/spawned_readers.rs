//! A request stream read in a task the handler spawned (the route-guide pattern) still reports
//! its messages to its own call: RECEIVED message spans with their fields, and the request
//! bytes in the RPC metrics — for client-streaming and bidi calls.

use opentelemetry::{KeyValue, Value};
use tonic::codegen::tokio_stream::{self, StreamExt};
use tonic::transport::Server;
use tonic::{Request, Response, Status, Streaming};
use tonic_traced_tests::harness::{
    attribute, header, remote_parent, serve, telemetry, with_parent,
};
use tonic_traced_tests::kitchen::sink::v1::http_things_client::HttpThingsClient;
use tonic_traced_tests::kitchen::sink::v1::http_things_server::{HttpThings, HttpThingsServer};
use tonic_traced_tests::kitchen::sink::v1::HttpHeader;
use tonic_traced_tests::things::HeaderStream;

/// Reads every request stream in a spawned task.
struct SpawnedReaders;

#[tonic_traced::traced_service]
#[tonic::async_trait]
impl HttpThings for SpawnedReaders {
    async fn get_http_thing(
        &self,
        _request: Request<HttpHeader>,
    ) -> Result<Response<HttpHeader>, Status> {
        Err(Status::unimplemented("not used"))
    }

    type WatchHTTPThingsStream = HeaderStream;

    async fn watch_http_things(
        &self,
        _request: Request<HttpHeader>,
    ) -> Result<Response<Self::WatchHTTPThingsStream>, Status> {
        Err(Status::unimplemented("not used"))
    }

    async fn upload_http_things(
        &self,
        request: Request<Streaming<HttpHeader>>,
    ) -> Result<Response<()>, Status> {
        let mut uploads = request.into_inner();
        tokio::spawn(async move {
            while uploads.message().await?.is_some() {}
            Ok::<_, Status>(())
        })
        .await
        .expect("the reader task")?;
        Ok(Response::new(()))
    }

    type ChatHTTPStream = HeaderStream;

    async fn chat_http(
        &self,
        request: Request<Streaming<HttpHeader>>,
    ) -> Result<Response<Self::ChatHTTPStream>, Status> {
        let mut inbound = request.into_inner();
        let (replies, received) = tokio::sync::mpsc::channel(4);
        tokio::spawn(async move {
            while let Ok(Some(message)) = inbound.message().await {
                let reply = HttpHeader {
                    url_path: format!("echo {}", message.url_path),
                };
                if replies.send(Ok(reply)).await.is_err() {
                    break;
                }
            }
        });
        let replies = tokio_stream::wrappers::ReceiverStream::new(received);
        Ok(Response::new(Box::pin(replies) as HeaderStream))
    }
}

async fn client() -> HttpThingsClient<tonic::transport::Channel> {
    telemetry();
    let address = serve(Server::builder().add_service(HttpThingsServer::new(SpawnedReaders))).await;
    HttpThingsClient::connect(format!("http://{address}"))
        .await
        .unwrap()
}

/// The RECEIVED message spans of the RPC span `name` of `trace_id`, once `count` are there.
async fn received(
    trace_id: opentelemetry::trace::TraceId,
    name: &str,
    count: usize,
) -> Vec<opentelemetry_sdk::trace::SpanData> {
    telemetry()
        .wait_for(|t| {
            let spans = t.trace(trace_id);
            let rpc = spans.iter().find(|span| span.name == name)?;
            let received: Vec<_> = spans
                .iter()
                .filter(|span| span.name == "message RECEIVED")
                .filter(|span| span.parent_span_id == rpc.span_context.span_id())
                .cloned()
                .collect();
            (received.len() == count).then_some(received)
        })
        .await
}

#[tokio::test]
async fn client_stream_read_in_a_spawned_task() {
    let mut client = client().await;
    let (trace_id, _, traceparent) = remote_parent(true);
    let uploads = tokio_stream::iter(["a", "bb", "ccc"].map(header));
    client
        .upload_http_things(with_parent(uploads, &traceparent))
        .await
        .unwrap();
    let spans = received(trace_id, "kitchen.sink.v1.HTTPThings/UploadHTTPThings", 3).await;
    let mut paths: Vec<_> = spans
        .iter()
        .map(|span| attribute(span, "http.url_path"))
        .collect();
    paths.sort_by_key(|path| format!("{path:?}"));
    assert_eq!(
        paths,
        ["a", "bb", "ccc"].map(|path| Some(Value::from(path)))
    );
    let labels = [
        KeyValue::new("rpc.system", "grpc"),
        KeyValue::new("rpc.service", "kitchen.sink.v1.HTTPThings"),
        KeyValue::new("rpc.method", "UploadHTTPThings"),
        KeyValue::new("rpc.grpc.status_code", 0),
    ];
    let (calls, bytes) = telemetry().histogram("rpc.server.request.size", &labels);
    let sent: usize = ["a", "bb", "ccc"]
        .map(|path| prost::Message::encoded_len(&header(path)))
        .iter()
        .sum();
    assert_eq!(
        (calls, bytes),
        (1, sent as f64),
        "the request bytes are counted"
    );
}

#[tokio::test]
async fn bidi_stream_read_in_a_spawned_task() {
    let mut client = client().await;
    let (trace_id, _, traceparent) = remote_parent(true);
    let outbound = tokio_stream::iter(["x", "yy"].map(header));
    let mut replies = client
        .chat_http(with_parent(outbound, &traceparent))
        .await
        .unwrap()
        .into_inner();
    let mut echoed = Vec::new();
    while let Some(reply) = replies.next().await {
        echoed.push(reply.unwrap().url_path);
    }
    assert_eq!(echoed, ["echo x", "echo yy"]);
    let spans = received(trace_id, "kitchen.sink.v1.HTTPThings/ChatHTTP", 2).await;
    assert_eq!(spans.len(), 2);
}
