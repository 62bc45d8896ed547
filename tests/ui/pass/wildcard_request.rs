// Above async_trait, the request parameter may be a pattern such as `_`.
use tonic::{Request, Response, Status};
use tonic_traced_tests::rootless_server::Rootless;
use tonic_traced_tests::Ping;

struct Svc;

#[tonic_traced::traced_service]
#[tonic::async_trait]
impl Rootless for Svc {
    async fn ping(&self, _: Request<Ping>) -> Result<Response<Ping>, Status> {
        Ok(Response::new(Ping::default()))
    }
}

fn main() {}
