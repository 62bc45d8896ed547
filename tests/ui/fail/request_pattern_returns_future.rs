// A method returning `impl Future` (not `async fn`) must name its request parameter.
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

struct Svc;

#[tonic_traced::traced_service]
impl Greeter for Svc {
    fn greet(
        &self,
        _: Request<Ping>,
    ) -> impl Future<Output = Result<Response<Ping>, Status>> + Send {
        async move { Ok(Response::new(Ping::default())) }
    }
}

fn main() {}
