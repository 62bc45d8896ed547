// A streaming method whose return type spells out a stream type other than the one its
// associated type declares.
use std::pin::Pin;

use tonic::codegen::tokio_stream::{self, Stream};
use tonic::{Request, Response, Status, Streaming};
use tonic_traced_tests::kitchen::sink::v1::http_things_server::HttpThings;
use tonic_traced_tests::kitchen::sink::v1::HttpHeader;
use tonic_traced_tests::things::HeaderStream;

/// Not `HeaderStream`: this one is also `Sync`.
type SyncHeaders = Pin<Box<dyn Stream<Item = Result<HttpHeader, Status>> + Send + Sync>>;

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

    type WatchHTTPThingsStream = HeaderStream;

    async fn watch_http_things(
        &self,
        _request: Request<HttpHeader>,
    ) -> Result<Response<SyncHeaders>, Status> {
        Ok(Response::new(Box::pin(tokio_stream::empty())))
    }

    async fn upload_http_things(
        &self,
        _request: Request<Streaming<HttpHeader>>,
    ) -> Result<Response<()>, Status> {
        Ok(Response::new(()))
    }

    type ChatHTTPStream = HeaderStream;

    async fn chat_http(
        &self,
        request: Request<Streaming<HttpHeader>>,
    ) -> Result<Response<Self::ChatHTTPStream>, Status> {
        Ok(Response::new(Box::pin(request.into_inner())))
    }
}

fn main() {}
