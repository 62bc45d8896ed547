// The runtime under another path: `crate = "…"` tells the macro where to find it.
use tonic::{Request, Response, Status};
use tonic_traced_tests::rootless_server::Rootless;
use tonic_traced_tests::Ping;

mod platform {
    pub use tonic_traced as tracing_runtime;
}

struct Svc;

#[platform::tracing_runtime::traced_service(
    crate = "crate::platform::tracing_runtime",
    messages = events
)]
#[tonic::async_trait]
impl Rootless for Svc {
    async fn ping(&self, request: Request<Ping>) -> Result<Response<Ping>, Status> {
        Ok(Response::new(request.into_inner()))
    }
}

fn main() {}
