// skip and messages together: a skipped method has no messages to trace.
use tonic::{Request, Response, Status};
use tonic_traced_tests::rootless_server::Rootless;
use tonic_traced_tests::Ping;

struct Svc;

#[tonic_traced::traced_service]
#[tonic::async_trait]
impl Rootless for Svc {
    #[traced(skip, messages = spans)]
    async fn ping(&self, request: Request<Ping>) -> Result<Response<Ping>, Status> {
        Ok(Response::new(request.into_inner()))
    }
}

fn main() {}
