// Misuse in several places at once: every error is reported, not only the first.
use tonic::{Request, Response, Status};
use tonic_traced_tests::Ping;

trait Greeter: Send + Sync + 'static {
    fn greet(
        &self,
        request: Request<Ping>,
    ) -> impl std::future::Future<Output = Result<Response<Ping>, Status>> + Send;

    fn label(&self, verbose: bool) -> String;

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

#[tonic_traced::traced_service(messages = always)]
impl Greeter for Svc {
    #[traced(sample)]
    async fn greet(&self, request: Request<Ping>) -> Result<Response<Ping>, Status> {
        Ok(Response::new(request.into_inner()))
    }

    fn label(&self, verbose: bool) -> String {
        format!("greeter (verbose: {verbose})")
    }
}

fn main() {}
