// Every service option, `#[traced(skip)]` on a method and `#[traced(messages = …)]` on another.
use tonic::codegen::tokio_stream;
use tonic::{Code, Request, Response, Status, Streaming};
use tonic_traced_tests::kitchen::sink::v1::http_things_server::HttpThings;
use tonic_traced_tests::kitchen::sink::v1::HttpHeader;
use tonic_traced_tests::things::HeaderStream;

fn only_internal(code: Code) -> bool {
    code == Code::Internal
}

struct Svc;

#[tonic_traced::traced_service(
    messages = spans,
    public_endpoint,
    service_name = "renamed.Things",
    is_error = only_internal
)]
#[tonic::async_trait]
impl HttpThings for Svc {
    #[tonic_traced::traced(skip)]
    async fn get_http_thing(
        &self,
        request: Request<HttpHeader>,
    ) -> Result<Response<HttpHeader>, Status> {
        Ok(Response::new(request.into_inner()))
    }

    type WatchHTTPThingsStream = HeaderStream;

    #[traced(skip)]
    async fn watch_http_things(
        &self,
        _request: Request<HttpHeader>,
    ) -> Result<Response<Self::WatchHTTPThingsStream>, Status> {
        Ok(Response::new(Box::pin(tokio_stream::empty())))
    }

    #[traced(messages = off)]
    async fn upload_http_things(
        &self,
        _request: Request<Streaming<HttpHeader>>,
    ) -> Result<Response<()>, Status> {
        Ok(Response::new(()))
    }

    type ChatHTTPStream = HeaderStream;

    #[traced(messages = events)]
    async fn chat_http(
        &self,
        request: Request<Streaming<HttpHeader>>,
    ) -> Result<Response<Self::ChatHTTPStream>, Status> {
        Ok(Response::new(Box::pin(request.into_inner())))
    }
}

fn main() {}
