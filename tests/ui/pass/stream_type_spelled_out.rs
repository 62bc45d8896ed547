// Streaming methods that spell their stream type out, as tonic allows, instead of writing
// `Self::…Stream`: the declared type, or an alias of it. Above and below async_trait, and in a
// native async trait.
use std::future::Future;
use std::pin::Pin;

use tonic::codegen::tokio_stream::{self, Stream};
use tonic::{Request, Response, Status, Streaming};
use tonic_traced_tests::kitchen::sink::v1::http_things_server::HttpThings;
use tonic_traced_tests::kitchen::sink::v1::HttpHeader;
use tonic_traced_tests::things::HeaderStream;
use tonic_traced_tests::Ping;

/// Another name for the same stream type.
type Replies = HeaderStream;

struct Above;

#[tonic_traced::traced_service]
#[tonic::async_trait]
impl HttpThings for Above {
    async fn get_http_thing(
        &self,
        request: Request<HttpHeader>,
    ) -> Result<Response<HttpHeader>, Status> {
        Ok(Response::new(request.into_inner()))
    }

    type WatchHTTPThingsStream = HeaderStream;

    async fn watch_http_things(
        &self,
        request: Request<HttpHeader>,
    ) -> Result<Response<HeaderStream>, Status> {
        let updates: HeaderStream = Box::pin(tokio_stream::once(Ok(request.into_inner())));
        Ok(Response::new(updates))
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
    ) -> Result<Response<Replies>, Status> {
        Ok(Response::new(Box::pin(request.into_inner())))
    }
}

struct Below;

#[tonic::async_trait]
#[tonic_traced::traced_service]
impl HttpThings for Below {
    async fn get_http_thing(
        &self,
        request: Request<HttpHeader>,
    ) -> Result<Response<HttpHeader>, Status> {
        Ok(Response::new(request.into_inner()))
    }

    type WatchHTTPThingsStream = HeaderStream;

    async fn watch_http_things(
        &self,
        request: Request<HttpHeader>,
    ) -> Result<Response<HeaderStream>, Status> {
        Ok(Response::new(Box::pin(tokio_stream::once(Ok(
            request.into_inner()
        )))))
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
    ) -> Result<Response<Replies>, Status> {
        Ok(Response::new(Box::pin(request.into_inner())))
    }
}

/// A server-streaming trait with native async methods.
trait Watcher: Send + Sync + 'static {
    type WatchStream: Stream<Item = Result<Ping, Status>> + Send + 'static;

    fn watch(
        &self,
        request: Request<Ping>,
    ) -> impl Future<Output = Result<Response<Self::WatchStream>, Status>> + Send;

    #[doc(hidden)]
    fn __tonic_traced_method_watch() -> &'static tonic_traced::RpcMethod
    where
        Self: Sized,
    {
        &tonic_traced::RpcMethod {
            service: "x.Watcher",
            method: "Watch",
            full_name: "x.Watcher/Watch",
            kind: tonic_traced::RpcKind::ServerStreaming,
        }
    }
}

type Pings = Pin<Box<dyn Stream<Item = Result<Ping, Status>> + Send>>;

struct Native;

#[tonic_traced::traced_service]
impl Watcher for Native {
    type WatchStream = Pings;

    async fn watch(&self, request: Request<Ping>) -> Result<Response<Pings>, Status> {
        Ok(Response::new(Box::pin(tokio_stream::once(Ok(
            request.into_inner()
        )))))
    }
}

fn main() {}
