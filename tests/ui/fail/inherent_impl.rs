// #[traced_service] on an inherent impl, which has no trait and so no RPC methods.
use tonic::{Request, Response, Status};
use tonic_traced_tests::Ping;

struct Svc;

#[tonic_traced::traced_service]
impl Svc {
    async fn ping(&self, request: Request<Ping>) -> Result<Response<Ping>, Status> {
        Ok(Response::new(request.into_inner()))
    }
}

fn main() {}
