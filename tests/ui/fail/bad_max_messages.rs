// max_messages takes a whole number above zero, on the impl and on a method.
use tonic::{Request, Response, Status};
use tonic_traced_tests::rootless_server::Rootless;
use tonic_traced_tests::Ping;

struct Svc;

#[tonic_traced::traced_service(max_messages = 0)]
#[tonic::async_trait]
impl Rootless for Svc {
    #[traced(max_messages = "many")]
    async fn ping(&self, request: Request<Ping>) -> Result<Response<Ping>, Status> {
        Ok(Response::new(request.into_inner()))
    }
}

fn main() {}
