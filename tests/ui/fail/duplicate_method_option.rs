// The same method option given twice, in two #[traced] attributes, and an option that needs a
// value written without one: each reported, at once.
use tonic::{Request, Response, Status};
use tonic_traced_tests::rootless_server::Rootless;
use tonic_traced_tests::Ping;

struct Svc;

#[tonic_traced::traced_service]
#[tonic::async_trait]
impl Rootless for Svc {
    #[traced(max_messages = 10, messages)]
    #[traced(max_messages = 20)]
    async fn ping(&self, request: Request<Ping>) -> Result<Response<Ping>, Status> {
        Ok(Response::new(request.into_inner()))
    }
}

fn main() {}
