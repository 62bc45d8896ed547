// All four RPC kinds, naming the stream types as `Self::…` in return types and bodies.
use std::pin::Pin;

use tonic::codegen::tokio_stream::{self, Stream, StreamExt};
use tonic::{Request, Response, Status, Streaming};
use tonic_traced_tests::kitchen::sink::v1::http_things_server::HttpThings;
use tonic_traced_tests::kitchen::sink::v1::HttpHeader;

type Headers = Pin<Box<dyn Stream<Item = Result<HttpHeader, Status>> + Send>>;

struct Svc;

#[tonic_traced::traced_service]
#[tonic::async_trait]
impl HttpThings for Svc {
    async fn get_http_thing(
        &self,
        request: Request<HttpHeader>,
    ) -> Result<Response<HttpHeader>, Status> {
        Ok(Response::new(request.into_inner()))
    }

    type WatchHTTPThingsStream = Headers;

    async fn watch_http_things(
        &self,
        request: Request<HttpHeader>,
    ) -> Result<Response<Self::WatchHTTPThingsStream>, Status> {
        let stream = tokio_stream::once(Ok(request.into_inner()));
        Ok(Response::new(
            Box::pin(stream) as Self::WatchHTTPThingsStream
        ))
    }

    async fn upload_http_things(
        &self,
        request: Request<Streaming<HttpHeader>>,
    ) -> Result<Response<()>, Status> {
        let mut uploads = request.into_inner();
        while let Some(_upload) = uploads.message().await? {}
        Ok(Response::new(()))
    }

    type ChatHTTPStream = Headers;

    async fn chat_http(
        &self,
        request: Request<Streaming<HttpHeader>>,
    ) -> Result<Response<Self::ChatHTTPStream>, Status> {
        let replies: Self::ChatHTTPStream = Box::pin(request.into_inner().map(|m| m));
        Ok(Response::new(replies))
    }
}

fn main() {}
