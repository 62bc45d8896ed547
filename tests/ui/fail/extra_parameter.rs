// A method with a parameter after the request is not a tonic handler.
use std::future::Future;

use tonic::{Request, Response, Status};
use tonic_traced_tests::Ping;

trait Greeter: Send + Sync + 'static {
    fn greet(
        &self,
        request: Request<Ping>,
        times: u32,
    ) -> impl Future<Output = Result<Response<Ping>, Status>> + Send;
}

struct Svc;

#[tonic_traced::traced_service]
impl Greeter for Svc {
    async fn greet(&self, request: Request<Ping>, times: u32) -> Result<Response<Ping>, Status> {
        let _ = times;
        Ok(Response::new(request.into_inner()))
    }
}

fn main() {}
