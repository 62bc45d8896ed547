use tonic::{Request, Response, Status};
use tonic_traced_tests::rootless_server::Rootless;
use tonic_traced_tests::Ping;

struct Svc;

#[tonic_traced::traced_service(crate = "not a path")]
#[tonic::async_trait]
impl Rootless for Svc {
    async fn ping(&self, request: Request<Ping>) -> Result<Response<Ping>, Status> {
        Ok(Response::new(request.into_inner()))
    }
}

fn main() {}
