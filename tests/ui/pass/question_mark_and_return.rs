// Handler bodies keep `?`, early `return` and `self` as written.
use tonic::{Request, Response, Status};
use tonic_traced_tests::rootless_server::Rootless;
use tonic_traced_tests::Ping;

struct Svc {
    prefix: String,
}

fn check(label: &str) -> Result<(), Status> {
    if label.is_empty() {
        return Err(Status::invalid_argument("empty label"));
    }
    Ok(())
}

#[tonic_traced::traced_service]
#[tonic::async_trait]
impl Rootless for Svc {
    async fn ping(&self, request: Request<Ping>) -> Result<Response<Ping>, Status> {
        let ping = request.into_inner();
        check(&ping.label)?;
        if ping.label == "now" {
            return Ok(Response::new(ping));
        }
        Ok(Response::new(Ping {
            label: format!("{}{}", self.prefix, ping.label),
        }))
    }
}

fn main() {}
