// A trait with native async methods (no async_trait), as the next tonic generates it:
// `async fn` in the impl, and a plain `fn` returning `impl Future`.
use std::future::Future;

use tonic::{Request, Response, Status};
use tonic_traced_tests::Ping;

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

struct Native;

#[tonic_traced::traced_service]
impl Greeter for Native {
    async fn greet(&self, request: Request<Ping>) -> Result<Response<Ping>, Status> {
        Ok(Response::new(request.into_inner()))
    }
}

struct ReturnsFuture;

#[tonic_traced::traced_service]
impl Greeter for ReturnsFuture {
    fn greet(
        &self,
        request: Request<Ping>,
    ) -> impl Future<Output = Result<Response<Ping>, Status>> + Send {
        async move { Ok(Response::new(request.into_inner())) }
    }
}

fn main() {}
