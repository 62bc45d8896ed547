// A generic impl with bounds in both places keeps its generics and where clause.
use tonic::{Request, Response, Status};
use tonic_traced_tests::rootless_server::Rootless;
use tonic_traced_tests::Ping;

struct Svc<T>(T);

#[tonic_traced::traced_service]
#[tonic::async_trait]
impl<T: Send + Sync + 'static> Rootless for Svc<T>
where
    T: Clone,
{
    async fn ping(&self, request: Request<Ping>) -> Result<Response<Ping>, Status> {
        let _copy: T = self.0.clone();
        Ok(Response::new(request.into_inner()))
    }
}

fn main() {}
