// Handlers marked #[tracing::instrument], in every way it is written: above and below
// async_trait, native async fn and fn returning impl Future, with arguments, a span name, a
// wildcard request, a stream, and a generic impl.
use std::fmt::Debug;
use std::future::Future;

use tonic::codegen::tokio_stream;
use tonic::{Request, Response, Status, Streaming};
use tonic_traced_tests::kitchen::sink::v1::http_things_server::HttpThings;
use tonic_traced_tests::kitchen::sink::v1::HttpHeader;
use tonic_traced_tests::things::HeaderStream;
use tonic_traced_tests::Ping;
use tracing::instrument;

#[derive(Debug)]
struct Above;

#[tonic_traced::traced_service]
#[tonic::async_trait]
impl HttpThings for Above {
    #[tracing::instrument]
    async fn get_http_thing(
        &self,
        request: Request<HttpHeader>,
    ) -> Result<Response<HttpHeader>, Status> {
        tracing::info!("answering");
        Ok(Response::new(request.into_inner()))
    }

    type WatchHTTPThingsStream = HeaderStream;

    #[instrument(skip_all, fields(path = %request.get_ref().url_path))]
    async fn watch_http_things(
        &self,
        request: Request<HttpHeader>,
    ) -> Result<Response<Self::WatchHTTPThingsStream>, Status> {
        let updates: Self::WatchHTTPThingsStream =
            Box::pin(tokio_stream::once(Ok(request.into_inner())));
        Ok(Response::new(updates))
    }

    #[instrument(name = "upload", skip(self))]
    async fn upload_http_things(
        &self,
        _: Request<Streaming<HttpHeader>>,
    ) -> Result<Response<()>, Status> {
        Ok(Response::new(()))
    }

    type ChatHTTPStream = HeaderStream;

    #[instrument("chat", skip(self, request), err)]
    async fn chat_http(
        &self,
        request: Request<Streaming<HttpHeader>>,
    ) -> Result<Response<HeaderStream>, Status> {
        Ok(Response::new(Box::pin(request.into_inner())))
    }
}

#[derive(Debug)]
struct Below;

#[tonic::async_trait]
#[tonic_traced::traced_service]
impl HttpThings for Below {
    #[tracing::instrument(skip(self), ret)]
    async fn get_http_thing(
        &self,
        request: Request<HttpHeader>,
    ) -> Result<Response<HttpHeader>, Status> {
        Ok(Response::new(request.into_inner()))
    }

    type WatchHTTPThingsStream = HeaderStream;

    #[instrument(skip_all)]
    async fn watch_http_things(
        &self,
        request: Request<HttpHeader>,
    ) -> Result<Response<HeaderStream>, Status> {
        Ok(Response::new(Box::pin(tokio_stream::once(Ok(
            request.into_inner()
        )))))
    }

    #[instrument(skip(self))]
    async fn upload_http_things(
        &self,
        _: Request<Streaming<HttpHeader>>,
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

trait Greeter: Send + Sync + 'static {
    fn greet(
        &self,
        request: Request<Ping>,
    ) -> impl Future<Output = Result<Response<Ping>, Status>> + Send;

    #[doc(hidden)]
    fn __tonic_traced_method_greet() -> &'static tonic_traced::RpcMethod
    where
        Self: Sized,
    {
        &tonic_traced::RpcMethod {
            service: "x.Greeter",
            method: "Greet",
            full_name: "x.Greeter/Greet",
            kind: tonic_traced::RpcKind::Unary,
        }
    }
}

#[derive(Debug)]
struct Native<T>(T);

#[tonic_traced::traced_service]
impl<T: Debug + Send + Sync + 'static> Greeter for Native<T>
where
    T: Clone,
{
    #[instrument(skip(request))]
    async fn greet(&self, request: Request<Ping>) -> Result<Response<Ping>, Status> {
        let _copy = self.0.clone();
        Ok(Response::new(request.into_inner()))
    }
}

#[derive(Debug)]
struct ReturnsFuture<'a>(&'a str);

#[tonic_traced::traced_service]
impl Greeter for ReturnsFuture<'static> {
    #[instrument(skip(self, request))]
    fn greet(
        &self,
        request: Request<Ping>,
    ) -> impl Future<Output = Result<Response<Ping>, Status>> + Send {
        let label = self.0;
        async move {
            tracing::info!(label, "greeting");
            Ok(Response::new(request.into_inner()))
        }
    }
}

/// A second service with a method of the same name, served by the same type.
trait Welcomer: Send + Sync + 'static {
    fn greet(
        &self,
        request: Request<Ping>,
    ) -> impl Future<Output = Result<Response<Ping>, Status>> + Send;

    #[doc(hidden)]
    fn __tonic_traced_method_greet() -> &'static tonic_traced::RpcMethod
    where
        Self: Sized,
    {
        &tonic_traced::RpcMethod {
            service: "x.Welcomer",
            method: "Greet",
            full_name: "x.Welcomer/Greet",
            kind: tonic_traced::RpcKind::Unary,
        }
    }
}

#[tonic_traced::traced_service]
impl Welcomer for ReturnsFuture<'static> {
    #[instrument]
    async fn greet(&self, request: Request<Ping>) -> Result<Response<Ping>, Status> {
        Ok(Response::new(request.into_inner()))
    }
}

#[derive(Debug)]
struct Generic<T>(T);

#[tonic_traced::traced_service]
impl<T: Clone + Debug + Send + Sync + 'static> Greeter for Generic<T> {
    #[instrument]
    fn greet(
        &self,
        request: Request<Ping>,
    ) -> impl Future<Output = Result<Response<Ping>, Status>> + Send {
        async move {
            let _copy = self.0.clone();
            Ok(Response::new(request.into_inner()))
        }
    }
}

fn main() {}
