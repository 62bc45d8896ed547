// A streaming method whose return type is an alias that hides `Response<…>`: the macro
// cannot see which type is the stream.
use tonic::codegen::tokio_stream;
use tonic::{Request, Response, Status, Streaming};
use tonic_traced_tests::kitchen::sink::v1::http_things_server::HttpThings;
use tonic_traced_tests::kitchen::sink::v1::HttpHeader;
use tonic_traced_tests::things::HeaderStream;

type Reply<T> = Result<Response<T>, Status>;

struct Svc;

#[tonic_traced::traced_service]
#[tonic::async_trait]
impl HttpThings for Svc {
    async fn get_http_thing(&self, request: Request<HttpHeader>) -> Reply<HttpHeader> {
        Ok(Response::new(request.into_inner()))
    }

    type WatchHTTPThingsStream = HeaderStream;

    async fn watch_http_things(&self, _request: Request<HttpHeader>) -> Reply<HeaderStream> {
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
    ) -> Reply<Self::ChatHTTPStream> {
        Ok(Response::new(Box::pin(request.into_inner())))
    }
}

fn main() {}
