// is_error naming a function of the wrong type: it takes a tonic::Code.
use tonic::{Request, Response, Status};
use tonic_traced_tests::rootless_server::Rootless;
use tonic_traced_tests::Ping;

fn by_status(status: &Status) -> bool {
    status.code() == tonic::Code::Internal
}

struct Svc;

#[tonic_traced::traced_service(is_error = by_status)]
#[tonic::async_trait]
impl Rootless for Svc {
    async fn ping(&self, request: Request<Ping>) -> Result<Response<Ping>, Status> {
        Ok(Response::new(request.into_inner()))
    }
}

fn main() {}
